//! Parsing gdb's backtrace output into frames per LWP: the gated Python script's marker
//! lines and, for a gdb without Python, `thread apply all bt` text.

use std::collections::BTreeMap;

use serde::Serialize;

/// Prefix of every line the gdb Python script prints.
pub(crate) const MARK: &str = "@@jnstack";

/// One native frame of a gdb backtrace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NativeFrame {
    /// Frame number (`#3`).
    pub index: u32,
    /// Function name, `??` when gdb has no symbol (JIT-compiled or interpreted Java code).
    pub function: String,
    /// Program counter, when gdb printed it.
    pub address: Option<String>,
    /// Source location (`hang.c:31`), when there is debug info.
    pub source: Option<String>,
    /// Shared library (`…/libjvm.so`), when gdb printed it.
    pub library: Option<String>,
    /// True for frames inside the JVM itself (libjvm or generated code), folded by default.
    pub jvm_internal: bool,
}

/// How long each phase of the gdb run took (from gdb's own clock, needs gdb Python).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct GdbTiming {
    /// gdb start-up and loading every library's symbols (overlaps the Java dump).
    pub symbols_ms: Option<f64>,
    /// Attaching to every thread (the JVM stops here).
    pub attach_ms: f64,
    /// Taking the backtraces.
    pub backtrace_ms: f64,
    /// Detaching.
    pub detach_ms: f64,
    /// From just before the attach to just after the detach: the JVM is stopped at most this long.
    pub stopped_ms: f64,
}

/// The result of a gdb run.
#[derive(Debug, Clone, Default)]
pub struct Backtraces {
    /// Frames per LWP, innermost first.
    pub frames: BTreeMap<u32, Vec<NativeFrame>>,
    /// Phase timings, when gdb has Python.
    pub timing: Option<GdbTiming>,
}

/// Parses gdb's output: `@@jnstack lwp N` markers (Python mode) or `Thread N (… (LWP N) …):`
/// headers (`thread apply all bt`), each followed by `#k …` frame lines.
pub fn parse_output(stdout: &str) -> Backtraces {
    let mut out = Backtraces::default();
    let mut stamps: BTreeMap<&str, f64> = BTreeMap::new();
    let mut current: Option<u32> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix(MARK) {
            if let (Some(lwp), Some(frame)) = (
                current,
                rest.strip_prefix(" f ").and_then(parse_marked_frame),
            ) {
                out.frames.entry(lwp).or_default().push(frame);
                continue;
            }
            let mut words = rest.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("lwp"), Some(n), _) => current = n.parse().ok(),
                (Some("t"), Some(label), Some(t)) => {
                    if let (Some(label), Ok(t)) = (
                        [
                            "launched",
                            "loaded",
                            "start",
                            "attached",
                            "backtraced",
                            "detached",
                        ]
                        .into_iter()
                        .find(|l| *l == label),
                        t.parse::<f64>(),
                    ) {
                        stamps.insert(label, t);
                    }
                }
                _ => {}
            }
            if let Some(lwp) = current {
                out.frames.entry(lwp).or_default();
            }
        } else if line.starts_with("Thread ") && line.contains("(LWP ") {
            current = line
                .split("(LWP ")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .and_then(|s| s.trim().parse().ok());
            if let Some(lwp) = current {
                out.frames.entry(lwp).or_default();
            }
        } else if let (Some(lwp), Some(frame)) = (current, parse_frame(line)) {
            out.frames.entry(lwp).or_default().push(frame);
        }
    }
    let ms = |a: &str, b: &str| Some((stamps.get(b)? - stamps.get(a)?) * 1000.0);
    if let (Some(attach_ms), Some(backtrace_ms), Some(detach_ms), Some(stopped_ms)) = (
        ms("start", "attached"),
        ms("attached", "backtraced"),
        ms("backtraced", "detached"),
        ms("start", "detached"),
    ) {
        out.timing = Some(GdbTiming {
            symbols_ms: ms("launched", "loaded"),
            attach_ms,
            backtrace_ms,
            detach_ms,
            stopped_ms,
        });
    }
    out
}

/// Parses the script's `INDEX|PC|FUNCTION|SOURCE|LIBRARY` frame lines.
fn parse_marked_frame(rest: &str) -> Option<NativeFrame> {
    let (index, rest) = rest.split_once('|')?;
    let (pc, rest) = rest.split_once('|')?;
    // The function name may contain '|' (operator|), so split the last two from the right.
    let mut tail = rest.rsplitn(3, '|');
    let library = tail.next()?;
    let source = tail.next()?;
    let function = tail.next()?;
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let library = opt(library);
    let jvm_internal = function == "??"
        || library
            .as_deref()
            .is_some_and(|l| l.ends_with("/libjvm.so"));
    Some(NativeFrame {
        index: index.parse().ok()?,
        function: function.to_string(),
        address: opt(pc),
        source: opt(source),
        library,
        jvm_internal,
    })
}

