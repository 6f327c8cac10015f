//! Purview audit-log queries: `POST /security/auditLog/queries`, then poll
//! `GET .../queries/{id}`, then page `GET .../queries/{id}/records`
//! (<https://learn.microsoft.com/graph/api/resources/security-auditlogquery?view=graph-rest-1.0>).
//!
//! - A query is `notStarted`, then `running`, then `succeeded` on a simulated
//!   timetable: Fast profile 1 s / 3 s, Realistic 30 s / 4 min.
//! - **Test hooks**: a query whose `displayName` contains "fail" (any case)
//!   ends `failed` instead, "cancel" ends `cancelled`.
//! - A query matching more records than the configured record-count limit
//!   succeeds with `isRecordCountLimitExceeded: true` and lists only the first
//!   records up to the limit (`recordCountLimit`, `approximateReturnedRecordCount`).
//! - Filters: `filterStartDateTime <= createdDateTime < filterEndDateTime`;
//!   `userPrincipalNameFilters`, `recordTypeFilters`, `operationFilters`,
//!   `serviceFilter` / `serviceFilters`, `ipAddressFilters`, `objectIdFilters`,
//!   `administrativeUnitIdFilters` (each: any of the values, case-insensitive);
//!   `keywordFilter` (substring of the record's JSON). Unknown properties are 400.
//! - Records are listed only once the query has succeeded; before that (or
//!   after a failure) the records request is a 400, never a silently empty page.
//! - At most 50 queries queued or running and 200 submissions per rolling 24 h
//!   per tenant; more is 429 with `Retry-After`. Polling and record pages have
//!   no documented budget and are not throttled.
//! - Reported quirks ([`super::AuditQuirks`]): v1.0 not serving the API (a
//!   400 for the `auditLog` segment, as in 2025-07-29..2026-07-03), no
//!   `isRecordCountLimitExceeded`, a first paging that misses a record.
//! - With only workload-scoped permissions (`AuditLogsQuery-Exchange.Read.All`...)
//!   the records are limited to those workloads' `service` values.

use super::paging::{self, Order, Page, Picked};
use super::{entity, json, ApiError, Call, Ctx, GraphSettings, Pace, Version};
use crate::settings::Profile;
use crate::throttle::Budget;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The tenant-wide permission, then each workload's, with the `service`
/// values its records carry.
const PERMISSIONS: &[(&str, &[&str])] = &[
    ("AuditLogsQuery.Read.All", &[]),
    ("AuditLogsQuery-Exchange.Read.All", &["Exchange"]),
    ("AuditLogsQuery-SharePoint.Read.All", &["SharePoint"]),
    ("AuditLogsQuery-OneDrive.Read.All", &["OneDrive"]),
    (
        "AuditLogsQuery-Entra.Read.All",
        &["AzureActiveDirectory", "MicrosoftEntra"],
    ),
    (
        "AuditLogsQuery-Endpoint.Read.All",
        &["Endpoint", "MicrosoftIntune"],
    ),
    ("AuditLogsQuery-CRM.Read.All", &["CRM", "Dynamics365"]),
];

const MAX_IN_FLIGHT: usize = 50;

