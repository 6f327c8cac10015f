//! Directory audits (`directoryAudit`, the shape Graph returns): the tenant's
//! daily administration and service noise, and every change the attacker made.

use super::catalogue::*;
use super::ids::{at, audit_id, guid, random_guid, secs, ticks};
use super::signins::attacker_device_id;
use super::story::*;
use chrono::{DateTime, Duration, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Who performed an audited change.
enum Actor<'a> {
    /// A signed-in user, from an address.
    User(&'a Member, &'a str),
    /// A service acting on its own (Intune, the MFA service, ...).
    Service(&'static str),
}

struct Audit<'a> {
    time: DateTime<Utc>,
    service: &'static str,
    category: &'static str,
    activity: &'static str,
    operation: &'static str,
    reason: String,
    actor: Actor<'a>,
    targets: Vec<Value>,
    details: Vec<(&'static str, String)>,
}

impl<'a> Audit<'a> {
    fn new(
        time: DateTime<Utc>,
        (service, category): (&'static str, &'static str),
        activity: &'static str,
        actor: Actor<'a>,
    ) -> Self {
        let operation = match activity.split_whitespace().next() {
            Some("Add" | "Register" | "Invite") => "Add",
            Some("Delete" | "Remove") => "Delete",
            Some("Consent") => "Assign",
            _ if activity.starts_with("User registered") => "Add",
            _ => "Update",
        };
        Audit {
            time,
            service,
            category,
            activity,
            operation,
            reason: String::new(),
            actor,
            targets: Vec::new(),
            details: Vec::new(),
        }
    }

    fn target(mut self, target: Value) -> Self {
        self.targets.push(target);
        self
    }

    fn detail(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.details.push((key, value.into()));
        self
    }

    fn reason(mut self, reason: &str) -> Self {
        self.reason = reason.to_string();
        self
    }

    fn to_value(&self, rng: &mut impl Rng) -> Value {
        let correlation = random_guid(rng);
        let prefix = match self.service {
            CORE => "Directory",
            SSPR => "SSPR",
            other => other,
        };
        // Core Directory stamps .NET ticks; the other services whole seconds.
        let time = if self.service == CORE {
            ticks(self.time)
        } else {
            secs(self.time)
        };
        let initiated_by = match &self.actor {
            Actor::User(member, ip) => json!({"app": null, "user": {
                "id": member.id,
                "displayName": if self.service == CORE { Value::Null } else { json!(member.display_name) },
                "userPrincipalName": member.upn, "ipAddress": ip,
                "userType": null, "homeTenantId": null, "homeTenantName": null}}),
            Actor::Service(name) => json!({"user": null, "app": {
                "appId": null, "displayName": name,
                "servicePrincipalId": guid("servicePrincipal", name).to_string(),
                "servicePrincipalName": null}}),
        };
        let details: Vec<Value> = self
            .details
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        json!({
            "id": audit_id(prefix, &correlation, rng),
            "category": self.category,
            "correlationId": correlation.to_string(),
            "result": "success",
            "resultReason": self.reason,
            "activityDisplayName": self.activity,
            "activityDateTime": time,
            "loggedByService": self.service,
            "operationType": self.operation,
            "initiatedBy": initiated_by,
            "targetResources": self.targets,
            "additionalDetails": details,
        })
    }
}

const CORE: &str = "Core Directory";
const SSPR: &str = "Self-service Password Management";
const AUTH_METHODS: &str = "Authentication Methods";
const USERS: (&str, &str) = (CORE, "UserManagement");
const GROUPS: (&str, &str) = (CORE, "GroupManagement");
const APPS: (&str, &str) = (CORE, "ApplicationManagement");
const DEVICES: (&str, &str) = (CORE, "Device");
const SECURITY_INFO: (&str, &str) = (AUTH_METHODS, "UserManagement");
const MFA_SERVICE: &str = "Azure MFA StrongAuthenticationService";

/// A target resource; `props` are (name, old, new) with values already JSON-encoded,
/// as Graph returns them.
fn target(
    id: &str,
    name: Option<&str>,
    kind: &str,
    upn: Option<&str>,
    props: &[(&str, Option<String>, String)],
) -> Value {
    let props: Vec<Value> = props
        .iter()
        .map(|(n, old, new)| json!({"displayName": n, "oldValue": old, "newValue": new}))
        .collect();
    json!({"id": id, "displayName": name, "type": kind, "userPrincipalName": upn,
           "groupType": null, "modifiedProperties": props})
}

fn user_target(member: &Member, props: &[(&str, Option<String>, String)]) -> Value {
    target(&member.id, None, "User", Some(&member.upn), props)
}

/// JSON text of a value, the way modifiedProperties carry it.
fn enc(value: impl serde::Serialize) -> String {
    serde_json::to_string(&value).expect("JSON")
}

fn included(names: &str) -> (&'static str, Option<String>, String) {
    ("Included Updated Properties", None, enc(names))
}

/// One Authenticator registration as `StrongAuthenticationPhoneAppDetail` lists it.
fn phone_app(name: &str, key: &str, android: bool, last_used: &str) -> Value {
    let token = hex::encode(super::ids::number(key).to_be_bytes());
    json!({
        "DeviceName": name,
        "DeviceToken": if android { format!("fK{token}:APA91bH{token}{token}") } else { format!("apns2-{token}{token}{token}{token}") },
        "DeviceTag": "SoftwareTokenActivated",
        "PhoneAppVersion": if android { "6.2610.6804" } else { "6.8.32" },
        "OathTokenTimeDrift": 0,
        "DeviceId": "00000000-0000-0000-0000-000000000000",
        "Id": guid("authenticator", key).to_string(),
        "TimeInterval": 0,
        "AuthenticationType": 3,
        "NotificationType": if android { 4 } else { 2 },
        "LastAuthenticatedTimestamp": last_used,
        "AuthenticatorFlavor": "Authenticator",
        "HashFunction": null,
        "TenantDeviceId": null,
        "SecuredPartitionId": 20012,
        "SecuredKeyId": 7,
    })
}

/// Tracks each user's Authenticator registrations and when each last approved,
/// to write the MFA service's `Update user` after every approval.
struct PhoneApps {
    last: HashMap<String, String>,
}

impl PhoneApps {
    fn detail(&self, member: &Member) -> String {
        let mut apps = vec![phone_app(
            member.phone_model,
            member.person.key,
            member.person.android,
            &self.last[member.person.key],
        )];
        if let Some(attacker) = self.last.get(ATTACKER_PHONE) {
            if member.index == victim().index {
                apps.push(phone_app(ATTACKER_PHONE, ATTACKER_PHONE, true, attacker));
            }
        }
        enc(apps)
    }

    /// Records an approval and returns the audit the MFA service writes for it.
    fn approved<'a>(
        &mut self,
        member: &'a Member,
        device_key: &str,
        time: DateTime<Utc>,
    ) -> Audit<'a> {
        let old = self.detail(member);
        self.last.insert(device_key.to_string(), ticks(time));
        let new = self.detail(member);
        Audit::new(
            time + Duration::milliseconds(420),
            USERS,
            "Update user",
            Actor::Service(MFA_SERVICE),
        )
        .target(user_target(
            member,
            &[
                ("StrongAuthenticationPhoneAppDetail", Some(old), new),
                included("StrongAuthenticationPhoneAppDetail"),
                ("TargetId.UserType", None, enc("Member")),
            ],
        ))
        .detail("UserType", "Member")
    }
}

