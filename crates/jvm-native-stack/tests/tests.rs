//! Integration tests: one binary (ripgrep style) with a small harness.

mod harness;

mod cli;
mod containers;
mod faults;
mod live;
mod names;
mod nodump;
mod parse;
mod schema;
mod vthreads;
mod waits;
