//! No Java dump, still an answer (issue 10): a JVM that cannot reach a safepoint (an
//! unserved userfaultfd page read through Unsafe), attach disabled (with stdout a pipe or a
//! regular file), a target whose own JDK tools are broken; and the resume guard when
//! jnstack and gdb are both SIGKILLed during the attach of 3,000 threads; two runs at once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    dies_with_the_test, fixture_25, fixture_default, jnstack, report_finding, report_of,
    report_thread, require, wait_until, Fixture, Jvm, KillOnDrop,
};

/// Threads of `pid` in state T (group stop), from /proc/PID/task/*/stat.
fn stopped_threads(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let state = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].trim_start().chars().next());
        if matches!(state, Some('T' | 't')) {
            out.extend(
                entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// Asserts that no thread of `pid` is stopped (a just-detached thread may take a moment).
fn assert_not_stopped(pid: u32) {
    let resumed = wait_until(Duration::from_secs(10), || {
        stopped_threads(pid).is_empty().then_some(())
    });
    assert!(
        resumed.is_some(),
        "JVM {pid} left with stopped threads: {:?}",
        stopped_threads(pid)
    );
}

/// The kernel wait channel of the thread of `pid` whose comm is `name`.
fn wchan_of(pid: u32, name: &str) -> Option<String> {
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            return std::fs::read_to_string(entry.path().join("wchan")).ok();
        }
    }
    None
}

#[test]
fn safepoint_hang_gets_the_proc_and_gdb_view_and_names_the_cause() {
    safepoint_hang_on(fixture_default());
}

#[test]
fn safepoint_hang_on_jdk25() {
    safepoint_hang_on(fixture_25());
}

