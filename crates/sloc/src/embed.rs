//! Embedded languages: the elements of a file whose content is another language (HTML's
//! `<script>` and `<style>`, Vue's `<template>`), counted with that language's rules and
//! reported as the file language's children, as tokei does.
//!
//! Lines, not bytes, are attributed: a line between an element's start tag and its end tag is
//! the child's (blank, code or comment by the child's rules); the lines holding the tags are the
//! parent's code, unless child content precedes the end tag on its line (`f()</script>`), which
//! makes that line the child's. Where an element starts and ends follows HTML, whatever the
//! content holds: the first `</script` ends a script, even inside a JavaScript string (the HTML
//! standard's "script data" state; Vue's and Svelte's compilers parse the same way). A start
//! tag inside one of the parent's comments (`<!-- <script> -->`) starts nothing. Children are
//! one level deep: a `<script>` inside a Vue `<template>` is the template's HTML.

use std::io::{self, Read};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::{memchr, memrchr};

use crate::count::{
    for_each_lines, is_blank, Counts, Each, LineKind, Lines, Piece, Progress, Run, Scanner, Tally,
    BOM,
};
use crate::heredoc::{Ahead, Reread, Slice};
use crate::language::{Language, Languages};
use crate::syntax_file::RawEmbed;

/// A language's embedded elements, compiled: what starts each, what ends it, its languages.
#[derive(Debug)]
pub struct EmbedSet {
    rules: Vec<Rule>,
    /// Fenced code blocks' fence characters and their least length (Markdown's ``` and ~~~).
    fences: Vec<(u8, usize)>,
    /// Finds `<tag` for every rule, in any case; the pattern number is the rule's.
    opens: AhoCorasick,
}

#[derive(Debug)]
struct Rule {
    /// The length of `<tag`.
    open_len: usize,
    /// Finds `</tag` (pattern 0) and, for a nesting element, `<tag` (pattern 1), in any case.
    ends: AhoCorasick,
    nested: bool,
    /// The content's language when no attribute names one.
    default: usize,
    /// The attributes that may name it, lowercase, in order.
    attributes: Vec<Box<[u8]>>,
    /// Attribute values, lowercase, and the languages they name.
    values: Vec<(Box<[u8]>, usize)>,
}

/// A start tag's attributes are looked at up to this many bytes: enough for any real one.
const ATTRIBUTES_MAX: usize = 4096;

impl EmbedSet {
    /// Compiles `raw`, finding each language by name with `find`; the error names what is
    /// missing.
    pub fn compile(
        raw: &[RawEmbed],
        fences: &[String],
        find: impl Fn(&str) -> Option<usize>,
    ) -> Result<EmbedSet, String> {
        let lang = |name: &str| {
            find(name).ok_or_else(|| {
                format!("field `embedded`: no language is named \"{name}\" (see --languages)")
            })
        };
        let searcher = |patterns: &[Vec<u8>]| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build(patterns)
                .map_err(|e| e.to_string())
        };
        let mut rules = Vec::new();
        let mut opens = Vec::new();
        for e in raw {
            let open = format!("<{}", e.tag).into_bytes();
            let mut ends = vec![format!("</{}", e.tag).into_bytes()];
            if e.nested {
                ends.push(open.clone());
            }
            let mut values = Vec::new();
            for (v, l) in &e.languages {
                values.push((v.to_ascii_lowercase().into_bytes().into(), lang(l)?));
            }
            rules.push(Rule {
                open_len: open.len(),
                ends: searcher(&ends)?,
                nested: e.nested,
                default: lang(&e.language)?,
                attributes: e
                    .attributes
                    .iter()
                    .map(|a| a.to_ascii_lowercase().into_bytes().into())
                    .collect(),
                values,
            });
            opens.push(open);
        }
        Ok(EmbedSet {
            rules,
            fences: fences.iter().map(|f| (f.as_bytes()[0], f.len())).collect(),
            opens: searcher(&opens)?,
        })
    }

    /// The child language a start tag's attributes (the bytes between `<tag` and `>`) name:
    /// `None` for a value no rule lists (opaque content).
    fn language(&self, rule: usize, attrs: &[u8]) -> Option<usize> {
        let rule = &self.rules[rule];
        for wanted in &rule.attributes {
            if let Some(value) = attribute(attrs, wanted) {
                let value = value.trim_ascii();
                return rule
                    .values
                    .iter()
                    .find(|(v, _)| v.eq_ignore_ascii_case(value))
                    .map(|&(_, l)| l);
            }
        }
        Some(rule.default)
    }
}

