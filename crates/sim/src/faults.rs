//! Seeded fault injection: the failures a collector meets against the real
//! service, on demand and reproducibly.
//!
//! With probability `rate` per request one fault is picked among those that
//! make sense for the route:
//! - Graph: 429 with `Retry-After`, 503 with and without `Retry-After`, 504,
//!   connection reset, truncated body; with a valid token also 401
//!   `InvalidAuthenticationToken` (a token expiring mid-paging); on premium
//!   report routes of a licensed tenant also the intermittent 403
//!   `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
//!   (<https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/3033>).
//! - Exchange Online's admin API: 429 with `Retry-After` and the transport
//!   faults below; with a valid token also a body-less 401 whose
//!   `WWW-Authenticate` says the token expired (a token expiring mid-paging).
//! - Token endpoints and the Management Activity API: 503 (with and without
//!   `Retry-After`), 504, connection reset, truncated body.
//!
//! Guarantee: a request is never faulted twice in a row. The key is method +
//! path + query (not the token), so a retried request always gets through on
//! the next attempt. `Retry-After` values are simulated seconds (0.5 to 3,
//! some fractional) converted to real seconds with the time scale.
//!
//! Determinism: every request draws the same three numbers from a ChaCha8 RNG
//! seeded with `seed`, so a given seed and request order give the same faults.

use crate::fixture::Licence;
use crate::graph::ApiError;
use crate::reqlog::FaultTag;
use crate::shared::{Shared, EXCHANGE_RESOURCE, GRAPH_RESOURCE};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `--faults SEED --fault-rate P`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultConfig {
    pub seed: u64,
    /// Probability (0..=1) that a request is faulted.
    pub rate: f64,
}

/// One kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    TooManyRequests,
    Unavailable,
    UnavailableNoRetryAfter,
    GatewayTimeout,
    ConnectionReset,
    TruncatedBody,
    ExpiredToken,
    IntermittentPremium,
}

impl Fault {
    /// The name written in the request log.
    pub fn name(self) -> &'static str {
        match self {
            Fault::TooManyRequests => "429",
            Fault::Unavailable => "503",
            Fault::UnavailableNoRetryAfter => "503_no_retry_after",
            Fault::GatewayTimeout => "504",
            Fault::ConnectionReset => "connection_reset",
            Fault::TruncatedBody => "truncated_body",
            Fault::ExpiredToken => "401_expired_token",
            Fault::IntermittentPremium => "403_intermittent_premium",
        }
    }
}

/// `Retry-After` values, in simulated seconds.
const WAITS: [f64; 5] = [0.5, 1.0, 2.0, 2.128, 3.0];

/// The seeded decision: which request gets which fault.
struct Decider {
    rate: f64,
    rng: ChaCha8Rng,
    /// Keys whose last attempt was faulted: their next attempt is not.
    faulted: HashSet<String>,
}

impl Decider {
    fn new(config: FaultConfig) -> Self {
        Self {
            rate: config.rate,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            faulted: HashSet::new(),
        }
    }

    /// Picks the fault for the request `key` among `applicable`, if any, and
    /// its simulated `Retry-After`. Draws the same numbers whatever happens,
    /// so one request's outcome never shifts the next one's.
    fn decide(&mut self, key: &str, applicable: &[Fault]) -> Option<(Fault, Duration)> {
        let roll: f64 = self.rng.gen();
        let pick: u32 = self.rng.gen();
        let wait: u32 = self.rng.gen();
        if self.faulted.remove(key) || roll >= self.rate || applicable.is_empty() {
            return None;
        }
        self.faulted.insert(key.to_string());
        let fault = applicable[pick as usize % applicable.len()];
        Some((
            fault,
            Duration::from_secs_f64(WAITS[wait as usize % WAITS.len()]),
        ))
    }
}

/// The injector.
pub struct Faults {
    shared: Arc<Shared>,
    decider: Mutex<Decider>,
}

impl Faults {
    pub fn new(config: FaultConfig, shared: Arc<Shared>) -> Self {
        Self {
            shared,
            decider: Mutex::new(Decider::new(config)),
        }
    }

