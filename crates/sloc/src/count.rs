//! Classifying one file's lines as code, comments or blanks (tokei's rules).
//!
//! A whitespace-only line is blank, wherever it is. Otherwise a line with any code on it is
//! code, and a line with nothing but comment text and comment markers is a comment. String
//! contents are code, so comment markers inside strings are ignored.
//!
//! Fast path: from a line that starts outside comments and strings, one multi-pattern search
//! over the rest of the file finds the next "important syntax" (block-comment, string and
//! doc-string openers, line-block starts; see `language::Important`). Every line before it is
//! classified by its first non-blank bytes alone, a block of 64 bytes at a time when they are
//! enough (`plain_lines`; so are the lines wholly inside a block comment that does not nest);
//! only the line holding it, and lines inside comments and strings, go through the byte-level
//! state machine.
//!
//! Streaming: a file larger than [`STREAM_CHUNK`] is read a chunk at a time ([`count_stream`])
//! and cut after its last whole line, the partial line carried into the next chunk. Markers never
//! contain a newline, so no marker straddles a cut, and everything that carries from one line
//! to the next lives in the `Scanner` between chunks: the `State` (block-comment depth, string,
//! doc string, here-document...), the interpolation frames, and a summary (`Lookback`) of the
//! lines a doc string looks back at. The one rule that looks ahead, a here-document marker's
//! terminator, reads the file a second time (`heredoc`: once per file, only if it has such a
//! marker).
//! A line longer than [`long_line`] (1.1 MiB) is not held whole either: it is read in pieces of a
//! chunk, each with [`REACH`] bytes of the line either side, and the state machine reads the
//! pieces in turn, carrying what it found in the line so far (`Progress`); every rule that looks
//! along a line looks at most `REACH` bytes either way, in whole-file counting too, so the
//! pieces give the whole line's kind.

use std::ops::AddAssign;

use std::io::{self, Read};

use memchr::{memchr, memchr2, memchr3, memrchr};
use serde::Serialize;

use crate::heredoc::{ends_heredoc, Ahead, Reread, Slice, Terminators};
use crate::language::{Language, Opener, QUOTE_BRACKETS};
use crate::plain_lines::{count_plain, PlainMarkers};

/// The fewest bytes of plain lines worth counting a block at a time ([`count_plain`]): below,
/// line by line is as fast.
const PLAIN_RUN: usize = 64;

/// Line counts of one file or many. `lines == code + comments + blanks` always holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All lines.
    pub lines: u64,
    /// Lines with some code.
    pub code: u64,
    /// Lines with only comments.
    pub comments: u64,
    /// Whitespace-only lines.
    pub blanks: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.lines += o.lines;
        self.code += o.code;
        self.comments += o.comments;
        self.blanks += o.blanks;
    }
}

/// How many leading bytes are searched for a NUL to call a file binary.
pub const BINARY_PROBE: usize = 8 * 1024;

/// Whether the file looks binary: a NUL byte in its first 8 KiB (as git and ripgrep decide).
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr(0, &bytes[..bytes.len().min(BINARY_PROBE)]).is_some()
}

/// A UTF-16 text with a byte-order mark (`FF FE` little-endian, `FE FF` big-endian), decoded
/// to UTF-8 so that it is counted like any other text (its NUL bytes would make it look
/// binary); an unpaired surrogate becomes U+FFFD. `None` for anything else, UTF-32 included.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let little = utf16_mark(bytes)?;
    let units = bytes[2..].chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

/// [`decode_utf16`] as a reader: decodes the UTF-16 read from `inner` (after its byte-order
/// mark) to UTF-8 a piece at a time, for a file too large to decode whole. Reads give what
/// `decode_utf16` gives for the whole file.
pub struct Utf16Reader<R> {
    inner: R,
    little: bool,
    /// Bytes read and not yet decoded: an odd byte or a high surrogate whose pair is not read.
    raw: Vec<u8>,
    pending: usize,
    /// Decoded bytes not yet handed out, from `pos`.
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// Decodes `inner`, which starts after the mark; `little`: little-endian (`FF FE`).
    pub fn new(inner: R, little: bool) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            little,
            raw: Vec::new(),
            pending: 0,
            out: Vec::new(),
            pos: 0,
            done: false,
        }
    }

    fn unit(raw: &[u8], little: bool, k: usize) -> u16 {
        let pair = [raw[2 * k], raw[2 * k + 1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        self.raw.resize(self.pending + 64 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[self.pending..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        let have = self.pending + n;
        self.done = n == 0;
        let mut units = have / 2;
        // A high surrogate's pair may be in the next read: keep it for then.
        if !self.done
            && units > 0
            && (0xD800..0xDC00).contains(&Self::unit(&self.raw, self.little, units - 1))
        {
            units -= 1;
        }
        let (raw, little) = (&self.raw, self.little);
        let text = char::decode_utf16((0..units).map(|k| Self::unit(raw, little, k)))
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER));
        for c in text {
            let mut utf8 = [0; 4];
            self.out
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        // At the end an odd byte is dropped, as `decode_utf16` drops it.
        self.raw.copy_within(2 * units..have, 0);
        self.pending = have - 2 * units;
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Which UTF-16 a text's byte-order mark announces: `Some(true)` little-endian, `Some(false)`
/// big-endian, `None` no UTF-16 (UTF-32LE's mark begins like UTF-16LE's and is none).
pub fn utf16_mark(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some(true),
        [0xFE, 0xFF, ..] => Some(false),
        _ => None,
    }
}

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Whitespace only.
    Blank = 0,
    /// Some code on it.
    Code = 1,
    /// Only comment text and comment markers.
    Comment = 2,
}

/// Where the scanner is between bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside block comment `idx`, `depth` levels deep (always 1 unless the language nests).
    Block {
        idx: usize,
        depth: u32,
    },
    /// Inside string `idx` (code).
    Str(usize),
    /// Inside a delimited raw string (code); its end is kept beside the state.
    Delimited,
    /// Inside a here-document's body (code); its terminator is kept beside the state.
    Heredoc,
    /// Inside doc string `idx` (comment).
    Doc(usize),
    /// Inside line block `idx` (POD): ends at a line starting with its end marker.
    LineBlock(usize),
    /// Inside a block scalar (YAML `|`) opened on a line indented this much: its content (code)
    /// is every line indented deeper.
    Scalar(usize),
    /// Inside a bracketed quote-like literal (Perl `qw(`, `s{…}{`, Ruby `%w[`), code: `depth`
    /// levels of `open` deep, with `parts` parts still to read after this one.
    Quoted {
        open: u8,
        close: u8,
        depth: u32,
        parts: u8,
    },
}

/// Counts the lines of `bytes` (a whole file) in `lang`. Handles CRLF, a UTF-8 BOM, a missing
/// final newline and any bytes, UTF-8 or not.
pub fn count(lang: &Language, bytes: &[u8]) -> Counts {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut tally = Tally::default();
    Scanner::new(lang).scan(bytes, &mut Slice(bytes), &mut tally);
    tally.counts()
}

/// Where [`Scanner::scan`] puts the kinds of the lines it reads.
pub(crate) trait Lines {
    /// Whether runs of plain lines may come as counts per kind ([`Lines::add_run`]) instead of
    /// one line at a time in order.
    const RUNS: bool;
    /// The next line's kind.
    fn add(&mut self, kind: LineKind);
    /// Lines of each kind (indexed by `LineKind as usize`), called only if `RUNS`.
    fn add_run(&mut self, kinds: [u64; 3]);
}

impl Lines for Tally {
    const RUNS: bool = true;

    #[inline(always)]
    fn add(&mut self, kind: LineKind) {
        self.0[kind as usize] += 1;
    }

    #[inline(always)]
    fn add_run(&mut self, kinds: [u64; 3]) {
        for (a, b) in self.0.iter_mut().zip(kinds) {
            *a += b;
        }
    }
}

/// Every line's kind to a function, in order.
pub(crate) struct Each<F>(pub(crate) F);

impl<F: FnMut(LineKind)> Lines for Each<F> {
    const RUNS: bool = false;

    #[inline(always)]
    fn add(&mut self, kind: LineKind) {
        (self.0)(kind);
    }

    /// Never called (`RUNS` is false); the lines would come out of order.
    fn add_run(&mut self, kinds: [u64; 3]) {
        for (kind, n) in [LineKind::Blank, LineKind::Code, LineKind::Comment]
            .into_iter()
            .zip(kinds)
        {
            (0..n).for_each(|_| (self.0)(kind));
        }
    }
}

/// Lines per [`LineKind`], as the hot loop sums them: a local array the compiler keeps in
/// registers (summing into a `Counts` behind a reference cost 5% more instructions).
#[derive(Default)]
pub(crate) struct Tally([u64; 3]);

impl Tally {
    /// Adds `other`'s lines.
    pub(crate) fn merge(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        let [blanks, code, comments] = self.0;
        Counts {
            lines: blanks + code + comments,
            code,
            comments,
            blanks,
        }
    }
}

impl Counts {
    /// Adds one line of `kind`.
    #[inline(always)]
    pub fn add(&mut self, kind: LineKind) {
        self.lines += 1;
        match kind {
            LineKind::Blank => self.blanks += 1,
            LineKind::Code => self.code += 1,
            LineKind::Comment => self.comments += 1,
        }
    }
}

/// Calls `each` with the kind of every line of `bytes` in order: what [`count`] sums (for
/// tests that compare sloc line by line with a real tokenizer).
#[inline(always)]
pub fn classify_lines(lang: &Language, bytes: &[u8], each: impl FnMut(LineKind)) {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    Scanner::new(lang).scan(bytes, &mut Slice(bytes), &mut Each(each));
}

/// The UTF-8 byte-order mark, which is no part of the first line.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The scanner's state between two lines: all that carries over from one chunk of a streamed
/// file to the next (the state machine's [`State`] and [`Scratch`], and a summary of the lines
/// already gone for the one look back, a doc string's).
pub(crate) struct Scanner<'l> {
    lang: &'l Language,
    state: State,
    scratch: Scratch,
    /// Where the chunk being scanned starts in the text (the BOM excluded).
    pub(crate) base: u64,
    /// What the lines before that chunk say to [`continues_expression`].
    history: Lookback,
    /// Whether the language has doc strings, the only reason to keep `history`.
    docs: bool,
}