fn safepoint_hang_on(fixture: &'static Fixture) {
    require("gdb", "apt-get install gdb");
    let release_dir = tempfile::tempdir().unwrap();
    let release = release_dir.path().join("release");
    let jvm = Jvm::start_class(
        fixture,
        &[],
        "Uffd",
        &[release.to_str().unwrap()],
        "idle-sleeper",
    );
    let faulting = wait_until(Duration::from_secs(60), || {
        wchan_of(jvm.pid, "mmap-reader").filter(|w| w.contains("userfault"))
    });
    assert!(
        faulting.is_some(),
        "mmap-reader never blocked in the userfaultfd page fault: {:?}",
        wchan_of(jvm.pid, "mmap-reader")
    );
    // A hang is a thread stuck for a while: let it be stuck for longer than the 1 s the
    // diagnosis calls "has not run for", whenever jnstack reads /proc.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let out = jnstack()
        .args([&jvm.pid.to_string(), "--dump-timeout", "2s", "--json"])
        .output()
        .unwrap();
    let took = started.elapsed();
    // It really waited for jstack, and only about as long as the flag says (plus gdb).
    assert!(took >= Duration::from_secs(2), "{took:?}");
    let report = report_of(&out, 1);
    assert_eq!(report["missing_dump"]["timed_out"], true, "{report}");
    let text = report_finding(&report, "no_java_dump")["text"]
        .as_str()
        .unwrap()
        .to_string();
    for needle in [
        "not reaching a safepoint",
        "The VM Thread is in `SafepointSynchronize::begin`",
        "\"mmap-reader\"",
        "`handle_userfault`",
        "inside `Unsafe_GetByte`",
        "has not run for",
        "jhsdb jstack --mixed",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    // Advice that fits the facts: we are root, so no "run as the JVM's user".
    assert!(!text.contains("JVM's user"), "{text}");
    // Threads are named from /proc/…/comm, with gdb frames and the stuck time.
    let reader = report_thread(&report, "mmap-reader");
    assert!(reader["java"].is_null());
    assert!(
        reader["task"]["not_run_ms"].as_u64().unwrap() >= 1000,
        "{reader}"
    );
    let vm = report_thread(&report, "VM Thread");
    let frames: Vec<&str> = vm["native_frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["function"].as_str())
        .collect();
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("SafepointSynchronize::begin")),
        "{frames:?}"
    );
    assert_not_stopped(jvm.pid);

    // --no-gdb: the /proc view alone still names the culprit.
    let out = jnstack()
        .args([&jvm.pid.to_string(), "--dump-timeout", "1s", "--no-gdb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("jstack does not answer")
            && stdout.contains("\"mmap-reader\"")
            && stdout.contains("`handle_userfault`")
            && stdout.contains(" (name from /proc, no Java dump) ")
            && !stdout.contains("native-only")
            && !stdout.contains("native #"),
        "{stdout}"
    );
    assert_not_stopped(jvm.pid);

    // SIGTERM while jstack hangs: what /proc shows is printed, with what is missing.
    let mut child = KillOnDrop(
        Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
            .args([&jvm.pid.to_string(), "--dump-timeout", "60s"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut pipe = child.0.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    // jnstack waits for the dump before the signal: connected to the JVM's attach socket, or
    // running jstack (its child) where the protocol is not used.
    let waiting = wait_until(Duration::from_secs(60), || {
        (children_of(child.0.id()) || has_socket(child.0.id())).then_some(())
    });
    assert!(waiting.is_some(), "jnstack never asked the JVM for a dump");
    let signalled = Instant::now();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_until(Duration::from_secs(30), || child.0.try_wait().unwrap())
        .unwrap_or_else(|| panic!("jnstack did not exit within 30 s of SIGTERM"));
    let took = signalled.elapsed();
    let stdout = stdout.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(
        stdout.contains("interrupted before jstack answered")
            && stdout
                .contains("interrupted before the native unwinding: native frames are missing")
            && stdout.contains("`handle_userfault`")
            && stdout.contains("\"mmap-reader\""),
        "{stdout}"
    );
    assert_not_stopped(jvm.pid);

    // Release the hang: the JVM must recover and answer jstack again.
    std::fs::write(&release, "").unwrap();
    let released = wait_until(Duration::from_secs(60), || {
        jvm.stdout().contains("RELEASED").then_some(())
    });
    assert!(released.is_some(), "the userfaultfd page was never served");
    jvm.assert_running_and_answering();
}

#[test]
fn disabled_attach_with_a_piped_stdout_still_gets_the_proc_and_gdb_view() {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-XX:+DisableAttachMechanism"],
        "Hang",
        &[],
        "pipe-writer",
    );
    let out = jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        .arg(jvm.pid.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("-XX:+DisableAttachMechanism") && stdout.contains("kill -3"),
        "{stdout}"
    );
    // Named from comm, with the syscall from /proc and gdb's write frame.
    let writer = stdout
        .split("\n\n")
        .find(|block| block.starts_with("\"pipe-writer\""))
        .unwrap_or_else(|| panic!("no pipe-writer thread: {stdout}"));
    assert!(
        writer.contains("write(") && writer.contains("native #"),
        "{writer}"
    );
    assert_not_stopped(jvm.pid);

    let out = jnstack()
        .env("JAVA_HOME", &jvm.jdk)
        .args([&jvm.pid.to_string(), "--no-gdb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("\"pipe-writer\"")
            && stdout.contains("write(")
            && !stdout.contains("native #"),
        "{stdout}"
    );
    assert_not_stopped(jvm.pid);
}

/// Starts `class` of the default fixture with `java` and stdout into `log`; waits for
/// READY there. Killed on drop, and by the kernel if the test thread dies.
fn java_to_file(java: &Path, jvm_args: &[&str], class: &str, log: &Path) -> KillOnDrop {
    let fixture = fixture_default();
    let mut cmd = Command::new(java);
    cmd.arg("-Xmx64m")
        .args(jvm_args)
        .arg(format!(
            "-Djava.library.path={}",
            fixture.dir.path().display()
        ))
        .arg("-cp")
        .arg(fixture.dir.path())
        .arg(class)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::inherit());
    dies_with_the_test(&mut cmd);
    let child = KillOnDrop(cmd.spawn().unwrap());
    let ready = wait_until(Duration::from_secs(120), || {
        std::fs::read_to_string(log)
            .ok()
            .filter(|l| l.contains("READY"))
    });
    assert!(
        ready.is_some(),
        "{class} never printed READY into {}",
        log.display()
    );
    child
}

#[test]
fn disabled_attach_with_stdout_in_a_file_reads_the_sigquit_dump_from_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jvm.log");
    let java = fixture_default().jdk.join("bin/java");
    let jvm = java_to_file(&java, &["-XX:+DisableAttachMechanism"], "Hang", &log);
    let pid = jvm.0.id();
    let before = std::fs::metadata(&log).unwrap().len();
    let out = jnstack()
        .args([&pid.to_string(), "--no-gdb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Said first, then done: the notice is jnstack's first line on stderr.
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| l.contains("sending it SIGQUIT (kill -3)") && l.contains("jvm.log")),
        "{stderr}"
    );
    // The Java half is back: the monitor chain the fixture builds is diagnosed.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("after a SIGQUIT")
            && stdout.contains("BLOCKED")
            && stdout.contains("at Hang"),
        "{stdout}"
    );
    assert!(std::fs::metadata(&log).unwrap().len() > before);
    assert!(jvm_alive(pid), "the JVM did not survive the SIGQUIT");
    assert_not_stopped(pid);
}