    /// The faults that fit this request.
    fn applicable(&self, req: &Request) -> Vec<Fault> {
        use Fault::*;
        let path = req.uri().path();
        let transport = [
            Unavailable,
            UnavailableNoRetryAfter,
            GatewayTimeout,
            ConnectionReset,
            TruncatedBody,
        ];
        if path.starts_with("/v1.0/") || path.starts_with("/beta/") {
            let mut out = vec![TooManyRequests];
            out.extend(transport);
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if self.shared.authorize(header, GRAPH_RESOURCE).is_some() {
                out.push(ExpiredToken);
                if self.shared.licence != Licence::Free && premium_route(req) {
                    out.push(IntermittentPremium);
                }
            }
            out
        } else if path.starts_with("/adminapi/") {
            let mut out = vec![TooManyRequests];
            out.extend(transport);
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if self.shared.authorize(header, EXCHANGE_RESOURCE).is_some() {
                out.push(ExpiredToken);
            }
            out
        } else if crate::shared::is_token_endpoint(path) || path.starts_with("/api/") {
            transport.to_vec()
        } else {
            Vec::new()
        }
    }
}

/// Report routes whose data needs P1/P2 (the intermittent 403 appears there).
fn premium_route(req: &Request) -> bool {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("").to_ascii_lowercase();
    path.contains("/auditLogs/signIns")
        || path.contains("/reports/authenticationMethods/userRegistrationDetails")
        || (path.contains("/users") && query.contains("signinactivity"))
}

/// The middleware.
pub async fn inject(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    let key = format!(
        "{} {}",
        req.method(),
        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("")
    );
    let applicable = faults.applicable(&req);
    let decision = faults
        .decider
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .decide(&key, &applicable);
    let Some((fault, wait)) = decision else {
        return next.run(req).await;
    };
    let real_wait = faults.shared.clock.to_real(wait);
    let exchange = req.uri().path().starts_with("/adminapi/");
    let mut response = match fault {
        Fault::TooManyRequests => ApiError::throttled(Some(real_wait)).into_response(),
        Fault::Unavailable | Fault::UnavailableNoRetryAfter => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. You may repeat the request after a delay.",
            );
            if fault == Fault::Unavailable {
                e.retry_after = Some(real_wait);
            }
            e.into_response()
        }
        Fault::GatewayTimeout => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "gatewayTimeout",
            "The gateway did not receive a timely response from the upstream service.",
        )
        .into_response(),
        Fault::ExpiredToken if exchange => expired_exchange_token(),
        Fault::ExpiredToken => {
            ApiError::unauthenticated("Lifetime validation failed, the token is expired.")
                .into_response()
        }
        Fault::IntermittentPremium => ApiError::premium_required().into_response(),
        Fault::ConnectionReset => reset(),
        Fault::TruncatedBody => truncate(next.run(req).await).await,
    };
    response.extensions_mut().insert(FaultTag(fault.name()));
    response
}

/// Exchange's answer to an expired token: no body, the reason in
/// `WWW-Authenticate` (shared/reference/exchange-rest.md §2.8).
fn expired_exchange_token() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", error=\"invalid_token\", error_description=\"The access token has expired\"",
        ),
    );
    response
}

fn reset_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "simulated connection reset",
    )
}

/// A response whose body fails at once: the server drops the connection
/// before anything is written (the client sees an empty reply / reset).
fn reset() -> Response {
    let stream = futures_util::stream::once(async { Err::<Bytes, _>(reset_error()) });
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The real response, announcing its full length but sending only half of
/// it before the connection drops.
async fn truncate(response: Response) -> Response {
    if response.extensions().get::<ApiError>().is_some() {
        // Error bodies are rendered later, by the outermost layer.
        return reset();
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset();
    };
    if bytes.len() < 2 {
        return reset();
    }
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    // The pause lets the server flush the first half before the drop;
    // without it the connection is aborted with nothing written.
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(half) })
        .chain(futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(reset_error())
        }));
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: [Fault; 2] = [Fault::TooManyRequests, Fault::GatewayTimeout];

    #[test]
    fn never_faults_the_same_request_twice_in_a_row() {
        let mut d = Decider::new(FaultConfig { seed: 1, rate: 1.0 });
        let hits: Vec<bool> = (0..6).map(|_| d.decide("GET /x", &TWO).is_some()).collect();
        assert_eq!(hits, vec![true, false, true, false, true, false]);
    }

    #[test]
    fn same_seed_same_faults() {
        let sequence = |seed| {
            let mut d = Decider::new(FaultConfig { seed, rate: 0.5 });
            (0..50)
                .map(|i| d.decide(&format!("GET /{i}"), &TWO).map(|(f, _)| f))
                .collect::<Vec<_>>()
        };
        assert_eq!(sequence(7), sequence(7));
        assert_ne!(sequence(7), sequence(8));
        assert!(sequence(7).iter().any(Option::is_some) && sequence(7).iter().any(Option::is_none));
    }
}
