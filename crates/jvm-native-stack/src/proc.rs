//! The native view from `/proc/<pid>/task/*`: every LWP's name, scheduler state, CPU time,
//! wait channel and the system call it sleeps in. Needs no ptrace, so it works with `--no-gdb`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::Error;

/// One LWP of the target process.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// The LWP id as this host sees it (the `/proc/<pid>/task` entry; what gdb attaches to).
    pub lwp: u32,
    /// The thread's id in the JVM's own PID namespace (a container), which is what its
    /// dump calls `nid`: the last `NSpid` entry. `None` when it equals `lwp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns_tid: Option<u32>,
    /// Kernel thread name (`comm`, at most 15 bytes).
    pub comm: String,
    /// Scheduler state letter: R running, S sleeping, D disk sleep, T stopped, t traced, Z.
    pub state: char,
    /// User + system CPU time consumed so far, in milliseconds.
    pub cpu_ms: u64,
    /// CPU use over the `--sample` interval, in percent of one core.
    pub cpu_percent: Option<f64>,
    /// Kernel function the thread sleeps in (`anon_pipe_write`, `futex_wait_queue`).
    pub wchan: Option<String>,
    /// The system call the thread is blocked in, if any.
    pub syscall: Option<Syscall>,
    /// How long the thread has not run, in milliseconds; read only for the threads a
    /// missing Java dump makes suspect (state D, a page fault).
    pub not_run_ms: Option<u64>,
}

/// A system call a thread is blocked in, from `/proc/<pid>/task/<tid>/syscall`.
#[derive(Debug, Clone, Serialize)]
pub struct Syscall {
    /// Syscall number.
    pub number: u64,
    /// Syscall name on this architecture, when known.
    pub name: Option<&'static str>,
    /// The six raw arguments.
    pub args: [u64; 6],
}

impl Task {
    /// The id the JVM itself knows this thread by (a dump's `nid`, a `[tid]` header).
    pub fn nid(&self) -> u32 {
        self.ns_tid.unwrap_or(self.lwp)
    }
}

impl Syscall {
    /// Parses the `syscall` file: `1 0x5 0x7f… 0x1000 …`; `running` and `-1 …` give `None`.
    pub fn parse(text: &str) -> Option<Syscall> {
        let mut fields = text.split_whitespace();
        let number: u64 = fields.next()?.parse().ok()?;
        let mut args = [0u64; 6];
        for arg in &mut args {
            *arg = fields
                .next()
                .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
                .unwrap_or(0);
        }
        Some(Syscall {
            number,
            name: syscall_name(number),
            args,
        })
    }

    /// The file descriptor argument, for syscalls whose first argument is one.
    pub fn fd(&self) -> Option<i32> {
        const FD_FIRST: &[&str] = &[
            "read",
            "write",
            "pread64",
            "pwrite64",
            "readv",
            "writev",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "accept",
            "accept4",
            "connect",
            "fsync",
            "fdatasync",
            "flock",
            "ioctl",
            "sendfile",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
        ];
        let name = self.name?;
        FD_FIRST
            .contains(&name)
            .then(|| i32::try_from(self.args[0]).ok())
            .flatten()
    }

    /// Renders the call like strace: `write(5, 0x7f…, 4096)`.
    pub fn display(&self) -> String {
        let name = self
            .name
            .map_or_else(|| format!("syscall_{}", self.number), str::to_string);
        match self.name {
            Some("read" | "write" | "pread64" | "pwrite64" | "recvfrom" | "sendto") => {
                format!(
                    "{name}({}, {:#x}, {})",
                    self.args[0], self.args[1], self.args[2]
                )
            }
            Some(_) if self.fd().is_some() => format!("{name}({}, …)", self.args[0]),
            _ => format!("{name}(…)"),
        }
    }
}

