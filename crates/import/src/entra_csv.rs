//! Entra admin center CSV downloads: sign-ins (user, application, managed
//! identity), their AuthDetails companions, and the audit log. Mapping from
//! <https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs>;
//! the header decides, never the column position.

use super::csvread::Header;
use super::error::{BadRow, Position};
use super::mapping::{f, set, AmbiguousDate, Field, Kind, Plan};
use serde_json::{Map, Value};

use Kind::*;

/// Sign-in download columns (normalised names) and their Graph fields.
const SIGNIN: &[Field] = &[
    f("date (utc)", &["createdDateTime"], Date),
    f("request id", &["id"], Text),
    f("user agent", &["userAgent"], Text),
    f("correlation id", &["correlationId"], Text),
    f("user id", &["userId"], Text),
    f("user", &["userDisplayName"], Text),
    f("username", &["userPrincipalName"], Text),
    f("user type", &["userType"], Enum),
    f("cross tenant access type", &["crossTenantAccessType"], Enum),
    f("incoming token type", &["incomingTokenType"], Enum),
    f("authentication protocol", &["authenticationProtocol"], Enum),
    f("unique token identifier", &["uniqueTokenIdentifier"], Text),
    f(
        "original transfer method",
        &["originalTransferMethod"],
        Enum,
    ),
    f("client credential type", &["clientCredentialType"], Enum),
    f(
        "token protection - sign in session",
        &["tokenProtectionStatusDetails", "signInSessionStatus"],
        Enum,
    ),
    f(
        "token protection - sign in session statuscode",
        &["tokenProtectionStatusDetails", "signInSessionStatusCode"],
        Int,
    ),
    f("application", &["appDisplayName"], Text),
    f("application id", &["appId"], Text),
    f("app owner tenant id", &["appOwnerTenantId"], Text),
    f("resource", &["resourceDisplayName"], Text),
    f("resource id", &["resourceId"], Text),
    f("resource tenant id", &["resourceTenantId"], Text),
    f("resource owner tenant id", &["resourceOwnerTenantId"], Text),
    f("home tenant id", &["homeTenantId"], Text),
    f("home tenant name", &["homeTenantName"], Text),
    f("ip address", &["ipAddress"], Text),
    f("sign-in error code", &["status", "errorCode"], Int),
    f("failure reason", &["status", "failureReason"], Text),
    f("client app", &["clientAppUsed"], Text),
    f("device id", &["deviceDetail", "deviceId"], Text),
    f("browser", &["deviceDetail", "browser"], Text),
    f(
        "operating system",
        &["deviceDetail", "operatingSystem"],
        Text,
    ),
    f("compliant", &["deviceDetail", "isCompliant"], Bool),
    f("managed", &["deviceDetail", "isManaged"], Bool),
    f("join type", &["deviceDetail", "trustType"], Text),
    f(
        "multifactor authentication auth method",
        &["mfaDetail", "authMethod"],
        Text,
    ),
    f(
        "multifactor authentication auth detail",
        &["mfaDetail", "authDetail"],
        Text,
    ),
    f(
        "authentication requirement",
        &["authenticationRequirement"],
        Enum,
    ),
    f("sign-in identifier", &["signInIdentifier"], Text),
    f("session id", &["sessionId"], Text),
    f(
        "ip address (seen by resource)",
        &["ipAddressFromResourceProvider"],
        Text,
    ),
    f(
        "through global secure access",
        &["isThroughGlobalSecureAccess"],
        Bool,
    ),
    f(
        "global secure access ip address",
        &["globalSecureAccessIpAddress"],
        Text,
    ),
    f("autonomous system number", &["autonomousSystemNumber"], Int),
    f("flagged for review", &["flaggedForReview"], Bool),
    f("token issuer type", &["tokenIssuerType"], Text),
    f("token issuer name", &["tokenIssuerName"], Text),
    f("latency", &["processingTimeInMilliseconds"], Int),
    f("conditional access", &["conditionalAccessStatus"], Enum),
    f(
        "managed identity type",
        &["managedServiceIdentity", "msiType"],
        Enum,
    ),
    f(
        "associated resource id",
        &["managedServiceIdentity", "associatedResourceId"],
        Text,
    ),
    f(
        "federated token id",
        &["managedServiceIdentity", "federatedTokenId"],
        Text,
    ),
    f(
        "federated token issuer",
        &["managedServiceIdentity", "federatedTokenIssuer"],
        Text,
    ),
    f("service principal id", &["servicePrincipalId"], Text),
    f("service principal name", &["servicePrincipalName"], Text),
    f(
        "credential key id",
        &["servicePrincipalCredentialKeyId"],
        Text,
    ),
    f(
        "credential thumbprint",
        &["servicePrincipalCredentialThumbprint"],
        Text,
    ),
];

