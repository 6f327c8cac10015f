//! Error bodies of the Management Activity API
//! (<https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-reference>):
//! `{"error":{"code":"AF20055","message":"..."}}`. Clients branch on `code`;
//! throttling, for one, is `AF429` inside an HTTP 403
//! (<https://learn.microsoft.com/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api>).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refused Management Activity API request.
#[derive(Debug)]
pub(super) struct FeedError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl FeedError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// HTTP 400: a parameter, the tenant or the content id is wrong.
    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// AF50000: the simulator could not build its answer (never a silent
    /// truncation: a listing either comes whole with its link or not at all).
    pub(super) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "AF50000",
            "An internal error occurred. Retry the request.",
        )
    }

    /// AF20001: a required parameter is missing.
    pub(super) fn missing(parameter: &str) -> Self {
        Self::bad_request("AF20001", format!("Missing parameter: {parameter}."))
    }
}

impl IntoResponse for FeedError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
