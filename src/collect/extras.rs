//! Look-ups that complete a source: inbox-rule folder names, message MIME, and
//! the service principals linked to the targets (`--sp-scope linked`).

use super::run::Collector;
use super::specs::Resolve;
use super::{graph_url, CollectError, Target};
use crate::evidence::{FileDigest, SourceStatus, SourceSummary};
use crate::graph::{Api, Budget, GraphError, Request};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Folders attackers hide mail in (graph-api.md §5): a rule moving mail there is
/// a classic sign of business e-mail compromise.
const HIDING_FOLDERS: &[&str] = &[
    "RSS Feeds",
    "RSS Subscriptions",
    "Archive",
    "Conversation History",
    "Junk Email",
    "Deleted Items",
];

/// Collects the ids `record` refers to that `what` names.
pub(crate) fn references(what: &Resolve, record: &Value, out: &mut Vec<String>) {
    let found: Vec<&str> = match what {
        Resolve::RuleFolders { .. } => ["moveToFolder", "copyToFolder"]
            .iter()
            .filter_map(|a| record["actions"][a].as_str())
            .collect(),
        Resolve::RoleNames => record["roleDefinitionId"].as_str().into_iter().collect(),
    };
    for id in found {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
}

/// Looks up the names of `ids`. Failures become notes: the records themselves
/// are already kept.
pub(crate) async fn resolve(
    c: &Collector<'_>,
    source: &str,
    what: &Resolve,
    ids: &[String],
    notes: &mut Vec<String>,
) -> Vec<Value> {
    let mut facts = Vec::new();
    for id in ids {
        let (path, budget, permission) = match what {
            Resolve::RuleFolders { user_id } => (
                format!("/v1.0/users/{user_id}/mailFolders/{id}"),
                Budget::Outlook,
                "Mail.ReadBasic.All",
            ),
            Resolve::RoleNames => (
                format!("/v1.0/roleManagement/directory/roleDefinitions/{id}"),
                Budget::Directory,
                "RoleManagement.Read.Directory",
            ),
        };
        let req = Request::new(Api::Graph, graph_url(&c.graph, &path), budget, source)
            .permission(permission);
        let v = match c.client.get(&req).await {
            Ok(f) => f.json.unwrap_or(Value::Null),
            Err(e) => {
                notes.push(format!("{id} not named: {e}"));
                continue;
            }
        };
        let name = v["displayName"].as_str().unwrap_or("").to_string();
        match what {
            Resolve::RuleFolders { user_id } => {
                if HIDING_FOLDERS.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                    tracing::warn!(
                        "an inbox rule of user {user_id} moves or copies mail to \"{name}\", a folder attackers use to hide replies"
                    );
                }
                facts.push(json!({"userId": user_id, "folderId": id, "displayName": name}));
            }
            Resolve::RoleNames => {
                facts.push(json!({"roleDefinitionId": id, "displayName": name}));
            }
        }
    }
    facts
}

/// A message id as a file name: Graph ids are base64 (with `/`, `+`, `=`).
fn eml_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '=' => c,
            _ => '_',
        })
        .collect();
    let short = if safe.len() > 180 {
        &safe[safe.len() - 180..]
    } else {
        &safe
    };
    format!("{short}.eml")
}

/// Keeps each `--message-id` as `evidence/messages/<id>.eml`, looking in every
/// target's mailbox. The summary notes that Exchange regenerates MIME.
pub async fn messages(
    c: &Collector<'_>,
    targets: &[Target],
    ids: &[String],
) -> Result<SourceSummary, CollectError> {
    let dir = c.workdir.join("evidence").join("messages");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CollectError::WorkFolder(format!("{}: {e}", dir.display())))?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for id in ids {
        let mut last: Option<GraphError> = None;
        let mut got = None;
        for t in targets {
            let path = format!("/v1.0/users/{}/messages/{id}/$value", t.id);
            let req = Request::new(
                Api::Graph,
                graph_url(&c.graph, &path),
                Budget::Outlook,
                "messages",
            )
            .permission("Mail.Read")
            .not_json();
            match c.client.get(&req).await {
                Ok(f) => {
                    got = Some((t, f));
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        match got {
            Some((t, f)) => {
                let name = eml_name(id);
                let path = dir.join(&name);
                // A resumed run fetches the message again.
                let _ = std::fs::remove_file(&path);
                crate::package::write_new_file(&path, &f.body)
                    .map_err(|e| CollectError::WorkFolder(e.to_string()))?;
                files.push(FileDigest {
                    path: format!("evidence/messages/{name}"),
                    size: f.body.len() as u64,
                    sha256: crate::hashing::sha256_hex(&f.body),
                });
                found.push(json!({"messageId": id, "mailbox": t.upn, "file": format!("evidence/messages/{name}")}));
            }
            None => problems.push(format!(
                "message {id}: {}",
                last.map_or("no target mailbox".into(), |e| e.to_string())
            )),
        }
    }
    let status = match (problems.is_empty(), files.is_empty()) {
        (true, _) => SourceStatus::Complete,
        (false, true) => SourceStatus::Failed,
        (false, false) => SourceStatus::Partial,
    };
    let mut details = Map::new();
    details.insert("messages".into(), Value::Array(found));
    details.insert(
        "notes".into(),
        json!(["Exchange does not store MIME: GET .../messages/{id}/$value regenerates it, so headers are verbatim but the body encoding and MIME boundaries may differ from what was transmitted (DKIM body hashes typically fail). The bytes are kept exactly as received and hashed."]),
    );
    let summary = SourceSummary {
        source: "messages".into(),
        status,
        reason: (!problems.is_empty()).then(|| problems.join("; ")),
        records: files.len() as u64,
        time_field: None,
        first_timestamp: None,
        last_timestamp: None,
        csv_columns: 0,
        files,
        details,
    };
    crate::evidence::write_summary(&c.workdir, &summary)?;
    Ok(summary)
}

/// What links the targets to applications: service principals they own, the
/// clients of their consent grants and the apps they are assigned to (by object
/// id), and the app registrations they own (by app id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linked {
    pub service_principal_ids: BTreeSet<String>,
    pub app_ids: BTreeSet<String>,
}

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
                "sp-scope",
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
