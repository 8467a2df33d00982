//! The JSON syntax-file format: parsing and validation.
//!
//! This module is compiled twice: by `build.rs` (to turn `syntaxes/*.json` into a static table, so
//! a typo in a built-in language fails the build) and by the library (for `-c FILE`). It must
//! therefore depend on nothing but `serde` and `std`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One syntax file: top-level key = primary extension (the blog post's format).
pub type SyntaxFile = BTreeMap<String, RawSyntax>;

/// One language entry as written in JSON. Every field but `output_as` is optional, so the blog
/// post's entries (`output_as`, `other_extns`, `start`, `end`, `whole_line`) parse unchanged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an object with at least \"output_as\""
)]
pub struct RawSyntax {
    /// Language name shown in reports.
    pub output_as: String,
    /// More extensions (without the dot) for the same language.
    #[serde(default)]
    pub other_extns: Vec<String>,
    /// Start of the (legacy, single) block comment.
    #[serde(default)]
    pub start: Option<String>,
    /// End of the (legacy, single) block comment.
    #[serde(default)]
    pub end: Option<String>,
    /// Line-comment markers: the rest of the line is a comment.
    #[serde(default)]
    pub whole_line: Vec<String>,
    /// More block comments as `[start, end]` pairs.
    #[serde(default)]
    pub block: Vec<(String, String)>,
    /// Whether block comments nest (Rust, Haskell, Swift, Scala, Kotlin).
    #[serde(default)]
    pub nested: bool,
    /// Line comments begin only at the start of a word, as in shells (`$#`, `${x#y}`).
    #[serde(default)]
    pub word_comments: bool,
    /// String literals: their content is code and hides comment markers.
    #[serde(default)]
    pub strings: Vec<RawString>,
    /// Raw strings: like `strings` but without escapes (Rust `r#"…"#`, Go backticks).
    #[serde(default)]
    pub raw_strings: Vec<(String, String)>,
    /// Raw strings whose delimiter is chosen per literal, as `[prefix, open, close, suffix]`:
    /// C++ `R"xyz(…)xyz"` is `["R\"", "(", ")", "\""]`.
    #[serde(default)]
    pub delimited_raw_strings: Vec<(String, String, String, String)>,
    /// Here-document markers (`<<`): the lines after `<<EOF` up to the line `EOF` are code.
    #[serde(default)]
    pub heredocs: Vec<String>,
    /// Doc strings: counted as comments when nothing but whitespace precedes them on their line,
    /// as ordinary (code) strings otherwise (Python `"""…"""`).
    #[serde(default)]
    pub doc_strings: Vec<(String, String)>,
    /// Comment blocks whose start and end markers must begin a line (Perl POD, Ruby `=begin`).
    #[serde(default)]
    pub line_blocks: Vec<(String, String)>,
    /// An escape character outside strings: it and the byte after it are code, so a shell's
    /// `\"` or `\'` does not open a string.
    #[serde(default)]
    pub code_escape: Option<String>,
    /// Tokens that are plain code although they begin like a comment or a string: character
    /// literals of a quote or comment character (Erlang `$"`, Clojure `\"`), PHP 8's `#[`.
    #[serde(default)]
    pub code_tokens: Vec<String>,
    /// Block scalar indicators (YAML `|`, `>`): ending a line after a key or `-`, they make the
    /// following lines indented deeper than that line content (code), whatever they hold.
    #[serde(default)]
    pub block_scalars: Vec<String>,
    /// Quote-like operators whose delimiter is the next byte, one part (Perl `m`, `q`, `qw`,
    /// `qr`; Ruby `%r`, `%w`): `m{…}`, `q!…!`, `%r|…|` are strings/regexes (code), not
    /// comments or quotes.
    #[serde(default)]
    pub quote_like: Vec<String>,
    /// The same with two parts (Perl `s`, `tr`, `y`): `s/"//g`, `s{a}{b}`.
    #[serde(default)]
    pub substitutions: Vec<String>,
    /// Tokens after which a `/` opens a regex literal rather than dividing (`(`, `=`,
    /// `return`, …); a `/` that begins a line opens one too. Empty: no `/…/` literals.
    #[serde(default)]
    pub regex_after: Vec<String>,
    /// Whole file names (`Makefile`), matched exactly, or name prefixes ending in `.*`
    /// (`Makefile.*`: `Makefile.build`), which come before extensions.
    #[serde(default)]
    pub filenames: Vec<String>,
    /// Interpreters named on a `#!` line, for files with no known extension (`python3`).
    #[serde(default)]
    pub shebangs: Vec<String>,
    /// Extensions this language shares with another (`.h`, `.m`, `.pl`, `.v`, `.inc`): a file
    /// with one is this language when `content_hints` say so, else its extension's owner's
    /// (or, if no language owns it, not counted).
    #[serde(default)]
    pub shared_extns: Vec<String>,
    /// What marks a file with a shared extension as this language: a line in its first 8 KiB
    /// that starts, after its indentation, with one of these (`@interface`, `:- module`).
    #[serde(default)]
    pub content_hints: Vec<String>,
    /// Elements whose content is another language (HTML's `<script>` and `<style>`, Vue's
    /// `<template>`): counted with that language's rules and reported as its child.
    #[serde(default)]
    pub embedded: Vec<RawEmbed>,
    /// Fences of fenced code blocks (Markdown's "```" and "~~~", each its least length): the
    /// block's info string (```` ```rust ````) names the language its lines are counted in.
    #[serde(default)]
    pub fences: Vec<String>,
}

