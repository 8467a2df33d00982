//! The fixture corpus: every file in `tests/data` states its own expected counts on one of its
//! first lines (`N lines N code N comments N blanks`), worked out by hand; a file with embedded
//! languages also states each child's lines after the word `embedded` (`embedded: JavaScript
//! N lines N code N comments N blanks, CSS …`), in the first six lines. Each file is also
//! checked with CRLF line ends, with a UTF-8 BOM and without its final newline, which must not
//! change anything.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sloc::embed::count_any;
use sloc::{count, Counts, Languages};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The words of a line, punctuation dropped.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Counts from `[l, "lines", c, "code", m, "comments", b, "blanks"]`.
fn counts_of(w: &[&str]) -> Option<Counts> {
    match w {
        [l, "lines", c, "code", m, "comments", b, "blanks"] => Some(Counts {
            lines: l.parse().ok()?,
            code: c.parse().ok()?,
            comments: m.parse().ok()?,
            blanks: b.parse().ok()?,
        }),
        _ => None,
    }
}

/// The children's expected lines: `Name N lines … blanks` after the word `embedded`.
fn expected_children(bytes: &[u8]) -> Vec<(String, Counts)> {
    let text = String::from_utf8_lossy(bytes);
    let head: Vec<&str> = text.lines().take(6).flat_map(words).collect();
    let Some(start) = head.iter().position(|w| *w == "embedded") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = start + 1;
    while i + 9 <= head.len() {
        match counts_of(&head[i + 1..i + 9]) {
            Some(c) => {
                out.push((head[i].to_string(), c));
                i += 9;
            }
            None => i += 1,
        }
    }
    out
}

/// Finds `N lines N code N comments N blanks` in the first three lines.
fn expected(bytes: &[u8]) -> Option<Counts> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .take(3)
        .find_map(|line| words(line).windows(8).find_map(counts_of))
}

fn language_of(langs: &Languages, path: &Path, bytes: &[u8]) -> usize {
    langs
        .for_path(path)
        .or_else(|| langs.for_shebang(bytes.split(|&b| b == b'\n').next().unwrap()))
        .and_then(|first| langs.for_content(first, path, bytes))
        .unwrap_or_else(|| panic!("{}: no language for this fixture", path.display()))
}

fn check_fixture(name: &str) {
    let path = data_dir().join(name);
    let bytes = fs::read(&path).unwrap();
    let want = expected(&bytes)
        .unwrap_or_else(|| panic!("{name}: no `N lines N code N comments N blanks` header"));
    assert_eq!(
        want.lines,
        want.code + want.comments + want.blanks,
        "{name}: the header does not add up"
    );
    let langs = Languages::builtin();
    let idx = language_of(&langs, &path, &bytes);
    let lang = langs.get(idx);
    let want_children = expected_children(&bytes);
    // Children by name, in the order the header gives them.
    let counted = |bytes: &[u8]| {
        let got = count_any(&langs, idx, bytes);
        let mut children: Vec<(String, Counts)> = got
            .children
            .iter()
            .map(|&(l, c)| (langs.name(l).to_string(), c))
            .collect();
        children.sort_by_key(|(n, _)| {
            want_children
                .iter()
                .position(|(w, _)| w == n)
                .unwrap_or(usize::MAX)
        });
        (got.counts, children)
    };
    let want_all = (want, want_children.clone());
    assert_eq!(counted(&bytes), want_all, "{name} ({})", lang.name);
    if langs.embeds(idx).is_none() {
        assert_eq!(count(lang, &bytes), want, "{name} ({})", lang.name);
    }

    let crlf: Vec<u8> = bytes
        .iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect();
    assert_eq!(counted(&crlf), want_all, "{name} with CRLF line ends");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&bytes);
    assert_eq!(counted(&bom), want_all, "{name} with a UTF-8 BOM");
    let trimmed = bytes
        .strip_suffix(b"\n")
        .expect("fixtures end with a newline");
    assert_eq!(
        counted(trimmed),
        want_all,
        "{name} without its final newline"
    );
}

include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));

#[test]
fn every_builtin_language_has_a_fixture() {
    let langs = Languages::builtin();
    let mut covered = BTreeSet::new();
    for entry in fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        covered.insert(langs.get(language_of(&langs, &path, &bytes)).name.clone());
    }
    let missing: Vec<String> = langs
        .describe()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !covered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "languages without a fixture: {missing:?}"
    );
    assert!(
        covered.len() >= 58,
        "only {} languages covered",
        covered.len()
    );
}

/// Counts `bytes` as the built-in language of extension `ext`.
fn count_as(ext: &str, bytes: &[u8]) -> Counts {
    let langs = Languages::builtin();
    let path = format!("x.{ext}");
    count(langs.get(langs.for_path(Path::new(&path)).unwrap()), bytes)
}

/// Counts with `lines` worked out from the other three.
fn counts(code: u64, comments: u64, blanks: u64) -> Counts {
    Counts {
        lines: code + comments + blanks,
        code,
        comments,
        blanks,
    }
}

#[test]
fn non_utf8_bytes_are_counted_like_any_other() {
    // Latin-1 "é" (0xE9) in a comment and in a string, a lone 0xFF in code.
    let bytes = b"/* caf\xE9 */\nchar *s = \"caf\xE9 // x\";\n\xFF\n\n// \xE9\n";
    assert_eq!(count_as("c", bytes), counts(2, 2, 1));
}

#[test]
fn empty_and_whitespace_only_inputs() {
    assert_eq!(count_as("rs", b""), Counts::default());
    assert_eq!(count_as("rs", b"\xEF\xBB\xBF"), Counts::default());
    assert_eq!(count_as("rs", b"\n \t\n\r\n"), counts(0, 0, 3));
    // Blank lines inside a block comment and inside a string stay blank.
    let src = b"/*\n\n*/\nlet s = \"\n\n\";\n";
    assert_eq!(count_as("rs", src), counts(2, 2, 2));
}

#[test]
fn a_lone_carriage_return_is_not_a_line_break() {
    assert_eq!(count_as("c", b"int a;\rint b;"), counts(1, 0, 0));
}

#[test]
fn a_close_marker_never_overlaps_its_open_marker() {
    // `/*/` opens a comment that the second line closes; `/**/` is a whole comment.
    let src = b"/*/ open\nint x; */\n/**/ int y;\n";
    assert_eq!(count_as("c", src), counts(1, 2, 0));
}
