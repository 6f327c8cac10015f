//! The Exchange Online cmdlets the collector may run, and nothing else.
//!
//! Exchange keeps what Graph cannot see (hidden inbox rules, mailbox forwarding,
//! Send As grants, transport rules, whether the unified audit log ingests) behind
//! its cmdlets, which the ExchangeOnlineManagement module itself runs through
//! `POST /adminapi/beta/{tenant}/InvokeCommand` (shared/reference/exchange-rest.md).
//! That endpoint runs any cmdlet the caller's Exchange roles allow, writes
//! included, so the client side is closed here: [`Cmdlet`] has one variant per
//! allowed cmdlet, each carrying exactly the parameters it may pass, and there
//! is no way to make one from a name. A cmdlet outside this list cannot be
//! expressed (crates/sources/tests/cmdlets.rs shows the compiler refusing
//! one), and every name in it is a `Get-` (checked when this crate compiles).
//! The server side is the app's custom read-only Exchange roles (README), which
//! the collector checks at start.

use crate::Source;
use std::fmt;

macro_rules! cmdlet_names {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The name of an allowed cmdlet, without its parameters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CmdletName {
            $($(#[$doc])* $variant,)*
        }

        impl CmdletName {
            /// Every allowed cmdlet.
            pub const ALL: &'static [CmdletName] = &[$(CmdletName::$variant,)*];

            /// The cmdlet's name as Exchange spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CmdletName::$variant => $name,)*
                }
            }
        }
    };
}

cmdlet_names! {
    /// Inbox rules of a mailbox (<https://learn.microsoft.com/powershell/module/exchange/get-inboxrule>).
    GetInboxRule = "Get-InboxRule",
    /// A mailbox's properties (<https://learn.microsoft.com/powershell/module/exchange/get-mailbox>).
    GetMailbox = "Get-Mailbox",
    /// Full Access and other mailbox permissions (<https://learn.microsoft.com/powershell/module/exchange/get-mailboxpermission>).
    GetMailboxPermission = "Get-MailboxPermission",
    /// Send As permissions (<https://learn.microsoft.com/powershell/module/exchange/get-recipientpermission>).
    GetRecipientPermission = "Get-RecipientPermission",
    /// Transport rules (<https://learn.microsoft.com/powershell/module/exchange/get-transportrule>).
    GetTransportRule = "Get-TransportRule",
    /// Audit log configuration, on the Exchange endpoint (on Security & Compliance
    /// its `UnifiedAuditLogIngestionEnabled` is always False)
    /// (<https://learn.microsoft.com/powershell/module/exchange/get-adminauditlogconfig>).
    GetAdminAuditLogConfig = "Get-AdminAuditLogConfig",
    /// Accounts whose mailbox access is not audited
    /// (<https://learn.microsoft.com/powershell/module/exchange/get-mailboxauditbypassassociation>).
    GetMailboxAuditBypassAssociation = "Get-MailboxAuditBypassAssociation",
}

/// Every allowed cmdlet only reads: checked by the compiler.
const _: () = {
    let mut i = 0;
    while i < CmdletName::ALL.len() {
        let name = CmdletName::ALL[i].as_str().as_bytes();
        assert!(
            name.len() > 4
                && name[0] == b'G'
                && name[1] == b'e'
                && name[2] == b't'
                && name[3] == b'-'
        );
        i += 1;
    }
};

impl fmt::Display for CmdletName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A cmdlet name outside the allowlist (a write, or a read this tool does not need).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not one of the cmdlets this tool may run ({})", CmdletName::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))]
pub struct NotAllowed {
    pub name: String,
}

/// Reading a name (as Exchange lists them, case-insensitively, as PowerShell
/// does) gives an allowed cmdlet or [`NotAllowed`]: nothing else parses.
impl std::str::FromStr for CmdletName {
    type Err = NotAllowed;

    fn from_str(name: &str) -> Result<Self, NotAllowed> {
        CmdletName::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| NotAllowed { name: name.into() })
    }
}

/// A parameter some allowed cmdlet takes. Never `Confirm`, `WhatIf` or
/// anything that selects a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    Mailbox,
    Identity,
    IncludeHidden,
    /// Always `Unlimited`: the default of 1,000 truncates silently
    /// (Get-InboxRule docs: "The default value is 1000").
    ResultSize,
}

impl Parameter {
    /// The parameter's name as the cmdlet spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Parameter::Mailbox => "Mailbox",
            Parameter::Identity => "Identity",
            Parameter::IncludeHidden => "IncludeHidden",
            Parameter::ResultSize => "ResultSize",
        }
    }
}

/// A parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument<'a> {
    /// A mailbox identity (the target's UPN).
    Text(&'a str),
    /// A switch that is set.
    Switch,
    /// `ResultSize Unlimited`.
    Unlimited,
}

/// One allowed cmdlet with its arguments: the only thing the client can send
/// to Exchange's InvokeCommand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cmdlet {
    /// `Get-InboxRule -Mailbox M [-IncludeHidden] -ResultSize Unlimited`.
    GetInboxRule {
        mailbox: String,
        include_hidden: bool,
    },
    /// `Get-Mailbox -Identity M`.
    GetMailbox { identity: String },
    /// `Get-MailboxPermission -Identity M -ResultSize Unlimited`.
    GetMailboxPermission { identity: String },
    /// `Get-RecipientPermission -Identity M -ResultSize Unlimited`.
    GetRecipientPermission { identity: String },
    /// `Get-TransportRule -ResultSize Unlimited`.
    GetTransportRule,
    /// `Get-AdminAuditLogConfig`.
    GetAdminAuditLogConfig,
    /// `Get-MailboxAuditBypassAssociation -ResultSize Unlimited`.
    GetMailboxAuditBypassAssociation,
}

