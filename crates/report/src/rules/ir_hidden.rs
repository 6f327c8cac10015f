//! IR-07: hidden inbox rules and mailbox forwarding are invisible to Graph;
//! only Exchange's `Get-InboxRule -IncludeHidden` and `Get-Mailbox` show them
//! (<https://learn.microsoft.com/powershell/module/exchange/get-inboxrule>).
//! Rules an imported export marks hidden are named; without such an export the
//! report says it could not check.

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "IR-07",
    category: Category::InboxRule,
    needs: &[],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let imported = i
        .facts
        .rules
        .iter()
        .filter(|(_, r)| r.get("unmappedFields").is_some() || r.get("Identity").is_some())
        .count();
    let mut out: Vec<Draft> = i
        .facts
        .rules
        .iter()
        .filter(|(_, r)| {
            let hidden = &r["unmappedFields"]["IsHidden"];
            hidden.as_bool() == Some(true)
                || hidden
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        })
        .map(|rec| {
            let name = rec.1["displayName"].as_str().unwrap_or("");
            Draft::new(RULE.id, RULE.category, Severity::High)
                .message("ir-07-hidden")
                .arg("name", name)
                .subject(name)
                .evidence([i.record(Source::MailboxRules, rec)])
        })
        .collect();
    if imported == 0 {
        out.push(
            Draft::new(RULE.id, RULE.category, Severity::Info)
                .message("ir-07")
                .subject(&i.target.upn)
                .evidence([i.at(Source::User, 0, &i.target.id)]),
        );
    }
    out
}
