//! Which requests make up each source, for the given targets and window.

use super::extras::Linked;
use super::{Target, Window};
use crate::graph::Budget;

/// Which records of a response belong to the source.
#[derive(Debug, Clone)]
pub enum Keep {
    All,
    /// Records of this user created inside the window (sign-ins: Graph has
    /// returned unrelated rows for user filters before, so filter again).
    UserInWindow {
        user_id: String,
        field: &'static str,
        window: Window,
    },
    /// Records inside the window.
    InWindow {
        field: &'static str,
        window: Window,
    },
    /// Purview records of these users (UPN, any case) inside the window.
    UpnInWindow {
        upns: Vec<String>,
        field: &'static str,
        window: Window,
    },
}

/// Ids a source's records refer to whose names an investigator needs.
#[derive(Debug, Clone)]
pub enum Resolve {
    /// `actions.moveToFolder` / `copyToFolder` of this user's inbox rules.
    RuleFolders { user_id: String },
    /// `roleDefinitionId` of role assignments served without `$expand`.
    RoleNames,
}

/// One request of a source.
#[derive(Debug, Clone)]
pub struct Query {
    /// Path and query after the Graph host, e.g. `/v1.0/users/{id}`.
    pub path: String,
    pub budget: Budget,
    pub permission: &'static str,
    /// Audit logs: ask for new enum members as themselves.
    pub unknown_enums: bool,
    /// The response is one object, not a collection.
    pub single: bool,
    /// Tried instead when the first form needs a licence the tenant lacks.
    pub without_premium: Option<String>,
    /// A licence error means the data cannot exist (e.g. PIM without P2): a
    /// note saying this, not a gap.
    pub licence_optional: Option<&'static str>,
    /// Ids in the records to name (in the manifest), the records staying as served.
    pub resolve: Option<Resolve>,
    pub keep: Keep,
}

impl Query {
    pub(crate) fn list(path: String, budget: Budget, permission: &'static str) -> Self {
        Self {
            path,
            budget,
            permission,
            unknown_enums: false,
            single: false,
            without_premium: None,
            licence_optional: None,
            resolve: None,
            keep: Keep::All,
        }
    }
    fn one(path: String, budget: Budget, permission: &'static str) -> Self {
        Self {
            single: true,
            ..Self::list(path, budget, permission)
        }
    }
}

/// Properties of the user snapshot (graph-api.md §7.1).
const USER_SELECT: &str = "id,userPrincipalName,displayName,mail,accountEnabled,createdDateTime,creationType,userType,externalUserState,externalUserStateChangeDateTime,lastPasswordChangeDateTime,passwordPolicies,signInSessionsValidFromDateTime,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,onPremisesLastSyncDateTime,proxyAddresses,otherMails,identities,assignedLicenses,usageLocation,securityIdentifier";

/// `ge` start and `le` the last nanosecond before the end: the
/// services document only `ge`/`le`, and windows are half-open.
fn time_filter(field: &str, w: &Window) -> String {
    let last = w.until - chrono::Duration::nanoseconds(1);
    format!(
        "{field} ge {} and {field} le {}",
        w.since.format("%Y-%m-%dT%H:%M:%SZ"),
        last.format("%Y-%m-%dT%H:%M:%S%.9fZ")
    )
}

/// Log windows longer than this are split, oldest first: the oldest records
/// expire first, and a resumed collection re-fetches at most one slice.
pub const SLICE: chrono::Duration = chrono::Duration::days(7);

/// `w` cut into slices of at most `len`, oldest first.
pub fn split(w: &Window, len: chrono::Duration) -> Vec<Window> {
    let mut out = Vec::new();
    let mut since = w.since;
    while since < w.until {
        let until = (since + len).min(w.until);
        out.push(Window { since, until });
        since = until;
    }
    out
}

/// What narrows a plan besides the targets and the window.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--sp-scope linked`: service-principal sign-ins of these apps only.
    pub linked: Option<Linked>,
}

