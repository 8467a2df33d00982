//! Never leave the source write-blocked by us: a guard that restores the original
//! `index.blocks.write` when dropped, reachable from the Ctrl-C handler as well.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::api;
use crate::client::Es;
use crate::error::Result;

struct Inner {
    es: Es,
    index: String,
    original: Option<bool>,
    armed: AtomicBool,
    lock: Mutex<()>,
}

impl Inner {
    fn restore(&self) -> Result<bool> {
        let _held = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(false);
        }
        api::put_write_block(&self.es, "restore write block", &self.index, self.original)?;
        self.armed.store(false, Ordering::SeqCst);
        Ok(true)
    }
}

/// The guard registered for the Ctrl-C handler (one split per process).
static ACTIVE: Mutex<Option<Arc<Inner>>> = Mutex::new(None);
/// Set once the tool has changed anything on the cluster or written a state file.
static CHANGED: AtomicBool = AtomicBool::new(false);

/// Marks that a Ctrl-C from now on must print the `--resume`/`--rollback` commands.
pub fn mark_changed() {
    CHANGED.store(true, Ordering::SeqCst);
}

/// Whether anything was changed by this process.
pub fn changed() -> bool {
    CHANGED.load(Ordering::SeqCst)
}

/// Owns "we set the source's write block"; restores the original value on drop.
pub struct BlockGuard(Arc<Inner>);

impl BlockGuard {
    /// Registers the guard, then blocks writes. Registering first means a Ctrl-C that lands
    /// while the block request is in flight still restores it.
    pub fn engage(es: &Es, index: &str, original: Option<bool>) -> Result<Self> {
        let inner = Arc::new(Inner {
            es: es.clone(),
            index: index.to_string(),
            original,
            armed: AtomicBool::new(true),
            lock: Mutex::new(()),
        });
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = Some(inner.clone());
        let guard = BlockGuard(inner);
        api::add_write_block(es, index)?;
        Ok(guard)
    }

    /// Restores the original value now (idempotent).
    pub fn restore(&self) -> Result<()> {
        self.0.restore().map(|_| ())
    }
}

impl Drop for BlockGuard {
    fn drop(&mut self) {
        if let Err(e) = self.0.restore() {
            eprintln!(
                "es-split: error: could not restore index.blocks.write on {}: {e}",
                crate::error::sanitize(&self.0.index)
            );
        }
        let mut active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner());
        if active.as_ref().is_some_and(|a| Arc::ptr_eq(a, &self.0)) {
            *active = None;
        }
    }
}

/// Called from the Ctrl-C handler: restores the block if one is held. Returns a message
/// describing what happened, for the user.
pub fn restore_on_interrupt() -> Option<String> {
    let active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner()).clone()?;
    match active.restore() {
        Ok(true) => Some(format!(
            "restored index.blocks.write on {}",
            crate::error::sanitize(&active.index)
        )),
        Ok(false) => None,
        Err(e) => Some(format!(
            "could not restore index.blocks.write on {}: {e}",
            crate::error::sanitize(&active.index)
        )),
    }
}
