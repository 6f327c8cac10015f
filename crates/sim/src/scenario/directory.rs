//! `tenant.json`: the directory, mailboxes, authentication methods and risk
//! state as they stand at the anchor, after the attack. Values that summarise
//! logs (signInActivity, devices' last sign-in) are computed from the sign-ins.

use super::catalogue::*;
use super::ids::{at, cloud_sid, guid, role_assignment_id, rule_id, secs, ticks};
use super::messages;
use super::signins::{attacker_device_id, story_request_id};
use super::story::*;
use crate::fixture::{
    App as TokenApp, AppCertificate, Authentication, Exchange, Licence, Mailbox, Tenant,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// An application permission (app role) and the API that defines it.
pub struct Permission {
    pub name: &'static str,
    pub resource: App,
    pub id: &'static str,
}

const fn graph_role(name: &'static str, id: &'static str) -> Permission {
    Permission {
        name,
        resource: GRAPH,
        id,
    }
}

/// Every application permission the collector needs (admin-consented to it).
pub fn tool_permissions() -> &'static [Permission] {
    const PERMISSIONS: [Permission; 19] = [
        graph_role("AuditLog.Read.All", "b0afded3-3588-46d8-8b3d-9842eff778da"),
        graph_role("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
        graph_role("User.Read.All", "df021288-bdef-4463-88db-98f22de89214"),
        graph_role(
            "AuditLogsQuery.Read.All",
            "5e1e9171-754d-478c-812c-f1755a9a4c2d",
        ),
        graph_role(
            "MailboxSettings.Read",
            "40f97065-369a-49f4-947c-6a255697ae91",
        ),
        graph_role("Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01"),
        graph_role(
            "UserAuthenticationMethod.Read.All",
            "38d9df27-64da-44fd-b7c5-a6fbac20248f",
        ),
        graph_role("Policy.Read.All", "246dd0d5-5bd0-4def-940b-0421030a5b68"),
        graph_role(
            "RoleManagement.Read.Directory",
            "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
        ),
        graph_role(
            "IdentityRiskyUser.Read.All",
            "dc5007c0-2d7d-4c42-879c-2dab87571379",
        ),
        graph_role(
            "IdentityRiskEvent.Read.All",
            "6e472fd1-ad78-48da-a0f0-97ab2c6b769e",
        ),
        graph_role(
            "Application.Read.All",
            "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        ),
        graph_role("Device.Read.All", "7438b122-aefc-4978-80ed-43db9fcc7715"),
        graph_role(
            "ExchangeMessageTrace.Read.All",
            "89b20d8a-76e2-4057-867b-9961f800b9a4",
        ),
        graph_role(
            "IdentityRiskyServicePrincipal.Read.All",
            "607c7344-0eed-41e5-823a-9695ebe1b7b0",
        ),
        graph_role(
            "SecurityAlert.Read.All",
            "472e4a4d-bb4a-4026-98d1-0b0d74cb74a5",
        ),
        graph_role(
            "SecurityIncident.Read.All",
            "45cc0394-e837-488b-a098-1918f48d186c",
        ),
        Permission {
            name: "ActivityFeed.Read",
            resource: MANAGEMENT_API,
            id: "594c1fb6-4f81-4475-ae41-0c394909246c",
        },
        // App-only Exchange Online (`--exchange`); app role id from
        // <https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2>.
        Permission {
            name: "Exchange.ManageAsApp",
            resource: EXCHANGE,
            id: "dc50a0fb-09a3-484d-be87-e023b12c6440",
        },
    ];
    &PERMISSIONS
}

const USER_READ_ALL: Permission =
    graph_role("User.Read.All", "df021288-bdef-4463-88db-98f22de89214");
const BACKUP_PERMISSIONS: [Permission; 2] = [
    graph_role("Mail.ReadWrite", "e2a3a72e-5f79-4c64-b1b1-878b674786c9"),
    graph_role("Files.Read.All", "01d4889c-1287-42c6-ac1f-5d1e02578ef6"),
];
/// Delegated scopes (ids of Microsoft Graph's OAuth2 permission scopes).
const MAIL_READ_SCOPE: &str = "570282fd-fa5c-430d-a7fd-fc8dc98a9dca";
const OFFLINE_ACCESS_SCOPE: &str = "7427e0e9-2fba-42fe-b0c0-848c9e6a8182";
const USER_READ_SCOPE: &str = "e1fe6dd8-ba31-4d61-89e7-88639da4683d";

/// Built-in directory roles: (template id, name, description).
const ROLES: [(&str, &str, &str); 7] = [
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins."),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators."),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365."),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", "Can read everything that a Global Administrator can, but not update anything."),
];
const GLOBAL_ADMIN: &str = ROLES[0].0;

/// The break-glass account: a Global Administrator nobody signs in with.
const BREAK_GLASS: &str = "breakglass.admin01";

/// Departments and their Microsoft 365 groups (key, name).
const DEPARTMENTS: [(&str, &str); 11] = [
    ("accounting", "経理部"),
    ("it", "情報システム部"),
    ("planning", "経営企画室"),
    ("sales", "営業部"),
    ("general", "総務部"),
    ("dev", "開発部"),
    ("hr", "人事部"),
    ("marketing", "マーケティング部"),
    ("manufacturing", "製造部"),
    ("legal", "法務部"),
    ("all", "全社員"),
];

fn department_key(name: &str) -> &'static str {
    DEPARTMENTS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(k, _)| *k)
        .expect("a known department")
}

fn group_id(key: &str) -> String {
    guid("group", key).to_string()
}

