//! Never stuck: whatever stops a run — an error, a panic, SIGINT, SIGTERM or SIGHUP — the
//! same restore path cancels the split's server tasks, gives the source its writes back (to
//! the value recorded in the journal before it was blocked) and releases the lease, before
//! anything is printed. A SIGHUP that was ignored when es-split started (`nohup`) stays
//! ignored. SIGPIPE is ignored by the Rust runtime, so a closed pipe only makes writes fail
//! (and [`crate::out`] ignores those): it never kills a run half-way.
//!
//! Mutating requests run inside [`mutate`]: the signal thread waits for the one in flight to
//! finish and then no new one starts, so the restore never races a clone or a delete.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::api;
use crate::client::Es;
use crate::error::{sanitize, Error, Result};
use crate::store::Store;

struct Active {
    es: Es,
    store: Arc<Store>,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);
static MUTATE: Mutex<()> = Mutex::new(());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set once a journal exists for this run: from then on a stop prints recovery commands.
static CHANGED: AtomicBool = AtomicBool::new(false);

fn active() -> std::sync::MutexGuard<'static, Option<Active>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers the split whose state the restore path must put right.
pub fn arm(es: &Es, store: &Arc<Store>) {
    CHANGED.store(true, Ordering::SeqCst);
    *active() = Some(Active {
        es: es.clone(),
        store: Arc::clone(store),
    });
}

/// The run finished cleanly: nothing to restore any more.
pub fn disarm() {
    if let Some(a) = active().take() {
        a.store.stop_heartbeat();
    }
}

/// Whether this run created or took over a journal (so recovery commands make sense).
pub fn changed() -> bool {
    CHANGED.load(Ordering::SeqCst)
}

/// Whether a signal asked the run to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// When a signal is being handled, the main thread must not print or exit on its own (its
/// failure is a consequence of the restore, e.g. a cancelled task): it waits for the signal
/// thread, which exits with 130.
pub fn wait_if_interrupted() {
    if interrupted() {
        std::thread::sleep(std::time::Duration::from_secs(300));
        std::process::exit(130);
    }
}

/// Runs one mutating step, unless the run is being interrupted.
pub fn mutate<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _held = MUTATE.lock().unwrap_or_else(|p| p.into_inner());
    if interrupted() {
        return Err(Error::Interrupted);
    }
    f()
}

/// Cancels the tasks, restores the block, releases the lease. Runs at most once per
/// process; returns what it did, for the user.
pub fn restore() -> Vec<String> {
    let Some(Active { es, store }) = active().take() else {
        return Vec::new();
    };
    store.stop_heartbeat();
    let mut said = Vec::new();
    if store.lost() {
        return said;
    }
    let j = store.journal();
    if j.phase < crate::journal::Phase::Trimmed {
        for task in crate::rollback::cancel_all(&es, &j) {
            said.push(format!("cancelled server task {}", sanitize(&task)));
        }
    }
    let mut released = j.source_released;
    if j.holds_block() {
        match api::put_write_block(
            &es,
            "restore write block",
            &j.source,
            j.original_write_block,
        ) {
            Ok(()) => {
                released = true;
                said.push(format!(
                    "restored index.blocks.write on {} to {}",
                    sanitize(&j.source),
                    block_name(j.original_write_block)
                ));
            }
            Err(e) => said.push(format!(
                "could not restore index.blocks.write on {}: {e} — run --rollback or --resume",
                sanitize(&j.source)
            )),
        }
    }
    if let Err(e) = store.update(|j| {
        j.source_released = released;
        j.lease = None;
    }) {
        said.push(format!("could not release the lease in the journal: {e}"));
    }
    said
}

/// `unset`, `true` or `false`.
pub fn block_name(v: Option<bool>) -> &'static str {
    match v {
        None => "unset",
        Some(true) => "true",
        Some(false) => "false",
    }
}

fn sighup_ignored() -> bool {
    // SAFETY: a query-only sigaction (null new action) into a zeroed struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Installs the handler thread for SIGINT, SIGTERM and SIGHUP (unless ignored). On a signal
/// it restores, prints what it did and `hint` (if anything changed), and exits with 130.
pub fn install(hint: String) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut sigs = vec![SIGINT, SIGTERM];
    if !sighup_ignored() {
        sigs.push(SIGHUP);
    }
    let mut signals = signal_hook::iterator::Signals::new(&sigs)
        .map_err(|e| Error::Usage(format!("cannot install signal handlers: {e}")))?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            INTERRUPTED.store(true, Ordering::SeqCst);
            // Let the mutating request in flight finish; none starts after it.
            let held = MUTATE.lock().unwrap_or_else(|p| p.into_inner());
            let said = restore();
            let name = match sig {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            crate::out::err_line(&format!("\nes-split: interrupted ({name})"));
            for s in said {
                crate::out::err_line(&format!("es-split: {s}"));
            }
            if changed() {
                crate::out::err_line(&hint);
            }
            drop(held);
            std::process::exit(130);
        }
    });
    Ok(())
}
