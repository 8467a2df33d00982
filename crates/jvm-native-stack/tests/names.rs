//! Parser robustness (issue 9, section 5) on `fixtures/jni/Names.java`: a thread name with a
//! newline, one holding a fabricated header, three threads named "worker" (two of them
//! deadlocked), and thread churn; live on JDK 17 and on its saved dump.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    findings_of, fixture_default, fixtures, jnstack, json_report, report_thread, thread_names,
    wait_until, Jvm,
};

const REQUEST_LINE: &str = "GET /api/orders HTTP/1.1\nHost: shop.example";
const FABRICATED: &str = "x\n\"fabricated\" #99 prio=5 os_prio=0 tid=0x1 nid=0x1 runnable\ny";

/// What must hold for the Names program, live (`pid`) or from its saved dump.
fn check_names(code: Option<i32>, report: &Value, pid: Option<u32>) {
    assert_eq!(code, Some(1));
    let threads = report["threads"].as_array().unwrap();
    // The odd names are whole, and no thread was made up from a name.
    let names = thread_names(&report["threads"]);
    assert!(names.contains(&REQUEST_LINE), "{names:?}");
    assert!(names.contains(&FABRICATED), "{names:?}");
    assert!(!names.contains(&"fabricated"), "{names:?}");
    assert!(!threads.iter().any(|t| t["java"]["number"] == 99));
    // The monitor's owner is the request-line thread, not the one printed before it.
    let chain = findings_of(report, "monitor_chain");
    assert_eq!(chain.len(), 1, "{:#}", report["findings"]);
    assert_eq!(chain[0]["owner"]["name"], REQUEST_LINE);
    assert_eq!(thread_names(&chain[0]["threads"]), ["waiter"]);
    // "innocent" got none of the request-line thread's frames: its stack is that of the
    // idle "worker", which runs the same code, and it holds no lock.
    let innocent = report_thread(report, "innocent");
    let idle_worker = threads
        .iter()
        .find(|t| t["name"] == "worker" && t["java"]["state"] == "TIMED_WAITING")
        .unwrap();
    let texts = |t: &Value| -> Vec<String> {
        t["java"]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap().to_string())
            // Each `start(name, Names::sleepForever)` call site has its own lambda class.
            .filter(|f| !f.contains("$$Lambda"))
            .collect()
    };
    assert_eq!(texts(innocent), texts(idle_worker));
    assert!(!innocent.to_string().contains("\"locked\""), "{innocent}");
    let owner = report_thread(report, REQUEST_LINE);
    assert_eq!(chain[0]["owner"]["lwp"], owner["lwp"]);
    // The deadlock names the two BLOCKED "worker"s by their own LWPs, not the idle one's.
    let workers: Vec<&Value> = threads.iter().filter(|t| t["name"] == "worker").collect();
    assert_eq!(workers.len(), 3);
    let blocked: BTreeSet<u64> = workers
        .iter()
        .filter(|t| t["java"]["state"] == "BLOCKED")
        .map(|t| t["lwp"].as_u64().unwrap())
        .collect();
    assert_eq!(blocked.len(), 2);
    let deadlock = findings_of(report, "deadlock");
    assert_eq!(deadlock.len(), 1);
    let lwps: BTreeSet<u64> = deadlock[0]["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["lwp"].as_u64().unwrap())
        .collect();
    assert_eq!(lwps, blocked);
    let text = deadlock[0]["text"].as_str().unwrap();
    for lwp in &blocked {
        assert!(text.contains(&format!("LWP {lwp}")), "{text}");
    }
    if let Some(pid) = pid {
        // Every Java thread's LWP is a distinct real task of the JVM.
        let java: Vec<u64> = threads
            .iter()
            .filter(|t| !t["java"].is_null())
            .map(|t| t["lwp"].as_u64().unwrap())
            .collect();
        assert_eq!(java.len(), java.iter().collect::<BTreeSet<_>>().len());
        for lwp in java {
            assert!(Path::new(&format!("/proc/{pid}/task/{lwp}")).exists());
        }
    }
}

#[test]
fn odd_and_duplicate_names_live() {
    let jvm = Jvm::start_class(fixture_default(), &[], "Names", &[], "innocent");
    let (code, report) = json_report(&[&jvm.pid.to_string(), "--no-gdb"]);
    check_names(code, &report, Some(jvm.pid));
    jvm.assert_running_and_answering();
}

