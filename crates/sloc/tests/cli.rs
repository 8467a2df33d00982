//! End-to-end tests of the `sloc` binary: every flag, every output format, every error.

use std::process::{Command as StdCommand, Stdio};

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::{lang, nums, Dir};

/// Two C files (5 code, 3 comments, 2 blanks in all), one header, one Python file.
fn small_tree() -> Dir {
    let d = Dir::new();
    // 4 lines: 2 code, 1 comment, 1 blank.
    d.write("src/a.c", "int a;\n\n// a comment\nint b;\n");
    // 4 lines: 3 code, 1 comment, 0 blank... plus a blank: 5 lines.
    d.write("src/b.c", "/* b */\nint c;\nint d;\n\nint e;\n");
    // 3 lines: 1 code, 2 comments.
    d.write("include/x.h", "/* guard\n */\n#pragma once\n");
    // 2 lines: 1 code, 1 comment.
    d.write("tool.py", "# a tool\nprint(1)\n");
    d
}

#[test]
fn json_report_has_the_documented_shape() {
    let d = small_tree();
    let v = d.json(&[]);
    assert_eq!(nums(lang(&v, "C").unwrap()), [2, 9, 5, 2, 2]);
    assert_eq!(nums(lang(&v, "C Header").unwrap()), [1, 3, 1, 2, 0]);
    assert_eq!(nums(lang(&v, "Python").unwrap()), [1, 2, 1, 1, 0]);
    assert_eq!(nums(&v["total"]), [4, 14, 7, 5, 2]);
    let c = lang(&v, "C").unwrap().as_object().unwrap();
    let mut keys: Vec<&str> = c.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["blanks", "code", "comments", "files", "lines", "name"]
    );
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["languages", "total"]);
    // Sorted by code, most first.
    let names: Vec<&str> = v["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["C", "C Header", "Python"]);
}

#[test]
fn table_is_the_default_and_ends_with_a_total_row() {
    let d = small_tree();
    let out = d.sloc().assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .filter(|r: &Vec<&str>| r.len() == 6)
        .collect();
    assert_eq!(
        rows[0],
        ["Language", "Files", "Lines", "Code", "Comments", "Blanks"]
    );
    assert_eq!(rows[1], ["C", "2", "9", "5", "2", "2"]);
    assert_eq!(rows[2], ["C Header", "1", "3", "1", "2", "0"]);
    assert_eq!(rows[3], ["Python", "1", "2", "1", "1", "0"]);
    assert_eq!(rows[4], ["Total", "4", "14", "7", "5", "2"]);
}

#[test]
fn by_file_table_layout() {
    let rule = "─".repeat(60);
    let double = "═".repeat(60);
    let want = format!(
        "{rule}
 Language          Files   Lines   Code   Comments   Blanks
{double}
 C                     2       9      5          2        2
   ./src/a.c                   4      2          1        1
   ./src/b.c                   5      3          1        1
 C Header              1       3      1          2        0
   ./include/x.h               3      1          2        0
 Python                1       2      1          1        0
   ./tool.py                   2      1          1        0
{rule}
 Total                 4      14      7          5        2
{rule}
"
    );
    small_tree()
        .sloc()
        .arg("--by-file")
        .assert()
        .success()
        .stdout(want);
}

#[test]
fn by_file_lists_every_file_under_its_language() {
    let d = small_tree();
    let v = d.json(&["--by-file"]);
    let reports = lang(&v, "C").unwrap()["reports"].as_array().unwrap();
    let paths: Vec<&str> = reports
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["./src/a.c", "./src/b.c"]);
    assert_eq!(reports[0]["code"], 2);
    assert_eq!(reports[1]["lines"], 5);
    d.sloc()
        .arg("--by-file")
        .assert()
        .success()
        .stdout(contains("./src/a.c").and(contains("./include/x.h")));
    // Without --by-file there are no reports.
    assert!(lang(&d.json(&[]), "C").unwrap().get("reports").is_none());
}

#[test]
fn csv_has_a_header_rows_and_total() {
    let d = small_tree();
    d.sloc()
        .args(["--format", "csv"])
        .assert()
        .success()
        .stdout(
            "language,files,lines,code,comments,blanks\n\
         C,2,9,5,2,2\n\
         C Header,1,3,1,2,0\n\
         Python,1,2,1,1,0\n\
         Total,4,14,7,5,2\n",
        );
    d.sloc()
        .args(["--format", "csv", "--by-file", "src"])
        .assert()
        .success()
        .stdout("language,path,lines,code,comments,blanks\nC,src/a.c,4,2,1,1\nC,src/b.c,5,3,1,1\n");
}

#[test]
fn legacy_prints_the_blog_posts_lines_with_code_counts() {
    let d = small_tree();
    d.sloc()
        .args(["--format", "legacy", "-d", "."])
        .assert()
        .success()
        .stdout(
            "File-type: C  Line-count: 5\n\
             File-type: C Header  Line-count: 1\n\
             File-type: Python  Line-count: 1\n",
        );
}

