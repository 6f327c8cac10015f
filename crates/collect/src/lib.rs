//! The collector: authentication, the read-only client (Graph, the Management
//! Activity API, Exchange Online's allowlisted read cmdlets), and the
//! collection of every source (run concurrently, each throttle budget kept by
//! the pacer), each source's evidence written with its completeness into a work
//! folder, then sealed ([`job::Collection`]).

pub mod auth;
mod collector;
pub mod exchange;
pub mod graph;
pub mod job;
mod journal;
mod linked;
mod merge;
mod messages;
mod more;
mod purview;
mod query;
mod resolve;
pub mod retry;
mod tenant;

pub use collector::{Collector, Observer};
pub use journal::{Journal, JournalError};
pub use linked::linked_apps;
pub use messages::messages;
pub use more::entitlements;
pub use tenant::{entra_retention_days, resolve_target};

use crate::graph::GraphError;
use chrono::{DateTime, Utc};
use m365_preserve_sources::Window;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Errors that stop a collection.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("user {upn}: {error}")]
    Target { upn: String, error: GraphError },
    #[error("user {0} does not exist in this tenant (check the spelling)")]
    UnknownUser(String),
    #[error(transparent)]
    Evidence(#[from] m365_preserve_package::evidence::EvidenceError),
    #[error(transparent)]
    Package(#[from] m365_preserve_package::PackageError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("work folder {path}: {source}")]
    WorkFolder {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn record_time(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)?
        .as_str()
        .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
        .map(|t| t.utc)
}

/// A window as the manifest records it.
pub(crate) fn window_json(w: &Window) -> Value {
    json!({
        "since": m365_preserve_package::timefmt::format_utc(w.since),
        "until": m365_preserve_package::timefmt::format_utc(w.until),
    })
}
