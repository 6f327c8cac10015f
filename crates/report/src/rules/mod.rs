//! The rules: one small module each, named by its stable id in the rule
//! catalogue (`crates/report/RULES.md`). A rule reads the facts and the
//! derived context and drafts findings; it never claims certainty.

mod ac_consent;
mod am_registered;
mod ap_app_password;
mod ar_credentials;
mod ar_registered;
mod ar_signins;
mod ct_after_containment;
mod ct_password;
mod ct_revoke;
mod dv_registered;
mod gu_invited;
mod ir_created;
mod ir_forward;
mod ir_hidden;
mod ir_hide;
mod ma_access;
mod mf_forwarding;
mod pr_roles;
mod se_sent;
mod si_device_code;
mod si_legacy;
mod si_mfa_fatigue;
mod si_new_network;
mod si_refresh;
mod si_replay;
mod si_risk;
mod si_spray;
mod si_tools;

use crate::context::Context;
use crate::evidence::{Evidence, Origin};
use crate::facts::{Facts, SignIn, Target};
use crate::finding::{Category, Draft, EvidenceRef};
use m365_preserve_sources::Source;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a rule reads.
pub struct Input<'a> {
    pub facts: &'a Facts,
    pub ctx: &'a Context,
    pub target: &'a Target,
    pub evidence: &'a Evidence,
    /// Where imported records came from, per source.
    pub origins: &'a BTreeMap<Source, BTreeMap<u64, Origin>>,
    /// The collector's own app id (its registration and consent are not the attacker's).
    pub own_app: Option<&'a str>,
}

impl Input<'_> {
    /// An evidence reference to record `index` of `source` with id `id`.
    pub fn at(&self, source: Source, index: u64, id: &str) -> EvidenceRef {
        let origin = self.origins.get(&source).and_then(|o| o.get(&index));
        EvidenceRef {
            source: source.as_str().to_string(),
            id: if id.is_empty() {
                format!("#{index}")
            } else {
                id.to_string()
            },
            file: origin.map(|o| o.file.clone()),
            line: origin.map(|o| o.line),
        }
    }

    /// The reference of a record of a small source.
    pub fn record(&self, source: Source, (index, r): &(u64, Value)) -> EvidenceRef {
        self.at(source, *index, r["id"].as_str().unwrap_or(""))
    }

    /// The reference of a sign-in.
    pub fn signin(&self, s: &SignIn) -> EvidenceRef {
        self.at(s.kind.source(), s.index as u64, &self.facts.signin_id(s))
    }

    /// The reference of a unified audit log record.
    pub fn audit_record(&self, r: &crate::facts::AuditRecord) -> EvidenceRef {
        self.at(Source::PurviewAudit, r.index as u64, &r.id)
    }

    pub fn s(&self, sym: crate::facts::Sym) -> &str {
        self.facts.strings.get(sym)
    }
}

/// One rule.
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    /// The sources it reads: it cannot run without all of them.
    pub needs: &'static [Source],
    pub run: fn(&Input) -> Vec<Draft>,
}

/// The sign-in sources, which rules on sign-ins need one of.
pub const SIGNINS: &[Source] = &[Source::SigninsInteractive, Source::SigninsNonInteractive];

/// Every rule, in catalogue order.
pub fn all() -> Vec<Rule> {
    vec![
        pr_roles::RULE,
        ct_password::RULE,
        ct_revoke::RULE,
        ct_after_containment::RULE,
        si_risk::RULE,
        si_replay::RULE,
        si_refresh::RULE,
        si_mfa_fatigue::RULE,
        si_spray::RULE,
        si_legacy::RULE,
        si_tools::RULE,
        si_device_code::RULE,
        si_new_network::RULE,
        am_registered::RULE,
        ap_app_password::RULE,
        ir_forward::RULE,
        ir_hide::RULE,
        ir_created::RULE,
        ir_hidden::RULE,
        mf_forwarding::RULE,
        ar_registered::RULE,
        ar_credentials::RULE,
        ar_signins::RULE,
        ac_consent::RULE,
        dv_registered::RULE,
        gu_invited::RULE,
        ma_access::RULE,
        se_sent::RULE,
    ]
}

/// The date of a record's time field.
pub fn when(r: &Value, field: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    crate::values::time_of(r, field)
}

/// The targets of a directory audit include `id`.
pub fn targets(a: &Value, id: &str) -> bool {
    a["targetResources"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["id"].as_str() == Some(id))
}

/// The directory audit was initiated by user `id`.
pub fn by(a: &Value, id: &str) -> bool {
    a["initiatedBy"]["user"]["id"].as_str() == Some(id)
}

/// The address a directory audit was initiated from.
pub fn audit_ip(a: &Value) -> &str {
    a["initiatedBy"]["user"]["ipAddress"]
        .as_str()
        .or(a["initiatedBy"]["app"]["ipAddress"].as_str())
        .unwrap_or("")
}

/// The `Value` of a UAL parameter (`Parameters[].Name`).
pub fn parameter<'a>(data: &'a Value, name: &str) -> Option<&'a str> {
    data["Parameters"].as_array()?.iter().find(|p| {
        p["Name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })?["Value"]
        .as_str()
}
