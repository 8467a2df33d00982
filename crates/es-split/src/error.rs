//! The library's error type and its mapping to exit codes.
use std::fmt;

/// Everything that can stop a split. `Display` never contains secrets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster could not be reached at all.
    #[error("{step}: cannot connect to {url}: {reason}")]
    Connect {
        step: String,
        url: String,
        reason: String,
    },
    /// A request took longer than `--timeout`.
    #[error("{step}: no answer within {secs} s (raise --timeout)")]
    Timeout { step: String, secs: u64 },
    /// The connection broke while a request was in flight.
    #[error("{step}: connection lost: {reason}")]
    Io { step: String, reason: String },
    /// The cluster answered with an error status.
    #[error("{step}: HTTP {status} {kind}: {reason}")]
    Http {
        step: String,
        status: u16,
        kind: String,
        reason: String,
    },
    /// The cluster answered 2xx with a body we cannot use.
    #[error("{step}: unexpected response: {reason}")]
    BadResponse { step: String, reason: String },
    /// A server-side task (delete-by-query, reindex) failed.
    #[error("{step}: {reason}")]
    TaskFailed { step: String, reason: String },
    /// A pre-flight check refused to start; nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// Bad command-line input.
    #[error("{0}")]
    Usage(String),
    /// Another process took this split's lease over: stop without touching anything.
    #[error("{0}")]
    LeaseLost(String),
    /// SIGINT, SIGTERM or SIGHUP arrived; the restore path ran.
    #[error("interrupted")]
    Interrupted,
    /// A local file (state journal, CA certificate) could not be used.
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

impl Error {
    /// The documented exit code of an error: 130 when interrupted, else 2. (A
    /// verification mismatch is not an error but a report with status `mismatch`, exit 1.)
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted => cli_support::Exit::Interrupted.code(),
            _ => cli_support::Exit::Error.code(),
        }
    }

    /// The server-side error type (`index_not_found_exception`, …), if the cluster sent one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            Error::Http { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// The HTTP status, if the cluster answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escapes control characters (newlines and tabs kept) so that untrusted strings (index
/// names, server messages) cannot move the cursor or recolour a terminal.
pub fn sanitize(s: &str) -> String {
    cli_support::sanitize::for_terminal_text(s).into_owned()
}

/// Wraps a string so that `Display` prints it sanitized.
pub struct Clean<'a>(pub &'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(self.0))
    }
}
