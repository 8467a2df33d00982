//! The HotSpot dynamic attach protocol, spoken directly: a thread dump (or any `jcmd`
//! command) without a JDK on this machine and without starting a second JVM, also for a
//! JVM in a container seen from the host.
//!
//! The protocol, as HotSpot implements it (openjdk/jdk `src/hotspot/share/services/
//! attachListener.cpp`, `src/hotspot/os/linux/attachListener_linux.cpp`) and as jattach
//! speaks it (github.com/jattach/jattach, `src/posix/jattach_hotspot.c`):
//! 1. create the trigger file `.attach_pid<N>` in the JVM's `/tmp`, N being the pid the
//!    JVM knows itself by (its PID namespace), owned by the JVM's user;
//! 2. send SIGQUIT: the JVM's signal dispatcher sees the trigger and, instead of printing
//!    a thread dump, starts the attach listener on the UNIX socket `/tmp/.java_pid<N>`;
//! 3. connect with the JVM's effective uid/gid (the listener checks `SO_PEERCRED`; root
//!    is accepted from JDK 11 on, JDK 8 wants the same user);
//! 4. send `1\0<command>\0<arg1>\0<arg2>\0<arg3>\0` and read the result code (first line)
//!    and the output until the JVM closes the connection.
//!
//! `/tmp` "as the JVM sees it" is `/proc/<pid>/root/tmp`, which reaches into its mount
//! namespace without entering it.

use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::proc;

