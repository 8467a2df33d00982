//! Native backtraces from ONE batch gdb attach, for just the selected LWPs.
//!
//! While gdb is attached every thread of the JVM is in tracing stop. Whatever happens
//! (success, gdb error, timeout, Ctrl-C) the JVM gets a SIGCONT afterwards, so a gdb
//! killed halfway through an attach can never leave it stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use serde::Serialize;

use crate::runner::{which, Job, Output, RunError, Runner};
use crate::Error;

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

/// gdb settings.
#[derive(Debug, Clone)]
pub struct GdbConfig {
    /// The gdb executable.
    pub program: PathBuf,
    /// Kill gdb after this long.
    pub timeout: Duration,
    /// Read debug info (source lines) of system and JDK libraries too (`--full`).
    pub full_symbols: bool,
}

impl GdbConfig {
    /// Finds `gdb` on `PATH`.
    pub fn from_path(timeout: Duration, full_symbols: bool) -> Result<GdbConfig, Error> {
        let program = which("gdb").ok_or(Error::GdbMissing)?;
        Ok(GdbConfig {
            program,
            timeout,
            full_symbols,
        })
    }
}

/// True for libraries whose debug info (DWARF) is not worth its loading time by default:
/// their function names come from the ELF symbol table anyway. Application JNI libraries
/// keep their source lines. The thread library (libc, libpthread) is the exception: gdb
/// reloads it at attach for thread debugging whatever `auto-solib-add` says, with full
/// debug info, while the JVM is stopped — unless its debug info is already loaded here.
pub fn skip_debug_info(path: &str, jdk_root: Option<&str>) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with("libc.so") || name.starts_with("libpthread") {
        return false;
    }
    ["/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"]
        .iter()
        .any(|dir| path.starts_with(dir))
        || jdk_root.is_some_and(|root| path.starts_with(root))
}

/// The JDK directory a `…/lib/server/libjvm.so` path belongs to.
fn jdk_root(libs: &[(String, u64)]) -> Option<&str> {
    let libjvm = libs.iter().find(|(p, _)| p.ends_with("/libjvm.so"))?;
    let i = libjvm.0.rfind("/lib/")?;
    Some(&libjvm.0[..=i])
}

const MARK: &str = "@@jnstack";

/// At most this many frames per thread: past JIT-compiled code gdb's unwinder often
/// walks garbage, and a bound keeps the JVM's stop short.
pub const MAX_FRAMES: u32 = 64;

/// gdb settings shared by both modes.
fn common_args() -> Vec<String> {
    [
        "-batch",
        "-nx",
        "-iex",
        "set debuginfod enabled off",
        "-ex",
        "set pagination off",
        "-ex",
        "set print frame-arguments none",
        "-ex",
        "set print entry-values no",
        "-ex",
        "handle SIGSEGV nostop noprint pass",
    ]
    .map(String::from)
    .to_vec()
}

/// Shared libraries mapped by `pid` and their load addresses, from `/proc/<pid>/maps`.
pub fn shared_libraries(pid: u32) -> Vec<(String, u64)> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut libs: Vec<(String, u64)> = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.splitn(6, ' ').collect();
        let [range, _, offset, _, _, path] = fields[..] else {
            continue;
        };
        let path = path.trim();
        let is_lib = path.starts_with('/') && (path.ends_with(".so") || path.contains(".so."));
        if !is_lib
            || u64::from_str_radix(offset, 16) != Ok(0)
            || libs.iter().any(|(p, _)| p == path)
        {
            continue;
        }
        if let Some(base) = range
            .split('-')
            .next()
            .and_then(|b| u64::from_str_radix(b, 16).ok())
        {
            libs.push((path.to_string(), base));
        }
    }
    libs
}

