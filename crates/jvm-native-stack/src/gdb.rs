//! Native backtraces from ONE batch gdb attach, for just the selected LWPs.
//!
//! While gdb is attached every thread of the JVM is in tracing stop. Whatever happens
//! (success, gdb error, timeout, Ctrl-C) the JVM gets a SIGCONT afterwards, so a gdb
//! killed halfway through an attach can never leave it stopped.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use crate::backtrace::{parse_output, Backtraces, MARK};
use crate::runner::{which, Job, Output, RunError, Runner};
use crate::Error;

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

/// At most this many frames per thread: past JIT-compiled code gdb's unwinder often
/// walks garbage, and a bound keeps the JVM's stop short.
pub const MAX_FRAMES: u32 = 64;

/// gdb's nice value from the gate on (attach, backtraces, detach), when jnstack may raise it.
pub const STOPPED_NICE: i32 = -10;

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
    let sysroot = target_prefix(pid);
    let root = jdk_root(libs);
    for (path, base) in libs {
        let readnever = if !full_symbols && skip_debug_info(path, root) {
            " -readnever"
        } else {
            ""
        };
        // The target's own file (a container's libjvm or JNI library), not the host's.
        let path = format!("{sysroot}{path}");
        // gdb splits the arguments like a shell (buildargv): quote paths with spaces.
        let path = if path.contains(char::is_whitespace) {
            format!("\"{path}\"")
        } else {
            path
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

/// The prefix under which this process opens the files of a target that sees another
/// filesystem (a container's mount namespace, a chroot): `/proc/<pid>/root`, else "".
/// Only the symbol files loaded before the attach need it. gdb's own sysroot stays
/// `target:`, which reads the executable and the libraries gdb finds at attach through the
/// target's mount namespace; a sysroot of `/proc/<pid>/root` does not work, since gdb
/// resolves the executable's path with realpath(), which collapses that link to "/" and
/// opens the host's file (measured with gdb 13: the wrong `java`, then no libraries).
fn target_prefix(pid: u32) -> String {
    crate::proc::foreign_root(pid).map_or_else(String::new, |root| root.display().to_string())
}

/// Removes the `/proc/<pid>/root` (or gdb's `target:`) prefix from frame libraries: the
/// report names files as the target sees them.
fn target_paths(mut parsed: Backtraces, pid: u32) -> Backtraces {
    let root = crate::proc::foreign_root(pid).map(|r| r.display().to_string());
    for frame in parsed.frames.values_mut().flatten() {
        if let Some(lib) = frame.library.as_mut() {
            let stripped = root
                .as_deref()
                .and_then(|r| lib.strip_prefix(r))
                .or_else(|| lib.strip_prefix("target:"))
                .map(str::to_string);
            if let Some(stripped) = stripped {
                *lib = stripped;
            }
        }
    }
    parsed
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
    // The JVM is stopped from gdb's attach to its detach: on a busy machine, gdb must not
    // wait for CPU behind other work then (measured: 0.52 s → 0.32 s median stop, load 8).
    job.nice_on_gate = Some(STOPPED_NICE);
    let result = runner.run(&job, cancel);
    resume(pid);
    let output = check(result, pid)?;
    if output.stderr.contains("Python scripting is not supported") {
        return Ok(None);
    }
    let parsed = target_paths(parse_output(&output.stdout), pid);
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
    let mut parsed = target_paths(parse_output(&output.stdout), pid);
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
    // gdb says "Operation not permitted" also when the process exits mid-attach.
    if all.contains("ptrace:") && !crate::proc::is_alive(pid) {
        return Err(Error::Exited { pid });
    }
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
            ("/opt/my app/libnative.so".to_string(), 0x5000),
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
        assert!(
            args.contains(&"add-symbol-file \"/opt/my app/libnative.so\" -o 0x5000".to_string())
        );
        let full = gated_command_line(42, &libs, true);
        assert!(!full.iter().any(|a| a.contains("-readnever")));
        assert!(full.iter().any(|a| a.contains("gdb.execute('attach 42')")));
    }
}
