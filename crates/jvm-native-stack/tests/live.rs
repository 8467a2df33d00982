//! The real thing: the JNI hang fixture on a real JVM (JDK 17 and JDK 25), real jstack
//! and real gdb, checked through the `jnstack` binary.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::harness::{
    fixture_25, fixture_default, jnstack, report_thread, require, thread_names, Fixture, Jvm,
};

const BLOCKED: [&str; 3] = ["blocked-1", "blocked-2", "blocked-3"];

fn run_json(jvm: &Jvm, extra: &[&str]) -> Value {
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .arg(jvm.pid.to_string())
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jnstack failed: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"))
}

/// The whole post scenario, asserted on the JSON and the text report.
fn hang_is_diagnosed(fixture: &Fixture) {
    require("gdb", "apt-get install gdb");
    let jvm = Jvm::start(fixture, false);
    let report = run_json(&jvm, &[]);
    let threads = report["threads"].as_array().unwrap();

    // Every Java thread's nid is a real LWP of the process.
    let java_threads: Vec<&Value> = threads.iter().filter(|t| !t["java"].is_null()).collect();
    assert!(
        java_threads.len() >= 10,
        "too few Java threads: {}",
        java_threads.len()
    );
    for t in &java_threads {
        let lwp = t["lwp"]
            .as_u64()
            .unwrap_or_else(|| panic!("no nid for {}", t["name"]));
        assert!(
            Path::new(&format!("/proc/{}/task/{lwp}", jvm.pid)).exists(),
            "nid of {} ({lwp}) is not a task of {}",
            t["name"],
            jvm.pid
        );
        assert_eq!(t["nid"], format!("{lwp:#x}"));
    }
    // The launcher thread and the library's pthread are there as native-only threads.
    let native_only: Vec<&str> = threads
        .iter()
        .filter(|t| t["java"].is_null())
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(native_only.contains(&"native-sleeper"), "{native_only:?}");
    // …and the diagnosis points out the pthread the JVM does not know (not the launcher).
    let unknown = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "native_only")
        .unwrap_or_else(|| panic!("no native_only finding: {}", report["findings"]));
    assert!(
        thread_names(&unknown["threads"]).contains(&"native-sleeper"),
        "{unknown}"
    );
    assert!(
        !thread_names(&unknown["threads"]).contains(&"java"),
        "{unknown}"
    );
    let text = unknown["text"].as_str().unwrap();
    assert!(
        text.contains("\"native-sleeper\"") && text.contains("nanosleep"),
        "{text}"
    );

    // The owner sits in write() on the full pipe, and gdb shows it.
    let owner = report_thread(&report, "pipe-writer");
    let frames: Vec<&str> = owner["native_frames"]
        .as_array()
        .unwrap_or_else(|| panic!("no native frames for the owner: {owner}"))
        .iter()
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert!(frames.iter().any(|f| f.ends_with("write")), "{frames:?}");
    assert!(frames.contains(&"Java_Hang_writeToFullPipe"), "{frames:?}");
    assert_eq!(owner["task"]["syscall"]["name"], "write");
    let fd = &owner["fd"];
    assert!(fd["target"].as_str().unwrap().starts_with("pipe:["), "{fd}");
    assert_eq!(
        fd["pipe"]["queued"], fd["pipe"]["capacity"],
        "pipe should be full: {fd}"
    );

    // The diagnosis names owner, lock and the three blocked threads.
    let lock = owner["java"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["locks"].as_array().unwrap())
        .find(|l| l["action"] == "locked")
        .unwrap()["address"]
        .as_str()
        .unwrap()
        .to_string();
    let chains: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "monitor_chain")
        .collect();
    assert_eq!(chains.len(), 1, "{chains:?}");
    let chain = chains[0];
    assert_eq!(chain["owner"]["name"], "pipe-writer");
    assert_eq!(chain["lock"]["address"], lock.as_str());
    assert_eq!(name_set(&chain["threads"]), BTreeSet::from(BLOCKED));
    let text = chain["text"].as_str().unwrap();
    assert!(text.contains("in the system call write("), "{text}");
    assert!(text.contains("which is full"), "{text}");
    // The fixture keeps the read end itself (and never reads it).
    assert!(
        text.contains(&format!("read end held by pid {} \"java\"", jvm.pid)),
        "{text}"
    );

    // Text report: diagnosis first, naming everything; exit code 1 (a problem was found).
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .arg(jvm.pid.to_string())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let diag = stdout.find("DIAGNOSIS").unwrap();
    let threads_at = stdout.find("THREADS").unwrap();
    assert!(diag < threads_at);
    let diagnosis = &stdout[diag..threads_at];
    for needle in ["\"pipe-writer\"", &lock, "write(", "Hang.writeToFullPipe"]
        .into_iter()
        .chain(BLOCKED)
    {
        assert!(
            diagnosis.contains(needle),
            "diagnosis lacks {needle:?}:\n{diagnosis}"
        );
    }
    let owner_block = &stdout[stdout.find("\n\"pipe-writer\"").unwrap()..];
    let owner_block = &owner_block[..owner_block[1..]
        .find("\n\n")
        .map_or(owner_block.len(), |i| i + 1)];
    assert!(
        owner_block.contains("native #") && owner_block.contains("write"),
        "{owner_block}"
    );
    assert!(owner_block.contains("JVM-internal frames"), "{owner_block}");

    // The spinner tops --top 1.
    let top = run_json(&jvm, &["--top", "1", "--sample", "1s"]);
    assert_eq!(thread_names(&top["threads"]), ["spinner"]);
    assert!(top["threads"][0]["task"]["cpu_percent"].as_f64().is_some());
    // The diagnosis names it first among the busy threads; the idle ones are not "busy".
    let busy = top["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "top_cpu")
        .unwrap_or_else(|| panic!("no top_cpu finding: {}", top["findings"]));
    let busy_names = thread_names(&busy["threads"]);
    assert_eq!(busy_names.first(), Some(&"spinner"), "{busy}");
    assert!(!busy_names.iter().any(|n| n.starts_with("idle")), "{busy}");

    jvm.assert_running_and_answering();
}