/// The whole tenant.json, consistent with the given sign-ins.
pub fn tenant(signins: &[Value]) -> Tenant {
    let activity = SignInSummary::of(signins);
    let tool = tenant_app(TOOL);
    let mut owned_objects = BTreeMap::new();
    let attacker_app = tenant_app(ATTACKER_APP);
    owned_objects.insert(
        victim().id.clone(),
        vec![
            attacker_app.object_id.expect("registered").to_string(),
            attacker_app.sp_id.to_string(),
        ],
    );
    owned_objects.insert(
        admin().id.clone(),
        vec![
            tool.object_id.expect("registered").to_string(),
            tool.sp_id.to_string(),
        ],
    );
    owned_objects.insert(
        helpdesk().id.clone(),
        [HR_SYNC, LIMITED]
            .iter()
            .map(|a| tenant_app(*a).object_id.expect("registered").to_string())
            .collect(),
    );
    let mut devices_by_user: BTreeMap<String, Vec<String>> = roster()
        .iter()
        .map(|m| (m.id.clone(), vec![m.laptop_object_id.clone()]))
        .collect();
    devices_by_user
        .get_mut(&victim().id)
        .expect("victim")
        .push(attacker_device_object());
    Tenant {
        tenant_id: TENANT_ID.into(),
        display_name: TENANT_NAME.into(),
        default_domain: DOMAIN.into(),
        licence: Licence::P2,
        anchor: super::ANCHOR.into(),
        apps: token_apps(),
        users: users(&activity),
        groups: groups(),
        role_definitions: ROLES
            .iter()
            .map(|(id, name, description)| {
                json!({"id": id, "description": description, "displayName": name, "isBuiltIn": true,
                       "isEnabled": true, "resourceScopes": ["/"], "templateId": id, "version": "1",
                       "rolePermissions": [{"allowedResourceActions": role_actions(name), "condition": null}]})
            })
            .collect(),
        role_assignments: role_assignments(),
        role_eligibility_schedule_instances: eligibilities(),
        devices: devices(&activity),
        applications: applications(),
        service_principals: service_principals(),
        oauth2_permission_grants: grants(),
        app_role_assignments: app_role_assignments(),
        member_of: roster()
            .iter()
            .map(|m| (m.id.clone(), vec![group_id("all"), group_id(department_key(m.person.department))]))
            .collect(),
        owned_objects,
        registered_devices: devices_by_user.clone(),
        owned_devices: devices_by_user,
        // Exchange's own view is derived from these mailboxes (scenario::exchange).
        exchange: Exchange::default(),
        mailboxes: roster().iter().map(|m| (m.id.clone(), mailbox(m))).collect(),
        authentication: roster().iter().map(|m| (m.id.clone(), authentication(m))).collect(),
        registration_details: roster().iter().map(registration).collect(),
        risky_users: vec![risky_user()],
        risk_detections: risk_detections(),
        message_traces: super::more::message_traces(),
        conditional_access: super::more::conditional_access(),
        authentication_strength_policies: super::more::authentication_strengths(),
        deleted_items: super::more::deleted_items(),
        risky_service_principals: super::more::risky_service_principals(),
        service_principal_risk_detections: super::more::sp_risk_detections(key_id(ATTACKER_APP)),
        security_alerts: super::more::security_alerts(),
        security_incidents: super::more::security_incidents(),
        subscribed_skus: super::more::subscribed_skus(),
        license_details: Default::default(),
    }
}

/// The apps the simulator's token endpoint knows. The demo secret exists only in
/// the simulator (samples/README.md); its hash is what the fixture stores.
fn token_apps() -> Vec<TokenApp> {
    let secret = hex::encode(Sha256::digest(super::DEMO_SECRET.as_bytes()));
    let roles: Vec<String> = tool_permissions()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    vec![
        TokenApp {
            client_id: TOOL.id.into(),
            display_name: TOOL.name.into(),
            secret_sha256: Some(secret.clone()),
            certificates: vec![AppCertificate {
                certificate_pem: super::DEMO_CERTIFICATE_PEM.into(),
            }],
            delegated_scopes: roles.clone(),
            roles,
            public_client: true,
        },
        TokenApp {
            client_id: LIMITED.id.into(),
            display_name: LIMITED.name.into(),
            secret_sha256: Some(secret),
            certificates: Vec::new(),
            roles: vec![USER_READ_ALL.name.into()],
            delegated_scopes: vec![USER_READ_ALL.name.into()],
            public_client: false,
        },
    ]
}

/// Latest sign-in times per user and per device, from the logs.
struct SignInSummary<'a> {
    /// user id -> (interactive, non-interactive, successful) latest sign-ins.
    users: HashMap<&'a str, [Option<&'a Value>; 3]>,
    devices: HashMap<&'a str, &'a str>,
}

impl<'a> SignInSummary<'a> {
    fn of(signins: &'a [Value]) -> Self {
        let mut users: HashMap<&str, [Option<&Value>; 3]> = HashMap::new();
        let mut devices = HashMap::new();
        // Newest first: the first record seen in each slot is the latest.
        for s in signins {
            if let Some(user) = s["userId"].as_str() {
                let slots = users.entry(user).or_default();
                let slot = if s["isInteractive"] == true { 0 } else { 1 };
                slots[slot].get_or_insert(s);
                if s["status"]["errorCode"] == 0 {
                    slots[2].get_or_insert(s);
                }
            }
            if let Some(device) = s["deviceDetail"]["deviceId"]
                .as_str()
                .filter(|d| !d.is_empty())
            {
                devices
                    .entry(device)
                    .or_insert(s["createdDateTime"].as_str().unwrap_or_default());
            }
        }
        SignInSummary { users, devices }
    }

