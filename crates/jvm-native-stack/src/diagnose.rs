//! The diagnosis: what is wrong, in short paragraphs an on-call engineer can act on.
//! Monitor chains (with the owner's native frames, syscall and fd), Java-level deadlocks,
//! the busiest threads, and threads the JVM does not know about.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::backtrace::plain_name;
use crate::dump::{LockAction, LockRef};
use crate::merge::{Snapshot, Thread};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Threads blocked on a lock, and what its owner is doing.
    MonitorChain,
    /// A Java-level deadlock reported by the JVM.
    Deadlock,
    /// The threads using the most CPU.
    TopCpu,
    /// Threads the JVM does not know, sitting in native code.
    NativeOnly,
    /// Carrier threads of the virtual-thread scheduler held by pinned virtual threads.
    PinnedCarriers,
    /// Many threads parked on one application-level synchronizer nobody owns (Semaphore,
    /// read-write lock, latch, future).
    Starvation,
    /// Pool workers parked in their own queue, waiting for work (no problem).
    IdlePool,
    /// No Java thread dump (jstack timed out or could not attach): what the native view
    /// says about why.
    NoJavaDump,
    /// `--repeat`: which threads were stuck (same frames, no CPU) and which moved.
    Samples,
    /// A thread in `Process.waitFor()` and what its child process is blocked in.
    ChildProcess,
}

/// A thread named in a finding.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadRef {
    /// Thread name.
    pub name: String,
    /// Linux thread id.
    pub lwp: Option<u32>,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind of finding this is.
    pub kind: FindingKind,
    /// True for real problems (they make jnstack exit 1).
    pub problem: bool,
    /// The paragraph to print.
    pub text: String,
    /// The lock involved (`monitor_chain`).
    pub lock: Option<LockRef>,
    /// The lock's owner (`monitor_chain`).
    pub owner: Option<ThreadRef>,
    /// The other threads involved: waiters, deadlocked or busy threads.
    pub threads: Vec<ThreadRef>,
}

/// How many names a finding lists before "… and N more" (all with `--full`; the JSON
/// `threads` of a finding always lists every one).
pub const NAMES_CAP: usize = 8;

/// `items` joined with `sep`; past [`NAMES_CAP`] items (unless `full`) the rest is counted.
pub fn join_capped(items: &[String], sep: &str, full: bool) -> String {
    // Capping one item would save nothing.
    if full || items.len() <= NAMES_CAP + 1 {
        return items.join(sep);
    }
    format!(
        "{} … and {} more",
        items[..NAMES_CAP].join(sep),
        items.len() - NAMES_CAP
    )
}

fn thread_ref(t: &Thread) -> ThreadRef {
    ThreadRef {
        name: t.name.clone(),
        lwp: t.lwp,
    }
}

/// `"name" (LWP 5649, nid 0x1611)`, or `virtual thread #22 "name"`.
pub fn describe(t: &Thread) -> String {
    if let Some(java) = t.java.as_ref().filter(|j| j.is_virtual) {
        let number = java.number.map(|n| format!(" #{n}")).unwrap_or_default();
        return match t.name.as_str() {
            "" => format!("virtual thread{number}"),
            name => format!("virtual thread{number} \"{name}\""),
        };
    }
    match t.lwp {
        // In a container the JVM's nid differs from the host's LWP.
        Some(lwp) => {
            let nid = t.nid().unwrap_or(lwp);
            format!("\"{}\" (LWP {lwp}, nid {nid:#x})", t.name)
        }
        None => format!("\"{}\"", t.name),
    }
}

/// Threads whose native frames the diagnosis wants: lock owners and deadlocked threads.
pub fn interesting_lwps(snapshot: &Snapshot) -> BTreeSet<u32> {
    let owners = lock_owners(snapshot);
    let mut lwps = BTreeSet::new();
    for t in &snapshot.threads {
        if let Some(w) = t.java.as_ref().and_then(|j| j.waiting_for()) {
            if let Some(&owner) = owners.get(w.lock.address.as_str()) {
                lwps.extend(snapshot.threads[owner].lwp);
            }
        }
    }
    if snapshot.missing_dump.is_some() {
        // Without a dump the evidence is native: the VM Thread and the stuck threads.
        for t in &snapshot.threads {
            if t.name == VM_THREAD || t.task.as_ref().is_some_and(is_stuck_in_kernel) {
                lwps.extend(t.lwp);
            }
        }
    }
    lwps
}

/// The JVM thread that runs VM operations (and so brings the JVM to a safepoint).
const VM_THREAD: &str = "VM Thread";

/// True for a thread stuck in the kernel where no signal moves it: uninterruptible
/// sleep (D), or a page fault waiting for a userfaultfd handler (state S or D).
pub fn is_stuck_in_kernel(task: &crate::proc::Task) -> bool {
    task.state == 'D'
        || task
            .wchan
            .as_deref()
            .is_some_and(|w| w.contains("userfault"))
}

/// A frame's function without its argument list (`SafepointSynchronize::begin()`).
fn function_name(function: &str) -> &str {
    let name = plain_name(function);
    name.split('(').next().unwrap_or(name)
}

/// Why there is no Java dump and what the native view says about it.
fn no_java_dump(snapshot: &Snapshot, full: bool) -> Option<Finding> {
    let missing = snapshot.missing_dump.as_ref()?;
    let stuck: Vec<&Thread> = snapshot
        .threads
        .iter()
        .filter(|t| t.task.as_ref().is_some_and(is_stuck_in_kernel))
        .collect();
    let mut text = if missing.timed_out {
        "jstack does not answer: the JVM is probably not reaching a safepoint.".to_string()
    } else if snapshot.interrupted && stuck.is_empty() {
        "Interrupted before the Java dump was taken: Java frames, states and locks are missing."
            .to_string()
    } else {
        format!(
            "No Java thread dump: {}",
            missing.reason.trim_end_matches('.')
        ) + "."
    };
    let vm_frame = snapshot
        .threads
        .iter()
        .find(|t| t.name == VM_THREAD)
        .and_then(|t| t.native_frames.as_ref())
        .and_then(|frames| {
            // `begin` names the phase (bringing threads to the safepoint) better than the
            // helpers it calls.
            frames
                .iter()
                .find(|f| f.function.contains("SafepointSynchronize::begin"))
                .or_else(|| {
                    frames
                        .iter()
                        .find(|f| f.function.contains("SafepointSynchronize"))
                })
        });
    if let Some(frame) = vm_frame {
        text += &format!(
            " The VM Thread is in `{}`, waiting for every thread to reach the safepoint.",
            function_name(&frame.function)
        );
    }
    let shown = if full { stuck.len() } else { NAMES_CAP };
    for t in stuck.iter().take(shown) {
        let Some(task) = t.task.as_ref() else {
            continue;
        };
        let wchan = task.wchan.as_deref().unwrap_or("");
        let place = if wchan.contains("userfault") {
            format!(" in a page fault (`{wchan}`: a userfaultfd range nobody serves)")
        } else if wchan.is_empty() {
            " in uninterruptible sleep".to_string()
        } else {
            format!(" in uninterruptible sleep (`{wchan}`)")
        };
        // The innermost named frame: where in the JVM or the application it faulted.
        let inside = t
            .native_frames
            .as_ref()
            .and_then(|f| {
                f.iter()
                    .find(|f| f.function != "??" && !f.function.starts_with("__"))
            })
            .map(|f| format!(" inside `{}`", function_name(&f.function)))
            .unwrap_or_default();
        let since = task
            .not_run_ms
            .filter(|&ms| ms >= 1000)
            .map(|ms| format!(" and has not run for {} s", ms / 1000))
            .unwrap_or_default();
        text += &format!(
            " Thread {} is in state {}{place}{inside}{since}.",
            describe(t),
            task.state
        );
    }
    if stuck.len() > shown {
        text += &format!(
            " {} more threads are stuck in the kernel (--full names them).",
            stuck.len() - shown
        );
    }
    if missing.timed_out {
        if stuck.is_empty() {
            text += " No thread is stuck in the kernel: look at the threads in state R (a long \
                     loop in the VM or native code without a safepoint poll) or raise \
                     --dump-timeout if the JVM is just slow.";
        } else {
            text += " Until that wait ends (a hung NFS/FUSE mount or disk behind a mapped file, \
                     an unserved userfaultfd), no safepoint, so no GC, jstack or jcmd, can \
                     complete; threads stop one by one as they reach a safepoint poll.";
        }
        if let Some(pid) = snapshot.pid {
            text += &format!(
                " `jhsdb jstack --mixed --pid {pid}` reads the Java frames without a safepoint."
            );
        }
    }
    Some(Finding {
        kind: FindingKind::NoJavaDump,
        problem: !snapshot.interrupted || !stuck.is_empty(),
        text,
        lock: None,
        owner: None,
        threads: stuck.iter().map(|t| thread_ref(t)).collect(),
    })
}

