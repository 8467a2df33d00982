//! The binary on saved dumps and on error paths: exit codes and messages that name the fix.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

use crate::harness::{fixtures, jnstack, report_thread, thread_names, wait_until, KillOnDrop};

fn dump(name: &str) -> String {
    fixtures().join("dumps").join(name).display().to_string()
}

#[test]
fn post_excerpt_names_owner_and_lock() {
    jnstack()
        .args(["--from-file", &dump("jdk8-post.txt")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "1 thread is BLOCKED waiting to lock <0x000000076ce5b140> (a java.lang.Object): \"Thread-0\". It is held by \"Thread-6\" (LWP 5649, nid 0x1611)",
        ))
        .stdout(predicate::str::contains("native method JniHelloWorld.HelloWorld"))
        .stdout(predicate::str::contains("\"Thread-6\" #16 nid=0x1611 lwp=5649 RUNNABLE"));
}

#[test]
fn saved_jdk17_dump_reports_deadlock_and_chains() {
    let out = jnstack()
        .args(["--from-file", &dump("jdk17.txt"), "--json"])
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    // The documented top-level schema, exactly.
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "schema_version",
        "pid",
        "jvm",
        "findings",
        "threads",
        "deadlocks",
        "dump_ms",
        "gdb_timing",
        "unwinder",
        "warnings",
        "missing_dump",
        "interrupted",
        "samples",
        "children",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    let thread_keys: Vec<&str> = report["threads"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut thread_keys = thread_keys;
    thread_keys.sort_unstable();
    assert_eq!(
        thread_keys,
        [
            "fd",
            "java",
            "lwp",
            "name",
            "native_frames",
            "nid",
            "started_after_dump",
            "task",
            "vm_state",
            "wait"
        ]
    );
    assert_eq!(report["schema_version"], 1);
    assert!(report["pid"].is_null());
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "deadlock").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(report["deadlocks"][0]["edges"].as_array().unwrap().len(), 2);
}

/// JDK 11 and 21 dumps as the JVM prints them on SIGQUIT, end to end: text and JSON.
#[test]
fn saved_sigquit_dumps_of_jdk11_and_jdk21_are_diagnosed() {
    // (fixture, the pipe-writer's LWP, its nid, the lock it holds)
    let cases = [
        ("jdk11-sigquit.txt", 30651, "0x77bb", "0x00000000fffbd410"),
        ("jdk21-sigquit.txt", 30690, "0x77e2", "0x00000000fffc81f8"),
    ];
    for (name, lwp, nid, lock) in cases {
        jnstack()
            .args(["--from-file", &dump(name)])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(
                "Java-level deadlock between \"deadlock-a\" and \"deadlock-b\"",
            ))
            .stdout(predicate::str::contains(format!(
                "3 threads are BLOCKED waiting to lock <{lock}> (a java.lang.Object): \
                 \"blocked-1\", \"blocked-2\", \"blocked-3\". \
                 It is held by \"pipe-writer\" (LWP {lwp}, nid {nid})"
            )))
            .stdout(predicate::str::contains("Heap").not());
        let out = jnstack()
            .args(["--from-file", &dump(name), "--json"])
            .assert()
            .code(1);
        let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        assert_eq!(findings[0]["kind"], "deadlock", "{name}");
        assert_eq!(
            thread_names(&findings[0]["threads"]),
            ["deadlock-a", "deadlock-b"],
            "{name}"
        );
        let chain = findings
            .iter()
            .find(|f| f["kind"] == "monitor_chain" && f["owner"]["name"] == "pipe-writer")
            .unwrap_or_else(|| panic!("{name}: no chain for pipe-writer"));
        assert_eq!(chain["owner"]["lwp"], lwp, "{name}");
        assert_eq!(chain["lock"]["address"], lock, "{name}");
        assert_eq!(
            thread_names(&chain["threads"]),
            ["blocked-1", "blocked-2", "blocked-3"],
            "{name}"
        );
        // idle-wait is inside Object.wait(): not an owner, not a waiter.
        assert!(
            !findings.iter().any(|f| f["owner"]["name"] == "idle-wait"
                || thread_names(&f["threads"]).contains(&"idle-wait")),
            "{name}"
        );
        let writer = report_thread(&report, "pipe-writer");
        assert_eq!((&writer["lwp"], &writer["nid"]), (&lwp.into(), &nid.into()));
    }
}

#[test]
fn a_log_with_several_dumps_shows_the_last_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stdout.log");
    let text = std::fs::read_to_string(dump("jdk11-sigquit.txt")).unwrap()
        + &std::fs::read_to_string(dump("jdk21-sigquit.txt")).unwrap();
    std::fs::write(&log, text).unwrap();
    let warning = "stdout.log holds 2 thread dumps; showing the last one";
    jnstack()
        .arg("--from-file")
        .arg(&log)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "jnstack: saved dump, OpenJDK 64-Bit Server VM (21.0.8+9-LTS mixed mode): 28 threads, 28 shown\n",
        ))
        .stdout(predicate::str::contains(warning))
        .stdout(predicate::str::contains("3 threads are BLOCKED"))
        .stderr(predicate::str::contains(warning));
    let out = jnstack()
        .arg("--from-file")
        .arg(&log)
        .arg("--json")
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(report["warnings"][0].as_str().unwrap().ends_with(warning));
    assert_eq!(report["threads"].as_array().unwrap().len(), 28);
}

