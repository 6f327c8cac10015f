//! Authentication methods: `/users/{id}/authentication/methods` and the typed
//! collections, beta `/authentication/requirements` (per-user MFA), and the
//! premium `userRegistrationDetails` report
//! (<https://learn.microsoft.com/graph/api/resources/authenticationmethods-overview?view=graph-rest-1.0>).
//!
//! - Methods draw on the reports budget
//!   (<https://learn.microsoft.com/graph/throttling-limits>) and need
//!   `UserAuthenticationMethod.Read.All`; they take no query options (ignored).
//!   v1.0 leaves out the beta-only method types and properties.
//! - Registration details need `AuditLog.Read.All` (403
//!   `Authentication_MSGraphPermissionMissing` naming it) and P1/P2 (403
//!   premium on Free); filters `id`, `userPrincipalName` and the boolean flags.

use super::directory::user_id_of;
use super::paging::{self, Order, Page, Slice};
use super::{entity, json, strip, ApiError, Call, Ctx, Denial, Pace, Version};
use crate::fixture::Authentication;
use crate::odata::{project, prop as p, FilterSpec, Kind, Lambda, Style, EQ, STARTS};
use crate::throttle::Budget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json as j, Value};

const METHOD_PERMISSIONS: &[&str] = &[
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
];
const REQUIREMENT_PERMISSIONS: &[&str] =
    &["Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"];
const REGISTRATION_PERMISSIONS: &[&str] = &["AuditLog.Read.All"];

/// Typed collections: (segment, `@odata.type` of its members, beta only).
const COLLECTIONS: &[(&str, &str, bool)] = &[
    (
        "emailMethods",
        "#microsoft.graph.emailAuthenticationMethod",
        false,
    ),
    (
        "fido2Methods",
        "#microsoft.graph.fido2AuthenticationMethod",
        false,
    ),
    (
        "microsoftAuthenticatorMethods",
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
        false,
    ),
    (
        "passwordMethods",
        "#microsoft.graph.passwordAuthenticationMethod",
        false,
    ),
    (
        "phoneMethods",
        "#microsoft.graph.phoneAuthenticationMethod",
        false,
    ),
    (
        "platformCredentialMethods",
        "#microsoft.graph.platformCredentialAuthenticationMethod",
        false,
    ),
    (
        "softwareOathMethods",
        "#microsoft.graph.softwareOathAuthenticationMethod",
        false,
    ),
    (
        "temporaryAccessPassMethods",
        "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
        false,
    ),
    (
        "windowsHelloForBusinessMethods",
        "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
        false,
    ),
    (
        "externalAuthenticationMethods",
        "#microsoft.graph.externalAuthenticationMethod",
        false,
    ),
    (
        "hardwareOathMethods",
        "#microsoft.graph.hardwareOathAuthenticationMethod",
        true,
    ),
    (
        "passwordlessMicrosoftAuthenticatorMethods",
        "#microsoft.graph.passwordlessMicrosoftAuthenticatorAuthenticationMethod",
        true,
    ),
];

/// Method types only beta returns in `/methods`
/// (<https://learn.microsoft.com/graph/api/authentication-list-methods?view=graph-rest-beta>).
const BETA_ONLY_TYPES: &[&str] = &[
    "#microsoft.graph.hardwareOathAuthenticationMethod",
    "#microsoft.graph.passwordlessMicrosoftAuthenticatorAuthenticationMethod",
    "#microsoft.graph.qrCodePinAuthenticationMethod",
];
const BETA_ONLY_PROPS: &[&str] = &["lastUsedDateTime", "clientAppName"];

const REGISTRATION_FILTER: FilterSpec = FilterSpec {
    entity: "userRegistrationDetails",
    props: &[
        p("id", Kind::Str, EQ),
        p("userPrincipalName", Kind::Str, EQ | STARTS),
        p("userDisplayName", Kind::Str, EQ | STARTS),
        p("userType", Kind::Str, EQ),
        p("isAdmin", Kind::Bool, EQ),
        p("isMfaCapable", Kind::Bool, EQ),
        p("isMfaRegistered", Kind::Bool, EQ),
        p("isPasswordlessCapable", Kind::Bool, EQ),
        p("isSsprCapable", Kind::Bool, EQ),
        p("isSsprEnabled", Kind::Bool, EQ),
        p("isSsprRegistered", Kind::Bool, EQ),
    ],
    lambdas: &[Lambda {
        path: "methodsRegistered",
        item: &[p("", Kind::Str, EQ)],
    }],
    or_refused: None,
    style: Style::AuditLog,
};

