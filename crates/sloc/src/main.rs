//! `sloc` command-line entry point: parse → validate → walk → print.
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;
use cli_support::output::{self, Delivered, StdoutWriter};
use cli_support::sanitize::for_terminal;
use cli_support::Exit;
use sloc::cli::{Cli, Config};
use sloc::{walk, Summary};

const TOOL: &str = "sloc";

fn main() -> ExitCode {
    let cli: Cli = match cli_support::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(cli) {
        Ok(exit) => exit.into(),
        // The reader of stdout went away (`sloc | head`): not an error.
        Err(e) if output::is_broken_pipe(e.as_ref()) => Exit::Ok.into(),
        Err(e) => {
            output::line(TOOL, &format!("{e:#}"));
            Exit::Error.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    let config = Config::from_cli(cli)?;
    if let Some(kind) = config.generate {
        output::stdout_bytes(&kind.render(Cli::command())).context("writing to stdout")?;
        return Ok(Exit::Ok);
    }
    let mut out = StdoutWriter::new();
    if config.list_languages {
        for (name, ways) in config.languages.describe() {
            writeln!(out, "{:<24} {}", for_terminal(&name), ways.join(" "))?;
        }
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let mut tally = walk(&config.languages, &config.walk)?;
    let warnings = std::mem::take(&mut tally.warnings);
    for w in &warnings {
        output::warn(TOOL, &for_terminal(w));
    }
    // Read but not counted: a warning, but no failure (the exit status stays 0).
    for note in std::mem::take(&mut tally.not_counted) {
        output::warn(TOOL, &for_terminal(&note));
    }
    let mut summary = Summary::new(&config.languages, tally, config.walk.by_file, config.sort);
    if config.compact {
        summary
            .languages
            .iter_mut()
            .for_each(|l| l.children.clear());
    }
    let written = sloc::output::write(&mut out, &summary, config.format).and_then(|()| out.flush());
    if output::delivered(written).context("writing the report")? == Delivered::ReaderGone {
        return Ok(Exit::Ok);
    }
    if !warnings.is_empty() {
        output::line(
            TOOL,
            &format!(
                "{} path(s) could not be read; the counts above leave them out",
                warnings.len()
            ),
        );
    }
    Ok(Exit::found(!warnings.is_empty()))
}
