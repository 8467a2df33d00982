//! Parsing the command line without clap's own printing: its messages are rendered here and
//! written through [`crate::output`], so `--help | head -1` or a usage error with stderr
//! gone ends with the documented status instead of a panic.
use std::process::ExitCode;

use crate::exit::Exit;
use crate::output;

/// Parses `std::env::args_os()` into `P`; on `--help`, `--version` or a usage error prints
/// clap's message and returns the exit code to end with (0 for help and version, 2 else).
pub fn parse<P: clap::Parser>() -> Result<P, ExitCode> {
    P::try_parse().map_err(report_clap_error)
}

/// Prints a clap error (or help/version text) where it belongs and returns the exit code.
pub fn report_clap_error(e: clap::Error) -> ExitCode {
    let styled = e.render();
    let rendered = if color_to(e.use_stderr()) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if e.use_stderr() {
        output::text(&rendered);
        Exit::Error.into()
    } else {
        // A reader that went away after `--help | head -1` is not an error.
        let _ = output::stdout_bytes(rendered.as_bytes());
        Exit::Ok.into()
    }
}

/// clap colours its messages on a terminal unless `NO_COLOR`; keep that behaviour.
fn color_to(stderr: bool) -> bool {
    use crate::color::{ColorChoice, Stream};
    ColorChoice::Auto.enabled(if stderr {
        Stream::Stderr
    } else {
        Stream::Stdout
    })
}
