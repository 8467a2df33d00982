//! Fault injection: slow, failing and refused tools, through the runner seam and through
//! fake programs on PATH. The JVM (or a stand-in process) must always end up running.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use jvm_native_stack::gdb::{self, GdbConfig};
use jvm_native_stack::jdk::{self, JdkSearch};
use jvm_native_stack::runner::{Job, Output, RunError, Runner};
use jvm_native_stack::{proc, Error};
use predicates::prelude::*;
use serde_json::Value;

use crate::harness::{fixture_default, jnstack, require, wait_until, Jvm, KillOnDrop};

/// A runner whose programs all time out, after stopping `victim` the way a gdb killed
/// mid-attach leaves it.
struct StopsThenTimesOut {
    victim: u32,
}

impl Runner for StopsThenTimesOut {
    fn run(&self, job: &Job, _cancel: &AtomicBool) -> Result<Output, RunError> {
        let _ = Command::new("kill")
            .args(["-STOP", &self.victim.to_string()])
            .status();
        Err(RunError::Timeout {
            program: job.program.clone(),
            timeout: job.timeout,
        })
    }
}

/// Waits until `pid` is in scheduler state `want`; returns the last state seen.
fn wait_for_state(pid: u32, want: char, within: Duration) -> Option<char> {
    wait_until(within, || proc::process_state(pid).filter(|&s| s == want))
        .or_else(|| proc::process_state(pid))
}

#[test]
fn gdb_timeout_through_the_seam_resumes_the_process() {
    // It gets stopped: killed by the kernel too if this test process dies.
    let victim = crate::harness::sleeper();
    let pid = victim.0.id();
    let config = GdbConfig {
        program: "/usr/bin/gdb".into(),
        timeout: Duration::from_millis(10),
        full_symbols: false,
    };
    let (gate, gate_rx) = std::sync::mpsc::channel();
    gate.send(gdb::go_line(&BTreeSet::from([pid]))).unwrap();
    let err = gdb::gated(
        &StopsThenTimesOut { victim: pid },
        &config,
        pid,
        gate_rx,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::GdbTimeout { .. }), "{err}");
    assert_eq!(
        wait_for_state(pid, 'S', Duration::from_secs(10)),
        Some('S'),
        "process {pid} left stopped"
    );
}

/// A runner standing in for jstack/jcmd that cannot attach.
struct RefusingJdk;

impl Runner for RefusingJdk {
    fn run(&self, _job: &Job, _cancel: &AtomicBool) -> Result<Output, RunError> {
        Ok(Output {
            code: Some(1),
            stdout: String::new(),
            stderr:
                "com.sun.tools.attach.AttachNotSupportedException: Unable to open socket file\n"
                    .into(),
        })
    }
}

/// A stand-in target process (killed on drop).
fn victim() -> KillOnDrop {
    crate::harness::sleeper()
}

/// A JDK directory whose jstack and jcmd exist (the runner seam decides what they say).
fn fake_jdk() -> (tempfile::TempDir, JdkSearch) {
    let dir = tempfile::tempdir().unwrap();
    for tool in ["jstack", "jcmd"] {
        write_script(&dir.path().join("bin").join(tool), "exit 1\n");
    }
    let search = JdkSearch {
        jdk: Some(dir.path().to_path_buf()),
        ..JdkSearch::default()
    };
    (dir, search)
}

/// The error of a thread dump through `runner` (which must fail) with the fake JDK `search`.
fn dump_error(runner: &dyn Runner, search: &JdkSearch, pid: u32) -> Error {
    jdk::thread_dump(
        runner,
        search,
        pid,
        Duration::from_secs(5),
        &AtomicBool::new(false),
    )
    .unwrap_err()
}