/// Properties a query may be created with.
const WRITABLE: &[&str] = &[
    "@odata.type",
    "displayName",
    "filterStartDateTime",
    "filterEndDateTime",
    "recordTypeFilters",
    "keywordFilter",
    "serviceFilter",
    "serviceFilters",
    "operationFilters",
    "userPrincipalNameFilters",
    "ipAddressFilters",
    "objectIdFilters",
    "administrativeUnitIdFilters",
    "status",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::NotStarted => "notStarted",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What a query selects.
#[derive(Debug, Default)]
struct Filters {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    upns: Vec<String>,
    record_types: Vec<String>,
    operations: Vec<String>,
    services: Vec<String>,
    ips: Vec<String>,
    object_ids: Vec<String>,
    admin_units: Vec<String>,
    keyword: Option<String>,
}

fn any_of(wanted: &[String], value: Option<&str>) -> bool {
    wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
}

impl Filters {
    fn matches(&self, record: &Value) -> bool {
        let s = |k: &str| record.get(k).and_then(Value::as_str);
        let created = s("createdDateTime")
            .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
            .map(|t| t.utc);
        let in_window = created
            .is_some_and(|t| self.start.is_none_or(|a| t >= a) && self.end.is_none_or(|b| t < b));
        let units: Vec<&str> = record
            .get("administrativeUnits")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        in_window
            && (self.upns.is_empty()
                || any_of(&self.upns, s("userPrincipalName"))
                || any_of(&self.upns, s("userId")))
            && any_of(&self.record_types, s("auditLogRecordType"))
            && any_of(&self.operations, s("operation"))
            && any_of(&self.services, s("service"))
            && any_of(&self.ips, s("clientIp"))
            && any_of(&self.object_ids, s("objectId"))
            && (self.admin_units.is_empty()
                || units.iter().any(|u| any_of(&self.admin_units, Some(u))))
            && self.keyword.as_ref().is_none_or(|k| {
                record
                    .get("auditData")
                    .map(|d| d.to_string().to_lowercase().contains(&k.to_lowercase()))
                    .unwrap_or(false)
            })
    }
}

/// One submitted query.
struct Query {
    id: String,
    created: DateTime<Utc>,
    /// How the query ends once done (test hooks).
    ends: Status,
    /// The auditLogQuery as created, without `status`.
    resource: Map<String, Value>,
    filters: Filters,
    /// Indexes of matching fixture records, computed when first listed.
    matches: OnceLock<Vec<usize>>,
    /// Pagings of its records started (requests without `$skiptoken`).
    pagings: AtomicU32,
}

/// Submitted queries, oldest first.
#[derive(Default)]
pub(super) struct Queries(Mutex<Vec<Arc<Query>>>);

impl Queries {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Query>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn find(&self, id: &str) -> Result<Arc<Query>, ApiError> {
        self.lock()
            .iter()
            .find(|q| q.id.eq_ignore_ascii_case(id))
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("Audit log query '{id}' was not found."),
                )
            })
    }
}

/// Simulated time from submission to running, and to completion.
fn timetable(profile: Profile) -> (chrono::Duration, chrono::Duration) {
    match profile {
        Profile::Fast => (chrono::Duration::seconds(1), chrono::Duration::seconds(3)),
        Profile::Realistic => (chrono::Duration::seconds(30), chrono::Duration::minutes(4)),
    }
}

impl Query {
    fn status(&self, profile: Profile, now: DateTime<Utc>) -> Status {
        let (queued, done) = timetable(profile);
        if now < self.created + queued {
            Status::NotStarted
        } else if now < self.created + done {
            Status::Running
        } else {
            self.ends
        }
    }

    /// Indexes of the fixture records the query matches.
    fn matches<'a>(&'a self, all: &[Value]) -> &'a [usize] {
        self.matches.get_or_init(|| {
            all.iter()
                .enumerate()
                .filter(|(_, r)| self.filters.matches(r))
                .map(|(i, _)| i)
                .collect()
        })
    }

    fn resource(&self, status: Status, all: &[Value], settings: &GraphSettings) -> Value {
        let mut out = self.resource.clone();
        out.insert("status".into(), Value::String(status.name().into()));
        if status == Status::Succeeded {
            let limit = settings.audit_record_limit;
            let found = self.matches(all).len();
            out.insert("recordCountLimit".into(), limit.into());
            out.insert(
                "approximateReturnedRecordCount".into(),
                found.min(limit).into(),
            );
            if settings.audit.exceeded_flag {
                out.insert("isRecordCountLimitExceeded".into(), (found > limit).into());
            }
        }
        Value::Object(out)
    }
}

/// A 400 for the `auditLog` segment when v1.0 does not serve the API, as
/// Graph answers a path its metadata lacks.
fn served(ctx: &Ctx) -> Result<(), ApiError> {
    match ctx.version == Version::V1 && !ctx.st.settings.audit.v1_served {
        true => Err(ApiError::bad_request(
            "Resource not found for the segment 'auditLog'.",
        )),
        false => Ok(()),
    }
}

/// The services a caller may read, or `None` for all.
fn readable_services(call: &Call) -> Result<Option<Vec<&'static str>>, ApiError> {
    if call.claims.has(PERMISSIONS[0].0) {
        return Ok(None);
    }
    let services: Vec<&'static str> = PERMISSIONS[1..]
        .iter()
        .filter(|(perm, _)| call.claims.has(perm))
        .flat_map(|(_, services)| services.iter().copied())
        .collect();
    if services.is_empty() {
        return Err(ApiError::denied());
    }
    Ok(Some(services))
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

fn strings(body: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("'{key}' must be a collection of strings.")))
            })
            .collect(),
        Some(_) => Err(bad(format!("'{key}' must be a collection of strings."))),
    }
}

