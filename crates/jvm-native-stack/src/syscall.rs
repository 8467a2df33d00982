//! What a blocked thread really waits for, decoded from its system call's registers
//! (`/proc/<pid>/task/<tid>/syscall`: number, six arguments, stack and instruction pointer)
//! and, for `poll`/`ppoll`, the `struct pollfd` array read from `/proc/<pid>/mem`.
//!
//! A timed wait (poll with a timeout, a timed futex, a sleep) that was interrupted by a
//! ptrace stop (an earlier gdb or jnstack run) is resumed by the kernel as
//! `restart_syscall`, and that is what `/proc` shows from then on. The argument registers
//! are untouched by the restart, so they are still the original call's arguments; which
//! call it was is recovered from the wait channel (the kernel function it sleeps in),
//! and for `poll_schedule_timeout`, shared by poll and select, from the registers' shape.

use std::fs::File;
use std::os::unix::fs::FileExt;

use serde::Serialize;

use crate::proc::{Syscall, Task};

/// A decoded wait.
#[derive(Debug, Clone, Serialize)]
pub struct Wait {
    /// The call the thread waits in (`poll`, `ppoll`, `futex`, `clock_nanosleep`, …).
    pub call: &'static str,
    /// The kernel shows `restart_syscall`: the call was resumed after a stop.
    pub restarted: bool,
    /// How a restarted call was recovered (`wait channel poll_schedule_timeout, …`).
    pub derived_from: Option<String>,
    /// The descriptors a poll waits on, with the events it waits for.
    pub fds: Vec<PolledFd>,
    /// The poll's timeout in milliseconds, as passed to the call (for a restarted call the
    /// original value, not what is left of it); `None` when there is none or for calls
    /// whose timeout is not decoded.
    pub timeout_ms: Option<u64>,
    /// The poll waits without a timeout (`-1`, or a null timespec for ppoll).
    pub no_timeout: bool,
}

/// One entry of a poll's `struct pollfd` array.
#[derive(Debug, Clone, Serialize)]
pub struct PolledFd {
    /// The descriptor.
    pub fd: i32,
    /// The events asked for (`POLLIN`, `POLLOUT`, …).
    pub events: Vec<&'static str>,
    /// Its `/proc/<pid>/fd` link target (`socket:[123]`), if it could be read.
    pub target: Option<String>,
}

/// The kernel function a restarted call sleeps in, and the call that sleeps there.
/// `poll_schedule_timeout` is shared by poll and select (told apart by the registers).
const RESTARTED_BY_WCHAN: &[(&str, &str)] = &[
    ("poll_schedule_timeout", POLL),
    ("do_sys_poll", POLL),
    ("do_poll", POLL),
    ("do_select", SELECT),
    ("core_sys_select", SELECT),
    ("futex", "futex"),
    ("do_nanosleep", "clock_nanosleep"),
    ("hrtimer_nanosleep", "clock_nanosleep"),
];

/// glibc's poll() on x86_64 is the poll syscall; other architectures only have ppoll.
#[cfg(target_arch = "x86_64")]
const POLL: &str = "poll";
#[cfg(not(target_arch = "x86_64"))]
const POLL: &str = "ppoll";
#[cfg(target_arch = "x86_64")]
const SELECT: &str = "select";
#[cfg(not(target_arch = "x86_64"))]
const SELECT: &str = "pselect6";

/// Most descriptors a poll is decoded with (a JVM's own polls use one or two).
const MAX_POLLED: u64 = 64;

/// Decodes the wait of a sleeping task of `pid`: a poll's descriptors and timeout, and
/// the original call behind `restart_syscall`. `None` for calls that need no decoding.
pub fn decode(pid: u32, task: &Task) -> Option<Wait> {
    if task.state == 'R' {
        return None;
    }
    let call = task.syscall.as_ref()?;
    let (name, restarted, derived_from) = match call.name {
        Some("restart_syscall") => {
            let (name, why) = restarted_call(task.wchan.as_deref(), call)?;
            (name, true, Some(why))
        }
        Some(name @ ("poll" | "ppoll")) => (name, false, None),
        _ => return None,
    };
    Some(with_args(pid, call, name, restarted, derived_from))
}

