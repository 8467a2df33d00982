//! The validated configuration and the pre-flight checks that turn it into a `Plan`.
//! Nothing here changes the cluster.
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::api;
use crate::client::Es;
use crate::disk;
use crate::error::{sanitize, Error, Result};
use crate::hygiene::{self, Alias, Keep};
use crate::journal::{self, Journal, Phase, Strategy};
use crate::lease::Liveness;
use crate::query::{self, Mid, MissingTo};
use crate::store::{self, Versioned};
use crate::version::ServerInfo;

/// `--mid`: a date in the field's format, or `auto` (the median).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MidSpec {
    Auto,
    Date(String),
}

/// `--method`: pick automatically, or force one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyChoice {
    Auto,
    Clone,
    Reindex,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Split,
    Resume,
    Rollback,
    Status,
}

/// A validated command line (no secrets: those live in the transport).
#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub index: String,
    pub first: String,
    pub second: String,
    /// Whether `--first` / `--second` were given (a resume then checks them).
    pub names_given: bool,
    pub field: String,
    /// `None` with `--resume` / `--rollback` when not given: the journal's is used.
    pub mid: Option<MidSpec>,
    pub missing: Option<MissingTo>,
    pub strategy: StrategyChoice,
    pub mode: Mode,
    pub dry_run: bool,
    pub alias: Option<String>,
    pub delete_source: bool,
    pub scroll_size: u32,
    pub slices: String,
    pub poll: Duration,
    pub state_dir: PathBuf,
    /// Check the data nodes' free disk before changing anything (`--no-disk-check` clears it).
    pub disk_check: bool,
    /// `--allow-empty-half`.
    pub allow_empty_half: bool,
    /// `--keep-lifecycle` / `--keep-pipelines`.
    pub keep: Keep,
    /// `--take-over`: take a stale lease.
    pub take_over: bool,
    /// `--status --clean`: remove stale local state files.
    pub clean: bool,
    /// `--journal-index`.
    pub journal_index: String,
    /// `--lease-ttl`: seconds without a heartbeat after which a lease is stale.
    pub lease_ttl: u64,
}

impl Config {
    /// The local state file of this split on the cluster with `cluster_uuid`.
    pub fn state_file(&self, cluster_uuid: &str) -> PathBuf {
        journal::state_path(&self.state_dir, cluster_uuid, &self.index)
    }
}

/// Validates an index name the way ES does, so typos fail before any request.
pub fn validate_index_name(flag: &str, name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.starts_with(['-', '_', '+'])
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c.is_uppercase() || "\\/*?\"<>| ,#:".contains(c))
        || name.len() > 255;
    if bad {
        return Err(Error::Usage(format!(
            "{flag} {:?} is not a valid index name (lowercase, no spaces or \\/*?\"<>|,#:, not starting with -_+)",
            sanitize(name)
        )));
    }
    Ok(())
}

