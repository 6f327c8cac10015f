//! Runs the queries of a source (concurrently, within the collection's limit),
//! spools what each keeps, and builds the evidence files from the spools in
//! plan order, de-duplicated by id.

use super::journal::{replay, Finished, Journal, JournalError, QueryTally};
use super::specs::{Keep, Query};
use super::{graph_url, CollectError, Window};
use crate::evidence::{EvidenceWriter, SourceStatus, SourceSummary};
use crate::graph::{Api, GraphError, ReadOnlyClient, Request};
use futures_util::future::join_all;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tokio::sync::Semaphore;
use url::Url;

/// Hears what the collection does, for progress display.
pub trait Observer: Send + Sync {
    /// A source starts with this many queries.
    fn started(&self, source: &str, queries: usize);
    /// A page (or a finished query replayed from the journal) added records.
    fn records(&self, source: &str, pages: u64, records: u64);
    fn finished(&self, summary: &SourceSummary);
}

/// What every source of one collection shares.
pub struct Collector<'a> {
    pub client: &'a ReadOnlyClient,
    pub graph: Url,
    pub workdir: PathBuf,
    pub journal: Journal,
    /// At most this many queries in flight (`--concurrency`).
    pub gate: Semaphore,
    pub observer: &'a dyn Observer,
    /// Simulated seconds per real second (only the simulator runs faster).
    pub time_scale: f64,
}

/// How one query ended.
pub(crate) type QueryOutcome = Result<Finished, QueryProblem>;

/// Why a query's records are missing.
#[derive(Debug, Clone)]
pub(crate) struct QueryProblem {
    /// A reason outside the tool (licence, permission, mailbox, API absent).
    pub unavailable: bool,
    pub message: String,
}

impl QueryProblem {
    pub fn from_graph(what: &str, e: &GraphError) -> Self {
        Self {
            unavailable: e.is_unavailable() || matches!(e, GraphError::UnsupportedQuery { .. }),
            message: format!("{what}: {e}"),
        }
    }
}

impl From<JournalError> for CollectError {
    fn from(e: JournalError) -> Self {
        CollectError::WorkFolder(e.to_string())
    }
}

fn kept(keep: &Keep, record: &Value) -> bool {
    let in_window =
        |field: &str, w: &Window| super::record_time(record, field).is_some_and(|t| w.contains(t));
    match keep {
        Keep::All => true,
        Keep::InWindow { field, window } => in_window(field, window),
        Keep::UserInWindow {
            user_id,
            field,
            window,
        } => record["userId"].as_str() == Some(user_id.as_str()) && in_window(field, window),
        Keep::UpnInWindow {
            upns,
            field,
            window,
        } => {
            let upn = record["userPrincipalName"]
                .as_str()
                .or(record["userId"].as_str())
                .unwrap_or("");
            upns.iter().any(|u| u.eq_ignore_ascii_case(upn)) && in_window(field, window)
        }
    }
}

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
        let fresh = self.ids.insert(crate::hashing::key16(&[id.as_bytes()]));
        if !fresh {
            self.duplicates += 1;
        }
        fresh
    }
}