/// Index of the owner of each lock address.
fn lock_owners(snapshot: &Snapshot) -> BTreeMap<&str, usize> {
    let mut owners = BTreeMap::new();
    for (i, t) in snapshot.threads.iter().enumerate() {
        if let Some(java) = &t.java {
            for lock in java.owned_locks() {
                owners.entry(lock.address.as_str()).or_insert(i);
            }
        }
    }
    owners
}

/// Runs every check and returns the findings, problems first; long name lists are capped.
pub fn diagnose(snapshot: &Snapshot, pid: Option<u32>) -> Vec<Finding> {
    diagnose_with(snapshot, pid, false)
}

/// [`diagnose`]; `full`: name every thread in the texts (`--full`).
pub fn diagnose_with(snapshot: &Snapshot, pid: Option<u32>, full: bool) -> Vec<Finding> {
    let mut findings: Vec<Finding> = no_java_dump(snapshot, full).into_iter().collect();
    findings.extend(deadlocks(snapshot));
    findings.extend(pinned_carriers(snapshot, full));
    findings.extend(monitor_chains(snapshot, full));
    findings.extend(child_processes(snapshot));
    findings.extend(parked_groups(snapshot, full));
    findings.extend(top_cpu(snapshot));
    findings.extend(native_only(snapshot, pid, full));
    findings
}

fn deadlocks(snapshot: &Snapshot) -> Vec<Finding> {
    let owners = lock_owners(snapshot);
    let shared = |name: &str| snapshot.threads.iter().filter(|t| t.name == name).count() > 1;
    // Two threads may share a name: then they are named with their LWPs.
    let label = |name: &str, found: Option<usize>| match found {
        Some(i) if shared(name) => describe(&snapshot.threads[i]),
        _ => format!("\"{name}\""),
    };
    snapshot
        .deadlocks
        .iter()
        .map(|d| {
            let names: Vec<String> = d
                .edges
                .iter()
                .map(|e| label(&e.thread, deadlock_thread(snapshot, e)))
                .collect();
            let edges: Vec<String> = d
                .edges
                .iter()
                .map(|e| {
                    let lock = LockRef {
                        address: e.waiting_for.clone(),
                        class: e.class.clone(),
                    };
                    let holder = owners.get(e.waiting_for.as_str()).copied();
                    format!(
                        "{} waits for {} held by {}",
                        label(&e.thread, deadlock_thread(snapshot, e)),
                        lock,
                        label(&e.held_by, holder)
                    )
                })
                .collect();
            let threads = d
                .edges
                .iter()
                .map(|e| ThreadRef {
                    name: e.thread.clone(),
                    lwp: deadlock_thread(snapshot, e).and_then(|i| snapshot.threads[i].lwp),
                })
                .collect();
            Finding {
                kind: FindingKind::Deadlock,
                problem: true,
                text: format!(
                    "Java-level deadlock between {}: {}. None of them can ever proceed; \
                     only a restart frees them. Fix the lock order in the code.",
                    names.join(" and "),
                    edges.join("; ")
                ),
                lock: None,
                owner: None,
                threads,
            }
        })
        .collect()
}

/// The thread of a deadlock edge, found by the lock it waits for (the report names threads
/// only by name, and two threads may share one); the name only breaks ties.
fn deadlock_thread(snapshot: &Snapshot, edge: &crate::dump::DeadlockEdge) -> Option<usize> {
    let waiting: Vec<usize> = snapshot
        .threads
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.java
                .as_ref()
                .and_then(|j| j.waiting_for())
                .is_some_and(|w| w.lock.address == edge.waiting_for)
        })
        .map(|(i, _)| i)
        .collect();
    waiting
        .iter()
        .copied()
        .find(|&i| snapshot.threads[i].name == edge.thread)
        .or_else(|| waiting.first().copied())
}

fn monitor_chains(snapshot: &Snapshot, full: bool) -> Vec<Finding> {
    let owners = lock_owners(snapshot);
    let deadlocked: BTreeSet<usize> = snapshot
        .deadlocks
        .iter()
        .flat_map(|d| d.edges.iter().filter_map(|e| deadlock_thread(snapshot, e)))
        .collect();
    // Waiters grouped by lock, in dump order.
    let mut waiters: Vec<(&LockRef, LockAction, Vec<usize>)> = Vec::new();
    for (i, t) in snapshot.threads.iter().enumerate() {
        if deadlocked.contains(&i) {
            continue;
        }
        let Some(w) = t.java.as_ref().and_then(|j| j.waiting_for()) else {
            continue;
        };
        match waiters
            .iter_mut()
            .find(|(l, _, _)| l.address == w.lock.address)
        {
            Some((_, _, list)) => list.push(i),
            None => waiters.push((&w.lock, w.action, vec![i])),
        }
    }
    let mut findings = Vec::new();
    for (lock, action, list) in waiters {
        let Some(&owner_idx) = owners.get(lock.address.as_str()) else {
            // Parked threads with no known owner are idle pools, not a problem.
            if action == LockAction::WaitingToLock {
                findings.push(unowned(snapshot, lock, &list, full));
            }
            continue;
        };
        let owner = &snapshot.threads[owner_idx];
        let names: Vec<String> = list
            .iter()
            .map(|&i| format!("\"{}\"", snapshot.threads[i].name))
            .collect();
        let verb = match action {
            LockAction::ParkingToWaitFor => "parked waiting for",
            _ => "BLOCKED waiting to lock",
        };
        let count = if list.len() == 1 {
            "1 thread is".to_string()
        } else {
            format!("{} threads are", list.len())
        };
        let mut text = format!(
            "{count} {verb} {}: {}. It is held by {}, {}",
            lock,
            join_capped(&names, ", ", full),
            describe(owner),
            owner_activity(snapshot, owner, Some(lock))
        );
        text.push_str(&chain_tail(snapshot, &owners, owner_idx));
        findings.push(Finding {
            kind: FindingKind::MonitorChain,
            problem: true,
            text,
            lock: Some(lock.clone()),
            owner: Some(thread_ref(owner)),
            threads: list
                .iter()
                .map(|&i| thread_ref(&snapshot.threads[i]))
                .collect(),
        });
    }
    findings
}

