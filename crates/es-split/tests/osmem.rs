//! End to end against osmem-server: it has no `_clone` and no tasks API, so these runs take
//! the `_reindex` fallback with synchronous calls. osmem's write block does not stop deletes
//! and it has no refresh lag, so every test asserts that the source count is unchanged.
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::proxy::Proxy;
use crate::support::*;

const N: u64 = 4000;

fn split_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--retries", "1", "--yes"];
    for (flag, default) in [("--url", url), ("--index", "logs"), ("--field", "date")] {
        if !extra.contains(&flag) {
            v.extend([flag, default]);
        }
    }
    v.extend_from_slice(extra);
    v
}

#[test]
fn full_split_conserves_every_document() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", N, 7);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        state.path(),
        &split_args(
            &os.url,
            &["--mid", "2015-01-01", "--missing", "second", "--json"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    // osmem has `_stats/store` but no `_nodes/stats`: the disk check warns and goes on.
    assert!(
        stderr.contains("warning: cannot check free disk") && stderr.contains("_nodes/stats"),
        "{stderr}"
    );

    let before = expected_before(N, MID_MS);
    assert_eq!(http.total("logs-firsthalf"), before);
    assert_eq!(http.total("logs-secondhalf"), N - before + 7);
    // The halves are disjoint and exact: nothing on the wrong side of the midpoint.
    assert_eq!(
        http.count(
            "logs-firsthalf",
            json!({"range": {"date": {"gte": "2015-01-01"}}})
        ),
        0
    );
    assert_eq!(
        http.count(
            "logs-firsthalf",
            json!({"bool": {"must_not": {"exists": {"field": "date"}}}})
        ),
        0
    );
    assert_eq!(
        http.count(
            "logs-secondhalf",
            json!({"range": {"date": {"lt": "2015-01-01"}}})
        ),
        0
    );
    // The source is untouched and writable again (the block was not set before).
    assert_eq!(http.total("logs"), N + 7);
    assert_eq!(http.write_block("logs"), None);
    http.ok(
        "PUT",
        "/logs/_doc/after?refresh=true",
        Some(json!({"date": "2020-01-01"})),
    );
    // Targets carry the source's mapping (plus our journal in _meta).
    let src = http.ok("GET", "/logs/_mapping", None);
    let first = http.ok("GET", "/logs-firsthalf/_mapping", None);
    assert_eq!(
        src["logs"]["mappings"]["properties"],
        first["logs-firsthalf"]["mappings"]["properties"]
    );
    assert_eq!(
        first["logs-firsthalf"]["mappings"]["_meta"]["owner"],
        "tests"
    );
    assert_eq!(
        first["logs-firsthalf"]["mappings"]["_meta"]["es_split"]["source"],
        "logs"
    );
    let shards = http.ok("GET", "/logs-secondhalf/_settings?flat_settings=true", None);
    assert_eq!(
        shards["logs-secondhalf"]["settings"]["index.number_of_shards"],
        "2"
    );
    // The --json report.
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["schema"], 2);
    assert_eq!(report["status"], "ok");
    assert_eq!(report["method"], "reindex");
    assert_eq!(report["missing_to"], "second");
    assert_eq!(report["total"], N + 7);
    assert_eq!(report["without_field"], 7);
    assert_eq!(
        report["first"],
        json!({"index": "logs-firsthalf", "expected": before, "actual": before})
    );
    assert_eq!(report["second"]["actual"], N - before + 7);
    assert_eq!(report["source_write_block_restored"], true);
    assert_eq!(
        report["warnings"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"verify counts") && steps.contains(&"reindex both halves"),
        "{steps:?}"
    );
    // A finished split leaves no state file behind.
    assert_eq!(state_files(state.path()), 0);
}

