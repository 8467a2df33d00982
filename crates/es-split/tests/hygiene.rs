//! What the halves inherit (lifecycle, pipelines, allocation, aliases) and the pre-flight
//! refusals the safety issue asked for (nested fields, data-stream backing indices, empty
//! halves, implausible midpoints), plus credentials handling.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fake_es::{docs, FakeEs, Flavor};
use crate::support::*;

const N: u64 = 300;

fn fake() -> FakeEs {
    let f = FakeEs::start(Flavor::Es("8.15.0"));
    f.add_index("logs", 3, docs(N, 0));
    f
}

fn args(url: &str, extra: &[&str]) -> Vec<String> {
    split_argv(url, extra)
}

fn go(state: &std::path::Path, argv: &[String]) -> (i32, String, String) {
    run_argv(state, argv)
}

/// A source with an ILM policy and rollover alias, both pipelines, an allocation filter, a
/// write alias with a filter and routing, and a read alias.
fn managed_source() -> FakeEs {
    let f = fake();
    f.with(|s| {
        let st = &mut s.indices.get_mut("logs").unwrap().settings;
        for (k, v) in [
            ("index.lifecycle.name", "logs-policy"),
            ("index.lifecycle.rollover_alias", "logs-write"),
            ("index.default_pipeline", "enrich"),
            ("index.final_pipeline", "stamp"),
            ("index.routing.allocation.require.box", "hot"),
        ] {
            st.insert(k.into(), json!(v));
        }
        s.aliases.entry("logs-write".into()).or_default().insert(
            "logs".into(),
            json!({"is_write_index": true, "filter": {"term": {"tenant": "a"}}, "index_routing": "1", "search_routing": "1"}),
        );
        s.aliases.entry("logs-read".into()).or_default().insert("logs".into(), json!({}));
    });
    f
}

