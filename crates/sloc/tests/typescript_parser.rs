//! A differential test: sloc's TypeScript and JavaScript line kinds against the TypeScript
//! compiler's own parser (`tests/oracles/typescript_comments.js`, run by `node` with the
//! `typescript` package scripts/test installs), line by line, over that package's `lib/*.d.ts`
//! and `lib/*.js` files and a sample of npm's JavaScript. Lines are judged from the parser's
//! comment ranges by sloc's rules (see `oracle::kinds_from_comments`); files the parser reports
//! syntax errors in are left out and counted.

use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sloc::Languages;

use crate::oracle::{detect_one_of, files_under, sample, Difference, Parsed, Tally, BOM};
use crate::tree_sitter_grammars::{npm_package, typescript_package};

/// Where sloc's rules knowingly part from the TypeScript parser's (none so far).
const DIFFERENCES: &[Difference] = &[];

/// Runs the oracle on `corpus`: per file, its comment ranges, or `None` for a syntax error.
fn oracle(corpus: &[PathBuf]) -> Vec<(PathBuf, Option<Vec<Range<usize>>>)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/typescript_comments.js");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(typescript_package())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is needed by this test (CI installs Node.js; apt-get install nodejs)");
    let mut list = String::new();
    for p in corpus {
        list.push_str(p.to_str().expect("corpus paths are UTF-8"));
        list.push('\n');
    }
    let mut stdin = child.stdin.take().expect("piped");
    // Written from a thread: the oracle prints while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let out = child.wait_with_output().expect("node ran");
    writer
        .join()
        .expect("the writer thread")
        .expect("the oracle read its list");
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("the oracle prints UTF-8");
    text.lines()
        .map(|row| {
            let (path, ranges) = row.split_once('\t').expect("path TAB ranges");
            let ranges = (ranges != "!").then(|| {
                ranges
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(|r| {
                        let (s, e) = r.split_once('-').expect("start-end");
                        s.parse().expect("a number")..e.parse().expect("a number")
                    })
                    .collect()
            });
            (PathBuf::from(path), ranges)
        })
        .collect()
}

#[test]
fn typescript_and_javascript_lines_agree_with_the_typescript_parser() {
    let lib = typescript_package().join("lib");
    let mut corpus = files_under(&lib, &[".d.ts", ".js"]);
    // The two largest files (16 MB) take the parser most of its time: tree-sitter-javascript
    // reads those; one of the bundles is enough here.
    corpus.retain(|p| !p.ends_with("typescript.js"));
    corpus.extend(sample(
        files_under(&npm_package(), &[".js"]),
        600,
        512 << 10,
        6 << 20,
    ));
    let results = oracle(&corpus);
    assert_eq!(results.len(), corpus.len(), "the oracle skipped files");
    let langs = Languages::builtin();
    let mut tally = Tally::default();
    for (path, ranges) in results {
        let Some(comments) = ranges else {
            tally.rejected += 1;
            continue;
        };
        let bytes = std::fs::read(&path).expect("the oracle read it");
        let lang = detect_one_of(&langs, &path, &bytes, &["TypeScript", "JavaScript"]);
        let bytes = match bytes.strip_prefix(BOM) {
            Some(rest) => rest.to_vec(),
            None => bytes,
        };
        let file = Parsed {
            path,
            bytes,
            comments,
            strings: Vec::new(),
        };
        tally.compare(&langs, lang, &file, DIFFERENCES);
    }
    tally.check("typescript parser", 400);
}
