//! Collection: resolve the target users, run every source concurrently (the
//! pacer keeps each throttle budget), write each source's evidence with its
//! completeness, and leave a work folder ready for sealing.

mod extras;
mod journal;
mod purview;
mod run;
mod specs;

pub use extras::{linked_apps, messages, Linked};
pub use journal::{Journal, JournalError};
pub use run::{Collector, Observer};
pub use specs::{queries, split, Keep, PlanOptions, Query, Resolve, SLICE};

use crate::graph::{Api, Budget, GraphError, ReadOnlyClient, Request};
use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

/// Which service principals' sign-ins to collect.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SpScope {
    /// The whole tenant: an attacker's app is not known in advance.
    Tenant,
    /// Apps the targets own, consented to or are assigned to.
    Linked,
}

/// Graph version of the audit-log query API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum AuditApi {
    #[value(name = "v1.0")]
    #[serde(rename = "v1.0")]
    V1,
    #[value(name = "beta")]
    #[serde(rename = "beta")]
    Beta,
}

impl AuditApi {
    pub fn segment(self) -> &'static str {
        match self {
            AuditApi::V1 => "v1.0",
            AuditApi::Beta => "beta",
        }
    }
}

/// A compromised user, resolved to its object id.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub upn: String,
    pub display_name: String,
}

/// A half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.since <= t && t < self.until
    }
}

/// Errors that stop a collection before any source runs.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("user {upn}: {source}")]
    Target { upn: String, source: GraphError },
    #[error("user {0} does not exist in this tenant (check the spelling)")]
    UnknownUser(String),
    #[error("{0}")]
    Evidence(#[from] crate::evidence::EvidenceError),
    #[error("work folder: {0}")]
    WorkFolder(String),
}

pub(crate) fn graph_url(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    u.set_path(p);
    u.set_query((!q.is_empty()).then_some(q));
    u
}

/// Resolves a UPN to its user object.
pub async fn resolve_target(
    client: &ReadOnlyClient,
    base: &Url,
    upn: &str,
) -> Result<Target, CollectError> {
    let path = format!(
        "/v1.0/users/{}?$select=id,userPrincipalName,displayName",
        upn.trim()
    );
    let req = Request::new(
        Api::Graph,
        graph_url(base, &path),
        Budget::Directory,
        "targets",
    )
    .permission("User.Read.All");
    match client.get(&req).await {
        Ok(f) => {
            let v = f.json.unwrap_or(Value::Null);
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            Ok(Target {
                id: s("id"),
                upn: s("userPrincipalName"),
                display_name: s("displayName"),
            })
        }
        Err(GraphError::NotFound { .. }) => Err(CollectError::UnknownUser(upn.to_string())),
        Err(source) => Err(CollectError::Target {
            upn: upn.to_string(),
            source,
        }),
    }
}

/// Entra ID Free answers sign-ins with the premium 403: its logs last 7 days,
/// premium tenants' 30.
pub async fn entra_retention_days(client: &ReadOnlyClient, base: &Url) -> i64 {
    let req = Request::new(
        Api::Graph,
        graph_url(base, "/beta/auditLogs/signIns?$top=1"),
        Budget::Reports,
        "licence-probe",
    );
    match client.get(&req).await {
        Err(GraphError::LicenceRequired { .. }) => 7,
        _ => 30,
    }
}

pub(crate) fn record_time(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)?
        .as_str()
        .and_then(crate::timefmt::parse_iso_datetime)
        .map(|t| t.utc)
}
