//! Output that never panics. `println!`/`eprintln!` panic when their stream is gone (`| head`,
//! `2>&1 | head -c1`, a dropped SSH session), and a panic skips whatever a tool does on its way
//! out. Data goes to stdout through [`stdout_bytes`] or a [`StdoutWriter`]; a reader that went
//! away ends the run quietly (status 0). Messages go to stderr through [`line()`] and [`warn`];
//! a failed stderr write is ignored — there is nowhere left to say it.
use std::io::{self, Write};

/// What became of data written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// All of it was written.
    All,
    /// The reader closed the pipe (`| head`): not an error; stop writing, exit 0.
    ReaderGone,
}

/// Writes `bytes` to stdout and flushes. A closed pipe is [`Delivered::ReaderGone`]; any other
/// failure (a full disk behind `>`) is an error for the caller to report.
pub fn stdout_bytes(bytes: &[u8]) -> io::Result<Delivered> {
    let mut out = io::stdout().lock();
    delivered(out.write_all(bytes).and_then(|()| out.flush()))
}

/// Maps a write result: a broken pipe is the reader leaving, not a failure.
pub fn delivered(result: io::Result<()>) -> io::Result<Delivered> {
    match result {
        Ok(()) => Ok(Delivered::All),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Delivered::ReaderGone),
        Err(e) => Err(e),
    }
}

/// Whether an error (or anything in its `source()` chain) is a broken pipe on stdout.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A buffered stdout for reports written piece by piece (flushed on drop, errors ignored,
/// as `BufWriter` does: call `flush` to see them); errors come back as `io::Error`
/// (use [`delivered`] or [`is_broken_pipe`] to tell a closed pipe apart).
pub struct StdoutWriter(io::BufWriter<io::StdoutLock<'static>>);

impl StdoutWriter {
    /// Locks stdout for the writer's lifetime.
    pub fn new() -> StdoutWriter {
        StdoutWriter(io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()))
    }
}

impl Default for StdoutWriter {
    fn default() -> Self {
        StdoutWriter::new()
    }
}

impl Write for StdoutWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Writes text to stderr as it is (a prompt, a rendered clap message), ignoring errors.
pub fn text(msg: &str) {
    let mut e = io::stderr().lock();
    let _ = e.write_all(msg.as_bytes());
    let _ = e.flush();
}

/// Writes `tool: msg` and a newline to stderr, ignoring errors.
pub fn line(tool: &str, msg: &str) {
    text(&format!("{tool}: {msg}\n"));
}

/// Writes `tool: warning: msg` to stderr, ignoring errors.
pub fn warn(tool: &str, msg: &str) {
    line(tool, &format!("warning: {msg}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("writing the report")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn broken_pipe_is_found_in_the_chain() {
        let pipe = Wrapped(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe));
        let full = Wrapped(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!is_broken_pipe(&full));
    }

    #[test]
    fn a_closed_pipe_is_delivered_not_failed() {
        let gone = delivered(Err(io::ErrorKind::BrokenPipe.into())).unwrap();
        assert_eq!(gone, Delivered::ReaderGone);
        assert_eq!(delivered(Ok(())).unwrap(), Delivered::All);
        assert!(delivered(Err(io::ErrorKind::StorageFull.into())).is_err());
    }
}
