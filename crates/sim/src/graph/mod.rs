//! The simulated Microsoft Graph: every route the evidence sources need, under
//! both `/v1.0` and `/beta` where the real API has them.
//!
//! Each request goes through the same steps, in the order the real service
//! takes them: bearer token (401 `InvalidAuthenticationToken`, in the
//! `authenticate` layer), the route's application permission (403), the
//! tenant's licence (403 premium), the throttle budget (429), the Realistic
//! profile's latency, then the query options (400) and the answer.
//!
//! Submodules, one per family of endpoints:
//! - `auditlogs`: sign-ins and directory audits;
//! - `auditquery`: Purview audit-log queries (asynchronous lifecycle);
//! - `directory`: users, memberships, roles, devices, apps, grants;
//! - `authmethods`: authentication methods, per-user MFA, registration details;
//! - `mailbox`: inbox rules, folders, mailbox settings, message MIME;
//! - `risk`: identity protection;
//! - `evolvable`: the layer that masks evolvable enum members.

mod auditlogs;
mod auditquery;
mod authmethods;
mod directory;
pub mod error;
mod evolvable;
mod mailbox;
mod more;
mod paging;
mod risk;

pub use directory::USER_DEFAULT;
pub use error::ApiError;

use crate::fixture::{Licence, Tenant};
use crate::odata::{FilterSpec, QueryOptions};
use crate::settings::{OldFilters, Profile};
use crate::shared::{Shared, GRAPH_RESOURCE};
use crate::throttle::{Budget, Slot, Throttled, Throttles};
use crate::token::Claims;
use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How the Graph routes behave beyond what the fixture says.
#[derive(Debug, Clone, Copy)]
pub struct GraphSettings {
    pub profile: Profile,
    pub old_filters: OldFilters,
    /// Records one audit-log query may return (the service's baseline is at
    /// least 1,000,000); a query with more succeeds with
    /// `isRecordCountLimitExceeded` and only this many records.
    pub audit_record_limit: usize,
    /// Serve the user-evidence filter of alerts_v2 the migration guide shows
    /// (false: 400, as for any filter the list page does not name).
    pub alert_evidence_filter: bool,
    pub audit: AuditQuirks,
}

/// How the audit-log query API behaves where reports of the real service
/// differ (shared/reference/graph-api-more.md §N7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQuirks {
    /// v1.0 serves `security/auditLog` (it did not from 2025-07-29 to
    /// 2026-07-03; beta did throughout): false answers v1.0 with a 400.
    pub v1_served: bool,
    /// A succeeded query carries `isRecordCountLimitExceeded` (documented in
    /// 2026-09, absent from the 2026-08-20 metadata): false leaves it out.
    pub exceeded_flag: bool,
    /// The first paging of each query misses one record (a completed query
    /// paged twice has returned different counts).
    pub first_paging_drops: bool,
}

impl Default for AuditQuirks {
    fn default() -> Self {
        Self {
            v1_served: true,
            exceeded_flag: true,
            first_paging_drops: false,
        }
    }
}

/// State of the Graph routes: the shared tenant plus what only Graph keeps.
struct GraphState {
    shared: Arc<Shared>,
    settings: GraphSettings,
    throttles: Throttles,
    queries: auditquery::Queries,
    index: directory::Index,
}

/// API version a route was reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    Beta,
}

