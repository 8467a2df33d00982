//! The split itself: block, flush, clone (or create + reindex), delete the other half,
//! refresh, verify, force-merge, restore, alias, delete the source. Every step tolerates
//! the state an interrupted run left behind, which is what `--resume` relies on.
use std::time::Instant;

use serde_json::{json, Value};

use crate::api;
use crate::client::Es;
use crate::error::{sanitize, Error, Result};
use crate::guard::{self, BlockGuard};
use crate::journal::{self, Journal, Strategy};
use crate::plan::{Config, Plan};
use crate::progress::Ui;
use crate::report::{Half, Report, Step};
use crate::tasks::{self, TaskMode};

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
    base_report(cfg, plan, "dry-run")
}

fn base_report(cfg: &Config, plan: &Plan, status: &str) -> Report {
    let j = &plan.journal;
    Report {
        schema: crate::report::SCHEMA_VERSION,
        status: status.into(),
        server: plan.server.describe(),
        source: cfg.index.clone(),
        field: cfg.field.clone(),
        mid: plan
            .mid_as_string
            .clone()
            .unwrap_or_else(|| plan.mid.display()),
        mid_epoch_millis: if plan.mid.format.is_some() {
            plan.mid.value.as_i64()
        } else {
            None
        },
        method: Some(plan.strategy),
        missing_to: j.missing,
        total: plan.total,
        without_field: plan.missing,
        first: Half {
            index: cfg.first.clone(),
            expected: j.first_expected,
            actual: None,
        },
        second: Half {
            index: cfg.second.clone(),
            expected: j.second_expected,
            actual: None,
        },
        steps: Vec::new(),
        alias: None,
        source_deleted: false,
        source_write_block_restored: false,
        problems: Vec::new(),
        warnings: plan.warnings.clone(),
    }
}

/// A plain-text description of what `execute` will do.
pub fn describe(cfg: &Config, plan: &Plan) -> String {
    let j = &plan.journal;
    let how = match plan.strategy {
        Strategy::Clone => {
            "clone the source twice (hard links), then delete the other half from each copy"
        }
        Strategy::Reindex => "no _clone on this server: create both targets and _reindex each half",
    };
    let mut s = format!(
        "{server}: split {src} ({total} docs, health {health}) on {field} ({ftype}) at {mid}\n  \
         first  {first}: {fe} docs ({lt} < mid{mf})\n  second {second}: {se} docs ({gte} >= mid{ms})\n  how: {how}\n  \
         server jobs: {jobs}\n",
        server = plan.server.describe(),
        src = sanitize(&cfg.index),
        total = plan.total,
        health = plan.health,
        field = sanitize(&cfg.field),
        ftype = plan.field_type,
        mid = match &plan.mid_as_string {
            Some(s) => format!("{} (median; the server shows it as {})", plan.mid.display(), sanitize(s)),
            None => sanitize(&plan.mid.display()),
        },
        first = sanitize(&cfg.first),
        fe = j.first_expected,
        lt = plan.lt,
        mf = if j.missing == Some(crate::query::MissingTo::First) { format!(" + {} without the field", plan.missing) } else { String::new() },
        second = sanitize(&cfg.second),
        se = j.second_expected,
        gte = plan.gte,
        ms = if j.missing == Some(crate::query::MissingTo::Second) { format!(" + {} without the field", plan.missing) } else { String::new() },
        // Deletes (clone path) and copies (reindex path) both run as server-side jobs.
        jobs = if plan.tasks { "background tasks, polled" } else { "synchronous calls (no tasks API)" },
    );
    if !plan.existing.is_empty() {
        let names: Vec<String> = plan.existing.iter().map(|n| sanitize(n)).collect();
        s.push_str(&format!(
            "  resuming: {} already exist(s)\n",
            names.join(", ")
        ));
    }
    if let Some(crate::disk::Verdict::Enough { needed, available }) = plan.disk {
        s.push_str(&format!(
            "  disk: about {} needed once the halves diverge, {} available on the data nodes\n",
            indicatif::HumanBytes(needed),
            indicatif::HumanBytes(available)
        ));
    }
    if let Some(a) = &cfg.alias {
        s.push_str(&format!("  then: alias {} → both halves\n", sanitize(a)));
    }
    if cfg.delete_source {
        s.push_str(&format!(
            "  then: DELETE {} after verification\n",
            sanitize(&cfg.index)
        ));
    }
    s
}