/// An element whose content is counted in another language: `<tag …>` to `</tag>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmbed {
    /// The element's name (`script`), matched in any case.
    pub tag: String,
    /// The content's language when no attribute names another (an `output_as` name).
    pub language: String,
    /// Attributes that may name the content's language, the first one present deciding
    /// (`["lang", "type"]`).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Attribute values (any case) and the languages they name (`"ts": "TypeScript"`). A value
    /// not listed makes the content opaque: its lines are the parent's code.
    #[serde(default)]
    pub languages: BTreeMap<String, String>,
    /// Whether the element nests inside itself (Vue's `<template v-if>`), so that only the
    /// matching end tag ends it.
    #[serde(default)]
    pub nested: bool,
}

/// A string literal's delimiters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawString {
    /// Opening delimiter.
    pub start: String,
    /// Closing delimiter.
    pub end: String,
    /// Escape character (usually `\`): the byte after it never closes the string.
    #[serde(default)]
    pub escape: Option<String>,
    /// Whether the string may span lines; a single-line string is closed by the end of its line,
    /// which keeps a stray quote (`'` in a `#error` line) from swallowing the rest of the file.
    #[serde(default = "yes")]
    pub multiline: bool,
    /// Interpolation inside the string as `[open, close]` (`["${", "}"]`): what lies between is
    /// code, with strings and comments of its own. `close` is one byte; the last byte of `open`
    /// nests inside (`{`, `(`). A one-byte `open` doubled (`{{`) is a literal brace.
    #[serde(default)]
    pub interpolation: Option<(String, String)>,
    /// The opener is a digit separator, not a string, inside a number (C++14 `0xFFFF'FFFF`).
    #[serde(default)]
    pub not_in_number: bool,
}

fn yes() -> bool {
    true
}