/// Everything the pre-flight established.
#[derive(Debug, Clone)]
pub struct Plan {
    pub server: ServerInfo,
    pub strategy: Strategy,
    pub tasks: bool,
    pub field_type: String,
    /// The midpoint resolved once to an absolute instant.
    pub mid: Mid,
    /// What the user gave (`--mid`), for the plan.
    pub mid_input: String,
    /// Counts taken before the block, for the plan; the split re-counts while blocked.
    pub total: u64,
    pub lt: u64,
    pub gte: u64,
    pub missing: u64,
    pub missing_to: Option<MissingTo>,
    pub first_expected: u64,
    pub second_expected: u64,
    pub health: String,
    pub source_uuid: String,
    pub source_settings: serde_json::Map<String, Value>,
    pub source_mappings: Value,
    pub source_aliases: Vec<Alias>,
    /// Settings the halves do not get: (key, value, flag that keeps it).
    pub dropped: Vec<(String, Value, &'static str)>,
    /// The journal of the split being resumed.
    pub previous: Option<Versioned>,
    /// The disk check's outcome (`None` when it was not run).
    pub disk: Option<disk::Verdict>,
    /// What the user should know but that does not stop the split.
    pub warnings: Vec<String>,
}

impl Plan {
    /// The journal a new split starts with.
    pub fn new_journal(&self, cfg: &Config, lease: crate::lease::Lease) -> Journal {
        let now = journal::now_ms();
        let original = api::flag(&self.source_settings, "index.blocks.write");
        Journal {
            format: journal::FORMAT,
            split_id: journal::new_split_id(),
            cluster_uuid: self.server.cluster_uuid.clone(),
            url: cfg.url.clone(),
            source: cfg.index.clone(),
            source_uuid: self.source_uuid.clone(),
            first: cfg.first.clone(),
            second: cfg.second.clone(),
            field: cfg.field.clone(),
            mid: self.mid.clone(),
            missing: self.missing_to,
            strategy: self.strategy,
            original_write_block: original,
            we_block: original != Some(true),
            source_released: false,
            delete_source: cfg.delete_source,
            alias: cfg.alias.clone(),
            phase: Phase::Planned,
            snapshot: None,
            tasks: journal::Tasks::default(),
            lease: Some(lease),
            started_ms: now,
            updated_ms: now,
            problems: Vec::new(),
        }
    }
}

/// Reads the journal of `index` and decides whether this mode may go ahead with it:
/// a live lease always refuses, a stale one needs `--take-over` (or a dead local holder).
pub fn check_journal(es: &Es, cfg: &Config, server: &ServerInfo) -> Result<Option<Versioned>> {
    let found = store::read(es, &cfg.journal_index, &cfg.index)?;
    let Some(v) = found else {
        return match cfg.mode {
            Mode::Resume => Err(Error::Refused(format!(
                "no split of {} to resume on this cluster (no journal in {})",
                sanitize(&cfg.index),
                sanitize(&cfg.journal_index)
            ))),
            _ => Ok(None),
        };
    };
    let j = &v.journal;
    if j.cluster_uuid != server.cluster_uuid {
        return Err(Error::Refused(format!(
            "the journal of {} belongs to cluster {}, but {} is cluster {}: refusing to act on another cluster's split",
            sanitize(&cfg.index),
            sanitize(&j.cluster_uuid),
            cfg.url,
            sanitize(&server.cluster_uuid)
        )));
    }
    if j.phase.is_final() {
        return match cfg.mode {
            Mode::Resume => Err(Error::Refused(format!(
                "the split of {} is {} already: nothing to resume",
                sanitize(&cfg.index),
                j.phase.name()
            ))),
            _ => Ok(Some(v)),
        };
    }
    if cfg.mode == Mode::Split {
        let who = j.lease.as_ref().map_or_else(
            || "nobody runs it now".to_string(),
            |l| format!("held by {}", l.describe(journal::now_ms())),
        );
        return Err(Error::Refused(format!(
            "a split of {} is in progress or was interrupted (phase {}, {who}): see --status, then --resume or --rollback",
            sanitize(&cfg.index),
            j.phase.name()
        )));
    }
    check_lease(cfg, j)?;
    Ok(Some(v))
}

/// Refuses a live lease, and a stale one without `--take-over`.
pub fn check_lease(cfg: &Config, j: &Journal) -> Result<()> {
    let Some(lease) = &j.lease else { return Ok(()) };
    let now = journal::now_ms();
    match lease.liveness(now) {
        Liveness::Dead | Liveness::Mine => Ok(()),
        Liveness::Expired if cfg.take_over => Ok(()),
        Liveness::Expired => Err(Error::Refused(format!(
            "the split of {} is held by {} and its lease is stale (no heartbeat for over {} s): if that process is gone, add --take-over",
            sanitize(&cfg.index),
            lease.describe(now),
            lease.ttl_s
        ))),
        Liveness::Live => Err(Error::Refused(format!(
            "the split of {} is running: held by {} — wait for it, or stop that process first",
            sanitize(&cfg.index),
            lease.describe(now)
        ))),
    }
}

/// Runs every pre-flight check.
pub fn preflight(es: &Es, cfg: &Config) -> Result<Plan> {
    for (flag, name) in [
        ("--index", &cfg.index),
        ("--first", &cfg.first),
        ("--second", &cfg.second),
    ] {
        validate_index_name(flag, name)?;
    }
    if cfg.first == cfg.second || cfg.first == cfg.index || cfg.second == cfg.index {
        return Err(Error::Usage(
            "--index, --first and --second must be three different names".into(),
        ));
    }
    let server = api::server_info(es)?;
    server.check_supported()?;
    let previous = check_journal(es, cfg, &server)?;
    let resuming = previous
        .as_ref()
        .filter(|_| cfg.mode == Mode::Resume)
        .map(|v| v.journal.clone());

    let mappings = api::mapping(es, &cfg.index)?;
    if api::is_data_stream_backing(&cfg.index, &mappings) {
        return Err(Error::Refused(format!(
            "{} is a data stream's backing index: its halves would leave the stream (and the write index cannot be cloned). Split data streams with rollover instead",
            sanitize(&cfg.index)
        )));
    }
    let settings = api::settings(es, &cfg.index)?;
    let source_uuid = api::index_uuid(&settings).unwrap_or_default();
    if let Some(j) = &resuming {
        if j.source_uuid != source_uuid {
            return Err(Error::Refused(format!(
                "{} is not the index the interrupted split started from (index.uuid {} then, {} now): it was deleted and re-created. Run --rollback",
                sanitize(&cfg.index),
                sanitize(&j.source_uuid),
                sanitize(&source_uuid)
            )));
        }
        if cfg.field != j.field && !cfg.field.is_empty() {
            return Err(Error::Refused(format!(
                "--field {} differs from the interrupted split's field {}",
                sanitize(&cfg.field),
                sanitize(&j.field)
            )));
        }
        if cfg.names_given && (cfg.first != j.first || cfg.second != j.second) {
            return Err(Error::Refused(format!(
                "--first/--second differ from the interrupted split's halves {} and {}",
                sanitize(&j.first),
                sanitize(&j.second)
            )));
        }
    }
    let field = resuming
        .as_ref()
        .map_or(cfg.field.as_str(), |j| j.field.as_str());
    let field_type = field_type(&mappings, field)?;
    if api::flag(&settings, "index.blocks.read_only_allow_delete") == Some(true) {
        return Err(Error::Refused(format!(
            "{} has the read_only_allow_delete block (flood-stage disk watermark): free disk and remove the block first",
            sanitize(&cfg.index)
        )));
    }
    if api::flag(&settings, "index.blocks.read_only") == Some(true) {
        return Err(Error::Refused(format!(
            "{} is read_only; es-split needs to change its settings",
            sanitize(&cfg.index)
        )));
    }
    let health = api::health(es, &cfg.index)?;
    if health == "red" {
        return Err(Error::Refused(format!(
            "cluster health of {} is red: fix unassigned primaries first",
            sanitize(&cfg.index)
        )));
    }
    let strategy = choose_strategy(es, cfg, &server, resuming.as_ref())?;
    if strategy == Strategy::Reindex {
        check_source_stored(&mappings, &cfg.index)?;
    }
    let (first, second) = match &resuming {
        Some(j) => (j.first.clone(), j.second.clone()),
        None => (cfg.first.clone(), cfg.second.clone()),
    };
    for target in [&first, &second] {
        if !api::exists(es, "check targets", target)? {
            continue;
        }
        match &resuming {
            Some(j) if is_our_half(es, j, target)? => {}
            Some(_) => {
                return Err(Error::Refused(format!(
                    "target {} exists but was not created by this split of {}: it is left alone; rename it or --rollback",
                    sanitize(target),
                    sanitize(&cfg.index)
                )))
            }
            None => {
                return Err(Error::Refused(format!(
                    "target {} already exists: pick another --first/--second",
                    sanitize(target)
                )))
            }
        }
    }
    if let Some(alias) = &cfg.alias {
        validate_index_name("--alias", alias)?;
        if api::exists(es, "check alias", alias)? && api::alias_indices(es, alias)?.is_empty() {
            return Err(Error::Refused(format!(
                "--alias {}: an index of that name exists",
                sanitize(alias)
            )));
        }
    }

    let missing_to = match &resuming {
        Some(j) => j.missing,
        None => cfg.missing,
    };
    let (mid, mid_input) = match &resuming {
        Some(j) => {
            if let Some(MidSpec::Date(d)) = &cfg.mid {
                let given = resolve_mid(es, &cfg.index, field, &field_type, d)?;
                if given != j.mid {
                    return Err(Error::Refused(format!(
                        "--mid {} ({}) differs from the interrupted split's midpoint {}: resume with the same --mid, or --rollback",
                        sanitize(d),
                        given.display(),
                        j.mid.display()
                    )));
                }
            }
            (j.mid.clone(), j.mid.display())
        }
        None => match &cfg.mid {
            Some(MidSpec::Date(d)) => (
                resolve_mid(es, &cfg.index, field, &field_type, d)?,
                d.clone(),
            ),
            Some(MidSpec::Auto) | None => match api::median(es, &cfg.index, field)? {
                Some((ms, _)) => (Mid::epoch_millis(ms), "auto".to_string()),
                None => {
                    return Err(Error::Refused(format!(
                        "--mid auto: no document of {} has a value for {}",
                        sanitize(&cfg.index),
                        sanitize(field)
                    )))
                }
            },
        },
    };

    let counts = count_source(es, &cfg.index, field, &mid)?;
    let mut warnings = Vec::new();
    if resuming.is_none() {
        let (lo, hi) = api::min_max(es, &cfg.index, field)?;
        let at = |ms: Option<i64>| ms.map_or("?".into(), query::iso_utc);
        let ms = mid.millis().unwrap_or(0);
        if lo.is_some_and(|lo| ms <= lo) || hi.is_some_and(|hi| ms > hi) {
            warnings.push(format!(
                "--mid {} is {} UTC, outside the data: {} runs from {} to {}. Is that the instant you meant (a number is read in the field's format)?",
                sanitize(&mid_input),
                mid.display(),
                sanitize(field),
                at(lo),
                at(hi)
            ));
        }
    }
    // A resumed split was checked when it started; its halves may legitimately be empty.
    let empty_ok = cfg.allow_empty_half || resuming.is_some();
    let names = [cfg.first.as_str(), cfg.second.as_str()];
    if let Some(why) = counts.unfit(field, missing_to, empty_ok, names, &mid) {
        let note = warnings
            .first()
            .map(|w| format!(". Note: {w}"))
            .unwrap_or_default();
        return Err(Error::Refused(format!("{why}{note}")));
    }
    let (first_expected, second_expected) = counts.expected(missing_to);

    let tasks = api::tasks_supported(es)?;
    let started_copy = resuming
        .as_ref()
        .is_some_and(|j| j.phase >= Phase::Snapshot);
    let disk = if cfg.disk_check && !started_copy {
        let reading = disk::read(es, &cfg.index)?;
        Some(disk::judge(&reading, disk::copies(&settings), &cfg.index)?)
    } else {
        None
    };
    if let Some(disk::Verdict::Unknown(w)) = &disk {
        warnings.push(w.clone());
    }
    let source_aliases = api::source_aliases(es, &cfg.index)?;
    Ok(Plan {
        server,
        strategy,
        tasks,
        field_type,
        mid,
        mid_input,
        total: counts.total,
        lt: counts.lt,
        gte: counts.gte,
        missing: counts.missing,
        missing_to,
        first_expected,
        second_expected,
        health,
        source_uuid,
        dropped: hygiene::dropped(&settings, cfg.keep),
        source_settings: settings,
        source_mappings: mappings,
        source_aliases,
        previous: if resuming.is_some() { previous } else { None },
        disk,
        warnings,
    })
}

/// Whether `target` is a half of the split `j`: it carries the split's id in its `_meta`, or
/// (a crash between `_clone` and marking it) it is a clone of this very source
/// (`index.resize.source.uuid`, set by the server on resize targets) made after the split began.
pub fn is_our_half(es: &Es, j: &Journal, target: &str) -> Result<bool> {
    if j.first != target && j.second != target {
        return Ok(false);
    }
    let mapping = api::mapping(es, target)?;
    if let Some(id) = mapping
        .pointer(&format!("/_meta/{}/split_id", journal::META_KEY))
        .and_then(Value::as_str)
    {
        return Ok(id == j.split_id);
    }
    if j.strategy != Strategy::Clone || j.phase < Phase::Snapshot {
        return Ok(false);
    }
    let settings = api::settings(es, target)?;
    let from_source = settings
        .get("index.resize.source.uuid")
        .and_then(Value::as_str)
        == Some(j.source_uuid.as_str());
    let created: i64 = settings
        .get("index.creation_date")
        .and_then(Value::as_str)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(from_source && created >= j.started_ms - 60_000)
}

/// The four counts of a source at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub lt: u64,
    pub gte: u64,
    pub missing: u64,
}

