//! Errors that stop a run before counting starts.

use std::path::PathBuf;

use crate::path_name::PathName;

/// Why `sloc` cannot run: every variant names the file or value and is exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SlocError {
    /// A `-c` file is missing or unreadable.
    #[error("cannot read syntax file {}", PathName::new(path).escaped())]
    SyntaxFileRead {
        /// The file given with `-c`.
        path: PathBuf,
        /// The I/O error (printed after the message by the binary's error chain).
        source: std::io::Error,
    },
    /// A `-c` file is not valid JSON or does not match the format.
    #[error(
        "invalid syntax file {} at line {line}, column {column}: {reason} \
         (the format is described in syntaxes/README.md)",
        PathName::new(path).escaped()
    )]
    InvalidJson {
        /// The file given with `-c`.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What serde_json found wrong.
        reason: String,
    },
    /// A syntax entry parsed but is unusable (an empty marker, `start` without `end`).
    #[error("invalid syntax file {}: {reason}", PathName::new(path).escaped())]
    InvalidEntry {
        /// The file given with `-c`.
        path: PathBuf,
        /// Which entry and field, and why.
        reason: String,
    },
    /// A path to count does not exist.
    #[error("{}: no such file or directory", PathName::new(path).escaped())]
    MissingPath {
        /// The path given on the command line.
        path: PathBuf,
    },
    /// `--type` or `--exclude-type` names no known language.
    #[error("unknown language {name:?} for --type/--exclude-type (sloc --languages lists them)")]
    UnknownLanguage {
        /// The name as given.
        name: String,
    },
    /// An `--exclude` glob does not parse.
    #[error("invalid --exclude glob {glob:?}: {reason}")]
    BadGlob {
        /// The glob as given.
        glob: String,
        /// Why it does not parse.
        reason: String,
    },
}
