//! Invariants over arbitrary input: no panic, and every line is exactly one of code, comment
//! or blank.

use proptest::prelude::*;
use sloc::{count, Languages};

/// Bytes rich in the markers that drive the state machine, so the odd paths get exercised.
fn source_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"/*"[..],
        b"*/",
        b"//",
        b"#",
        b"--",
        b"\"",
        b"'",
        b"\"\"\"",
        b"'''",
        b"\\",
        b"`",
        b"r#\"",
        b"\"#",
        b"R\"(",
        b")\"",
        b"{-",
        b"-}",
        b"--[[",
        b"]]",
        b"=pod",
        b"=cut",
        b"=begin",
        b"=end",
        b"<!--",
        b"-->",
        b"(*",
        b"*)",
        b"R\"x(",
        b")x\"",
        b"<<EOF",
        b"<<<",
        b"<<-'EOF'",
        b"EOF",
        b"$#",
        b"[==[",
        b"]==]",
        b"##\"",
        b"\"##",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"x",
        b"\xEF\xBB\xBF",
        b"\xFF",
        b"\0",
    ]);
    prop::collection::vec(atoms, 0..200).prop_map(|v| v.concat())
}

fn newline_count(bytes: &[u8]) -> u64 {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let n = b.iter().filter(|&&c| c == b'\n').count() as u64;
    n + u64::from(!b.is_empty() && !b.ends_with(b"\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lines_add_up_for_every_language(bytes in source_like()) {
        let langs = Languages::builtin();
        for i in 0..langs.len() {
            let c = count(langs.get(i), &bytes);
            prop_assert_eq!(c.lines, c.code + c.comments + c.blanks);
            prop_assert_eq!(c.lines, newline_count(&bytes));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let langs = Languages::builtin();
        for i in 0..langs.len() {
            let c = count(langs.get(i), &bytes);
            prop_assert_eq!(c.lines, c.code + c.comments + c.blanks);
        }
    }
}

/// Streamed counting (any chunk size, any read size, any head already read) gives what
/// whole-file counting gives.
mod streaming {
    use std::io::{self, Read};

    use proptest::prelude::*;
    use sloc::count::{count_stream, decode_utf16, long_line, Utf16Reader, REACH};
    use sloc::{count, Counts, Language};

    use crate::util::{index_of, langs};

    /// Languages with the constructs that carry state across lines: nested comments (Rust,
    /// Haskell, OCaml, Swift), doc strings that look back (Python), here-documents that look
    /// ahead (Shell, Perl, Ruby, PHP), interpolation (JavaScript, Kotlin, C#), raw strings
    /// (C++, Rust), line blocks (Perl POD, Ruby `=begin`), block scalars (YAML), Lua's long
    /// brackets.
    pub(super) const NAMED: &[&str] = &[
        "Rust",
        "Haskell",
        "OCaml",
        "Swift",
        "Python",
        "Shell",
        "Perl",
        "Ruby",
        "PHP",
        "JavaScript",
        "Kotlin",
        "C#",
        "C++",
        "YAML",
        "Lua",
        "C",
        "HTML",
        "Batch",
    ];

    /// The language's own markers, whole and cut in two (so a chunk boundary, or a line end,
    /// lands inside one), with bytes that matter around them: line ends of every kind, the
    /// operators a doc string looks back at, a here-document's word, non-UTF-8 bytes.
    pub(super) fn atoms(lang: &Language) -> Vec<Vec<u8>> {
        let mut markers: Vec<Vec<u8>> = Vec::new();
        markers.extend(lang.openers.iter().map(|(p, _)| p.to_vec()));
        markers.extend(lang.line_comments.iter().map(|c| c.to_vec()));
        for (open, close) in lang.blocks.iter().chain(&lang.line_blocks) {
            markers.push(open.to_vec());
            markers.push(close.to_vec());
        }
        for s in &lang.strings {
            markers.push(s.start.to_vec());
            markers.push(s.end.to_vec());
            if let Some(it) = &s.interpolation {
                markers.push(it.open.to_vec());
                markers.push(vec![it.close]);
            }
        }
        for d in &lang.delimited {
            markers.push([&d.prefix[..], b"x", &d.open[..]].concat());
            markers.push([&d.close[..], b"x", &d.suffix[..]].concat());
        }
        let mut atoms = markers.clone();
        for m in markers.iter().filter(|m| m.len() > 1) {
            atoms.push(m[..1].to_vec());
            atoms.push(m[1..].to_vec());
        }
        for a in [
            &b"\n"[..],
            b"\n",
            b"\n",
            b"\r\n",
            b"\r",
            b" ",
            b"\t",
            b"x",
            b"0",
            b"(",
            b",",
            b"=",
            b"+",
            b"|",
            b"key:",
            b"-",
            b"\\",
            b"<<EOF",
            b"\nEOF\n",
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\xC3",
        ] {
            atoms.push(a.to_vec());
        }
        atoms
    }

    /// A language (one of [`NAMED`] most of the time, else any) and a text of its atoms.
    fn lang_and_text() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let named = prop::sample::select(NAMED).prop_map(index_of);
        let any = 0..langs().len();
        prop_oneof![3 => named, 1 => any].prop_flat_map(|i| {
            let atoms = atoms(langs().get(i));
            (Just(i), lines_of(atoms, 40))
        })
    }

    /// Up to `n` lines of up to five `atoms` each, ended by LF, CRLF, a lone CR or nothing:
    /// markers often end or start a line, where the rules that look beyond one apply.
    pub(super) fn lines_of(atoms: Vec<Vec<u8>>, n: usize) -> impl Strategy<Value = Vec<u8>> {
        let ends = prop::sample::select(vec![&b"\n"[..], b"\n", b"\n", b"\r\n", b"\r", b""]);
        let line = (
            prop::collection::vec(prop::sample::select(atoms), 0..5),
            ends,
        )
            .prop_map(|(atoms, end)| [atoms.concat(), end.to_vec()].concat());
        prop::collection::vec(line, 0..n).prop_map(|v| v.concat())
    }

    /// A language and a text with one to three lines longer than [`long_line`] of any chunk
    /// the tests use, which are classified a piece at a time: each a pattern of the language's
    /// atoms (those without a newline) repeated past that length, so markers fall across every
    /// piece's boundary, with a run of one byte (blanks, digits, a word) among them that is
    /// often longer than [`REACH`], where the rules that look along a line stop; before each,
    /// a few short lines. The text ends with or without a newline.
    fn long_lines() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let named = prop::sample::select(NAMED).prop_map(index_of);
        let any = 0..langs().len();
        prop_oneof![3 => named, 1 => any]
            .prop_flat_map(|i| {
                let atoms = atoms(langs().get(i));
                let inline: Vec<Vec<u8>> = atoms
                    .iter()
                    .filter(|a| !a.contains(&b'\n'))
                    .cloned()
                    .collect();
                let segment = (
                    lines_of(atoms, 4),
                    prop::collection::vec(prop::sample::select(inline), 1..8),
                    prop::sample::select(vec![b' ', b'\t', b'0', b'x']),
                    prop_oneof![0usize..64, REACH - 8..REACH + 8, REACH..2 * REACH],
                    0usize..4,
                    long_line(5000)..long_line(5000) + 40_000,
                );
                (
                    Just(i),
                    prop::collection::vec(segment, 1..4),
                    prop::sample::select(vec![&b"\n"[..], b"\r\n", b""]),
                )
            })
            .prop_map(|(i, segments, end)| {
                let mut text = Vec::new();
                for (short, pattern, run, run_len, run_at, len) in segments {
                    text.extend(short);
                    if !text.is_empty() && text.last() != Some(&b'\n') {
                        text.push(b'\n');
                    }
                    let start = text.len();
                    let unit = pattern.concat();
                    let mut k = 0;
                    while text.len() - start < len {
                        if k == run_at {
                            text.extend(std::iter::repeat_n(run, run_len));
                        }
                        text.extend(&unit);
                        k += 1;
                    }
                    text.push(b'\n');
                }
                text.pop();
                text.extend(end);
                (i, text)
            })
    }

    fn owned(lines: &[&[u8]]) -> Vec<Vec<u8>> {
        lines.iter().map(|l| l.to_vec()).collect()
    }

    /// Lines for the two rules that look beyond their line: a doc string is code where the
    /// code before it (lines back, past comments and blanks) continues an expression; a
    /// here-document marker opens one only if its terminator comes later.
    fn look_around() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let python = owned(&[
            b"x = (",
            b"f(a,",
            b"y = 1",
            b"# note",
            b"\"\"\"doc",
            b"\"\"\"",
            b"'''",
            b"r'''raw",
            b"\"\"\"one\"\"\"",
            b"  ",
            b"",
            b"\\",
            b"z +",
            b"s = \"#\"",
        ]);
        let shell = owned(&[
            b"cat <<EOF",
            b"cat <<-'END' # c",
            b"EOF",
            b"  END",
            b"# c",
            b"x=1",
            b"",
            b"echo \"<<EOF\"",
            b"a << b",
            b"EOF;",
            b"=begin",
            b"=end",
            b"=pod",
            b"=cut",
        ]);
        prop_oneof![
            lines_of(python, 60).prop_map(|t| (index_of("Python"), t)),
            prop::sample::select(vec!["Shell", "Perl", "Ruby", "PHP"]).prop_flat_map(move |name| {
                lines_of(shell.clone(), 60).prop_map(move |t| (index_of(name), t))
            }),
        ]
    }

    /// A reader that hands out at most `step` bytes a read, as a pipe or a slow disk may.
    struct Trickle<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.rest.len());
            buf[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    fn streamed(lang: &Language, text: &[u8], chunk: usize, step: usize, head: usize) -> Counts {
        let head = head.min(text.len());
        let mut buf = text[..head].to_vec();
        let rest = Trickle {
            rest: &text[head..],
            step,
        };
        let reopen = || Ok(Trickle { rest: text, step });
        count_stream(lang, &mut buf, head, rest, reopen, chunk).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_chunk_size_counts_as_the_whole_file(
            (i, text) in lang_and_text(),
            chunk in 1usize..=64,
            step in 1usize..=64,
            head in 0usize..=80,
        ) {
            let lang = langs().get(i);
            let whole = count(lang, &text);
            prop_assert_eq!(streamed(lang, &text, chunk, step, head), whole,
                "{} with chunk {}, read size {}, head {}", langs().name(i), chunk, step, head);
        }

        #[test]
        fn look_back_and_ahead_across_chunks(
            (i, text) in look_around(),
            chunk in 1usize..=64,
            step in 1usize..=64,
            head in 0usize..=80,
        ) {
            let lang = langs().get(i);
            prop_assert_eq!(streamed(lang, &text, chunk, step, head), count(lang, &text),
                "{} with chunk {}, read size {}, head {}", langs().name(i), chunk, step, head);
        }

        #[test]
        fn utf16_decodes_the_same_read_in_any_pieces(
            units in prop::collection::vec(
                prop::sample::select(vec![0x41u16, 0x0A, 0xE9, 0xD83D, 0xDE00, 0xDC00, 0xD800, 0xFEFF]),
                0..100,
            ),
            odd in any::<bool>(),
            little in any::<bool>(),
            step in 1usize..=9,
        ) {
            let mut bytes = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
            for u in units {
                bytes.extend(if little { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            if odd {
                bytes.push(b'x');
            }
            let mut read = Vec::new();
            Utf16Reader::new(Trickle { rest: &bytes[2..], step }, little)
                .read_to_end(&mut read)
                .unwrap();
            prop_assert_eq!(Some(read), decode_utf16(&bytes));
        }
    }

    proptest! {
        // Each text is hundreds of KB: fewer cases.
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn lines_longer_than_a_chunk_many_times_count_as_the_whole_file(
            (i, text) in long_lines(),
            chunk in prop_oneof![1usize..=64, 1000usize..=5000],
            step in prop_oneof![1usize..=64, 1usize..=8192],
            head in 0usize..=80,
        ) {
            let lang = langs().get(i);
            let longest = text.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap_or(0);
            prop_assert!(longest > long_line(chunk), "no line is read in pieces");
            prop_assert_eq!(streamed(lang, &text, chunk, step, head), count(lang, &text),
                "{} with chunk {}, read size {}, head {}", langs().name(i), chunk, step, head);
        }
    }
}

/// Plain lines (outside comments and strings, without important syntax) and the lines wholly
/// inside a block comment are counted 64 bytes at a time with bit masks, the lines around the
/// rest one by one: the counts are those of classifying every line on its own, as
/// `classify_lines` does.
mod plain_runs {
    use proptest::prelude::*;
    use sloc::{classify_lines, count, Counts, Language};

    use super::streaming::{atoms, lines_of, NAMED};
    use crate::util::{index_of, langs};

    /// Atoms of plain lines mostly: blanks of every kind, the line-comment markers, words;
    /// now and then any of the language's atoms, so runs of plain lines of any length end
    /// and resume at every kind of syntax.
    fn plain_atoms(lang: &Language) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = [
            &b" "[..],
            b"    ",
            b"\t",
            b"\t\t",
            b"\r",
            b"\x0b",
            b"\x0c",
            b"x",
            b"code();",
            b"0",
            b"\n",
            b"\n\n",
            b"\r\n",
            b"\xFF",
        ]
        .iter()
        .map(|a| a.to_vec())
        .collect();
        for c in &lang.line_comments {
            out.push(c.to_vec());
            out.push(c[..1].to_vec());
            out.push([&b"  "[..], c].concat());
        }
        // Weight plain atoms: the others are one in about eight picks.
        let plain = out.clone();
        for _ in 0..3 {
            out.extend(plain.iter().cloned());
        }
        let all = atoms(lang);
        out.extend(all.into_iter().step_by(2));
        // Block comments, whose inner lines are counted a block at a time too.
        for (open, close) in &lang.blocks {
            out.push(open.to_vec());
            out.push(close.to_vec());
        }
        out
    }

    fn lang_and_text() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let named = prop::sample::select(NAMED).prop_map(index_of);
        let any = 0..langs().len();
        prop_oneof![2 => named, 1 => any].prop_flat_map(|i| {
            let atoms = plain_atoms(langs().get(i));
            (Just(i), lines_of(atoms, 120))
        })
    }

    fn one_by_one(lang: &Language, text: &[u8]) -> Counts {
        let mut counts = Counts::default();
        classify_lines(lang, text, |kind| counts.add(kind));
        counts
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn runs_of_plain_lines_count_as_lines_one_by_one((i, text) in lang_and_text()) {
            let lang = langs().get(i);
            prop_assert_eq!(count(lang, &text), one_by_one(lang, &text), "{}", lang.name);
        }

    }

    /// C's atoms and other languages' line-comment markers (`REM` and its bare form too).
    fn mixed_atoms() -> Vec<Vec<u8>> {
        let mut out = plain_atoms(langs().get(index_of("C")));
        for m in ["#", "--", ";", "%", "'", "REM ", "REM", "##", "dnl "] {
            out.push(m.as_bytes().to_vec());
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_language_counts_plain_runs_as_lines_one_by_one(
            text in lines_of(mixed_atoms(), 60),
        ) {
            // The same text in every language: markers of one are plain code in most others.
            for i in 0..langs().len() {
                let lang = langs().get(i);
                prop_assert_eq!(count(lang, &text), one_by_one(lang, &text), "{}", lang.name);
            }
        }
    }
}