#[test]
fn jstack_attach_failure_advice_fits_who_we_are() {
    let target = victim();
    let (_dir, search) = fake_jdk();
    let err = dump_error(&RefusingJdk, &search, target.0.id());
    let msg = err.to_string();
    assert!(msg.contains("Unable to open socket file"), "{msg}");
    assert!(msg.contains("--jdk DIR"), "{msg}");
    // The victim is ours: "run as the JVM's user" would be advice that fits no fact.
    assert!(!msg.contains("as the JVM's user"), "{msg}");
}

/// A runner whose tool says `stderr` and fails, after killing `victim` (unless 0): a
/// target that exits while jstack or gdb attaches.
struct KillsThenFails {
    victim: u32,
    stderr: &'static str,
}

impl Runner for KillsThenFails {
    fn run(&self, _job: &Job, _cancel: &AtomicBool) -> Result<Output, RunError> {
        if self.victim != 0 {
            let _ = Command::new("kill")
                .args(["-KILL", &self.victim.to_string()])
                .status();
            // Killed but not reaped: a zombie until KillOnDrop waits for it.
            wait_until(Duration::from_secs(10), || {
                (proc::process_state(self.victim) == Some('Z')).then_some(())
            });
        }
        Ok(Output {
            code: Some(1),
            stdout: String::new(),
            stderr: self.stderr.into(),
        })
    }
}

#[test]
fn jvm_exiting_during_jstack_is_not_called_an_attach_problem() {
    let target = victim();
    let (_dir, search) = fake_jdk();
    let runner = KillsThenFails {
        victim: target.0.id(),
        stderr: "java.io.IOException: No such process\n",
    };
    let err = dump_error(&runner, &search, target.0.id());
    assert!(matches!(err, Error::Exited { .. }), "{err}");
    assert!(err.to_string().contains("exited while jnstack"), "{err}");
}

#[test]
fn jvm_exiting_during_gdb_attach_is_not_called_a_ptrace_refusal() {
    let target = victim();
    let pid = target.0.id();
    let config = GdbConfig {
        program: "/usr/bin/gdb".into(),
        timeout: Duration::from_secs(10),
        full_symbols: false,
    };
    // gdb says "Operation not permitted" when the process vanishes mid-attach.
    let runner = KillsThenFails {
        victim: pid,
        stderr: "ptrace: Operation not permitted.\n",
    };
    let (_gate, gate_rx) = std::sync::mpsc::channel();
    let err = gdb::gated(&runner, &config, pid, gate_rx, &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(err, Error::Exited { .. }), "{err}");
    // A live process that gdb may not trace is still a ptrace refusal.
    let alive = victim();
    let runner = KillsThenFails {
        victim: 0,
        stderr: "ptrace: Operation not permitted.\n",
    };
    let (_gate, gate_rx) = std::sync::mpsc::channel();
    let err = gdb::gated(
        &runner,
        &config,
        alive.0.id(),
        gate_rx,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::PtraceDenied { .. }), "{err}");
}

#[test]
fn disabled_attach_mechanism_suggests_kill_3_and_from_file() {
    let target = victim();
    let (_dir, search) = fake_jdk();
    let runner = KillsThenFails {
        victim: 0,
        stderr: "1234: The VM does not support the attach mechanism\n",
    };
    let err = dump_error(&runner, &search, target.0.id()).to_string();
    assert!(
        err.contains("-XX:+DisableAttachMechanism")
            && err.contains(&format!("kill -3 {}", target.0.id()))
            && err.contains("--from-file"),
        "{err}"
    );
}

fn write_script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A fake gdb that behaves like one stuck mid-attach: it waits for jnstack's gate (the
/// dump is taken), stops the JVM like a ptrace attach does, and never returns.
const STOPPING_GDB: &str =
    "pid=$(printf '%s\\n' \"$@\" | grep -o 'attach [0-9]*' | head -n1 | cut -d' ' -f2)
read -r gate || exit 0
kill -STOP \"$pid\" && touch \"$0.stopped\"
exec sleep 60
";

