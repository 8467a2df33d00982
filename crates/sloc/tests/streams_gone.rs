//! `sloc` with its output streams gone (`| head -c1`, `>&- 2>&-`, readers that left): the
//! documented exit codes, never a panic.
use clap::ValueEnum;
use cli_support::testing::assert_exit_codes;
use cli_support::Generate;

use crate::util::Dir;

fn sloc(d: &Dir, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("sloc"));
    c.current_dir(d.path()).args(args);
    c
}

#[test]
fn a_report_larger_than_a_pipe_ends_quietly() {
    let d = Dir::new();
    for i in 0..3000 {
        d.write(&format!("src/f{i:04}.c"), "int x; // one\n\n");
    }
    assert_exit_codes(&sloc(&d, &["--by-file", "--format", "json"]), 0, 0);
}

#[test]
fn warnings_and_errors_keep_their_codes() {
    let d = Dir::new();
    d.write("a.c", "int a;\n");
    std::os::unix::fs::symlink("gone.c", d.path().join("dangling.c")).unwrap();
    // Exit 1 (a path could not be read); 0 once the report's reader has gone.
    assert_exit_codes(&sloc(&d, &["--follow"]), 1, 0);
    // Errors are on stderr only: 2 however it is gone.
    assert_exit_codes(&sloc(&d, &["no/such/dir"]), 2, 2);
    assert_exit_codes(&sloc(&d, &["--no-such-flag"]), 2, 2);
    assert_exit_codes(&sloc(&d, &["-e", ""]), 2, 2);
}

#[test]
fn help_version_languages_and_every_generate_kind() {
    let d = Dir::new();
    for args in [&["--help"][..], &["--version"], &["--languages"]] {
        assert_exit_codes(&sloc(&d, args), 0, 0);
    }
    for kind in Generate::ALL {
        let name = kind.to_possible_value().unwrap().get_name().to_string();
        assert_exit_codes(&sloc(&d, &["--generate", &name]), 0, 0);
    }
}
