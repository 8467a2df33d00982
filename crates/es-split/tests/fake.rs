//! The `_clone` + tasks path end to end against the in-process fake (support/fake_es.rs),
//! with injected faults. The fake has refresh lag, so a missing `_refresh` before
//! verification would fail these tests; its write block rejects deletes, so a delete-by-query
//! aimed at the blocked source would fail too.
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::fake_es::{docs, FakeEs, Flavor, DOC_BYTES};
use crate::support::*;

const N: u64 = 3000;

fn fake(flavor: Flavor, n: u64, missing: u64) -> FakeEs {
    let f = FakeEs::start(flavor);
    f.add_index("logs", 3, docs(n, missing));
    f
}

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--url",
        url,
        "--index",
        "logs",
        "--field",
        "date",
        "--mid",
        "2015-01-01",
        "--poll-interval",
        "0.01",
        "--retry-delay",
        "0.01",
        "--yes",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn clone_path_splits_without_reindexing() {
    let f = fake(Flavor::Es("8.15.0"), N, 5);
    f.with(|s| {
        let settings = &mut s.indices.get_mut("logs").unwrap().settings;
        settings.insert("index.auto_expand_replicas".into(), json!("0-1"))
    });
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        state.path(),
        &args(
            &f.url,
            &["--missing", "first", "--scroll-size", "100", "--json"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    let before = expected_before(N, MID_MS);
    assert_eq!(f.count("logs-firsthalf") as u64, before + 5);
    assert_eq!(f.count("logs-secondhalf") as u64, N - before);
    assert_eq!(f.count("logs") as u64, N + 5);
    // Original block (unset) restored; clones writable and with the source's replica count.
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
    assert_eq!(f.setting("logs-firsthalf", "index.blocks.write"), None);
    assert_eq!(
        f.setting("logs-secondhalf", "index.number_of_replicas"),
        Some(json!("1"))
    );
    assert_eq!(
        f.setting("logs-firsthalf", "index.auto_expand_replicas"),
        Some(json!("0-1"))
    );
    // The steps, in the documented order.
    assert_eq!(f.requests("PUT /logs/_block/write"), 1);
    assert_eq!(f.requests("POST /logs/_flush"), 1);
    assert_eq!(f.requests("_clone/logs-firsthalf"), 1);
    assert_eq!(f.requests("_delete_by_query?conflicts=abort&scroll_size=100&slices=auto&wait_for_completion=false"), 2);
    assert_eq!(
        f.requests("POST /logs-firsthalf,logs-secondhalf/_refresh"),
        1
    );
    assert_eq!(f.requests("_forcemerge?only_expunge_deletes=true"), 1);
    assert!(
        f.requests("GET /_tasks/fake-node:") >= (N / 100) as usize,
        "one poll per 100-doc batch"
    );
    assert_eq!(
        f.requests("POST /logs/_delete_by_query"),
        0,
        "never delete from the source"
    );
    // The journal is in the targets' _meta, next to the source's own _meta.
    f.with(|s| {
        let meta = &s.indices["logs-secondhalf"].mappings["_meta"];
        assert_eq!(meta["owner"], "fake");
        let journal = &s.indices["es-split-journal"].bodies["logs"].0;
        assert_eq!(meta["es_split"]["split_id"], journal["split_id"]);
        assert_eq!(journal["phase"], "done");
        assert_eq!(journal["lease"], Value::Null);
    });
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["method"], "clone");
    assert_eq!(report["server"], "Elasticsearch 8.15.0");
    assert_eq!(report["first"]["actual"], before + 5);
    // The source accepts writes again.
    assert_eq!(
        Http::new(&f.url)
            .req("PUT", "/logs/_doc/new", Some(json!({"date": "2020-01-01"})))
            .0,
        201
    );
}

#[test]
fn opensearch_and_the_version_gate() {
    for (flavor, method) in [
        (Flavor::OpenSearch("2.19.1"), "clone"),
        (Flavor::OpenSearch("7.10.2"), "clone"),
        (Flavor::Es("7.17.18"), "clone"),
        (Flavor::Es("7.3.2"), "reindex"),
    ] {
        let f = fake(flavor, 100, 0);
        let state = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(state.path(), &args(&f.url, &["--dry-run", "--json"]));
        assert_eq!(code, 0, "{flavor:?}: {stderr}");
        assert_eq!(
            serde_json::from_str::<Value>(&stdout).unwrap()["method"],
            method,
            "{flavor:?}"
        );
        // ES before 7.4 never sees a _clone request, not even the probe.
        if method == "reindex" {
            assert_eq!(f.requests("_clone"), 0);
        }
    }
    let f = fake(Flavor::OpenSearch("2.19.1"), 1000, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 1000);

    let f = fake(Flavor::Es("5.6.16"), 10, 0);
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("Elasticsearch 5.6.16 is not supported"),
        "{stderr}"
    );
}