    /// `signInActivity` as Graph shows it (absent for users who never signed in).
    fn activity(&self, user: &str) -> Value {
        let Some(slots) = self.users.get(user) else {
            return Value::Null;
        };
        let pair = |s: Option<&Value>| match s {
            Some(s) => (s["createdDateTime"].clone(), s["id"].clone()),
            None => (Value::Null, Value::Null),
        };
        let ((i, ir), (n, nr), (ok, okr)) = (pair(slots[0]), pair(slots[1]), pair(slots[2]));
        json!({"lastSignInDateTime": i, "lastSignInRequestId": ir,
               "lastNonInteractiveSignInDateTime": n, "lastNonInteractiveSignInRequestId": nr,
               "lastSuccessfulSignInDateTime": ok, "lastSuccessfulSignInRequestId": okr})
    }
}

use super::more::E5_SKU;

fn users(activity: &SignInSummary) -> Vec<Value> {
    let mut out: Vec<Value> = roster().iter().map(|m| member_user(m, activity)).collect();
    out.push(break_glass_user());
    out.extend(guest_users());
    out
}

/// An employee's account, with `signInActivity` if they ever signed in.
fn member_user(m: &Member, activity: &SignInSummary) -> Value {
    let p = m.person;
    let created = if m.index == new_hire().index {
        NEW_HIRE_CREATED.to_string()
    } else {
        format!(
            "20{:02}-04-01T00:{:02}:{:02}Z",
            18 + m.index % 8,
            10 + m.index,
            7 * m.index % 60
        )
    };
    let mut u = json!({
        "id": m.id,
        "businessPhones": [],
        "displayName": m.display_name,
        "givenName": p.given,
        "jobTitle": if p.title.is_empty() { Value::Null } else { json!(p.title) },
        "mail": m.upn,
        "mobilePhone": null,
        "officeLocation": if p.osaka { "大阪支社" } else { "東京本社" },
        "preferredLanguage": "ja-JP",
        "surname": p.surname,
        "userPrincipalName": m.upn,
        "accountEnabled": true,
        "createdDateTime": created,
        "creationType": null,
        "userType": "Member",
        "externalUserState": null,
        "externalUserStateChangeDateTime": null,
        "lastPasswordChangeDateTime": created,
        "passwordPolicies": "DisablePasswordExpiration",
        "signInSessionsValidFromDateTime": created,
        "onPremisesSyncEnabled": null,
        "onPremisesImmutableId": null,
        "onPremisesSamAccountName": null,
        "onPremisesLastSyncDateTime": null,
        "proxyAddresses": [format!("SMTP:{}", m.upn)],
        "otherMails": [],
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": m.upn}],
        "assignedLicenses": [{"disabledPlans": [], "skuId": E5_SKU}],
        "usageLocation": "JP",
        "department": p.department,
        "companyName": TENANT_NAME,
        "employeeId": format!("{:05}", 10_231 + m.index * 17),
        "mailNickname": p.key,
        "securityIdentifier": cloud_sid(&guid("user", p.key)),
        "signInActivity": activity.activity(&m.id),
    });
    if activity.activity(&m.id).is_null() {
        u.as_object_mut().expect("object").remove("signInActivity");
    }
    u
}

/// The unlicensed emergency-access account.
fn break_glass_user() -> Value {
    let break_glass = guid("user", BREAK_GLASS);
    json!({
        "id": break_glass.to_string(), "businessPhones": [], "displayName": "緊急アクセス用アカウント 01",
        "givenName": null, "jobTitle": null, "mail": null, "mobilePhone": null, "officeLocation": null,
        "preferredLanguage": null, "surname": null,
        "userPrincipalName": format!("{BREAK_GLASS}@{DOMAIN}"), "accountEnabled": true,
        "createdDateTime": "2018-03-30T02:11:48Z", "creationType": null, "userType": "Member",
        "externalUserState": null, "externalUserStateChangeDateTime": null,
        "lastPasswordChangeDateTime": "2025-12-01T01:02:03Z", "passwordPolicies": "DisablePasswordExpiration",
        "signInSessionsValidFromDateTime": "2025-12-01T01:02:03Z", "onPremisesSyncEnabled": null,
        "onPremisesImmutableId": null, "onPremisesSamAccountName": null, "onPremisesLastSyncDateTime": null,
        "proxyAddresses": [], "otherMails": [],
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": format!("{BREAK_GLASS}@{DOMAIN}")}],
        "assignedLicenses": [], "usageLocation": "JP", "department": null, "companyName": null,
        "employeeId": null, "mailNickname": BREAK_GLASS, "securityIdentifier": cloud_sid(&break_glass),
    })
}

/// Guests: two business partners who accepted long ago, and the attacker's invitation.
fn guest_users() -> Vec<Value> {
    [
        (
            PARTNER_SENDER,
            "田中 一郎 (ファブリカム商事)",
            "2024-06-12T05:20:11Z",
            "Accepted",
            "2024-06-12T05:31:40Z",
        ),
        (
            "satoshi.watabe@northwind-trading.co.jp",
            "渡部 聡 (ノースウインド商事)",
            "2025-02-03T08:02:55Z",
            "Accepted",
            "2025-02-04T00:15:09Z",
        ),
        (
            GUEST_ADDRESS,
            "IT Support",
            GUEST_INVITED,
            "PendingAcceptance",
            GUEST_INVITED,
        ),
    ]
    .into_iter()
    .map(guest_user)
    .collect()
}

