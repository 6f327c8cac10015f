//! The simulated Office 365 Management Activity API
//! (<https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-reference>),
//! rooted at `/api/v1.0/{tenant}/activity/feed/`:
//!
//! - `GET subscriptions/list`: the tenant's subscriptions. Audit.AzureActiveDirectory,
//!   Audit.Exchange, Audit.SharePoint and Audit.General are enabled; DLP.All is
//!   not subscribed (listing it is AF20022), so a client meets that case too.
//! - `POST subscriptions/start?contentType=...`: answers as the service does for
//!   an enabled subscription, but changes nothing (the simulated tenant is
//!   read-only; in the assembled server the read-only guard answers 405 first).
//! - `GET subscriptions/content?contentType=...[&startTime=...&endTime=...]`: the
//!   content blobs created in the window, [`PAGE_SIZE`] per page, further pages
//!   linked by an absolute `NextPageUri` header that repeats the window and adds
//!   `nextPage` (see `catalogue` for how blobs are made, including duplicates).
//! - `GET audit/{contentId}`: a blob, the JSON array of its records (AF20051 once
//!   it is more than 7 days old).
//!
//! Every call needs a token for `https://manage.office.com` (401 AF10001 without
//! one) that carries `ActivityFeed.Read` (403 AF10001), for the tenant in the URL
//! (AF20013 when that is not a GUID, AF20010 when it is another tenant), and
//! counts against the tenant's request budget, beyond which the answer is
//! AF429 inside an HTTP 403, with no `Retry-After`, as the service does.

mod catalogue;
mod feed_error;
mod throttle;
mod window;

use self::catalogue::{Blob, Catalogue, ContentType};
use self::feed_error::FeedError;
use self::throttle::Throttle;
use super::shared::{request_base, Shared, MANAGE_RESOURCE};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// Microsoft's baseline budget: requests per minute per tenant.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 2_000;

/// Blobs per page of a content listing: small, so that paging is exercised by
/// any fixture.
pub const PAGE_SIZE: usize = 5;

/// The permission every call needs.
const ACTIVITY_FEED_READ: &str = "ActivityFeed.Read";

/// The Management Activity API for `shared`'s fixture, with Microsoft's
/// baseline request budget.
pub fn router(shared: Arc<Shared>) -> Router {
    router_with_limit(shared, DEFAULT_REQUESTS_PER_MINUTE)
}

/// Test hook: the same API with a budget of `requests_per_minute` (simulated
/// minutes), low enough for a test to reach AF429.
pub fn router_with_limit(shared: Arc<Shared>, requests_per_minute: u32) -> Router {
    let state = Arc::new(FeedState {
        catalogue: Catalogue::build(&shared.fixture),
        throttle: Throttle::new(requests_per_minute),
        shared,
    });
    Router::new()
        .route(
            "/api/v1.0/{tenant}/activity/feed/subscriptions/list",
            get(list_subscriptions),
        )
        .route(
            "/api/v1.0/{tenant}/activity/feed/subscriptions/start",
            post(start_subscription),
        )
        .route(
            "/api/v1.0/{tenant}/activity/feed/subscriptions/content",
            get(list_content),
        )
        .route(
            "/api/v1.0/{tenant}/activity/feed/audit/{content_id}",
            get(get_blob),
        )
        .with_state(state)
}

struct FeedState {
    shared: Arc<Shared>,
    catalogue: Catalogue,
    throttle: Throttle,
}

/// What every handler needs from its request.
struct Call<'a> {
    state: &'a FeedState,
    tenant: String,
    headers: &'a HeaderMap,
    uri: &'a Uri,
}