fn signins(event_type: &str, targets: &[Target], whole: &Window, scope: Scope) -> Vec<Query> {
    split(whole, SLICE)
        .iter()
        .flat_map(|w| signins_in(event_type, targets, w, &scope))
        .collect()
}

/// Whose sign-ins a sign-in source asks for.
enum Scope<'a> {
    Users,
    Tenant,
    Apps(&'a Linked),
}

fn signins_in(event_type: &str, targets: &[Target], w: &Window, scope: &Scope) -> Vec<Query> {
    let kind = format!("signInEventTypes/any(t: t eq '{event_type}')");
    let window = time_filter("createdDateTime", w);
    let make = |filter: String, keep: Keep| Query {
        unknown_enums: true,
        keep,
        ..Query::list(
            format!("/beta/auditLogs/signIns?$filter={filter}"),
            Budget::Reports,
            "AuditLog.Read.All",
        )
    };
    let in_window = || Keep::InWindow {
        field: "createdDateTime",
        window: *w,
    };
    match scope {
        Scope::Users => targets
            .iter()
            .map(|t| {
                make(
                    format!("userId eq '{}' and {window} and {kind}", t.id),
                    Keep::UserInWindow {
                        user_id: t.id.clone(),
                        field: "createdDateTime",
                        window: *w,
                    },
                )
            })
            .collect(),
        Scope::Tenant => vec![make(format!("{window} and {kind}"), in_window())],
        Scope::Apps(linked) => linked
            .service_principal_ids
            .iter()
            .map(|id| format!("servicePrincipalId eq '{id}'"))
            .chain(linked.app_ids.iter().map(|id| format!("appId eq '{id}'")))
            .map(|f| make(format!("{f} and {window} and {kind}"), in_window()))
            .collect(),
    }
}

