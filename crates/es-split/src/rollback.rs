//! `--rollback`: undoes an unfinished split, after checking what it acts on: the journal of
//! this cluster, the lease, halves that carry this split's id, the source still there. A
//! finished split is refused (its halves may be all there is now), and so is a source that
//! is gone or was re-created (the halves hold its only copy).
use crate::api;
use crate::client::Es;
use crate::error::{sanitize, Error, Result};
use crate::interrupt::{self, mutate};
use crate::journal::{self, Phase};
use crate::lease::Lease;
use crate::plan::{self, Config};
use crate::progress::Ui;
use crate::report::{Report, Step};
use crate::store::Store;

/// Runs `--rollback`.
pub fn rollback(es: &Es, cfg: &Config, ui: &Ui) -> Result<Report> {
    let server = api::server_info(es)?;
    let cache = cfg.state_file(&server.cluster_uuid);
    let found = plan::check_journal(es, cfg, &server)?;
    let mut steps = Vec::new();
    let Some(prev) = found.filter(|v| v.journal.phase != Phase::RolledBack) else {
        if journal::load(&cache)?.is_some() {
            ui.warn(&format!(
                "{}: the cluster has no unfinished split of {}; removed this stale local state file",
                cache.display(),
                sanitize(&cfg.index)
            ));
            journal::remove(&cache)?;
        }
        for target in [&cfg.first, &cfg.second] {
            if api::exists(es, "rollback", target)? {
                ui.warn(&format!(
                    "{} exists but was not created by es-split from {}: left alone",
                    sanitize(target),
                    sanitize(&cfg.index)
                ));
            }
        }
        return Ok(report(
            cfg,
            &server.describe(),
            "nothing-to-roll-back",
            steps,
            false,
        ));
    };
    if prev.journal.phase == Phase::Done {
        return Err(Error::Refused(format!(
            "the split of {} into {} and {} finished at {}: --rollback does not undo a finished split \
             (the halves may hold writes since, or be all that is left). Delete the halves yourself if that is what you want",
            sanitize(&cfg.index),
            sanitize(&prev.journal.first),
            sanitize(&prev.journal.second),
            crate::query::iso_utc(prev.journal.updated_ms)
        )));
    }
    let mut j = prev.journal.clone();
    j.lease = Some(Lease::mine(cfg.lease_ttl));
    let store =
        Store::replace(es, &cfg.journal_index, &prev, j, Some(cache))?.ok_or_else(|| {
            Error::Refused(format!(
                "the journal of {} changed while --rollback read it (another run?): see --status",
                sanitize(&cfg.index)
            ))
        })?;
    interrupt::arm(es, &store);
    let j = store.journal();
    let source_uuid = if api::exists(es, "rollback", &j.source)? {
        api::index_uuid(&api::settings(es, &j.source)?)
    } else {
        None
    };
    let mut ours = Vec::new();
    for (target, _) in j.halves() {
        if api::exists(es, "rollback", target)? {
            if plan::is_our_half(es, &j, target)? {
                ours.push(target.to_string());
            } else {
                ui.warn(&format!(
                    "{} exists but was not created by this split of {}: left alone",
                    sanitize(target),
                    sanitize(&j.source)
                ));
            }
        }
    }
    if source_uuid.as_deref() != Some(j.source_uuid.as_str()) && !ours.is_empty() {
        return Err(Error::Refused(format!(
            "{} {}: {} hold(s) its only copy, so --rollback will not delete them",
            sanitize(&j.source),
            if source_uuid.is_none() {
                "no longer exists"
            } else {
                "was deleted and re-created"
            },
            ours.join(", ")
        )));
    }
    cancel_all(es, &j);
    for target in &ours {
        let start = std::time::Instant::now();
        ui.say(&format!("delete {} …", sanitize(target)));
        mutate(|| api::delete_index(es, "rollback", target))?;
        steps.push(Step {
            name: format!("delete {}", sanitize(target)),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let mut restored = false;
    if j.holds_block() && source_uuid.is_some() {
        ui.say("restore the source's write block …");
        mutate(|| api::put_write_block(es, "rollback", &j.source, j.original_write_block))?;
        restored = true;
    }
    store.update(|j| {
        j.phase = Phase::RolledBack;
        j.lease = None;
        j.source_released = true;
    })?;
    interrupt::disarm();
    store.forget_cache();
    Ok(report(
        cfg,
        &server.describe(),
        "rolled-back",
        steps,
        restored,
    ))
}

/// Cancels the split's recorded tasks and any running job on its halves that a crash left
/// unrecorded (started, then killed before the journal write).
pub fn cancel_all(es: &Es, j: &journal::Journal) -> Vec<String> {
    let mut ids: Vec<String> = [&j.tasks.first, &j.tasks.second]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if crate::api::tasks_supported(es).unwrap_or(false) {
        for (target, _) in j.halves() {
            for action in ["*byquery", "*reindex"] {
                if let Ok(Some(id)) = crate::tasks::find_running(es, action, target) {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
    }
    ids.into_iter()
        .filter(|id| crate::tasks::cancel(es, id).unwrap_or(false))
        .collect()
}

/// A report with only the run's status and steps (rollback, a finished resume).
pub(crate) fn report(
    cfg: &Config,
    server: &str,
    status: &str,
    steps: Vec<Step>,
    restored: bool,
) -> Report {
    let mut r = Report::bare(status, server, &cfg.index, &cfg.first, &cfg.second);
    r.field = cfg.field.clone();
    r.steps = steps;
    r.source_write_block_restored = restored;
    r
}