/// A directory with a fake `gdb` first on PATH, followed by the real PATH.
fn fake_gdb(body: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("gdb"), body);
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (dir, path)
}

#[test]
fn slow_gdb_that_stopped_the_jvm_is_killed_and_the_jvm_resumed() {
    let jvm = Jvm::start(fixture_default(), false);
    // Like a gdb stuck mid-attach: the JVM is stopped and gdb never returns.
    let (dir, path) = fake_gdb(STOPPING_GDB);
    jnstack()
        .env("PATH", path)
        .env("JAVA_HOME", &jvm.jdk)
        .args([
            &jvm.pid.to_string(),
            "--unwinder",
            "gdb",
            "--gdb-timeout",
            "1s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("gdb did not finish within 1s"))
        .stdout(predicate::str::contains("write("));
    assert!(
        dir.path().join("gdb.stopped").exists(),
        "the fake gdb never stopped the JVM"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn real_gdb_killed_mid_attach_leaves_the_jvm_running() {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture_default(), false);
    let mut timed_out = 0;
    for timeout in ["1ms", "10ms", "40ms", "150ms", "500ms"] {
        let out = jnstack()
            .env("JAVA_HOME", &jvm.jdk)
            .args([
                &jvm.pid.to_string(),
                "--unwinder",
                "gdb",
                "--gdb-timeout",
                timeout,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if String::from_utf8_lossy(&out.stderr).contains("gdb did not finish") {
            timed_out += 1;
        }
        jvm.assert_running_and_answering();
    }
    assert!(
        timed_out >= 1,
        "gdb was never killed: the timeouts are too generous"
    );
}

#[test]
fn ptrace_refusal_explains_the_fixes() {
    let jvm = Jvm::start(fixture_default(), false);
    let (_dir, path) = fake_gdb("echo 'ptrace: Operation not permitted.' >&2\nexit 1\n");
    jnstack()
        .env("PATH", path)
        .env("JAVA_HOME", &jvm.jdk)
        .args([&jvm.pid.to_string(), "--unwinder", "gdb"])
        .assert()
        // A gdb error is no reason to drop the Java and /proc views (exit 1: the hang).
        .code(1)
        .stdout(predicate::str::contains("write("))
        .stderr(
            predicate::str::contains("may not attach")
                .and(predicate::str::contains("CAP_SYS_PTRACE"))
                .and(predicate::str::contains("native frames are missing")),
        );
    jvm.assert_running_and_answering();
}

#[test]
fn a_jvm_traced_by_another_process_still_gets_the_java_and_proc_views_with_a_note() {
    let jvm = Jvm::start(fixture_default(), false);
    // jstack's first attach sends SIGQUIT to start the JVM's attach listener; a real
    // tracer (strace) passes it on, this minimal one would hold the thread in tracing stop.
    // So the listener is started before the tracer comes.
    jvm.assert_running_and_answering();
    // A tracer that leaves the JVM running (PTRACE_SEIZE, like strace -p).
    let tracer = KillOnDrop(
        Command::new(require("python3", "apt-get install python3"))
            .args([
                "-c",
                "import ctypes, sys, time\n\
                 libc = ctypes.CDLL(None, use_errno=True)\n\
                 if libc.ptrace(0x4206, int(sys.argv[1]), None, None) != 0: sys.exit(1)\n\
                 time.sleep(120)\n",
                &jvm.pid.to_string(),
            ])
            .spawn()
            .unwrap(),
    );
    let traced = wait_until(Duration::from_secs(30), || proc::tracer(jvm.pid));
    assert!(
        traced
            .as_deref()
            .is_some_and(|t| t.starts_with(&format!("pid {}", tracer.0.id()))),
        "{traced:?}"
    );
    // The Java and /proc views still come, with a note naming the tracer.
    jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        .arg(jvm.pid.to_string())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("write("))
        .stderr(predicate::str::contains(format!(
            "another process (python3, pid {}) is tracing process {}",
            tracer.0.id(),
            jvm.pid
        )));
    jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        .args([&jvm.pid.to_string(), "--no-gdb"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("write("));
    drop(tracer);
    jvm.assert_running_and_answering();
}

#[test]
fn ctrl_c_while_gdb_holds_the_jvm_resumes_it_prints_what_was_collected_and_exits_130() {
    let jvm = Jvm::start(fixture_default(), false);
    let (_dir, path) = fake_gdb(STOPPING_GDB);
    // Killed on drop: a failed assertion must not leave jnstack and its fake gdb behind.
    let mut child = KillOnDrop(
        Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
            .env("PATH", path)
            .env("JAVA_HOME", &jvm.jdk)
            .args([
                &jvm.pid.to_string(),
                "--unwinder",
                "gdb",
                "--gdb-timeout",
                "60s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Drained on a thread: the report is printed only after the signal.
    let mut pipe = child.0.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    // Wait until the fake gdb has stopped the JVM, then press "Ctrl-C".
    assert_eq!(
        wait_for_state(jvm.pid, 'T', Duration::from_secs(90)),
        Some('T'),
        "fake gdb never stopped the JVM"
    );
    let _ = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status();
    let status = wait_until(Duration::from_secs(30), || child.0.try_wait().unwrap())
        .unwrap_or_else(|| panic!("jnstack did not exit within 30 s of SIGINT"));
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert_eq!(status.code(), Some(130), "{stderr}");
    // Partial results are results: the Java dump and /proc, and what is missing.
    let stdout = stdout.join().unwrap();
    assert!(
        stdout.contains("\"pipe-writer\"") && stdout.contains("write("),
        "{stdout}"
    );
    assert!(
        stdout.contains("interrupted while gdb ran")
            && stdout.contains("native frames are missing"),
        "{stdout}"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn failing_jstack_falls_back_to_jcmd() {
    let jvm = Jvm::start(fixture_default(), false);
    let dir = tempfile::tempdir().unwrap();
    write_script(
        &dir.path().join("bin/jstack"),
        "echo 'Unable to open socket file' >&2\nexit 1\n",
    );
    std::os::unix::fs::symlink(jvm.jdk.join("bin/jcmd"), dir.path().join("bin/jcmd")).unwrap();
    jnstack()
        .env_remove("JAVA_HOME")
        .arg("--jdk")
        .arg(dir.path())
        .args([&jvm.pid.to_string(), "--no-gdb"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("\"pipe-writer\"").and(predicate::str::contains("write(")),
        );
    jvm.assert_running_and_answering();
}

#[test]
fn gdb_without_python_falls_back_to_thread_apply_all_bt() {
    let real = require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture_default(), false);
    // Refuses the gated Python mode the way a gdb built without Python does, and is the
    // real gdb for the classic `thread apply all bt` run that follows.
    let (_dir, path) = fake_gdb(&format!(
        "case \" $* \" in *python*)
  echo 'Python scripting is not supported in this copy of GDB.' >&2; exit 1;;
esac
exec '{}' \"$@\"
",
        real.display()
    ));
    let out = jnstack()
        .env("PATH", path)
        .env("JAVA_HOME", &jvm.jdk)
        .args([
            &jvm.pid.to_string(),
            "--unwinder",
            "gdb",
            "--json",
            "--name",
            "^pipe-writer$",
        ])
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let frames: Vec<&str> = report["threads"][0]["native_frames"]
        .as_array()
        .unwrap_or_else(|| panic!("no native frames: {report}"))
        .iter()
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert!(frames.contains(&"Java_Hang_writeToFullPipe"), "{frames:?}");
    assert!(frames.iter().any(|f| f.ends_with("write")), "{frames:?}");
    // Phase timings come from the Python script only.
    assert!(report["gdb_timing"].is_null(), "{}", report["gdb_timing"]);
    jvm.assert_running_and_answering();
}