fn unowned(snapshot: &Snapshot, lock: &LockRef, list: &[usize], full: bool) -> Finding {
    let names: Vec<String> = list
        .iter()
        .map(|&i| format!("\"{}\"", snapshot.threads[i].name))
        .collect();
    let verb = if list.len() == 1 { "waits" } else { "wait" };
    // An unmounted virtual thread can own a monitor (JDK 24+) and is in no text dump:
    // another jstack would not show it either.
    let text = if snapshot.has_virtual_threads && !snapshot.virtual_threads_listed {
        format!(
            "{} {verb} to lock {lock}, but no platform thread in the dump holds it: its owner \
             is likely a virtual thread, which a text dump does not list (an unmounted one \
             never), so another jstack would not show it either. Run jnstack on the live \
             JVM (it adds `jcmd PID Thread.dump_to_file -format=json FILE`), or pass that JSON \
             dump as a second --from-file.",
            join_capped(&names, ", ", full)
        )
    } else if snapshot.has_virtual_threads
        && snapshot
            .jvm
            .as_deref()
            .and_then(crate::vthreads::jdk_feature)
            == Some(21)
    {
        format!(
            "{} {verb} to lock {lock}, but no thread in the dumps holds it; JDK 21's JSON \
             dump does not show which monitors virtual threads hold, so its owner may be one \
             of them.",
            join_capped(&names, ", ", full)
        )
    } else {
        format!(
            "{} {verb} to lock {lock}, but no thread in the dump holds it (it may have been \
             released between samples). Take another dump to confirm.",
            join_capped(&names, ", ", full)
        )
    };
    Finding {
        kind: FindingKind::MonitorChain,
        problem: true,
        text,
        lock: Some(lock.clone()),
        owner: None,
        threads: list
            .iter()
            .map(|&i| thread_ref(&snapshot.threads[i]))
            .collect(),
    }
}

/// The scheduler's carrier threads (indices): those carrying a virtual thread, plus the
/// idle ones of the same pool (same JSON thread container; without one, the same
/// `…-worker-` name prefix and a `ForkJoinWorkerThread.run` frame).
fn carriers(snapshot: &Snapshot) -> Vec<usize> {
    let threads = &snapshot.threads;
    let busy: Vec<usize> = (0..threads.len())
        .filter(|&i| {
            threads[i]
                .java
                .as_ref()
                .is_some_and(|j| !j.is_virtual && j.carrying.is_some())
        })
        .collect();
    let containers: BTreeSet<&str> = busy
        .iter()
        .filter_map(|&i| threads[i].java.as_ref()?.container.as_deref())
        .collect();
    let prefixes: BTreeSet<&str> = busy
        .iter()
        .filter_map(|&i| {
            let name = threads[i].name.as_str();
            name.find("-worker-")
                .map(|at| &name[..at + "-worker-".len()])
        })
        .collect();
    (0..threads.len())
        .filter(|&i| {
            let Some(j) = threads[i].java.as_ref().filter(|j| !j.is_virtual) else {
                return false;
            };
            if busy.contains(&i) {
                return true;
            }
            match j.container.as_deref() {
                Some(c) => containers.contains(c),
                None => {
                    containers.is_empty()
                        && prefixes.iter().any(|p| threads[i].name.starts_with(p))
                        && j.frames.last().is_some_and(|f| {
                            f.text
                                .contains("java.util.concurrent.ForkJoinWorkerThread.run")
                        })
                }
            }
        })
        .collect()
}

/// Why a mounted virtual thread cannot unmount, if it cannot: a JNI method on its stack.
fn pin_reason(carrier: &Thread, vthread: &Thread) -> Option<String> {
    let java = vthread.java.as_ref()?;
    let top = java.frames.first()?.text.as_str();
    if !java.in_native_method() || is_jdk_method(top) {
        return None;
    }
    let method = top.split('(').next().unwrap_or(top);
    let method = method.split_once('/').map_or(method, |(_, m)| m);
    Some(match carrier.task.as_ref() {
        Some(task) if task.state == 'R' => format!("running inside JNI {method}"),
        Some(crate::proc::Task {
            syscall: Some(call),
            ..
        }) => {
            let call = match (call.name, call.fd()) {
                (Some(name), Some(fd)) => format!("{name}({fd})"),
                _ => call.display(),
            };
            format!("blocked in {call} inside JNI {method}")
        }
        _ => format!("inside JNI {method}"),
    })
}

fn pinned_carriers(snapshot: &Snapshot, full: bool) -> Option<Finding> {
    let carriers = carriers(snapshot);
    if carriers.is_empty() {
        return None;
    }
    let threads = &snapshot.threads;
    let mounted_on = |carrier: &Thread| -> Option<usize> {
        let cj = carrier.java.as_ref()?;
        threads.iter().position(|t| {
            t.java.as_ref().is_some_and(|v| {
                v.is_virtual
                    && (v.number.is_some() && v.number == cj.carrying
                        || v.carrier.is_some() && v.carrier == cj.number)
            })
        })
    };
    let mut pinned = Vec::new();
    let mut unknown = Vec::new();
    for &c in &carriers {
        let carrier = &threads[c];
        let Some(carrying) = carrier.java.as_ref().and_then(|j| j.carrying) else {
            continue;
        };
        match mounted_on(carrier) {
            Some(v) => {
                if let Some(reason) = pin_reason(carrier, &threads[v]) {
                    pinned.push(format!(
                        "carrier {} carries {}, {reason}",
                        describe(carrier),
                        describe(&threads[v])
                    ));
                }
            }
            None => unknown.push(format!(
                "carrier {} carries virtual thread #{carrying}",
                describe(carrier)
            )),
        }
    }
    let mounted: BTreeSet<usize> = carriers
        .iter()
        .filter_map(|&c| mounted_on(&threads[c]))
        .collect();
    let waiting = (0..threads.len())
        .filter(|i| {
            threads[*i]
                .java
                .as_ref()
                .is_some_and(|j| crate::vthreads::waits_for_carrier(j, mounted.contains(i)))
        })
        .count();
    let refs = carriers.iter().map(|&c| thread_ref(&threads[c])).collect();
    if pinned.len() == carriers.len() {
        let cannot_run = if snapshot.virtual_threads_listed {
            format!(
                "{waiting} virtual thread{} ready to run cannot get a carrier",
                if waiting == 1 { "" } else { "s" }
            )
        } else {
            "no other virtual thread can run (this text dump does not list them; the JSON dump \
             of `jcmd PID Thread.dump_to_file -format=json` counts them)"
                .into()
        };
        let all = if carriers.len() == 1 {
            "the only carrier is pinned".to_string()
        } else {
            format!("all {} carriers are pinned", carriers.len())
        };
        return Some(Finding {
            kind: FindingKind::PinnedCarriers,
            problem: true,
            text: format!(
                "The virtual-thread scheduler is exhausted: {all}: {}; {cannot_run}. A virtual \
                 thread inside a native method cannot unmount, so its carrier is blocked with \
                 it: make the native call return (or not block), or run it on a platform thread.",
                join_capped(&pinned, "; ", full)
            ),
            lock: None,
            owner: None,
            threads: refs,
        });
    }
    if pinned.is_empty() && unknown.is_empty() {
        return None;
    }
    if pinned.is_empty() {
        return Some(Finding {
            kind: FindingKind::PinnedCarriers,
            problem: false,
            text: format!(
                "{} of {} carriers of the virtual-thread scheduler carry a virtual thread this \
                 dump shows no stack of (JDK 21's jstack prints only the carrier's frames; pass \
                 the JSON dump of `jcmd PID Thread.dump_to_file -format=json` as a second \
                 --from-file): {}.",
                unknown.len(),
                carriers.len(),
                join_capped(&unknown, "; ", full)
            ),
            lock: None,
            owner: None,
            threads: refs,
        });
    }
    let mut parts = pinned.clone();
    parts.extend(
        unknown
            .iter()
            .map(|u| format!("{u} (its stack is not in this dump)")),
    );
    Some(Finding {
        kind: FindingKind::PinnedCarriers,
        problem: false,
        text: format!(
            "{} of {} carriers of the virtual-thread scheduler {} pinned: {}.",
            pinned.len(),
            carriers.len(),
            if pinned.len() == 1 { "is" } else { "are" },
            join_capped(&parts, "; ", full)
        ),
        lock: None,
        owner: None,
        threads: refs,
    })
}

