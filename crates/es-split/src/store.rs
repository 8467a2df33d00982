//! The on-cluster journal: one document per source index in a small hidden index, written
//! with optimistic concurrency (`if_seq_no` / `if_primary_term`, ES
//! optimistic-concurrency-control.html), so that exactly one process holds a split's lease
//! and a process that lost it notices at its next write. It is the source of truth; the
//! local state file is a cache of it. `GET <index>/_doc/<id>` is realtime (ES
//! docs-get.html), so no refresh is needed to read the latest version.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{enc, error_parts, http_error, Es, Method};
use crate::error::{sanitize, Error, Result};
use crate::journal::{self, now_ms, Journal};

/// The journal index unless `--journal-index` says otherwise.
pub const DEFAULT_INDEX: &str = "es-split-journal";

/// A journal document and the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub journal: Journal,
    pub seq_no: i64,
    pub primary_term: i64,
}

/// Reads the journal of `source`, if there is one.
pub fn read(es: &Es, index: &str, source: &str) -> Result<Option<Versioned>> {
    let step = "read journal";
    let path = format!("/{}/_doc/{}", enc(index), enc(source));
    let reply = es.send(step, Method::Get, &path, None, false)?;
    if reply.status == 404 {
        return Ok(None);
    }
    let v = reply.ok(step)?;
    if v.get("found").and_then(Value::as_bool) != Some(true) {
        return Ok(None);
    }
    let num = |k: &str| v.get(k).and_then(Value::as_i64);
    let (Some(seq_no), Some(primary_term)) = (num("_seq_no"), num("_primary_term")) else {
        return Err(Error::BadResponse {
            step: step.into(),
            reason: "the journal document has no _seq_no/_primary_term (ES 6.7+ needed)".into(),
        });
    };
    let source_doc = v.get("_source").cloned().unwrap_or(Value::Null);
    let format = source_doc
        .get("format")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if format > u64::from(journal::FORMAT) {
        return Err(Error::Refused(format!(
            "the journal of {} was written by a newer es-split (format {format}): use that version",
            sanitize(source)
        )));
    }
    let journal = serde_json::from_value(source_doc).map_err(|e| Error::BadResponse {
        step: step.into(),
        reason: format!("unreadable journal document {index}/{source}: {e}"),
    })?;
    Ok(Some(Versioned {
        journal,
        seq_no,
        primary_term,
    }))
}

/// Creates the journal index if it is missing: hidden, one shard, and `dynamic: false` so
/// the journal's fields never grow a mapping.
pub fn ensure_index(es: &Es, index: &str) -> Result<()> {
    let step = "create the journal index";
    if crate::api::exists(es, step, index)? {
        return Ok(());
    }
    let body = |hidden: bool| {
        let mut settings =
            json!({"index.number_of_shards": 1, "index.auto_expand_replicas": "0-1"});
        if hidden {
            settings["index.hidden"] = json!(true);
        }
        json!({"settings": settings, "mappings": {"dynamic": false}})
    };
    let path = format!("/{}", enc(index));
    let mut outcome = es.send_once(step, Method::Put, &path, Some(&body(true)), false);
    // ES before 7.7 has no `index.hidden`.
    if let Ok(r) = &outcome {
        if r.status == 400 && error_parts(&r.json).0.contains("settings") {
            outcome = es.send_once(step, Method::Put, &path, Some(&body(false)), false);
        }
    }
    crate::api::checked_once(step, outcome, true, || crate::api::exists(es, step, index))
}

struct Inner {
    journal: Journal,
    seq_no: i64,
    primary_term: i64,
}

/// The journal of the split this process holds the lease of.
pub struct Store {
    es: Es,
    index: String,
    inner: Mutex<Inner>,
    lost: AtomicBool,
    stop: AtomicBool,
    cache: Option<PathBuf>,
    cache_warned: AtomicBool,
}

/// The outcome of a conditional write.
enum Write {
    Done(i64, i64),
    Conflict,
}

