//! The dump parser and the diagnosis on real dumps captured from JDK 8 (the post),
//! JDK 11 and 21 (jstack, and printed by the JVM on SIGQUIT), JDK 17 and Temurin 25
//! (jstack and jcmd flavours), plus the JSON format.

use jvm_native_stack::diagnose::{diagnose, FindingKind};
use jvm_native_stack::dump::{self, JavaThread, LockAction, LockRef, ThreadDump};
use jvm_native_stack::merge::merge;

use crate::harness::dump_fixture;

fn parse(name: &str) -> ThreadDump {
    dump::parse(&dump_fixture(name)).unwrap()
}

fn get<'a>(d: &'a ThreadDump, name: &str) -> &'a JavaThread {
    d.threads
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no thread {name}"))
}

fn header_count(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with('"') && l.contains(" nid="))
        .count()
}

#[test]
fn jdk8_post_excerpt() {
    let d = parse("jdk8-post.txt");
    assert_eq!(d.threads.len(), 2);
    let blocked = get(&d, "Thread-0");
    assert_eq!(
        (blocked.number, blocked.nid, blocked.prio),
        (Some(10), Some(0x160b), Some(5))
    );
    assert_eq!(blocked.state.as_deref(), Some("BLOCKED"));
    assert_eq!(blocked.state_detail.as_deref(), Some("on object monitor"));
    assert_eq!(blocked.header_state, "waiting for monitor entry");
    let w = blocked.waiting_for().unwrap();
    assert_eq!(
        (w.action, w.lock.address.as_str()),
        (LockAction::WaitingToLock, "0x000000076ce5b140")
    );
    // JDK 8 prints no cpu= or elapsed=.
    assert_eq!(
        header(&d, "Thread-6"),
        (Some(16), None, Some(5649), None, None)
    );
    let owner = get(&d, "Thread-6");
    assert_eq!(owner.tid.as_deref(), Some("0x00007fde040ef800"));
    assert!(owner.in_native_method());
    assert_eq!(owner.owned_locks()[0].address, "0x000000076ce5b140");
    assert_eq!(owner.frames.len(), 3);
}

/// Threads inside `Object.wait()` on each JDK's fixture dump, and the lock line the JDK
/// prints for the monitor they released: `- locked`, or on JDK 11 `- waiting to re-lock`.
const WAIT_TRAP_17_25: &[(&str, LockAction)] = &[
    ("idle-wait", LockAction::Locked),
    ("Finalizer", LockAction::Locked),
    ("Common-Cleaner", LockAction::Locked),
];

/// JDK 11 prints `- waiting to re-lock in wait()` instead of `- locked` in wait().
const WAIT_TRAP_11: &[(&str, LockAction)] = &[
    ("idle-wait", LockAction::WaitingToRelock),
    ("Finalizer", LockAction::WaitingToRelock),
    ("Common-Cleaner", LockAction::WaitingToRelock),
];

/// JDK 21's Common-Cleaner parks on a Condition instead of calling `Object.wait()`.
const WAIT_TRAP_21: &[(&str, LockAction)] = &[
    ("idle-wait", LockAction::Locked),
    ("Finalizer", LockAction::Locked),
];

