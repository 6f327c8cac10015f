//! Exchange Online PowerShell exports: `Get-InboxRule -IncludeHidden` (rules
//! Graph cannot see) and `Get-Mailbox` (mailbox forwarding), as `Export-Csv` or
//! `ConvertTo-Json` output, plus Microsoft-Extractor-Suite's flattened rules CSV.
//! Rules get the Graph `messageRule` fields whose meaning is the same; every
//! other property (folders by name, conditions as words, the owner) is kept under
//! `unmappedFields`. `Get-Mailbox` objects have no Graph counterpart and are kept
//! as exported.

use super::mapping::{bool_text, UNMAPPED};
use serde_json::{Map, Value};

/// Is this a `Get-InboxRule` object or row (keys as exported)?
pub fn is_inbox_rule(keys: &mut dyn Iterator<Item = &str>) -> bool {
    let mut seen = (false, false, false);
    for k in keys {
        match k.to_ascii_lowercase().as_str() {
            "ruleidentity" => seen.0 = true,
            "name" | "rulename" => seen.1 = true,
            "priority" => seen.2 = true,
            _ => {}
        }
    }
    seen == (true, true, true)
}

/// Is this a `Get-Mailbox` object or row?
pub fn is_mailbox(keys: &mut dyn Iterator<Item = &str>) -> bool {
    let mut seen = (false, false);
    for k in keys {
        match k.to_ascii_lowercase().as_str() {
            "forwardingsmtpaddress" | "delivertomailboxandforward" => seen.0 = true,
            "primarysmtpaddress" | "userprincipalname" | "exchangeguid" => seen.1 = true,
            _ => {}
        }
    }
    seen == (true, true)
}

fn get<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    m.iter()
        .find(|(k, v)| k.eq_ignore_ascii_case(key) && !is_empty(v))
        .map(|(_, v)| v)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => bool_text(s.trim()),
        _ => None,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `"Name" [SMTP:addr]` / `[EX:/o=...]` / a bare address, one or more, as Graph
/// `recipient` objects.
pub fn recipients(v: &Value) -> Vec<Value> {
    let texts: Vec<String> = match v {
        Value::Array(items) => items.iter().map(as_text).collect(),
        other => vec![as_text(other)],
    };
    let mut out = Vec::new();
    for text in texts {
        let mut rest = text.as_str();
        let mut found = false;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            let Some((_, address)) = inner.split_once(':') else {
                rest = &rest[open + close + 1..];
                continue;
            };
            let before = rest[..open].trim().trim_start_matches([',', ';']).trim();
            let name = before.trim_matches('"');
            out.push(serde_json::json!({"emailAddress": {"name": name, "address": address}}));
            found = true;
            rest = &rest[open + close + 1..];
        }
        if !found && text.contains('@') {
            out.push(serde_json::json!({"emailAddress": {"address": text.trim()}}));
        }
    }
    out
}

/// A `Get-InboxRule` object or row as a `messageRule`.
pub fn rule(row: Map<String, Value>) -> Value {
    let mut out = Map::new();
    let mut used: Vec<&str> = Vec::new();
    let owner = get(&row, "MailboxOwnerId").or_else(|| get(&row, "UserName"));
    let id = match (get(&row, "Identity"), owner, get(&row, "RuleIdentity")) {
        (Some(identity), _, _) => Some(as_text(identity)),
        (None, Some(o), Some(r)) => Some(format!("{}\\{}", as_text(o), as_text(r))),
        (None, None, Some(r)) => Some(as_text(r)),
        _ => None,
    };
    if let Some(id) = id {
        out.insert("id".into(), Value::String(id));
        used.push("Identity");
    }
    for (col, key) in [("Name", "displayName"), ("RuleName", "displayName")] {
        if let Some(v) = get(&row, col) {
            out.entry(key).or_insert_with(|| Value::String(as_text(v)));
            used.push(col);
        }
    }
    if let Some(v) = get(&row, "Priority") {
        let n = as_text(v).trim().parse::<i64>().map(Value::from);
        out.insert("sequence".into(), n.unwrap_or_else(|_| v.clone()));
        used.push("Priority");
    }
    for (col, key) in [("Enabled", "isEnabled"), ("InError", "hasError")] {
        if let Some(b) = get(&row, col).and_then(as_bool) {
            out.insert(key.into(), Value::Bool(b));
            used.push(col);
        }
    }
    let mut actions = Map::new();
    for (col, key) in [
        ("ForwardTo", "forwardTo"),
        ("RedirectTo", "redirectTo"),
        ("ForwardAsAttachmentTo", "forwardAsAttachmentTo"),
    ] {
        if let Some(v) = get(&row, col) {
            let r = recipients(v);
            if !r.is_empty() {
                actions.insert(key.into(), Value::Array(r));
                used.push(col);
            }
        }
    }
    for (col, key) in [
        ("DeleteMessage", "delete"),
        ("MarkAsRead", "markAsRead"),
        ("StopProcessingRules", "stopProcessingRules"),
    ] {
        if let Some(b) = get(&row, col).and_then(as_bool) {
            actions.insert(key.into(), Value::Bool(b));
            used.push(col);
        }
    }
    if !actions.is_empty() {
        out.insert("actions".into(), Value::Object(actions));
    }
    let rest: Map<String, Value> = row
        .into_iter()
        .filter(|(k, v)| !is_empty(v) && !used.iter().any(|u| u.eq_ignore_ascii_case(k)))
        .collect();
    if !rest.is_empty() {
        out.insert(UNMAPPED.into(), Value::Object(rest));
    }
    Value::Object(out)
}

/// The de-duplication key of a `Get-Mailbox` object.
pub fn mailbox_key(m: &Map<String, Value>) -> Option<String> {
    [
        "ExchangeGuid",
        "Guid",
        "Identity",
        "PrimarySmtpAddress",
        "UserPrincipalName",
    ]
    .iter()
    .find_map(|k| get(m, k).map(as_text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rule_maps_graph_fields_and_keeps_the_rest() {
        let row = json!({"UserName": "a@x.example", "RuleName": " PR Opportunities", "Enabled": "True",
            "Priority": "2", "RuleIdentity": "3296353452258492417", "ForwardTo": "\"Bob\" [SMTP:bob@evil.example]; [EX:/o=ExchangeLabs/cn=x]",
            "MarkAsRead": "False", "MoveToFolder": "RSS Feeds"});
        let r = rule(row.as_object().unwrap().clone());
        assert_eq!(r["id"], "a@x.example\\3296353452258492417");
        assert_eq!(r["displayName"], " PR Opportunities");
        assert_eq!(r["sequence"], 2);
        assert_eq!(r["isEnabled"], true);
        assert_eq!(
            r["actions"]["forwardTo"][0]["emailAddress"]["address"],
            "bob@evil.example"
        );
        assert_eq!(r["actions"]["forwardTo"][0]["emailAddress"]["name"], "Bob");
        assert_eq!(
            r["actions"]["forwardTo"][1]["emailAddress"]["address"],
            "/o=ExchangeLabs/cn=x"
        );
        assert_eq!(r["actions"]["markAsRead"], false);
        assert_eq!(r[UNMAPPED]["MoveToFolder"], "RSS Feeds");
        assert_eq!(r[UNMAPPED]["UserName"], "a@x.example");
    }
}
