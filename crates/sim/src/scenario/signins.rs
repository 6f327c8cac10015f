//! Sign-ins in the beta `signIn` shape, all four `signInEventTypes`: the
//! employees' working days, the tenant's daemons and managed identities, and the
//! attacker's sign-ins along the story's timeline.

use super::catalogue::*;
use super::ids::{at, random_guid, request_id, secs, token_identifier};
use super::story::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The four kinds of sign-in, by their single `signInEventTypes` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
}

impl Kind {
    fn event_type(self) -> &'static str {
        match self {
            Kind::Interactive => "interactiveUser",
            Kind::NonInteractive => "nonInteractiveUser",
            Kind::ServicePrincipal => "servicePrincipal",
            Kind::ManagedIdentity => "managedIdentity",
        }
    }
}

/// One `authenticationDetails` step.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    method: &'static str,
    detail: Option<&'static str>,
    succeeded: bool,
    result: &'static str,
    requirement: &'static str,
}

const PRIMARY: &str = "Primary authentication";
const SECONDARY: &str = "Multi-factor authentication";

const PASSWORD_OK: Step = Step {
    method: "Password",
    detail: Some("Password in the cloud"),
    succeeded: true,
    result: "Correct password",
    requirement: PRIMARY,
};
const PASSWORD_BAD: Step = Step {
    method: "Password",
    detail: Some("Password in the cloud"),
    succeeded: false,
    result: "Invalid username or password or Invalid on-premise username or password.",
    requirement: PRIMARY,
};
const PUSH_OK: Step = Step {
    method: "Mobile app notification",
    detail: None,
    succeeded: true,
    result: "MFA successfully completed",
    requirement: SECONDARY,
};
/// A code from the attacker's Authenticator, now her default method.
const OATH_OK: Step = Step {
    method: "OATH verification code",
    detail: None,
    succeeded: true,
    result: "MFA successfully completed",
    requirement: SECONDARY,
};
const PRIMARY_CLAIM: Step = Step {
    method: "Previously satisfied",
    detail: None,
    succeeded: true,
    result: "First factor requirement satisfied by claim in the token",
    requirement: PRIMARY,
};
const MFA_CLAIM: Step = Step {
    method: "Previously satisfied",
    detail: None,
    succeeded: true,
    result: "MFA requirement satisfied by claim in the token",
    requirement: SECONDARY,
};

/// `status`: error code, failure reason, additional details.
#[derive(Debug, Clone, Copy)]
pub struct Status(i64, &'static str, Option<&'static str>);

const OK_CLAIM: Status = Status(
    0,
    "Other.",
    Some("MFA requirement satisfied by claim in the token"),
);
const OK_MFA: Status = Status(0, "Other.", Some("MFA completed in Azure AD"));
const OK_WORKLOAD: Status = Status(0, "Other.", None);
const BAD_PASSWORD: Status = Status(
    50126,
    "Error validating credentials due to invalid username or password.",
    Some("The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."),
);
const KMSI_INTERRUPT: Status = Status(
    50140,
    "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    Some("This is an expected part of the login flow, where a user is asked if they want to remain signed into this browser to make further logins easier."),
);
const LOCKED_OUT: Status = Status(
    50053,
    "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
    Some("The account is locked, you've tried to sign in too many times with an incorrect user ID or password."),
);
const BAD_CLIENT_SECRET: Status = Status(
    7000215,
    "Invalid client secret is provided.",
    Some("The application presented an invalid client secret. Check the secret value in the client request."),
);

/// `deviceDetail` besides the operating system and browser (those come from the client).
#[derive(Debug, Clone, Copy)]
pub struct Device<'a> {
    id: &'a str,
    name: &'a str,
    compliant: Option<bool>,
    managed: Option<bool>,
    trust: &'a str,
}

const NO_DEVICE: Device<'static> = Device {
    id: "",
    name: "",
    compliant: None,
    managed: None,
    trust: "",
};

fn laptop(member: &Member) -> Device<'_> {
    Device {
        id: &member.laptop_device_id,
        name: &member.laptop_name,
        compliant: Some(true),
        managed: Some(true),
        trust: "Azure AD joined",
    }
}

fn attacker_device() -> Device<'static> {
    Device {
        id: attacker_device_id(),
        name: ATTACKER_DEVICE,
        compliant: Some(false),
        managed: Some(false),
        trust: "Azure AD registered",
    }
}

/// `deviceId` of the attacker's registered device.
pub fn attacker_device_id() -> &'static str {
    "5f0c9e1a-7b3d-4e62-9a8c-2d4b6f1e3a70"
}

/// Identity Protection's view of a sign-in.
#[derive(Debug, Clone, Copy)]
pub struct Risk {
    during: &'static str,
    aggregated: &'static str,
    state: &'static str,
    events: &'static [&'static str],
}

const NO_RISK: Risk = Risk {
    during: "none",
    aggregated: "none",
    state: "none",
    events: &[],
};

/// A sign-in being built: defaults for a successful sign-in, adjusted by the caller.
#[derive(Debug, Clone)]
pub struct SignIn<'a> {
    pub kind: Kind,
    pub time: DateTime<Utc>,
    pub id: Uuid,
    pub correlation_id: Uuid,
    pub session_id: Option<Uuid>,
    pub user: Option<&'a Member>,
    pub workload: Option<&'static TenantApp>,
    pub app: App,
    pub resource: App,
    pub place: &'static Place,
    pub client: Client,
    pub device: Device<'a>,
    pub status: Status,
    pub requirement: &'static str,
    pub steps: &'static [Step],
    pub incoming_token: &'static str,
    pub protocol: &'static str,
    pub risk: Risk,
    pub processing_ms: u32,
}