/// AuthDetails download columns -> `authenticationDetails[]` items.
const AUTH_DETAIL: &[Field] = &[
    f("date (utc)", &["authenticationStepDateTime"], Date),
    f("date", &["authenticationStepDateTime"], Date),
    f("authentication method", &["authenticationMethod"], Text),
    f(
        "authentication method detail",
        &["authenticationMethodDetail"],
        Text,
    ),
    f("succeeded", &["succeeded"], Bool),
    f("result detail", &["authenticationStepResultDetail"], Text),
    f("requirement", &["authenticationStepRequirement"], Text),
];

/// Columns every sign-in download has.
pub fn is_signin(h: &Header) -> bool {
    [
        "date (utc)",
        "request id",
        "correlation id",
        "ip address",
        "application",
    ]
    .iter()
    .all(|k| h.has(k))
}

/// User sign-ins (interactive or non-interactive) carry user columns.
pub fn is_user_signin(h: &Header) -> bool {
    is_signin(h) && h.has("username") && h.has("user id")
}

pub fn is_auth_details(h: &Header) -> bool {
    h.has("request id") && h.has("authentication method") && !h.has("application")
}

pub fn is_audit(h: &Header) -> bool {
    [
        "date (utc)",
        "correlationid",
        "service",
        "category",
        "activity",
        "result",
    ]
    .iter()
    .all(|k| h.has(k))
}

/// Converts sign-in download rows.
pub struct SigninCsv {
    plan: Plan,
    location: Option<usize>,
}

impl SigninCsv {
    pub fn new(h: &Header) -> Self {
        Self {
            plan: Plan::new(h, SIGNIN, &["location"]),
            location: h.find("location"),
        }
    }

    pub fn convert(
        &self,
        h: &Header,
        row: &csv::StringRecord,
        line: u64,
        flags: &mut Vec<AmbiguousDate>,
    ) -> Result<Value, BadRow> {
        let mut out = Map::new();
        self.plan.apply(h, row, line, &mut out, flags)?;
        if let Some(i) = self.location {
            location(&row[i], &mut out);
        }
        Ok(Value::Object(order_like_graph(out)))
    }
}

/// `City, State, CC` -> `location{city,state,countryOrRegion}`.
fn location(text: &str, out: &mut Map<String, Value>) {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let (city, state, country) = match parts.as_slice() {
        [c] => ("".to_string(), "", *c),
        [city, c] => (city.to_string(), "", *c),
        [head @ .., s, c] => (head.join(", "), *s, *c),
        [] => return,
    };
    for (k, v) in [
        ("city", city.as_str()),
        ("state", state),
        ("countryOrRegion", country),
    ] {
        if !v.is_empty() {
            set(out, &["location", k], Value::String(v.into()));
        }
    }
}

/// Puts `id` and `createdDateTime` first, as Graph does, so records read alike.
fn order_like_graph(mut m: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(m.len());
    for k in ["id", "createdDateTime"] {
        if let Some(v) = m.remove(k) {
            out.insert(k.into(), v);
        }
    }
    out.extend(m);
    out
}

