//! SI-11: successful sign-ins from a country or network the user had not used
//! earlier in the window: compared with the user's own history, not with
//! everyone's. One-off travel stays low unless attacker context links it.

use super::{Input, Rule, SIGNINS};
use crate::finding::{Category, Draft, Severity};
use std::collections::{BTreeMap, HashSet};

pub const RULE: Rule = Rule {
    id: "SI-11",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

/// The first part of the window that establishes the user's history.
const HISTORY: chrono::Duration = chrono::Duration::days(2);

fn run(i: &Input) -> Vec<Draft> {
    let mut user: Vec<_> = i
        .facts
        .signins
        .iter()
        .filter(|s| {
            s.ok()
                && matches!(
                    s.kind,
                    crate::facts::Kind::Interactive | crate::facts::Kind::NonInteractive
                )
                && s.asn != 0
        })
        .collect();
    user.sort_by_key(|s| (s.time, s.kind, s.index));
    let Some(start) = user.first().map(|s| s.at()) else {
        return Vec::new();
    };
    let mut known: HashSet<(u32, u32)> = HashSet::new();
    let mut new: BTreeMap<(u32, u32), Vec<&crate::facts::SignIn>> = BTreeMap::new();
    for s in user {
        let key = (s.country, s.asn);
        if s.at() < start + HISTORY || i.ctx.baseline_asns.contains(&s.asn) {
            known.insert(key);
            continue;
        }
        if !known.contains(&key) {
            new.entry(key).or_default().push(s);
        }
    }
    new.into_iter()
        .map(|((country, asn), list)| {
            let linked = list.iter().any(|s| i.ctx.signin(s));
            let mut ips: Vec<&str> = list.iter().map(|s| i.s(s.ip)).collect();
            ips.sort();
            ips.dedup();
            let mut agents: Vec<&str> = list.iter().map(|s| i.s(s.user_agent)).collect();
            agents.sort();
            agents.dedup();
            Draft::new(RULE.id, RULE.category, Severity::Low)
                .message("si-11")
                .arg("country", i.s(country))
                .arg("asn", asn.to_string())
                .arg("ips", ips.join(", "))
                .arg("count", list.len().to_string())
                .subject(format!("{} AS{asn}", i.s(country)))
                .seen(list.first().map(|s| s.at()))
                .evidence(list.iter().take(20).map(|s| i.signin(s)))
                .linked(linked)
        })
        .collect()
}