impl<'a> SignIn<'a> {
    /// A successful user sign-in whose MFA requirement is met by the token's claims.
    pub fn user(
        rng: &mut impl Rng,
        kind: Kind,
        time: DateTime<Utc>,
        member: &'a Member,
        (app, resource): (App, App),
    ) -> Self {
        SignIn {
            kind,
            time,
            id: request_id(rng),
            correlation_id: random_guid(rng),
            session_id: Some(random_guid(rng)),
            user: Some(member),
            workload: None,
            app,
            resource,
            place: member.office(),
            client: WAM_WINDOWS,
            device: laptop(member),
            status: OK_CLAIM,
            requirement: "multiFactorAuthentication",
            steps: if kind == Kind::Interactive {
                &[PRIMARY_CLAIM, MFA_CLAIM]
            } else {
                &[]
            },
            incoming_token: if kind == Kind::Interactive {
                "primaryRefreshToken"
            } else {
                "refreshToken"
            },
            protocol: "none",
            risk: NO_RISK,
            processing_ms: rng.gen_range(45..420),
        }
    }

    /// A successful workload sign-in of one of the tenant's applications or identities.
    pub fn workload(
        rng: &mut impl Rng,
        time: DateTime<Utc>,
        app: &'static TenantApp,
        resource: App,
        place: &'static Place,
    ) -> Self {
        let kind = match app.credential {
            Credential::ManagedIdentity { .. } => Kind::ManagedIdentity,
            _ => Kind::ServicePrincipal,
        };
        SignIn {
            kind,
            time,
            id: request_id(rng),
            correlation_id: random_guid(rng),
            session_id: (kind == Kind::ServicePrincipal).then(|| random_guid(rng)),
            user: None,
            workload: Some(app),
            app: app.app,
            resource,
            place,
            client: Client {
                user_agent: "",
                os: "",
                browser: "",
                client_app: "",
            },
            device: NO_DEVICE,
            status: OK_WORKLOAD,
            requirement: "",
            steps: &[],
            incoming_token: "none",
            protocol: "none",
            risk: NO_RISK,
            processing_ms: rng.gen_range(20..160),
        }
    }

    fn failed(mut self, status: Status, steps: &'static [Step]) -> Self {
        self.status = status;
        self.steps = steps;
        self.requirement = "singleFactorAuthentication";
        self
    }

    /// The record exactly as Graph beta returns it (key order included). Built
    /// without `json!` and with an exact-capacity map: building records is
    /// allocation-bound, and the fixture holds thousands of them. Each step
    /// below gives one run of members, in the record's order.
    pub fn to_value(&self) -> Value {
        let members = self
            .request_members()
            .into_iter()
            .chain(self.risk_members())
            .chain(self.identity_members())
            .chain(self.token_members())
            .chain(self.outcome_members())
            .chain(self.policy_members());
        // The chain knows its exact length, so the map is allocated once.
        Value::Object(
            members
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
        )
    }

    fn is_user(&self) -> bool {
        self.user.is_some()
    }

    fn interactive(&self) -> bool {
        self.kind == Kind::Interactive
    }

    fn ok(&self) -> bool {
        self.status.0 == 0
    }

    /// A property of the signed-in user; `null` for workload sign-ins.
    fn user_field(&self, f: fn(&Member) -> &str) -> Value {
        self.user.map_or(Value::Null, |m| text(f(m)))
    }

    /// A tenant field: workload sign-ins leave them empty (as exported from real tenants).
    fn tenant(&self, value: &str) -> Value {
        text(if self.is_user() { value } else { "" })
    }

