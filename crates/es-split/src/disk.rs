//! The pre-flight disk check. `_clone` hard-links the source's segments, so the halves cost
//! almost nothing at first; but once each copy deletes the other half and is force-merged,
//! its segments are rewritten and no longer shared. Together the halves then hold about one
//! more copy of the source (primaries and their replicas), which the data nodes must have
//! room for (ES indices-clone-index.html: "The node handling the clone process must have
//! sufficient free disk space to accommodate a second copy of the existing index").
use indicatif::HumanBytes;
use serde_json::{Map, Value};

use crate::client::{enc, error_parts, Es, Method};
use crate::error::{sanitize, Error, Result};

/// What the cluster reports, or why it could not be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// `_stats/store` and `_nodes/stats/fs` answered.
    Known {
        /// Size of the source's primaries.
        primary_bytes: u64,
        /// Space available to Elasticsearch on the data nodes, summed.
        available_bytes: u64,
        /// How many data nodes reported.
        data_nodes: usize,
    },
    /// An API is missing, forbidden or reports zeros (compatible servers such as osmem).
    Unknown(String),
}

/// The verdict of the check, with the numbers to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Enough room: `needed` of `available` bytes.
    Enough { needed: u64, available: u64 },
    /// Cannot tell; the split goes ahead with this warning.
    Unknown(String),
}

