//! Server-side tasks: `_delete_by_query` and `_reindex`, started as background tasks where
//! the tasks API exists (then polled, found again, cancelled), or run as one long
//! synchronous call where it does not.

use serde_json::{json, Value};

use crate::client::{enc, Es, Method};
use crate::error::{sanitize, Error, Result};

/// What a `_delete_by_query` / `_reindex` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ByQuery {
    pub total: u64,
    pub deleted: u64,
    pub created: u64,
    pub version_conflicts: u64,
}

impl ByQuery {
    fn from_status(v: &Value) -> Self {
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Self {
            total: n("total"),
            deleted: n("deleted"),
            created: n("created"),
            version_conflicts: n("version_conflicts"),
        }
    }

    /// Documents processed so far (for progress).
    pub fn done(&self) -> u64 {
        self.deleted
            .saturating_add(self.created)
            .saturating_add(self.version_conflicts)
    }
}

/// Checks a finished by-query response: `failures` make it a failure even when the task
/// reports `completed` (elastic/elasticsearch-net#3963).
pub fn check_by_query(step: &str, response: &Value) -> Result<ByQuery> {
    if let Some(f) = response
        .get("failures")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
    {
        let cause = f
            .first()
            .and_then(|first| first.get("cause"))
            .map(|c| crate::client::error_parts(&json!({"error": c})))
            .unwrap_or_default();
        return Err(Error::TaskFailed {
            step: step.into(),
            reason: sanitize(
                format!("{} failure(s); first: {} {}", f.len(), cause.0, cause.1).trim_end(),
            ),
        });
    }
    // ES BulkByScrollResponse: a cancelled job completes with `canceled: "<reason>"`.
    if let Some(why) = response.get("canceled").and_then(Value::as_str) {
        return Err(Error::TaskFailed {
            step: step.into(),
            reason: sanitize(&format!("cancelled: {why}")),
        });
    }
    if response.get("timed_out").and_then(Value::as_bool) == Some(true) {
        return Err(Error::TaskFailed {
            step: step.into(),
            reason: "the server reports timed_out: true".into(),
        });
    }
    Ok(ByQuery::from_status(response))
}

/// One synchronous by-query call (no client timeout: it takes as long as it takes).
pub fn run_sync(es: &Es, step: &str, path: &str, body: &Value) -> Result<ByQuery> {
    let reply = es.send_once(step, Method::Post, path, Some(body), true)?;
    if reply.json.get("failures").is_some() {
        // 409 and friends carry the failures in the normal body shape.
        return check_by_query(step, &reply.json);
    }
    check_by_query(step, &reply.ok(step)?)
}

/// The error for a task the cluster no longer knows.
pub fn vanished(step: &str, task: &str) -> Error {
    Error::TaskFailed {
        step: step.into(),
        reason: format!(
            "task {} vanished (its node left the cluster?); the step is idempotent: re-run with --resume",
            sanitize(task)
        ),
    }
}

/// Starts a by-query job as a task and returns its id. After an ambiguous failure the
/// cluster is asked whether a job for `target` runs (`find` = its action and target), and
/// that one is adopted instead of starting a second.
pub fn start(
    es: &Es,
    step: &str,
    path: &str,
    body: &Value,
    find: Option<(&str, &str)>,
) -> Result<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let outcome = es.send_once(
        step,
        Method::Post,
        &format!("{path}{sep}wait_for_completion=false"),
        Some(body),
        false,
    );
    let started = match outcome {
        Ok(r) if r.success() => r.json,
        Ok(r) if r.status < 500 => return Err(crate::client::http_error(step, r.status, &r.json)),
        other => {
            if let Some((action, target)) = find {
                if let Some(id) = find_running(es, action, target)? {
                    return Ok(id);
                }
            }
            return match other {
                Ok(r) => Err(crate::client::http_error(step, r.status, &r.json)),
                Err(e) => Err(e),
            };
        }
    };
    started
        .get("task")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::BadResponse {
            step: step.into(),
            reason: "no task id in the answer".into(),
        })
}