impl Version {
    fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

/// Handler state: the Graph state and the version of the route.
#[derive(Clone)]
struct Ctx {
    st: Arc<GraphState>,
    version: Version,
}

/// The Graph router (both versions), behind the bearer-token check.
pub fn router(shared: Arc<Shared>, settings: GraphSettings) -> Router {
    let tenant = &shared.fixture.tenant;
    let st = Arc::new(GraphState {
        throttles: Throttles::new(tenant.users.len()),
        queries: auditquery::Queries::default(),
        index: directory::Index::new(tenant),
        shared: shared.clone(),
        settings,
    });
    let mut app = Router::new();
    for version in [Version::V1, Version::Beta] {
        let ctx = Ctx {
            st: st.clone(),
            version,
        };
        app = app.merge(routes(version).with_state(ctx));
    }
    app.layer(axum::middleware::from_fn(evolvable::layer))
        .layer(axum::middleware::from_fn_with_state(shared, authenticate))
}

/// The routes of one API version, family by family.
fn routes(version: Version) -> Router<Ctx> {
    let v = version.segment();
    let at = |path: &str| format!("/{v}{path}");
    let mut r = audit_log_routes(Router::new(), &at);
    r = user_routes(r, &at);
    r = mailbox_routes(r, &at);
    r = directory_routes(r, &at);
    r = report_and_risk_routes(r, &at);
    r = more_routes(r, &at);
    if version == Version::Beta {
        // Deleted Conditional Access objects are listed by beta only
        // (<https://learn.microsoft.com/graph/api/policydeletableitem-list?view=graph-rest-beta>).
        r = r.route(
            &at("/identity/conditionalAccess/deletedItems/{kind}"),
            get(more::ca_deleted),
        );
        // Per-user MFA state exists only in beta
        // (<https://learn.microsoft.com/graph/api/authentication-get?view=graph-rest-beta>).
        r = r.route(
            &at("/users/{id}/authentication/requirements"),
            get(authmethods::requirements),
        );
    }
    r
}

/// Sign-ins, directory audits and Purview audit-log queries.
fn audit_log_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(&at("/auditLogs/signIns"), get(auditlogs::signins))
        .route(&at("/auditLogs/signIns/{id}"), get(auditlogs::signin))
        .route(
            &at("/auditLogs/directoryAudits"),
            get(auditlogs::directory_audits),
        )
        .route(
            &at("/auditLogs/directoryAudits/{id}"),
            get(auditlogs::directory_audit),
        )
        .route(
            &at("/security/auditLog/queries"),
            get(auditquery::list).post(auditquery::create),
        )
        .route(
            &at("/security/auditLog/queries/{id}"),
            get(auditquery::get_one),
        )
        .route(
            &at("/security/auditLog/queries/{id}/records"),
            get(auditquery::records),
        )
}

/// Users and what hangs off them: memberships, owned objects, devices, app
/// role assignments, authentication methods.
fn user_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(&at("/users"), get(directory::users))
        .route(&at("/users/{id}"), get(directory::user))
        .route(&at("/users/{id}/memberOf"), get(directory::member_of))
        .route(
            &at("/users/{id}/transitiveMemberOf"),
            get(directory::transitive_member_of),
        )
        .route(
            &at("/users/{id}/ownedObjects"),
            get(directory::owned_objects),
        )
        .route(
            &at("/users/{id}/registeredDevices"),
            get(directory::registered_devices),
        )
        .route(
            &at("/users/{id}/ownedDevices"),
            get(directory::owned_devices),
        )
        .route(
            &at("/users/{id}/appRoleAssignments"),
            get(directory::app_role_assignments),
        )
        .route(
            &at("/users/{id}/authentication/{collection}"),
            get(authmethods::methods),
        )
}

/// Outlook: mail folders, inbox rules, mailbox settings, message MIME.
fn mailbox_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(
        &at("/users/{id}/mailFolders/{folder}"),
        get(mailbox::folder),
    )
    .route(
        &at("/users/{id}/mailFolders/{folder}/messageRules"),
        get(mailbox::rules),
    )
    .route(&at("/users/{id}/mailboxSettings"), get(mailbox::settings))
    .route(
        &at("/users/{id}/messages/{message}/$value"),
        get(mailbox::mime),
    )
}