/// The value of attribute `name` (lowercase) in a start tag's attribute text, if it has one.
fn attribute<'a>(attrs: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    let n = attrs.len();
    while i < n {
        while i < n && (attrs[i].is_ascii_whitespace() || attrs[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < n && !attrs[i].is_ascii_whitespace() && !b"=/>".contains(&attrs[i]) {
            i += 1;
        }
        let key = &attrs[start..i];
        while i < n && attrs[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = None;
        if i < n && attrs[i] == b'=' {
            i += 1;
            while i < n && attrs[i].is_ascii_whitespace() {
                i += 1;
            }
            match attrs.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = memchr(q, &attrs[i + 1..]).map_or(n, |k| i + 1 + k);
                    value = Some(&attrs[i + 1..end]);
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < n && !attrs[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = Some(&attrs[start..i]);
                }
            }
        }
        if key.eq_ignore_ascii_case(name) && value.is_some() {
            return value;
        }
        if key.is_empty() && value.is_none() {
            i += 1; // A stray `=` or `>`: step over it.
        }
    }
    None
}

/// A fenced code block's opening line (CommonMark: up to three spaces, then three or more of
/// the same fence character; after backticks, an info string without one): the fence, its
/// length and the info string.
fn fence_opener<'a>(line: &'a [u8], fences: &[(u8, usize)]) -> Option<(u8, usize, &'a [u8])> {
    let indent = line.iter().take_while(|&&b| b == b' ').count();
    if indent > 3 {
        return None;
    }
    let text = &line[indent..];
    let &(fence, min) = fences.iter().find(|(f, _)| text.first() == Some(f))?;
    let len = text.iter().take_while(|&&b| b == fence).count();
    let info = &text[len..];
    (len >= min && !(fence == b'`' && info.contains(&b'`'))).then_some((fence, len, info))
}

/// Where the line that closes a block fenced by `len` times `fence` starts in `text`: up to
/// three spaces, at least as many of the fence, then only whitespace.
fn next_fence_end(text: &[u8], fence: u8, len: usize) -> Option<usize> {
    let mut start = 0;
    while start < text.len() {
        let end = memchr(b'\n', &text[start..]).map_or(text.len(), |n| start + n);
        let line = &text[start..end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if indent <= 3 {
            let n = line[indent..].iter().take_while(|&&b| b == fence).count();
            if n >= len && is_blank(&line[indent + n..]) {
                return Some(start);
            }
        }
        start = end + 1;
    }
    None
}

/// Whether `b`, right after `<tag` or `</tag`, ends the element name (`<scripts>` is another
/// element); the end of the text ends it too.
fn ends_name(b: Option<&u8>) -> bool {
    b.is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
}

/// Where the scanner is between lines.
#[derive(Debug)]
enum Mode {
    /// In the parent language.
    Parent,
    /// Inside a start tag of `rule` whose `>` is on a later line.
    Tag {
        rule: usize,
        /// The quote an attribute value is open in.
        quote: Option<u8>,
        attrs: Vec<u8>,
    },
    /// Inside a fenced code block opened by `len` times `fence`; its content in `lang`.
    Fence {
        fence: u8,
        len: usize,
        lang: Option<usize>,
    },
    /// Inside an element of `rule`, `depth` deep; its content in `lang`, `None` when opaque.
    Child {
        rule: usize,
        lang: Option<usize>,
        depth: u32,
    },
}

/// The lines of one file with embedded elements, by owner.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileCounts {
    /// All its lines, children's included.
    pub counts: Counts,
    /// The lines of each child language (by index), in order of first appearance.
    pub children: Vec<(usize, Counts)>,
}

/// Counts a file whose language has embedded elements: the state of both the parent's and
/// the current child's scanner carries from one part of the text to the next.
pub(crate) struct Embedded<'l> {
    langs: &'l Languages,
    set: &'l EmbedSet,
    parent: Scanner<'l>,
    child: Option<Scanner<'l>>,
    mode: Mode,
    /// Where the part being scanned starts in the text.
    offset: u64,
    /// What the pieces of a long line so far found.
    long: Progress,
    all: Tally,
    children: Vec<(usize, Tally)>,
}

