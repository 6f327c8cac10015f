//! The simulated Exchange Online admin API, as the ExchangeOnlineManagement
//! module uses it (shared/reference/exchange-rest.md; none of it is documented
//! for third parties):
//!
//! - `GET /adminapi/v1.0/{tenant}/EXOModuleFile?Version=...` with `CommandName: *`:
//!   the module's cmdlet listing, `value[0].exportedCmdlets`, comma-separated:
//!   the cmdlets the calling app's Exchange roles hold (fixture
//!   `exchange.roleCmdlets`).
//! - `POST /adminapi/beta/{tenant}/InvokeCommand` with
//!   `{"CmdletInput":{"CmdletName":...,"Parameters":{...}}}`: runs one of the
//!   read cmdlets the collector needs against the fixture's `exchange` data and
//!   answers `{"@odata.context", "@adminapi.warnings", "value"}`, [`PAGE_SIZE`]
//!   objects per page; further pages are an `@odata.nextLink` to which the
//!   same body is POSTed again.
//!
//! Every call needs a token for `https://outlook.office365.com` of this tenant
//! (401 otherwise) carrying `Exchange.ManageAsApp` (401 `Unauthorized`), an
//! `X-AnchorMailbox` routing hint (400), and counts against the tenant's
//! Exchange budget (4 in flight, 10 per 10 s unless the simulator is told
//! otherwise; 429 with `Retry-After` beyond).
//! A cmdlet the app's roles do not hold is refused the way Exchange refuses it
//! (401 "User is not allowed to call Get-Mailbox", MicrosoftDocs/office-docs-powershell
//! issue 7970); an unknown parameter is a `ParameterBindingException` and an
//! unknown mailbox a `ManagementObjectNotFoundException`, both with the real
//! reason as JSON text in `error.details[0].message`. Any cmdlet that is not a
//! `Get-` is refused and counted as a read-only violation.

use crate::fixture::{Exchange, ExchangeMailbox};
use crate::reqlog::{RequestIds, Violation};
use crate::settings::Profile;
use crate::shared::{request_base, Shared, EXCHANGE_RESOURCE};
use crate::throttle::{Budget, Throttled, Throttles};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Objects per page: small, so that every client meets paging.
pub const PAGE_SIZE: usize = 10;

/// The application permission every call needs.
const MANAGE_AS_APP: &str = "Exchange.ManageAsApp";

/// What a cmdlet returns without `-ResultSize` (Get-InboxRule docs: "The default value is 1000").
const DEFAULT_RESULT_SIZE: usize = 1000;

/// The warning Exchange adds when `ResultSize` cut the results.
const MORE_RESULTS: &str = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.";

/// The Exchange routes for `shared`'s fixture.
pub fn router(shared: Arc<Shared>, profile: Profile, window: usize) -> Router {
    let state = Arc::new(ExoState {
        throttles: Throttles::new(0).with_exchange_window(window),
        shared,
        profile,
    });
    Router::new()
        .route("/adminapi/v1.0/{tenant}/EXOModuleFile", get(module_file))
        .route("/adminapi/beta/{tenant}/InvokeCommand", post(invoke))
        .with_state(state)
}

struct ExoState {
    shared: Arc<Shared>,
    throttles: Throttles,
    profile: Profile,
}

impl ExoState {
    fn exchange(&self) -> &Exchange {
        &self.shared.fixture.tenant.exchange
    }
}

/// An Exchange error: the OData envelope with the cmdlet's own error, as
/// JSON text, in `details[0].message` (GOEXO `adminapi/invoke_test.go`).
struct ExoError {
    status: StatusCode,
    body: Value,
    retry_after: Option<Duration>,
}

