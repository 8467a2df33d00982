//! Facts an engineer needs next (issue 9, section 4), on `fixtures/jni/Facts.java` live on
//! JDK 17 and 25: a socket read without a timeout (read) and with one (poll: its fd and
//! timeout, also after an earlier ptrace stop turned it into restart_syscall), the peer
//! and TCP state of each, owners told by their application frame, and a thread in
//! Process.waitFor() whose child blocks writing to a full pipe the JVM never reads.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    facts_21, fixture_25, fixture_default, fixtures, jnstack, json_report, report_thread,
    wait_until, Fixture, Jvm,
};
use crate::schema::{check, schema, spec_paths};

/// Runs `jnstack --json ARGS`, checks the report against the documented schema and
/// returns exit code, report and the schema paths seen with a value.
fn json(args: &[&str]) -> (Option<i32>, Value, BTreeSet<String>) {
    let (code, report) = json_report(args);
    let mut seen = BTreeSet::new();
    check(&report, &schema(), "", &mut seen);
    (code, report, seen)
}

/// Asserts that every documented path under `prefix` but `except` was seen with a value.
fn assert_seen(seen: &BTreeSet<String>, prefix: &str, except: &[&str]) {
    let mut documented = BTreeSet::new();
    spec_paths(&schema(), "", &mut documented);
    let missing: Vec<&String> = documented
        .iter()
        .filter(|p| p.starts_with(prefix) && !seen.contains(*p))
        .filter(|p| !except.iter().any(|e| p.starts_with(e)))
        .collect();
    assert!(missing.is_empty(), "never seen with a value: {missing:?}");
}

/// The LWP of the JVM thread whose kernel name is `comm`.
fn lwp_of(pid: u32, comm: &str) -> u32 {
    let found = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == comm)
        });
    let entry = found.unwrap_or_else(|| panic!("no thread {comm:?} in JVM {pid}"));
    entry.file_name().to_str().unwrap().parse().unwrap()
}

/// The name of the system call thread `lwp` of `pid` sits in, as /proc shows it.
fn syscall_of(pid: u32, lwp: u32) -> Option<&'static str> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{lwp}/syscall")).ok()?;
    jvm_native_stack::proc::Syscall::parse(&text)?.name
}

fn finding_owned_by<'a>(report: &'a Value, owner: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "monitor_chain" && f["owner"]["name"] == owner)
        .unwrap_or_else(|| {
            panic!(
                "no monitor chain owned by {owner}: {:#}",
                report["findings"]
            )
        })
}

