//! Walking the paths in parallel and counting inside the walker's threads.
//!
//! Each walker thread owns a `Local`: its totals per language, its per-file reports, its
//! warnings and one read buffer reused for every file. The locals are merged once, when the
//! threads finish, so the hot path takes no lock (except the dedup set for files that can be
//! reached twice).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::{Override, OverrideBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::count::{decode_utf16, is_binary, utf16_mark, Counts, Utf16Reader, STREAM_CHUNK};
use crate::embed::{self, FileCounts};
use crate::error::SlocError;
use crate::language::{Languages, NO_HINT};
use crate::path_name::PathName;

/// What to walk and how.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Directories or files to count.
    pub paths: Vec<PathBuf>,
    /// Do not read `.gitignore`, `.ignore` and git excludes.
    pub no_ignore: bool,
    /// Walk hidden files and directories too.
    pub hidden: bool,
    /// Globs of paths to skip.
    pub excludes: Vec<String>,
    /// Follow symbolic links.
    pub follow: bool,
    /// Keep a report per file.
    pub by_file: bool,
    /// Walker threads; 0 picks the number of CPUs.
    pub threads: usize,
    /// `--type`: count only these languages (none: all).
    pub types: Vec<String>,
    /// `--exclude-type`: do not count these languages.
    pub exclude_types: Vec<String>,
}

/// One file's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The path as the walker reached it.
    pub path: PathBuf,
    /// Its counts.
    pub counts: Counts,
}

/// One language's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguageTotals {
    /// Files counted (empty ones included, binary ones not).
    pub files: u64,
    /// Summed counts.
    pub counts: Counts,
    /// Per-file counts, when asked for.
    pub reports: Vec<FileReport>,
    /// The lines of embedded languages in these files (part of `counts`), by language index.
    pub children: BTreeMap<usize, ChildTotals>,
}

/// One embedded language's lines within one language's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildTotals {
    /// Files with some of it.
    pub files: u64,
    /// Its lines.
    pub counts: Counts,
}

impl LanguageTotals {
    /// Adds one file.
    fn add(&mut self, file: &FileCounts, path: Option<&Path>) {
        self.files += 1;
        self.counts += file.counts;
        for &(lang, counts) in &file.children {
            let child = self.children.entry(lang).or_default();
            child.files += 1;
            child.counts += counts;
        }
        if let Some(path) = path {
            self.reports.push(FileReport {
                path: path.to_path_buf(),
                counts: file.counts,
            });
        }
    }

    /// Adds another thread's totals.
    fn merge(&mut self, part: LanguageTotals) {
        self.files += part.files;
        self.counts += part.counts;
        self.reports.extend(part.reports);
        for (lang, c) in part.children {
            let child = self.children.entry(lang).or_default();
            child.files += c.files;
            child.counts += c.counts;
        }
    }
}

/// The result of a walk: totals indexed like [`Languages`] and the warnings to show.
#[derive(Debug, Default)]
pub struct Tally {
    /// Totals per language index.
    pub per_language: Vec<LanguageTotals>,
    /// Files or directories that could not be read, with why.
    pub warnings: Vec<String>,
    /// Paths named to be counted that were read but are not counted, with why (an unknown
    /// language, a binary file, a FIFO): worth a word, not a failure.
    pub not_counted: Vec<String>,
}

/// Checks the options before any work: every path exists, every glob parses.
pub fn validate(opts: &WalkOptions) -> Result<(), SlocError> {
    for p in &opts.paths {
        if std::fs::metadata(p).is_err() && std::fs::symlink_metadata(p).is_err() {
            return Err(SlocError::MissingPath { path: p.clone() });
        }
    }
    Excludes::new(opts).map(|_| ())
}

/// The `--exclude` globs, gitignore-style. A glob with a slash is anchored, and a path matches
/// it relative to the root it was reached from (`sloc ~/linux -e drivers/gpu`) or to the
/// current directory (`sloc src lib -e src/gen`), so every root gets its own matcher.
struct Excludes {
    /// One matcher per root and one for the current directory.
    matchers: Vec<Override>,
}

