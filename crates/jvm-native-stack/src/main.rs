//! `jnstack` command-line entry point: parse → validate → inspect → print.
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::CommandFactory;
use cli_support::color::Stream;
use cli_support::output::{self, Delivered};
use cli_support::Exit;
use jvm_native_stack::report::{self, TextOptions};
use jvm_native_stack::runner::SystemRunner;
use jvm_native_stack::Error;

mod cli;

use cli::Cli;

const TOOL: &str = "jnstack";

fn run(cli: &Cli, cancel: &AtomicBool) -> anyhow::Result<Exit> {
    if let Some(what) = cli.generate {
        output::stdout_bytes(&what.render(Cli::command())).context("cannot write to stdout")?;
        return Ok(Exit::Ok);
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
                color: cli.color.color.enabled(Stream::Stdout),
            },
        )
    };
    // A reader that went away (`jnstack … | head`) is not an error: exit 0 quietly.
    if output::stdout_bytes(rendered.as_bytes()).context("cannot write to stdout")?
        == Delivered::ReaderGone
    {
        return Ok(Exit::Ok);
    }
    for w in &outcome.snapshot.warnings {
        // Warnings quote gdb's output and file names: no raw control characters.
        output::warn(TOOL, &report::sanitize(w));
    }
    let problem = outcome.findings.iter().any(|f| f.problem);
    Ok(if outcome.snapshot.interrupted {
        // What was collected is printed; the exit code still says the run was cut short.
        Exit::Interrupted
    } else {
        Exit::found(problem)
    })
}

fn main() -> ExitCode {
    // The resume guard is this binary again, started by a jnstack that attaches gdb.
    if jvm_native_stack::watchdog::main_if_guard() {
        return ExitCode::SUCCESS;
    }
    let cli: Cli = match cli_support::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    // Ctrl-C (and SIGTERM) only set a flag: the runner then kills gdb and resumes the JVM
    // before we exit.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    match run(&cli, &cancel) {
        Ok(exit) => exit.into(),
        Err(e) => {
            if matches!(e.downcast_ref::<Error>(), Some(Error::Interrupted))
                || cancel.load(Ordering::SeqCst)
            {
                output::line(TOOL, "interrupted");
                return Exit::Interrupted.into();
            }
            // Errors may quote jstack's or gdb's output.
            output::line(TOOL, &report::sanitize(&format!("{e:#}")));
            Exit::Error.into()
        }
    }
}