/// Names of the syscalls a blocked thread typically sits in (x86_64 numbering).
#[cfg(target_arch = "x86_64")]
pub fn syscall_name(number: u64) -> Option<&'static str> {
    Some(match number {
        0 => "read",
        1 => "write",
        2 => "open",
        3 => "close",
        7 => "poll",
        16 => "ioctl",
        17 => "pread64",
        18 => "pwrite64",
        19 => "readv",
        20 => "writev",
        23 => "select",
        24 => "sched_yield",
        34 => "pause",
        35 => "nanosleep",
        40 => "sendfile",
        42 => "connect",
        43 => "accept",
        44 => "sendto",
        45 => "recvfrom",
        46 => "sendmsg",
        47 => "recvmsg",
        61 => "wait4",
        73 => "flock",
        74 => "fsync",
        75 => "fdatasync",
        202 => "futex",
        208 => "io_getevents",
        219 => "restart_syscall",
        230 => "clock_nanosleep",
        232 => "epoll_wait",
        247 => "waitid",
        257 => "openat",
        270 => "pselect6",
        271 => "ppoll",
        281 => "epoll_pwait",
        288 => "accept4",
        441 => "epoll_pwait2",
        _ => return None,
    })
}

/// Names of the syscalls a blocked thread typically sits in (generic numbering, aarch64).
#[cfg(not(target_arch = "x86_64"))]
pub fn syscall_name(number: u64) -> Option<&'static str> {
    Some(match number {
        29 => "ioctl",
        32 => "flock",
        57 => "close",
        63 => "read",
        64 => "write",
        65 => "readv",
        66 => "writev",
        67 => "pread64",
        68 => "pwrite64",
        72 => "pselect6",
        73 => "ppoll",
        22 => "epoll_pwait",
        82 => "fsync",
        98 => "futex",
        101 => "nanosleep",
        115 => "clock_nanosleep",
        202 => "accept",
        203 => "connect",
        206 => "sendto",
        207 => "recvfrom",
        211 => "sendmsg",
        212 => "recvmsg",
        242 => "accept4",
        260 => "wait4",
        _ => return None,
    })
}

/// Checks that `pid` exists and runs a JVM (it maps `libjvm.so`).
pub fn check_jvm(pid: u32) -> Result<PathBuf, Error> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    if !dir.exists() {
        return Err(Error::NoSuchProcess { pid });
    }
    match process_state(pid) {
        Some('Z') => return Err(Error::Zombie { pid }),
        Some('T') => return Err(Error::Stopped { pid }),
        _ => {}
    }
    let exe = fs::read_link(dir.join("exe")).unwrap_or_default();
    let maps =
        fs::read_to_string(dir.join("maps")).map_err(|error| unreadable(pid, "maps", error))?;
    if !maps.contains("/libjvm.so") {
        return Err(Error::NotAJvm { pid, exe });
    }
    Ok(exe)
}

/// A /proc read error, naming the process's owner: the usual cause is another user's JVM.
fn unreadable(pid: u32, what: &'static str, error: std::io::Error) -> Error {
    Error::ProcUnreadable {
        pid,
        what,
        error,
        owner: process_owner(pid),
    }
}

/// The user name (or `uid N`) owning `pid`, from `/proc/<pid>/status` (readable by anyone).
pub fn process_owner(pid: u32) -> Option<String> {
    let uid = process_uid(pid)?;
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    });
    Some(name.map_or_else(|| format!("uid {uid}"), |n| format!("{n}, uid {uid}")))
}

/// The real uid of `pid`, from `/proc/<pid>/status`.
pub fn process_uid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The pid of the process tracing `pid` (`TracerPid`), if any.
pub fn tracer_pid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))?
        .trim()
        .parse()
        .ok()
        .filter(|&t| t != 0)
}

/// True if `pid` has a handler for SIGQUIT (`SigCgt`): a JVM prints a thread dump on it,
/// but one started with `-Xrs` has none and SIGQUIT would kill it.
pub fn catches_sigquit(pid: u32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGQUIT - 1)) != 0)
}

/// The file `pid`'s stdout goes to, if it is a regular file (where a JVM's SIGQUIT dump
/// lands), with its size now.
pub fn stdout_file(pid: u32) -> Option<(PathBuf, u64)> {
    let fd = format!("/proc/{pid}/fd/1");
    let meta = fs::metadata(&fd).ok().filter(|m| m.is_file())?;
    Some((PathBuf::from(&fd), meta.len()))
}

