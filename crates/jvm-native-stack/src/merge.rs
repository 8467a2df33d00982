//! The merged model: each thread's Java half (from the dump) and native half (from /proc
//! and gdb), joined on LWP = nid, plus the filters that pick which threads to show.

use regex::Regex;
use serde::Serialize;

use crate::backtrace::{GdbTiming, NativeFrame};
use crate::dump::{Deadlock, JavaThread, ThreadDump};
use crate::fd::FdTarget;
use crate::proc::Task;

/// One thread of the target, Java and native halves merged.
#[derive(Debug, Clone, Serialize)]
pub struct Thread {
    /// Linux thread id (the dump's `nid`); absent for virtual threads.
    pub lwp: Option<u32>,
    /// Java thread name, or the kernel name for threads the JVM does not know.
    pub name: String,
    /// The Java half; absent for native-only threads (launcher, library threads).
    pub java: Option<JavaThread>,
    /// The /proc half; absent if the thread exited between the dump and the /proc read.
    pub task: Option<Task>,
    /// gdb frames, innermost first; absent when gdb did not run for this thread.
    pub native_frames: Option<Vec<NativeFrame>>,
    /// The file descriptor the thread's blocking syscall uses, resolved.
    pub fd: Option<FdTarget>,
    /// The decoded wait: a poll's descriptors and timeout, the call behind `restart_syscall`.
    pub wait: Option<crate::syscall::Wait>,
    /// Not in the Java dump because it started after the dump was requested (it was not
    /// among the process's tasks then), not because the JVM does not know it.
    pub started_after_dump: bool,
    /// `JavaThread::_thread_state` (`_thread_in_native`, `_thread_blocked`, …), read from
    /// the JVM's memory just after the dump (see [`crate::vm_state`]); absent when unknown.
    pub vm_state: Option<String>,
}

impl Thread {
    /// CPU figure used for ranking: sampled percent if available, else total CPU seconds.
    pub fn cpu_rank(&self) -> f64 {
        match &self.task {
            Some(t) => t.cpu_percent.unwrap_or(t.cpu_ms as f64 / 1000.0),
            None => self.java.as_ref().and_then(|j| j.cpu_ms).unwrap_or(0.0) / 1000.0,
        }
    }

    /// The id the JVM knows the thread by (the dump's `nid`): the LWP, except for a JVM
    /// in another PID namespace, where `lwp` is the host's id.
    pub fn nid(&self) -> Option<u32> {
        self.task.as_ref().map(|t| t.nid()).or(self.lwp)
    }

    /// The Java state (`BLOCKED`), if this is a Java thread.
    pub fn java_state(&self) -> Option<&str> {
        self.java.as_ref()?.state.as_deref()
    }
}

/// Everything jnstack learned about one process.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Target process id; absent for `--from-file`.
    pub pid: Option<u32>,
    /// The dump's JVM banner.
    pub jvm: Option<String>,
    /// All threads: Java threads in dump order, then native-only threads by LWP.
    pub threads: Vec<Thread>,
    /// Deadlocks the JVM itself reported.
    pub deadlocks: Vec<Deadlock>,
    /// How long jstack/jcmd took, in milliseconds.
    pub dump_ms: Option<f64>,
    /// gdb phase timings, when gdb ran with Python.
    pub gdb_timing: Option<GdbTiming>,
    /// What the native unwinder stopped and how long, when it took the native frames.
    pub unwinder: Option<crate::native::NativeReport>,
    /// Things that went wrong but did not stop the run (gdb timeout, …).
    pub warnings: Vec<String>,
    /// Why there is no Java thread dump, when there is none (threads are then named from
    /// `/proc/…/comm`).
    pub missing_dump: Option<MissingDump>,
    /// Ctrl-C or SIGTERM arrived: what was collected until then, the rest is missing.
    pub interrupted: bool,
    /// The JVM's child processes, read when a thread waits for one (`Process.waitFor`).
    pub children: Vec<crate::child::ChildProcess>,
    /// The JVM has virtual threads (JDK 21+), which a text dump lists only while mounted.
    #[serde(skip)]
    pub has_virtual_threads: bool,
    /// A JSON dump was merged in: every virtual thread is listed.
    #[serde(skip)]
    pub virtual_threads_listed: bool,
}

