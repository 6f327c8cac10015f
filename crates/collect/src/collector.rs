//! What every source of one collection shares: the client, the work folder,
//! the journal, the concurrency gate and whoever watches progress.

use crate::graph::{graph_url, Api, GraphError, ReadOnlyClient, Request};
use crate::journal::{Finished, Journal, JournalError};
use m365_preserve_package::evidence::SourceSummary;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::{Query, Source};
use std::collections::{HashMap, HashSet};
use tokio::sync::Semaphore;
use url::Url;

/// Hears what the collection does, for progress display.
pub trait Observer: Send + Sync {
    /// A source starts with this many queries.
    fn started(&self, source: Source, queries: usize);
    /// A page (or a finished query replayed from the journal) added records.
    fn records(&self, source: Source, pages: u64, records: u64);
    fn finished(&self, summary: &SourceSummary);
    /// The run's work folder now holds what a `--resume` continues from.
    fn resumable(&self, _workdir: &std::path::Path) {}
}

/// What every source of one collection shares.
pub struct Collector<'a> {
    pub client: &'a ReadOnlyClient,
    pub graph: Url,
    pub workdir: WorkDir,
    pub journal: Journal,
    /// At most this many queries in flight (`--concurrency`).
    pub gate: Semaphore,
    pub observer: &'a dyn Observer,
    /// Simulated seconds per real second (only the simulator runs faster).
    pub time_scale: f64,
    /// Queries an earlier package of this work folder holds: left out of the
    /// evidence of a supplementary package.
    pub sealed: HashMap<Source, HashSet<String>>,
}

/// How one query ended.
pub(crate) type QueryOutcome = Result<Finished, QueryProblem>;

/// Why a query's records are missing.
#[derive(Debug, Clone)]
pub(crate) struct QueryProblem {
    /// A reason outside the tool (licence, permission, mailbox, API absent).
    pub unavailable: bool,
    /// The query (its journal key), for the manifest's details.
    pub query: String,
    /// Why, in a sentence an administrator can act on (no URL).
    pub why: String,
    /// Requests sent for the query before it was given up.
    pub attempts: u32,
}

impl QueryProblem {
    pub fn new(query: &str, unavailable: bool, why: impl Into<String>) -> Self {
        Self {
            unavailable,
            query: query.to_string(),
            why: why.into(),
            attempts: 1,
        }
    }

    pub fn from_graph(query: &str, e: &GraphError) -> Self {
        Self {
            attempts: e.attempts(),
            ..Self::new(
                query,
                e.is_unavailable() || matches!(e, GraphError::UnsupportedQuery { .. }),
                e.to_string(),
            )
        }
    }

    /// The work folder could not be written.
    pub fn disk(e: JournalError) -> Self {
        Self {
            attempts: 0,
            ..Self::new(
                "",
                false,
                format!("the work folder could not be written: {e}"),
            )
        }
    }
}

impl Collector<'_> {
    /// The Graph request of `q` (at `path`: the query's own or its fallback).
    pub(crate) fn request(&self, path: &str, q: &Query, source: Source) -> Request {
        Request::new(Api::Graph, graph_url(&self.graph, path), q.budget, source)
            .permission(q.permission)
    }

    /// Waits `real` seconds of service time (shorter on a faster simulator clock).
    pub(crate) fn sleep_for(&self, real: std::time::Duration) -> tokio::time::Sleep {
        tokio::time::sleep(real.div_f64(self.time_scale.max(1e-9)))
    }
}
