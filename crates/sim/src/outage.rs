//! Outages: Graph paths that answer every request with 503 until the outage is
//! lifted, as when one workload of the service is down for hours. Unlike
//! [`crate::faults`], which never faults a request twice in a row, an outage
//! outlasts every retry, so the collector must give the query up, say so and
//! let it be fetched later.

use crate::graph::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The paths (after `/v1.0` or `/beta`) that are down, by prefix.
#[derive(Debug, Default)]
pub struct Outages {
    prefixes: RwLock<Vec<String>>,
}

impl Outages {
    pub fn new(prefixes: Vec<String>) -> Self {
        Self {
            prefixes: RwLock::new(prefixes),
        }
    }

    /// Whether the Graph `path` (with its version segment) is down.
    pub fn covers(&self, path: &str) -> bool {
        let Some(rest) = path
            .strip_prefix("/v1.0")
            .or_else(|| path.strip_prefix("/beta"))
        else {
            return false;
        };
        let down = self.prefixes.read().unwrap_or_else(|e| e.into_inner());
        down.iter().any(|p| rest.starts_with(p.as_str()))
    }

    /// The service is back.
    pub fn lift(&self) {
        self.prefixes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The middleware: 503 with a short `Retry-After` on every request to a path
/// that is down.
pub async fn inject(State(outages): State<Arc<Outages>>, req: Request, next: Next) -> Response {
    if !outages.covers(req.uri().path()) {
        return next.run(req).await;
    }
    let mut e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "serviceNotAvailable",
        "The service is temporarily unavailable. You may repeat the request after a delay.",
    );
    e.retry_after = Some(Duration::from_millis(100));
    e.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_paths_under_a_prefix_in_either_version_until_lifted() {
        let o = Outages::new(vec!["/devices".into()]);
        assert!(o.covers("/v1.0/devices"));
        assert!(o.covers("/beta/devices/abc"));
        assert!(!o.covers("/v1.0/users"));
        assert!(!o.covers("/devices"));
        o.lift();
        assert!(!o.covers("/v1.0/devices"));
    }
}