/// A guest: (address, display name, invited, invitation state, state changed).
fn guest_user((address, name, invited, state, changed): (&str, &str, &str, &str, &str)) -> Value {
    let id = guid("user", address);
    let upn = guest_upn(address);
    json!({
        "id": id.to_string(), "businessPhones": [], "displayName": name, "givenName": null,
        "jobTitle": null, "mail": address, "mobilePhone": null, "officeLocation": null,
        "preferredLanguage": null, "surname": null, "userPrincipalName": upn,
        "accountEnabled": true, "createdDateTime": invited, "creationType": "Invitation",
        "userType": "Guest", "externalUserState": state, "externalUserStateChangeDateTime": changed,
        "lastPasswordChangeDateTime": invited, "passwordPolicies": null,
        "signInSessionsValidFromDateTime": invited, "onPremisesSyncEnabled": null,
        "onPremisesImmutableId": null, "onPremisesSamAccountName": null, "onPremisesLastSyncDateTime": null,
        "proxyAddresses": [format!("SMTP:{address}")], "otherMails": [address],
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": upn}],
        "assignedLicenses": [], "usageLocation": null, "department": null, "companyName": null,
        "employeeId": null, "mailNickname": address.replace('@', "_"),
        "securityIdentifier": cloud_sid(&id),
    })
}

fn groups() -> Vec<Value> {
    DEPARTMENTS
        .iter()
        .map(|(key, name)| {
            json!({"@odata.type": "#microsoft.graph.group", "id": group_id(key),
                   "createdDateTime": "2021-04-01T01:00:00Z", "description": format!("{name} のメンバー"),
                   "displayName": name, "groupTypes": ["Unified"], "mail": format!("{key}@{DOMAIN}"),
                   "mailEnabled": true, "mailNickname": key, "securityEnabled": false, "visibility": "Private"})
        })
        .collect()
}

fn role_actions(role: &str) -> Vec<&'static str> {
    match role {
        "Global Administrator" => vec![
            "microsoft.directory/users/allProperties/allTasks",
            "microsoft.directory/applications/allProperties/allTasks",
            "microsoft.directory/roleAssignments/allProperties/allTasks",
        ],
        "Security Reader" | "Global Reader" => vec![
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
        ],
        _ => vec![
            "microsoft.directory/users/basic/update",
            "microsoft.directory/users/password/update",
        ],
    }
}

fn role_id(name: &str) -> &'static str {
    ROLES
        .iter()
        .find(|r| r.1 == name)
        .map(|r| r.0)
        .expect("a known role")
}

fn role_assignments() -> Vec<Value> {
    let break_glass = guid("user", BREAK_GLASS).to_string();
    [
        (admin().id.clone(), GLOBAL_ADMIN),
        (break_glass, GLOBAL_ADMIN),
        (helpdesk().id.clone(), role_id("User Administrator")),
        (helpdesk().id.clone(), role_id("Helpdesk Administrator")),
        (analyst().id.clone(), role_id("Security Reader")),
    ]
    .iter()
    .map(|(principal, role)| {
        let id = role_assignment_id(&role.parse().expect("role GUID"), &principal.parse().expect("user GUID"));
        json!({"id": id, "principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/",
               "appScopeId": null, "condition": null})
    })
    .collect()
}

/// PIM: roles people may activate when needed.
fn eligibilities() -> Vec<Value> {
    [(analyst(), "Security Administrator"), (admin(), "Privileged Role Administrator")]
        .iter()
        .map(|(m, role)| {
            let role = role_id(role);
            let schedule = guid("eligibility", &format!("{}/{role}", m.id)).to_string();
            json!({"id": schedule, "principalId": m.id, "roleDefinitionId": role, "directoryScopeId": "/",
                   "appScopeId": null, "startDateTime": "2025-04-01T00:00:00Z", "endDateTime": null,
                   "memberType": "Direct", "roleEligibilityScheduleId": schedule})
        })
        .collect()
}

fn attacker_device_object() -> String {
    guid("device-object", ATTACKER_DEVICE).to_string()
}

fn devices(activity: &SignInSummary) -> Vec<Value> {
    let last = |device: &str, fallback: &str| {
        activity
            .devices
            .get(device)
            .copied()
            .unwrap_or(fallback)
            .to_string()
    };
    let mut out: Vec<Value> = roster()
        .iter()
        .map(|m| {
            let registered = if m.index == new_hire().index {
                secs(at(NEW_HIRE_CREATED) + chrono::Duration::hours(1))
            } else {
                "2025-03-18T02:30:00Z".to_string()
            };
            json!({"@odata.type": "#microsoft.graph.device", "id": m.laptop_object_id,
                   "accountEnabled": true, "approximateLastSignInDateTime": last(&m.laptop_device_id, &registered),
                   "deviceId": m.laptop_device_id, "deviceOwnership": "Company", "displayName": m.laptop_name,
                   "enrollmentType": "AzureDomainJoined", "isCompliant": true, "isManaged": true,
                   "managementType": "MDM", "manufacturer": "Dell Inc.", "mdmAppId": "0000000a-0000-0000-c000-000000000000",
                   "model": "Latitude 7450", "onPremisesSyncEnabled": null, "operatingSystem": "Windows",
                   "operatingSystemVersion": "10.0.26100.7171", "physicalIds": [], "profileType": "RegisteredDevice",
                   "registrationDateTime": registered, "trustType": "AzureAd"})
        })
        .collect();
    out.push(json!({"@odata.type": "#microsoft.graph.device", "id": attacker_device_object(),
        "accountEnabled": true, "approximateLastSignInDateTime": last(attacker_device_id(), DEVICE_REGISTERED),
        "deviceId": attacker_device_id(), "deviceOwnership": "Personal", "displayName": ATTACKER_DEVICE,
        "enrollmentType": null, "isCompliant": null, "isManaged": null, "managementType": null,
        "manufacturer": null, "mdmAppId": null, "model": null, "onPremisesSyncEnabled": null,
        "operatingSystem": "Windows", "operatingSystemVersion": "10.0.19044.1826", "physicalIds": [],
        "profileType": "RegisteredDevice", "registrationDateTime": DEVICE_REGISTERED, "trustType": "Workplace"}));
    out
}

