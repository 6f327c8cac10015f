//! Which requests make up each source, for the given targets and windows.

use crate::{Budget, Cmdlet, Source, Target, Window};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
    /// Defender XDR alerts (or incidents, through their `alerts`) whose
    /// evidence names one of these users (UPN or address, any case; object id).
    Evidence {
        upns: Vec<String>,
        ids: Vec<String>,
    },
    /// Message-trace rows received inside the window whose sender is none of
    /// `not_from` and whose recipient is none of `not_to` (any case): those
    /// rows belong to another query, so each row is kept exactly once.
    TraceRows {
        window: Window,
        not_from: Vec<String>,
        not_to: Vec<String>,
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
    /// The service may not serve this request here (beta-only, undocumented
    /// folder): a 400 or 404 is this note, not a gap.
    pub optional: Option<&'static str>,
    /// Asked instead when the service refuses this query's filter (400).
    pub fallback: Option<Box<Query>>,
}

impl Query {
    /// A collection query with no extras (keep everything, no fallback).
    pub fn list(path: String, budget: Budget, permission: &'static str) -> Self {
        Self {
            path,
            budget,
            permission,
            single: false,
            without_premium: None,
            licence_optional: None,
            resolve: None,
            keep: Keep::All,
            optional: None,
            fallback: None,
        }
    }
    pub(crate) fn one(path: String, budget: Budget, permission: &'static str) -> Self {
        Self {
            single: true,
            ..Self::list(path, budget, permission)
        }
    }
}

/// Properties of the user snapshot: the default set plus those an investigator
/// needs that Graph returns only on `$select`
/// (<https://learn.microsoft.com/graph/api/resources/user>).
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

/// Purview windows are cut into slices this long (one server-side query each).
pub const AUDIT_SLICE: chrono::Duration = chrono::Duration::days(30);

/// Which service principals' sign-ins to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum SpScope {
    /// The whole tenant: an attacker's app is not known in advance.
    Tenant,
    /// Apps the targets own, consented to or are assigned to.
    Linked,
}

/// Graph version of the audit-log query API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum AuditApi {
    #[cfg_attr(feature = "clap", value(name = "v1.0"))]
    #[serde(rename = "v1.0")]
    V1,
    #[cfg_attr(feature = "clap", value(name = "beta"))]
    #[serde(rename = "beta")]
    Beta,
}

impl AuditApi {
    /// The URL path segment of this version.
    pub fn segment(self) -> &'static str {
        match self {
            AuditApi::V1 => "v1.0",
            AuditApi::Beta => "beta",
        }
    }
}

/// What links the targets to applications: service principals they own, the
/// clients of their consent grants and the apps they are assigned to (by object
/// id), and the app registrations they own (by app id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linked {
    pub service_principal_ids: BTreeSet<String>,
    pub app_ids: BTreeSet<String>,
}

/// Everything a plan is made from.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    pub targets: &'a [Target],
    /// The window of the Entra logs (and snapshots' context).
    pub entra: Window,
    /// The window of the Purview audit log.
    pub purview: Window,
    /// `--sp-scope linked`: service-principal sign-ins of these apps only.
    pub linked: Option<&'a Linked>,
    /// `--message-id`.
    pub message_ids: &'a [String],
    /// The message-trace window: at most 90 days back, whole seconds.
    pub trace: Window,
    /// Internet Message-IDs (`<...@...>`) of the phishing messages.
    pub internet_message_ids: &'a [String],
    /// `--phish-sender`.
    pub phish_senders: &'a [String],
}

/// How a source is collected.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Graph requests whose records, in this order, make up the source.
    Queries(Vec<Query>),
    /// Server-side Purview audit-log queries, one per window, for these users.
    AuditLogQueries {
        windows: Vec<Window>,
        upns: Vec<String>,
    },
    /// Messages fetched by id as MIME, from whichever target's mailbox holds them.
    Messages { ids: Vec<String> },
    /// Exchange Online cmdlets whose output, in this order, makes up the source.
    Cmdlets(Vec<Cmdlet>),
    /// Not served by Graph: the source comes only from imported exports.
    ImportOnly,
}