fn time(body: &Map<String, Value>, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                bad(format!(
                    "Cannot convert the literal '{s}' to the expected type 'Edm.DateTimeOffset'."
                ))
            }),
        Some(_) => Err(bad(format!("'{key}' must be a date-time string."))),
    }
}

/// Checks a creation body and turns it into the stored resource and filters.
fn parse_body(raw: &[u8]) -> Result<(Map<String, Value>, Filters), ApiError> {
    let body = writable_object(raw)?;
    let display_name = optional_string(&body, "displayName")?;
    let filters = query_filters(&body)?;
    Ok((stored_resource(&body, display_name), filters))
}

/// The body as a JSON object that sets only writable auditLogQuery properties.
fn writable_object(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let body = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(body)) => body,
        _ => {
            return Err(bad(
                "The request body must be a JSON object (an auditLogQuery).".into(),
            ))
        }
    };
    if let Some(key) = body.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(bad(format!(
            "Invalid property '{key}': it does not exist on type 'microsoft.graph.security.auditLogQuery'."
        )));
    }
    Ok(body)
}

/// A string property that may be absent or `null`.
fn optional_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("'{key}' must be a string."))),
    }
}

/// What the query selects; the window must not be empty.
fn query_filters(body: &Map<String, Value>) -> Result<Filters, ApiError> {
    let keyword = optional_string(body, "keywordFilter")?.filter(|s| !s.is_empty());
    // Both the collection and the older single string are accepted.
    let mut services = strings(body, "serviceFilters")?;
    services.extend(optional_string(body, "serviceFilter")?.filter(|s| !s.is_empty()));
    let filters = Filters {
        start: time(body, "filterStartDateTime")?,
        end: time(body, "filterEndDateTime")?,
        upns: strings(body, "userPrincipalNameFilters")?,
        record_types: strings(body, "recordTypeFilters")?,
        operations: strings(body, "operationFilters")?,
        services,
        ips: strings(body, "ipAddressFilters")?,
        object_ids: strings(body, "objectIdFilters")?,
        admin_units: strings(body, "administrativeUnitIdFilters")?,
        keyword,
    };
    if let (Some(a), Some(b)) = (filters.start, filters.end) {
        if a >= b {
            return Err(bad(
                "filterStartDateTime must be earlier than filterEndDateTime.".into(),
            ));
        }
    }
    Ok(filters)
}

/// The auditLogQuery as stored (its `id` still to be given): the body's values,
/// `null` or `[]` for what it left out. The older singular `serviceFilter` is
/// accepted but answered as `serviceFilters`, the only one the type has.
fn stored_resource(body: &Map<String, Value>, display_name: Option<String>) -> Map<String, Value> {
    let mut resource = Map::new();
    resource.insert(
        "@odata.type".into(),
        "#microsoft.graph.security.auditLogQuery".into(),
    );
    resource.insert("id".into(), Value::Null);
    resource.insert(
        "displayName".into(),
        display_name.map_or(Value::Null, Value::String),
    );
    for key in ["filterStartDateTime", "filterEndDateTime", "keywordFilter"] {
        resource.insert(key.into(), body.get(key).cloned().unwrap_or(Value::Null));
    }
    for key in [
        "recordTypeFilters",
        "serviceFilters",
        "operationFilters",
        "userPrincipalNameFilters",
        "ipAddressFilters",
        "objectIdFilters",
        "administrativeUnitIdFilters",
    ] {
        let mut items = match body.get(key) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        if key == "serviceFilters" {
            let single = body.get("serviceFilter").and_then(Value::as_str);
            items.extend(single.filter(|s| !s.is_empty()).map(Value::from));
        }
        resource.insert(key.into(), Value::Array(items));
    }
    resource
}

