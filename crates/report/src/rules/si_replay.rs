//! SI-04: one session, two networks: a later sign-in of the same session from
//! another network and country is how a stolen session cookie looks
//! (<https://www.microsoft.com/en-us/security/blog/2022/07/12/from-cookie-theft-to-bec-attackers-use-aitm-phishing-sites-as-entry-point-to-further-financial-fraud/>).

use super::{Input, Rule, SIGNINS};
use crate::context::replayed_sessions;
use crate::facts::flag;
use crate::finding::{Category, Draft, Severity};

pub const RULE: Rule = Rule {
    id: "SI-04",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    replayed_sessions(i.facts)
        .into_iter()
        .map(|(first, replay)| {
            let claim = replay.has(flag::CLAIM_IN_TOKEN);
            Draft::new(RULE.id, RULE.category, Severity::High)
                .message(if claim { "si-04-claim" } else { "si-04" })
                .arg("first_ip", i.s(first.ip))
                .arg("first_country", i.s(first.country))
                .arg("ip", i.s(replay.ip))
                .arg("country", i.s(replay.country))
                .arg("asn", replay.asn.to_string())
                .subject(i.s(replay.ip))
                .seen(Some(replay.at()))
                .evidence([i.signin(first), i.signin(replay)])
                .linked(true)
        })
        .collect()
}
