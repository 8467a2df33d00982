//! `jnstack` command-line entry point.
use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("jnstack: not yet implemented");
    ExitCode::from(2)
}
