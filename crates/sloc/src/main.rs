//! `sloc` command-line entry point.
use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("sloc: not yet implemented");
    ExitCode::from(2)
}