/// The names of a JSON array of threads, as a set (order is not part of the contract).
fn name_set(threads: &Value) -> BTreeSet<&str> {
    thread_names(threads).into_iter().collect()
}

#[test]
fn hang_is_diagnosed_on_default_jdk() {
    hang_is_diagnosed(fixture_default());
}

#[test]
fn hang_is_diagnosed_on_jdk25() {
    hang_is_diagnosed(fixture_25());
}

#[test]
fn no_gdb_still_finds_the_syscall_and_never_stops_the_jvm() {
    let jvm = Jvm::start(fixture_default(), false);
    let out = jnstack()
        .env("PATH", "/nonexistent")
        .env("JAVA_HOME", &jvm.jdk)
        .args([&jvm.pid.to_string(), "--no-gdb"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("write("), "{stdout}");
    assert!(
        !stdout.contains("native #"),
        "--no-gdb must not print gdb frames:\n{stdout}"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn filters_select_threads_and_gdb_only_those() {
    let jvm = Jvm::start(fixture_default(), false);
    let all = run_json(&jvm, &["--no-gdb"]);
    let lwp = report_thread(&all, "idle-sleep")["lwp"].as_u64().unwrap();
    let by_nid = run_json(&jvm, &["--nid", &format!("{lwp:#x}")]);
    assert_eq!(thread_names(&by_nid["threads"]), ["idle-sleep"]);
    assert!(by_nid["threads"][0]["native_frames"].is_array());
    let by_tid = run_json(&jvm, &["--tid", &lwp.to_string(), "--no-gdb"]);
    assert_eq!(by_tid["threads"][0]["name"], "idle-sleep");
    let blocked = run_json(&jvm, &["--state", "blocked", "--name", "^blocked-[12]$"]);
    assert_eq!(
        name_set(&blocked["threads"]),
        BTreeSet::from(["blocked-1", "blocked-2"])
    );
    for t in blocked["threads"].as_array().unwrap() {
        assert!(t["native_frames"].is_array());
    }
    // --full unfolds the JVM's own frames (ObjectMonitor::enter & co. while BLOCKED).
    let out = jnstack()
        .env_remove("JAVA_HOME")
        .args([&jvm.pid.to_string(), "--full", "--name", "^blocked-1$"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("ObjectMonitor::"), "{stdout}");
    assert!(!stdout.contains("--full shows them"), "{stdout}");
    // Kernel state letters filter too: only the spinner is running. It sleeps for a moment
    // at each safepoint (jstack's dump is one), so a busy machine gets a few tries.
    let args = [
        "--state",
        "R",
        "--no-gdb",
        "--name",
        "^spinner$|^blocked-1$",
    ];
    let mut running = run_json(&jvm, &args);
    for _ in 0..4 {
        if thread_names(&running["threads"]) == ["spinner"] {
            break;
        }
        running = run_json(&jvm, &args);
    }
    assert_eq!(thread_names(&running["threads"]), ["spinner"]);
    // The owner is not selected, but gdb still backtraced it for the diagnosis.
    let chain = blocked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "monitor_chain")
        .unwrap();
    assert!(
        chain["text"]
            .as_str()
            .unwrap()
            .contains("Native frames: write"),
        "{chain}"
    );
    jvm.assert_running_and_answering();
}

#[test]
fn deadlock_and_reentrant_lock_on_jdk25() {
    let jvm = Jvm::start(fixture_25(), true);
    let jdk = jvm.jdk.display().to_string();
    let report = run_json(&jvm, &["--no-gdb", "--jdk", &jdk]);
    assert!(
        report["jvm"].as_str().unwrap().contains("25."),
        "{}",
        report["jvm"]
    );
    let findings = report["findings"].as_array().unwrap();
    let deadlock = findings
        .iter()
        .find(|f| f["kind"] == "deadlock")
        .expect("deadlock finding");
    assert_eq!(
        name_set(&deadlock["threads"]),
        BTreeSet::from(["deadlock-a", "deadlock-b"])
    );
    let parked = findings
        .iter()
        .find(|f| f["kind"] == "monitor_chain" && f["owner"]["name"] == "rlock-holder")
        .expect("ReentrantLock chain");
    assert_eq!(parked["threads"][0]["name"], "rlock-waiter");
    // idle-wait's "- locked" monitor was released by Object.wait(): it owns nothing.
    assert!(!findings.iter().any(|f| f["owner"]["name"] == "idle-wait"));
    jvm.assert_running_and_answering();
}