#[test]
fn odd_and_duplicate_names_from_file() {
    let path = fixtures().join("dumps/jdk17-names.txt");
    let (code, report) = json_report(&["--from-file", path.to_str().unwrap()]);
    check_names(code, &report, None);
}

/// Threads started while jstack ran are not in the dump: "started after the dump", never
/// "not known to the JVM".
#[test]
fn threads_started_after_the_dump_are_not_native_only() {
    let jvm = Jvm::start_class(fixture_default(), &[], "Names", &["churn"], "innocent");
    let pid = jvm.pid.to_string();
    // A churn thread the JVM created but had not listed yet when the dump was taken is, in
    // that instant, truly unknown to it: so a few tries, one of which must be clean.
    let mut seen = 0;
    for _ in 0..5 {
        let (_, report) = json_report(&[&pid, "--no-gdb"]);
        let after: Vec<&Value> = report["threads"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["started_after_dump"] == true)
            .collect();
        for t in &after {
            assert!(t["java"].is_null(), "{t}");
        }
        let native_churn = findings_of(&report, "native_only")
            .iter()
            .flat_map(|f| thread_names(&f["threads"]))
            .filter(|n| n.starts_with("churn-"))
            .count();
        if !after.is_empty() && native_churn == 0 {
            seen = after.len();
            break;
        }
    }
    assert!(
        seen > 0,
        "no run had threads started after the dump without calling churn threads native-only"
    );
    let out = jnstack().args([&pid, "--no-gdb"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" started after the dump"), "{text}");
    jvm.assert_running_and_answering();
}

/// `--from-file` on an application's stdout with a `kill -3` dump in it and exception
/// traces logged before and after it: the traces after the dump's end are not frames.
#[test]
fn exception_traces_logged_after_a_sigquit_dump_are_not_frames() {
    let jvm = Jvm::start_class(fixture_default(), &[], "Names", &["log"], "innocent");
    let trace = "java.lang.IllegalStateException: request failed";
    // The logging thread writes while the JVM prints its dump, so a trace can land inside
    // the dump itself (another case); take a dump the trace did not interleave with, followed
    // by a logged trace (an earlier dump, if any, is cut off).
    let mut log = None;
    for attempt in 1..=10 {
        let dumps_before = jvm.stdout().matches("JNI global refs:").count();
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
        unsafe {
            libc::kill(jvm.pid as libc::pid_t, libc::SIGQUIT);
        }
        let out = wait_until(Duration::from_secs(60), || {
            let out = jvm.stdout();
            let end = out.rfind("JNI global refs:")?;
            (out.matches("JNI global refs:").count() > dumps_before && out[end..].contains(trace))
                .then_some(out)
        })
        .expect("a dump on stdout followed by a logged trace");
        let start = out.rfind("Full thread dump").unwrap();
        let end = out.rfind("JNI global refs:").unwrap();
        if !out[start..end].contains(trace) {
            // Keep what was logged before this dump (after an earlier one, if any).
            let from = out[..start]
                .rfind("JNI global refs:")
                .and_then(|i| out[i..].find('\n').map(|j| i + j + 1))
                .unwrap_or(0);
            log = Some(out[from..].to_string());
            break;
        }
        eprintln!("attempt {attempt}: a trace interleaved with the dump; taking another");
    }
    let log = log.expect("a dump without an interleaved trace in 10 attempts");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, &log).unwrap();
    let (_, report) = json_report(&["--from-file", path.to_str().unwrap()]);
    for t in report["threads"].as_array().unwrap() {
        let frames = t["java"]["frames"].to_string();
        assert!(
            !frames.contains("Names.failure"),
            "a logged trace became frames of {}: {frames}",
            t["name"]
        );
    }
    // Every thread header of the dump is one thread, no more (the header line inside the
    // fabricated name is not one).
    let dump = &log[log.find("Full thread dump").unwrap()..log.find("JNI global refs:").unwrap()];
    let fake = FABRICATED.lines().nth(1).unwrap();
    let headers = dump
        .lines()
        .filter(|l| l.contains(" tid=0x") && l.contains(" nid=") && *l != fake)
        .count();
    assert_eq!(report["threads"].as_array().unwrap().len(), headers);
    jvm.assert_running_and_answering();
}
