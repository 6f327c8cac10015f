//! Builds a source's evidence from the spools of its queries, in plan order,
//! de-duplicated, with its status and the details the manifest records.

use crate::collector::{Collector, QueryOutcome, QueryProblem};
use crate::journal::{replay, QueryTally};
use crate::CollectError;
use m365_preserve_package::evidence::{EvidenceWriter, SourceStatus, SourceSummary};
use m365_preserve_package::hashing::key16;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// De-duplicates records by a 16-byte digest of their id: flat memory for
/// millions of records.
pub(crate) struct Seen {
    field: &'static str,
    ids: HashSet<[u8; 16]>,
    pub duplicates: u64,
}

impl Seen {
    pub fn new(field: &'static str) -> Self {
        Self {
            field,
            ids: HashSet::new(),
            duplicates: 0,
        }
    }

    /// Whether `record` is new (records without an id always are).
    pub fn fresh(&mut self, record: &Value) -> bool {
        let Some(id) = record.get(self.field).and_then(Value::as_str) else {
            return true;
        };
        let fresh = self.ids.insert(key16(&[id.as_bytes()]));
        if !fresh {
            self.duplicates += 1;
        }
        fresh
    }
}

/// The status of a source from how its queries ended, and its reason: each
/// distinct cause once, with how many queries it stopped.
fn status(problems: &[&QueryProblem], done: usize) -> (SourceStatus, Option<String>) {
    let total = problems.len() + done;
    let join = || {
        let mut causes: Vec<(&str, usize)> = Vec::new();
        for p in problems {
            match causes.iter_mut().find(|(w, _)| *w == p.why) {
                Some(c) => c.1 += 1,
                None => causes.push((&p.why, 1)),
            }
        }
        causes
            .iter()
            .map(|(why, n)| match (n, total) {
                (1, 1) => why.to_string(),
                (n, t) => format!("{why} ({n} of {t} queries)"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match (problems.len(), done) {
        (0, _) => (SourceStatus::Complete, None),
        (_, 0) if problems.iter().all(|p| p.unavailable) => {
            (SourceStatus::Unavailable, Some(join()))
        }
        (_, 0) => (SourceStatus::Failed, Some(join())),
        _ => (SourceStatus::Partial, Some(join())),
    }
}

impl Collector<'_> {
    /// Builds the evidence of `source` from the spools of its queries (in
    /// order), de-duplicated on `id_field`, with status and details.
    pub(crate) fn merge(
        &self,
        source: Source,
        keys: &[String],
        outcomes: &[QueryOutcome],
        id_field: &'static str,
        time_field: Option<&str>,
        mut details: Map<String, Value>,
    ) -> Result<SourceSummary, CollectError> {
        remove_stale(&self.workdir, source)?;
        let mut writer = EvidenceWriter::create(&self.workdir, source.as_str())?;
        if let Some(f) = time_field {
            writer = writer.with_time_field(f);
        }
        let mut seen = Seen::new(id_field);
        let mut total = QueryTally::default();
        let mut notes = Vec::new();
        let mut problems: Vec<&QueryProblem> = Vec::new();
        let mut done = 0usize;
        let mut facts = Vec::new();
        let sealed = self.sealed.get(&source);
        let mut fetched_keys = Vec::new();
        let mut earlier = 0u64;
        for (key, outcome) in keys.iter().zip(outcomes) {
            if sealed.is_some_and(|s| s.contains(key)) {
                earlier += 1;
                continue;
            }
            fetched_keys.push(key);
            let f = match outcome {
                Ok(f) => f,
                Err(p) => {
                    total.retries += u64::from(p.attempts.saturating_sub(1));
                    problems.push(p);
                    continue;
                }
            };
            done += 1;
            total += f.tally;
            notes.extend(f.notes.iter().cloned());
            facts.extend(f.facts.iter().cloned());
            let mut write_err = None;
            replay(&f.spool, |record| {
                if write_err.is_none() && seen.fresh(&record) {
                    write_err = writer.write(&record).err();
                }
                Ok(())
            })?;
            if let Some(e) = write_err {
                return Err(e.into());
            }
        }
        let (status, reason) = status(&problems, done);
        details.insert("queries".into(), json!(fetched_keys));
        if earlier > 0 {
            details.insert("queries_in_earlier_package".into(), json!(earlier));
        }
        details.insert("queries_done".into(), json!(done));
        details.insert("pages".into(), json!(total.pages));
        details.insert("retries".into(), json!(total.retries));
        details.insert("records_outside_query".into(), json!(total.outside));
        details.insert("duplicates_removed".into(), json!(seen.duplicates));
        if !problems.is_empty() {
            details.insert(
                "problems".into(),
                problems
                    .iter()
                    .map(|p| json!({"query": p.query, "reason": p.why, "attempts": p.attempts}))
                    .collect(),
            );
        }
        if !facts.is_empty() {
            details.insert("resolved".into(), Value::Array(facts));
        }
        if !notes.is_empty() {
            notes.dedup();
            details.insert("notes".into(), json!(notes));
        }
        Ok(writer.finish(status, reason, details)?)
    }
}

/// A resumed run rebuilds each source's evidence from its spools.
fn remove_stale(workdir: &WorkDir, source: Source) -> Result<(), CollectError> {
    for p in [
        workdir.evidence_json(source.as_str()),
        workdir.evidence_csv(source.as_str()),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(CollectError::WorkFolder { path: p, source }),
        }
    }
    Ok(())
}