/// `requiredResourceAccess` entry for one API.
fn access(resource: &App, entries: &[(&str, &str)]) -> Value {
    let list: Vec<Value> = entries
        .iter()
        .map(|(id, kind)| json!({"id": id, "type": kind}))
        .collect();
    json!({"resourceAppId": resource.id, "resourceAccess": list})
}

fn roles_access(permissions: &[Permission]) -> Vec<Value> {
    let mut by_resource: Vec<(App, Vec<(&str, &str)>)> = Vec::new();
    for p in permissions {
        match by_resource.iter_mut().find(|(r, _)| *r == p.resource) {
            Some((_, list)) => list.push((p.id, "Role")),
            None => by_resource.push((p.resource, vec![(p.id, "Role")])),
        }
    }
    by_resource
        .iter()
        .map(|(r, list)| access(r, list))
        .collect()
}

/// What differs between the tenant's app registrations.
struct Registration {
    app: App,
    created: &'static str,
    audience: &'static str,
    access: Vec<Value>,
    redirect: Value,
    password_credentials: Value,
    key_credentials: Value,
    public: bool,
}

fn applications() -> Vec<Value> {
    [
        tool_registration(),
        limited_registration(),
        hr_sync_registration(),
        backup_registration(),
        attacker_registration(),
    ]
    .into_iter()
    .map(application)
    .collect()
}