impl Excludes {
    fn new(opts: &WalkOptions) -> Result<Excludes, SlocError> {
        let mut roots: Vec<&Path> = opts.paths.iter().map(PathBuf::as_path).collect();
        roots.push(Path::new("."));
        let matchers = roots
            .into_iter()
            .map(|root| {
                let mut b = OverrideBuilder::new(root);
                for g in &opts.excludes {
                    // An empty glob (an unset variable, `-e "$X"`) would exclude everything.
                    if g.trim().is_empty() {
                        return Err(SlocError::BadGlob {
                            glob: g.clone(),
                            reason: "an empty glob would exclude every path".to_string(),
                        });
                    }
                    // The walker's paths lose a leading `./`, so `-e ./vendor` must too.
                    let glob = g.strip_prefix("./").unwrap_or(g);
                    b.add(&format!("!{glob}")).map_err(|e| SlocError::BadGlob {
                        glob: g.clone(),
                        reason: e.to_string(),
                    })?;
                }
                b.build().map_err(|e| SlocError::BadGlob {
                    glob: opts.excludes.join(" "),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Excludes { matchers })
    }

    fn excluded(&self, path: &Path, is_dir: bool) -> bool {
        self.matchers
            .iter()
            .any(|m| m.matched(path, is_dir).is_ignore())
    }
}

/// Walks `opts.paths` and counts every file of a known language.
pub fn walk(langs: &Languages, opts: &WalkOptions) -> Result<Tally, SlocError> {
    validate(opts)?;
    let mut paths = opts.paths.iter();
    let first = paths.next().map_or(Path::new("."), PathBuf::as_path);
    let mut builder = WalkBuilder::new(first);
    for p in paths {
        builder.add(p);
    }
    let ignore = !opts.no_ignore;
    builder
        .hidden(!opts.hidden)
        .ignore(ignore)
        .git_ignore(ignore)
        .git_global(ignore)
        .git_exclude(ignore)
        .parents(ignore)
        // As git, ripgrep and tokei: .gitignore rules apply inside a git checkout only (an
        // unpacked tarball may ship a .gitignore that ignores everything); .ignore always does.
        .require_git(true)
        .follow_links(opts.follow)
        .threads(opts.threads);
    if !opts.excludes.is_empty() {
        let excludes = Excludes::new(opts)?;
        builder.filter_entry(move |e| {
            !excludes.excluded(e.path(), e.file_type().is_some_and(|t| t.is_dir()))
        });
    }
    let shared = Shared {
        langs,
        keep: langs.selection(&opts.types, &opts.exclude_types)?,
        by_file: opts.by_file,
        // Only with several roots, symlinks followed or hard links can a file be seen twice.
        dedup_all: opts.follow || opts.paths.len() > 1,
        seen: Mutex::new(HashMap::new()),
        done: Mutex::new(Vec::new()),
    };
    let mut visitors = VisitorBuilder { shared: &shared };
    builder.build_parallel().visit(&mut visitors);
    let done = shared.done.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut tally = Tally {
        per_language: vec![LanguageTotals::default(); langs.len()],
        warnings: Vec::new(),
        not_counted: Vec::new(),
    };
    for local in done {
        for (total, part) in tally.per_language.iter_mut().zip(local.per_language) {
            total.merge(part);
        }
        tally.warnings.extend(local.warnings);
        tally.not_counted.extend(local.not_counted);
    }
    let seen = shared.seen.into_inner().unwrap_or_else(|p| p.into_inner());
    for linked in seen.into_values() {
        let path = opts.by_file.then_some(linked.path.as_path());
        tally.per_language[linked.lang].add(&linked.counts, path);
    }
    for t in &mut tally.per_language {
        t.reports.sort_by(|a, b| a.path.cmp(&b.path));
    }
    tally.warnings.sort();
    tally.not_counted.sort();
    Ok(tally)
}

struct Shared<'a> {
    langs: &'a Languages,
    /// Languages left in by `--type`/`--exclude-type`, by index (`None`: all).
    keep: Option<Vec<bool>>,
    by_file: bool,
    dedup_all: bool,
    /// Files that may be reached by several names, by (device, inode): the smallest name
    /// counted so far. They are added to the totals after the walk, so which name wins does
    /// not depend on which thread got there first.
    seen: Mutex<HashMap<(u64, u64), Linked>>,
    done: Mutex<Vec<Part>>,
}

/// A file reachable by several names, counted under its smallest path.
struct Linked {
    path: PathBuf,
    lang: usize,
    counts: FileCounts,
}

/// What one walker thread counted.
#[derive(Default)]
struct Part {
    per_language: Vec<LanguageTotals>,
    warnings: Vec<String>,
    not_counted: Vec<String>,
}

struct VisitorBuilder<'s, 'a> {
    shared: &'s Shared<'a>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s, '_> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Local {
            shared: self.shared,
            part: Part {
                per_language: vec![LanguageTotals::default(); self.shared.langs.len()],
                warnings: Vec::new(),
                not_counted: Vec::new(),
            },
            buf: Vec::with_capacity(64 * 1024),
        })
    }
}

