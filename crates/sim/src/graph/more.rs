//! The routes of the sources an IR firm asks for beyond the first 22, each as
//! graph-api-more.md documents the real one:
//!
//! - message trace (`/admin/exchange/tracing/messageTraces`): 401 `Unauthorized`
//!   naming app 8bd644d1-… when Microsoft's service principal is missing from the
//!   tenant, 403 without `ExchangeMessageTrace.Read.All`, both `receivedDateTime`
//!   bounds, at most 10 days, not before 90 days ago nor after now (400 otherwise;
//!   no filter: the last 48 hours), `$top` 1–5000 (1000), 100 requests per 5
//!   minutes per tenant (429 with `Retry-After`); beta sends `status` in PascalCase
//!   (<https://learn.microsoft.com/graph/api/messagetracingroot-list-messagetraces>);
//! - Conditional Access policies and named locations (P1, 403 premium on Free,
//!   1 request/s per tenant), deleted ones on beta only; authentication strengths
//!   (<https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies>);
//! - `/directory/deletedItems/{cast}`: the cast is required (400
//!   `Request_UnsupportedQuery`), `$top` ≤ 999, `$orderby` only as an advanced
//!   query (<https://learn.microsoft.com/graph/api/directory-deleteditems-list>);
//! - risky service principals and their detections: without Workload ID Premium
//!   in the subscribed SKUs the risk level and detail are served as `hidden`
//!   (<https://learn.microsoft.com/entra/id-protection/concept-workload-identity-risk>);
//! - alerts_v2 and incidents (`$expand=alerts`, alerts by `incidentId`), 150
//!   requests per minute per app; the migration guide's user-evidence filter is
//!   served or refused (400) as [`super::GraphSettings`] says
//!   (<https://learn.microsoft.com/graph/alertsv1-alertsv2-migration>);
//! - messages of a mail folder (metadata as stored, `$select`, `$top` 1–1000,
//!   default 10, `InefficientFilter` when `$orderby` is not the filter's first
//!   property) and one message by id
//!   (<https://learn.microsoft.com/graph/api/mailfolder-list-messages>);
//! - `subscribedSkus` (`$select` only; `sim --licence` takes the Entra plans the
//!   override lacks out of the SKUs) and users' `licenseDetails`
//!   (<https://learn.microsoft.com/graph/api/subscribedsku-list>).

use super::directory::user_id_of;
use super::mailbox::{find_folder, open_mailbox, FOLDER_PERMISSIONS};
use super::paging::{self, Order, Page, Slice};
use super::{entity, json, ApiError, Call, Ctx, Denial, Pace, Version};
use crate::fixture::{Licence, Tenant};
use crate::odata::{project, prop as p, FilterSpec, Kind, Style, EQ, ORD};
use crate::throttle::Budget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// Microsoft's message-trace app, whose service principal must be in the tenant.
const TRACE_APP: &str = "8bd644d1-64a1-4d4b-ae52-2e0cbf64e373";
const ENTRA_P1: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
const ENTRA_P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
const WORKLOAD_ID: [&str; 2] = [
    "84c289f0-efcb-486f-8581-07f44fc9efad",
    "7dc0e92d-bf15-401d-907e-0884efe7c760",
];

/// What a plain collection route checks and serves.
struct Set {
    permissions: &'static [&'static str],
    /// Conditional Access needs Entra ID P1.
    premium: bool,
    budget: Budget<'static>,
    pace: Pace,
    filter: Option<&'static FilterSpec>,
    fragment: &'static str,
    items: fn(&Tenant) -> &[Value],
    /// Default and largest page.
    top: (usize, usize),
    shape: fn(&Ctx, Value) -> Value,
}

fn as_served(_: &Ctx, v: Value) -> Value {
    v
}

