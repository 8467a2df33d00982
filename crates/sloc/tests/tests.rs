//! The integration suite: one binary, one module per concern.
// The test harness captures what tests print; the rule against print macros is for the tools.
#![allow(clippy::disallowed_macros)]

mod cli;
mod embed;
mod fixtures;
mod oracle;
mod props;
mod python_tokenize;
mod stream;
mod streams_gone;
mod tree_sitter_grammars;
mod typescript_parser;
mod util;
