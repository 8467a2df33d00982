//! Split an Elasticsearch/OpenSearch index on a date midpoint without re-indexing.
//!
//! The source is cloned twice with `_clone` (hard links), and each copy deletes the half it
//! does not keep with `_delete_by_query`; servers without `_clone` get a `_reindex` fallback.
//! [`plan::preflight`] checks everything without changing anything, [`split::execute`] runs
//! the steps, and [`rollback::rollback`] undoes an interrupted run; [`journal`] and [`store`]
//! hold the persisted state machine and its lease.
pub mod api;
pub mod cli;
pub mod client;
pub mod disk;
pub mod error;
pub mod hygiene;
pub mod interrupt;
pub mod journal;
pub mod lease;
pub mod out;
pub mod plan;
pub mod progress;
pub mod query;
pub mod report;
pub mod retry;
pub mod rollback;
pub mod split;
pub mod status;
pub mod store;
pub mod tasks;
pub mod version;

pub use error::{Error, Result};
