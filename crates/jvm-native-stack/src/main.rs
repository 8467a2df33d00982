//! `jnstack` command-line entry point: parse → validate → inspect → print.
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use jvm_native_stack::report::{self, TextOptions};
use jvm_native_stack::runner::SystemRunner;
use jvm_native_stack::Error;

mod cli;

use cli::Cli;

fn run(cli: &Cli, cancel: &AtomicBool) -> anyhow::Result<ExitCode> {
    if let Some(what) = cli.generate {
        write_stdout(&cli::generate(what))?;
        return Ok(ExitCode::SUCCESS);
    }
    let plan = cli::plan(cli)?;
    let outcome = jvm_native_stack::sampling::run(&plan, &SystemRunner, cancel)?;
    let rendered = if cli.json {
        report::json(&outcome)
    } else {
        report::text(
            &outcome,
            TextOptions {
                full: cli.full,
                color: cli::use_color(cli.color),
            },
        )
    };
    if write_stdout(rendered.as_bytes())? == Written::PipeClosed {
        return Ok(ExitCode::SUCCESS);
    }
    for w in &outcome.snapshot.warnings {
        // Warnings quote gdb's output and file names: no raw control characters.
        eprintln!("jnstack: warning: {}", report::sanitize(w));
    }
    let problem = outcome.findings.iter().any(|f| f.problem);
    Ok(if outcome.snapshot.interrupted {
        // What was collected is printed; the exit code still says the run was cut short.
        ExitCode::from(130)
    } else if problem {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether stdout took everything.
#[derive(Debug, PartialEq, Eq)]
enum Written {
    All,
    PipeClosed,
}

/// Writes to stdout; a closed pipe (`jnstack … | head`) is not an error: exit 0 quietly.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<Written> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(Written::All),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Written::PipeClosed),
        Err(e) => Err(e).context("cannot write to stdout"),
    }
}

fn main() -> ExitCode {
    // The resume guard is this binary again, started by a jnstack that attaches gdb.
    if jvm_native_stack::watchdog::main_if_guard() {
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    // Ctrl-C (and SIGTERM) only set a flag: the runner then kills gdb and resumes the JVM
    // before we exit.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    match run(&cli, &cancel) {
        Ok(code) => code,
        Err(e) => {
            if matches!(e.downcast_ref::<Error>(), Some(Error::Interrupted))
                || cancel.load(Ordering::SeqCst)
            {
                eprintln!("jnstack: interrupted");
                return ExitCode::from(130);
            }
            // Errors may quote jstack's or gdb's output.
            eprintln!("jnstack: {}", report::sanitize(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
