//! AR-01/AR-03: app registrations created by the user during the incident;
//! multi-tenant audiences and localhost redirect addresses make them likelier
//! tools than business apps (<https://learn.microsoft.com/security/operations/incident-response-playbook-compromised-malicious-app>).

use super::{audit_ip, by, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "AR-01",
    category: Category::AppRegistration,
    needs: &[Source::Applications],
    run,
};

/// Whether the app accepts sign-ins from other tenants.
pub fn multi_tenant(app: &Value) -> bool {
    matches!(
        app["signInAudience"].as_str(),
        Some("AzureADMultipleOrgs" | "AzureADandPersonalMicrosoftAccount")
    )
}

/// Whether the app redirects to the loopback address (a script's listener).
pub fn localhost(app: &Value) -> bool {
    ["web", "publicClient", "spa"]
        .iter()
        .flat_map(|k| app[k]["redirectUris"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .any(|u| u.starts_with("http://localhost") || u.starts_with("http://127.0.0.1"))
}

/// The apps the user owns or created, by app id.
pub fn users_apps<'a>(i: &'a Input) -> Vec<&'a (u64, Value)> {
    let owned: Vec<&str> = i
        .facts
        .owned
        .iter()
        .filter_map(|(_, o)| o["appId"].as_str())
        .collect();
    let created: Vec<String> = audits_named(&i.facts.audits, &["Add application"])
        .filter(|(_, a)| by(a, &i.target.id))
        .flat_map(|(_, a)| a["targetResources"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    i.facts
        .applications
        .iter()
        .filter(|(_, a)| {
            a["appId"].as_str().is_some_and(|id| owned.contains(&id))
                || a["id"]
                    .as_str()
                    .is_some_and(|id| created.iter().any(|c| c == id))
        })
        .collect()
}

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in users_apps(i) {
        let app = &rec.1;
        let created = super::when(app, "createdDateTime");
        let in_window = i.ctx.in_window(created);
        let name = app["displayName"].as_str().unwrap_or("");
        let traits: Vec<&str> = [
            multi_tenant(app).then_some("multi-tenant"),
            localhost(app).then_some("localhost"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let audits: Vec<_> = audits_named(
            &i.facts.audits,
            &["Add application", "Add owner to application"],
        )
        .filter(|(_, a)| super::targets(a, app["id"].as_str().unwrap_or("")))
        .collect();
        let linked = audits
            .iter()
            .any(|(_, a)| i.ctx.address(i.facts, audit_ip(a)))
            || i.ctx.near_attacker_signin(i.facts, created);
        let sev = match (in_window, traits.is_empty()) {
            (false, _) => Severity::Low,
            (true, true) => Severity::Medium,
            (true, false) => Severity::High,
        };
        out.push(
            Draft::new(RULE.id, RULE.category, sev)
                .message("ar-01")
                .arg("name", name)
                .arg("app_id", app["appId"].as_str().unwrap_or(""))
                .arg("traits", traits.join(", "))
                .subject(name)
                .seen(created)
                .evidence([i.record(Source::Applications, rec)])
                .evidence(audits.iter().map(|a| i.record(Source::EntraAudit, a)))
                .linked(linked && in_window),
        );
    }
    out
}
