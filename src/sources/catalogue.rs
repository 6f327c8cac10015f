//! Every evidence source with the application permissions it needs (least
//! privilege first; any one of the alternatives in a requirement suffices) and
//! the licence it depends on. Facts from graph-api.md §0.1 and §1-7.

/// One permission need: any of these grants it.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    pub any_of: &'static [&'static str],
    /// Why it is needed, when not obvious.
    pub for_what: &'static str,
}

/// One evidence source.
#[derive(Debug, Clone, Copy)]
pub struct SourceInfo {
    pub name: &'static str,
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
const SIGN_IN_LICENCE: Option<&str> =
    Some("Entra ID P1/P2 (Free: 403, import the portal download)");

pub const CATALOGUE: &[SourceInfo] = &[
    SourceInfo { name: "entra-signins-interactive", what: "interactive user sign-ins", endpoint: "GET /beta/auditLogs/signIns", needs: &[AUDIT_LOG], licence: SIGN_IN_LICENCE },
    SourceInfo { name: "entra-signins-noninteractive", what: "non-interactive user sign-ins (refresh tokens)", endpoint: "GET /beta/auditLogs/signIns", needs: &[AUDIT_LOG], licence: SIGN_IN_LICENCE },
    SourceInfo { name: "entra-signins-serviceprincipal", what: "service principal sign-ins", endpoint: "GET /beta/auditLogs/signIns", needs: &[AUDIT_LOG], licence: SIGN_IN_LICENCE },
    SourceInfo { name: "entra-signins-managedidentity", what: "managed identity sign-ins", endpoint: "GET /beta/auditLogs/signIns", needs: &[AUDIT_LOG], licence: SIGN_IN_LICENCE },
    SourceInfo { name: "entra-audit", what: "directory audit (by and on the user)", endpoint: "GET /v1.0/auditLogs/directoryAudits", needs: &[AUDIT_LOG, DIRECTORY], licence: None },
    SourceInfo {
        name: "purview-audit",
        what: "Purview unified audit log",
        endpoint: "POST+GET /v1.0/security/auditLog/queries (fallback: Management Activity API)",
        needs: &[req(&["AuditLogsQuery.Read.All", "AuditLogsQuery-Exchange.Read.All"], "the audit-log query API; the fallback needs ActivityFeed.Read on Office 365 Management APIs")],
        licence: Some("Purview Audit (Standard 180 days, Premium 1 year)"),
    },
    SourceInfo { name: "mailbox-rules", what: "inbox rules (and their folders' names)", endpoint: "GET /v1.0/users/{id}/mailFolders/inbox/messageRules", needs: &[req(&["MailboxSettings.Read"], ""), req(&["Mail.ReadBasic.All", "Mail.Read"], "folder names of move/copy rules")], licence: Some("Exchange Online mailbox") },
    SourceInfo { name: "mailbox-settings", what: "mailbox settings (auto-replies, time zone)", endpoint: "GET /v1.0/users/{id}/mailboxSettings", needs: &[req(&["MailboxSettings.Read"], "")], licence: Some("Exchange Online mailbox") },
    SourceInfo { name: "auth-methods", what: "authentication methods and per-user MFA state", endpoint: "GET /v1.0/users/{id}/authentication/methods", needs: &[req(&["UserAuthenticationMethod.Read.All"], ""), req(&["Policy.Read.All"], "per-user MFA state (beta requirements)")], licence: None },
    SourceInfo { name: "auth-registration", what: "MFA registration details", endpoint: "GET /v1.0/reports/authenticationMethods/userRegistrationDetails", needs: &[AUDIT_LOG], licence: Some("Entra ID P1/P2") },
    SourceInfo { name: "user", what: "the user object (with signInActivity where licensed)", endpoint: "GET /v1.0/users/{id}", needs: &[USERS, req(&["AuditLog.Read.All"], "signInActivity")], licence: None },
    SourceInfo { name: "user-memberships", what: "group and role memberships", endpoint: "GET /v1.0/users/{id}/transitiveMemberOf", needs: &[req(&["GroupMember.Read.All", "Directory.Read.All"], "")], licence: None },
    SourceInfo { name: "user-roles", what: "directory role assignments (PIM eligibility where licensed)", endpoint: "GET /v1.0/roleManagement/directory/roleAssignments", needs: &[req(&["RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All"], "")], licence: None },
    SourceInfo { name: "user-owned-objects", what: "objects the user owns (apps, service principals, groups)", endpoint: "GET /v1.0/users/{id}/ownedObjects", needs: &[USERS], licence: None },
    SourceInfo { name: "devices", what: "registered and owned devices", endpoint: "GET /v1.0/users/{id}/registeredDevices", needs: &[USERS, req(&["Device.Read.All", "Directory.Read.All"], "full device objects")], licence: None },
    SourceInfo { name: "applications", what: "app registrations with credentials metadata", endpoint: "GET /v1.0/applications", needs: &[req(&["Application.Read.All", "Directory.Read.All"], "")], licence: None },
    SourceInfo { name: "service-principals", what: "enterprise apps", endpoint: "GET /v1.0/servicePrincipals", needs: &[req(&["Application.Read.All", "Directory.Read.All"], "")], licence: None },
    SourceInfo { name: "oauth2-grants", what: "delegated consent grants", endpoint: "GET /v1.0/oauth2PermissionGrants", needs: &[DIRECTORY], licence: None },
    SourceInfo { name: "app-role-assignments", what: "app role assignments of the user", endpoint: "GET /v1.0/users/{id}/appRoleAssignments", needs: &[DIRECTORY], licence: None },
    SourceInfo { name: "guests", what: "guest users (invitations)", endpoint: "GET /v1.0/users?$filter=userType eq 'Guest'", needs: &[USERS], licence: None },
    SourceInfo { name: "risky-users", what: "Identity Protection risky users", endpoint: "GET /v1.0/identityProtection/riskyUsers", needs: &[req(&["IdentityRiskyUser.Read.All"], "")], licence: Some("Entra ID P2") },
    SourceInfo { name: "risk-detections", what: "Identity Protection risk detections", endpoint: "GET /v1.0/identityProtection/riskDetections", needs: &[req(&["IdentityRiskEvent.Read.All"], "")], licence: Some("Entra ID P2") },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_designed_ones_and_unique() {
        let names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 22);
        assert_eq!(names.len(), 22);
        for s in CATALOGUE {
            assert!(!s.needs.is_empty(), "{}", s.name);
        }
    }
}
