//! The one rule that looks ahead: a here-document marker (`<<EOF`) opens one only if a later
//! line ends it, so `x << y` stays an operator.
//!
//! At a file's first marker, one pass over the rest of the text indexes every line that could
//! end a here-document by its identifier ([`Terminators`]), so each marker is a lookup. The
//! index has a memory budget: a file with more distinct words alone on lines than it holds
//! (a generated 190 MB script with 20 million took 1.7 GB) is indexed up to a cut, and a
//! marker whose identifier is not found before it reads on from the cut for that identifier
//! alone. Memory stays bounded whatever the file; only such files pay a read per identifier.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{self, Read};

use memchr::memchr;

use crate::count::{for_each_lines, is_inline_ws, Run, REACH};

/// The text after the part being read, for here-document terminators.
pub(crate) trait Ahead {
    /// Calls `each` with the offset and the first [`REACH`] bytes of every line that starts
    /// at or after offset `from` of the text, in order, until it returns false.
    fn lines_from(&mut self, from: u64, each: &mut dyn FnMut(u64, &[u8]) -> bool);
}

/// A text that is all in memory.
pub(crate) struct Slice<'t>(pub(crate) &'t [u8]);

impl Ahead for Slice<'_> {
    fn lines_from(&mut self, from: u64, each: &mut dyn FnMut(u64, &[u8]) -> bool) {
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let from = next_line_start(self.0, from);
        each_line(self.0.get(from..).unwrap_or_default(), from as u64, each);
    }
}

/// Calls `each` with the offset and head of each line of `lines` (which starts at offset
/// `at`, at a line's start); false if `each` asked to stop.
fn each_line(lines: &[u8], mut at: u64, each: &mut dyn FnMut(u64, &[u8]) -> bool) -> bool {
    let mut rest = lines;
    while !rest.is_empty() {
        let line = &rest[..memchr(b'\n', rest).unwrap_or(rest.len())];
        if !each(at, &line[..line.len().min(REACH)]) {
            return false;
        }
        at += line.len() as u64 + 1;
        rest = rest.get(line.len() + 1..).unwrap_or_default();
    }
    true
}

/// The first line start in `text` at or after `from`.
fn next_line_start(text: &[u8], from: usize) -> usize {
    match from.checked_sub(1).and_then(|k| text.get(k)) {
        None | Some(b'\n') => from,
        Some(_) => {
            memchr(b'\n', &text[from.min(text.len())..]).map_or(usize::MAX, |k| from + k + 1)
        }
    }
}

/// [`Ahead`] for a streamed text: reads it again from its start each time it is asked.
pub(crate) struct Reread<F> {
    reopen: F,
    chunk: usize,
    /// Why reading it again failed, reported when the count ends.
    error: Option<io::Error>,
}

impl<F> Reread<F> {
    /// Reads the text again with `reopen`, `chunk` bytes at a time.
    pub(crate) fn new(reopen: F, chunk: usize) -> Reread<F> {
        Reread {
            reopen,
            chunk,
            error: None,
        }
    }

    /// Why reading the text again failed, if it did.
    pub(crate) fn into_error(self) -> Option<io::Error> {
        self.error
    }
}

impl<S: Read, F: FnMut() -> io::Result<S>> Ahead for Reread<F> {
    fn lines_from(&mut self, from: u64, each: &mut dyn FnMut(u64, &[u8]) -> bool) {
        let stop = Cell::new(false);
        // Where the run or long line being read starts in the text.
        let mut at = 0;
        let mut buf = Vec::new();
        let read = (self.reopen)().and_then(|r| {
            let r = Until {
                inner: r,
                stop: &stop,
            };
            for_each_lines(r, &mut buf, 0, self.chunk, |run| {
                if stop.get() {
                    return;
                }
                match run {
                    Run::Lines(lines, _) => {
                        let len = lines.len() as u64;
                        if at + len > from {
                            let skip =
                                usize::try_from(from.saturating_sub(at)).unwrap_or(usize::MAX);
                            let skip = next_line_start(lines, skip).min(lines.len());
                            stop.set(!each_line(&lines[skip..], at + skip as u64, each));
                        }
                        at += len;
                    }
                    Run::Long(piece) => {
                        if piece.offset + piece.from == 0 && at >= from {
                            stop.set(!each(at, piece.head));
                        }
                        if piece.ends_line {
                            at += (piece.offset + piece.to) as u64 + 1;
                        }
                    }
                }
            })
        });
        if let Err(e) = read {
            self.error.get_or_insert(e);
        }
    }
}

/// A reader that ends early, once `stop` is set: how a search ahead stops reading the text.
struct Until<'s, R> {
    inner: R,
    stop: &'s Cell<bool>,
}

impl<R: Read> Read for Until<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.get() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// The memory the index of terminators may take, in bytes (each entry counted as its
/// identifier plus [`ENTRY_COST`]): 4 MiB holds some 70,000 distinct identifiers, where the
/// largest real scripts (autoconf's `configure`) have a few hundred.
const INDEX_BUDGET: usize = 4 << 20;

/// What an index entry costs beside its identifier's bytes: the allocation's header, the
/// boxed slice and the offset in the table, and the table's slack.
const ENTRY_COST: usize = 64;

/// How many identifiers past the cut keep what their search found.
const FOUND_CAP: usize = 1024;

/// The lines that could end a here-document (as [`ends_heredoc`] allows), from some point of
/// the text on, by identifier.
pub(crate) struct Terminators {
    /// Where the last such line of each identifier starts, among the lines before `cut`.
    last: HashMap<Box<[u8]>, u64>,
    /// Where indexing stopped with its budget spent: the lines from here on are not in `last`.
    cut: Option<u64>,
    /// Past the cut, per identifier: where a search for it started, and the first terminator
    /// it found there or later (None: there is none).
    found: HashMap<Box<[u8]>, (u64, Option<u64>)>,
}

