//! What each source is, where it comes from, what it needs: the application
//! permissions (least privilege first; any one of a requirement's alternatives
//! suffices) and the licence it depends on. Facts from the Microsoft Graph
//! permissions reference (<https://learn.microsoft.com/graph/permissions-reference>)
//! and each API's page, linked from the README's permission matrix.

use crate::Source;

/// One permission need: any of these grants it.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    pub any_of: &'static [&'static str],
    /// Why it is needed, when not obvious.
    pub for_what: &'static str,
}

/// One source's catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct SourceInfo {
    pub what: &'static str,
    pub endpoint: &'static str,
    pub needs: &'static [Requirement],
    /// Licence or product the data depends on, if any.
    pub licence: Option<&'static str>,
}

const fn req(any_of: &'static [&'static str], for_what: &'static str) -> Requirement {
    Requirement { any_of, for_what }
}

const AUDIT_LOG: Requirement = req(&["AuditLog.Read.All"], "");
const USERS: Requirement = req(&["User.Read.All", "Directory.Read.All"], "");
const DIRECTORY: Requirement = req(&["Directory.Read.All"], "");
/// Exchange Online app-only access: the application permission of "Office 365
/// Exchange Online", which does nothing without Exchange roles
/// (<https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2>).
const EXCHANGE_APP: Requirement = req(
    &["Exchange.ManageAsApp"],
    "Office 365 Exchange Online; plus a custom read-only Exchange role holding the cmdlets",
);
const EXCHANGE_ONLINE: Option<&str> = Some("Exchange Online");
/// Exported tables are read by whoever exported them; the tool asks for nothing.
const EXPORT: Requirement = req(
    &["Log Analytics Reader (on the workspace) or Storage Blob Data Reader"],
    "to export the table; the import itself needs no permission",
);
const SIGN_IN_LICENCE: Option<&str> =
    Some("Entra ID P1/P2 (Free: 403, import the portal download)");
const WORKLOAD_LICENCE: Option<&str> =
    Some("Workload ID Premium for full details (without it: values \"hidden\")");
const DEFENDER_LICENCE: Option<&str> =
    Some("a Defender XDR workload (Defender for Office 365, Identity Protection, ...)");
/// Message metadata without bodies
/// (<https://learn.microsoft.com/graph/api/mailfolder-list-messages>).
const MAIL_METADATA: Requirement = req(&["Mail.ReadBasic.All", "Mail.Read"], "");