impl Set {
    async fn list(&self, ctx: &Ctx, call: &Call) -> Result<Response, ApiError> {
        call.require(self.permissions, Denial::Directory)?;
        if self.premium && ctx.shared().licence == Licence::Free {
            return Err(ApiError::premium_required());
        }
        let _slot = ctx.admit(call, self.budget, self.pace).await?;
        call.opts
            .allow_only(&["$filter", "$select", "$top", "$skiptoken", "$expand"])?;
        let filter = match (self.filter, call.opts.get("$filter")) {
            (Some(spec), Some(_)) => call.filter(spec)?,
            (None, Some(_)) => return Err(ApiError::invalid_filter()),
            _ => None,
        };
        let select = call.opts.select()?;
        let (default, max) = self.top;
        let top = call.opts.top(default, max, |raw| {
            ApiError::bad_request(format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and {max} inclusive."
            ))
        })?;
        let items = (self.items)(ctx.tenant());
        let keep = |r: &Value| filter.as_ref().is_none_or(|f| f.matches(r));
        let start = paging::start(call)?;
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
            .map(|v| {
                let v = (self.shape)(ctx, v);
                match select.as_deref() {
                    Some(fields) => project(&v, fields, &["id"]),
                    None => v,
                }
            })
            .collect();
        let page = Page {
            context: ctx.context(call, self.fragment),
            annotations: Vec::new(),
            count: None,
            next_link: next.map(|pos| paging::next_link(call, pos)),
            values,
        };
        Ok(json(StatusCode::OK, &page.into_json()))
    }
}

// ------------------------------------------------------------- message trace

const TRACE_FILTER: FilterSpec = FilterSpec {
    entity: "exchangeMessageTrace",
    props: &[
        p("id", Kind::Str, EQ),
        p("messageId", Kind::Str, EQ),
        p("senderAddress", Kind::Str, EQ),
        p("recipientAddress", Kind::Str, EQ),
        p("fromIP", Kind::Str, EQ),
        p("toIP", Kind::Str, EQ),
        p("status", Kind::Str, EQ),
        p("receivedDateTime", Kind::Time, ORD),
    ],
    lambdas: &[],
    or_refused: Some("The 'or' operator is not supported."),
    style: Style::AuditLog,
};

