//! `jnstack` with its output streams gone (`| head -c1`, `>&- 2>&-`, readers that left): the
//! documented exit codes, never a panic. (A live JVM with its streams gone: nodump.rs.)
use std::process::Command;

use clap::ValueEnum;
use cli_support::testing::assert_exit_codes;
use cli_support::Generate;

use crate::harness::fixtures;

fn jnstack(args: &[&str]) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("jnstack"));
    c.args(args);
    c
}

fn dump(name: &str) -> String {
    fixtures().join("dumps").join(name).display().to_string()
}

#[test]
fn reports_keep_their_codes() {
    // A deadlock: exit 1; 0 once the report's reader has gone.
    assert_exit_codes(&jnstack(&["--from-file", &dump("jdk17.txt")]), 1, 0);
    assert_exit_codes(
        &jnstack(&["--json", "--from-file", &dump("jdk17.txt")]),
        1,
        0,
    );
    // Nothing wrong found in the text dump alone (the pinning shows with its JSON dump).
    assert_exit_codes(&jnstack(&["--from-file", &dump("jdk21-pinned.txt")]), 0, 0);
    // Errors are on stderr only: 2 however it is gone.
    assert_exit_codes(&jnstack(&["--from-file", "/no/such/dump"]), 2, 2);
    assert_exit_codes(&jnstack(&["--no-such-flag"]), 2, 2);
}

#[test]
fn help_version_and_every_generate_kind() {
    assert_exit_codes(&jnstack(&["--help"]), 0, 0);
    assert_exit_codes(&jnstack(&["--version"]), 0, 0);
    for kind in Generate::ALL {
        let name = kind.to_possible_value().unwrap().get_name().to_string();
        assert_exit_codes(&jnstack(&["--generate", &name]), 0, 0);
    }
}