#[test]
fn a_blocked_source_stays_blocked_and_clones_are_writable() {
    let f = fake(Flavor::Es("8.15.0"), 500, 0);
    f.with(|s| {
        s.indices
            .get_mut("logs")
            .unwrap()
            .settings
            .insert("index.blocks.write".into(), json!("true"))
    });
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.setting("logs", "index.blocks.write"), Some(json!("true")));
    assert_eq!(f.requests("_block/write"), 0);
    assert_eq!(f.setting("logs-firsthalf", "index.blocks.write"), None);
}

#[test]
fn a_429_storm_is_retried_with_backoff() {
    let f = fake(Flavor::Es("8.15.0"), 500, 0);
    f.with(|s| s.faults.rejections = 4);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--retries", "5"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 500);
    // A storm longer than the retries is a clear error; nothing was changed yet.
    f.with(|s| s.faults.rejections = 10);
    let (code, stdout, stderr) = run(
        state.path(),
        &args(
            &f.url,
            &["--retries", "2", "--first", "a", "--second", "b", "--json"],
        ),
    );
    assert_eq!(code, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "error");
    assert_eq!(report["exit_code"], 2);
    assert!(
        report["error"].as_str().unwrap().contains("429"),
        "{report}"
    );
    assert!(
        stderr.contains("HTTP 429 es_rejected_execution_exception"),
        "{stderr}"
    );
    assert!(!f.with(|s| s.indices.contains_key("a")));
}

#[test]
fn dropped_connections_while_polling_are_retried() {
    let f = fake(Flavor::Es("8.15.0"), 800, 0);
    f.with(|s| s.faults.drop_task_polls = 3);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        f.with(|s| s.faults.drop_task_polls),
        0,
        "the drops happened"
    );
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 800);
}

