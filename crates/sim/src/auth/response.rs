//! What the simulated token endpoint answers: OAuth 2.0 error bodies in Entra's
//! shape and `no-store` JSON for tokens
//! (<https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow>,
//! <https://learn.microsoft.com/entra/identity-platform/reference-error-codes>).
//!
//! Clients must branch on `error`, never on the text, so every refusal carries the
//! right `error` value; the `AADSTS` code in `error_codes` and `error_description`
//! is there for the people reading logs, as with the real service.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A refused token or device-code request.
#[derive(Debug)]
pub(super) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

impl OAuthError {
    /// HTTP 400 with any OAuth `error` value (`invalid_request`, `invalid_scope`,
    /// `invalid_grant`, `authorization_pending`, ...).
    pub(super) fn bad_request(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// HTTP 400 `invalid_request`: the request itself is malformed or incomplete.
    pub(super) fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        Self::bad_request("invalid_request", code, message)
    }

    /// HTTP 401 `invalid_client`: client authentication failed.
    pub(super) fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code,
            message: message.into(),
        }
    }

    /// A required form parameter is missing or empty (AADSTS900144).
    pub(super) fn missing(parameter: &str) -> Self {
        Self::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// The body Entra sends, stamped with the simulated time and the request's
    /// correlation id.
    pub(super) fn render(self, now: DateTime<Utc>, correlation_id: &str) -> Response {
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let trace_id = uuid::Uuid::new_v4().to_string();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        no_store_json(self.status, &body)
    }
}

/// JSON that caches and proxies must not keep (tokens, and errors alike, as
/// Entra marks them).
pub(super) fn no_store_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The correlation id of a request: the client's `client-request-id` when it is
/// a GUID (Entra echoes it so both sides' logs line up), otherwise a new one.
pub(super) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string()
}