/// Converts AuthDetails rows into `(request id, authenticationDetails item)`.
pub struct AuthDetailsCsv {
    plan: Plan,
    request: usize,
}

impl AuthDetailsCsv {
    pub fn new(h: &Header) -> Self {
        Self {
            plan: Plan::new(h, AUTH_DETAIL, &["request id"]),
            request: h.find("request id").expect("checked by is_auth_details"),
        }
    }

    pub fn convert(
        &self,
        h: &Header,
        row: &csv::StringRecord,
        line: u64,
        flags: &mut Vec<AmbiguousDate>,
    ) -> Result<(String, Value), BadRow> {
        let id = row[self.request].trim();
        if id.is_empty() {
            return Err(BadRow::new(
                Position::field(line, self.request as u64 + 1, "Request ID"),
                "the Request ID is empty, so the step cannot be joined to its sign-in",
            ));
        }
        let mut out = Map::new();
        self.plan.apply(h, row, line, &mut out, flags)?;
        Ok((id.to_string(), Value::Object(out)))
    }
}

/// Fixed audit download columns.
const AUDIT_FIELDS: &[Field] = &[
    f("date (utc)", &["activityDateTime"], Date),
    f("correlationid", &["correlationId"], Text),
    f("service", &["loggedByService"], Text),
    f("category", &["category"], Text),
    f("activity", &["activityDisplayName"], Text),
    f("result", &["result"], Lower),
    f("resultreason", &["resultReason"], Text),
    f("user agent", &["userAgent"], Text),
    f("useragent", &["userAgent"], Text),
];

const ACTOR_USER: &[(&str, &str)] = &[
    ("actorobjectid", "id"),
    ("actordisplayname", "displayName"),
    ("actoruserprincipalname", "userPrincipalName"),
    ("ipaddress", "ipAddress"),
    ("actorhometenantid", "homeTenantId"),
    ("actorhometenantname", "homeTenantName"),
];

const ACTOR_APP: &[(&str, &str)] = &[
    ("actordisplayname", "displayName"),
    ("actorserviceprincipalid", "servicePrincipalId"),
    ("actorserviceprincipalname", "servicePrincipalName"),
];

/// Converts audit download rows (17 fixed columns, Target1..3 with
/// ModifiedProperty1..5, AdditionalDetail1..6).
pub struct AuditCsv {
    plan: Plan,
    actor_type: Option<usize>,
    cols: std::collections::HashMap<String, usize>,
}

impl AuditCsv {
    pub fn new(h: &Header) -> Self {
        let mut handled: Vec<String> = vec!["actortype".into()];
        handled.extend(
            ACTOR_USER
                .iter()
                .chain(ACTOR_APP)
                .map(|(c, _)| c.to_string()),
        );
        handled.extend(
            h.keys
                .iter()
                .filter(|k| k.starts_with("target") || k.starts_with("additionaldetail"))
                .cloned(),
        );
        let handled_refs: Vec<&str> = handled.iter().map(String::as_str).collect();
        let cols = h
            .keys
            .iter()
            .enumerate()
            .rev()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Self {
            plan: Plan::new(h, AUDIT_FIELDS, &handled_refs),
            actor_type: h.find("actortype"),
            cols,
        }
    }

