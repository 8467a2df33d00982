//! Not a test: the `_clone`-path figure for `scripts/bench-es-split` (run with `--ignored`),
//! how long the source stays write-blocked per split on the in-process fake.
use serde_json::Value;

use crate::support::fake_es::{docs, FakeEs, Flavor};
use crate::support::run;

#[test]
#[ignore = "a benchmark: run by scripts/bench-es-split"]
fn block_duration_on_the_clone_path() {
    let n: u64 = std::env::var("ES_SPLIT_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let f = FakeEs::start(Flavor::Es("8.15.0"));
    f.add_index("logs", 4, docs(n, 0));
    let state = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run(
        state.path(),
        &[
            "--url",
            &f.url,
            "--index",
            "logs",
            "--field",
            "date",
            "--mid",
            "2015-07-01",
            "--poll-interval",
            "0.01",
            "--scroll-size",
            "5000",
            "--yes",
            "--json",
            "--quiet",
        ],
    );
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let blocked = report["source_blocked_seconds"].as_f64().unwrap();
    println!(
        "fake: {n} docs, split in {wall:.2} s, source write-blocked {blocked:.3} s ({:.1}%)",
        100.0 * blocked / wall
    );
    for s in report["steps"].as_array().unwrap() {
        println!(
            "fake:   {:<44} {:8.3} s",
            s["name"].as_str().unwrap(),
            s["seconds"].as_f64().unwrap()
        );
    }
}
