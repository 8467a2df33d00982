//! The guarantees under concurrency, interruption and a live index: a second run while one
//! runs, a stale or live lease elsewhere, a second cluster with the same names, a writer that
//! retries through the whole split, signals (SIGINT/SIGTERM/SIGHUP, an ignored SIGHUP, SIGPIPE)
//! and closed or broken stderr.
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fake_es::{docs, FakeEs, Flavor};
use crate::support::*;

const N: u64 = 600;

fn fake() -> FakeEs {
    let f = FakeEs::start(Flavor::Es("8.15.0"));
    f.add_index("logs", 3, docs(N, 0));
    f
}

fn args(url: &str, extra: &[&str]) -> Vec<String> {
    split_argv(url, extra)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Starts the binary in the background (stderr piped) with `setup` run in the child first.
fn spawn_with(
    state: &std::path::Path,
    argv: &[String],
    setup: impl FnMut() -> std::io::Result<()> + Send + Sync + 'static,
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_es-split"));
    cmd.args(argv)
        .env("ES_SPLIT_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: the closure only calls async-signal-safe libc functions.
    unsafe { cmd.pre_exec(setup) };
    cmd.spawn().unwrap()
}

fn spawn(state: &std::path::Path, argv: &[String]) -> Child {
    spawn_with(state, argv, || Ok(()))
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The halves hold exactly their sides of the midpoint of `n` generated documents.
fn halves_exact(f: &FakeEs, n: u64) {
    let before = expected_before(n, MID_MS);
    assert_eq!(f.count("logs-firsthalf") as u64, before);
    assert_eq!(f.count("logs-secondhalf") as u64, n - before);
}

#[test]
fn a_second_split_resume_or_rollback_refuses_while_one_runs() {
    let f = fake();
    f.with(|s| s.faults.tasks_hang = true);
    let state = tempfile::tempdir().unwrap();
    let child = spawn(state.path(), &args(&f.url, &[]));
    wait_for("the deletes", || f.requests("GET /_tasks/fake-node:") >= 3);
    let other = tempfile::tempdir().unwrap();
    for (extra, message) in [
        (vec![], "in progress or was interrupted"),
        (vec!["--resume"], "is running: held by"),
        (vec!["--resume", "--take-over"], "is running: held by"),
    ] {
        let (code, _, stderr) = run(other.path(), &strs(&args(&f.url, &extra)));
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&format!("pid {}", child.id())),
            "names the holder: {stderr}"
        );
    }
    let (code, _, stderr) = run(
        other.path(),
        &["--url", &f.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is running: held by"), "{stderr}");
    assert!(
        f.with(|s| s.indices.contains_key("logs-firsthalf")),
        "rollback deleted nothing"
    );
    // --status from anywhere says where it stands.
    let (code, stdout, stderr) = run(
        other.path(),
        &["--url", &f.url, "--index", "logs", "--status"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("phase: copied") && stdout.contains("— alive"),
        "{stdout}"
    );
    assert!(
        stdout.contains("task first fake-node:") && stdout.contains("running"),
        "{stdout}"
    );
    // The run itself finishes once the cluster does.
    f.with(|s| s.faults.tasks_hang = false);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    halves_exact(&f, N);
}

/// Rewrites the lease of the journal as if another host held it, heartbeat `age_ms` ago.
fn lease_elsewhere(f: &FakeEs, age_ms: i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    f.with(|s| {
        let doc = s
            .indices
            .get_mut("es-split-journal")
            .unwrap()
            .bodies
            .get_mut("logs")
            .unwrap();
        doc.0["lease"] = json!({"host": "other-host", "boot_id": "b", "pid": 4242, "pid_start": 1,
            "user": "ops", "started_ms": now - age_ms, "heartbeat_ms": now - age_ms, "ttl_s": 60});
    });
}

#[test]
fn a_lease_on_another_host_is_respected_and_a_stale_one_taken_over_explicitly() {
    let f = fake();
    f.with(|s| s.faults.task_error = true);
    let state = tempfile::tempdir().unwrap();
    let (code, _, _) = run(state.path(), &strs(&args(&f.url, &[])));
    assert_eq!(code, 2);
    f.with(|s| s.faults.task_error = false);
    lease_elsewhere(&f, 1000);
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--resume"])));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is running: held by ops@other-host pid 4242"),
        "{stderr}"
    );
    lease_elsewhere(&f, 600_000);
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--resume"])));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("lease is stale") && stderr.contains("--take-over"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        state.path(),
        &strs(&args(&f.url, &["--resume", "--take-over"])),
    );
    assert_eq!(code, 0, "{stderr}");
    halves_exact(&f, N);
    assert_eq!(f.journal("logs").unwrap()["phase"], "done");
}

#[test]
fn a_second_cluster_with_the_same_names_is_never_touched() {
    let a = fake();
    a.with(|s| s.faults.tasks_hang = true);
    let b = fake();
    b.add_index("logs-firsthalf", 1, docs(5, 0));
    b.with(|s| {
        s.indices
            .get_mut("logs")
            .unwrap()
            .settings
            .insert("index.blocks.write".into(), json!("true"))
    });
    let state = tempfile::tempdir().unwrap();
    let child = spawn(state.path(), &args(&a.url, &[]));
    wait_for("the deletes", || a.requests("GET /_tasks/fake-node:") >= 2);
    signal(&child, "-KILL");
    finish(child);
    // The local state lists the interrupted split, with its cluster.
    let (code, stdout, _) = run(state.path(), &["--status"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("logs on cluster fake-cluster-") && stdout.contains("phase copied"),
        "{stdout}"
    );
    // The same state directory, the other cluster: nothing of A's split applies there.
    let (code, stdout, stderr) = run(
        state.path(),
        &["--url", &b.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("nothing-to-roll-back"), "{stdout}");
    assert_eq!(b.count("logs-firsthalf"), 5, "B's unrelated index kept");
    assert_eq!(
        b.setting("logs", "index.blocks.write"),
        Some(json!("true")),
        "B's own block kept"
    );
    let (code, _, stderr) = run(state.path(), &strs(&args(&b.url, &["--resume"])));
    assert_eq!(code, 2);
    assert!(stderr.contains("no split of logs to resume"), "{stderr}");
    // Cleaning B's local state leaves A's file alone; cleaning A's keeps an unfinished split.
    let (code, stdout, _) = run(state.path(), &["--url", &b.url, "--status", "--clean"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("no local state of cluster"), "{stdout}");
    let (code, stdout, _) = run(state.path(), &["--url", &a.url, "--status", "--clean"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("kept ") && stdout.contains("unfinished"),
        "{stdout}"
    );
    // A's split is still recoverable from its own journal.
    a.with(|s| s.faults.tasks_hang = false);
    let (code, _, stderr) = run(state.path(), &strs(&args(&a.url, &["--resume"])));
    assert_eq!(code, 0, "{stderr}");
    halves_exact(&a, N);
    assert_eq!(
        state_files(state.path()),
        0,
        "a finished split leaves no local state"
    );
    // A state file the cluster knows nothing about is stale and cleaned.
    let stale = {
        let mut j: Value = a.journal("logs").unwrap();
        j["split_id"] = json!("gone-long-ago");
        j
    };
    std::fs::write(state.path().join("x.json"), stale.to_string()).unwrap();
    let (code, stdout, _) = run(state.path(), &["--url", &a.url, "--status", "--clean"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("removed") && stdout.contains("newer split"),
        "{stdout}"
    );
    assert_eq!(state_files(state.path()), 0);
}

/// A writer that indexes new documents into `logs` for as long as `stop` is false, retrying
/// every refused write (as Logstash does on 403); returns the ids the cluster acknowledged.
fn writer(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let http = Http::new(&url);
        let mut acked = Vec::new();
        let mut i = 0u64;
        while !stop.load(Ordering::SeqCst) {
            let id = format!("w{i}");
            let date = doc_ms(i * 7919 % 1000, 1000);
            loop {
                let (status, _) = http.req(
                    "PUT",
                    &format!("/logs/_doc/{id}"),
                    Some(json!({"date": date})),
                );
                if status < 300 {
                    acked.push(id.clone());
                    break;
                }
                if stop.load(Ordering::SeqCst) {
                    return acked;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(3));
        }
        acked
    })
}

fn ids(f: &FakeEs, index: &str) -> std::collections::HashSet<String> {
    f.with(|s| {
        s.indices
            .get(index)
            .map(|ix| ix.docs.iter().map(|d| d.id.clone()).collect())
            .unwrap_or_default()
    })
}

#[test]
fn a_writer_that_retries_loses_nothing_and_the_halves_are_one_snapshot() {
    let f = fake();
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(f.url.clone(), stop.clone());
    wait_for("the writer", || f.count("logs") > N as usize + 20);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(state.path(), &strs(&args(&f.url, &["--json"])));
    stop.store(true, Ordering::SeqCst);
    let acked = w.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    // The halves hold exactly what the source held when it was counted under the block.
    let first = report["first"]["actual"].as_u64().unwrap();
    let second = report["second"]["actual"].as_u64().unwrap();
    assert_eq!(report["first"]["expected"], first);
    assert_eq!(first + second, report["total"].as_u64().unwrap());
    assert!(
        report["total"].as_u64().unwrap() > N,
        "the writer's documents were counted"
    );
    // Every acknowledged write is in the source, which took writes again within the run.
    let source = ids(&f, "logs");
    assert!(acked.iter().all(|id| source.contains(id)));
    assert!(
        acked.len() as u64 > report["total"].as_u64().unwrap() - N,
        "writes continued after the block"
    );
    assert!(
        report["source_blocked_seconds"].as_f64().unwrap() < 5.0,
        "{report}"
    );
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
}

#[test]
fn with_delete_source_every_acknowledged_write_survives() {
    let f = fake();
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(f.url.clone(), stop.clone());
    wait_for("the writer", || f.count("logs") > N as usize + 20);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--delete-source"])));
    // The writer goes on retrying; after the deletion its writes create a new `logs`.
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let acked = w.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    let mut everywhere = ids(&f, "logs-firsthalf");
    everywhere.extend(ids(&f, "logs-secondhalf"));
    everywhere.extend(ids(&f, "logs"));
    let lost: Vec<&String> = acked
        .iter()
        .filter(|id| !everywhere.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
}

#[test]
fn delete_source_refuses_a_source_that_changed_after_an_interruption() {
    // Interrupted while trimming: the restore path gives the source its writes back; an
    // in-place update then leaves the count the same. Resume must not delete that source.
    let f = fake();
    f.with(|s| s.faults.tasks_hang = true);
    let state = tempfile::tempdir().unwrap();
    let child = spawn(state.path(), &args(&f.url, &["--delete-source"]));
    wait_for("the deletes", || f.requests("GET /_tasks/fake-node:") >= 2);
    assert_eq!(
        f.setting("logs", "index.blocks.write"),
        Some(json!("true")),
        "kept blocked for deletion"
    );
    signal(&child, "-TERM");
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(f.setting("logs", "index.blocks.write"), None, "{stderr}");
    assert_eq!(f.running_tasks(), 0);
    let http = Http::new(&f.url);
    assert_eq!(
        http.req("PUT", "/logs/_doc/d1", Some(json!({"date": "2016-06-06"})))
            .0,
        200
    );
    assert_eq!(f.count("logs") as u64, N, "same count");
    f.with(|s| s.faults.tasks_hang = false);
    let (code, _, stderr) = run(
        state.path(),
        &strs(&args(&f.url, &["--delete-source", "--resume"])),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("changed since it was counted") && stderr.contains("NOT deleted"),
        "{stderr}"
    );
    assert!(f.with(|s| s.indices.contains_key("logs")), "source kept");
    halves_exact(&f, N);
    // Without --delete-source the split completes and keeps the source.
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--resume"])));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.journal("logs").unwrap()["phase"], "done");
}

#[test]
fn resume_refuses_a_source_changed_before_its_copy_was_complete() {
    // Killed while blocked, before the second clone; someone lifts the block and updates a
    // document in place (same count). The halves would not be one snapshot.
    let f = fake();
    f.with(|s| s.faults.forbid = Some("/logs/_clone/logs-secondhalf"));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &[])));
    assert_eq!(code, 2, "{stderr}");
    f.with(|s| s.faults.forbid = None);
    let http = Http::new(&f.url);
    assert_eq!(
        http.req("PUT", "/logs/_doc/d7", Some(json!({"date": "2014-01-05"})))
            .0,
        200
    );
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--resume"])));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("same count but other sequence numbers"),
        "{stderr}"
    );
    assert_eq!(
        f.setting("logs", "index.blocks.write"),
        None,
        "not left blocked"
    );
    let (code, _, stderr) = run(
        state.path(),
        &["--url", &f.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!f.with(|s| s.indices.contains_key("logs-firsthalf")));
}

#[test]
fn rollback_refuses_a_finished_split() {
    let f = fake();
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &["--alias", "logs-all"])));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(
        state.path(),
        &["--url", &f.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does not undo a finished split"),
        "{stderr}"
    );
    halves_exact(&f, N);
    assert_eq!(f.with(|s| s.aliases["logs-all"].len()), 2);
    // A new split of the same source may start (into other names).
    let (code, _, stderr) = run(
        state.path(),
        &strs(&args(&f.url, &["--first", "a", "--second", "b"])),
    );
    assert_eq!(code, 0, "{stderr}");
}

fn interrupted_by(sig: &str) {
    let f = fake();
    f.with(|s| s.faults.tasks_hang = true);
    let state = tempfile::tempdir().unwrap();
    let child = spawn(state.path(), &args(&f.url, &[]));
    wait_for("the deletes", || f.requests("GET /_tasks/fake-node:") >= 2);
    signal(&child, sig);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{sig}: {stderr}");
    assert_eq!(f.setting("logs", "index.blocks.write"), None, "{sig}");
    assert_eq!(f.running_tasks(), 0, "{sig}: a task still runs");
    assert!(
        stderr.contains("--resume") && stderr.contains("--yes --rollback"),
        "{stderr}"
    );
    // The printed command works as printed.
    let resume = stderr
        .lines()
        .find_map(|l| l.strip_prefix("to continue: es-split "))
        .unwrap()
        .to_string();
    f.with(|s| s.faults.tasks_hang = false);
    let argv: Vec<&str> = resume.split(' ').collect();
    let (code, _, stderr) = run(state.path(), &argv);
    assert_eq!(code, 0, "{resume}: {stderr}");
    halves_exact(&f, N);
}

#[test]
fn sigterm_cancels_the_tasks_and_restores() {
    interrupted_by("-TERM");
}

#[test]
fn sighup_cancels_the_tasks_and_restores() {
    interrupted_by("-HUP");
}

#[test]
fn an_ignored_sighup_stays_ignored_and_sigpipe_does_not_stop_a_run() {
    let f = fake();
    f.with(|s| s.faults.tasks_hang = true);
    let state = tempfile::tempdir().unwrap();
    // As under `nohup`: SIGHUP ignored before exec.
    let child = spawn_with(state.path(), &args(&f.url, &[]), || {
        // SAFETY: signal(2) in the forked child before exec.
        unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
        Ok(())
    });
    wait_for("the deletes", || f.requests("GET /_tasks/fake-node:") >= 2);
    signal(&child, "-HUP");
    signal(&child, "-PIPE");
    std::thread::sleep(Duration::from_millis(300));
    let polls = f.requests("GET /_tasks/fake-node:");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        f.requests("GET /_tasks/fake-node:") > polls,
        "still running after SIGHUP and SIGPIPE"
    );
    f.with(|s| s.faults.tasks_hang = false);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    halves_exact(&f, N);
}