/// All directory audits of the default fixture, newest first.
pub fn generate(signins: &[Value]) -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(0xa0d1_7e55);
    let mut audits = Vec::new();
    audits.extend(mfa_approvals(signins));
    audits.extend(service_noise(&mut rng));
    audits.extend(administration());
    audits.extend(attack());
    audits.extend(tool_registration());
    let (start, end) = (at(WINDOW_START), at(super::ANCHOR));
    audits.retain(|a| a.time >= start && a.time < end);
    // Core Directory writes sub-second times; give whole-second events their fraction.
    for a in audits
        .iter_mut()
        .filter(|a| a.service == CORE && a.time.nanosecond() == 0)
    {
        a.time += Duration::nanoseconds(rng.gen_range(0..1_000_000_000) / 100 * 100);
    }
    audits.sort_by_key(|r| std::cmp::Reverse(r.time));
    audits.iter().map(|a| a.to_value(&mut rng)).collect()
}

/// Each push or code approval updates the approving device's last-use time.
fn mfa_approvals(signins: &[Value]) -> Vec<Audit<'static>> {
    let by_id: HashMap<&str, &Member> = roster().iter().map(|m| (m.id.as_str(), m)).collect();
    // (time, person, which Authenticator): every approval in the sign-ins, and the
    // attacker's registration, which the MFA service records the same way.
    let mut events = vec![(
        at(MFA_REGISTERED) - Duration::milliseconds(400),
        victim(),
        ATTACKER_PHONE,
    )];
    for s in signins.iter().filter(|s| s["status"]["errorCode"] == 0) {
        let Some(member) = s["userId"].as_str().and_then(|id| by_id.get(id)) else {
            continue;
        };
        let steps = s["authenticationDetails"].as_array().into_iter().flatten();
        let device = steps
            .filter_map(|step| step["authenticationMethod"].as_str())
            .find_map(|method| match method {
                "Mobile app notification" => Some(member.person.key),
                // Codes come from the attacker's app: her default since the registration.
                "OATH verification code" => Some(ATTACKER_PHONE),
                _ => None,
            });
        if let Some(device) = device {
            events.push((
                at(s["createdDateTime"].as_str().expect("createdDateTime")),
                member,
                device,
            ));
        }
    }
    events.sort_by_key(|e| e.0);
    let mut phones = PhoneApps {
        last: roster()
            .iter()
            .map(|m| {
                (
                    m.person.key.to_string(),
                    "2026-10-23T00:41:12.5531407Z".to_string(),
                )
            })
            .collect(),
    };
    events
        .into_iter()
        .map(|(time, member, device)| phones.approved(member, device, time))
        .collect()
}