/// The Python run inside gdb: wait for the gate, attach, backtrace the wanted LWPs
/// (selected by LWP: gdb's own thread numbers are unknown before the attach), detach.
const GATED_SCRIPT: &str = r#"import sys, time
print('{MARK} t loaded %.6f' % time.time())
def walk():
    f = gdb.newest_frame()
    i = 0
    unknown = 0
    while f is not None and i < {MAX_FRAMES}:
        name = f.name()
        sal = f.find_sal()
        src = '%s:%d' % (sal.symtab.filename, sal.line) if sal.symtab is not None else ''
        lib = gdb.solib_name(f.pc()) or ''
        print('{MARK} f %d|%#x|%s|%s|%s' % (i, f.pc(), name or '??', src, lib))
        # Two frames without a symbol: JIT or interpreter code, past which gdb only guesses.
        unknown = unknown + 1 if name is None else 0
        if unknown >= 2:
            break
        try:
            f = f.older()
        except gdb.error:
            break
        i += 1
words = sys.stdin.readline().split()
if words and words[0] == 'go':
    want = set(int(w) for w in (words[1] if len(words) > 1 else '').split(',') if w)
    print('{MARK} t start %.6f' % time.time())
    gdb.execute('attach {PID}')
    print('{MARK} t attached %.6f' % time.time())
    for t in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
        if t.ptid[1] in want:
            t.switch()
            print('{MARK} lwp %d' % t.ptid[1])
            walk()
    print('{MARK} t backtraced %.6f' % time.time())
    gdb.execute('detach')
    print('{MARK} t detached %.6f' % time.time())
"#;

/// The gated command line: gdb loads every library's symbols at its known load address
/// (the slow part, ~0.5 s for libjvm.so) while jstack still runs, then waits on stdin
/// for `go LWP,LWP,…` before it attaches. The JVM is stopped only for attach,
/// backtraces and detach. Everything runs inside Python so that a gdb without Python
/// never attaches at all.
pub fn gated_command_line(pid: u32, libs: &[(String, u64)], full_symbols: bool) -> Vec<String> {
    let mut args = vec![
        "-iex".to_string(),
        format!("python import time; print('{MARK} t launched %.6f' % time.time())"),
    ];
    args.extend(common_args());
    args.extend(["-ex".into(), "set auto-solib-add off".into()]);
    let root = jdk_root(libs);
    for (path, base) in libs {
        let readnever = if !full_symbols && skip_debug_info(path, root) {
            " -readnever"
        } else {
            ""
        };
        args.extend([
            "-ex".into(),
            format!("add-symbol-file {path}{readnever} -o {base:#x}"),
        ]);
    }
    let script = GATED_SCRIPT
        .replace("{MARK}", MARK)
        .replace("{PID}", &pid.to_string())
        .replace("{MAX_FRAMES}", &MAX_FRAMES.to_string());
    // One -ex line: Rust's string escaping is valid Python string syntax for this ASCII.
    args.extend(["-ex".into(), format!("python exec({script:?})")]);
    args
}

/// The line that opens the gate: which LWPs to backtrace.
pub fn go_line(lwps: &BTreeSet<u32>) -> String {
    let list: Vec<String> = lwps.iter().map(u32::to_string).collect();
    format!("go {}", list.join(","))
}

/// The classic command line for a gdb without Python: attach, `thread apply all bt`.
pub fn classic_command_line(pid: u32) -> Vec<String> {
    let mut args = common_args();
    args.extend([
        "-ex".into(),
        format!("thread apply all bt {MAX_FRAMES}"),
        "-p".into(),
        pid.to_string(),
    ]);
    args
}

/// Starts gdb at once (loading symbols) and attaches when `gate` delivers [`go_line`].
/// Returns `Ok(None)` if this gdb has no Python: it never attached, use [`classic`].
pub fn gated(
    runner: &dyn Runner,
    config: &GdbConfig,
    pid: u32,
    gate: Receiver<String>,
    cancel: &AtomicBool,
) -> Result<Option<Backtraces>, Error> {
    let mut job = Job::new(
        config.program.clone(),
        gated_command_line(pid, &shared_libraries(pid), config.full_symbols),
        config.timeout,
    );
    job.stdin_gate = Some(gate);
    let result = runner.run(&job, cancel);
    resume(pid);
    let output = check(result, pid)?;
    if output.stderr.contains("Python scripting is not supported") {
        return Ok(None);
    }
    let parsed = parse_output(&output.stdout);
    // No timing means the script stopped before detaching: report gdb's complaint.
    let failed = parsed.timing.is_none();
    expect_frames(parsed, &output, failed)
}

