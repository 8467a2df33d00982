//! The split as a persisted state machine (see [`crate::journal::Phase`]): take the lease,
//! block, refresh and count the source exactly while blocked, copy it (two `_clone`s, or
//! create + `_reindex`), give the source its writes back, trim both halves in parallel as
//! recorded, cancellable tasks, verify each half against the counts taken while blocked,
//! merge, then move aliases and — only if it provably did not change since the snapshot —
//! delete the source. Every step is recorded in the on-cluster journal and skipped when a
//! resumed run finds it done, so any host can continue where a run stopped.
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use crate::api;
use crate::client::{enc, Es};
use crate::error::{sanitize, Error, Result};
use crate::hygiene::{self, Alias};
use crate::interrupt::{self, mutate};
use crate::journal::{self, Journal, Phase, Snapshot, Strategy};
use crate::lease::Lease;
use crate::plan::{self, Config, Plan};
use crate::progress::Ui;
use crate::query;
use crate::report::{Half, Report, Step};
use crate::store::{self, Store};
use crate::tasks::{self, Poll};

struct Timer {
    steps: Vec<Step>,
}

impl Timer {
    fn run<T>(&mut self, ui: &Ui, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        ui.say(&format!("{name} …"));
        let start = Instant::now();
        let out = f()?;
        self.steps.push(Step {
            name: name.to_string(),
            seconds: start.elapsed().as_secs_f64(),
        });
        Ok(out)
    }
}

/// The report of a plan that was not executed.
pub fn dry_run_report(cfg: &Config, plan: &Plan) -> Report {
    let mut r = base_report(cfg, plan, "dry-run");
    r.hygiene = hygiene_lines(cfg, plan);
    r
}

fn base_report(cfg: &Config, plan: &Plan, status: &str) -> Report {
    Report {
        schema: crate::report::SCHEMA_VERSION,
        status: status.into(),
        split_id: None,
        phase: None,
        server: plan.server.describe(),
        source: cfg.index.clone(),
        field: cfg.field.clone(),
        mid: plan.mid.display(),
        mid_epoch_millis: plan.mid.millis(),
        mid_input: plan.mid_input.clone(),
        method: Some(plan.strategy),
        missing_to: plan.missing_to,
        total: plan.total,
        without_field: plan.missing,
        first: Half {
            index: cfg.first.clone(),
            expected: plan.first_expected,
            actual: None,
        },
        second: Half {
            index: cfg.second.clone(),
            expected: plan.second_expected,
            actual: None,
        },
        steps: Vec::new(),
        alias: None,
        source_deleted: false,
        source_write_block_restored: false,
        source_blocked_seconds: 0.0,
        hygiene: Vec::new(),
        problems: Vec::new(),
        warnings: plan.warnings.clone(),
    }
}

/// What the halves get and do not get, one line each, for the plan.
pub fn hygiene_lines(cfg: &Config, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v, flag) in &plan.dropped {
        out.push(format!(
            "setting {}={}: not given to the halves (keep it with {flag})",
            sanitize(k),
            sanitize(&v.to_string())
        ));
    }
    for (k, v) in hygiene::placement(&plan.source_settings) {
        out.push(format!(
            "setting {}={}: kept (the halves live where the source lives)",
            sanitize(&k),
            sanitize(&v.to_string())
        ));
    }
    for a in &plan.source_aliases {
        let moves = cfg.delete_source || cfg.alias.as_deref() == Some(a.name.as_str());
        out.push(hygiene::describe(a, moves));
    }
    if let Some(alias) = &cfg.alias {
        if !plan.source_aliases.iter().any(|a| &a.name == alias) {
            out.push(format!(
                "alias {}: new, on both halves, the second half its write index",
                sanitize(alias)
            ));
        }
    }
    out
}

