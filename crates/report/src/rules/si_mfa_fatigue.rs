//! SI-06: MFA fatigue: repeated denied or unanswered prompts, then success;
//! and prompts the user reported as fraud
//! (<https://github.com/Azure/Azure-Sentinel/blob/master/Solutions/Microsoft%20Entra%20ID/Analytic%20Rules/MFASpammingfollowedbySuccessfullogin.yaml>).

use super::{Input, Rule, SIGNINS};
use crate::facts::flag;
use crate::finding::{Category, Draft, Severity};
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "SI-06",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

/// Denials from one address before a success that make a push-bombing burst.
const BURST: usize = 5;

fn run(i: &Input) -> Vec<Draft> {
    let mut by_ip: BTreeMap<u32, Vec<&crate::facts::SignIn>> = BTreeMap::new();
    for s in i.facts.signins.iter() {
        if s.has(flag::MFA_DENIED) || s.error == 50074 || s.error == 500121 || s.ok() {
            by_ip.entry(s.ip).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    for (_, mut list) in by_ip {
        list.sort_by_key(|s| (s.time, s.index));
        let denied: Vec<_> = list
            .iter()
            .filter(|s| s.has(flag::MFA_DENIED) || s.error == 500121)
            .collect();
        if denied.is_empty() {
            continue;
        }
        let fraud = list.iter().any(|s| s.has(flag::FRAUD_REPORTED));
        let success = list.iter().find(|s| s.ok() && s.time >= denied[0].time);
        let sev = if fraud || (denied.len() >= BURST && success.is_some()) {
            Severity::High
        } else if denied.len() >= 2 {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut evidence: Vec<_> = denied.iter().take(20).map(|s| i.signin(s)).collect();
        evidence.extend(success.map(|s| i.signin(s)));
        out.push(
            Draft::new(RULE.id, RULE.category, sev)
                .message(if success.is_some() {
                    "si-06-success"
                } else {
                    "si-06"
                })
                .arg("count", denied.len().to_string())
                .arg("ip", i.s(denied[0].ip))
                .subject(i.s(denied[0].ip))
                .seen(Some(denied[0].at()))
                .evidence(evidence)
                .linked(i.ctx.ip(denied[0].ip)),
        );
    }
    out
}
