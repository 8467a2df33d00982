//! Typed cluster calls built on the one request helper: each REST endpoint the tool uses
//! appears here exactly once (one count helper, one health wait, …; the task poller is in `tasks`).
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{enc, http_error, is_no_handler, Es, Method};
use crate::error::{sanitize, Error, Result};
use crate::version::ServerInfo;

/// `GET /`: product and version.
pub fn server_info(es: &Es) -> Result<ServerInfo> {
    let reply = es.send("connect", Method::Get, "/", None, false)?;
    match reply.status {
        200..=299 => ServerInfo::from_root(&reply.json),
        400 | 404 | 405 => Err(Error::Refused(format!(
            "GET {}/ answered HTTP {}, not the cluster's root: give --url without a path (e.g. https://host:9200)",
            es.url(),
            reply.status
        ))),
        s => Err(http_error("connect", s, &reply.json)),
    }
}

/// Whether an index (or alias) of that name exists.
pub fn exists(es: &Es, step: &str, name: &str) -> Result<bool> {
    let reply = es.send(step, Method::Head, &format!("/{}", enc(name)), None, false)?;
    match reply.status {
        200 => Ok(true),
        404 => Ok(false),
        s => Err(http_error(step, s, &reply.json)),
    }
}

/// The mapping of one concrete index (`mappings` object). Refuses aliases and patterns,
/// which `_clone` cannot take.
pub fn mapping(es: &Es, index: &str) -> Result<Value> {
    let Some(reply) = es.get_if_exists("read mapping", &format!("/{}/_mapping", enc(index)))?
    else {
        return Err(Error::Refused(format!(
            "index {:?} does not exist (check --index)",
            sanitize(index)
        )));
    };
    let obj = reply.as_object().cloned().unwrap_or_default();
    match obj.get(index) {
        Some(v) if obj.len() == 1 => Ok(v.get("mappings").cloned().unwrap_or_else(|| json!({}))),
        _ => {
            let names: Vec<String> = obj.keys().map(|k| sanitize(k)).collect();
            Err(Error::Refused(format!(
                "--index {:?} resolves to [{}]: give one concrete index name, not an alias or pattern",
                sanitize(index),
                names.join(", ")
            )))
        }
    }
}