/// An app registration as `GET /applications` returns it.
fn application(r: Registration) -> Value {
    let t = tenant_app(r.app);
    json!({"@odata.type": "#microsoft.graph.application", "id": t.object_id.expect("registered"),
           "appId": r.app.id, "createdDateTime": r.created, "description": null, "displayName": r.app.name,
           "identifierUris": [], "isFallbackPublicClient": r.public, "keyCredentials": r.key_credentials,
           "notes": null, "passwordCredentials": r.password_credentials, "publicClient": {"redirectUris": []},
           "publisherDomain": DOMAIN, "requiredResourceAccess": r.access, "signInAudience": r.audience,
           "tags": [], "web": {"homePageUrl": null, "logoutUrl": null, "redirectUris": r.redirect,
           "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}}})
}

/// `passwordCredentials` with the app's one client secret.
fn secret(app: App, name: &str, hint: &str, start: &str, end: &str) -> Value {
    json!([{"customKeyIdentifier": null, "displayName": name, "endDateTime": end, "hint": hint,
            "keyId": key_id(app), "secretText": null, "startDateTime": start}])
}

/// The key id of a registered app's secret or certificate.
fn key_id(app: App) -> &'static str {
    match tenant_app(app).credential {
        Credential::Secret { key_id } | Credential::Certificate { key_id, .. } => key_id,
        Credential::ManagedIdentity { .. } => unreachable!("not registered"),
    }
}

/// When the secret of an app registered at `created` was added: as long after
/// as the attacker took.
fn secret_added(created: &str) -> String {
    secs(at(created) + (at(APP_SECRET_ADDED) - at(APP_CREATED)))
}

/// The collector, registered the day before collection.
fn tool_registration() -> Registration {
    Registration {
        app: TOOL,
        created: TOOL_REGISTERED,
        audience: "AzureADMyOrg",
        access: roles_access(tool_permissions()),
        redirect: json!([]),
        password_credentials: secret(
            TOOL,
            "m365-preserve demo",
            "sim",
            &secret_added(TOOL_REGISTERED),
            "2027-05-24T08:14:03Z",
        ),
        key_credentials: json!([]),
        public: true,
    }
}

/// A reporting app with only `User.Read.All`.
fn limited_registration() -> Registration {
    Registration {
        app: LIMITED,
        created: "2024-09-10T04:12:33Z",
        audience: "AzureADMyOrg",
        access: roles_access(&[USER_READ_ALL]),
        redirect: json!([]),
        password_credentials: secret(
            LIMITED,
            "report",
            "sim",
            "2024-09-10T04:13:01Z",
            "2026-12-10T04:13:01Z",
        ),
        key_credentials: json!([]),
        public: false,
    }
}

/// The attendance system's user sync.
fn hr_sync_registration() -> Registration {
    Registration {
        app: HR_SYNC,
        created: "2022-07-04T06:30:12Z",
        audience: "AzureADMyOrg",
        access: roles_access(&[USER_READ_ALL]),
        redirect: json!([]),
        password_credentials: secret(
            HR_SYNC,
            "batch-2026",
            "k7Q",
            "2026-01-15T02:00:41Z",
            "2027-01-15T02:00:41Z",
        ),
        key_credentials: json!([]),
        public: false,
    }
}

/// The backup vendor's multi-tenant app, with a certificate.
fn backup_registration() -> Registration {
    Registration {
        app: BACKUP,
        created: "2023-10-02T01:45:09Z",
        audience: "AzureADMultipleOrgs",
        access: roles_access(&BACKUP_PERMISSIONS),
        redirect: json!(["https://backup.contoso-backup.example/auth/callback"]),
        password_credentials: json!([]),
        key_credentials: json!([{"customKeyIdentifier": "9F2C4E8B1A7D3F6E0C5B8A2D4F1E7C3B9A6D0E2F", "displayName": "CN=contoso-backup",
            "endDateTime": "2027-10-02T01:44:00Z", "key": null, "keyId": key_id(BACKUP),
            "startDateTime": "2025-10-02T01:44:00Z", "type": "AsymmetricX509Cert", "usage": "Verify"}]),
        public: false,
    }
}

/// The attacker's app: delegated mail access, a localhost redirect.
fn attacker_registration() -> Registration {
    Registration {
        app: ATTACKER_APP,
        created: APP_CREATED,
        audience: "AzureADMultipleOrgs",
        access: vec![access(
            &GRAPH,
            &[
                (MAIL_READ_SCOPE, "Scope"),
                (OFFLINE_ACCESS_SCOPE, "Scope"),
                (USER_READ_SCOPE, "Scope"),
            ],
        )],
        redirect: json!(["http://localhost:8400/"]),
        password_credentials: secret(
            ATTACKER_APP,
            "sync",
            "Q~8",
            &secret_added(APP_CREATED),
            "2028-11-17T02:07:31Z",
        ),
        key_credentials: json!([]),
        public: false,
    }
}

fn service_principals() -> Vec<Value> {
    let sp = |a: &App, owner: &str, kind: &str, alternative: Vec<String>| {
        json!({"@odata.type": "#microsoft.graph.servicePrincipal", "id": sp_id(a), "accountEnabled": true,
               "alternativeNames": alternative, "appDisplayName": a.name, "appId": a.id,
               "appOwnerOrganizationId": owner, "appRoleAssignmentRequired": false, "displayName": a.name,
               "keyCredentials": [], "passwordCredentials": [], "servicePrincipalNames": [a.id],
               "servicePrincipalType": kind, "signInAudience": if kind == "ManagedIdentity" { "AzureADMyOrg" } else { "AzureADMultipleOrgs" },
               "tags": if owner == TENANT_ID && kind == "Application" { json!(["WindowsAzureActiveDirectoryIntegratedApp"]) } else { json!([]) }})
    };
    let mut out: Vec<Value> = FIRST_PARTY
        .iter()
        .map(|a| sp(a, MICROSOFT_TENANT, "Application", Vec::new()))
        .collect();
    let (trace_app, trace_name) = super::more::TRACE_APP;
    out.push(json!({"@odata.type": "#microsoft.graph.servicePrincipal",
        "id": guid("servicePrincipal", trace_app).to_string(), "accountEnabled": true,
        "alternativeNames": [], "appDisplayName": trace_name, "appId": trace_app,
        "appOwnerOrganizationId": MICROSOFT_TENANT, "appRoleAssignmentRequired": false,
        "displayName": trace_name, "keyCredentials": [], "passwordCredentials": [],
        "servicePrincipalNames": [trace_app], "servicePrincipalType": "Application",
        "signInAudience": "AzureADMultipleOrgs", "tags": []}));
    for t in &TENANT_APPS {
        out.push(match t.credential {
            Credential::ManagedIdentity {
                user_assigned,
                resource,
            } => sp(
                &t.app,
                TENANT_ID,
                "ManagedIdentity",
                vec![
                    format!(
                        "isExplicit={}",
                        if user_assigned { "True" } else { "False" }
                    ),
                    format!("/subscriptions/{SUBSCRIPTION}/{resource}"),
                ],
            ),
            _ => sp(&t.app, TENANT_ID, "Application", Vec::new()),
        });
    }
    out
}

fn grants() -> Vec<Value> {
    vec![json!({
        "id": guid("oauth2PermissionGrant", ATTACKER_APP.id).to_string(),
        "clientId": tenant_app(ATTACKER_APP).sp_id,
        "consentType": "Principal",
        "principalId": victim().id,
        "resourceId": sp_id(&GRAPH),
        "scope": "Mail.Read offline_access",
    })]
}

/// appRoleAssignment ids: the principal's GUID bytes and a discriminator, base64url.
fn assignment_id(principal: &str, key: &str) -> String {
    let principal: uuid::Uuid = principal.parse().expect("principal GUID");
    let mut bytes = principal.to_bytes_le().to_vec();
    bytes.extend_from_slice(&Sha256::digest(key.as_bytes())[..16]);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn app_role_assignments() -> Vec<Value> {
    let mut out = Vec::new();
    let mut grant = |principal: (&str, &str, &str), role: &str, resource: &App, created: String| {
        out.push(
            json!({"id": assignment_id(principal.0, &format!("{role}/{}", resource.id)),
                        "deletedDateTime": null, "appRoleId": role, "createdDateTime": created,
                        "principalDisplayName": principal.1, "principalId": principal.0,
                        "principalType": principal.2, "resourceDisplayName": resource.name,
                        "resourceId": sp_id(resource)}),
        );
    };
    let consent = secs(at(TOOL_REGISTERED) + chrono::Duration::seconds(259));
    for p in tool_permissions() {
        grant(
            (tenant_app(TOOL).sp_id, TOOL.name, "ServicePrincipal"),
            p.id,
            &p.resource,
            consent.clone(),
        );
    }
    for (app, permissions, created) in [
        (
            LIMITED,
            std::slice::from_ref(&USER_READ_ALL),
            "2024-09-10T04:20:45Z",
        ),
        (
            HR_SYNC,
            std::slice::from_ref(&USER_READ_ALL),
            "2022-07-04T06:41:02Z",
        ),
        (BACKUP, &BACKUP_PERMISSIONS[..], "2023-10-02T01:50:37Z"),
        (
            AUTOMATION_IDENTITY,
            std::slice::from_ref(&USER_READ_ALL),
            "2025-05-20T03:03:19Z",
        ),
    ] {
        for p in permissions {
            grant(
                (tenant_app(app).sp_id, app.name, "ServicePrincipal"),
                p.id,
                &p.resource,
                created.to_string(),
            );
        }
    }
    // User consent to the attacker's app also assigns her its default role.
    grant(
        (&victim().id, &victim().display_name, "User"),
        "00000000-0000-0000-0000-000000000000",
        &ATTACKER_APP,
        APP_CONSENTED.to_string(),
    );
    out
}

/// Well-known folders of a mailbox (English names: the mailboxes were created
/// before the users' Japanese regional settings were applied).
const FOLDERS: [&str; 9] = [
    "Inbox",
    "Drafts",
    "Sent Items",
    "Deleted Items",
    "Junk Email",
    "Archive",
    "Outbox",
    "Conversation History",
    "RSS Feeds",
];

pub use super::more::graph_folder_id;

/// The name of the well-known folder whose Graph id is `id`.
pub fn folder_name(member: &Member, id: &str) -> Option<&'static str> {
    FOLDERS
        .iter()
        .copied()
        .find(|f| graph_folder_id(member, f) == id)
}

fn mailbox(member: &Member) -> Mailbox {
    let root = graph_folder_id(member, "msgfolderroot");
    let folders = FOLDERS
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let total = match *name {
                "Inbox" => 1_200 + n * 37 + member.index * 53,
                "Sent Items" => 400 + member.index * 29,
                "Deleted Items" => 60 + member.index * 7,
                "RSS Feeds" if member.index == victim().index => 6,
                _ => 0,
            };
            json!({"id": graph_folder_id(member, name), "displayName": name, "parentFolderId": root,
                   "childFolderCount": 0, "unreadItemCount": if *name == "RSS Feeds" { 0 } else { total / 40 },
                   "totalItemCount": total, "isHidden": false})
        })
        .collect();
    let mut rules = Vec::new();
    let mut messages = Vec::new();
    if member.index == victim().index {
        // New-InboxRule puts each new rule first: `..` (forward) runs before `.` (hide).
        let words: Vec<&str> = HIDE_WORDS
            .iter()
            .chain(HIDE_WORDS_ADDED.iter())
            .copied()
            .collect();
        rules.push(json!({"id": rule_id("hanako/.."), "displayName": "..", "sequence": 1, "isEnabled": true,
            "hasError": false, "isReadOnly": false, "conditions": {"bodyOrSubjectContains": FORWARD_WORDS},
            "actions": {"forwardTo": [{"emailAddress": {"name": FORWARD_ADDRESS, "address": FORWARD_ADDRESS}}],
                        "stopProcessingRules": false}}));
        rules.push(
            json!({"id": rule_id("hanako/."), "displayName": ".", "sequence": 2, "isEnabled": true,
            "hasError": false, "isReadOnly": false, "conditions": {"bodyOrSubjectContains": words},
            "actions": {"moveToFolder": graph_folder_id(member, "RSS Feeds"), "markAsRead": true,
                        "stopProcessingRules": true}}),
        );
        messages = messages::ALL
            .iter()
            .map(|m| {
                json!({"id": m.graph_id(), "subject": m.subject, "receivedDateTime": m.received,
                       "internetMessageId": m.internet_message_id,
                       "parentFolderId": graph_folder_id(member, m.folder), "eml": m.eml_path()})
            })
            .collect();
    }
    // A few people file system notifications away, the ordinary way.
    if member.index % 5 == 3 || member.index == victim().index {
        rules.push(json!({"id": rule_id(&format!("{}/notifications", member.person.key)), "displayName": "システム通知",
            "sequence": rules.len() + 1, "isEnabled": true, "hasError": false, "isReadOnly": false,
            "conditions": {"senderContains": [format!("noreply@{DOMAIN}")]},
            "actions": {"moveToFolder": graph_folder_id(member, "Archive"), "stopProcessingRules": false}}));
    }
    Mailbox {
        reachable: member.index != ceo().index,
        settings: json!({
            "archiveFolder": graph_folder_id(member, "Archive"),
            "timeZone": "Tokyo Standard Time",
            "automaticRepliesSetting": {"status": "disabled", "externalAudience": "all",
                "scheduledStartDateTime": {"dateTime": "2026-11-25T00:00:00.0000000", "timeZone": "UTC"},
                "scheduledEndDateTime": {"dateTime": "2026-11-26T00:00:00.0000000", "timeZone": "UTC"},
                "internalReplyMessage": "", "externalReplyMessage": ""},
            "language": {"locale": "ja-JP", "displayName": "日本語 (日本)"},
            "dateFormat": "yyyy/MM/dd",
            "timeFormat": "H:mm",
            "userPurpose": "user",
            "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
            "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "09:00:00.0000000", "endTime": "18:00:00.0000000",
                "timeZone": {"name": "Tokyo Standard Time"}},
        }),
        folders: {
            let mut all: Vec<Value> = folders;
            all.extend(super::more::recoverable_folders(member));
            all
        },
        rules,
        messages,
        items: super::more::mail_items(member),
    }
}