#[test]
fn a_write_block_that_was_already_set_stays_set() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 1000, 0);
    http.ok(
        "PUT",
        "/logs/_settings",
        Some(json!({"index.blocks.write": true})),
    );
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        state.path(),
        &split_args(
            &os.url,
            &["--mid", "2015-06-01", "--first", "a", "--second", "b"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(http.write_block("logs").as_deref(), Some("true"));
    // The targets are writable: the source's block is not copied to them.
    assert_eq!(http.write_block("a"), None);
    assert_eq!(http.total("a") + http.total("b"), 1000);
    assert_eq!(http.total("logs"), 1000);
}

#[test]
fn an_explicit_false_block_is_restored_to_false() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 500, 0);
    http.ok(
        "PUT",
        "/logs/_settings",
        Some(json!({"index.blocks.write": false})),
    );
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(state.path(), &split_args(&os.url, &["--mid", "2015-06-01"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(http.write_block("logs").as_deref(), Some("false"));
}

#[test]
fn dry_run_changes_nothing_and_prints_the_plan() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 1200, 0);
    let before = http.snapshot();
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "2015-01-01", "--dry-run"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let lt = expected_before(1200, MID_MS);
    assert!(
        stdout.contains(&format!("logs-firsthalf: {lt} docs")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("logs-secondhalf: {} docs", 1200 - lt)),
        "{stdout}"
    );
    assert!(stdout.contains("_reindex"), "{stdout}");
    // osmem has no tasks API: the plan must say the copies run as synchronous calls.
    assert!(
        stdout.contains("server jobs: synchronous calls (no tasks API)"),
        "{stdout}"
    );
    assert_eq!(http.snapshot(), before);
    assert!(!state.path().join("x").exists() && state_files(state.path()) == 0);

    let (code, stdout, _) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "2015-01-01", "--dry-run", "--json"]),
    );
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "dry-run");
    assert_eq!(report["first"]["actual"], Value::Null);
    assert_eq!(report["first"]["expected"], lt);
    assert_eq!(http.snapshot(), before);
}

/// Runs a refused split (`line`: extra arguments as whitespace-separated words) and checks:
/// exit 2, the message, and nothing changed.
fn refused(os: &Osmem, line: &str, message: &str) {
    let extra: Vec<&str> = line.split_whitespace().collect();
    let extra = extra.as_slice();
    let http = os.http();
    let before = http.snapshot();
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(state.path(), &split_args(&os.url, extra));
    assert_eq!(code, 2, "{extra:?}: stdout {stdout} stderr {stderr}");
    assert!(
        stderr.contains(message),
        "{extra:?}: expected {message:?} in {stderr}"
    );
    assert!(stderr.starts_with("es-split: "), "{stderr}");
    assert!(
        !stderr.contains("to continue:"),
        "nothing changed, so no recovery hint: {stderr}"
    );
    assert_eq!(http.snapshot(), before, "{extra:?} changed the cluster");
    assert_eq!(state_files(state.path()), 0);
}

