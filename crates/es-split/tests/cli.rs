//! The binary's command line without a cluster: `--generate`.
use predicates::prelude::*;

use crate::support::es_split;

#[test]
fn generate_man_page_and_completions() {
    let state = tempfile::tempdir().unwrap();
    // Values from the environment do not count as arguments next to --generate.
    es_split(state.path())
        .env("ES_INDEX", "logs")
        .env("ES_URL", "http://localhost:9200")
        .args(["--generate", "man"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH es-split 1"));
    es_split(state.path())
        .args(["--generate", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--no-disk-check"));
    es_split(state.path())
        .args(["--generate", "fish", "--index", "logs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--generate cannot be used with --index",
        ));
    es_split(state.path())
        .args(["--generate", "tcsh"])
        .assert()
        .code(2);
}