impl<'l> Scanner<'l> {
    pub(crate) fn new(lang: &'l Language) -> Scanner<'l> {
        Scanner {
            lang,
            state: State::Normal,
            scratch: Scratch::default(),
            base: 0,
            history: Lookback::Open { lines: 0 },
            docs: lang
                .openers
                .iter()
                .any(|(_, o)| matches!(o, Opener::Doc(_))),
        }
    }

    /// Classifies the lines of `bytes`, the next part of the text: whole lines, but for the
    /// text's last part, which may end without a newline. `ahead` reads the text after them
    /// for a here-document's terminator.
    #[inline(always)]
    pub(crate) fn scan<L: Lines>(&mut self, bytes: &[u8], ahead: &mut dyn Ahead, out: &mut L) {
        let lang = self.lang;
        // Where the next important syntax starts, searched lazily: only from a line that begins
        // outside comments and strings, so matches inside comments and the rest of an already
        // scanned line are never looked at. Markers never contain a newline, so a search that
        // stops at the end of a whole line finds what a search of the whole file would.
        let mut next_important = lang.important.find(bytes).unwrap_or(usize::MAX);
        let mut state = self.state;
        let scratch = &mut self.scratch;
        let mut start = 0;
        // Where the blocks counted by `count_plain` end: none is read twice.
        let mut counted = 0;
        while start < bytes.len() {
            // From a line outside comments and strings, the plain lines before the next
            // important syntax are counted a block at a time, when there are enough of them;
            // from a line inside a block comment (that does not nest), the lines before its
            // end: blank or comment.
            if L::RUNS && start >= counted && scratch.frames.is_empty() {
                let run = match state {
                    State::Normal => lang.plain.as_ref().and_then(|markers| {
                        if next_important < start {
                            next_important = lang
                                .important
                                .find(&bytes[start..])
                                .map_or(usize::MAX, |k| start + k);
                        }
                        let to = next_important.min(bytes.len());
                        (to - start >= PLAIN_RUN).then(|| count_plain(markers, bytes, start, to))
                    }),
                    State::Block { idx, .. } if !lang.nested => {
                        let to = lang.block_ends[idx]
                            .find(&bytes[start..])
                            .map_or(bytes.len(), |k| start + k);
                        (to - start >= PLAIN_RUN).then(|| {
                            let mut run = count_plain(&PlainMarkers::NONE, bytes, start, to);
                            let [blank, code, comment] = run.kinds;
                            run.kinds = [blank, 0, code + comment];
                            run
                        })
                    }
                    _ => None,
                };
                if let Some(run) = run {
                    out.add_run(run.kinds);
                    counted = run.counted;
                    if run.resume > start {
                        start = run.resume;
                        continue;
                    }
                }
            }
            // The first byte that is not blank: a whitespace-only line is blank in any state
            // (and changes no state), and the search for the line's end can start there.
            let first = start
                + bytes[start..]
                    .iter()
                    .take_while(|&&b| is_inline_ws(b))
                    .count();
            if first == bytes.len() || bytes[first] == b'\n' {
                out.add(LineKind::Blank);
                start = first + 1;
                continue;
            }
            let end = find_byte(b'\n', &bytes[first..]).map_or(bytes.len(), |i| first + i);
            let line = &bytes[start..end];
            // Inside an interpolation the state is `Normal` but a `}` changes it: no fast path.
            let plain = state == State::Normal && scratch.frames.is_empty() && {
                if next_important < start {
                    next_important = lang
                        .important
                        .find(&bytes[start..])
                        .map_or(usize::MAX, |k| start + k);
                }
                // A match starting before `end` is on this line.
                next_important >= end
            };
            let kind = if plain {
                classify_plain(lang, &bytes[first..end])
            } else {
                let mut around = Around {
                    before: &bytes[..start],
                    history: self.history,
                    after: self.base + end as u64 + 1,
                    ahead: &mut *ahead,
                };
                classify_full(lang, line, &mut around, &mut state, scratch)
            };
            out.add(kind);
            start = end + 1;
        }
        self.state = state;
    }

    /// Whether the scanner is between tokens, outside every comment, string and bracket.
    pub(crate) fn is_normal(&self) -> bool {
        self.state == State::Normal && self.scratch.frames.is_empty()
    }

    /// Moves past `bytes`, scanned whole lines that are about to be dropped.
    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        self.base += bytes.len() as u64;
        if self.docs {
            self.history = lookback(self.lang, bytes).then(self.history);
        }
    }

