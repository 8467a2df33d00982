//! A differential test: sloc's Python line kinds against Python's own `tokenize`, line by line,
//! over the standard library of the `python3` on the PATH (`tests/oracles/python_tokenize.py`
//! applies sloc's rules, stated there, to tokenize's tokens).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sloc::Languages;

use crate::oracle::sloc_kinds;

/// Whether `line` (trimmed, a trailing comma aside) is one complete triple-quoted string, prefix
/// allowed: `b"""…"""`.
fn is_string_piece(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let text = text.trim().trim_end_matches(',');
    let body = text.trim_start_matches(|c: char| "rRbBuU".contains(c));
    TRIPLE
        .iter()
        .any(|q| body.len() >= 6 && body.starts_with(q) && body.ends_with(q))
}

/// Python's triple quotes.
const TRIPLE: [&str; 2] = ["\"\"\"", "'''"];

/// A reviewed difference: why, and whether line `n` (0-based) of `lines` is such a case given
/// sloc's and tokenize's kinds for it.
type Difference = (&'static str, fn(&[&[u8]], usize, char, char) -> bool);

/// Where sloc's rules knowingly part from Python's grammar.
const DIFFERENCES: &[Difference] = &[(
    // sloc judges a doc string by the line before it, not by bracket depth: a run of
    // triple-quoted pieces concatenated inside brackets after a line that ends in a string
    // (`key: b"""…"""`) or in a string key's `:` reads as statements. Rare (test data), and telling it apart would need
    // the bracket depth of every line.
    "implicit concatenation after a line ending in a string or a string key",
    |lines, n, sloc, python| {
        let mut k = n;
        while k > 0 && is_string_piece(lines[k - 1]) {
            k -= 1;
        }
        let before = k.checked_sub(1).map(|k| String::from_utf8_lossy(lines[k]));
        sloc == '#'
            && python == 'C'
            && is_string_piece(lines[n])
            && before.is_some_and(|b| {
                // A string, or a string dict key and its `:` (`b"""…""":`).
                let b = b.trim_end();
                let b = b.strip_suffix(':').unwrap_or(b);
                TRIPLE.iter().any(|q| b.ends_with(q))
            })
    },
)];

#[test]
fn python_lines_agree_with_pythons_tokenize_over_its_standard_library() {
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/python_tokenize.py");
    let out = Command::new("python3")
        .arg(&oracle)
        .output()
        .expect("python3 is needed by this test (CI installs it; apt-get install python3)");
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("the oracle prints UTF-8");
    let langs = Languages::builtin();
    let python = langs
        .for_path(Path::new("x.py"))
        .expect("Python is built in");
    let (mut files, mut lines) = (0, 0);
    let mut wrong: BTreeMap<String, Vec<(usize, char, char)>> = BTreeMap::new();
    let mut allowed: BTreeMap<&str, usize> = BTreeMap::new();
    for row in text.lines() {
        let (path, want) = row.split_once('\t').expect("path TAB kinds");
        let bytes = std::fs::read(path).expect("the oracle lists files it read");
        let got = sloc_kinds(&langs, python, &bytes);
        files += 1;
        lines += want.len();
        assert_eq!(got.len(), want.len(), "{path}: line count");
        let split: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        for (n, (g, w)) in got.chars().zip(want.chars()).enumerate() {
            if g == w {
                continue;
            }
            match DIFFERENCES
                .iter()
                .find(|(_, applies)| applies(&split, n, g, w))
            {
                Some((why, _)) => *allowed.entry(*why).or_default() += 1,
                None => wrong
                    .entry(path.to_string())
                    .or_default()
                    .push((n + 1, g, w)),
            }
        }
    }
    assert!(files > 500, "only {files} files from the oracle");
    let total: usize = wrong.values().map(Vec::len).sum();
    let mut report = String::new();
    for (path, bad) in &wrong {
        for (n, g, w) in bad {
            report.push_str(&format!("{path}:{n}: sloc {g}, tokenize {w}\n"));
        }
    }
    eprintln!("{files} files, {lines} lines, {total} disagree; reviewed differences: {allowed:?}");
    assert!(total == 0, "{report}");
}
