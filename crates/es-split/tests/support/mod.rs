//! Shared test harness: an osmem-server per test, a small JSON HTTP helper, data loading,
//! and a runner for the built binary.
#![allow(dead_code)]

pub mod fake_es;
pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// A running osmem-server, killed on drop.
pub struct Osmem {
    child: Child,
    pub url: String,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The osmem-server binary: `$OSMEM_SERVER_BIN`, else the one in `<workspace>/.venv-test`.
/// Panics with the install command when neither exists: these tests must never be skipped.
pub fn osmem_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("OSMEM_SERVER_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let python = workspace_root().join(".venv-test/bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import osmem_server; print(osmem_server.resolve_binary())",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => panic!(
            "osmem-server not found. Install it with:\n  python3 -m venv .venv-test && .venv-test/bin/pip install osmem-server==0.1.6\n\
             (at the workspace root), or run ./scripts/test, or set OSMEM_SERVER_BIN"
        ),
    }
}

impl Osmem {
    /// Starts a fresh server on a free port and waits for its ready line.
    pub fn start() -> Self {
        let bin = osmem_binary();
        let mut child = Command::new(&bin)
            .args([
                "-addr",
                "127.0.0.1:0",
                "-no-ja",
                "-no-stdin-watch",
                "-parent-pid",
            ])
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad ready line {line:?}: {e}"));
        let url = ready["url"].as_str().unwrap().to_string();
        Osmem { child, url }
    }

    pub fn http(&self) -> Http {
        Http::new(&self.url)
    }
}

impl Drop for Osmem {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Minimal JSON client for test set-up and assertions.
pub struct Http {
    pub url: String,
    client: reqwest::blocking::Client,
}

impl Http {
    /// A client with default headers (auth) and TLS settings, for a real cluster.
    pub fn with_client(url: &str, client: reqwest::blocking::Client) -> Self {
        Http {
            url: url.to_string(),
            client,
        }
    }

    pub fn new(url: &str) -> Self {
        Http {
            url: url.to_string(),
            client: reqwest::blocking::Client::new(),
        }
    }

    pub fn req(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(m, format!("{}{}", self.url, path));
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = rb.send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.req(method, path, body);
        assert!((200..300).contains(&s), "{method} {path} → {s} {v}");
        v
    }

    pub fn count(&self, index: &str, query: Value) -> u64 {
        self.ok(
            "POST",
            &format!("/{index}/_count"),
            Some(json!({"query": query})),
        )["count"]
            .as_u64()
            .unwrap()
    }

    pub fn total(&self, index: &str) -> u64 {
        self.count(index, json!({"match_all": {}}))
    }

    pub fn exists(&self, index: &str) -> bool {
        self.req("HEAD", &format!("/{index}"), None).0 == 200
    }

    /// `index.blocks.write` as the server reports it (`None` = not set).
    pub fn write_block(&self, index: &str) -> Option<String> {
        let v = self.ok(
            "GET",
            &format!("/{index}/_settings?flat_settings=true"),
            None,
        );
        v[index]["settings"]["index.blocks.write"]
            .as_str()
            .map(str::to_string)
    }