/// A plain-text description of what `execute` will do.
pub fn describe(cfg: &Config, plan: &Plan) -> String {
    let how = match plan.strategy {
        Strategy::Clone => {
            "clone the source twice (hard links), then delete the other half from each copy, both at once"
        }
        Strategy::Reindex => "no _clone on this server: create both targets and _reindex each half, both at once",
    };
    let block = match (plan.strategy, cfg.delete_source) {
        (_, true) => "until it is deleted (--delete-source: it must not change once counted)",
        (Strategy::Clone, false) => {
            "only while it is counted and cloned (seconds); the halves are a copy of the source at that moment"
        }
        (Strategy::Reindex, false) => {
            "while it is counted and both halves are re-indexed; the halves are a copy of the source at that moment"
        }
    };
    let side = |m| {
        if plan.missing_to == Some(m) {
            format!(" + {} without the field", plan.missing)
        } else {
            String::new()
        }
    };
    let mut s = format!(
        "{server}: split {src} ({total} docs, health {health}) on {field} ({ftype}) at {mid} UTC{given}\n  \
         first  {first}: {fe} docs ({lt} < mid{mf})\n  second {second}: {se} docs ({gte} >= mid{ms})\n  how: {how}\n  \
         source write-blocked: {block}\n  server jobs: {jobs}\n",
        server = plan.server.describe(),
        src = sanitize(&cfg.index),
        total = plan.total,
        health = plan.health,
        field = sanitize(&cfg.field),
        ftype = plan.field_type,
        mid = plan.mid.display(),
        given = if plan.mid_input == plan.mid.display() {
            String::new()
        } else {
            format!(" (--mid {})", sanitize(&plan.mid_input))
        },
        first = sanitize(&cfg.first),
        fe = plan.first_expected,
        lt = plan.lt,
        mf = side(crate::query::MissingTo::First),
        second = sanitize(&cfg.second),
        se = plan.second_expected,
        gte = plan.gte,
        ms = side(crate::query::MissingTo::Second),
        jobs = if plan.tasks {
            "background tasks, polled, cancelled if es-split stops"
        } else {
            "synchronous calls (no tasks API)"
        },
    );
    if let Some(v) = &plan.previous {
        s.push_str(&format!(
            "  resuming split {} from phase {}\n",
            sanitize(&v.journal.split_id),
            v.journal.phase.name()
        ));
    }
    if let Some(crate::disk::Verdict::Enough { needed, available }) = plan.disk {
        s.push_str(&format!(
            "  disk: about {} needed once the halves diverge, {} available on the data nodes\n",
            indicatif::HumanBytes(needed),
            indicatif::HumanBytes(available)
        ));
    }
    for line in hygiene_lines(cfg, plan) {
        s.push_str(&format!("  {line}\n"));
    }
    if let Some(a) = &cfg.alias {
        s.push_str(&format!("  then: alias {} → both halves\n", sanitize(a)));
    }
    if cfg.delete_source {
        s.push_str(&format!(
            "  then: DELETE {} after verification, only if unchanged since it was counted\n",
            sanitize(&cfg.index)
        ));
    }
    s
}

/// Takes the lease: a new journal for a new split, or the interrupted one's for a resume.
fn acquire(es: &Es, cfg: &Config, plan: &Plan) -> Result<Arc<Store>> {
    let cache = Some(cfg.state_file(&plan.server.cluster_uuid));
    let lease = Lease::mine(cfg.lease_ttl);
    let stored = match &plan.previous {
        Some(prev) => {
            let mut j = prev.journal.clone();
            j.lease = Some(lease);
            j.delete_source = cfg.delete_source;
            j.alias = cfg.alias.clone();
            Store::replace(es, &cfg.journal_index, prev, j, cache)?
        }
        None => {
            store::ensure_index(es, &cfg.journal_index)?;
            let fresh = plan.new_journal(cfg, lease);
            // A finished split's journal is replaced; anything else was refused by the plan.
            match store::read(es, &cfg.journal_index, &cfg.index)? {
                Some(old) if old.journal.phase.is_final() => {
                    Store::replace(es, &cfg.journal_index, &old, fresh, cache)?
                }
                Some(_) => None,
                None => Store::create(es, &cfg.journal_index, fresh, cache)?,
            }
        }
    };
    stored.ok_or_else(|| {
        Error::Refused(format!(
            "another es-split run took the split of {} a moment ago: see --status",
            sanitize(&cfg.index)
        ))
    })
}

