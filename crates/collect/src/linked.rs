//! `--sp-scope linked`: the applications linked to the targets, whose
//! service-principal sign-ins are collected instead of the whole tenant's.

use crate::collector::Collector;
use crate::graph::{graph_url, Api, Capture, GraphError, Request};
use m365_preserve_sources::{Budget, Linked, Target};

/// Finds the applications linked to the targets (`--sp-scope linked`).
pub async fn linked_apps(c: &Collector<'_>, targets: &[Target]) -> Result<Linked, GraphError> {
    let mut linked = Linked::default();
    for t in targets {
        let asks = [
            (
                format!("/v1.0/users/{}/ownedObjects", t.id),
                "User.Read.All",
            ),
            (
                format!(
                    "/v1.0/oauth2PermissionGrants?$filter=principalId eq '{}'",
                    t.id
                ),
                "Directory.Read.All",
            ),
            (
                format!("/v1.0/users/{}/appRoleAssignments", t.id),
                "Directory.Read.All",
            ),
        ];
        for (path, permission) in asks {
            let req = Request::new(
                Api::Graph,
                graph_url(&c.graph, &path),
                Budget::Directory,
                Capture::LinkedApps,
            )
            .permission(permission);
            let mut pages = c.client.pages(req);
            while let Some(page) = pages.next_page().await? {
                for r in page.records {
                    let kind = r["@odata.type"].as_str().unwrap_or("");
                    let s = |k: &str| r[k].as_str().map(String::from);
                    if kind.ends_with(".application") {
                        linked.app_ids.extend(s("appId"));
                    } else if kind.ends_with(".servicePrincipal") {
                        linked.service_principal_ids.extend(s("id"));
                    } else {
                        linked
                            .service_principal_ids
                            .extend(s("clientId").or(s("resourceId")));
                    }
                }
            }
        }
    }
    Ok(linked)
}