#[test]
fn sort_orders_by_the_chosen_column() {
    let d = small_tree();
    let names = |args: &[&str]| d.language_names(args);
    assert_eq!(names(&["--sort", "language"]), ["C", "C Header", "Python"]);
    assert_eq!(names(&["--sort", "comments"]), ["C", "C Header", "Python"]);
    assert_eq!(names(&["--sort", "lines"]), ["C", "C Header", "Python"]);
    assert_eq!(names(&["-s", "blanks"]), ["C", "C Header", "Python"]);
    assert_eq!(names(&["--sort", "files"]), ["C", "C Header", "Python"]);
    d.write("zz/many.py", "a\nb\nc\nd\ne\nf\ng\n");
    assert_eq!(names(&["--sort", "code"]), ["Python", "C", "C Header"]);
    assert_eq!(names(&["--sort", "language"]), ["C", "C Header", "Python"]);
    d.sloc().args(["--sort", "size"]).assert().code(2);
}

#[test]
fn paths_can_be_positional_or_given_with_d() {
    let d = small_tree();
    assert_eq!(nums(&d.json(&["src"])["total"]), [2, 9, 5, 2, 2]);
    assert_eq!(nums(&d.json(&["-d", "src"])["total"]), [2, 9, 5, 2, 2]);
    assert_eq!(
        nums(&d.json(&["--root-source-dir", "include", "src"])["total"]),
        [3, 12, 6, 4, 2]
    );
    assert_eq!(nums(&d.json(&["src/a.c"])["total"]), [1, 4, 2, 1, 1]);
}

#[test]
fn a_file_reached_twice_is_counted_once() {
    let d = small_tree();
    assert_eq!(
        nums(&d.json(&["src", "src", "src/a.c"])["total"]),
        [2, 9, 5, 2, 2]
    );
    std::os::unix::fs::symlink(d.path().join("src"), d.path().join("link")).unwrap();
    std::fs::hard_link(d.path().join("src/a.c"), d.path().join("hard.c")).unwrap();
    // Without --follow the symlink is not walked; the hard link is the same file.
    assert_eq!(nums(lang(&d.json(&[]), "C").unwrap()), [2, 9, 5, 2, 2]);
    assert_eq!(
        nums(lang(&d.json(&["--follow"]), "C").unwrap()),
        [2, 9, 5, 2, 2]
    );
    assert_eq!(
        nums(lang(&d.json(&["-L", "link"]), "C").unwrap()),
        [2, 9, 5, 2, 2]
    );
}

#[test]
fn follow_walks_into_symlinked_directories() {
    let d = Dir::new();
    let outside = Dir::new();
    outside.write("lib.rs", "fn f() {}\n");
    std::os::unix::fs::symlink(outside.path(), d.path().join("vendor")).unwrap();
    assert!(lang(&d.json(&[]), "Rust").is_none());
    assert_eq!(
        nums(lang(&d.json(&["--follow"]), "Rust").unwrap()),
        [1, 1, 1, 0, 0]
    );
}

#[test]
fn gitignore_and_ignore_files_are_respected_unless_no_ignore() {
    let d = small_tree();
    d.write(".gitignore", "src/b.c\n");
    d.write(".ignore", "tool.py\n");
    // Outside a git checkout, .gitignore is inert (as in git, ripgrep and tokei); .ignore is not.
    let v = d.json(&[]);
    assert_eq!(nums(lang(&v, "C").unwrap()), [2, 9, 5, 2, 2]);
    assert!(lang(&v, "Python").is_none());
    std::fs::create_dir(d.path().join(".git")).unwrap();
    let v = d.json(&[]);
    assert_eq!(nums(lang(&v, "C").unwrap()), [1, 4, 2, 1, 1]);
    assert!(lang(&v, "Python").is_none());
    let v = d.json(&["--no-ignore"]);
    assert_eq!(nums(lang(&v, "C").unwrap()), [2, 9, 5, 2, 2]);
    assert!(lang(&v, "Python").is_some());
}

#[test]
fn hidden_files_need_hidden() {
    let d = small_tree();
    d.write(".hidden/h.c", "int h;\n");
    assert_eq!(lang(&d.json(&[]), "C").unwrap()["files"], 2);
    assert_eq!(lang(&d.json(&["--hidden"]), "C").unwrap()["files"], 3);
}

#[test]
fn exclude_skips_matching_paths_and_repeats() {
    let d = small_tree();
    let v = d.json(&["--exclude", "*.h"]);
    assert!(lang(&v, "C Header").is_none());
    assert!(lang(&v, "C").is_some());
    let v = d.json(&["-e", "*.h", "--exclude", "src/"]);
    assert!(lang(&v, "C").is_none());
    assert!(lang(&v, "Python").is_some());
    d.sloc()
        .args(["--exclude", "a{b"])
        .assert()
        .code(2)
        .stderr(contains("invalid --exclude glob \"a{b\""));
    // An empty glob (`-e "$UNSET"`) would exclude everything: an error, not an empty report.
    for empty in ["", " "] {
        d.sloc()
            .args(["-e", empty])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("an empty glob would exclude every path"));
    }
}

#[test]
fn a_hard_linked_file_is_counted_under_its_smallest_name() {
    let d = Dir::new();
    let z = d.write("z.c", "int x;\n");
    std::fs::hard_link(&z, d.path().join("b.h")).unwrap();
    // Named in the opposite order, on one thread: the first name seen is not the winner.
    for threads in ["1", "2"] {
        let v = d.json(&["-j", threads, "z.c", "b.h"]);
        assert_eq!(nums(lang(&v, "C Header").unwrap()), [1, 1, 1, 0, 0]);
        assert!(lang(&v, "C").is_none());
    }
    // Walked: `./b.h` < `./z.c`, whichever thread reaches which first.
    for _ in 0..5 {
        let v = d.json(&["-j", "2", "--by-file"]);
        let h = lang(&v, "C Header").unwrap();
        assert_eq!(nums(h), [1, 1, 1, 0, 0]);
        assert_eq!(h["reports"][0]["path"], "./b.h");
        assert!(lang(&v, "C").is_none());
    }
}

