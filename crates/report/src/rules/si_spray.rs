//! SI-07: wrong passwords from one address (50126; 50053 locked), and what the
//! address got afterwards: a success is an account compromise, an MFA prompt a
//! password compromise (<https://learn.microsoft.com/security/operations/incident-response-playbook-password-spray>).

use super::{Input, Rule, SIGNINS};
use crate::context::sprays;
use crate::finding::{Category, Draft, Severity};

pub const RULE: Rule = Rule {
    id: "SI-07",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    sprays(i.facts)
        .into_iter()
        .filter(|s| !i.ctx.baseline_ips.contains(&s.ip))
        .map(|s| {
            let (sev, message) = match (s.success, s.mfa_blocked, s.lockouts) {
                (Some(_), _, _) => (Severity::High, "si-07-success"),
                (None, Some(_), _) => (Severity::Medium, "si-07-password"),
                (None, None, n) if n > 0 => (Severity::Medium, "si-07-locked"),
                _ => (Severity::Low, "si-07"),
            };
            let mut evidence: Vec<_> = s.failures.iter().take(20).map(|x| i.signin(x)).collect();
            evidence.extend(s.success.or(s.mfa_blocked).map(|x| i.signin(x)));
            Draft::new(RULE.id, RULE.category, sev)
                .message(message)
                .arg("ip", i.s(s.ip))
                .arg("count", s.failures.len().to_string())
                .subject(i.s(s.ip))
                .seen(Some(s.failures[0].at()))
                .evidence(evidence)
                .linked(i.ctx.ip(s.ip))
        })
        .collect()
}