/// Attaches and backtraces every thread (`thread apply all bt`), keeping `lwps`.
pub fn classic(
    runner: &dyn Runner,
    config: &GdbConfig,
    pid: u32,
    lwps: &BTreeSet<u32>,
    cancel: &AtomicBool,
) -> Result<Backtraces, Error> {
    let job = Job::new(
        config.program.clone(),
        classic_command_line(pid),
        config.timeout,
    );
    let result = runner.run(&job, cancel);
    resume(pid);
    let output = check(result, pid)?;
    let mut parsed = parse_output(&output.stdout);
    parsed.frames.retain(|lwp, _| lwps.contains(lwp));
    expect_frames(parsed, &output, !lwps.is_empty()).map(Option::unwrap_or_default)
}

/// Maps run failures and gdb's attach errors to [`Error`]s.
fn check(result: Result<Output, RunError>, pid: u32) -> Result<Output, Error> {
    let output = match result {
        Ok(output) => output,
        Err(RunError::Interrupted) => return Err(Error::Interrupted),
        Err(RunError::Timeout { timeout, .. }) => return Err(Error::GdbTimeout { timeout }),
        Err(RunError::Spawn { program, source }) => {
            return Err(Error::GdbFailed {
                details: format!("cannot run {}: {source}", program.display()),
            })
        }
    };
    let all = format!("{}\n{}", output.stdout, output.stderr);
    if all.contains("ptrace: Operation not permitted")
        || all.contains("Could not attach to process")
    {
        return Err(Error::PtraceDenied {
            pid,
            scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                .ok()
                .map(|s| s.trim().to_string()),
        });
    }
    if all.contains("ptrace: No such process") {
        return Err(Error::NoSuchProcess { pid });
    }
    Ok(output)
}

fn expect_frames(
    parsed: Backtraces,
    output: &Output,
    wanted: bool,
) -> Result<Option<Backtraces>, Error> {
    if parsed.frames.is_empty() && wanted {
        let first = output
            .stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("warning:"))
            .unwrap_or("no output");
        return Err(Error::GdbFailed {
            details: format!("gdb printed no backtraces ({first})"),
        });
    }
    Ok(Some(parsed))
}

/// Sends SIGCONT to the whole process until no thread is left stopped: undoes the
/// group stop a gdb killed mid-attach leaves behind (its SIGSTOP was never consumed).
pub fn resume(pid: u32) {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return;
    };
    for _ in 0..10 {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(raw, libc::SIGCONT);
        }
        let stopped = crate::proc::read_tasks(pid)
            .map(|tasks| tasks.iter().any(|t| t.state == 'T'))
            .unwrap_or(false);
        if !stopped {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
    fn debug_info_only_for_application_libraries() {
        let libs = vec![
            ("/opt/jdk-25/lib/server/libjvm.so".to_string(), 0x1000),
            ("/home/app/native/libhang.so".to_string(), 0x2000),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6".to_string(), 0x3000),
            ("/usr/lib/x86_64-linux-gnu/libm.so.6".to_string(), 0x4000),
        ];
        let root = jdk_root(&libs);
        assert_eq!(root, Some("/opt/jdk-25/"));
        let args = gated_command_line(42, &libs, false);
        assert!(args.contains(
            &"add-symbol-file /opt/jdk-25/lib/server/libjvm.so -readnever -o 0x1000".to_string()
        ));
        assert!(args.contains(&"add-symbol-file /home/app/native/libhang.so -o 0x2000".to_string()));
        assert!(args.contains(
            &"add-symbol-file /usr/lib/x86_64-linux-gnu/libc.so.6 -o 0x3000".to_string()
        ));
        assert!(args.contains(
            &"add-symbol-file /usr/lib/x86_64-linux-gnu/libm.so.6 -readnever -o 0x4000".to_string()
        ));
        let full = gated_command_line(42, &libs, true);
        assert!(!full.iter().any(|a| a.contains("-readnever")));
        assert!(full.iter().any(|a| a.contains("gdb.execute('attach 42')")));
    }

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