/// Parses one `#3  0x00007f… in func (args) at file.c:12` / `from /lib/libjvm.so` line.
pub fn parse_frame(line: &str) -> Option<NativeFrame> {
    let rest = line.strip_prefix('#')?;
    let (index, rest) = rest.split_once(' ')?;
    let index: u32 = index.parse().ok()?;
    let mut rest = rest.trim_start();
    let mut address = None;
    if rest.starts_with("0x") {
        if let Some((addr, after)) = rest.split_once(" in ") {
            address = Some(addr.to_string());
            rest = after;
        }
    }
    let mut library = None;
    if let Some(i) = rest.rfind(" from ") {
        library = Some(rest[i + 6..].trim().to_string());
        rest = &rest[..i];
    }
    let mut source = None;
    if let Some(i) = rest.rfind(" at ") {
        source = Some(rest[i + 4..].trim().to_string());
        rest = &rest[..i];
    }
    let function = match rest.find(" (") {
        Some(i) => &rest[..i],
        None => rest,
    }
    .trim()
    .to_string();
    let jvm_internal = function == "??"
        || library
            .as_deref()
            .is_some_and(|l| l.ends_with("/libjvm.so"));
    Some(NativeFrame {
        index,
        function,
        address,
        source,
        library,
        jvm_internal,
    })
}

/// The C-library function a frame is in, without glibc's internal prefixes
/// (`__GI___libc_write` → `write`).
pub fn plain_name(function: &str) -> &str {
    let mut name = function;
    for prefix in ["__GI___libc_", "__GI___", "__libc_", "__GI_", "___", "__"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest;
            break;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lines() {
        let f = parse_frame("#0  __GI___libc_write (nbytes=4096, buf=0x7ff18424e8b0, fd=5) at ../sysdeps/unix/sysv/linux/write.c:26").unwrap();
        assert_eq!(
            (f.index, f.function.as_str(), f.address),
            (0, "__GI___libc_write", None)
        );
        assert_eq!(
            f.source.as_deref(),
            Some("../sysdeps/unix/sysv/linux/write.c:26")
        );
        assert_eq!(plain_name(&f.function), "write");
        let f = parse_frame("#9  0x00007ff1b121dc00 in InterpreterRuntime::monitorenter(JavaThread*, BasicObjectLock*) () from /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so").unwrap();
        assert_eq!(
            f.function,
            "InterpreterRuntime::monitorenter(JavaThread*, BasicObjectLock*)"
        );
        assert!(f.jvm_internal);
        let f = parse_frame("#3  0x00007ff19c9455da in ?? ()").unwrap();
        assert_eq!(f.function, "??");
        assert!(f.jvm_internal);
        assert!(parse_frame("not a frame").is_none());
    }

    #[test]
    fn thread_apply_all_output_maps_to_lwps() {
        let text = "Thread 21 (Thread 0x7ff1842506c0 (LWP 7818) \"pipe-writer\"):\n#0  __GI___libc_write (fd=5) at write.c:26\n#1  0x00007ff1b1d8524e in Java_Hang_writeToFullPipe (env=0x1, cls=0x2) at hang.c:31\n\nThread 1 (Thread 0x7f (LWP 7797) \"java\"):\n#0  0x1 in clock_gettime ()\n";
        let b = parse_output(text);
        assert_eq!(b.frames[&7818].len(), 2);
        assert_eq!(b.frames[&7818][1].function, "Java_Hang_writeToFullPipe");
        assert_eq!(b.frames[&7797][0].function, "clock_gettime");
    }

    #[test]
    fn python_markers_and_timing() {
        let text = "@@jnstack t start 10.0\n@@jnstack t attached 10.5\n@@jnstack lwp 42\n@@jnstack f 0|0x7f01|__GI___libc_write|write.c:26|/lib/libc.so.6\n@@jnstack f 1|0x7f02|operator|||/usr/lib/jvm/lib/server/libjvm.so\n@@jnstack f 2|0x7f03|??||\n@@jnstack t backtraced 10.75\n@@jnstack t detached 10.8\n";
        let b = parse_output(text);
        let f = &b.frames[&42];
        assert_eq!(
            (f[0].function.as_str(), f[0].source.as_deref()),
            ("__GI___libc_write", Some("write.c:26"))
        );
        assert_eq!(
            (f[1].function.as_str(), f[1].jvm_internal),
            ("operator|", true)
        );
        assert_eq!(
            (
                f[2].function.as_str(),
                f[2].library.as_deref(),
                f[2].jvm_internal
            ),
            ("??", None, true)
        );
        let t = b.timing.unwrap();
        assert!((t.attach_ms - 500.0).abs() < 1e-6 && (t.stopped_ms - 800.0).abs() < 1e-6);
    }
}