/// True for a native method of the JDK itself (`Thread.sleep`, `Unsafe.park`, …),
/// as opposed to application JNI code.
fn is_jdk_method(frame: &str) -> bool {
    // JSON dumps prefix the module ("java.base/java.lang…"); jstack puts it in the parens.
    let method = frame.split('(').next().unwrap_or(frame);
    let frame = method.split_once('/').map_or(method, |(_, rest)| rest);
    ["java.", "javax.", "jdk.", "sun.", "com.sun."]
        .iter()
        .any(|p| frame.starts_with(p))
}

/// Where a thread is, told by its top application frame (the first frame that is not the
/// JDK's own: `java.`, `javax.`, `jdk.`, `sun.`, `com.sun.`): `at App.read(App.java:9), inside
/// sun.nio.ch.SocketDispatcher.read0`, plus the frame that took `lock` when it is another
/// application frame.
pub fn app_location(java: &crate::dump::JavaThread, lock: Option<&LockRef>) -> String {
    let Some(top) = java.frames.first().map(|f| f.text.as_str()) else {
        return "at no Java frame".into();
    };
    let mut s = match app_frame(java) {
        Some(app) if app != top => format!("at {app}, inside {}", method_of(top)),
        _ => format!("at {top}"),
    };
    let locker = lock.and_then(|lock| {
        java.frames.iter().find(|f| {
            f.locks
                .iter()
                .any(|e| e.action == LockAction::Locked && e.lock.address == lock.address)
        })
    });
    if let Some(frame) = locker.map(|f| f.text.as_str()) {
        if !is_jdk_method(frame) && Some(frame) != app_frame(java) {
            s.push_str(&format!(" (it took the lock at {frame})"));
        }
    }
    s
}

/// What the owner is doing: Java state, JNI method, syscall, fd, child process and native
/// frames.
fn owner_activity(snapshot: &Snapshot, owner: &Thread, lock: Option<&LockRef>) -> String {
    let Some(java) = &owner.java else {
        return "which is not a Java thread.".into();
    };
    let state = java.state.as_deref().unwrap_or("in an unknown state");
    let top = java
        .frames
        .first()
        .map(|f| f.text.as_str())
        .unwrap_or("no Java frame");
    let in_jni = java.in_native_method() && !is_jdk_method(top);
    if java.is_virtual && java.carrier.is_none() {
        return format!(
            "which is {state} {} and not mounted on any carrier: it keeps the lock while \
             it waits (since JDK 24 a virtual thread can unmount inside synchronized), until \
             that wait ends.",
            app_location(java, lock)
        );
    }
    let mut s = if in_jni {
        let method = top.split('(').next().unwrap_or(top);
        format!("which is {state} inside the native method {method}")
    } else {
        format!("which is {state} {}", app_location(java, lock))
    };
    if let Some(task) = &owner.task {
        let polls = owner.wait.as_ref().is_some_and(|w| !w.fds.is_empty());
        match (&task.syscall, task.state) {
            (Some(call), 'S' | 'D') if in_jni || call.fd().is_some() || polls => {
                s.push_str(&format!(
                    " and has been sleeping in the system call {}",
                    syscall_shown(owner, call)
                ));
                if let Some(timeout) = owner.wait.as_ref().map(|w| w.timeout_text()) {
                    if !timeout.is_empty() {
                        s.push_str(&format!(" {timeout}"));
                    }
                }
                if let Some(fd) = &owner.fd {
                    s.push_str(&fd_text(fd, call, owner.wait.as_ref(), snapshot.pid));
                }
                if let Some(note) = owner.wait.as_ref().and_then(|w| w.restart_note()) {
                    s.push_str(&format!("; {note}"));
                }
            }
            (_, 'R') => s.push_str(" and is running on a CPU"),
            _ => {}
        }
    }
    if java
        .frames
        .iter()
        .any(|f| crate::child::is_wait_for(&f.text))
    {
        for (child, _) in children_of(snapshot, owner) {
            s.push_str(&format!(
                ", waiting in Process.waitFor() for child process {} \"{}\"",
                child.pid, child.comm
            ));
            if child_on_full_pipe(child) {
                s.push_str(
                    ", which is blocked writing to a full pipe that nobody reads (see the \
                     child-process finding)",
                );
            }
        }
    }
    s.push('.');
    if !in_jni {
        return s;
    }
    if let Some(frames) = &owner.native_frames {
        let mut names: Vec<String> = Vec::new();
        for f in frames.iter().filter(|f| !f.jvm_internal) {
            let name = plain_name(&f.function).to_string();
            // Inlined frames repeat the function name: show it once.
            if names.last().is_some_and(|last| last.starts_with(&name)) {
                continue;
            }
            names.push(match &f.source {
                Some(src) => format!("{name} ({})", src.rsplit('/').next().unwrap_or(src)),
                None => name,
            });
            if names.len() == 4 {
                break;
            }
        }
        if !names.is_empty() {
            s.push_str(&format!(" Native frames: {}.", names.join(" <- ")));
        }
    }
    s.push_str(
        " The lock is released only when the native call returns: fix what it waits for, \
         or make the call without holding the lock.",
    );
    s
}

/// The call as decoded (a poll's descriptors, the call behind `restart_syscall`), else as
/// /proc shows it.
fn syscall_shown(t: &Thread, call: &crate::proc::Syscall) -> String {
    t.wait
        .as_ref()
        .map_or_else(|| call.display(), crate::syscall::Wait::display)
}

/// True for a call that reads its descriptor (a poll for input counts).
fn reads_fd(call: &crate::proc::Syscall, wait: Option<&crate::syscall::Wait>) -> bool {
    match wait {
        Some(w) if !w.fds.is_empty() => w.fds.iter().any(|f| f.events.contains(&"POLLIN")),
        _ => matches!(
            call.name,
            Some("read" | "readv" | "pread64" | "recvfrom" | "recvmsg")
        ),
    }
}

