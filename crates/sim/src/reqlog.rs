//! The outermost layer of the simulator: identifies every request, renders
//! Graph error bodies, stamps the response headers Graph always sends
//! (`request-id`, `client-request-id`, `Date`), counts read-only violations and
//! writes the request log.
//!
//! Request log format (JSON Lines, one object per request, appended as each
//! response head is sent):
//!
//! ```json
//! {"time":"2026-11-25T06:15:00.123Z","sim_time":"2026-11-25T06:15:00.123Z","method":"GET",
//!  "path":"/beta/auditLogs/signIns?$top=5","status":200,"duration_ms":1.234,
//!  "request_id":"...","client_request_id":"...","fault":null,"read_only_violation":false}
//! ```
//!
//! `time` is the real UTC time, `sim_time` the simulated present, `fault` the
//! name of the injected fault (see [`crate::faults::Fault::name`]) or null.

use crate::graph::ApiError;
use crate::shared::Shared;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{SecondsFormat, Utc};
use serde_json::json;
use std::fs::File;
use std::io::{LineWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The identifiers of one request, available to every handler as a request
/// extension (for routers that build their own error bodies).
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

/// Response marker: the read-only guard refused this request.
#[derive(Debug, Clone, Copy)]
pub struct Violation;

/// Response marker: this fault was injected.
#[derive(Debug, Clone, Copy)]
pub struct FaultTag(pub &'static str);

/// The request log and its counters.
pub struct RequestLog {
    shared: Arc<Shared>,
    file: Option<Mutex<LineWriter<File>>>,
    violations: AtomicU64,
    requests: AtomicU64,
}

impl RequestLog {
    /// Opens (creates or appends to) the JSONL file, if one is wanted.
    pub fn new(shared: Arc<Shared>, path: Option<&Path>) -> Result<Self, crate::SimError> {
        let file = match path {
            Some(p) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| crate::SimError::RequestLog {
                        path: p.to_path_buf(),
                        source,
                    })?;
                Some(Mutex::new(LineWriter::new(f)))
            }
            None => None,
        };
        Ok(Self {
            shared,
            file,
            violations: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests refused by the read-only guard so far.
    pub fn violations(&self) -> u64 {
        self.violations.load(Ordering::SeqCst)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn write(&self, line: &serde_json::Value) {
        if let Some(file) = &self.file {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{line}") {
                tracing::warn!("request log write failed: {e}");
            }
        }
    }
}

/// Graph's `Date` header format (IMF-fixdate).
fn http_date(t: chrono::DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The middleware.
pub async fn record(State(log): State<Arc<RequestLog>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    req.extensions_mut().insert(RequestIds {
        request_id: request_id.clone(),
        client_request_id: client_request_id.clone(),
    });

    let mut response = next.run(req).await;

    let sim_now = log.shared.clock.now();
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let extensions = std::mem::take(response.extensions_mut());
        let date = sim_now.format("%Y-%m-%dT%H:%M:%S").to_string();
        response = error.render(&request_id, &client_request_id, &date);
        *response.extensions_mut() = extensions;
    }
    let headers = response.headers_mut();
    for (name, value) in [
        ("request-id", request_id.as_str()),
        ("client-request-id", client_request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(sim_now)) {
        headers.insert(axum::http::header::DATE, v);
    }

    let fault = response.extensions().get::<FaultTag>().map(|f| f.0);
    let violation = response.extensions().get::<Violation>().is_some();
    if violation {
        log.violations.fetch_add(1, Ordering::SeqCst);
    }
    log.requests.fetch_add(1, Ordering::SeqCst);
    let duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    log.write(&json!({
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "sim_time": sim_now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "method": method,
        "path": target,
        "status": response.status().as_u16(),
        "duration_ms": duration_ms,
        "request_id": request_id,
        "client_request_id": client_request_id,
        "fault": fault,
        "read_only_violation": violation,
    }));
    response
}