#[test]
fn every_preflight_refusal_exits_2_and_changes_nothing() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 300, 3);
    http.ok("PUT", "/nosrc", Some(json!({"mappings": {"_source": {"enabled": false}, "properties": {"date": {"type": "date"}}}})));
    http.ok(
        "PUT",
        "/nosrc/_doc/1?refresh=true",
        Some(json!({"date": "2015-02-02"})),
    );
    http.ok("PUT", "/partial", Some(json!({"mappings": {"_source": {"excludes": ["blob"]}, "properties": {"date": {"type": "date"}}}})));
    http.ok(
        "PUT",
        "/multi",
        Some(json!({"mappings": {"properties": {"date": {"type": "date"}}}})),
    );
    http.ok(
        "PUT",
        "/multi/_doc/1?refresh=true",
        Some(json!({"date": ["2014-05-05", "2016-05-05"]})),
    );
    http.ok(
        "PUT",
        "/multi/_doc/2?refresh=true",
        Some(json!({"date": "2016-05-05"})),
    );
    http.ok("PUT", "/logs-secondhalf", Some(json!({})));
    http.ok(
        "POST",
        "/_aliases",
        Some(json!({"actions": [{"add": {"index": "logs", "alias": "logs-alias"}}]})),
    );

    let root_path = format!(
        "--mid 2015-01-01 --missing first --first x --second y --url {}/nope/",
        os.url
    );
    for (line, message) in [
        (
            "--mid 2015-01-01 --missing first --index nope",
            "does not exist",
        ),
        (
            "--mid 2015-01-01 --missing first --field nope --first x --second y",
            "not in the mapping",
        ),
        (
            "--mid 2015-01-01 --missing first --field msg --first x --second y",
            "type text",
        ),
        ("--mid 2015-01-01 --missing first", "already exists"),
        (
            "--mid garbage --missing first --first x --second y",
            "--mid \"garbage\" is not a date",
        ),
        (
            "--mid 2015-01-01 --first x --second y",
            "3 documents have no date: pass --missing first or --missing second",
        ),
        ("--mid 2015-01-01 --index nosrc", "does not store _source"),
        ("--mid 2015-01-01 --index partial", "only part of _source"),
        (
            "--mid 2015-01-01 --index multi",
            "would be deleted from both halves",
        ),
        (
            "--mid 2015-01-01 --missing first --index logs-alias",
            "not an alias or pattern",
        ),
        (
            "--mid 2015-01-01 --missing first --index Logs",
            "not a valid index name",
        ),
        (
            "--mid 2015-01-01 --missing first --first x --second y --method clone",
            "no _clone API",
        ),
        (root_path.as_str(), "not the cluster's root"),
    ] {
        refused(&os, line, message);
    }

    // Nothing listens: a clear connection error, exit 2.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let state = tempfile::tempdir().unwrap();
    let url = format!("http://{dead}");
    let (code, _, stderr) = run(
        state.path(),
        &[
            "--url",
            &url,
            "--index",
            "logs",
            "--field",
            "date",
            "--mid",
            "2015",
            "--retries",
            "0",
            "--yes",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("connect: cannot connect to http://127.0.0.1"),
        "{stderr}"
    );
}

#[test]
fn mid_auto_splits_at_the_median() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date_nanos", 2000, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "auto", "--json"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let mid = report["mid_epoch_millis"]
        .as_i64()
        .expect("auto mid in epoch millis");
    assert!(!report["mid"].as_str().unwrap().is_empty());
    let first = http.total("logs-firsthalf");
    assert_eq!(first, expected_before(2000, mid));
    assert_eq!(first + http.total("logs-secondhalf"), 2000);
    // The median of evenly spread dates halves the index (t-digest is approximate).
    assert!((900..=1100).contains(&first), "{first}");
}

#[test]
fn alias_moves_to_both_halves() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 800, 0);
    http.ok(
        "POST",
        "/_aliases",
        Some(json!({"actions": [{"add": {"index": "logs", "alias": "logs-all"}}]})),
    );
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "2015-01-01", "--alias", "logs-all"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let aliased = http.ok("GET", "/_alias/logs-all", None);
    let mut names: Vec<&String> = aliased.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["logs-firsthalf", "logs-secondhalf"]);
    assert_eq!(http.total("logs-all"), 800);
}

#[test]
fn delete_source_after_verification() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 800, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        state.path(),
        &split_args(
            &os.url,
            &["--mid", "2015-01-01", "--delete-source", "--json"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!http.exists("logs"));
    assert_eq!(
        http.total("logs-firsthalf") + http.total("logs-secondhalf"),
        800
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["source_deleted"],
        true
    );
}