/// How long thread `lwp` of `pid` has not run, in milliseconds, from the scheduler's
/// `se.exec_start` in `/proc/…/sched` (present with CONFIG_SCHED_DEBUG).
///
/// `exec_start` is read on the run-queue clock of the CPU the thread last ran on, and the
/// CPUs' clocks drift apart by seconds (each leaves out its own steal and IRQ time: 2.7 s
/// between two vCPUs here after 8 hours). So "now" is read on that same CPU: a helper
/// thread pinned there reads its own `exec_start`, set when it was scheduled in. None
/// when that CPU is outside our affinity (a cpuset) or the thread moved meanwhile: no
/// figure rather than a wrong one.
pub fn not_run_for_ms(pid: u32, lwp: u32) -> Option<u64> {
    let task = format!("/proc/{pid}/task/{lwp}");
    let cpu = last_cpu(&task)?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                pin_to_cpu(cpu)?;
                let then = exec_start(&format!("{task}/sched"))?;
                let now = exec_start("/proc/thread-self/sched")?;
                // SAFETY: sched_getcpu has no preconditions.
                let here = unsafe { libc::sched_getcpu() };
                let same_clock =
                    usize::try_from(here).ok() == Some(cpu) && last_cpu(&task) == Some(cpu);
                // Truncation to whole milliseconds is intended.
                same_clock.then(|| (now - then).max(0.0) as u64)
            })
            .join()
            .ok()
            .flatten()
    })
}

/// `se.exec_start` (milliseconds on its CPU's task clock) from a `sched` file.
fn exec_start(path: &str) -> Option<f64> {
    let sched = fs::read_to_string(path).ok()?;
    sched
        .lines()
        .find(|l| l.starts_with("se.exec_start"))?
        .split(':')
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// The CPU a task last ran on: `processor`, field 39 of its `stat`.
fn last_cpu(task: &str) -> Option<usize> {
    let stat = fs::read_to_string(format!("{task}/stat")).ok()?;
    stat_fields(&stat)?.nth(39 - 3)?.parse().ok()
}

/// Moves the calling thread onto `cpu` only; the kernel has migrated it when this returns.
fn pin_to_cpu(cpu: usize) -> Option<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return None;
    }
    // SAFETY: an all-zero cpu_set_t is the empty set, `cpu` is in range for CPU_SET, and
    // sched_setaffinity only reads the set; pid 0 is the calling thread.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    ok.then_some(())
}

/// The process tracing `pid` (a debugger, strace), as `pid N "comm"`, from `TracerPid`.
pub fn tracer(pid: u32) -> Option<String> {
    let tracer = tracer_pid(pid)?;
    let comm = fs::read_to_string(format!("/proc/{tracer}/comm")).unwrap_or_default();
    Some(format!("pid {tracer} \"{}\"", comm.trim_end()))
}

/// True while `pid` exists and has not exited (zombies and dead processes count as gone).
pub fn is_alive(pid: u32) -> bool {
    process_state(pid).is_some_and(|s| !matches!(s, 'Z' | 'X' | 'x'))
}

/// The ids on a `status` line such as `NSpid:\t81234\t7` (outermost namespace first,
/// the process's own last).
pub fn status_ids(status: &str, key: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|ids| {
            ids.split_whitespace()
                .filter_map(|i| i.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The pid `pid` has in its own PID namespace (what it calls itself: `getpid()`, the
/// `.java_pid<N>` attach socket), from the last `NStgid` entry; `pid` when not namespaced.
pub fn ns_pid(pid: u32) -> u32 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status_ids(&status, "NStgid:")
        .last()
        .copied()
        .unwrap_or(pid)
}

/// True if `pid` shares our namespace of `kind` (`pid`, `mnt`), or if /proc cannot tell.
pub fn same_namespace(pid: u32, kind: &str) -> bool {
    let theirs = fs::read_link(format!("/proc/{pid}/ns/{kind}"));
    let ours = fs::read_link(format!("/proc/self/ns/{kind}"));
    match (theirs, ours) {
        (Ok(theirs), Ok(ours)) => theirs == ours,
        _ => true,
    }
}

/// `/proc/<pid>/root` when `pid` sees another filesystem than we do (another mount
/// namespace, a chroot): every path the target names (its libraries, its `/tmp`) must then
/// be opened through it. `None` when its paths mean the same here.
pub fn foreign_root(pid: u32) -> Option<PathBuf> {
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let chrooted = fs::read_link(&root).is_ok_and(|r| r != Path::new("/"));
    (chrooted || !same_namespace(pid, "mnt")).then_some(root)
}

/// `path` (as the target `pid` names it) as this process can open it.
pub fn in_target(pid: u32, path: &str) -> String {
    match foreign_root(pid) {
        Some(root) => format!("{}{path}", root.display()),
        None => path.to_string(),
    }
}

/// The number a `/proc` directory entry is named after (a pid, LWP or fd), if it is one.
pub fn numeric_name<T: std::str::FromStr>(entry: &fs::DirEntry) -> Option<T> {
    entry.file_name().to_str()?.parse().ok()
}

/// The LWPs of `pid` right now (empty if /proc cannot tell): taken before the Java dump,
/// it tells threads that started after the dump from threads the JVM does not know.
pub fn task_ids(pid: u32) -> std::collections::BTreeSet<u32> {
    fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| numeric_name::<u32>(&e))
        .collect()
}

/// Reads every task of `pid`. Tasks that exit while we read them are skipped.
pub fn read_tasks(pid: u32) -> Result<Vec<Task>, Error> {
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    let entries = fs::read_dir(&dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NoSuchProcess { pid }
        } else {
            unreadable(pid, "task", e)
        }
    })?;
    let ticks = clock_ticks();
    // Only a JVM in another PID namespace needs the extra `status` read per thread.
    let foreign = !same_namespace(pid, "pid");
    let mut tasks: Vec<Task> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| numeric_name::<u32>(&e))
        .filter_map(|lwp| read_task(&dir.join(lwp.to_string()), lwp, ticks, foreign))
        .collect();
    tasks.sort_by_key(|t| t.lwp);
    Ok(tasks)
}