/// Why the attach protocol gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The process is gone or maps no `libjvm.so` (not HotSpot): nothing to try.
    #[error("process {pid} is not a running HotSpot JVM")]
    NotHotSpot {
        /// The host pid.
        pid: u32,
    },
    /// Started with `-XX:+DisableAttachMechanism`.
    #[error("process {pid} runs with -XX:+DisableAttachMechanism (the VM does not support the attach mechanism)")]
    Disabled {
        /// The host pid.
        pid: u32,
    },
    /// No SIGQUIT handler (`-Xrs`): SIGQUIT would end the JVM instead of starting the listener.
    #[error(
        "process {pid} does not handle SIGQUIT (-Xrs), so the attach listener cannot be started"
    )]
    NoSigquitHandler {
        /// The host pid.
        pid: u32,
    },
    /// The trigger file could not be created.
    #[error("cannot create the attach trigger {}: {error}", path.display())]
    Trigger {
        /// The trigger's path, as jnstack opens it.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The JVM did not open its socket after SIGQUIT.
    #[error("the JVM did not open its attach socket {} within {waited:?} of SIGQUIT (attach did not finish within the dump timeout)", path.display())]
    NoSocket {
        /// The socket's path, as jnstack opens it.
        path: PathBuf,
        /// How long jnstack waited.
        waited: Duration,
    },
    /// The socket exists but does not accept us.
    #[error("cannot connect to the attach socket {}: {error}", path.display())]
    Connect {
        /// The socket's path, as jnstack opens it.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("attach socket {}: {error}", path.display())]
    Io {
        /// The socket's path, as jnstack opens it.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The JVM did not finish answering in time (a thread dump needs a safepoint).
    #[error("the JVM did not answer `{command}` over the attach socket (it did not finish within {timeout:?})")]
    Timeout {
        /// The command sent.
        command: String,
        /// The deadline.
        timeout: Duration,
    },
    /// The JVM answered with a non-zero result code.
    #[error("the JVM refused `{command}` (result code {code}): {message}")]
    Refused {
        /// The command sent.
        command: String,
        /// The result code.
        code: i64,
        /// What it said after the code.
        message: String,
    },
    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

impl AttachError {
    /// True when the JVM did not answer in time (the next tool would wait just as long).
    pub fn timed_out(&self) -> bool {
        matches!(
            self,
            AttachError::Timeout { .. } | AttachError::NoSocket { .. }
        )
    }
}

/// What the protocol needs to know about the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The pid on this host (for `kill`).
    pub pid: u32,
    /// The pid the JVM knows itself by (last `NStgid` entry).
    pub ns_pid: u32,
    /// Its effective uid and gid (the listener accepts only these, or root).
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// Its `/tmp`, as this process can open it.
    pub tmp: PathBuf,
}

impl Target {
    /// Reads the target's ids from `/proc/<pid>/status`; `None` if it is gone.
    pub fn of(pid: u32) -> Option<Target> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        // `Uid:	real	effective	saved	fs`: the listener compares effective ids.
        let effective = |key| proc::status_ids(&status, key).get(1).copied();
        Some(Target {
            pid,
            ns_pid: proc::status_ids(&status, "NStgid:")
                .last()
                .copied()
                .unwrap_or(pid),
            uid: effective("Uid:")?,
            gid: effective("Gid:")?,
            tmp: PathBuf::from(proc::in_target(pid, "/tmp")),
        })
    }

    /// The listener's socket.
    pub fn socket(&self) -> PathBuf {
        self.tmp.join(format!(".java_pid{}", self.ns_pid))
    }

    /// The trigger file the signal dispatcher looks for.
    fn trigger(&self) -> PathBuf {
        self.tmp.join(format!(".attach_pid{}", self.ns_pid))
    }
}

/// Takes a thread dump with lock information, as `jstack -l` does (`threaddump -l`).
pub fn thread_dump(
    pid: u32,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, AttachError> {
    execute(pid, &["threaddump", "-l"], timeout, cancel)
}

/// Runs one diagnostic command line (`Thread.print -l`), as `jcmd <pid> <line>` does.
pub fn jcmd(
    pid: u32,
    line: &str,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, AttachError> {
    execute(pid, &["jcmd", line], timeout, cancel)
}

/// Sends one command (`words[0]`, up to three arguments) and returns the JVM's output
/// after the result code.
pub fn execute(
    pid: u32,
    words: &[&str],
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<String, AttachError> {
    let deadline = Instant::now() + timeout;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    if !maps.contains("/libjvm.so") || !proc::is_alive(pid) {
        return Err(AttachError::NotHotSpot { pid });
    }
    let target = Target::of(pid).ok_or(AttachError::NotHotSpot { pid })?;
    remove_foreign_socket(&target);
    let mut stream = as_user(target.uid, target.gid, || {
        connect(&target, deadline, cancel)
    })?;
    let command = words.join(" ");
    let io = |error| AttachError::Io {
        path: target.socket(),
        error,
    };
    stream.write_all(&request(words)).map_err(io)?;
    let reply = read_reply(&mut stream, deadline, cancel).map_err(|e| match e {
        ReadError::Io(error) => io(error),
        ReadError::Late => AttachError::Timeout {
            command: command.clone(),
            timeout,
        },
        ReadError::Interrupted => AttachError::Interrupted,
    })?;
    let (code, output) = reply.split_once('\n').unwrap_or((reply.as_str(), ""));
    match code.trim().parse::<i64>() {
        Ok(0) => Ok(output.to_string()),
        Ok(code) => Err(AttachError::Refused {
            command,
            code,
            message: summary(output),
        }),
        Err(_) => Err(AttachError::Refused {
            command,
            code: -1,
            message: format!("no result code in the reply: {}", summary(&reply)),
        }),
    }
}

/// The request bytes: protocol version 1, the command and exactly three arguments, each
/// NUL-terminated (HotSpot reads four strings after the version, jattach's `write_command`).
pub fn request(words: &[&str]) -> Vec<u8> {
    let mut bytes = b"1\0".to_vec();
    for i in 0..4 {
        bytes.extend_from_slice(words.get(i).unwrap_or(&"").as_bytes());
        bytes.push(0);
    }
    bytes
}

/// Runs `f` on a fresh thread whose effective uid/gid are the JVM's, when we are root and
/// they differ: the trigger file is then the JVM user's (JDK 8 trusts no other) and
/// `SO_PEERCRED` shows that user. The raw `setresuid`/`setresgid` system calls change only
/// the calling thread (glibc's and nix's wrappers change every thread of the process,
/// and gdb and the resume guard are being started meanwhile); the thread then ends, so
/// no credentials need restoring.
fn as_user<T: Send>(
    uid: u32,
    gid: u32,
    f: impl FnOnce() -> Result<T, AttachError> + Send,
) -> Result<T, AttachError> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 || (uid == 0 && gid == 0) {
        return f();
    }
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let keep = libc::c_long::from(-1i32);
            // SAFETY: plain system calls on integers; -1 keeps the real and saved ids, so
            // this thread could switch back, but it ends instead. If a call fails the
            // thread stays root, which JDK 11+ listeners accept too.
            unsafe {
                libc::syscall(libc::SYS_setresgid, keep, libc::c_long::from(gid), keep);
                libc::syscall(libc::SYS_setresuid, keep, libc::c_long::from(uid), keep);
            }
            f()
        });
        worker.join().unwrap_or(Err(AttachError::Interrupted))
    })
}

