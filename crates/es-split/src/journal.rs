//! The split's persisted state machine: one record per source index, kept on the cluster
//! (see [`crate::store`]) and cached in a local state file. Every step of a split updates
//! it *before* acting where the step could leave something behind, so any host can see
//! where a split stands, resume it or roll it back, and a crash never turns es-split's own
//! write block into "the user's".
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lease::Lease;
use crate::query::{Mid, MissingTo};

/// Key under the targets' mapping `_meta` that marks them as this split's halves.
pub const META_KEY: &str = "es_split";

/// Version of the record's layout; a newer one is refused rather than misread.
pub const FORMAT: u32 = 2;

/// How the targets are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// `_clone` + `_delete_by_query`: no re-indexing, works without `_source`.
    Clone,
    /// Create + `_reindex` with the range query (servers without `_clone`).
    Reindex,
}

/// Where a split stands. Ordered: a later phase implies every earlier one is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Recorded, nothing changed yet except perhaps the write block (whose original value
    /// is already in the record).
    Planned,
    /// Blocked, refreshed and counted: [`Journal::snapshot`] holds the counts and the
    /// source's per-shard sequence numbers.
    Snapshot,
    /// Both targets exist and hold a full copy of the snapshot (clone path) or their half
    /// (reindex path, which then skips straight to `Trimmed`).
    Copied,
    /// Each half holds exactly its side of the midpoint.
    Trimmed,
    /// Counts match the snapshot.
    Verified,
    /// Deleted documents were merged away (clone path).
    Merged,
    /// Aliases moved, source deleted if asked: nothing left to do. `--rollback` refuses.
    Done,
    /// Undone by `--rollback`.
    RolledBack,
}

impl Phase {
    /// Whether a split in this phase is over (a new split of the same source may start).
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Done | Phase::RolledBack)
    }

    /// The name used in the record and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Planned => "planned",
            Phase::Snapshot => "snapshot",
            Phase::Copied => "copied",
            Phase::Trimmed => "trimmed",
            Phase::Verified => "verified",
            Phase::Merged => "merged",
            Phase::Done => "done",
            Phase::RolledBack => "rolled-back",
        }
    }
}

/// The source as counted while write-blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub total: u64,
    pub lt: u64,
    pub gte: u64,
    pub missing: u64,
    pub first_expected: u64,
    pub second_expected: u64,
    /// `max_seq_no` of every primary shard: any write (index, update, delete) raises it, so
    /// unchanged numbers prove the source did not change, whatever its count says.
    pub seq_nos: BTreeMap<String, i64>,
    /// When the counts were taken (epoch ms).
    pub taken_ms: i64,
}

/// Server task ids of the two halves' delete-by-query or reindex jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tasks {
    pub first: Option<String>,
    pub second: Option<String>,
}

/// Everything needed to resume, roll back or describe a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub format: u32,
    /// Random id of this split; the halves carry it in their `_meta`.
    pub split_id: String,
    /// `cluster_uuid` from `GET /`: the record is refused on any other cluster.
    pub cluster_uuid: String,
    /// The printable URL the split was started with (for `--status` of local state).
    pub url: String,
    pub source: String,
    /// `index.uuid` of the source: a deleted and re-created index of the same name is not it.
    pub source_uuid: String,
    pub first: String,
    pub second: String,
    pub field: String,
    /// The midpoint resolved once to an absolute instant.
    pub mid: Mid,
    pub missing: Option<MissingTo>,
    pub strategy: Strategy,
    /// The source's `index.blocks.write` before es-split touched it (`None` = not set).
    pub original_write_block: Option<bool>,
    /// Whether es-split sets the block (false when it was already `true`).
    pub we_block: bool,
    /// Whether es-split has given the source its writes back (or never blocked it).
    #[serde(default)]
    pub source_released: bool,
    pub delete_source: bool,
    pub alias: Option<String>,
    pub phase: Phase,
    pub snapshot: Option<Snapshot>,
    #[serde(default)]
    pub tasks: Tasks,
    /// Who runs the split; `None` when nobody does.
    pub lease: Option<Lease>,
    pub started_ms: i64,
    pub updated_ms: i64,
    /// What the last verification found wrong.
    #[serde(default)]
    pub problems: Vec<String>,
}