impl Counts {
    /// Documents with values on both sides of the midpoint would be deleted from both halves.
    pub fn multi_valued(&self) -> Option<String> {
        // Checked: the counts come from the server, and an overflow is a mismatch too.
        if self
            .lt
            .checked_add(self.gte)
            .and_then(|n| n.checked_add(self.missing))
            == Some(self.total)
        {
            return None;
        }
        Some(format!(
            "< mid = {}, >= mid = {}, without the field = {}, but the index has {} documents: \
             some documents have several values on both sides of the midpoint and would be deleted from both halves",
            self.lt, self.gte, self.missing, self.total
        ))
    }

    /// Why these counts cannot be split as asked, if they cannot: documents on both sides,
    /// documents without the field and no half for them, or an empty half (unless `empty_ok`).
    pub fn unfit(
        &self,
        field: &str,
        missing_to: Option<MissingTo>,
        empty_ok: bool,
        names: [&str; 2],
        mid: &Mid,
    ) -> Option<String> {
        if let Some(why) = self.multi_valued() {
            return Some(why);
        }
        if self.missing > 0 && missing_to.is_none() {
            return Some(format!(
                "{} documents have no {}: pass --missing first or --missing second to say which half keeps them",
                self.missing,
                sanitize(field)
            ));
        }
        let (first, second) = self.expected(missing_to);
        if (first == 0 || second == 0) && !empty_ok {
            let empty = if first == 0 { names[0] } else { names[1] };
            return Some(format!(
                "{} would be empty (midpoint {} UTC): check --mid, or pass --allow-empty-half",
                sanitize(empty),
                mid.display()
            ));
        }
        None
    }

