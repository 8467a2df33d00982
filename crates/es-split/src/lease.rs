//! Who runs a split: a lease in the on-cluster journal naming host, pid, user, start time and
//! a heartbeat. A second split, `--resume` or `--rollback` refuses while a live lease exists;
//! a stale one (no heartbeat within its TTL, or its process provably gone) can be taken over.
use serde::{Deserialize, Serialize};

use crate::error::sanitize;
use crate::journal::now_ms;

/// The holder of a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub host: String,
    /// The kernel's boot id: a pid is only meaningful within one boot of one host.
    pub boot_id: String,
    pub pid: u32,
    /// The process start time in clock ticks since boot (`/proc/PID/stat` field 22), so a
    /// reused pid is not mistaken for the holder.
    pub pid_start: u64,
    pub user: String,
    pub started_ms: i64,
    pub heartbeat_ms: i64,
    /// Seconds without a heartbeat after which the lease is stale.
    pub ttl_s: u64,
}

/// What we know about a lease's holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// This very process.
    Mine,
    /// Heartbeat within the TTL and not provably dead.
    Live,
    /// No heartbeat within the TTL.
    Expired,
    /// Same host and boot, and the process is gone: taken over without waiting.
    Dead,
}

impl Lease {
    /// A lease for this process.
    pub fn mine(ttl_s: u64) -> Self {
        let now = now_ms();
        Lease {
            host: hostname(),
            boot_id: boot_id(),
            pid: std::process::id(),
            pid_start: start_ticks(std::process::id()).unwrap_or(0),
            user: user(),
            started_ms: now,
            heartbeat_ms: now,
            ttl_s,
        }
    }

    /// Whether the holder is alive, as far as can be told from here.
    pub fn liveness(&self, now_ms: i64) -> Liveness {
        let me = Lease::mine(self.ttl_s);
        if self.host == me.host && self.boot_id == me.boot_id {
            if self.pid == me.pid && self.pid_start == me.pid_start {
                return Liveness::Mine;
            }
            if start_ticks(self.pid) != Some(self.pid_start) {
                return Liveness::Dead;
            }
        }
        let age = now_ms.saturating_sub(self.heartbeat_ms);
        if age > (self.ttl_s as i64).saturating_mul(1000) {
            Liveness::Expired
        } else {
            Liveness::Live
        }
    }

    /// `user@host pid N, started …, last heartbeat Ns ago`.
    pub fn describe(&self, now_ms: i64) -> String {
        format!(
            "{}@{} pid {}, started {}, last heartbeat {} s ago",
            sanitize(&self.user),
            sanitize(&self.host),
            self.pid,
            crate::query::iso_utc(self.started_ms),
            now_ms.saturating_sub(self.heartbeat_ms).max(0) / 1000
        )
    }
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn hostname() -> String {
    read_trim("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

fn boot_id() -> String {
    read_trim("/proc/sys/kernel/random/boot_id").unwrap_or_default()
}

fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() }))
}

/// Field 22 of `/proc/PID/stat` (after the parenthesised command, which may hold spaces).
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_of_this_a_dead_and_a_silent_holder() {
        let now = now_ms();
        let me = Lease::mine(60);
        assert_eq!(me.liveness(now), Liveness::Mine);
        // A child that has exited: same host and boot, pid gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let ticks = start_ticks(pid);
        child.wait().unwrap();
        let dead = Lease {
            pid,
            pid_start: ticks.unwrap_or(1),
            ..me.clone()
        };
        assert_eq!(dead.liveness(now), Liveness::Dead);
        // Another host: only the heartbeat tells.
        let other = Lease {
            host: "elsewhere".into(),
            ..me.clone()
        };
        assert_eq!(other.liveness(now), Liveness::Live);
        assert_eq!(other.liveness(now + 61_000), Liveness::Expired);
        assert!(other.describe(now).contains("@elsewhere pid"));
    }

    #[test]
    fn start_ticks_handles_spaces_in_the_command() {
        assert!(start_ticks(std::process::id()).is_some());
    }
}