/// Microsoft services touching objects on their own: mailbox provisioning
/// syncs and Intune recording the November Windows update.
fn service_noise(rng: &mut impl Rng) -> Vec<Audit<'static>> {
    let start = at(WINDOW_START);
    let mut out = Vec::new();
    for day in 0..30 {
        for _ in 0..rng.gen_range(7..12) {
            let member = &roster()[rng.gen_range(0..roster().len())];
            let time = start + Duration::days(day) + Duration::seconds(rng.gen_range(0..86_400));
            out.push(
                Audit::new(
                    time,
                    USERS,
                    "Update user",
                    Actor::Service("Microsoft Substrate Management"),
                )
                .target(user_target(
                    member,
                    &[included(""), ("TargetId.UserType", None, enc("Member"))],
                ))
                .detail("UserType", "Member"),
            );
        }
    }
    let patched = at("2026-11-11T00:00:00Z");
    for member in roster() {
        let time = patched + Duration::seconds(rng.gen_range(0..5 * 86_400));
        out.push(
            Audit::new(
                time,
                DEVICES,
                "Update device",
                Actor::Service("Microsoft Intune"),
            )
            .target(target(
                &member.laptop_object_id,
                Some(&member.laptop_name),
                "Device",
                None,
                &[
                    (
                        "DeviceOSVersion",
                        Some(enc(["10.0.26100.6899"])),
                        enc(["10.0.26100.7171"]),
                    ),
                    included("DeviceOSVersion"),
                ],
            )),
        );
    }
    out
}

/// The IT department's routine work in the window, one step per errand.
fn administration() -> Vec<Audit<'static>> {
    let mut out = vec![job_title_change()];
    out.extend(helpdesk_reset());
    out.push(geo_policy());
    out.extend(new_hire_account());
    out.extend(new_hire_laptop());
    out.extend(housekeeping());
    out.extend(self_service_password_changes());
    out
}

/// A change the Global Administrator made from the Tokyo office.
fn by_admin(
    time: &str,
    scope: (&'static str, &'static str),
    activity: &'static str,
) -> Audit<'static> {
    Audit::new(
        at(time),
        scope,
        activity,
        Actor::User(admin(), TOKYO_OFFICE.ip),
    )
}