/// Roles, devices, applications, service principals and consent grants.
fn directory_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(
        &at("/roleManagement/directory/roleAssignments"),
        get(directory::role_assignments),
    )
    .route(
        &at("/roleManagement/directory/roleDefinitions"),
        get(directory::role_definitions),
    )
    .route(
        &at("/roleManagement/directory/roleDefinitions/{id}"),
        get(directory::role_definition),
    )
    .route(
        &at("/roleManagement/directory/roleEligibilityScheduleInstances"),
        get(directory::role_eligibility),
    )
    .route(&at("/devices"), get(directory::devices))
    .route(&at("/devices/{id}"), get(directory::device))
    .route(&at("/applications"), get(directory::applications))
    .route(&at("/applications/{id}"), get(directory::application))
    .route(
        &at("/servicePrincipals"),
        get(directory::service_principals),
    )
    .route(
        &at("/servicePrincipals/{id}"),
        get(directory::service_principal),
    )
    .route(
        &at("/oauth2PermissionGrants"),
        get(directory::oauth2_grants),
    )
}

/// The sources an IR firm asks for beyond the first 22 (see `more`).
fn more_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(
        &at("/admin/exchange/tracing/messageTraces"),
        get(more::message_traces),
    )
    .route(
        &at("/identity/conditionalAccess/policies"),
        get(more::ca_policies),
    )
    .route(
        &at("/identity/conditionalAccess/namedLocations"),
        get(more::named_locations),
    )
    .route(
        &at("/policies/authenticationStrengthPolicies"),
        get(more::authentication_strengths),
    )
    .route(
        &at("/directory/deletedItems"),
        get(more::deleted_without_cast),
    )
    .route(
        &at("/directory/deletedItems/{cast}"),
        get(more::deleted_items),
    )
    .route(
        &at("/identityProtection/riskyServicePrincipals"),
        get(more::risky_service_principals),
    )
    .route(
        &at("/identityProtection/servicePrincipalRiskDetections"),
        get(more::sp_risk_detections),
    )
    .route(&at("/security/alerts_v2"), get(more::alerts))
    .route(&at("/security/incidents"), get(more::incidents))
    .route(
        &at("/users/{id}/mailFolders/{folder}/messages"),
        get(more::folder_messages),
    )
    .route(&at("/users/{id}/messages/{message}"), get(more::message))
    .route(&at("/subscribedSkus"), get(more::subscribed_skus))
    .route(
        &at("/users/{id}/licenseDetails"),
        get(more::license_details),
    )
}

/// The registration-details report and identity protection.
fn report_and_risk_routes(r: Router<Ctx>, at: &impl Fn(&str) -> String) -> Router<Ctx> {
    r.route(
        &at("/reports/authenticationMethods/userRegistrationDetails"),
        get(authmethods::registration_details),
    )
    .route(
        &at("/reports/authenticationMethods/userRegistrationDetails/{id}"),
        get(authmethods::registration_detail),
    )
    .route(
        &at("/identityProtection/riskyUsers"),
        get(risk::risky_users),
    )
    .route(
        &at("/identityProtection/riskyUsers/{id}"),
        get(risk::risky_user),
    )
    .route(
        &at("/identityProtection/riskDetections"),
        get(risk::risk_detections),
    )
    .route(
        &at("/identityProtection/riskDetections/{id}"),
        get(risk::risk_detection),
    )
}

/// Answers paths no route serves the way Graph does ("Resource not found for
/// the segment ..."), and anything else with a plain 404.
pub async fn fallback(uri: Uri) -> ApiError {
    let path = uri.path();
    if path.starts_with("/v1.0/") || path.starts_with("/beta/") {
        let segment = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
        ApiError::bad_request(format!("Resource not found for the segment '{segment}'."))
    } else {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No resource at {path}."),
        )
    }
}

// ------------------------------------------------------------ authentication