impl Store {
    /// Writes a new journal where none exists (`op_type=create`); `Ok(None)` if one
    /// appeared in the meantime (another run won the race).
    pub fn create(
        es: &Es,
        index: &str,
        journal: Journal,
        cache: Option<PathBuf>,
    ) -> Result<Option<Arc<Store>>> {
        let path = format!(
            "/{}/_doc/{}?op_type=create",
            enc(index),
            enc(&journal.source)
        );
        Self::first_write(es, index, journal, cache, path)
    }

    /// Replaces the journal read as `prev` (a finished split, or a lease being taken over);
    /// `Ok(None)` if it changed since it was read.
    pub fn replace(
        es: &Es,
        index: &str,
        prev: &Versioned,
        journal: Journal,
        cache: Option<PathBuf>,
    ) -> Result<Option<Arc<Store>>> {
        let path = format!(
            "/{}/_doc/{}?if_seq_no={}&if_primary_term={}",
            enc(index),
            enc(&journal.source),
            prev.seq_no,
            prev.primary_term
        );
        Self::first_write(es, index, journal, cache, path)
    }

    fn first_write(
        es: &Es,
        index: &str,
        journal: Journal,
        cache: Option<PathBuf>,
        path: String,
    ) -> Result<Option<Arc<Store>>> {
        let written = match put(es, index, &path, &journal)? {
            // Our own first attempt may have landed late: then the stored one is ours.
            Write::Conflict => match read(es, index, &journal.source)? {
                Some(v) if v.journal == journal => Write::Done(v.seq_no, v.primary_term),
                _ => Write::Conflict,
            },
            done => done,
        };
        match written {
            Write::Conflict => Ok(None),
            Write::Done(seq_no, primary_term) => {
                let store = Store {
                    es: es.clone(),
                    index: index.to_string(),
                    inner: Mutex::new(Inner {
                        journal,
                        seq_no,
                        primary_term,
                    }),
                    lost: AtomicBool::new(false),
                    stop: AtomicBool::new(false),
                    cache,
                    cache_warned: AtomicBool::new(false),
                };
                store.save_cache(&store.journal());
                Ok(Some(Arc::new(store)))
            }
        }
    }

