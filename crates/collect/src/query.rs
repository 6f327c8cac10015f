//! Runs the queries of a source (concurrently, within the collection's limit)
//! and spools what each keeps: pages -> records -> spool, one journal line per
//! finished query.

use crate::collector::{Collector, QueryOutcome, QueryProblem};
use crate::graph::{GraphError, Request};
use crate::journal::QueryTally;
use crate::{record_time, resolve};
use futures_util::future::join_all;
use m365_preserve_package::evidence::SourceSummary;
use m365_preserve_sources::{Keep, Query, Source, Window};
use serde_json::{Map, Value};

/// Whether `record` belongs to the source (the service may return more).
pub(crate) fn kept(keep: &Keep, record: &Value) -> bool {
    let in_window =
        |field: &str, w: &Window| record_time(record, field).is_some_and(|t| w.contains(t));
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
        Keep::Evidence { upns, ids } => names_a_target(record, upns, ids),
        Keep::TraceRows {
            window,
            not_from,
            not_to,
        } => {
            let address = |k: &str| record[k].as_str().unwrap_or("").to_lowercase();
            in_window("receivedDateTime", window)
                && !not_from.contains(&address("senderAddress"))
                && !not_to.contains(&address("recipientAddress"))
        }
    }
}

/// Properties of Defender XDR evidence that name a user: user accounts,
/// mailboxes, analysed messages' recipients
/// (<https://learn.microsoft.com/graph/api/resources/security-alertevidence>).
const EVIDENCE_KEYS: &[&str] = &[
    "userPrincipalName",
    "azureAdUserId",
    "upn",
    "primaryAddress",
    "recipientEmailAddress",
];

/// Whether an alert's `evidence` (or an incident's alerts' evidence) names one
/// of the users.
fn names_a_target(record: &Value, upns: &[String], ids: &[String]) -> bool {
    fn walk(v: &Value, upns: &[String], ids: &[String]) -> bool {
        match v {
            Value::Object(map) => map.iter().any(|(k, v)| match v.as_str() {
                Some(s) if EVIDENCE_KEYS.contains(&k.as_str()) => {
                    let s = s.to_lowercase();
                    upns.contains(&s) || ids.contains(&s)
                }
                _ => walk(v, upns, ids),
            }),
            Value::Array(items) => items.iter().any(|i| walk(i, upns, ids)),
            _ => false,
        }
    }
    let alerts = record["alerts"].as_array().into_iter().flatten();
    std::iter::once(&record["evidence"])
        .chain(alerts.map(|a| &a["evidence"]))
        .any(|e| walk(e, upns, ids))
}

/// The journal key of a Graph query.
pub(crate) fn key(q: &Query) -> String {
    format!("GET {}", q.path)
}