    /// (first, second) expected sizes.
    pub fn expected(&self, missing_to: Option<MissingTo>) -> (u64, u64) {
        let m = |side| {
            if missing_to == Some(side) {
                self.missing
            } else {
                0
            }
        };
        (
            self.lt + m(MissingTo::First),
            self.gte + m(MissingTo::Second),
        )
    }
}

/// Counts the source on both sides of `mid`, without the field, and in all.
pub fn count_source(es: &Es, index: &str, field: &str, mid: &Mid) -> Result<Counts> {
    Ok(Counts {
        lt: api::count(es, "count halves", index, &query::range(field, "lt", mid))?,
        gte: api::count(es, "count halves", index, &query::range(field, "gte", mid))?,
        missing: api::count(
            es,
            "count documents without the field",
            index,
            &query::missing(field),
        )?,
        total: api::count(
            es,
            "count documents",
            index,
            &serde_json::json!({"match_all": {}}),
        )?,
    })
}

/// Resolves `--mid` once to an absolute instant (epoch ms) as the server reads it, and
/// checks the reading: the absolute instant must select the same documents as the text.
pub fn resolve_mid(es: &Es, index: &str, field: &str, field_type: &str, text: &str) -> Result<Mid> {
    let by_text = api::count(
        es,
        "count halves",
        index,
        &query::range(field, "gte", &Mid::user(text)),
    )
    .map_err(|e| match e.status() {
        Some(400) => Error::Refused(format!(
            "--mid {:?} is not a date the field {} accepts: {e}",
            sanitize(text),
            sanitize(field)
        )),
        _ => e,
    })?;
    let low = api::explain_gte(es, index, field, text)?;
    let candidates: Vec<i64> = match low {
        // date_nanos ranges are in nanoseconds on Elasticsearch.
        Some(l) if field_type == "date_nanos" => vec![l.div_euclid(1_000_000), l],
        Some(l) => vec![l],
        None => text.trim().parse::<i64>().ok().into_iter().collect(),
    };
    if candidates.is_empty() {
        return Err(Error::Refused(format!(
            "cannot resolve --mid {:?} to an instant on this server (no _validate/query API): give epoch milliseconds",
            sanitize(text)
        )));
    }
    for ms in &candidates {
        let mid = Mid::epoch_millis(*ms);
        if api::count(
            es,
            "resolve --mid",
            index,
            &query::range(field, "gte", &mid),
        )? == by_text
        {
            return Ok(mid);
        }
    }
    Err(Error::Refused(format!(
        "--mid {:?}: the server reads it as {}, but that instant selects other documents than the text (sub-millisecond precision?): give a millisecond-precise date",
        sanitize(text),
        query::iso_utc(candidates[0])
    )))
}