impl Journal {
    /// The two halves with their roles.
    pub fn halves(&self) -> [(&str, &'static str); 2] {
        [(&self.first, "first"), (&self.second, "second")]
    }

    /// Whether the source is (possibly) write-blocked by es-split right now.
    pub fn holds_block(&self) -> bool {
        self.we_block && !self.source_released && !self.phase.is_final()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A random split id (no RNG crate needed: the clock, the pid and the address space
/// randomisation mixed through the standard hasher).
pub fn new_split_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The local cache file of a split: keyed by the cluster's UUID and the index name, so a
/// second cluster with an index of the same name never finds it.
pub fn state_path(dir: &Path, cluster_uuid: &str, index: &str) -> PathBuf {
    dir.join(format!("{}--{}.json", safe(cluster_uuid), safe(index)))
}

fn file_err(path: &Path, reason: String) -> Error {
    Error::File {
        path: path.display().to_string(),
        reason,
    }
}

/// Writes the cache file atomically (temp file + rename).
pub fn save(path: &Path, journal: &Journal) -> Result<()> {
    let err = |e: std::io::Error| {
        file_err(
            path,
            format!("cannot write the state file: {e} (set --state-dir)"),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(journal).map_err(|e| file_err(path, e.to_string()))?;
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Reads a cache file if there is one.
pub fn load(path: &Path) -> Result<Option<Journal>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| file_err(path, format!("corrupt state file: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_err(path, e.to_string())),
    }
}

/// Removes a cache file (missing is fine).
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(file_err(path, e.to_string())),
    }
}

/// Every cache file in a state directory, with what it says (unreadable ones as errors).
pub fn list(dir: &Path) -> Vec<(PathBuf, Result<Journal>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Result<Journal>)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let j = load(&p).and_then(|j| j.ok_or_else(|| file_err(&p, "vanished".into())));
            (p, j)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A journal for unit tests: `logs` split into `logs-firsthalf` (4) and `logs-secondhalf` (6).
#[cfg(test)]
pub(crate) fn sample() -> Journal {
    Journal {
        format: FORMAT,
        split_id: "abc".into(),
        cluster_uuid: "cluster-a".into(),
        url: "http://localhost:9200".into(),
        source: "logs".into(),
        source_uuid: "uuid-logs".into(),
        first: "logs-firsthalf".into(),
        second: "logs-secondhalf".into(),
        field: "date".into(),
        mid: Mid::epoch_millis(1_420_070_400_000),
        missing: Some(MissingTo::Second),
        strategy: Strategy::Clone,
        original_write_block: None,
        we_block: true,
        source_released: false,
        delete_source: false,
        alias: None,
        phase: Phase::Snapshot,
        snapshot: Some(Snapshot {
            total: 10,
            lt: 4,
            gte: 5,
            missing: 1,
            first_expected: 4,
            second_expected: 6,
            seq_nos: BTreeMap::from([("0".to_string(), 9)]),
            taken_ms: 1,
        }),
        tasks: Tasks::default(),
        lease: None,
        started_ms: 1,
        updated_ms: 1,
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_round_trips_and_is_keyed_by_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(dir.path(), "cluster-a", "logs/x");
        assert_eq!(path.file_name().unwrap(), "cluster-a--logs_x.json");
        assert_ne!(path, state_path(dir.path(), "cluster-b", "logs/x"));
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(sample()));
        assert_eq!(list(dir.path()).len(), 1);
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(load(&path).unwrap(), None);
    }

    #[test]
    fn phases_are_ordered_and_final_ones_release_the_block() {
        assert!(Phase::Planned < Phase::Snapshot && Phase::Merged < Phase::Done);
        let mut j = sample();
        assert!(j.holds_block());
        j.source_released = true;
        assert!(!j.holds_block());
        j.source_released = false;
        j.phase = Phase::Done;
        assert!(!j.holds_block() && j.phase.is_final());
        let text = serde_json::to_string(&Phase::RolledBack).unwrap();
        assert_eq!(text, "\"rolled-back\"");
    }

    #[test]
    fn split_ids_differ() {
        assert_ne!(new_split_id(), new_split_id());
    }
}
