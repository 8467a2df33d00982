//! Server-side tasks: `_delete_by_query` and `_reindex`, run as polled background tasks
//! where the tasks API exists, or as one long synchronous call where it does not.
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{enc, Es, Method};
use crate::error::{sanitize, Error, Result};
use crate::progress::Progress;

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
    if response.get("timed_out").and_then(Value::as_bool) == Some(true) {
        return Err(Error::TaskFailed {
            step: step.into(),
            reason: "the server reports timed_out: true".into(),
        });
    }
    Ok(ByQuery::from_status(response))
}

/// How by-query calls run: as tasks polled every `poll` or synchronously.
#[derive(Debug, Clone, Copy)]
pub struct TaskMode {
    pub tasks: bool,
    pub poll: Duration,
}

/// Runs a `_delete_by_query` or `_reindex` (`path` with its parameters, without
/// `wait_for_completion`) to the end. With tasks: start with `wait_for_completion=false` and
/// poll `GET /_tasks/<id>`, updating `progress`; without: one long synchronous call.
pub fn run_by_query(
    es: &Es,
    step: &str,
    path: &str,
    body: &Value,
    mode: TaskMode,
    progress: &Progress,
) -> Result<ByQuery> {
    let sep = if path.contains('?') { '&' } else { '?' };
    if !mode.tasks {
        let reply = es.send(step, Method::Post, path, Some(body), true)?;
        if reply.json.get("failures").is_some() {
            // 409 and friends carry the failures in the normal body shape.
            return check_by_query(step, &reply.json);
        }
        return check_by_query(step, &reply.ok(step)?);
    }
    let started = es.call(
        step,
        Method::Post,
        &format!("{path}{sep}wait_for_completion=false"),
        Some(body),
    )?;
    let task = started
        .get("task")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadResponse {
            step: step.into(),
            reason: "no task id in the answer".into(),
        })?
        .to_string();
    poll_task(es, step, &task, mode.poll, progress)
}

/// Polls one task until it completes; the one task poller.
pub fn poll_task(
    es: &Es,
    step: &str,
    task: &str,
    poll: Duration,
    progress: &Progress,
) -> Result<ByQuery> {
    // Task ids are `<node_id>:<number>`; keep the colon readable, encode anything else.
    let path = format!(
        "/_tasks/{}",
        task.split(':').map(enc).collect::<Vec<_>>().join(":")
    );
    loop {
        let reply = es.send(step, Method::Get, &path, None, false)?;
        if reply.status == 404 {
            return Err(Error::TaskFailed {
                step: step.into(),
                reason: format!("task {} vanished (its node left the cluster?); the step is idempotent: re-run with --resume", sanitize(task)),
            });
        }
        let v = reply.ok(step)?;
        if let Some(status) = v.pointer("/task/status") {
            let s = ByQuery::from_status(status);
            progress.update(s.done(), s.total);
        }
        if v.get("completed").and_then(Value::as_bool) == Some(true) {
            if let Some(err) = v.get("error") {
                let (kind, reason) = crate::client::error_parts(&json!({"error": err}));
                return Err(Error::TaskFailed {
                    step: step.into(),
                    reason: sanitize(&format!("task failed: {kind}: {reason}")),
                });
            }
            let response = v.get("response").cloned().unwrap_or(Value::Null);
            let result = check_by_query(step, &response)?;
            progress.update(result.done(), result.total);
            return Ok(result);
        }
        std::thread::sleep(poll);
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
