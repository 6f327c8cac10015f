//! SI-05: refresh tokens (or a device's primary refresh token) redeemed from a
//! network the user never signed in from interactively: token replay deserves
//! "increased scrutiny" on non-interactive sign-ins
//! (<https://learn.microsoft.com/entra/id-protection/concept-identity-protection-risks>).

use super::{Input, Rule};
use crate::facts::{flag, Kind};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;
use std::collections::{BTreeMap, HashSet};

pub const RULE: Rule = Rule {
    id: "SI-05",
    category: Category::SignIn,
    needs: &[Source::SigninsInteractive, Source::SigninsNonInteractive],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let interactive: HashSet<u32> = i
        .facts
        .signins
        .iter()
        .filter(|s| s.kind == Kind::Interactive && s.ok() && s.asn != 0)
        .map(|s| s.asn)
        .collect();
    let mut by_asn: BTreeMap<u32, Vec<&crate::facts::SignIn>> = BTreeMap::new();
    for s in i.facts.signins.iter().filter(|s| {
        s.kind == Kind::NonInteractive
            && s.ok()
            && s.has(flag::REFRESH)
            && s.asn != 0
            && !interactive.contains(&s.asn)
            && !i.ctx.baseline_asns.contains(&s.asn)
    }) {
        by_asn.entry(s.asn).or_default().push(s);
    }
    by_asn
        .into_iter()
        .map(|(asn, list)| {
            let linked = list.iter().any(|s| i.ctx.signin(s));
            let mut ips: Vec<&str> = list.iter().map(|s| i.s(s.ip)).collect();
            ips.sort();
            ips.dedup();
            // A user's phone on a mobile network often only refreshes tokens:
            // unlinked, this stays low.
            Draft::new(RULE.id, RULE.category, Severity::Low)
                .message("si-05")
                .arg("asn", asn.to_string())
                .arg("ips", ips.join(", "))
                .arg("count", list.len().to_string())
                .subject(format!("AS{asn}"))
                .seen(list.iter().map(|s| s.at()).min())
                .evidence(list.iter().take(20).map(|s| i.signin(s)))
                .linked(linked)
        })
        .collect()
}
