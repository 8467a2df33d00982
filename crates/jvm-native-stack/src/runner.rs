//! Running external tools (jstack, jcmd, gdb) with a deadline and Ctrl-C handling.
//! The [`Runner`] trait is the seam tests use to inject slow or failing tools.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// A command to run: program, arguments, and how long it may take.
#[derive(Debug)]
pub struct Job {
    /// Program path.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// Kill the program after this long (counted from when the gate opens, if any).
    pub timeout: Duration,
    /// A gate: the program starts at once, but its stdin gets the line received here
    /// only when the caller is ready (then stdin is closed). A dropped sender closes
    /// stdin without a line. Lets gdb start and load symbols while jstack runs.
    pub stdin_gate: Option<Receiver<String>>,
    /// Scheduling priority (nice value) to give the program when the gate opens, so that a
    /// loaded machine does not stretch the phase that follows (gdb's attach: the JVM is
    /// stopped). Raising priority needs root or CAP_SYS_NICE; without them it is skipped.
    pub nice_on_gate: Option<i32>,
}

impl Job {
    /// A job without a stdin gate.
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>, timeout: Duration) -> Job {
        Job {
            program: program.into(),
            args,
            timeout,
            stdin_gate: None,
            nice_on_gate: None,
        }
    }
}

/// What a finished command produced.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Exit code, `None` if killed by a signal.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Why a command did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// Program path.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The deadline passed; the program was killed.
    #[error("{program} did not finish within {timeout:?} and was killed")]
    Timeout {
        /// Program path.
        program: PathBuf,
        /// The deadline.
        timeout: Duration,
    },
    /// The user pressed Ctrl-C; the program was killed.
    #[error("interrupted")]
    Interrupted,
}

/// Runs external programs. Implemented by [`SystemRunner`]; tests inject faults.
pub trait Runner: Sync {
    /// Runs `job` to completion, or kills it on timeout or when `cancel` becomes true.
    fn run(&self, job: &Job, cancel: &AtomicBool) -> Result<Output, RunError>;
}

