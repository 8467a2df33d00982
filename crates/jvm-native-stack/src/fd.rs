//! What a file descriptor of the target points to (`/proc/<pid>/fd/N`) and, for a pipe,
//! how full it is: a writer blocked on a full pipe nobody reads is the classic JNI hang.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use serde::Serialize;

use crate::proc::numeric_name;

/// The target of one file descriptor.
#[derive(Debug, Clone, Serialize)]
pub struct FdTarget {
    /// The descriptor number in the target process.
    pub fd: i32,
    /// The link target (`pipe:[12345]`, `socket:[…]`, `/var/log/app.log`).
    pub target: String,
    /// For a pipe: bytes waiting to be read and the pipe's capacity.
    pub pipe: Option<PipeFill>,
    /// For a full pipe: every process holding its read end open (who should be reading).
    pub readers: Vec<PipeEnd>,
    /// For an internet socket: addresses and state, from the target's `/proc/<pid>/net`.
    pub socket: Option<crate::net::InetSocket>,
}

/// A process holding one end of a pipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipeEnd {
    /// Process id.
    pub pid: u32,
    /// Process name (`comm`).
    pub comm: String,
    /// Its descriptor number for the pipe.
    pub fd: i32,
}

/// How full a pipe is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PipeFill {
    /// Bytes written but not yet read.
    pub queued: u64,
    /// The pipe's capacity (`F_GETPIPE_SZ`).
    pub capacity: u64,
}

impl PipeFill {
    /// True when a write of `len` bytes (at most one page) cannot proceed.
    pub fn is_full_for(&self, len: u64) -> bool {
        self.capacity.saturating_sub(self.queued) < len.clamp(1, 4096)
    }
}

/// Resolves `fd` of `pid`. `None` if the descriptor is gone or unreadable.
pub fn inspect(pid: u32, fd: i32) -> Option<FdTarget> {
    let link = format!("/proc/{pid}/fd/{fd}");
    let target = fs::read_link(&link).ok()?.to_string_lossy().into_owned();
    let pipe = if target.starts_with("pipe:[") {
        pipe_fill(&link)
    } else {
        None
    };
    // Scanning every process's descriptors costs a few ms: only for a full pipe, the case
    // where the reader is the culprit.
    let readers = match pipe {
        Some(fill) if fill.is_full_for(1) => read_ends(&target),
        _ => Vec::new(),
    };
    let socket = crate::net::socket_inode(&target).and_then(|inode| crate::net::lookup(pid, inode));
    Some(FdTarget {
        fd,
        target,
        pipe,
        readers,
        socket,
    })
}

/// Every process (but this one) with `pipe` (`pipe:[123]`) open for reading, from
/// `/proc/*/fd` links and the access mode in `/proc/*/fdinfo`. Unreadable processes
/// (other users) are skipped.
pub fn read_ends(pipe: &str) -> Vec<PipeEnd> {
    let me = std::process::id();
    let mut ends = Vec::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return ends;
    };
    for entry in procs.flatten() {
        let Some(pid) = numeric_name::<u32>(&entry) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd_entry in fds.flatten() {
            let is_pipe = fs::read_link(fd_entry.path()).is_ok_and(|t| t.as_os_str() == pipe);
            let Some(fd) = numeric_name::<i32>(&fd_entry) else {
                continue;
            };
            if is_pipe && opened_read_only(pid, fd) {
                let comm = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                ends.push(PipeEnd {
                    pid,
                    comm: comm.trim_end().to_string(),
                    fd,
                });
            }
        }
    }
    ends
}

/// True if `fdinfo` says the descriptor was opened read-only (`flags:` octal, O_ACCMODE 0).
fn opened_read_only(pid: u32, fd: i32) -> bool {
    let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & libc::O_ACCMODE as u32 == libc::O_RDONLY as u32)
}

/// Opens the pipe through `/proc` (a new open file of the same pipe, non-blocking and
/// read-only, so it neither blocks nor writes) and asks for queued bytes and capacity.
/// Nothing is read, so the target's data stays in the pipe.
fn pipe_fill(link: &str) -> Option<PipeFill> {
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(link)
        .ok()?;
    let raw = file.as_raw_fd();
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which is valid and aligned.
    if unsafe { libc::ioctl(raw, libc::FIONREAD, &mut queued) } != 0 {
        return None;
    }
    // SAFETY: F_GETPIPE_SZ takes no pointer argument.
    let capacity = unsafe { libc::fcntl(raw, libc::F_GETPIPE_SZ) };
    if capacity <= 0 {
        return None;
    }
    Some(PipeFill {
        queued: u64::try_from(queued).unwrap_or(0),
        capacity: capacity as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sees_a_full_pipe_without_draining_it() {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array. CLOEXEC: children that
        // other tests spawn meanwhile must not inherit (and hold) the read end.
        assert_eq!(
            unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) },
            0
        );
        // SAFETY: both descriptors were just created and are owned here.
        let mut writer = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        let _reader = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
        while writer.write(&[b'x'; 4096]).is_ok() {}
        let info = inspect(std::process::id(), fds[1]).unwrap();
        assert!(info.target.starts_with("pipe:["), "{info:?}");
        let fill = info.pipe.unwrap();
        assert_eq!(fill.queued, fill.capacity);
        assert!(fill.is_full_for(4096));
        // The read end is ours, but jnstack leaves its own process out. (A child that
        // another test is spawning may hold it for a moment between fork and exec.)
        assert!(
            info.readers.iter().all(|r| r.pid != std::process::id()),
            "{info:?}"
        );
        // Still full: inspecting did not consume anything.
        assert_eq!(
            inspect(std::process::id(), fds[1])
                .unwrap()
                .pipe
                .unwrap()
                .queued,
            fill.queued
        );
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn finds_the_process_holding_the_read_end() {
        // `sleep` inherits the read end of a pipe on its stdin and never reads it.
        let mut child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let target = fs::read_link(format!("/proc/self/fd/{}", stdin.as_raw_fd())).unwrap();
        let ends = read_ends(target.to_str().unwrap());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            ends,
            vec![PipeEnd {
                pid: child.id(),
                comm: "sleep".into(),
                fd: 0
            }]
        );
    }
}
