//! What the differential tests share: sloc's kinds of a file's lines, the kinds a real parser's
//! comment ranges give them, a deterministic sample of a corpus, and the per-line comparison
//! with its list of reviewed differences.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use sloc::{classify_lines, Languages, LineKind};

/// sloc's kinds of `bytes`, counted as language `lang`: one character per line, `B` blank, `C`
/// code, `#` comment.
pub fn sloc_kinds(langs: &Languages, lang: usize, bytes: &[u8]) -> String {
    let mut out = String::new();
    classify_lines(langs.get(lang), bytes, |k| {
        out.push(match k {
            LineKind::Blank => 'B',
            LineKind::Code => 'C',
            LineKind::Comment => '#',
        })
    });
    out
}

/// The language sloc counts `path` (holding `bytes`) as, content check and `#!` line included;
/// it must be
/// one of `names`.
pub fn detect_one_of(langs: &Languages, path: &Path, bytes: &[u8], names: &[&str]) -> usize {
    let lang = match langs.for_path(path) {
        Some(i) => langs.for_content(i, path, bytes),
        None => langs.for_shebang(bytes.split(|&b| b == b'\n').next().unwrap_or_default()),
    };
    let Some(lang) = lang else {
        panic!("{}: sloc knows no language for it", path.display());
    };
    assert!(
        names.contains(&langs.name(lang)),
        "{}: sloc counts it as {}, not as one of {names:?}",
        path.display(),
        langs.name(lang)
    );
    lang
}

/// Whitespace inside a line, as sloc's rules take it.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

/// The UTF-8 byte-order mark, which sloc does not count as text and the oracles do not see.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The lines of `bytes` (split at `\n`, a final newline ending the last line, not starting
/// another) with the offset each starts at.
pub fn lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in bytes.split(|&b| b == b'\n') {
        out.push((at, line));
        at += line.len() + 1;
    }
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        out.pop();
    }
    out
}

/// Each line's kind by the rules sloc states (README, "Counting rules"), given the byte
/// ranges of every comment a parser found (sorted by start, not overlapping): blank if only
/// whitespace, comment if every other byte lies inside a comment, else code.
pub fn kinds_from_comments(bytes: &[u8], comments: &[Range<usize>]) -> String {
    let mut out = String::new();
    let mut c = 0;
    for (start, line) in lines(bytes) {
        let mut kind = 'B';
        for (k, &b) in line.iter().enumerate() {
            if is_ws(b) {
                continue;
            }
            let at = start + k;
            while c < comments.len() && comments[c].end <= at {
                c += 1;
            }
            if c < comments.len() && comments[c].contains(&at) {
                kind = '#';
            } else {
                kind = 'C';
                break;
            }
        }
        out.push(kind);
    }
    out
}

/// Every file under `root` whose name ends with one of `suffixes`, sorted, symbolic links not
/// followed.
pub fn files_under(root: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let p = e.path();
            if t.is_dir() {
                dirs.push(p);
            } else if t.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| suffixes.iter().any(|s| n.ends_with(s)))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A deterministic sample of `paths` (sorted first): every k-th file, k chosen so that about
/// `max_files` are taken, files over `max_file` bytes left out, stopping at `max_bytes` in all.
/// `SLOC_ORACLE_SCALE=N` multiplies the file and byte caps, to hunt on more of the corpus by
/// hand (`SLOC_ORACLE_SCALE=1000`: all of it, files up to 512 MiB).
pub fn sample(
    mut paths: Vec<PathBuf>,
    max_files: usize,
    max_file: u64,
    max_bytes: u64,
) -> Vec<PathBuf> {
    let scale = scale();
    let wide = u64::try_from(scale).unwrap_or(u64::MAX);
    let (max_files, max_file, max_bytes) = (
        max_files.saturating_mul(scale),
        max_file.saturating_mul(wide),
        max_bytes.saturating_mul(wide),
    );
    paths.sort();
    paths.dedup();
    let sizes: Vec<(PathBuf, u64)> = paths
        .into_iter()
        .filter_map(|p| {
            let len = std::fs::metadata(&p).ok()?.len();
            (len <= max_file).then_some((p, len))
        })
        .collect();
    let step = sizes.len().div_ceil(max_files.max(1)).max(1);
    let mut total = 0;
    let mut out = Vec::new();
    for (p, len) in sizes.into_iter().step_by(step) {
        if total + len > max_bytes {
            break;
        }
        total += len;
        out.push(p);
    }
    out
}

/// `SLOC_ORACLE_SCALE` (1 unless set): how many times the usual sample to take.
pub fn scale() -> usize {
    std::env::var("SLOC_ORACLE_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// One line on which sloc and the oracle disagree, for a reviewed difference to judge.
pub struct Case<'a> {
    /// The file's lines.
    pub lines: &'a [(usize, &'a [u8])],
    /// The line (0-based).
    pub n: usize,
    /// sloc's kind and the oracle's.
    pub sloc: char,
    pub oracle: char,
    /// The oracle's comments and strings in the file (byte ranges).
    pub comments: &'a [Range<usize>],
    pub strings: &'a [Range<usize>],
}