/// A group as an audit target.
fn group_target(key: &str, name: &str) -> Value {
    target(
        &guid("group", key).to_string(),
        Some(name),
        "Group",
        None,
        &[],
    )
}

/// The targets of "Add member to group": the group, then the new member.
fn member_of(m: &Member, key: &str, name: &str) -> Vec<Value> {
    vec![
        group_target(key, name),
        user_target(m, &[("Group.DisplayName", None, enc(name))]),
    ]
}

/// A promotion recorded on the profile.
fn job_title_change() -> Audit<'static> {
    let ito = &roster()[4];
    by_admin("2026-10-27T02:14:09Z", USERS, "Update user").target(user_target(
        ito,
        &[
            ("JobTitle", Some(enc(["課長"])), enc(["部長"])),
            included("JobTitle"),
        ],
    ))
}

/// A forgotten password, reset by the helpdesk.
fn helpdesk_reset() -> [Audit<'static>; 2] {
    let (helpdesk, office) = (helpdesk(), TOKYO_OFFICE.ip);
    let yamazaki = &roster()[20];
    [
        Audit::new(
            at("2026-10-29T05:41:30Z"),
            (SSPR, "UserManagement"),
            "Reset password (by admin)",
            Actor::User(helpdesk, office),
        )
        .target(target(
            &yamazaki.id,
            Some(&yamazaki.display_name),
            "User",
            Some(&yamazaki.upn),
            &[],
        ))
        .reason("None")
        .detail("OnPremisesAgent", "None"),
        Audit::new(
            at("2026-10-29T05:41:31Z"),
            USERS,
            "Reset user password",
            Actor::User(helpdesk, office),
        )
        .target(user_target(
            yamazaki,
            &[("TargetId.UserType", None, enc("Member"))],
        )),
    ]
}

/// The geo-block the attacker would have hit, added in report-only mode.
fn geo_policy() -> Audit<'static> {
    let geo_id = CA_GEO.id;
    let policy = json!({"id": geo_id, "displayName": CA_GEO.name, "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                       "locations": {"includeLocations": ["All"], "excludeLocations": [guid("namedLocation", "japan").to_string()]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}});
    Audit::new(
        at(GEO_POLICY_ADDED),
        ("Conditional Access", "Policy"),
        "Add conditional access policy",
        Actor::User(admin(), TOKYO_OFFICE.ip),
    )
    .target(target(
        geo_id,
        Some(CA_GEO.name),
        "Policy",
        None,
        &[("ConditionalAccessPolicy", None, enc(policy))],
    ))
}

/// The new hire's account, licence and groups.
fn new_hire_account() -> Vec<Audit<'static>> {
    let hire = new_hire();
    let created = at(NEW_HIRE_CREATED);
    let later = |s: i64| secs(created + Duration::seconds(s));
    let mut out = vec![
        by_admin(NEW_HIRE_CREATED, USERS, "Add user").target(user_target(
            hire,
            &[
                ("AccountEnabled", Some("[]".into()), "[true]".into()),
                ("DisplayName", Some("[]".into()), enc([&hire.display_name])),
                ("UserPrincipalName", Some("[]".into()), enc([&hire.upn])),
                ("UserType", Some("[]".into()), enc(["Member"])),
                included("AccountEnabled, DisplayName, UserPrincipalName, UserType"),
            ],
        )),
        by_admin(&later(41), USERS, "Change user license").target(user_target(hire, &[])),
    ];
    for (n, (key, name)) in [("all", "全社員"), ("hr", "人事部")]
        .into_iter()
        .enumerate()
    {
        let mut audit = by_admin(&later(95 + n as i64 * 12), GROUPS, "Add member to group");
        audit.targets = member_of(hire, key, name);
        out.push(audit);
    }
    out
}