    /// The request: who signed in to which app, from where, with what client.
    fn request_members(&self) -> [(&'static str, Value); 19] {
        let interactive = self.interactive();
        let id = self.id.to_string();
        let original_request = if interactive {
            id.clone()
        } else {
            String::new()
        };
        // Credential failures stop before Conditional Access is evaluated.
        let ca_status = if self.is_user() && self.ok() {
            "success"
        } else {
            "notApplied"
        };
        let (_, _, credential_type) = self.credential();
        [
            ("id", Value::String(id)),
            ("createdDateTime", Value::String(secs(self.time))),
            ("userDisplayName", self.user_field(|m| &m.display_name)),
            ("userPrincipalName", self.user_field(|m| &m.upn)),
            // Non-nullable: workload sign-ins carry "" (beta signIn metadata).
            ("userId", text(self.user.map_or("", |m| &m.id))),
            ("appId", text(self.app.id)),
            ("appDisplayName", text(self.app.name)),
            ("ipAddress", text(self.place.ip)),
            ("ipAddressFromResourceProvider", Value::Null),
            ("clientAppUsed", text(self.client.client_app)),
            ("userAgent", text(self.client.user_agent)),
            (
                "correlationId",
                Value::String(self.correlation_id.to_string()),
            ),
            ("conditionalAccessStatus", text(ca_status)),
            ("originalRequestId", Value::String(original_request)),
            ("isInteractive", Value::Bool(interactive)),
            ("tokenIssuerName", text("")),
            ("tokenIssuerType", text("AzureAD")),
            ("clientCredentialType", text(credential_type)),
            (
                "processingTimeInMilliseconds",
                Value::from(self.processing_ms),
            ),
        ]
    }

    /// Identity Protection's view of the sign-in.
    fn risk_members(&self) -> [(&'static str, Value); 5] {
        [
            ("riskDetail", none()),
            ("riskLevelAggregated", text(self.risk.aggregated)),
            ("riskLevelDuringSignIn", text(self.risk.during)),
            ("riskState", text(self.risk.state)),
            (
                "riskEventTypes_v2",
                Value::Array(self.risk.events.iter().map(|e| text(e)).collect()),
            ),
        ]
    }

    /// The resource, the tenants, and how the user or workload identified itself.
    fn identity_members(&self) -> [(&'static str, Value); 21] {
        let (is_user, interactive) = (self.is_user(), self.interactive());
        let identifier = if interactive {
            self.user.map_or("", |m| &m.upn)
        } else {
            ""
        };
        let (key_id, thumbprint, _) = self.credential();
        [
            ("resourceDisplayName", text(self.resource.name)),
            ("resourceId", text(self.resource.id)),
            ("resourceTenantId", self.tenant(TENANT_ID)),
            ("homeTenantId", self.tenant(TENANT_ID)),
            ("homeTenantName", self.tenant(TENANT_NAME)),
            ("authenticationMethodsUsed", empty()),
            ("authenticationRequirement", text(self.requirement)),
            ("signInIdentifier", text(identifier)),
            (
                "signInIdentifierType",
                or_null(interactive, "userPrincipalName"),
            ),
            (
                "servicePrincipalName",
                text(if is_user { "" } else { self.app.name }),
            ),
            ("signInEventTypes", list(true, text(self.kind.event_type()))),
            (
                "servicePrincipalId",
                text(self.workload.map_or("", |w| w.sp_id)),
            ),
            ("federatedCredentialId", text("")),
            ("userType", or_null(is_user, "member")),
            ("flaggedForReview", Value::Bool(false)),
            ("isTenantRestricted", Value::Bool(false)),
            ("autonomousSystemNumber", Value::from(self.place.asn)),
            ("crossTenantAccessType", none()),
            ("servicePrincipalCredentialKeyId", text(key_id)),
            ("servicePrincipalCredentialThumbprint", text(thumbprint)),
            ("azureResourceId", Value::String(self.azure_resource())),
        ]
    }

    /// The tokens: what came in, the session, and who owns the app and resource.
    fn token_members(&self) -> [(&'static str, Value); 16] {
        let first_party = !TENANT_APPS.iter().any(|t| t.app == self.app);
        let app_owner = if first_party {
            MICROSOFT_TENANT
        } else {
            TENANT_ID
        };
        let session = self.session_id.map_or(String::new(), |s| s.to_string());
        [
            (
                "uniqueTokenIdentifier",
                Value::String(token_identifier(&self.id)),
            ),
            ("incomingTokenType", text(self.incoming_token)),
            ("authenticationProtocol", text(self.protocol)),
            ("resourceServicePrincipalId", text(sp_id(&self.resource))),
            ("signInTokenProtectionStatus", none()),
            ("appTokenProtectionStatus", none()),
            ("originalTransferMethod", none()),
            ("isThroughGlobalSecureAccess", Value::Bool(false)),
            ("globalSecureAccessIpAddress", text("")),
            ("sessionId", Value::String(session)),
            ("clientSessionId", text("")),
            ("appOwnerTenantId", text(app_owner)),
            ("resourceOwnerTenantId", self.tenant(MICROSOFT_TENANT)),
            ("mfaDetail", Value::Null),
            ("authenticationAppDeviceDetails", Value::Null),
            (
                "conditionalAccessAudiences",
                list(self.is_user(), text(self.resource.id)),
            ),
        ]
    }

    /// The outcome, the device and the place.
    fn outcome_members(&self) -> [(&'static str, Value); 3] {
        [
            ("status", self.status_value()),
            ("deviceDetail", self.device_value()),
            ("location", self.location_value()),
        ]
    }

    fn status_value(&self) -> Value {
        obj([
            ("errorCode", Value::from(self.status.0)),
            ("failureReason", text(self.status.1)),
            ("additionalDetails", self.status.2.map_or(Value::Null, text)),
        ])
    }

    fn device_value(&self) -> Value {
        obj([
            ("deviceId", text(self.device.id)),
            ("displayName", text(self.device.name)),
            ("operatingSystem", text(self.client.os)),
            ("browser", text(self.client.browser)),
            ("browserId", text("")),
            (
                "isCompliant",
                self.device.compliant.map_or(Value::Null, Value::Bool),
            ),
            (
                "isManaged",
                self.device.managed.map_or(Value::Null, Value::Bool),
            ),
            ("trustType", text(self.device.trust)),
        ])
    }

    /// `location`; addresses without a place (workloads inside Azure) have no coordinates.
    fn location_value(&self) -> Value {
        let has_location = !self.place.ip.is_empty();
        let coordinate = |value: f64| {
            if has_location {
                Value::from(value)
            } else {
                Value::Null
            }
        };
        obj([
            ("city", text(self.place.city)),
            ("state", text(self.place.state)),
            ("countryOrRegion", text(self.place.country)),
            (
                "geoCoordinates",
                obj([
                    ("altitude", Value::Null),
                    ("latitude", coordinate(self.place.latitude)),
                    ("longitude", coordinate(self.place.longitude)),
                ]),
            ),
        ])
    }

    /// The policies and processing details Entra applied.
    fn policy_members(&self) -> [(&'static str, Value); 13] {
        let private_link = obj([
            ("policyId", text("")),
            ("policyName", text("")),
            ("resourceId", text("")),
            ("policyTenantId", text("")),
        ]);
        let token_protection = obj([
            ("signInSessionStatus", none()),
            ("signInSessionStatusCode", Value::Null),
        ]);
        [
            ("appliedConditionalAccessPolicies", self.ca_policies()),
            ("authenticationContextClassReferences", empty()),
            ("authenticationProcessingDetails", self.processing_details()),
            ("networkLocationDetails", self.network_details()),
            ("authenticationDetails", self.steps_value()),
            (
                "authenticationRequirementPolicies",
                self.requirement_policies(),
            ),
            ("sessionLifetimePolicies", empty()),
            ("privateLinkDetails", private_link),
            ("appliedEventListeners", empty()),
            ("authenticationAppPolicyEvaluationDetails", empty()),
            ("managedServiceIdentity", self.managed_identity()),
            ("tokenProtectionStatusDetails", token_protection),
            ("agent", Value::Null),
        ]
    }

    /// `authenticationProcessingDetails`, which only interactive sign-ins carry.
    fn processing_details(&self) -> Value {
        if !self.interactive() {
            return empty();
        }
        Value::Array(vec![
            obj([
                ("key", text("Legacy TLS (TLS 1.0, 1.1, 3DES)")),
                ("value", text("False")),
            ]),
            obj([
                ("key", text("Is CAE Token")),
                ("value", text(if self.ok() { "True" } else { "False" })),
            ]),
        ])
    }

    /// `networkLocationDetails`: the named network the address belongs to, if any.
    fn network_details(&self) -> Value {
        match self.place.network {
            Some(name) => list(
                true,
                obj([
                    ("networkType", text("namedNetwork")),
                    ("networkNames", list(true, text(name))),
                ]),
            ),
            None => empty(),
        }
    }

    /// `authenticationRequirementPolicies`: Conditional Access, once it required MFA.
    fn requirement_policies(&self) -> Value {
        list(
            self.interactive() && self.ok(),
            obj([
                ("requirementProvider", text("multiConditionalAccess")),
                ("detail", text("Conditional Access")),
            ]),
        )
    }

    /// Key id, thumbprint and credential type of a workload's credential.
    fn credential(&self) -> (&'static str, &'static str, &'static str) {
        // A rejected secret identifies no key.
        let key = |key_id| if self.ok() { key_id } else { "" };
        match self.workload.map(|w| w.credential) {
            Some(Credential::Secret { key_id }) => (key(key_id), "", "clientSecret"),
            Some(Credential::Certificate { key_id, thumbprint }) => {
                (key_id, thumbprint, "certificate")
            }
            Some(Credential::ManagedIdentity { .. }) => ("", "", "managedIdentity"),
            None => ("", "", "none"),
        }
    }

    /// `azureResourceId`: the Azure resource a managed identity belongs to.
    fn azure_resource(&self) -> String {
        match self.workload.map(|w| w.credential) {
            Some(Credential::ManagedIdentity { resource, .. }) => {
                format!("/subscriptions/{SUBSCRIPTION}/{resource}")
            }
            _ => String::new(),
        }
    }

    /// `managedServiceIdentity`: its type and resource for managed identities.
    fn managed_identity(&self) -> Value {
        let kind = match self.workload.map(|w| w.credential) {
            Some(Credential::ManagedIdentity { user_assigned, .. }) => {
                if user_assigned {
                    "userAssigned"
                } else {
                    "systemAssigned"
                }
            }
            _ => "none",
        };
        obj([
            ("msiType", text(kind)),
            ("associatedResourceId", Value::String(self.azure_resource())),
            ("federatedTokenId", text("")),
            ("federatedTokenIssuer", text("")),
        ])
    }

    /// The tenant's policies as evaluated for this sign-in; the geo-block is
    /// report-only, so it records a failure for foreign addresses but enforces
    /// nothing. Both apply to all users and apps; the geo-block's location
    /// condition includes every location but the office's named network.
    fn ca_policies(&self) -> Value {
        if self.user.is_none() {
            return Value::Array(Vec::new());
        }
        let rule = |condition: &str, rule: &str| {
            obj([
                ("conditionalAccessCondition", text(condition)),
                ("ruleSatisfied", text(rule)),
            ])
        };
        let everyone = || vec![rule("application", "allApps"), rule("users", "allUsers")];
        // (result, grant control, satisfied, not satisfied, include rules, exclude rules)
        let policy = |p: &CaPolicy,
                      result: &str,
                      grant: Option<&str>,
                      (satisfied, unsatisfied): (&str, &str),
                      (include, exclude): (Vec<Value>, Vec<Value>)| {
            obj([
                ("id", text(p.id)),
                ("displayName", text(p.name)),
                (
                    "enforcedGrantControls",
                    Value::Array(grant.into_iter().map(text).collect()),
                ),
                ("enforcedSessionControls", empty()),
                ("result", text(result)),
                ("conditionsSatisfied", text(satisfied)),
                ("conditionsNotSatisfied", text(unsatisfied)),
                ("includeRulesSatisfied", Value::Array(include)),
                ("excludeRulesSatisfied", Value::Array(exclude)),
                ("sessionControlsNotSatisfied", empty()),
                ("authenticationStrength", Value::Null),
            ])
        };
        // Credential failures stop before Conditional Access is evaluated.
        if self.status.0 != 0 {
            let unevaluated = || (Vec::new(), Vec::new());
            return Value::Array(vec![
                policy(&CA_MFA, "notApplied", None, ("none", "none"), unevaluated()),
                policy(
                    &CA_GEO,
                    "reportOnlyNotApplied",
                    None,
                    ("none", "none"),
                    unevaluated(),
                ),
            ]);
        }
        let mfa = policy(
            &CA_MFA,
            "success",
            Some("Mfa"),
            ("application,users", "none"),
            (everyone(), Vec::new()),
        );
        let mut located = everyone();
        located.push(rule("location", "allLocations"));
        let geo = if self.place.country != "JP" {
            policy(
                &CA_GEO,
                "reportOnlyFailure",
                Some("Block"),
                ("application,users,location", "none"),
                (located, Vec::new()),
            )
        } else {
            policy(
                &CA_GEO,
                "reportOnlyNotApplied",
                Some("Block"),
                ("application,users", "location"),
                (located, vec![rule("location", "locationId")]),
            )
        };
        Value::Array(vec![mfa, geo])
    }

    fn steps_value(&self) -> Value {
        Value::Array(
            self.steps
                .iter()
                .map(|s| {
                    obj([
                        ("authenticationStepDateTime", Value::String(secs(self.time))),
                        ("authenticationMethod", text(s.method)),
                        (
                            "authenticationMethodDetail",
                            s.detail.map_or(Value::Null, text),
                        ),
                        ("succeeded", Value::Bool(s.succeeded)),
                        ("authenticationStepResultDetail", text(s.result)),
                        ("authenticationStepRequirement", text(s.requirement)),
                    ])
                })
                .collect(),
        )
    }
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn none() -> Value {
    text("none")
}

fn empty() -> Value {
    Value::Array(Vec::new())
}

/// `[item]` if `cond`, else `[]`.
fn list(cond: bool, item: Value) -> Value {
    Value::Array(if cond { vec![item] } else { Vec::new() })
}

/// The text if `cond`, else `null`.
fn or_null(cond: bool, value: &str) -> Value {
    if cond {
        text(value)
    } else {
        Value::Null
    }
}

/// A JSON object with exactly these members, in this order.
fn obj<const N: usize>(members: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in members {
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// Everything an employee's apps do on one day, newest last.
pub fn working_day<'a>(rng: &mut impl Rng, member: &'a Member, day: NaiveDate) -> Vec<SignIn<'a>> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let mut out = Vec::new();
    if !is_workday(day) {
        // A look at mail on the phone, some weekends.
        if rng.gen_bool(0.4) {
            let t =
                midnight + Duration::seconds(rng.gen_range(1..13) * 3600 + rng.gen_range(0..3600));
            out.push(mobile_refresh(rng, member, t));
        }
        return out;
    }
    let place = if member
        .person
        .telework
        .contains(&day.weekday().num_days_from_monday())
    {
        member.home()
    } else {
        member.office()
    };
    // Morning: first browser sign-in between 08:30 and 09:45 JST.
    let start = midnight - Duration::minutes(30) + Duration::seconds(rng.gen_range(0..4500));
    let session = random_guid(rng);
    let fresh_mfa = day.weekday() == Weekday::Mon || rng.gen_bool(0.12);
    // Once the attacker made codes her default, no push reaches 佐藤: her laptop's
    // primary refresh token carries her sign-ins.
    let fresh_mfa = fresh_mfa && !(member.index == victim().index && midnight > at(MFA_REGISTERED));
    out.extend(browser_signin(
        rng, member, place, start, session, fresh_mfa,
    ));
    if rng.gen_bool(0.12) {
        let t = start + Duration::seconds(rng.gen_range(1800..25_000));
        let mut s = SignIn::user(rng, Kind::Interactive, t, member, (OUTLOOK_WEB, EXCHANGE));
        s.place = place;
        s.client = EDGE_WINDOWS;
        s.session_id = Some(session);
        out.push(s);
    }
    // Office, Teams and OneDrive refresh their tokens through the day.
    for _ in 0..rng.gen_range(2..5) {
        let t = start + Duration::seconds(rng.gen_range(60..32_000));
        out.push(desktop_refresh(rng, member, place, t));
    }
    // Evening: Outlook on the phone.
    if rng.gen_bool(0.5) {
        let t = midnight + Duration::seconds(rng.gen_range(10 * 3600..14 * 3600));
        out.push(mobile_refresh(rng, member, t));
    }
    out.sort_by_key(|s| s.time);
    out
}

/// Whether `day` is a working day in Japan (weekday, not a public holiday).
pub fn is_workday(day: NaiveDate) -> bool {
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    !weekend && !HOLIDAYS.contains(&day.format("%Y-%m-%d").to_string().as_str())
}

/// The day's first browser sign-in: usually satisfied by the laptop's primary
/// refresh token; sometimes a fresh password + Authenticator push, occasionally
/// after a typo or the "stay signed in?" interrupt.
pub fn browser_signin<'a>(
    rng: &mut impl Rng,
    member: &'a Member,
    place: &'static Place,
    time: DateTime<Utc>,
    session: Uuid,
    fresh_mfa: bool,
) -> Vec<SignIn<'a>> {
    let mut s = SignIn::user(
        rng,
        Kind::Interactive,
        time,
        member,
        (OFFICE_HOME, OFFICE_HOME),
    );
    s.place = place;
    s.client = EDGE_WINDOWS;
    s.session_id = Some(session);
    if !fresh_mfa {
        return vec![s];
    }
    s.steps = &[PASSWORD_OK, PUSH_OK];
    s.status = OK_MFA;
    s.incoming_token = "none";
    let mut out = Vec::new();
    if rng.gen_bool(0.06) {
        let mut typo = s.clone().failed(BAD_PASSWORD, &[PASSWORD_BAD]);
        typo.id = request_id(rng);
        typo.time = time - Duration::seconds(rng.gen_range(8..40));
        out.push(typo);
    } else if rng.gen_bool(0.05) {
        let mut kmsi = s.clone().failed(KMSI_INTERRUPT, &[PASSWORD_OK, PUSH_OK]);
        kmsi.id = request_id(rng);
        kmsi.requirement = "multiFactorAuthentication";
        kmsi.time = time - Duration::seconds(rng.gen_range(2..6));
        out.push(kmsi);
    }
    out.push(s);
    out
}

/// Desktop apps and the resources they refresh tokens for (Outlook twice: it
/// refreshes most often).
pub const DESKTOP_APPS: [(App, App); 6] = [
    (TEAMS, TEAMS_SERVICES),
    (OFFICE, EXCHANGE),
    (OFFICE, EXCHANGE),
    (OFFICE, SHAREPOINT),
    (ONEDRIVE_SYNC, SHAREPOINT),
    (OFFICE, GRAPH),
];

/// A desktop app refreshing a token through Windows (WAM) with the laptop's PRT.
pub fn desktop_refresh<'a>(
    rng: &mut impl Rng,
    member: &'a Member,
    place: &'static Place,
    time: DateTime<Utc>,
) -> SignIn<'a> {
    let apps = DESKTOP_APPS[rng.gen_range(0..DESKTOP_APPS.len())];
    let mut s = SignIn::user(rng, Kind::NonInteractive, time, member, apps);
    s.place = place;
    s.incoming_token = "primaryRefreshToken";
    s
}

/// Outlook on the phone refreshing its token over the mobile network.
pub fn mobile_refresh<'a>(
    rng: &mut impl Rng,
    member: &'a Member,
    time: DateTime<Utc>,
) -> SignIn<'a> {
    let mut s = SignIn::user(
        rng,
        Kind::NonInteractive,
        time,
        member,
        (OUTLOOK_MOBILE, EXCHANGE),
    );
    s.place = &MOBILE;
    s.client = member.mobile_client();
    s.device = NO_DEVICE;
    s
}

/// One run of a daemon or managed identity, by schedule slot `n`.
pub fn workload_run(rng: &mut impl Rng, app: App, n: u32, time: DateTime<Utc>) -> SignIn<'static> {
    let tenant_app = tenant_app(app);
    let (resource, place): (App, &'static Place) = match app {
        HR_SYNC => (GRAPH, &HR_SERVER),
        BACKUP => ([EXCHANGE, SHAREPOINT][n as usize % 2], &BACKUP_SERVICE),
        INVOICE_FUNCTION => ([KEY_VAULT, STORAGE][n as usize % 2], &AZURE_INTERNAL),
        AUTOMATION_IDENTITY => ([GRAPH, AZURE_MANAGEMENT][n as usize % 2], &AZURE_INTERNAL),
        _ => (GRAPH, &TOKYO_OFFICE),
    };
    SignIn::workload(rng, time, tenant_app, resource, place)
}

