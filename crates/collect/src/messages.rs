//! `--message-id`: messages kept as `.eml`, looked for in every target's mailbox.

use crate::collector::Collector;
use crate::graph::{graph_url, Api, GraphError, Request};
use crate::CollectError;
use m365_preserve_package::evidence::{write_summary, FileDigest, SourceStatus, SourceSummary};
use m365_preserve_package::layout;
use m365_preserve_sources::{Budget, Source, Target};
use serde_json::{json, Map, Value};

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

/// The MIME of message `id` from the first target mailbox that has it.
async fn find<'t>(
    c: &Collector<'_>,
    targets: &'t [Target],
    id: &str,
) -> Result<(&'t Target, bytes::Bytes), String> {
    let mut last: Option<GraphError> = None;
    for t in targets {
        let path = format!("/v1.0/users/{}/messages/{id}/$value", t.id);
        let req = Request::new(
            Api::Graph,
            graph_url(&c.graph, &path),
            Budget::Outlook,
            Source::Messages,
        )
        .permission("Mail.Read")
        .not_json();
        match c.client.get(&req).await {
            Ok(f) => return Ok((t, f.body)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or("no target mailbox".into(), |e| e.to_string()))
}

/// Keeps each `--message-id` as `evidence/messages/<id>.eml`, looking in every
/// target's mailbox. The summary notes that Exchange regenerates MIME.
pub async fn messages(
    c: &Collector<'_>,
    targets: &[Target],
    ids: &[String],
) -> Result<SourceSummary, CollectError> {
    let dir = c.workdir.messages_dir();
    std::fs::create_dir_all(&dir).map_err(|source| CollectError::WorkFolder {
        path: dir.clone(),
        source,
    })?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for id in ids {
        match find(c, targets, id).await {
            Ok((t, body)) => {
                let name = eml_name(id);
                let path = dir.join(&name);
                // A resumed run fetches the message again.
                let _ = std::fs::remove_file(&path);
                m365_preserve_package::write_new_file(&path, &body)?;
                files.push(FileDigest {
                    path: layout::message(&name),
                    size: body.len() as u64,
                    sha256: m365_preserve_package::hashing::sha256_hex(&body),
                });
                found.push(
                    json!({"messageId": id, "mailbox": t.upn, "file": layout::message(&name)}),
                );
            }
            Err(why) => problems.push(format!("message {id}: {why}")),
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
        source: Source::Messages.as_str().into(),
        status,
        reason: (!problems.is_empty()).then(|| problems.join("; ")),
        records: files.len() as u64,
        time_field: None,
        first_timestamp: None,
        last_timestamp: None,
        csv_columns: 0,
        files,
        id_conflicts: None,
        details,
    };
    write_summary(&c.workdir, &summary)?;
    Ok(summary)
}