#[test]
fn nid_filter_accepts_hex_and_decimal() {
    for nid in ["0x1611", "5649"] {
        let out = jnstack()
            .args([
                "--from-file",
                &dump("jdk8-post.txt"),
                "--json",
                "--nid",
                nid,
            ])
            .assert()
            .code(1);
        let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(
            thread_names(&report["threads"]),
            ["Thread-6"],
            "--nid {nid}"
        );
    }
}

#[test]
fn a_nid_that_matches_no_thread_is_a_warning() {
    jnstack()
        .args(["--from-file", &dump("jdk8-post.txt"), "--nid", "0x2a"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 shown"))
        .stderr(predicate::str::contains(
            "warning: --lwp/--nid 42 (nid 0x2a) matches no thread of the dump",
        ));
}

#[test]
fn virtual_threads_from_json_dump() {
    let out = jnstack()
        .args([
            "--from-file",
            &dump("jdk25-virtual-threads.json"),
            "--json",
            "--name",
            "^virtual-",
        ])
        .assert()
        .code(0);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let threads = report["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 3);
    assert!(threads
        .iter()
        .all(|t| t["java"]["is_virtual"] == true && t["lwp"].is_null()));
    jnstack()
        .args([
            "--from-file",
            &dump("jdk25-virtual-threads.json"),
            "--name",
            "^virtual-0$",
        ])
        .assert()
        .stdout(predicate::str::contains("\"virtual-0\" #"))
        .stdout(predicate::str::contains(" virtual"));
}

#[test]
fn control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.txt");
    std::fs::write(
        &path,
        "\"evil\x1b[2J\" #1 prio=5 os_prio=0 tid=0x1 nid=0x10 runnable  [0x0]\n   java.lang.Thread.State: RUNNABLE\n",
    )
    .unwrap();
    jnstack()
        .arg("--from-file")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"evil\\u{1b}[2J\""))
        .stdout(predicate::str::contains("\x1b[2J").not());
}

#[test]
fn control_characters_in_error_messages_are_escaped() {
    jnstack()
        .args(["--from-file", "/nonexistent/evil\x1b[2J.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/evil\\u{1b}[2J.txt"))
        .stderr(predicate::str::contains("\x1b").not());
}

#[test]
fn not_a_dump_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello\n").unwrap();
    jnstack()
        .arg("--from-file")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("jnstack: no thread found in"));
    let bad_json = dir.path().join("dump.json");
    std::fs::write(&bad_json, "{\"threadDump\": [1, 2]}").unwrap();
    jnstack()
        .arg("--from-file")
        .arg(&bad_json)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "dump.json: invalid JSON thread dump",
        ));
    jnstack()
        .args(["--from-file", "/nonexistent/dump.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read thread dump /nonexistent/dump.txt",
        ));
}

#[test]
fn no_such_pid() {
    jnstack()
        .args(["999999999", "--no-gdb"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no process with pid 999999999")
                .and(predicate::str::contains("jps")),
        );
}

#[test]
fn not_a_jvm() {
    let mut child = Command::new("sleep")
        .arg("60")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let result = jnstack()
        .args([&child.id().to_string(), "--no-gdb"])
        .assert();
    let _ = child.kill();
    let _ = child.wait();
    result.code(2).stderr(predicate::str::contains(
        "is not a JVM (libjvm.so is not loaded)",
    ));
}

#[test]
fn zombie_is_reported_as_exited() {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    // Exited but not yet reaped by us: a zombie.
    let zombie = wait_until(Duration::from_secs(30), || {
        jvm_native_stack::proc::process_state(pid)
            .filter(|&s| s == 'Z')
            .map(|_| ())
    });
    let result = jnstack().args([&pid.to_string(), "--no-gdb"]).assert();
    let _ = child.wait();
    assert!(zombie.is_some(), "`true` never became a zombie");
    result.code(2).stderr(predicate::str::contains(format!(
        "process {pid} has already exited (it is a zombie"
    )));
}

#[test]
fn a_stopped_process_is_named_and_left_stopped() {
    let target = crate::harness::sleeper();
    let pid = target.0.id();
    let _ = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status();
    let stopped = || jvm_native_stack::proc::process_state(pid) == Some('T');
    assert!(wait_until(Duration::from_secs(30), || stopped().then_some(())).is_some());
    // jstack would wait for a stopped JVM until its timeout (twice: jstack, then jcmd).
    jnstack()
        .args([&pid.to_string(), "--no-gdb"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "process {pid} is stopped (state T"
        )))
        .stderr(predicate::str::contains(format!("kill -CONT {pid}")));
    // Someone stopped it on purpose: jnstack must not resume it.
    assert!(stopped(), "jnstack resumed a process it did not stop");
}

