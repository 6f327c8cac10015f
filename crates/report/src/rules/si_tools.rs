//! SI-09: sign-ins by attack tools and scripts (python-requests, AADInternals,
//! AzureHound, ROADtools...), from Microsoft-Analyzer-Suite's user-agent list
//! (<https://github.com/evild3ad/Microsoft-Analyzer-Suite>) and Sigma's rules.

use super::{Input, Rule, SIGNINS};
use crate::context::TOOL_AGENTS;
use crate::finding::{Category, Draft, Severity};
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "SI-09",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut by_tool: BTreeMap<&str, Vec<&crate::facts::SignIn>> = BTreeMap::new();
    for s in &i.facts.signins {
        let ua = i.s(s.user_agent).to_ascii_lowercase();
        if let Some(tool) = TOOL_AGENTS.iter().find(|t| ua.contains(*t)) {
            by_tool.entry(tool).or_default().push(s);
        }
    }
    by_tool
        .into_iter()
        .map(|(tool, list)| {
            let ok = list.iter().any(|s| s.ok());
            let linked = list.iter().any(|s| i.ctx.signin(s));
            let sev = if !ok {
                Severity::Low
            } else if linked {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut ips: Vec<&str> = list.iter().map(|s| i.s(s.ip)).collect();
            ips.sort();
            ips.dedup();
            Draft::new(RULE.id, RULE.category, sev)
                .message("si-09")
                .arg("agent", i.s(list[0].user_agent))
                .arg("ips", ips.join(", "))
                .arg("count", list.len().to_string())
                .subject(tool.to_string())
                .seen(list.iter().map(|s| s.at()).min())
                .evidence(list.iter().take(20).map(|s| i.signin(s)))
        })
        .collect()
}