    fn cell<'r>(&self, row: &'r csv::StringRecord, key: &str) -> Option<&'r str> {
        let v = &row[*self.cols.get(key)?];
        (!v.is_empty()).then_some(v)
    }

    pub fn convert(
        &self,
        h: &Header,
        row: &csv::StringRecord,
        line: u64,
        flags: &mut Vec<AmbiguousDate>,
    ) -> Result<Value, BadRow> {
        let mut out = Map::new();
        self.plan.apply(h, row, line, &mut out, flags)?;
        let actor = self.actor_type.map_or("", |i| row[i].trim());
        let is_app = actor.eq_ignore_ascii_case("app")
            || actor.eq_ignore_ascii_case("application")
            || actor.eq_ignore_ascii_case("serviceprincipal");
        self.initiated_by(row, is_app, &mut out);
        let targets: Vec<Value> = (1..=3).filter_map(|n| self.target(row, n)).collect();
        if !targets.is_empty() {
            out.insert("targetResources".into(), Value::Array(targets));
        }
        let details = self.additional_details(row);
        if !details.is_empty() {
            out.insert("additionalDetails".into(), Value::Array(details));
        }
        self.other_actor_cells(h, row, is_app, &mut out);
        Ok(Value::Object(out))
    }

    /// `initiatedBy.user` or `initiatedBy.app` from the actor columns.
    fn initiated_by(&self, row: &csv::StringRecord, is_app: bool, out: &mut Map<String, Value>) {
        let (side, fields) = if is_app {
            ("app", ACTOR_APP)
        } else {
            ("user", ACTOR_USER)
        };
        let mut who = Map::new();
        for (col, key) in fields {
            if let Some(v) = self.cell(row, col) {
                who.insert((*key).into(), Value::String(v.into()));
            }
        }
        if !who.is_empty() {
            set(out, &["initiatedBy", side], Value::Object(who));
        }
    }

    /// Target `n` (1..3) with its modified properties, if the row has it.
    fn target(&self, row: &csv::StringRecord, n: usize) -> Option<Value> {
        let mut t = Map::new();
        for (suffix, key) in [
            ("objectid", "id"),
            ("displayname", "displayName"),
            ("type", "type"),
            ("userprincipalname", "userPrincipalName"),
        ] {
            if let Some(v) = self.cell(row, &format!("target{n}{suffix}")) {
                t.insert(key.into(), Value::String(v.into()));
            }
        }
        let mut props = Vec::new();
        for m in 1..=5 {
            let p = |s: &str| self.cell(row, &format!("target{n}modifiedproperty{m}{s}"));
            let (name, old, new) = (p("name"), p("oldvalue"), p("newvalue"));
            if name.is_none() && old.is_none() && new.is_none() {
                continue;
            }
            let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.into()));
            props.push(serde_json::json!({
                "displayName": text(name), "oldValue": text(old), "newValue": text(new)
            }));
        }
        if !props.is_empty() {
            t.insert("modifiedProperties".into(), Value::Array(props));
        }
        (!t.is_empty()).then_some(Value::Object(t))
    }

    fn additional_details(&self, row: &csv::StringRecord) -> Vec<Value> {
        let mut details = Vec::new();
        for k in 1..=6 {
            let key = self.cell(row, &format!("additionaldetail{k}key"));
            let value = self.cell(row, &format!("additionaldetail{k}value"));
            if key.is_some() || value.is_some() {
                details.push(
                    serde_json::json!({"key": key.unwrap_or(""), "value": value.unwrap_or("")}),
                );
            }
        }
        details
    }

    /// Actor cells of the other kind (and an app's object id) have no place in
    /// `initiatedBy.<side>`: kept as written.
    fn other_actor_cells(
        &self,
        h: &Header,
        row: &csv::StringRecord,
        is_app: bool,
        out: &mut Map<String, Value>,
    ) {
        let (fields, other) = if is_app {
            (ACTOR_APP, ACTOR_USER)
        } else {
            (ACTOR_USER, ACTOR_APP)
        };
        for (col, _) in other {
            if fields.iter().any(|(c, _)| c == col) {
                continue;
            }
            if let (Some(v), Some(i)) = (self.cell(row, col), self.cols.get(*col)) {
                set(
                    out,
                    &[super::mapping::UNMAPPED, &h.names[*i]],
                    Value::String(v.into()),
                );
            }
        }
    }
}
