//! What the report says: findings, each resting on evidence records, in the
//! closed sets of categories and severities the schema names.

use crate::i18n::Text;
use serde::Serialize;

/// What a finding is about, in the order an administrator works through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    PrivilegedRole,
    Containment,
    SignIn,
    AuthMethod,
    AppPassword,
    InboxRule,
    MailForwarding,
    AppRegistration,
    AppConsent,
    Device,
    Guest,
    MailAccess,
    MailSent,
}

impl Category {
    /// The checklist item the category belongs to.
    pub fn item(self) -> Item {
        match self {
            Category::PrivilegedRole | Category::Containment | Category::SignIn => {
                Item::ResetAndRevoke
            }
            Category::AuthMethod => Item::Methods,
            Category::AppPassword => Item::AppPasswords,
            Category::InboxRule | Category::MailForwarding => Item::Rules,
            Category::AppRegistration => Item::Apps,
            Category::AppConsent => Item::Consents,
            Category::Device => Item::Devices,
            Category::Guest => Item::Guests,
            Category::MailAccess | Category::MailSent => Item::Warnings,
        }
    }
}

/// How much a finding asks for attention (Sigma's levels,
/// <https://github.com/SigmaHQ/sigma-specification/blob/main/specification/sigma-rules-specification.md>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// One level up (linked to attacker context), at most `high` unless the
    /// rule itself says critical.
    pub fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium | Severity::High => Severity::High,
            Severity::Critical => Severity::Critical,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The checklist, in the order the administrator works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Item {
    Interview,
    ResetAndRevoke,
    Methods,
    AppPasswords,
    Rules,
    Apps,
    Consents,
    Devices,
    Guests,
    Preservation,
    HandOver,
    Warnings,
}

impl Item {
    pub const ALL: [Item; 12] = [
        Item::Interview,
        Item::ResetAndRevoke,
        Item::Methods,
        Item::AppPasswords,
        Item::Rules,
        Item::Apps,
        Item::Consents,
        Item::Devices,
        Item::Guests,
        Item::Preservation,
        Item::HandOver,
        Item::Warnings,
    ];

    /// The message id of the item's name and instructions.
    pub fn key(self) -> &'static str {
        match self {
            Item::Interview => "interview",
            Item::ResetAndRevoke => "reset-and-revoke",
            Item::Methods => "methods",
            Item::AppPasswords => "app-passwords",
            Item::Rules => "rules",
            Item::Apps => "apps",
            Item::Consents => "consents",
            Item::Devices => "devices",
            Item::Guests => "guests",
            Item::Preservation => "preservation",
            Item::HandOver => "hand-over",
            Item::Warnings => "warnings",
        }
    }
}

/// One evidence record a finding rests on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EvidenceRef {
    /// The evidence source (its file is `evidence/<source>.json`).
    pub source: String,
    /// The record's id (or, for records without one, `#<n>`: its position).
    pub id: String,
    /// For imported records: the original file, as stored in the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// And its line there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `F-001`..., in report order.
    pub id: String,
    /// The stable rule id (`IR-01`).
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub title: Text,
    pub explanation: Text,
    /// The object: a rule, a method, an app, a device, an address...
    pub subject: String,
    /// The earliest evidence time (RFC 3339 UTC), when it has one.
    pub first_seen: Option<String>,
    pub evidence: Vec<EvidenceRef>,
    pub action: Text,
    /// Linked to what the attacker is seen doing (their addresses, sessions, apps).
    pub attacker_context: bool,
}

/// A finding as a rule makes it, before the report numbers it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Message id prefix in the localisation files (`ir-01`).
    pub message: &'static str,
    /// Arguments of the messages.
    pub args: Vec<(&'static str, String)>,
    pub subject: String,
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
    pub evidence: Vec<EvidenceRef>,
    pub attacker_context: bool,
}

impl Draft {
    pub fn new(rule: &'static str, category: Category, severity: Severity) -> Self {
        Self {
            rule,
            category,
            severity,
            message: "",
            args: Vec::new(),
            subject: String::new(),
            first_seen: None,
            evidence: Vec::new(),
            attacker_context: false,
        }
    }

    pub fn message(mut self, id: &'static str) -> Self {
        self.message = id;
        self
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = s.into();
        self
    }

    pub fn seen(mut self, t: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        self.first_seen = match (self.first_seen, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }

    pub fn evidence(mut self, e: impl IntoIterator<Item = EvidenceRef>) -> Self {
        self.evidence.extend(e);
        self
    }

    /// Linked to attacker context: one level up, and said so.
    pub fn linked(mut self, linked: bool) -> Self {
        if linked && !self.attacker_context {
            self.attacker_context = true;
            self.severity = self.severity.raised();
        }
        self
    }
}
