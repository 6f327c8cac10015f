//! CT-03: an attacker address still signed in successfully after sessions
//! were revoked (allowing a few minutes for revocation to take effect): the
//! containment may have failed (<https://learn.microsoft.com/entra/identity/users/users-revoke-access>).

use super::{Input, Rule, SIGNINS};
use crate::finding::{Category, Draft, Severity};
use chrono::Duration;

pub const RULE: Rule = Rule {
    id: "CT-03",
    category: Category::Containment,
    needs: SIGNINS,
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let Some(revoked) = super::ct_revoke::revoked(i) else {
        return Vec::new();
    };
    // Only a revocation after the attacker appeared is a containment to test.
    if i.ctx.first.is_none_or(|first| revoked < first) {
        return Vec::new();
    }
    let after: Vec<_> = i
        .facts
        .signins
        .iter()
        .filter(|s| s.ok() && i.ctx.signin(s) && s.at() > revoked + Duration::minutes(10))
        .collect();
    if after.is_empty() {
        return Vec::new();
    }
    let mut ips: Vec<&str> = after.iter().map(|s| i.s(s.ip)).collect();
    ips.sort();
    ips.dedup();
    let first = after.iter().map(|s| s.at()).min();
    vec![Draft::new(RULE.id, RULE.category, Severity::Critical)
        .message("ct-03")
        .arg("count", after.len().to_string())
        .arg("ips", ips.join(", "))
        .arg(
            "revoked",
            m365_preserve_package::timefmt::format_utc(revoked),
        )
        .subject(ips.join(", "))
        .seen(first)
        .evidence(after.iter().take(20).map(|s| i.signin(s)))
        .linked(true)]
}
