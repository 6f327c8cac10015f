//! Records in their type's full shape. A Graph list or get without `$select`
//! returns every structural property of the record's type (its `@odata.type`,
//! or the type the route serves): `null` where unset, `[]` for an empty
//! collection (shared/reference/graph-csdl/README.md). The scenario writes what
//! it knows and [`fill`] adds the rest from Graph's own schema ([`crate::csdl`]).

use crate::csdl::{self, Kind, Model, StructType};
use crate::fixture::Fixture;
use serde_json::{Map, Value};

/// `record` (a `microsoft.graph.{ty}` of the v1.0 schema, or of the type its
/// `@odata.type` names) with every structural property, complex values and
/// collections of them filled the same way, in the schema's order: annotations
/// first, then the type's properties (inherited ones first), then anything else
/// the record carries (dynamic properties of open types).
pub fn fill(ty: &str, record: &mut Value) {
    let model = csdl::v1();
    let declared = model
        .structure(&format!("microsoft.graph.{ty}"))
        .unwrap_or_else(|| panic!("microsoft.graph.{ty} is not in the schema"));
    fill_struct(model, declared, record);
}

fn fill_struct(model: &Model, declared: &StructType, value: &mut Value) {
    let Value::Object(obj) = value else {
        return;
    };
    let t = obj
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(|name| model.structure(name.trim_start_matches('#')))
        .unwrap_or(declared);
    let mut old = std::mem::take(obj);
    let mut out = Map::with_capacity(old.len());
    let annotations: Vec<String> = old.keys().filter(|k| k.starts_with('@')).cloned().collect();
    for key in annotations {
        if let Some(v) = old.shift_remove(&key) {
            out.insert(key, v);
        }
    }
    for p in model.properties(t) {
        if p.ty.name == "Edm.Stream" {
            continue;
        }
        let inner = match model.kind(&p.ty.name) {
            Kind::Struct(s) => Some(s),
            _ => None,
        };
        let v = match old.shift_remove(&p.name) {
            Some(mut v) => {
                if let Some(s) = inner {
                    match &mut v {
                        Value::Array(items) => {
                            items.iter_mut().for_each(|i| fill_struct(model, s, i))
                        }
                        other => fill_struct(model, s, other),
                    }
                }
                v
            }
            None if p.ty.collection => Value::Array(Vec::new()),
            None if p.nullable => Value::Null,
            // A non-nullable value the scenario did not give: what Graph sends
            // when it is unset, where that is known.
            None => match unset(&t.name, &p.name) {
                Some(v) => v,
                None => continue,
            },
        };
        out.insert(p.name.clone(), v);
    }
    out.extend(old);
    *obj = out;
}

/// What Graph sends for a non-nullable property nobody set
/// (<https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0>,
/// `application`, `servicePrincipal`: "Default is false"; `birthday` and `hireDate`
/// of a user who has none are the smallest DateTimeOffset).
fn unset(ty: &str, property: &str) -> Option<Value> {
    Some(match (ty.strip_prefix("microsoft.graph.")?, property) {
        ("user", "birthday" | "hireDate") => Value::from("0001-01-01T00:00:00Z"),
        // "Allowed values are 5 or 1000": 5 unless raised.
        ("user", "deviceEnrollmentLimit") => Value::from(5),
        ("application", "oauth2RequirePostResponse")
        | ("servicePrincipal", "appRoleAssignmentRequired") => Value::Bool(false),
        _ => return None,
    })
}

/// Every record of the scenario in its full shape (groups as the directory
/// objects they are; role definitions and SKUs as given: their types are not in
/// the schema subset the simulator has).
pub fn fill_fixture(f: &mut Fixture) {
    let each = |ty: &str, items: &mut [Value]| items.iter_mut().for_each(|v| fill(ty, v));
    let t = &mut f.tenant;
    each("user", &mut t.users);
    each("directoryObject", &mut t.groups);
    each("device", &mut t.devices);
    each("application", &mut t.applications);
    each("servicePrincipal", &mut t.service_principals);
    each("oAuth2PermissionGrant", &mut t.oauth2_permission_grants);
    each("appRoleAssignment", &mut t.app_role_assignments);
    each("unifiedRoleAssignment", &mut t.role_assignments);
    each(
        "unifiedRoleEligibilityScheduleInstance",
        &mut t.role_eligibility_schedule_instances,
    );
    each("userRegistrationDetails", &mut t.registration_details);
    each("riskyUser", &mut t.risky_users);
    each("riskDetection", &mut t.risk_detections);
    each("exchangeMessageTrace", &mut t.message_traces);
    let ca = &mut t.conditional_access;
    each("conditionalAccessPolicy", &mut ca.policies);
    each("conditionalAccessPolicy", &mut ca.deleted_policies);
    each("namedLocation", &mut ca.named_locations);
    each("namedLocation", &mut ca.deleted_named_locations);
    each(
        "authenticationStrengthPolicy",
        &mut t.authentication_strength_policies,
    );
    let deleted = &mut t.deleted_items;
    each("application", &mut deleted.applications);
    each("servicePrincipal", &mut deleted.service_principals);
    each("user", &mut deleted.users);
    each("directoryObject", &mut deleted.groups);
    each("riskyServicePrincipal", &mut t.risky_service_principals);
    each(
        "servicePrincipalRiskDetection",
        &mut t.service_principal_risk_detections,
    );
    each("security.alert", &mut t.security_alerts);
    each("security.incident", &mut t.security_incidents);
    for mailbox in t.mailboxes.values_mut() {
        fill("mailboxSettings", &mut mailbox.settings);
        each("mailFolder", &mut mailbox.folders);
        each("messageRule", &mut mailbox.rules);
        each("message", &mut mailbox.items);
    }
    for auth in t.authentication.values_mut() {
        each("authenticationMethod", &mut auth.methods);
    }
    each("directoryAudit", &mut f.directory_audits);
    for record in &mut f.audit_records {
        // `auditData` is the Management Activity API record as it is, without
        // the schema's `dynamicProperties` (graph-api.md §4.1, records page).
        let data = record.get_mut("auditData").map(Value::take);
        fill("security.auditLogRecord", record);
        if let Some(data) = data {
            record["auditData"] = data;
        }
    }
}