#[test]
fn a_closed_or_broken_stderr_never_stops_the_restore_path() {
    // stderr closed outright (`2>&-`), and a failing run: still exit 2, source writable.
    let f = fake();
    f.with(|s| s.faults.task_error = true);
    let state = tempfile::tempdir().unwrap();
    let child = spawn_with(state.path(), &args(&f.url, &["--verbose"]), || {
        // SAFETY: close(2) in the forked child before exec.
        unsafe { libc::close(2) };
        Ok(())
    });
    let (code, _) = finish(child);
    assert_eq!(code, Some(2));
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
    // stderr a pipe whose reader is gone (`2>&1 | head -c1`): a full run succeeds.
    let f = fake();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_es-split"))
        .args(args(&f.url, &["--verbose"]))
        .env("ES_SPLIT_STATE_DIR", state.path())
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    halves_exact(&f, N);
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
}

#[test]
fn ambiguous_failures_of_one_shot_requests_are_checked_not_retried() {
    // A proxy loses the answers to both clones and one delete start after the server ran
    // them: the run checks the state and goes on, without a second clone or delete.
    let f = fake();
    f.with(|s| s.faults.bad_gateway_after = Some("/_clone/"));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &[])));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.requests("_clone/logs-firsthalf"), 1, "never cloned twice");
    let f = fake();
    f.with(|s| s.faults.bad_gateway_after = Some("/_delete_by_query"));
    let (code, _, stderr) = run(
        state.path(),
        &strs(&args(&f.url, &["--first", "a", "--second", "b"])),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        f.requests("/a/_delete_by_query"),
        1,
        "the running task was adopted"
    );
    assert_eq!(f.count("a") + f.count("b"), N as usize);
}