    /// Classifies the next piece of a line too long to hold (the lines before it scanned and
    /// advanced past), `line` carrying what the pieces before it found; the line's kind after
    /// its last piece, when the scanner moves past it.
    pub(crate) fn scan_piece(
        &mut self,
        piece: &Piece,
        ahead: &mut dyn Ahead,
        line: &mut Progress,
    ) -> Option<LineKind> {
        // A whitespace-only line is blank in any state and changes none, as in `scan`: the
        // state machine starts at the first other byte (blanks before it change nothing).
        let mut first = false;
        if !line.started {
            let span = &piece.bytes[piece.from..piece.to];
            if let Some(k) = span.iter().position(|&b| !is_inline_ws(b)) {
                line.started = true;
                line.i = piece.offset + piece.from + k;
                first = true;
            }
        }
        if line.started {
            let part = Part {
                bytes: piece.bytes,
                offset: piece.offset,
                to: piece.to,
                head: piece.head,
                first,
                last: piece.ends_line,
            };
            let mut around = Around {
                before: &[],
                history: self.history,
                // Any offset after the line's start and up to the next line's: none starts
                // in between, and the next line's start is not known yet.
                after: self.base + 1,
                ahead,
            };
            classify_part(
                self.lang,
                &part,
                &mut around,
                &mut self.state,
                &mut self.scratch,
                line,
            );
        }
        if !piece.ends_line {
            return None;
        }
        let kind = match line.started {
            true => line.kind.unwrap_or(LineKind::Code),
            false => LineKind::Blank,
        };
        self.base += (piece.offset + piece.to) as u64 + 1;
        if self.docs && kind != LineKind::Blank {
            // As `lookback` reads a line longer than `REACH`: its last `REACH` bytes, which the
            // last piece has (it holds `REACH` bytes before it, and the line is longer).
            let tail = &piece.bytes[piece.to.saturating_sub(REACH)..piece.to];
            let this = match continues_after(self.lang, tail) {
                Some(continues) => Lookback::Found {
                    lines: 1,
                    continues,
                },
                None => Lookback::Open { lines: 1 },
            };
            self.history = this.then(self.history);
        }
        *line = Progress::default();
        Some(kind)
    }
}

/// A line's surroundings, for the two rules that look beyond it.
struct Around<'b, 'a> {
    /// The whole lines before it in the chunk.
    before: &'b [u8],
    /// What the lines before the chunk say.
    history: Lookback,
    /// Where the next line starts in the text.
    after: u64,
    /// Reads the text after it.
    ahead: &'a mut dyn Ahead,
}

/// The bytes read per step when a file is streamed, and so the size above which it is: the
/// memory a file takes is a few of these, whatever its size and its lines' (see [`count_stream`]).
/// Why 256 KiB: large enough that a chunk's fixed costs (a `read`, a restarted search, one
/// look back) vanish, small enough that a thread's buffer stays well under a megabyte; and
/// 99.7% of the kernel's files are smaller, so they take the unchanged whole-file path (a 1 GiB
/// file counted in chunks of 16 KiB to 4 MiB took the same time, within the noise).
pub const STREAM_CHUNK: usize = 256 * 1024;

/// Counts the lines of a text read from `rest`, in chunks of `chunk` bytes, with memory that
/// does not grow with it: the counts [`count`] gives for the whole text. `buf` holds the
/// text's first `head` bytes, already read (the shebang and content probes); it is the read
/// buffer, and grows to about [`long_line`]`(chunk)` plus a chunk (1.4 MiB for
/// [`STREAM_CHUNK`]) whatever the text's lines: a longer line is classified a piece at a time.
/// `reopen` reads the text again from its start, for a here-document's terminator (once per
/// file, only for a here-document; again per word only past the index's budget, see `heredoc`).
pub fn count_stream<S: Read>(
    lang: &Language,
    buf: &mut Vec<u8>,
    head: usize,
    rest: impl Read,
    reopen: impl FnMut() -> io::Result<S>,
    chunk: usize,
) -> io::Result<Counts> {
    let mut counts = Counts::default();
    let mut scanner = Scanner::new(lang);
    let mut ahead = Reread::new(reopen, chunk);
    let mut long = Progress::default();
    for_each_lines(rest, buf, head, chunk, |run| match run {
        Run::Lines(lines, last) => {
            let mut tally = Tally::default();
            scanner.scan(lines, &mut ahead, &mut tally);
            counts += tally.counts();
            if !last {
                scanner.advance(lines);
            }
        }
        Run::Long(piece) => {
            if let Some(kind) = scanner.scan_piece(&piece, &mut ahead, &mut long) {
                counts.add(kind);
            }
        }
    })?;
    match ahead.into_error() {
        Some(e) => Err(e),
        None => Ok(counts),
    }
}

/// The length above which [`count_stream`] reads a line in pieces, for reads of `chunk`
/// bytes: four chunks (1 MiB for [`STREAM_CHUNK`]) and the [`REACH`] either side of a piece.
pub fn long_line(chunk: usize) -> usize {
    4 * chunk.max(1) + 2 * REACH
}

/// What [`for_each_lines`] hands out.
pub(crate) enum Run<'b> {
    /// Whole lines, and whether they are the text's last part (which may lack a newline).
    Lines(&'b [u8], bool),
    /// The next piece of a line longer than [`long_line`].
    Long(Piece<'b>),
}

/// A piece of a long line, with what the rules may see around it.
pub(crate) struct Piece<'b> {
    /// The line from [`REACH`] bytes before the piece (or its start) to `REACH` bytes after it
    /// (or its end).
    bytes: &'b [u8],
    /// The piece is `bytes[from..to]`.
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Where `bytes` starts in the line.
    pub(crate) offset: usize,
    /// The line's first [`REACH`] bytes.
    pub(crate) head: &'b [u8],
    /// Whether the piece ends the line.
    pub(crate) ends_line: bool,
}

/// The pieces of a long line being handed out.
struct LongRun {
    /// Where the next piece starts in the buffer.
    from: usize,
    /// Where the buffer starts in the line.
    offset: usize,
    head: Vec<u8>,
}

impl LongRun {
    /// The next piece, from where the last one ended to `to` in `buf`, with up to [`REACH`]
    /// bytes of the line before it and all of `buf` after it (`buf` ends at the line's newline
    /// or at the bytes read so far).
    fn piece<'b>(&'b self, buf: &'b [u8], to: usize, ends_line: bool) -> Piece<'b> {
        let lo = self.from.saturating_sub(REACH);
        Piece {
            bytes: &buf[lo..],
            from: self.from - lo,
            to: to - lo,
            offset: self.offset + lo,
            head: &self.head,
            ends_line,
        }
    }
}