fn odata_type(method: &Value) -> &str {
    method
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `GET /users/{id}/authentication/{methods | emailMethods | ...}`.
pub(super) async fn methods(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, segment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let v1 = ctx.version == Version::V1;
    let wanted_type = if segment == "methods" {
        None
    } else {
        match COLLECTIONS
            .iter()
            .find(|(name, _, beta)| *name == segment && !(v1 && *beta))
        {
            Some((_, odata_type, _)) => Some(*odata_type),
            None => {
                return Err(ApiError::bad_request(format!(
                    "Resource not found for the segment '{segment}'."
                )))
            }
        }
    };
    call.require(METHOD_PERMISSIONS, Denial::Directory)?;
    let _slot = ctx.admit(&call, Budget::Reports, Pace::Report).await?;
    let user_id = user_id_of(ctx.tenant(), &key)?;
    let values: Vec<Value> = authentication_of(&ctx, user_id)
        .map(|a| a.methods.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|m| match wanted_type {
            Some(t) => odata_type(m).eq_ignore_ascii_case(t),
            None => {
                !(v1 && BETA_ONLY_TYPES
                    .iter()
                    .any(|b| odata_type(m).eq_ignore_ascii_case(b)))
            }
        })
        .map(|m| {
            let mut m = m.clone();
            if v1 {
                strip(&mut m, BETA_ONLY_PROPS);
            }
            m
        })
        .collect();
    let page = Page {
        context: ctx.context(
            &call,
            &format!("users('{user_id}')/authentication/{segment}"),
        ),
        annotations: Vec::new(),
        count: None,
        next_link: None,
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

fn authentication_of<'a>(ctx: &'a Ctx, user_id: &str) -> Option<&'a Authentication> {
    let auth = &ctx.tenant().authentication;
    auth.get(user_id).or_else(|| {
        auth.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(user_id))
            .map(|(_, v)| v)
    })
}

/// beta `GET /users/{id}/authentication/requirements` (per-user MFA state;
/// `disabled` when the fixture says nothing).
pub(super) async fn requirements(
    State(ctx): State<Ctx>,
    call: Call,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    call.require(REQUIREMENT_PERMISSIONS, Denial::Directory)?;
    let _slot = ctx
        .admit(&call, Budget::Directory { cost: 1 }, Pace::Directory)
        .await?;
    let user_id = user_id_of(ctx.tenant(), &key)?;
    let value = authentication_of(&ctx, user_id)
        .map(|a| a.requirements.clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| j!({"perUserMfaState": "disabled"}));
    let context = ctx.context(
        &call,
        &format!("users('{user_id}')/authentication/requirements"),
    );
    Ok(json(StatusCode::OK, &entity(context, &value)))
}

/// Registration reports are premium data and need `AuditLog.Read.All`.
async fn registration_checks(ctx: &Ctx, call: &Call) -> Result<crate::throttle::Slot, ApiError> {
    call.require(REGISTRATION_PERMISSIONS, Denial::Report)?;
    ctx.require_premium()?;
    ctx.admit(call, Budget::Reports, Pace::Report).await
}

/// `GET /reports/authenticationMethods/userRegistrationDetails`.
pub(super) async fn registration_details(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    let _slot = registration_checks(&ctx, &call).await?;
    call.opts
        .allow_only(&["$filter", "$select", "$top", "$skiptoken", "$orderby"])?;
    let filter = call.filter(&REGISTRATION_FILTER)?;
    let select = call.opts.select()?;
    let top = call.opts.top(1000, 1000, |raw| {
        ApiError::bad_request(format!(
            "Invalid page size specified: '{raw}'. Must be between 1 and 1000 inclusive."
        ))
    })?;
    let items = &ctx.tenant().registration_details;
    let start = paging::start(&call)?;
    let keep = |r: &Value| filter.as_ref().is_none_or(|f| f.matches(r));
    let (values, next) = paging::scan(
        &Slice(items),
        Order::NewestFirst,
        start,
        top,
        (0, items.len()),
        keep,
    );
    let values = values
        .into_iter()
        .map(|v| match select.as_deref() {
            Some(fields) => project(&v, fields, &[]),
            None => v,
        })
        .collect();
    let page = Page {
        context: ctx.context(
            &call,
            "reports/authenticationMethods/userRegistrationDetails",
        ),
        annotations: Vec::new(),
        count: None,
        next_link: next.map(|pos| paging::next_link(&call, pos)),
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

/// `GET /reports/authenticationMethods/userRegistrationDetails/{userId}`.
pub(super) async fn registration_detail(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let _slot = registration_checks(&ctx, &call).await?;
    let found = ctx
        .tenant()
        .registration_details
        .iter()
        .find(|r| {
            r.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(&id))
        })
        .ok_or_else(|| ApiError::not_found(&id))?;
    let context = ctx.context(
        &call,
        "reports/authenticationMethods/userRegistrationDetails/$entity",
    );
    Ok(json(StatusCode::OK, &entity(context, found)))
}