    pub fn bulk(&self, ndjson: String) {
        let resp = self
            .client
            .post(format!("{}/_bulk?refresh=true", self.url))
            .header("Content-Type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .unwrap();
        let v: Value = serde_json::from_str(&resp.text().unwrap()).unwrap();
        assert_eq!(
            v["errors"],
            false,
            "bulk failed: {}",
            &v.to_string()[..500.min(v.to_string().len())]
        );
    }

    /// Everything that a split could change: indices, counts, settings, mappings, aliases.
    pub fn snapshot(&self) -> Value {
        let mut indices: Vec<Value> = self
            .ok("GET", "/_cat/indices?format=json&h=index,docs.count", None)
            .as_array()
            .unwrap()
            .clone();
        indices.sort_by_key(|i| i["index"].as_str().unwrap().to_string());
        let mut settings = self.ok("GET", "/_all/_settings?flat_settings=true", None);
        if let Some(m) = settings.as_object_mut() {
            m.retain(|k, _| !k.starts_with('.'));
        }
        json!({"indices": indices, "settings": settings, "mappings": self.ok("GET", "/_all/_mapping", None),
               "aliases": self.ok("GET", "/_alias", None)})
    }
}

/// Day 0 of the generated data and the span it covers.
pub const START_MS: i64 = 1_388_534_400_000; // 2014-01-01T00:00:00Z
pub const SPAN_MS: i64 = 3 * 365 * 86_400_000; // to the end of 2016
/// 2015-01-01T00:00:00Z, the usual midpoint.
pub const MID_MS: i64 = 1_420_070_400_000;

/// The date of generated document `i` of `n`.
pub fn doc_ms(i: u64, n: u64) -> i64 {
    START_MS + (SPAN_MS as i128 * i as i128 / n as i128) as i64
}

/// Creates `index` (2 shards, no replicas) with `mappings` and loads `n` documents evenly
/// spread over 2014–2016 plus `missing` documents without the date.
pub fn load(http: &Http, index: &str, field_type: &str, n: u64, missing: u64) {
    http.ok(
        "PUT",
        &format!("/{index}"),
        Some(json!({
            "settings": {"number_of_shards": 2, "number_of_replicas": 0},
            "mappings": {"_meta": {"owner": "tests"}, "properties": {
                "date": {"type": field_type, "format": "strict_date_optional_time||epoch_millis"},
                "msg": {"type": "text"}, "n": {"type": "long"}}}
        })),
    );
    load_docs(http, index, n, missing);
}

/// Appends documents to an existing index.
pub fn load_docs(http: &Http, index: &str, n: u64, missing: u64) {
    let mut batch = String::new();
    let flush = |batch: &mut String| {
        if !batch.is_empty() {
            http.bulk(std::mem::take(batch));
        }
    };
    for i in 0..n + missing {
        batch.push_str(&json!({"index": {"_index": index, "_id": format!("d{i}")}}).to_string());
        batch.push('\n');
        let doc = if i < n {
            json!({"date": doc_ms(i, n), "msg": format!("message {i}"), "n": i})
        } else {
            json!({"msg": format!("no date {i}"), "n": i})
        };
        batch.push_str(&doc.to_string());
        batch.push('\n');
        if (i + 1) % 2000 == 0 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
}

/// How many generated documents lie before `mid_ms`.
pub fn expected_before(n: u64, mid_ms: i64) -> u64 {
    (0..n).filter(|&i| doc_ms(i, n) < mid_ms).count() as u64
}

/// How many files a state directory holds (a finished or refused split leaves none).
pub fn state_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// The built binary with an isolated state directory.
pub fn es_split(state: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("es-split").unwrap();
    cmd.env_remove("ES_URL")
        .env_remove("ES_INDEX")
        .env_remove("ES_USER")
        .env_remove("ES_PASSWORD")
        .env_remove("ES_API_KEY")
        .env("ES_SPLIT_STATE_DIR", state);
    cmd
}

/// The usual split of `logs` on `date` at 2015-01-01 for `url`, fast polls, `--yes`; a flag
/// in `extra` replaces its default.
pub fn split_argv(url: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["--url", url].iter().map(|s| s.to_string()).collect();
    for (flag, value) in [
        ("--index", "logs"),
        ("--field", "date"),
        ("--mid", "2015-01-01"),
        ("--poll-interval", "0.01"),
        ("--retry-delay", "0.01"),
        ("--scroll-size", "50"),
    ] {
        if !extra.contains(&flag) {
            v.extend([flag.to_string(), value.to_string()]);
        }
    }
    v.push("--yes".into());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// [`run`] with owned arguments.
pub fn run_argv(state: &std::path::Path, argv: &[String]) -> (i32, String, String) {
    run(state, &argv.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Runs the binary and returns (exit code, stdout, stderr).
pub fn run(state: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = es_split(state).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