impl ExoError {
    /// `error.code` and `error.message` only.
    fn plain(status: StatusCode, code: &str, message: &str) -> Self {
        let body = json!({"error": {"code": code, "message": message,
            "innererror": {"message": message, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}});
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    /// A cmdlet that failed: its message and exception type inside `details`.
    fn cmdlet(status: StatusCode, code: &str, message: &str, type_name: &str) -> Self {
        let inner =
            json!({"Message": message, "TypeName": type_name, "InnerError": null}).to_string();
        let body = json!({"error": {"code": code, "message": "Error executing cmdlet",
            "details": [{"code": "Client", "target": "", "message": inner}],
            "innererror": {"message": message, "type": "ODataServiceException",
                           "internalException": {"message": message}}}});
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    fn bad_request(message: &str, type_name: &str) -> Self {
        Self::cmdlet(StatusCode::BAD_REQUEST, "BadRequest", message, type_name)
    }

    fn unauthorized(message: &str) -> Self {
        Self::plain(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }
}

impl IntoResponse for ExoError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body.to_string()).into_response();
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(wait) = self.retry_after {
            let text = crate::graph::error::format_retry_after(wait);
            if let Ok(v) = HeaderValue::from_str(&text) {
                r.headers_mut().insert(RETRY_AFTER, v);
            }
        }
        r
    }
}

/// The token's app, after the audience, tenant and permission checks.
fn authorize(st: &ExoState, tenant: &str, headers: &HeaderMap) -> Result<String, ExoError> {
    let shared = &st.shared;
    let t = &shared.fixture.tenant;
    if !tenant.eq_ignore_ascii_case(&t.tenant_id) && !tenant.eq_ignore_ascii_case(&t.default_domain)
    {
        return Err(ExoError::plain(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Tenant '{tenant}' was not found."),
        ));
    }
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let claims = shared
        .authorize(header, EXCHANGE_RESOURCE)
        .filter(|c| c.tid == shared.tenant_id())
        .ok_or_else(|| {
            ExoError::unauthorized(&format!(
                "The access token is missing, expired, or not for {EXCHANGE_RESOURCE} in this tenant."
            ))
        })?;
    if !claims.roles.iter().any(|r| r == MANAGE_AS_APP) {
        return Err(ExoError::unauthorized(&format!(
            "The access token has no {MANAGE_AS_APP} role: the app has no Exchange application permission."
        )));
    }
    if headers.get("x-anchormailbox").is_none() {
        return Err(ExoError::plain(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request has no X-AnchorMailbox routing hint.",
        ));
    }
    Ok(claims.appid)
}

/// The cmdlets `app`'s Exchange roles hold.
fn allowed<'a>(st: &'a ExoState, app: &str) -> &'a [String] {
    st.exchange()
        .role_cmdlets
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(app))
        .map(|(_, c)| c.as_slice())
        .unwrap_or(&[])
}

/// Charges the tenant's Exchange budget, then waits the profile's latency.
async fn admit(st: &ExoState) -> Result<crate::throttle::Slot, ExoError> {
    let clock = &st.shared.clock;
    let slot = st
        .throttles
        .admit(Budget::Exchange, "tenant", clock.now())
        .map_err(|t| {
            let wait = match t {
                Throttled::RetryAfter(w) => w,
                Throttled::NoRetryAfter => Duration::from_secs(1),
            };
            let mut e = ExoError::plain(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "You have reached the maximum number of concurrent requests per tenant. Please wait and try again.",
            );
            e.retry_after = Some(clock.to_real(wait));
            e
        })?;
    if st.profile == Profile::Realistic {
        clock.sleep(Duration::from_millis(400)).await;
    }
    Ok(slot)
}

fn json_response(body: &Value) -> Response {
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    r
}

