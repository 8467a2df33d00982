//! Grouping threads that read the same, so 5,000 idle threads are one paragraph.
//!
//! Two threads are "identical" when their text would be the same but for addresses and
//! numbers: the same Java state (and `JavaThread` state) and frames (lock lines by action
//! and class, not by object address), the same kernel state letter, the same kind of file
//! descriptor, the same folded native frames (by function name, not program counter: see
//! [`crate::fold::key`]), and the same sampling verdict. Thread names, LWPs, CPU time, lock
//! addresses and the system call may differ (a futex wait shows as `restart_syscall` after a
//! ptrace stop; the frames say where the thread is). Threads with no frame at all (no Java
//! dump or a JVM-internal thread, and no gdb) group only with the same name but for digits
//! (`GC Thread#0`…`#7`), so the VM Thread is never hidden among them.

use std::collections::HashMap;

use crate::merge::Thread;

/// From this many identical threads on, the default text shows them once.
pub const GROUP_MIN: usize = 3;

/// What makes two threads read the same (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StackKey {
    kind: u8,
    java_state: Option<String>,
    vm_state: Option<String>,
    java: Vec<String>,
    owns: usize,
    task: Option<char>,
    family: Option<String>,
    fd_kind: Option<String>,
    native: Option<Vec<String>>,
    extra: String,
}

/// The grouping key of `t`; `extra` is anything else that must match (a verdict).
pub fn key(t: &Thread, extra: &str) -> StackKey {
    let kind = match (&t.java, t.started_after_dump) {
        (Some(j), _) if j.is_virtual => 1,
        (Some(_), _) => 0,
        (None, true) => 2,
        (None, false) => 3,
    };
    let java = t
        .java
        .as_ref()
        .map(|j| {
            let mut lines = Vec::new();
            for f in &j.frames {
                lines.push(f.text.clone());
                for l in &f.locks {
                    lines.push(format!(
                        "- {} {}",
                        l.action.verb(),
                        l.lock.class.as_deref().unwrap_or("")
                    ));
                }
            }
            if let Some(n) = j.carrying {
                lines.push(format!("carrying {n}"));
            }
            lines
        })
        .unwrap_or_default();
    let family = (java.is_empty() && t.native_frames.as_ref().is_none_or(Vec::is_empty))
        .then(|| t.name.replace(|c: char| c.is_ascii_digit(), ""));
    StackKey {
        kind,
        java_state: t.java_state().map(str::to_string),
        vm_state: t.vm_state.clone(),
        java,
        owns: t.java.as_ref().map_or(0, |j| j.ownable_synchronizers.len()),
        task: t.task.as_ref().map(|k| k.state),
        family,
        fd_kind: t.fd.as_ref().map(|fd| {
            fd.target
                .split(':')
                .next()
                .unwrap_or(&fd.target)
                .to_string()
        }),
        native: t.native_frames.as_deref().map(crate::fold::key),
        extra: extra.to_string(),
    }
}

/// Splits `selected` (indices into `threads`) into groups of identical threads, each in
/// the order of `selected`, the groups ordered by their first member.
pub fn group(
    threads: &[Thread],
    selected: &[usize],
    extra: impl Fn(&Thread) -> String,
) -> Vec<Vec<usize>> {
    let mut index: HashMap<StackKey, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in selected {
        let k = key(&threads[i], &extra(&threads[i]));
        match index.get(&k) {
            Some(&g) => groups[g].push(i),
            None => {
                index.insert(k, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(text: &str) -> crate::merge::Snapshot {
        crate::merge::merge(None, crate::dump::parse_text(text), Vec::new())
    }

    const SLEEPER: &str = "\"idle-{n}\" #{n} daemon prio=5 os_prio=0 tid=0x{n}0 nid=0x{n} waiting on condition  [0x0]\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat java.lang.Thread.sleep(java.base@17.0.15/Native Method)\n\tat Many.lambda$main$0(Many.java:8)\n\n";
    const LOCKER: &str = "\"lock-{n}\" #{n} prio=5 os_prio=0 tid=0x{n}0 nid=0x{n} waiting for monitor entry  [0x0]\n   java.lang.Thread.State: BLOCKED (on object monitor)\n\tat X.run(X.java:1)\n\t- waiting to lock <0x{n}a> (a java.lang.Object)\n\n";

    #[test]
    fn same_frames_group_whatever_the_names_and_lock_addresses() {
        let mut text = String::new();
        for n in 1..=4 {
            text += &SLEEPER.replace("{n}", &n.to_string());
        }
        for n in 5..=6 {
            text += &LOCKER.replace("{n}", &n.to_string());
        }
        text += &SLEEPER
            .replace("{n}", "7")
            .replace("Many.java:8", "Many.java:9");
        let s = snapshot(&text);
        let all: Vec<usize> = (0..s.threads.len()).collect();
        let groups = group(&s.threads, &all, |_| String::new());
        assert_eq!(groups, vec![vec![0, 1, 2, 3], vec![4, 5], vec![6]]);
        // A verdict splits a group.
        let groups = group(&s.threads, &all, |t| {
            if t.name == "idle-2" {
                "moving".into()
            } else {
                String::new()
            }
        });
        assert_eq!(groups[0], vec![0, 2, 3]);
        assert_eq!(groups[1], vec![1]);
    }

    #[test]
    fn threads_without_frames_group_only_by_name_family() {
        // No Java dump and no gdb: only names tell threads apart; the VM Thread stays alone.
        let tasks = [
            "VM Thread",
            "GC Thread#0",
            "GC Thread#1",
            "GC Thread#12",
            "idle-7",
        ]
        .iter()
        .enumerate()
        .map(|(i, name)| crate::proc::Task {
            lwp: 10 + i as u32,
            comm: (*name).to_string(),
            state: 'S',
            cpu_ms: 0,
            cpu_percent: None,
            wchan: None,
            syscall: None,
            not_run_ms: None,
            ns_tid: None,
        })
        .collect();
        let s = crate::merge::merge(Some(1), Default::default(), tasks);
        let all: Vec<usize> = (0..s.threads.len()).collect();
        let groups = group(&s.threads, &all, |_| String::new());
        assert_eq!(groups, vec![vec![0], vec![1, 2, 3], vec![4]]);
    }
}