/// `GET /admin/exchange/tracing/messageTraces`.
pub(super) async fn message_traces(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    call.require(&["ExchangeMessageTrace.Read.All"], Denial::Directory)?;
    let tenant = ctx.tenant();
    if !tenant
        .service_principals
        .iter()
        .any(|s| s["appId"] == TRACE_APP)
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            format!("Service principal-less Authentication failed: the service principal for App ID {TRACE_APP} was not found. Please create a service principal for this app in your tenant. Provisioning may take several hours to complete. For details, see: https://learn.microsoft.com/entra/identity-platform/retire-service-principal-less-authentication?branch=main#create-a-service-principal"),
        ));
    }
    let _slot = ctx.admit(&call, Budget::MessageTrace, Pace::Report).await?;
    call.opts.allow_only(&["$filter", "$top", "$skiptoken"])?;
    let filter = call.filter(&TRACE_FILTER)?;
    let now = ctx.shared().clock.now();
    let (lo, hi) = match &filter {
        Some(f) => f.time_bounds("receivedDateTime"),
        None => (Some(now - chrono::Duration::hours(48)), Some(now)),
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Err(ApiError::bad_request(
            "The receivedDateTime range must be specified using both the ge and le operators.",
        ));
    };
    if hi - lo > chrono::Duration::days(10) {
        return Err(ApiError::bad_request(
            "The time interval must not exceed 10 days.",
        ));
    }
    if lo < now - chrono::Duration::days(90) || hi > now {
        return Err(ApiError::bad_request("The start date must not be more than 90 days before the current date, and the end date must not be later than the current date."));
    }
    let top = call.opts.top(1000, 5000, |raw| {
        ApiError::bad_request(format!(
            "Invalid page size specified: '{raw}'. Must be between 1 and 5000 inclusive."
        ))
    })?;
    let in_window = |r: &Value| {
        r["receivedDateTime"]
            .as_str()
            .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
            .is_some_and(|t| lo <= t.utc && t.utc <= hi)
    };
    let keep = |r: &Value| in_window(r) && filter.as_ref().is_none_or(|f| f.matches(r));
    let rows = &tenant.message_traces;
    let (values, next) = paging::scan(
        &Slice(rows),
        Order::NewestFirst,
        paging::start(&call)?,
        top,
        (0, rows.len()),
        keep,
    );
    let values = values
        .into_iter()
        .map(|mut v| {
            if ctx.version == Version::Beta {
                if let Some(s) = v["status"].as_str() {
                    let mut c = s.chars();
                    let pascal: String = c
                        .next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default();
                    v["status"] = Value::String(pascal);
                }
            }
            v
        })
        .collect();
    let page = Page {
        context: ctx.context(&call, "admin/exchange/tracing/messageTraces"),
        annotations: Vec::new(),
        count: None,
        next_link: next.map(|pos| paging::next_link(&call, pos)),
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

// -------------------------------------------------------- conditional access

const CA_PERMISSIONS: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"];

const CA_FILTER: FilterSpec = FilterSpec {
    entity: "conditionalAccessPolicy",
    props: &[
        p("id", Kind::Str, EQ),
        p("displayName", Kind::Str, EQ),
        p("state", Kind::Str, EQ),
        p("createdDateTime", Kind::Time, EQ | ORD),
        p("modifiedDateTime", Kind::Time, EQ | ORD),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

fn ca(items: fn(&Tenant) -> &[Value], fragment: &'static str) -> Set {
    Set {
        permissions: CA_PERMISSIONS,
        premium: true,
        budget: Budget::IdentityProtection,
        pace: Pace::Risk,
        filter: Some(&CA_FILTER),
        fragment,
        items,
        top: (100, 999),
        shape: as_served,
    }
}

/// `GET /identity/conditionalAccess/policies`.
pub(super) async fn ca_policies(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    ca(
        |t| &t.conditional_access.policies,
        "identity/conditionalAccess/policies",
    )
    .list(&ctx, &call)
    .await
}

/// `GET /identity/conditionalAccess/namedLocations`.
pub(super) async fn named_locations(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    ca(
        |t| &t.conditional_access.named_locations,
        "identity/conditionalAccess/namedLocations",
    )
    .list(&ctx, &call)
    .await
}

/// `GET /beta/identity/conditionalAccess/deletedItems/{policies|namedLocations}`.
pub(super) async fn ca_deleted(
    State(ctx): State<Ctx>,
    call: Call,
    Path(kind): Path<String>,
) -> Result<Response, ApiError> {
    let set = match kind.as_str() {
        "policies" => ca(
            |t| &t.conditional_access.deleted_policies,
            "identity/conditionalAccess/deletedItems/policies",
        ),
        "namedLocations" => ca(
            |t| &t.conditional_access.deleted_named_locations,
            "identity/conditionalAccess/deletedItems/namedLocations",
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "Resource not found for the segment '{other}'."
            )))
        }
    };
    set.list(&ctx, &call).await
}

/// `GET /policies/authenticationStrengthPolicies` (built-in and custom).
pub(super) async fn authentication_strengths(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    Set {
        permissions: &["Policy.Read.AuthenticationMethod", "Policy.Read.All"],
        // A Conditional Access control: answered like the policies on Free
        // (an assumption; the page documents no Free behaviour).
        premium: true,
        budget: Budget::Directory { cost: 1 },
        pace: Pace::Directory,
        filter: None,
        fragment: "policies/authenticationStrengthPolicies",
        items: |t| &t.authentication_strength_policies,
        top: (100, 999),
        shape: as_served,
    }
    .list(&ctx, &call)
    .await
}

// ------------------------------------------------------------ deleted items

/// `GET /directory/deletedItems` without a cast: not supported.
pub(super) async fn deleted_without_cast(call: Call) -> Result<Response, ApiError> {
    call.require(
        &[
            "Directory.Read.All",
            "User.Read.All",
            "Application.Read.All",
            "Group.Read.All",
        ],
        Denial::Directory,
    )?;
    Err(ApiError::unsupported_query(
        "Searches against this resource are not supported. Only specific instances can be queried.",
    ))
}

/// Permissions, items, context fragment and entity name of one deleted-item cast.
type DeletedKind = (
    &'static [&'static str],
    fn(&Tenant) -> &[Value],
    &'static str,
    &'static str,
);

