//! Which failures are worth retrying, and how long to wait between attempts.
use std::time::Duration;

use serde_json::Value;

use crate::client::{error_parts, TransportError};

/// The retry classifier's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Yes,
    No,
}

/// Exponential backoff: `base · 2^attempt`, capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 6,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// Classifies an HTTP answer. 429 is retried when the cluster is busy (thread pool
/// rejections, circuit breakers) but not when it carries a block: the flood-stage
/// `read_only_allow_delete` block also answers 429 and only freeing disk lifts it.
pub fn classify_status(status: u16, body: &Value) -> Retry {
    match status {
        502..=504 => Retry::Yes,
        429 => {
            let (kind, reason) = error_parts(body);
            if kind == "cluster_block_exception"
                || reason.contains("read-only-allow-delete")
                || reason.contains("flood-stage")
            {
                Retry::No
            } else {
                Retry::Yes
            }
        }
        _ => Retry::No,
    }
}

/// Classifies an answer to a request that must not run twice: only a 429 rejection
/// (`es_rejected_execution_exception`: the request was refused before it ran) is retried;
/// a 502/503/504 may come from a proxy after the server already ran it.
pub fn classify_status_once(status: u16, body: &Value) -> Retry {
    match status {
        429 => classify_status(status, body),
        _ => Retry::No,
    }
}

/// Classifies a failure without an answer for a request that must not run twice: only a
/// refused connection (the request was never sent) is retried, never a reset or timeout.
pub fn classify_transport_once(e: &TransportError) -> Retry {
    match e {
        TransportError::Connect(_) => Retry::Yes,
        TransportError::Io(_) | TransportError::Timeout => Retry::No,
    }
}

/// Classifies a failure without an answer: a refused connection or a reset is transient
/// (node restart, proxy hiccup); a timeout is not retried because the request may still run.
pub fn classify_transport(e: &TransportError) -> Retry {
    match e {
        TransportError::Connect(_) | TransportError::Io(_) => Retry::Yes,
        TransportError::Timeout => Retry::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn busy_cluster_is_retried() {
        let rejected = json!({"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}],"type":"es_rejected_execution_exception","reason":"rejected"},"status":429});
        assert_eq!(classify_status(429, &rejected), Retry::Yes);
        for s in [502, 503, 504] {
            assert_eq!(classify_status(s, &Value::Null), Retry::Yes);
        }
    }

    #[test]
    fn flood_stage_block_is_not_retried() {
        let flood = json!({"error":{"root_cause":[{"type":"cluster_block_exception","reason":"index [logs] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"}],"type":"cluster_block_exception","reason":"blocked"},"status":429});
        assert_eq!(classify_status(429, &flood), Retry::No);
    }

    #[test]
    fn client_errors_are_not_retried() {
        for s in [200, 400, 401, 403, 404, 409, 500] {
            assert_eq!(classify_status(s, &Value::Null), Retry::No, "{s}");
        }
        assert_eq!(classify_transport(&TransportError::Timeout), Retry::No);
        assert_eq!(
            classify_transport(&TransportError::Io("connection reset by peer".into())),
            Retry::Yes
        );
    }

    #[test]
    fn requests_that_must_not_run_twice_retry_only_what_never_ran() {
        assert_eq!(classify_status_once(502, &Value::Null), Retry::No);
        assert_eq!(classify_status_once(503, &Value::Null), Retry::No);
        let rejected = json!({"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429});
        assert_eq!(classify_status_once(429, &rejected), Retry::Yes);
        assert_eq!(
            classify_transport_once(&TransportError::Connect("refused".into())),
            Retry::Yes
        );
        assert_eq!(
            classify_transport_once(&TransportError::Io("reset".into())),
            Retry::No
        );
        assert_eq!(classify_transport_once(&TransportError::Timeout), Retry::No);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0), Duration::from_millis(250));
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(10), Duration::from_secs(8));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(8));
    }
}