fn authentication(member: &Member) -> Authentication {
    let registered = if member.index == new_hire().index {
        secs(at(NEW_HIRE_CREATED) + chrono::Duration::hours(1) + chrono::Duration::seconds(240))
    } else {
        format!(
            "2025-0{}-1{}T0{}:12:44Z",
            4 + member.index % 5,
            member.index % 10,
            member.index % 9
        )
    };
    let authenticator = |name: &str, key: &str, version: &str, created: &str| {
        json!({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
               "id": guid("authenticator", key).to_string(), "displayName": name,
               "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": version, "createdDateTime": created})
    };
    let mut methods = vec![
        json!({"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
               "id": "28c10230-6103-485e-b985-444c60001490", "password": null, "createdDateTime": null}),
        authenticator(
            member.phone_model,
            member.person.key,
            if member.person.android {
                "6.2610.6804"
            } else {
                "6.8.32"
            },
            &registered,
        ),
        json!({"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
               "id": guid("whfb", member.person.key).to_string(), "displayName": member.laptop_name,
               "createdDateTime": registered, "keyStrength": "normal"}),
    ];
    if member.index.is_multiple_of(3) {
        methods.push(json!({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
            "id": "3179e48a-750b-4051-897c-87b9720928f7", "phoneNumber": format!("+81 90{:08}", 10_000_000 + member.index * 7_919),
            "phoneType": "mobile", "smsSignInState": "notAllowedByPolicy"}));
    }
    if member.index == victim().index {
        methods.push(authenticator(
            ATTACKER_PHONE,
            ATTACKER_PHONE,
            "6.2610.6804",
            MFA_REGISTERED,
        ));
    }
    Authentication {
        methods,
        requirements: json!({"perUserMfaState": "disabled"}),
    }
}