/// All sign-ins of the default fixture, newest first.
pub fn generate() -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5167_4e10);
    let start = at(WINDOW_START);
    let hire = at(NEW_HIRE_CREATED);
    let mut all: Vec<SignIn> = Vec::new();
    for day in (0..30).map(|d| start.date_naive() + Duration::days(d)) {
        for member in roster() {
            let mut today = working_day(&mut rng, member, day);
            today
                .retain(|s| member.index != new_hire().index || s.time > hire + Duration::hours(1));
            all.extend(today);
        }
        all.extend(daemons(&mut rng, day));
    }
    all.extend(attack(&mut rng));
    let end = at(super::ANCHOR);
    all.retain(|s| s.time >= start && s.time < end);
    all.sort_by_key(|r| std::cmp::Reverse(r.time));
    all.iter().map(SignIn::to_value).collect()
}

/// The tenant's scheduled workloads on one day.
fn daemons(rng: &mut impl Rng, day: NaiveDate) -> Vec<SignIn<'static>> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let mut out = Vec::new();
    for hour in 0..24u32 {
        // (application, minutes past the hour, schedule slot) due this hour:
        // attendance sync hourly in office hours on workdays and nightly at 02:00 JST,
        // incremental backups and the invoice function hourly, runbooks every four hours.
        let due = [
            ((is_workday(day) && hour < 10) || hour == 17).then_some((HR_SYNC, 5, hour)),
            Some((BACKUP, 20, hour)),
            Some((INVOICE_FUNCTION, 0, hour)),
            (hour % 4 == 3).then_some((AUTOMATION_IDENTITY, 30, hour / 4)),
        ];
        for (app, minutes, slot) in due.into_iter().flatten() {
            let jitter = rng.gen_range(3..170);
            let t = midnight
                + Duration::minutes(i64::from(hour) * 60 + minutes)
                + Duration::seconds(jitter);
            out.push(workload_run(rng, app, slot, t));
        }
    }
    out
}

