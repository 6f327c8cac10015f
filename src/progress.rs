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

/// One bar per source (records, pages, rate) on a terminal; a plain log line
/// when each source starts and ends otherwise; nothing with --quiet.
pub struct SourceBars {
    multi: Option<indicatif::MultiProgress>,
    bars: std::sync::Mutex<std::collections::HashMap<String, (ProgressBar, u64)>>,
    quiet: bool,
}

impl SourceBars {
    pub fn new(quiet: bool) -> Self {
        let multi = (!quiet && std::io::stderr().is_terminal()).then(indicatif::MultiProgress::new);
        Self {
            multi,
            bars: Default::default(),
            quiet,
        }
    }

    fn with_bar(&self, source: &str, f: impl FnOnce(&ProgressBar, &mut u64)) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, pages)) = bars.get_mut(source) {
            f(bar, pages);
        }
    }
}

impl m365_preserve::collect::Observer for SourceBars {
    fn started(&self, source: &str, queries: usize) {
        match &self.multi {
            Some(multi) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:32} {pos:>8} records {msg} {per_sec} {elapsed}",
                    )
                    .expect("valid template"),
                );
                bar.set_prefix(source.to_string());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
                bars.insert(source.to_string(), (bar, 0));
            }
            None if !self.quiet => tracing::info!("{source}: started ({queries} queries)"),
            None => {}
        }
    }

    fn records(&self, source: &str, pages: u64, records: u64) {
        self.with_bar(source, |bar, p| {
            *p += pages;
            bar.set_message(format!("{p:>5} pages"));
            bar.inc(records);
        });
    }

    fn finished(&self, s: &m365_preserve::evidence::SourceSummary) {
        let status = format!("{:?}", s.status).to_lowercase();
        self.with_bar(&s.source, |bar, _| {
            bar.finish_with_message(status.clone());
        });
        if self.multi.is_none() && !self.quiet {
            tracing::info!("{}: {status}, {} records", s.source, s.records);
        }
    }
}