/// `GET /<index>/_settings?flat_settings=true` → the flat settings object.
pub fn settings(es: &Es, index: &str) -> Result<serde_json::Map<String, Value>> {
    let v = es.call(
        "read settings",
        Method::Get,
        &format!("/{}/_settings?flat_settings=true", enc(index)),
        None,
    )?;
    Ok(v.get(index)
        .and_then(|i| i.get("settings"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default())
}

/// A boolean setting: absent ⇒ `None`; values arrive as strings ("true") or booleans.
pub fn flag(settings: &serde_json::Map<String, Value>, key: &str) -> Option<bool> {
    match settings.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Sets `index.blocks.write` to a value, or back to the default with `None`.
pub fn put_write_block(es: &Es, step: &str, index: &str, value: Option<bool>) -> Result<()> {
    let body = json!({"index.blocks.write": value});
    es.call(
        step,
        Method::Put,
        &format!("/{}/_settings", enc(index)),
        Some(&body),
    )?;
    Ok(())
}

/// Adds a write block. Prefers `PUT /<index>/_block/write` (ES 7.9+, OpenSearch), which also
/// waits for in-flight writes to drain; falls back to the setting where that API is missing.
pub fn add_write_block(es: &Es, index: &str) -> Result<()> {
    let step = "block writes";
    let reply = es.send(
        step,
        Method::Put,
        &format!("/{}/_block/write", enc(index)),
        None,
        false,
    )?;
    if reply.success() {
        return Ok(());
    }
    if is_no_handler(&reply) || reply.status == 404 || reply.status == 405 {
        return put_write_block(es, step, index, Some(true));
    }
    reply.ok(step).map(drop)
}

/// `_count` of a query; a count with failed shards is partial and therefore an error.
pub fn count(es: &Es, step: &str, index: &str, query: &Value) -> Result<u64> {
    let v = es.call(
        step,
        Method::Post,
        &format!("/{}/_count", enc(index)),
        Some(&json!({"query": query})),
    )?;
    check_shards(step, &v, "failed to count; the count is partial")?;
    v.get("count")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::BadResponse {
            step: step.into(),
            reason: "no `count` in the answer".into(),
        })
}

/// The median of a date field as (epoch millis, the server's formatted string), or `None`
/// when no document has a value. Uses the numeric value: `value_as_string` follows the
/// field's first format and may be truncated to a day.
pub fn median(es: &Es, index: &str, field: &str) -> Result<Option<(i64, Option<String>)>> {
    let step = "compute --mid auto";
    let body =
        json!({"size": 0, "aggs": {"mid": {"percentiles": {"field": field, "percents": [50]}}}});
    let v = es.call(
        step,
        Method::Post,
        &format!("/{}/_search", enc(index)),
        Some(&body),
    )?;
    let values = v
        .pointer("/aggregations/mid/values")
        .ok_or_else(|| Error::BadResponse {
            step: step.into(),
            reason: "no percentiles in the answer".into(),
        })?;
    Ok(parse_percentile(values))
}

/// Reads the 50th percentile from keyed (`{"50.0":…}`) or unkeyed (`[{key,value}]`) output.
pub fn parse_percentile(values: &Value) -> Option<(i64, Option<String>)> {
    let (num, text) = match values {
        Value::Object(m) => (m.get("50.0")?, m.get("50.0_as_string")),
        Value::Array(a) => {
            let e = a.first()?;
            (e.get("value")?, e.get("value_as_string"))
        }
        _ => return None,
    };
    let ms = num.as_f64()?;
    if !ms.is_finite() {
        return None;
    }
    Some((
        ms.floor() as i64,
        text.and_then(Value::as_str).map(str::to_string),
    ))
}

/// Cluster health status of one index.
pub fn health(es: &Es, index: &str) -> Result<String> {
    let v = es.call(
        "check health",
        Method::Get,
        &format!("/_cluster/health/{}", enc(index)),
        None,
    )?;
    Ok(health_status(&v))
}

/// Shard counts of one index from a cluster health answer (ES cluster-health.html).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardHealth {
    pub status: String,
    pub active: u64,
    /// Active (relocating ones included) + initializing + unassigned: every copy the index
    /// should have.
    pub total: u64,
}

impl ShardHealth {
    fn from_health(v: &Value) -> Self {
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        let active = n("active_shards");
        Self {
            status: health_status(v),
            active,
            total: active
                .saturating_add(n("initializing_shards"))
                .saturating_add(n("unassigned_shards")),
        }
    }
}

/// Waits until every primary of `index` is active (yellow or better), long-polling the
/// server for up to `poll` at a time and calling `on_poll` with the shard counts after each
/// answer. A 408 (or `timed_out: true`) from `wait_for_status` only means "not yet".
pub fn wait_active(
    es: &Es,
    step: &str,
    index: &str,
    poll: Duration,
    mut on_poll: impl FnMut(&ShardHealth),
) -> Result<String> {
    let secs = poll.as_secs().max(1);
    let path = format!(
        "/_cluster/health/{}?wait_for_status=yellow&timeout={secs}s",
        enc(index)
    );
    loop {
        let reply = es.send(step, Method::Get, &path, None, false)?;
        let timed_out = reply
            .json
            .get("timed_out")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !(reply.success() || reply.status == 408) {
            return Err(http_error(step, reply.status, &reply.json));
        }
        let health = ShardHealth::from_health(&reply.json);
        on_poll(&health);
        if reply.success() && !timed_out {
            return Ok(health.status);
        }
    }
}

/// `_flush`, `_refresh` or `_forcemerge?only_expunge_deletes=true` on some indices; checks
/// `_shards.failed` (not `successful`, which counts unassigned replicas).
pub fn maintenance(es: &Es, step: &str, indices: &[&str], op: &str) -> Result<()> {
    let names: Vec<String> = indices.iter().map(|i| enc(i)).collect();
    let long = op.starts_with("_forcemerge");
    let v = es
        .send(
            step,
            Method::Post,
            &format!("/{}/{op}", names.join(",")),
            None,
            long,
        )?
        .ok(step)?;
    check_shards(step, &v, "failed")
}

/// `_shards.failed` must be 0 (not `successful == total`: unassigned replicas count in
/// `total`); `what` completes "N shard(s) …".
fn check_shards(step: &str, v: &Value, what: &str) -> Result<()> {
    match v.pointer("/_shards/failed").and_then(Value::as_u64) {
        Some(failed) if failed > 0 => Err(Error::BadResponse {
            step: step.into(),
            reason: format!("{failed} shard(s) {what}"),
        }),
        _ => Ok(()),
    }
}

/// The `status` of a cluster health answer.
fn health_status(v: &Value) -> String {
    v.get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string()
}

/// Probes an endpoint without side effects: a 400 "no handler found" means the server lacks it.
fn probe(es: &Es, step: &str, method: Method, path: &str) -> Result<bool> {
    let reply = es.send(step, method, path, None, false)?;
    if is_no_handler(&reply) {
        return Ok(false);
    }
    if reply.status == 401 {
        return Err(http_error(step, reply.status, &reply.json));
    }
    Ok(true)
}

/// Whether `_clone` exists: cloning a non-existent index answers 404 `index_not_found_exception`
/// where the API exists and 400 "no handler found" where it does not — nothing is created.
pub fn clone_supported(es: &Es) -> Result<bool> {
    let path = format!(
        "/es-split-probe-{}-absent/_clone/es-split-probe-target",
        std::process::id()
    );
    probe(es, "probe _clone", Method::Post, &path)
}

/// Whether the tasks API answers (needs the `monitor` privilege; osmem lacks it).
pub fn tasks_supported(es: &Es) -> Result<bool> {
    let reply = es.send(
        "probe _tasks",
        Method::Get,
        "/_tasks?actions=*byquery&detailed=false",
        None,
        false,
    )?;
    Ok(reply.success())
}

/// `_clone` with the write block cleared, the replica count set (the clone copies every
/// setting, `index.blocks.write` included, except the replica count) and `drop` reset to
/// their defaults. Never blindly retried: after an ambiguous failure the target's existence
/// decides (the caller holds the lease and checked the target was absent).
pub fn clone_index(
    es: &Es,
    src: &str,
    target: &str,
    source_settings: &serde_json::Map<String, Value>,
    drop: &[String],
) -> Result<()> {
    let step = "clone";
    let mut settings = json!({"index.blocks.write": null});
    for key in ["index.number_of_replicas", "index.auto_expand_replicas"] {
        if let Some(v) = source_settings.get(key) {
            settings[key] = v.clone();
        }
    }
    for key in drop {
        settings[key.as_str()] = Value::Null;
    }
    let path = format!(
        "/{}/_clone/{}?wait_for_active_shards=1",
        enc(src),
        enc(target)
    );
    let outcome = es.send_once(
        step,
        Method::Post,
        &path,
        Some(&json!({"settings": settings})),
        false,
    );
    checked_once(step, outcome, true, || exists(es, step, target))
}

/// Settles a request that must not run twice: success, or (with `exists_ok`) a 400
/// `resource_already_exists_exception`, is done; another 4xx is an error; after an ambiguous
/// failure (5xx, reset, timeout) `ran` reads the cluster to tell whether it went through.
pub fn checked_once(
    step: &str,
    outcome: Result<crate::client::Reply>,
    exists_ok: bool,
    ran: impl FnOnce() -> Result<bool>,
) -> Result<()> {
    match outcome {
        Ok(r) if r.success() => Ok(()),
        Ok(r)
            if exists_ok
                && r.status == 400
                && crate::client::error_parts(&r.json).0 == "resource_already_exists_exception" =>
        {
            Ok(())
        }
        Ok(r) if r.status < 500 => Err(http_error(step, r.status, &r.json)),
        other => {
            if ran()? {
                return Ok(());
            }
            match other {
                Ok(r) => Err(http_error(step, r.status, &r.json)),
                Err(e) => Err(e),
            }
        }
    }
}

/// Creates an index with a body (settings, mappings). An existing index is not an error
/// here: the caller checks that it carries this split's journal.
pub fn create_index(es: &Es, name: &str, body: &Value) -> Result<()> {
    let step = "create target";
    let outcome = es.send_once(
        step,
        Method::Put,
        &format!("/{}", enc(name)),
        Some(body),
        false,
    );
    checked_once(step, outcome, true, || exists(es, step, name))
}

/// Deletes an index; one that is already gone (a retried delete) is fine.
pub fn delete_index(es: &Es, step: &str, name: &str) -> Result<()> {
    let reply = es.send(
        step,
        Method::Delete,
        &format!("/{}", enc(name)),
        None,
        false,
    )?;
    if reply.success() || reply.status == 404 {
        return Ok(());
    }
    Err(http_error(step, reply.status, &reply.json))
}

/// The `index.uuid` of an index (from its flat settings).
pub fn index_uuid(settings: &serde_json::Map<String, Value>) -> Option<String> {
    settings
        .get("index.uuid")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `max_seq_no` of every primary shard (`GET <index>/_stats/docs?level=shards`, ES
/// indices-stats.html `shards.<n>[].seq_no`). `None` where the server does not report it.
pub fn seq_nos(es: &Es, index: &str) -> Result<Option<std::collections::BTreeMap<String, i64>>> {
    let step = "read the source's sequence numbers";
    let v = es.call(
        step,
        Method::Get,
        &format!("/{}/_stats/docs?level=shards", enc(index)),
        None,
    )?;
    let Some(shards) = v
        .get("indices")
        .and_then(|i| i.get(index))
        .and_then(|i| i.get("shards"))
        .and_then(Value::as_object)
    else {
        return Ok(None);
    };
    let mut out = std::collections::BTreeMap::new();
    for (shard, copies) in shards {
        let primary = copies.as_array().and_then(|c| {
            c.iter().find(|copy| {
                copy.pointer("/routing/primary").and_then(Value::as_bool) == Some(true)
            })
        });
        let Some(seq) = primary
            .and_then(|p| p.pointer("/seq_no/max_seq_no"))
            .and_then(Value::as_i64)
        else {
            return Ok(None);
        };
        out.insert(shard.clone(), seq);
    }
    Ok((!out.is_empty()).then_some(out))
}

/// The source's aliases; an alias without `is_write_index` takes writes only if the source
/// is its one index.
pub fn source_aliases(es: &Es, index: &str) -> Result<Vec<crate::hygiene::Alias>> {
    let Some(v) = es.get_if_exists("read aliases", &format!("/{}/_alias", enc(index)))? else {
        return Ok(Vec::new());
    };
    let mut out = crate::hygiene::parse_aliases(&v, index);
    for a in &mut out {
        if a.def.get("is_write_index").is_none() {
            a.writes_to_source = alias_indices(es, &a.name)?.len() == 1;
        }
    }
    Ok(out)
}

/// The smallest and largest value of a date field, in epoch milliseconds.
pub fn min_max(es: &Es, index: &str, field: &str) -> Result<(Option<i64>, Option<i64>)> {
    let step = "read the field's range";
    let body = json!({"size": 0, "aggs": {"lo": {"min": {"field": field}}, "hi": {"max": {"field": field}}}});
    let v = es.call(
        step,
        Method::Post,
        &format!("/{}/_search", enc(index)),
        Some(&body),
    )?;
    let get = |k: &str| {
        v.pointer(&format!("/aggregations/{k}/value"))
            .and_then(Value::as_f64)
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
    };
    Ok((get("lo"), get("hi")))
}

/// Asks the server how it reads `{"range": {field: {"gte": mid}}}` (`_validate/query?explain`,
/// ES search-validate.html): the explanation holds the Lucene range `field:[LOW TO HIGH]`,
/// so date math, the field's format and rounding are the server's own. `Ok(None)` when the
/// server has no such API or gives no parsable explanation; an error when it rejects `mid`.
pub fn explain_gte(es: &Es, index: &str, field: &str, mid: &str) -> Result<Option<i64>> {
    let step = "resolve --mid";
    let body = json!({"query": {"range": {field: {"gte": mid}}}});
    let reply = es.send(
        step,
        Method::Post,
        &format!("/{}/_validate/query?explain=true", enc(index)),
        Some(&body),
        false,
    )?;
    if is_no_handler(&reply) || reply.status == 404 || reply.status == 405 {
        return Ok(None);
    }
    let v = reply.ok(step)?;
    let Some(first) = v.pointer("/explanations/0") else {
        return Ok(None);
    };
    if first.get("valid").and_then(Value::as_bool) == Some(false)
        || v.get("valid").and_then(Value::as_bool) == Some(false)
    {
        let why = first
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("invalid query");
        return Err(Error::Refused(format!(
            "--mid {:?} is not a date the field {} accepts: {}",
            sanitize(mid),
            sanitize(field),
            sanitize(why.split(';').next().unwrap_or(why))
        )));
    }
    let text = first
        .get("explanation")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(parse_range_low(text, field))
}

/// The lower bound of the first `field:[LOW TO HIGH]` in a Lucene query string.
pub fn parse_range_low(text: &str, field: &str) -> Option<i64> {
    let needle = format!("{field}:[");
    let start = text.find(&needle)? + needle.len();
    let rest = &text[start..];
    rest[..rest.find(" TO ")?].trim().parse().ok()
}

/// Whether the mapping is a data stream's backing index (`_data_stream_timestamp`, ES
/// data-streams.html; OpenSearch uses the same meta field).
pub fn is_data_stream_backing(index: &str, mappings: &Value) -> bool {
    index.starts_with(".ds-")
        || mappings
            .pointer("/_data_stream_timestamp/enabled")
            .and_then(Value::as_bool)
            == Some(true)
}

/// Replaces the mapping's `_meta` (used as the on-cluster journal).
pub fn put_meta(es: &Es, index: &str, meta: &Value) -> Result<()> {
    es.call(
        "write journal",
        Method::Put,
        &format!("/{}/_mapping", enc(index)),
        Some(&json!({"_meta": meta})),
    )?;
    Ok(())
}

/// Indices an alias currently points at (empty when the alias does not exist).
pub fn alias_indices(es: &Es, alias: &str) -> Result<Vec<String>> {
    let reply = es.get_if_exists("read alias", &format!("/_alias/{}", enc(alias)))?;
    Ok(reply
        .as_ref()
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// Applies alias actions atomically (`POST _aliases`), never blindly retried; after an
/// ambiguous failure, a `deleted` index that is gone means the call ran.
pub fn update_aliases(es: &Es, actions: &[Value], deleted: Option<&String>) -> Result<()> {
    let step = "alias";
    let body = json!({ "actions": actions });
    let outcome = es.send_once(step, Method::Post, "/_aliases", Some(&body), false);
    checked_once(step, outcome, false, || match deleted {
        Some(src) => exists(es, step, src).map(|e| !e),
        None => Ok(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_keyed_unkeyed_and_null() {
        let keyed = json!({"50.0": 1.4358897674261604E12, "50.0_as_string": "2015-07-03"});
        assert_eq!(
            parse_percentile(&keyed),
            Some((1_435_889_767_426, Some("2015-07-03".into())))
        );
        let unkeyed = json!([{"key": 50.0, "value": 1.0E12, "value_as_string": "2001-09-09"}]);
        assert_eq!(
            parse_percentile(&unkeyed).map(|p| p.0),
            Some(1_000_000_000_000)
        );
        assert_eq!(parse_percentile(&json!({"50.0": null})), None);
    }

    #[test]
    fn lucene_range_explanations_are_read() {
        let es8 = "IndexOrDocValuesQuery(indexQuery=date:[1420070400000 TO 9223372036854775807], dvQuery=date:[1420070400000 TO 9223372036854775807])";
        assert_eq!(parse_range_low(es8, "date"), Some(1_420_070_400_000));
        assert_eq!(parse_range_low("ts:[-5 TO 9]", "ts"), Some(-5));
        assert_eq!(parse_range_low("MatchNoDocsQuery(\"\")", "date"), None);
        assert!(is_data_stream_backing(
            ".ds-logs-2025.01.01-000001",
            &json!({})
        ));
        assert!(is_data_stream_backing(
            "x",
            &json!({"_data_stream_timestamp": {"enabled": true}})
        ));
        assert!(!is_data_stream_backing("logs", &json!({"properties": {}})));
    }

    #[test]
    fn settings_flags_are_strings_or_bools() {
        let s = json!({"index.blocks.write": "true", "b": false, "c": "nope"});
        let m = s.as_object().unwrap();
        assert_eq!(flag(m, "index.blocks.write"), Some(true));
        assert_eq!(flag(m, "b"), Some(false));
        assert_eq!(flag(m, "c"), None);
        assert_eq!(flag(m, "absent"), None);
    }
}
