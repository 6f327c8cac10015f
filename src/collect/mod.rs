//! Collection: resolve the target users, run every source concurrently (the
//! pacer keeps each throttle budget), write each source's evidence with its
//! completeness, and leave a work folder ready for sealing.

mod specs;

pub use specs::{queries, Keep, Query};

use crate::evidence::{EvidenceWriter, SourceStatus, SourceSummary};
use crate::graph::{Api, Budget, GraphError, ReadOnlyClient, Request};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::path::Path;
use url::Url;

/// A compromised user, resolved to its object id.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub upn: String,
    pub display_name: String,
}

/// A half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    fn contains(&self, t: DateTime<Utc>) -> bool {
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
}

fn graph_url(base: &Url, path: &str) -> Url {
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

fn record_time(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)?
        .as_str()
        .and_then(crate::timefmt::parse_iso_datetime)
        .map(|t| t.utc)
}

fn kept(keep: &Keep, record: &Value) -> bool {
    match keep {
        Keep::All => true,
        Keep::InWindow { field, window } => {
            record_time(record, field).is_some_and(|t| window.contains(t))
        }
        Keep::UserInWindow {
            user_id,
            field,
            window,
        } => {
            record["userId"].as_str() == Some(user_id.as_str())
                && record_time(record, field).is_some_and(|t| window.contains(t))
        }
    }
}

/// Collects one source into `workdir/evidence/<source>.{json,csv}`.
pub async fn run_source(
    client: &ReadOnlyClient,
    base: &Url,
    workdir: &Path,
    source: &str,
    plan: Vec<Query>,
    window: Window,
) -> Result<SourceSummary, CollectError> {
    let mut writer = EvidenceWriter::create(workdir, source)?;
    let mut seen: HashSet<String> = HashSet::new();
    let (mut pages, mut retries, mut dropped) = (0u64, 0u64, 0u64);
    let mut problems: Vec<(bool, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut done_queries = Vec::new();
    for q in &plan {
        let request = |path: &str| {
            let mut r = Request::new(Api::Graph, graph_url(base, path), q.budget, source)
                .permission(q.permission);
            if q.unknown_enums {
                r = r.unknown_enums();
            }
            r
        };
        let mut write = |writer: &mut EvidenceWriter, record: Value| -> Result<(), CollectError> {
            if !kept(&q.keep, &record) {
                dropped += 1;
                return Ok(());
            }
            let fresh = match record.get("id").and_then(Value::as_str) {
                Some(id) => seen.insert(id.to_string()),
                None => true,
            };
            if fresh {
                writer.write(&record)?;
            }
            Ok(())
        };
        let outcome: Result<(), GraphError> = async {
            if q.single {
                let fetched = match client.get(&request(&q.path)).await {
                    Err(GraphError::LicenceRequired { message, .. }) if q.without_premium.is_some() => {
                        notes.push(format!("premium-only fields unavailable (licence: {message}); collected without them"));
                        client.get(&request(q.without_premium.as_deref().unwrap_or_default())).await?
                    }
                    other => other?,
                };
                pages += 1;
                retries += u64::from(fetched.attempts - 1);
                if let Some(v) = fetched.json {
                    write(&mut writer, v).map_err(|e| GraphError::InvalidResponse { url: q.path.clone(), message: e.to_string() })?;
                }
            } else {
                let mut pager = client.pages(request(&q.path));
                while let Some(page) = pager.next_page().await? {
                    pages += 1;
                    retries += u64::from(page.attempts - 1);
                    for record in page.records {
                        write(&mut writer, record).map_err(|e| GraphError::InvalidResponse { url: q.path.clone(), message: e.to_string() })?;
                    }
                }
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => done_queries.push(q.path.clone()),
            Err(e) => problems.push((e.is_unavailable(), format!("{}: {e}", q.path))),
        }
    }
    let (status, reason) = match (problems.len(), done_queries.len()) {
        (0, _) => (SourceStatus::Complete, None),
        (_, 0) if problems.iter().all(|(unavailable, _)| *unavailable) => {
            (SourceStatus::Unavailable, Some(join(&problems)))
        }
        (_, 0) => (SourceStatus::Failed, Some(join(&problems))),
        _ => (SourceStatus::Partial, Some(join(&problems))),
    };
    let mut details = Map::new();
    details.insert(
        "queries".into(),
        json!(plan
            .iter()
            .map(|q| format!("GET {}", q.path))
            .collect::<Vec<_>>()),
    );
    details.insert("queries_done".into(), json!(done_queries.len()));
    details.insert("window".into(), json!({"since": crate::timefmt::format_utc(window.since), "until": crate::timefmt::format_utc(window.until)}));
    details.insert("pages".into(), json!(pages));
    details.insert("retries".into(), json!(retries));
    details.insert("records_outside_query".into(), json!(dropped));
    if !notes.is_empty() {
        details.insert("notes".into(), json!(notes));
    }
    Ok(writer.finish(status, reason, details)?)
}

fn join(problems: &[(bool, String)]) -> String {
    problems
        .iter()
        .map(|(_, p)| p.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes a summary for a source this version cannot collect, so the manifest
/// and the exit code say so instead of leaving it out.
pub fn not_collected(
    workdir: &Path,
    source: &str,
    why: &str,
) -> Result<SourceSummary, CollectError> {
    let w = EvidenceWriter::create(workdir, source)?;
    Ok(w.finish(SourceStatus::Failed, Some(why.to_string()), Map::new())?)
}