/// One walker thread's state.
struct Local<'s, 'a> {
    shared: &'s Shared<'a>,
    part: Part,
    buf: Vec<u8>,
}

impl Drop for Local<'_, '_> {
    fn drop(&mut self) {
        let part = std::mem::take(&mut self.part);
        let mut done = self.shared.done.lock().unwrap_or_else(|p| p.into_inner());
        done.push(part);
    }
}

impl ParallelVisitor for Local<'_, '_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => {
                let kind = entry.file_type();
                // Depth 0: a path named on the command line, which deserves a word when it is
                // not counted; files met inside directories are skipped quietly.
                let named = entry.depth() == 0;
                let why = if kind.is_some_and(|t| t.is_file()) {
                    match self.count_file(entry.path()) {
                        Ok(why) => why,
                        Err(e) => {
                            let warning = format!("{}: {e}", PathName::new(entry.path()).escaped());
                            self.part.warnings.push(warning);
                            None
                        }
                    }
                } else if kind.is_some_and(|t| t.is_symlink()) {
                    Some("a symbolic link (-L/--follow follows it)")
                } else if kind.is_some_and(|t| t.is_dir()) {
                    None
                } else {
                    Some("not a regular file (a FIFO, socket or device)")
                };
                if let Some(why) = why.filter(|_| named) {
                    let path = PathName::new(entry.path());
                    let note = format!("{}: not counted: {why}", path.escaped());
                    self.part.not_counted.push(note);
                }
            }
            Err(e) => self.part.warnings.push(e.to_string()),
        }
        WalkState::Continue
    }
}

/// Reads a file from `pos` on with `pread`, leaving the file's own offset alone.
struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// How much of an extension-less file is read to look for a `#!` line.
const SHEBANG_PROBE: usize = 256;

