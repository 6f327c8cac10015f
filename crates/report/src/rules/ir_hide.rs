//! IR-02/03/04: inbox rules that hide, delete or bury mail: deleting, marking
//! as read, moving to RSS Feeds, Archive, Conversation History, Deleted Items
//! or Junk (recognised by Graph's well-known folder names, which work in any
//! mailbox language, <https://learn.microsoft.com/graph/api/resources/mailfolder>,
//! and by display names), especially with a name made to be overlooked or
//! keyed on payment or security words.

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "IR-02",
    category: Category::InboxRule,
    needs: &[Source::MailboxRules],
    run,
};

/// Well-known names of folders attackers hide mail in.
const HIDING_WELL_KNOWN: &[&str] = &[
    "archive",
    "conversationhistory",
    "deleteditems",
    "junkemail",
];

/// Display names of the same folders (English and Japanese Outlook), and RSS
/// folders, which have no well-known name.
const HIDING_NAMES: &[&str] = &[
    "rss feeds",
    "rss subscriptions",
    "rss フィード",
    "notes",
    "archive",
    "conversation history",
    "junk email",
    "deleted items",
    "アーカイブ",
    "迷惑メール",
    "削除済みアイテム",
    "会話の履歴",
];

/// Words of business e-mail compromise and of warnings attackers hide
/// (<https://github.com/Azure/Azure-Sentinel/blob/master/Solutions/Microsoft%20365/Analytic%20Rules/Malicious_Inbox_Rule.yaml>;
/// the Japanese ones are this project's).
pub const KEYWORDS: &[&str] = &[
    "invoice",
    "payment",
    "receipt",
    "wire",
    "bank",
    "remittance",
    "account",
    "helpdesk",
    "phishing",
    "suspicious",
    "malicious",
    "hijacked",
    "password",
    "security",
    "請求",
    "支払",
    "振込",
    "送金",
    "口座",
    "見積",
    "入金",
    "フィッシング",
    "不審",
    "警告",
    "パスワード",
    "セキュリティ",
];

/// A name of only punctuation, symbols, spaces or zero-width characters. (A
/// single-character pattern such as `^[^a-zA-Z\d\s:]$` would flag every rule
/// named with one Japanese character, and miss `..`.)
pub fn overlookable(name: &str) -> bool {
    name.chars().all(|c| {
        !c.is_alphanumeric() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}')
    })
}

/// The keywords of a rule's conditions.
pub fn keywords(r: &Value) -> Vec<String> {
    let words: Vec<String> = [
        "subjectContains",
        "bodyContains",
        "bodyOrSubjectContains",
        "senderContains",
    ]
    .iter()
    .flat_map(|k| r["conditions"][k].as_array().into_iter().flatten())
    .filter_map(Value::as_str)
    .map(str::to_lowercase)
    .collect();
    KEYWORDS
        .iter()
        .filter(|k| words.iter().any(|w| w.contains(*k)))
        .map(|k| k.to_string())
        .collect()
}

/// The hiding folder a rule moves or copies mail to, by name.
fn hiding_folder(i: &Input, r: &Value) -> Option<String> {
    ["moveToFolder", "copyToFolder"].iter().find_map(|k| {
        let id = r["actions"][k].as_str()?;
        let fact = i.facts.folders.get(id)?;
        let well_known = fact["wellKnownName"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = fact["displayName"].as_str().unwrap_or("");
        (HIDING_WELL_KNOWN.contains(&well_known.as_str())
            || HIDING_NAMES.contains(&name.to_lowercase().as_str()))
        .then(|| name.to_string())
    })
}

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in &i.facts.rules {
        let r = &rec.1;
        if r["isEnabled"].as_bool() == Some(false) {
            continue;
        }
        let name = r["displayName"].as_str().unwrap_or("");
        let deletes = r["actions"]["delete"].as_bool() == Some(true)
            || r["actions"]["permanentDelete"].as_bool() == Some(true);
        let folder = hiding_folder(i, r);
        let read = r["actions"]["markAsRead"].as_bool() == Some(true);
        let words = keywords(r);
        let odd_name = overlookable(name);
        let copied = i
            .facts
            .rules
            .iter()
            .any(|(_, o)| o["id"] != r["id"] && o["displayName"].as_str() == Some(name));
        if !deletes && folder.is_none() {
            let forwards = !super::ir_forward::destinations(r).is_empty();
            if (odd_name || copied) && !forwards {
                out.push(
                    Draft::new("IR-03", RULE.category, Severity::Low)
                        .message("ir-03")
                        .arg("name", name)
                        .subject(name)
                        .evidence([i.record(Source::MailboxRules, rec)]),
                );
            }
            continue;
        }
        let created = super::ir_created::creation(i, name);
        let linked = created
            .as_ref()
            .is_some_and(|c| i.ctx.ip(c.ip) || i.ctx.session(c.session));
        let traits = [read, !words.is_empty(), odd_name || copied, linked]
            .iter()
            .filter(|t| **t)
            .count();
        // Without a creation record, a rule that predates the incident is
        // ordinary filing, as long as the audit log covers the window.
        let pre_existing = created.is_none() && i.evidence.complete(Source::PurviewAudit);
        let sev = if pre_existing && !odd_name {
            Severity::Low
        } else if traits >= 2 {
            Severity::High
        } else {
            Severity::Medium
        };
        let action = match (&folder, deletes) {
            (Some(f), _) => f.clone(),
            (None, _) => "delete".into(),
        };
        let mut d = Draft::new(RULE.id, RULE.category, sev)
            .message("ir-02")
            .arg("name", name)
            .arg("action", &action)
            .arg("read", if read { "yes" } else { "no" })
            .arg("keywords", words.join(", "))
            .subject(format!("{name} → {action}"))
            .evidence([i.record(Source::MailboxRules, rec)]);
        if let Some(c) = &created {
            d = d.seen(Some(c.at())).evidence([i.audit_record(c)]);
        }
        d.attacker_context = linked;
        out.push(d);
    }
    out
}