/// `GET /directory/deletedItems/microsoft.graph.{type}`.
pub(super) async fn deleted_items(
    State(ctx): State<Ctx>,
    call: Call,
    Path(cast): Path<String>,
) -> Result<Response, ApiError> {
    let (permissions, items, fragment, entity): DeletedKind = match cast.as_str() {
        "microsoft.graph.application" => (
            &["Application.Read.All", "Directory.Read.All"],
            |t| &t.deleted_items.applications,
            "applications",
            "Application",
        ),
        "microsoft.graph.servicePrincipal" => (
            &["Application.Read.All", "Directory.Read.All"],
            |t| &t.deleted_items.service_principals,
            "servicePrincipals",
            "ServicePrincipal",
        ),
        "microsoft.graph.user" => (
            &["User.Read.All", "Directory.Read.All"],
            |t| &t.deleted_items.users,
            "users",
            "User",
        ),
        "microsoft.graph.group" => (
            &["Group.Read.All", "Directory.Read.All"],
            |t| &t.deleted_items.groups,
            "groups",
            "Group",
        ),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                format!("Invalid object identifier '{other}'."),
            ))
        }
    };
    if call.opts.get("$orderby").is_some()
        && !(call.eventual && call.opts.get("$count") == Some("true"))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!("Unsupported sort property 'deletedDateTime' for '{entity}'."),
        ));
    }
    Set {
        permissions,
        premium: false,
        budget: Budget::Directory { cost: 2 },
        pace: Pace::Directory,
        filter: None,
        fragment,
        items,
        top: (100, 999),
        shape: as_served,
    }
    .list(&ctx, &call)
    .await
}

// ------------------------------------------------------ workload identities

/// Whether the subscribed SKUs include Workload ID Premium.
fn workload_premium(t: &Tenant) -> bool {
    t.subscribed_skus.iter().any(|s| {
        s["servicePlans"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| WORKLOAD_ID.iter().any(|w| p["servicePlanId"] == *w))
    })
}

/// Without Workload ID Premium the risk level and detail are withheld.
fn workload_shape(ctx: &Ctx, mut v: Value) -> Value {
    if !workload_premium(ctx.tenant()) {
        for k in ["riskLevel", "riskDetail"] {
            if v.get(k).is_some() {
                v[k] = json!("hidden");
            }
        }
    }
    v
}

const SP_RISK_FILTER: FilterSpec = FilterSpec {
    entity: "riskyServicePrincipal",
    props: &[
        p("id", Kind::Str, EQ),
        p("appId", Kind::Str, EQ),
        p("servicePrincipalId", Kind::Str, EQ),
        p("riskEventType", Kind::Str, EQ),
        p("riskLevel", Kind::Str, EQ),
        p("riskState", Kind::Str, EQ),
        p("activityDateTime", Kind::Time, EQ | ORD),
        p("riskLastUpdatedDateTime", Kind::Time, EQ | ORD),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::AuditLog,
};

fn workload(
    permissions: &'static [&'static str],
    items: fn(&Tenant) -> &[Value],
    fragment: &'static str,
) -> Set {
    Set {
        permissions,
        premium: false,
        budget: Budget::IdentityProtection,
        pace: Pace::Risk,
        filter: Some(&SP_RISK_FILTER),
        fragment,
        items,
        top: (100, 999),
        shape: workload_shape,
    }
}

/// `GET /identityProtection/riskyServicePrincipals`.
pub(super) async fn risky_service_principals(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    workload(
        &[
            "IdentityRiskyServicePrincipal.Read.All",
            "IdentityRiskyServicePrincipal.ReadWrite.All",
        ],
        |t| &t.risky_service_principals,
        "identityProtection/riskyServicePrincipals",
    )
    .list(&ctx, &call)
    .await
}

/// `GET /identityProtection/servicePrincipalRiskDetections`: needs
/// `IdentityRiskEvent.Read.All`, not the risky-service-principal permission.
pub(super) async fn sp_risk_detections(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    workload(
        &[
            "IdentityRiskEvent.Read.All",
            "IdentityRiskEvent.ReadWrite.All",
        ],
        |t| &t.service_principal_risk_detections,
        "identityProtection/servicePrincipalRiskDetections",
    )
    .list(&ctx, &call)
    .await
}

