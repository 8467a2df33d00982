//! The benchmark's baseline: read every file under the given paths once, in parallel, with the
//! same walker and settings as `sloc` (ignore files honoured, hidden files skipped) and a reused
//! buffer per thread, and count nothing. `scripts/bench-sloc` times it next to `sloc`.
// A benchmark baseline that scripts/bench-sloc runs into a pipe it reads: not a tool.
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::Read;
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
                buf.clear();
                if let Ok(n) = File::open(entry.path()).and_then(|mut f| f.read_to_end(&mut buf)) {
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
