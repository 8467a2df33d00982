//! Waits with no owner (issue 9, section 3): a Semaphore and a read-write lock whose
//! holders sit in a socket read, and an idle pool, on `fixtures/jni/Waits.java` live (JDK
//! 17) and on its saved dumps.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{findings_of, fixture_default, fixtures, json_report, thread_names, Jvm};

/// The names of the report's threads whose name starts with `prefix`.
fn named(report: &Value, prefix: &str) -> BTreeSet<String> {
    thread_names(&report["threads"])
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// The idle pool is told apart, and is no problem.
fn check_idle_pool(report: &Value) {
    let idle = findings_of(report, "idle_pool");
    assert_eq!(idle.len(), 1, "{:#}", report["findings"]);
    assert_eq!(idle[0]["problem"], false);
    let workers: BTreeSet<String> = thread_names(&idle[0]["threads"])
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(workers, named(report, "pool-1-thread-"));
    assert_eq!(workers.len(), 4);
}

/// The semaphore's waiters, its likely holders (in read(), each named once) and exit 1.
fn check_semaphore(code: Option<i32>, report: &Value, live: bool) {
    assert_eq!(code, Some(1), "starvation is a problem");
    let starved = findings_of(report, "starvation");
    assert_eq!(starved.len(), 1, "{:#}", report["findings"]);
    let f = starved[0];
    assert!(f["lock"]["class"]
        .as_str()
        .unwrap()
        .starts_with("java.util.concurrent.Semaphore"));
    let waiters: BTreeSet<String> = thread_names(&f["threads"])
        .into_iter()
        .map(str::to_string)
        .collect();
    let requests = named(report, "request-");
    // All requests but the two permit holders wait.
    assert_eq!(waiters.len(), requests.len() - 2);
    let holders: Vec<&String> = requests.difference(&waiters).collect();
    let text = f["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{} threads with the same stack", waiters.len())),
        "{text}"
    );
    for h in &holders {
        assert!(text.contains(&format!("\"{h}\"")), "{h} not named: {text}");
    }
    assert!(text.contains("Likely holding its permits"), "{text}");
    assert!(text.contains("Waits.handle"), "{text}");
    if live {
        // Their socket read is named, with its fd.
        assert_eq!(
            text.matches("in the system call read(").count(),
            2,
            "{text}"
        );
        assert!(text.contains("socket:["), "{text}");
    }
    assert!(!text.contains("No blocked threads"));
    check_idle_pool(report);
}

fn check_rwlock(code: Option<i32>, report: &Value) {
    assert_eq!(code, Some(1));
    let starved = findings_of(report, "starvation");
    assert_eq!(starved.len(), 1, "{:#}", report["findings"]);
    let f = starved[0];
    let waiters: BTreeSet<&str> = thread_names(&f["threads"]).into_iter().collect();
    let mut expected: BTreeSet<String> = named(report, "late-reader-");
    expected.insert("config-writer".into());
    assert_eq!(
        waiters,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    assert_eq!(f["owner"]["name"], "report-reader", "{f}");
    let text = f["text"].as_str().unwrap();
    assert!(text.contains("Likely holding the read lock"), "{text}");
    assert!(text.contains("\"report-reader\""), "{text}");
    check_idle_pool(report);
}

#[test]
fn semaphore_starvation_live() {
    let jvm = Jvm::start_class(fixture_default(), &[], "Waits", &["semaphore"], "request-0");
    let (code, report) = json_report(&[&jvm.pid.to_string(), "--no-gdb"]);
    check_semaphore(code, &report, true);
    jvm.assert_running_and_answering();
}

#[test]
fn read_write_lock_starvation_live() {
    let jvm = Jvm::start_class(
        fixture_default(),
        &[],
        "Waits",
        &["rwlock"],
        "report-reader",
    );
    let (code, report) = json_report(&[&jvm.pid.to_string(), "--no-gdb"]);
    check_rwlock(code, &report);
    let text = findings_of(&report, "starvation")[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("in the system call read("), "{text}");
    jvm.assert_running_and_answering();
}

#[test]
fn saved_starvation_dumps() {
    let dumps = fixtures().join("dumps");
    let file = |n: &str| dumps.join(n).display().to_string();
    let (code, report) = json_report(&["--from-file", &file("jdk17-semaphore.txt")]);
    check_semaphore(code, &report, false);
    let (code, report) = json_report(&["--from-file", &file("jdk17-rwlock.txt")]);
    check_rwlock(code, &report);
}

#[test]
fn latch_and_future_starvation_live() {
    let jvm = Jvm::start_class(
        fixture_default(),
        &[],
        "Waits",
        &["latch"],
        "latch-waiter-0",
    );
    let (code, report) = json_report(&[&jvm.pid.to_string(), "--no-gdb"]);
    assert_eq!(code, Some(1));
    let starved = findings_of(&report, "starvation");
    assert_eq!(starved.len(), 2, "{:#}", report["findings"]);
    for (prefix, class, advice) in [
        (
            "latch-waiter-",
            "java.util.concurrent.CountDownLatch",
            "countDown()",
        ),
        (
            "future-waiter-",
            "java.util.concurrent.FutureTask",
            "task's result",
        ),
    ] {
        let f = starved
            .iter()
            .find(|f| {
                f["lock"]["class"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(class))
            })
            .unwrap_or_else(|| panic!("no starvation on a {class}: {starved:#?}"));
        let waiters: BTreeSet<String> = thread_names(&f["threads"])
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(waiters, named(&report, prefix));
        assert_eq!(waiters.len(), 3);
        assert!(f["text"].as_str().unwrap().contains(advice), "{f}");
    }
    check_idle_pool(&report);
    jvm.assert_running_and_answering();
}
