//! IR-01: inbox rules that forward or redirect mail, external addresses above
//! all (<https://learn.microsoft.com/security/operations/incident-response-playbook-phishing>;
//! Hawk's `Test-SuspiciousInboxRule`).

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "IR-01",
    category: Category::InboxRule,
    needs: &[Source::MailboxRules],
    run,
};

/// The addresses a rule sends mail on to.
pub fn destinations(r: &Value) -> Vec<String> {
    ["forwardTo", "redirectTo", "forwardAsAttachmentTo"]
        .iter()
        .flat_map(|k| r["actions"][k].as_array().into_iter().flatten())
        .filter_map(|x| x["emailAddress"]["address"].as_str())
        .map(|a| a.to_ascii_lowercase())
        .collect()
}

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in &i.facts.rules {
        let r = &rec.1;
        let to = destinations(r);
        if to.is_empty() || r["isEnabled"].as_bool() == Some(false) {
            continue;
        }
        let external: Vec<&String> = to.iter().filter(|a| i.target.external(a)).collect();
        let name = r["displayName"].as_str().unwrap_or("");
        let created = super::ir_created::creation(i, name);
        let sev = if external.is_empty() {
            Severity::Low
        } else {
            Severity::High
        };
        let mut d = Draft::new(RULE.id, RULE.category, sev)
            .message(if external.is_empty() {
                "ir-01-internal"
            } else {
                "ir-01"
            })
            .arg("name", name)
            .arg("to", to.join(", "))
            .subject(format!("{name} → {}", to.join(", ")))
            .evidence([i.record(Source::MailboxRules, rec)]);
        if let Some(c) = &created {
            d = d.seen(Some(c.at())).evidence([i.audit_record(c)]);
        }
        let linked = created
            .as_ref()
            .is_some_and(|c| i.ctx.ip(c.ip) || i.ctx.session(c.session));
        out.push(d.linked(linked));
    }
    out
}
