//! Test harness: locates the JDKs, builds the JNI fixture once per JDK, starts fixture
//! JVMs that are always killed (Drop), and runs the `jnstack` binary with a time limit.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

/// Directory with the fixture sources and saved dumps.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads a saved dump fixture.
pub fn dump_fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("dumps").join(name)).unwrap()
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Panics with the install command when a tool is missing: these suites never skip.
pub fn require(tool: &str, install: &str) -> PathBuf {
    which(tool).unwrap_or_else(|| {
        panic!("`{tool}` not found on PATH: jnstack's integration tests need it ({install})")
    })
}

/// The default JDK (the `java` on PATH, JDK 17 here).
pub fn default_jdk() -> PathBuf {
    let java = require("java", "apt-get install openjdk-17-jdk-headless");
    let real = std::fs::canonicalize(java).unwrap();
    let home = real.parent().and_then(Path::parent).unwrap().to_path_buf();
    assert!(
        home.join("bin/javac").is_file(),
        "{} has no javac: install a full JDK (apt-get install openjdk-17-jdk-headless)",
        home.display()
    );
    home
}

/// The JDK 25 under test: `JNSTACK_TEST_JDK25`, else /usr/lib/jvm/temurin-25*.
pub fn jdk25() -> PathBuf {
    if let Some(dir) = std::env::var_os("JNSTACK_TEST_JDK25") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("bin/java").is_file(),
            "JNSTACK_TEST_JDK25={} has no bin/java",
            dir.display()
        );
        return dir;
    }
    let found = std::fs::read_dir("/usr/lib/jvm")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("temurin-25"))
        })
        .find(|p| p.join("bin/java").is_file());
    found.unwrap_or_else(|| {
        panic!(
            "no JDK 25 found: install Temurin 25 under /usr/lib/jvm (apt-get install temurin-25-jdk) \
             or set JNSTACK_TEST_JDK25=/path/to/jdk25"
        )
    })
}

/// The fixture compiled for one JDK: Hang.class + libhang.so in a temp dir.
pub struct Fixture {
    /// Temp dir holding the build (kept for the whole test run).
    pub dir: tempfile::TempDir,
    /// The JDK it was built with and runs on.
    pub jdk: PathBuf,
}

fn run_ok(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build(jdk: PathBuf) -> Fixture {
    let cc = which("cc").or_else(|| which("gcc")).unwrap_or_else(|| {
        panic!("no C compiler (cc/gcc) on PATH: the JNI fixture needs one (apt-get install gcc)")
    });
    let dir = tempfile::Builder::new()
        .prefix("jnstack-fixture-")
        .tempdir()
        .unwrap();
    let src = fixtures().join("jni");
    run_ok(
        Command::new(jdk.join("bin/javac"))
            .arg("-h")
            .arg(dir.path())
            .arg("-d")
            .arg(dir.path())
            .arg(src.join("Hang.java")),
    );
    run_ok(
        Command::new(cc)
            .args(["-shared", "-fPIC", "-g", "-O0", "-o"])
            .arg(dir.path().join("libhang.so"))
            .arg(format!("-I{}", jdk.join("include").display()))
            .arg(format!("-I{}", jdk.join("include/linux").display()))
            .arg(format!("-I{}", dir.path().display()))
            .arg(src.join("hang.c"))
            .arg("-lpthread"),
    );
    Fixture { dir, jdk }
}

/// The fixture for the default JDK, built once per test run.
pub fn fixture_default() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build(default_jdk()))
}

/// The fixture for JDK 25, built once per test run.
pub fn fixture_25() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build(jdk25()))
}

/// A running fixture JVM; killed and reaped on drop, whatever the test did.
pub struct Jvm {
    child: Child,
    /// Its pid.
    pub pid: u32,
    /// The JDK it runs on.
    pub jdk: PathBuf,
}

impl Jvm {
    /// Starts `Hang` (with "extras": deadlock and ReentrantLock threads) and waits for READY.
    pub fn start(fixture: &Fixture, extras: bool) -> Jvm {
        let mut cmd = Command::new(fixture.jdk.join("bin/java"));
        cmd.arg("-Xmx64m")
            .arg(format!(
                "-Djava.library.path={}",
                fixture.dir.path().display()
            ))
            .arg("-cp")
            .arg(fixture.dir.path())
            .arg("Hang")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if extras {
            cmd.arg("extras");
        }
        let mut child = cmd.spawn().unwrap();
        let pid = child.id();
        let stdout = child.stdout.take().unwrap();
        let jvm = Jvm {
            child,
            pid,
            jdk: fixture.jdk.clone(),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("READY") {
                    let _ = tx.send(());
                }
            }
        });
        // On timeout the panic drops `jvm`, which kills it.
        rx.recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("fixture JVM {pid} did not print READY within 60 s"));
        jvm
    }

    /// Scheduler state of every task of the JVM.
    pub fn task_states(&self) -> Vec<(u32, char)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(format!("/proc/{}/task", self.pid))
            .unwrap()
            .flatten()
        {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let lwp = entry.file_name().to_str().unwrap().parse().unwrap();
            out.push((lwp, after.chars().next().unwrap()));
        }
        out
    }

    /// Asserts no thread is stopped or traced, and that jstack still gets a dump.
    pub fn assert_running_and_answering(&self) {
        // A just-detached thread can take a moment to leave tracing stop.
        let mut stopped = Vec::new();
        for _ in 0..100 {
            stopped = self
                .task_states()
                .into_iter()
                .filter(|(_, s)| matches!(s, 'T' | 't'))
                .collect();
            if stopped.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            stopped.is_empty(),
            "JVM {} left with stopped threads: {stopped:?}",
            self.pid
        );
        let out = output_within(
            Command::new(self.jdk.join("bin/jstack")).arg(self.pid.to_string()),
            Duration::from_secs(120),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("\"pipe-writer\""),
            "jstack no longer answers for JVM {}: {}{}",
            self.pid,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `cmd` to completion, killing it (and failing the test) after `limit`.
fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    // wait_with_output drains both pipes, so a large dump cannot block the child.
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        // SIGCONT first: a SIGKILLed stopped process dies anyway, but be explicit.
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid.to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `jnstack` with a hard time limit so a hang fails the test instead of CI.
pub fn jnstack() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("jnstack").unwrap();
    cmd.timeout(Duration::from_secs(180)).env("NO_COLOR", "1");
    cmd
}