impl<'l> Embedded<'l> {
    pub(crate) fn new(langs: &'l Languages, lang: &'l Language, set: &'l EmbedSet) -> Self {
        Embedded {
            langs,
            set,
            parent: Scanner::new(lang),
            child: None,
            mode: Mode::Parent,
            offset: 0,
            long: Progress::default(),
            all: Tally::default(),
            children: Vec::new(),
        }
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> FileCounts {
        FileCounts {
            counts: self.all.counts(),
            children: self
                .children
                .iter()
                .map(|(l, t)| (*l, t.counts()))
                .collect(),
        }
    }

    fn child_tally(&mut self, lang: usize) -> &mut Tally {
        let k = match self.children.iter().position(|(l, _)| *l == lang) {
            Some(k) => k,
            None => {
                self.children.push((lang, Tally::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[k].1
    }

    /// Scans `bytes`, the next part of the text: whole lines, but for the text's last part.
    pub(crate) fn scan(&mut self, bytes: &[u8], ahead: &mut dyn Ahead) {
        let mut pos = 0;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            // The next line that needs a look of its own; the lines before it are one run.
            let special = match self.mode {
                Mode::Parent => {
                    let tag = self.next_open(rest);
                    match self
                        .next_fence(rest)
                        .filter(|&f| tag.is_none_or(|t| f <= t))
                    {
                        // A fence line: the lines before it are the parent's, and so is it,
                        // unless the parent's state (an open `<!--`) says it is no fence.
                        Some(f) => {
                            if f > 0 {
                                self.run(&rest[..f], pos as u64, ahead);
                            }
                            let end = memchr(b'\n', &rest[f..]).map_or(rest.len(), |k| f + k);
                            if self.parent.is_normal() {
                                self.mode = self.open_fence(&rest[f..end]);
                                self.all.add(LineKind::Code);
                            } else {
                                let line = &rest[f..(end + 1).min(rest.len())];
                                self.run(line, (pos + f) as u64, ahead);
                            }
                            pos += end + 1;
                            continue;
                        }
                        None => tag,
                    }
                }
                Mode::Fence { fence, len, .. } => match next_fence_end(rest, fence, len) {
                    Some(f) => {
                        if f > 0 {
                            self.run(&rest[..f], pos as u64, ahead);
                        }
                        self.all.add(LineKind::Code);
                        self.child = None;
                        self.mode = Mode::Parent;
                        pos += memchr(b'\n', &rest[f..]).map_or(rest.len(), |k| f + k) + 1;
                        continue;
                    }
                    None => None,
                },
                Mode::Tag { .. } => Some(0),
                Mode::Child { rule, depth, .. } => {
                    let found = self.next_end(rule, depth, rest);
                    // The lines before the end tag's may hold start tags of the element's own
                    // (`<template v-if>`) and their ends: its depth after them.
                    let before = match found {
                        Ok(at) => &rest[..memrchr(b'\n', &rest[..at]).map_or(0, |k| k + 1)],
                        Err(_) => rest,
                    };
                    if self.set.rules[rule].nested {
                        if let Err(deeper) = self.next_end(rule, depth, before) {
                            if let Mode::Child { depth, .. } = &mut self.mode {
                                *depth = deeper;
                            }
                        }
                    }
                    found.ok()
                }
            };
            let run_end = match special {
                Some(at) => memrchr(b'\n', &rest[..at]).map_or(0, |k| k + 1),
                None => rest.len(),
            };
            if run_end > 0 {
                self.run(&rest[..run_end], pos as u64, ahead);
            }
            if special.is_none() {
                break;
            }
            let line_end = memchr(b'\n', &rest[run_end..]).map_or(rest.len(), |k| run_end + k);
            self.line(&rest[run_end..line_end], ahead);
            pos += line_end + 1;
        }
        self.offset += bytes.len() as u64;
    }

    /// Counts a piece of a line longer than [`crate::count::long_line`]: such a line is counted
    /// whole by whoever owns the line it starts on (the tags on it are not followed), so that
    /// memory stays bounded.
    pub(crate) fn long_piece(&mut self, piece: &Piece, ahead: &mut dyn Ahead) {
        let lang = match self.mode {
            Mode::Child { lang, .. } | Mode::Fence { lang, .. } => lang,
            Mode::Parent | Mode::Tag { .. } => None,
        };
        let scanner = match (lang, self.child.as_mut()) {
            (Some(_), Some(child)) => child,
            _ => &mut self.parent,
        };
        let kind = scanner.scan_piece(piece, ahead, &mut self.long);
        if piece.ends_line {
            // `scan_piece` has started `self.long` afresh for the next long line.
            self.offset += (piece.offset + piece.to) as u64 + 1;
        }
        if let Some(kind) = kind {
            // An opaque element's line is code, as its short lines are.
            let kind = match self.mode {
                Mode::Child { lang: None, .. } | Mode::Fence { lang: None, .. } => LineKind::Code,
                _ => kind,
            };
            self.all.add(kind);
            if let Some(lang) = lang {
                self.child_tally(lang).add(kind);
            }
        }
    }

    /// Where the next line that opens a fenced code block starts in `text`.
    fn next_fence(&self, text: &[u8]) -> Option<usize> {
        let (a, b) = match self.set.fences.as_slice() {
            [] => return None,
            [(a, _)] => (*a, *a),
            [(a, _), (b, _), ..] => (*a, *b),
        };
        let mut from = 0;
        while let Some(k) = memchr::memchr2(a, b, &text[from..]) {
            let at = from + k;
            let start = memrchr(b'\n', &text[..at]).map_or(0, |n| n + 1);
            let end = memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
            if fence_opener(&text[start..end], &self.set.fences).is_some() {
                return Some(start);
            }
            from = end.max(at + 1);
            if from >= text.len() {
                break;
            }
        }
        None
    }

    /// The mode a fence line opens: its info string's first word names the language.
    fn open_fence(&mut self, line: &[u8]) -> Mode {
        let Some((fence, len, info)) = fence_opener(line, &self.set.fences) else {
            return Mode::Parent;
        };
        let word = info
            .split(|b| b.is_ascii_whitespace() || matches!(b, b',' | b'{' | b'}'))
            .find(|w| !w.is_empty())
            .and_then(|w| std::str::from_utf8(w).ok());
        let lang = word.and_then(|w| self.langs.for_info_string(w));
        self.child = lang.map(|l| Scanner::new(self.langs.get(l)));
        Mode::Fence { fence, len, lang }
    }

    /// Where the next `<tag` of any rule starts in `text` (a candidate: a comment may hide it).
    fn next_open(&self, text: &[u8]) -> Option<usize> {
        self.set
            .opens
            .find_iter(text)
            .find(|m| ends_name(text.get(m.end())))
            .map(|m| m.start())
    }

    /// Where the end tag that closes an element of `rule` opened `depth` deep starts in
    /// `text`, counting nested start and end tags; else the depth at the end of `text`.
    fn next_end(&self, rule: usize, mut depth: u32, text: &[u8]) -> Result<usize, u32> {
        let rule = &self.set.rules[rule];
        for m in rule.ends.find_iter(text) {
            if !ends_name(text.get(m.end())) {
                continue;
            }
            if m.pattern().as_usize() == 1 {
                depth += 1;
                continue;
            }
            depth -= 1;
            if depth == 0 || !rule.nested {
                return Ok(m.start());
            }
        }
        Err(depth)
    }

    /// Counts `lines`, whole lines that hold no tag, for whoever owns them now.
    fn run(&mut self, lines: &[u8], at: u64, ahead: &mut dyn Ahead) {
        let base = self.offset + at;
        match self.mode {
            Mode::Child {
                lang: Some(lang), ..
            }
            | Mode::Fence {
                lang: Some(lang), ..
            } => {
                let mut tally = Tally::default();
                if let Some(child) = self.child.as_mut() {
                    child.base = base;
                    child.scan(lines, ahead, &mut tally);
                    child.advance(lines);
                }
                self.all.merge(&tally);
                self.child_tally(lang).merge(&tally);
            }
            Mode::Child { lang: None, .. } | Mode::Fence { lang: None, .. } | Mode::Tag { .. } => {
                for line in lines.split_inclusive(|&b| b == b'\n') {
                    self.all.add(plain(line));
                }
            }
            Mode::Parent => {
                self.parent.base = base;
                self.parent.scan(lines, ahead, &mut self.all);
                self.parent.advance(lines);
            }
        }
    }

    /// Counts one line that holds a tag (or may: a start tag in a comment is none), switching
    /// modes at each tag on it.
    fn line(&mut self, line: &[u8], ahead: &mut dyn Ahead) {
        // Who the line is: the first owner found on it, the parent's code unless child content
        // comes first (`f()</script>`).
        let mut owner: Option<(Option<usize>, LineKind)> = None;
        // The parent's kind of the line's parts, for a line with no tag after all.
        let mut parent_kind = LineKind::Blank;
        let mut at = 0;
        loop {
            let rest = &line[at..];
            match std::mem::replace(&mut self.mode, Mode::Parent) {
                Mode::Parent => {
                    let Some(t) = self.next_open(rest) else {
                        parent_kind = stronger(parent_kind, self.feed_parent(rest, ahead));
                        break;
                    };
                    parent_kind = stronger(parent_kind, self.feed_parent(&rest[..t], ahead));
                    if !self.parent.is_normal() {
                        // Inside a comment or string: not a tag. Step over the `<`.
                        let kind = self.feed_parent(&rest[t..t + 1], ahead);
                        parent_kind = stronger(parent_kind, kind);
                        at += t + 1;
                        continue;
                    }
                    let rule = self
                        .set
                        .opens
                        .find(&rest[t..])
                        .map_or(0, |m| m.pattern().as_usize());
                    owner.get_or_insert((None, LineKind::Code));
                    self.mode = Mode::Tag {
                        rule,
                        quote: None,
                        attrs: Vec::new(),
                    };
                    at += t + self.set.rules[rule].open_len;
                }
                Mode::Tag {
                    rule,
                    mut quote,
                    mut attrs,
                } => {
                    owner.get_or_insert((None, LineKind::Code));
                    let mut gt = None;
                    for (k, &b) in rest.iter().enumerate() {
                        match quote {
                            Some(q) if b == q => quote = None,
                            Some(_) => {}
                            None if b == b'"' || b == b'\'' => quote = Some(b),
                            None if b == b'>' => {
                                gt = Some(k);
                                break;
                            }
                            None => {}
                        }
                    }
                    let Some(gt) = gt else {
                        let room = ATTRIBUTES_MAX.saturating_sub(attrs.len());
                        attrs.extend_from_slice(&rest[..rest.len().min(room)]);
                        attrs.push(b' ');
                        self.mode = Mode::Tag { rule, quote, attrs };
                        break;
                    };
                    let room = ATTRIBUTES_MAX.saturating_sub(attrs.len());
                    attrs.extend_from_slice(&rest[..gt.min(room)]);
                    at += gt + 1;
                    if attrs.trim_ascii_end().ends_with(b"/") {
                        continue; // `<script src="a.js" />`: nothing inside.
                    }
                    let lang = self.set.language(rule, &attrs);
                    self.child = lang.map(|l| Scanner::new(self.langs.get(l)));
                    self.mode = Mode::Child {
                        rule,
                        lang,
                        depth: 1,
                    };
                }
                fence @ Mode::Fence { .. } => {
                    // Fence lines are handled in `scan`; a fence never reaches here.
                    self.mode = fence;
                    break;
                }
                Mode::Child { rule, lang, depth } => {
                    let e = match self.next_end(rule, depth, rest) {
                        Ok(e) => e,
                        Err(depth) => {
                            // Content after the start tag on its line: it sets the child's
                            // state.
                            if let Some(child) = self.child.as_mut() {
                                child.scan(rest, ahead, &mut Each(|_| {}));
                            }
                            self.mode = Mode::Child { rule, lang, depth };
                            break;
                        }
                    };
                    let content = &rest[..e];
                    if at == 0 && !is_blank(content) {
                        let kind = match self.child.as_mut() {
                            Some(child) => {
                                let mut kind = LineKind::Code;
                                child.scan(content, ahead, &mut Each(|k| kind = k));
                                kind
                            }
                            None => LineKind::Code,
                        };
                        owner.get_or_insert((lang, kind));
                    }
                    owner.get_or_insert((None, LineKind::Code));
                    self.child = None;
                    // Past the end tag's `>` (on this line, as it nearly always is).
                    let gt = memchr(b'>', &rest[e..]).map_or(rest.len(), |k| e + k + 1);
                    at += gt;
                }
            }
        }
        let (who, kind) = owner.unwrap_or((None, parent_kind));
        self.all.add(kind);
        if let Some(lang) = who {
            self.child_tally(lang).add(kind);
        }
    }

    /// Feeds part of a line to the parent's scanner, for the state it leaves; its kind.
    fn feed_parent(&mut self, part: &[u8], ahead: &mut dyn Ahead) -> LineKind {
        let mut kind = LineKind::Blank;
        if !part.is_empty() {
            self.parent.scan(part, ahead, &mut Each(|k| kind = k));
        }
        kind
    }
}

/// The kind of a line made of two parts of these kinds: code over comment over blank.
fn stronger(a: LineKind, b: LineKind) -> LineKind {
    match (a, b) {
        (LineKind::Code, _) | (_, LineKind::Code) => LineKind::Code,
        (LineKind::Comment, _) | (_, LineKind::Comment) => LineKind::Comment,
        _ => LineKind::Blank,
    }
}

/// A line of opaque content (or of a start tag): blank or code.
fn plain(line: &[u8]) -> LineKind {
    if is_blank(line) {
        LineKind::Blank
    } else {
        LineKind::Code
    }
}

/// Counts `bytes` (a whole file) in language `lang` of `langs`, its embedded elements (if it
/// has any) as children.
pub fn count_any(langs: &Languages, lang: usize, bytes: &[u8]) -> FileCounts {
    let Some(set) = langs.embeds(lang) else {
        return FileCounts {
            counts: crate::count::count(langs.get(lang), bytes),
            children: Vec::new(),
        };
    };
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut e = Embedded::new(langs, langs.get(lang), set);
    e.scan(bytes, &mut Slice(bytes));
    e.counts()
}

/// [`count_any`] for a text read from `rest` in chunks, with the memory
/// [`crate::count::count_stream`] takes (whose arguments these are).
pub fn count_any_stream<S: Read>(
    langs: &Languages,
    lang: usize,
    buf: &mut Vec<u8>,
    head: usize,
    rest: impl Read,
    reopen: impl FnMut() -> io::Result<S>,
    chunk: usize,
) -> io::Result<FileCounts> {
    let Some(set) = langs.embeds(lang) else {
        let counts = crate::count::count_stream(langs.get(lang), buf, head, rest, reopen, chunk)?;
        return Ok(FileCounts {
            counts,
            children: Vec::new(),
        });
    };
    let mut e = Embedded::new(langs, langs.get(lang), set);
    let mut ahead = Reread::new(reopen, chunk);
    for_each_lines(rest, buf, head, chunk, |run| match run {
        Run::Lines(lines, _) => e.scan(lines, &mut ahead),
        Run::Long(piece) => e.long_piece(&piece, &mut ahead),
    })?;
    match ahead.into_error() {
        Some(err) => Err(err),
        None => Ok(e.counts()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_quoted_unquoted_and_in_any_case() {
        let a = br#" setup LANG="ts" type=module data-x='a b'"#;
        assert_eq!(attribute(a, b"lang"), Some(&b"ts"[..]));
        assert_eq!(attribute(a, b"type"), Some(&b"module"[..]));
        assert_eq!(attribute(a, b"data-x"), Some(&b"a b"[..]));
        assert_eq!(attribute(a, b"setup"), None);
        assert_eq!(
            attribute(b" generic=\"T extends X<Y>\" lang='tsx'", b"lang"),
            Some(&b"tsx"[..])
        );
        assert_eq!(attribute(b"", b"lang"), None);
        assert_eq!(attribute(b" = = lang", b"lang"), None);
    }

    #[test]
    fn fences_follow_commonmark() {
        let f = [(b'`', 3), (b'~', 3)];
        assert_eq!(fence_opener(b"```rust", &f), Some((b'`', 3, &b"rust"[..])));
        assert_eq!(
            fence_opener(b"   ~~~~ py x", &f),
            Some((b'~', 4, &b" py x"[..]))
        );
        assert_eq!(
            fence_opener(b"    ```", &f),
            None,
            "indented code, not a fence"
        );
        assert_eq!(fence_opener(b"``", &f), None);
        assert_eq!(fence_opener(b"```a`b", &f), None, "inline code");
        assert_eq!(fence_opener(b"~~~a`b", &f).map(|(c, ..)| c), Some(b'~'));
        let text = b"x\n``\n ```` \n```\n";
        assert_eq!(next_fence_end(text, b'`', 4), Some(5));
        assert_eq!(next_fence_end(text, b'`', 5), None);
        assert_eq!(next_fence_end(b"~~~\n", b'`', 3), None);
    }

    #[test]
    fn element_names_end_at_whitespace_a_bracket_or_a_slash() {
        assert!(ends_name(Some(&b'>')) && ends_name(Some(&b' ')) && ends_name(None));
        assert!(!ends_name(Some(&b's')) && !ends_name(Some(&b'-')));
    }
}