/// `on fd 5 = pipe:[123], which is full (…)`, `on fd 7 = socket:[9] (TCP a -> b, …)`.
/// `jvm`: the target's pid, so that a read end it holds itself is called so.
fn fd_text(
    fd: &crate::fd::FdTarget,
    call: &crate::proc::Syscall,
    wait: Option<&crate::syscall::Wait>,
    jvm: Option<u32>,
) -> String {
    let mut s = format!(" on fd {} = {}", fd.fd, fd.target);
    let reads = reads_fd(call, wait);
    if let Some(fill) = fd.pipe {
        let len = if call.name == Some("write") {
            call.args[2]
        } else {
            1
        };
        if fill.is_full_for(len) && !reads {
            s.push_str(&format!(
                ", which is full ({} of {} bytes queued): nobody is reading the other end",
                fill.queued, fill.capacity
            ));
            s.push_str(&readers_text(&fd.readers, jvm));
        } else if fill.queued == 0 && reads {
            s.push_str(", which is empty: nobody is writing to the other end");
        } else {
            s.push_str(&format!(
                " ({} of {} bytes queued)",
                fill.queued, fill.capacity
            ));
        }
    }
    if let Some(socket) = &fd.socket {
        s.push_str(&format!(" ({})", socket.display()));
        let blocking_read = reads && wait.is_none_or(|w| w.fds.is_empty());
        if blocking_read && socket.rx_queue == 0 && socket.protocol == "tcp" {
            s.push_str(
                ": a blocking read without a timeout (Java implements SO_TIMEOUT with poll), \
                 it returns only when the peer sends data or closes the connection",
            );
        }
    }
    s
}

/// Who holds the read end of a full pipe: the process that should be reading it.
fn readers_text(readers: &[crate::fd::PipeEnd], jvm: Option<u32>) -> String {
    if readers.is_empty() {
        return " (jnstack cannot see which process holds its read end)".into();
    }
    let list: Vec<String> = readers
        .iter()
        .map(|r| {
            let own = if Some(r.pid) == jvm {
                ": this JVM itself"
            } else {
                ""
            };
            format!("pid {} \"{}\" fd {}{own}", r.pid, r.comm, r.fd)
        })
        .collect();
    format!(" (read end held by {})", list.join(", "))
}

/// The children a thread in `Process.waitFor()` waits for: those it started, else the
/// JVM's only child (a thread may wait for a process another one started).
fn children_of<'a>(
    snapshot: &'a Snapshot,
    t: &Thread,
) -> Vec<(&'a crate::child::ChildProcess, &'static str)> {
    let own: Vec<_> = snapshot
        .children
        .iter()
        .filter(|c| c.started_by.is_some() && c.started_by == t.lwp)
        .map(|c| (c, "it started it"))
        .collect();
    match (own.is_empty(), snapshot.children.as_slice()) {
        (true, [only]) => vec![(only, "the JVM's only child process")],
        _ => own,
    }
}

/// True when the child is blocked writing to a full pipe that no thread reads.
fn child_on_full_pipe(c: &crate::child::ChildProcess) -> bool {
    let Some(call) = &c.syscall else {
        return false;
    };
    let writes = matches!(call.name, Some("write" | "writev" | "pwrite64"));
    let len = if call.name == Some("write") {
        call.args[2]
    } else {
        1
    };
    writes
        && c.reading.is_empty()
        && c.fd
            .as_ref()
            .and_then(|f| f.pipe)
            .is_some_and(|p| p.is_full_for(len))
}

/// A thread in `Process.waitFor()` whose child jnstack cannot follow (a saved dump, or the
/// child is gone): the pid from the JVM's "process reaper (pid N)" threads, when they name one.
fn unfollowed_child(
    snapshot: &Snapshot,
    t: &Thread,
    java: &crate::dump::JavaThread,
) -> Option<Finding> {
    let pids: Vec<String> = snapshot
        .threads
        .iter()
        .filter_map(|r| crate::child::reaper_target(&r.name))
        .map(|pid| pid.to_string())
        .collect();
    let child = match pids.as_slice() {
        [] => "a child process".to_string(),
        [pid] => format!(
            "child process {pid} (thread \"process reaper (pid {pid})\" waits for its exit)"
        ),
        many => format!("one of the child processes {}", many.join(", ")),
    };
    let why = if snapshot.pid.is_some() {
        "jnstack found no child of the JVM to follow (it may be exiting right now)"
    } else {
        "what the child does is not in a thread dump: run jnstack on the live JVM to follow \
         it (its system call, its fd, a full pipe and who holds the read end)"
    };
    Some(Finding {
        kind: FindingKind::ChildProcess,
        problem: false,
        text: format!(
            "{} waits in Process.waitFor() ({}) for {child}; {why}.",
            describe(t),
            app_location(java, None)
        ),
        lock: None,
        owner: None,
        threads: vec![thread_ref(t)],
    })
}

/// Threads in `Process.waitFor()`, followed into their child: its syscall, its fd and,
/// for a full pipe, who holds the read end and whether anyone reads it.
fn child_processes(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for t in &snapshot.threads {
        let Some(java) = &t.java else {
            continue;
        };
        if !java
            .frames
            .iter()
            .any(|f| crate::child::is_wait_for(&f.text))
        {
            continue;
        }
        let kids = children_of(snapshot, t);
        if kids.is_empty() {
            findings.extend(unfollowed_child(snapshot, t, java));
        }
        for (c, how) in kids {
            let reaper = snapshot
                .threads
                .iter()
                .find(|r| crate::child::reaper_target(&r.name) == Some(c.pid))
                .map(|r| format!("; thread \"{}\" waits for its exit", r.name))
                .unwrap_or_default();
            let mut text = format!(
                "{} waits in Process.waitFor() ({}) for child process {} \"{}\" ({how}{reaper}), \
                 which is ",
                describe(t),
                app_location(java, None),
                c.pid,
                c.comm
            );
            match (&c.syscall, c.state) {
                (_, 'R') => text.push_str("running on a CPU"),
                (Some(call), _) => {
                    text.push_str(&format!("sleeping in the system call {}", call.display()));
                    if let Some(fd) = &c.fd {
                        text.push_str(&fd_text(fd, call, None, snapshot.pid));
                    }
                }
                (None, state) => text.push_str(&format!("in state {state}")),
            }
            let problem = child_on_full_pipe(c);
            if problem {
                let own =
                    c.fd.as_ref()
                        .is_some_and(|f| f.readers.iter().any(|r| Some(r.pid) == snapshot.pid));
                if own {
                    text.push_str(
                        "; no thread of this JVM is reading it, so the child cannot finish its \
                         write, never exits, and waitFor() never returns. Read the child's \
                         output (Process.getInputStream(), and getErrorStream()) while it runs, \
                         or redirect it (ProcessBuilder.redirectOutput(File), inheritIO(), \
                         Redirect.DISCARD).",
                    );
                } else {
                    text.push_str(
                        "; no process is reading it, so the child cannot finish its write and \
                         waitFor() does not return until the reader drains the pipe.",
                    );
                }
            } else {
                text.push('.');
            }
            findings.push(Finding {
                kind: FindingKind::ChildProcess,
                problem,
                text,
                lock: None,
                owner: None,
                threads: vec![thread_ref(t)],
            });
        }
    }
    findings
}