#[test]
fn a_named_path_that_is_not_counted_gets_a_warning_saying_why() {
    let d = Dir::new();
    d.write("a.c", "int x;\n");
    d.write("notes.xyz", "text\n");
    d.write("README", "text\n");
    d.write("blob.c", b"int x;\0\n");
    // Inside a directory the same files are skipped quietly.
    d.sloc().assert().success().stderr("");
    let cases = [
        (
            "notes.xyz",
            "notes.xyz: not counted: no known language has its extension",
        ),
        (
            "README",
            "README: not counted: no known language has its name",
        ),
        ("blob.c", "blob.c: not counted: binary"),
        ("/dev/null", "/dev/null: not counted: not a regular file"),
    ];
    for (path, why) in cases {
        d.sloc()
            .args(["a.c", path])
            .assert()
            .success()
            .stdout(contains("C "))
            .stderr(contains(format!("sloc: warning: {why}")));
    }
}

#[test]
fn binary_files_are_skipped_and_empty_files_count() {
    let d = Dir::new();
    let mut bin = b"int x;\n".to_vec();
    bin.push(0);
    d.write("blob.c", &bin);
    d.write("empty.c", "");
    d.write("bom.c", b"\xEF\xBB\xBF// c\nint x;");
    let v = d.json(&["--by-file"]);
    let c = lang(&v, "C").unwrap();
    assert_eq!(nums(c), [2, 2, 1, 1, 0]);
    let paths: Vec<&str> = c["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["./bom.c", "./empty.c"]);
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_decoded_and_counted() {
    let d = Dir::new();
    let text = "// a comment\r\nint x;\r\n\r\n";
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        le.extend(u.to_le_bytes());
        be.extend(u.to_be_bytes());
    }
    d.write("le.c", &le);
    d.write("be.c", &be);
    let v = d.json(&[]);
    // Two files of 3 lines: 1 code, 1 comment, 1 blank each.
    assert_eq!(nums(lang(&v, "C").unwrap()), [2, 6, 2, 2, 2]);
}

#[test]
fn shebang_and_file_names_pick_the_language() {
    let d = Dir::new();
    d.write("run", "#!/usr/bin/env python3\n# comment\nprint(1)\n");
    d.write("build", "#!/bin/bash -e\necho hi\n");
    d.write("Makefile", "# c\nall:\n");
    d.write("Dockerfile", "FROM x\n");
    d.write("README", "no shebang here\n");
    let v = d.json(&[]);
    assert_eq!(nums(lang(&v, "Python").unwrap()), [1, 3, 1, 2, 0]);
    assert_eq!(nums(lang(&v, "Shell").unwrap()), [1, 2, 1, 1, 0]);
    assert_eq!(nums(lang(&v, "Makefile").unwrap()), [1, 2, 1, 1, 0]);
    assert_eq!(nums(lang(&v, "Dockerfile").unwrap()), [1, 1, 1, 0, 0]);
    assert_eq!(nums(&v["total"])[0], 4);
}

#[test]
fn languages_lists_names_extensions_file_names_and_interpreters() {
    let d = Dir::new();
    let out = d
        .sloc()
        .arg("--languages")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split("  ").next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed"))
            .to_string()
    };
    assert!(line("C Header").contains(".h"));
    assert!(line("C").contains(".c"));
    assert!(line("Makefile").contains("makefile"));
    assert!(line("Python").contains("#!python3"));
    assert!(text.lines().count() >= 58);
}

const BLOG_SYNTAX: &str = r#"{  "hs" : {
        "output_as" : "Haskell",
        "other_extns" : [ "haskell" , "hask" ],
        "start" : "{-",
        "end" : "-}",
        "whole_line" : ["--"]
    },
    "js" : {
        "output_as" : "Javascript",
        "other_extns" : [ "javascript"],
        "start" : "/*",
        "end" : "*/",
        "whole_line" : ["//"]
    }
}"#;

#[test]
fn the_blog_posts_syntax_file_works_unchanged() {
    let d = Dir::new();
    d.write("syntax_haskell_js.json", BLOG_SYNTAX);
    d.write("a.hask", "-- c\n{- b\n-}\nmain = pure ()\n");
    d.write("b.js", "// c\nvar s = 1; /* x */\n");
    d.write("c.mjs", "// still built-in JavaScript\n");
    let v = d.json(&["-c", "syntax_haskell_js.json", "--exclude", "*.json"]);
    assert_eq!(nums(lang(&v, "Haskell").unwrap()), [1, 4, 1, 3, 0]);
    // `js` now belongs to the post's "Javascript"; `.mjs` keeps the built-in.
    assert_eq!(nums(lang(&v, "Javascript").unwrap()), [1, 2, 1, 1, 0]);
    assert_eq!(nums(lang(&v, "JavaScript").unwrap()), [1, 1, 0, 1, 0]);
    d.sloc()
        .args([
            "-d",
            ".",
            "-c",
            "syntax_haskell_js.json",
            "--format",
            "legacy",
            "-e",
            "*.json",
        ])
        .assert()
        .success()
        .stdout(contains("File-type: Haskell  Line-count: 1\n"));
}