/// Deterministic request ids for the sign-ins other sources refer to
/// (risk detections, signInActivity).
pub fn story_request_id(key: &str) -> Uuid {
    let mut bytes = *super::ids::guid("signin", key).as_bytes();
    bytes[15] = 0;
    Uuid::from_bytes(bytes)
}

/// The browser session the phishing proxy captured (sign-ins and mailbox audit
/// records share it).
pub fn stolen_session() -> Uuid {
    super::ids::guid("session", "aitm")
}

/// The attacker's sign-ins, along the timeline in `story`, one step per phase.
fn attack(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    let mut out = phishing_proxy(rng);
    out.extend(session_replay(rng));
    out.push(device_registration(rng));
    out.push(consent(rng));
    let app_session = random_guid(rng);
    out.push(rejected_app_secret(rng));
    out.extend(tor_signins(rng));
    out.extend(admin_spray(rng));
    for d in 0..7 {
        out.extend(quiet_day(rng, d, app_session));
    }
    // The first good use of the app secret, 22 seconds after the typo.
    out.push(SignIn::workload(
        rng,
        at(APP_FIRST_USE) + Duration::seconds(22),
        tenant_app(ATTACKER_APP),
        GRAPH,
        &ATTACKER,
    ));
    out.extend(collector_tries(rng));
    out
}