/// A `restart_syscall` the wait channel did not explain (it was unreadable), recovered
/// from gdb's innermost named native frames (`__GI___poll`, `__futex_abstimed_wait…`).
pub fn decode_from_frames(
    pid: u32,
    task: &Task,
    frames: &[crate::backtrace::NativeFrame],
) -> Option<Wait> {
    let call = task.syscall.as_ref()?;
    if task.state == 'R' || call.name != Some("restart_syscall") {
        return None;
    }
    let (name, function) = frames
        .iter()
        .filter(|f| f.function != "??")
        .take(3)
        .find_map(|f| call_of_function(&f.function).map(|n| (n, f.function.as_str())))?;
    let why = format!("from the innermost native frame {function}");
    Some(with_args(pid, call, name, true, Some(why)))
}

/// The system call a libc function sleeps in, by name (data, innermost first).
fn call_of_function(function: &str) -> Option<&'static str> {
    let name = function.split('(').next().unwrap_or(function);
    const CALLS: &[(&str, &str)] = &[
        ("epoll_wait", "epoll_wait"),
        ("epoll_pwait", "epoll_pwait"),
        ("ppoll", "ppoll"),
        ("poll", POLL),
        ("pselect", "pselect6"),
        ("select", SELECT),
        ("futex", "futex"),
        ("pthread_cond_timedwait", "futex"),
        ("pthread_cond_clockwait", "futex"),
        ("nanosleep", "clock_nanosleep"),
    ];
    CALLS
        .iter()
        .find(|(needle, _)| name.contains(needle))
        .map(|&(_, call)| call)
}

/// The wait of `call` known to be `name`: for a poll, its descriptors and timeout.
fn with_args(
    pid: u32,
    call: &Syscall,
    name: &'static str,
    restarted: bool,
    derived_from: Option<String>,
) -> Wait {
    let mut wait = Wait {
        call: name,
        restarted,
        derived_from,
        fds: Vec::new(),
        timeout_ms: None,
        no_timeout: false,
    };
    if matches!(name, "poll" | "ppoll") {
        wait.fds = polled_fds(pid, call);
        match poll_timeout(pid, name, call) {
            Some(ms) => wait.timeout_ms = Some(ms),
            None => wait.no_timeout = true,
        }
    }
    wait
}

/// Which call a `restart_syscall` resumed, from the wait channel and the registers.
pub fn restarted_call(wchan: Option<&str>, call: &Syscall) -> Option<(&'static str, String)> {
    let wchan = wchan?;
    let &(_, mut name) = RESTARTED_BY_WCHAN
        .iter()
        .find(|(prefix, _)| wchan.starts_with(prefix))?;
    let mut why = format!("from the wait channel {wchan}");
    if name == POLL && wchan.starts_with("poll_schedule_timeout") {
        // poll(fds, nfds, timeout) has a pointer first; select(nfds, …) a small count.
        if call.args[0] < 0x10000 {
            name = SELECT;
            why.push_str(" and a descriptor count, not a pointer, as first argument");
        } else {
            why.push_str(" and a pointer as first argument");
        }
    }
    Some((name, why))
}

/// The poll's timeout in ms; `None` for no timeout. poll passes an int (negative: none),
/// ppoll a `struct timespec *` (null: none), read from the target's memory.
fn poll_timeout(pid: u32, name: &str, call: &Syscall) -> Option<u64> {
    if name == "poll" {
        // The int argument sits in the low 32 bits of the register.
        let ms = call.args[2] as u32 as i32;
        return u64::try_from(ms).ok();
    }
    if call.args[2] == 0 {
        return None;
    }
    let bytes = read_mem(pid, call.args[2], 16)?;
    let secs = i64::from_ne_bytes(bytes[..8].try_into().ok()?);
    let nanos = i64::from_ne_bytes(bytes[8..].try_into().ok()?);
    u64::try_from(secs.checked_mul(1000)?.checked_add(nanos / 1_000_000)?).ok()
}

/// The `struct pollfd` array of a poll/ppoll call (`args[0]`, `args[1]` entries) with
/// each descriptor's link target.
pub fn polled_fds(pid: u32, call: &Syscall) -> Vec<PolledFd> {
    let count = call.args[1].min(MAX_POLLED);
    let Some(bytes) = read_mem(pid, call.args[0], count as usize * 8) else {
        return Vec::new();
    };
    bytes
        .chunks_exact(8)
        .filter_map(|entry| {
            let fd = i32::from_ne_bytes(entry[..4].try_into().ok()?);
            let events = i16::from_ne_bytes(entry[4..6].try_into().ok()?);
            // A negative fd is an entry the caller switched off.
            (fd >= 0).then(|| PolledFd {
                fd,
                events: poll_events(events),
                target: std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned()),
            })
        })
        .collect()
}