fn check_sockets(fixture: &Fixture) {
    let jvm = Jvm::start_class(fixture, &[], "Facts", &["socket"], "socket-reader");
    let port: u16 = jvm
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("PORT "))
        .and_then(|p| p.parse().ok())
        .expect("the fixture prints its server's port");
    let peer = format!("127.0.0.1:{port}");
    let (plain, timed) = (
        lwp_of(jvm.pid, "socket-reader"),
        lwp_of(jvm.pid, "timed-reader"),
    );
    let in_place = wait_until(Duration::from_secs(60), || {
        (syscall_of(jvm.pid, plain) == Some("read") && syscall_of(jvm.pid, timed) == Some("poll"))
            .then_some(())
    });
    assert!(in_place.is_some(), "the readers never blocked in read/poll");

    // First run, with gdb: its attach stops every thread.
    let (code, report, seen) = json(&[&jvm.pid.to_string()]);
    assert_eq!(code, Some(1), "two owners block two threads");
    let reader = report_thread(&report, "socket-reader");
    assert_eq!(reader["task"]["syscall"]["name"], "read");
    let socket = &reader["fd"]["socket"];
    assert_eq!(socket["protocol"], "tcp", "{reader}");
    assert_eq!(socket["peer"], peer.as_str(), "{reader}");
    assert_eq!(socket["state"], "ESTABLISHED");
    assert!(socket["local"].as_str().unwrap().starts_with("127.0.0.1:"));
    let timed_thread = report_thread(&report, "timed-reader");
    let wait = &timed_thread["wait"];
    assert_eq!(wait["call"], "poll", "{timed_thread}");
    assert_eq!(wait["restarted"], false);
    let fds = wait["fds"].as_array().unwrap();
    assert_eq!(fds.len(), 1, "{wait}");
    let fd = fds[0]["fd"].as_i64().unwrap();
    assert_eq!(timed_thread["fd"]["fd"], fd);
    assert!(fds[0]["events"]
        .as_array()
        .unwrap()
        .contains(&Value::from("POLLIN")));
    assert_eq!(timed_thread["fd"]["socket"]["peer"], peer.as_str());
    assert_eq!(timed_thread["fd"]["socket"]["state"], "ESTABLISHED");
    // Java passes what is left of SO_TIMEOUT (1 h) to each poll.
    let timeout = wait["timeout_ms"].as_u64().unwrap();
    assert!((3_000_000..=3_600_000).contains(&timeout), "{wait}");

    // Owners are told by their application frame, with the frame that took the lock.
    let text = finding_owned_by(&report, "socket-reader")["text"]
        .as_str()
        .unwrap();
    for needle in [
        "which is RUNNABLE at Facts.readFromPeer(Facts.java:",
        "inside sun.nio.ch.SocketDispatcher.read",
        "it took the lock at Facts.lockedRead(Facts.java:",
        "in the system call read(",
        &format!("-> {peer}, ESTABLISHED"),
        "a blocking read without a timeout",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}: {text}");
    }
    let text = finding_owned_by(&report, "timed-reader")["text"]
        .as_str()
        .unwrap();
    for needle in [
        "which is RUNNABLE at Facts.readFromPeer(Facts.java:".to_string(),
        format!("in the system call poll([{{fd={fd}, POLLIN}}], 1, {timeout})"),
        format!("with a timeout of {timeout} ms"),
        format!("on fd {fd} = socket:["),
        format!("-> {peer}, ESTABLISHED"),
    ] {
        assert!(text.contains(&needle), "lacks {needle:?}: {text}");
    }

    // The ptrace stop turned the timed poll into restart_syscall, as /proc shows it.
    let restarted = wait_until(Duration::from_secs(10), || {
        (syscall_of(jvm.pid, timed) == Some("restart_syscall")).then_some(())
    });
    assert!(
        restarted.is_some(),
        "the kernel still shows {:?}",
        syscall_of(jvm.pid, timed)
    );
    // Second run: the original call is recovered, with its fd and timeout.
    let (code, again, seen_again) = json(&[&jvm.pid.to_string(), "--no-gdb"]);
    assert_eq!(code, Some(1));
    let timed_thread = report_thread(&again, "timed-reader");
    assert_eq!(timed_thread["task"]["syscall"]["name"], "restart_syscall");
    let wait = &timed_thread["wait"];
    assert_eq!(wait["call"], "poll", "{timed_thread}");
    assert_eq!(wait["restarted"], true);
    assert!(
        wait["derived_from"]
            .as_str()
            .unwrap()
            .contains("poll_schedule_timeout"),
        "{wait}"
    );
    assert_eq!(wait["fds"][0]["fd"], fd);
    // The registers keep the original arguments.
    assert_eq!(wait["timeout_ms"], timeout);
    assert_eq!(timed_thread["fd"]["socket"]["peer"], peer.as_str());
    let text = finding_owned_by(&again, "timed-reader")["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(&format!("poll([{{fd={fd}, POLLIN}}], 1, {timeout})")),
        "{text}"
    );
    assert!(text.contains("/proc shows restart_syscall"), "{text}");
    let seen: BTreeSet<String> = seen.union(&seen_again).cloned().collect();
    assert_seen(&seen, ".threads[].wait", &[]);
    assert_seen(&seen, ".threads[].fd.socket", &[]);

    // The text report shows the decoded call in the thread's header, not restart_syscall.
    let out = jnstack()
        .args([&jvm.pid.to_string(), "--no-gdb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let header = stdout
        .lines()
        .find(|l| l.starts_with("\"timed-reader\""))
        .unwrap_or_else(|| panic!("no timed-reader header:\n{stdout}"));
    assert!(
        header.contains(&format!("poll([{{fd={fd}, POLLIN}}]")),
        "{header}"
    );
    assert!(!header.contains("restart_syscall"), "{header}");
    assert!(
        stdout.contains(&format!("-> {peer}, ESTABLISHED")),
        "{stdout}"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn socket_reads_with_and_without_timeout_jdk17() {
    check_sockets(fixture_default());
}

#[test]
fn socket_reads_with_and_without_timeout_jdk25() {
    check_sockets(fixture_25());
}

fn check_child(fixture: &Fixture) {
    let jvm = Jvm::start_class(fixture, &[], "Facts", &["child"], "tool-runner");
    let runner = lwp_of(jvm.pid, "tool-runner");
    let child: u32 = wait_until(Duration::from_secs(60), || {
        let list =
            std::fs::read_to_string(format!("/proc/{}/task/{runner}/children", jvm.pid)).ok()?;
        let pid: u32 = list.split_whitespace().next()?.parse().ok()?;
        (syscall_of(pid, pid) == Some("write")).then_some(pid)
    })
    .expect("the child never blocked in write()");
    // The child may block before its starter has returned from `start()` into `waitFor()`
    // (seen on a loaded machine): children are followed only for a thread in `waitFor()`, so
    // wait for the report to show that thread there.
    let in_wait_for = |report: &Value| {
        report["threads"].as_array().is_some_and(|ts| {
            ts.iter()
                .any(|t| t["name"] == "tool-runner" && t.to_string().contains("waitFor"))
        })
    };
    let (code, report, seen) = wait_until(Duration::from_secs(60), || {
        let got = json(&[&jvm.pid.to_string(), "--no-gdb"]);
        in_wait_for(&got.1).then_some(got)
    })
    .expect("tool-runner never showed in Process.waitFor()");
    assert_eq!(code, Some(1), "a child blocked on a full pipe is a problem");
    let children = report["children"].as_array().unwrap();
    assert_eq!(children.len(), 1, "{children:?}");
    let c = &children[0];
    assert_eq!(c["pid"], child);
    assert_eq!(c["comm"], "head");
    assert_eq!(c["started_by"], runner);
    assert_eq!(c["syscall"]["name"], "write");
    assert_eq!(c["fd"]["fd"], 1);
    assert_eq!(
        c["fd"]["pipe"]["queued"], c["fd"]["pipe"]["capacity"],
        "{c}"
    );
    let readers = c["fd"]["readers"].as_array().unwrap();
    assert_eq!(readers.len(), 1, "{c}");
    assert_eq!(readers[0]["pid"], jvm.pid);
    let jvm_fd = readers[0]["fd"].as_i64().unwrap();
    // That descriptor of the JVM really is the child's stdout pipe.
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/fd/{jvm_fd}", jvm.pid)).unwrap(),
        std::fs::read_link(format!("/proc/{child}/fd/1")).unwrap()
    );
    assert!(c["reading"].as_array().unwrap().is_empty(), "{c}");
    assert_seen(
        &seen,
        ".children",
        &[".children[].fd.socket", ".children[].reading[]"],
    );

    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "child_process")
        .collect();
    assert_eq!(found.len(), 1, "{:#}", report["findings"]);
    assert_eq!(found[0]["problem"], true);
    assert_eq!(found[0]["threads"][0]["name"], "tool-runner");
    let text = found[0]["text"].as_str().unwrap();
    for needle in [
        format!("\"tool-runner\" (LWP {runner}"),
        "waits in Process.waitFor() (at Facts.runTool(Facts.java:".to_string(),
        format!("for child process {child} \"head\" (it started it"),
        "in the system call write(1, ".to_string(),
        "which is full".to_string(),
        format!(
            "read end held by pid {} \"java\" fd {jvm_fd}: this JVM itself",
            jvm.pid
        ),
        "no thread of this JVM is reading it".to_string(),
    ] {
        assert!(text.contains(&needle), "lacks {needle:?}: {text}");
    }
    // The lock it holds meanwhile: its owner is told by the application frame and child.
    let text = finding_owned_by(&report, "tool-runner")["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("which is WAITING at Facts.runTool(Facts.java:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "waiting in Process.waitFor() for child process {child} \"head\""
        )),
        "{text}"
    );
    // jnstack read the pipe's fill without draining it: the child is still blocked.
    assert_eq!(syscall_of(child, child), Some("write"));
    jvm.assert_running_and_answering();
}