#[test]
fn later_comment_files_override_earlier_ones() {
    let d = Dir::new();
    d.write(
        "one.json",
        r##"{"foo": {"output_as": "Foo", "whole_line": ["#"]}}"##,
    );
    d.write(
        "two.json",
        r#"{"foo": {"output_as": "Foo2", "whole_line": [";"]}}"#,
    );
    d.write("x.foo", "; c\n# c\n");
    let v = d.json(&["-c", "one.json", "--comment-file", "two.json", "x.foo"]);
    assert_eq!(nums(lang(&v, "Foo2").unwrap()), [1, 2, 1, 1, 0]);
    assert!(lang(&v, "Foo").is_none());
}

#[test]
fn extended_syntax_fields_work_from_a_comment_file() {
    let d = Dir::new();
    d.write(
        "ext.json",
        r#"{"zz": {"output_as": "Zed", "whole_line": ["!!"], "block": [["<<", ">>"]],
            "nested": true, "strings": [{"start": "~", "end": "~", "escape": "^"}],
            "raw_strings": [["@@", "@@"]], "doc_strings": [["%%", "%%"]],
            "delimited_raw_strings": [["Q{", "[", "]", "}"]],
            "word_comments": false, "heredocs": ["<<<"],
            "line_blocks": [["=doc", "=end"]], "filenames": ["Zedfile"], "shebangs": ["zed"]}}"#,
    );
    // Line 1 code (the string hides `!!`), 2 comment (nested), 3 comment (doc string), 4-6
    // comment (line block), 7 code (the raw string hides `<<`), 8 code (the escaped `~` keeps the
    // string open over `<<`), 9 code (so no block comment was opened on line 8), 10-11 code
    // (a raw string with delimiter `k`, which `]}` does not end), 12 comment.
    d.write(
        "a.zz",
        "x ~ !! ~\n<< a << b >> c >>\n%% doc %%\n=doc\nanything\n=end\ny @@ << @@\nz ~^~ << ~\nw\n\
         v Q{k[ << ]}\n]k}\n!! c\n",
    );
    d.write("Zedfile", "!! c\n");
    // `#!` is not a Zed comment: two code lines.
    d.write("script", "#!/usr/bin/zed\nq\n");
    let v = d.json(&["-c", "ext.json", "-e", "*.json"]);
    assert_eq!(nums(lang(&v, "Zed").unwrap()), [3, 15, 8, 7, 0]);
}

#[test]
fn syntax_file_errors_name_the_file_and_exit_2() {
    let d = Dir::new();
    d.sloc()
        .args(["-c", "missing.json"])
        .assert()
        .code(2)
        .stderr(
            "sloc: cannot read syntax file missing.json: No such file or directory (os error 2)\n",
        );
    d.sloc()
        .args(["-c", "."])
        .assert()
        .code(2)
        .stderr(contains("sloc: cannot read syntax file .: Is a directory"));
}

