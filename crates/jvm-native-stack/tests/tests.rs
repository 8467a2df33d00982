//! Integration tests: one binary (ripgrep style) with a small harness.
// The test harness captures what tests print; the rule against print macros is for the tools.
#![allow(clippy::disallowed_macros)]

mod harness;

mod cli;
mod containers;
mod facts;
mod faults;
mod live;
mod names;
mod native;
mod nodump;
mod parse;
mod scale;
mod schema;
mod streams_gone;
mod vthreads;
mod waits;