impl Call<'_> {
    /// A query parameter, matched ignoring case (the service does); first wins.
    fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    }

    /// Authentication, tenant, permission and budget checks, in that order.
    /// `method` names the operation in AF429 messages.
    fn admit(&self, method: &str) -> Result<(), FeedError> {
        let shared = &self.state.shared;
        let authorization = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let claims = shared.authorize(authorization, MANAGE_RESOURCE).ok_or_else(|| {
            FeedError::new(
                StatusCode::UNAUTHORIZED,
                "AF10001",
                format!(
                    "The permission set () sent in the request did not include the expected permission \
                     {ACTIVITY_FEED_READ}: no valid access token for {MANAGE_RESOURCE}."
                ),
            )
        })?;
        if uuid::Uuid::parse_str(&self.tenant).is_err() {
            return Err(FeedError::bad_request(
                "AF20013",
                format!(
                    "The tenant ID passed in the URL ({}) is not a valid GUID.",
                    self.tenant
                ),
            ));
        }
        if !self.tenant.eq_ignore_ascii_case(&claims.tid) {
            return Err(FeedError::bad_request(
                "AF20010",
                format!(
                    "The tenant ID passed in the URL ({}) does not match the tenant ID passed in the access token ({}).",
                    self.tenant, claims.tid
                ),
            ));
        }
        if !claims.has(ACTIVITY_FEED_READ) {
            let mut permissions = claims.roles.clone();
            permissions.extend(
                claims
                    .scp
                    .iter()
                    .flat_map(|s| s.split(' ').map(String::from)),
            );
            return Err(FeedError::new(
                StatusCode::FORBIDDEN,
                "AF10001",
                format!(
                    "The permission set ({}) sent in the request did not include the expected permission {ACTIVITY_FEED_READ}.",
                    permissions.join(",")
                ),
            ));
        }
        if !self.state.throttle.admit(shared.clock.now()) {
            let publisher = self
                .param("PublisherIdentifier")
                .unwrap_or_else(|| uuid::Uuid::nil().to_string());
            return Err(FeedError::new(
                StatusCode::FORBIDDEN,
                "AF429",
                format!("Too many requests. Method={method}, PublisherId={publisher}"),
            ));
        }
        Ok(())
    }

    /// The `contentType` parameter (AF20001 when absent, AF20020 when unknown).
    fn content_type(&self) -> Result<ContentType, FeedError> {
        let content_type = self
            .param("contentType")
            .ok_or_else(|| FeedError::missing("contentType"))?;
        ContentType::parse(&content_type).ok_or_else(|| {
            FeedError::bad_request("AF20020", "The specified content type is not valid.")
        })
    }

    /// The `contentType` parameter of a subscribed type (AF20022 otherwise).
    fn subscribed_content_type(&self) -> Result<ContentType, FeedError> {
        let content_type = self.content_type()?;
        content_type
            .is_subscribed()
            .then_some(content_type)
            .ok_or_else(|| {
                FeedError::bad_request(
                    "AF20022",
                    "No subscription found for the specified content type.",
                )
            })
    }

    /// `http://host:port/api/v1.0/{tenant}/activity/feed`, for absolute URLs.
    fn feed_root(&self) -> Result<String, FeedError> {
        let base =
            request_base(self.headers, self.uri).ok_or_else(|| FeedError::missing("Host"))?;
        Ok(format!("{base}/api/v1.0/{}/activity/feed", self.tenant))
    }
}

/// Runs `handle` on a call whose tenant path segment could be read.
fn serve(
    state: &FeedState,
    tenant: Result<String, PathRejection>,
    headers: &HeaderMap,
    uri: &Uri,
    handle: impl FnOnce(&Call) -> Result<Response, FeedError>,
) -> Response {
    let result = tenant
        .map_err(|_| {
            FeedError::bad_request(
                "AF20013",
                "The tenant ID passed in the URL is not a valid GUID.",
            )
        })
        .and_then(|tenant| {
            handle(&Call {
                state,
                tenant,
                headers,
                uri,
            })
        });
    result.unwrap_or_else(IntoResponse::into_response)
}

