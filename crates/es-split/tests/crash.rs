//! Crash at every step: a proxy SIGKILLs es-split at its k-th mutating request — before the
//! server sees it, and after the server ran it but before es-split saw the answer — for
//! every k of a full split; then `--resume` (or, separately, `--rollback`) runs against the
//! cluster directly. Every time: no document lost, the halves exact complements (resume) or
//! gone (rollback), the source writable and unchanged, no server task left running.
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::fake_es::{docs, FakeEs, Flavor};
use crate::support::proxy::{KillProxy, Strike};
use crate::support::*;

const N: u64 = 600;

fn split_args(url: &str, extra: &[&str]) -> Vec<String> {
    split_argv(url, extra)
}

/// Runs the binary through `proxy`, which kills it at its k-th mutating request.
fn run_killed(proxy: &KillProxy, state: &std::path::Path, extra: &[&str]) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_es-split"))
        .args(split_args(&proxy.url, extra))
        .env("ES_SPLIT_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    proxy.set_pid(child.id());
    child.wait().unwrap().code()
}

/// The invariants after a successful recovery by `--resume`.
fn check_resumed(f: &FakeEs, delete_source: bool, what: &str) {
    let before = expected_before(N, MID_MS);
    let first = f.dates("logs-firsthalf");
    let second = f.dates("logs-secondhalf");
    assert_eq!(first.len() as u64, before, "{what}: first half");
    assert_eq!(second.len() as u64, N - before, "{what}: second half");
    assert!(first.iter().all(|d| d[0] < MID_MS), "{what}");
    assert!(second.iter().all(|d| d[0] >= MID_MS), "{what}");
    if delete_source {
        assert!(
            !f.with(|s| s.indices.contains_key("logs")),
            "{what}: source kept"
        );
    } else {
        assert_eq!(f.count("logs") as u64, N, "{what}: source changed");
        assert_eq!(
            f.setting("logs", "index.blocks.write"),
            None,
            "{what}: left blocked"
        );
    }
    assert_eq!(f.running_tasks(), 0, "{what}: a task still runs");
    assert_eq!(f.journal("logs").unwrap()["phase"], "done", "{what}");
}

/// The invariants after `--rollback` (or a refusal that keeps a finished split or the only copy).
fn check_rolled_back(f: &FakeEs, delete_source: bool, code: i32, stderr: &str, what: &str) {
    if f.journal("logs").is_some_and(|j| j["phase"] == "done") {
        // Killed after the split finished: a finished split is never rolled back.
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains("does not undo a finished split"),
            "{what}: {stderr}"
        );
        check_resumed(f, delete_source, what);
        return;
    }
    if !f.with(|s| s.indices.contains_key("logs")) {
        // Killed after the atomic alias move + source deletion: the halves are all there
        // is, and rollback must refuse to delete them.
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(stderr.contains("only copy"), "{what}: {stderr}");
        assert_eq!(
            f.count("logs-firsthalf") + f.count("logs-secondhalf"),
            N as usize
        );
        return;
    }
    assert_eq!(code, 0, "{what}: {stderr}");
    assert!(
        !f.with(|s| s.indices.contains_key("logs-firsthalf")),
        "{what}"
    );
    assert!(
        !f.with(|s| s.indices.contains_key("logs-secondhalf")),
        "{what}"
    );
    assert_eq!(f.count("logs") as u64, N, "{what}");
    assert_eq!(
        f.setting("logs", "index.blocks.write"),
        None,
        "{what}: left blocked"
    );
    assert_eq!(f.running_tasks(), 0, "{what}");
}