impl Source {
    /// The catalogue entry of this source.
    pub const fn info(self) -> &'static SourceInfo {
        match self {
            Source::SigninsInteractive => {
                const {
                    &SourceInfo {
                        what: "interactive user sign-ins",
                        endpoint: "GET /beta/auditLogs/signIns",
                        needs: &[AUDIT_LOG],
                        licence: SIGN_IN_LICENCE,
                    }
                }
            }
            Source::SigninsNonInteractive => {
                const {
                    &SourceInfo {
                        what: "non-interactive user sign-ins (refresh tokens)",
                        endpoint: "GET /beta/auditLogs/signIns",
                        needs: &[AUDIT_LOG],
                        licence: SIGN_IN_LICENCE,
                    }
                }
            }
            Source::SigninsServicePrincipal => {
                const {
                    &SourceInfo {
                        what: "service principal sign-ins",
                        endpoint: "GET /beta/auditLogs/signIns",
                        needs: &[AUDIT_LOG],
                        licence: SIGN_IN_LICENCE,
                    }
                }
            }
            Source::SigninsManagedIdentity => {
                const {
                    &SourceInfo {
                        what: "managed identity sign-ins",
                        endpoint: "GET /beta/auditLogs/signIns",
                        needs: &[AUDIT_LOG],
                        licence: SIGN_IN_LICENCE,
                    }
                }
            }
            Source::EntraAudit => {
                const {
                    &SourceInfo {
                        what: "directory audit (by and on the user)",
                        endpoint: "GET /v1.0/auditLogs/directoryAudits",
                        needs: &[AUDIT_LOG, DIRECTORY],
                        licence: None,
                    }
                }
            }
            Source::PurviewAudit => {
                const {
                    &SourceInfo { what: "Purview unified audit log",
        endpoint: "POST+GET /v1.0/security/auditLog/queries (fallback: Management Activity API)",
        needs: &[req(&["AuditLogsQuery.Read.All", "AuditLogsQuery-Exchange.Read.All"], "the audit-log query API; the fallback needs ActivityFeed.Read on Office 365 Management APIs")],
        licence: Some("Purview Audit (Standard 180 days, Premium 1 year)") }
                }
            }
            Source::MailboxRules => {
                const {
                    &SourceInfo {
                        what: "inbox rules (and their folders' names)",
                        endpoint: "GET /v1.0/users/{id}/mailFolders/inbox/messageRules",
                        needs: &[
                            req(&["MailboxSettings.Read"], ""),
                            req(
                                &["Mail.ReadBasic.All", "Mail.Read"],
                                "folder names of move/copy rules",
                            ),
                        ],
                        licence: Some("Exchange Online mailbox"),
                    }
                }
            }
            Source::MailboxSettings => {
                const {
                    &SourceInfo {
                        what: "mailbox settings (auto-replies, time zone)",
                        endpoint: "GET /v1.0/users/{id}/mailboxSettings",
                        needs: &[req(&["MailboxSettings.Read"], "")],
                        licence: Some("Exchange Online mailbox"),
                    }
                }
            }
            Source::AuthMethods => {
                const {
                    &SourceInfo {
                        what: "authentication methods and per-user MFA state",
                        endpoint: "GET /v1.0/users/{id}/authentication/methods",
                        needs: &[
                            req(&["UserAuthenticationMethod.Read.All"], ""),
                            req(
                                &["Policy.Read.All"],
                                "per-user MFA state (beta requirements)",
                            ),
                        ],
                        licence: None,
                    }
                }
            }
            Source::AuthRegistration => {
                const {
                    &SourceInfo {
                        what: "MFA registration details",
                        endpoint: "GET /v1.0/reports/authenticationMethods/userRegistrationDetails",
                        needs: &[AUDIT_LOG],
                        licence: Some("Entra ID P1/P2"),
                    }
                }
            }
            Source::User => {
                const {
                    &SourceInfo {
                        what: "the user object (with signInActivity where licensed)",
                        endpoint: "GET /v1.0/users/{id}",
                        needs: &[USERS, req(&["AuditLog.Read.All"], "signInActivity")],
                        licence: None,
                    }
                }
            }
            Source::UserMemberships => {
                const {
                    &SourceInfo {
                        what: "group and role memberships",
                        endpoint: "GET /v1.0/users/{id}/transitiveMemberOf",
                        needs: &[req(&["GroupMember.Read.All", "Directory.Read.All"], "")],
                        licence: None,
                    }
                }
            }
            Source::UserRoles => {
                const {
                    &SourceInfo {
                        what: "directory role assignments (PIM eligibility where licensed)",
                        endpoint: "GET /v1.0/roleManagement/directory/roleAssignments",
                        needs: &[req(
                            &[
                                "RoleManagement.Read.Directory",
                                "RoleManagement.Read.All",
                                "Directory.Read.All",
                            ],
                            "",
                        )],
                        licence: None,
                    }
                }
            }
            Source::UserOwnedObjects => {
                const {
                    &SourceInfo {
                        what: "objects the user owns (apps, service principals, groups)",
                        endpoint: "GET /v1.0/users/{id}/ownedObjects",
                        needs: &[USERS],
                        licence: None,
                    }
                }
            }
            Source::Devices => {
                const {
                    &SourceInfo {
                        what: "registered and owned devices",
                        endpoint: "GET /v1.0/users/{id}/registeredDevices",
                        needs: &[
                            USERS,
                            req(
                                &["Device.Read.All", "Directory.Read.All"],
                                "full device objects",
                            ),
                        ],
                        licence: None,
                    }
                }
            }
            Source::Applications => {
                const {
                    &SourceInfo {
                        what: "app registrations with credentials metadata",
                        endpoint: "GET /v1.0/applications",
                        needs: &[req(&["Application.Read.All", "Directory.Read.All"], "")],
                        licence: None,
                    }
                }
            }
            Source::ServicePrincipals => {
                const {
                    &SourceInfo {
                        what: "enterprise apps",
                        endpoint: "GET /v1.0/servicePrincipals",
                        needs: &[req(&["Application.Read.All", "Directory.Read.All"], "")],
                        licence: None,
                    }
                }
            }
            Source::Oauth2Grants => {
                const {
                    &SourceInfo {
                        what: "delegated consent grants",
                        endpoint: "GET /v1.0/oauth2PermissionGrants",
                        needs: &[DIRECTORY],
                        licence: None,
                    }
                }
            }
            Source::AppRoleAssignments => {
                const {
                    &SourceInfo {
                        what: "app role assignments of the user",
                        endpoint: "GET /v1.0/users/{id}/appRoleAssignments",
                        needs: &[DIRECTORY],
                        licence: None,
                    }
                }
            }
            Source::Guests => {
                const {
                    &SourceInfo {
                        what: "guest users (invitations)",
                        endpoint: "GET /v1.0/users?$filter=userType eq 'Guest'",
                        needs: &[USERS],
                        licence: None,
                    }
                }
            }
            Source::RiskyUsers => {
                const {
                    &SourceInfo {
                        what: "Identity Protection risky users",
                        endpoint: "GET /v1.0/identityProtection/riskyUsers",
                        needs: &[req(&["IdentityRiskyUser.Read.All"], "")],
                        licence: Some("Entra ID P2"),
                    }
                }
            }
            Source::RiskDetections => {
                const {
                    &SourceInfo {
                        what: "Identity Protection risk detections",
                        endpoint: "GET /v1.0/identityProtection/riskDetections",
                        needs: &[req(&["IdentityRiskEvent.Read.All"], "")],
                        licence: Some("Entra ID P2"),
                    }
                }
            }
            Source::MessageTrace => {
                const {
                    &SourceInfo {
                        what: "message trace: mail sent by and to the targets, every recipient of the phishing mail",
                        endpoint: "GET /v1.0/admin/exchange/tracing/messageTraces",
                        needs: &[
                            req(&["ExchangeMessageTrace.Read.All"], ""),
                            req(
                                &["Application.Read.All", "Directory.Read.All"],
                                "checking Microsoft's message-trace service principal",
                            ),
                        ],
                        licence: Some("Exchange Online; Microsoft's message-trace service principal in the tenant (see doctor)"),
                    }
                }
            }
            Source::ConditionalAccess => {
                const {
                    &SourceInfo {
                        what: "Conditional Access policies, named locations, authentication strengths, deleted policies",
                        endpoint: "GET /v1.0/identity/conditionalAccess/policies",
                        needs: &[req(&["Policy.Read.All"], "")],
                        licence: Some("Entra ID P1/P2"),
                    }
                }
            }
            Source::DeletedObjects => {
                const {
                    &SourceInfo {
                        what: "deleted apps, service principals, users and groups (kept 30 days)",
                        endpoint: "GET /v1.0/directory/deletedItems/microsoft.graph.{type}",
                        needs: &[
                            req(
                                &["Application.Read.All", "Directory.Read.All"],
                                "apps and service principals",
                            ),
                            USERS,
                            req(&["Group.Read.All", "Directory.Read.All"], "groups"),
                        ],
                        licence: None,
                    }
                }
            }
            Source::RiskyServicePrincipals => {
                const {
                    &SourceInfo {
                        what: "Identity Protection risky service principals",
                        endpoint: "GET /v1.0/identityProtection/riskyServicePrincipals",
                        needs: &[req(&["IdentityRiskyServicePrincipal.Read.All"], "")],
                        licence: WORKLOAD_LICENCE,
                    }
                }
            }
            Source::ServicePrincipalRiskDetections => {
                const {
                    &SourceInfo {
                        what: "Identity Protection risk detections of service principals",
                        endpoint: "GET /v1.0/identityProtection/servicePrincipalRiskDetections",
                        needs: &[req(&["IdentityRiskEvent.Read.All"], "")],
                        licence: WORKLOAD_LICENCE,
                    }
                }
            }
            Source::SecurityAlerts => {
                const {
                    &SourceInfo {
                        what: "Defender XDR alerts involving a target",
                        endpoint: "GET /v1.0/security/alerts_v2",
                        needs: &[req(&["SecurityAlert.Read.All"], "")],
                        licence: DEFENDER_LICENCE,
                    }
                }
            }
            Source::SecurityIncidents => {
                const {
                    &SourceInfo {
                        what: "Defender XDR incidents involving a target",
                        endpoint: "GET /v1.0/security/incidents?$expand=alerts",
                        needs: &[req(&["SecurityIncident.Read.All"], "")],
                        licence: DEFENDER_LICENCE,
                    }
                }
            }
            Source::MailSent => {
                const {
                    &SourceInfo {
                        what: "sent mail: metadata, no bodies",
                        endpoint: "GET /v1.0/users/{id}/mailFolders/sentitems/messages",
                        needs: &[MAIL_METADATA],
                        licence: Some("Exchange Online mailbox"),
                    }
                }
            }
            Source::MailDeleted => {
                const {
                    &SourceInfo {
                        what: "deleted and recoverable mail: metadata, no bodies",
                        endpoint: "GET /v1.0/users/{id}/mailFolders/{deleteditems|recoverableitems...}/messages",
                        needs: &[MAIL_METADATA],
                        licence: Some("Exchange Online mailbox"),
                    }
                }
            }
            Source::Licences => {
                const {
                    &SourceInfo {
                        what: "subscribed SKUs and the targets' licences (how long each source is kept)",
                        endpoint: "GET /v1.0/subscribedSkus",
                        needs: &[
                            req(&["LicenseAssignment.Read.All", "Directory.Read.All"], ""),
                            req(&["User.Read.All", "Directory.Read.All"], "each target's licence details"),
                        ],
                        licence: None,
                    }
                }
            }
            Source::Messages => {
                const {
                    &SourceInfo {
                        what: "messages kept as .eml (--message-id)",
                        endpoint: "GET /v1.0/users/{id}/messages/{id}/$value",
                        needs: &[req(&["Mail.Read"], "")],
                        licence: Some("Exchange Online mailbox"),
                    }
                }
            }
            Source::ExchangeInboxRules => {
                const {
                    &SourceInfo {
                        what: "inbox rules as Exchange has them, hidden and system rules marked",
                        endpoint: "POST /adminapi/beta/{tenant}/InvokeCommand Get-InboxRule (with and without -IncludeHidden)",
                        needs: &[EXCHANGE_APP],
                        licence: EXCHANGE_ONLINE,
                    }
                }
            }
            Source::ExchangeMailbox => {
                const {
                    &SourceInfo {
                        what: "mailbox forwarding (ForwardingSmtpAddress, ForwardingAddress, DeliverToMailboxAndForward) and audit settings",
                        endpoint: "POST /adminapi/beta/{tenant}/InvokeCommand Get-Mailbox",
                        needs: &[EXCHANGE_APP],
                        licence: EXCHANGE_ONLINE,
                    }
                }
            }
            Source::ExchangePermissions => {
                const {
                    &SourceInfo {
                        what: "mailbox permissions (delegates, Full Access; records with User) and Send As (records with Trustee)",
                        endpoint: "POST /adminapi/beta/{tenant}/InvokeCommand Get-MailboxPermission, Get-RecipientPermission",
                        needs: &[EXCHANGE_APP],
                        licence: EXCHANGE_ONLINE,
                    }
                }
            }
            Source::ExchangeTransportRules => {
                const {
                    &SourceInfo {
                        what: "the organisation's transport (mail flow) rules",
                        endpoint: "POST /adminapi/beta/{tenant}/InvokeCommand Get-TransportRule",
                        needs: &[EXCHANGE_APP],
                        licence: EXCHANGE_ONLINE,
                    }
                }
            }
            Source::ExchangeAuditConfig => {
                const {
                    &SourceInfo {
                        what: "whether the unified audit log ingests, and accounts that bypass mailbox auditing",
                        endpoint: "POST /adminapi/beta/{tenant}/InvokeCommand Get-AdminAuditLogConfig, Get-MailboxAuditBypassAssociation",
                        needs: &[EXCHANGE_APP],
                        licence: EXCHANGE_ONLINE,
                    }
                }
            }
            Source::GraphActivity => {
                const {
                    &SourceInfo {
                        what: "Microsoft Graph activity logs (imported exports only)",
                        endpoint: "Log Analytics MicrosoftGraphActivityLogs / diagnostic category MicrosoftGraphActivityLogs",
                        needs: &[EXPORT],
                        licence: Some("Entra ID P1/P2, diagnostic setting to Log Analytics or storage"),
                    }
                }
            }
            Source::Provisioning => {
                const {
                    &SourceInfo {
                        what: "provisioning logs (imported exports only)",
                        endpoint: "Log Analytics AADProvisioningLogs / diagnostic category ProvisioningLogs",
                        needs: &[EXPORT],
                        licence: Some("Entra ID P1/P2"),
                    }
                }
            }
        }
    }
}