fn choose_strategy(
    es: &Es,
    cfg: &Config,
    server: &ServerInfo,
    previous: Option<&Journal>,
) -> Result<Strategy> {
    if let Some(j) = previous {
        return Ok(j.strategy);
    }
    let clone_ok = server.has_clone() && api::clone_supported(es)?;
    match cfg.strategy {
        StrategyChoice::Reindex => Ok(Strategy::Reindex),
        StrategyChoice::Clone if !clone_ok => Err(Error::Refused(format!(
            "--method clone: {} has no _clone API (Elasticsearch 7.4+ or OpenSearch needed)",
            server.describe()
        ))),
        StrategyChoice::Clone => Ok(Strategy::Clone),
        StrategyChoice::Auto => Ok(if clone_ok {
            Strategy::Clone
        } else {
            Strategy::Reindex
        }),
    }
}

/// The properties object of a mapping (typeless on 7+, `{type: {properties}}` on 6.x).
fn properties(mappings: &Value) -> Option<&Value> {
    if let Some(p) = mappings.get("properties") {
        return Some(p);
    }
    let obj = mappings.as_object()?;
    match obj.len() {
        1 => obj.values().next()?.get("properties"),
        _ => None,
    }
}

/// The type of a (possibly dotted) field; refuses anything but `date` / `date_nanos`.
pub fn field_type(mappings: &Value, field: &str) -> Result<String> {
    let mut node = properties(mappings);
    let mut found = None;
    let parts: Vec<&str> = field.split('.').collect();
    let mut nested_in = None;
    for (i, part) in parts.iter().enumerate() {
        let Some(entry) = node.and_then(|n| n.get(*part)) else {
            break;
        };
        if i + 1 == parts.len() {
            found = Some(entry);
        } else if entry.get("type").and_then(Value::as_str) == Some("nested") {
            nested_in = Some(parts[..=i].join("."));
        }
        node = entry.get("properties");
    }
    if let (Some(_), Some(parent)) = (found, &nested_in) {
        return Err(Error::Refused(format!(
            "field {:?} is inside the nested object {:?}: a range query on the top level sees no value there, so every document would count as missing. Split on a top-level date field",
            sanitize(field),
            sanitize(parent)
        )));
    }
    let Some(entry) = found else {
        return Err(Error::Refused(format!(
            "field {:?} is not in the mapping (check --field)",
            sanitize(field)
        )));
    };
    let ty = entry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    match ty {
        "date" | "date_nanos" => Ok(ty.to_string()),
        other => Err(Error::Refused(format!(
            "field {:?} is of type {}; es-split splits on a date or date_nanos field",
            sanitize(field),
            sanitize(other)
        ))),
    }
}

