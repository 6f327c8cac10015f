//! Why the simulator cannot start.

use crate::fixture::FixtureError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the time scale must be a positive number, not {0}")]
    TimeScale(f64),
    #[error("the fault rate must be between 0 and 1, not {0}")]
    FaultRate(f64),
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    #[error("fixture {file}: anchor {value:?} is not an RFC 3339 time")]
    Anchor { file: PathBuf, value: String },
    #[error("fixture {file}: cannot be re-read after moving its times: {message}")]
    Shift { file: PathBuf, message: String },
    #[error("cannot listen on 127.0.0.1:{port}: {source} (is the port in use? --port 0 picks a free one)")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the request log {path}: {source}")]
    RequestLog {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
