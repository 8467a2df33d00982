//! Counting a run of plain lines 64 bytes at a time, without a branch per line.
//!
//! A plain line (outside comments and strings, no important syntax on it: see `count`) is
//! blank if it is whitespace only, a comment if its first non-blank bytes are a line-comment
//! marker, and code otherwise. For a block of 64 bytes, bit masks say which bytes are newlines,
//! which are not whitespace within a line, and where a marker starts; one subtraction then
//! finds every line's first byte that is not blank (the borrow from a line's start runs up to
//! it), and three population counts give the block's blanks, comments and code. This is the
//! same classification as the per-line fast path, which the proptests check.

use crate::count::{is_inline_ws, LineKind};

/// Bytes per block: one bit of a `u64` each.
const BLOCK: usize = 64;

/// The longest line-comment marker counted here, how many markers at most, and how many
/// distinct bytes they may have together.
const MAX_MARKER: usize = 4;
const MAX_MARKERS: usize = 4;
const MAX_BYTES: usize = 4;

/// A language's line-comment markers, in the form the block counter reads them.
#[derive(Debug, Clone)]
pub struct PlainMarkers {
    /// Each marker's bytes and length.
    markers: Vec<([u8; MAX_MARKER], usize)>,
    shape: Shape,
    /// Bytes a block's marker search reads past its end.
    look: usize,
}

/// The markers' shape, for a marker search to suit: most languages have one marker of one
/// byte (`#`) or of one byte twice (`//`, `--`).
#[derive(Debug, Clone)]
enum Shape {
    None,
    One(u8),
    Double(u8),
    /// Anything else: the markers' distinct bytes (unused ones repeat the first), each
    /// marker's bytes as indexes into them.
    General {
        bytes: [u8; MAX_BYTES],
        markers: Vec<([usize; MAX_MARKER], usize)>,
    },
}

impl PlainMarkers {
    /// No markers: lines are blank or not.
    pub const NONE: PlainMarkers = PlainMarkers {
        markers: Vec::new(),
        shape: Shape::None,
        look: 0,
    };

    /// The markers, if the block counter can tell plain lines apart by them: at most four,
    /// each one to four bytes long, with at most four distinct bytes. `bare`: a marker also
    /// matches without its trailing space (`REM`), which needs a look at the rest of the line;
    /// not counted here.
    pub fn new(line_comments: &[Box<[u8]>], bare: bool) -> Option<PlainMarkers> {
        if bare || line_comments.len() > MAX_MARKERS {
            return None;
        }
        let mut markers = Vec::new();
        let mut distinct: Vec<u8> = Vec::new();
        for m in line_comments {
            if m.is_empty() || m.len() > MAX_MARKER {
                return None;
            }
            let mut bytes = [0; MAX_MARKER];
            bytes[..m.len()].copy_from_slice(m);
            markers.push((bytes, m.len()));
            for &b in m.iter() {
                if !distinct.contains(&b) {
                    distinct.push(b);
                }
            }
        }
        if distinct.len() > MAX_BYTES {
            return None;
        }
        let shape = match line_comments {
            [] => Shape::None,
            [m] if m.len() == 1 => Shape::One(m[0]),
            [m] if m.len() == 2 && m[0] == m[1] => Shape::Double(m[0]),
            _ => {
                let mut bytes = [distinct[0]; MAX_BYTES];
                bytes[..distinct.len()].copy_from_slice(&distinct);
                let index = |b: u8| distinct.iter().position(|&d| d == b).unwrap_or(0);
                let markers = markers
                    .iter()
                    .map(|(m, len)| {
                        let mut at = [0; MAX_MARKER];
                        for (a, &b) in at.iter_mut().zip(&m[..*len]) {
                            *a = index(b);
                        }
                        (at, *len)
                    })
                    .collect();
                Shape::General { bytes, markers }
            }
        };
        let look = markers.iter().map(|&(_, n)| n - 1).max().unwrap_or(0);
        Some(PlainMarkers {
            markers,
            shape,
            look,
        })
    }

    /// Whether a marker starts `rest`.
    fn starts(&self, rest: &[u8]) -> bool {
        self.markers
            .iter()
            .any(|(m, len)| rest.starts_with(&m[..*len]))
    }
}

/// A block's masks: bit `i` for byte `i`.
struct Masks<const N: usize> {
    newline: u64,
    /// Whitespace within a line (`is_inline_ws`).
    inline_ws: u64,
    /// Where each probed byte is.
    probes: [u64; N],
}

/// Lines per [`LineKind`] and where the per-line scanner goes on: what [`count_plain`] found.
pub struct Plain {
    /// Lines of each kind, indexed by `LineKind as usize`.
    pub kinds: [u64; 3],
    /// The start of the first line not counted (`from` if none was).
    pub resume: usize,
    /// Where the blocks read end (`to` at most).
    pub counted: usize,
}