/// `--resume` of a split that is finished already, or whose source is already gone: killed right after the one atomic
/// step that moved the aliases and deleted the source. If the journal asked for that
/// deletion after verification and both halves are this split's, only the record is left.
/// `Ok(None)` when this is not that case (the pre-flight then explains).
pub fn resume_without_source(es: &Es, cfg: &Config) -> Result<Option<Report>> {
    let server = api::server_info(es)?;
    // Killed after the last journal write went through: the split is finished.
    if let Some(v) = store::read(es, &cfg.journal_index, &cfg.index)? {
        if v.journal.phase == Phase::Done && v.journal.cluster_uuid == server.cluster_uuid {
            crate::out::say(&format!(
                "the split of {} finished at {}: nothing left to do",
                sanitize(&cfg.index),
                crate::query::iso_utc(v.journal.updated_ms)
            ));
            let _ = journal::remove(&cfg.state_file(&server.cluster_uuid));
            let mut report =
                crate::rollback::report(cfg, &server.describe(), "ok", Vec::new(), false);
            report.split_id = Some(v.journal.split_id.clone());
            report.phase = Some(Phase::Done.name().into());
            report.source_deleted = v.journal.delete_source;
            return Ok(Some(report));
        }
    }
    if api::exists(es, "resume", &cfg.index)? {
        return Ok(None);
    }
    let Some(prev) = plan::check_journal(es, cfg, &server)? else {
        return Ok(None);
    };
    let j = prev.journal.clone();
    if !(j.delete_source && j.phase >= Phase::Merged) {
        return Ok(None);
    }
    for (target, _) in j.halves() {
        if !api::exists(es, "resume", target)? || !plan::is_our_half(es, &j, target)? {
            return Err(Error::Refused(format!(
                "{} is gone and {} is not this split's half: inspect the cluster before going on",
                sanitize(&j.source),
                sanitize(target)
            )));
        }
    }
    let mut next = j.clone();
    next.lease = Some(Lease::mine(cfg.lease_ttl));
    let cache = Some(cfg.state_file(&server.cluster_uuid));
    let store = Store::replace(es, &cfg.journal_index, &prev, next, cache)?.ok_or_else(|| {
        Error::Refused("the journal changed while --resume read it (another run?)".into())
    })?;
    store.update(|j| {
        j.phase = Phase::Done;
        j.lease = None;
        j.source_released = true;
    })?;
    store.forget_cache();
    let mut report = crate::rollback::report(cfg, &server.describe(), "ok", Vec::new(), false);
    report.split_id = Some(j.split_id.clone());
    report.phase = Some(Phase::Done.name().into());
    report.source_deleted = true;
    report.alias = j.alias.clone();
    Ok(Some(report))
}

/// Runs the split (or resumes it). When verification fails the report's status is
/// `mismatch`, its `problems` say what differs, and everything is left in place.
pub fn execute(es: &Es, cfg: &Config, plan: &Plan, ui: &Ui) -> Result<Report> {
    let store = acquire(es, cfg, plan)?;
    interrupt::arm(es, &store);
    store.start_heartbeat();
    let mut report = base_report(cfg, plan, "ok");
    report.hygiene = hygiene_lines(cfg, plan);
    let mut run = Run {
        es,
        cfg,
        plan,
        ui,
        store: &store,
        t: Timer { steps: Vec::new() },
        blocked_since: None,
        blocked: 0.0,
    };
    let outcome = run.drive(&mut report);
    run.unblocked();
    report.source_blocked_seconds = run.blocked;
    report.steps = std::mem::take(&mut run.t.steps);
    let j = store.journal();
    report.split_id = Some(j.split_id.clone());
    report.phase = Some(j.phase.name().into());
    if let Some(snap) = &j.snapshot {
        report.total = snap.total;
        report.without_field = snap.missing;
        report.first.expected = snap.first_expected;
        report.second.expected = snap.second_expected;
    }
    outcome?;
    if report.status == "ok" {
        interrupt::disarm();
        store.forget_cache();
    } else {
        // A mismatch: leave the halves, release the lease, keep the journal.
        interrupt::restore();
    }
    Ok(report)
}