fn json_response(body: &impl serde::Serialize) -> Response {
    let Ok(text) = serde_json::to_string(body) else {
        return FeedError::internal().into_response();
    };
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn subscription(content_type: ContentType) -> Value {
    json!({"contentType": content_type.name(), "status": "enabled", "webhook": null})
}

async fn list_subscriptions(
    State(state): State<Arc<FeedState>>,
    tenant: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    serve(&state, tenant.map(|Path(t)| t), &headers, &uri, |call| {
        call.admit("ListSubscriptions")?;
        let list: Vec<Value> = ContentType::SUBSCRIBED
            .into_iter()
            .map(subscription)
            .collect();
        Ok(json_response(&Value::Array(list)))
    })
}

async fn start_subscription(
    State(state): State<Arc<FeedState>>,
    tenant: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    serve(&state, tenant.map(|Path(t)| t), &headers, &uri, |call| {
        call.admit("StartSubscription")?;
        Ok(json_response(&subscription(call.content_type()?)))
    })
}

async fn list_content(
    State(state): State<Arc<FeedState>>,
    tenant: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    serve(&state, tenant.map(|Path(t)| t), &headers, &uri, |call| {
        call.admit("ListContent")?;
        let content_type = call.subscribed_content_type()?;
        let now = call.state.shared.clock.now();
        let window = window::resolve(
            call.param("startTime").as_deref(),
            call.param("endTime").as_deref(),
            now,
        )?;
        let listed: Vec<&Blob> = call
            .state
            .catalogue
            .listed(content_type, window.start, window.end, now)
            .collect();
        let first = match call.param("nextPage") {
            None => 0,
            Some(page) => listed
                .iter()
                .position(|b| b.content_id == page)
                .ok_or_else(|| {
                    FeedError::bad_request("AF20031", format!("Invalid nextPage Input: {page}."))
                })?,
        };
        let root = call.feed_root()?;
        let page: Vec<Value> = listed
            .iter()
            .skip(first)
            .take(PAGE_SIZE)
            .map(|blob| blob_entry(&root, blob))
            .collect();
        let next_page = listed
            .get(first + PAGE_SIZE)
            .map(|next| next_page_uri(call, &root, content_type, &window, next))
            .transpose()?;
        let mut response = json_response(&Value::Array(page));
        if let Some(uri) = next_page {
            response
                .headers_mut()
                .insert(HeaderName::from_static("nextpageuri"), uri);
        }
        Ok(response)
    })
}

/// The `NextPageUri` of a listing that continues at `next`: the same window
/// (as the client wrote it, or the defaulted one), content type and publisher,
/// plus `nextPage`.
fn next_page_uri(
    call: &Call,
    root: &str,
    content_type: ContentType,
    window: &window::Window,
    next: &Blob,
) -> Result<HeaderValue, FeedError> {
    let mut uri = url::Url::parse(&format!("{root}/subscriptions/content"))
        .map_err(|_| FeedError::internal())?;
    uri.query_pairs_mut()
        .append_pair("contentType", content_type.name())
        .append_pair("startTime", &window.start_text)
        .append_pair("endTime", &window.end_text)
        .append_pair("nextPage", &next.content_id);
    if let Some(publisher) = call.param("PublisherIdentifier") {
        uri.query_pairs_mut()
            .append_pair("PublisherIdentifier", &publisher);
    }
    HeaderValue::from_str(uri.as_str()).map_err(|_| FeedError::internal())
}

/// A listing entry: where and until when a blob can be fetched.
fn blob_entry(root: &str, blob: &Blob) -> Value {
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    json!({
        "contentType": blob.content_type.name(),
        "contentId": blob.content_id,
        "contentUri": format!("{root}/audit/{}", blob.content_id),
        "contentCreated": time(blob.created),
        "contentExpiration": time(blob.expiration()),
    })
}

async fn get_blob(
    State(state): State<Arc<FeedState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (tenant, content_id) = match path {
        Ok(Path((tenant, content_id))) => (Ok(tenant), content_id),
        Err(e) => (Err(e), String::new()),
    };
    serve(&state, tenant, &headers, &uri, |call| {
        call.admit("GetBlob")?;
        if !catalogue::is_content_id(&content_id) {
            return Err(FeedError::bad_request(
                "AF20052",
                format!("Content ID {content_id} in the URL is invalid."),
            ));
        }
        let now = call.state.shared.clock.now();
        let blob = call
            .state
            .catalogue
            .get(&content_id)
            .filter(|b| b.created <= now)
            .ok_or_else(|| {
                FeedError::bad_request(
                    "AF20050",
                    format!("The specified content ({content_id}) does not exist."),
                )
            })?;
        if blob.expiration() <= now {
            return Err(FeedError::bad_request(
                "AF20051",
                format!(
                    "Content requested with the key {content_id} has already expired. Content older than 7 days \
                     cannot be retrieved."
                ),
            ));
        }
        Ok(json_response(&blob.records))
    })
}
