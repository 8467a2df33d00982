//! es-split's messages: progress lines that `--quiet` silences, on top of the shared writers
//! that never panic ([`cli_support::output`]): a panic mid-split would skip the restore path.
use std::sync::atomic::{AtomicBool, Ordering};

use cli_support::output::{self, Delivered};

const TOOL: &str = "es-split";

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences [`say`] (`--quiet`); warnings and errors still print.
pub fn set_quiet(on: bool) {
    QUIET.store(on, Ordering::Relaxed);
}

/// Writes one line to stderr, ignoring errors.
pub fn err_line(msg: &str) {
    output::text(&format!("{msg}\n"));
}

/// Writes text to stderr without a newline (a prompt), ignoring errors.
pub fn err_text(msg: &str) {
    output::text(msg);
}

/// A progress line (`es-split: …`), unless `--quiet`.
pub fn say(msg: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        output::line(TOOL, msg);
    }
}

/// A warning; always printed.
pub fn warn(msg: &str) {
    output::warn(TOOL, msg);
}

/// Writes data to stdout. Returns `false` when it did not get there (the reader went away,
/// or the write failed): the run goes on — its state is on the cluster, not in this output.
pub fn out_bytes(bytes: &[u8]) -> bool {
    matches!(output::stdout_bytes(bytes), Ok(Delivered::All))
}
