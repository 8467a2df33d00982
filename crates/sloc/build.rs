//! Embeds `syntaxes/*.json` as a static table (`$OUT_DIR/builtins.rs`).
//!
//! Parsing here, with `deny_unknown_fields` and the same validation `-c FILE` gets, turns a typo
//! in a built-in language into a build error instead of a silent miscount.
// cargo reads its instructions (`cargo:rerun-if-changed=…`) from a build script's stdout.
#![allow(clippy::disallowed_macros)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

#[path = "src/syntax_file.rs"]
#[allow(dead_code)]
mod syntax_file;

use syntax_file::{RawSyntax, SyntaxFile};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../syntaxes");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut all: BTreeMap<String, RawSyntax> = BTreeMap::new();
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: SyntaxFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid syntax file: {e}", path.display()));
        for (key, raw) in file {
            if let Err(e) = raw.validate(&key) {
                panic!("{}: {e}", path.display());
            }
            for ext in std::iter::once(&key).chain(&raw.other_extns) {
                let ext = ext.to_lowercase();
                if let Some(other) = claimed.insert(ext.clone(), raw.output_as.clone()) {
                    panic!(
                        "{}: extension `{ext}` claimed by both {other} and {}",
                        path.display(),
                        raw.output_as
                    );
                }
            }
            all.insert(key, raw);
        }
    }
    // A shared extension nobody else claims or shares is a typo: its hints would decide nothing.
    let mut sharers: BTreeMap<String, usize> = BTreeMap::new();
    for raw in all.values() {
        for ext in &raw.shared_extns {
            *sharers.entry(ext.to_lowercase()).or_default() += 1;
        }
    }
    for (ext, n) in &sharers {
        if n + usize::from(claimed.contains_key(ext)) < 2 {
            panic!("shared extension `{ext}` has no other language to be told apart from");
        }
    }
    // An embedded language must be one of ours: a typo would silently count nothing as it.
    let names: std::collections::BTreeSet<&str> =
        all.values().map(|r| r.output_as.as_str()).collect();
    for raw in all.values() {
        for e in &raw.embedded {
            for lang in std::iter::once(&e.language).chain(e.languages.values()) {
                if !names.contains(lang.as_str()) {
                    panic!(
                        "{}: <{}> embeds \"{lang}\", which no syntax file names",
                        raw.output_as, e.tag
                    );
                }
            }
        }
    }
    let mut out = String::from("/// The built-in languages, generated from `syntaxes/*.json`.\npub static BUILTINS: &[Builtin] = &[\n");
    for (key, raw) in &all {
        emit(&mut out, key, raw);
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("builtins.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    fixture_tests();
}

/// One `#[test]` per file in `tests/data` (tokei's approach), included by `tests/fixtures.rs`.
fn fixture_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::new();
    for name in &names {
        let ident: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        // A dot file (`.gitignore`) would give `fixture__gitignore`, which is not snake case.
        let ident = match ident.strip_prefix('_') {
            Some(rest) => format!("dot_{rest}"),
            None => ident,
        };
        let _ = writeln!(
            out,
            "#[test]\nfn fixture_{ident}() {{\n    check_fixture({name:?});\n}}"
        );
    }
    let dest =
        Path::new(&env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("fixture_tests.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// Longest first, so that `"""` is tried before `"` and `--[[` before `--`.
fn longest_first<T: Clone>(items: &[T], key: impl Fn(&T) -> usize) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(|x| std::cmp::Reverse(key(x)));
    v
}

fn strs(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", parts.join(", "))
}

fn pairs(items: &[(String, String)]) -> String {
    let sorted = longest_first(items, |(s, _)| s.len());
    let parts: Vec<String> = sorted
        .iter()
        .map(|(s, e)| format!("({s:?}, {e:?})"))
        .collect();
    format!("&[{}]", parts.join(", "))
}

fn quads(items: &[(String, String, String, String)]) -> String {
    let sorted = longest_first(items, |(p, ..)| p.len());
    let parts: Vec<String> = sorted
        .iter()
        .map(|(p, o, c, s)| format!("({p:?}, {o:?}, {c:?}, {s:?})"))
        .collect();
    format!("&[{}]", parts.join(", "))
}

fn emit(out: &mut String, key: &str, raw: &RawSyntax) {
    let line = longest_first(&raw.whole_line, |s| s.len());
    let strings = longest_first(&raw.strings, |s| s.start.len());
    let string_parts: Vec<String> = strings
        .iter()
        .map(|s| {
            format!(
                "BuiltinString {{ start: {:?}, end: {:?}, escape: {:?}, multiline: {}, \
                 interpolation: {:?}, not_in_number: {} }}",
                s.start,
                s.end,
                s.escape,
                s.multiline,
                s.interpolation
                    .as_ref()
                    .map(|(o, c)| (o.as_str(), c.as_str())),
                s.not_in_number
            )
        })
        .collect();
    let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
    let embedded: Vec<String> = raw
        .embedded
        .iter()
        .map(|e| {
            let values: Vec<String> = e
                .languages
                .iter()
                .map(|(v, l)| format!("({v:?}, {l:?})"))
                .collect();
            format!(
                "BuiltinEmbed {{ tag: {:?}, language: {:?}, attributes: {}, languages: &[{}], \
                 nested: {} }}",
                e.tag,
                e.language,
                strs(&e.attributes),
                values.join(", "),
                e.nested
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "    Builtin {{ key: {key:?}, output_as: {:?}, other_extns: {}, whole_line: {}, blocks: {}, \
         nested: {}, word_comments: {}, strings: &[{}], raw_strings: {}, delimited_raw_strings: {}, heredocs: {}, doc_strings: {}, line_blocks: {}, \
         code_escape: {:?}, code_tokens: {}, block_scalars: {}, quote_like: {}, substitutions: {}, \
         regex_after: {}, filenames: {}, shebangs: {}, \
         shared_extns: {}, content_hints: {}, embedded: &[{}], fences: {} }},",
        raw.output_as,
        strs(&lower(&raw.other_extns)),
        strs(&line),
        pairs(&raw.all_blocks()),
        raw.nested,
        raw.word_comments,
        string_parts.join(", "),
        pairs(&raw.raw_strings),
        quads(&raw.delimited_raw_strings),
        strs(&raw.heredocs),
        pairs(&raw.doc_strings),
        pairs(&raw.line_blocks),
        raw.code_escape,
        strs(&longest_first(&raw.code_tokens, |s| s.len())),
        strs(&longest_first(&raw.block_scalars, |s| s.len())),
        strs(&raw.quote_like),
        strs(&raw.substitutions),
        strs(&raw.regex_after),
        strs(&raw.filenames),
        strs(&raw.shebangs),
        strs(&lower(&raw.shared_extns)),
        strs(&raw.content_hints),
        embedded.join(", "),
        strs(&raw.fences),
    );
}
