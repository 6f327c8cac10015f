//! Starting and stopping the simulated tenant.
//!
//! [`start`] loads the fixture, moves it to the simulated present, applies the
//! licence's log retention, and serves on `127.0.0.1` the Graph routes plus the
//! token endpoint and the Management Activity API ([`super::auth`],
//! [`super::management`]), all behind the same layers, outermost first:
//!
//! 1. [`reqlog::record`]: request ids, `Date`, Graph error bodies, request log;
//! 2. `read_only_guard`: anything but GET is 405 and a read-only violation,
//!    except the token / device-code POSTs, the audit-log query POST and
//!    Exchange's InvokeCommand (whose route refuses any cmdlet but a `Get-`);
//! 3. [`faults::inject`] (when configured);
//! 4. [`outage::inject`]: paths that are down (`--outage`) or in a throttling storm.

use super::faults::{self, FaultConfig, Faults};
use super::fixture::{self, Fixture, Licence};
use super::graph::{self, ApiError, AuditQuirks, GraphSettings};
use super::outage::{self, Outages, Storm};
use super::reqlog::{self, RequestLog, Violation};
use super::shared::is_token_endpoint;
use super::shared::{RecordSource, Shared, SimClock, VecSource, GRAPH_RESOURCE};
use super::token::{Claims, TokenStore};
pub use crate::settings::{OldFilters, Profile};
use crate::SimError;
use axum::extract::Request;
use axum::http::header::ALLOW;
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where the tenant's data comes from.
// A `Fixture` is large, but a config is built once per server: boxing it
// would only make callers' code noisier.
#[allow(clippy::large_enum_variant)]
pub enum FixtureSource {
    /// A fixture folder (see [`fixture`]).
    Dir(PathBuf),
    /// A fixture already in memory (tests, generated scenarios).
    Loaded(Fixture),
}

/// Everything `sim` can be told.
pub struct SimConfig {
    pub fixture: FixtureSource,
    /// Sign-ins to serve instead of the fixture's (e.g. a generated million).
    /// They are served as given: not time-shifted, not trimmed to retention.
    pub signins: Option<Box<dyn RecordSource>>,
    pub profile: Profile,
    /// Simulated seconds per real second (> 0).
    pub time_scale: f64,
    pub faults: Option<FaultConfig>,
    /// Overrides the fixture's licence.
    pub licence: Option<Licence>,
    /// Request log (JSON Lines), appended to.
    pub log: Option<PathBuf>,
    /// The simulated present at start; default: now.
    pub now: Option<DateTime<Utc>>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub old_filters: OldFilters,
    /// Records one Purview audit-log query may return.
    pub audit_record_limit: usize,
    /// Serve alerts_v2's user-evidence filter (false: 400).
    pub alert_evidence_filter: bool,
    /// The audit-log query API's reported quirks.
    pub audit: AuditQuirks,
    /// Graph path prefixes that answer 503 until lifted ([`SimHandle::lift_outages`]).
    pub outages: Vec<String>,
    /// Throttling storms: Graph paths whose next requests answer 429.
    pub storms: Vec<Storm>,
    /// InvokeCommand requests the tenant's Exchange admits per 10 simulated
    /// seconds (default 10, the collector's own budget). Lower, it stands for
    /// other administrators' sessions using the tenant's share: the collector
    /// then meets 429s with `Retry-After`.
    pub exchange_window: usize,
}

