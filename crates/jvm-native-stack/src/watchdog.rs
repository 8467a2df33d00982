//! The resume guard: a tiny process that outlives jnstack and its gdb and resumes the JVM
//! if both die during the attach.
//!
//! gdb attaches with `PTRACE_ATTACH`, which queues a SIGSTOP for every thread. If gdb is
//! SIGKILLed mid-attach, the kernel detaches it, and each thread then takes its queued
//! SIGSTOP as an ordinary one: the whole JVM enters group stop (state T) and stays there
//! until someone sends SIGCONT. jnstack sends it when gdb dies; the guard covers the case
//! where jnstack dies too (a CI timeout, `pkill -9`, a killed process group). Measured at
//! 3,000 threads without it: all 3,004 threads left in state T.
//!
//! The guard runs in its own session (no terminal signals, no process-group kills) and
//! watches a pipe whose only writer is jnstack: end of file without the word `done` means
//! jnstack is gone. It then waits until nobody traces the JVM (gdb gone or detached) and
//! sends SIGCONT until no thread is stopped. It cannot survive a kill of its whole cgroup
//! (systemd stopping the unit, a deleted container): nothing in the kernel resumes the JVM
//! then; run `kill -CONT <pid>`.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// `argv[1]` that makes the jnstack binary run as the guard (see [`main_if_guard`]).
pub const GUARD_ARG: &str = "--resume-guard";

/// Name the guard runs under (`argv[0]`): it must not match `pkill -f jnstack`, or the
/// kill that takes jnstack would take its guard too.
pub const GUARD_NAME: &str = "jvm-resume-guard";

/// A running guard; [`Guard::disarm`] once the JVM is known to be resumed.
#[derive(Debug)]
pub struct Guard {
    child: Child,
    pipe: Option<ChildStdin>,
}

impl Guard {
    /// Starts a guard for `pid` (this binary again, in its own session).
    pub fn spawn(pid: u32) -> std::io::Result<Guard> {
        use std::os::unix::process::CommandExt;
        let start = start_time(pid).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "the JVM's start time")
        })?;
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg0(GUARD_NAME)
            .args([GUARD_ARG.to_string(), pid.to_string(), start.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: setsid is async-signal-safe. Its own session: a Ctrl-C, a SIGHUP or a
        // kill of jnstack's process group does not reach the guard.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        // The parent's end is close-on-exec (std's pipes are): gdb and jstack do not
        // inherit it, so only jnstack's death closes it.
        let pipe = child.stdin.take();
        Ok(Guard { child, pipe })
    }

    /// The guard's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Tells the guard the JVM is resumed: it exits without touching the JVM.
    pub fn disarm(mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(b"done\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Not disarmed (an error path): closing the pipe makes the guard check the JVM,
        // which is harmless if it is running. Reap it so no zombie stays behind.
        self.pipe.take();
        let _ = self.child.wait();
    }
}

/// Field 22 of `/proc/<pid>/stat`: the start time, which tells a reused pid apart.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    crate::proc::stat_fields(&stat)?.nth(19)?.parse().ok()
}

/// If this process was started as a guard (`argv[1]` is [`GUARD_ARG`]), runs it and
/// returns true; the caller then exits.
pub fn main_if_guard() -> bool {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(GUARD_ARG) {
        return false;
    }
    let pid = args.get(2).and_then(|a| a.parse().ok());
    let start = args.get(3).and_then(|a| a.parse().ok());
    if let (Some(pid), Some(start)) = (pid, start) {
        let mut said = String::new();
        // Blocks until jnstack writes `done` and closes, or dies (EOF).
        let _ = std::io::stdin().read_to_string(&mut said);
        if !said.contains("done") {
            resume_when_untraced(pid, start);
        }
    }
    true
}

/// Waits until no tracer holds `pid` (a surviving gdb finishes and detaches, a dead one
/// was detached by the kernel), then sends SIGCONT until no thread is stopped.
fn resume_when_untraced(pid: u32, start: u64) {
    let same = || start_time(pid) == Some(start);
    // An orphaned gdb either exits at once (its stdin is closed) or finishes its batch;
    // an hour covers a gdb stuck in a huge unwind without keeping the guard for ever.
    let deadline = Instant::now() + Duration::from_secs(3600);
    while same() && crate::proc::tracer_pid(pid).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return;
    };
    // Several rounds: a thread can enter group stop just after a SIGCONT went out.
    let mut quiet = 0;
    for _ in 0..500 {
        if !same() {
            return;
        }
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(raw, libc::SIGCONT);
        }
        let stopped = crate::proc::read_tasks(pid)
            .map(|tasks| tasks.iter().any(|t| t.state == 'T'))
            .unwrap_or(false);
        quiet = if stopped { 0 } else { quiet + 1 };
        if quiet >= 5 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