/// Counts the lines of `bytes` from `from` (a line's start) whose newline comes before `to`,
/// all of them plain lines, a block at a time. The lines after the last newline before `to`
/// are left to the caller, from `resume` on.
#[inline]
pub fn count_plain(markers: &PlainMarkers, bytes: &[u8], from: usize, to: usize) -> Plain {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: the CPU has the features `count_avx2` is compiled for.
            return unsafe { count_avx2(markers, bytes, from, to) };
        }
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has `popcnt`, the one feature `count_popcnt` is compiled for.
            return unsafe { count_popcnt(markers, bytes, from, to) };
        }
    }
    count_shape::<Baseline>(markers, bytes, from, to)
}

/// [`count_shape`] with the population count in one instruction (not in x86-64's baseline).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn count_popcnt(markers: &PlainMarkers, bytes: &[u8], from: usize, to: usize) -> Plain {
    count_shape::<Baseline>(markers, bytes, from, to)
}

/// [`count_shape`] reading 32 bytes per instruction, with `popcnt`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn count_avx2(markers: &PlainMarkers, bytes: &[u8], from: usize, to: usize) -> Plain {
    count_shape::<Avx2>(markers, bytes, from, to)
}

/// [`count_blocks`] with the marker search the markers' shape needs.
#[inline(always)]
fn count_shape<V: Lanes>(pm: &PlainMarkers, bytes: &[u8], from: usize, to: usize) -> Plain {
    let look = pm.look;
    match &pm.shape {
        Shape::None => count_blocks::<V, _>(pm, bytes, from, to, [], |_, _| 0),
        Shape::One(b) => count_blocks::<V, _>(pm, bytes, from, to, [*b], |e, _| e[0]),
        Shape::Double(b) => count_blocks::<V, _>(pm, bytes, from, to, [*b], |e, chunk| {
            e[0] & ((e[0] >> 1) | (u64::from(chunk[BLOCK] == *b) << 63))
        }),
        Shape::General {
            bytes: probes,
            markers,
        } => {
            count_blocks::<V, _>(pm, bytes, from, to, *probes, |e, chunk| {
                // Each probed byte's bits in the `look` bytes after the block.
                let mut after = [0u64; MAX_BYTES];
                for (k, a) in after.iter_mut().enumerate() {
                    for t in 0..look {
                        *a |= u64::from(chunk[BLOCK + t] == probes[k]) << t;
                    }
                }
                let mut found = 0;
                for (at, len) in markers {
                    let mut all = !0u64;
                    for (j, &k) in at.iter().enumerate().take(*len) {
                        all &= match j {
                            0 => e[k],
                            _ => (e[k] >> j) | (after[k] << (64 - j)),
                        };
                    }
                    found |= all;
                }
                found
            })
        }
    }
}

/// The loop of [`count_plain`]; `marker` gives where a marker starts from the probes' masks
/// and the block (with `look` bytes after it).
#[inline(always)]
fn count_blocks<V: Lanes, const N: usize>(
    pm: &PlainMarkers,
    bytes: &[u8],
    from: usize,
    to: usize,
    probes: [u8; N],
    marker: impl Fn(&[u64; N], &[u8]) -> u64,
) -> Plain {
    let look = pm.look;
    let mut kinds = [0u64; 3];
    // Bit 0 of the next block's line starts: a line starts there, or the line going on into it
    // has not found its first byte that is not blank yet (the borrow carried).
    let mut carry = 1u64;
    // The last block with a newline, and its newlines.
    let (mut newline_at, mut newlines) = (0, 0u64);
    let mut step = |m: &Masks<N>, markers: u64, at: usize| {
        // Bytes that end the search for a line's first byte: a newline (a blank line) or a
        // byte that is not blank.
        let stop = !m.inline_ws;
        let starts = (m.newline << 1) | carry;
        // The borrow from each line's start clears the first stop at or after it, and only it:
        // each line's stops end at its newline, before the next line's start.
        let (diff, borrow) = stop.overflowing_sub(starts);
        let found = stop & !diff;
        let firsts = found & !m.newline;
        let comments = firsts & markers;
        kinds[LineKind::Blank as usize] += u64::from((found & m.newline).count_ones());
        kinds[LineKind::Comment as usize] += u64::from(comments.count_ones());
        kinds[LineKind::Code as usize] += u64::from((firsts & !markers).count_ones());
        if m.newline != 0 {
            (newline_at, newlines) = (at, m.newline);
        }
        carry = (m.newline >> 63) | u64::from(borrow);
    };
    let mut p = from;
    while p + BLOCK <= to && p + BLOCK + look <= bytes.len() {
        let chunk = &bytes[p..p + BLOCK + look];
        let m = V::masks(chunk, probes);
        step(&m, marker(&m.probes, chunk), p);
        p += BLOCK;
    }
    // The rest, from a copy padded to a whole block: the bytes from `to` on are taken for
    // blanks within a line, which end no line and start none.
    while p < to {
        let mut padded = [0u8; BLOCK + MAX_MARKER];
        let n = (bytes.len() - p).min(BLOCK + look);
        padded[..n].copy_from_slice(&bytes[p..p + n]);
        let chunk = &padded[..BLOCK + look];
        let mut m = V::masks(chunk, probes);
        let valid = to - p;
        if valid < BLOCK {
            let keep = (1u64 << valid) - 1;
            m.newline &= keep;
            m.inline_ws |= !keep;
        }
        step(&m, marker(&m.probes, chunk), p);
        p += BLOCK;
    }
    let end = p.min(to);
    let resume = match newlines {
        0 => from,
        n => newline_at + 64 - n.leading_zeros() as usize,
    };
    // The line after the last newline is the caller's: if its first byte that is not blank
    // was found (no borrow carried), it was counted here.
    if resume < end && carry == 0 {
        let first = bytes[resume..end]
            .iter()
            .position(|&b| !is_inline_ws(b))
            .map_or(resume, |k| resume + k);
        // As the block looked for a marker: in the bytes as they are, `to` or not.
        let kind = match pm.starts(&bytes[first..]) {
            true => LineKind::Comment,
            false => LineKind::Code,
        };
        kinds[kind as usize] -= 1;
    }
    Plain {
        kinds,
        resume,
        counted: end,
    }
}