/// Follows the owner's own wait: "X itself waits for <…> held by Y", up to a cycle.
fn chain_tail(snapshot: &Snapshot, owners: &BTreeMap<&str, usize>, start: usize) -> String {
    let mut out = String::new();
    let mut seen = BTreeSet::from([start]);
    let mut cur = start;
    while let Some(w) = snapshot.threads[cur]
        .java
        .as_ref()
        .and_then(|j| j.waiting_for())
    {
        let Some(&next) = owners.get(w.lock.address.as_str()) else {
            break;
        };
        out.push_str(&format!(
            " \"{}\" itself waits for {} held by {}.",
            snapshot.threads[cur].name,
            w.lock,
            describe(&snapshot.threads[next])
        ));
        if !seen.insert(next) {
            out.push_str(" That is a cycle: a deadlock.");
            break;
        }
        cur = next;
    }
    out
}

/// From this many threads parked on one application-level synchronizer, it is starvation.
const STARVED_MIN: usize = 2;

/// What a park blocker is, from its class and the waiting thread's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocker {
    Semaphore,
    ReadWriteLock,
    Latch,
    Future,
    /// A pool worker's own queue (`LinkedBlockingQueue.take` in `ThreadPoolExecutor.getTask`, …).
    PoolQueue,
    Other,
}

impl Blocker {
    fn of(lock: &LockRef, frames: &[crate::dump::JavaFrame]) -> Blocker {
        let class = lock.class.as_deref().unwrap_or(&lock.address);
        let in_frames = |needle: &str| frames.iter().any(|f| f.text.contains(needle));
        if class.starts_with("java.util.concurrent.Semaphore") {
            Blocker::Semaphore
        } else if class.starts_with("java.util.concurrent.locks.ReentrantReadWriteLock") {
            Blocker::ReadWriteLock
        } else if class.starts_with("java.util.concurrent.CountDownLatch") {
            Blocker::Latch
        } else if class.starts_with("java.util.concurrent.FutureTask")
            || class.starts_with("java.util.concurrent.CompletableFuture")
        {
            Blocker::Future
        } else if in_frames("ThreadPoolExecutor.getTask")
            || in_frames("ForkJoinPool.awaitWork")
            || ["Queue.take(", "Queue.poll(", "SynchronousQueue"]
                .iter()
                .any(|q| in_frames(q))
        {
            Blocker::PoolQueue
        } else {
            Blocker::Other
        }
    }

    fn name(self) -> &'static str {
        match self {
            Blocker::Semaphore => "Semaphore",
            Blocker::ReadWriteLock => "ReentrantReadWriteLock",
            Blocker::Latch => "CountDownLatch",
            Blocker::Future => "future",
            Blocker::PoolQueue => "pool queue",
            Blocker::Other => "synchronizer",
        }
    }
}

/// The first frame of application code (not the JDK's), the one that called into the
/// synchronizer.
fn app_frame(java: &crate::dump::JavaThread) -> Option<&str> {
    java.frames
        .iter()
        .map(|f| f.text.as_str())
        .find(|f| !is_jdk_method(f))
}

/// `Waits.handle` of `Waits.handle(Waits.java:108)`.
fn method_of(frame: &str) -> &str {
    let method = frame.split('(').next().unwrap_or(frame);
    method.split_once('/').map_or(method, |(_, m)| m)
}