/// `POST /security/auditLog/queries`: 201 and the query, `notStarted`.
pub(super) async fn create(
    State(ctx): State<Ctx>,
    call: Call,
    body: Bytes,
) -> Result<Response, ApiError> {
    served(&ctx)?;
    readable_services(&call)?;
    let (mut resource, filters) = parse_body(&body)?;
    let clock = &ctx.shared().clock;
    let profile = ctx.st.settings.profile;
    {
        let now = clock.now();
        let queries = ctx.st.queries.lock();
        let in_flight: Vec<&Arc<Query>> = queries
            .iter()
            .filter(|q| matches!(q.status(profile, now), Status::NotStarted | Status::Running))
            .collect();
        if in_flight.len() >= MAX_IN_FLIGHT {
            let done = timetable(profile).1;
            let first_done = in_flight
                .iter()
                .map(|q| q.created + done)
                .min()
                .unwrap_or(now);
            let wait = (first_done - now).to_std().unwrap_or_default();
            return Err(ApiError::throttled(Some(clock.to_real(wait))));
        }
    }
    let _slot = ctx
        .admit(&call, Budget::AuditQuerySubmission, Pace::QuerySubmit)
        .await?;
    let id = uuid::Uuid::new_v4().to_string();
    resource.insert("id".into(), Value::String(id.clone()));
    let name = resource
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let ends = if name.contains("fail") {
        Status::Failed
    } else if name.contains("cancel") {
        Status::Cancelled
    } else {
        Status::Succeeded
    };
    let query = Arc::new(Query {
        id: id.clone(),
        created: clock.now(),
        ends,
        resource,
        filters,
        matches: OnceLock::new(),
        pagings: AtomicU32::new(0),
    });
    ctx.st.queries.lock().push(query.clone());
    let body = entity(
        ctx.context(&call, "security/auditLog/queries/$entity"),
        &query.resource(Status::NotStarted, &[], &ctx.st.settings),
    );
    let mut response = json(StatusCode::CREATED, &body);
    let location = format!(
        "{}/{}/security/auditLog/queries/{id}",
        call.base,
        ctx.version.segment()
    );
    if let Ok(v) = location.parse() {
        response.headers_mut().insert(LOCATION, v);
    }
    Ok(response)
}

/// `GET /security/auditLog/queries`.
pub(super) async fn list(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    served(&ctx)?;
    readable_services(&call)?;
    ctx.pace(Pace::QueryPoll).await;
    let now = ctx.shared().clock.now();
    let profile = ctx.st.settings.profile;
    let all = &ctx.shared().fixture.audit_records;
    let values = ctx
        .st
        .queries
        .lock()
        .iter()
        .map(|q| q.resource(q.status(profile, now), all, &ctx.st.settings))
        .collect();
    let page = Page {
        context: ctx.context(&call, "security/auditLog/queries"),
        annotations: Vec::new(),
        count: None,
        next_link: None,
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

/// `GET /security/auditLog/queries/{id}`.
pub(super) async fn get_one(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    served(&ctx)?;
    readable_services(&call)?;
    ctx.pace(Pace::QueryPoll).await;
    let query = ctx.st.queries.find(&id)?;
    let status = query.status(ctx.st.settings.profile, ctx.shared().clock.now());
    let all = &ctx.shared().fixture.audit_records;
    let body = entity(
        ctx.context(&call, "security/auditLog/queries/$entity"),
        &query.resource(status, all, &ctx.st.settings),
    );
    Ok(json(StatusCode::OK, &body))
}

/// `GET /security/auditLog/queries/{id}/records`.
pub(super) async fn records(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    served(&ctx)?;
    let services = readable_services(&call)?;
    ctx.pace(Pace::QueryRecords).await;
    call.opts.allow_only(&["$top", "$skiptoken"])?;
    let query = ctx.st.queries.find(&id)?;
    let status = query.status(ctx.st.settings.profile, ctx.shared().clock.now());
    if status != Status::Succeeded {
        return Err(ApiError::bad_request(format!(
            "Audit log query '{id}' is {}; its records can be listed once it has succeeded.",
            status.name()
        )));
    }
    let top = call.opts.top(1000, 1000, |raw| {
        ApiError::bad_request(format!(
            "Invalid page size specified: '{raw}'. Must be between 1 and 1000 inclusive."
        ))
    })?;
    let all = &ctx.shared().fixture.audit_records;
    let matched = query.matches(all);
    let picked = &matched[..matched.len().min(ctx.st.settings.audit_record_limit)];
    let source = Picked { all, picked };
    let keep = |r: &Value| {
        services.as_ref().is_none_or(|allowed| {
            r.get("service")
                .and_then(Value::as_str)
                .is_some_and(|s| allowed.iter().any(|a| a.eq_ignore_ascii_case(s)))
        })
    };
    let start = paging::start(&call)?;
    let (mut values, next) = paging::scan(
        &source,
        Order::NewestFirst,
        start,
        top,
        (0, picked.len()),
        keep,
    );
    let first_paging = start == 0 && query.pagings.fetch_add(1, Ordering::Relaxed) == 0;
    if first_paging && ctx.st.settings.audit.first_paging_drops && values.len() > 1 {
        values.pop();
    }
    let page = Page {
        context: ctx.context(&call, &format!("security/auditLog/queries('{id}')/records")),
        annotations: Vec::new(),
        count: None,
        next_link: next.map(|pos| paging::next_link(&call, pos)),
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}
