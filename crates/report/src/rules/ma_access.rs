//! MA-01: mail read from attacker context (MailItemsAccessed), by client
//! address and app, with the number of messages: Sync access means the whole
//! folder must be assumed read
//! (<https://learn.microsoft.com/purview/audit-log-investigate-accounts>).

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use crate::values::fold;
use m365_preserve_sources::Source;
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "MA-01",
    category: Category::MailAccess,
    needs: &[Source::PurviewAudit],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut groups: BTreeMap<(u32, u32), Vec<&crate::facts::AuditRecord>> = BTreeMap::new();
    for r in i
        .facts
        .purview
        .iter()
        .filter(|r| fold(i.s(r.operation)) == "mailitemsaccessed")
        .filter(|r| i.ctx.ip(r.ip) || i.ctx.session(r.session))
    {
        groups.entry((r.ip, r.app)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((ip, app), list)| {
            let app_id = i.s(app);
            let app_name = i
                .facts
                .service_principals
                .iter()
                .find(|(_, sp)| {
                    sp["appId"]
                        .as_str()
                        .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
                })
                .and_then(|(_, sp)| sp["displayName"].as_str())
                .map_or_else(|| app_id.to_string(), |n| format!("{n} ({app_id})"));
            Draft::new(RULE.id, RULE.category, Severity::High)
                .message("ma-01")
                .arg("ip", i.s(ip))
                .arg("app", app_name)
                .arg("count", list.len().to_string())
                .subject(format!("{} {}", i.s(ip), i.s(app)))
                .seen(list.iter().map(|r| r.at()).min())
                .evidence(list.iter().take(20).map(|r| i.audit_record(r)))
                .linked(true)
        })
        .collect()
}