/// The requests of `source`, or `None` when this version does not collect it.
pub fn queries(
    source: &str,
    targets: &[Target],
    w: &Window,
    opts: &PlanOptions,
) -> Option<Vec<Query>> {
    let per_user =
        |f: &dyn Fn(&Target) -> Vec<Query>| -> Vec<Query> { targets.iter().flat_map(f).collect() };
    let q = match source {
        "entra-signins-interactive" => signins("interactiveUser", targets, w, Scope::Users),
        "entra-signins-noninteractive" => signins("nonInteractiveUser", targets, w, Scope::Users),
        "entra-signins-serviceprincipal" => match &opts.linked {
            Some(linked) => signins("servicePrincipal", targets, w, Scope::Apps(linked)),
            None => signins("servicePrincipal", targets, w, Scope::Tenant),
        },
        "entra-signins-managedidentity" => signins("managedIdentity", targets, w, Scope::Tenant),
        "entra-audit" => split(w, SLICE)
            .iter()
            .flat_map(|w| {
                per_user(&|t| {
                    let window = time_filter("activityDateTime", w);
                    ["initiatedBy/user/id eq '{id}'", "targetResources/any(t: t/id eq '{id}')"]
                        .iter()
                        .map(|f| Query {
                            unknown_enums: true,
                            keep: Keep::InWindow { field: "activityDateTime", window: *w },
                            ..Query::list(
                                format!("/v1.0/auditLogs/directoryAudits?$filter={} and {window}", f.replace("{id}", &t.id)),
                                Budget::Reports,
                                "AuditLog.Read.All",
                            )
                        })
                        .collect()
                })
            })
            .collect(),
        "user" => per_user(&|t| {
            vec![Query {
                without_premium: Some(format!("/v1.0/users/{}?$select={USER_SELECT}", t.id)),
                ..Query::one(format!("/v1.0/users/{}?$select={USER_SELECT},signInActivity", t.id), Budget::Directory, "User.Read.All")
            }]
        }),
        "user-memberships" => per_user(&|t| vec![Query::list(format!("/v1.0/users/{}/transitiveMemberOf", t.id), Budget::Directory, "GroupMember.Read.All")]),
        "user-roles" => {
            per_user(&|t| {
                vec![
                    Query::list(
                        format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{}'&$expand=roleDefinition", t.id),
                        Budget::Directory,
                        "RoleManagement.Read.Directory",
                    ),
                    Query {
                        resolve: Some(Resolve::RoleNames),
                        licence_optional: Some("PIM eligible assignments exist only with Entra ID P2 or Governance; this tenant has neither, so there are none to collect"),
                        ..Query::list(
                            format!("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId eq '{}'", t.id),
                            Budget::Directory,
                            "RoleManagement.Read.Directory",
                        )
                    },
                ]
            })
        }
        "user-owned-objects" => per_user(&|t| vec![Query::list(format!("/v1.0/users/{}/ownedObjects", t.id), Budget::Directory, "User.Read.All")]),
        "devices" => per_user(&|t| {
            ["registeredDevices", "ownedDevices"]
                .iter()
                .map(|p| Query::list(format!("/v1.0/users/{}/{p}", t.id), Budget::Directory, "Device.Read.All"))
                .collect()
        }),
        "applications" => vec![Query::list("/v1.0/applications".into(), Budget::Directory, "Application.Read.All")],
        "service-principals" => vec![Query::list("/v1.0/servicePrincipals".into(), Budget::Directory, "Application.Read.All")],
        "oauth2-grants" => {
            let mut q = per_user(&|t| vec![Query::list(format!("/v1.0/oauth2PermissionGrants?$filter=principalId eq '{}'", t.id), Budget::Directory, "Directory.Read.All")]);
            q.push(Query::list("/v1.0/oauth2PermissionGrants?$filter=consentType eq 'AllPrincipals'".into(), Budget::Directory, "Directory.Read.All"));
            q
        }
        "app-role-assignments" => per_user(&|t| vec![Query::list(format!("/v1.0/users/{}/appRoleAssignments", t.id), Budget::Directory, "Directory.Read.All")]),
        "guests" => vec![Query::list(
            "/v1.0/users?$filter=userType eq 'Guest'&$select=id,userPrincipalName,mail,displayName,createdDateTime,creationType,externalUserState,externalUserStateChangeDateTime,identities&$top=999".into(),
            Budget::Directory,
            "User.Read.All",
        )],
        "auth-methods" => per_user(&|t| {
            vec![
                Query::list(format!("/v1.0/users/{}/authentication/methods", t.id), Budget::Reports, "UserAuthenticationMethod.Read.All"),
                // Legacy per-user MFA state: beta only (graph-api.md 6.5).
                Query::one(format!("/beta/users/{}/authentication/requirements", t.id), Budget::Directory, "Policy.Read.All"),
            ]
        }),
        "auth-registration" => per_user(&|t| vec![Query::list(format!("/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=id eq '{}'", t.id), Budget::Reports, "AuditLog.Read.All")]),
        "mailbox-rules" => per_user(&|t| {
            vec![Query {
                resolve: Some(Resolve::RuleFolders { user_id: t.id.clone() }),
                ..Query::list(format!("/v1.0/users/{}/mailFolders/inbox/messageRules", t.id), Budget::Outlook, "MailboxSettings.Read")
            }]
        }),
        "mailbox-settings" => per_user(&|t| vec![Query::one(format!("/v1.0/users/{}/mailboxSettings", t.id), Budget::Outlook, "MailboxSettings.Read")]),
        "risky-users" => per_user(&|t| vec![Query::list(format!("/v1.0/identityProtection/riskyUsers?$filter=id eq '{}'", t.id), Budget::IdentityProtection, "IdentityRiskyUser.Read.All")]),
        "risk-detections" => per_user(&|t| vec![Query::list(format!("/v1.0/identityProtection/riskDetections?$filter=userId eq '{}'", t.id), Budget::IdentityProtection, "IdentityRiskEvent.Read.All")]),
        _ => return None,
    };
    Some(q)
}
