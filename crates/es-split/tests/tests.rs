//! Integration tests: the binary end to end against osmem-server (reindex fallback), an
//! in-process fake for the `_clone` + tasks path with fault injection, and an opt-in suite
//! for a real cluster.
// The test harness captures what tests print; the rule against print macros is for the tools.
#![allow(clippy::disallowed_macros)]
mod bench_fake;
mod cli;
mod conformance;
mod crash;
mod fake;
mod hygiene;
mod osmem;
mod real_cluster;
mod safety;
mod streams_gone;
mod support;