fn task_path(task: &str) -> String {
    // Task ids are `<node_id>:<number>`; keep the colon readable, encode anything else.
    format!(
        "/_tasks/{}",
        task.split(':').map(enc).collect::<Vec<_>>().join(":")
    )
}

/// A top-level running task of `action` (`*byquery`, `*reindex`) whose description names
/// `target` (`delete-by-query [t]`, `reindex from [s] to [t]`; ES tasks.html `detailed`).
pub fn find_running(es: &Es, action: &str, target: &str) -> Result<Option<String>> {
    let v = es.call(
        "find running task",
        Method::Get,
        &format!("/_tasks?actions={action}&detailed=true"),
        None,
    )?;
    let needle = format!("[{target}]");
    let nodes = v.get("nodes").and_then(Value::as_object);
    for node in nodes.into_iter().flat_map(|n| n.values()) {
        let tasks = node.get("tasks").and_then(Value::as_object);
        for (id, t) in tasks.into_iter().flat_map(|t| t.iter()) {
            let top = t.get("parent_task_id").is_none();
            let ours = t
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| {
                    d.contains(&needle) && (action.contains("reindex") == d.starts_with("reindex"))
                });
            if top && ours {
                return Ok(Some(id.clone()));
            }
        }
    }
    Ok(None)
}

/// Cancels a task (`POST _tasks/<id>/_cancel`); `false` when it is not running.
pub fn cancel(es: &Es, task: &str) -> Result<bool> {
    let reply = es.send(
        "cancel task",
        Method::Post,
        &format!("{}/_cancel", task_path(task)),
        None,
        false,
    )?;
    if reply.status == 404 {
        return Ok(false);
    }
    let v = reply.ok("cancel task")?;
    Ok(v.get("node_failures").is_none() && v.get("task_failures").is_none())
}

/// A task's state at one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Running(ByQuery),
    Done(ByQuery),
    /// Completed with `error` (or cancelled) or with `failures`.
    Failed(String),
    /// 404: the cluster does not know it (its node left, or results were not stored).
    Gone,
}

/// Polls a task once (`GET _tasks/<id>`).
pub fn poll_once(es: &Es, step: &str, task: &str) -> Result<Poll> {
    let reply = es.send(step, Method::Get, &task_path(task), None, false)?;
    if reply.status == 404 {
        return Ok(Poll::Gone);
    }
    let v = reply.ok(step)?;
    if v.get("completed").and_then(Value::as_bool) != Some(true) {
        let s = v
            .pointer("/task/status")
            .map(ByQuery::from_status)
            .unwrap_or_default();
        return Ok(Poll::Running(s));
    }
    if let Some(err) = v.get("error") {
        let (kind, reason) = crate::client::error_parts(&json!({"error": err}));
        return Ok(Poll::Failed(sanitize(&format!(
            "task failed: {kind}: {reason}"
        ))));
    }
    let response = v.get("response").cloned().unwrap_or(Value::Null);
    match check_by_query(step, &response) {
        Ok(r) => Ok(Poll::Done(r)),
        Err(Error::TaskFailed { reason, .. }) => Ok(Poll::Failed(reason)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_task_with_failures_fails() {
        let resp = json!({"total": 10, "deleted": 9, "failures": [{"index":"t","id":"1","status":409,
            "cause":{"type":"version_conflict_engine_exception","reason":"[1]: version conflict"}}]});
        let e = check_by_query("delete", &resp).unwrap_err().to_string();
        assert!(
            e.contains("1 failure(s)") && e.contains("version_conflict_engine_exception"),
            "{e}"
        );
        let ok = json!({"total": 10, "deleted": 10, "failures": [], "version_conflicts": 0});
        assert_eq!(check_by_query("delete", &ok).unwrap().deleted, 10);
        assert!(check_by_query("d", &json!({"timed_out": true, "failures": []})).is_err());
    }
}