/// `GET /adminapi/v1.0/{tenant}/EXOModuleFile`.
async fn module_file(
    State(st): State<Arc<ExoState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let run = async {
        let app = authorize(&st, &tenant, &headers)?;
        let _slot = admit(&st).await?;
        let base = request_base(&headers, &uri).unwrap_or_default();
        let version = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("Version"))
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        Ok::<_, ExoError>(json_response(&json!({
            "@odata.context": format!("{base}/adminapi/v1.0/{tenant}/$metadata#EXOModuleFile"),
            "value": [{"Version": version, "exportedCmdlets": allowed(&st, &app).join(",")}],
        })))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /adminapi/beta/{tenant}/InvokeCommand[?$skiptoken=N]`.
async fn invoke(
    State(st): State<Arc<ExoState>>,
    Path(tenant): Path<String>,
    Extension(ids): Extension<RequestIds>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let run = async {
        let app = authorize(&st, &tenant, &headers)?;
        let input: Value = serde_json::from_slice(&body).map_err(|e| {
            ExoError::plain(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("The request body is not JSON: {e}"),
            )
        })?;
        let name = input["CmdletInput"]["CmdletName"].as_str().unwrap_or("");
        let empty = Map::new();
        let params = input["CmdletInput"]["Parameters"]
            .as_object()
            .unwrap_or(&empty);
        if !name.starts_with("Get-") {
            let mut r = ExoError::plain(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("The simulated tenant is read-only: {name:?} is not a Get- cmdlet."),
            )
            .into_response();
            r.extensions_mut().insert(Violation);
            return Ok(r);
        }
        if !allowed(&st, &app)
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
        {
            return Err(ExoError::unauthorized(&format!(
                "User is not allowed to call {name}"
            )));
        }
        let _slot = admit(&st).await?;
        let (objects, warnings) = run_cmdlet(st.exchange(), name, params)?;
        let skip = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "$skiptoken")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let base = request_base(&headers, &uri).unwrap_or_default();
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            json!(format!(
                "{base}/adminapi/beta/{tenant}/$metadata#Collection(Exchange.GenericHashTable)"
            )),
        );
        out.insert(
            "adminapi.warnings@odata.type".into(),
            json!("#Collection(String)"),
        );
        out.insert("@adminapi.warnings".into(), json!(warnings));
        let page: Vec<Value> = objects.iter().skip(skip).take(PAGE_SIZE).cloned().collect();
        out.insert("value".into(), Value::Array(page));
        if skip + PAGE_SIZE < objects.len() {
            out.insert(
                "@odata.nextLink".into(),
                json!(format!(
                    "{base}/adminapi/beta/{tenant}/InvokeCommand?$skiptoken={}",
                    skip + PAGE_SIZE
                )),
            );
        }
        tracing::debug!(request = %ids.request_id, cmdlet = name, "simulated Exchange cmdlet");
        Ok::<_, ExoError>(json_response(&Value::Object(out)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// The parameters each cmdlet accepts here (a subset of the real ones).
fn parameters(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "Get-InboxRule" => &["Mailbox", "IncludeHidden", "ResultSize"],
        "Get-Mailbox" | "Get-MailboxPermission" | "Get-RecipientPermission" => {
            &["Identity", "ResultSize"]
        }
        "Get-TransportRule" | "Get-MailboxAuditBypassAssociation" => &["ResultSize"],
        "Get-AdminAuditLogConfig" => &[],
        _ => return None,
    })
}

/// Runs a read cmdlet: its objects and warnings.
fn run_cmdlet(
    ex: &Exchange,
    name: &str,
    params: &Map<String, Value>,
) -> Result<(Vec<Value>, Vec<String>), ExoError> {
    let known = parameters(name).ok_or_else(|| {
        ExoError::bad_request(
            &format!("The term '{name}' is not recognized as a name of a cmdlet."),
            "System.Management.Automation.CommandNotFoundException",
        )
    })?;
    if let Some(unknown) = params
        .keys()
        .find(|k| !known.iter().any(|p| p.eq_ignore_ascii_case(k)))
    {
        return Err(ExoError::bad_request(
            &format!("A parameter cannot be found that matches parameter name '{unknown}'."),
            "System.Management.Automation.ParameterBindingException",
        ));
    }
    let param = |p: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(p))
            .map(|(_, v)| v)
    };
    let mailbox = |p: &str| -> Result<&ExchangeMailbox, ExoError> {
        let id = param(p).and_then(Value::as_str).ok_or_else(|| {
            ExoError::bad_request(
                &format!("Cannot process command because of one or more missing mandatory parameters: {p}."),
                "System.Management.Automation.ParameterBindingException",
            )
        })?;
        find_mailbox(ex, id).ok_or_else(|| {
            ExoError::cmdlet(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!(
                    "The operation couldn't be performed because object '{id}' couldn't be found."
                ),
                "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            )
        })
    };
    let objects: Vec<Value> = match name {
        "Get-InboxRule" => {
            let hidden = param("IncludeHidden").is_some_and(|v| {
                v.as_bool() == Some(true)
                    || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
            });
            mailbox("Mailbox")?
                .inbox_rules
                .iter()
                .filter(|r| hidden || !r.hidden)
                .map(|r| r.rule.clone())
                .collect()
        }
        "Get-Mailbox" => vec![mailbox("Identity")?.mailbox.clone()],
        "Get-MailboxPermission" => mailbox("Identity")?.mailbox_permissions.clone(),
        "Get-RecipientPermission" => mailbox("Identity")?.recipient_permissions.clone(),
        "Get-TransportRule" => ex.transport_rules.clone(),
        "Get-AdminAuditLogConfig" => vec![ex.admin_audit_log_config.clone()],
        _ => ex.audit_bypass_associations.clone(),
    };
    let limit = match param("ResultSize") {
        None => DEFAULT_RESULT_SIZE,
        Some(v)
            if v.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("Unlimited")) =>
        {
            usize::MAX
        }
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| *n > 0)
            .map(|n| n as usize)
            .ok_or_else(|| {
                ExoError::bad_request(
                    "Cannot bind parameter 'ResultSize': use a positive number or Unlimited.",
                    "System.Management.Automation.ParameterBindingException",
                )
            })?,
    };
    let mut warnings = Vec::new();
    let mut objects = objects;
    if objects.len() > limit {
        objects.truncate(limit);
        warnings.push(MORE_RESULTS.to_string());
    }
    Ok((objects, warnings))
}

/// The mailbox an identity names: UPN, primary address, alias or Entra object id.
fn find_mailbox<'a>(ex: &'a Exchange, id: &str) -> Option<&'a ExchangeMailbox> {
    ex.mailboxes.values().find(|m| {
        [
            "UserPrincipalName",
            "PrimarySmtpAddress",
            "Alias",
            "ExternalDirectoryObjectId",
        ]
        .iter()
        .any(|k| {
            m.mailbox[*k]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(id))
        })
    })
}