impl Case<'_> {
    /// The text of line `n`.
    pub fn text(&self) -> &[u8] {
        self.lines[self.n].1
    }

    /// The byte range of line `n`.
    pub fn span(&self) -> Range<usize> {
        let (start, line) = self.lines[self.n];
        start..start + line.len()
    }

    /// The oracle's strings that start on a line before line `n` and go on past that line:
    /// each one's range and its text from its start to the end of the line it starts on.
    pub fn strings_before(&self) -> impl Iterator<Item = (&Range<usize>, &[u8])> + '_ {
        let s = self.span();
        self.strings
            .iter()
            .filter(move |r| r.start < s.start)
            .filter_map(|r| {
                let k = self.lines.partition_point(|(start, _)| *start <= r.start) - 1;
                let (start, text) = self.lines[k];
                (r.end > start + text.len()).then(|| (r, &text[r.start - start..]))
            })
    }

    /// The text from where the outermost of the oracle's strings around line `n` starts (on
    /// an earlier line, so the line lies inside it or ends it), if there is one.
    pub fn string_around(&self) -> Option<&[u8]> {
        let s = self.span();
        self.strings_before()
            .filter(|(r, _)| s.start < r.end)
            .min_by_key(|(r, _)| r.start)
            .map(|(_, text)| text)
    }

    /// Whether a line before line `n` is just `marker` (`__END__`).
    pub fn after_line(&self, marker: &[u8]) -> bool {
        self.lines[..self.n]
            .iter()
            .any(|(_, l)| l.trim_ascii_end() == marker)
    }

    /// Whether the line lies inside one of `ranges` from start to end, or starts or ends in one.
    pub fn touches(&self, ranges: &[Range<usize>]) -> bool {
        let s = self.span();
        ranges.iter().any(|r| r.start <= s.end && s.start < r.end)
    }
}

