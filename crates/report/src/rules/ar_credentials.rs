//! AR-02: secrets or certificates added to an app or service principal during
//! the incident: they let the app sign in without the user
//! (<https://learn.microsoft.com/entra/architecture/security-operations-applications>, "High").

use super::{audit_ip, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "AR-02",
    category: Category::AppRegistration,
    needs: &[Source::Applications],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    let objects = i
        .facts
        .applications
        .iter()
        .map(|r| (Source::Applications, r))
        .chain(
            i.facts
                .service_principals
                .iter()
                .map(|r| (Source::ServicePrincipals, r)),
        );
    for (source, rec) in objects {
        let o = &rec.1;
        for cred in ["passwordCredentials", "keyCredentials"]
            .iter()
            .flat_map(|k| o[k].as_array().into_iter().flatten())
        {
            let start = super::when(cred, "startDateTime");
            if !i.ctx.in_window(start) {
                continue;
            }
            let key = cred["keyId"].as_str().unwrap_or("");
            let name = o["displayName"].as_str().unwrap_or("");
            let audits: Vec<_> = audits_named(
                &i.facts.audits,
                &[
                    "Update application – Certificates and secrets management",
                    "Add service principal credentials",
                ],
            )
            .filter(|(_, a)| super::targets(a, o["id"].as_str().unwrap_or("")))
            .collect();
            let linked = audits
                .iter()
                .any(|(_, a)| i.ctx.address(i.facts, audit_ip(a)))
                || i.ctx.near_attacker_signin(i.facts, start);
            let users = super::ar_registered::users_apps(i)
                .iter()
                .any(|(_, a)| a["appId"] == o["appId"]);
            if i.own_app
                .is_some_and(|own| o["appId"].as_str() == Some(own))
            {
                continue;
            }
            // Someone else's app getting a secret is the tenant's business, unless
            // attacker context links it.
            let sev = if users {
                Severity::Medium
            } else {
                Severity::Low
            };
            out.push(
                Draft::new(RULE.id, RULE.category, sev)
                    .message("ar-02")
                    .arg("name", name)
                    .arg("key", key)
                    .arg("hint", cred["hint"].as_str().unwrap_or(""))
                    .subject(format!("{name} {key}"))
                    .seen(start)
                    .evidence([i.record(source, rec)])
                    .evidence(audits.iter().map(|a| i.record(Source::EntraAudit, a)))
                    .linked(linked),
            );
        }
    }
    out
}