/// Runs a split through a proxy that holds the second `_reindex` forever (the first half is
/// complete, the second created but empty), then stops the tool with `signal`.
fn interrupt(os: &Osmem, state: &std::path::Path, signal: &str) -> (i32, String) {
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let proxy = Proxy::start(&os.url, move |method, path| {
        method == "POST"
            && path.starts_with("/_reindex")
            && seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
    });
    let child = Command::new(env!("CARGO_BIN_EXE_es-split"))
        .args(split_args(&proxy.url, &["--mid", "2015-01-01"]))
        .env("ES_SPLIT_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    proxy.wait_held();
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_restores_the_block_and_prints_recovery_commands() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", N, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, stderr) = interrupt(&os, state.path(), "-INT");
    assert_eq!(code, 130, "{stderr}");
    assert!(
        stderr.contains("restored index.blocks.write on logs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--resume") && stderr.contains("--rollback"),
        "{stderr}"
    );
    assert_eq!(http.write_block("logs"), None);
    assert_eq!(http.total("logs"), N);
    // Without --resume a new split refuses to start over the interrupted one.
    let (code, _, stderr) = run(state.path(), &split_args(&os.url, &["--mid", "2015-01-01"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("then --resume or --rollback"), "{stderr}");
    // --resume finishes it.
    let (code, _, stderr) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "2015-01-01", "--resume"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let before = expected_before(N, MID_MS);
    assert_eq!(http.total("logs-firsthalf"), before);
    assert_eq!(http.total("logs-secondhalf"), N - before);
}

#[test]
fn resume_after_a_crash() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", N, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, _) = interrupt(&os, state.path(), "-KILL");
    assert_ne!(code, 0);
    // A killed process cannot clean up: the source is still blocked; the halves are
    // reindexed in parallel, so the first one may be complete or partial.
    assert_eq!(http.write_block("logs").as_deref(), Some("true"));
    let before = expected_before(N, MID_MS);
    assert!(http.total("logs-firsthalf") <= before);
    assert!(http.total("logs-secondhalf") <= N - before);
    assert!(
        http.total("logs-firsthalf") + http.total("logs-secondhalf") < N,
        "one reindex was held"
    );

    let (code, stdout, stderr) = run(
        state.path(),
        &split_args(&os.url, &["--mid", "2015-01-01", "--resume", "--json"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(http.total("logs-firsthalf"), before);
    assert_eq!(http.total("logs-secondhalf"), N - before);
    assert_eq!(http.total("logs"), N);
    // The original value (unset) comes back, not the `true` the crash left behind.
    assert_eq!(http.write_block("logs"), None);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["status"],
        "ok"
    );
    assert_eq!(state_files(state.path()), 0);
}

#[test]
fn rollback_after_a_crash() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", N, 0);
    http.ok("PUT", "/unrelated", Some(json!({})));
    let state = tempfile::tempdir().unwrap();
    interrupt(&os, state.path(), "-KILL");
    assert!(http.exists("logs-firsthalf"));

    let (code, stdout, stderr) = run(
        state.path(),
        &[
            "--url",
            &os.url,
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
    assert!(!http.exists("logs-firsthalf") && !http.exists("logs-secondhalf"));
    assert!(http.exists("unrelated"));
    assert_eq!(http.write_block("logs"), None);
    assert_eq!(http.total("logs"), N);
    // Rolling back twice is harmless.
    let (code, stdout, _) = run(
        state.path(),
        &["--url", &os.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing-to-roll-back"), "{stdout}");
}

#[test]
fn rollback_never_deletes_an_index_it_did_not_create() {
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 10, 0);
    http.ok("PUT", "/logs-firsthalf", Some(json!({})));
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        state.path(),
        &["--url", &os.url, "--index", "logs", "--rollback", "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("not created by es-split"), "{stderr}");
    assert!(http.exists("logs-firsthalf"));
}

#[test]
fn library_sync_delete_by_query_against_osmem() {
    // The CLI never reaches delete-by-query on osmem (no _clone), so exercise the shared
    // by-query runner directly in its synchronous mode.
    use es_split::api;
    use es_split::client::{Auth, Es, HttpTransport, Tls};
    use es_split::tasks;
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 1000, 0);
    let es = Es::new(
        std::sync::Arc::new(HttpTransport::new(&os.url, Auth::None, &Tls::default()).unwrap()),
        &os.url,
        Default::default(),
        Duration::from_secs(30),
    );
    assert!(!api::tasks_supported(&es).unwrap());
    assert!(!api::clone_supported(&es).unwrap());
    let keep = es_split::query::keep_first("date", &es_split::query::Mid::user("2015-01-01"), None);
    let body = json!({"query": es_split::query::complement(&keep)});
    let done = tasks::run_sync(
        &es,
        "delete",
        "/logs/_delete_by_query?conflicts=abort&scroll_size=500",
        &body,
    )
    .unwrap();
    let before = expected_before(1000, MID_MS);
    assert_eq!(done.deleted, 1000 - before);
    assert_eq!(
        api::count(&es, "c", "logs", &json!({"match_all": {}})).unwrap(),
        before
    );
}
