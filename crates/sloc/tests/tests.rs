//! The integration suite: one binary, one module per concern.

mod cli;
mod fixtures;
mod props;
mod python_tokenize;
mod stream;
mod util;
