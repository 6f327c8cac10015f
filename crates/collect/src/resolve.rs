//! Names of what a source's records refer to by id: the folders of inbox
//! rules, the roles of role assignments. The records stay as served; the names
//! go into the manifest.

use crate::collector::Collector;
use crate::graph::{graph_url, Api, Request};
use m365_preserve_sources::{Budget, Resolve, Source};
use serde_json::{json, Value};

/// Folders attackers hide mail in: a rule moving mail there is a classic sign
/// of business e-mail compromise
/// (<https://learn.microsoft.com/defender-office-365/detect-and-remediate-outlook-rules-forms-attack>).
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
pub(crate) async fn names(
    c: &Collector<'_>,
    source: Source,
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
