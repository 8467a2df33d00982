//! The validated configuration and the pre-flight checks that turn it into a `Plan`.
//! Nothing here changes the cluster.
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::api;
use crate::client::Es;
use crate::disk;
use crate::error::{sanitize, Error, Result};
use crate::journal::{self, Journal, Strategy};
use crate::query::{self, Mid, MissingTo};
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
}

/// A validated command line (no secrets: those live in the transport).
#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub index: String,
    pub first: String,
    pub second: String,
    pub field: String,
    pub mid: MidSpec,
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
}

impl Config {
    /// The local state file of this split.
    pub fn state_file(&self) -> PathBuf {
        journal::state_path(&self.state_dir, &self.index)
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
    pub mid: Mid,
    /// The server's rendering of an automatic midpoint.
    pub mid_as_string: Option<String>,
    pub total: u64,
    pub lt: u64,
    pub gte: u64,
    pub missing: u64,
    pub keep_first: Value,
    pub keep_second: Value,
    pub journal: Journal,
    pub health: String,
    pub source_settings: serde_json::Map<String, Value>,
    pub source_mappings: Value,
    /// Targets that already exist (only with `--resume`).
    pub existing: Vec<String>,
    /// The disk check's outcome (`None` when it was not run).
    pub disk: Option<disk::Verdict>,
    /// What the user should know but that does not stop the split.
    pub warnings: Vec<String>,
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

    let mappings = api::mapping(es, &cfg.index)?;
    let field_type = field_type(&mappings, &cfg.field)?;
    let settings = api::settings(es, &cfg.index)?;
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

    let local = journal::load(&cfg.state_file())?;
    if cfg.mode == Mode::Split && local.is_some() {
        return Err(Error::Refused(format!(
            "a previous split of {} was interrupted (state file {}): run with --resume or --rollback",
            sanitize(&cfg.index),
            cfg.state_file().display()
        )));
    }
    let mut existing = Vec::new();
    let mut remote: Option<Journal> = None;
    for target in [&cfg.first, &cfg.second] {
        if let Some((_, ours)) = journal::read_meta(es, target)? {
            match (&cfg.mode, ours) {
                (Mode::Resume, Some(j)) if j.source == cfg.index => {
                    existing.push(target.clone());
                    remote.get_or_insert(j);
                }
                // Created by the interrupted run before it could write its journal (a crash
                // between `_clone` and `_mapping`): the state file proves it did not exist.
                (Mode::Resume, None) if names_target(local.as_ref(), target) => existing.push(target.clone()),
                (Mode::Resume, _) => {
                    return Err(Error::Refused(format!(
                        "target {} exists but was not created by es-split from {}: choose another --first/--second",
                        sanitize(target),
                        sanitize(&cfg.index)
                    )))
                }
                _ => {
                    return Err(Error::Refused(format!(
                        "target {} already exists: pick another --first/--second, or --resume / --rollback an interrupted split",
                        sanitize(target)
                    )))
                }
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
    let previous = if cfg.mode == Mode::Resume {
        local.or(remote)
    } else {
        None
    };

    let missing_to = match &previous {
        Some(j) => j.missing,
        None => cfg.missing,
    };
    let (mid, mid_as_string) = match (&previous, &cfg.mid) {
        (Some(j), MidSpec::Auto) => (j.mid.clone(), None),
        (Some(j), MidSpec::Date(d)) if j.mid == Mid::user(d) => (j.mid.clone(), None),
        (Some(j), MidSpec::Date(d)) => {
            return Err(Error::Refused(format!(
                "--mid {} differs from the interrupted split's midpoint {}: resume with the same --mid, or --rollback",
                sanitize(d),
                sanitize(&j.mid.display())
            )))
        }
        (None, MidSpec::Auto) => match api::median(es, &cfg.index, &cfg.field)? {
            Some((ms, text)) => (Mid::epoch_millis(ms), text),
            None => return Err(Error::Refused(format!("--mid auto: no document of {} has a value for {}", sanitize(&cfg.index), sanitize(&cfg.field)))),
        },
        (None, MidSpec::Date(d)) => (Mid::user(d), None),
    };
    if let Some(j) = &previous {
        if j.field != cfg.field {
            return Err(Error::Refused(format!(
                "--field {} differs from the interrupted split's field {}",
                sanitize(&cfg.field),
                sanitize(&j.field)
            )));
        }
    }

    // Counting validates --mid too: an unparseable date is a 400 from the server.
    let lt = count_mid(es, cfg, &query::range(&cfg.field, "lt", &mid))?;
    let gte = count_mid(es, cfg, &query::range(&cfg.field, "gte", &mid))?;
    let missing = api::count(
        es,
        "count documents without the field",
        &cfg.index,
        &query::missing(&cfg.field),
    )?;
    let total = api::count(
        es,
        "count documents",
        &cfg.index,
        &serde_json::json!({"match_all": {}}),
    )?;
    // Checked: the counts come from the server, and an overflow is a mismatch too.
    if lt.checked_add(gte).and_then(|n| n.checked_add(missing)) != Some(total) {
        return Err(Error::Refused(format!(
            "{} < mid = {lt}, >= mid = {gte}, without {} = {missing}, but the index has {total} documents: \
             some documents have several values on both sides of the midpoint and would be deleted from both halves",
            sanitize(&cfg.field),
            sanitize(&cfg.field)
        )));
    }
    if missing > 0 && missing_to.is_none() {
        return Err(Error::Refused(format!(
            "{missing} documents have no {}: pass --missing first or --missing second to say which half keeps them",
            sanitize(&cfg.field)
        )));
    }
    if let Some(j) = &previous {
        if !existing.is_empty() && j.total != total && !j.verified {
            return Err(Error::Refused(format!(
                "{} has changed since the interrupted split ({} → {total} documents): run --rollback, then split again",
                sanitize(&cfg.index),
                j.total
            )));
        }
    }

    let strategy = choose_strategy(es, cfg, &server, previous.as_ref())?;
    if strategy == Strategy::Reindex {
        check_source_stored(&mappings, &cfg.index)?;
    }
    let tasks = api::tasks_supported(es)?;
    // Targets that exist already hold their space; a verified split needs no more.
    let verified = previous.as_ref().is_some_and(|j| j.verified);
    let disk = if cfg.disk_check && existing.is_empty() && !verified {
        let reading = disk::read(es, &cfg.index)?;
        Some(disk::judge(&reading, disk::copies(&settings), &cfg.index)?)
    } else {
        None
    };
    let warnings = match &disk {
        Some(disk::Verdict::Unknown(w)) => vec![w.clone()],
        _ => Vec::new(),
    };
    let original_write_block = match &previous {
        Some(j) if j.we_blocked => j.original_write_block,
        _ => api::flag(&settings, "index.blocks.write"),
    };
    let first_expected = lt
        + if missing_to == Some(MissingTo::First) {
            missing
        } else {
            0
        };
    let second_expected = gte
        + if missing_to == Some(MissingTo::Second) {
            missing
        } else {
            0
        };
    let journal = match &previous {
        Some(j) if j.verified => j.clone(),
        _ => Journal {
            source: cfg.index.clone(),
            first: cfg.first.clone(),
            second: cfg.second.clone(),
            field: cfg.field.clone(),
            mid: mid.clone(),
            missing: missing_to,
            strategy,
            original_write_block,
            we_blocked: original_write_block != Some(true),
            total,
            first_expected,
            second_expected,
            verified: false,
        },
    };
    Ok(Plan {
        server,
        strategy,
        tasks,
        field_type,
        keep_first: query::keep_first(&cfg.field, &mid, missing_to),
        keep_second: query::keep_second(&cfg.field, &mid, missing_to),
        mid,
        mid_as_string,
        total,
        lt,
        gte,
        missing,
        journal,
        health,
        source_settings: settings,
        source_mappings: mappings,
        existing,
        disk,
        warnings,
    })
}

/// Whether the local journal names `target` as one of its halves.
pub fn names_target(local: Option<&Journal>, target: &str) -> bool {
    local.is_some_and(|j| j.first == target || j.second == target)
}

fn count_mid(es: &Es, cfg: &Config, q: &Value) -> Result<u64> {
    api::count(es, "count halves", &cfg.index, q).map_err(|e| match (&cfg.mid, e.status()) {
        (MidSpec::Date(d), Some(400)) => Error::Refused(format!(
            "--mid {:?} is not a date the field {} accepts: {e}",
            sanitize(d),
            sanitize(&cfg.field)
        )),
        _ => e,
    })
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
    for (i, part) in parts.iter().enumerate() {
        let Some(entry) = node.and_then(|n| n.get(*part)) else {
            break;
        };
        if i + 1 == parts.len() {
            found = Some(entry);
        }
        node = entry.get("properties");
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

/// Settings for a target created by the fallback: the source's, minus what identifies the
/// source or is set by the cluster, minus its blocks.
pub fn target_settings(source: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
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
        .filter(|(k, _)| !k.starts_with("index.verified_before_close"))
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
        let out = target_settings(src.as_object().unwrap());
        let mut keys: Vec<&String> = out.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "index.analysis.analyzer.a.type",
                "index.number_of_replicas",
                "index.number_of_shards"
            ]
        );
    }

    #[test]
    fn index_names_are_validated() {
        assert!(validate_index_name("--index", "logs-2015.01").is_ok());
        for bad in ["", "Logs", "a b", "_x", "a*", "a,b", "-x"] {
            assert!(validate_index_name("--index", bad).is_err(), "{bad}");
        }
    }
}