/// Reads the source's primary store size and the data nodes' free disk.
pub fn read(es: &Es, index: &str) -> Result<Reading> {
    let stats = match optional(es, &format!("/{}/_stats/store", enc(index)))? {
        Ok(v) => v,
        Err(why) => return Ok(Reading::Unknown(why)),
    };
    // ES indices-stats.html: `indices.<index>.primaries.store.size_in_bytes`.
    let Some(primary_bytes) = stats
        .get("indices")
        .and_then(|i| i.get(index))
        .and_then(|i| i.pointer("/primaries/store/size_in_bytes"))
        .and_then(Value::as_u64)
    else {
        return Ok(Reading::Unknown(
            "the index stats have no primaries.store.size_in_bytes".into(),
        ));
    };
    let nodes = match optional(es, "/_nodes/stats/fs")? {
        Ok(v) => v,
        Err(why) => return Ok(Reading::Unknown(why)),
    };
    // The high watermark (ES modules-cluster.html, disk-based shard allocation): a node above
    // it gets no new shards, so space past it is not space the halves can use.
    let high = match optional(
        es,
        "/_cluster/settings?include_defaults=true&flat_settings=true",
    )? {
        Ok(v) => high_watermark(&v),
        Err(_) => Watermark::Ratio(0.9),
    };
    // The clones are allocated where the source's shards are (resize targets recover from
    // the source's files on the same node), so only those nodes' disks count.
    let holders: Vec<String> = match optional(
        es,
        &format!("/_cat/shards/{}?format=json&h=node", enc(index)),
    )? {
        Ok(Value::Array(rows)) => rows
            .iter()
            .filter_map(|r| r.get("node").and_then(Value::as_str).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Ok(match data_node_available(&nodes, high, &holders) {
        Some((available_bytes, data_nodes)) => Reading::Known {
            primary_bytes,
            available_bytes,
            data_nodes,
        },
        None => Reading::Unknown("the node stats list no data node with a file system".into()),
    })
}

/// `GET path`; an answer other than 2xx or 401 becomes the reason the check is skipped
/// (a missing API, or a user without the `monitor` privilege the split itself does not need).
fn optional(es: &Es, path: &str) -> Result<std::result::Result<Value, String>> {
    let step = "check free disk";
    let reply = es.send(step, Method::Get, path, None, false)?;
    if reply.success() {
        return Ok(Ok(reply.json));
    }
    if reply.status == 401 {
        return Err(crate::client::http_error(step, reply.status, &reply.json));
    }
    let (kind, reason) = error_parts(&reply.json);
    let status = reply.status.to_string();
    let words: Vec<&str> = ["GET", path, "answered HTTP", &status, &kind, &reason]
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect();
    Ok(Err(sanitize(&words.join(" "))))
}

/// `cluster.routing.allocation.disk.watermark.high`: a used fraction, or a minimum of free bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Watermark {
    Ratio(f64),
    FreeBytes(u64),
}

/// Reads the high watermark from `_cluster/settings?include_defaults&flat_settings`
/// (`persistent` over `transient` over `defaults`; "90%", "0.9" or "50gb"); 90% when unset.
pub fn high_watermark(settings: &Value) -> Watermark {
    let key = "cluster.routing.allocation.disk.watermark.high";
    let raw = ["transient", "persistent", "defaults"]
        .iter()
        .find_map(|scope| {
            settings
                .get(*scope)
                .and_then(|s| s.get(key))
                .and_then(Value::as_str)
        });
    let Some(raw) = raw.map(str::trim) else {
        return Watermark::Ratio(0.9);
    };
    if let Some(p) = raw
        .strip_suffix('%')
        .and_then(|p| p.trim().parse::<f64>().ok())
    {
        return Watermark::Ratio((p / 100.0).clamp(0.0, 1.0));
    }
    if let Ok(r) = raw.parse::<f64>() {
        return Watermark::Ratio(r.clamp(0.0, 1.0));
    }
    let lower = raw.to_ascii_lowercase();
    let units = [
        ("tb", 1u64 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("b", 1),
    ];
    for (unit, mul) in units {
        if let Some(n) = lower
            .strip_suffix(unit)
            .and_then(|n| n.trim().parse::<f64>().ok())
        {
            return Watermark::FreeBytes((n * mul as f64) as u64);
        }
    }
    Watermark::Ratio(0.9)
}

/// Sums, over the data nodes of a `_nodes/stats/fs` answer (ES cluster-nodes-stats.html)
/// that hold the source's shards (`holders`, by node name; all data nodes when empty), the
/// space available below the high watermark. A node without `roles` (old versions) counts as
/// data; data tiers are roles `data_hot`, `data_content`, …; OpenSearch uses `data` too.
pub fn data_node_available(
    nodes_stats: &Value,
    high: Watermark,
    holders: &[String],
) -> Option<(u64, usize)> {
    let nodes = nodes_stats.get("nodes").and_then(Value::as_object)?;
    let mut sum = 0u64;
    let mut count = 0;
    for node in nodes.values() {
        let is_data = node
            .get("roles")
            .and_then(Value::as_array)
            .is_none_or(|roles| {
                roles
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|r| r.starts_with("data"))
            });
        let holds = holders.is_empty()
            || node
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| holders.iter().any(|h| h == n));
        let fs = |k: &str| {
            node.pointer(&format!("/fs/total/{k}"))
                .and_then(Value::as_u64)
        };
        let (Some(available), total) = (fs("available_in_bytes"), fs("total_in_bytes")) else {
            continue;
        };
        if !(is_data && holds) {
            continue;
        }
        let reserve = match (high, total) {
            (Watermark::Ratio(r), Some(t)) => (t as f64 * (1.0 - r)).ceil() as u64,
            (Watermark::Ratio(_), None) => 0,
            (Watermark::FreeBytes(b), _) => b,
        };
        sum = sum.saturating_add(available.saturating_sub(reserve));
        count += 1;
    }
    (count > 0).then_some((sum, count))
}

/// The copies of each shard the halves will hold: the primary plus
/// `index.number_of_replicas` (the clone carries the source's replica count; ES default 1).
pub fn copies(settings: &Map<String, Value>) -> u64 {
    let replicas = match settings.get("index.number_of_replicas") {
        Some(Value::String(s)) => s.parse().unwrap_or(1),
        Some(v) => v.as_u64().unwrap_or(1),
        None => 1,
    };
    replicas.saturating_add(1)
}