    /// The journal as last written.
    pub fn journal(&self) -> Journal {
        self.lock().journal.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another process took the lease over.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Applies `change` and writes the journal (with a fresh heartbeat). Fails with
    /// [`Error::LeaseLost`] if someone else wrote it since.
    pub fn update(&self, change: impl FnOnce(&mut Journal)) -> Result<Journal> {
        let mut inner = self.lock();
        let source = inner.journal.source.clone();
        if self.lost() {
            drop(inner);
            return Err(self.lost_error(&source));
        }
        let mut next = inner.journal.clone();
        change(&mut next);
        let now = now_ms();
        next.updated_ms = now;
        if let Some(l) = next.lease.as_mut() {
            l.heartbeat_ms = now;
        }
        for attempt in 0..2 {
            let path = format!(
                "/{}/_doc/{}?if_seq_no={}&if_primary_term={}",
                enc(&self.index),
                enc(&source),
                inner.seq_no,
                inner.primary_term
            );
            match put(&self.es, &self.index, &path, &next)? {
                Write::Done(seq_no, primary_term) => {
                    *inner = Inner {
                        journal: next.clone(),
                        seq_no,
                        primary_term,
                    };
                    drop(inner);
                    self.save_cache(&next);
                    return Ok(next);
                }
                Write::Conflict if attempt == 0 => {
                    // An earlier write of ours that timed out may have landed since (a busy
                    // cluster can run a request after its client gave up): if the stored
                    // lease is still this process's, nobody took over.
                    match read(&self.es, &self.index, &source)? {
                        Some(v) if same_holder(&v.journal, &inner.journal) => {
                            inner.seq_no = v.seq_no;
                            inner.primary_term = v.primary_term;
                        }
                        _ => break,
                    }
                }
                Write::Conflict => break,
            }
        }
        self.lost.store(true, Ordering::SeqCst);
        drop(inner);
        Err(self.lost_error(&source))
    }

    fn lost_error(&self, source: &str) -> Error {
        let holder = read(&self.es, &self.index, source)
            .ok()
            .flatten()
            .and_then(|v| v.journal.lease)
            .map_or_else(
                || "nobody holds it now".to_string(),
                |l| l.describe(now_ms()),
            );
        Error::LeaseLost(format!(
            "the lease on the split of {} was taken over ({holder}): stopped without changing anything more",
            sanitize(source)
        ))
    }

    /// Keeps the lease fresh from a background thread until [`Store::stop_heartbeat`].
    pub fn start_heartbeat(self: &Arc<Self>) {
        let store = Arc::clone(self);
        let ttl = self.journal().lease.map_or(60, |l| l.ttl_s).max(4);
        let every = Duration::from_millis(ttl * 1000 / 4);
        std::thread::spawn(move || {
            let tick = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while !store.stop.load(Ordering::SeqCst) && !store.lost() {
                std::thread::sleep(tick);
                waited += tick;
                if waited >= every {
                    waited = Duration::ZERO;
                    // A failed heartbeat is retried at the next tick of `every`; a lost
                    // lease stops the loop and the main thread's next write.
                    let _ = store.update(|_| {});
                }
            }
        });
    }

    /// Stops the heartbeat thread.
    pub fn stop_heartbeat(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Removes the local cache file (the split is over).
    pub fn forget_cache(&self) {
        if let Some(p) = &self.cache {
            let _ = journal::remove(p);
        }
    }

    fn save_cache(&self, j: &Journal) {
        let Some(path) = &self.cache else { return };
        let result = if j.phase.is_final() {
            journal::remove(path)
        } else {
            journal::save(path, j)
        };
        if let Err(e) = result {
            if !self.cache_warned.swap(true, Ordering::SeqCst) {
                crate::out::warn(&format!(
                    "{e}; the journal on the cluster is the source of truth, so the split goes on"
                ));
            }
        }
    }
}

/// Whether two journals are the same split held by the same process.
fn same_holder(a: &Journal, b: &Journal) -> bool {
    a.split_id == b.split_id
        && match (&a.lease, &b.lease) {
            (Some(x), Some(y)) => {
                (&x.host, &x.boot_id, x.pid, x.pid_start, x.started_ms)
                    == (&y.host, &y.boot_id, y.pid, y.pid_start, y.started_ms)
            }
            _ => false,
        }
}

/// One conditional PUT of the journal document. After an ambiguous failure (5xx, reset,
/// timeout) the document is read back: holding exactly what was sent, the write is done;
/// otherwise the same conditional PUT is sent again — safe, because a condition on the
/// sequence number can succeed only once (if the first attempt lands late, the retry gets
/// 409 and the caller recognises its own write).
fn put(es: &Es, index: &str, path: &str, journal: &Journal) -> Result<Write> {
    let step = "write journal";
    let body = serde_json::to_value(journal).map_err(|e| Error::BadResponse {
        step: step.into(),
        reason: e.to_string(),
    })?;
    let mut attempt = 0u32;
    loop {
        let outcome = es.send_once(step, Method::Put, path, Some(&body), false);
        let failure = match outcome {
            Ok(r) if r.success() => {
                let n = |k: &str| r.json.get(k).and_then(Value::as_i64);
                return match (n("_seq_no"), n("_primary_term")) {
                    (Some(s), Some(t)) => Ok(Write::Done(s, t)),
                    _ => Err(Error::BadResponse {
                        step: step.into(),
                        reason: "no _seq_no/_primary_term in the answer".into(),
                    }),
                };
            }
            Ok(r) if r.status == 409 => return Ok(Write::Conflict),
            Ok(r) if r.status < 500 => return Err(http_error(step, r.status, &r.json)),
            Ok(r) => http_error(step, r.status, &r.json),
            Err(e) => e,
        };
        if let Some(v) = read(es, index, &journal.source)? {
            if v.journal == *journal {
                return Ok(Write::Done(v.seq_no, v.primary_term));
            }
        }
        if attempt >= 3 {
            return Err(failure);
        }
        std::thread::sleep(Duration::from_millis(200 << attempt));
        attempt += 1;
    }
}