#[test]
fn a_jvm_without_a_sigquit_handler_is_not_sent_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jvm.log");
    let java = fixture_default().jdk.join("bin/java");
    // -Xrs: SIGQUIT would terminate this JVM instead of printing a dump.
    let jvm = java_to_file(
        &java,
        &["-XX:+DisableAttachMechanism", "-Xrs"],
        "Hang",
        &log,
    );
    let pid = jvm.0.id();
    let out = jnstack()
        .args([&pid.to_string(), "--no-gdb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("does not handle SIGQUIT (-Xrs), so jnstack did not send one")
            && stdout.contains("\"pipe-writer\""),
        "{stdout}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(jvm_alive(pid), "the JVM was killed");
    assert_not_stopped(pid);
}

fn jvm_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .and_then(|i| s[i + 1..].trim_start().chars().next())
        })
        .is_some_and(|state| state != 'Z')
}

#[test]
fn a_broken_target_jdk_does_not_stop_the_search_for_jstack() {
    let real = fixture_default().jdk.clone();
    let dir = tempfile::tempdir().unwrap();
    // A JDK whose launcher works (its lib/ is the real one) but whose jstack and jcmd are
    // broken, as after a botched upgrade; JAVA_HOME unset, the real JDK on PATH.
    let home = dir.path().join("jdk");
    std::fs::create_dir_all(home.join("bin")).unwrap();
    std::fs::copy(real.join("bin/java"), home.join("bin/java")).unwrap();
    std::os::unix::fs::symlink(real.join("lib"), home.join("lib")).unwrap();
    for tool in ["jstack", "jcmd"] {
        let path = home.join("bin").join(tool);
        std::fs::write(
            &path,
            "#!/bin/sh\necho 'Error: could not find libjava.so' >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = dir.path().join("jvm.log");
    let jvm = java_to_file(&home.join("bin/java"), &[], "Hang", &log);
    let pid = jvm.0.id();
    let path = format!(
        "{}:{}",
        real.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .env("PATH", path)
        .args([&pid.to_string(), "--no-gdb", "--json"])
        .output()
        .unwrap();
    let report = report_of(&out, 1);
    assert!(report["missing_dump"].is_null(), "{report}");
    assert!(!report_thread(&report, "pipe-writer")["java"].is_null());
    // No SIGQUIT was needed: the log holds no dump.
    assert!(!std::fs::read_to_string(&log)
        .unwrap()
        .contains("Full thread dump"));
}

#[test]
fn killing_jnstack_and_gdb_during_the_attach_of_3000_threads_never_leaves_the_jvm_stopped() {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start_class(
        fixture_default(),
        &["-Xss256k"],
        "Many",
        &["3000"],
        "idle-2999",
    );
    let threads = std::fs::read_dir(format!("/proc/{}/task", jvm.pid))
        .unwrap()
        .count();
    assert!(threads > 3000, "{threads} threads");
    // Moments of the attach: right as gdb starts attaching, part-way, near its end.
    // (delay, kill gdb too): the last one kills jnstack alone; its orphaned gdb then dies
    // of the closed pipes or detaches, and the guard resumes the JVM either way.
    for (delay_ms, kill_gdb) in [
        (0u64, true),
        (50, true),
        (300, true),
        (900, true),
        (300, false),
    ] {
        let mut child = KillOnDrop(
            Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
                .args([&jvm.pid.to_string(), "--json", "--unwinder", "gdb"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let gdb = wait_until(Duration::from_secs(120), || tracer_pid(jvm.pid))
            .unwrap_or_else(|| panic!("gdb never attached to {}", jvm.pid));
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Both, jnstack first: nobody of the two is left to send SIGCONT.
        let _ = child.0.kill();
        if kill_gdb {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(gdb as libc::pid_t, libc::SIGKILL);
            }
        }
        let _ = child.0.wait();
        let killed = Instant::now();
        let resumed = wait_until(Duration::from_secs(30), || {
            stopped_threads(jvm.pid).is_empty().then_some(())
        });
        assert!(
            resumed.is_some(),
            "after a kill (gdb too: {kill_gdb}) {delay_ms} ms into the attach, {} of {threads} threads are still stopped",
            stopped_threads(jvm.pid).len()
        );
        eprintln!(
            "kill (gdb too: {kill_gdb}) {delay_ms} ms into the attach: all threads running {:?} after the kill",
            killed.elapsed()
        );
        // The guard ends once its work is done.
        let gone = wait_until(Duration::from_secs(30), || {
            guards_for(jvm.pid).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "resume guards left: {:?}",
            guards_for(jvm.pid)
        );
    }
    jvm.assert_running_and_answering();
}

/// True if some process has `parent` as its parent.
/// Whether process `pid` has a socket open (the attach protocol's connection).
fn has_socket(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|link| link.to_string_lossy().starts_with("socket:"))
}

fn children_of(parent: u32) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| {
            stat.rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(parent)
        })
}

fn tracer_pid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))?
        .trim()
        .parse()
        .ok()
        .filter(|&t| t != 0)
}