/// An hour after the account: the new hire joins the laptop and registers
/// Authenticator.
fn new_hire_laptop() -> [Audit<'static>; 3] {
    let (hire, office) = (new_hire(), TOKYO_OFFICE.ip);
    let hire_at = |s: i64| at(NEW_HIRE_CREATED) + Duration::hours(1) + Duration::seconds(s);
    let laptop = || {
        target(
            &hire.laptop_object_id,
            Some(&hire.laptop_name),
            "Device",
            None,
            &[],
        )
    };
    [
        Audit::new(
            hire_at(0),
            ("Device Registration Service", "Device"),
            "Register device",
            Actor::User(hire, office),
        )
        .target(laptop())
        .detail("Device Id", hire.laptop_device_id.clone())
        .detail("Device OS", "Windows")
        .detail("Device Trust Type", "AzureAd"),
        Audit::new(
            hire_at(2),
            DEVICES,
            "Add registered owner to device",
            Actor::Service("Device Registration Service"),
        )
        .target(laptop())
        .target(user_target(hire, &[])),
        Audit::new(
            hire_at(240),
            SECURITY_INFO,
            "User registered security info",
            Actor::User(hire, office),
        )
        .target(target(
            &hire.id,
            Some(&hire.display_name),
            "User",
            Some(&hire.upn),
            &[],
        ))
        .reason("User registered Authenticator App with Notification and Code")
        .detail(
            "AuthenticationMethod",
            "Authenticator App with Notification and Code",
        ),
    ]
}

/// Group and profile housekeeping.
fn housekeeping() -> Vec<Audit<'static>> {
    let mut out = Vec::new();
    for (time, who, key, name) in [
        ("2026-11-06T01:20:44Z", 7, "dev", "開発部"),
        ("2026-11-06T01:21:10Z", 26, "dev", "開発部"),
        ("2026-11-16T07:02:51Z", 29, "sales", "営業部"),
    ] {
        let mut audit = by_admin(time, GROUPS, "Add member to group");
        audit.targets = member_of(&roster()[who], key, name);
        out.push(audit);
    }
    out.push(
        by_admin("2026-11-12T04:30:02Z", USERS, "Update user").target(user_target(
            &roster()[26],
            &[
                (
                    "TelephoneNumber",
                    Some(enc(["03-5555-0126"])),
                    enc(["03-5555-0162"]),
                ),
                included("TelephoneNumber"),
            ],
        )),
    );
    out
}

/// People changing their own passwords.
fn self_service_password_changes() -> Vec<Audit<'static>> {
    let mut out = Vec::new();
    for (time, who) in [
        ("2026-10-30T00:12:40Z", 9),
        ("2026-11-10T23:58:12Z", 15),
        ("2026-11-20T04:40:33Z", 22),
    ] {
        let m = &roster()[who];
        let place = m.office().ip;
        out.push(
            Audit::new(
                at(time),
                (SSPR, "UserManagement"),
                "Change password (self-service)",
                Actor::User(m, place),
            )
            .target(target(
                &m.id,
                Some(&m.display_name),
                "User",
                Some(&m.upn),
                &[],
            )),
        );
        out.push(
            Audit::new(
                at(time) + Duration::seconds(1),
                USERS,
                "Change user password",
                Actor::User(m, place),
            )
            .target(user_target(
                m,
                &[("TargetId.UserType", None, enc("Member"))],
            )),
        );
    }
    out
}

/// Everything the attacker changed in the directory, one step per phase.
fn attack() -> Vec<Audit<'static>> {
    let mut out = Vec::new();
    out.extend(security_info_registration());
    out.extend(device_registration());
    out.extend(app_registration(
        by_attacker,
        ATTACKER_APP,
        at(APP_CREATED),
        "sync",
        "AzureADMultipleOrgs",
    ));
    out.push(app_permissions());
    out.extend(app_consent());
    out.extend(guest_invitation());
    out
}

/// A change made in the victim's name from the attacker's address.
fn by_attacker(
    time: DateTime<Utc>,
    scope: (&'static str, &'static str),
    activity: &'static str,
) -> Audit<'static> {
    Audit::new(time, scope, activity, Actor::User(victim(), ATTACKER.ip))
}