impl Terminators {
    /// Indexes the lines of the text that start at or after offset `from`.
    pub(crate) fn build(ahead: &mut dyn Ahead, from: u64) -> Terminators {
        Terminators::build_within(ahead, from, INDEX_BUDGET)
    }

    fn build_within(ahead: &mut dyn Ahead, from: u64, budget: usize) -> Terminators {
        let mut last: HashMap<Box<[u8]>, u64> = HashMap::new();
        let mut cut = None;
        let mut spent = 0;
        ahead.lines_from(from, &mut |at, head| {
            let Some(word) = terminator_word(head) else {
                return true;
            };
            // A later line overwrites an earlier one: the last one is kept.
            if let Some(seen) = last.get_mut(word) {
                *seen = at;
                return true;
            }
            spent += word.len() + ENTRY_COST;
            if spent > budget {
                cut = Some(at);
                return false;
            }
            last.insert(word.into(), at);
            true
        });
        Terminators {
            last,
            cut,
            found: HashMap::new(),
        }
    }

    /// Whether a line that starts at or after offset `after` ends a here-document named `word`.
    pub(crate) fn any_after(&mut self, word: &[u8], after: u64, ahead: &mut dyn Ahead) -> bool {
        if self.last.get(word).is_some_and(|&at| at >= after) {
            return true;
        }
        let Some(cut) = self.cut else {
            return false;
        };
        let from = after.max(cut);
        if let Some(&(since, first)) = self.found.get(word) {
            match first {
                None if since <= from => return false,
                Some(at) if since <= from && at >= from => return true,
                _ => {}
            }
        }
        let mut first = None;
        ahead.lines_from(from, &mut |at, head| {
            let ends = terminator_word(head) == Some(word);
            if ends {
                first = Some(at);
            }
            !ends
        });
        if self.found.len() >= FOUND_CAP {
            self.found.clear();
        }
        self.found.insert(word.into(), (from, first));
        first.is_some()
    }
}

/// The identifier of a here-document that the line whose first bytes are `head` could end.
fn terminator_word(head: &[u8]) -> Option<&[u8]> {
    let text = &head[head.iter().take_while(|&&b| is_inline_ws(b)).count()..];
    let n = text
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    (n > 0 && ends_heredoc(head, &text[..n])).then_some(&text[..n])
}

/// Whether `line` ends a here-document whose identifier is `word`: the identifier, indented or
/// not, then nothing but whitespace, or `;`, `,` or `)` (PHP's `EOT;`).
pub(crate) fn ends_heredoc(line: &[u8], word: &[u8]) -> bool {
    let text = &line[line.iter().take_while(|&&b| is_inline_ws(b)).count()..];
    text.strip_prefix(word).is_some_and(|tail| {
        tail.iter().all(|&b| is_inline_ws(b)) || matches!(tail.first(), Some(b';' | b',' | b')'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines of a few identifiers, some standing alone (terminators), some not.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec!["EOF", "END", "a1", "b2", "c3", "d_4"])
                    .prop_map(|w| format!("{w}\n")),
                prop::sample::select(vec!["  EOF;", "x EOF", "END)", "echo a1", ""])
                    .prop_map(|w| format!("{w}\n")),
            ],
            0..60,
        )
        .prop_map(|lines| lines.concat().into_bytes())
    }

    /// The answer by brute force: some line at or after `after` ends `word`.
    fn brute(text: &[u8], word: &[u8], after: u64) -> bool {
        let mut any = false;
        Slice(text).lines_from(after, &mut |_, head| {
            any |= terminator_word(head) == Some(word);
            true
        });
        any
    }

    proptest! {
        /// An index cut short by any budget answers every question as the whole one does,
        /// whole in memory and read again in chunks.
        #[test]
        fn any_budget_gives_the_same_answers(
            text in text(),
            budget in 0usize..400,
            chunk in 1usize..40,
            from in 0u64..200,
            asks in prop::collection::vec(
                (prop::sample::select(vec!["EOF", "END", "a1", "b2", "c3", "d_4", "zz"]), 0u64..300),
                1..12,
            ),
        ) {
            let mut asks = asks;
            // The scanner asks in text order.
            asks.sort_by_key(|&(_, after)| after);
            let asks: Vec<_> = asks.into_iter().map(|(w, a)| (w, a.max(from))).collect();
            let mut whole = Slice(&text);
            let mut index = Terminators::build_within(&mut whole, from, budget);
            let mut again = Reread::new(|| Ok(&text[..]), chunk);
            let mut streamed = Terminators::build_within(&mut again, from, budget);
            for (word, after) in asks {
                let want = brute(&text, word.as_bytes(), after);
                prop_assert_eq!(index.any_after(word.as_bytes(), after, &mut whole), want);
                prop_assert_eq!(streamed.any_after(word.as_bytes(), after, &mut again), want);
            }
            prop_assert!(again.into_error().is_none());
        }
    }

    #[test]
    fn a_tight_budget_cuts_and_reads_on() {
        let text = b"a\nb\nc\nEOF\nd\n";
        let mut ahead = Slice(text);
        let mut index = Terminators::build_within(&mut ahead, 0, 2 * (1 + ENTRY_COST));
        assert_eq!(index.cut, Some(4));
        assert_eq!(index.last.len(), 2);
        assert!(index.any_after(b"EOF", 0, &mut ahead));
        assert!(!index.any_after(b"EOF", 7, &mut ahead));
        assert!(index.any_after(b"d", 0, &mut ahead));
    }
}
