//! AM-01: authentication methods registered during the incident, with the
//! directory-audit events that registered them; an attacker's method survives a
//! password reset (<https://learn.microsoft.com/security/operations/token-theft-playbook>).
//! A method on a device model the user had not used before is named.

use super::{audit_ip, by, targets, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "AM-01",
    category: Category::AuthMethod,
    needs: &[Source::AuthMethods],
    run,
};

/// Directory-audit activities of security-info registration
/// (<https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities>).
const REGISTRATION: &[&str] = &[
    "User registered security info",
    "User registered all required security info",
    "User started security info registration",
    "User changed default security info",
    "User updated security info",
    "Admin registered security info",
    "Admin updated security info",
];

fn run(i: &Input) -> Vec<Draft> {
    let id = &i.target.id;
    let events: Vec<_> = audits_named(&i.facts.audits, REGISTRATION)
        .filter(|(_, a)| targets(a, id) || by(a, id))
        .collect();
    let mut out = Vec::new();
    for m in &i.facts.methods {
        let r = &m.1;
        let kind = r["@odata.type"].as_str().unwrap_or("");
        if kind.is_empty() || kind.ends_with("passwordAuthenticationMethod") {
            continue;
        }
        let created = super::when(r, "createdDateTime");
        let near: Vec<_> = events
            .iter()
            .filter(|(_, a)| {
                let t = super::when(a, "activityDateTime");
                match (t, created) {
                    (Some(t), Some(c)) => (t - c).num_minutes().abs() <= 120,
                    _ => false,
                }
            })
            .collect();
        // A method without a creation time cannot be dated (the password, and
        // phone methods on Graph v1.0).
        if !i.ctx.in_window(created) {
            continue;
        }
        let linked = near.iter().any(|(_, a)| {
            i.ctx.address(i.facts, audit_ip(a))
                || i.ctx
                    .near_attacker_signin(i.facts, super::when(a, "activityDateTime"))
        }) || i.ctx.near_attacker_signin(i.facts, created);
        let name = r["displayName"]
            .as_str()
            .or(r["phoneNumber"].as_str())
            .unwrap_or("")
            .to_string();
        let new_model = !name.is_empty()
            && !i.facts.methods.iter().any(|(_, o)| {
                o["displayName"].as_str() == Some(name.as_str())
                    && super::when(o, "createdDateTime") < created
            })
            && i.facts.methods.iter().any(|(_, o)| {
                o["@odata.type"] == r["@odata.type"]
                    && o["displayName"].as_str() != Some(name.as_str())
            });
        let short = kind.trim_start_matches("#microsoft.graph.");
        out.push(
            Draft::new(RULE.id, RULE.category, Severity::Medium)
                .message(if new_model {
                    "am-01-new-device"
                } else {
                    "am-01"
                })
                .arg("method", short)
                .arg("name", &name)
                .subject(format!("{short} {name}"))
                .seen(created)
                .evidence([i.record(Source::AuthMethods, m)])
                .evidence(near.iter().map(|a| i.record(Source::EntraAudit, a)))
                .linked(linked),
        );
    }
    out
}