/// Judges a reading: refuses when the halves will not fit, warns when nobody can tell.
pub fn judge(reading: &Reading, copies: u64, index: &str) -> Result<Verdict> {
    match *reading {
        Reading::Unknown(ref why) => Ok(Verdict::Unknown(format!(
            "cannot check free disk ({why}); make sure the data nodes have room for another copy of {}",
            sanitize(index)
        ))),
        Reading::Known {
            available_bytes: 0, ..
        } => Ok(Verdict::Unknown(
            "the cluster reports 0 bytes of free disk (a server that does not measure it?); disk not checked"
                .into(),
        )),
        Reading::Known {
            primary_bytes,
            available_bytes,
            data_nodes,
        } => {
            let needed = primary_bytes.saturating_mul(copies);
            if needed > available_bytes {
                return Err(Error::Refused(format!(
                    "not enough free disk: once the halves diverge from {} they need about {} \
                     ({} of primaries × {copies} copies), but the {data_nodes} data node(s) have {} available. \
                     Free disk, or pass --no-disk-check if you know better",
                    sanitize(index),
                    HumanBytes(needed),
                    HumanBytes(primary_bytes),
                    HumanBytes(available_bytes)
                )));
            }
            Ok(Verdict::Enough {
                needed,
                available: available_bytes,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_data_nodes_count() {
        let stats = json!({"nodes": {
            "a": {"roles": ["master"], "fs": {"total": {"available_in_bytes": 1000}}},
            "b": {"roles": ["data_hot", "ingest"], "fs": {"total": {"available_in_bytes": 300}}},
            "c": {"roles": ["data"], "fs": {"total": {"available_in_bytes": 200}}},
            "d": {"fs": {"total": {"available_in_bytes": 5}}},
            "e": {"roles": ["data"]}
        }});
        let none = Watermark::FreeBytes(0);
        assert_eq!(data_node_available(&stats, none, &[]), Some((505, 3)));
        assert_eq!(data_node_available(&json!({"nodes": {}}), none, &[]), None);
        assert_eq!(data_node_available(&json!({}), none, &[]), None);
    }

    #[test]
    fn the_high_watermark_and_the_shards_nodes_bound_the_usable_space() {
        let stats = json!({"nodes": {
            "a": {"name": "n1", "roles": ["data"], "fs": {"total": {"total_in_bytes": 1000, "available_in_bytes": 300}}},
            "b": {"name": "n2", "roles": ["data"], "fs": {"total": {"total_in_bytes": 1000, "available_in_bytes": 50}}}
        }});
        // 90%: 100 bytes of each disk are out of reach.
        assert_eq!(
            data_node_available(&stats, Watermark::Ratio(0.9), &[]),
            Some((200, 2))
        );
        assert_eq!(
            data_node_available(&stats, Watermark::Ratio(0.9), &["n2".into()]),
            Some((0, 1))
        );
        assert_eq!(
            data_node_available(&stats, Watermark::FreeBytes(250), &["n1".into()]),
            Some((50, 1))
        );
        let s = |v: &str| {
            json!({"defaults": {"cluster.routing.allocation.disk.watermark.high": "90%"},
            "persistent": {"cluster.routing.allocation.disk.watermark.high": v}})
        };
        assert_eq!(high_watermark(&s("85%")), Watermark::Ratio(0.85));
        assert_eq!(high_watermark(&s("0.95")), Watermark::Ratio(0.95));
        assert_eq!(high_watermark(&s("50gb")), Watermark::FreeBytes(50 << 30));
        assert_eq!(high_watermark(&json!({})), Watermark::Ratio(0.9));
    }

    #[test]
    fn replicas_multiply_the_need() {
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(copies(&m(json!({"index.number_of_replicas": "2"}))), 3);
        assert_eq!(copies(&m(json!({"index.number_of_replicas": 0}))), 1);
        assert_eq!(copies(&m(json!({}))), 2);
    }

    #[test]
    fn too_little_disk_is_refused_and_zeros_only_warn() {
        let known = |p, a| Reading::Known {
            primary_bytes: p,
            available_bytes: a,
            data_nodes: 2,
        };
        assert_eq!(
            judge(&known(100, 200), 2, "logs").unwrap(),
            Verdict::Enough {
                needed: 200,
                available: 200
            }
        );
        let e = judge(&known(100, 199), 2, "logs").unwrap_err().to_string();
        assert!(
            e.contains("not enough free disk") && e.contains("--no-disk-check"),
            "{e}"
        );
        assert!(matches!(
            judge(&known(100, 0), 2, "logs").unwrap(),
            Verdict::Unknown(_)
        ));
        assert!(matches!(
            judge(&Reading::Unknown("no API".into()), 2, "logs").unwrap(),
            Verdict::Unknown(w) if w.contains("no API")
        ));
    }
}