/// A reviewed difference: why, and whether it explains a case.
pub type Difference = (&'static str, fn(&Case) -> bool);

/// One file as an oracle saw it.
pub struct Parsed {
    pub path: PathBuf,
    /// The bytes without a BOM.
    pub bytes: Vec<u8>,
    pub comments: Vec<Range<usize>>,
    pub strings: Vec<Range<usize>>,
}

/// The tally of one differential test.
#[derive(Default)]
pub struct Tally {
    pub files: usize,
    pub lines: usize,
    /// Lines the oracle found to be comments (a check on the oracle: a wrong node name finds
    /// none).
    pub comment_lines: usize,
    /// Files the oracle would not parse, left out.
    pub rejected: usize,
    /// Disagreements each reviewed difference explains.
    pub allowed: BTreeMap<&'static str, usize>,
    /// Unexplained disagreements: path, line (1-based), sloc's kind, the oracle's, the text.
    pub wrong: Vec<(PathBuf, usize, char, char, String)>,
}

impl Tally {
    /// Compares one file line by line, sloc counting it as language `lang`.
    pub fn compare(
        &mut self,
        langs: &Languages,
        lang: usize,
        file: &Parsed,
        differences: &[Difference],
    ) {
        let lines = lines(&file.bytes);
        let want = kinds_from_comments(&file.bytes, &file.comments);
        let got = sloc_kinds(langs, lang, &file.bytes);
        self.files += 1;
        self.lines += want.len();
        self.comment_lines += want.bytes().filter(|&k| k == b'#').count();
        assert_eq!(
            got.len(),
            want.len(),
            "{}: sloc and the oracle see different numbers of lines",
            file.path.display()
        );
        for (n, (g, w)) in got.chars().zip(want.chars()).enumerate() {
            if g == w {
                continue;
            }
            let case = Case {
                lines: &lines,
                n,
                sloc: g,
                oracle: w,
                comments: &file.comments,
                strings: &file.strings,
            };
            match differences.iter().find(|(_, applies)| applies(&case)) {
                Some((why, _)) => *self.allowed.entry(why).or_default() += 1,
                None => self.wrong.push((
                    file.path.clone(),
                    n + 1,
                    g,
                    w,
                    String::from_utf8_lossy(case.text()).into_owned(),
                )),
            }
        }
    }

    /// One line for the test's output: what was compared and how it went.
    pub fn summary(&self, what: &str) -> String {
        format!(
            "{what}: {} files, {} lines ({} comments) compared, {} files the oracle rejected \
             (left out), {} lines disagree; reviewed differences: {:?}",
            self.files,
            self.lines,
            self.comment_lines,
            self.rejected,
            self.wrong.len(),
            self.allowed
        )
    }

    /// Adds another tally (a worker's) to this one.
    pub fn merge(&mut self, other: Tally) {
        self.files += other.files;
        self.lines += other.lines;
        self.comment_lines += other.comment_lines;
        self.rejected += other.rejected;
        for (why, n) in other.allowed {
            *self.allowed.entry(why).or_default() += n;
        }
        self.wrong.extend(other.wrong);
        self.wrong.sort();
    }

    /// The summary, or the summary and (the first hundred of) the disagreements when a line
    /// disagrees unexplained, fewer than `min_files` were compared or the oracle found
    /// comments on under 1% of the lines.
    pub fn verdict(&self, what: &str, min_files: usize) -> Result<String, String> {
        let summary = self.summary(what);
        if self.files < min_files {
            return Err(format!(
                "{summary}\nonly {} files compared, expected at least {min_files}: is the corpus there?",
                self.files
            ));
        }
        if self.comment_lines * 100 < self.lines {
            return Err(format!(
                "{summary}\nunder 1% of the lines are comments: does the oracle find them?"
            ));
        }
        if self.wrong.is_empty() {
            return Ok(summary);
        }
        let mut report = summary;
        for (path, n, g, w, text) in self.wrong.iter().take(100) {
            let text: String = text.chars().take(120).collect();
            let _ = write!(
                report,
                "\n{}:{n}: sloc {g}, oracle {w}: {text}",
                path.display()
            );
        }
        Err(report)
    }

    /// Prints the summary; fails with the report of [`Tally::verdict`].
    pub fn check(&self, what: &str, min_files: usize) {
        match self.verdict(what, min_files) {
            Ok(summary) => eprintln!("{summary}"),
            Err(report) => panic!("{report}"),
        }
    }
}

/// The comparison itself, on text whose kinds are known.
mod self_check {
    use super::*;

    #[test]
    fn comment_ranges_give_sloc_s_line_kinds() {
        let text = b"a\n  \n// c\nx // y\n/* a\n\n b */ z\n  /* q */  \n";
        let comments = [5..9, 12..16, 17..28, 33..40];
        assert_eq!(kinds_from_comments(text, &comments), "CB#C#BC#");
        assert_eq!(kinds_from_comments(b"", &[]), "");
        assert_eq!(kinds_from_comments(b"x", &[]), "C");
        assert_eq!(kinds_from_comments(b"x\n\n", &[]), "CB");
    }

    #[test]
    fn a_case_finds_the_strings_it_lies_in_or_follows() {
        let text = b"a = /x\n# c\n/x\nb = 1\n__END__\n=pod\n";
        let lines = lines(text);
        let strings: Vec<Range<usize>> = std::iter::once(4..13).collect();
        let case = |n| Case {
            lines: &lines,
            n,
            sloc: '#',
            oracle: 'C',
            comments: &[],
            strings: &strings,
        };
        assert_eq!(case(0).strings_before().count(), 0, "it starts on line 1");
        assert_eq!(case(1).string_around(), Some(&b"/x"[..]));
        assert_eq!(
            case(2).string_around(),
            Some(&b"/x"[..]),
            "it ends on line 3"
        );
        assert_eq!(case(3).string_around(), None);
        assert_eq!(case(3).strings_before().count(), 1);
        assert!(case(5).after_line(b"__END__"));
        assert!(!case(4).after_line(b"__END__"));
    }

    #[test]
    fn a_disagreement_fails_unless_a_reviewed_difference_explains_it() {
        let langs = Languages::builtin();
        let rust = langs.for_path(Path::new("x.rs")).expect("Rust is built in");
        // An oracle that takes the second line's comment for code, and finds the third's.
        let file = Parsed {
            path: PathBuf::from("x.rs"),
            bytes: b"let s = \"//\";\n// note\n/* c */\n".to_vec(),
            comments: std::iter::once(22..29).collect(),
            strings: std::iter::once(8..12).collect(),
        };
        let mut tally = Tally::default();
        tally.compare(&langs, rust, &file, &[]);
        assert_eq!(tally.lines, 3);
        assert_eq!(tally.wrong.len(), 1, "line 2 disagrees");
        assert_eq!(tally.wrong[0].1, 2);
        let report = tally
            .verdict("self-check", 1)
            .expect_err("a disagreement fails");
        assert!(
            report.contains("x.rs:2: sloc #, oracle C: // note"),
            "{report}"
        );
        const EXPLAINED: &[Difference] = &[("a comment line outside strings", |case| {
            case.sloc == '#'
                && case.oracle == 'C'
                && !case.touches(case.strings)
                && !case.touches(case.comments)
        })];
        let mut tally = Tally::default();
        tally.compare(&langs, rust, &file, EXPLAINED);
        assert!(tally.wrong.is_empty());
        assert_eq!(tally.allowed["a comment line outside strings"], 1);
        assert_eq!(tally.comment_lines, 1);
    }
}
