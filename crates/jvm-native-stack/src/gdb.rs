//! Native backtraces from ONE batch gdb attach, for just the selected LWPs.
//!
//! While gdb is attached every thread of the JVM is in tracing stop. Whatever happens
//! (success, gdb error, timeout, Ctrl-C) the JVM gets a SIGCONT afterwards, so a gdb
//! killed halfway through an attach can never leave it stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::Serialize;

use crate::runner::{which, Job, RunError, Runner};
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
    /// Attaching to every thread and loading symbols.
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
}

impl GdbConfig {
    /// Finds `gdb` on `PATH`.
    pub fn from_path(timeout: Duration) -> Result<GdbConfig, Error> {
        let program = which("gdb").ok_or(Error::GdbMissing)?;
        Ok(GdbConfig { program, timeout })
    }
}

const MARK: &str = "@@jnstack";

/// The gdb command line: one attach, backtraces of `lwps` only, then detach.
pub fn command_line(pid: u32, lwps: &BTreeSet<u32>, python: bool) -> Vec<String> {
    let mut args: Vec<String> = ["-batch", "-nx", "-iex", "set debuginfod enabled off"]
        .map(String::from)
        .to_vec();
    let stamp =
        |label: &str| format!("python import time; print('{MARK} t {label} %.6f' % time.time())");
    if python {
        args.extend(["-iex".into(), stamp("start")]);
    }
    args.extend(
        [
            "-ex",
            "set pagination off",
            "-ex",
            "set print frame-arguments none",
            "-ex",
            "handle SIGSEGV nostop noprint pass",
        ]
        .map(String::from),
    );
    if python {
        args.extend(["-ex".into(), stamp("attached")]);
        let want: Vec<String> = lwps.iter().map(u32::to_string).collect();
        // Select threads by LWP inside gdb: gdb's own thread numbers are unknown before
        // the attach, and `thread apply all` would unwind every thread.
        let script = format!(
            "want = {{{}}}\\n\
             for t in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):\\n\
             \x20   if t.ptid[1] in want:\\n\
             \x20       t.switch()\\n\
             \x20       print('{MARK} lwp %d' % t.ptid[1])\\n\
             \x20       try:\\n\
             \x20           gdb.execute('bt')\\n\
             \x20       except gdb.error as e:\\n\
             \x20           print('{MARK} error %s' % e)\\n",
            if want.is_empty() {
                "-1".to_string()
            } else {
                want.join(",")
            }
        );
        args.extend(["-ex".into(), format!("python exec(\"{script}\")")]);
        args.extend(["-ex".into(), stamp("backtraced")]);
        args.extend(["-ex".into(), "detach".into()]);
        args.extend(["-ex".into(), stamp("detached")]);
    } else {
        args.extend(["-ex".into(), "thread apply all bt".into()]);
    }
    args.extend(["-p".into(), pid.to_string()]);
    args
}

/// Attaches once, backtraces `lwps`, detaches, and always resumes the JVM afterwards.
pub fn backtraces(
    runner: &dyn Runner,
    config: &GdbConfig,
    pid: u32,
    lwps: &BTreeSet<u32>,
    cancel: &AtomicBool,
) -> Result<Backtraces, Error> {
    let python = has_python(runner, &config.program, cancel);
    let job = Job {
        program: config.program.clone(),
        args: command_line(pid, lwps, python),
        timeout: config.timeout,
    };
    let result = runner.run(&job, cancel);
    resume(pid);
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
    let mut parsed = parse_output(&output.stdout);
    if !python {
        parsed.frames.retain(|lwp, _| lwps.contains(lwp));
    }
    if parsed.frames.is_empty() && !lwps.is_empty() {
        let first = output
            .stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(Error::GdbFailed {
            details: format!("gdb printed no backtraces ({})", first.trim()),
        });
    }
    Ok(parsed)
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

/// Asks gdb whether it was built with Python (without attaching to anything).
fn has_python(runner: &dyn Runner, program: &Path, cancel: &AtomicBool) -> bool {
    let job = Job {
        program: program.to_path_buf(),
        args: vec!["--configuration".into()],
        timeout: Duration::from_secs(10),
    };
    runner
        .run(&job, cancel)
        .is_ok_and(|o| o.stdout.contains("--with-python") && !o.stdout.contains("--without-python"))
}

/// Parses gdb's output: `@@jnstack lwp N` markers (Python mode) or `Thread N (… (LWP N) …):`
/// headers (`thread apply all bt`), each followed by `#k …` frame lines.
pub fn parse_output(stdout: &str) -> Backtraces {
    let mut out = Backtraces::default();
    let mut stamps: BTreeMap<&str, f64> = BTreeMap::new();
    let mut current: Option<u32> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix(MARK) {
            let mut words = rest.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("lwp"), Some(n), _) => current = n.parse().ok(),
                (Some("t"), Some(label), Some(t)) => {
                    if let (Some(label), Ok(t)) = (
                        ["start", "attached", "backtraced", "detached"]
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
            attach_ms,
            backtrace_ms,
            detach_ms,
            stopped_ms,
        });
    }
    out
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
        let text = "@@jnstack t start 10.0\n@@jnstack t attached 10.5\n@@jnstack lwp 42\n#0  write () at w.c:1\n@@jnstack t backtraced 10.75\n@@jnstack t detached 10.8\n";
        let b = parse_output(text);
        assert_eq!(b.frames[&42][0].function, "write");
        let t = b.timing.unwrap();
        assert!((t.attach_ms - 500.0).abs() < 1e-6 && (t.stopped_ms - 800.0).abs() < 1e-6);
    }
}
