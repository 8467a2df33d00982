//! The JVM's child processes (what `ProcessBuilder.start()` launched) and what each is
//! blocked in: a thread in `Process.waitFor()` waits for its child, and the child may be
//! waiting for the JVM (writing to a full pipe the JVM never reads).

use std::collections::BTreeSet;
use std::fs;

use serde::Serialize;

use crate::fd::{self, FdTarget};
use crate::proc::{self, numeric_name, Syscall};

/// One child process of the JVM.
#[derive(Debug, Clone, Serialize)]
pub struct ChildProcess {
    /// Its pid.
    pub pid: u32,
    /// Its name (`comm`).
    pub comm: String,
    /// The JVM thread (LWP) that started it, from `/proc/<pid>/task/<lwp>/children`.
    pub started_by: Option<u32>,
    /// Scheduler state letter.
    pub state: char,
    /// Kernel function it sleeps in (`anon_pipe_write`).
    pub wchan: Option<String>,
    /// The system call its main thread is blocked in.
    pub syscall: Option<Syscall>,
    /// The descriptor of that call, resolved (pipe fill and read-end holders).
    pub fd: Option<FdTarget>,
    /// Threads of the read-end holders that are reading that pipe now (a read or poll on
    /// it); empty while nobody reads.
    pub reading: Vec<ReadingThread>,
}

/// A thread blocked reading a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadingThread {
    /// Its process.
    pub pid: u32,
    /// The thread.
    pub lwp: u32,
}

/// The live children of `pid`: those its threads list in `task/*/children`, plus `extra`
/// pids (named by the JVM's "process reaper" threads), checked by their parent pid.
pub fn children(pid: u32, extra: &[u32]) -> Vec<ChildProcess> {
    let mut found: Vec<(u32, Option<u32>)> = Vec::new();
    let tasks = fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten();
    for task in tasks {
        let Some(lwp) = numeric_name::<u32>(&task) else {
            continue;
        };
        let list = fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in list.split_whitespace().filter_map(|c| c.parse().ok()) {
            found.push((child, Some(lwp)));
        }
    }
    for &child in extra {
        if !found.iter().any(|(c, _)| *c == child) && parent_of(child) == Some(pid) {
            found.push((child, None));
        }
    }
    found.sort();
    found
        .into_iter()
        .filter_map(|(child, started_by)| read_child(child, started_by))
        .collect()
}

/// The parent pid of `pid`, from `/proc/<pid>/stat` (the field after the state).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    proc::stat_fields(&stat)?.nth(1)?.parse().ok()
}

fn read_child(pid: u32, started_by: Option<u32>) -> Option<ChildProcess> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (state, _) = proc::parse_stat(&stat)?;
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let wchan = fs::read_to_string(format!("/proc/{pid}/wchan"))
        .ok()
        .filter(|w| !w.is_empty() && w != "0");
    let syscall = fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| Syscall::parse(&s))
        .filter(|_| state != 'R');
    let fd = syscall
        .as_ref()
        .and_then(Syscall::fd)
        .and_then(|n| fd::inspect(pid, n));
    let reading = fd
        .as_ref()
        .map(|f| {
            f.readers
                .iter()
                .flat_map(|r| reading_threads(r.pid, r.fd))
                .collect()
        })
        .unwrap_or_default();
    Some(ChildProcess {
        pid,
        comm: comm.trim_end().to_string(),
        started_by,
        state,
        wchan,
        syscall,
        fd,
        reading,
    })
}

/// Threads of `pid` blocked reading descriptor `fd` (read/readv, or a poll for input that
/// includes it).
pub fn reading_threads(pid: u32, fd: i32) -> Vec<ReadingThread> {
    let lwps: BTreeSet<u32> = crate::proc::task_ids(pid);
    lwps.into_iter()
        .filter(|&lwp| {
            let Some(call) = fs::read_to_string(format!("/proc/{pid}/task/{lwp}/syscall"))
                .ok()
                .and_then(|s| Syscall::parse(&s))
            else {
                return false;
            };
            match call.name {
                Some("read" | "readv" | "pread64") => call.fd() == Some(fd),
                Some("poll" | "ppoll") => crate::syscall::polled_fds(pid, &call)
                    .iter()
                    .any(|p| p.fd == fd && p.events.contains(&"POLLIN")),
                _ => false,
            }
        })
        .map(|lwp| ReadingThread { pid, lwp })
        .collect()
}

/// True for a Java frame inside `Process.waitFor` (`ProcessImpl` on JDK 9+, `UNIXProcess`
/// on JDK 8; also the timed `waitFor(long, TimeUnit)`).
pub fn is_wait_for(frame: &str) -> bool {
    [
        "java.lang.ProcessImpl.waitFor",
        "java.lang.UNIXProcess.waitFor",
        "java.lang.Process.waitFor",
    ]
    .iter()
    .any(|m| frame.contains(m))
}

/// Reads the children of `pid` into the snapshot when a Java thread waits for one (the
/// scan reads one small file per thread, so only then).
pub fn collect(pid: u32, snapshot: &mut crate::merge::Snapshot) {
    let waiting = snapshot.threads.iter().any(|t| {
        t.java
            .as_ref()
            .is_some_and(|j| j.frames.iter().any(|f| is_wait_for(&f.text)))
    });
    if !waiting {
        return;
    }
    let reaped: Vec<u32> = snapshot
        .threads
        .iter()
        .filter_map(|t| reaper_target(&t.name))
        .collect();
    snapshot.children = children(pid, &reaped);
}

/// The pid a JVM "process reaper" thread waits for: JDK 17+ names it
/// `process reaper (pid N)` while it waits.
pub fn reaper_target(thread_name: &str) -> Option<u32> {
    thread_name
        .strip_prefix("process reaper (pid ")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::process::{Command, Stdio};

    #[test]
    fn follows_a_child_blocked_on_a_full_pipe_we_never_read() {
        // `head` writes 4 MB to a pipe whose read end only we hold, and never finishes.
        let mut child = Command::new("head")
            .args(["-c", "4000000", "/dev/zero"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let blocked = (0..500).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            children(std::process::id(), &[child.id()])
                .into_iter()
                .find(|c| {
                    c.pid == child.id() && c.syscall.as_ref().and_then(|s| s.name) == Some("write")
                })
        });
        let _ = child.kill();
        let _ = child.wait();
        let c = blocked.expect("head never blocked in write()");
        assert_eq!(c.comm, "head");
        let fd = c.fd.unwrap();
        assert_eq!(fd.fd, 1);
        let fill = fd.pipe.unwrap();
        assert!(fill.is_full_for(4096), "{fill:?}");
        // Our own read end is not reported (jnstack leaves itself out), and nobody reads.
        assert!(c.reading.is_empty());
        drop(out);
    }

    #[test]
    fn sees_a_thread_reading_a_pipe() {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors were just created and are owned here.
        let reader = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
        let writer = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        let fd = reader.as_raw_fd();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 1];
            let _ = std::io::Read::read(&mut &reader, &mut buf);
        });
        let seen = (0..500).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let r = reading_threads(std::process::id(), fd);
            (!r.is_empty()).then_some(r)
        });
        drop(writer);
        let _ = t.join();
        assert_eq!(seen.unwrap().len(), 1);
        assert_eq!(reaper_target("process reaper (pid 2691)"), Some(2691));
        assert_eq!(reaper_target("process reaper"), None);
    }
}