/// Why the Java thread dump is missing.
#[derive(Debug, Clone, Serialize)]
pub struct MissingDump {
    /// What jstack/jcmd said, or why they did not run.
    pub reason: String,
    /// jstack did not answer within `--dump-timeout` (the JVM is probably not reaching a
    /// safepoint), as opposed to failing at once (attach disabled, no JDK).
    pub timed_out: bool,
}

/// Joins dump threads and tasks on LWP = nid.
pub fn merge(pid: Option<u32>, dump: ThreadDump, tasks: Vec<Task>) -> Snapshot {
    let has_virtual_threads = crate::vthreads::has_virtual_threads(&dump);
    let virtual_threads_listed = dump.json_merged || dump.from_json;
    let mut tasks: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    // By nid (the LWP, or in a container the id in the JVM's PID namespace): a linear search
    // per thread is 12 million comparisons at 5,000 threads.
    let by_nid: std::collections::HashMap<u32, usize> = tasks
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((t.as_ref()?.nid(), i)))
        .collect();
    let mut threads = Vec::with_capacity(tasks.len());
    for java in dump.threads {
        let nid = java.nid.or(java.os_thread_id);
        // In a container the dump's nid is the thread's id in the JVM's PID namespace.
        let task = nid
            .and_then(|nid| by_nid.get(&nid))
            .and_then(|&i| tasks[i].take());
        let lwp = task.as_ref().map(|t| t.lwp).or(nid);
        threads.push(Thread {
            lwp,
            name: java.name.clone(),
            java: Some(java),
            task,
            native_frames: None,
            fd: None,
            wait: None,
            started_after_dump: false,
            vm_state: None,
        });
    }
    threads.extend(tasks.into_iter().flatten().map(|task| Thread {
        lwp: Some(task.lwp),
        name: task.comm.clone(),
        java: None,
        task: Some(task),
        native_frames: None,
        fd: None,
        wait: None,
        started_after_dump: false,
        vm_state: None,
    }));
    Snapshot {
        pid,
        jvm: dump.banner,
        threads,
        deadlocks: dump.deadlocks,
        dump_ms: None,
        gdb_timing: None,
        unwinder: None,
        warnings: Vec::new(),
        missing_dump: None,
        interrupted: false,
        children: Vec::new(),
        has_virtual_threads,
        virtual_threads_listed,
    }
}

/// Which threads to show. Kinds combine with AND; several values of one kind with OR.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Linux thread ids (`--tid`, `--nid`).
    pub lwps: Vec<u32>,
    /// Thread name pattern (`--name`).
    pub name: Option<Regex>,
    /// Java state (`BLOCKED`) or kernel state letter (`D`) (`--state`).
    pub states: Vec<String>,
    /// Keep only the N busiest threads (`--top`).
    pub top: Option<usize>,
}

impl Filter {
    /// True if no filter was given.
    pub fn is_empty(&self) -> bool {
        self.lwps.is_empty() && self.name.is_none() && self.states.is_empty() && self.top.is_none()
    }

    /// Indices of the threads to show, busiest first when `--top` is given.
    pub fn select(&self, threads: &[Thread]) -> Vec<usize> {
        let mut picked: Vec<usize> = (0..threads.len())
            .filter(|&i| self.matches(&threads[i]))
            .collect();
        if let Some(n) = self.top {
            picked.sort_by(|&a, &b| threads[b].cpu_rank().total_cmp(&threads[a].cpu_rank()));
            picked.truncate(n);
        }
        picked
    }

    fn matches(&self, t: &Thread) -> bool {
        // --tid/--nid: the host's LWP or the JVM's own id (they differ in a container).
        let lwp_ok = self.lwps.is_empty()
            || [t.lwp, t.nid()]
                .into_iter()
                .flatten()
                .any(|l| self.lwps.contains(&l));
        let name_ok = self.name.as_ref().is_none_or(|re| re.is_match(&t.name));
        let state_ok = self.states.is_empty()
            || self.states.iter().any(|s| {
                t.java_state().is_some_and(|js| js.eq_ignore_ascii_case(s))
                    || (s.len() == 1
                        && t.task
                            .as_ref()
                            .is_some_and(|task| s.starts_with(task.state)))
            });
        lwp_ok && name_ok && state_ok
    }
}
