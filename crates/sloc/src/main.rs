//! `sloc` command-line entry point: parse → validate → walk → print.
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use sloc::cli::{Cli, Config};
use sloc::sanitize::for_terminal;
use sloc::{output, walk, Summary};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sloc: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_cli(cli)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if let Some(kind) = config.generate {
        kind.write(&mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if config.list_languages {
        for (name, ways) in config.languages.describe() {
            writeln!(out, "{:<24} {}", for_terminal(&name), ways.join(" "))?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut tally = walk(&config.languages, &config.walk)?;
    let warnings = std::mem::take(&mut tally.warnings);
    for w in &warnings {
        eprintln!("sloc: warning: {}", for_terminal(w));
    }
    // Read but not counted: a warning, but no failure (the exit status stays 0).
    for note in std::mem::take(&mut tally.not_counted) {
        eprintln!("sloc: warning: {}", for_terminal(&note));
    }
    let summary = Summary::new(&config.languages, tally, config.walk.by_file, config.sort);
    output::write(&mut out, &summary, config.format).context("writing the report")?;
    out.flush().context("writing the report")?;
    if warnings.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "sloc: {} path(s) could not be read; the counts above leave them out",
            warnings.len()
        );
        Ok(ExitCode::from(1))
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