struct Run<'a> {
    es: &'a Es,
    cfg: &'a Config,
    plan: &'a Plan,
    ui: &'a Ui,
    store: &'a Arc<Store>,
    t: Timer,
    blocked_since: Option<Instant>,
    blocked: f64,
}

impl Run<'_> {
    fn j(&self) -> Journal {
        self.store.journal()
    }

    fn unblocked(&mut self) {
        if let Some(since) = self.blocked_since.take() {
            self.blocked += since.elapsed().as_secs_f64();
        }
    }

    fn copy_complete(j: &Journal) -> bool {
        match j.strategy {
            Strategy::Clone => j.phase >= Phase::Copied,
            Strategy::Reindex => j.phase >= Phase::Trimmed,
        }
    }

    fn drive(&mut self, report: &mut Report) -> Result<()> {
        if !Self::copy_complete(&self.j()) {
            self.block()?;
            self.snapshot()?;
            match self.j().strategy {
                Strategy::Clone => self.clone_both()?,
                Strategy::Reindex => self.reindex_both()?,
            }
        }
        if !self.j().delete_source {
            self.release(report)?;
        }
        if self.j().phase < Phase::Trimmed {
            self.trim()?;
        }
        if self.j().phase < Phase::Verified && !self.verify(report)? {
            return Ok(());
        }
        if self.j().phase < Phase::Merged {
            self.merge()?;
        }
        self.finish(report)?;
        if !self.j().delete_source {
            report.source_write_block_restored = self.j().we_block;
        }
        Ok(())
    }

    /// Blocks the source (recording first that the block is ours to lift).
    fn block(&mut self) -> Result<()> {
        let j = self.j();
        if !j.we_block {
            return Ok(());
        }
        if j.source_released {
            self.store.update(|j| j.source_released = false)?;
        }
        let (es, index) = (self.es, &self.cfg.index);
        self.t.run(self.ui, "block writes on the source", || {
            mutate(|| api::add_write_block(es, index))
        })?;
        self.blocked_since = Some(Instant::now());
        Ok(())
    }

    /// Refresh and count while blocked; on a resume, prove the source did not change.
    fn snapshot(&mut self) -> Result<()> {
        let (es, cfg) = (self.es, self.cfg);
        let j = self.j();
        let (counts, seq) = self.t.run(self.ui, "count the source while blocked", || {
            api::maintenance(es, "refresh", &[&cfg.index], "_refresh")?;
            let counts = plan::count_source(es, &cfg.index, &j.field, &j.mid)?;
            Ok((counts, api::seq_nos(es, &cfg.index)?.unwrap_or_default()))
        })?;
        if let Some(snap) = &j.snapshot {
            let same_counts = (snap.total, snap.lt, snap.gte, snap.missing)
                == (counts.total, counts.lt, counts.gte, counts.missing);
            if !same_counts || snap.seq_nos != seq {
                return Err(Error::Refused(format!(
                    "{} changed since the interrupted split counted it ({} documents then, {} now{}): \
                     the halves would not be one snapshot. Run --rollback, then split again",
                    sanitize(&cfg.index),
                    snap.total,
                    counts.total,
                    if same_counts { ", same count but other sequence numbers: documents were written" } else { "" }
                )));
            }
            return Ok(());
        }
        let names = [j.first.as_str(), j.second.as_str()];
        if let Some(why) = counts.unfit(&j.field, j.missing, cfg.allow_empty_half, names, &j.mid) {
            // The journal keeps this split's --missing and --mid: only a new split can differ.
            return Err(Error::Refused(format!(
                "{why} (counted under the write block, after the plan): run --rollback, then split again"
            )));
        }
        let (fe, se) = counts.expected(j.missing);
        if counts.total != self.plan.total {
            self.ui.say(&format!(
                "the source has {} documents now ({} at the plan); the halves get what it holds now",
                counts.total, self.plan.total
            ));
        }
        self.store.update(|j| {
            j.phase = Phase::Snapshot;
            j.snapshot = Some(Snapshot {
                total: counts.total,
                lt: counts.lt,
                gte: counts.gte,
                missing: counts.missing,
                first_expected: fe,
                second_expected: se,
                seq_nos: seq,
                taken_ms: journal::now_ms(),
            });
        })?;
        Ok(())
    }

    /// The `_meta` the halves carry: the source's own plus this split's id.
    fn meta(&self) -> Value {
        let j = self.j();
        let mut meta = self
            .plan
            .source_mappings
            .get("_meta")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        meta.insert(
            journal::META_KEY.into(),
            json!({"split_id": j.split_id, "source": j.source, "source_uuid": j.source_uuid,
                   "mid": j.mid.display(), "field": j.field, "journal": self.cfg.journal_index}),
        );
        Value::Object(meta)
    }

    fn dropped_keys(&self) -> Vec<String> {
        self.plan.dropped.iter().map(|d| d.0.clone()).collect()
    }

    fn clone_both(&mut self) -> Result<()> {
        let (es, cfg, plan) = (self.es, self.cfg, self.plan);
        self.t.run(self.ui, "flush the source", || {
            mutate(|| api::maintenance(es, "flush", &[&cfg.index], "_flush"))
        })?;
        let j = self.j();
        let meta = self.meta();
        let drop = self.dropped_keys();
        for (target, role) in j.halves() {
            let ui = self.ui;
            self.t.run(ui, &format!("clone to the {role} half"), || {
                if !api::exists(es, "clone", target)? {
                    mutate(|| {
                        api::clone_index(es, &cfg.index, target, &plan.source_settings, &drop)
                    })?;
                }
                // The source must stay blocked until the clone's primaries have recovered
                // from its files: only then are the halves a copy of the counted source.
                let bar = ui.bar(&format!("recovering {}", sanitize(target)), "shards");
                api::wait_active(es, "wait for the clone", target, cfg.poll, |h| {
                    bar.update(h.active, h.total);
                    ui.detail(&format!(
                        "waiting for {}: {}/{} shards active, health {}",
                        sanitize(target),
                        h.active,
                        h.total,
                        sanitize(&h.status)
                    ));
                })?;
                mutate(|| api::put_meta(es, target, &meta))
            })?;
        }
        self.store.update(|j| j.phase = Phase::Copied)?;
        Ok(())
    }

    fn reindex_both(&mut self) -> Result<()> {
        let (es, plan) = (self.es, self.plan);
        let j = self.j();
        let mappings = plan::mappings_with_meta(&plan.source_mappings, self.meta());
        let settings = plan::target_settings(&plan.source_settings, &self.dropped_keys());
        // Pipelines are never run on copied documents; --keep-pipelines puts them back after.
        let mut settings = Value::Object(settings);
        for key in hygiene::pipelines(&plan.source_settings).keys() {
            if let Some(o) = settings.as_object_mut() {
                o.remove(key);
            }
        }
        for (target, role) in j.halves() {
            self.t
                .run(self.ui, &format!("create the {role} half"), || {
                    mutate(|| {
                        api::create_index(
                            es,
                            target,
                            &json!({"settings": settings, "mappings": mappings}),
                        )
                    })
                })?;
        }
        let scroll = self.cfg.scroll_size;
        let slices = if plan.tasks {
            self.cfg.slices.clone()
        } else {
            "1".into()
        };
        let jobs = jobs(&j, "*reindex", |target, keep| {
            (
                format!("/_reindex?slices={slices}"),
                json!({
                    "conflicts": "proceed",
                    "source": {"index": j.source, "query": keep, "size": scroll},
                    "dest": {"index": target, "op_type": "create"}
                }),
            )
        });
        self.run_jobs("reindex both halves", "reindex", jobs)?;
        self.store.update(|j| j.phase = Phase::Trimmed)?;
        Ok(())
    }

    /// Gives the source its writes back (the original value of the block).
    fn release(&mut self, report: &mut Report) -> Result<()> {
        let j = self.j();
        if !j.holds_block() {
            return Ok(());
        }
        let es = self.es;
        self.t.run(self.ui, "give the source its writes back", || {
            mutate(|| {
                api::put_write_block(es, "restore write block", &j.source, j.original_write_block)
            })
        })?;
        self.unblocked();
        self.store.update(|j| j.source_released = true)?;
        report.source_write_block_restored = true;
        Ok(())
    }

    fn trim(&mut self) -> Result<()> {
        let j = self.j();
        let (scroll, slices) = (self.cfg.scroll_size, &self.cfg.slices);
        let jobs = jobs(&j, "*byquery", |target, keep| {
            (
                format!(
                    "/{}/_delete_by_query?conflicts=abort&scroll_size={scroll}&slices={slices}",
                    enc(target)
                ),
                json!({"query": query::complement(&keep)}),
            )
        });
        self.run_jobs(
            "delete the other half from both halves",
            "delete_by_query",
            jobs,
        )?;
        self.store.update(|j| {
            j.phase = Phase::Trimmed;
            j.tasks = journal::Tasks::default();
        })?;
        Ok(())
    }

    /// Runs both halves' jobs at once: as recorded tasks (re-attached when a resumed run
    /// finds them running or finished) or, without a tasks API, as two synchronous calls.
    fn run_jobs(&mut self, name: &str, step: &str, jobs: Vec<Job>) -> Result<()> {
        let (es, plan, store, cfg) = (self.es, self.plan, self.store, self.cfg);
        let ui = self.ui;
        self.t.run(ui, name, || {
            if !plan.tasks {
                if interrupt::interrupted() {
                    return Err(Error::Interrupted);
                }
                let spinner = ui.spinner(name);
                let results: Vec<Result<tasks::ByQuery>> = std::thread::scope(|s| {
                    let handles: Vec<_> = jobs
                        .iter()
                        .map(|job| s.spawn(move || tasks::run_sync(es, step, &job.path, &job.body)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(Error::TaskFailed {
                                    step: step.into(),
                                    reason: "the request thread panicked".into(),
                                })
                            })
                        })
                        .collect()
                });
                drop(spinner);
                return results.into_iter().try_for_each(|r| r.map(drop));
            }
            let recorded = store.journal().tasks;
            let mut ids = Vec::new();
            for (job, old) in jobs.iter().zip([recorded.first, recorded.second]) {
                let reuse = match &old {
                    Some(id) => !matches!(
                        tasks::poll_once(es, step, id)?,
                        Poll::Gone | Poll::Failed(_)
                    ),
                    None => false,
                };
                let id = match (reuse, old) {
                    (true, Some(id)) => id,
                    _ => match tasks::find_running(es, job.action, &job.target)? {
                        Some(id) => id,
                        None => mutate(|| {
                            tasks::start(
                                es,
                                step,
                                &job.path,
                                &job.body,
                                Some((job.action, &job.target)),
                            )
                        })?,
                    },
                };
                ids.push(id);
            }
            store.update(|j| {
                j.tasks.first = ids.first().cloned();
                j.tasks.second = ids.get(1).cloned();
            })?;
            let bar = ui.bar(name, "docs");
            let mut done = vec![None; ids.len()];
            loop {
                let mut progress = (0u64, 0u64);
                for (i, id) in ids.iter().enumerate() {
                    if let Some(r) = &done[i] {
                        let r: &tasks::ByQuery = r;
                        progress = (progress.0 + r.done(), progress.1 + r.total);
                        continue;
                    }
                    match tasks::poll_once(es, step, id)? {
                        Poll::Running(s) => {
                            progress = (progress.0 + s.done(), progress.1 + s.total)
                        }
                        Poll::Done(r) => {
                            progress = (progress.0 + r.done(), progress.1 + r.total);
                            done[i] = Some(r);
                        }
                        Poll::Failed(why) => {
                            return Err(Error::TaskFailed {
                                step: format!("{step} ({})", jobs[i].role),
                                reason: why,
                            })
                        }
                        Poll::Gone => return Err(tasks::vanished(step, id)),
                    }
                }
                bar.update(progress.0, progress.1);
                if done.iter().all(Option::is_some) {
                    return Ok(());
                }
                if store.lost() {
                    return Err(Error::LeaseLost("the lease was taken over".into()));
                }
                std::thread::sleep(cfg.poll);
            }
        })
    }

    /// Counts each half and compares it with the counts taken while the source was blocked.
    fn verify(&mut self, report: &mut Report) -> Result<bool> {
        let (es, j) = (self.es, self.j());
        let Some(snap) = j.snapshot.clone() else {
            return Err(Error::BadResponse {
                step: "verify".into(),
                reason: "the journal has no snapshot".into(),
            });
        };
        let (first, second) = self.t.run(self.ui, "verify counts", || {
            api::maintenance(es, "refresh", &[&j.first, &j.second], "_refresh")?;
            let all = json!({"match_all": {}});
            Ok((
                api::count(es, "verify", &j.first, &all)?,
                api::count(es, "verify", &j.second, &all)?,
            ))
        })?;
        report.first.actual = Some(first);
        report.second.actual = Some(second);
        let problems = mismatches(&j, &snap, first, second);
        if !problems.is_empty() {
            report.status = "mismatch".into();
            report.problems = problems.clone();
            self.store.update(|j| j.problems = problems)?;
            return Ok(false);
        }
        self.store.update(|j| {
            j.phase = Phase::Verified;
            j.problems.clear();
        })?;
        Ok(true)
    }

    fn merge(&mut self) -> Result<()> {
        let (es, j) = (self.es, self.j());
        if j.strategy == Strategy::Clone {
            self.t
                .run(self.ui, "force-merge deleted documents away", || {
                    if interrupt::interrupted() {
                        return Err(Error::Interrupted);
                    }
                    api::maintenance(
                        es,
                        "forcemerge",
                        &[&j.first, &j.second],
                        "_forcemerge?only_expunge_deletes=true",
                    )
                })?;
        } else if self.cfg.keep.pipelines {
            let pipelines = Value::Object(hygiene::pipelines(&self.plan.source_settings));
            if pipelines.as_object().is_some_and(|p| !p.is_empty()) {
                for (target, _) in j.halves() {
                    mutate(|| {
                        es.call(
                            "restore pipelines",
                            crate::client::Method::Put,
                            &format!("/{}/_settings", enc(target)),
                            Some(&pipelines),
                        )
                        .map(drop)
                    })?;
                }
            }
        }
        self.store.update(|j| j.phase = Phase::Merged)?;
        Ok(())
    }

    /// Aliases and the source's deletion, in one atomic `_aliases` call when the source goes.
    fn finish(&mut self, report: &mut Report) -> Result<()> {
        let (es, cfg, plan) = (self.es, self.cfg, self.plan);
        let j = self.j();
        let mut actions = Vec::new();
        let mut moved: Vec<&Alias> = Vec::new();
        let named = cfg.alias.as_ref().map(|name| {
            plan.source_aliases
                .iter()
                .find(|a| &a.name == name)
                .cloned()
                .unwrap_or(Alias {
                    name: name.clone(),
                    def: json!({}),
                    writes_to_source: true,
                })
        });
        if j.delete_source {
            moved.extend(plan.source_aliases.iter());
        }
        if let Some(a) = &named {
            if !moved.iter().any(|m| m.name == a.name) {
                moved.push(a);
            }
        }
        for a in &moved {
            if !j.delete_source && plan.source_aliases.iter().any(|s| s.name == a.name) {
                actions.push(json!({"remove": {"index": j.source, "alias": a.name}}));
            }
            actions.extend(hygiene::add_actions(a, &j.first, &j.second));
        }
        if j.delete_source {
            self.check_unchanged()?;
            actions.push(json!({"remove_index": {"index": j.source}}));
        }
        if !actions.is_empty() {
            let name = if j.delete_source {
                "move the aliases and delete the source (one atomic step)"
            } else {
                "point the alias at both halves"
            };
            self.t.run(self.ui, name, || {
                mutate(|| api::update_aliases(es, &actions, j.delete_source.then_some(&j.source)))
            })?;
        }
        report.alias = cfg.alias.clone();
        report.source_deleted = j.delete_source;
        self.store.update(|j| {
            j.phase = Phase::Done;
            j.lease = None;
            j.source_released = true;
        })?;
        Ok(())
    }

    /// The source may only be deleted if it provably did not change since it was counted.
    fn check_unchanged(&mut self) -> Result<()> {
        let (es, j) = (self.es, self.j());
        let snap = j.snapshot.clone().unwrap_or_else(|| Snapshot {
            total: 0,
            lt: 0,
            gte: 0,
            missing: 0,
            first_expected: 0,
            second_expected: 0,
            seq_nos: Default::default(),
            taken_ms: 0,
        });
        let settings = api::settings(es, &j.source)?;
        let now = api::seq_nos(es, &j.source)?;
        let uuid = api::index_uuid(&settings).unwrap_or_default();
        api::maintenance(es, "refresh", &[&j.source], "_refresh")?;
        let total = api::count(es, "check the source", &j.source, &json!({"match_all": {}}))?;
        let unchanged = uuid == j.source_uuid
            && !snap.seq_nos.is_empty()
            && now.as_ref() == Some(&snap.seq_nos)
            && total == snap.total;
        if unchanged {
            return Ok(());
        }
        Err(Error::Refused(format!(
            "{} changed since it was counted ({} documents then, {total} now{}): it is NOT deleted. \
             The halves are complete and verified; index what was written since into them, then delete the source yourself, \
             or run --resume without --delete-source",
            sanitize(&j.source),
            snap.total,
            if now.is_none() { "; the server reports no sequence numbers to prove otherwise" } else { "" }
        )))
    }
}

