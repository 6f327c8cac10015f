//! Evidence sinks for imported records: one [`EvidenceWriter`] per source,
//! de-duplication by content ([`Dedup`]: same id and value-equal) across every
//! file and what the collector already wrote, and per-file counts for the manifest.
//!
//! Records the collector already wrote for a source are carried over first, so
//! `collect --import` ends with one file per source.

use super::error::{io_at, ImportError};
use m365_preserve_package::dedup::{Dedup, Seen};
use m365_preserve_package::evidence::{
    write_summary, EvidenceError, EvidenceWriter, FileDigest, SourceStatus, SourceSummary,
};
use m365_preserve_package::hashing::HashingWriter;
use m365_preserve_package::layout;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};

/// File index of records carried over from the collector's evidence.
const EXISTING: u32 = u32::MAX;

/// Counts of one file's records in one source.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contribution {
    pub written: u64,
    pub duplicates: u64,
    /// Written although an earlier, different record had their id.
    pub id_conflicts: u64,
}

struct Sink {
    writer: EvidenceWriter,
    /// Records written so far (carried ones included): the next record's position.
    written: u64,
    /// `evidence/<source>.origins.jsonl`: each imported record's file and line.
    origins: Option<HashingWriter<BufWriter<fs::File>>>,
    seen: Dedup,
    from_api: Option<SourceSummary>,
    carried: u64,
    files: BTreeMap<u32, Contribution>,
}

/// Every source written by one import.
pub struct Sinks {
    workdir: WorkDir,
    sinks: BTreeMap<Source, Sink>,
    /// Where each file (by index) is stored in the package, as JSON strings.
    stored_json: Vec<String>,
}

/// The key records are de-duplicated by: their `id`, else (Get-Mailbox) the
/// mailbox's identity; `None`: no id, compared by content instead.
fn record_key(source: Source, record: &Value) -> Option<Cow<'_, str>> {
    match record.get("id") {
        Some(Value::String(s)) if !s.is_empty() => return Some(Cow::Borrowed(s)),
        Some(Value::Number(n)) => return Some(Cow::Owned(n.to_string())),
        _ => {}
    }
    if source == Source::MailboxSettings {
        return record
            .as_object()
            .and_then(super::exchange::mailbox_key)
            .map(Cow::Owned);
    }
    None
}

impl Sinks {
    pub fn new(workdir: &WorkDir, stored: Vec<String>) -> Self {
        Self {
            workdir: workdir.clone(),
            sinks: BTreeMap::new(),
            stored_json: stored
                .iter()
                .map(|s| Value::String(s.clone()).to_string())
                .collect(),
        }
    }

    /// Makes sure `source` has a writer (an import with no rows still yields a source).
    pub fn ensure(&mut self, source: Source) -> Result<(), ImportError> {
        if !self.sinks.contains_key(&source) {
            let sink = self.open(source)?;
            self.sinks.insert(source, sink);
        }
        Ok(())
    }