/// Removes a socket at the listener's path that another user made: the JVM makes (and
/// owns) its own, so this one is a dead process's (a JVM killed with SIGKILL leaves its
/// socket behind, and a later process may get its pid: often in containers, where the JVM
/// is pid 1), and the JVM could not replace it in the sticky /tmp. Runs with our own
/// credentials (root may remove it; the JVM's user may not).
fn remove_foreign_socket(target: &Target) {
    use std::os::unix::fs::MetadataExt;
    let socket = target.socket();
    let foreign = std::fs::symlink_metadata(&socket)
        .is_ok_and(|m| m.file_type().is_socket() && m.uid() != target.uid);
    if foreign {
        let _ = std::fs::remove_file(&socket);
    }
}

/// Connects to the listener, starting it first (trigger + SIGQUIT) if its socket is not
/// there or nobody listens on it (a dead JVM's, which is removed first).
fn connect(
    target: &Target,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<UnixStream, AttachError> {
    use std::os::unix::fs::MetadataExt;
    let socket = target.socket();
    let failed = |error| AttachError::Connect {
        path: socket.clone(),
        error,
    };
    let existing = std::fs::symlink_metadata(&socket)
        .ok()
        .filter(|m| m.file_type().is_socket());
    let stale = match &existing {
        None => None,
        Some(m) => match UnixStream::connect(&socket) {
            Ok(stream) => return Ok(stream),
            // Nobody listens. (Any other error is this JVM refusing us; a SIGQUIT would
            // then only make it print a dump to its stdout.)
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let _ = std::fs::remove_file(&socket);
                Some(m.ino())
            }
            Err(e) => return Err(failed(e)),
        },
    };
    start_listener(target, stale, deadline, cancel)?;
    UnixStream::connect(&socket).map_err(failed)
}

/// Creates the trigger, sends SIGQUIT and waits for a socket (other than the `stale` inode:
/// the listener replaces it with a rename), removing the trigger after.
fn start_listener(
    target: &Target,
    stale: Option<u64>,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<(), AttachError> {
    let pid = target.pid;
    if disabled_by_flag(pid) {
        return Err(AttachError::Disabled { pid });
    }
    // -Xrs: SIGQUIT would terminate the JVM.
    if !proc::catches_sigquit(pid) {
        return Err(AttachError::NoSigquitHandler { pid });
    }
    let trigger = target.trigger();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&trigger)
        .map_err(|error| AttachError::Trigger {
            path: trigger.clone(),
            error,
        })?;
    let started = Instant::now();
    let result = signal_and_wait(target, stale, deadline, cancel);
    let _ = std::fs::remove_file(&trigger);
    result.map_err(|e| match e {
        Wait::Late => AttachError::NoSocket {
            path: target.socket(),
            waited: started.elapsed(),
        },
        Wait::Gone => AttachError::NotHotSpot { pid },
        Wait::Interrupted => AttachError::Interrupted,
    })
}

enum Wait {
    Late,
    Gone,
    Interrupted,
}

