//! AC-01/AC-03: apps the user consented to with risky scopes (reading or
//! sending mail, files, mailbox settings, offline access), especially
//! multi-tenant or unverified-publisher apps
//! (<https://learn.microsoft.com/security/operations/incident-response-playbook-app-consent>).
//! A user password reset does not remove a consent
//! (<https://learn.microsoft.com/defender-office-365/detect-and-remediate-illicit-consent-grants>).

use super::{Input, Rule};
use crate::finding::{Category, Draft, Severity};
use m365_preserve_sources::Source;

pub const RULE: Rule = Rule {
    id: "AC-01",
    category: Category::AppConsent,
    needs: &[Source::Oauth2Grants],
    run,
};

/// Scopes that give an app the mailbox, files or the account.
const RISKY: &[&str] = &[
    "mail.read",
    "mail.readwrite",
    "mail.send",
    "mail.read.shared",
    "mail.readwrite.shared",
    "mail.send.shared",
    "mailboxsettings.read",
    "mailboxsettings.readwrite",
    "files.read.all",
    "files.readwrite.all",
    "files.readwrite",
    "sites.read.all",
    "sites.readwrite.all",
    "contacts.read",
    "contacts.readwrite",
    "directory.accessasuser.all",
    "ews.accessasuser.all",
    "imap.accessasuser.all",
    "user_impersonation",
];

/// Microsoft's own tenant: apps it publishes.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

fn run(i: &Input) -> Vec<Draft> {
    let mut out = Vec::new();
    for rec in &i.facts.grants {
        let g = &rec.1;
        if g["consentType"].as_str() == Some("Principal")
            && g["principalId"].as_str() != Some(i.target.id.as_str())
        {
            continue;
        }
        let scopes: Vec<String> = g["scope"]
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect();
        let risky: Vec<&String> = scopes
            .iter()
            .filter(|s| RISKY.contains(&s.to_ascii_lowercase().as_str()))
            .collect();
        let offline = scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("offline_access"));
        let client = i
            .facts
            .service_principals
            .iter()
            .find(|(_, sp)| sp["id"] == g["clientId"]);
        let sp = client.map(|c| &c.1);
        let owner = sp
            .and_then(|s| s["appOwnerOrganizationId"].as_str())
            .unwrap_or("");
        if owner == MICROSOFT_TENANT || risky.is_empty() {
            continue;
        }
        let unverified = sp.is_some_and(|s| {
            s["verifiedPublisher"]["verifiedPublisherId"]
                .as_str()
                .is_none_or(str::is_empty)
        });
        let own_app = super::ar_registered::users_apps(i)
            .iter()
            .any(|(_, a)| Some(a["appId"].as_str()) == sp.map(|s| s["appId"].as_str()));
        let multi = sp.is_some_and(|s| s["signInAudience"].as_str() == Some("AzureADMultipleOrgs"));
        let name = sp.and_then(|s| s["displayName"].as_str()).unwrap_or("?");
        let sev = if offline || unverified || own_app || multi {
            Severity::High
        } else {
            Severity::Medium
        };
        let consent: Vec<_> = crate::context::audits_named(
            &i.facts.audits,
            &["Consent to application", "Add delegated permission grant"],
        )
        .filter(|(_, a)| sp.is_some_and(|s| super::targets(a, s["id"].as_str().unwrap_or(""))))
        .collect();
        let first = consent
            .iter()
            .filter_map(|(_, a)| super::when(a, "activityDateTime"))
            .min();
        let linked = consent
            .iter()
            .any(|(_, a)| i.ctx.address(i.facts, super::audit_ip(a)))
            || i.ctx.near_attacker_signin(i.facts, first);
        let mut traits = Vec::new();
        if unverified {
            traits.push("unverified publisher");
        }
        if multi {
            traits.push("multi-tenant");
        }
        if own_app {
            traits.push("registered by the user");
        }
        let mut d = Draft::new(RULE.id, RULE.category, sev)
            .message("ac-01")
            .arg("name", name)
            .arg("scopes", scopes.join(" "))
            .arg("traits", traits.join(", "))
            .subject(format!("{name}: {}", scopes.join(" ")))
            .seen(first)
            .evidence([i.record(Source::Oauth2Grants, rec)])
            .evidence(consent.iter().map(|a| i.record(Source::EntraAudit, a)));
        if let Some(c) = client {
            d = d.evidence([i.record(Source::ServicePrincipals, c)]);
        }
        out.push(d.linked(linked));
    }
    out
}
