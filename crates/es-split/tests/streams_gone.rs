//! `es-split` with its output streams gone (`| head -c1`, `>&- 2>&-`, readers that left) where
//! no cluster is needed: the documented exit codes, never a panic. Full runs with stderr gone,
//! where the restore path must still run: safety.rs.
use clap::ValueEnum;
use cli_support::testing::assert_exit_codes;
use cli_support::Generate;

fn es_split(state: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_es-split"));
    c.env_remove("ES_URL")
        .env_remove("ES_INDEX")
        .env("ES_SPLIT_STATE_DIR", state)
        .args(args);
    c
}

#[test]
fn help_version_status_and_every_generate_kind() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    assert_exit_codes(&es_split(s, &["--help"]), 0, 0);
    assert_exit_codes(&es_split(s, &["--version"]), 0, 0);
    assert_exit_codes(&es_split(s, &["--status"]), 0, 0);
    for kind in Generate::ALL {
        let name = kind.to_possible_value().unwrap().get_name().to_string();
        assert_exit_codes(&es_split(s, &["--generate", &name]), 0, 0);
    }
}

#[test]
fn errors_keep_exit_2() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path();
    assert_exit_codes(&es_split(s, &["--no-such-flag"]), 2, 2);
    // Nothing listens on port 1: refused at once, no retries.
    let refused = [
        "--url",
        "http://127.0.0.1:1",
        "--index",
        "logs",
        "--field",
        "date",
        "--mid",
        "2015-01-01",
        "--dry-run",
        "--retries",
        "0",
    ];
    assert_exit_codes(&es_split(s, &refused), 2, 2);
}