/// Reads `file` on from its offset into `buf[from..]` until `limit` bytes are in `buf`, at
/// least the file's `size` (from its metadata, if not 0) are, or it ends; returns how many
/// bytes are in `buf`. With the size known, no read is spent to see the end. `buf` is grown
/// (zero-filled) only past its longest length so far and never shrunk here, so a thread's
/// buffer is cleared once, not per file.
fn fill(
    file: &File,
    buf: &mut Vec<u8>,
    from: usize,
    limit: usize,
    size: usize,
) -> io::Result<usize> {
    if buf.len() < limit {
        buf.resize(limit, 0);
    }
    let until = if size == 0 { limit } else { size.min(limit) };
    let mut at = from;
    while at < until {
        match (&*file).read(&mut buf[at..limit]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

/// Why a file was not counted, for a path named on the command line.
const UNKNOWN_EXTENSION: &str = "no known language has its extension (see --languages)";
/// See [`UNKNOWN_EXTENSION`].
const NO_LANGUAGE: &str =
    "no known language has its name, and it has no extension or #! line naming one";
/// See [`UNKNOWN_EXTENSION`].
const BINARY: &str = "binary (a NUL byte in its first 8 KiB)";
/// See [`UNKNOWN_EXTENSION`].
const EXCLUDED_TYPE: &str = "its language is left out by --type/--exclude-type";

impl Shared<'_> {
    fn kept(&self, lang: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k[lang])
    }
}

impl Local<'_, '_> {
    /// Counts one file; `Ok(Some(why))` when it is not counted for a reason worth telling of
    /// a named path (a name of a file counted under a smaller name is not such a reason).
    fn count_file(&mut self, path: &Path) -> io::Result<Option<&'static str>> {
        let shared = self.shared;
        let by_path = shared.langs.for_path(path);
        if by_path.is_none() && path.extension().is_some() {
            return Ok(Some(UNKNOWN_EXTENSION)); // Not source code we know.
        }
        // Left out by --type: skip it unopened, unless its content could make it another.
        if by_path.is_some_and(|l| !shared.kept(l) && !shared.langs.is_ambiguous(l)) {
            return Ok(Some(EXCLUDED_TYPE));
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let linked = (shared.dedup_all || meta.nlink() > 1).then(|| (meta.dev(), meta.ino()));
        if linked.is_some_and(|key| self.beaten(key, path)) {
            return Ok(None);
        }
        // The size the file had when opened: reading stops there, without a read to see the
        // end (one system call per file less, on the kernel's 74 000). 0 (procfs) means unknown.
        let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        let mut read = 0;
        let lang = match by_path {
            Some(lang) => lang,
            None => {
                read = fill(&file, &mut self.buf, 0, SHEBANG_PROBE, size)?;
                let first_line = self.buf[..read].split(|&b| b == b'\n').next();
                match shared.langs.for_shebang(first_line.unwrap_or(&[])) {
                    Some(lang) => lang,
                    None => return Ok(Some(NO_LANGUAGE)),
                }
            }
        };
        // A file that fits in a chunk is read whole; a larger one is streamed, its first chunk
        // (read here) standing for the whole file in the binary and content checks.
        let read = fill(&file, &mut self.buf, read, STREAM_CHUNK, size)?;
        let whole = read < STREAM_CHUNK;
        let head = &self.buf[..read];
        let decoded = decode_utf16(head);
        let text = decoded.as_deref().unwrap_or(head);
        if decoded.is_none() && is_binary(text) {
            return Ok(Some(BINARY));
        }
        let Some(lang) = shared.langs.for_content(lang, path, text) else {
            return Ok(Some(NO_HINT));
        };
        if !shared.kept(lang) {
            return Ok(Some(EXCLUDED_TYPE));
        }
        let counts = if whole {
            embed::count_any(shared.langs, lang, text)
        } else if let Some(little) = utf16_mark(head) {
            let utf16 = || {
                Ok(Utf16Reader::new(
                    At {
                        file: &file,
                        pos: 2,
                    },
                    little,
                ))
            };
            self.buf.truncate(read);
            let (langs, buf) = (shared.langs, &mut self.buf);
            embed::count_any_stream(langs, lang, buf, 0, utf16()?, utf16, STREAM_CHUNK)?
        } else {
            self.buf.truncate(read);
            let head = read;
            let reopen = || {
                Ok(At {
                    file: &file,
                    pos: 0,
                })
            };
            let (langs, buf) = (shared.langs, &mut self.buf);
            embed::count_any_stream(langs, lang, buf, head, &file, reopen, STREAM_CHUNK)?
        };
        if let Some(key) = linked {
            self.record(key, path, lang, counts);
            return Ok(None);
        }
        let path = shared.by_file.then_some(path);
        self.part.per_language[lang].add(&counts, path);
        Ok(None)
    }

    /// Whether the file `key` has been counted under a smaller name than `path` already.
    fn beaten(&self, key: (u64, u64), path: &Path) -> bool {
        let seen = self.shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&key).is_some_and(|l| l.path.as_path() < path)
    }

    /// Keeps `path` as the name of file `key` if it is the smallest seen.
    fn record(&self, key: (u64, u64), path: &Path, lang: usize, counts: FileCounts) {
        let mut seen = self.shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        let linked = Linked {
            path: path.to_path_buf(),
            lang,
            counts,
        };
        match seen.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(linked);
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if path < o.get().path.as_path() {
                    o.insert(linked);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};
    use std::os::fd::OwnedFd;

    fn file_with(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f.rewind().unwrap();
        f
    }

    #[test]
    fn fill_stops_at_the_size_at_the_limit_or_at_the_end() {
        let text = b"0123456789";
        let mut buf = Vec::new();
        // Size unknown (0, as procfs says): read to the end.
        assert_eq!(fill(&file_with(text), &mut buf, 0, 64, 0).unwrap(), 10);
        assert_eq!(&buf[..10], text);
        // A size larger than the file (it shrank since fstat): the end stops it.
        assert_eq!(fill(&file_with(text), &mut buf, 0, 64, 99).unwrap(), 10);
        // The limit stops it, and a later call goes on from where the first stopped.
        let f = file_with(text);
        assert_eq!(fill(&f, &mut buf, 0, 3, 10).unwrap(), 3);
        assert_eq!(&buf[..3], b"012");
        assert_eq!(fill(&f, &mut buf, 3, 64, 10).unwrap(), 10);
        assert_eq!(&buf[..10], text);
        // The buffer is never shrunk: bytes past the count are stale, not the file's.
        assert!(buf.len() >= 64);
        assert_eq!(fill(&file_with(b"ab"), &mut buf, 0, 64, 2).unwrap(), 2);
        assert_eq!(&buf[..2], b"ab");
    }

    #[test]
    fn fill_reads_no_more_once_it_has_the_size() {
        // A pipe whose writer stays open: one read more than needed would wait forever.
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"0123").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let n = fill(&File::from(OwnedFd::from(reader)), &mut buf, 0, 64, 4);
            let _ = tx.send(n.map(|n| buf[..n].to_vec()));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(10));
        drop(writer);
        assert_eq!(got.expect("fill waited for the end").unwrap(), b"0123");
    }
}