/// Checks the bearer token of every Graph request and hands its claims to the
/// handlers (as a request extension).
async fn authenticate(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    match check_token(&shared, header) {
        Ok(claims) => {
            req.extensions_mut().insert(claims);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

fn check_token(shared: &Shared, header: Option<&str>) -> Result<Claims, ApiError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let Some(header) = header else {
        return Err(ApiError::unauthenticated("Access token is empty."));
    };
    if let Some(claims) = shared.authorize(Some(header), GRAPH_RESOURCE) {
        if claims.tid != shared.tenant_id() {
            return Err(ApiError::unauthenticated(
                "Access token validation failure. Invalid tenant.",
            ));
        }
        return Ok(claims);
    }
    let token = header.strip_prefix("Bearer ").unwrap_or("");
    let message = match shared.tokens.lookup(token) {
        None => "Invalid JWT token. The token was not issued by this tenant's token endpoint.",
        Some(c) if c.aud != GRAPH_RESOURCE => "Access token validation failure. Invalid audience.",
        Some(_) => "Lifetime validation failed, the token is expired.",
    };
    Err(ApiError::unauthenticated(message))
}

// ------------------------------------------------------------------ requests

/// What every handler needs to know about its request.
struct Call {
    claims: Claims,
    opts: QueryOptions,
    /// `http://host:port` as the client addressed us (for absolute links).
    base: String,
    /// The request path, e.g. `/beta/auditLogs/signIns`.
    path: String,
    /// `ConsistencyLevel: eventual` was sent.
    eventual: bool,
}

/// How a route words a missing permission.
#[derive(Debug, Clone, Copy)]
enum Denial {
    /// Directory objects: `Authorization_RequestDenied`.
    Directory,
    /// Audit logs and reports: `Authentication_MSGraphPermissionMissing` naming
    /// the (least privileged) permission.
    Report,
    /// Outlook: `ErrorAccessDenied`.
    Mailbox,
}

impl Call {
    /// Requires one of `any_of` (least privileged first) in the token.
    fn require(&self, any_of: &[&str], denial: Denial) -> Result<(), ApiError> {
        if any_of.iter().any(|p| self.claims.has(p)) {
            return Ok(());
        }
        Err(match denial {
            Denial::Directory => ApiError::denied(),
            Denial::Report => ApiError::permission_missing(any_of.first().copied().unwrap_or("")),
            Denial::Mailbox => ApiError::new(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ),
        })
    }

    /// The parsed `$filter`, checked against `spec`.
    fn filter(&self, spec: &FilterSpec) -> Result<Option<crate::odata::Expr>, ApiError> {
        self.opts.get("$filter").map(|f| spec.parse(f)).transpose()
    }

    /// Resource-unit cost of a directory request
    /// (<https://learn.microsoft.com/graph/throttling-limits>): `base`, −1 with `$select`,
    /// +1 with `$expand`, −1 with `$top` < 20, at least 1.
    fn ru_cost(&self, base: u32) -> u32 {
        let mut cost = base as i64;
        if self.opts.get("$select").is_some() {
            cost -= 1;
        }
        if self.opts.get("$expand").is_some() {
            cost += 1;
        }
        if self
            .opts
            .get("$top")
            .and_then(|t| t.trim().parse::<u32>().ok())
            .is_some_and(|t| t < 20)
        {
            cost -= 1;
        }
        cost.max(1) as u32
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Call {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let claims = parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("Access token is empty."))?;
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let base = crate::shared::request_base(&parts.headers, &uri)
            .ok_or_else(|| ApiError::bad_request("The request has no valid Host header."))?;
        let header_has = |name: &str, needle: &str| {
            parts.headers.get_all(name).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(needle)))
            })
        };
        Ok(Call {
            claims,
            opts: QueryOptions::parse(uri.query().unwrap_or(""))?,
            base,
            path: uri.path().to_string(),
            eventual: header_has("consistencylevel", "eventual"),
        })
    }
}

// ------------------------------------------------------------------- helpers

