//! The closed set of evidence sources, each with its one file name
//! (`evidence/<name>.json` / `.csv`), the name every part of the tool and the
//! manifest use.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! sources {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One evidence source.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Source {
            $($(#[$doc])* $variant,)*
        }

        impl Source {
            /// Every source, in the order the console and the manifest list them.
            pub const ALL: &'static [Source] = &[$(Source::$variant,)*];

            /// The source's name: its evidence file names and its manifest entry.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Source::$variant => $name,)*
                }
            }
        }
    };
}

sources! {
    /// Interactive user sign-ins.
    SigninsInteractive = "entra-signins-interactive",
    /// Non-interactive user sign-ins (refresh and access tokens used by clients).
    SigninsNonInteractive = "entra-signins-noninteractive",
    /// Service principal sign-ins.
    SigninsServicePrincipal = "entra-signins-serviceprincipal",
    /// Managed identity sign-ins.
    SigninsManagedIdentity = "entra-signins-managedidentity",
    /// Directory audit, by and on the targets.
    EntraAudit = "entra-audit",
    /// Purview unified audit log.
    PurviewAudit = "purview-audit",
    /// Inbox rules.
    MailboxRules = "mailbox-rules",
    /// Mailbox settings (auto-replies, time zone, language).
    MailboxSettings = "mailbox-settings",
    /// Authentication methods and per-user MFA state.
    AuthMethods = "auth-methods",
    /// MFA registration details.
    AuthRegistration = "auth-registration",
    /// The user object.
    User = "user",
    /// Group and role memberships.
    UserMemberships = "user-memberships",
    /// Directory role assignments and PIM eligibility.
    UserRoles = "user-roles",
    /// Objects the user owns.
    UserOwnedObjects = "user-owned-objects",
    /// Registered and owned devices.
    Devices = "devices",
    /// App registrations.
    Applications = "applications",
    /// Enterprise apps.
    ServicePrincipals = "service-principals",
    /// Delegated consent grants.
    Oauth2Grants = "oauth2-grants",
    /// App role assignments of the user.
    AppRoleAssignments = "app-role-assignments",
    /// Guest users.
    Guests = "guests",
    /// Identity Protection risky users.
    RiskyUsers = "risky-users",
    /// Identity Protection risk detections.
    RiskDetections = "risk-detections",
    // What an IR firm asks for beyond the first 22 (issue 13), kept together.
    /// Message trace: mail sent by and to the targets, and every recipient in
    /// the tenant of the phishing messages and senders.
    MessageTrace = "message-trace",
    /// Conditional Access policies, named locations, authentication strengths.
    ConditionalAccess = "conditional-access",
    /// Soft-deleted applications, service principals, users and groups.
    DeletedObjects = "deleted-objects",
    /// Identity Protection risky service principals.
    RiskyServicePrincipals = "risky-service-principals",
    /// Identity Protection risk detections of service principals.
    ServicePrincipalRiskDetections = "service-principal-risk-detections",
    /// Defender XDR alerts that involve a target.
    SecurityAlerts = "security-alerts",
    /// Defender XDR incidents that involve a target.
    SecurityIncidents = "security-incidents",
    /// Metadata (no bodies) of the targets' sent mail.
    MailSent = "mail-sent",
    /// Metadata (no bodies) of the targets' deleted and recoverable mail.
    MailDeleted = "mail-deleted",
    /// The tenant's subscriptions and each target's licences.
    Licences = "licences",
    /// Messages kept as `.eml` (`--message-id`): asked for by id, not collected by default.
    Messages = "messages",
    /// Exchange Online inbox rules, hidden ones included and marked (`--exchange`).
    ExchangeInboxRules = "exchange-inbox-rules",
    /// Exchange Online mailbox properties: forwarding and audit settings (`--exchange`).
    ExchangeMailbox = "exchange-mailbox",
    /// Mailbox permissions and Send As grants (`--exchange`).
    ExchangePermissions = "exchange-permissions",
    /// The organisation's transport (mail flow) rules (`--exchange`).
    ExchangeTransportRules = "exchange-transport-rules",
    /// Whether the unified audit log ingests, and who bypasses mailbox auditing (`--exchange`).
    ExchangeAuditConfig = "exchange-audit-config",
    /// Microsoft Graph activity logs (every Graph request of the tenant's apps
    /// and users): only in Log Analytics and diagnostic-settings exports.
    GraphActivity = "graph-activity",
    /// Entra provisioning logs (users and groups provisioned to or from apps), from exports.
    Provisioning = "entra-provisioning",
}

impl Source {
    /// The sources a collection gathers when `--sources` is not given (the
    /// Exchange Online sources only with `--exchange`).
    pub fn collected() -> impl Iterator<Item = Source> {
        Source::ALL
            .iter()
            .copied()
            .filter(|s| *s != Source::Messages && !s.is_exchange() && !s.imported_only())
    }

    /// The sources read from Exchange Online itself rather than Graph
    /// (`--exchange`: another token audience, another credential setup).
    pub fn exchange() -> impl Iterator<Item = Source> {
        Source::ALL.iter().copied().filter(|s| s.is_exchange())
    }

    /// Whether this source is read from Exchange Online (`--exchange`).
    pub const fn is_exchange(self) -> bool {
        matches!(
            self,
            Source::ExchangeInboxRules
                | Source::ExchangeMailbox
                | Source::ExchangePermissions
                | Source::ExchangeTransportRules
                | Source::ExchangeAuditConfig
        )
    }

    /// Sources the collector cannot ask Graph for: their records come only from
    /// imported exports (Log Analytics, diagnostic settings).
    pub const fn imported_only(self) -> bool {
        matches!(self, Source::GraphActivity | Source::Provisioning)
    }

    /// A source `collect --sources` can gather: any name but an import-only one.
    pub fn collectable(name: &str) -> Result<Source, String> {
        let source: Source = name.parse().map_err(|e: UnknownSource| e.to_string())?;
        if source.imported_only() {
            return Err(format!(
                "{source} comes only from exported files (Log Analytics or diagnostic-settings exports); import them with --import FILE"
            ));
        }
        Ok(source)
    }

    /// The source named `name` (as in file names and the manifest).
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.iter().copied().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A name that is not a source, with the list of those that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown source {name:?}; the sources are: {} (with --exchange: {})", Source::collected().map(Source::as_str).collect::<Vec<_>>().join(", "), Source::exchange().map(Source::as_str).collect::<Vec<_>>().join(", "))]
pub struct UnknownSource {
    pub name: String,
}

impl FromStr for Source {
    type Err = UnknownSource;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::from_name(s.trim()).ok_or_else(|| UnknownSource {
            name: s.to_string(),
        })
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(*s));
            assert_eq!(
                serde_json::from_value::<Source>(serde_json::to_value(s).unwrap()).unwrap(),
                *s
            );
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Source::ALL.len());
        assert_eq!(Source::collected().count(), 32);
        assert_eq!(Source::exchange().count(), 5);
        assert!(Source::collected().all(|s| !s.is_exchange()));
    }

    #[test]
    fn an_unknown_name_lists_the_sources() {
        let e = "signins".parse::<Source>().unwrap_err().to_string();
        assert!(e.contains("unknown source \"signins\""), "{e}");
        assert!(e.contains("entra-signins-interactive"), "{e}");
    }
}
