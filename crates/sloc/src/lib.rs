//! A parallel, comment-aware source line counter.
//!
//! [`Languages`] holds the built-in syntaxes (embedded from `syntaxes/*.json`) plus any syntax
//! files merged over them; [`walk()`] walks paths in parallel and counts each file with
//! [`count()`]; [`Summary`] turns the tally into rows that [`output`] prints.

pub mod cli;
pub mod count;
pub mod embed;
pub mod error;
mod heredoc;
pub mod language;
pub mod output;
pub mod path_name;
mod plain_lines;
pub mod report;
/// Terminal-safe text, shared with the other devtools.
pub use cli_support::sanitize;
pub mod syntax_file;
pub mod walk;

pub use count::{classify_lines, count, Counts, LineKind};
pub use error::SlocError;
pub use language::{Language, Languages};
pub use report::{SortKey, Summary};
pub use walk::{walk, WalkOptions};
