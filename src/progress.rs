//! Progress: an indicatif bar on a terminal; plain log lines at every 10% when
//! stderr is not a terminal; nothing with --quiet.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct ByteProgress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    label: String,
    quiet: bool,
}

impl ByteProgress {
    pub fn new(label: &str, total: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Self {
            bar,
            total,
            done: AtomicU64::new(0),
            label: label.to_string(),
            quiet,
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        if self.quiet || self.total == 0 {
            return;
        }
        let (a, b) = (before * 10 / self.total, (before + n) * 10 / self.total);
        if b > a && b < 10 {
            tracing::info!(
                "{}: {}% ({} of {} bytes)",
                self.label,
                b * 10,
                before + n,
                self.total
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