// ----------------------------------------------------------------- security

const ALERT_FILTER: FilterSpec = FilterSpec {
    entity: "alert",
    props: &[
        p("assignedTo", Kind::Str, EQ),
        p("classification", Kind::Str, EQ),
        p("determination", Kind::Str, EQ),
        p("createdDateTime", Kind::Time, ORD),
        p("lastUpdateDateTime", Kind::Time, ORD),
        p("severity", Kind::Str, EQ),
        p("serviceSource", Kind::Str, EQ),
        p("status", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::AuditLog,
};

/// The migration guide's user-evidence filter, split off the rest of `$filter`:
/// (the rest, the UPN it names).
fn evidence_clause(filter: &str) -> Option<(String, String)> {
    const HEAD: &str = "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq '";
    let start = filter.find(HEAD)?;
    let tail = &filter[start + HEAD.len()..];
    let end = tail.find("')")?;
    let upn = tail[..end].to_string();
    let rest = format!("{}{}", &filter[..start], &tail[end + 2..]);
    let rest = rest
        .trim()
        .trim_end_matches(" and")
        .trim_start_matches("and ")
        .trim()
        .to_string();
    Some((rest, upn))
}

fn has_user_evidence(alert: &Value, upn: &str) -> bool {
    alert["evidence"].as_array().into_iter().flatten().any(|e| {
        e["@odata.type"] == "#microsoft.graph.security.userEvidence"
            && e["userAccount"]["userPrincipalName"]
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(upn))
    })
}

/// `GET /security/alerts_v2`.
pub(super) async fn alerts(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    call.require(
        &["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"],
        Denial::Directory,
    )?;
    let _slot = ctx.admit(&call, Budget::Security, Pace::Risk).await?;
    call.opts
        .allow_only(&["$filter", "$top", "$skip", "$skiptoken", "$count"])?;
    let raw = call.opts.get("$filter").unwrap_or("");
    let (rest, upn) = match evidence_clause(raw) {
        Some(_) if !ctx.st.settings.alert_evidence_filter => return Err(ApiError::invalid_filter()),
        Some((rest, upn)) => (rest, Some(upn)),
        None => (raw.to_string(), None),
    };
    let filter = (!rest.is_empty())
        .then(|| ALERT_FILTER.parse(&rest))
        .transpose()?;
    let keep = |a: &Value| {
        filter.as_ref().is_none_or(|f| f.matches(a))
            && upn.as_deref().is_none_or(|u| has_user_evidence(a, u))
    };
    security_page(
        &ctx,
        &call,
        &ctx.tenant().security_alerts,
        keep,
        "security/alerts_v2",
        |v| v,
    )
}

/// `GET /security/incidents` (`$expand=alerts`).
pub(super) async fn incidents(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    call.require(
        &[
            "SecurityIncident.Read.All",
            "SecurityIncident.ReadWrite.All",
        ],
        Denial::Directory,
    )?;
    let _slot = ctx.admit(&call, Budget::Security, Pace::Risk).await?;
    call.opts.allow_only(&[
        "$filter",
        "$top",
        "$skip",
        "$skiptoken",
        "$count",
        "$expand",
    ])?;
    let expand = match call.opts.get("$expand") {
        None => false,
        Some("alerts") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Parsing OData Select and Expand failed: Could not find a property named '{other}' on type 'microsoft.graph.security.incident'."
            )))
        }
    };
    let filter = call.filter(&ALERT_FILTER)?;
    let tenant = ctx.tenant();
    let keep = |i: &Value| filter.as_ref().is_none_or(|f| f.matches(i));
    let context = format!(
        "{}/{}/$metadata#security/incidents('…')/alerts",
        call.base,
        ctx.version.segment()
    );
    let with_alerts = |mut incident: Value| {
        if expand {
            let alerts: Vec<Value> = tenant
                .security_alerts
                .iter()
                .filter(|a| a["incidentId"] == incident["id"])
                .cloned()
                .collect();
            incident["alerts@odata.context"] = json!(context);
            incident["alerts"] = Value::Array(alerts);
        }
        incident
    };
    security_page(
        &ctx,
        &call,
        &tenant.security_incidents,
        keep,
        "security/incidents",
        with_alerts,
    )
}

