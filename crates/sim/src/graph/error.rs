//! Microsoft Graph error responses.
//!
//! Every layer of the simulator (read-only guard, fault injection, Graph
//! routes) answers errors by returning an [`ApiError`]. Its body needs the
//! request's `request-id`, `client-request-id` and the simulated date, which
//! only the outermost layer knows, so `ApiError::into_response` leaves the body
//! empty and parks the error in the response extensions; the request-log layer
//! ([`crate::reqlog`]) renders it with [`ApiError::render`].

use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// A Graph-style error: `{"error":{"code","message","innerError":{...}}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `Retry-After`, in real seconds (already time-scaled).
    pub retry_after: Option<Duration>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// 400 `BadRequest` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 `BadRequest` "Invalid filter clause": what the audit-log and report
    /// endpoints answer for any filter they do not support
    /// (<https://github.com/microsoftgraph/microsoft-graph-docs/issues/5676>).
    pub fn invalid_filter() -> Self {
        Self::bad_request("Invalid filter clause")
    }

    /// 400 `Request_UnsupportedQuery`: the directory-object flavour
    /// (<https://learn.microsoft.com/graph/aad-advanced-queries>).
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
        .with_header(
            WWW_AUTHENTICATE,
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
        )
    }

    /// 403 `Authorization_RequestDenied`: a directory route without its permission.
    pub fn denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 403 `Authentication_MSGraphPermissionMissing`: an audit-log or report
    /// route without its permission; the message names the permission.
    pub fn permission_missing(permission: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authentication_MSGraphPermissionMissing",
            format!("Calling principal does not have required MSGraph permissions {permission}"),
        )
    }

    /// 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
    /// (<https://learn.microsoft.com/entra/identity/monitoring-health/howto-configure-prerequisites-for-reporting-api>).
    pub fn premium_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        )
    }

    /// 404 `Request_ResourceNotFound` for a directory object.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 429 `TooManyRequests`, with `Retry-After` unless `retry_after` is `None`
    /// (identity protection sends none).
    pub fn throttled(retry_after: Option<Duration>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        );
        e.retry_after = retry_after;
        e
    }

    /// 500 for a broken fixture discovered while answering.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// The full response, with the identifiers only the outermost layer knows.
    /// `date` is the simulated present, formatted like Graph's innerError dates.
    pub fn render(&self, request_id: &str, client_request_id: &str, date: &str) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(wait) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&format_retry_after(wait)) {
                headers.insert(RETRY_AFTER, v);
            }
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// `Retry-After` as Graph writes it: whole seconds when the wait is whole,
/// otherwise decimal seconds (Graph has been seen sending `2.128`), never 0.
pub fn format_retry_after(wait: Duration) -> String {
    let millis = (wait.as_secs_f64() * 1000.0).round().max(1.0) as u64;
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        let text = format!("{}.{:03}", millis / 1000, millis % 1000);
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_or_decimal_seconds() {
        assert_eq!(format_retry_after(Duration::from_secs(10)), "10");
        assert_eq!(format_retry_after(Duration::from_millis(2128)), "2.128");
        assert_eq!(format_retry_after(Duration::from_millis(500)), "0.5");
        assert_eq!(format_retry_after(Duration::from_micros(10)), "0.001");
    }
}