/// Checks what every fixture dump of the Hang program (with "extras") must show.
fn check_fixture_dump(
    name: &str,
    decimal_nids: bool,
    wait_trap: &[(&str, LockAction)],
) -> ThreadDump {
    let text = dump_fixture(name);
    let d = parse(name);
    assert_eq!(d.threads.len(), header_count(&text), "{name}");
    assert!(d
        .banner
        .as_deref()
        .unwrap()
        .starts_with("OpenJDK 64-Bit Server VM ("));
    for t in &d.threads {
        let nid = t
            .nid
            .unwrap_or_else(|| panic!("{name}: {} has no nid", t.name));
        if decimal_nids {
            assert_eq!(
                t.os_thread_id.filter(|_| t.number.is_some()).unwrap_or(nid),
                nid,
                "{}",
                t.name
            );
        }
    }
    let owner = get(&d, "pipe-writer");
    assert!(owner.in_native_method());
    assert_eq!(owner.state.as_deref(), Some("RUNNABLE"));
    assert!(owner.cpu_ms.is_some() && owner.elapsed_s.is_some() && owner.prio == Some(5));
    let lock = owner.owned_locks()[0].address.clone();
    for b in ["blocked-1", "blocked-2", "blocked-3"] {
        let t = get(&d, b);
        assert_eq!(t.state.as_deref(), Some("BLOCKED"));
        assert_eq!(t.waiting_for().unwrap().lock.address, lock);
    }
    // The Object.wait() trap: "- locked" is printed, but the monitor was released.
    for &(waiter, printed) in wait_trap {
        let t = get(&d, waiter);
        let waited_on = t
            .lock_events()
            .find(|e| e.action == LockAction::WaitingOn)
            .unwrap_or_else(|| panic!("{name}: {waiter} is not in wait()"));
        assert!(
            t.lock_events()
                .any(|e| e.action == printed && e.lock == waited_on.lock),
            "{name}: {waiter} has no {printed:?} line for its wait() monitor"
        );
        assert!(
            t.owned_locks().is_empty(),
            "{name}: {waiter} does not own its wait() monitor"
        );
        assert!(
            t.waiting_for().is_none(),
            "{name}: {waiter} waits for a notify, not for a lock"
        );
    }
    assert!(get(&d, "idle-wait").daemon);
    assert!(!get(&d, "spinner").daemon);
    let holder = get(&d, "rlock-holder");
    assert_eq!(holder.ownable_synchronizers.len(), 1);
    let parked = get(&d, "rlock-waiter").waiting_for().unwrap();
    assert_eq!(parked.action, LockAction::ParkingToWaitFor);
    assert_eq!(parked.lock, holder.ownable_synchronizers[0]);
    let vm = get(&d, "VM Thread");
    assert_eq!(vm.number, None);
    assert!(vm.frames.is_empty());
    // The JVM's own deadlock report.
    assert_eq!(d.deadlocks.len(), 1);
    let edges = &d.deadlocks[0].edges;
    assert_eq!(edges.len(), 2);
    assert_eq!(
        (edges[0].thread.as_str(), edges[0].held_by.as_str()),
        ("deadlock-a", "deadlock-b")
    );
    assert_eq!(
        (edges[1].thread.as_str(), edges[1].held_by.as_str()),
        ("deadlock-b", "deadlock-a")
    );
    assert_eq!(edges[0].class.as_deref(), Some("java.lang.Object"));
    let a_holds = get(&d, "deadlock-a").owned_locks()[0].address.clone();
    assert_eq!(edges[1].waiting_for, a_holds);
    d
}

/// A thread's header values as read by eye: `#id`, `[os id]`, nid, `cpu=` ms, `elapsed=` s.
type Header = (
    Option<u64>,
    Option<u32>,
    Option<u32>,
    Option<f64>,
    Option<f64>,
);

fn header(d: &ThreadDump, name: &str) -> Header {
    let t = get(d, name);
    (t.number, t.os_thread_id, t.nid, t.cpu_ms, t.elapsed_s)
}

/// The JDK 11 dump was printed by the JVM itself on SIGQUIT (`kill -3`, with
/// `-XX:+PrintConcurrentLocks`): a timestamp, the fixture's own "READY" line before it and a
/// heap summary after it, none of which is a thread.
#[test]
fn jdk11_sigquit_dump_has_hex_nids_and_relock_lines_in_wait() {
    let d = check_fixture_dump("jdk11-sigquit.txt", false, WAIT_TRAP_11);
    assert_eq!(
        d.banner.as_deref(),
        Some("OpenJDK 64-Bit Server VM (11.0.13+8 mixed mode)")
    );
    assert_eq!(d.threads.len(), 27);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(10), None, Some(0x77bb), Some(0.22), Some(1.35))
    );
    assert_eq!(
        get(&d, "pipe-writer").tid.as_deref(),
        Some("0x00007f874819e800")
    );
    assert_eq!(get(&d, "spinner").cpu_ms, Some(1318.42));
    let idle = get(&d, "idle-wait");
    assert_eq!(idle.header_state, "in Object.wait()");
    assert_eq!(
        (idle.state.as_deref(), idle.state_detail.as_deref()),
        (Some("WAITING"), Some("on object monitor"))
    );
    assert_eq!(
        get(&d, "rlock-holder").ownable_synchronizers,
        [LockRef {
            address: "0x00000000ffe5a338".into(),
            class: Some("java.util.concurrent.locks.ReentrantLock$NonfairSync".into()),
        }]
    );
    let edges = &d.deadlocks[0].edges;
    assert_eq!(edges[0].waiting_for, "0x00000000ffe4b6d0");
    assert_eq!(edges[1].waiting_for, "0x00000000ffe4b6c0");
    // The last thread before the footer gets nothing from "JNI global refs" or the heap.
    let last = d.threads.last().unwrap();
    assert_eq!(last.name, "VM Periodic Task Thread");
    assert_eq!(last.header_state, "waiting on condition");
    assert!(last.frames.is_empty() && last.state.is_none());
}