/// A failed step: exit 2, a clear message, the source writable, and recovery commands.
fn failed_step(
    fault: impl FnOnce(&mut crate::support::fake_es::Faults),
    message: &str,
) -> (FakeEs, tempfile::TempDir) {
    let f = fake(Flavor::Es("8.15.0"), 600, 0);
    f.with(|s| fault(&mut s.faults));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--scroll-size", "50"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(message), "expected {message:?} in {stderr}");
    assert!(
        stderr.contains("to continue: es-split --url") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(stderr.contains("--rollback"), "{stderr}");
    assert_eq!(
        f.setting("logs", "index.blocks.write"),
        None,
        "source left blocked"
    );
    assert_eq!(f.count("logs"), 600);
    (f, state)
}

#[test]
fn a_task_that_throws_fails_the_step_and_rollback_cleans_up() {
    let (f, state) = failed_step(
        |x| x.task_error = true,
        "task failed: search_phase_execution_exception",
    );
    assert!(f.with(|s| s.indices.contains_key("logs-firsthalf")));
    let (code, stdout, stderr) = run(
        state.path(),
        &[
            "--url",
            &f.url,
            "--index",
            "logs",
            "--rollback",
            "--json",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["status"],
        "rolled-back"
    );
    assert!(f
        .with(|s| !s.indices.contains_key("logs-firsthalf")
            && !s.indices.contains_key("logs-secondhalf")));
    assert_eq!(f.count("logs"), 600);
}

#[test]
fn a_completed_task_with_failures_is_a_failure() {
    failed_step(
        |x| x.task_failures = true,
        "1 failure(s); first: version_conflict_engine_exception",
    );
}

#[test]
fn a_vanished_task_can_be_resumed() {
    let (f, state) = failed_step(|x| x.task_vanishes = true, "vanished");
    f.with(|s| s.faults.task_vanishes = false);
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--resume"]));
    assert_eq!(code, 0, "{stderr}");
    let before = expected_before(600, MID_MS);
    assert_eq!(f.count("logs-firsthalf") as u64, before);
    assert_eq!(f.count("logs-secondhalf") as u64, 600 - before);
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
}

#[test]
fn a_count_mismatch_exits_1_and_leaves_everything_in_place() {
    let f = fake(Flavor::Es("8.15.0"), 700, 0);
    f.with(|s| s.faults.lose_one_delete = true);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(state.path(), &args(&f.url, &["--json"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("verification failed") && stderr.contains("expected"),
        "{stderr}"
    );
    assert!(stderr.contains("--rollback"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "mismatch");
    // Each copy's delete lost one document, so each holds one too many.
    let before = expected_before(700, MID_MS);
    assert_eq!(report["first"]["actual"], before + 1);
    assert_eq!(report["second"]["actual"], 700 - before + 1);
    assert_eq!(
        report["problems"],
        json!([
            format!(
                "logs-firsthalf has {} documents, expected {before} (counted while the source was blocked)",
                before + 1
            ),
            format!(
                "logs-secondhalf has {} documents, expected {} (counted while the source was blocked)",
                701 - before,
                700 - before
            )
        ])
    );
    assert!(f
        .with(|s| s.indices.contains_key("logs-firsthalf")
            && s.indices.contains_key("logs-secondhalf")));
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
    assert_eq!(
        f.requests("_forcemerge"),
        0,
        "no force merge after a failed verification"
    );
    // --rollback cleans up after the inspection.
    let (code, _, stderr) = run(
        state.path(),
        &["--url", &f.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(f.with(|s| !s.indices.contains_key("logs-firsthalf")));
}

#[test]
fn authentication_basic_and_api_key() {
    let f = fake(Flavor::Es("8.15.0"), 200, 0);
    // elastic:s3cret
    f.with(|s| s.auth = Some("Basic ZWxhc3RpYzpzM2NyZXQ=".into()));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("HTTP 401 security_exception") && stderr.contains("--user/ES_PASSWORD"),
        "{stderr}"
    );

    let out = es_split(state.path())
        .args(args(&f.url, &["--user", "elastic"]))
        .env("ES_PASSWORD", "wrong-pw")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr.contains("wrong-pw"), "secret printed: {stderr}");

    let url_with_secret = f.url.replace("http://", "http://elastic:s3cret@");
    let (code, stdout, stderr) = run(
        state.path(),
        &args(&url_with_secret, &["--json", "--dry-run"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));

    let out = es_split(state.path())
        .args(args(&f.url, &["--user", "elastic", "--verbose"]))
        .env("ES_PASSWORD", "s3cret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // --verbose logs requests but never credentials.
    assert!(stderr.contains("es-split: GET / -> 200"), "{stderr}");
    assert!(stderr.contains("/_clone/logs-firsthalf"), "{stderr}");
    assert!(
        !stderr.contains("s3cret") && !stderr.contains("ZWxhc3RpYzpzM2NyZXQ"),
        "{stderr}"
    );

    let f = fake(Flavor::Es("8.15.0"), 200, 0);
    f.with(|s| s.auth = Some("ApiKey a2V5OnNlY3JldA==".into()));
    let out = es_split(state.path())
        .args(args(&f.url, &[]))
        .env("ES_API_KEY", "a2V5OnNlY3JldA==")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = es_split(state.path())
        .args(args(&f.url, &["--first", "x", "--second", "y"]))
        .env("ES_API_KEY", "bad-key")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("HTTP 401") && !stderr.contains("bad-key"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_while_polling_restores_the_source() {
    let f = fake(Flavor::Es("8.15.0"), 400, 0);
    f.with(|s| s.faults.tasks_hang = true);
    let state = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_es-split"))
        .args(args(&f.url, &[]))
        .env("ES_SPLIT_STATE_DIR", state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while f.requests("GET /_tasks/fake-node:") < 3 {
        assert!(std::time::Instant::now() < deadline, "never polled");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The halves are a copy made while blocked: the source takes writes again while they
    // are trimmed.
    assert_eq!(
        f.setting("logs", "index.blocks.write"),
        None,
        "released before the deletes"
    );
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
    assert!(
        stderr.contains("cancelled server task fake-node:"),
        "{stderr}"
    );
    assert_eq!(f.requests("/_cancel"), 2, "both deletes cancelled");
}

#[test]
fn fake_enforces_clone_preconditions() {
    // Guards the fake's fidelity: these are the server rules the tool's ordering relies on.
    let f = fake(Flavor::OpenSearch("2.19.1"), 10, 0);
    let http = Http::new(&f.url);
    let (s, v) = http.req("POST", "/logs/_clone/x", Some(json!({})));
    assert_eq!(s, 500);
    assert_eq!(v["error"]["type"], "illegal_state_exception");
    http.ok(
        "PUT",
        "/logs/_settings",
        Some(json!({"index.blocks.write": true})),
    );
    assert_eq!(
        http.req(
            "POST",
            "/logs/_delete_by_query",
            Some(json!({"query": {"match_all": {}}}))
        )
        .0,
        403
    );
    assert_eq!(
        http.req("POST", "/logs/_clone/x", Some(json!({"mappings": {}})))
            .0,
        400
    );
    http.ok(
        "POST",
        "/logs/_clone/x",
        Some(json!({"settings": {"index.blocks.write": null}})),
    );
    assert_eq!(
        http.req("POST", "/logs/_clone/x", Some(json!({}))).1["error"]["type"],
        "resource_already_exists_exception"
    );
    // Without clearing it, the clone inherits the write block (elasticvue#331).
    http.ok("POST", "/logs/_clone/y", Some(json!({})));
    assert_eq!(f.setting("y", "index.blocks.write"), Some(json!("true")));
}

#[test]
fn an_unreadable_ca_cert_is_a_clear_usage_error() {
    let f = fake(Flavor::Es("8.15.0"), 10, 0);
    let state = tempfile::tempdir().unwrap();
    let missing = state.path().join("nope.crt");
    let (code, _, stderr) = run(
        state.path(),
        &args(&f.url, &["--ca-cert", missing.to_str().unwrap()]),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read --ca-cert"), "{stderr}");
    let garbage = state.path().join("garbage.crt");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let (code, _, stderr) = run(
        state.path(),
        &args(&f.url, &["--ca-cert", garbage.to_str().unwrap()]),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds no PEM certificate"), "{stderr}");
    assert_eq!(
        f.requests("GET /"),
        0,
        "no request before the TLS set-up is valid"
    );
}

#[test]
fn human_output_summarises_the_split() {
    let f = fake(Flavor::Es("8.15.0"), 300, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(state.path(), &args(&f.url, &["--alias", "logs-all"]));
    assert_eq!(code, 0, "{stderr}");
    let before = expected_before(300, MID_MS);
    assert!(
        stdout.starts_with(
            "ok: split logs (300 docs) on date at 2015-01-01T00:00:00.000Z (Elasticsearch 8.15.0)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "logs-firsthalf                   {before} docs (expected {before})"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("alias   logs-all"), "{stdout}");
    assert!(
        stderr.contains("delete the other half from both halves …"),
        "step lines go to stderr: {stderr}"
    );
    assert_eq!(f.with(|s| s.aliases["logs-all"].len()), 2);
}

#[test]
fn a_slow_cluster_hits_the_timeout_with_a_hint() {
    let f = fake(Flavor::Es("8.15.0"), 10, 0);
    f.with(|s| s.faults.delay = Some(std::time::Duration::from_millis(2500)));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--timeout", "1"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("connect: no answer within 1 s (raise --timeout)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_privilege_mid_run_fails_cleanly() {
    let f = fake(Flavor::Es("8.15.0"), 100, 0);
    f.with(|s| s.faults.forbid = Some("/logs/_clone/"));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("clone: HTTP 403 security_exception")
            && stderr.contains("lacks a privilege"),
        "{stderr}"
    );
    assert!(stderr.contains("--rollback"), "{stderr}");
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
}

#[test]
fn tls_with_a_private_ca_or_insecure() {
    let (f, ca) = FakeEs::start_tls(Flavor::Es("8.15.0"));
    f.add_index("logs", 1, docs(50, 0));
    let state = tempfile::tempdir().unwrap();
    let ca_file = state.path().join("http_ca.crt");
    std::fs::write(&ca_file, ca).unwrap();
    // Untrusted certificate: a clear error naming the fix.
    let (code, _, stderr) = run(
        state.path(),
        &args(&f.url, &["--dry-run", "--retries", "0"]),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot connect") && stderr.contains("--ca-cert"),
        "{stderr}"
    );
    // Trusting the CA, or skipping verification, works.
    let (code, _, stderr) = run(
        state.path(),
        &args(
            &f.url,
            &["--dry-run", "--ca-cert", ca_file.to_str().unwrap()],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--insecure"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 50);
}

#[test]
fn a_failure_after_verification_resumes_with_only_the_last_steps() {
    let f = fake(Flavor::Es("8.15.0"), 400, 0);
    f.with(|s| s.faults.forbid = Some("/_aliases"));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--alias", "logs-all"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("alias: HTTP 403"), "{stderr}");
    assert_eq!(f.setting("logs", "index.blocks.write"), None);
    // The source is live again and takes a write; that must not invalidate the verified halves.
    let http = Http::new(&f.url);
    assert_eq!(
        http.req(
            "PUT",
            "/logs/_doc/late",
            Some(json!({"date": "2020-01-01"}))
        )
        .0,
        201
    );
    f.with(|s| s.faults.forbid = None);
    let (code, stdout, stderr) = run(
        state.path(),
        &args(&f.url, &["--alias", "logs-all", "--resume", "--json"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["alias"], "logs-all");
    assert_eq!(f.with(|s| s.aliases["logs-all"].len()), 2);
    assert_eq!(
        f.requests("_block/write"),
        1,
        "the source was not blocked again"
    );
    assert_eq!(
        f.requests("_delete_by_query"),
        2,
        "the halves were not redone"
    );
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
}

#[test]
fn non_finite_numbers_are_usage_errors_not_panics() {
    let f = fake(Flavor::Es("8.15.0"), 10, 0);
    let state = tempfile::tempdir().unwrap();
    for (flag, value) in [("--retry-delay", "NaN"), ("--poll-interval", "inf")] {
        let line = [
            "--url", &f.url, "--index", "logs", "--field", "date", "--mid", "2015",
        ];
        let (code, _, stderr) = run(state.path(), &[&line[..], &[flag, value]].concat());
        assert_eq!(code, 2, "{flag} {value}: {stderr}");
        assert!(
            stderr.starts_with(&format!("es-split: {flag} must be between")),
            "{stderr}"
        );
    }
    assert_eq!(f.requests("GET /"), 0, "refused before any request");
}

#[test]
fn the_disk_check_refuses_when_the_halves_would_not_fit() {
    // 1000 docs × DOC_BYTES of primaries, one replica: the halves need 2 MB once they diverge.
    let need = 1000 * DOC_BYTES * 2;
    let f = fake(Flavor::Es("8.15.0"), 1000, 0);
    // The master's huge disk must not count: it holds no shards.
    // The fake reports each disk as twice its free space; above the 90% high watermark a
    // tenth of the disk is out of reach, so `a` free bytes give 0.8 × a usable.
    let enough = need * 5 / 4;
    f.with(|s| s.nodes = Some(vec![(vec!["master"], 1 << 50), (vec!["data"], enough - 10)]));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not enough free disk") && stderr.contains("--no-disk-check"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("to continue:"),
        "nothing changed: {stderr}"
    );
    assert_eq!(f.requests("_block/write") + f.requests("/logs/_clone/"), 0);
    assert_eq!(state_files(state.path()), 0);
    // Exactly enough passes, and the plan shows the numbers.
    f.with(|s| s.nodes = Some(vec![(vec!["data"], enough)]));
    let (code, stdout, stderr) = run(state.path(), &args(&f.url, &["--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("disk: about 1.91 MiB needed"), "{stdout}");
    // A stricter watermark, or shards that live only on the small node, refuse again.
    f.with(|s| s.high_watermark = "80%");
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--dry-run"]));
    assert_eq!(code, 2, "{stderr}");
    f.with(|s| {
        s.high_watermark = "90%";
        s.nodes = Some(vec![(vec!["data"], 1 << 40), (vec!["data"], enough - 10)]);
        s.shard_nodes = Some(vec![1]);
    });
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--dry-run"]));
    assert_eq!(code, 2, "only the shards' node counts: {stderr}");
    f.with(|s| s.shard_nodes = None);
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    // The override skips the check.
    f.with(|s| s.nodes = Some(vec![(vec!["data"], 1)]));
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--no-disk-check"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 1000);
}

#[test]
fn without_node_stats_the_disk_check_only_warns() {
    let f = fake(Flavor::OpenSearch("2.19.1"), 200, 0);
    f.with(|s| s.nodes = None);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(state.path(), &args(&f.url, &["--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("es-split: warning: cannot check free disk (GET /_nodes/stats/fs answered HTTP 400 no handler found"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 200);
}

#[test]
fn waiting_for_a_slow_clone_reports_its_shards() {
    // 3 primaries + 3 replicas; the clone answers 408 (timed_out) four times while its
    // primaries come up, then yellow.
    let f = fake(Flavor::Es("8.15.0"), 300, 0);
    f.with(|s| s.clone_recovery = 5);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &args(&f.url, &["--verbose"]));
    assert_eq!(code, 0, "{stderr}");
    let waits = "GET /_cluster/health/logs-firsthalf?wait_for_status=yellow&timeout=1s";
    assert_eq!(f.requests(waits), 5, "four 408s, then active");
    assert!(
        stderr.contains(&format!("{} -> 408", &waits[4..])),
        "{stderr}"
    );
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("es-split: waiting for logs-firsthalf:"))
        .collect();
    assert_eq!(
        progress,
        [
            "es-split: waiting for logs-firsthalf: 0/6 shards active, health red",
            "es-split: waiting for logs-firsthalf: 0/6 shards active, health red",
            "es-split: waiting for logs-firsthalf: 1/6 shards active, health red",
            "es-split: waiting for logs-firsthalf: 2/6 shards active, health red",
            "es-split: waiting for logs-firsthalf: 3/6 shards active, health yellow",
        ]
    );
    assert_eq!(f.count("logs-firsthalf") + f.count("logs-secondhalf"), 300);
    // Without --verbose there are no per-poll lines.
    let (code, _, stderr) = run(
        state.path(),
        &args(&f.url, &["--first", "a", "--second", "b"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("waiting for"), "{stderr}");
}

#[test]
fn the_system_trust_store_is_trusted_without_ca_cert() {
    // A corporate CA installed in the system store (here: SSL_CERT_FILE, which the native
    // certificate loader reads like OpenSSL does) needs neither --ca-cert nor --insecure.
    let (f, ca) = FakeEs::start_tls(Flavor::Es("8.15.0"));
    f.add_index("logs", 1, docs(50, 0));
    let state = tempfile::tempdir().unwrap();
    let ca_file = state.path().join("system-bundle.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let out = es_split(state.path())
        .args(args(&f.url, &["--dry-run", "--retries", "0"]))
        .env("SSL_CERT_FILE", &ca_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
