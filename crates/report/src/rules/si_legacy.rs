//! SI-08: legacy protocols (IMAP, POP, SMTP AUTH, ActiveSync, other clients)
//! and ROPC, which bypass MFA
//! (<https://learn.microsoft.com/entra/identity/monitoring-health/howto-customize-filter-logs>).

use super::{Input, Rule, SIGNINS};
use crate::facts::flag;
use crate::finding::{Category, Draft, Severity};
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "SI-08",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

/// The Entra "legacy authentication clients".
const LEGACY: &[&str] = &[
    "authenticated smtp",
    "autodiscover",
    "exchange activesync",
    "exchange online powershell",
    "exchange web services",
    "imap4",
    "imap",
    "mapi over http",
    "offline address book",
    "outlook anywhere (rpc over http)",
    "outlook service",
    "pop3",
    "pop",
    "reporting web services",
    "other clients",
];

fn run(i: &Input) -> Vec<Draft> {
    let mut by_client: BTreeMap<String, Vec<&crate::facts::SignIn>> = BTreeMap::new();
    for s in &i.facts.signins {
        let client = i.s(s.client_app).to_ascii_lowercase();
        let ua = i.s(s.user_agent).to_ascii_lowercase();
        let label = if LEGACY.contains(&client.as_str()) {
            i.s(s.client_app).to_string()
        } else if s.has(flag::ROPC) || ua.contains("bav2ropc") {
            "ROPC".to_string()
        } else {
            continue;
        };
        by_client.entry(label).or_default().push(s);
    }
    by_client
        .into_iter()
        .map(|(client, list)| {
            let ok: Vec<_> = list.iter().filter(|s| s.ok()).collect();
            let sev = if ok.is_empty() {
                Severity::Low
            } else {
                Severity::High
            };
            let sample: Vec<_> = if ok.is_empty() {
                list.iter().collect()
            } else {
                ok.clone()
            };
            Draft::new(RULE.id, RULE.category, sev)
                .message(if ok.is_empty() {
                    "si-08-failed"
                } else {
                    "si-08"
                })
                .arg("client", &client)
                .arg("count", list.len().to_string())
                .arg("ok", ok.len().to_string())
                .subject(client.clone())
                .seen(list.iter().map(|s| s.at()).min())
                .evidence(sample.iter().take(20).map(|s| i.signin(s)))
        })
        .collect()
}