#[test]
fn heap_summary_right_after_the_last_thread_is_not_part_of_it() {
    // Without a deadlock the heap summary follows the thread list directly.
    let text = dump_fixture("jdk11-sigquit.txt");
    let start = text.find("Found one Java-level deadlock").unwrap();
    let end = text.find("Found 1 deadlock.").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    let d = dump::parse(&text).unwrap();
    assert!(d.deadlocks.is_empty());
    assert_eq!(d.threads.len(), 27);
    let last = d.threads.last().unwrap();
    assert_eq!(last.name, "VM Periodic Task Thread");
    assert!(last.frames.is_empty() && last.ownable_synchronizers.is_empty());
}

#[test]
fn a_log_with_several_dumps_keeps_the_last() {
    // A JVM's stdout after two `kill -3`: here JDK 11's dump, then JDK 21's.
    let text = dump_fixture("jdk11-sigquit.txt") + &dump_fixture("jdk21-sigquit.txt");
    let d = dump::parse(&text).unwrap();
    assert_eq!(d.earlier_dumps, 1);
    assert_eq!(
        d.banner.as_deref(),
        Some("OpenJDK 64-Bit Server VM (21.0.8+9-LTS mixed mode)")
    );
    assert_eq!(d.threads.len(), 28);
    assert_eq!(d.deadlocks.len(), 1);
    assert_eq!(d.deadlocks[0].edges[0].waiting_for, "0x00000000ffe4d188");
    assert_eq!(get(&d, "pipe-writer").nid, Some(30690));
}

/// The JDK 21 dump, also printed on SIGQUIT: decimal nids and `#18 [30690]` headers.
#[test]
fn jdk21_sigquit_dump_has_decimal_nids_and_os_ids() {
    let d = check_fixture_dump("jdk21-sigquit.txt", true, WAIT_TRAP_21);
    assert_eq!(
        d.banner.as_deref(),
        Some("OpenJDK 64-Bit Server VM (21.0.8+9-LTS mixed mode)")
    );
    assert_eq!(d.threads.len(), 28);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(18), Some(30690), Some(30690), Some(0.47), Some(1.35))
    );
    let vm = get(&d, "VM Thread");
    assert_eq!(
        (vm.number, vm.os_thread_id, vm.nid),
        (None, None, Some(30679))
    );
    // JDK 21's Common-Cleaner parks on a Condition instead of Object.wait(): nobody owns it.
    let cleaner = get(&d, "Common-Cleaner").waiting_for().unwrap();
    assert_eq!(cleaner.action, LockAction::ParkingToWaitFor);
    assert_eq!(cleaner.lock.address, "0x00000000fffc3308");
    assert!(!d
        .threads
        .iter()
        .any(|t| t.owned_locks().contains(&&cleaner.lock)));
    let edges = &d.deadlocks[0].edges;
    assert_eq!(edges[0].waiting_for, "0x00000000ffe4d188");
    assert_eq!(edges[1].waiting_for, "0x00000000ffe4d178");
    assert_eq!(d.threads.last().unwrap().name, "GC Thread#0");
}

#[test]
fn jdk11_jstack_dump() {
    let d = check_fixture_dump("jdk11.txt", false, WAIT_TRAP_11);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(10), None, Some(0x1979), Some(0.41), Some(2.09))
    );
}

#[test]
fn jdk21_jstack_dump() {
    let d = check_fixture_dump("jdk21.txt", true, WAIT_TRAP_21);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(18), Some(6619), Some(6619), Some(0.17), Some(1.83))
    );
}

#[test]
fn jdk17_jstack_dump() {
    let d = check_fixture_dump("jdk17.txt", false, WAIT_TRAP_17_25);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(12), None, Some(0x1695), Some(0.14), Some(0.73))
    );
}

#[test]
fn jdk17_jcmd_dump() {
    check_fixture_dump("jdk17-jcmd.txt", false, WAIT_TRAP_17_25);
}

