//! Output that never panics: `eprintln!` panics when stderr is closed (`2>&-`, a dropped SSH
//! session, `| head` on `2>&1`), and a panic mid-split would skip the restore path. Every
//! line the tool prints goes through here; write errors on stderr are ignored.
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences [`say`] (`--quiet`); warnings and errors still print.
pub fn set_quiet(on: bool) {
    QUIET.store(on, Ordering::Relaxed);
}

/// Writes one line to stderr, ignoring errors.
pub fn err_line(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{msg}");
    let _ = e.flush();
}

/// Writes text to stderr without a newline (a prompt), ignoring errors.
pub fn err_text(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = write!(e, "{msg}");
    let _ = e.flush();
}

/// A progress line (`es-split: …`), unless `--quiet`.
pub fn say(msg: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        err_line(&format!("es-split: {msg}"));
    }
}

/// A warning; always printed.
pub fn warn(msg: &str) {
    err_line(&format!("es-split: warning: {msg}"));
}

/// Writes data to stdout. Returns `false` when the reader went away (a closed pipe).
pub fn out_bytes(bytes: &[u8]) -> bool {
    let mut o = std::io::stdout().lock();
    o.write_all(bytes).and_then(|()| o.flush()).is_ok()
}
