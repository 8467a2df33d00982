//! Parser for the JSON thread dump of `jcmd <pid> Thread.dump_to_file -format=json`
//! (JDK 21+), the only dump that lists virtual threads.

use serde::Deserialize;

use crate::dump::{JavaFrame, JavaThread, LockAction, LockEvent, LockRef, ThreadDump};
use crate::Error;

#[derive(Deserialize)]
struct Root {
    #[serde(rename = "threadDump")]
    thread_dump: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "runtimeVersion")]
    runtime_version: Option<String>,
    #[serde(rename = "threadContainers", default)]
    containers: Vec<Container>,
}

#[derive(Deserialize)]
struct Container {
    container: Option<String>,
    #[serde(default)]
    threads: Vec<Thread>,
}

#[derive(Deserialize)]
struct Thread {
    tid: String,
    name: String,
    state: Option<String>,
    #[serde(rename = "virtual", default)]
    is_virtual: bool,
    #[serde(default)]
    stack: Vec<String>,
    #[serde(rename = "waitingOn")]
    waiting_on: Option<String>,
    #[serde(rename = "blockedOn")]
    blocked_on: Option<String>,
    #[serde(rename = "parkBlocker")]
    park_blocker: Option<ParkBlocker>,
    #[serde(rename = "monitorsOwned", default)]
    monitors_owned: Vec<MonitorsOwned>,
    /// The carrier's tid, for a mounted virtual thread (JDK 25).
    carrier: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ParkBlocker {
    Text(String),
    Object { object: String },
}

#[derive(Deserialize)]
struct MonitorsOwned {
    depth: usize,
    #[serde(default)]
    locks: Vec<String>,
}

/// Parses a JSON thread dump. Objects are named `Class@identityHash` instead of addresses.
pub fn parse(text: &str) -> Result<ThreadDump, Error> {
    let root: Root = serde_json::from_str(text).map_err(|e| Error::BadDump {
        reason: format!("invalid JSON thread dump: {e}"),
    })?;
    let body = root.thread_dump;
    let mut dump = ThreadDump {
        banner: body
            .runtime_version
            .map(|v| format!("JSON thread dump, runtime {v}")),
        from_json: true,
        ..ThreadDump::default()
    };
    for container in body.containers {
        for thread in container.threads {
            let mut t = convert(thread);
            t.container = container.container.clone();
            dump.threads.push(t);
        }
    }
    Ok(dump)
}

fn lock_ref(identity: &str) -> LockRef {
    LockRef {
        address: identity.to_string(),
        class: identity.split_once('@').map(|(class, _)| class.to_string()),
    }
}

fn convert(t: Thread) -> JavaThread {
    let mut frames: Vec<JavaFrame> = t
        .stack
        .iter()
        .map(|s| JavaFrame {
            // "java.base/java.lang.Thread.sleep(…)": the module prefix is kept.
            text: s.clone(),
            locks: Vec::new(),
        })
        .collect();
    let mut first_frame_locks = Vec::new();
    if let Some(w) = &t.waiting_on {
        first_frame_locks.push(LockEvent {
            action: LockAction::WaitingOn,
            lock: lock_ref(w),
        });
    }
    if let Some(b) = &t.blocked_on {
        first_frame_locks.push(LockEvent {
            action: LockAction::WaitingToLock,
            lock: lock_ref(b),
        });
    }
    if let Some(p) = &t.park_blocker {
        let object = match p {
            ParkBlocker::Text(s) => s,
            ParkBlocker::Object { object } => object,
        };
        first_frame_locks.push(LockEvent {
            action: LockAction::ParkingToWaitFor,
            lock: lock_ref(object),
        });
    }
    if let Some(first) = frames.first_mut() {
        first.locks = first_frame_locks;
    }
    for owned in &t.monitors_owned {
        if let Some(frame) = frames.get_mut(owned.depth) {
            frame.locks.extend(owned.locks.iter().map(|l| LockEvent {
                action: LockAction::Locked,
                lock: lock_ref(l),
            }));
        }
    }
    JavaThread {
        name: t.name,
        number: t.tid.parse().ok(),
        state: t.state,
        frames,
        is_virtual: t.is_virtual,
        carrier: t.carrier.as_deref().and_then(|c| c.parse().ok()),
        header_state: if t.is_virtual {
            "virtual".into()
        } else {
            String::new()
        },
        ..JavaThread::default()
    }
}
