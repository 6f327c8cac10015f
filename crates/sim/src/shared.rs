//! What every part of the simulator shares: the fixture, the licence, issued
//! tokens and the simulated clock.

use super::fixture::{Fixture, Licence};
use super::token::TokenStore;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Resource identifiers (token audiences) of the services the simulator plays.
/// Clients ask for `<resource>/.default` whatever URL they were pointed at.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
pub const MANAGE_RESOURCE: &str = "https://manage.office.com";
/// Office 365 Exchange Online, whose app-only scope is `https://outlook.office365.com/.default`
/// (<https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2>).
pub const EXCHANGE_RESOURCE: &str = "https://outlook.office365.com";

/// Simulated time: starts at `start` and runs `scale` times faster than real time,
/// so throttle windows, latencies, token lifetimes and query durations shrink in
/// tests. Every `Retry-After` the simulator sends is in real seconds.
#[derive(Debug, Clone)]
pub struct SimClock {
    start: DateTime<Utc>,
    real_start: Instant,
    scale: f64,
}

impl SimClock {
    pub fn new(start: DateTime<Utc>, scale: f64) -> Self {
        Self {
            start,
            real_start: Instant::now(),
            scale: if scale > 0.0 { scale } else { 1.0 },
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The simulated present.
    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = self.real_start.elapsed().as_secs_f64() * self.scale;
        self.start + chrono::Duration::microseconds((elapsed * 1e6) as i64)
    }

    /// Real time that corresponds to `simulated` time.
    pub fn to_real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// Sleeps for `simulated` time.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.to_real(simulated)).await
    }
}

/// A read-only, ordered collection of records (newest first), either held in
/// memory or generated on the fly (the `large` profile).
pub trait RecordSource: Send + Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Record `i` (0 = newest).
    fn get(&self, i: usize) -> Cow<'_, Value>;
}

/// Records held in memory, sorted newest first by `time_field` at construction.
pub struct VecSource(Vec<Value>);

impl VecSource {
    pub fn sorted_desc(mut records: Vec<Value>, time_field: &str) -> Self {
        let key = |v: &Value| {
            v.get(time_field)
                .and_then(Value::as_str)
                .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
                .map(|t| t.utc)
        };
        records.sort_by_key(|v| std::cmp::Reverse(key(v)));
        Self(records)
    }
}

impl RecordSource for VecSource {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Cow<'_, Value> {
        Cow::Borrowed(&self.0[i])
    }
}

/// State shared by all routers.
pub struct Shared {
    /// The fixture, its times already shifted to the simulated present.
    pub fixture: Arc<Fixture>,
    /// Sign-ins newest first (the fixture's, or generated for `large`).
    pub signins: Box<dyn RecordSource>,
    pub licence: Licence,
    pub tokens: TokenStore,
    pub clock: SimClock,
}

impl Shared {
    /// The tenant id every token and URL must carry.
    pub fn tenant_id(&self) -> &str {
        &self.fixture.tenant.tenant_id
    }

    /// Looks up the bearer token of a request and checks its audience.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        audience: &str,
    ) -> Option<super::token::Claims> {
        let token = authorization?.strip_prefix("Bearer ")?;
        let claims = self.tokens.lookup(token)?;
        (claims.aud == audience && claims.exp > self.clock.now().timestamp()).then_some(claims)
    }
}

/// The scheme and authority a client used to reach the simulator, e.g.
/// `http://127.0.0.1:8080`, taken from the `Host` header (or the HTTP/2
/// authority). Absolute URLs the simulator hands out (next-page links, content
/// URIs) and the client-assertion audiences it accepts are built on it, so they
/// point back at whatever address the client was configured with. The simulator
/// serves plain HTTP on loopback, hence the fixed scheme. `None` when the
/// request names no valid authority.
pub fn request_base(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    let authority = match headers.get(axum::http::header::HOST) {
        Some(host) => host
            .to_str()
            .ok()?
            .parse::<axum::http::uri::Authority>()
            .ok()?,
        None => uri.authority()?.clone(),
    };
    // A Host header never carries user info; one that does is not an address.
    (!authority.as_str().contains('@')).then(|| format!("http://{authority}"))
}

/// `/{tenant}/oauth2/v2.0/token` or `/{tenant}/oauth2/v2.0/devicecode`.
pub fn is_token_endpoint(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    matches!(
        segments.as_slice(),
        ["", tenant, "oauth2", "v2.0", "token" | "devicecode"] if !tenant.is_empty()
    )
}
