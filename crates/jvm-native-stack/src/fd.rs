//! What a file descriptor of the target points to (`/proc/<pid>/fd/N`) and, for a pipe,
//! how full it is: a writer blocked on a full pipe nobody reads is the classic JNI hang.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use serde::Serialize;

/// The target of one file descriptor.
#[derive(Debug, Clone, Serialize)]
pub struct FdTarget {
    /// The descriptor number in the target process.
    pub fd: i32,
    /// The link target (`pipe:[12345]`, `socket:[…]`, `/var/log/app.log`).
    pub target: String,
    /// For a pipe: bytes waiting to be read and the pipe's capacity.
    pub pipe: Option<PipeFill>,
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
    Some(FdTarget { fd, target, pipe })
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
        // SAFETY: pipe2 writes two descriptors into the array.
        assert_eq!(
            unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
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
