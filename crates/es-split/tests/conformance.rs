//! Keeps the fake honest: the same request table against the fake and osmem-server, on the
//! subset both implement, must give the same status and key fields. Intentional differences
//! (documented in support/fake_es.rs): the fake blocks deletes under the write block, has
//! refresh lag, and implements `_clone` and `_tasks`.
use serde_json::{json, Value};

use crate::support::fake_es::{docs, FakeEs, Flavor};
use crate::support::*;

/// (method, path, body, JSON pointer to compare — empty: compare the status only)
fn table() -> Vec<(&'static str, String, Option<Value>, &'static str)> {
    let count = |q: Value| Some(json!({ "query": q }));
    vec![
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"lt": "2015-01-01"}}})),
            "/count",
        ),
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"gte": "2015-01-01"}}})),
            "/count",
        ),
        // A partial date rounds down for both lt and gte (range-query "Missing date components").
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"lt": "2015-07"}}})),
            "/count",
        ),
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"gte": "2015-07"}}})),
            "/count",
        ),
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"lt": MID_MS, "format": "epoch_millis"}}})),
            "/count",
        ),
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"bool": {"must_not": [{"exists": {"field": "date"}}]}})),
            "/count",
        ),
        (
            "POST",
            "/logs/_count".into(),
            count(json!({"range": {"date": {"lt": "garbage"}}})),
            "/error/root_cause/0/type",
        ),
        (
            "POST",
            "/nope/_count".into(),
            count(json!({"match_all": {}})),
            "/error/type",
        ),
        ("GET", "/nope/_mapping".into(), None, "/error/type"),
        ("PUT", "/logs".into(), Some(json!({})), "/error/type"),
        (
            "PUT",
            "/logs/_settings".into(),
            Some(json!({"index.blocks.write": true})),
            "/acknowledged",
        ),
        (
            "GET",
            "/logs/_settings?flat_settings=true".into(),
            None,
            "/logs/settings/index.blocks.write",
        ),
        (
            "PUT",
            "/logs/_doc/new".into(),
            Some(json!({"date": "2020-01-01"})),
            "/error/type",
        ),
        (
            "PUT",
            "/logs/_settings".into(),
            Some(json!({"index.blocks.write": null})),
            "/acknowledged",
        ),
        (
            "GET",
            "/logs/_settings?flat_settings=true".into(),
            None,
            "/logs/settings/index.blocks.write",
        ),
        (
            "POST",
            "/_aliases".into(),
            Some(json!({"actions": [{"add": {"index": "logs", "alias": "all"}}]})),
            "/acknowledged",
        ),
        ("GET", "/_alias/all".into(), None, "/logs"),
        ("GET", "/_alias/none".into(), None, ""),
        // The disk check's index stats, and the clone wait's 408 (cluster-health.html).
        ("GET", "/logs/_stats/store".into(), None, "/_shards/failed"),
        ("GET", "/nope/_stats/store".into(), None, "/error/type"),
        (
            "GET",
            "/_cluster/health/nope?wait_for_status=yellow&timeout=1s".into(),
            None,
            "/timed_out",
        ),
        ("POST", "/logs/_no_such_api".into(), None, ""),
    ]
}

#[test]
fn fake_and_osmem_agree_on_the_shared_subset() {
    let (n, missing) = (900, 4);
    let os = Osmem::start();
    load(&os.http(), "logs", "date", n, missing);
    let fake = FakeEs::start(Flavor::OpenSearch("2.19.1"));
    fake.add_index("logs", 2, docs(n, missing));
    let (a, b) = (os.http(), Http::new(&fake.url));
    for (method, path, body, pointer) in table() {
        let (sa, va) = a.req(method, &path, body.clone());
        let (sb, vb) = b.req(method, &path, body);
        assert_eq!(sa, sb, "{method} {path}: osmem {va} vs fake {vb}");
        if !pointer.is_empty() {
            let (pa, pb) = (va.pointer(pointer), vb.pointer(pointer));
            assert_eq!(pa, pb, "{method} {path} {pointer}: osmem {va} vs fake {vb}");
            assert!(
                pa.is_some() || pointer.ends_with("write"),
                "{method} {path}: {pointer} missing in {va}"
            );
        }
    }
    // Both report the primaries' store size where the disk check reads it.
    for v in [&a, &b].map(|h| h.ok("GET", "/logs/_stats/store", None)) {
        assert!(
            v.pointer("/indices/logs/primaries/store/size_in_bytes")
                .and_then(Value::as_u64)
                .is_some_and(|n| n > 0),
            "{v}"
        );
    }
    // The unknown-route error is a plain string on both.
    let (_, va) = a.req("POST", "/logs/_no_such_api", None);
    let (_, vb) = b.req("POST", "/logs/_no_such_api", None);
    assert!(
        va["error"]
            .as_str()
            .unwrap()
            .starts_with("no handler found"),
        "{va}"
    );
    assert!(
        vb["error"]
            .as_str()
            .unwrap()
            .starts_with("no handler found"),
        "{vb}"
    );
}