/// Calls `each` with the text read from `r` (after the `head` bytes already in `buf`, a UTF-8
/// byte-order mark left out) in runs of whole lines, `chunk` bytes read at a time, then with
/// what is left after the last newline and `true`. A line longer than [`long_line`]`(chunk)`
/// is handed out in pieces, each with [`REACH`] bytes of the line either side, so `buf` holds
/// about that length and a chunk at most.
pub(crate) fn for_each_lines(
    mut r: impl Read,
    buf: &mut Vec<u8>,
    head: usize,
    chunk: usize,
    mut each: impl FnMut(Run),
) -> io::Result<()> {
    let chunk = chunk.max(1);
    let limit = long_line(chunk);
    let mut filled = head;
    let mut bom = true;
    // Where the search for a newline starts: the bytes before it have none.
    let mut fresh = 0;
    let mut long: Option<LongRun> = None;
    loop {
        if bom && filled >= BOM.len() {
            bom = false;
            if buf.starts_with(BOM) {
                buf.copy_within(BOM.len()..filled, 0);
                filled -= BOM.len();
            }
        }
        match &mut long {
            _ if bom => {}
            None => {
                if let Some(k) = memrchr(b'\n', &buf[fresh..filled]) {
                    let cut = fresh + k + 1;
                    each(Run::Lines(&buf[..cut], false));
                    buf.copy_within(cut..filled, 0);
                    filled -= cut;
                }
                fresh = filled;
                if filled >= limit {
                    long = Some(LongRun {
                        from: 0,
                        offset: 0,
                        head: buf[..REACH].to_vec(),
                    });
                    continue;
                }
            }
            Some(run) => {
                if let Some(k) = memchr(b'\n', &buf[fresh..filled]) {
                    let end = fresh + k;
                    each(Run::Long(run.piece(&buf[..end], end, true)));
                    buf.copy_within(end + 1..filled, 0);
                    filled -= end + 1;
                    fresh = 0;
                    long = None;
                    continue;
                }
                fresh = filled;
                let to = filled.saturating_sub(REACH);
                if to > run.from {
                    each(Run::Long(run.piece(&buf[..filled], to, false)));
                    run.from = to;
                }
                // What no later piece sees goes, a few chunks at a time.
                let gone = run.from.saturating_sub(REACH);
                if gone >= 2 * chunk.max(REACH) {
                    buf.copy_within(gone..filled, 0);
                    filled -= gone;
                    fresh -= gone;
                    run.from -= gone;
                    run.offset += gone;
                }
            }
        }
        if buf.len() < filled + chunk {
            buf.resize(filled + chunk, 0);
        }
        let n = loop {
            match r.read(&mut buf[filled..filled + chunk]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        if n == 0 {
            if let Some(run) = &long {
                each(Run::Long(run.piece(&buf[..filled], filled, true)));
                filled = 0;
            }
            each(Run::Lines(&buf[..filled], true));
            return Ok(());
        }
        filled += n;
    }
}

/// Whitespace within a line (everything [`is_ws`] accepts but the newline).
pub(crate) fn is_inline_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// How many leading bytes [`find_any`] searches word by word before handing over to `memchr`.
const SHORT: usize = 64;

/// `memchr` for one byte, tuned for source lines (see [`find_any`]).
#[inline(always)]
fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    find_any([needle], hay)
}

/// The first of `needles` (one to three bytes) in `hay`: `memchr`, `memchr2` or `memchr3`
/// tuned for source lines: most are shorter than [`SHORT`] bytes, where an inlined search
/// beats a call through `memchr`'s dispatch (it showed as a fifth of the kernel profile). A
/// tail shorter than a chunk is read with one load that overlaps the chunk before it.
#[inline(always)]
fn find_any<const N: usize>(needles: [u8; N], hay: &[u8]) -> Option<usize> {
    let head = hay.len().min(SHORT);
    let mut at = 0;
    while at + CHUNK <= head {
        let mask = chunk_mask(&hay[at..at + CHUNK], needles);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += CHUNK;
    }
    if at < head {
        if hay.len() >= CHUNK {
            // The last chunk of the head, overlapping what was read: its first bytes are out.
            let from = head - CHUNK;
            let mask = chunk_mask(&hay[from..head], needles) >> (at - from);
            if mask != 0 {
                return Some(at + mask.trailing_zeros() as usize);
            }
        } else if let Some(k) = hay[at..head].iter().position(|b| needles.contains(b)) {
            return Some(at + k);
        }
    }
    let rest = &hay[head..];
    let found = match needles[..] {
        [a] => memchr(a, rest),
        [a, b] => memchr2(a, b, rest),
        [a, b, c] => memchr3(a, b, c, rest),
        _ => rest.iter().position(|b| needles.contains(b)),
    };
    found.map(|k| head + k)
}

/// Bytes per [`chunk_mask`] step.
#[cfg(target_arch = "x86_64")]
const CHUNK: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const CHUNK: usize = 8;

/// Bit `i` set where `chunk[i]` is one of `needles`, for a 16-byte chunk, with SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn chunk_mask<const N: usize>(chunk: &[u8], needles: [u8; N]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    assert!(chunk.len() >= 16);
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions always exist; the
    // unaligned load reads 16 bytes from a slice just checked to hold at least 16.
    let mask = unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let mut any = _mm_setzero_si128();
        for n in needles {
            any = _mm_or_si128(any, _mm_cmpeq_epi8(bytes, _mm_set1_epi8(n as i8)));
        }
        _mm_movemask_epi8(any)
    };
    mask as u32
}

/// A plain loop elsewhere (the compiler vectorizes what it can).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn chunk_mask<const N: usize>(chunk: &[u8], needles: [u8; N]) -> u32 {
    chunk[..CHUNK].iter().enumerate().fold(0, |mask, (i, b)| {
        mask | (u32::from(needles.contains(b)) << i)
    })
}

/// `hay.starts_with(needle)` without the `memcmp` call: markers are a few bytes long and this
/// runs for most bytes of a comment, so the call overhead dominated the profile.
#[inline(always)]
fn has_prefix(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.iter().zip(needle).all(|(a, b)| a == b)
}

/// The next index at or after `from` where `a` or (if given) `b` occurs, or the line's end.
#[inline(always)]
fn next_candidate(line: &[u8], from: usize, a: u8, b: Option<u8>) -> usize {
    let hay = &line[from..];
    let found = match b {
        Some(b) => find_any([a, b], hay),
        None => find_byte(a, hay),
    };
    found.map_or(line.len(), |i| from + i)
}

/// The next index at or after `from` where an opener (or an interpolation bracket) may start,
/// or the line's end.
#[inline(always)]
fn next_opener(lang: &Language, line: &[u8], from: usize) -> usize {
    let hay = &line[from..];
    let found = match lang.opener_bytes {
        Some(few) => find_any(few, hay),
        None => hay.iter().position(|&b| lang.opener_first[usize::from(b)]),
    };
    found.map_or(line.len(), |k| from + k)
}

/// Bytes after which a shell word begins.
fn is_word_break(b: u8) -> bool {
    is_ws(b) || matches!(b, b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>')
}

pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| is_ws(b))
}

/// A non-blank line outside comments and strings with no important syntax, from its first
/// non-blank byte on: only a leading line-comment marker makes it anything but code. Inlined:
/// it runs for most lines, and with two callers (whole and streamed) LLVM stopped inlining it
/// by itself, which cost 7% more instructions on the kernel's large headers.
#[inline(always)]
fn classify_plain(lang: &Language, rest: &[u8]) -> LineKind {
    if lang.line_comments.iter().any(|c| {
        has_prefix(rest, c)
            || (lang.bare_markers && is_bare_marker(&rest[..rest.len().min(REACH)], c))
    }) {
        LineKind::Comment
    } else {
        LineKind::Code
    }
}

/// How deep interpolations nest (`` `${`${…`` ``): beyond, an interpolation's opener is text in
/// its string, so a file of nothing but openers takes no more memory than others.
pub const MAX_FRAMES: usize = 1024;

/// An interpolation being read: the code inside string `idx`'s `${`, `depth` brackets deep.
#[derive(Debug, Clone, Copy)]
struct Frame {
    idx: usize,
    depth: u32,
}

/// Whether `rest` is a line-comment marker that ends in a space (`REM `) standing alone: the
/// space separates the marker from its text, so a bare `REM` line is a comment too.
#[inline(always)]
fn is_bare_marker(rest: &[u8], marker: &[u8]) -> bool {
    match marker.split_last() {
        Some((b' ', word)) if !word.is_empty() => rest
            .strip_prefix(word)
            .is_some_and(|tail| tail.iter().all(|&b| is_ws(b))),
        _ => false,
    }
}