/// Names of the bits of a pollfd's `events`.
fn poll_events(events: i16) -> Vec<&'static str> {
    const BITS: &[(i16, &str)] = &[
        (libc::POLLIN, "POLLIN"),
        (libc::POLLPRI, "POLLPRI"),
        (libc::POLLOUT, "POLLOUT"),
        (libc::POLLRDNORM, "POLLRDNORM"),
        (libc::POLLRDBAND, "POLLRDBAND"),
        (libc::POLLWRNORM, "POLLWRNORM"),
        (libc::POLLWRBAND, "POLLWRBAND"),
        (libc::POLLRDHUP, "POLLRDHUP"),
    ];
    BITS.iter()
        .filter(|(bit, _)| events & bit != 0)
        .map(|&(_, name)| name)
        .collect()
}

/// Reads `len` bytes at `address` of `pid`'s memory (needs the same ptrace access as the
/// `syscall` file; reading does not stop the process).
fn read_mem(pid: u32, address: u64, len: usize) -> Option<Vec<u8>> {
    if address == 0 || len == 0 {
        return None;
    }
    let file = File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, address).ok()?;
    Some(buf)
}

impl Wait {
    /// Renders like strace: `poll([{fd=7, POLLIN}], 1, 3600000)`, or `futex(…)`.
    pub fn display(&self) -> String {
        if !matches!(self.call, "poll" | "ppoll") {
            return format!("{}(…)", self.call);
        }
        let fds: Vec<String> = self
            .fds
            .iter()
            .map(|f| format!("{{fd={}, {}}}", f.fd, f.events.join("|")))
            .collect();
        let timeout = match (self.timeout_ms, self.call) {
            (Some(ms), "poll") => ms.to_string(),
            (Some(ms), _) => format!("{ms} ms"),
            (None, "poll") => "-1".into(),
            (None, _) => "NULL".into(),
        };
        format!(
            "{}([{}], {}, {timeout})",
            self.call,
            fds.join(", "),
            self.fds.len()
        )
    }

    /// `with a timeout of 3600000 ms (1 h)` or `without a timeout`; empty for non-polls.
    pub fn timeout_text(&self) -> String {
        match self.timeout_ms {
            Some(ms) if self.restarted => format!(
                "with a timeout of {ms} ms ({}) as first asked (the time left is kept in the \
                 kernel)",
                human_ms(ms)
            ),
            Some(ms) => format!("with a timeout of {ms} ms ({})", human_ms(ms)),
            None if self.no_timeout => "without a timeout".into(),
            None => String::new(),
        }
    }

    /// Why the call shown is not the `restart_syscall` /proc shows, if it is not.
    pub fn restart_note(&self) -> Option<String> {
        let how = self.derived_from.as_deref()?;
        Some(format!(
            "/proc shows restart_syscall, the kernel's resumption of this {call} after a \
             ptrace stop by an earlier debugger or jnstack run: {call} is derived {how}; the \
             arguments are the original call's registers",
            call = self.call
        ))
    }
}