/// A sign-in of the victim's account at a story time.
fn victim_signin(
    rng: &mut ChaCha8Rng,
    kind: Kind,
    time: &str,
    apps: (App, App),
) -> SignIn<'static> {
    SignIn::user(rng, kind, at(time), victim(), apps)
}

/// The attacker's own browser on the stolen session cookie.
fn attacker_browser(s: &mut SignIn) {
    s.place = &ATTACKER;
    s.client = ATTACKER_CHROME;
    s.device = NO_DEVICE;
    s.session_id = Some(stolen_session());
}

/// The phishing proxy relays her browser: her user agent, but no device and a
/// foreign address. A mistyped password first, then the sign-in it captures.
fn phishing_proxy(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    let mut proxied = victim_signin(
        rng,
        Kind::Interactive,
        AITM_FAILED,
        (OFFICE_HOME, OFFICE_HOME),
    );
    proxied.place = &AITM_PROXY;
    proxied.client = EDGE_WINDOWS;
    proxied.device = NO_DEVICE;
    proxied.session_id = Some(stolen_session());
    proxied.incoming_token = "none";
    let failed = proxied.clone().failed(BAD_PASSWORD, &[PASSWORD_BAD]);
    let mut success = proxied;
    success.time = at(AITM_SUCCEEDED);
    success.id = story_request_id("aitm");
    success.correlation_id = random_guid(rng);
    success.steps = &[PASSWORD_OK, PUSH_OK];
    success.status = OK_MFA;
    success.risk = Risk {
        during: "medium",
        aggregated: "high",
        state: "atRisk",
        events: &["unfamiliarFeatures", "attackerinTheMiddle"],
    };
    vec![failed, success]
}