/// What the state machine keeps beside [`State`] while it reads one file.
#[derive(Default)]
struct Scratch {
    /// The interpolations the scanner is inside, innermost last: in `Normal` state with frames,
    /// a closing bracket at depth 1 returns to the string of the last frame.
    frames: Vec<Frame>,
    /// The end of the delimited raw string or here-document being read (`)xyz"`, `EOF`), which
    /// varies per literal.
    end: Vec<u8>,
    /// The lines that could end a here-document, by identifier. Built at the first marker, so
    /// checking that a marker has a terminator is a lookup, not a scan of the rest of the file
    /// per marker (past the index's budget, a read on per identifier: see `heredoc`).
    terminators: Option<Terminators>,
}

impl Scratch {
    /// Whether a line after the one being read ends a here-document named `word`.
    fn heredoc_ends(&mut self, word: &[u8], around: &mut Around) -> bool {
        let after = around.after;
        let index = self
            .terminators
            .get_or_insert_with(|| Terminators::build(around.ahead, after));
        index.any_after(word, after, around.ahead)
    }
}

/// How far along a line, either way from the byte being read, the rules that look along it
/// look: a regex or quote-like literal must close within it, a number, a here-document's word,
/// a block scalar's key and tail and a bare `REM`'s blanks are read within it, and a line's
/// indentation and terminator within its first `REACH` bytes; a line longer than it is no
/// operand to a doc string after it. So a line of any length can be classified a piece at a
/// time with this much of it on either side (see [`count_stream`]), with the counts of the
/// whole line. 64 KiB: longer than the longest regex literals of minified JavaScript.
pub const REACH: usize = 64 * 1024;

/// The byte-level state machine for one line, not blank; `state` (and `scratch` with it) carries over to
/// the next line. `around` is the rest of the file around the line: a doc string looks back at
/// what precedes it, a here-document must end after it.
fn classify_full(
    lang: &Language,
    line: &[u8],
    around: &mut Around,
    state: &mut State,
    scratch: &mut Scratch,
) -> LineKind {
    let whole = Part {
        bytes: line,
        offset: 0,
        to: line.len(),
        head: &line[..line.len().min(REACH)],
        first: true,
        last: true,
    };
    let mut progress = Progress::default();
    classify_part(lang, &whole, around, state, scratch, &mut progress);
    progress.kind.unwrap_or(LineKind::Code)
}

/// A line for [`classify_part`]: all of it, or one piece of a line too long to hold.
struct Part<'b> {
    /// The piece with up to [`REACH`] bytes of the line on either side (a whole line: itself).
    bytes: &'b [u8],
    /// Where `bytes` starts in the line.
    offset: usize,
    /// Where the piece ends in `bytes` (it starts where the last one ended).
    to: usize,
    /// The line's first [`REACH`] bytes, or all of it if shorter.
    head: &'b [u8],
    /// The line's first piece, and its last.
    first: bool,
    last: bool,
}

/// What carries from one piece of a line to the next in [`classify_part`].
#[derive(Default)]
pub(crate) struct Progress {
    /// Where the next piece is read from, in the line (a marker may end past a piece's end).
    i: usize,
    code: bool,
    continued: bool,
    heredoc: bool,
    scalar: bool,
    /// The rest of the line is a line comment.
    rest_ignored: bool,
    /// A byte that is not blank has been read (pieces of a long line only).
    started: bool,
    /// The line's kind, once it is known.
    kind: Option<LineKind>,
}

