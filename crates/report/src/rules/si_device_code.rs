//! SI-10: device-code sign-ins, the flow device-code phishing abuses
//! (<https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/azure/signin_logs/azure_app_device_code_authentication.yml>).
//! The collector's own `--device-code` sign-in is not the user's.

use super::{Input, Rule, SIGNINS};
use crate::facts::flag;
use crate::finding::{Category, Draft, Severity};

pub const RULE: Rule = Rule {
    id: "SI-10",
    category: Category::SignIn,
    needs: SIGNINS,
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let list: Vec<_> = i
        .facts
        .signins
        .iter()
        .filter(|s| s.has(flag::DEVICE_CODE) && s.ok())
        .collect();
    if list.is_empty() {
        return Vec::new();
    }
    let linked = list.iter().any(|s| i.ctx.signin(s));
    let outside = list.iter().any(|s| !i.ctx.baseline_ips.contains(&s.ip));
    let sev = if outside {
        Severity::Medium
    } else {
        Severity::Low
    };
    vec![Draft::new(RULE.id, RULE.category, sev)
        .message("si-10")
        .arg("count", list.len().to_string())
        .subject(i.s(list[0].ip))
        .seen(list.iter().map(|s| s.at()).min())
        .evidence(list.iter().take(20).map(|s| i.signin(s)))
        .linked(linked)]
}