/// The victim as a target, with her name (security info and consent audits).
fn victim_target() -> Value {
    let victim = victim();
    target(
        &victim.id,
        Some(&victim.display_name),
        "User",
        Some(&victim.upn),
        &[],
    )
}

/// Security info: started, methods updated (default switched to codes), registered.
fn security_info_registration() -> [Audit<'static>; 3] {
    let victim = victim();
    let registered = at(MFA_REGISTERED);
    [
        by_attacker(
            at(MFA_REGISTRATION_STARTED) + Duration::seconds(6),
            SECURITY_INFO,
            "User started security info registration",
        )
        .target(victim_target())
        .reason("User started the registration for Authenticator App with Notification and Code"),
        by_attacker(registered - Duration::milliseconds(850), USERS, "Update user").target(user_target(
            victim,
            &[
                (
                    "StrongAuthenticationMethod",
                    Some(enc(json!([{"MethodType": 6, "Default": true}, {"MethodType": 5, "Default": false}]))),
                    enc(json!([{"MethodType": 6, "Default": false}, {"MethodType": 5, "Default": true}])),
                ),
                included("StrongAuthenticationMethod"),
                ("TargetId.UserType", None, enc("Member")),
            ],
        )),
        by_attacker(registered, SECURITY_INFO, "User registered security info")
            .target(victim_target())
            .reason("User registered Authenticator App with Notification and Code")
            .detail("AuthenticationMethodType", "AppNotificationAndCode")
            .detail(
                "AuthenticationMethod",
                "Authenticator App with Notification and Code",
            ),
    ]
}

/// The attacker's device: registered, added, and owned by and registered to the victim.
fn device_registration() -> Vec<Audit<'static>> {
    let device_object = guid("device-object", ATTACKER_DEVICE).to_string();
    let device = || target(&device_object, Some(ATTACKER_DEVICE), "Device", None, &[]);
    let registered_device = at(DEVICE_REGISTERED);
    let mut out = vec![
        by_attacker(
            registered_device,
            ("Device Registration Service", "Device"),
            "Register device",
        )
        .target(device())
        .detail("Device Id", attacker_device_id())
        .detail("Device OS", "Windows")
        .detail("Device Trust Type", "Workplace"),
        Audit::new(
            registered_device + Duration::seconds(1),
            DEVICES,
            "Add device",
            Actor::Service("Device Registration Service"),
        )
        .target(target(
            &device_object,
            Some(ATTACKER_DEVICE),
            "Device",
            None,
            &[
                ("DeviceId", Some("[]".into()), enc([attacker_device_id()])),
                ("DisplayName", Some("[]".into()), enc([ATTACKER_DEVICE])),
                ("DeviceTrustType", Some("[]".into()), enc(["Workplace"])),
                included("DeviceId, DisplayName, DeviceTrustType"),
            ],
        )),
    ];
    for (s, activity) in [
        (2, "Add registered owner to device"),
        (2, "Add registered users to device"),
    ] {
        out.push(
            Audit::new(
                registered_device + Duration::seconds(s),
                DEVICES,
                activity,
                Actor::Service("Device Registration Service"),
            )
            .target(device())
            .target(user_target(victim(), &[])),
        );
    }
    out
}

/// The attacker's application as a target.
fn attacker_app_target(props: &[(&str, Option<String>, String)]) -> Value {
    let app_object = tenant_app(ATTACKER_APP).object_id.expect("registered app");
    target(
        app_object,
        Some(ATTACKER_APP.name),
        "Application",
        None,
        props,
    )
}

/// The attacker's application's service principal as a target.
fn attacker_sp_target(props: &[(&str, Option<String>, String)]) -> Value {
    target(
        tenant_app(ATTACKER_APP).sp_id,
        Some(ATTACKER_APP.name),
        "ServicePrincipal",
        None,
        props,
    )
}

