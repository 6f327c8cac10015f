//! Builds a source's evidence from the spools of its queries, in plan order,
//! de-duplicated, with its status and the details the manifest records.

use crate::collector::{Collector, QueryOutcome, QueryProblem};
use crate::journal::{replay, QueryTally};
use crate::CollectError;
use m365_preserve_package::dedup::{self, Dedup};
use m365_preserve_package::evidence::{EvidenceWriter, SourceStatus, SourceSummary};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde_json::{json, Map, Value};

/// The id field of a source's records (none: nothing is a duplicate), and
/// its de-duplication by content ([`Dedup`]): a record is dropped only when
/// value-equal to an earlier one with its id.
pub(crate) struct Seen {
    fields: &'static [&'static str],
    dedup: Dedup,
}

impl Seen {
    /// A record's id is its `fields` joined (the first must be present; none:
    /// every record is compared by content only when it has no id).
    pub fn new(fields: &'static [&'static str]) -> Self {
        Self {
            fields,
            dedup: Dedup::new(),
        }
    }

    /// Whether `record` is to be written.
    pub fn fresh(&mut self, record: &Value) -> bool {
        let Some(first) = self
            .fields
            .first()
            .and_then(|f| record.get(*f))
            .and_then(Value::as_str)
        else {
            return true;
        };
        let id = match self.fields {
            [_] => std::borrow::Cow::Borrowed(first),
            more => std::borrow::Cow::Owned(
                more.iter()
                    .map(|f| record.get(*f).and_then(Value::as_str).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("/"),
            ),
        };
        self.dedup.check(Some(&id), record, 0) != dedup::Seen::Duplicate
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
    /// order), de-duplicated on `id_fields` (if any), with status and details.
    pub(crate) fn merge(
        &self,
        source: Source,
        keys: &[String],
        outcomes: &[QueryOutcome],
        id_fields: &'static [&'static str],
        time_field: Option<&str>,
        mut details: Map<String, Value>,
    ) -> Result<SourceSummary, CollectError> {
        remove_stale(&self.workdir, source)?;
        let mut writer = EvidenceWriter::create(&self.workdir, source.as_str())?;
        if let Some(f) = time_field {
            writer = writer.with_time_field(f);
        }
        let mut seen = Seen::new(id_fields);
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
        details.insert("duplicates_removed".into(), json!(seen.dedup.duplicates()));
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
        writer.set_id_conflicts(seen.dedup.conflicts());
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

#[cfg(test)]
mod tests {
    use super::Seen;
    use serde_json::json;

    /// Pages that overlap (a slice boundary, a retried page) repeat records
    /// value for value: those are dropped. A record that shares an id with an
    /// earlier one but differs is kept and listed as an id conflict.
    #[test]
    fn the_collector_drops_only_value_equal_records_of_an_id() {
        let mut seen = Seen::new(&["id"]);
        let a = json!({"id": "s1", "createdDateTime": "2026-11-18T01:00:00Z", "status": {"errorCode": 0}});
        let same: serde_json::Value = serde_json::from_str(
            r#"{"status": {"errorCode": 0}, "createdDateTime": "2026-11-18T01:00:00Z", "id": "s1"}"#,
        )
        .unwrap();
        let other = json!({"id": "s1", "createdDateTime": "2026-11-18T01:00:00Z", "status": {"errorCode": 50126}});
        assert!(seen.fresh(&a));
        assert!(!seen.fresh(&same), "value-equal, whatever the key order");
        assert!(seen.fresh(&other), "same id, other content: kept");
        assert!(!seen.fresh(&other.clone()));
        assert!(seen.fresh(&json!({"no": "id"})));
        assert!(
            seen.fresh(&json!({"no": "id"})),
            "records without id are kept"
        );
        assert_eq!(seen.dedup.duplicates(), 2);
        let c = seen.dedup.conflicts().expect("a conflict");
        assert_eq!(c.records, 1);
        assert_eq!(c.ids[0].id, "s1");
        assert_eq!(c.ids[0].versions, 2);
    }
}
