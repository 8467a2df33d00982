//! Issue 10 §4, output that scales: identical stacks grouped and long name lists capped at
//! 5,000 threads (and `--full` complete), the libc futex frames folded while the JVM frames
//! that matter stay, the JavaThread state, and `--repeat` verdicts — all on real JVMs.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    fixture_25, fixture_default, jnstack, output_within, report_thread, require, Fixture, Jvm,
};

/// Runs jnstack and returns (exit code, stdout).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jnstack {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), stdout)
}

fn longest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn five_thousand_threads_read_in_a_page_and_full_shows_all() {
    // 2,500 threads sleeping and 2,500 BLOCKED on one monitor "holder" keeps. --no-gdb keeps
    // it fast (the text of the Java and /proc halves is what grows; gdb's frames fold).
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-Xss256k"],
        "Many",
        &["5000", "blocked"],
        "holder",
    );
    let pid = jvm.pid.to_string();
    let (code, text) = run(&[&pid, "--no-gdb"]);
    assert_eq!(code, Some(1), "the BLOCKED threads are a problem:\n{text}");
    let lines = text.lines().count();
    assert!(lines < 250, "{lines} lines at 5,000 threads:\n{text}");
    assert!(
        longest_line(&text) < 600,
        "a line of {} characters:\n{text}",
        longest_line(&text)
    );
    // The diagnosis comes first and is short; it names the lock's waiters capped, with a count.
    let diagnosis = &text[text.find("DIAGNOSIS").unwrap()..text.find("THREADS").unwrap()];
    assert!(diagnosis.lines().count() < 10, "{diagnosis}");
    let chain = diagnosis
        .lines()
        .find(|l| l.contains("2500 threads are BLOCKED waiting to lock"))
        .unwrap_or_else(|| panic!("no finding for the 2,500 waiters:\n{diagnosis}"));
    assert!(chain.contains("… and 2492 more"), "{chain}");
    assert!(chain.contains("held by \"holder\""), "{chain}");
    // One group per stack, with the right counts; LWPs are not called tid=.
    let groups: Vec<(usize, &str)> = text
        .lines()
        .filter_map(|l| {
            let (count, rest) = l.split_once(" threads, same stack: ")?;
            Some((count.parse().ok()?, rest))
        })
        .collect();
    let idle: Vec<&(usize, &str)> = groups
        .iter()
        .filter(|(_, r)| r.starts_with("\"idle-0\""))
        .collect();
    assert_eq!(idle.len(), 1, "{groups:?}");
    assert_eq!(idle[0].0, 2500);
    assert!(idle[0].1.contains("… and 2495 more"), "{}", idle[0].1);
    assert!(idle[0].1.contains("TIMED_WAITING"), "{}", idle[0].1);
    // The waiters: one stack, but a JIT-compiled lockIt reports the line of its
    // monitorenter, an interpreted one the next: at most two groups, 2,500 in all.
    let waiters: Vec<&(usize, &str)> = groups
        .iter()
        .filter(|(_, r)| r.starts_with("\"waiter-"))
        .collect();
    assert!(
        (1..=2).contains(&waiters.len()),
        "waiter groups: {waiters:?}"
    );
    // A variant of fewer than three threads is printed thread by thread.
    let alone = text.lines().filter(|l| l.starts_with("\"waiter-")).count();
    assert_eq!(
        waiters.iter().map(|(n, _)| n).sum::<usize>() + alone,
        2500,
        "{waiters:?}"
    );
    for (count, rest) in &waiters {
        assert!(rest.contains("BLOCKED"), "{rest}");
        if *count > 5 {
            assert!(
                rest.contains(&format!("… and {} more", count - 5)),
                "{count}: {rest}"
            );
        }
    }
    // The per-thread lock line differs by nothing here (one monitor): printed as is.
    assert!(text.contains("    - waiting to lock <0x"), "{text}");
    assert!(!text.contains(" tid="), "an LWP called tid=:\n{text}");

    // The JVM runs on (--no-gdb never stops it) and answers jstack; that dump, saved, feeds
    // the --full and --json checks (a jstack of 5,000 threads costs seconds: one is enough).
    let stopped: Vec<(u32, char)> = jvm
        .task_states()
        .into_iter()
        .filter(|(_, s)| matches!(s, 'T' | 't'))
        .collect();
    assert!(stopped.is_empty(), "stopped threads: {stopped:?}");
    let out = output_within(
        Command::new(jvm.jdk.join("bin/jstack")).arg(&pid),
        Duration::from_secs(120),
    );
    let dump = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dump.contains("\"holder\""),
        "jstack no longer answers: {dump}"
    );
    let saved = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(saved.path(), &dump).unwrap();
    let saved = saved.path().to_str().unwrap();
    // The saved dump groups the same way.
    let (_, again) = run(&["--from-file", saved]);
    assert!(again.lines().count() < 250, "{again}");
    assert!(
        again.contains("2500 threads, same stack: \"idle-0\""),
        "{again}"
    );

    // --full: every thread on its own and every name in the finding.
    let (_, full) = run(&["--from-file", saved, "--full"]);
    let headers: BTreeSet<&str> = full
        .lines()
        .filter(|l| l.starts_with("\"idle-") || l.starts_with("\"waiter-"))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    assert_eq!(headers.len(), 5000, "--full lacks threads");
    assert!(!full.contains("same stack"));
    let full_chain = full
        .lines()
        .find(|l| l.contains("2500 threads are BLOCKED waiting to lock"))
        .unwrap();
    assert!(
        !full_chain.contains("more") && full_chain.contains("\"waiter-4999\""),
        "--full caps the finding"
    );

    // JSON is complete either way: the finding lists all 2,500 waiters.
    let (_, json) = run(&["--from-file", saved, "--json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(report["threads"].as_array().unwrap().len() > 5000);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "monitor_chain")
        .unwrap();
    assert_eq!(finding["threads"].as_array().unwrap().len(), 2500);
}

/// The thread block of `name` in a text report (header to the blank line).
fn block<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("\n\"{name}\""))
        .unwrap_or_else(|| panic!("no thread {name:?}:\n{text}"));
    let rest = &text[start + 1..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

#[test]
fn futex_frames_fold_but_the_vm_threads_own_frames_stay() {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture_default(), false);
    let pid = jvm.pid.to_string();
    let (_, text) = run(&[&pid, "--name", "^VM Thread$|^pipe-writer$"]);
    let vm = block(&text, "VM Thread");
    assert!(vm.contains("VMThread::wait_for_operation"), "{vm}");
    assert!(
        vm.contains("native: … waiting in ") && vm.contains("pthread_cond_"),
        "{vm}"
    );
    assert!(!vm.contains("__futex_abstimed_wait"), "{vm}");
    // The JNI owner keeps its own frames.
    let writer = block(&text, "pipe-writer");
    assert!(writer.contains("Java_Hang_writeToFullPipe"), "{writer}");
    // --full shows the libc frames again.
    let (_, full) = run(&[&pid, "--name", "^VM Thread$", "--full"]);
    assert!(
        block(&full, "VM Thread").contains("futex"),
        "{}",
        block(&full, "VM Thread")
    );
    jvm.assert_running_and_answering();
}

