//! The result of a run: a human summary on stderr and a stable `--json` document on stdout.
use serde::Serialize;

use crate::error::sanitize;
use crate::journal::Strategy;

/// Schema version of the `--json` report; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 2;

/// One index of the split and its document counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Half {
    pub index: String,
    /// Documents the half must hold (from the source's counts).
    pub expected: u64,
    /// Documents it holds after the split (`null` in a dry run).
    pub actual: Option<u64>,
}

/// Wall time of one step.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Step {
    pub name: String,
    pub seconds: f64,
}

/// The `--json` document (see the crate README for the schema).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub schema: u32,
    /// `ok`, `dry-run`, `mismatch`, `rolled-back` or `nothing-to-roll-back`.
    pub status: String,
    /// The split's id in the journal (`null` in a dry run).
    pub split_id: Option<String>,
    /// The journal's phase at the end of the run.
    pub phase: Option<String>,
    pub server: String,
    pub source: String,
    pub field: String,
    /// The midpoint as an absolute instant in UTC (ISO 8601).
    pub mid: String,
    /// The same instant in epoch milliseconds.
    pub mid_epoch_millis: Option<i64>,
    /// `--mid` as given.
    pub mid_input: String,
    pub method: Option<Strategy>,
    pub missing_to: Option<crate::query::MissingTo>,
    pub total: u64,
    pub without_field: u64,
    pub first: Half,
    pub second: Half,
    pub steps: Vec<Step>,
    pub alias: Option<String>,
    pub source_deleted: bool,
    pub source_write_block_restored: bool,
    /// How long this run kept the source write-blocked, in seconds.
    pub source_blocked_seconds: f64,
    /// What happens to each setting and alias the halves do (not) get.
    pub hygiene: Vec<String>,
    /// What failed verification (empty unless `status` is `mismatch`).
    pub problems: Vec<String>,
    /// Pre-flight warnings that did not stop the split (e.g. free disk could not be checked).
    pub warnings: Vec<String>,
}

impl Report {
    /// A report with only a status and the names involved (rollback, `--status`, a resume
    /// that found nothing left to do).
    pub fn bare(status: &str, server: &str, source: &str, first: &str, second: &str) -> Self {
        let half = |index: &str| Half {
            index: index.to_string(),
            expected: 0,
            actual: None,
        };
        Report {
            schema: SCHEMA_VERSION,
            status: status.into(),
            split_id: None,
            phase: None,
            server: server.into(),
            source: source.into(),
            field: String::new(),
            mid: String::new(),
            mid_epoch_millis: None,
            mid_input: String::new(),
            method: None,
            missing_to: None,
            total: 0,
            without_field: 0,
            first: half(first),
            second: half(second),
            steps: Vec::new(),
            alias: None,
            source_deleted: false,
            source_write_block_restored: false,
            source_blocked_seconds: 0.0,
            hygiene: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Total seconds of all steps.
    pub fn seconds(&self) -> f64 {
        self.steps.iter().map(|s| s.seconds).sum()
    }

    /// The human summary.
    pub fn human(&self) -> String {
        let mut out = String::new();
        match self.status.as_str() {
            "rolled-back" | "nothing-to-roll-back" => {
                out.push_str(&format!(
                    "{}: {} on {}\n",
                    self.status,
                    sanitize(&self.source),
                    sanitize(&self.server)
                ));
            }
            _ => {
                let shown = |h: &Half| match h.actual {
                    Some(a) => format!("{a} docs (expected {})", h.expected),
                    None => format!("{} docs", h.expected),
                };
                out.push_str(&format!(
                    "{}: split {} ({} docs) on {} at {} ({})\n",
                    self.status,
                    sanitize(&self.source),
                    self.total,
                    sanitize(&self.field),
                    sanitize(&self.mid),
                    sanitize(&self.server)
                ));
                out.push_str(&format!(
                    "  first   {:<32} {}\n",
                    sanitize(&self.first.index),
                    shown(&self.first)
                ));
                out.push_str(&format!(
                    "  second  {:<32} {}\n",
                    sanitize(&self.second.index),
                    shown(&self.second)
                ));
                if let Some(a) = &self.alias {
                    out.push_str(&format!("  alias   {}\n", sanitize(a)));
                }
                if self.source_deleted {
                    out.push_str(&format!("  deleted {}\n", sanitize(&self.source)));
                }
            }
        }
        for p in &self.problems {
            out.push_str(&format!("  MISMATCH {}\n", sanitize(p)));
        }
        for s in &self.steps {
            out.push_str(&format!("  {:<40} {:>8.2} s\n", s.name, s.seconds));
        }
        out
    }
}
