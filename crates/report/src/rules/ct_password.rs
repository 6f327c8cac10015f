//! CT-01: the password was not changed after the compromise began
//! (<https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account>, step 1).

use super::{by, targets, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "CT-01",
    category: Category::Containment,
    needs: &[Source::User],
    run,
};

/// Directory-audit activities that change a password.
pub const PASSWORD_CHANGES: &[&str] = &[
    "Reset password (by admin)",
    "Reset password (self-service)",
    "Change password (self-service)",
    "Reset password",
    "Reset user password",
    "Change user password",
];

fn run(i: &Input) -> Vec<Draft> {
    let Some(first) = i.ctx.first else {
        return Vec::new();
    };
    let Some(user) = &i.facts.user else {
        return Vec::new();
    };
    let id = &i.target.id;
    let changed_audit = audits_named(&i.facts.audits, PASSWORD_CHANGES)
        .filter(|(_, a)| targets(a, id) || by(a, id))
        .filter(|(_, a)| a["result"].as_str() == Some("success"))
        .filter_map(|(_, a)| super::when(a, "activityDateTime"))
        .max();
    let changed = super::when(user, "lastPasswordChangeDateTime").max(changed_audit);
    if changed.is_some_and(|t| t >= first) {
        return Vec::new();
    }
    let synced = user["onPremisesSyncEnabled"].as_bool() == Some(true);
    vec![Draft::new(RULE.id, RULE.category, Severity::High)
        .message(if synced { "ct-01-synced" } else { "ct-01" })
        .arg(
            "changed",
            changed.map_or_else(|| "-".into(), m365_preserve_package::timefmt::format_utc),
        )
        .arg("first", m365_preserve_package::timefmt::format_utc(first))
        .subject(&i.target.upn)
        .seen(Some(first))
        .evidence([i.at(Source::User, 0, id)])]
}