fn signins(event_type: &str, targets: &[Target], whole: &Window, scope: Scope) -> Vec<Query> {
    whole
        .split(SLICE)
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

impl Source {
    /// The requests that collect this source for `input`.
    pub fn plan(self, input: &PlanInput<'_>) -> Plan {
        let (targets, w) = (input.targets, &input.entra);
        let queries = match self {
            Source::PurviewAudit => {
                return Plan::AuditLogQueries {
                    windows: input.purview.split(AUDIT_SLICE),
                    upns: targets.iter().map(|t| t.upn.clone()).collect(),
                }
            }
            Source::Messages => {
                return Plan::Messages {
                    ids: input.message_ids.to_vec(),
                }
            }
            Source::ExchangeInboxRules
            | Source::ExchangeMailbox
            | Source::ExchangePermissions
            | Source::ExchangeTransportRules
            | Source::ExchangeAuditConfig => return Plan::Cmdlets(exchange(self, targets)),
            Source::GraphActivity | Source::Provisioning => return Plan::ImportOnly,
            Source::SigninsInteractive => signins("interactiveUser", targets, w, Scope::Users),
            Source::SigninsNonInteractive => {
                signins("nonInteractiveUser", targets, w, Scope::Users)
            }
            Source::SigninsServicePrincipal => match input.linked {
                Some(linked) => signins("servicePrincipal", targets, w, Scope::Apps(linked)),
                None => signins("servicePrincipal", targets, w, Scope::Tenant),
            },
            Source::SigninsManagedIdentity => signins("managedIdentity", targets, w, Scope::Tenant),
            Source::EntraAudit => directory_audits(targets, w),
            Source::User => per_user(targets, user_snapshot),
            Source::UserMemberships => per_user(targets, memberships),
            Source::UserRoles => per_user(targets, role_assignments),
            Source::UserOwnedObjects => per_user(targets, owned_objects),
            Source::Devices => per_user(targets, devices),
            Source::Applications => vec![directory(
                "/v1.0/applications".into(),
                "Application.Read.All",
            )],
            Source::ServicePrincipals => {
                vec![directory(
                    "/v1.0/servicePrincipals".into(),
                    "Application.Read.All",
                )]
            }
            Source::Oauth2Grants => {
                let mut q = per_user(targets, consent_grants);
                q.push(directory(
                    "/v1.0/oauth2PermissionGrants?$filter=consentType eq 'AllPrincipals'".into(),
                    "Directory.Read.All",
                ));
                q
            }
            Source::AppRoleAssignments => per_user(targets, app_role_assignments),
            Source::Guests => vec![directory(
                format!("/v1.0/users?$filter=userType eq 'Guest'&$select={GUEST_SELECT}&$top=999"),
                "User.Read.All",
            )],
            Source::AuthMethods => per_user(targets, auth_methods),
            Source::AuthRegistration => per_user(targets, registration),
            Source::MailboxRules => per_user(targets, inbox_rules),
            Source::MailboxSettings => per_user(targets, mailbox_settings),
            Source::RiskyUsers => per_user(targets, risky_user),
            Source::RiskDetections => per_user(targets, risk_detections),
            Source::MessageTrace => crate::more::message_trace(input),
            Source::ConditionalAccess => crate::more::conditional_access(),
            Source::DeletedObjects => crate::more::deleted_objects(),
            Source::RiskyServicePrincipals => crate::more::risky_service_principals(),
            Source::ServicePrincipalRiskDetections => crate::more::sp_risk_detections(),
            Source::SecurityAlerts => crate::more::security_alerts(targets, &input.purview),
            Source::SecurityIncidents => crate::more::security_incidents(targets, &input.purview),
            Source::MailSent => per_user(targets, |t| crate::more::mail_sent(t, &input.purview)),
            Source::MailDeleted => {
                per_user(targets, |t| crate::more::mail_deleted(t, &input.purview))
            }
            Source::Licences => crate::more::licences(targets),
        };
        Plan::Queries(queries)
    }
}

/// The cmdlets of an Exchange source. Inbox rules are asked for twice per
/// mailbox, with `-IncludeHidden` first (its result is the evidence) and then
/// without (a rule only the first lists is hidden).
fn exchange(source: Source, targets: &[Target]) -> Vec<Cmdlet> {
    let upns = targets.iter().map(|t| t.upn.clone());
    match source {
        Source::ExchangeInboxRules => upns
            .flat_map(|mailbox| {
                [true, false].map(|include_hidden| Cmdlet::GetInboxRule {
                    mailbox: mailbox.clone(),
                    include_hidden,
                })
            })
            .collect(),
        Source::ExchangeMailbox => upns
            .map(|identity| Cmdlet::GetMailbox { identity })
            .collect(),
        Source::ExchangePermissions => upns
            .flat_map(|identity| {
                [
                    Cmdlet::GetMailboxPermission {
                        identity: identity.clone(),
                    },
                    Cmdlet::GetRecipientPermission { identity },
                ]
            })
            .collect(),
        Source::ExchangeTransportRules => vec![Cmdlet::GetTransportRule],
        Source::ExchangeAuditConfig => vec![
            Cmdlet::GetAdminAuditLogConfig,
            Cmdlet::GetMailboxAuditBypassAssociation,
        ],
        _ => Vec::new(),
    }
}

/// Properties of guest users an investigator needs.
const GUEST_SELECT: &str = "id,userPrincipalName,mail,displayName,createdDateTime,creationType,externalUserState,externalUserStateChangeDateTime,identities";

pub(crate) fn per_user(targets: &[Target], f: impl Fn(&Target) -> Vec<Query>) -> Vec<Query> {
    targets.iter().flat_map(f).collect()
}

/// A directory-object collection.
pub(crate) fn directory(path: String, permission: &'static str) -> Query {
    Query::list(path, Budget::Directory, permission)
}

/// Directory audits by and on each target, in 7-day slices, oldest first.
fn directory_audits(targets: &[Target], whole: &Window) -> Vec<Query> {
    let mut out = Vec::new();
    for w in whole.split(SLICE) {
        let window = time_filter("activityDateTime", &w);
        for t in targets {
            for f in [
                format!("initiatedBy/user/id eq '{}'", t.id),
                format!("targetResources/any(t: t/id eq '{}')", t.id),
            ] {
                out.push(Query {
                    keep: Keep::InWindow {
                        field: "activityDateTime",
                        window: w,
                    },
                    ..Query::list(
                        format!("/v1.0/auditLogs/directoryAudits?$filter={f} and {window}"),
                        Budget::Reports,
                        "AuditLog.Read.All",
                    )
                });
            }
        }
    }
    out
}

fn user_snapshot(t: &Target) -> Vec<Query> {
    vec![Query {
        without_premium: Some(format!("/v1.0/users/{}?$select={USER_SELECT}", t.id)),
        ..Query::one(
            format!("/v1.0/users/{}?$select={USER_SELECT},signInActivity", t.id),
            Budget::Directory,
            "User.Read.All",
        )
    }]
}

fn memberships(t: &Target) -> Vec<Query> {
    vec![directory(
        format!("/v1.0/users/{}/transitiveMemberOf", t.id),
        "GroupMember.Read.All",
    )]
}

/// Active role assignments (with the roles), and PIM eligibility (named by lookup).
fn role_assignments(t: &Target) -> Vec<Query> {
    vec![
        directory(
            format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{}'&$expand=roleDefinition", t.id),
            "RoleManagement.Read.Directory",
        ),
        Query {
            resolve: Some(Resolve::RoleNames),
            licence_optional: Some("PIM eligible assignments exist only with Entra ID P2 or Governance; this tenant has neither, so there are none to collect"),
            ..directory(
                format!("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId eq '{}'", t.id),
                "RoleManagement.Read.Directory",
            )
        },
    ]
}

fn owned_objects(t: &Target) -> Vec<Query> {
    vec![directory(
        format!("/v1.0/users/{}/ownedObjects", t.id),
        "User.Read.All",
    )]
}

fn devices(t: &Target) -> Vec<Query> {
    ["registeredDevices", "ownedDevices"]
        .iter()
        .map(|p| directory(format!("/v1.0/users/{}/{p}", t.id), "Device.Read.All"))
        .collect()
}

fn consent_grants(t: &Target) -> Vec<Query> {
    vec![directory(
        format!(
            "/v1.0/oauth2PermissionGrants?$filter=principalId eq '{}'",
            t.id
        ),
        "Directory.Read.All",
    )]
}

fn app_role_assignments(t: &Target) -> Vec<Query> {
    vec![directory(
        format!("/v1.0/users/{}/appRoleAssignments", t.id),
        "Directory.Read.All",
    )]
}

fn auth_methods(t: &Target) -> Vec<Query> {
    vec![
        Query::list(
            format!("/v1.0/users/{}/authentication/methods", t.id),
            Budget::Reports,
            "UserAuthenticationMethod.Read.All",
        ),
        // Legacy per-user MFA state: beta only
        // (<https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates>).
        Query::one(
            format!("/beta/users/{}/authentication/requirements", t.id),
            Budget::Directory,
            "Policy.Read.All",
        ),
    ]
}

fn registration(t: &Target) -> Vec<Query> {
    vec![Query::list(
        format!(
            "/v1.0/reports/authenticationMethods/userRegistrationDetails?$filter=id eq '{}'",
            t.id
        ),
        Budget::Reports,
        "AuditLog.Read.All",
    )]
}

fn mailbox_settings(t: &Target) -> Vec<Query> {
    vec![Query::one(
        format!("/v1.0/users/{}/mailboxSettings", t.id),
        Budget::Outlook,
        "MailboxSettings.Read",
    )]
}

fn risky_user(t: &Target) -> Vec<Query> {
    vec![Query::list(
        format!(
            "/v1.0/identityProtection/riskyUsers?$filter=id eq '{}'",
            t.id
        ),
        Budget::IdentityProtection,
        "IdentityRiskyUser.Read.All",
    )]
}

fn risk_detections(t: &Target) -> Vec<Query> {
    vec![Query::list(
        format!(
            "/v1.0/identityProtection/riskDetections?$filter=userId eq '{}'",
            t.id
        ),
        Budget::IdentityProtection,
        "IdentityRiskEvent.Read.All",
    )]
}

fn inbox_rules(t: &Target) -> Vec<Query> {
    vec![Query {
        resolve: Some(Resolve::RuleFolders {
            user_id: t.id.clone(),
        }),
        ..Query::list(
            format!("/v1.0/users/{}/mailFolders/inbox/messageRules", t.id),
            Budget::Outlook,
            "MailboxSettings.Read",
        )
    }]
}