/// How a block's masks are computed.
trait Lanes {
    /// The masks of `chunk[..BLOCK]`: its newlines, its blanks within a line and where each
    /// of `probes` is.
    fn masks<const N: usize>(chunk: &[u8], probes: [u8; N]) -> Masks<N>;
}

/// With what every CPU of the architecture has: SSE2 on x86-64, a byte at a time elsewhere.
struct Baseline;

/// With AVX2, 32 bytes at a time: only inside a function compiled for it.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Lanes for Baseline {
    #[inline(always)]
    fn masks<const N: usize>(chunk: &[u8], probes: [u8; N]) -> Masks<N> {
        use std::arch::x86_64::{
            _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
        };
        assert!(chunk.len() >= BLOCK);
        let mut m = Masks {
            newline: 0,
            inline_ws: 0,
            probes: [0; N],
        };
        let ptr = chunk.as_ptr();
        // SAFETY: SSE2 is part of the x86_64 baseline; the unaligned 16-byte loads read
        // `chunk[..BLOCK]`, which is checked to be there.
        unsafe {
            for lane in 0..BLOCK / 16 {
                let v = _mm_loadu_si128(ptr.add(16 * lane).cast());
                let newline = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
                let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
                // `\t` to `\r` (9 to 13): `v - 9 <= 4` unsigned: `min(v - 9, 4) == v - 9`.
                let t = _mm_sub_epi8(v, _mm_set1_epi8(9));
                let control = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t);
                let ws = _mm_or_si128(space, _mm_andnot_si128(newline, control));
                let shift = 16 * lane;
                m.newline |= u64::from(_mm_movemask_epi8(newline) as u16) << shift;
                m.inline_ws |= u64::from(_mm_movemask_epi8(ws) as u16) << shift;
                for (mask, &b) in m.probes.iter_mut().zip(&probes) {
                    let eq = _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
                    *mask |= u64::from(_mm_movemask_epi8(eq) as u16) << shift;
                }
            }
        }
        m
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    #[inline(always)]
    fn masks<const N: usize>(chunk: &[u8], probes: [u8; N]) -> Masks<N> {
        use std::arch::x86_64::{
            _mm256_andnot_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
            _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
        };
        assert!(chunk.len() >= BLOCK);
        let mut m = Masks {
            newline: 0,
            inline_ws: 0,
            probes: [0; N],
        };
        let ptr = chunk.as_ptr();
        // SAFETY: called only from `count_avx2`, compiled for AVX2 and called only on a CPU
        // that has it; the unaligned 32-byte loads read `chunk[..BLOCK]`, checked to be there.
        unsafe {
            for lane in 0..BLOCK / 32 {
                let v = _mm256_loadu_si256(ptr.add(32 * lane).cast());
                let newline = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8));
                let space = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b' ' as i8));
                let t = _mm256_sub_epi8(v, _mm256_set1_epi8(9));
                let control = _mm256_cmpeq_epi8(_mm256_min_epu8(t, _mm256_set1_epi8(4)), t);
                let ws = _mm256_or_si256(space, _mm256_andnot_si256(newline, control));
                let shift = 32 * lane;
                m.newline |= u64::from(_mm256_movemask_epi8(newline) as u32) << shift;
                m.inline_ws |= u64::from(_mm256_movemask_epi8(ws) as u32) << shift;
                for (mask, &b) in m.probes.iter_mut().zip(&probes) {
                    let eq = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b as i8));
                    *mask |= u64::from(_mm256_movemask_epi8(eq) as u32) << shift;
                }
            }
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes for Baseline {
    #[inline(always)]
    fn masks<const N: usize>(chunk: &[u8], probes: [u8; N]) -> Masks<N> {
        let mut m = Masks {
            newline: 0,
            inline_ws: 0,
            probes: [0; N],
        };
        for (i, &b) in chunk[..BLOCK].iter().enumerate() {
            m.newline |= u64::from(b == b'\n') << i;
            m.inline_ws |= u64::from(is_inline_ws(b)) << i;
            for (mask, &p) in m.probes.iter_mut().zip(&probes) {
                *mask |= u64::from(b == p) << i;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(markers: &[&str], text: &[u8]) -> Plain {
        let markers: Vec<Box<[u8]>> = markers.iter().map(|m| m.as_bytes().into()).collect();
        let markers = PlainMarkers::new(&markers, false).unwrap();
        count_plain(&markers, text, 0, text.len())
    }

    #[test]
    fn blocks_count_blank_comment_and_code_lines_and_leave_the_rest() {
        // 64 bytes a line: every line ends in the block after its start.
        let mut text = Vec::new();
        for line in ["  ", "\t// note", "x = 1;", " \r", "//", "  y"] {
            text.extend_from_slice(format!("{line:<63}\n").as_bytes());
        }
        text.extend_from_slice(b"  tail without newline, and then enough bytes to fill a block");
        let p = plain(&["//"], &text);
        assert_eq!(p.kinds, [2, 2, 2]);
        assert_eq!((p.resume, p.counted), (6 * 64, text.len()));
    }

    #[test]
    fn a_line_across_blocks_is_counted_once() {
        let mut text = vec![b' '; 100];
        text.extend_from_slice(b"#x\n");
        text.extend(vec![b' '; 200]);
        text.push(b'\n');
        text.extend(vec![b'a'; 200]);
        let p = plain(&["#"], &text);
        assert_eq!(p.kinds, [1, 0, 1]);
        assert_eq!(p.resume, 304);
        // Markers of other shapes, a line starting at the very end of a block.
        let mut text = vec![b' '; 63];
        text.extend_from_slice(b"\n;;x\n  dnl y\n#\n;\n\n");
        assert_eq!(plain(&["dnl", "#"], &text).kinds, [2, 2, 2]);
        assert_eq!(plain(&[";"], &text).kinds, [2, 2, 2]);
        assert_eq!(plain(&[";;"], &text).kinds, [2, 3, 1]);
        assert_eq!(plain(&[], &text).kinds, [2, 4, 0]);
    }

    proptest::proptest! {
        /// The baseline masks (what a CPU without AVX2 runs) count what the dispatched ones do.
        #[test]
        fn every_path_counts_the_same(
            text in proptest::collection::vec(
                proptest::sample::select(b" \t\r\n\n/#;-x".to_vec()), 0..700),
            from in 0usize..100,
            cut in 0usize..100,
            which in 0usize..4,
        ) {
            let markers: &[&str] = [&[][..], &["#"], &["//"], &["--", "#", ";"]][which];
            let markers: Vec<Box<[u8]>> = markers.iter().map(|m| m.as_bytes().into()).collect();
            let pm = PlainMarkers::new(&markers, false).unwrap();
            // `from` at a line's start, as callers ensure.
            let from = text[..from.min(text.len())].iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
            let to = text.len().saturating_sub(cut).max(from);
            let a = count_plain(&pm, &text, from, to);
            let b = count_shape::<Baseline>(&pm, &text, from, to);
            proptest::prop_assert_eq!((a.kinds, a.resume, a.counted), (b.kinds, b.resume, b.counted));
        }
    }

    #[test]
    fn some_markers_do_not_fit() {
        let long: Vec<Box<[u8]>> = vec![b"-----".as_slice().into()];
        assert!(PlainMarkers::new(&long, false).is_none());
        let rem: Vec<Box<[u8]>> = vec![b"REM ".as_slice().into()];
        assert!(PlainMarkers::new(&rem, true).is_none());
        assert!(PlainMarkers::new(&rem, false).is_some());
        let five: Vec<Box<[u8]>> = ["dnl", "#", ";;"].map(|m| m.as_bytes().into()).to_vec();
        assert!(
            PlainMarkers::new(&five, false).is_none(),
            "five distinct bytes"
        );
    }
}