#[test]
fn a_non_interactive_run_that_changes_anything_needs_yes() {
    let f = fake();
    let state = tempfile::tempdir().unwrap();
    let mut argv = args(&f.url, &[]);
    argv.retain(|a| a != "--yes");
    let (code, _, stderr) = run(state.path(), &strs(&argv));
    assert_eq!(code, 2);
    assert!(stderr.contains("pass --yes"), "{stderr}");
    argv.push("--dry-run".into());
    let (code, _, stderr) = run(state.path(), &strs(&argv));
    assert_eq!(code, 0, "a dry run changes nothing: {stderr}");
    assert_eq!(f.requests("PUT"), 0);
    let _ = Mutex::new(());
}

#[test]
fn a_journal_from_another_cluster_is_refused() {
    // A journal index restored from another cluster's snapshot names that cluster.
    let f = fake();
    f.with(|s| s.faults.task_error = true);
    let state = tempfile::tempdir().unwrap();
    let (code, _, _) = run(state.path(), &strs(&args(&f.url, &[])));
    assert_eq!(code, 2);
    f.with(|s| {
        s.faults.task_error = false;
        s.cluster_uuid = "restored-elsewhere".into();
    });
    for extra in [vec!["--resume"], vec!["--rollback"]] {
        let mut argv = vec!["--url", f.url.as_str(), "--index", "logs", "--yes"];
        argv.extend(extra.iter());
        let (code, _, stderr) = run(state.path(), &argv);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(
            stderr.contains("refusing to act on another cluster's split"),
            "{stderr}"
        );
    }
    assert!(
        f.with(|s| s.indices.contains_key("logs-firsthalf")),
        "nothing deleted"
    );
}

#[test]
fn journal_writes_that_land_after_a_timeout_are_recognised_as_our_own() {
    // One journal write answers 504 and lands 100 ms later, so the retried conditional write
    // conflicts with our own earlier one: that must not read as a lost lease or a rival run.
    for k in 0..8 {
        let f = fake();
        f.with(|s| s.faults.late_journal_write = Some(k));
        let state = tempfile::tempdir().unwrap();
        let (code, _, stderr) = run(state.path(), &strs(&args(&f.url, &[])));
        assert_eq!(code, 0, "journal write {k}: {stderr}");
        assert_eq!(
            f.with(|s| s.faults.late_journal_write),
            None,
            "the fault fired"
        );
        halves_exact(&f, N);
        assert_eq!(f.journal("logs").unwrap()["phase"], "done");
    }
}
