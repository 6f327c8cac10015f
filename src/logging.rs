//! The run log: plain lines on stderr (unless --quiet) and a copy kept in memory
//! for the package's `collection.log`.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use tracing_subscriber::{
    filter::LevelFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt, Layer,
};

/// A handle on the in-memory copy of the log.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn snapshot(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the global subscriber.
pub fn init(quiet: bool, verbose: u8) -> LogCapture {
    let capture = LogCapture::default();
    let console_level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::INFO,
        (false, 1) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let buf = capture.0.clone();
    let kept = fmt::layer()
        .with_ansi(false)
        .with_target(false)
        .with_writer(move || CaptureWriter(buf.clone()))
        .with_filter(LevelFilter::INFO);
    let console = fmt::layer()
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .with_writer(io::stderr)
        .with_filter(console_level);
    tracing_subscriber::registry()
        .with(kept)
        .with(console)
        .init();
    capture
}