fn read_task(dir: &Path, lwp: u32, ticks: u64, foreign_pid_ns: bool) -> Option<Task> {
    let stat = fs::read_to_string(dir.join("stat")).ok()?;
    let (state, cpu_ticks) = parse_stat(&stat)?;
    let comm = fs::read_to_string(dir.join("comm")).unwrap_or_default();
    let wchan = fs::read_to_string(dir.join("wchan"))
        .ok()
        .filter(|w| !w.is_empty() && w != "0");
    // Reading `syscall` needs ptrace access; without it we still have the rest.
    let syscall = fs::read_to_string(dir.join("syscall"))
        .ok()
        .and_then(|s| Syscall::parse(&s));
    let ns_tid = if foreign_pid_ns {
        fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|status| status_ids(&status, "NSpid:").last().copied())
            .filter(|&id| id != lwp)
    } else {
        None
    };
    Some(Task {
        lwp,
        ns_tid,
        comm: comm.trim_end_matches('\n').to_string(),
        state,
        cpu_ms: cpu_ticks.saturating_mul(1000) / ticks.max(1),
        cpu_percent: None,
        wchan,
        syscall,
        not_run_ms: None,
    })
}

/// Extracts the state letter and utime + stime (in clock ticks) from a `stat` line.
/// The name field may contain spaces and parentheses, so fields count from the last `)`.
pub fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let fields: Vec<&str> = stat_fields(stat)?.collect();
    let state = fields.first()?.chars().next()?;
    // After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt
    // cmajflt utime(11) stime(12).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((state, utime.saturating_add(stime)))
}

/// The fields of a `stat` line after the name, from the state (field 3) on: the name may
/// hold spaces and parentheses, so they start after the last `)`.
pub(crate) fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace())
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Reads the tasks twice, `interval` apart, and fills in `cpu_percent`.
pub fn sample(pid: u32, interval: Duration, cancel: &AtomicBool) -> Result<Vec<Task>, Error> {
    let before = read_tasks(pid)?;
    let start = Instant::now();
    while start.elapsed() < interval {
        if cancel.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        // saturating: time passes between the check above and this subtraction.
        std::thread::sleep(
            interval
                .saturating_sub(start.elapsed())
                .min(Duration::from_millis(20)),
        );
    }
    let mut after = read_tasks(pid)?;
    let secs = start.elapsed().as_secs_f64().max(1e-3);
    for task in &mut after {
        if let Some(prev) = before.iter().find(|b| b.lwp == task.lwp) {
            let used = task.cpu_ms.saturating_sub(prev.cpu_ms) as f64 / 1000.0;
            task.cpu_percent = Some((used / secs * 100.0).min(100.0));
        }
    }
    Ok(after)
}