/// Runs the split. When verification fails the report's status is `mismatch`, its
/// `problems` say what differs, everything is left in place and the write block is restored.
pub fn execute(es: &Es, cfg: &Config, plan: &Plan, ui: &Ui) -> Result<Report> {
    let mut report = base_report(cfg, plan, "ok");
    let mut t = Timer { steps: Vec::new() };
    let j = &plan.journal;
    let state = cfg.state_file();
    if j.verified {
        // A previous run verified the halves and restored the source: only the last steps
        // (alias, delete) remain, and the source may legitimately have changed since.
        guard::mark_changed();
        report.first.actual = Some(api::count(
            es,
            "verify",
            &cfg.first,
            &json!({"match_all": {}}),
        )?);
        report.second.actual = Some(api::count(
            es,
            "verify",
            &cfg.second,
            &json!({"match_all": {}}),
        )?);
        return finish(es, cfg, ui, report, t, &state);
    }
    journal::save(&state, j)?;
    guard::mark_changed();

    let guard = if j.original_write_block == Some(true) {
        None
    } else {
        Some(t.run(ui, "block writes on the source", || {
            BlockGuard::engage(es, &cfg.index, j.original_write_block)
        })?)
    };
    t.run(ui, "flush the source", || {
        api::maintenance(es, "flush", &[&cfg.index], "_flush")
    })?;

    let mode = TaskMode {
        tasks: plan.tasks,
        poll: cfg.poll,
    };
    let halves = [
        (&cfg.first, &plan.keep_first, "first"),
        (&cfg.second, &plan.keep_second, "second"),
    ];
    match plan.strategy {
        Strategy::Clone => {
            for (target, _, role) in halves {
                t.run(ui, &format!("clone to the {role} half"), || {
                    clone_target(es, cfg, plan, target, ui)
                })?;
            }
            for (target, keep, role) in halves {
                t.run(ui, &format!("delete the other half from {role}"), || {
                    let path = format!(
                        "/{}/_delete_by_query?conflicts=abort&scroll_size={}&slices={}",
                        crate::client::enc(target),
                        cfg.scroll_size,
                        cfg.slices
                    );
                    let body = json!({"query": crate::query::complement(keep)});
                    let progress = ui.task(plan.tasks, &format!("deleting from {role}"));
                    tasks::run_by_query(es, "delete_by_query", &path, &body, mode, &progress)
                })?;
            }
        }
        Strategy::Reindex => {
            for (target, _, role) in halves {
                t.run(ui, &format!("create the {role} half"), || {
                    create_target(es, plan, target)
                })?;
            }
            for (target, keep, role) in halves {
                t.run(ui, &format!("reindex the {role} half"), || {
                    let path = format!(
                        "/_reindex?slices={}",
                        if plan.tasks { cfg.slices.as_str() } else { "1" }
                    );
                    let body = json!({
                        "conflicts": "proceed",
                        "source": {"index": cfg.index, "query": keep, "size": cfg.scroll_size},
                        "dest": {"index": target, "op_type": "create"}
                    });
                    let progress = ui.task(plan.tasks, &format!("copying {role}"));
                    tasks::run_by_query(es, "reindex", &path, &body, mode, &progress)
                })?;
            }
        }
    }

    t.run(ui, "refresh the halves", || {
        api::maintenance(es, "refresh", &[&cfg.first, &cfg.second], "_refresh")
    })?;
    let (first, second, total) = t.run(ui, "verify counts", || {
        let first = api::count(es, "verify", &cfg.first, &json!({"match_all": {}}))?;
        let second = api::count(es, "verify", &cfg.second, &json!({"match_all": {}}))?;
        let total = api::count(es, "verify", &cfg.index, &json!({"match_all": {}}))?;
        Ok((first, second, total))
    })?;
    report.first.actual = Some(first);
    report.second.actual = Some(second);
    let problems = mismatches(j, first, second, total);
    if !problems.is_empty() {
        if let Some(g) = &guard {
            g.restore()?;
        }
        // Leave the halves and the state file for inspection and --rollback.
        report.status = "mismatch".into();
        report.problems = problems;
        report.source_write_block_restored = guard.is_some();
        report.steps = t.steps;
        return Ok(report);
    }

    if plan.strategy == Strategy::Clone {
        t.run(ui, "force-merge deleted documents away", || {
            api::maintenance(
                es,
                "forcemerge",
                &[&cfg.first, &cfg.second],
                "_forcemerge?only_expunge_deletes=true",
            )
        })?;
    }
    if let Some(g) = &guard {
        t.run(ui, "restore the source's write block", || g.restore())?;
    }
    report.source_write_block_restored = guard.is_some();
    drop(guard);
    journal::save(
        &state,
        &Journal {
            verified: true,
            ..j.clone()
        },
    )?;
    finish(es, cfg, ui, report, t, &state)
}