/// The delegated Graph permissions the attacker's app asks for.
fn app_permissions() -> Audit<'static> {
    by_attacker(at(APP_CREATED) + Duration::seconds(48), APPS, "Update application").target(attacker_app_target(&[
        (
            "RequiredResourceAccess",
            Some("[]".into()),
            enc(json!([{"ResourceAppId": GRAPH.id, "RequiredAppPermissions": [
                {"EntitlementId": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "DirectAccessGrant": false, "ImpersonationAccessGrantTypes": [{"Impersonator": "29d9ed98-a469-4536-ade2-f981bc1d605e", "Impersonated": "User"}]},
                {"EntitlementId": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "DirectAccessGrant": false, "ImpersonationAccessGrantTypes": [{"Impersonator": "29d9ed98-a469-4536-ade2-f981bc1d605e", "Impersonated": "User"}]}]}])),
        ),
        included("RequiredResourceAccess"),
    ]))
}

/// The victim's consent: the consent itself, the delegated grant and the app
/// role assignment it creates.
fn app_consent() -> [Audit<'static>; 3] {
    let victim = victim();
    let app = tenant_app(ATTACKER_APP);
    let consented = at(APP_CONSENTED);
    let grant_id = guid("oauth2PermissionGrant", ATTACKER_APP.id).to_string();
    [
        by_attacker(consented, APPS, "Consent to application").target(attacker_sp_target(&[
            ("ConsentContext.IsAdminConsent", None, enc("False")),
            ("ConsentContext.IsAppOnly", None, enc("False")),
            ("ConsentContext.OnBehalfOfAll", None, enc("False")),
            ("ConsentContext.Tags", None, enc("WindowsAzureActiveDirectoryIntegratedApp")),
            (
                "ConsentAction.Permissions",
                None,
                enc(format!(
                    "[] => [[Id: {grant_id}, ClientId: {}, PrincipalId: {}, ResourceId: {}, ConsentType: Principal, Scope:  Mail.Read offline_access, CreatedDateTime: , LastModifiedDateTime ]]; ",
                    app.sp_id, victim.id, sp_id(&GRAPH)
                )),
            ),
            ("TargetId.ServicePrincipalNames", None, enc(ATTACKER_APP.id)),
        ])),
        by_attacker(
            consented - Duration::milliseconds(310),
            APPS,
            "Add delegated permission grant",
        )
        .target(target(
            sp_id(&GRAPH),
            Some(GRAPH.name),
            "ServicePrincipal",
            None,
            &[
                (
                    "DelegatedPermissionGrant.Scope",
                    None,
                    enc(" Mail.Read offline_access"),
                ),
                (
                    "DelegatedPermissionGrant.ConsentType",
                    None,
                    enc("Principal"),
                ),
                ("ServicePrincipal.ObjectID", None, enc(sp_id(&GRAPH))),
            ],
        ))
        .target(attacker_sp_target(&[])),
        by_attacker(
            consented - Duration::milliseconds(120),
            APPS,
            "Add app role assignment grant to user",
        )
        .target(attacker_sp_target(&[
            (
                "AppRole.Id",
                None,
                enc("00000000-0000-0000-0000-000000000000"),
            ),
            ("AppRole.Value", None, enc("")),
            ("User.UPN", None, enc(&victim.upn)),
        ]))
        .target(user_target(victim, &[])),
    ]
}

/// A guest for later access: the invitation and the user it adds.
fn guest_invitation() -> [Audit<'static>; 2] {
    let guest_id = guid("user", GUEST_ADDRESS).to_string();
    let guest_upn = guest_upn(GUEST_ADDRESS);
    let invited = at(GUEST_INVITED);
    [
        by_attacker(
            invited,
            ("Invited Users", "UserManagement"),
            "Invite external user",
        )
        .target(target(
            &guest_id,
            Some("IT Support"),
            "User",
            Some(&guest_upn),
            &[],
        ))
        .detail("invitedUserEmailAddress", GUEST_ADDRESS)
        .detail("oid", guest_id.clone()),
        by_attacker(invited - Duration::milliseconds(640), USERS, "Add user").target(target(
            &guest_id,
            None,
            "User",
            Some(&guest_upn),
            &[
                ("AccountEnabled", Some("[]".into()), "[true]".into()),
                ("DisplayName", Some("[]".into()), enc(["IT Support"])),
                ("Mail", Some("[]".into()), enc([GUEST_ADDRESS])),
                ("UserPrincipalName", Some("[]".into()), enc([&guest_upn])),
                ("UserType", Some("[]".into()), enc(["Guest"])),
                included("AccountEnabled, DisplayName, Mail, UserPrincipalName, UserType"),
            ],
        )),
    ]
}