fn registration(member: &Member) -> Value {
    let mut methods = vec![
        "microsoftAuthenticatorPush",
        "softwareOneTimePasscode",
        "windowsHelloForBusiness",
    ];
    if member.index.is_multiple_of(3) {
        methods.push("mobilePhone");
    }
    let admin_ids = [admin().index, helpdesk().index, analyst().index];
    let victim = member.index == victim().index;
    json!({
        "id": member.id, "userPrincipalName": member.upn, "userDisplayName": member.display_name,
        "userType": "member", "isAdmin": admin_ids.contains(&member.index),
        "isSsprRegistered": true, "isSsprEnabled": true, "isSsprCapable": true,
        "isMfaRegistered": true, "isMfaCapable": true, "isPasswordlessCapable": true,
        "lastUpdatedDateTime": if victim { ticks(at(MFA_REGISTERED)) } else { "2026-10-20T03:14:07.2233108Z".to_string() },
        "methodsRegistered": methods,
        "isSystemPreferredAuthenticationMethodEnabled": false,
        "systemPreferredAuthenticationMethods": [],
        // The attacker switched her default to codes so that pushes stop reaching her phone.
        "userPreferredMethodForSecondaryAuthentication": if victim { "oath" } else { "push" },
    })
}

fn risky_user() -> Value {
    let v = victim();
    let last = DETECTIONS.iter().map(Detection::detected).max();
    json!({"id": v.id, "isDeleted": false, "isProcessing": false, "riskDetail": "none",
           "riskLastUpdatedDateTime": last.map(secs), "riskLevel": "high", "riskState": "atRisk",
           "userDisplayName": v.display_name, "userPrincipalName": v.upn})
}

/// An Identity Protection detection on one of the attacker's sign-ins.
struct Detection {
    event: &'static str,
    /// The sign-in: its time and its key for `story_request_id`.
    signin: (&'static str, &'static str),
    /// Minutes after the sign-in an offline detection was made (`None`: real time).
    offline_after: Option<i64>,
    place: &'static Place,
    user_agent: &'static str,
    level: &'static str,
    source: &'static str,
}

impl Detection {
    fn detected(&self) -> chrono::DateTime<chrono::Utc> {
        at(self.signin.0) + chrono::Duration::minutes(self.offline_after.unwrap_or(0))
    }
}

const DETECTIONS: [Detection; 5] = [
    Detection {
        event: "unfamiliarFeatures",
        signin: (AITM_SUCCEEDED, "aitm"),
        offline_after: None,
        place: &AITM_PROXY,
        user_agent: EDGE_WINDOWS.user_agent,
        level: "medium",
        source: "IdentityProtection",
    },
    Detection {
        event: "attackerinTheMiddle",
        signin: (AITM_SUCCEEDED, "aitm"),
        offline_after: Some(131),
        place: &AITM_PROXY,
        user_agent: EDGE_WINDOWS.user_agent,
        level: "high",
        source: "MicrosoftCloudAppSecurity",
    },
    Detection {
        event: "anomalousToken",
        signin: (SESSION_REPLAYED, "replay"),
        offline_after: Some(164),
        place: &ATTACKER,
        user_agent: ATTACKER_CHROME.user_agent,
        level: "high",
        source: "IdentityProtection",
    },
    Detection {
        event: "unlikelyTravel",
        signin: (SESSION_REPLAYED, "replay"),
        offline_after: Some(251),
        place: &ATTACKER,
        user_agent: ATTACKER_CHROME.user_agent,
        level: "medium",
        source: "IdentityProtection",
    },
    Detection {
        event: "anonymizedIPAddress",
        signin: (TOR_SIGNIN, "tor"),
        offline_after: None,
        place: &TOR_EXIT,
        user_agent: TOR_BROWSER.user_agent,
        level: "medium",
        source: "IdentityProtection",
    },
];

fn risk_detections() -> Vec<Value> {
    let v = victim();
    DETECTIONS
        .iter()
        .map(|d| {
            let request = story_request_id(d.signin.1).to_string();
            let detected = secs(d.detected());
            json!({
                "id": hex::encode(Sha256::digest(format!("{}/{request}", d.event).as_bytes())),
                "requestId": request,
                "correlationId": guid("risk-correlation", &request).to_string(),
                "riskEventType": d.event,
                "riskState": "atRisk",
                "riskLevel": d.level,
                "riskDetail": "none",
                "source": d.source,
                "detectionTimingType": if d.offline_after.is_some() { "offline" } else { "realtime" },
                "activity": "signin",
                "tokenIssuerType": "AzureAD",
                "ipAddress": d.place.ip,
                "location": {"city": d.place.city, "state": d.place.state, "countryOrRegion": d.place.country,
                             "geoCoordinates": {"latitude": d.place.latitude, "longitude": d.place.longitude}},
                "activityDateTime": d.signin.0,
                "detectedDateTime": detected,
                "lastUpdatedDateTime": detected,
                "userId": v.id,
                "userDisplayName": v.display_name,
                "userPrincipalName": v.upn,
                "additionalInfo": serde_json::to_string(&json!([{"Key": "userAgent", "Value": d.user_agent}])).expect("JSON"),
            })
        })
        .collect()
}
