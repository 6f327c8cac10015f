//! AR-05: the sign-ins of the user's new apps and consented clients: where the
//! app's script runs from, with which credential, and its failures
//! (<https://learn.microsoft.com/security/operations/incident-response-playbook-compromised-malicious-app>).

use super::{Input, Rule};
use crate::facts::Kind;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "AR-05",
    category: Category::AppRegistration,
    needs: &[Source::SigninsServicePrincipal, Source::Applications],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in super::ar_registered::users_apps(i) {
        let app = &rec.1;
        let Some(app_id) = app["appId"]
            .as_str()
            .and_then(|a| i.facts.strings.find(&a.to_ascii_lowercase()))
        else {
            continue;
        };
        let list: Vec<_> = i
            .facts
            .signins
            .iter()
            .filter(|s| s.kind == Kind::ServicePrincipal && s.app_id == app_id)
            .collect();
        if list.is_empty() {
            continue;
        }
        let ok = list.iter().filter(|s| s.ok()).count();
        let mut ips: Vec<&str> = list.iter().map(|s| i.s(s.ip)).collect();
        ips.sort();
        ips.dedup();
        let linked = list.iter().any(|s| i.ctx.ip(s.ip));
        let name = app["displayName"].as_str().unwrap_or("");
        out.push(
            Draft::new(
                RULE.id,
                RULE.category,
                if ok > 0 {
                    Severity::Medium
                } else {
                    Severity::Low
                },
            )
            .message("ar-05")
            .arg("name", name)
            .arg("count", list.len().to_string())
            .arg("ok", ok.to_string())
            .arg("ips", ips.join(", "))
            .subject(name)
            .seen(list.iter().map(|s| s.at()).min())
            .evidence([i.record(Source::Applications, rec)])
            .evidence(list.iter().take(20).map(|s| i.signin(s)))
            .linked(linked),
        );
    }
    out
}