/// [`classify_full`] for one piece of a line: the state machine read from `progress.i` to the
/// piece's end; the line's kind is in `progress` after its last piece. Every rule looks at
/// most [`REACH`] bytes either way, so the pieces give what the whole line gives.
fn classify_part(
    lang: &Language,
    part: &Part,
    around: &mut Around,
    state: &mut State,
    scratch: &mut Scratch,
    progress: &mut Progress,
) {
    let head = part.head;
    if part.first {
        if let Some(kind) = line_start(lang, part, state, scratch) {
            progress.kind = Some(kind);
        }
    }
    if progress.kind.is_some() {
        return;
    }
    let line = part.bytes;
    let to = part.to;
    let Progress {
        mut code,
        mut continued,
        // A here-document opened on this line: its body starts on the next one.
        mut heredoc,
        // A block scalar opened on this line: likewise.
        mut scalar,
        mut rest_ignored,
        ..
    } = *progress;
    let mut i = progress.i.saturating_sub(part.offset);
    while i < to && !rest_ignored {
        let b = line[i];
        match *state {
            State::Normal => {
                if is_ws(b) {
                    i += 1;
                    continue;
                }
                if !lang.opener_first[usize::from(b)] {
                    // Code: nothing but an opener's first byte matters until the next one.
                    code = true;
                    i = next_opener(lang, &line[..to], i + 1);
                    continue;
                }
                // Interpolation brackets are in `opener_first` (languages with interpolation
                // only), so C pays nothing for this check.
                if let Some(top) = scratch.frames.last_mut() {
                    let interp = lang.strings[top.idx]
                        .interpolation
                        .as_ref()
                        .expect("frames are pushed for interpolating strings only");
                    if b == interp.close {
                        code = true;
                        top.depth -= 1;
                        if top.depth == 0 {
                            *state = State::Str(top.idx);
                            scratch.frames.pop();
                        }
                        i += 1;
                        continue;
                    }
                    if b == interp.nest {
                        top.depth += 1;
                    }
                }
                let rest = &line[i..];
                let found = lang.openers.iter().find(|(p, o)| {
                    has_prefix(rest, p)
                        || (lang.bare_markers
                            && *o == Opener::Line
                            && is_bare_marker(&rest[..rest.len().min(REACH)], p))
                });
                match found {
                    None => {
                        code = true;
                        i += 1;
                    }
                    // In a shell, `#` inside a word (`$#`, `${x#y}`, `a#b`) is not a comment.
                    Some((_, Opener::Line))
                        if lang.word_comments && i > 0 && !is_word_break(line[i - 1]) =>
                    {
                        code = true;
                        i += 1;
                    }
                    Some((_, Opener::Line)) => rest_ignored = true,
                    Some((p, Opener::Block(idx))) => {
                        *state = State::Block {
                            idx: *idx,
                            depth: 1,
                        };
                        i += p.len();
                    }
                    Some((p, Opener::Doc(idx))) => {
                        // A doc string is a comment only where a statement could start: not
                        // after code on its line, nor as an argument or item continued from
                        // the line before (`execute(\n    """SELECT …"""`).
                        code = code || continues_expression(lang, around);
                        *state = if code {
                            State::Str(*idx)
                        } else {
                            State::Doc(*idx)
                        };
                        i += p.len();
                    }
                    Some((p, Opener::Str(idx))) => {
                        code = true;
                        let before = &line[i.saturating_sub(REACH)..i];
                        if !(lang.strings[*idx].not_in_number && in_number(before)) {
                            *state = State::Str(*idx);
                        }
                        i += p.len();
                    }
                    Some((p, Opener::Escape)) => {
                        code = true;
                        i += p.len() + 1;
                    }
                    Some((p, Opener::Code)) => {
                        code = true;
                        i += p.len();
                    }
                    Some((p, Opener::Scalar)) => {
                        code = true;
                        let (near, at) = reach(line, i);
                        scalar = scalar || opens_block_scalar(near, at, p.len());
                        i += p.len();
                    }
                    Some((p, Opener::Delimited(idx))) => {
                        code = true;
                        let d = &lang.delimited[*idx];
                        let after = i + p.len();
                        match d.delimiter_len(&line[after..]) {
                            Some(n) => {
                                let end = &mut scratch.end;
                                end.clear();
                                end.extend_from_slice(&d.close);
                                end.extend_from_slice(&line[after..after + n]);
                                end.extend_from_slice(&d.suffix);
                                *state = State::Delimited;
                                i = after + n + d.open.len();
                            }
                            // Not a raw string after all: the prefix is code, and its last
                            // byte may still open an ordinary string (`R"` then `"`).
                            None => i += 1,
                        }
                    }
                    Some((p, Opener::Quoted(parts))) => {
                        code = true;
                        let (near, at) = reach(line, i);
                        let lo = i - at;
                        i = match quote_like(near, at, p.len(), *parts) {
                            Quote::Ends(at) => lo + at,
                            Quote::Open(at, open) => {
                                *state = open;
                                lo + at
                            }
                            Quote::Not => i + 1,
                        };
                    }
                    Some((_, Opener::Slash)) => {
                        code = true;
                        let (near, at) = reach(line, i);
                        i = match regex_end(lang, near, at) {
                            Some(end) => i - at + end,
                            None => i + 1,
                        };
                    }
                    Some((p, Opener::Heredoc)) => {
                        code = true;
                        let at = i + p.len();
                        // `<<<` is a bash here-string, not `<` then a here-document.
                        let doubled = i > 0 && line[i - 1] == p[0];
                        let near = &line[at..line.len().min(i + REACH)];
                        match heredoc_word(near).filter(|_| !doubled && !heredoc) {
                            // Only a marker whose terminator comes later is one (not `x << y`).
                            Some((n, word)) if scratch.heredoc_ends(word, around) => {
                                scratch.end = word.to_vec();
                                heredoc = true;
                                i = at + n;
                            }
                            _ => i += 1,
                        }
                    }
                }
            }
            State::Delimited => {
                code = true;
                let end = &scratch.end;
                // Searched to the piece's end only: the next piece goes on from there.
                i = next_candidate(&line[..to], i, end[0], None);
                if i == to {
                    break;
                }
                if has_prefix(&line[i..], end) {
                    *state = State::Normal;
                    i += end.len();
                } else {
                    i += 1;
                }
            }
            State::Block { idx, depth } => {
                let (open, close) = &lang.blocks[idx];
                // Jump straight to the next byte that could end (or, nesting, open) a comment.
                let nest = lang.nested.then_some(open[0]);
                i = next_candidate(&line[..to], i, close[0], nest);
                if i == to {
                    break;
                }
                let rest = &line[i..];
                if has_prefix(rest, close) {
                    *state = if depth == 1 {
                        State::Normal
                    } else {
                        State::Block {
                            idx,
                            depth: depth - 1,
                        }
                    };
                    i += close.len();
                } else if lang.nested && has_prefix(rest, open) {
                    *state = State::Block {
                        idx,
                        depth: depth + 1,
                    };
                    i += open.len();
                } else {
                    i += 1;
                }
            }
            State::Str(idx) | State::Doc(idx) => {
                let spec = &lang.strings[idx];
                // A non-blank line that is in a string at any point has code on it: the string's
                // contents or its closing delimiter.
                if matches!(*state, State::Str(_)) {
                    code = true;
                }
                let interp = spec.interpolation.as_ref();
                let piece = &line[..to];
                i = match interp {
                    Some(it) => next_of_three(piece, i, spec.end[0], it.open[0], spec.escape),
                    None => next_candidate(piece, i, spec.end[0], spec.escape),
                };
                if i == to {
                    break;
                }
                // Before the escape: Swift's `\(` begins with it.
                if let Some(it) = interp.filter(|it| has_prefix(&line[i..], &it.open)) {
                    if it.open.len() == 1 && line.get(i + 1) == Some(&it.open[0]) {
                        i += 2; // `{{` in C# and Python: a literal brace.
                    } else if scratch.frames.len() == MAX_FRAMES {
                        // Deeper than any real code nests: text, so memory stays bounded.
                        i += it.open.len();
                    } else {
                        scratch.frames.push(Frame { idx, depth: 1 });
                        *state = State::Normal;
                        i += it.open.len();
                    }
                } else if Some(line[i]) == spec.escape {
                    // An escape as the line's last byte continues the string on the next line.
                    continued = matches!(&line[i + 1..], b"" | b"\r");
                    i += 2;
                } else if has_prefix(&line[i..], &spec.end) {
                    *state = State::Normal;
                    i += spec.end.len();
                } else {
                    i += 1;
                }
            }
            State::Quoted {
                open,
                close,
                depth,
                parts,
            } => {
                code = true;
                let near = &line[..line.len().min(i + REACH)];
                match quoted_body(near, i, open, close, depth, parts) {
                    Quote::Ends(at) => {
                        *state = State::Normal;
                        i = at;
                    }
                    Quote::Open(at, more) => {
                        *state = more;
                        i = at;
                    }
                    Quote::Not => rest_ignored = true,
                }
            }
            State::LineBlock(_) | State::Heredoc | State::Scalar(_) => rest_ignored = true,
        }
    }
    progress.i = part.offset + i;
    progress.code = code;
    progress.continued = continued;
    progress.heredoc = heredoc;
    progress.scalar = scalar;
    progress.rest_ignored = rest_ignored;
    if !part.last {
        return;
    }
    if let State::Str(idx) = *state {
        if !lang.strings[idx].multiline && !continued {
            *state = State::Normal;
        }
    }
    // The end of the line also ends a single-line string's interpolation, so a stray `{` in
    // one cannot turn the rest of the file into code.
    if let Some(k) = scratch
        .frames
        .iter()
        .position(|f| !lang.strings[f.idx].multiline)
    {
        scratch.frames.truncate(k);
        if matches!(*state, State::Str(_)) && !continued {
            *state = State::Normal;
        }
    }
    if scalar && *state == State::Normal {
        *state = State::Scalar(indent_of(head));
    }
    if heredoc && *state == State::Normal {
        *state = State::Heredoc;
    }
    progress.kind = Some(if code {
        LineKind::Code
    } else {
        LineKind::Comment
    });
}

/// The rules for a line's start, which read its first [`REACH`] bytes: the end of a
/// here-document, a block scalar or a line block, the start of a line block. `Some`: the kind
/// of the whole line, which the state machine does not read.
fn line_start(
    lang: &Language,
    part: &Part,
    state: &mut State,
    scratch: &Scratch,
) -> Option<LineKind> {
    let head = part.head;
    if *state == State::Heredoc {
        if ends_heredoc(head, &scratch.end) {
            *state = State::Normal;
        }
        return Some(LineKind::Code);
    }
    if let State::Scalar(indent) = *state {
        if indent_of(head) > indent {
            return Some(LineKind::Code);
        }
        *state = State::Normal;
    }
    if let State::LineBlock(idx) = *state {
        if head.starts_with(&lang.line_blocks[idx].1) {
            *state = State::Normal;
        }
        return Some(LineKind::Comment);
    }
    if *state == State::Normal {
        if let Some(idx) = lang
            .line_blocks
            .iter()
            .position(|(s, _)| head.starts_with(s))
        {
            *state = State::LineBlock(idx);
            return Some(LineKind::Comment);
        }
    }
    None
}

/// The bytes of `line` within [`REACH`] of `at`, and where `at` is in them.
fn reach(line: &[u8], at: usize) -> (&[u8], usize) {
    let lo = at.saturating_sub(REACH);
    (&line[lo..line.len().min(at + REACH)], at - lo)
}

/// How many earlier lines [`continues_expression`] looks through for one with code: comment
/// lines are skipped, but a doc string deep in a file of comments is no operand anyway.
const LOOKBACK: usize = 64;