/// The steps after a successful verification: alias, delete the source, forget the state.
fn finish(
    es: &Es,
    cfg: &Config,
    ui: &Ui,
    mut report: Report,
    mut t: Timer,
    state: &std::path::Path,
) -> Result<Report> {
    if let Some(alias) = &cfg.alias {
        t.run(ui, "point the alias at both halves", || {
            add_alias(es, cfg, alias)
        })?;
        report.alias = Some(alias.clone());
    }
    if cfg.delete_source {
        t.run(ui, "delete the source", || {
            api::delete_index(es, "delete source", &cfg.index)
        })?;
        report.source_deleted = true;
    }
    journal::remove(state)?;
    report.steps = t.steps;
    Ok(report)
}

fn mismatches(j: &Journal, first: u64, second: u64, total: u64) -> Vec<String> {
    let mut out = Vec::new();
    if total != j.total {
        out.push(format!(
            "the source now has {total} documents, {} before the split",
            j.total
        ));
    }
    if first != j.first_expected {
        out.push(format!(
            "{} has {first} documents, expected {}",
            sanitize(&j.first),
            j.first_expected
        ));
    }
    if second != j.second_expected {
        out.push(format!(
            "{} has {second} documents, expected {}",
            sanitize(&j.second),
            j.second_expected
        ));
    }
    if out.is_empty() && first.checked_add(second) != Some(total) {
        out.push(format!("{first} + {second} != {total} source documents"));
    }
    out
}

fn clone_target(es: &Es, cfg: &Config, plan: &Plan, target: &str, ui: &Ui) -> Result<()> {
    if !api::exists(es, "clone", target)? {
        api::clone_index(es, &cfg.index, target, &plan.source_settings)?;
    }
    // A big clone can take a while to recover (hard links are fast, copies across file
    // systems or to replicas are not): show its shards coming up.
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
    let meta = plan
        .source_mappings
        .get("_meta")
        .cloned()
        .unwrap_or(Value::Null);
    api::put_meta(es, target, &journal::with_record(&meta, &plan.journal))
}

fn create_target(es: &Es, plan: &Plan, target: &str) -> Result<()> {
    if api::exists(es, "create target", target)? {
        return Ok(());
    }
    let mut mappings = plan.source_mappings.clone();
    let meta = mappings.get("_meta").cloned().unwrap_or(Value::Null);
    if let Some(obj) = mappings.as_object_mut() {
        obj.insert("_meta".into(), journal::with_record(&meta, &plan.journal));
    }
    let settings = crate::plan::target_settings(&plan.source_settings);
    api::create_index(
        es,
        target,
        &json!({"settings": settings, "mappings": mappings}),
    )
}