/// The audits of registering an application with a client secret.
fn app_registration<'a>(
    by: impl Fn(DateTime<Utc>, (&'static str, &'static str), &'static str) -> Audit<'a>,
    app: App,
    created: DateTime<Utc>,
    secret_name: &str,
    audience: &str,
) -> Vec<Audit<'a>> {
    let registration = tenant_app(app);
    let object = registration.object_id.expect("registered app");
    let Credential::Secret { key_id } = registration.credential else {
        unreachable!("registered with a secret")
    };
    let app_target = |props: &[(&str, Option<String>, String)]| {
        target(object, Some(app.name), "Application", None, props)
    };
    vec![
        by(created, APPS, "Add application").target(app_target(&[
            ("AppId", Some("[]".into()), enc([app.id])),
            ("AvailableToOtherTenants", Some("[]".into()), enc([audience != "AzureADMyOrg"])),
            ("DisplayName", Some("[]".into()), enc([app.name])),
            included("AppId, AvailableToOtherTenants, DisplayName"),
        ])),
        by(created + Duration::seconds(1), APPS, "Add owner to application").target(app_target(&[])),
        by(created + Duration::seconds(2), APPS, "Add service principal").target(target(
            registration.sp_id,
            Some(app.name),
            "ServicePrincipal",
            None,
            &[
                ("AccountEnabled", Some("[]".into()), "[true]".into()),
                ("AppPrincipalId", Some("[]".into()), enc([app.id])),
                ("DisplayName", Some("[]".into()), enc([app.name])),
                included("AccountEnabled, AppPrincipalId, DisplayName"),
            ],
        )),
        by(
            created + (at(APP_SECRET_ADDED) - at(APP_CREATED)),
            APPS,
            "Update application – Certificates and secrets management ",
        )
        .target(app_target(&[
            (
                "KeyDescription",
                Some("[]".into()),
                enc([format!("[KeyIdentifier={key_id},KeyType=Password,KeyUsage=Verify,DisplayName={secret_name}]")]),
            ),
            included("KeyDescription"),
        ])),
    ]
}

/// The IT administrator registers the collector the day before collection and
/// grants it admin consent: every application permission shows as its own assignment.
fn tool_registration() -> Vec<Audit<'static>> {
    let admin = admin();
    let by = |t, scope, a| Audit::new(t, scope, a, Actor::User(admin, TOKYO_OFFICE.ip));
    let registered = at(TOOL_REGISTERED);
    let mut out = app_registration(by, TOOL, registered, "m365-preserve demo", "AzureADMyOrg");
    let consented = registered + Duration::seconds(260);
    let tool = tenant_app(TOOL);
    out.push(by(consented, APPS, "Consent to application").target(target(
        tool.sp_id,
        Some(TOOL.name),
        "ServicePrincipal",
        None,
        &[
            ("ConsentContext.IsAdminConsent", None, enc("True")),
            ("ConsentContext.IsAppOnly", None, enc("True")),
            ("ConsentContext.OnBehalfOfAll", None, enc("True")),
            ("TargetId.ServicePrincipalNames", None, enc(TOOL.id)),
        ],
    )));
    for (n, permission) in super::directory::tool_permissions().iter().enumerate() {
        let resource = &permission.resource;
        out.push(
            by(
                consented - Duration::milliseconds(900 - n as i64 * 50),
                APPS,
                "Add app role assignment to service principal",
            )
            .target(target(
                sp_id(resource),
                Some(resource.name),
                "ServicePrincipal",
                None,
                &[
                    ("AppRole.Value", None, enc(permission.name)),
                    ("ServicePrincipal.DisplayName", None, enc(TOOL.name)),
                ],
            ))
            .target(target(
                tool.sp_id,
                Some(TOOL.name),
                "ServicePrincipal",
                None,
                &[],
            )),
        );
    }
    out
}