impl Collector<'_> {
    pub(crate) fn request(&self, q_path: &str, q: &Query, source: &str) -> Request {
        let mut r = Request::new(Api::Graph, graph_url(&self.graph, q_path), q.budget, source)
            .permission(q.permission);
        if q.unknown_enums {
            r = r.unknown_enums();
        }
        r
    }

    /// Runs one query into its spool, unless an earlier run finished it.
    async fn query(&self, source: &str, q: &Query) -> QueryOutcome {
        let key = format!("GET {}", q.path);
        if let Some(done) = self.journal.done(source, &key) {
            self.observer
                .records(source, done.tally.pages, done.tally.records);
            return Ok(done);
        }
        let _permit = self.gate.acquire().await.expect("gate never closes");
        if !q.single {
            let first = self.request(&q.path, q, source);
            return self.spool_pages(source, &key, first, q).await;
        }
        let mut notes = Vec::new();
        let fetched = match self.client.get(&self.request(&q.path, q, source)).await {
            Err(GraphError::LicenceRequired { message, .. }) if q.without_premium.is_some() => {
                notes.push(format!(
                    "premium-only fields unavailable (licence: {message}); collected without them"
                ));
                let fallback = q.without_premium.as_deref().unwrap_or_default();
                self.client.get(&self.request(fallback, q, source)).await
            }
            other => other,
        }
        .map_err(|e| QueryProblem::from_graph(&key, &e))?;
        let mut spool = self.journal.spool(source, &key).map_err(disk)?;
        let mut tally = QueryTally {
            pages: 1,
            retries: u64::from(fetched.attempts - 1),
            ..Default::default()
        };
        if let Some(v) = fetched.json {
            if kept(&q.keep, &v) {
                tally.records += 1;
                spool.push(&v).map_err(disk)?;
            } else {
                tally.outside += 1;
            }
        }
        self.observer.records(source, 1, tally.records);
        self.journal
            .finish(source, &key, spool, tally, notes, Vec::new())
            .map_err(disk)
    }

    /// Follows a collection from `first` into the spool of `key`, keeping what
    /// `q.keep` selects and naming what `q.resolve` asks for.
    pub(crate) async fn spool_pages(
        &self,
        source: &str,
        key: &str,
        first: Request,
        q: &Query,
    ) -> QueryOutcome {
        let mut spool = self.journal.spool(source, key).map_err(disk)?;
        let mut tally = QueryTally::default();
        let mut notes = Vec::new();
        let mut refs: Vec<String> = Vec::new();
        let mut pager = self.client.pages(first);
        loop {
            let page = match pager.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(GraphError::LicenceRequired { message, .. })
                    if tally.pages == 0 && q.licence_optional.is_some() =>
                {
                    let why = q.licence_optional.unwrap_or_default();
                    notes.push(format!("{why} (licence: {message})"));
                    break;
                }
                Err(e) => return Err(QueryProblem::from_graph(key, &e)),
            };
            tally.pages += 1;
            tally.retries += u64::from(page.attempts - 1);
            let before = tally.records;
            for record in page.records {
                if !kept(&q.keep, &record) {
                    tally.outside += 1;
                    continue;
                }
                if let Some(r) = &q.resolve {
                    super::extras::references(r, &record, &mut refs);
                }
                tally.records += 1;
                spool.push(&record).map_err(disk)?;
            }
            self.observer.records(source, 1, tally.records - before);
        }
        let facts = match &q.resolve {
            Some(r) if !refs.is_empty() => {
                super::extras::resolve(self, source, r, &refs, &mut notes).await
            }
            _ => Vec::new(),
        };
        self.journal
            .finish(source, key, spool, tally, notes, facts)
            .map_err(disk)
    }

    /// Collects one source into `evidence/<source>.{json,csv}`.
    pub async fn run_source(
        &self,
        source: &str,
        plan: Vec<Query>,
        window: Window,
    ) -> Result<SourceSummary, CollectError> {
        self.observer.started(source, plan.len());
        let outcomes = join_all(plan.iter().map(|q| self.query(source, q))).await;
        let time_field = plan.iter().find_map(|q| match &q.keep {
            Keep::InWindow { field, .. }
            | Keep::UserInWindow { field, .. }
            | Keep::UpnInWindow { field, .. } => Some(*field),
            Keep::All => None,
        });
        let keys: Vec<String> = plan.iter().map(|q| format!("GET {}", q.path)).collect();
        let mut details = Map::new();
        details.insert("window".into(), window_json(&window));
        let summary = self.merge(source, &keys, &outcomes, "id", time_field, details)?;
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// Builds the evidence of `source` from the spools of its queries (in
    /// order), de-duplicated on `id_field`, with status and details.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn merge(
        &self,
        source: &str,
        keys: &[String],
        outcomes: &[QueryOutcome],
        id_field: &'static str,
        time_field: Option<&str>,
        mut details: Map<String, Value>,
    ) -> Result<SourceSummary, CollectError> {
        remove_stale(&self.workdir, source)?;
        let mut writer = EvidenceWriter::create(&self.workdir, source)?;
        if let Some(f) = time_field {
            writer = writer.with_time_field(f);
        }
        let mut seen = Seen::new(id_field);
        let mut total = QueryTally::default();
        let mut notes = Vec::new();
        let mut problems: Vec<&QueryProblem> = Vec::new();
        let mut done = 0usize;
        let mut facts = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(f) => {
                    done += 1;
                    total += f.tally;
                    notes.extend(f.notes.iter().cloned());
                    facts.extend(f.facts.iter().cloned());
                    let mut write_err = None;
                    replay(&f.spool, |record| {
                        if seen.fresh(&record) {
                            if let Err(e) = writer.write(&record) {
                                write_err = Some(e);
                            }
                        }
                        Ok(())
                    })?;
                    if let Some(e) = write_err {
                        return Err(e.into());
                    }
                }
                Err(p) => problems.push(p),
            }
        }
        let join = || {
            problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (status, reason) = match (problems.len(), done) {
            (0, _) => (SourceStatus::Complete, None),
            (_, 0) if problems.iter().all(|p| p.unavailable) => {
                (SourceStatus::Unavailable, Some(join()))
            }
            (_, 0) => (SourceStatus::Failed, Some(join())),
            _ => (SourceStatus::Partial, Some(join())),
        };
        details.insert("queries".into(), json!(keys));
        details.insert("queries_done".into(), json!(done));
        details.insert("pages".into(), json!(total.pages));
        details.insert("retries".into(), json!(total.retries));
        details.insert("records_outside_query".into(), json!(total.outside));
        details.insert("duplicates_removed".into(), json!(seen.duplicates));
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

pub(crate) fn window_json(w: &Window) -> Value {
    json!({
        "since": crate::timefmt::format_utc(w.since),
        "until": crate::timefmt::format_utc(w.until),
    })
}

pub(crate) fn disk(e: JournalError) -> QueryProblem {
    QueryProblem {
        unavailable: false,
        message: format!("work folder: {e}"),
    }
}

/// A resumed run rebuilds each source's evidence from its spools.
fn remove_stale(workdir: &Path, source: &str) -> Result<(), CollectError> {
    for ext in ["json", "csv"] {
        let p = workdir.join("evidence").join(format!("{source}.{ext}"));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CollectError::WorkFolder(format!("{}: {e}", p.display()))),
        }
    }
    Ok(())
}