/// Runs programs as child processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&self, job: &Job, cancel: &AtomicBool) -> Result<Output, RunError> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(&job.program)
            .args(&job.args)
            .stdin(if job.stdin_gate.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group: a terminal Ctrl-C reaches only us, and we decide how
            // the tool stops (gdb must not die while the JVM is left stopped).
            .process_group(0)
            .spawn()
            .map_err(|source| RunError::Spawn {
                program: job.program.clone(),
                source,
            })?;
        // Drain both pipes on threads so a chatty child never blocks on a full pipe.
        let drain = |stream: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut s) = stream {
                    let _ = s.read_to_end(&mut buf);
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let mut stdin = child.stdin.take();
        // The deadline starts when the gate opens (at once without a gate).
        let mut start = job.stdin_gate.is_none().then(Instant::now);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(_) => break None,
            }
            if let (Some(gate), None) = (&job.stdin_gate, start) {
                match gate.try_recv() {
                    Ok(line) => {
                        if let Some(nice) = job.nice_on_gate {
                            set_nice(child.id(), nice);
                        }
                        if let Some(mut pipe) = stdin.take() {
                            let _ = pipe.write_all(format!("{line}\n").as_bytes());
                        }
                        start = Some(Instant::now());
                    }
                    Err(TryRecvError::Disconnected) => {
                        stdin = None;
                        start = Some(Instant::now());
                    }
                    Err(TryRecvError::Empty) => {}
                }
            }
            let interrupted = cancel.load(Ordering::SeqCst);
            let expired = start.is_some_and(|s| s.elapsed() >= job.timeout);
            if interrupted || expired {
                // The whole process group: gdb forks helpers (its ptrace feature probe
                // stops itself with SIGSTOP), and one orphaned mid-probe would stay
                // stopped for ever.
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Err(if interrupted {
                    RunError::Interrupted
                } else {
                    RunError::Timeout {
                        program: job.program.clone(),
                        timeout: job.timeout,
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Output {
            code: status.and_then(|s| s.code()),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    }
}

/// SIGKILLs the process group led by `leader` (every child runs in its own group).
fn kill_group(leader: u32) {
    let Ok(pgid) = libc::pid_t::try_from(leader) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; a negative pid names a group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Sets the nice value of process `pid`; failures (no privilege to raise it) are ignored:
/// the program then just runs at its normal priority.
fn set_nice(pid: libc::id_t, nice: i32) {
    // SAFETY: setpriority has no memory-safety preconditions.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, pid, nice);
    }
}

/// Finds `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// True if `path` is an executable regular file.
pub fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_a_slow_program() {
        let job = Job::new("sleep", vec!["30".into()], Duration::from_millis(50));
        let err = SystemRunner.run(&job, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
    }

    #[test]
    fn a_timeout_kills_the_programs_helpers_too() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("helper.pid");
        // Like gdb's ptrace probe: a forked helper that stops itself, here only after its
        // parent was killed (its group is orphaned by then, so the kernel's SIGHUP+SIGCONT
        // for orphaned groups with stopped members never comes). The gate (which starts
        // the deadline) opens only once the helper is there.
        let script = format!(
            "sh -c 'echo $$ > {0}.tmp && mv {0}.tmp {0}; sleep 1; kill -STOP $$' & read line; sleep 30",
            file.display()
        );
        let (gate, gate_rx) = std::sync::mpsc::channel();
        let mut job = Job::new("sh", vec!["-c".into(), script], Duration::from_millis(100));
        job.stdin_gate = Some(gate_rx);
        let run = std::thread::spawn(move || SystemRunner.run(&job, &AtomicBool::new(false)));
        let started = std::time::Instant::now();
        let helper: u32 = loop {
            if let Some(pid) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break pid;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "helper never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        gate.send("go".into()).unwrap();
        let err = run.join().unwrap().unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
        // Gone, or a zombie waiting for its new parent: not stopped (give it 10 s).
        let state = (0..500)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                crate::proc::process_state(helper)
            })
            .find(|s| !matches!(s, Some('T' | 'S' | 'R')));
        assert!(
            matches!(state, Some(None | Some('Z' | 'X'))),
            "helper {helper} survived the kill: {:?}",
            crate::proc::process_state(helper)
        );
    }

    #[test]
    fn collects_output() {
        let job = Job::new(
            "sh",
            vec!["-c".into(), "echo out; echo err >&2; exit 3".into()],
            Duration::from_secs(10),
        );
        let out = SystemRunner.run(&job, &AtomicBool::new(false)).unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
    }

    #[test]
    fn gate_delivers_one_line_then_eof() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut job = Job::new("cat", Vec::new(), Duration::from_secs(10));
        job.stdin_gate = Some(rx);
        let handle = std::thread::spawn(move || SystemRunner.run(&job, &AtomicBool::new(false)));
        std::thread::sleep(Duration::from_millis(50));
        tx.send("go 1,2".into()).unwrap();
        assert_eq!(handle.join().unwrap().unwrap().stdout, "go 1,2\n");
    }

    #[test]
    fn gate_raises_priority_when_allowed() {
        let (tx, rx) = std::sync::mpsc::channel();
        // Prints its own nice value (field 19 of stat) once the gate line arrives.
        let mut job = Job::new(
            "sh",
            vec![
                "-c".into(),
                "read line; cut -d' ' -f19 /proc/$$/stat".into(),
            ],
            Duration::from_secs(10),
        );
        job.stdin_gate = Some(rx);
        job.nice_on_gate = Some(-7);
        tx.send("go".into()).unwrap();
        let out = SystemRunner.run(&job, &AtomicBool::new(false)).unwrap();
        // SAFETY: geteuid has no preconditions.
        let privileged = unsafe { libc::geteuid() } == 0;
        // Without privilege the program still runs, at its normal priority.
        let expected = if privileged { "-7" } else { "0" };
        assert_eq!(out.stdout.trim(), expected, "{out:?}");
    }

    #[test]
    fn dropped_gate_closes_stdin() {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let mut job = Job::new("cat", Vec::new(), Duration::from_secs(10));
        job.stdin_gate = Some(rx);
        drop(tx);
        assert_eq!(
            SystemRunner
                .run(&job, &AtomicBool::new(false))
                .unwrap()
                .stdout,
            ""
        );
    }
}