/// Whether a line continues an expression: the last byte of code before it (not of a trailing
/// comment, nor on a comment-only line) opens a bracket, separates items, assigns or is a
/// binary operator or `\\`. A line of nothing but strings (`"""more"""`) continues whatever the
/// line before it does: implicit concatenation.
fn continues_expression(lang: &Language, around: &Around) -> bool {
    match lookback(lang, around.before).then(around.history) {
        Lookback::Found { continues, .. } => continues,
        Lookback::Open { .. } => false,
    }
}

/// What the non-blank lines at the end of some text say to [`continues_expression`], so that a
/// streamed file can drop a chunk and keep what its lines said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookback {
    /// The `lines`-th line from the end settles it (`LOOKBACK + 1` lines: no, too far back).
    Found { lines: usize, continues: bool },
    /// `lines` lines that do not (comments, blanks or strings only), then the text's start.
    Open { lines: usize },
}

impl Lookback {
    /// What this, the lines after `earlier`, says with them.
    fn then(self, earlier: Lookback) -> Lookback {
        let Lookback::Open { lines } = self else {
            return self;
        };
        match earlier {
            Lookback::Found {
                lines: k,
                continues,
            } => Lookback::Found {
                lines: (lines + k).min(LOOKBACK + 1),
                continues: continues && lines + k <= LOOKBACK,
            },
            Lookback::Open { lines: k } if lines + k > LOOKBACK => Lookback::Found {
                lines: LOOKBACK + 1,
                continues: false,
            },
            Lookback::Open { lines: k } => Lookback::Open { lines: lines + k },
        }
    }
}

/// Reads the lines of `before` (whole lines) back from its end, as far as [`LOOKBACK`] lines.
fn lookback(lang: &Language, before: &[u8]) -> Lookback {
    let mut rest = before;
    for lines in 1..=LOOKBACK {
        let Some(end) = rest.iter().rposition(|&b| !is_ws(b)) else {
            return Lookback::Open { lines: lines - 1 };
        };
        rest = &rest[..=end];
        let line_start = memrchr(b'\n', rest).map_or(0, |k| k + 1);
        // Of a line longer than `REACH`, its last `REACH` bytes are read: a streamed file
        // does not hold more of it.
        let line_end = memchr(b'\n', &before[end..]).map_or(before.len(), |k| end + k);
        let line = match line_end - line_start > REACH {
            true => &before[line_end - REACH..line_end],
            false => &rest[line_start..],
        };
        if let Some(continues) = continues_after(lang, line) {
            return Lookback::Found { lines, continues };
        }
        rest = &rest[..line_start];
    }
    Lookback::Found {
        lines: LOOKBACK + 1,
        continues: false,
    }
}

/// Whether a line with code continues an expression (its last byte of code opens a bracket,
/// separates items, assigns or is a binary operator or `\\`); `None`: it has no code but
/// strings, if any, so the line before it settles it.
fn continues_after(lang: &Language, line: &[u8]) -> Option<bool> {
    match last_code(lang, line) {
        LastCode::Nothing | LastCode::OnlyStrings => None,
        LastCode::Byte(b) => Some(matches!(
            b,
            b'(' | b'[' | b'{' | b',' | b'=' | b'\\' | b'+' | b'%' | b'|' | b'&'
        )),
    }
}

/// What [`last_code`] found on a line.
enum LastCode {
    /// No code: blank or comments only.
    Nothing,
    /// Nothing but complete strings.
    OnlyStrings,
    /// The last byte of code (a string's closing quote included).
    Byte(u8),
}

/// The last code on `line`, read from its start: a line comment ends the code, a block comment
/// on the line is skipped, a block comment's end with no start before it (the tail of one from
/// earlier lines) drops what precedes it, and a string is skipped whole, so a `#` inside one is
/// no comment. A string left open at the line's end means the line began inside a multi-line
/// string (its closing `""",`): then the line's last non-blank byte is taken, as it stands.
fn last_code(lang: &Language, line: &[u8]) -> LastCode {
    let mut last = LastCode::Nothing;
    let mut code_seen = false;
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if is_ws(rest[0]) {
            i += 1;
        } else if let Some((open, close)) = lang.blocks.iter().find(|(o, _)| has_prefix(rest, o)) {
            i += open.len();
            while i < line.len() && !has_prefix(&line[i..], close) {
                i += 1;
            }
            i += close.len();
        } else if let Some((_, close)) = lang.blocks.iter().find(|(_, c)| has_prefix(rest, c)) {
            last = LastCode::Nothing;
            code_seen = false;
            i += close.len();
        } else if lang.line_comments.iter().any(|c| has_prefix(rest, c)) {
            break;
        } else if let Some(s) = string_at(lang, rest) {
            i += s.start.len();
            while i < line.len() && !has_prefix(&line[i..], &s.end) {
                i += if Some(line[i]) == s.escape { 2 } else { 1 };
            }
            if i >= line.len() {
                let end = line.iter().rposition(|&b| !is_ws(b));
                return end.map_or(LastCode::Nothing, |k| LastCode::Byte(line[k]));
            }
            i += s.end.len();
            if !code_seen {
                last = LastCode::OnlyStrings;
            } else {
                last = LastCode::Byte(s.end[s.end.len() - 1]);
            }
        } else {
            code_seen = true;
            last = LastCode::Byte(rest[0]);
            i += 1;
        }
    }
    last
}

/// The string (or doc string) whose opener starts `rest`, the longest opener first.
fn string_at<'l>(lang: &'l Language, rest: &[u8]) -> Option<&'l crate::language::StringSpec> {
    lang.openers.iter().find_map(|(p, o)| match o {
        Opener::Str(idx) | Opener::Doc(idx) if has_prefix(rest, p) => Some(&lang.strings[*idx]),
        _ => None,
    })
}

/// Whether the bytes before a quote end a number (a token that starts with a digit), where
/// the quote is a digit separator: `0xFFFF'FFFF`, `1'000'000`.
fn in_number(before: &[u8]) -> bool {
    let token = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'.'))
        .count();
    token > 0 && before[before.len() - token].is_ascii_digit()
}

