//! Integration tests: the binary end to end against osmem-server (reindex fallback), an
//! in-process fake for the `_clone` + tasks path with fault injection, and an opt-in suite
//! for a real cluster.
mod bench_fake;
mod cli;
mod conformance;
mod crash;
mod fake;
mod hygiene;
mod osmem;
mod real_cluster;
mod safety;
mod support;
