//! Opt-in suite against a real cluster, so the `_clone` path, real tasks, real refresh lag
//! and real security are exercised. Every test is ignored by default; run them with
//!
//! ```sh
//! ES_SPLIT_TEST_URL=https://localhost:9200 ES_USER=elastic ES_PASSWORD=… \
//!   ES_SPLIT_TEST_CA_CERT=http_ca.crt cargo test -p es-split -- --ignored real_cluster
//! ```
//!
//! (`ES_API_KEY` instead of user/password, `ES_SPLIT_TEST_INSECURE=1` instead of a CA;
//! crates/es-split/docker-compose.yml starts Elasticsearch 8 and OpenSearch 2.)
//! Index names are unique per run and everything created is deleted afterwards.
use serde_json::{json, Value};

use crate::support::*;

struct Cluster {
    url: String,
    http: Http,
    tls_args: Vec<String>,
    prefix: String,
}

impl Cluster {
    /// Reads the environment; panics (never skips) when the suite was asked for without a URL.
    fn from_env() -> Self {
        let url = std::env::var("ES_SPLIT_TEST_URL").unwrap_or_else(|_| {
            panic!("set ES_SPLIT_TEST_URL (see crates/es-split/README.md, `docker compose up`)")
        });
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(key) = std::env::var("ES_API_KEY") {
            headers.insert("authorization", format!("ApiKey {key}").parse().unwrap());
        }
        let mut builder = reqwest::blocking::Client::builder().default_headers(headers);
        let mut tls_args = Vec::new();
        if let Ok(ca) = std::env::var("ES_SPLIT_TEST_CA_CERT") {
            let pem =
                std::fs::read(&ca).unwrap_or_else(|e| panic!("ES_SPLIT_TEST_CA_CERT {ca}: {e}"));
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
            tls_args = vec!["--ca-cert".into(), ca];
        }
        if std::env::var_os("ES_SPLIT_TEST_INSECURE").is_some() {
            builder = builder.danger_accept_invalid_certs(true);
            tls_args = vec!["--insecure".into()];
        }
        let client = builder.build().unwrap();
        // Basic auth rides in the URL for the helper; es-split gets --user + ES_PASSWORD.
        let helper_url = match (std::env::var("ES_USER"), std::env::var("ES_PASSWORD")) {
            (Ok(u), Ok(p)) => url.replacen("://", &format!("://{u}:{p}@"), 1),
            _ => url.clone(),
        };
        let prefix = format!(
            "es-split-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
        );
        Cluster {
            url,
            http: Http::with_client(&helper_url, client),
            tls_args,
            prefix,
        }
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// Splits `index` on `date` at `mid`; `extra` holds more arguments as whitespace-separated
    /// words (the generated index names have no spaces).
    fn es_split(
        &self,
        state: &std::path::Path,
        index: &str,
        mid: &str,
        extra: &str,
    ) -> (i32, String, String) {
        let mut cmd = assert_cmd::Command::cargo_bin("es-split").unwrap();
        cmd.env("ES_SPLIT_STATE_DIR", state)
            .arg("--url")
            .arg(&self.url)
            .args(&self.tls_args)
            .args(["--index", index, "--field", "date", "--mid", mid, "--yes"])
            .args(["--journal-index", &self.name("journal")])
            .args(extra.split_whitespace());
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    fn cleanup(&self) {
        let _ = self.http.req(
            "DELETE",
            &format!("/{}-*?expand_wildcards=all", self.prefix),
            None,
        );
    }

    /// A source index with 1 replica-less shard set and `n` documents.
    fn source(&self, suffix: &str, n: u64, missing: u64) -> String {
        let name = self.name(suffix);
        load(&self.http, &name, "date", n, missing);
        self.http.ok("POST", &format!("/{name}/_refresh"), None);
        name
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.cleanup();
    }
}

#[test]
#[ignore = "needs a real cluster: set ES_SPLIT_TEST_URL"]
fn real_cluster_clone_split() {
    let c = Cluster::from_env();
    let src = c.source("logs", 5000, 3);
    let (first, second) = (c.name("a"), c.name("b"));
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = c.es_split(
        state.path(),
        &src,
        "2015-01-01",
        &format!("--first {first} --second {second} --missing second --json"),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["method"], "clone");
    let before = expected_before(5000, MID_MS);
    assert_eq!(c.http.total(&first), before);
    assert_eq!(c.http.total(&second), 5000 - before + 3);
    assert_eq!(c.http.total(&src), 5003);
    assert_eq!(c.http.write_block(&src), None);
    c.http.ok(
        "PUT",
        &format!("/{src}/_doc/after?refresh=true"),
        Some(json!({"date": "2020-01-01"})),
    );
}

#[test]
#[ignore = "needs a real cluster: set ES_SPLIT_TEST_URL"]
fn real_cluster_reindex_method_and_mid_auto_with_alias() {
    let c = Cluster::from_env();
    let src = c.source("logs", 3000, 0);
    let (first, second, alias) = (c.name("a"), c.name("b"), c.name("all"));
    let state = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = c.es_split(
        state.path(),
        &src,
        "auto",
        &format!("--first {first} --second {second} --method reindex --alias {alias} --json"),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let mid = report["mid_epoch_millis"].as_i64().unwrap();
    assert_eq!(c.http.total(&first), expected_before(3000, mid));
    assert_eq!(c.http.total(&alias), 3000);
}

#[test]
#[ignore = "needs a real cluster: set ES_SPLIT_TEST_URL"]
fn real_cluster_dry_run_and_refusals_change_nothing() {
    let c = Cluster::from_env();
    let src = c.source("logs", 500, 2);
    let state = tempfile::tempdir().unwrap();
    let (code, _, stderr) = c.es_split(
        state.path(),
        &src,
        "2015-01-01",
        "--missing first --dry-run",
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = c.es_split(state.path(), &src, "2015-01-01", "");
    assert_eq!(code, 2);
    assert!(stderr.contains("--missing"), "{stderr}");
    let (code, _, stderr) = c.es_split(state.path(), &src, "not-a-date", "--missing first");
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a date"), "{stderr}");
    assert!(!c.http.exists(&format!("{src}-firsthalf")));
    assert_eq!(c.http.write_block(&src), None);
}

#[test]
#[ignore = "needs a real cluster: set ES_SPLIT_TEST_URL"]
fn real_cluster_journal_aliases_and_a_finished_split() {
    let c = Cluster::from_env();
    let src = c.source("logs", 2000, 0);
    let (first, second, alias) = (c.name("a"), c.name("b"), c.name("w"));
    c.http.ok(
        "POST",
        "/_aliases",
        Some(
            json!({"actions": [{"add": {"index": src, "alias": alias, "is_write_index": true,
            "filter": {"range": {"n": {"gte": 0}}}}}]}),
        ),
    );
    let state = tempfile::tempdir().unwrap();
    let names = format!("--first {first} --second {second}");
    let (code, stdout, stderr) = c.es_split(
        state.path(),
        &src,
        "2015-01-01",
        &format!("{names} --delete-source --json"),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["source_deleted"], true);
    assert!(!c.http.exists(&src));
    // The write alias moved intact, in the same step as the deletion.
    let moved = c.http.ok("GET", &format!("/_alias/{alias}"), None);
    assert_eq!(
        moved[&second]["aliases"][&alias]["is_write_index"], true,
        "{moved}"
    );
    assert!(
        moved[&first]["aliases"][&alias].get("filter").is_some(),
        "{moved}"
    );
    assert_eq!(c.http.total(&alias), 2000);
    // The journal says done, and a finished split is never rolled back.
    let journal = c
        .http
        .ok("GET", &format!("/{}/_doc/{src}", c.name("journal")), None);
    assert_eq!(journal["_source"]["phase"], "done");
    let (code, _, stderr) = c.es_split(
        state.path(),
        &src,
        "2015-01-01",
        &format!("{names} --rollback"),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(c.http.total(&first) + c.http.total(&second), 2000);
}
