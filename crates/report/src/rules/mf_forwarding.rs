//! MF-01: mailbox-level forwarding (Set-Mailbox ForwardingSmtpAddress /
//! ForwardingAddress) in the unified audit log or an imported Get-Mailbox
//! (<https://learn.microsoft.com/powershell/module/exchange/set-mailbox>).

use super::{parameter, Input, Rule};
use crate::finding::{Category, Draft, Severity};
use crate::values::fold;
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "MF-01",
    category: Category::MailForwarding,
    needs: &[],
    run,
};

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for r in i
        .facts
        .purview
        .iter()
        .filter(|r| fold(i.s(r.operation)) == "set-mailbox")
    {
        let Some(d) = r.data.as_deref() else { continue };
        for field in ["ForwardingSmtpAddress", "ForwardingAddress"] {
            let Some(to) = parameter(d, field).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let to = to.trim_start_matches("smtp:").trim_start_matches("SMTP:");
            let external = field == "ForwardingSmtpAddress" && i.target.external(to);
            out.push(
                Draft::new(
                    "MF-01",
                    Category::MailForwarding,
                    if external {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                )
                .message("mf-01")
                .arg("to", to)
                .arg("field", field)
                .subject(to)
                .seen(Some(r.at()))
                .evidence([i.audit_record(r)])
                .linked(i.ctx.ip(r.ip) || i.ctx.session(r.session)),
            );
        }
    }
    for rec in &i.facts.settings {
        let m = &rec.1;
        let to = m["ForwardingSmtpAddress"]
            .as_str()
            .or(m["unmappedFields"]["ForwardingSmtpAddress"].as_str())
            .or(m["ForwardingAddress"].as_str())
            .unwrap_or("");
        let to = to.trim_start_matches("smtp:").trim_start_matches("SMTP:");
        if to.is_empty() {
            continue;
        }
        out.push(
            Draft::new(
                "MF-01",
                Category::MailForwarding,
                if i.target.external(to) {
                    Severity::High
                } else {
                    Severity::Medium
                },
            )
            .message("mf-01-mailbox")
            .arg("to", to)
            .subject(to)
            .evidence([i.record(Source::MailboxSettings, rec)]),
        );
    }
    out
}
