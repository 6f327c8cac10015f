//! IR-05: inbox rules created, changed or removed from attacker context, from
//! the unified audit log's New-InboxRule, Set-InboxRule, UpdateInboxRules...
//! (<https://learn.microsoft.com/security/operations/incident-response-playbook-phishing>);
//! also what dates the rules Graph returns without a creation time.

use super::{parameter, Input, Rule};
use crate::facts::AuditRecord;
use crate::finding::{Category, Draft, Severity};
use crate::values::fold;
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "IR-05",
    category: Category::InboxRule,
    needs: &[Source::PurviewAudit],
    run,
};

const RULE_OPERATIONS: &[&str] = &[
    "new-inboxrule",
    "set-inboxrule",
    "enable-inboxrule",
    "disable-inboxrule",
    "remove-inboxrule",
    "updateinboxrules",
];

/// The rule a record is about (`Name` or `Identity` parameter).
fn rule_name(r: &AuditRecord) -> Option<String> {
    let d = r.data.as_deref()?;
    parameter(d, "Name").map(String::from).or_else(|| {
        parameter(d, "Identity").map(|id| id.rsplit('\\').next().unwrap_or(id).to_string())
    })
}

/// The record that created inbox rule `name`, if the log has it.
pub fn creation<'a>(i: &'a Input, name: &str) -> Option<&'a AuditRecord> {
    i.facts
        .purview
        .iter()
        .filter(|r| fold(i.s(r.operation)) == "new-inboxrule")
        .find(|r| rule_name(r).as_deref() == Some(name))
}

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for r in i
        .facts
        .purview
        .iter()
        .filter(|r| RULE_OPERATIONS.contains(&fold(i.s(r.operation)).as_str()))
    {
        let linked = i.ctx.ip(r.ip) || i.ctx.session(r.session);
        if !linked {
            continue;
        }
        let op = i.s(r.operation);
        let removal = matches!(fold(op).as_str(), "remove-inboxrule" | "disable-inboxrule");
        let name = rule_name(r).unwrap_or_default();
        out.push(
            Draft::new(
                RULE.id,
                RULE.category,
                if removal {
                    Severity::Medium
                } else {
                    Severity::High
                },
            )
            .message(if removal { "ir-05-removed" } else { "ir-05" })
            .arg("operation", op)
            .arg("name", &name)
            .arg("ip", i.s(r.ip))
            .subject(format!("{op} {name}"))
            .seen(Some(r.at()))
            .evidence([i.audit_record(r)]),
        );
        out.last_mut().expect("just pushed").attacker_context = true;
    }
    out
}