impl SimConfig {
    /// Defaults: Fast profile, real time, no faults, fixture licence, no log,
    /// now, any free port, old filters answered with what is retained.
    pub fn new(fixture: FixtureSource) -> Self {
        Self {
            fixture,
            signins: None,
            profile: Profile::Fast,
            time_scale: 1.0,
            faults: None,
            licence: None,
            log: None,
            now: None,
            port: 0,
            old_filters: OldFilters::Empty,
            audit_record_limit: 1_000_000,
            alert_evidence_filter: true,
            audit: AuditQuirks::default(),
            outages: Vec::new(),
            storms: Vec::new(),
            exchange_window: 10,
        }
    }
}

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    log: Arc<RequestLog>,
    outages: Arc<Outages>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: the Graph, login and manage base URL alike.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The tenant state (fixture, licence, tokens, clock).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Requests refused by the read-only guard so far.
    pub fn violations(&self) -> u64 {
        self.log.violations()
    }

    /// Ends every outage: the paths that were down answer again.
    pub fn lift_outages(&self) {
        self.outages.lift();
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.log.requests()
    }

    /// Issues a Graph token for `app_id` with application permissions `roles`,
    /// valid for an hour of simulated time (for tests that skip the token
    /// endpoint).
    pub fn issue_token(&self, app_id: &str, roles: &[&str]) -> String {
        let now = self.shared.clock.now().timestamp();
        self.shared.tokens.issue(Claims {
            tid: self.shared.tenant_id().to_string(),
            appid: app_id.to_string(),
            aud: GRAPH_RESOURCE.to_string(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            scp: None,
            exp: now + 3599,
            iat: now,
        })
    }

    /// Stops accepting requests and waits (up to 5 s) for those in flight.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Starts the simulator.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
        return Err(SimError::TimeScale(config.time_scale));
    }
    if let Some(f) = config.faults {
        if !(0.0..=1.0).contains(&f.rate) {
            return Err(SimError::FaultRate(f.rate));
        }
    }
    let now = config.now.unwrap_or_else(Utc::now);
    let mut fixture = match config.fixture {
        FixtureSource::Dir(dir) => Fixture::load(&dir)?,
        FixtureSource::Loaded(f) => f,
    };
    let licence = config.licence.unwrap_or(fixture.tenant.licence);
    prepare(&mut fixture, now, licence)?;
    let signins = match config.signins {
        Some(source) => source,
        None => Box::new(VecSource::sorted_desc(
            fixture.signins.clone(),
            "createdDateTime",
        )),
    };
    let shared = Arc::new(Shared {
        fixture: Arc::new(fixture),
        signins,
        licence,
        tokens: TokenStore::default(),
        clock: SimClock::new(now, config.time_scale),
    });
    let log = Arc::new(RequestLog::new(shared.clone(), config.log.as_deref())?);
    let listen = |source| SimError::Listen {
        port: config.port,
        source,
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    let settings = GraphSettings {
        profile: config.profile,
        old_filters: config.old_filters,
        audit_record_limit: config.audit_record_limit,
        alert_evidence_filter: config.alert_evidence_filter,
        audit: config.audit,
    };
    let faults = config
        .faults
        .map(|f| Arc::new(Faults::new(f, shared.clone())));
    let outages = Arc::new(Outages::new(config.outages, config.storms));
    let app = app(
        shared.clone(),
        settings,
        config.exchange_window,
        log.clone(),
        faults,
        outages.clone(),
    );
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(SimHandle {
        addr,
        shared,
        log,
        outages,
        shutdown: tx,
        task,
    })
}

/// Every router, behind the common layers.
fn app(
    shared: Arc<Shared>,
    settings: GraphSettings,
    exchange_window: usize,
    log: Arc<RequestLog>,
    faults: Option<Arc<Faults>>,
    outages: Arc<Outages>,
) -> Router {
    let mut app = graph::router(shared.clone(), settings)
        .merge(super::auth::router(shared.clone()))
        .merge(super::exchange::router(
            shared.clone(),
            settings.profile,
            exchange_window,
        ))
        .merge(super::management::router(shared))
        .fallback(graph::fallback);
    if let Some(faults) = faults {
        app = app.layer(from_fn_with_state(faults, faults::inject));
    }
    app = app.layer(from_fn_with_state(outages, outage::inject));
    app.layer(from_fn(read_only_guard))
        .layer(from_fn_with_state(log, reqlog::record))
}