/// The process state letter of `pid` (from `/proc/<pid>/stat`), if it still exists.
pub fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPUs this thread may run on.
    fn allowed_cpus() -> Vec<usize> {
        // SAFETY: an all-zero cpu_set_t is valid; sched_getaffinity fills it.
        let set = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            set
        };
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: in range for CPU_ISSET.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    }

    /// A thread asleep on each CPU (up to four), measured from another CPU: each CPU's
    /// clock is its own, so comparing across CPUs was seconds off (CI saw a 4 s hang
    /// reported as under 1 s).
    #[test]
    fn not_run_for_reads_the_sleeping_threads_own_cpu_clock() {
        assert!(
            std::path::Path::new("/proc/thread-self/sched").exists(),
            "this kernel has no /proc/…/sched (CONFIG_SCHED_DEBUG), which jnstack's stuck-time \
             figures need"
        );
        let cpus: Vec<usize> = allowed_cpus().into_iter().take(4).collect();
        let sleepers: Vec<_> = cpus
            .iter()
            .map(|&cpu| {
                let (tid_tx, tid_rx) = std::sync::mpsc::channel();
                let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
                let handle = std::thread::spawn(move || {
                    pin_to_cpu(cpu).expect("pin the sleeper");
                    // SAFETY: gettid has no preconditions.
                    tid_tx.send(unsafe { libc::gettid() } as u32).unwrap();
                    let _ = wake_rx.recv();
                });
                let tid = tid_rx.recv().unwrap();
                (cpu, tid, Instant::now(), wake_tx, handle)
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        let pid = std::process::id();
        for (cpu, tid, asleep_since, wake, handle) in sleepers {
            // Measure from a different CPU where there is one, as jnstack usually does.
            let from = cpus.iter().copied().find(|&c| c != cpu).unwrap_or(cpu);
            let measured = std::thread::spawn(move || {
                pin_to_cpu(from).expect("pin the measuring thread");
                not_run_for_ms(pid, tid)
            })
            .join()
            .unwrap();
            let elapsed = asleep_since.elapsed().as_millis() as u64;
            let ms = measured.unwrap_or_else(|| panic!("no figure for a sleeper on CPU {cpu}"));
            assert!(
                ms + 100 >= elapsed && ms <= elapsed + 20,
                "sleeper on CPU {cpu}, measured from CPU {from}: {ms} ms, asleep {elapsed} ms"
            );
            drop(wake);
            handle.join().unwrap();
        }
    }

    #[test]
    fn stat_with_parentheses_in_the_name() {
        let stat =
            "7800 (GC Thread#0) Thread#0) S 1 2 3 0 -1 4194368 10 0 0 0 25 7 0 0 20 0 27 0 1 2 3";
        assert_eq!(parse_stat(stat), Some(('S', 32)));
    }

    #[test]
    fn syscall_write_on_fd_5() {
        let s = Syscall::parse("1 0x5 0x7ff18424e8b0 0x1000 0x7ff1b1f85310 0x0 0x7ff1b1d85189 0x7ff18424e870 0x7ff1b206438f").unwrap();
        assert_eq!(s.name, Some("write"));
        assert_eq!(s.fd(), Some(5));
        assert_eq!(s.display(), "write(5, 0x7ff18424e8b0, 4096)");
        assert!(Syscall::parse("running").is_none());
        assert!(
            Syscall::parse("202 0x7ff1ac015288 0x89 0x0 0x0 0x0 0x0 0x0 0x0")
                .unwrap()
                .fd()
                .is_none()
        );
    }

    #[test]
    fn owner_of_own_process_is_our_uid() {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let owner = process_owner(std::process::id()).unwrap();
        assert!(owner.ends_with(&format!("uid {uid}")), "{owner}");
        assert!(is_alive(std::process::id()));
    }

    #[test]
    fn namespace_ids_outermost_first() {
        let status = "Name:\tjava\nNStgid:\t81234\t7\nNSpid:\t81240\t13\n";
        assert_eq!(status_ids(status, "NSpid:"), [81240, 13]);
        assert_eq!(status_ids(status, "NStgid:").last(), Some(&7));
        assert!(status_ids(status, "Uid:").is_empty());
        // Our own process: same namespaces, same root, so no translation.
        let me = std::process::id();
        assert_eq!(ns_pid(me), me);
        assert!(same_namespace(me, "pid") && same_namespace(me, "mnt"));
        assert_eq!(foreign_root(me), None);
        assert_eq!(in_target(me, "/usr/lib/x.so"), "/usr/lib/x.so");
    }

    #[test]
    fn reads_own_tasks() {
        let tasks = read_tasks(std::process::id()).unwrap();
        assert!(tasks.iter().any(|t| t.lwp == std::process::id()));
    }
}