fn vm_states_are_read_from_the_jvm(fixture: &Fixture) {
    let jvm = Jvm::start(fixture, false);
    let (_, json) = run(&[&jvm.pid.to_string(), "--no-gdb", "--json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    // In JNI write(): in native; BLOCKED on the monitor: blocked.
    assert_eq!(
        report_thread(&report, "pipe-writer")["vm_state"],
        "_thread_in_native"
    );
    for name in ["blocked-1", "blocked-2", "blocked-3"] {
        assert_eq!(report_thread(&report, name)["vm_state"], "_thread_blocked");
    }
    // Threads the JVM does not know have none.
    assert!(report_thread(&report, "native-sleeper")["vm_state"].is_null());
    // --lwp (the new name of --tid) selects it.
    let lwp = report_thread(&report, "pipe-writer")["lwp"].to_string();
    let (_, text) = run(&[&jvm.pid.to_string(), "--no-gdb", "--lwp", &lwp]);
    assert!(text.contains("1 shown"), "{text}");
    assert!(
        text.contains("RUNNABLE vm=_thread_in_native"),
        "{}",
        block(&text, "pipe-writer")
    );
    jvm.assert_running_and_answering();
}

#[test]
fn vm_states_on_default_jdk() {
    vm_states_are_read_from_the_jvm(fixture_default());
}

#[test]
fn vm_states_on_jdk25() {
    vm_states_are_read_from_the_jvm(fixture_25());
}

#[test]
fn repeat_tells_stuck_from_moving_and_leaves_the_jvm_running() {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture_default(), true);
    let pid = jvm.pid.to_string();
    let (_, json) = run(&[&pid, "--json", "--repeat", "3", "--interval", "300ms"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let samples = report["samples"]["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    // Each sample after the first read /proc after the previous one's gdb detached: the
    // JVM was running again (no thread stopped or traced).
    for s in &samples[1..] {
        for t in s["threads"].as_array().unwrap() {
            assert!(
                !matches!(t["state"].as_str(), Some("T" | "t")),
                "stopped in a later sample: {t}"
            );
        }
    }
    // Native frames were taken in every sample.
    let writer_lwp = report_thread(&report, "pipe-writer")["lwp"].clone();
    for s in samples {
        let t = s["threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["lwp"] == writer_lwp)
            .unwrap();
        assert!(
            t["native_frames"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == "Java_Hang_writeToFullPipe")),
            "{t}"
        );
    }
    let verdict = |name: &str| {
        report["samples"]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no verdict for {name}"))
            .clone()
    };
    // Blocked in write() on a full pipe: same frames, no CPU. The spinner burns CPU.
    assert_eq!(verdict("pipe-writer")["verdict"], "stuck");
    assert_eq!(verdict("pipe-writer")["cpu_used_ms"], 0);
    assert_eq!(verdict("blocked-1")["verdict"], "stuck");
    let spinner = verdict("spinner");
    assert_eq!(spinner["verdict"], "moving", "{spinner}");
    assert!(spinner["cpu_used_ms"].as_u64().unwrap() > 0, "{spinner}");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "samples")
        .unwrap();
    assert!(
        finding["text"]
            .as_str()
            .unwrap()
            .starts_with("Over 3 samples 300 ms apart:"),
        "{finding}"
    );
    // The text report tags each thread.
    let (_, text) = run(&[
        &pid,
        "--no-gdb",
        "--repeat",
        "2",
        "--interval",
        "200ms",
        "--name",
        "pipe-writer|spinner",
    ]);
    assert!(
        block(&text, "pipe-writer").contains("[stuck: same frames, no CPU in 2 samples]"),
        "{text}"
    );
    assert!(
        block(&text, "spinner").contains("[moving: used CPU]")
            || block(&text, "spinner").contains("[moving: frames changed, used CPU]"),
        "{text}"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn repeat_needs_a_live_pid_and_two_samples() {
    let dump = crate::harness::fixtures().join("dumps/jdk17.txt");
    let out = jnstack()
        .args(["--from-file", dump.to_str().unwrap(), "--repeat", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--repeat needs a live pid"), "{stderr}");
    let out = jnstack().args(["1", "--repeat", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 2"), "{stderr}");
    let out = jnstack().args(["1", "--interval", "1s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--interval without --repeat");
}
