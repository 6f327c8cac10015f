//! Evolvable enum members: those an enum lists after `unknownFutureValue` are
//! sent only to clients that ask with `Prefer: include-unknown-enum-members`;
//! anyone else reads `unknownFutureValue`
//! (<https://learn.microsoft.com/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations>).
//!
//! The layer masks every JSON answer of a client that did not opt in, by the
//! type its `@odata.context` names (an entity set or a property of one, as
//! OData clients read it) and Graph's own schema ([`crate::csdl`]).

use crate::csdl::{self, Kind, Model, StructType, TypeRef};
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// Entity sets and properties (the last segment of a context URL) and the
/// type their values have.
const SERVED: &[(&str, &str)] = &[
    ("signIns", "signIn"),
    ("directoryAudits", "directoryAudit"),
    ("queries", "security.auditLogQuery"),
    ("records", "security.auditLogRecord"),
    ("users", "user"),
    ("directoryObjects", "directoryObject"),
    ("devices", "device"),
    ("applications", "application"),
    ("servicePrincipals", "servicePrincipal"),
    ("oauth2PermissionGrants", "oAuth2PermissionGrant"),
    ("appRoleAssignments", "appRoleAssignment"),
    ("roleAssignments", "unifiedRoleAssignment"),
    (
        "roleEligibilityScheduleInstances",
        "unifiedRoleEligibilityScheduleInstance",
    ),
    ("userRegistrationDetails", "userRegistrationDetails"),
    ("riskyUsers", "riskyUser"),
    ("riskDetections", "riskDetection"),
    ("riskyServicePrincipals", "riskyServicePrincipal"),
    (
        "servicePrincipalRiskDetections",
        "servicePrincipalRiskDetection",
    ),
    ("messageRules", "messageRule"),
    ("mailboxSettings", "mailboxSettings"),
    ("mailFolders", "mailFolder"),
    ("messages", "message"),
    ("messageTraces", "exchangeMessageTrace"),
    ("policies", "conditionalAccessPolicy"),
    ("namedLocations", "namedLocation"),
    (
        "authenticationStrengthPolicies",
        "authenticationStrengthPolicy",
    ),
    ("alerts_v2", "security.alert"),
    ("incidents", "security.incident"),
];

/// The authentication-method collections (`methods`, `emailMethods`, ...).
const METHODS: &str = "authenticationMethod";

/// The type of the values a context URL describes, and the schema holding it
/// (v1.0, else beta: the v1.0 subset has no signIn).
fn served_type(context: &str) -> Option<(&'static Model, &'static StructType)> {
    let fragment = context.split_once("$metadata#")?.1;
    let fragment = fragment.trim_end_matches("/$entity");
    let last = fragment.rsplit('/').next()?;
    // `users(id,displayName)`, `mailFolders('inbox')`: the set's name.
    let set = last.split('(').next()?;
    let ty = SERVED
        .iter()
        .find(|(s, _)| *s == set)
        .map(|(_, t)| *t)
        .or_else(|| set.ends_with("Methods").then_some(METHODS))?;
    let name = format!("microsoft.graph.{ty}");
    [csdl::v1(), csdl::beta()]
        .into_iter()
        .find_map(|m| m.structure(&name).map(|t| (m, t)))
}

/// Masks the evolvable members of a JSON answer for a client that did not opt in.
pub(super) async fn layer(req: Request, next: Next) -> Response {
    let opted_in = req.headers().get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|p| {
                p.trim()
                    .eq_ignore_ascii_case("include-unknown-enum-members")
            })
        })
    });
    let response = next.run(req).await;
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if opted_in || !json || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let served = value["@odata.context"].as_str().and_then(served_type);
    let Some((model, ty)) = served else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let masked = match value.get_mut("value") {
        Some(Value::Array(items)) => {
            let mut changed = false;
            for item in items {
                changed |= mask_struct(model, ty, item);
            }
            changed
        }
        _ => mask_struct(model, ty, &mut value),
    };
    if !masked {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(value.to_string()))
}

/// Masks `value`, a `declared` (or the type its `@odata.type` names); true if
/// anything changed.
fn mask_struct(model: &Model, declared: &StructType, value: &mut Value) -> bool {
    let Value::Object(obj) = value else {
        return false;
    };
    let t = obj
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(|name| model.structure(name.trim_start_matches('#')))
        .unwrap_or(declared);
    let mut changed = false;
    for (key, v) in obj.iter_mut() {
        let ty = model
            .property(t, key)
            .map(|p| &p.ty)
            .or_else(|| model.navigation(t, key));
        if let Some(ty) = ty {
            changed |= mask_value(model, ty, v);
        }
    }
    changed
}

fn mask_value(model: &Model, ty: &TypeRef, v: &mut Value) -> bool {
    match v {
        Value::Array(items) if ty.collection => {
            let mut changed = false;
            for item in items {
                changed |= mask_one(model, &ty.name, item);
            }
            changed
        }
        other => mask_one(model, &ty.name, other),
    }
}

fn mask_one(model: &Model, ty: &str, v: &mut Value) -> bool {
    match model.kind(ty) {
        Kind::Struct(s) => mask_struct(model, s, v),
        Kind::Enum(e) => {
            let (Some(placeholder), Some(text)) = (e.placeholder(), v.as_str()) else {
                return false;
            };
            let parts: Vec<&str> = if e.flags {
                text.split(',').collect()
            } else {
                vec![text]
            };
            if !parts.iter().any(|p| e.is_evolvable(p)) {
                return false;
            }
            let mut masked: Vec<&str> = Vec::new();
            for p in parts {
                let p = if e.is_evolvable(p) { placeholder } else { p };
                if !masked.contains(&p) {
                    masked.push(p);
                }
            }
            *v = Value::String(masked.join(","));
            true
        }
        Kind::Primitive(_) | Kind::Unknown => false,
    }
}