/// Threads parked on synchronizers nobody owns, grouped by blocker: starvation when many
/// wait on one application-level synchronizer, an idle pool when workers wait for work.
fn parked_groups(snapshot: &Snapshot, full: bool) -> Vec<Finding> {
    let owners = lock_owners(snapshot);
    let threads = &snapshot.threads;
    let mut groups: Vec<(&LockRef, Vec<usize>)> = Vec::new();
    for (i, t) in threads.iter().enumerate() {
        let Some(w) = t.java.as_ref().and_then(|j| j.waiting_for()) else {
            continue;
        };
        if w.action != LockAction::ParkingToWaitFor || owners.contains_key(w.lock.address.as_str())
        {
            continue;
        }
        match groups.iter_mut().find(|(l, _)| l.address == w.lock.address) {
            Some((_, list)) => list.push(i),
            None => groups.push((&w.lock, vec![i])),
        }
    }
    let mut findings = Vec::new();
    let mut idle: Vec<usize> = Vec::new();
    for (lock, list) in groups {
        let Some(first) = threads[list[0]].java.as_ref() else {
            continue;
        };
        let kind = Blocker::of(lock, &first.frames);
        match kind {
            Blocker::PoolQueue => idle.extend(&list),
            Blocker::Other => {}
            _ if list.len() < STARVED_MIN => {}
            _ => findings.push(starvation(snapshot, lock, kind, &list, full)),
        }
    }
    if !idle.is_empty() {
        let names: Vec<String> = idle
            .iter()
            .take(if full { idle.len() } else { 6 })
            .map(|&i| format!("\"{}\"", threads[i].name))
            .collect();
        let more = idle.len().saturating_sub(names.len());
        findings.push(Finding {
            kind: FindingKind::IdlePool,
            problem: false,
            text: format!(
                "{} pool worker{} idle, parked in {} own queue waiting for work: {}{}. That is \
                 not a problem.",
                idle.len(),
                if idle.len() == 1 { " is" } else { "s are" },
                if idle.len() == 1 { "its" } else { "their" },
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
            lock: None,
            owner: None,
            threads: idle.iter().map(|&i| thread_ref(&threads[i])).collect(),
        });
    }
    findings
}

fn starvation(
    snapshot: &Snapshot,
    lock: &LockRef,
    kind: Blocker,
    list: &[usize],
    full: bool,
) -> Finding {
    let threads = &snapshot.threads;
    // Waiters with the same stack are told as one line: 50 request threads are one fact.
    let mut stacks: Vec<(Vec<&str>, Vec<usize>)> = Vec::new();
    for &i in list {
        let frames: Vec<&str> = threads[i]
            .java
            .as_ref()
            .map(|j| j.frames.iter().map(|f| f.text.as_str()).collect())
            .unwrap_or_default();
        match stacks.iter_mut().find(|(s, _)| *s == frames) {
            Some((_, l)) => l.push(i),
            None => stacks.push((frames, vec![i])),
        }
    }
    let groups: Vec<String> = stacks
        .iter()
        .map(|(frames, l)| {
            let names: Vec<String> = l
                .iter()
                .take(if full { l.len() } else { 3 })
                .map(|&i| format!("\"{}\"", threads[i].name))
                .collect();
            let more = l.len().saturating_sub(names.len());
            let at = frames
                .iter()
                .find(|f| !is_jdk_method(f))
                .or(frames.first())
                .map(|f| format!(" at {f}"))
                .unwrap_or_default();
            format!(
                "{}{at} ({}{})",
                if l.len() == 1 {
                    "1 thread".to_string()
                } else {
                    format!("{} threads with the same stack", l.len())
                },
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let mut text = format!(
        "{} threads are parked on a {} {lock} that no thread owns: {}.",
        list.len(),
        kind.name(),
        join_capped(&groups, "; ", full)
    );
    // The holders of a semaphore's permits or of a read lock are not recorded anywhere:
    // the likely ones passed the acquire in the same code and are now blocked elsewhere.
    let methods: BTreeSet<&str> = list
        .iter()
        .filter_map(|&i| app_frame(threads[i].java.as_ref()?))
        .map(method_of)
        .collect();
    let holders: Vec<usize> = (0..threads.len())
        .filter(|i| !list.contains(i))
        .filter(|&i| {
            threads[i].java.as_ref().is_some_and(|j| {
                j.frames
                    .iter()
                    .skip(1)
                    .any(|f| methods.contains(method_of(&f.text)))
            })
        })
        .collect();
    let what = match kind {
        Blocker::Semaphore => "its permits",
        Blocker::ReadWriteLock => "the read lock",
        _ => "it",
    };
    match kind {
        Blocker::Latch => text.push_str(
            " A latch opens only when countDown() is called often enough: find the thread that \
             should count it down.",
        ),
        Blocker::Future => text
            .push_str(" They wait for a task's result: the task itself is stuck or was never run."),
        _ if holders.is_empty() => text.push_str(&format!(
            " Which threads hold {what} is not recorded in a thread dump, and no other thread \
             is inside {}.",
            methods.iter().copied().collect::<Vec<_>>().join(", ")
        )),
        _ => {
            let parts: Vec<String> = holders
                .iter()
                .map(|&h| {
                    format!(
                        "{}, {}",
                        describe(&threads[h]),
                        owner_activity(snapshot, &threads[h], None)
                    )
                })
                .collect();
            text.push_str(&format!(
                " Likely holding {what} (they passed the acquire in the same code, {}, and are \
                 blocked elsewhere now): {}",
                methods.iter().copied().collect::<Vec<_>>().join(", "),
                join_capped(&parts, " ", full)
            ));
        }
    }
    if kind == Blocker::ReadWriteLock {
        text.push_str(
            " A waiting writer also holds back every new reader, so one stuck reader stops them all.",
        );
    }
    Finding {
        kind: FindingKind::Starvation,
        problem: true,
        text,
        lock: Some(lock.clone()),
        owner: holders.first().map(|&h| thread_ref(&threads[h])),
        threads: list.iter().map(|&i| thread_ref(&threads[i])).collect(),
    }
}

/// Below this a thread is not "busy": 1% of a core over a `--sample` interval.
const BUSY_PERCENT: f64 = 1.0;
/// Below this a thread is not "busy": 0.1 s of CPU since it started (JVM start-up noise).
const BUSY_SECONDS: f64 = 0.1;

fn top_cpu(snapshot: &Snapshot) -> Option<Finding> {
    let sampled = snapshot
        .threads
        .iter()
        .any(|t| t.task.as_ref().is_some_and(|k| k.cpu_percent.is_some()));
    let floor = if sampled { BUSY_PERCENT } else { BUSY_SECONDS };
    let mut busy: Vec<&Thread> = snapshot
        .threads
        .iter()
        .filter(|t| t.cpu_rank() >= floor)
        .collect();
    busy.sort_by(|a, b| b.cpu_rank().total_cmp(&a.cpu_rank()));
    busy.truncate(3);
    if busy.is_empty() {
        return None;
    }
    let parts: Vec<String> = busy
        .iter()
        .map(|t| {
            let figure = if sampled {
                format!("{:.0}% CPU", t.cpu_rank())
            } else {
                format!("{:.2} s CPU", t.cpu_rank())
            };
            let at = t
                .java
                .as_ref()
                .and_then(|j| j.frames.first())
                .map(|f| format!(" at {}", f.text))
                .unwrap_or_default();
            format!("{} {figure}{at}", describe(t))
        })
        .collect();
    let basis = if sampled {
        "over the sample interval"
    } else {
        "by total CPU time since the thread started (use --sample 1s for current use)"
    };
    Some(Finding {
        kind: FindingKind::TopCpu,
        problem: false,
        text: format!("Busiest threads {basis}: {}.", parts.join("; ")),
        lock: None,
        owner: None,
        threads: busy.iter().map(|t| thread_ref(t)).collect(),
    })
}

fn native_only(snapshot: &Snapshot, pid: Option<u32>, full: bool) -> Option<Finding> {
    // Only meaningful with a Java dump to compare against; the launcher's main thread
    // (LWP == pid) just waits for the JVM and is left out.
    let have_java = snapshot.threads.iter().any(|t| t.java.is_some());
    let list: Vec<&Thread> = snapshot
        .threads
        .iter()
        .filter(|t| {
            have_java
                && t.java.is_none()
                && !t.started_after_dump
                && t.lwp != pid
                && t.task.is_some()
        })
        .collect();
    if list.is_empty() {
        return None;
    }
    let parts: Vec<String> = list
        .iter()
        .map(|t| {
            let task = t.task.as_ref().map(|k| match (&k.syscall, k.state) {
                (_, 'R') => " running".to_string(),
                (_, 'D') => " in uninterruptible sleep (D)".to_string(),
                (Some(c), _) => format!(" sleeping in {}", c.display()),
                (None, s) => format!(" in state {s}"),
            });
            let frame = t
                .native_frames
                .as_ref()
                .and_then(|f| {
                    f.iter()
                        .find(|f| !f.jvm_internal && !f.function.starts_with("__"))
                })
                .map(|f| format!(", in {}", f.function))
                .unwrap_or_default();
            format!("{}{}{frame}", describe(t), task.unwrap_or_default())
        })
        .collect();
    Some(Finding {
        kind: FindingKind::NativeOnly,
        problem: false,
        text: format!(
            "{} not known to the JVM (started by native code, no Java frames): {}.",
            if list.len() == 1 {
                "1 thread is"
            } else {
                "These threads are"
            },
            join_capped(&parts, "; ", full)
        ),
        lock: None,
        owner: None,
        threads: list.iter().map(|t| thread_ref(t)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot without a Java dump: `(name, state, wchan, frames)` per thread.
    fn no_dump(timed_out: bool, threads: &[(&str, char, Option<&str>, &[&str])]) -> Snapshot {
        let tasks = threads
            .iter()
            .enumerate()
            .map(|(i, (name, state, wchan, _))| crate::proc::Task {
                lwp: 100 + i as u32,
                ns_tid: None,
                comm: (*name).to_string(),
                state: *state,
                cpu_ms: 0,
                cpu_percent: None,
                wchan: wchan.map(str::to_string),
                syscall: None,
                not_run_ms: Some(40_000),
            })
            .collect();
        let mut snapshot = crate::merge::merge(Some(99), Default::default(), tasks);
        for (t, (_, _, _, frames)) in snapshot.threads.iter_mut().zip(threads) {
            t.native_frames = Some(
                frames
                    .iter()
                    .enumerate()
                    .map(|(i, f)| crate::backtrace::NativeFrame {
                        index: i as u32,
                        function: (*f).to_string(),
                        address: None,
                        source: None,
                        library: None,
                        jvm_internal: true,
                    })
                    .collect(),
            );
        }
        snapshot.missing_dump = Some(crate::merge::MissingDump {
            reason: "jstack did not finish".into(),
            timed_out,
        });
        snapshot
    }

    #[test]
    fn a_missing_dump_names_the_safepoint_and_the_stuck_thread() {
        let s = no_dump(
            true,
            &[
                (
                    "VM Thread",
                    'S',
                    Some("hrtimer_nanosleep"),
                    &[
                        "os::naked_short_sleep(long)",
                        "SafepointSynchronize::synchronize_threads(long, int, int*)",
                        "SafepointSynchronize::begin()",
                    ],
                ),
                (
                    "mmap-reader",
                    'D',
                    Some("handle_userfault"),
                    &["Unsafe_GetByte", "??"],
                ),
            ],
        );
        let f = no_java_dump(&s, false).unwrap();
        assert!(f.problem);
        assert!(
            f.text
                .contains("The VM Thread is in `SafepointSynchronize::begin`"),
            "{}",
            f.text
        );
        assert!(
            f.text.contains("\"mmap-reader\" (LWP 101, nid 0x65) is in state D in a page fault (`handle_userfault`"),
            "{}",
            f.text
        );
        assert!(
            f.text
                .contains("inside `Unsafe_GetByte` and has not run for 40 s"),
            "{}",
            f.text
        );
        assert!(!f.text.contains("JVM's user"), "{}", f.text);
    }

    #[test]
    fn a_missing_dump_without_stuck_threads_claims_no_page_fault() {
        // Advice fits the facts: no thread in D or a fault, no VM Thread in a safepoint.
        let s = no_dump(
            true,
            &[
                ("VM Thread", 'S', None, &["VMThread::wait_for_operation()"]),
                ("spin", 'R', None, &[]),
            ],
        );
        let f = no_java_dump(&s, false).unwrap();
        assert!(
            !f.text.contains("page fault") && !f.text.contains("The VM Thread is in"),
            "{}",
            f.text
        );
        assert!(
            f.text.contains("No thread is stuck in the kernel"),
            "{}",
            f.text
        );
        let s = no_dump(false, &[("VM Thread", 'S', None, &[])]);
        let f = no_java_dump(&s, false).unwrap();
        assert!(
            f.text
                .starts_with("No Java thread dump: jstack did not finish."),
            "{}",
            f.text
        );
        assert!(!f.text.contains("safepoint"), "{}", f.text);
    }

    #[test]
    fn one_thread_waiting_for_a_lock_nobody_holds() {
        let dump = crate::dump::parse_text(
            "\"w\" #2 prio=5 os_prio=0 tid=0x1 nid=0x2 waiting for monitor entry  [0x0]\n   java.lang.Thread.State: BLOCKED (on object monitor)\n\tat X.run(X.java:1)\n\t- waiting to lock <0x0a> (a java.lang.Object)\n",
        );
        let findings = diagnose(&crate::merge::merge(None, dump, Vec::new()), None);
        assert!(
            findings[0]
                .text
                .starts_with("\"w\" waits to lock <0x0a> (a java.lang.Object), but no thread"),
            "{}",
            findings[0].text
        );
    }

    fn task(lwp: u32, cpu_ms: u64, cpu_percent: Option<f64>) -> crate::proc::Task {
        crate::proc::Task {
            lwp,
            ns_tid: None,
            comm: format!("t{lwp}"),
            state: 'S',
            cpu_ms,
            cpu_percent,
            wchan: None,
            syscall: None,
            not_run_ms: None,
        }
    }

    fn top_cpu_of(tasks: Vec<crate::proc::Task>) -> Vec<String> {
        let snapshot = crate::merge::merge(Some(1), crate::dump::ThreadDump::default(), tasks);
        diagnose(&snapshot, Some(1))
            .into_iter()
            .filter(|f| f.kind == FindingKind::TopCpu)
            .flat_map(|f| f.threads.into_iter().map(|t| t.name))
            .collect()
    }

    #[test]
    fn idle_threads_are_not_called_busy() {
        // Start-up crumbs of CPU time are not "busy threads".
        assert!(top_cpu_of(vec![task(2, 10, None), task(3, 90, None)]).is_empty());
        assert_eq!(
            top_cpu_of(vec![task(2, 10, None), task(3, 2500, None)]),
            ["t3"]
        );
        // Sampled: percent of a core, however much CPU the thread used before.
        assert!(top_cpu_of(vec![task(2, 90_000, Some(0.4))]).is_empty());
        assert_eq!(
            top_cpu_of(vec![task(2, 90_000, Some(0.4)), task(3, 5, Some(97.0))]),
            ["t3"]
        );
    }

    #[test]
    fn owners_are_told_by_their_application_frame() {
        let dump = crate::dump::parse_text(
            "\"r\" #2 prio=5 os_prio=0 tid=0x1 nid=0x2 runnable  [0x0]\n   java.lang.Thread.State: RUNNABLE\n\tat sun.nio.ch.SocketDispatcher.read0(java.base@17.0.15/Native Method)\n\tat sun.nio.ch.NioSocketImpl.read(java.base@17.0.15/NioSocketImpl.java:1)\n\tat com.example.Client.readReply(Client.java:40)\n\tat com.example.Client.call(Client.java:20)\n\t- locked <0x0a> (a java.lang.Object)\n\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n",
        );
        let java = &dump.threads[0];
        let lock = LockRef {
            address: "0x0a".into(),
            class: None,
        };
        assert_eq!(
            app_location(java, Some(&lock)),
            "at com.example.Client.readReply(Client.java:40), inside \
             sun.nio.ch.SocketDispatcher.read0 (it took the lock at \
             com.example.Client.call(Client.java:20))"
        );
        // No application frame at all: the top frame.
        let jdk_only = crate::dump::parse_text(
            "\"g\" #3 prio=5 os_prio=0 tid=0x1 nid=0x3 waiting on condition  [0x0]\n   java.lang.Thread.State: WAITING (parking)\n\tat jdk.internal.misc.Unsafe.park(java.base@17.0.15/Native Method)\n\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)\n",
        );
        assert_eq!(
            app_location(&jdk_only.threads[0], None),
            "at jdk.internal.misc.Unsafe.park(java.base@17.0.15/Native Method)"
        );
    }

    #[test]
    fn a_saved_dump_names_the_child_a_waitfor_waits_for() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/dumps/jdk17-child.txt"
        ))
        .unwrap();
        let snapshot = crate::merge::merge(None, crate::dump::parse_text(&text), Vec::new());
        let findings = diagnose(&snapshot, None);
        let child: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.kind == FindingKind::ChildProcess)
            .collect();
        assert_eq!(child.len(), 1, "{findings:#?}");
        assert!(!child[0].problem);
        assert_eq!(child[0].threads[0].name, "tool-runner");
        let t = &child[0].text;
        assert!(
            t.contains("waits in Process.waitFor() (at Facts.runTool(Facts.java:"),
            "{t}"
        );
        assert!(
            t.contains("for child process 7300 (thread \"process reaper (pid 7300)\""),
            "{t}"
        );
        assert!(t.contains("run jnstack on the live JVM"), "{t}");
        // The monitor chain tells the owner by its application frame, not Object.wait.
        let chain = findings
            .iter()
            .find(|f| f.kind == FindingKind::MonitorChain)
            .unwrap();
        assert!(
            chain.text.contains(
                "which is WAITING at Facts.runTool(Facts.java:99), inside java.lang.Object.wait"
            ),
            "{}",
            chain.text
        );
    }

    #[test]
    fn jdk_natives_are_not_jni() {
        assert!(is_jdk_method(
            "java.lang.Thread.sleepNanos0(java.base@25.0.3/Native Method)"
        ));
        assert!(is_jdk_method(
            "java.base/jdk.internal.misc.Unsafe.park(Native Method)"
        ));
        assert!(!is_jdk_method("Hang.writeToFullPipe(Native Method)"));
        assert!(!is_jdk_method("com.example.Native.call(Native Method)"));
    }
}