/// The stolen session cookie, replayed: same session id, another country and
/// browser; then mail, SharePoint, security info and the Azure portal.
fn session_replay(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    let mut out = Vec::new();
    let mut replay = victim_signin(
        rng,
        Kind::Interactive,
        SESSION_REPLAYED,
        (OFFICE_HOME, OFFICE_HOME),
    );
    attacker_browser(&mut replay);
    replay.id = story_request_id("replay");
    replay.incoming_token = "none";
    replay.risk = Risk {
        during: "none",
        aggregated: "high",
        state: "atRisk",
        events: &["unlikelyTravel", "anomalousToken"],
    };
    out.push(replay);
    for (time, apps) in [
        ("2026-11-18T01:06:02Z", (OUTLOOK_WEB, EXCHANGE)),
        ("2026-11-18T01:21:40Z", (OUTLOOK_WEB, EXCHANGE)),
        ("2026-11-18T01:51:13Z", (OUTLOOK_WEB, EXCHANGE)),
        ("2026-11-18T02:20:48Z", (OFFICE_HOME, SHAREPOINT)),
    ] {
        let mut s = victim_signin(rng, Kind::NonInteractive, time, apps);
        attacker_browser(&mut s);
        out.push(s);
    }
    for (time, apps) in [
        (MFA_REGISTRATION_STARTED, (MY_SIGNINS, GRAPH)),
        ("2026-11-18T02:03:58Z", (AZURE_PORTAL, AZURE_MANAGEMENT)),
    ] {
        let mut s = victim_signin(rng, Kind::Interactive, time, apps);
        attacker_browser(&mut s);
        s.incoming_token = "none";
        out.push(s);
    }
    out
}

/// Device registration with the stolen refresh token.
fn device_registration(rng: &mut ChaCha8Rng) -> SignIn<'static> {
    let mut register = victim_signin(
        rng,
        Kind::NonInteractive,
        "2026-11-18T01:40:51Z",
        (AUTH_BROKER, DEVICE_REGISTRATION),
    );
    register.place = &ATTACKER;
    register.client = ATTACKER_DSREG;
    register.device = NO_DEVICE;
    register
}

/// Consent to the attacker's app, in the browser.
fn consent(rng: &mut ChaCha8Rng) -> SignIn<'static> {
    let mut signin = victim_signin(
        rng,
        Kind::Interactive,
        "2026-11-18T02:09:03Z",
        (ATTACKER_APP, GRAPH),
    );
    attacker_browser(&mut signin);
    signin.incoming_token = "none";
    signin
}

/// The app's own secret, mistyped on first use.
fn rejected_app_secret(rng: &mut ChaCha8Rng) -> SignIn<'static> {
    let app = tenant_app(ATTACKER_APP);
    let mut wrong = SignIn::workload(rng, at(APP_FIRST_USE), app, GRAPH, &ATTACKER);
    wrong.status = BAD_CLIENT_SECRET;
    wrong
}