    fn open(&self, source: Source) -> Result<Sink, ImportError> {
        let name = source.as_str();
        let existing = self.workdir.evidence_json(name);
        let summary_path = self.workdir.summary(name);
        let mut carried_from = None;
        let mut from_api = None;
        if existing.exists() {
            let moved = self.workdir.import_aside(name);
            let dir = moved.parent().expect("in the state folder");
            fs::create_dir_all(dir).map_err(io_at(dir))?;
            fs::rename(&existing, &moved).map_err(io_at(&existing))?;
            let csv = self.workdir.evidence_csv(name);
            if csv.exists() {
                fs::remove_file(&csv).map_err(io_at(&csv))?;
            }
            if let Ok(text) = fs::read(&summary_path) {
                from_api = serde_json::from_slice::<SourceSummary>(&text).ok();
            }
            carried_from = Some(moved);
        }
        let mut sink = Sink {
            writer: EvidenceWriter::create(&self.workdir, name)?,
            written: 0,
            origins: None,
            seen: Dedup::new(),
            from_api,
            carried: 0,
            files: BTreeMap::new(),
        };
        if let Some(moved) = carried_from {
            let file = fs::File::open(&moved).map_err(io_at(&moved))?;
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(io_at(&moved))?;
                let body = line.strip_suffix(',').unwrap_or(&line);
                if body == "[" || body == "]" || body.is_empty() {
                    continue;
                }
                let record: Value = serde_json::from_str(body).map_err(|e| {
                    ImportError::Evidence(EvidenceError::Corrupt {
                        path: existing.clone(),
                        line: n as u64 + 1,
                        reason: e.to_string(),
                    })
                })?;
                sink.seen
                    .check(record_key(source, &record).as_deref(), &record, EXISTING);
                sink.writer.write(&record)?;
                sink.written += 1;
                sink.carried += 1;
            }
            fs::remove_file(&moved).map_err(io_at(&moved))?;
        }
        Ok(sink)
    }

    /// Writes `record` to `source` unless it is value-equal to an earlier
    /// record with its id. Returns whether it was written.
    pub fn put(
        &mut self,
        source: Source,
        file: u32,
        line: u64,
        record: &Value,
    ) -> Result<bool, ImportError> {
        self.ensure(source)?;
        let sink = self.sinks.get_mut(&source).expect("ensured");
        let seen = sink
            .seen
            .check(record_key(source, record).as_deref(), record, file);
        let fresh = seen != Seen::Duplicate;
        let c = sink.files.entry(file).or_default();
        if seen == Seen::IdConflict {
            c.id_conflicts += 1;
        }
        if fresh {
            c.written += 1;
            sink.writer.write(record)?;
            let path = || {
                self.workdir
                    .path(&layout::evidence_origins(source.as_str()))
            };
            let origins = match &mut sink.origins {
                Some(o) => o,
                None => {
                    let path = path();
                    let f = fs::File::create_new(&path).map_err(io_at(&path))?;
                    sink.origins
                        .insert(HashingWriter::new(BufWriter::with_capacity(256 * 1024, f)))
                }
            };
            // {"record":N,"file":"...","line":N}, the file name as a JSON string.
            let stored = self
                .stored_json
                .get(file as usize)
                .map_or("\"\"", String::as_str);
            writeln!(
                origins,
                "{{\"record\":{},\"file\":{stored},\"line\":{line}}}",
                sink.written
            )
            .map_err(|e| io_at(&path())(e))?;
            sink.written += 1;
        } else {
            c.duplicates += 1;
        }
        Ok(fresh)
    }

    /// Per-file counts of `source`.
    pub fn contributions(&self, source: Source) -> Option<&BTreeMap<u32, Contribution>> {
        self.sinks.get(&source).map(|s| &s.files)
    }

    pub fn sources(&self) -> Vec<Source> {
        self.sinks.keys().copied().collect()
    }

    /// Closes every source. `details` gives, per source, what the import adds to
    /// its summary; `partial` the reason a source lost rows.
    pub fn finish(
        self,
        mut details: BTreeMap<Source, Map<String, Value>>,
        partial: &BTreeMap<Source, String>,
    ) -> Result<Vec<SourceSummary>, ImportError> {
        let mut out = Vec::new();
        for (source, sink) in self.sinks {
            let mut d = details.remove(&source).unwrap_or_default();
            let dups: u64 = sink.files.values().map(|c| c.duplicates).sum();
            d.insert("duplicates_dropped".into(), json!(dups));
            let mut writer = sink.writer;
            writer.set_id_conflicts(sink.seen.conflicts());
            if let Some(api) = &sink.from_api {
                d.insert(
                    "records_carried_from_collection".into(),
                    json!(sink.carried),
                );
                let mut facts = Map::new();
                facts.insert(
                    "status".into(),
                    serde_json::to_value(api.status).expect("status"),
                );
                if let Some(r) = &api.reason {
                    facts.insert("reason".into(), json!(r));
                }
                facts.insert("records".into(), json!(api.records));
                if !api.details.is_empty() {
                    facts.insert("details".into(), Value::Object(api.details.clone()));
                }
                d.insert("collection".into(), Value::Object(facts));
            }
            let (status, reason) = match partial.get(&source) {
                Some(why) => (SourceStatus::Partial, Some(why.clone())),
                None => (SourceStatus::Complete, None),
            };
            let mut summary = writer.finish(status, reason, d)?;
            if let Some(origins) = sink.origins {
                let path = self
                    .workdir
                    .path(&layout::evidence_origins(source.as_str()));
                let (buf, size, sha256) = origins.finish();
                let file = buf.into_inner().map_err(|e| io_at(&path)(e.into_error()))?;
                file.sync_all().map_err(io_at(&path))?;
                summary.files.push(FileDigest {
                    path: layout::evidence_origins(source.as_str()),
                    size,
                    sha256,
                });
                write_summary(&self.workdir, &summary)?;
            }
            out.push(summary);
        }
        Ok(out)
    }
}
