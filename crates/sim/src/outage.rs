//! Outages and throttling storms. An outage: Graph paths that answer every
//! request with 503 until it is lifted, as when one workload of the service is
//! down for hours. A storm: the next N requests to a path answer 429, with or
//! without `Retry-After` (Identity Protection documents its 429s without one:
//! <https://learn.microsoft.com/graph/throttling-limits#identity-protection-and-conditional-access-service-limits>),
//! as when other apps of the tenant have used its share. Unlike
//! [`crate::faults`], which never faults a request twice in a row, both come
//! back request after request: an outage outlasts every retry, so the collector
//! must give the query up, say so and let it be fetched later; a storm shorter
//! than the retry budget must be waited out, each retry counted.

use crate::graph::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A throttling storm on the Graph paths under `prefix` (after `/v1.0` or `/beta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storm {
    pub prefix: String,
    /// Requests answered 429 before the path answers again.
    pub requests: u32,
    /// Whether the 429s carry `Retry-After` (a short one).
    pub retry_after: bool,
}

/// The paths (after `/v1.0` or `/beta`) that are down, by prefix, and the
/// storms still blowing (with the 429s each has left).
#[derive(Debug, Default)]
pub struct Outages {
    prefixes: RwLock<Vec<String>>,
    storms: Mutex<Vec<Storm>>,
}

/// What a request to a troubled path gets.
enum Trouble {
    Down,
    Throttled { retry_after: bool },
}

/// `path` without its version segment, if it is a Graph path.
fn graph_path(path: &str) -> Option<&str> {
    path.strip_prefix("/v1.0")
        .or_else(|| path.strip_prefix("/beta"))
}

impl Outages {
    pub fn new(prefixes: Vec<String>, storms: Vec<Storm>) -> Self {
        Self {
            prefixes: RwLock::new(prefixes),
            storms: Mutex::new(storms),
        }
    }

    /// Whether the Graph `path` (with its version segment) is down.
    pub fn covers(&self, path: &str) -> bool {
        let Some(rest) = graph_path(path) else {
            return false;
        };
        let down = self.prefixes.read().unwrap_or_else(|e| e.into_inner());
        down.iter().any(|p| rest.starts_with(p.as_str()))
    }

    /// Whether a request to `path` is throttled by a storm (using up one of
    /// its 429s), and with `Retry-After` or not.
    fn throttles(&self, path: &str) -> Option<bool> {
        let rest = graph_path(path)?;
        let mut storms = self.storms.lock().unwrap_or_else(|e| e.into_inner());
        let storm = storms
            .iter_mut()
            .find(|s| s.requests > 0 && rest.starts_with(s.prefix.as_str()))?;
        storm.requests -= 1;
        Some(storm.retry_after)
    }

    fn trouble(&self, path: &str) -> Option<Trouble> {
        if self.covers(path) {
            return Some(Trouble::Down);
        }
        self.throttles(path)
            .map(|retry_after| Trouble::Throttled { retry_after })
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
/// that is down; 429 on a request a storm throttles.
pub async fn inject(State(outages): State<Arc<Outages>>, req: Request, next: Next) -> Response {
    let e = match outages.trouble(req.uri().path()) {
        None => return next.run(req).await,
        Some(Trouble::Down) => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. You may repeat the request after a delay.",
            );
            e.retry_after = Some(Duration::from_millis(100));
            e
        }
        Some(Trouble::Throttled { retry_after }) => {
            ApiError::throttled(retry_after.then(|| Duration::from_millis(50)))
        }
    };
    e.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_paths_under_a_prefix_in_either_version_until_lifted() {
        let o = Outages::new(vec!["/devices".into()], Vec::new());
        assert!(o.covers("/v1.0/devices"));
        assert!(o.covers("/beta/devices/abc"));
        assert!(!o.covers("/v1.0/users"));
        assert!(!o.covers("/devices"));
        o.lift();
        assert!(!o.covers("/v1.0/devices"));
    }

    #[test]
    fn a_storm_throttles_its_requests_then_passes() {
        let storm = |prefix: &str, requests, retry_after| Storm {
            prefix: prefix.into(),
            requests,
            retry_after,
        };
        let o = Outages::new(
            Vec::new(),
            vec![
                storm("/devices", 2, true),
                storm("/identityProtection", 1, false),
            ],
        );
        assert_eq!(o.throttles("/v1.0/devices"), Some(true));
        assert_eq!(o.throttles("/beta/devices/x"), Some(true));
        assert_eq!(o.throttles("/v1.0/devices"), None);
        assert_eq!(o.throttles("/v1.0/users"), None);
        assert_eq!(
            o.throttles("/v1.0/identityProtection/riskDetections"),
            Some(false)
        );
        assert_eq!(o.throttles("/v1.0/identityProtection/riskDetections"), None);
    }
}