impl RawSyntax {
    /// Checks what serde cannot: no empty marker, `start` and `end` given together, a one-byte
    /// escape. Returns a message naming the field.
    pub fn validate(&self, key: &str) -> Result<(), String> {
        let bad = |field: &str, why: &str| Err(format!("entry \"{key}\": `{field}` {why}"));
        if key.is_empty() {
            return Err("an entry has an empty extension as its key".to_string());
        }
        if let Some(bare) = key.strip_prefix('.') {
            return Err(format!(
                "entry \"{key}\": extensions are written without the dot: \"{bare}\""
            ));
        }
        if let Some(ext) = self.other_extns.iter().find(|e| e.starts_with('.')) {
            return bad(
                "other_extns",
                &format!("has \"{ext}\": extensions are written without the dot"),
            );
        }
        if self.output_as.trim().is_empty() {
            return bad("output_as", "is empty");
        }
        match (&self.start, &self.end) {
            (Some(_), None) => return bad("start", "is given without `end`"),
            (None, Some(_)) => return bad("end", "is given without `start`"),
            _ => {}
        }
        let singles = [("start", &self.start), ("end", &self.end)];
        for (field, value) in singles {
            if value.as_deref() == Some("") {
                return bad(field, "is an empty marker");
            }
        }
        if let Some(esc) = &self.code_escape {
            if esc.len() != 1 {
                return bad("code_escape", "is not exactly one byte");
            }
        }
        if let Some(name) = self.filenames.iter().find(|n| {
            let plain = n.strip_suffix(".*").unwrap_or(n);
            plain.is_empty() || plain.contains('*')
        }) {
            return bad(
                "filenames",
                &format!(
                    "has \"{name}\": a file name is matched exactly; the one pattern is a \
                     name prefix ending in `.*` (`Makefile.*`)"
                ),
            );
        }
        if self.shared_extns.is_empty() != self.content_hints.is_empty() {
            return bad(
                "shared_extns",
                "and `content_hints` go together: hints choose among the languages sharing an \
                 extension, and only then",
            );
        }
        if let Some(ext) = self.shared_extns.iter().find(|e| e.starts_with('.')) {
            return bad(
                "shared_extns",
                &format!("has \"{ext}\": extensions are written without the dot"),
            );
        }
        let lists: [(&str, Vec<&String>); 12] = [
            ("code_tokens", self.code_tokens.iter().collect()),
            ("block_scalars", self.block_scalars.iter().collect()),
            ("quote_like", self.quote_like.iter().collect()),
            ("substitutions", self.substitutions.iter().collect()),
            ("regex_after", self.regex_after.iter().collect()),
            ("heredocs", self.heredocs.iter().collect()),
            ("other_extns", self.other_extns.iter().collect()),
            ("whole_line", self.whole_line.iter().collect()),
            ("filenames", self.filenames.iter().collect()),
            ("shebangs", self.shebangs.iter().collect()),
            ("shared_extns", self.shared_extns.iter().collect()),
            ("content_hints", self.content_hints.iter().collect()),
        ];
        for (field, values) in lists {
            if values.iter().any(|v| v.is_empty()) {
                return bad(field, "contains an empty string");
            }
        }
        let pairs = [
            ("block", &self.block),
            ("raw_strings", &self.raw_strings),
            ("doc_strings", &self.doc_strings),
            ("line_blocks", &self.line_blocks),
        ];
        for (field, values) in pairs {
            if values.iter().any(|(s, e)| s.is_empty() || e.is_empty()) {
                return bad(field, "contains an empty marker");
            }
        }
        let quads = &self.delimited_raw_strings;
        if quads
            .iter()
            .any(|(p, o, c, s)| [p, o, c, s].iter().any(|m| m.is_empty()))
        {
            return bad("delimited_raw_strings", "contains an empty marker");
        }
        for s in &self.strings {
            if s.start.is_empty() || s.end.is_empty() {
                return bad("strings", "contains an empty marker");
            }
            if let Some(esc) = &s.escape {
                if esc.len() != 1 {
                    return bad("strings", "has an escape that is not exactly one byte");
                }
            }
            if let Some((open, close)) = &s.interpolation {
                if open.is_empty() || close.len() != 1 || open.ends_with(close.as_str()) {
                    return bad(
                        "strings",
                        "has an interpolation whose `open` is empty, whose `close` is not \
                         exactly one byte, or whose `open` ends with `close`",
                    );
                }
            }
        }
        let mut markers: Vec<&String> = self
            .whole_line
            .iter()
            .chain(&self.heredocs)
            .chain(&self.code_tokens)
            .chain(&self.block_scalars)
            .chain(&self.quote_like)
            .chain(&self.substitutions)
            .chain(&self.regex_after)
            .collect();
        markers.extend(self.start.iter().chain(self.end.iter()));
        for (s, e) in self
            .block
            .iter()
            .chain(&self.raw_strings)
            .chain(&self.doc_strings)
        {
            markers.extend([s, e]);
        }
        for (s, e) in &self.line_blocks {
            markers.extend([s, e]);
        }
        for (p, o, c, s) in quads {
            markers.extend([p, o, c, s]);
        }
        for s in &self.strings {
            markers.extend([&s.start, &s.end]);
            if let Some((o, c)) = &s.interpolation {
                markers.extend([o, c]);
            }
        }
        if markers.iter().any(|m| m.contains(['\n', '\r'])) {
            return bad("markers", "must not contain a line break");
        }
        let quote_like = self.quote_like.iter().chain(&self.substitutions);
        if let Some(q) = quote_like
            .clone()
            .find(|q| q.ends_with(['{', '(', '[', '<']))
        {
            return bad(
                "quote_like",
                &format!("has \"{q}\": write the operator without its delimiter"),
            );
        }
        if let Some(q) = quote_like.clone().find(|q| q.contains(char::is_whitespace)) {
            return bad(
                "quote_like",
                &format!("has \"{q}\", which holds whitespace"),
            );
        }
        for s in self.line_blocks.iter().map(|(s, _)| s) {
            if s.starts_with(char::is_whitespace) {
                return bad("line_blocks", "has a marker starting with whitespace");
            }
        }
        for f in &self.fences {
            let first = f.bytes().next();
            if !first.is_some_and(|c| c.is_ascii_punctuation() && f.bytes().all(|b| b == c)) {
                return bad(
                    "fences",
                    &format!(
                        "has \"{f}\": a fence is one punctuation character repeated (\"```\")"
                    ),
                );
            }
        }
        for e in &self.embedded {
            let name_ok = |n: &str| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b))
            };
            if !name_ok(&e.tag) {
                return bad(
                    "embedded",
                    &format!(
                        "has the tag \"{}\": write an element name without `<` or `>` \
                         (\"script\")",
                        e.tag
                    ),
                );
            }
            if e.language.trim().is_empty() || e.languages.values().any(|l| l.trim().is_empty()) {
                return bad("embedded", "names an empty language");
            }
            if !e.attributes.iter().all(|a| name_ok(a)) || e.languages.keys().any(String::is_empty)
            {
                return bad(
                    "embedded",
                    "has an empty or malformed attribute name or value",
                );
            }
        }
        Ok(())
    }

    /// All block comments, the legacy `start`/`end` pair first.
    pub fn all_blocks(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let (Some(s), Some(e)) = (&self.start, &self.end) {
            out.push((s.clone(), e.clone()));
        }
        out.extend(self.block.iter().cloned());
        out
    }
}
