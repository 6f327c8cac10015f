//! CT-02: sign-in sessions were not revoked after the attacker's last sign-in;
//! a password change alone does not end a stolen session
//! (<https://learn.microsoft.com/graph/api/user-revokesigninsessions>,
//! <https://learn.microsoft.com/entra/identity/users/users-revoke-access>).

use super::{targets, Input, Rule};
use crate::context::audits_named;
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "CT-02",
    category: Category::Containment,
    needs: &[Source::User],
    run,
};

/// Directory-audit activities that revoke refresh tokens.
pub const REVOCATIONS: &[&str] = &["Update StsRefreshTokenValidFrom Timestamp"];

/// When sessions were last revoked.
pub fn revoked(i: &Input) -> Option<chrono::DateTime<chrono::Utc>> {
    let user = i.facts.user.as_ref()?;
    let audit = audits_named(&i.facts.audits, REVOCATIONS)
        .filter(|(_, a)| targets(a, &i.target.id))
        .filter_map(|(_, a)| super::when(a, "activityDateTime"))
        .max();
    super::when(user, "signInSessionsValidFromDateTime").max(audit)
}

fn run(i: &Input) -> Vec<Draft> {
    let Some(last) = i.ctx.last_signin else {
        return Vec::new();
    };
    let revoked = revoked(i);
    if revoked.is_some_and(|t| t >= last) {
        return Vec::new();
    }
    vec![Draft::new(RULE.id, RULE.category, Severity::High)
        .message("ct-02")
        .arg(
            "revoked",
            revoked.map_or_else(|| "-".into(), m365_preserve_package::timefmt::format_utc),
        )
        .arg("last", m365_preserve_package::timefmt::format_utc(last))
        .subject(&i.target.upn)
        .seen(i.ctx.first)
        .evidence([i.at(Source::User, 0, &i.target.id)])]
}