impl Cmdlet {
    pub const fn name(&self) -> CmdletName {
        match self {
            Cmdlet::GetInboxRule { .. } => CmdletName::GetInboxRule,
            Cmdlet::GetMailbox { .. } => CmdletName::GetMailbox,
            Cmdlet::GetMailboxPermission { .. } => CmdletName::GetMailboxPermission,
            Cmdlet::GetRecipientPermission { .. } => CmdletName::GetRecipientPermission,
            Cmdlet::GetTransportRule => CmdletName::GetTransportRule,
            Cmdlet::GetAdminAuditLogConfig => CmdletName::GetAdminAuditLogConfig,
            Cmdlet::GetMailboxAuditBypassAssociation => {
                CmdletName::GetMailboxAuditBypassAssociation
            }
        }
    }

    /// The arguments, in the order PowerShell users write them.
    pub fn arguments(&self) -> Vec<(Parameter, Argument<'_>)> {
        use Argument::*;
        use Parameter::*;
        match self {
            Cmdlet::GetInboxRule {
                mailbox,
                include_hidden,
            } => {
                let mut v = vec![(Mailbox, Text(mailbox.as_str()))];
                if *include_hidden {
                    v.push((IncludeHidden, Switch));
                }
                v.push((ResultSize, Unlimited));
                v
            }
            Cmdlet::GetMailbox { identity } => vec![(Identity, Text(identity.as_str()))],
            Cmdlet::GetMailboxPermission { identity }
            | Cmdlet::GetRecipientPermission { identity } => {
                vec![(Identity, Text(identity.as_str())), (ResultSize, Unlimited)]
            }
            Cmdlet::GetTransportRule | Cmdlet::GetMailboxAuditBypassAssociation => {
                vec![(ResultSize, Unlimited)]
            }
            Cmdlet::GetAdminAuditLogConfig => Vec::new(),
        }
    }

    /// The mailbox a per-mailbox cmdlet reads (requests are routed to it);
    /// `None` for organisation-wide ones.
    pub fn mailbox(&self) -> Option<&str> {
        match self {
            Cmdlet::GetInboxRule { mailbox, .. } => Some(mailbox),
            Cmdlet::GetMailbox { identity }
            | Cmdlet::GetMailboxPermission { identity }
            | Cmdlet::GetRecipientPermission { identity } => Some(identity),
            _ => None,
        }
    }
}

/// The cmdlet as a PowerShell user would type it (journal keys, the manifest).
impl fmt::Display for Cmdlet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().as_str())?;
        for (p, a) in self.arguments() {
            match a {
                Argument::Text(t) => write!(f, " -{} '{}'", p.as_str(), t.replace('\'', "''"))?,
                Argument::Switch => write!(f, " -{}", p.as_str())?,
                Argument::Unlimited => write!(f, " -{} Unlimited", p.as_str())?,
            }
        }
        Ok(())
    }
}

impl Source {
    /// The cmdlets an Exchange source runs (empty for Graph sources): what the
    /// app's custom Exchange roles must hold.
    pub const fn cmdlets(self) -> &'static [CmdletName] {
        use CmdletName::*;
        match self {
            Source::ExchangeInboxRules => &[GetInboxRule],
            Source::ExchangeMailbox => &[GetMailbox],
            Source::ExchangePermissions => &[GetMailboxPermission, GetRecipientPermission],
            Source::ExchangeTransportRules => &[GetTransportRule],
            Source::ExchangeAuditConfig => {
                &[GetAdminAuditLogConfig, GetMailboxAuditBypassAssociation]
            }
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_cmdlet_only_reads_and_every_one_is_used() {
        for name in CmdletName::ALL {
            assert!(name.as_str().starts_with("Get-"), "{name}");
            assert!(
                Source::exchange().any(|s| s.cmdlets().contains(name)),
                "{name} is allowed but no source runs it"
            );
        }
        for s in Source::ALL {
            assert_eq!(s.is_exchange(), !s.cmdlets().is_empty(), "{s}");
        }
    }

    #[test]
    fn only_allowed_names_parse() {
        for name in CmdletName::ALL {
            assert_eq!(name.as_str().parse::<CmdletName>(), Ok(*name));
            assert_eq!(
                name.as_str().to_uppercase().parse::<CmdletName>(),
                Ok(*name)
            );
        }
        for refused in [
            "Set-Mailbox",
            "New-InboxRule",
            "Remove-MailboxPermission",
            "Set-AdminAuditLogConfig",
            "Get-MessageTraceV2",
            "Get-Mailbox ",
            "Get-Mailbox;Remove-Mailbox",
            "Get-*",
            "",
        ] {
            let e = refused.parse::<CmdletName>().unwrap_err();
            assert_eq!(e.name, refused);
            assert!(e.to_string().contains("Get-InboxRule"), "{e}");
        }
    }

    #[test]
    fn cmdlets_read_as_powershell() {
        let c = Cmdlet::GetInboxRule {
            mailbox: "o'neil@contoso.example".into(),
            include_hidden: true,
        };
        assert_eq!(
            c.to_string(),
            "Get-InboxRule -Mailbox 'o''neil@contoso.example' -IncludeHidden -ResultSize Unlimited"
        );
        assert_eq!(
            Cmdlet::GetAdminAuditLogConfig.to_string(),
            "Get-AdminAuditLogConfig"
        );
        assert_eq!(c.mailbox(), Some("o'neil@contoso.example"));
        assert_eq!(Cmdlet::GetTransportRule.mailbox(), None);
    }
}