/// The reindex fallback reads `_source`: refuse when it is disabled or filtered, because the
/// copies would lose documents or fields silently.
pub fn check_source_stored(mappings: &Value, index: &str) -> Result<()> {
    let typed = mappings
        .as_object()
        .filter(|o| o.len() == 1 && !o.contains_key("properties"))
        .and_then(|o| o.values().next());
    let src = mappings
        .get("_source")
        .or_else(|| typed.and_then(|t| t.get("_source")));
    if let Some(src) = src {
        if src.get("enabled").and_then(Value::as_bool) == Some(false) {
            return Err(Error::Refused(format!(
                "{} does not store _source and this server has no _clone: the fallback would have to re-index \
                 documents it cannot read. Run es-split against Elasticsearch 7.4+ or OpenSearch, which clone without re-indexing",
                sanitize(index)
            )));
        }
        let filtered = |k: &str| {
            src.get(k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        if filtered("includes") || filtered("excludes") {
            return Err(Error::Refused(format!(
                "{} stores only part of _source (includes/excludes): re-indexing would drop the other fields; \
                 use a server with _clone",
                sanitize(index)
            )));
        }
    }
    Ok(())
}

/// The source's mappings with `_meta` replaced, for a target created by the fallback. ES 6.x
/// typed mappings (`{"_doc": {"properties": …}}`) read `_meta` inside the type; a top-level
/// `_meta` would be taken for a second type name.
pub fn mappings_with_meta(mappings: &Value, meta: Value) -> Value {
    let mut out = mappings.clone();
    let typed = mappings
        .as_object()
        .filter(|o| o.len() == 1 && !o.contains_key("properties"))
        .and_then(|o| o.iter().next())
        .filter(|(_, v)| v.get("properties").is_some())
        .map(|(k, _)| k.clone());
    let target = match typed {
        Some(ty) => out.get_mut(&ty),
        None => Some(&mut out),
    };
    if let Some(obj) = target.and_then(Value::as_object_mut) {
        obj.insert("_meta".into(), meta);
    }
    out
}

/// Settings for a target created by the fallback: the source's, minus what identifies the
/// source or is set by the cluster, minus its blocks.
pub fn target_settings(
    source: &serde_json::Map<String, Value>,
    drop: &[String],
) -> serde_json::Map<String, Value> {
    const DROP: [&str; 8] = [
        "index.uuid",
        "index.creation_date",
        "index.provided_name",
        "index.version.",
        "index.blocks.",
        "index.resize.",
        "index.routing.allocation.initial_recovery.",
        "index.history.uuid",
    ];
    source
        .iter()
        .filter(|(k, _)| {
            !DROP.iter().any(|d| {
                if d.ends_with('.') {
                    k.starts_with(d)
                } else {
                    k == d
                }
            })
        })
        .filter(|(k, _)| !k.starts_with("index.verified_before_close") && !drop.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_types_are_checked() {
        let m = json!({"properties":{"date":{"type":"date"},"nanos":{"type":"date_nanos"},"msg":{"type":"text"},
            "event":{"properties":{"at":{"type":"date","format":"yyyy-MM-dd"}}}}});
        assert_eq!(field_type(&m, "date").unwrap(), "date");
        assert_eq!(field_type(&m, "nanos").unwrap(), "date_nanos");
        assert_eq!(field_type(&m, "event.at").unwrap(), "date");
        assert!(field_type(&m, "msg")
            .unwrap_err()
            .to_string()
            .contains("type text"));
        assert!(field_type(&m, "event")
            .unwrap_err()
            .to_string()
            .contains("type object"));
        let nested =
            json!({"properties":{"obj":{"type":"nested","properties":{"d":{"type":"date"}}}}});
        assert!(field_type(&nested, "obj.d")
            .unwrap_err()
            .to_string()
            .contains("nested object"));
        assert!(field_type(&m, "nope")
            .unwrap_err()
            .to_string()
            .contains("not in the mapping"));
        let typed6 = json!({"_doc":{"properties":{"date":{"type":"date"}}}});
        assert_eq!(field_type(&typed6, "date").unwrap(), "date");
    }

    #[test]
    fn source_must_be_stored_for_the_fallback() {
        assert!(check_source_stored(&json!({"properties":{}}), "i").is_ok());
        assert!(check_source_stored(&json!({"_source":{"enabled":false}}), "i").is_err());
        assert!(check_source_stored(&json!({"_source":{"excludes":["big"]}}), "i").is_err());
        assert!(check_source_stored(&json!({"_source":{"includes":[]}}), "i").is_ok());
    }

    #[test]
    fn target_settings_drop_identity_and_blocks() {
        let src = json!({"index.uuid":"u","index.creation_date":"1","index.provided_name":"logs",
            "index.version.created":"8","index.blocks.write":"true","index.number_of_shards":"3",
            "index.number_of_replicas":"1","index.analysis.analyzer.a.type":"standard"});
        let out = target_settings(
            src.as_object().unwrap(),
            &["index.number_of_replicas".into()],
        );
        let mut keys: Vec<&String> = out.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["index.analysis.analyzer.a.type", "index.number_of_shards"]
        );
    }

    #[test]
    fn meta_goes_inside_an_es6_type() {
        let typeless = json!({"properties": {"d": {"type": "date"}}});
        let out = mappings_with_meta(&typeless, json!({"k": 1}));
        assert_eq!(out["_meta"]["k"], 1);
        let typed = json!({"_doc": {"properties": {"d": {"type": "date"}}}});
        let out = mappings_with_meta(&typed, json!({"k": 1}));
        assert_eq!(out["_doc"]["_meta"]["k"], 1);
        assert!(out.get("_meta").is_none(), "{out}");
        assert_eq!(out.as_object().unwrap().len(), 1);
    }

    #[test]
    fn index_names_are_validated() {
        assert!(validate_index_name("--index", "logs-2015.01").is_ok());
        for bad in ["", "Logs", "a b", "_x", "a*", "a,b", "-x"] {
            assert!(validate_index_name("--index", bad).is_err(), "{bad}");
        }
    }
}