impl Collector<'_> {
    /// Collects one source of Graph queries into `evidence/<source>.{json,csv}`.
    pub async fn run_source(
        &self,
        source: Source,
        plan: &[Query],
        window: Window,
    ) -> Result<SourceSummary, crate::CollectError> {
        self.observer.started(source, plan.len());
        let outcomes = join_all(plan.iter().map(|q| self.query(source, q))).await;
        let time_field = plan.iter().find_map(|q| match &q.keep {
            Keep::InWindow { field, .. }
            | Keep::UserInWindow { field, .. }
            | Keep::UpnInWindow { field, .. } => Some(*field),
            Keep::TraceRows { .. } => Some("receivedDateTime"),
            Keep::All | Keep::Evidence { .. } => None,
        });
        let keys: Vec<String> = plan.iter().map(key).collect();
        let mut details = Map::new();
        details.insert("window".into(), crate::window_json(&window));
        let summary = self.merge(
            source,
            &keys,
            &outcomes,
            source.record_key(),
            time_field,
            details,
        )?;
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// A source Graph does not serve: unavailable, saying where it comes from.
    pub fn import_only(&self, source: Source) -> Result<SourceSummary, crate::CollectError> {
        let why = format!(
            "{source} is not served by Microsoft Graph; export it from Log Analytics or a diagnostic setting and add the file with --import"
        );
        let outcomes = [Err(QueryProblem::new("import-only", true, why))];
        let summary = self.merge(source, &[], &outcomes, &["id"], None, Map::new())?;
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// Runs one query into its spool, unless an earlier run finished it.
    async fn query(&self, source: Source, q: &Query) -> QueryOutcome {
        let key = key(q);
        if let Some(done) = self.journal.done(source, &key) {
            self.observer
                .records(source, done.tally.pages, done.tally.records);
            return Ok(done);
        }
        let _permit = self.gate.acquire().await.expect("gate never closes");
        if q.single {
            self.single(source, &key, q).await
        } else {
            let first = self.request(&q.path, q, source);
            self.spool_pages(source, &key, first, q).await
        }
    }

    /// A query whose response is one object.
    async fn single(&self, source: Source, key: &str, q: &Query) -> QueryOutcome {
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
        .map_err(|e| QueryProblem::from_graph(key, &e))?;
        let mut spool = self
            .journal
            .spool(source, key)
            .map_err(QueryProblem::disk)?;
        let mut tally = QueryTally {
            pages: 1,
            retries: u64::from(fetched.attempts - 1),
            ..Default::default()
        };
        if let Some(v) = fetched.json {
            if kept(&q.keep, &v) {
                tally.records += 1;
                spool.push(&v).map_err(QueryProblem::disk)?;
            } else {
                tally.outside += 1;
            }
        }
        self.observer.records(source, 1, tally.records);
        self.journal
            .finish(source, key, spool, tally, notes, Vec::new())
            .map_err(QueryProblem::disk)
    }

    /// Follows a collection from `first` into the spool of `key`, keeping what
    /// `q.keep` selects and naming what `q.resolve` asks for.
    pub(crate) async fn spool_pages(
        &self,
        source: Source,
        key: &str,
        first: Request,
        q: &Query,
    ) -> QueryOutcome {
        let mut spool = self
            .journal
            .spool(source, key)
            .map_err(QueryProblem::disk)?;
        let mut tally = QueryTally::default();
        let mut notes = Vec::new();
        let mut refs: Vec<String> = Vec::new();
        let mut pager = self.client.pages(first);
        let mut keep = &q.keep;
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
                Err(e @ (GraphError::NotFound { .. } | GraphError::UnsupportedQuery { .. }))
                    if tally.pages == 0 && q.optional.is_some() =>
                {
                    notes.push(format!("{} ({e})", q.optional.unwrap_or_default()));
                    break;
                }
                Err(GraphError::UnsupportedQuery { message, .. })
                    if tally.pages == 0 && std::ptr::eq(keep, &q.keep) && q.fallback.is_some() =>
                {
                    let instead = q.fallback.as_deref().expect("checked above");
                    notes.push(format!("the service refused the documented filter ({message}); collected {} instead and matched the targets here", instead.path));
                    keep = &instead.keep;
                    pager = self
                        .client
                        .pages(self.request(&instead.path, instead, source));
                    continue;
                }
                Err(e) => return Err(QueryProblem::from_graph(key, &e)),
            };
            tally.pages += 1;
            tally.retries += u64::from(page.attempts - 1);
            let before = tally.records;
            for record in page.records {
                if !kept(keep, &record) {
                    tally.outside += 1;
                    continue;
                }
                if let Some(r) = &q.resolve {
                    resolve::references(r, &record, &mut refs);
                }
                tally.records += 1;
                spool.push(&record).map_err(QueryProblem::disk)?;
            }
            self.observer.records(source, 1, tally.records - before);
        }
        if let Keep::Evidence { .. } = keep {
            notes.push(format!(
                "{} of {} records name a target in their evidence (matched here: the service filters no evidence of this kind)",
                tally.records,
                tally.records + tally.outside
            ));
        }
        let facts = match &q.resolve {
            Some(r) if !refs.is_empty() => resolve::names(self, source, r, &refs, &mut notes).await,
            _ => Vec::new(),
        };
        self.journal
            .finish(source, key, spool, tally, notes, facts)
            .map_err(QueryProblem::disk)
    }
}
