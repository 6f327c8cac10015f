//! The read-only HTTP client for Microsoft Graph and the Office 365 Management
//! Activity API: paging, retries, pacing per throttle budget, typed errors and
//! raw capture.

mod client;
mod error;
mod pacer;
mod page;
mod raw;

pub use client::{Api, Capture, Fetched, Page, Pager, ReadOnlyClient, Request};
pub use error::{classify, error_parts, permission_in, GraphError, Verdict};
pub use pacer::{Admission, Pacer};
pub use raw::{RawMeta, RawSink};

/// `path` (with its query) on the Graph host `base`.
pub fn graph_url(base: &url::Url, path: &str) -> url::Url {
    let mut u = base.clone();
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    u.set_path(p);
    u.set_query((!q.is_empty()).then_some(q));
    u
}

/// The HTTP client every request goes through (rustls, timeouts, user agent).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("m365-preserve/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(std::time::Duration::from_secs(300))
        .build()
}

/// What went wrong with a request, in words, without its URL (the URL is said
/// once, by whoever reports the error).
pub fn network_reason(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(s) = root.source() {
        root = s;
    }
    let text = root.to_string();
    let lower = text.to_lowercase();
    if e.is_timeout() {
        "timed out".into()
    } else if lower.contains("connection refused") {
        "connection refused".into()
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("name or service")
    {
        format!("the host name does not resolve: {text}")
    } else if e.is_connect() {
        format!("cannot connect: {text}")
    } else {
        text
    }
}
