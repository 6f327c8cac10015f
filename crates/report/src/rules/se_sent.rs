//! SE-01: mail sent from attacker context: the people who received it must be
//! warned (payment-change fraud), and the subject and message id say what to
//! look for (<https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account>, step 7).
//! Recipients come from the kept `.eml` of the message when there is one.

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use crate::values::fold;
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "SE-01",
    category: Category::MailSent,
    needs: &[Source::PurviewAudit],
    run,
};

/// `To:` and `Cc:` addresses of a kept message with this Internet message id.
fn recipients(i: &Input, message_id: &str) -> Vec<String> {
    let dir = i
        .evidence
        .root()
        .join(m365_preserve_package::layout::MESSAGES_DIR);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let header = |name: &'static str| -> Vec<String> {
            unfolded
                .lines()
                .filter(|l| {
                    l.len() > name.len()
                        && l.is_char_boundary(name.len())
                        && l[..name.len()].eq_ignore_ascii_case(name)
                })
                .map(|l| l[name.len()..].trim().to_string())
                .collect()
        };
        if !header("Message-ID:")
            .iter()
            .any(|v| v.trim() == message_id.trim())
        {
            continue;
        }
        let mut out: Vec<String> = header("To:")
            .into_iter()
            .chain(header("Cc:"))
            .flat_map(|v| {
                v.split(',')
                    .filter_map(|a| {
                        let a = a.trim();
                        let addr = a
                            .rsplit_once('<')
                            .map_or(a, |(_, r)| r.trim_end_matches('>'));
                        addr.contains('@').then(|| addr.trim().to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out.dedup();
        return out;
    }
    Vec::new()
}

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for r in i.facts.purview.iter().filter(|r| {
        matches!(
            fold(i.s(r.operation)).as_str(),
            "send" | "sendas" | "sendonbehalf"
        ) && (i.ctx.ip(r.ip) || i.ctx.session(r.session))
    }) {
        let item = r.data.as_deref().map(|d| &d["Item"]);
        let subject = item.and_then(|x| x["Subject"].as_str()).unwrap_or("");
        let message_id = item
            .and_then(|x| x["InternetMessageId"].as_str())
            .unwrap_or("");
        let to = recipients(i, message_id);
        out.push(
            Draft::new(RULE.id, RULE.category, Severity::High)
                .message(if to.is_empty() { "se-01" } else { "se-01-to" })
                .arg("subject", subject)
                .arg("message_id", message_id)
                .arg("to", to.join(", "))
                .arg("ip", i.s(r.ip))
                .subject(if to.is_empty() {
                    subject.to_string()
                } else {
                    to.join(", ")
                })
                .seen(Some(r.at()))
                .evidence([i.audit_record(r)])
                .linked(true),
        );
    }
    out
}
