//! GU-01: guests invited by the compromised user, or invited during the
//! incident; session revocation does not cover external users
//! (<https://learn.microsoft.com/graph/api/user-revokesigninsessions>).

use super::{audit_ip, by, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "GU-01",
    category: Category::Guest,
    needs: &[Source::Guests],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let invited: Vec<_> = audits_named(&i.facts.audits, &["Invite external user", "Add user"])
        .filter(|(_, a)| by(a, &i.target.id))
        .collect();
    let mut out = Vec::new();
    for rec in &i.facts.guests {
        let g = &rec.1;
        let id = g["id"].as_str().unwrap_or("");
        let mail = g["mail"].as_str().unwrap_or("");
        let created = super::when(g, "createdDateTime");
        let by_user: Vec<_> = invited
            .iter()
            .filter(|(_, a)| {
                super::targets(a, id)
                    || a["targetResources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|t| {
                            t["userPrincipalName"].as_str().is_some_and(|u| {
                                !mail.is_empty()
                                    && u.to_lowercase()
                                        .contains(&mail.replace('@', "_").to_lowercase())
                            })
                        })
            })
            .collect();
        let in_window = i.ctx.in_window(created);
        if by_user.is_empty() && !in_window {
            continue;
        }
        let linked = by_user
            .iter()
            .any(|(_, a)| i.ctx.address(i.facts, audit_ip(a)))
            || (!by_user.is_empty() && i.ctx.near_attacker_signin(i.facts, created));
        let sev = if !by_user.is_empty() && in_window {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push(
            Draft::new(RULE.id, RULE.category, sev)
                .message(if by_user.is_empty() {
                    "gu-01-window"
                } else {
                    "gu-01"
                })
                .arg("mail", mail)
                .arg("state", g["externalUserState"].as_str().unwrap_or(""))
                .subject(mail)
                .seen(created)
                .evidence([i.record(Source::Guests, rec)])
                .evidence(by_user.iter().map(|a| i.record(Source::EntraAudit, a)))
                .linked(linked),
        );
    }
    out
}