/// Something the tenant must have before a source can be collected, which the
/// tool may not create itself (creating it is a write).
#[derive(Debug, Clone, Copy)]
pub struct Prerequisite {
    pub what: &'static str,
    /// A GET whose collection is empty when the prerequisite is missing.
    pub check: &'static str,
    pub check_permission: &'static str,
    /// Why the source is unavailable without it, with the exact fix.
    pub missing: &'static str,
}

/// Microsoft's "Transport Data Platform" app, whose service principal the
/// message-trace API needs in the tenant
/// (<https://learn.microsoft.com/graph/api/resources/exchangemessagetrace#prerequisites>).
pub const MESSAGE_TRACE_APP: &str = "8bd644d1-64a1-4d4b-ae52-2e0cbf64e373";

const MESSAGE_TRACE_PREREQUISITE: Prerequisite = Prerequisite {
    what: "the service principal of Microsoft's message-trace app 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373",
    check: "/v1.0/servicePrincipals?$filter=appId eq '8bd644d1-64a1-4d4b-ae52-2e0cbf64e373'&$select=id,appId,displayName",
    check_permission: "Application.Read.All",
    missing: "the message-trace API needs the service principal of Microsoft's app 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373, which this tenant lacks: an administrator creates it (a change this tool never makes) with `Connect-MgGraph -Scopes Application.ReadWrite.All; New-MgServicePrincipal -AppId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373`, waits for it to provision (up to several hours), then collects again",
};

impl Source {
    /// The properties that make a record of this source unique: its `id`, and
    /// for message trace also the recipient, as a trace row is one message to
    /// one recipient and the documentation does not say its id differs per
    /// recipient (<https://learn.microsoft.com/graph/api/resources/exchangemessagetrace>).
    pub const fn record_key(self) -> &'static [&'static str] {
        match self {
            Source::MessageTrace => &["id", "recipientAddress"],
            _ => &["id"],
        }
    }

    /// What the tenant must have for this source beyond permissions and licences.
    pub const fn prerequisite(self) -> Option<&'static Prerequisite> {
        match self {
            Source::MessageTrace => Some(&MESSAGE_TRACE_PREREQUISITE),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_needs_a_permission() {
        for s in Source::ALL {
            assert!(!s.info().needs.is_empty(), "{s}");
            assert!(!s.info().what.is_empty(), "{s}");
        }
    }
}