fn security_page(
    ctx: &Ctx,
    call: &Call,
    items: &[Value],
    keep: impl Fn(&Value) -> bool,
    fragment: &str,
    shape: impl Fn(Value) -> Value,
) -> Result<Response, ApiError> {
    let top = call.opts.top(100, 2000, |raw| {
        ApiError::bad_request(format!("Invalid page size specified: '{raw}'."))
    })?;
    let (values, next) = paging::scan(
        &Slice(items),
        Order::NewestFirst,
        paging::start(call)?,
        top,
        (0, items.len()),
        keep,
    );
    let page = Page {
        context: ctx.context(call, fragment),
        annotations: Vec::new(),
        count: None,
        next_link: next.map(|pos| paging::next_link(call, pos)),
        values: values.into_iter().map(shape).collect(),
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

// --------------------------------------------------------------------- mail

const MESSAGE_FILTER: FilterSpec = FilterSpec {
    entity: "message",
    props: &[
        p("sentDateTime", Kind::Time, ORD),
        p("receivedDateTime", Kind::Time, ORD),
        p("createdDateTime", Kind::Time, ORD),
        p("lastModifiedDateTime", Kind::Time, ORD),
        p("internetMessageId", Kind::Str, EQ),
        p("conversationId", Kind::Str, EQ),
        p("isRead", Kind::Bool, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::AuditLog,
};

/// `GET /users/{id}/mailFolders/{folder}/messages`.
pub(super) async fn folder_messages(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, folder)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (user_id, mailbox, _slot) = open_mailbox(&ctx, &call, &key, FOLDER_PERMISSIONS).await?;
    // Every Exchange Online mailbox has Recoverable Items: a fixture lists
    // them only where they hold something, and they are empty elsewhere.
    let recoverable = folder.to_ascii_lowercase().starts_with("recoverableitems");
    let folder_id = match find_folder(mailbox, &folder) {
        Some(found) => found["id"].as_str().unwrap_or(""),
        None if recoverable => "",
        None => return Err(super::mailbox::folder_not_found()),
    };
    call.opts
        .allow_only(&["$select", "$filter", "$top", "$skiptoken", "$orderby"])?;
    let filter = call.filter(&MESSAGE_FILTER)?;
    if let Some(order) = call.opts.get("$orderby") {
        let first = call
            .opts
            .get("$filter")
            .and_then(|f| f.split_whitespace().next())
            .unwrap_or("");
        let property = order.split_whitespace().next().unwrap_or("");
        if !first.eq_ignore_ascii_case(property) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InefficientFilter",
                "The restriction or sort order is too complex for this operation.",
            ));
        }
    }
    let select = call.opts.select()?;
    let top = call.opts.top(10, 1000, |raw| {
        ApiError::bad_request(format!(
            "Invalid page size specified: '{raw}'. Must be between 1 and 1000 inclusive."
        ))
    })?;
    let items = &mailbox.items;
    let keep = |m: &Value| {
        !folder_id.is_empty()
            && m["parentFolderId"] == folder_id
            && filter.as_ref().is_none_or(|f| f.matches(m))
    };
    let (values, next) = paging::scan(
        &Slice(items),
        Order::NewestFirst,
        paging::start(&call)?,
        top,
        (0, items.len()),
        keep,
    );
    let values = values
        .into_iter()
        .map(|v| match select.as_deref() {
            Some(fields) => project(&v, fields, &["id", "@odata.etag"]),
            None => v,
        })
        .collect();
    let page = Page {
        context: ctx.context(
            &call,
            &format!("users('{user_id}')/mailFolders('{folder}')/messages"),
        ),
        annotations: Vec::new(),
        count: None,
        next_link: next.map(|pos| paging::next_link(&call, pos)),
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

/// `GET /users/{id}/messages/{id}` (`$select`).
pub(super) async fn message(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (user_id, mailbox, _slot) = open_mailbox(&ctx, &call, &key, FOLDER_PERMISSIONS).await?;
    call.opts.allow_only(&["$select"])?;
    let found = mailbox
        .items
        .iter()
        .find(|m| m["id"] == id.as_str())
        .ok_or_else(super::mailbox::folder_not_found)?;
    let select = call.opts.select()?;
    let value = match select.as_deref() {
        Some(fields) => project(found, fields, &["id", "@odata.etag"]),
        None => found.clone(),
    };
    let context = ctx.context(&call, &format!("users('{user_id}')/messages/$entity"));
    Ok(json(StatusCode::OK, &entity(context, &value)))
}

// ----------------------------------------------------------------- licences

/// The SKUs as the tenant's licence (or `sim --licence`) has them: the Entra
/// plans above the licence are taken out.
fn skus_for_licence(ctx: &Ctx, mut sku: Value) -> Value {
    let drop: &[&str] = match ctx.shared().licence {
        Licence::Free => &[ENTRA_P1, ENTRA_P2],
        Licence::P1 => &[ENTRA_P2],
        Licence::P2 => &[],
    };
    if let Some(plans) = sku["servicePlans"].as_array_mut() {
        plans.retain(|p| !drop.iter().any(|d| p["servicePlanId"] == *d));
    }
    sku
}

/// `GET /subscribedSkus` (`$select` only).
pub(super) async fn subscribed_skus(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    call.opts.allow_only(&["$select"])?;
    Set {
        permissions: &[
            "LicenseAssignment.Read.All",
            "Directory.Read.All",
            "Organization.Read.All",
        ],
        premium: false,
        budget: Budget::Directory { cost: 3 },
        pace: Pace::Directory,
        filter: None,
        fragment: "subscribedSkus",
        items: |t| &t.subscribed_skus,
        top: (1000, 1000),
        shape: skus_for_licence,
    }
    .list(&ctx, &call)
    .await
}

/// A user's licence details as Graph derives them: one per assigned licence,
/// with its subscription's service plans, those in `disabledPlans` marked
/// `Disabled` (<https://learn.microsoft.com/graph/api/resources/licensedetails>).
pub fn licence_details_of(tenant: &Tenant, user_id: &str) -> Vec<Value> {
    let Some(user) = tenant.users.iter().find(|u| u["id"] == user_id) else {
        return Vec::new();
    };
    user["assignedLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let sku_id = a["skuId"].as_str()?;
            let sku = tenant
                .subscribed_skus
                .iter()
                .find(|s| s["skuId"] == sku_id)?;
            let disabled = a["disabledPlans"].as_array().cloned().unwrap_or_default();
            let plans: Vec<Value> = sku["servicePlans"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let mut p = p.clone();
                    if disabled.contains(&p["servicePlanId"]) {
                        p["provisioningStatus"] = json!("Disabled");
                    }
                    p
                })
                .collect();
            let id = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{user_id}/{sku_id}").as_bytes(),
            );
            Some(json!({"id": id.to_string(), "skuId": sku_id,
                "skuPartNumber": sku["skuPartNumber"], "servicePlans": plans}))
        })
        .collect()
}

/// `GET /users/{id}/licenseDetails`: as the fixture gives them, else derived
/// from the user's assigned licences.
pub(super) async fn license_details(
    State(ctx): State<Ctx>,
    call: Call,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    call.require(&["User.Read.All", "Directory.Read.All"], Denial::Directory)?;
    let _slot = ctx
        .admit(&call, Budget::Directory { cost: 2 }, Pace::Directory)
        .await?;
    let tenant = ctx.tenant();
    let user_id = user_id_of(tenant, &key)?;
    let values = match tenant.license_details.get(user_id) {
        Some(given) => given.clone(),
        None => licence_details_of(tenant, user_id),
    }
    .into_iter()
    .map(|d| skus_for_licence(&ctx, d))
    .collect();
    let page = Page {
        context: ctx.context(&call, &format!("users('{user_id}')/licenseDetails")),
        annotations: Vec::new(),
        count: None,
        next_link: None,
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}