/// The indentation of `line`: its leading spaces and tabs.
fn indent_of(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// Whether the block scalar indicator at `line[at..at + len]` opens a block scalar: it follows
/// a key (`key:`), a `-` or `---`, or nothing (optionally after an `&anchor` or `!tag`), and
/// only its chomping and indentation indicators (`|-`, `>+2`), then blanks or a comment,
/// follow it. Elsewhere (`a > b`, `x | y`) it is plain text.
fn opens_block_scalar(line: &[u8], at: usize, len: usize) -> bool {
    if at > 0 && !is_ws(line[at - 1]) {
        return false;
    }
    let after = &line[at + len..];
    let n = after
        .iter()
        .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
        .count();
    let tail = &after[n..];
    let tail_ok = match tail.iter().position(|&b| !is_ws(b)) {
        None => true,
        Some(k) => k > 0 && tail[k] == b'#',
    };
    let mut words = line[..at]
        .split(|&b| is_ws(b))
        .filter(|w| !w.is_empty())
        .rev()
        .skip_while(|w| matches!(w[0], b'&' | b'!'));
    tail_ok
        && words
            .next()
            .is_none_or(|w| w.ends_with(b":") || w == b"-" || w == b"---")
}

/// [`next_candidate`] for a string with interpolation: the next `end`, `open` or escape byte.
#[inline(always)]
fn next_of_three(line: &[u8], from: usize, end: u8, open: u8, escape: Option<u8>) -> usize {
    let hay = &line[from..];
    let found = match escape {
        Some(e) => find_any([end, open, e], hay),
        None => find_any([end, open], hay),
    };
    found.map_or(line.len(), |i| from + i)
}

/// Where a quote-like literal leaves the scanner.
enum Quote {
    /// It ends on this line, before this index.
    Ends(usize),
    /// It goes on past the line (bracketed): this state, from this index (the line's end).
    Open(usize, State),
    /// It is no literal (`$s`, `-s`, `s =>`, a `/` that is not closed on its line).
    Not,
}

/// The bytes before a quote-like operator that make it part of a word or variable instead:
/// `$s`, `@m`, `%q`, `&y`, `*q`, `-s` (a file test), `->s`, `::q`, `'`.
fn quote_blocked_after(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_$@%&*->:'".contains(&b)
}

/// A quote-like operator (`p_len` bytes) at `line[at..]`, of `parts` parts: Perl's `q{…}`,
/// `qw(…)`, `m!…!`, `s/"//g`, `s{…}{…}`, `tr/a-z//`, Ruby's `%r{…}`, `%w[…]`. The delimiter
/// is the byte right after the operator: any ASCII punctuation but `= ; ) ] } > :`
/// (`s => 1`, `$h{s}`, `y:`); brackets pair and nest, and such a literal may span lines;
/// any other delimiter must close on the line.
fn quote_like(line: &[u8], at: usize, p_len: usize, parts: u8) -> Quote {
    if at > 0 && quote_blocked_after(line[at - 1]) {
        return Quote::Not;
    }
    let d = match line.get(at + p_len) {
        Some(&d) if d.is_ascii_punctuation() && !b"=;)]}>:".contains(&d) => d,
        _ => return Quote::Not,
    };
    let (open, close) = QUOTE_BRACKETS
        .iter()
        .find(|(o, _)| *o == d)
        .map_or((0, d), |&(o, c)| (o, c));
    match quoted_body(line, at + p_len + 1, open, close, 1, parts - 1) {
        // Unclosed with a plain delimiter: a literal does not span lines that way here.
        Quote::Open(..) if open == 0 => Quote::Not,
        other => other,
    }
}

/// Reads a quote-like literal's body from `line[i..]`: `depth` levels of `open` (0: none)
/// deep in its current part, with `parts` more to come.
fn quoted_body(
    line: &[u8],
    mut i: usize,
    open: u8,
    close: u8,
    mut depth: u32,
    mut parts: u8,
) -> Quote {
    while i < line.len() {
        let b = line[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        i += 1;
        if open != 0 && b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth > 0 {
                continue;
            }
            if parts == 0 {
                return Quote::Ends(i);
            }
            parts -= 1;
            depth = 1;
            if open != 0 {
                // `s{a}{b}` or `s{a} {b}`: the next part has brackets of its own (or any
                // delimiter: `s{a}/b/`).
                while i < line.len() && is_inline_ws(line[i]) {
                    i += 1;
                }
                let Some(&d) = line.get(i) else {
                    // The next part on a later line: rare enough to treat the literal as done.
                    return Quote::Ends(i);
                };
                let (o, c) = QUOTE_BRACKETS
                    .iter()
                    .find(|(o, _)| *o == d)
                    .map_or((0, d), |&(o, c)| (o, c));
                return match quoted_body(line, i + 1, o, c, 1, parts) {
                    Quote::Open(..) if o == 0 => Quote::Ends(line.len()),
                    other => other,
                };
            }
        }
    }
    if open == 0 {
        return Quote::Open(line.len(), State::Normal);
    }
    Quote::Open(
        line.len(),
        State::Quoted {
            open,
            close,
            depth,
            parts,
        },
    )
}

/// Where a `/` at `line[at]` that opens a regex literal ends (just after its closing `/`), or
/// `None` if it divides: it opens one after a `regex_after` token (an operator, `(`, `,`,
/// `return`…) or at the start of the line, and must close on its line (`[/]` inside a class
/// and `\/` do not close it).
fn regex_end(lang: &Language, line: &[u8], at: usize) -> Option<usize> {
    let before = &line[..at];
    let code_end = before.iter().rposition(|&b| !is_ws(b)).map_or(0, |k| k + 1);
    let before = &before[..code_end];
    if !before.is_empty() {
        let word_start = before
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .map_or(0, |k| k + 1);
        let token_ok = |t: &[u8]| {
            before.ends_with(t)
                && (!t[0].is_ascii_alphanumeric() || before.len() - t.len() == word_start)
        };
        if !lang.regex_after.iter().any(|t| token_ok(t)) {
            return None;
        }
    }
    let mut class = false;
    let mut i = at + 1;
    while i < line.len() {
        match line[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return (i > at + 1).then_some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The word after a here-document marker (`<<`): an optional `-` or `~`, then an identifier,
/// bare or quoted (`EOF`, `'EOF'`, `"EOF"`, `\EOF`). Returns the bytes it spans and the
/// identifier.
fn heredoc_word(rest: &[u8]) -> Option<(usize, &[u8])> {
    let mut k = usize::from(matches!(rest.first(), Some(b'-' | b'~')));
    let quote = rest
        .get(k)
        .copied()
        .filter(|b| matches!(b, b'\'' | b'"' | b'\\'));
    k += usize::from(quote.is_some());
    let start = k;
    if !rest
        .get(k)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return None;
    }
    while rest
        .get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        k += 1;
    }
    let word = &rest[start..k];
    match quote {
        Some(q @ (b'\'' | b'"')) => (rest.get(k) == Some(&q)).then_some((k + 1, word)),
        _ => Some((k, word)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utf16(text: &str, little: bool) -> Vec<u8> {
        let mut out = if little {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text.encode_utf16() {
            out.extend(if little {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            });
        }
        out
    }

    #[test]
    fn utf16_with_a_mark_decodes_in_either_byte_order() {
        let text = "// caf\u{e9} \u{1F600}\nint x;\n";
        assert_eq!(decode_utf16(&utf16(text, true)).unwrap(), text.as_bytes());
        assert_eq!(decode_utf16(&utf16(text, false)).unwrap(), text.as_bytes());
        // No mark, a UTF-32 mark, a lone surrogate.
        assert_eq!(decode_utf16(b"/\0/\0"), None);
        assert_eq!(decode_utf16(b"\xFF\xFE\0\0/\0\0\0"), None);
        assert_eq!(
            decode_utf16(b"\xFF\xFE\x00\xD8a\0").unwrap(),
            "\u{FFFD}a".as_bytes()
        );
    }

    proptest! {
        #[test]
        fn find_byte_agrees_with_memchr(
            hay in prop::collection::vec(prop::sample::select(vec![0u8, b'\n', b'*', 0x80, 0xFF, b'a']), 0..300),
            needle in prop::sample::select(vec![0u8, b'\n', b'*', 0x80, 0xFF]),
        ) {
            prop_assert_eq!(find_byte(needle, &hay), memchr(needle, &hay));
        }

        #[test]
        fn find_any_agrees_with_memchr2_and_memchr3(
            hay in prop::collection::vec(prop::sample::select(vec![0u8, b'\n', b'*', b'/', 0x80, 0xFF, b'a']), 0..300),
            skip in 0usize..80,
            a in prop::sample::select(vec![0u8, b'\n', b'*', 0xFF]),
            b in prop::sample::select(vec![b'/', b'*', 0x80]),
            c in prop::sample::select(vec![b'a', b'\n']),
        ) {
            let hay = &hay[skip.min(hay.len())..];
            prop_assert_eq!(find_any([a, b], hay), memchr2(a, b, hay));
            prop_assert_eq!(find_any([a, b, c], hay), memchr3(a, b, c, hay));
        }
    }
}
