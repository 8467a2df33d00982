//! Split an Elasticsearch/OpenSearch index on a date midpoint without re-indexing.
//!
//! The source is cloned twice with `_clone` (hard links), and each copy deletes the half it
//! does not keep with `_delete_by_query`; servers without `_clone` get a `_reindex` fallback.
//! [`plan::preflight`] checks everything without changing anything, [`split::execute`] runs
//! the steps, and [`split::rollback`] undoes an interrupted run.
pub mod api;
pub mod cli;
pub mod client;
pub mod disk;
pub mod error;
pub mod guard;
pub mod journal;
pub mod plan;
pub mod progress;
pub mod query;
pub mod report;
pub mod retry;
pub mod split;
pub mod tasks;
pub mod version;

pub use error::{Error, Result};