/// The two halves' jobs: `request(target, what the half keeps)` gives the path and body.
fn jobs(
    j: &Journal,
    action: &'static str,
    request: impl Fn(&str, Value) -> (String, Value),
) -> Vec<Job> {
    let keep = [
        query::keep_first(&j.field, &j.mid, j.missing),
        query::keep_second(&j.field, &j.mid, j.missing),
    ];
    j.halves()
        .iter()
        .zip(keep)
        .map(|((target, role), keep)| {
            let (path, body) = request(target, keep);
            Job {
                target: target.to_string(),
                role,
                path,
                body,
                action,
            }
        })
        .collect()
}

/// A by-query job for one half.
struct Job {
    target: String,
    role: &'static str,
    path: String,
    body: Value,
    /// The tasks API action pattern, to find a running job again.
    action: &'static str,
}

fn mismatches(j: &Journal, snap: &Snapshot, first: u64, second: u64) -> Vec<String> {
    let mut out = Vec::new();
    if first != snap.first_expected {
        out.push(format!(
            "{} has {first} documents, expected {} (counted while the source was blocked)",
            sanitize(&j.first),
            snap.first_expected
        ));
    }
    if second != snap.second_expected {
        out.push(format!(
            "{} has {second} documents, expected {} (counted while the source was blocked)",
            sanitize(&j.second),
            snap.second_expected
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::sample;

    #[test]
    fn verification_names_every_difference() {
        let j = sample();
        let snap = j.snapshot.clone().unwrap();
        assert!(mismatches(&j, &snap, 4, 6).is_empty());
        let m = mismatches(&j, &snap, 5, 6);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("logs-firsthalf has 5 documents, expected 4"),
            "{m:?}"
        );
        assert_eq!(mismatches(&j, &snap, 3, 7).len(), 2);
    }
}