#[test]
fn errors_are_one_line() {
    let d = Dir::new();
    let out = d.sloc().args(["-c", "missing.json"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_root_directory_is_an_error() {
    let d = Dir::new();
    d.sloc()
        .args(["-d", "nope"])
        .assert()
        .code(2)
        .stderr("sloc: nope: no such file or directory\n");
    d.sloc().arg("nope").assert().code(2);
}

#[test]
fn by_file_with_legacy_is_a_usage_error() {
    Dir::new()
        .sloc()
        .args(["--by-file", "--format", "legacy"])
        .assert()
        .code(2)
        .stderr(contains("--by-file does not work with --format legacy"));
}

#[test]
fn an_unreadable_path_warns_and_the_rest_is_counted_once() {
    // A dangling symlink cannot be read when followed (a file error); a symlink to an ancestor
    // is a loop the walker reports (a walk error). Either way the rest is counted, once.
    let cases = [
        ("src/dangling.c", "gone.c", "dangling.c"),
        ("src/loop", "..", "File system loop found"),
    ];
    for (link, target, warning) in cases {
        let d = small_tree();
        std::os::unix::fs::symlink(target, d.path().join(link)).unwrap();
        d.sloc()
            .args(["--follow", "--format", "csv"])
            .assert()
            .code(1)
            .stdout(contains("C,2,9,5,2,2"))
            .stderr(contains("sloc: warning:").and(contains(warning)));
    }
}

#[test]
fn threads_flag_gives_the_same_counts() {
    let d = small_tree();
    assert_eq!(d.json(&["-j", "1"]), d.json(&["--threads", "4"]));
}

#[test]
fn help_and_version() {
    let d = Dir::new();
    d.sloc()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("--comment-file").and(contains("--root-source-dir")));
    d.sloc()
        .arg("--version")
        .assert()
        .success()
        .stdout(contains("sloc "));
    d.sloc().arg("--no-such-flag").assert().code(2);
}

#[test]
fn file_names_with_control_characters_are_sanitized_in_tables() {
    let d = Dir::new();
    d.write("evil\x1b[31m.c", "int x;\n");
    d.sloc()
        .arg("--by-file")
        .assert()
        .success()
        .stdout(contains("evil\\u{1b}[31m.c"));
}

#[test]
fn a_closed_stdout_exits_quietly() {
    let d = Dir::new();
    for i in 0..1500 {
        d.write(&format!("f{i:04}.c"), "int x;\n");
    }
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("sloc"))
        .current_dir(d.path())
        .args(["--by-file", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_command_counts_this_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = Dir::new().json(&["-d", root.to_str().unwrap()]);
    let rust = lang(&v, "Rust").unwrap();
    assert!(rust["code"].as_u64().unwrap() > 500);
    assert!(lang(&v, "JSON").is_some());
}

#[test]
fn the_documented_example_syntax_file_works() {
    let doc = include_str!("../../../syntaxes/README.md");
    let example = doc
        .split("## A complete example")
        .nth(1)
        .and_then(|rest| rest.split("```json\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("syntaxes/README.md has a complete example");
    let d = Dir::new();
    d.write("example.json", example);
    d.write("Makefile.PL", "# c\n=pod\n\ndoc\n=cut\nuse x;\n");
    let v = d.json(&["-c", "example.json", "-e", "*.json"]);
    assert_eq!(nums(lang(&v, "Perl").unwrap()), [1, 6, 1, 4, 1]);
}

/// Two names that differ only in bytes that are not UTF-8, a UTF-8 name that reads like the
/// escaped form of one of them, and one with a control character as well.
fn non_utf8_names() -> (Dir, [&'static [u8]; 4]) {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new();
    let names: [&[u8]; 4] = [b"a\xFF.c", b"a\xFE.c", b"a\\xFF.c", b"b\x1b[31m\xFF.c"];
    for (k, name) in names.iter().enumerate() {
        let body = "int x;\n".repeat(k + 1);
        std::fs::write(d.path().join(std::ffi::OsStr::from_bytes(name)), body).unwrap();
    }
    (d, names)
}

#[test]
fn non_utf8_file_names_stay_distinct_in_every_format() {
    use base64::Engine as _;
    use std::os::unix::ffi::OsStrExt;
    let (d, names) = non_utf8_names();
    let stdout = |args: &[&str]| {
        let out = d.sloc().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("text formats are UTF-8")
    };
    // Escaped: `\xHH` per byte that is not UTF-8, a literal backslash doubled, a control
    // character as `\u{..}` in tables (not in CSV, which quotes what it must).
    let shown = [r"a\xFF.c", r"a\xFE.c", r"a\\xFF.c", r"b\u{1b}[31m\xFF.c"];
    let table = stdout(&["--by-file"]);
    for (k, name) in shown.iter().enumerate() {
        let row = format!("./{name}");
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(row.as_str()))
            .unwrap_or_else(|| panic!("no row {row} in\n{table}"));
        // Each file has k + 1 lines: the row is that file's.
        let lines = (k + 1).to_string();
        assert_eq!(
            line.split_whitespace().nth(1),
            Some(lines.as_str()),
            "{line}"
        );
    }
    assert!(!table.contains('\x1b'), "{table}");
    let csv = stdout(&["--by-file", "--format", "csv"]);
    let csv_shown = [r"a\xFF.c", r"a\xFE.c", r"a\\xFF.c", "b\x1b[31m\\xFF.c"];
    for (k, name) in csv_shown.iter().enumerate() {
        let n = k + 1;
        let row = format!("C,./{name},{n},{n},0,0");
        assert!(csv.lines().any(|l| l == row), "no row {row:?} in\n{csv}");
    }
    // Legacy has no per-file rows: the four files are one C row with all their code.
    assert_eq!(
        stdout(&["--format", "legacy"]),
        "File-type: C  Line-count: 10\n"
    );
    // JSON: a name that is not UTF-8 is `{"bytes": base64}` and decodes to the name's bytes;
    // a UTF-8 one stays a string; rows are sorted by the names' bytes.
    let v = d.json(&["--by-file"]);
    let reports = lang(&v, "C").unwrap()["reports"].as_array().unwrap();
    let got: Vec<(Vec<u8>, u64)> = reports
        .iter()
        .map(|r| {
            let path = match &r["path"] {
                serde_json::Value::String(s) => s.as_bytes().to_vec(),
                other => base64::engine::general_purpose::STANDARD
                    .decode(other["bytes"].as_str().expect("a bytes object"))
                    .unwrap(),
            };
            (path, r["lines"].as_u64().unwrap())
        })
        .collect();
    let mut want: Vec<(Vec<u8>, u64)> = names
        .iter()
        .enumerate()
        .map(|(k, n)| ([b"./", *n].concat(), k as u64 + 1))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let utf8 = reports.iter().find(|r| r["lines"] == 3).unwrap();
    assert_eq!(utf8["path"], "./a\\xFF.c");
    let not_utf8 = reports.iter().find(|r| r["lines"] == 1).unwrap();
    assert_eq!(not_utf8["path"]["bytes"], "Li9h/y5j");
    // Warnings name such files as the text formats do.
    let odd = std::ffi::OsStr::from_bytes(b"x\xFE.zz");
    std::fs::write(d.path().join(odd), "text\n").unwrap();
    let out = d.sloc().arg(odd).output();
    let stderr = String::from_utf8(out.unwrap().stderr).unwrap();
    assert!(stderr.contains(r"x\xFE.zz: not counted"), "{stderr}");
    // So do errors: a missing root and a missing `-c` file.
    let stderr_of = |args: &[&std::ffi::OsStr]| {
        let out = d.sloc().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stderr).unwrap()
    };
    let gone = std::ffi::OsStr::from_bytes(b"gone\xFF");
    assert_eq!(
        stderr_of(&[gone]),
        "sloc: gone\\xFF: no such file or directory\n"
    );
    let syntax = std::ffi::OsStr::from_bytes(b"syn\xFE.json");
    let stderr = stderr_of(&["-c".as_ref(), syntax]);
    assert!(
        stderr.starts_with("sloc: cannot read syntax file syn\\xFE.json"),
        "{stderr}"
    );
}

#[test]
fn generate_prints_a_man_page_and_completions() {
    let d = Dir::new();
    let run = |kind: &str| {
        let out = d.sloc().args(["--generate", kind]).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let man = run("man");
    assert!(
        man.contains(".TH sloc") && man.contains("comment\\-file"),
        "{man}"
    );
    assert!(run("bash").contains("_sloc()"));
    assert!(run("zsh").starts_with("#compdef sloc"));
    assert!(run("fish").contains("complete -c sloc"));
    assert!(run("elvish").contains("sloc"));
    assert!(run("powershell").contains("sloc"));
    d.sloc().args(["--generate", "tcsh"]).assert().code(2);
}

#[test]
fn syntax_file_errors_name_the_entry_and_field_and_the_fix() {
    let d = Dir::new();
    let cases = [
        (
            "{\n  \"hs\": {\n    \"output_as\": \"Haskell\",\n  }\n}\n",
            "at line 4, column 3: entry \"hs\": trailing comma",
        ),
        (
            r#"{"hs": {"output_as": "Haskell", "whole_line": "--"}}"#,
            "at line 1, column 50: entry \"hs\", field `whole_line`: invalid type: string \"--\"",
        ),
        (
            r#"{"hs": {"output_as": "Haskell", "whole_line": [""]}}"#,
            "entry \"hs\": `whole_line` contains an empty string",
        ),
        (
            r#"{"hs": {"output_as": "Haskell", "start": "{-"}}"#,
            "entry \"hs\": `start` is given without `end`",
        ),
        (
            r#"{"hs": {"output_as": "Haskell", "whole_lines": ["--"]}}"#,
            "entry \"hs\", field `whole_lines`: unknown field `whole_lines`",
        ),
        (
            r#"{"hs": {"start": "{-", "end": "-}"}}"#,
            "entry \"hs\": missing field `output_as`",
        ),
        (
            r#"{"x": {"output_as": "X", "strings": [{"start": 1, "end": "'"}]}}"#,
            "at line 1, column 48: entry \"x\", field `strings[0].start`: invalid type: \
             integer `1`, expected a string",
        ),
        (
            r#"{"x": 3}"#,
            "entry \"x\": invalid type: integer `3`, expected an object with at least \"output_as\"",
        ),
        (
            r#"[{"output_as": "X"}]"#,
            "the top level must be an object keyed by extension: invalid type: sequence",
        ),
        (
            "",
            "the file is empty; it must hold a JSON object such as {\"ext\": {\"output_as\": \"Name\"}}",
        ),
        (
            r#"{"x": {"output_as": "X"}, "x": {"output_as": "Y"}}"#,
            "entry \"x\" appears twice; merge the two into one",
        ),
        (
            r#"{".py": {"output_as": "X"}}"#,
            "entry \".py\": extensions are written without the dot: \"py\"",
        ),
        (
            r#"{"x": {"output_as": "X", "other_extns": [".y"]}}"#,
            "entry \"x\": `other_extns` has \".y\": extensions are written without the dot",
        ),
        (
            r#"{"a": {"output_as": "A", "other_extns": ["q"]}, "b": {"output_as": "B", "other_extns": ["Q"]}}"#,
            "extension \"Q\" is claimed by both entries \"a\" and \"b\"; keep it in one of them",
        ),
    ];
    for (json, message) in cases {
        d.write("s.json", json);
        let out = d.sloc().args(["-c", "s.json"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{json}: {stderr}");
        assert!(
            stderr.starts_with("sloc: invalid syntax file s.json") && stderr.contains(message),
            "{json}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{json}: {stderr}");
    }
}

#[test]
fn a_comment_file_entry_takes_over_a_builtin_and_another_languages_extension() {
    let d = Dir::new();
    // `c` replaces C's syntax; `other_extns: ["rs"]` takes `.rs` away from Rust.
    d.write(
        "s.json",
        r##"{"c": {"output_as": "MyC", "whole_line": ["#"]},
            "foo": {"output_as": "Foo", "other_extns": ["rs"], "whole_line": [";"]}}"##,
    );
    d.write("a.c", "int x; // not a comment here\n# comment\n");
    d.write("b.rs", "; comment\nfn main() {}\n");
    let v = d.json(&["-c", "s.json", "-e", "*.json"]);
    assert_eq!(nums(lang(&v, "MyC").unwrap()), [1, 2, 1, 1, 0]);
    assert_eq!(nums(lang(&v, "Foo").unwrap()), [1, 2, 1, 1, 0]);
    assert!(lang(&v, "C").is_none() && lang(&v, "Rust").is_none());
}

#[test]
fn anchored_excludes_match_from_each_root_and_from_the_current_directory() {
    let d = Dir::new();
    d.write("src/a.c", "int a;\n");
    d.write("src/gen/g.c", "int g;\n");
    d.write("lib/l.c", "int l;\n");
    d.write("lib/gen/h.c", "int h;\n");
    let files = |args: &[&str]| -> Vec<String> {
        let v = d.json(&[&["--by-file"], args].concat());
        let mut paths: Vec<String> = lang(&v, "C").map_or(Vec::new(), |c| {
            c["reports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["path"].as_str().unwrap().replace("./", ""))
                .collect()
        });
        paths.sort();
        paths
    };
    // Relative to the current directory, with several roots and with a leading `./`.
    assert_eq!(
        files(&["src", "lib", "-e", "src/gen"]),
        ["lib/gen/h.c", "lib/l.c", "src/a.c"]
    );
    assert_eq!(files(&["-e", "./src"]), ["lib/gen/h.c", "lib/l.c"]);
    // Relative to the root given, even an absolute one.
    let root = d.path().join("lib");
    let abs = files(&[root.to_str().unwrap(), "-e", "gen"]);
    assert_eq!(abs.len(), 1);
    assert!(abs[0].ends_with("lib/l.c"), "{abs:?}");
    let abs = files(&[d.path().to_str().unwrap(), "-e", "lib/gen", "-e", "src/"]);
    assert_eq!(abs.len(), 1);
    assert!(abs[0].ends_with("lib/l.c"), "{abs:?}");
}

#[test]
fn a_fifo_is_not_a_file_and_does_not_block_the_walk() {
    let d = small_tree();
    let fifo = d.path().join("src/pipe.c");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) is needed by this test");
    assert!(status.success());
    // Opening a FIFO for reading would wait for a writer forever: it must be skipped unread.
    d.sloc()
        .args(["--format", "csv"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout(contains("C,2,9,5,2,2"));
    d.sloc()
        .args(["--format", "csv", "src/pipe.c"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout(contains("Total,0,0,0,0,0"))
        .stderr(contains(
            "sloc: warning: src/pipe.c: not counted: not a regular file",
        ));
}

#[test]
fn nested_gitignores_and_negated_patterns_apply_like_git() {
    let d = Dir::new();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    // The root ignores every C file but re-includes src/a.c; sub/ re-includes its own.
    d.write(".gitignore", "*.c\n!src/a.c\n");
    d.write("sub/.gitignore", "!*.c\n");
    d.write("src/a.c", "int a;\n");
    d.write("src/b.c", "int b;\n");
    d.write("sub/s.c", "int s;\n");
    d.write("sub/deeper/t.c", "int t;\n");
    // An .ignore file works next to .gitignore, and .ignore wins where both speak.
    d.write("sub/deeper/.ignore", "t.c\n");
    let v = d.json(&["--by-file"]);
    let mut paths: Vec<&str> = lang(&v, "C").unwrap()["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["./src/a.c", "./sub/s.c"]);
    assert_eq!(nums(lang(&d.json(&["--no-ignore"]), "C").unwrap())[0], 4);
}

/// `text` with every run of digits, of blanks and of table rules shortened to one character, so
/// that a README example's output can be compared with a run whose counts have moved on.
fn skeleton(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let mut out = String::new();
            let mut prev = None;
            for c in line.chars() {
                let c = match c {
                    '0'..='9' => '9',
                    c if c.is_whitespace() => ' ',
                    c => c,
                };
                if prev == Some(c) && matches!(c, '9' | ' ' | '─' | '═') {
                    continue;
                }
                out.push(c);
                prev = Some(c);
            }
            out.trim().to_string()
        })
        .collect()
}

#[test]
fn every_readme_example_runs_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("<!-- section: sloc -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /section: sloc -->").next())
        .expect("README.md has a sloc section");
    let mut examples: Vec<(String, String)> = Vec::new();
    for block in section.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        for line in block.lines() {
            match line.strip_prefix("$ ") {
                Some(command) => examples.push((command.to_string(), String::new())),
                None => {
                    let (_, out) = examples.last_mut().expect("output follows a `$ ` line");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    assert!(examples.len() >= 3, "examples found: {examples:?}");
    for (command, want) in &examples {
        // `cd DIR && sloc ARGS | head -N   # comment`, the only shapes the README uses.
        let mut rest = command.split(" #").next().unwrap_or_default().trim();
        let mut dir = root.clone();
        if let Some((cd, after)) = rest.split_once(" && ") {
            dir = dir.join(cd.strip_prefix("cd ").expect("`cd DIR && …`"));
            rest = after;
        }
        let (run, head) = match rest.split_once(" | head -") {
            Some((run, n)) => (run, Some(n.parse::<usize>().expect("head -N"))),
            None => (rest, None),
        };
        let mut words = run.split_whitespace();
        assert_eq!(words.next(), Some("sloc"), "{command}");
        let out = assert_cmd::Command::cargo_bin("sloc")
            .unwrap()
            .current_dir(&dir)
            .args(words)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let mut got = String::from_utf8(out).unwrap();
        if let Some(n) = head {
            got = got.lines().take(n).map(|l| format!("{l}\n")).collect();
        }
        let want = want.trim_end();
        if dir.starts_with(root.join("crates/sloc/examples")) {
            // The shipped example files do not change: the output must match exactly.
            assert_eq!(got.trim_end(), want, "{command}");
        } else {
            assert_eq!(skeleton(&got), skeleton(want), "{command}");
        }
    }
    let listed = section
        .split("list the ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the README says how many languages --languages lists");
    let out = assert_cmd::Command::cargo_bin("sloc")
        .unwrap()
        .arg("--languages")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), listed);
}

#[test]
fn type_and_exclude_type_choose_languages() {
    let d = small_tree();
    let names = |args: &[&str]| d.language_names(args);
    assert_eq!(names(&["-t", "c"]), ["C"]);
    assert_eq!(names(&["-t", "C", "--type", "PYTHON"]), ["C", "Python"]);
    assert_eq!(names(&["-t", "C Header,Python"]), ["C Header", "Python"]);
    assert_eq!(names(&["--exclude-type", "C"]), ["C Header", "Python"]);
    assert_eq!(
        names(&["-t", "C,Python", "--exclude-type", "c"]),
        ["Python"]
    );
    for bad in ["Klingon", ""] {
        d.sloc()
            .args(["-t", bad])
            .assert()
            .code(2)
            .stderr(contains(format!("unknown language {bad:?}")));
    }
    d.sloc()
        .args(["-t", "Python", "src/a.c", "tool.py"])
        .assert()
        .success()
        .stderr(contains(
            "src/a.c: not counted: its language is left out by --type",
        ));
}

#[test]
fn a_shared_extension_is_settled_by_content() {
    let d = Dir::new();
    d.write("a.h", "#pragma once\nint f(void);\n");
    d.write("b.h", "#pragma once\nnamespace b {\n}\n");
    d.write("c.h", "@interface C : NSObject\n@end\n");
    d.write("d.inc", "no language claims this\n");
    let v = d.json(&[]);
    assert_eq!(nums(lang(&v, "C Header").unwrap())[0], 1);
    assert_eq!(nums(lang(&v, "C++ Header").unwrap())[0], 1);
    assert_eq!(nums(lang(&v, "Objective-C").unwrap())[0], 1);
    assert_eq!(nums(&v["total"])[0], 3);
    d.sloc()
        .arg("d.inc")
        .assert()
        .success()
        .stderr(contains("d.inc: not counted: its extension is shared"));
    // --type sees the language the content chose.
    let v = d.json(&["-t", "C++ Header"]);
    assert_eq!(nums(&v["total"])[0], 1);
}

/// The file names of every file a JSON `--by-file` report counts under language `name`.
fn files_of(report: &serde_json::Value, name: &str) -> Vec<String> {
    let mut names: Vec<String> = lang(report, name)
        .map(|l| l["reports"].as_array().unwrap().clone())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            path.rsplit('/').next().unwrap().to_string()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn name_prefixes_and_template_suffixes_pick_the_language() {
    // The kernel's files that tokei counts and sloc once skipped: perf's kbuild `Build` files,
    // `Makefile.rules`, `config.c.in`, a udev `.rules` file and `.in` data.
    let d = Dir::new();
    d.write("tools/perf/ui/Build", "# kbuild\nperf-y += setup.o\n");
    d.write("scripts/Makefile.rules", "# rules\nall:\n");
    d.write("scripts/Makefile.build", "obj-y += a.o\n");
    d.write("usbip/Makefile.am", "## automake\nSUBDIRS = src\n");
    d.write("perl/Makefile.PL", "use ExtUtils::MakeMaker;\n");
    d.write("bazel/BUILD", "cc_library(name = \"a\")\n");
    d.write("um/config.c.in", "/* C */\nint x;\n");
    d.write("gdb/constants.py.in", "# py\nx = 1\n");
    d.write("boot/mtools.conf.in", "# conf\ndrive a:\n");
    d.write(
        "udev/99-nx-gzip.rules",
        "SUBSYSTEM==\"nxgzip\", MODE=\"0666\"\n",
    );
    d.write("docker/Dockerfile.dev", "FROM x\n");
    let v = d.json(&["--by-file"]);
    assert_eq!(
        files_of(&v, "Makefile"),
        ["Build", "Makefile.build", "Makefile.rules"]
    );
    assert_eq!(files_of(&v, "Automake"), ["Makefile.am"]);
    assert_eq!(files_of(&v, "Perl"), ["Makefile.PL"]);
    assert_eq!(files_of(&v, "Starlark"), ["BUILD"]);
    assert_eq!(files_of(&v, "C"), ["config.c.in"]);
    assert_eq!(files_of(&v, "Python"), ["constants.py.in"]);
    assert_eq!(files_of(&v, "Autoconf"), ["mtools.conf.in"]);
    assert_eq!(files_of(&v, "Snakemake"), ["99-nx-gzip.rules"]);
    assert_eq!(files_of(&v, "Dockerfile"), ["Dockerfile.dev"]);
    assert_eq!(nums(&v["total"])[0], 11);
    // The C template counts as C: one comment line, one code line.
    assert_eq!(nums(lang(&v, "C").unwrap()), [1, 2, 1, 1, 0]);
}

#[test]
fn a_file_name_pattern_other_than_a_trailing_dot_star_is_rejected() {
    let d = Dir::new();
    d.write(
        "x.json",
        r#"{"x": {"output_as": "X", "filenames": ["Make*file"]}}"#,
    );
    d.write("a.x", "1\n");
    d.sloc()
        .args(["-c", "x.json", "a.x"])
        .assert()
        .code(2)
        .stderr(
            contains("x.json")
                .and(contains("Make*file"))
                .and(contains("`.*`")),
        );
}