fn signal_and_wait(
    target: &Target,
    stale: Option<u64>,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<(), Wait> {
    use std::os::unix::fs::MetadataExt;
    let raw = libc::pid_t::try_from(target.pid).map_err(|_| Wait::Gone)?;
    // SAFETY: kill has no memory-safety preconditions. The host pid: kill() resolves pids
    // in our namespace.
    if unsafe { libc::kill(raw, libc::SIGQUIT) } != 0 {
        return Err(Wait::Gone);
    }
    let socket = target.socket();
    // Short polls first: a healthy JVM opens the socket within a few ms.
    let mut pause = Duration::from_millis(2);
    loop {
        let fresh = std::fs::metadata(&socket)
            .is_ok_and(|m| m.file_type().is_socket() && Some(m.ino()) != stale);
        if fresh {
            return Ok(());
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(Wait::Interrupted);
        }
        if !proc::is_alive(target.pid) {
            return Err(Wait::Gone);
        }
        if Instant::now() >= deadline {
            return Err(Wait::Late);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// True if the JVM's command line or its option variables carry
/// `-XX:+DisableAttachMechanism`: a SIGQUIT would then only print a dump to its stdout.
fn disabled_by_flag(pid: u32) -> bool {
    const FLAG: &[u8] = b"-XX:+DisableAttachMechanism";
    ["cmdline", "environ"].iter().any(|file| {
        std::fs::read(format!("/proc/{pid}/{file}"))
            .is_ok_and(|bytes| bytes.windows(FLAG.len()).any(|w| w == FLAG))
    })
}

enum ReadError {
    Io(std::io::Error),
    Late,
    Interrupted,
}

/// Reads until the JVM closes the connection, checking the deadline and Ctrl-C.
fn read_reply(
    stream: &mut UnixStream,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<String, ReadError> {
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(ReadError::Interrupted);
        }
        if Instant::now() >= deadline {
            return Err(ReadError::Late);
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The first few non-empty lines of a reply, for a one-line error.
fn summary(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "no output".into()
    } else {
        lines.join(" / ")
    }
}

/// Writes the JSON thread dump (`Thread.dump_to_file -format=json`, JDK 21+) to a fresh
/// file in the JVM's own `/tmp`, reads it through `/proc/<pid>/root` and removes it.
pub fn json_dump(pid: u32, timeout: Duration, cancel: &AtomicBool) -> Result<String, AttachError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // The path as the JVM names it, then as we open it.
    let name = format!("/tmp/jnstack-{}-{pid}-{nanos}.json", std::process::id());
    let ours = PathBuf::from(proc::in_target(pid, &name));
    let line = format!("Thread.dump_to_file -format=json {name}");
    let output = jcmd(pid, &line, timeout, cancel);
    let text = std::fs::read_to_string(&ours);
    let _ = std::fs::remove_file(&ours);
    let output = output?;
    text.map_err(|error| AttachError::Refused {
        command: line,
        code: 0,
        message: format!(
            "wrote no {} ({error}): {}",
            ours.display(),
            summary(&output)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_version_command_and_three_arguments() {
        assert_eq!(request(&["threaddump", "-l"]), b"1\0threaddump\0-l\0\0\0");
        assert_eq!(
            request(&["jcmd", "Thread.print -l"]),
            b"1\0jcmd\0Thread.print -l\0\0\0"
        );
    }

    #[test]
    fn a_process_without_libjvm_is_not_attached() {
        let err = thread_dump(
            std::process::id(),
            Duration::from_secs(1),
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert!(matches!(err, AttachError::NotHotSpot { .. }), "{err}");
    }

    #[test]
    fn target_ids_of_our_own_process() {
        let me = std::process::id();
        let target = Target::of(me).unwrap();
        // SAFETY: geteuid has no preconditions.
        assert_eq!(target.uid, unsafe { libc::geteuid() });
        assert_eq!(target.ns_pid, me);
        assert_eq!(
            target.socket(),
            PathBuf::from(format!("/tmp/.java_pid{me}"))
        );
    }
}
