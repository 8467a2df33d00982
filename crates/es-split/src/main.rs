//! `es-split` command-line entry point.
use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("es-split: not yet implemented");
    ExitCode::from(2)
}
