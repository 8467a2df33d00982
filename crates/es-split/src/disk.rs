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
    Ok(match data_node_available(&nodes) {
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

/// Sums `fs.total.available_in_bytes` over the data nodes of a `_nodes/stats/fs` answer
/// (ES cluster-nodes-stats.html); a node without `roles` (old versions) counts as data.
/// Data tiers are roles `data_hot`, `data_content`, …; OpenSearch uses `data` too.
pub fn data_node_available(nodes_stats: &Value) -> Option<(u64, usize)> {
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
        let available = node
            .pointer("/fs/total/available_in_bytes")
            .and_then(Value::as_u64);
        if let (true, Some(a)) = (is_data, available) {
            sum = sum.saturating_add(a);
            count += 1;
        }
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
        assert_eq!(data_node_available(&stats), Some((505, 3)));
        assert_eq!(data_node_available(&json!({"nodes": {}})), None);
        assert_eq!(data_node_available(&json!({})), None);
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
