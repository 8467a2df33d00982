//! The benchmark's baseline: read every file under the given paths once, in parallel, with the
//! same walker and settings as `sloc` (ignore files honoured, hidden files skipped) and a reused
//! buffer per thread, and count nothing. `scripts/bench-sloc` times it next to `sloc`. Each file
//! is read as sloc reads it: `fstat` for its size, then reads until that many bytes are in (no
//! read to see the end), into a buffer grown, never cleared; so the floor is no slower than
//! sloc's own reading.
// A benchmark baseline that scripts/bench-sloc runs into a pipe it reads: not a tool.
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::{self, Read};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let Some((first, rest)) = paths.split_first() else {
        eprintln!("usage: read_all PATH...");
        return ExitCode::from(2);
    };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    let bytes = AtomicU64::new(0);
    let files = AtomicU64::new(0);
    builder.build_parallel().run(|| {
        let mut buf = Vec::with_capacity(64 * 1024);
        let (bytes, files) = (&bytes, &files);
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if entry.file_type().is_some_and(|t| t.is_file()) {
                if let Ok(n) = File::open(entry.path()).and_then(|f| read_whole(&f, &mut buf)) {
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                    files.fetch_add(1, Ordering::Relaxed);
                }
            }
            WalkState::Continue
        })
    });
    let (files, bytes) = (files.into_inner(), bytes.into_inner());
    println!("{files} files, {bytes} bytes");
    ExitCode::SUCCESS
}

/// Reads all of `file` into `buf` (grown as needed, never shrunk), stopping once it has the
/// size `fstat` gave, or at the end for a file that says 0 or shrank.
fn read_whole(mut file: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    let mut at = 0;
    loop {
        let want = size.max(at + 1);
        if buf.len() < want {
            buf.resize(want.max(2 * buf.len()).max(64 * 1024), 0);
        }
        match file.read(&mut buf[at..]) {
            Ok(0) => return Ok(at),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if size != 0 && at >= size {
            return Ok(at);
        }
    }
}