/// `1 h`, `2 min 5 s`, `300 ms`.
fn human_ms(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ if s.is_multiple_of(3600) => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn task(syscall: &str, wchan: &str) -> Task {
        Task {
            lwp: 1,
            comm: "t".into(),
            state: 'S',
            cpu_ms: 0,
            cpu_percent: None,
            wchan: Some(wchan.into()),
            syscall: Syscall::parse(syscall),
            not_run_ms: None,
            ns_tid: None,
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn restart_syscall_is_recovered_from_the_wait_channel() {
        // Seen after a gdb attach/detach on a JDK 17 socket read with SO_TIMEOUT 1 h.
        let poll =
            "219 0x7fefd979e398 0x1 0x36ee80 0xc 0x0 0x69ecf5e30 0x7fefd979e360 0x7ff00578726f";
        let t = task(poll, "poll_schedule_timeout.constprop.0");
        let call = t.syscall.as_ref().unwrap();
        let (name, why) = restarted_call(t.wchan.as_deref(), call).unwrap();
        assert_eq!(name, "poll");
        assert!(why.contains("poll_schedule_timeout"), "{why}");
        // The pointer is not ours, so no pollfd array, but the timeout is in a register.
        let w = decode(std::process::id(), &t).unwrap();
        assert!(w.restarted);
        assert_eq!(w.timeout_ms, Some(3_600_000));
        assert!(w.timeout_text().contains("3600000 ms (1 h) as first asked"));
        assert!(w.restart_note().unwrap().contains("restart_syscall"));
        let select = "219 0x5 0x7f00 0x0 0x0 0x7f10 0x0 0x0 0x0";
        let t = task(select, "poll_schedule_timeout.constprop.0");
        assert_eq!(
            restarted_call(t.wchan.as_deref(), t.syscall.as_ref().unwrap())
                .unwrap()
                .0,
            "select"
        );
        let futex = task(
            "219 0x7f1 0x189 0x0 0x7f2 0x0 0xffffffff 0x0 0x0",
            "futex_do_wait",
        );
        let w = decode(1, &futex).unwrap();
        assert_eq!((w.call, w.display()), ("futex", "futex(…)".to_string()));
        assert!(w.timeout_text().is_empty());
        // Without a wait channel nothing is guessed.
        let mut blind = task(poll, "x");
        blind.wchan = None;
        assert!(decode(1, &blind).is_none());
        // Calls that need no decoding.
        assert!(decode(1, &task("0 0x5 0x7f 0x1", "wait_woken")).is_none());
    }

    #[test]
    fn restart_syscall_without_a_wait_channel_is_recovered_from_gdb_frames() {
        let frame = |f: &str| crate::backtrace::NativeFrame {
            index: 0,
            function: f.into(),
            address: None,
            source: None,
            library: None,
            jvm_internal: false,
        };
        let mut t = task("219 0x7f00 0x1 0x1388 0x0 0x0 0x0 0x0 0x0", "x");
        t.wchan = None;
        let w = decode_from_frames(
            1,
            &t,
            &[frame("??"), frame("__GI___poll"), frame("NET_Timeout")],
        )
        .unwrap();
        assert_eq!(w.call, POLL);
        assert!(w.restarted);
        assert_eq!(
            w.derived_from.as_deref(),
            Some("from the innermost native frame __GI___poll")
        );
        if POLL == "poll" {
            assert_eq!(w.timeout_ms, Some(5000));
        }
        let w = decode_from_frames(
            1,
            &t,
            &[
                frame("__futex_abstimed_wait_common64"),
                frame("__pthread_cond_timedwait"),
            ],
        )
        .unwrap();
        assert_eq!(w.call, "futex");
        // Frames that name no call, or a call that is not restart_syscall: nothing guessed.
        assert!(decode_from_frames(1, &t, &[frame("Java_Foo_bar")]).is_none());
        let read = task("0 0x5 0x7f 0x1", "wait_woken");
        assert!(decode_from_frames(1, &read, &[frame("__GI___poll")]).is_none());
    }

    #[test]
    fn reads_a_pollfd_array_from_memory() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fds = [
            libc::pollfd {
                fd: server.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: -1,
                events: libc::POLLOUT,
                revents: 0,
            },
        ];
        let call = Syscall {
            number: 7,
            name: Some("poll"),
            args: [fds.as_ptr() as u64, 2, 5000, 0, 0, 0],
        };
        let polled = polled_fds(std::process::id(), &call);
        assert_eq!(polled.len(), 1);
        assert_eq!(polled[0].fd, server.as_raw_fd());
        assert_eq!(polled[0].events, ["POLLIN"]);
        assert!(polled[0].target.as_deref().unwrap().starts_with("socket:["));
        let ts = libc::timespec {
            tv_sec: 2,
            tv_nsec: 500_000_000,
        };
        let ppoll = Syscall {
            number: 271,
            name: Some("ppoll"),
            args: [fds.as_ptr() as u64, 2, &ts as *const _ as u64, 0, 8, 0],
        };
        assert_eq!(
            poll_timeout(std::process::id(), "ppoll", &ppoll),
            Some(2500)
        );
        let infinite = Syscall {
            args: [0, 0, u64::from(u32::MAX), 0, 0, 0],
            ..call.clone()
        };
        assert_eq!(poll_timeout(1, "poll", &infinite), None);
        assert_eq!(human_ms(125_000), "2 min 5 s");
        assert_eq!(human_ms(300), "300 ms");
    }
}
