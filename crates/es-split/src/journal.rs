//! The journal that makes `--resume` and `--rollback` possible: a local state file written
//! before the source is blocked, and the same record in the targets' mapping `_meta`
//! (writable even while the source is blocked, and visible to anyone on the cluster).
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{enc, Es};
use crate::error::{Error, Result};
use crate::query::{Mid, MissingTo};

/// Key under the targets' `_meta`.
pub const META_KEY: &str = "es_split";

/// How the targets are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// `_clone` + `_delete_by_query`: no re-indexing, works without `_source`.
    Clone,
    /// Create + `_reindex` with the range query (servers without `_clone`).
    Reindex,
}

/// Everything needed to resume or undo a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub source: String,
    pub first: String,
    pub second: String,
    pub field: String,
    pub mid: Mid,
    pub missing: Option<MissingTo>,
    pub strategy: Strategy,
    /// The source's `index.blocks.write` before we touched it (`None` = not set).
    pub original_write_block: Option<bool>,
    /// Whether we set the block (false when it was already `true`).
    pub we_blocked: bool,
    pub total: u64,
    pub first_expected: u64,
    pub second_expected: u64,
    /// The halves were verified and the source restored; only alias/delete remain.
    #[serde(default)]
    pub verified: bool,
}

/// Where the local state file for an index lives. Keyed by the index name only, so that the
/// same cluster reached through another host name or proxy still finds it.
pub fn state_path(dir: &Path, index: &str) -> PathBuf {
    let safe: String = index
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.json"))
}

/// Writes the state file atomically (temp file + rename).
pub fn save(path: &Path, journal: &Journal) -> Result<()> {
    let err = |e: std::io::Error| Error::File {
        path: path.display().to_string(),
        reason: format!("cannot write the state file: {e} (set --state-dir)"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(journal).map_err(|e| Error::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Reads the state file if there is one.
pub fn load(path: &Path) -> Result<Option<Journal>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::File {
                path: path.display().to_string(),
                reason: format!("corrupt state file: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Removes the state file (missing is fine).
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// The whole `_meta` of an index and our record in it, or `None` if the index is missing.
pub fn read_meta(es: &Es, index: &str) -> Result<Option<(Value, Option<Journal>)>> {
    let Some(reply) = es.get_if_exists("read journal", &format!("/{}/_mapping", enc(index)))?
    else {
        return Ok(None);
    };
    let meta = reply
        .get(index)
        .and_then(|i| i.pointer("/mappings/_meta"))
        .cloned()
        .unwrap_or(Value::Null);
    let ours = meta
        .get(META_KEY)
        .and_then(|j| serde_json::from_value(j.clone()).ok());
    Ok(Some((meta, ours)))
}

/// `meta` with our record added (the source's own `_meta` is kept).
pub fn with_record(meta: &Value, journal: &Journal) -> Value {
    let mut out = meta.as_object().cloned().unwrap_or_default();
    out.insert(
        META_KEY.into(),
        serde_json::to_value(journal).unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// A journal for unit tests: `logs` split into `logs-firsthalf` (4) and `logs-secondhalf` (6).
#[cfg(test)]
pub(crate) fn sample() -> Journal {
    Journal {
        source: "logs".into(),
        first: "logs-firsthalf".into(),
        second: "logs-secondhalf".into(),
        field: "date".into(),
        mid: Mid::epoch_millis(1_420_070_400_000),
        missing: Some(MissingTo::Second),
        strategy: Strategy::Clone,
        original_write_block: None,
        we_blocked: true,
        total: 10,
        first_expected: 4,
        second_expected: 6,
        verified: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(dir.path(), "logs/x");
        assert_eq!(path.file_name().unwrap(), "logs_x.json");
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(sample()));
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(load(&path).unwrap(), None);
    }

    #[test]
    fn record_keeps_the_source_meta() {
        let meta = with_record(&json!({"owner": "team-a"}), &sample());
        assert_eq!(meta["owner"], "team-a");
        assert_eq!(meta[META_KEY]["source"], "logs");
        let back: Journal = serde_json::from_value(meta[META_KEY].clone()).unwrap();
        assert_eq!(back, sample());
        assert!(with_record(&Value::Null, &sample()).get(META_KEY).is_some());
    }
}
