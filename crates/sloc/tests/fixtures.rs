//! The fixture corpus: every file in `tests/data` states its own expected counts on one of its
//! first lines (`N lines N code N comments N blanks`), worked out by hand. Each file is also
//! checked with CRLF line ends, with a UTF-8 BOM and without its final newline, which must not
//! change anything.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sloc::{count, Counts, Languages};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Finds `N lines N code N comments N blanks` in the first three lines.
fn expected(bytes: &[u8]) -> Option<Counts> {
    let text = String::from_utf8_lossy(bytes);
    for line in text.lines().take(3) {
        let words: Vec<&str> = line
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for w in words.windows(8) {
            if let [l, "lines", c, "code", m, "comments", b, "blanks"] = w {
                return Some(Counts {
                    lines: l.parse().ok()?,
                    code: c.parse().ok()?,
                    comments: m.parse().ok()?,
                    blanks: b.parse().ok()?,
                });
            }
        }
    }
    None
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
    let lang = langs.get(language_of(&langs, &path, &bytes));
    assert_eq!(count(lang, &bytes), want, "{name} ({})", lang.name);

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
    assert_eq!(count(lang, &crlf), want, "{name} with CRLF line ends");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&bytes);
    assert_eq!(count(lang, &bom), want, "{name} with a UTF-8 BOM");
    let trimmed = bytes
        .strip_suffix(b"\n")
        .expect("fixtures end with a newline");
    assert_eq!(
        count(lang, trimmed),
        want,
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