#[test]
fn child_blocked_on_a_full_pipe_jdk17() {
    check_child(fixture_default());
}

#[test]
fn child_blocked_on_a_full_pipe_jdk25() {
    check_child(fixture_25());
}

#[test]
fn socket_reads_with_and_without_timeout_jdk21() {
    check_sockets(facts_21());
}

#[test]
fn child_blocked_on_a_full_pipe_jdk21() {
    check_child(facts_21());
}

#[test]
fn saved_dump_of_a_waitfor_names_the_child_and_the_application_frame() {
    let dump = fixtures().join("dumps/jdk17-child.txt");
    let (code, report, _) = json(&["--from-file", dump.to_str().unwrap()]);
    // "tool-waiter" is BLOCKED behind the lock "tool-runner" holds while it waits.
    assert_eq!(code, Some(1));
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "child_process")
        .collect();
    assert_eq!(found.len(), 1, "{:#}", report["findings"]);
    assert_eq!(
        found[0]["problem"], false,
        "a dump cannot tell what the child does"
    );
    let text = found[0]["text"].as_str().unwrap();
    assert!(text.contains("for child process 7300"), "{text}");
    assert!(text.contains("run jnstack on the live JVM"), "{text}");
    let text = finding_owned_by(&report, "tool-runner")["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(
            "which is WAITING at Facts.runTool(Facts.java:99), inside java.lang.Object.wait"
        ),
        "{text}"
    );
    assert!(report["children"].as_array().unwrap().is_empty());
}