/// Live resume guards watching `pid` (their command line names it).
fn guards_for(pid: u32) -> Vec<u32> {
    let want = format!("--resume-guard\0{pid}\0");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let guard: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .contains(&want)
                .then_some(guard)
        })
        .filter(|&p| jvm_alive(p))
        .collect()
}

#[test]
fn two_runs_at_once_both_answer_and_leave_the_jvm_running() {
    // Two engineers on one box (or a script and a person): each native unwinder seizes a
    // thread at a time, so the second may find a thread held by the first; gdb's whole-process
    // attach then meets the other tracer. Each run still answers, and nothing stays stopped.
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture_default(), false);
    for unwinder in ["native", "gdb"] {
        let runs: Vec<KillOnDrop> = (0..2)
            .map(|_| {
                KillOnDrop(
                    Command::new(assert_cmd::cargo::cargo_bin("jnstack"))
                        .env("JAVA_HOME", &jvm.jdk)
                        .args([&jvm.pid.to_string(), "--json", "--unwinder", unwinder])
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap(),
                )
            })
            .collect();
        for mut run in runs {
            use std::io::Read;
            let (mut stdout, mut stderr) = (Vec::new(), String::new());
            if let Some(mut pipe) = run.0.stdout.take() {
                pipe.read_to_end(&mut stdout).unwrap();
            }
            if let Some(mut pipe) = run.0.stderr.take() {
                pipe.read_to_string(&mut stderr).unwrap();
            }
            let status = run.0.wait().unwrap();
            // The hang is found by both: the Java and /proc views need no tracer.
            assert_eq!(status.code(), Some(1), "{unwinder}: {stderr}");
            let report: Value = serde_json::from_slice(&stdout).unwrap();
            assert!(
                !report_thread(&report, "pipe-writer")["java"].is_null(),
                "{unwinder}: {report}"
            );
            assert!(
                report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["problem"] == true),
                "{unwinder}: {report}"
            );
        }
        assert_not_stopped(jvm.pid);
    }
    jvm.assert_running_and_answering();
}
