//! The dump parser and the diagnosis on real dumps captured from JDK 8 (the post),
//! JDK 17 and Temurin 25, in both jstack and jcmd flavours, plus the JSON format.

use jvm_native_stack::diagnose::{diagnose, FindingKind};
use jvm_native_stack::dump::{self, JavaThread, LockAction, ThreadDump};
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
    let owner = get(&d, "Thread-6");
    assert_eq!(owner.nid, Some(5649));
    assert_eq!(owner.tid.as_deref(), Some("0x00007fde040ef800"));
    assert!(owner.in_native_method());
    assert_eq!(owner.owned_locks()[0].address, "0x000000076ce5b140");
    assert_eq!(owner.frames.len(), 3);
}

fn check_fixture_dump(name: &str, decimal_nids: bool) {
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
    for waiter in ["idle-wait", "Finalizer", "Common-Cleaner"] {
        let t = get(&d, waiter);
        assert!(
            t.lock_events().any(|e| e.action == LockAction::Locked),
            "{waiter}"
        );
        assert!(
            t.owned_locks().is_empty(),
            "{name}: {waiter} does not own its wait() monitor"
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
}

#[test]
fn jdk17_jstack_dump() {
    check_fixture_dump("jdk17.txt", false);
    let d = parse("jdk17.txt");
    assert_eq!(get(&d, "pipe-writer").nid, Some(0x1695));
}

#[test]
fn jdk17_jcmd_dump() {
    check_fixture_dump("jdk17-jcmd.txt", false);
}

#[test]
fn jdk25_jstack_dump_has_decimal_nids_and_os_ids() {
    check_fixture_dump("jdk25.txt", true);
    let d = parse("jdk25.txt");
    let t = get(&d, "pipe-writer");
    assert_eq!(
        (t.number, t.os_thread_id, t.nid),
        (Some(21), Some(5968), Some(5968))
    );
}

#[test]
fn jdk25_jcmd_dump() {
    check_fixture_dump("jdk25-jcmd.txt", true);
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
fn diagnosis_of_saved_dump() {
    let d = parse("jdk17.txt");
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