#[test]
fn a_jvm_held_by_another_debugger_still_gets_the_proc_view_naming_it() {
    let gdb = crate::harness::require("gdb", "apt-get install gdb");
    let jvm = crate::harness::Jvm::start(crate::harness::fixture_default(), false);
    let pid = jvm.pid;
    // A debugger sitting on the process (in tracing stop) the way a forgotten gdb does.
    let debugger = KillOnDrop(
        Command::new(gdb)
            .args([
                "-batch",
                "-nx",
                "-p",
                &pid.to_string(),
                "-ex",
                "shell sleep 60",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let held = wait_until(Duration::from_secs(60), || {
        (jvm_native_stack::proc::process_state(pid) == Some('t')).then_some(())
    });
    assert!(held.is_some(), "gdb never attached to {pid}");
    for extra in [None, Some("--no-gdb")] {
        // jstack would hang and gdb cannot attach: the /proc view comes at once.
        jnstack()
            .arg(pid.to_string())
            .args(extra)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(format!(
                "process {pid} is held in tracing stop by pid {}",
                debugger.0.id()
            )))
            .stdout(predicate::str::contains("\"gdb\""))
            .stdout(predicate::str::contains("\"pipe-writer\""));
    }
    // The other debugger's business, but no test leaves a JVM stopped.
    drop(debugger);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGCONT);
    }
    jvm.assert_running_and_answering();
}

#[test]
fn jdk_dir_without_jstack_or_jcmd_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    jnstack()
        .arg("--jdk")
        .arg(dir.path())
        .args(["999999999", "--no-gdb"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--jdk {}: no bin/jstack or bin/jcmd in it",
            dir.path().display()
        )));
}

#[test]
fn os_errors_are_printed_once() {
    let out = jnstack()
        .args(["--from-file", "/nonexistent/dump.txt"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn gdb_missing_suggests_no_gdb() {
    jnstack()
        .env("PATH", "/nonexistent")
        .args(["1", "--unwinder", "gdb"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("gdb not found").and(predicate::str::contains("--no-gdb")),
        );
}

#[test]
fn usage_errors_name_the_flag() {
    let post = dump("jdk8-post.txt");
    let cases: [(&[&str], &str); 7] = [
        (
            &["--from-file", &post, "--name", "("],
            "invalid --name regex \"(\": unclosed group (escape",
        ),
        (&["--from-file", &post, "--top", "0"], "must be at least 1"),
        (&["1", "--sample", "0"], "must be at least 100ms"),
        (&["1", "--gdb-timeout", "0s"], "pass --no-gdb"),
        (
            &["--from-file", &post, "--state", "SLEEPY"],
            "invalid --state",
        ),
        (&["1", "--gdb-timeout", "soon"], "invalid duration"),
        (&["--nid", "0xZZ", "1"], "invalid nid"),
    ];
    for (args, message) in cases {
        let out = jnstack()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        // The first line says it all (clap adds a "--help" hint after a blank line).
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.lines().next().is_some_and(|l| l.contains(message)),
            "{args:?}: {stderr}"
        );
    }
}

/// Snapshot of the whole text report for the post's excerpt (reviewed by hand; regenerate
/// with `jnstack --from-file tests/fixtures/dumps/jdk8-post.txt` after a deliberate change).
#[test]
fn text_report_snapshot_of_the_post() {
    let expected =
        std::fs::read_to_string(fixtures().join("expected").join("jdk8-post.txt")).unwrap();
    let out = jnstack()
        .args(["--from-file", &dump("jdk8-post.txt"), "--color", "never"])
        .assert()
        .code(1);
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), expected);
}

#[test]
fn color_always_paints_headers_and_never_json() {
    jnstack()
        .args(["--from-file", &dump("jdk8-post.txt"), "--color", "always"])
        .assert()
        .stdout(predicate::str::contains("\x1b[1mDIAGNOSIS\x1b[0m"));
    jnstack()
        .args([
            "--from-file",
            &dump("jdk8-post.txt"),
            "--color",
            "always",
            "--json",
        ])
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    jnstack()
        .env("NO_COLOR", "1")
        .args(["--from-file", &dump("jdk8-post.txt")])
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn closed_stdout_pipe_exits_0_quietly() {
    let mut child = KillOnDrop(
        Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
            .args(["--from-file", &dump("jdk17.txt")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    drop(child.0.stdout.take());
    let status = wait_until(Duration::from_secs(60), || child.0.try_wait().unwrap())
        .unwrap_or_else(|| panic!("jnstack did not exit within 60 s after its stdout closed"));
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn generate_completions_and_man_page() {
    jnstack()
        .args(["--generate", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--gdb-timeout"));
    jnstack()
        .args(["--generate", "man"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH jnstack 1"));
    jnstack().args(["--generate", "fish", "1"]).assert().code(2);
}
