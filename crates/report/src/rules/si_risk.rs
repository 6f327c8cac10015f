//! SI-01/SI-02: what Identity Protection concluded: its risk detections for the
//! user (AiTM and token anomalies are its precise ones) and the user's risk
//! state (<https://learn.microsoft.com/entra/id-protection/concept-identity-protection-risks>).
//! Quoted as Microsoft's verdict, not the report's.

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "SI-01",
    category: Category::SignIn,
    needs: &[Source::RiskDetections],
    run,
};

fn severity(kind: &str, level: &str) -> Severity {
    match kind {
        "attackerinTheMiddle" | "tokenIssuerAnomaly" | "adminConfirmedUserCompromised" => {
            Severity::High
        }
        "anomalousToken" if level == "high" => Severity::High,
        _ => match level {
            "high" => Severity::High,
            "low" => Severity::Low,
            _ => Severity::Medium,
        },
    }
}

fn run(i: &Input) -> Vec<Draft> {
    let mut by_kind: BTreeMap<String, Vec<&(u64, serde_json::Value)>> = BTreeMap::new();
    for d in &i.facts.detections {
        let kind = d.1["riskEventType"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        by_kind.entry(kind).or_default().push(d);
    }
    let mut out = Vec::new();
    for (kind, list) in by_kind {
        let worst = list
            .iter()
            .map(|d| severity(&kind, d.1["riskLevel"].as_str().unwrap_or("")))
            .max()
            .unwrap_or(Severity::Medium);
        let mut ips: Vec<&str> = list
            .iter()
            .filter_map(|d| d.1["ipAddress"].as_str())
            .collect();
        ips.sort();
        ips.dedup();
        let linked = ips.iter().any(|ip| i.ctx.address(i.facts, ip));
        let first = list
            .iter()
            .filter_map(|d| super::when(&d.1, "activityDateTime"))
            .min();
        out.push(
            Draft::new(RULE.id, RULE.category, worst)
                .message("si-01")
                .arg("kind", &kind)
                .arg("count", list.len().to_string())
                .arg("ips", ips.join(", "))
                .subject(kind.clone())
                .seen(first)
                .evidence(list.iter().map(|d| i.record(Source::RiskDetections, d)))
                .linked(linked),
        );
    }
    for u in &i.facts.risky_users {
        let state = u.1["riskState"].as_str().unwrap_or("");
        let level = u.1["riskLevel"].as_str().unwrap_or("");
        let sev = match (state, level) {
            ("confirmedCompromised", _) => Severity::High,
            ("atRisk", "high") => Severity::High,
            ("atRisk", "medium") => Severity::Medium,
            ("atRisk", _) => Severity::Low,
            _ => continue,
        };
        out.push(
            Draft::new("SI-02", RULE.category, sev)
                .message("si-02")
                .arg("state", state)
                .arg("level", level)
                .subject(&i.target.upn)
                .seen(super::when(&u.1, "riskLastUpdatedDateTime"))
                .evidence([i.record(Source::RiskyUsers, u)]),
        );
    }
    out
}
