//! Progress: indicatif bars on a terminal; plain log lines when stderr is not
//! a terminal; nothing with --quiet. The one progress abstraction of the tool:
//! [`ByteProgress`] for sealing, [`SourceBars`] for collection.

use indicatif::{ProgressBar, ProgressStyle};
use m365_preserve_collect::Observer;
use m365_preserve_package::evidence::SourceSummary;
use m365_preserve_package::seal::SealProgress;
use m365_preserve_sources::Source;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bytes of a long job: a bar, or a log line at every 10 %.
pub struct ByteProgress {
    bar: Mutex<Option<ProgressBar>>,
    total: AtomicU64,
    done: AtomicU64,
    label: String,
    quiet: bool,
}

impl ByteProgress {
    /// A progress display whose total is known when the job begins.
    pub fn new(label: &str, quiet: bool) -> Self {
        Self {
            bar: Mutex::new(None),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            label: label.to_string(),
            quiet,
        }
    }

    fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        let bar = (!self.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(self.label.clone());
            bar
        });
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = bar;
    }
}

impl SealProgress for ByteProgress {
    fn begin(&self, bytes: u64) {
        self.start(bytes);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.inc(n);
            return;
        }
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        if self.quiet || total == 0 {
            return;
        }
        let (a, b) = (before * 10 / total, (before + n) * 10 / total);
        if b > a && b < 10 {
            tracing::info!(
                "{}: {}% ({} of {} bytes)",
                self.label,
                b * 10,
                before + n,
                total
            );
        }
    }

    fn end(&self) {
        if let Some(bar) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.finish_and_clear();
        }
    }
}

/// One bar per source (records, pages, rate) on a terminal; a plain log line
/// when each source starts and ends otherwise; nothing with --quiet.
pub struct SourceBars {
    multi: Option<indicatif::MultiProgress>,
    bars: Mutex<std::collections::HashMap<String, (ProgressBar, u64)>>,
    quiet: bool,
    /// The work folder, once it holds what `--resume` continues from.
    resumable: Mutex<Option<std::path::PathBuf>>,
}

impl SourceBars {
    pub fn new(quiet: bool) -> Self {
        let multi = (!quiet && std::io::stderr().is_terminal()).then(indicatif::MultiProgress::new);
        Self {
            multi,
            bars: Default::default(),
            quiet,
            resumable: Mutex::default(),
        }
    }

    fn with_bar(&self, source: &str, f: impl FnOnce(&ProgressBar, &mut u64)) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, pages)) = bars.get_mut(source) {
            f(bar, pages);
        }
    }
}

impl SourceBars {
    /// Takes the bars off the terminal (the run stopped).
    pub fn clear(&self) {
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }

    /// The work folder a `--resume` continues from, if the run got that far.
    pub fn resumable_workdir(&self) -> Option<std::path::PathBuf> {
        self.resumable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Observer for SourceBars {
    fn resumable(&self, workdir: &std::path::Path) {
        *self.resumable.lock().unwrap_or_else(|e| e.into_inner()) = Some(workdir.to_path_buf());
    }

    fn started(&self, source: Source, queries: usize) {
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

    fn records(&self, source: Source, pages: u64, records: u64) {
        self.with_bar(source.as_str(), |bar, p| {
            *p += pages;
            bar.set_message(format!("{p:>5} pages"));
            bar.inc(records);
        });
    }

    fn finished(&self, s: &SourceSummary) {
        let status = format!("{:?}", s.status).to_lowercase();
        self.with_bar(&s.source, |bar, _| {
            bar.finish_with_message(status.clone());
        });
        if self.multi.is_none() && !self.quiet {
            tracing::info!("{}: {status}, {} records", s.source, s.records);
        }
    }
}
