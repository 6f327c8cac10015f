//! AP-01: app passwords cannot be read by any API, and a password reset does
//! not revoke them (<https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account>):
//! a checklist item with the page to check by hand, plus any directory-audit
//! record of one being created.

use super::{targets, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "AP-01",
    category: Category::AppPassword,
    needs: &[Source::EntraAudit],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let created: Vec<_> = audits_named(&i.facts.audits, &["Create application password for user"])
        .filter(|(_, a)| targets(a, &i.target.id))
        .collect();
    let mut out = vec![Draft::new(RULE.id, RULE.category, Severity::Info)
        .message("ap-01-check")
        .arg("user", &i.target.upn)
        .subject(&i.target.upn)
        .evidence([i.at(Source::User, 0, &i.target.id)])];
    for a in created {
        let t = super::when(&a.1, "activityDateTime");
        out.push(
            Draft::new(
                RULE.id,
                RULE.category,
                if i.ctx.in_window(t) {
                    Severity::Medium
                } else {
                    Severity::Low
                },
            )
            .message("ap-01")
            .subject(&i.target.upn)
            .seen(t)
            .evidence([i.record(Source::EntraAudit, a)])
            .linked(i.ctx.address(i.facts, super::audit_ip(&a.1))),
        );
    }
    out
}