/// Moves every fixture time by (now - anchor), drops sign-ins and directory
/// audits older than the licence keeps, and sorts the logs newest first.
fn prepare(fixture: &mut Fixture, now: DateTime<Utc>, licence: Licence) -> Result<(), SimError> {
    let tenant_file = fixture.dir.join("tenant.json");
    let anchor = m365_preserve_package::timefmt::parse_iso_datetime(&fixture.tenant.anchor)
        .ok_or_else(|| SimError::Anchor {
            file: tenant_file.clone(),
            value: fixture.tenant.anchor.clone(),
        })?
        .utc;
    let delta = now - anchor;
    let reread = |e: serde_json::Error| SimError::Shift {
        file: tenant_file.clone(),
        message: e.to_string(),
    };
    let mut tenant = serde_json::to_value(&fixture.tenant).map_err(reread)?;
    fixture::shift_times(&mut tenant, delta);
    fixture.tenant = serde_json::from_value(tenant).map_err(reread)?;
    for records in [
        &mut fixture.signins,
        &mut fixture.directory_audits,
        &mut fixture.audit_records,
    ] {
        records
            .iter_mut()
            .for_each(|r| fixture::shift_times(r, delta));
    }
    let oldest = now - chrono::Duration::days(licence.retention_days());
    let retained =
        |field: &'static str| move |r: &Value| time_of(r, field).is_none_or(|t| t >= oldest);
    fixture.signins.retain(retained("createdDateTime"));
    fixture
        .directory_audits
        .retain(retained("activityDateTime"));
    sort_newest_first(&mut fixture.directory_audits, "activityDateTime");
    sort_newest_first(&mut fixture.audit_records, "createdDateTime");
    Ok(())
}

fn time_of(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
        .map(|t| t.utc)
}

fn sort_newest_first(records: &mut [Value], field: &str) {
    records.sort_by_key(|r| std::cmp::Reverse(time_of(r, field)));
}

/// The only non-GET requests a read-only collector may send. Exchange's
/// InvokeCommand is one; the cmdlet inside it is checked by its route.
fn is_allowed_write(method: &Method, path: &str) -> bool {
    method == Method::POST
        && (is_token_endpoint(path)
            || path == "/v1.0/security/auditLog/queries"
            || path == "/beta/security/auditLog/queries"
            || is_invoke_command(path))
}

/// `/adminapi/beta/{tenant}/InvokeCommand`.
fn is_invoke_command(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    matches!(segments.as_slice(), ["", "adminapi", "beta", tenant, "InvokeCommand"] if !tenant.is_empty())
}

/// Answers every other method with 405 and marks it a read-only violation.
async fn read_only_guard(req: Request, next: Next) -> Response {
    if req.method() == Method::GET || is_allowed_write(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The simulated tenant is read-only: {} {} is not allowed (only GET, the token requests and the audit-log query POST are).",
            req.method(),
            req.uri().path()
        ),
    )
    .with_header(ALLOW, "GET");
    let mut response = error.into_response();
    response.extensions_mut().insert(Violation);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_posts_are_allowed() {
        let post = Method::POST;
        assert!(is_allowed_write(
            &post,
            "/contoso.onmicrosoft.com/oauth2/v2.0/token"
        ));
        assert!(is_allowed_write(
            &post,
            "/organizations/oauth2/v2.0/devicecode"
        ));
        assert!(is_allowed_write(&post, "/beta/security/auditLog/queries"));
        assert!(is_allowed_write(&post, "/adminapi/beta/t/InvokeCommand"));
        assert!(!is_allowed_write(&post, "/adminapi/beta//InvokeCommand"));
        assert!(!is_allowed_write(&post, "/adminapi/v1.0/t/EXOModuleFile"));
        assert!(!is_allowed_write(
            &post,
            "/v1.0/security/auditLog/queries/x"
        ));
        assert!(!is_allowed_write(&post, "//oauth2/v2.0/token"));
        assert!(!is_allowed_write(&post, "/t/oauth2/v2.0/token/"));
        assert!(!is_allowed_write(
            &post,
            "/api/v1.0/t/activity/feed/subscriptions/start"
        ));
        assert!(!is_allowed_write(
            &Method::PATCH,
            "/v1.0/security/auditLog/queries"
        ));
    }
}