/// How long the Realistic profile makes each kind of page take (simulated).
#[derive(Debug, Clone, Copy)]
enum Pace {
    SignInPage,
    AuditPage,
    Report,
    Directory,
    Outlook,
    Risk,
    QuerySubmit,
    QueryPoll,
    QueryRecords,
}

impl Pace {
    fn latency(self, profile: Profile) -> Duration {
        if profile == Profile::Fast {
            return Duration::ZERO;
        }
        Duration::from_millis(match self {
            Pace::SignInPage => 3_000,
            Pace::AuditPage => 1_500,
            Pace::Report => 800,
            Pace::Directory => 150,
            Pace::Outlook => 250,
            Pace::Risk => 400,
            Pace::QuerySubmit => 1_000,
            Pace::QueryPoll => 300,
            Pace::QueryRecords => 2_000,
        })
    }
}

impl Ctx {
    fn shared(&self) -> &Shared {
        &self.st.shared
    }

    fn tenant(&self) -> &Tenant {
        &self.st.shared.fixture.tenant
    }

    /// Refuses report data on a Free tenant
    /// (<https://learn.microsoft.com/entra/identity/monitoring-health/howto-configure-prerequisites-for-reporting-api>).
    fn require_premium(&self) -> Result<(), ApiError> {
        if self.shared().licence == Licence::Free {
            return Err(ApiError::premium_required());
        }
        Ok(())
    }

    /// Charges the request to `budget` (429 when spent), then waits the
    /// profile's latency. Keep the returned slot until the answer is built.
    async fn admit(&self, call: &Call, budget: Budget<'_>, pace: Pace) -> Result<Slot, ApiError> {
        let clock = &self.shared().clock;
        let slot = self
            .st
            .throttles
            .admit(budget, &call.claims.appid, clock.now())
            .map_err(|t| match t {
                Throttled::RetryAfter(wait) => {
                    let e = ApiError::throttled(Some(clock.to_real(wait)));
                    match budget {
                        Budget::Directory { .. } => e
                            .with_header(
                                axum::http::HeaderName::from_static("x-ms-throttle-scope"),
                                &format!(
                                    "Tenant_Application/Read/{}/{}",
                                    call.claims.appid,
                                    self.shared().tenant_id()
                                ),
                            )
                            .with_header(
                                axum::http::HeaderName::from_static("x-ms-throttle-information"),
                                "ResourceUnitLimitExceeded",
                            ),
                        _ => e,
                    }
                }
                Throttled::NoRetryAfter => ApiError::throttled(None),
            })?;
        self.pace(pace).await;
        Ok(slot)
    }

    /// Waits the profile's latency for `pace` (routes with no documented budget).
    async fn pace(&self, pace: Pace) {
        let latency = pace.latency(self.st.settings.profile);
        if !latency.is_zero() {
            self.shared().clock.sleep(latency).await;
        }
    }

    /// `@odata.context` for `fragment` (`auditLogs/signIns`, `users/$entity`...).
    fn context(&self, call: &Call, fragment: &str) -> String {
        format!(
            "{}/{}/$metadata#{fragment}",
            call.base,
            self.version.segment()
        )
    }
}

/// `fragment` with a `$select` list, as Graph writes it in `@odata.context`:
/// `users(id,displayName)`.
fn with_select(fragment: &str, select: Option<&[String]>) -> String {
    match select {
        Some(fields) => format!("{fragment}({})", fields.join(",")),
        None => fragment.to_string(),
    }
}

/// A JSON answer with Graph's content type.
fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    response
        .headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

/// `value` with `@odata.context` as its first property.
fn entity(context: String, value: &Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("@odata.context".into(), Value::String(context));
    if let Some(obj) = value.as_object() {
        for (k, v) in obj {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Removes `keys` from a record (the beta-only properties on v1.0).
fn strip(record: &mut Value, keys: &[&str]) {
    if let Some(obj) = record.as_object_mut() {
        for key in keys {
            obj.shift_remove(*key);
        }
    }
}
