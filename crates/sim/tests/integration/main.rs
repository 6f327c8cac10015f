//! The simulated tenant's own tests: its Graph routes, token endpoint and
//! Management Activity API over loopback, and its built-in scenario.

mod csdl;
mod scenario;
mod sim_auth;
mod sim_graph;

/// The seconds a response's `Retry-After` asks to wait (the simulator sends
/// decimal seconds), or `default` when it sends none.
fn retry_after(headers: &reqwest::header::HeaderMap, default: f64) -> f64 {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(default)
}