/// Fresh sign-in through Tor with the attacker's own Authenticator, and Outlook
/// on the web refreshing its token twice in that session.
fn tor_signins(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    let mut tor = victim_signin(
        rng,
        Kind::Interactive,
        TOR_SIGNIN,
        (OFFICE_HOME, OFFICE_HOME),
    );
    tor.id = story_request_id("tor");
    tor.place = &TOR_EXIT;
    tor.client = TOR_BROWSER;
    tor.device = NO_DEVICE;
    tor.steps = &[PASSWORD_OK, OATH_OK];
    tor.status = OK_MFA;
    tor.incoming_token = "none";
    tor.risk = Risk {
        during: "medium",
        aggregated: "high",
        state: "atRisk",
        events: &["anonymizedIPAddress"],
    };
    let mut out = vec![tor.clone()];
    for minutes in [3, 11] {
        let mut s = tor.clone();
        s.kind = Kind::NonInteractive;
        s.time += Duration::minutes(minutes) + Duration::seconds(rng.gen_range(0..60));
        s.id = request_id(rng);
        s.correlation_id = random_guid(rng);
        (s.app, s.resource) = (OUTLOOK_WEB, EXCHANGE);
        s.steps = &[];
        s.status = OK_CLAIM;
        s.incoming_token = "refreshToken";
        s.risk = NO_RISK;
        out.push(s);
    }
    out
}

/// Password spray against the Global Administrator, ending in a lockout.
fn admin_spray(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    let admin = admin();
    let mut out = Vec::new();
    for n in 0..6 {
        let time = at(ADMIN_SPRAY) + Duration::seconds(n * 23 + rng.gen_range(0..5));
        let mut s = SignIn::user(rng, Kind::Interactive, time, admin, (OFFICE, GRAPH));
        s.place = &ATTACKER;
        s.client = ATTACKER_SCRIPT;
        s.device = NO_DEVICE;
        s.session_id = None;
        s.protocol = "ropc";
        s.incoming_token = "none";
        out.push(if n < 5 {
            s.failed(BAD_PASSWORD, &[PASSWORD_BAD])
        } else {
            s.failed(LOCKED_OUT, &[])
        });
    }
    out
}

/// Day `d` of the quiet use after the replay: the app's script, the browser
/// session and the device's PRT take turns; each script run is followed by the
/// app's own sign-in.
fn quiet_day(rng: &mut ChaCha8Rng, d: i64, app_session: Uuid) -> Vec<SignIn<'static>> {
    let day = at(SESSION_REPLAYED).date_naive() + Duration::days(d);
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let place: &'static Place = if d % 3 == 2 { &ATTACKER_ALT } else { &ATTACKER };
    let begin = if d == 0 { at(APP_FIRST_USE) } else { midnight };
    let span = if d == 6 {
        at(LAST_ATTACKER_ACTIVITY) - midnight
    } else {
        Duration::hours(24)
    };
    let mut times: Vec<_> = (0..rng.gen_range(9..14))
        .map(|_| midnight + Duration::seconds(rng.gen_range(0..span.num_seconds())))
        .filter(|t| *t > begin)
        .collect();
    if d == 6 {
        times.push(at(LAST_ATTACKER_ACTIVITY));
    }
    let mut out = Vec::new();
    for (n, time) in times.into_iter().enumerate() {
        let kind_pick = n % 4;
        let mut s = quiet_use(rng, kind_pick, time, app_session);
        s.place = place;
        out.push(s);
        if kind_pick == 0 {
            let delay = Duration::seconds(rng.gen_range(5..90));
            let app = tenant_app(ATTACKER_APP);
            let mut run = SignIn::workload(rng, time + delay, app, GRAPH, place);
            run.processing_ms = rng.gen_range(30..90);
            out.push(run);
        }
    }
    out
}

/// One quiet-use token refresh: the app's script (picks 0 and 1), the replayed
/// browser session (2) or the attacker's device (3).
fn quiet_use(
    rng: &mut ChaCha8Rng,
    kind_pick: usize,
    time: DateTime<Utc>,
    app_session: Uuid,
) -> SignIn<'static> {
    let apps = match kind_pick {
        0 | 1 => (ATTACKER_APP, GRAPH),
        2 => (OUTLOOK_WEB, EXCHANGE),
        _ => (WINDOWS_SIGN_IN, AAD_GRAPH),
    };
    let mut s = SignIn::user(rng, Kind::NonInteractive, time, victim(), apps);
    s.device = NO_DEVICE;
    match kind_pick {
        0 | 1 => {
            s.client = ATTACKER_SCRIPT;
            s.session_id = Some(app_session);
        }
        2 => {
            s.client = ATTACKER_CHROME;
            s.session_id = Some(stolen_session());
        }
        _ => {
            s.client = ATTACKER_DSREG;
            s.device = attacker_device();
            s.incoming_token = "primaryRefreshToken";
        }
    }
    s
}

/// The IT administrator tries the collector (`doctor`) after registering it.
fn collector_tries(rng: &mut ChaCha8Rng) -> Vec<SignIn<'static>> {
    [18, 26]
        .into_iter()
        .map(|minutes| {
            SignIn::workload(
                rng,
                at(TOOL_REGISTERED) + Duration::minutes(minutes),
                tenant_app(TOOL),
                GRAPH,
                &TOKYO_OFFICE,
            )
        })
        .collect()
}