fn crash_everywhere(recover: &str, extra: &[&str]) {
    let delete_source = extra.contains(&"--delete-source");
    // A clean run through the proxy counts the mutating requests of a full split.
    let f = FakeEs::start(Flavor::Es("8.15.0"));
    f.add_index("logs", 3, docs(N, 0));
    let proxy = KillProxy::start(&f.url, 0, Strike::Before);
    let state = tempfile::tempdir().unwrap();
    assert_eq!(run_killed(&proxy, state.path(), extra), Some(0));
    let total = proxy.mutations();
    assert!(total >= 15, "{:?}", proxy.log());
    let steps = proxy.log();
    for k in 1..=total {
        for strike in [Strike::Before, Strike::After] {
            let what = format!("killed {strike:?} request {k} ({})", steps[k - 1]);
            let f = FakeEs::start(Flavor::Es("8.15.0"));
            f.add_index("logs", 3, docs(N, 0));
            let proxy = KillProxy::start(&f.url, k, strike);
            let state = tempfile::tempdir().unwrap();
            let code = run_killed(&proxy, state.path(), extra);
            assert_eq!(code, None, "{what}: not killed");
            let mut args = split_args(&f.url, extra);
            if recover == "--rollback" {
                args = ["--url", &f.url, "--index", "logs", "--yes"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
            }
            args.push(recover.into());
            let (code, _, stderr) = run(
                state.path(),
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            if recover == "--resume" {
                if code != 0 && stderr.contains("no split of logs to resume") {
                    // Killed before the journal existed: nothing changed, a new split runs.
                    assert_eq!(f.setting("logs", "index.blocks.write"), None, "{what}");
                    assert!(
                        !f.with(|s| s.indices.contains_key("logs-firsthalf")),
                        "{what}"
                    );
                    let (code, _, stderr) = run(
                        state.path(),
                        &split_args(&f.url, extra)
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>(),
                    );
                    assert_eq!(code, 0, "{what}: {stderr}");
                } else {
                    assert_eq!(code, 0, "{what}: {stderr}");
                }
                check_resumed(&f, delete_source, &what);
            } else {
                check_rolled_back(&f, delete_source, code, &stderr, &what);
            }
        }
    }
}

#[test]
fn crash_at_every_step_then_resume() {
    crash_everywhere("--resume", &[]);
}

#[test]
fn crash_at_every_step_then_rollback() {
    crash_everywhere("--rollback", &[]);
}

#[test]
fn crash_at_every_step_with_delete_source_then_resume() {
    crash_everywhere("--resume", &["--delete-source", "--alias", "logs-all"]);
}

#[test]
fn crash_at_every_step_with_delete_source_then_rollback() {
    crash_everywhere("--rollback", &["--delete-source"]);
}

/// The reindex path (osmem: no `_clone`, no tasks API), crashed at every step and resumed.
#[test]
fn crash_at_every_step_on_the_reindex_path_then_resume() {
    crash_everywhere_on_osmem("--resume");
}

/// The same, rolled back.
#[test]
fn crash_at_every_step_on_the_reindex_path_then_rollback() {
    crash_everywhere_on_osmem("--rollback");
}

fn crash_everywhere_on_osmem(recover: &str) {
    let n = 400;
    let os = Osmem::start();
    load(&os.http(), "logs", "date", n, 0);
    let proxy = KillProxy::start(&os.url, 0, Strike::Before);
    let state = tempfile::tempdir().unwrap();
    assert_eq!(run_killed(&proxy, state.path(), &[]), Some(0));
    let total = proxy.mutations();
    let before = expected_before(n, MID_MS);
    for k in 1..=total {
        for strike in [Strike::Before, Strike::After] {
            let what = format!("killed {strike:?} request {k}");
            let os = Osmem::start();
            let http = os.http();
            load(&http, "logs", "date", n, 0);
            let proxy = KillProxy::start(&os.url, k, strike);
            let state = tempfile::tempdir().unwrap();
            assert_eq!(run_killed(&proxy, state.path(), &[]), None, "{what}");
            if recover == "--rollback" {
                let (code, _, stderr) = run(
                    state.path(),
                    &["--url", &os.url, "--index", "logs", "--yes", "--rollback"],
                );
                let journal = http.req("GET", "/es-split-journal/_doc/logs", None).1;
                if journal["_source"]["phase"] == "done" {
                    assert_eq!(
                        code, 2,
                        "{what}: a finished split is not rolled back: {stderr}"
                    );
                    let halves = http.total("logs-firsthalf") + http.total("logs-secondhalf");
                    assert_eq!(halves, n, "{what}");
                } else {
                    assert_eq!(code, 0, "{what}: {stderr}");
                    assert!(!http.exists("logs-firsthalf"), "{what}");
                    assert!(!http.exists("logs-secondhalf"), "{what}");
                }
                assert_eq!(http.total("logs"), n, "{what}");
                assert_eq!(http.write_block("logs"), None, "{what}");
                continue;
            }
            let mut args = split_args(&os.url, &[]);
            args.push("--resume".into());
            let (code, _, stderr) = run(
                state.path(),
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            if code != 0 && stderr.contains("no split of logs to resume") {
                let (code, _, stderr) = run(
                    state.path(),
                    &split_args(&os.url, &[])
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                );
                assert_eq!(code, 0, "{what}: {stderr}");
            } else {
                assert_eq!(code, 0, "{what}: {stderr}");
            }
            assert_eq!(http.total("logs-firsthalf"), before, "{what}");
            assert_eq!(http.total("logs-secondhalf"), n - before, "{what}");
            assert_eq!(http.total("logs"), n, "{what}");
            assert_eq!(http.write_block("logs"), None, "{what}");
            let j = http.ok("GET", "/es-split-journal/_doc/logs", None);
            assert_eq!(j["_source"]["phase"], Value::from("done"), "{what}");
        }
    }
}
