//! `--status`: where a split stands, from any terminal — phase, lease holder and whether it
//! is alive, the counts taken while blocked, the server tasks' progress and the source's
//! block. Without `--index`, the local state files and what the clusters say about them.
use serde_json::{json, Value};

use crate::api;
use crate::client::Es;
use crate::error::{sanitize, Result};
use crate::interrupt::block_name;
use crate::journal::{self, now_ms};
use crate::lease::Liveness;
use crate::plan::Config;
use crate::store;
use crate::tasks::{self, Poll};

/// The status of one split as (human text, JSON).
pub fn of_index(es: &Es, cfg: &Config) -> Result<(String, Value)> {
    let server = api::server_info(es)?;
    let Some(v) = store::read(es, &cfg.journal_index, &cfg.index)? else {
        let text = format!(
            "{}: no split of {} recorded on this cluster ({})\n",
            server.describe(),
            sanitize(&cfg.index),
            sanitize(&server.cluster_uuid)
        );
        return Ok((text, json!({"source": cfg.index, "phase": null})));
    };
    let j = v.journal;
    let now = now_ms();
    let mut s = format!(
        "{}: split {} of {} → {} + {} at {} UTC on {}\n  phase: {}\n",
        server.describe(),
        sanitize(&j.split_id),
        sanitize(&j.source),
        sanitize(&j.first),
        sanitize(&j.second),
        j.mid.display(),
        sanitize(&j.field),
        j.phase.name()
    );
    let lease = match &j.lease {
        None => "nobody (not running)".to_string(),
        Some(l) => {
            let state = match l.liveness(now) {
                Liveness::Mine | Liveness::Live => "alive",
                Liveness::Expired => "STALE: no heartbeat within its TTL (--take-over)",
                Liveness::Dead => "DEAD: that process is gone",
            };
            format!("{} — {state}", l.describe(now))
        }
    };
    s.push_str(&format!("  held by: {lease}\n"));
    if let Some(snap) = &j.snapshot {
        s.push_str(&format!(
            "  counted while blocked at {}: {} docs, first {} + second {}\n",
            crate::query::iso_utc(snap.taken_ms),
            snap.total,
            snap.first_expected,
            snap.second_expected
        ));
    }
    let mut task_json = Vec::new();
    for (role, task) in [("first", &j.tasks.first), ("second", &j.tasks.second)] {
        if let Some(id) = task {
            let state = match tasks::poll_once(es, "status", id) {
                Ok(Poll::Running(b)) => format!("running, {}/{} docs", b.done(), b.total),
                Ok(Poll::Done(b)) => format!("finished, {} docs", b.done()),
                Ok(Poll::Failed(why)) => format!("failed: {why}"),
                Ok(Poll::Gone) => "unknown to the cluster".into(),
                Err(e) => format!("cannot ask: {e}"),
            };
            s.push_str(&format!("  task {role} {}: {state}\n", sanitize(id)));
            task_json.push(json!({"half": role, "task": id, "state": state}));
        }
    }
    if api::exists(es, "status", &j.source)? {
        let block = api::flag(&api::settings(es, &j.source)?, "index.blocks.write");
        let whose = if j.holds_block() {
            format!(
                " (es-split's; the original is {})",
                block_name(j.original_write_block)
            )
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  source index.blocks.write: {}{whose}\n",
            block_name(block)
        ));
    } else {
        s.push_str("  source: deleted\n");
    }
    for p in &j.problems {
        s.push_str(&format!("  MISMATCH {}\n", sanitize(p)));
    }
    let doc = json!({"journal": serde_json::to_value(&j).unwrap_or(Value::Null), "tasks": task_json,
        "lease_alive": j.lease.as_ref().map(|l| matches!(l.liveness(now), Liveness::Live | Liveness::Mine))});
    Ok((s, doc))
}

/// Lists the local state files (caches of on-cluster journals).
pub fn local(cfg: &Config) -> (String, Value) {
    let files = journal::list(&cfg.state_dir);
    if files.is_empty() {
        return (
            format!("no local state in {}\n", cfg.state_dir.display()),
            json!([]),
        );
    }
    let mut s = String::new();
    let mut docs = Vec::new();
    for (path, j) in files {
        match j {
            Ok(j) => {
                s.push_str(&format!(
                    "{}: {} on cluster {} ({}), phase {} — run es-split --url {} --index {} --status for the cluster's view\n",
                    path.display(),
                    sanitize(&j.source),
                    sanitize(&j.cluster_uuid),
                    sanitize(&j.url),
                    j.phase.name(),
                    sanitize(&j.url),
                    sanitize(&j.source)
                ));
                docs.push(json!({"file": path.display().to_string(), "source": j.source, "cluster_uuid": j.cluster_uuid, "phase": j.phase.name()}));
            }
            Err(e) => {
                s.push_str(&format!("{e}\n"));
                docs.push(json!({"file": path.display().to_string(), "error": e.to_string()}));
            }
        }
    }
    (s, Value::Array(docs))
}

/// Removes the local state files of this cluster whose split the cluster's journal shows
/// finished, rolled back, or does not know; returns one line per file.
pub fn clean_local(es: &Es, cfg: &Config) -> Result<String> {
    let server = api::server_info(es)?;
    let mut s = String::new();
    for (path, j) in journal::list(&cfg.state_dir) {
        let Ok(j) = j else { continue };
        if j.cluster_uuid != server.cluster_uuid {
            continue;
        }
        let on_cluster = store::read(es, &cfg.journal_index, &j.source)?;
        let stale = match &on_cluster {
            None => Some("no journal on the cluster"),
            Some(v) if v.journal.split_id != j.split_id => Some("the cluster has a newer split"),
            Some(v) if v.journal.phase.is_final() => Some(v.journal.phase.name()),
            Some(_) => None,
        };
        match stale {
            Some(why) => {
                journal::remove(&path)?;
                s.push_str(&format!("removed {} ({why})\n", path.display()));
            }
            None => s.push_str(&format!(
                "kept {} (the split of {} is unfinished: --status, --resume or --rollback)\n",
                path.display(),
                sanitize(&j.source)
            )),
        }
    }
    if s.is_empty() {
        s = format!(
            "no local state of cluster {} in {}\n",
            sanitize(&server.cluster_uuid),
            cfg.state_dir.display()
        );
    }
    Ok(s)
}