fn add_alias(es: &Es, cfg: &Config, alias: &str) -> Result<()> {
    let mut actions = Vec::new();
    // If the alias served the source, move it: both the source and the halves behind one
    // alias would double every hit.
    if !cfg.delete_source
        && api::alias_indices(es, alias)?
            .iter()
            .any(|i| i == &cfg.index)
    {
        actions.push(json!({"remove": {"index": cfg.index, "alias": alias}}));
    }
    actions.push(json!({"add": {"index": cfg.first, "alias": alias}}));
    actions.push(json!({"add": {"index": cfg.second, "alias": alias}}));
    api::update_aliases(es, actions)
}

/// `--rollback`: deletes the targets that carry our journal for this source and restores
/// the source's write block. Never deletes a target whose source is gone.
pub fn rollback(es: &Es, cfg: &Config, ui: &Ui) -> Result<Report> {
    let state = cfg.state_file();
    let local = journal::load(&state)?;
    let server = api::server_info(es)?;
    let source_exists = api::exists(es, "rollback", &cfg.index)?;
    let mut found: Option<Journal> = local.clone();
    let mut ours = Vec::new();
    let first = local
        .as_ref()
        .map_or(cfg.first.clone(), |j| j.first.clone());
    let second = local
        .as_ref()
        .map_or(cfg.second.clone(), |j| j.second.clone());
    for target in [&first, &second] {
        match journal::read_meta(es, target)? {
            Some((_, Some(j))) if j.source == cfg.index => {
                ours.push(target.clone());
                found.get_or_insert(j);
            }
            Some((_, None)) if crate::plan::names_target(local.as_ref(), target) => {
                ours.push(target.clone())
            }
            Some(_) => ui.warn(&format!(
                "{} exists but was not created by es-split from {}: left alone",
                sanitize(target),
                sanitize(&cfg.index)
            )),
            None => {}
        }
    }
    let mut t = Timer { steps: Vec::new() };
    let Some(j) = found else {
        return Ok(rollback_report(
            cfg,
            &server,
            "nothing-to-roll-back",
            t.steps,
            false,
        ));
    };
    if !source_exists && !ours.is_empty() {
        return Err(Error::Refused(format!(
            "{} no longer exists: {} hold(s) its only copy, so --rollback will not delete them",
            sanitize(&cfg.index),
            ours.join(", ")
        )));
    }
    guard::mark_changed();
    for target in &ours {
        t.run(ui, &format!("delete {}", sanitize(target)), || {
            api::delete_index(es, "rollback", target)
        })?;
    }
    let mut restored = false;
    if j.we_blocked && source_exists {
        t.run(ui, "restore the source's write block", || {
            api::put_write_block(es, "rollback", &cfg.index, j.original_write_block)
        })?;
        restored = true;
    }
    journal::remove(&state)?;
    Ok(rollback_report(
        cfg,
        &server,
        "rolled-back",
        t.steps,
        restored,
    ))
}

fn rollback_report(
    cfg: &Config,
    server: &crate::version::ServerInfo,
    status: &str,
    steps: Vec<Step>,
    restored: bool,
) -> Report {
    Report {
        schema: crate::report::SCHEMA_VERSION,
        status: status.into(),
        server: server.describe(),
        source: cfg.index.clone(),
        field: cfg.field.clone(),
        mid: String::new(),
        mid_epoch_millis: None,
        method: None,
        missing_to: None,
        total: 0,
        without_field: 0,
        first: Half {
            index: cfg.first.clone(),
            expected: 0,
            actual: None,
        },
        second: Half {
            index: cfg.second.clone(),
            expected: 0,
            actual: None,
        },
        steps,
        alias: None,
        source_deleted: false,
        source_write_block_restored: restored,
        problems: Vec::new(),
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::sample as journal;

    #[test]
    fn verification_names_every_difference() {
        assert!(mismatches(&journal(), 4, 6, 10).is_empty());
        let m = mismatches(&journal(), 5, 6, 10);
        assert_eq!(m, ["logs-firsthalf has 5 documents, expected 4"]);
        let m = mismatches(&journal(), 4, 6, 11);
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("11"));
    }
}