#[test]
fn the_halves_do_not_inherit_lifecycle_or_pipelines_and_the_plan_says_so() {
    let f = managed_source();
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = go(state.path(), &args(&f.url, &["--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "setting index.lifecycle.name=\"logs-policy\": not given to the halves (keep it with --keep-lifecycle)",
        "setting index.default_pipeline=\"enrich\": not given to the halves (keep it with --keep-pipelines)",
        "setting index.routing.allocation.require.box=\"hot\": kept",
        "alias logs-write (filter, routing, write index): stays on the source",
        "source write-blocked: only while it is counted and cloned",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    let (code, _, stderr) = go(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 0, "{stderr}");
    for half in ["logs-firsthalf", "logs-secondhalf"] {
        for key in [
            "index.lifecycle.name",
            "index.lifecycle.rollover_alias",
            "index.default_pipeline",
            "index.final_pipeline",
        ] {
            assert_eq!(f.setting(half, key), None, "{half} {key}");
        }
        assert_eq!(
            f.setting(half, "index.routing.allocation.require.box"),
            Some(json!("hot"))
        );
    }
    // The source keeps everything, aliases included.
    assert_eq!(
        f.setting("logs", "index.lifecycle.name"),
        Some(json!("logs-policy"))
    );
    assert_eq!(f.with(|s| s.aliases["logs-write"].len()), 1);
    // Asked for, the halves keep them.
    let (code, _, stderr) = go(
        state.path(),
        &args(
            &f.url,
            &[
                "--first",
                "a",
                "--second",
                "b",
                "--keep-lifecycle",
                "--keep-pipelines",
            ],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        f.setting("a", "index.lifecycle.name"),
        Some(json!("logs-policy"))
    );
    assert_eq!(f.setting("b", "index.final_pipeline"), Some(json!("stamp")));
}

#[test]
fn with_delete_source_the_aliases_move_intact_in_one_step() {
    let f = managed_source();
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = go(state.path(), &args(&f.url, &["--delete-source"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!f.with(|s| s.indices.contains_key("logs")));
    let w = f.with(|s| s.aliases["logs-write"].clone());
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(
        w["logs-firsthalf"]["filter"],
        json!({"term": {"tenant": "a"}})
    );
    assert_eq!(w["logs-firsthalf"]["index_routing"], "1");
    assert_eq!(w["logs-firsthalf"]["is_write_index"], false);
    assert_eq!(w["logs-secondhalf"]["is_write_index"], true);
    assert_eq!(f.with(|s| s.aliases["logs-read"].len()), 2);
    assert_eq!(
        f.requests("DELETE /logs"),
        0,
        "deleted by remove_index in the alias call"
    );
    let aliases_calls = f.with(|s| {
        s.log
            .iter()
            .filter(|l| l.starts_with("POST /_aliases"))
            .count()
    });
    assert_eq!(aliases_calls, 1, "one atomic step");
}

#[test]
fn the_preflight_refuses_nested_fields_data_streams_and_empty_halves() {
    let state = tempfile::tempdir().unwrap();
    let f = fake();
    f.with(|s| {
        s.indices.get_mut("logs").unwrap().mappings = json!({"properties": {
            "date": {"type": "date"},
            "event": {"type": "nested", "properties": {"at": {"type": "date"}}}}});
    });
    let (code, _, stderr) = go(state.path(), &args(&f.url, &["--field", "event.at"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("inside the nested object \"event\""),
        "{stderr}"
    );

    let f = fake();
    f.with(|s| {
        s.indices.get_mut("logs").unwrap().mappings["_data_stream_timestamp"] =
            json!({"enabled": true});
    });
    let (code, _, stderr) = go(state.path(), &args(&f.url, &[]));
    assert_eq!(code, 2);
    assert!(stderr.contains("data stream's backing index"), "{stderr}");
    assert_eq!(f.requests("_block"), 0);

    let f = fake();
    let (code, _, stderr) = go(state.path(), &args(&f.url, &["--mid", "2030-01-01"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("logs-secondhalf would be empty") && stderr.contains("--allow-empty-half"),
        "{stderr}"
    );
    assert!(
        stderr.contains("outside the data"),
        "the implausible instant is named: {stderr}"
    );
    let (code, _, stderr) = go(
        state.path(),
        &args(&f.url, &["--mid", "2030-01-01", "--allow-empty-half"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.count("logs-secondhalf"), 0);
}

#[test]
fn mid_is_resolved_once_and_printed_in_utc() {
    let f = fake();
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = go(
        state.path(),
        &args(&f.url, &["--mid", "1420070400000", "--json"]),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["mid"], "2015-01-01T00:00:00.000Z");
    assert_eq!(report["mid_epoch_millis"], MID_MS);
    assert_eq!(report["mid_input"], "1420070400000");
    // Every later range query uses the absolute instant, never the text again.
    let texts = f.with(|s| {
        s.log
            .iter()
            .filter(|l| l.contains("_delete_by_query"))
            .count()
    });
    assert_eq!(texts, 2);
    f.with(|s| {
        let j = &s.indices["es-split-journal"].bodies["logs"].0;
        assert_eq!(j["mid"], json!({"value": MID_MS, "format": "epoch_millis"}));
    });
}

#[test]
fn date_math_in_mid_is_resolved_by_the_server_once() {
    let os = Osmem::start();
    load(&os.http(), "logs", "date", 200, 0);
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = go(
        state.path(),
        &args(
            &os.url,
            &["--mid", "2014-12-01||+1M", "--dry-run", "--json"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["mid"], "2015-01-01T00:00:00.000Z", "{report}");
    assert_eq!(report["first"]["expected"], expected_before(200, MID_MS));
}

#[test]
fn an_epoch_second_field_read_as_1970_is_named_before_anything_changes() {
    let os = Osmem::start();
    let http = os.http();
    http.ok(
        "PUT",
        "/secs",
        Some(
            json!({"mappings": {"properties": {"ts": {"type": "date", "format": "epoch_second"}}}}),
        ),
    );
    let mut bulk = String::new();
    for i in 0..50 {
        bulk.push_str(&format!(
            "{{\"index\":{{\"_index\":\"secs\",\"_id\":\"{i}\"}}}}\n{{\"ts\":{}}}\n",
            1_400_000_000 + i * 1_000_000
        ));
    }
    http.bulk(bulk);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        state.path(),
        &[
            "--url",
            &os.url,
            "--index",
            "secs",
            "--field",
            "ts",
            "--mid",
            "2015",
            "--yes",
            "--retries",
            "0",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("1970-01-01T00:33:35.000Z"),
        "the resolved instant is shown: {stderr}"
    );
    assert!(
        stderr.contains("outside the data") && stderr.contains("would be empty"),
        "{stderr}"
    );
    assert!(!http.exists("secs-firsthalf"));
}

#[test]
fn a_refused_connection_fails_within_seconds_saying_it_retries() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, _, stderr) = go(state.path(), &args(&format!("http://{dead}"), &[]));
    assert_eq!(code, 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("cannot connect to http://127.0.0.1")
            && stderr.contains("retrying for 2 s"),
        "{stderr}"
    );
}

#[test]
fn secrets_on_the_command_line_are_warned_about_and_files_work() {
    let f = fake();
    f.with(|s| s.auth = Some("Basic ZWxhc3RpYzpzM2NyZXQ=".into()));
    let state = tempfile::tempdir().unwrap();
    let with_pw = f.url.replace("http://", "http://elastic:s3cret@");
    let (code, _, stderr) = go(state.path(), &args(&with_pw, &["--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("password in --url is visible to every local user"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"));
    let pw = state.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let (code, _, stderr) = go(
        state.path(),
        &args(
            &f.url,
            &[
                "--dry-run",
                "--user",
                "elastic",
                "--password-file",
                pw.to_str().unwrap(),
            ],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("visible"), "{stderr}");
    let (code, _, stderr) = go(
        state.path(),
        &args(&f.url, &["--dry-run", "--api-key", "a2V5"]),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--api-key on the command line is visible"),
        "{stderr}"
    );
    let missing = state.path().join("nope");
    let (code, _, stderr) = go(
        state.path(),
        &args(
            &f.url,
            &[
                "--dry-run",
                "--user",
                "elastic",
                "--password-file",
                missing.to_str().unwrap(),
            ],
        ),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read --password-file"), "{stderr}");
}

#[test]
fn the_reindex_path_never_runs_the_sources_pipelines() {
    // osmem runs a destination's pipelines on `_reindex` and fails on a missing one: a half
    // that inherited `index.default_pipeline` / `final_pipeline` would fail to fill.
    let os = Osmem::start();
    let http = os.http();
    load(&http, "logs", "date", 300, 0);
    http.ok(
        "PUT",
        "/logs/_settings",
        Some(json!({"index.default_pipeline": "enrich", "index.final_pipeline": "stamp"})),
    );
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = go(state.path(), &args(&os.url, &[]));
    assert_eq!(code, 0, "{stderr}");
    let before = expected_before(300, MID_MS);
    assert_eq!(http.total("logs-firsthalf"), before);
    assert_eq!(http.total("logs-secondhalf"), 300 - before);
    let settings = http.ok("GET", "/logs-firsthalf/_settings?flat_settings=true", None);
    assert_eq!(
        settings["logs-firsthalf"]["settings"].get("index.default_pipeline"),
        None
    );
    // Kept on request: put back after the copy, still never run on the copied documents.
    let (code, _, stderr) = go(
        state.path(),
        &args(
            &os.url,
            &["--first", "a", "--second", "b", "--keep-pipelines"],
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(http.total("a") + http.total("b"), 300);
    let settings = http.ok("GET", "/b/_settings?flat_settings=true", None);
    assert_eq!(settings["b"]["settings"]["index.final_pipeline"], "stamp");
}
