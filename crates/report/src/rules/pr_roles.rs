//! PR-01: the compromised user holds (or can activate) a directory role: a
//! compromised administrator can change the whole tenant, so this comes first
//! (<https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account>, step 6).

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "PR-01",
    category: Category::PrivilegedRole,
    needs: &[Source::UserRoles],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut names: Vec<String> = Vec::new();
    let mut evidence = Vec::new();
    for rec in &i.facts.roles {
        let r = &rec.1;
        let name = r["roleDefinition"]["displayName"]
            .as_str()
            .map(String::from)
            .or_else(|| resolved_name(i, r["roleDefinitionId"].as_str().unwrap_or("")))
            .unwrap_or_else(|| r["roleDefinitionId"].as_str().unwrap_or("?").to_string());
        let eligible = r.get("memberType").is_some() || r.get("startDateTime").is_some();
        names.push(if eligible {
            format!("{name} (PIM)")
        } else {
            name
        });
        evidence.push(i.record(Source::UserRoles, rec));
    }
    if names.is_empty() {
        return Vec::new();
    }
    names.sort();
    names.dedup();
    vec![Draft::new(RULE.id, RULE.category, Severity::High)
        .message("pr-01")
        .arg("roles", names.join(", "))
        .arg("user", &i.target.upn)
        .subject(names.join(", "))
        .evidence(evidence)]
}

/// A role's name, looked up by the collector.
fn resolved_name(i: &Input, id: &str) -> Option<String> {
    let s = i.evidence.summary(Source::UserRoles)?;
    s.details
        .get("resolved")?
        .as_array()?
        .iter()
        .find(|f| f["roleDefinitionId"].as_str() == Some(id))?["displayName"]
        .as_str()
        .map(String::from)
}
