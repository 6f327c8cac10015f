//! What the collection learns from the tenant before any source runs: who the
//! targets are, and how long the tenant keeps its sign-in logs.

use crate::graph::{graph_url, Api, Capture, GraphError, ReadOnlyClient, Request};
use crate::CollectError;
use m365_preserve_sources::{Budget, Target};
use serde_json::Value;
use url::Url;

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
        Capture::Targets,
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
        Err(error) => Err(CollectError::Target {
            upn: upn.to_string(),
            error,
        }),
    }
}

/// Entra ID Free answers sign-ins with the premium 403: its logs last 7 days,
/// premium tenants' 30
/// (<https://learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention>).
pub async fn entra_retention_days(client: &ReadOnlyClient, base: &Url) -> i64 {
    let req = Request::new(
        Api::Graph,
        graph_url(base, "/beta/auditLogs/signIns?$top=1"),
        Budget::Reports,
        Capture::LicenceProbe,
    );
    match client.get(&req).await {
        Err(GraphError::LicenceRequired { .. }) => 7,
        _ => 30,
    }
}