#[test]
fn jdk25_jstack_dump_has_decimal_nids_and_os_ids() {
    let d = check_fixture_dump("jdk25.txt", true, WAIT_TRAP_17_25);
    assert_eq!(
        header(&d, "pipe-writer"),
        (Some(21), Some(5968), Some(5968), Some(0.21), Some(0.88))
    );
}

#[test]
fn jdk25_jcmd_dump() {
    check_fixture_dump("jdk25-jcmd.txt", true, WAIT_TRAP_17_25);
}

#[test]
fn jdk25_json_dump_with_virtual_threads() {
    let d = parse("jdk25-virtual-threads.json");
    let virtuals: Vec<&JavaThread> = d.threads.iter().filter(|t| t.is_virtual).collect();
    assert_eq!(virtuals.len(), 3);
    assert!(virtuals
        .iter()
        .all(|t| t.name.starts_with("virtual-") && t.nid.is_none()));
    assert_eq!(virtuals[0].state.as_deref(), Some("TIMED_WAITING"));
    assert!(virtuals[0].frames[0]
        .text
        .starts_with("java.base/java.lang.VirtualThread.parkNanos"));
    // Finalizer waits on the lock it "owns" at depth 4: the trap again, JSON flavour.
    let fin = get(&d, "Finalizer");
    assert_eq!(fin.lock_events().count(), 2);
    assert!(fin.owned_locks().is_empty());
    assert_eq!(get(&d, "main").number, Some(3));
}

#[test]
fn diagnosis_of_saved_jdk17_dump() {
    check_diagnosis("jdk17.txt");
}

#[test]
fn diagnosis_of_saved_jdk11_dump() {
    check_diagnosis("jdk11-sigquit.txt");
}

#[test]
fn diagnosis_of_saved_jdk21_dump() {
    check_diagnosis("jdk21-sigquit.txt");
}

fn check_diagnosis(name: &str) {
    let d = parse(name);
    let snapshot = merge(None, d, Vec::new());
    let findings = diagnose(&snapshot, None);
    let kinds: Vec<FindingKind> = findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds[0], FindingKind::Deadlock);
    let chains: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::MonitorChain)
        .collect();
    assert_eq!(chains.len(), 2, "{chains:#?}");
    let pipe = chains
        .iter()
        .find(|f| f.owner.as_ref().unwrap().name == "pipe-writer")
        .unwrap();
    let names: Vec<&str> = pipe.threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["blocked-1", "blocked-2", "blocked-3"]);
    assert!(
        pipe.text
            .contains("inside the native method Hang.writeToFullPipe"),
        "{}",
        pipe.text
    );
    let rl = chains
        .iter()
        .find(|f| f.owner.as_ref().unwrap().name == "rlock-holder")
        .unwrap();
    assert!(
        rl.text.starts_with("1 thread is parked waiting for <"),
        "{}",
        rl.text
    );
    // Deadlocked threads are reported once, as a deadlock, not again as a chain.
    assert!(!chains
        .iter()
        .any(|f| f.threads.iter().any(|t| t.name.starts_with("deadlock-"))));
}

#[test]
fn blocked_threads_whose_lock_nobody_holds() {
    // As if the owner released the monitor between the JVM printing its stack and theirs;
    // on JDK 21+ a text dump cannot rule out an owner that is a virtual thread, either.
    let full = dump_fixture("jdk21-sigquit.txt");
    let text = full.replace("\t- locked <0x00000000fffc81f8> (a java.lang.Object)\n", "");
    assert_ne!(text, full);
    let findings = diagnose(&merge(None, dump::parse(&text).unwrap(), Vec::new()), None);
    let f = findings
        .iter()
        .find(|f| f.kind == FindingKind::MonitorChain && f.owner.is_none())
        .unwrap_or_else(|| panic!("no unowned-lock finding: {findings:#?}"));
    assert!(f.problem);
    assert_eq!(f.lock.as_ref().unwrap().address, "0x00000000fffc81f8");
    assert!(
        f.text.starts_with(
            "\"blocked-1\", \"blocked-2\", \"blocked-3\" wait to lock \
             <0x00000000fffc81f8> (a java.lang.Object), but no platform thread in the dump \
             holds it: its owner is likely a virtual thread"
        ),
        "{}",
        f.text
    );
}
