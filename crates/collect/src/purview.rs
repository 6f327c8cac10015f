//! The Purview unified audit log: the Graph audit-log query API (asynchronous,
//! server-side), with the Office 365 Management Activity API as the fallback
//! for the last 7 days when the query API is unavailable.
//!
//! Each window is one server-side query, created at once so they all run
//! while the other sources collect; a failed or cancelled one is reported;
//! none is polled beyond [`POLL_LIMIT`]. For completeness
//! (shared/reference/graph-api-more.md §N7):
//! - the version is probed, v1.0 then beta, and the manifest says which served;
//! - a query the service already has under this run's name (created by an
//!   interrupted run that could not note it) is reused, not submitted again:
//!   submissions are a daily allowance;
//! - a window whose query reached its record-count limit is split in two and
//!   asked again, whether the service says so (`isRecordCountLimitExceeded`)
//!   or only its counts show it;
//! - a query whose paging returned another number of records than the
//!   service counted is paged a second time, and both pagings are kept
//!   (records equal in both are one record).

use crate::collector::{Collector, QueryOutcome, QueryProblem};
use crate::graph::{graph_url, Api, GraphError, Request};
use crate::journal::QueryTally;
use crate::{record_time, window_json, CollectError};
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use m365_preserve_package::evidence::{write_summary, SourceStatus, SourceSummary};
use m365_preserve_package::timefmt::format_utc;
use m365_preserve_sources::{AuditApi, Budget, Keep, Query, Source, Target, Window};
use serde_json::{json, Map, Value};
use tokio::sync::SemaphorePermit;

const SOURCE: Source = Source::PurviewAudit;
/// The longest a query is polled (real service time).
const POLL_LIMIT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// Polls back off to this interval: a finished query is noticed within it.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(15);
/// The least records one query may return (the service's baseline) when it
/// does not say its limit.
const RECORD_CAP: u64 = 1_000_000;
/// The Management Activity API keeps content this long.
const MANAGEMENT_DAYS: i64 = 7;
const CONTENT_TYPES: &[&str] = &[
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
];

/// How one audit-query window ended.
enum Ended {
    /// Its pagings by key: one, or two when the first disagreed with the
    /// service's count.
    Paged(Vec<(String, QueryOutcome)>),
    /// Over the query's record-count limit: ask for each half.
    Split(Window, Window),
}

impl Ended {
    fn problem(k: &str, p: QueryProblem) -> Self {
        Ended::Paged(vec![(k.to_string(), Err(p))])
    }
}

fn key(w: &Window) -> String {
    format!(
        "audit-query {}/{}",
        format_utc(w.since),
        format_utc(w.until)
    )
}

fn display_name(case: &str, w: &Window) -> String {
    format!(
        "m365-preserve {case} {}..{}",
        format_utc(w.since),
        format_utc(w.until)
    )
}

/// The version serving the API and the queries the tenant has there.
struct AuditService {
    api: AuditApi,
    /// Why beta, when v1.0 was tried first.
    note: Option<String>,
    existing: Vec<Value>,
}

/// What the windows' queries did beyond the plan, for the manifest.
#[derive(Default)]
struct Facts {
    reused: std::sync::atomic::AtomicU64,
    repaged: std::sync::Mutex<Vec<Value>>,
}

/// Whether the service said the query reached its record-count limit, or
/// (where it does not say) its counts show it: the service documents the flag
/// as authoritative and warns against comparing counts, so the counts are
/// used only without the flag.
fn capped(query: &Value, paged: Option<u64>) -> bool {
    if let Some(flag) = query["isRecordCountLimitExceeded"].as_bool() {
        return flag;
    }
    let limit = query["recordCountLimit"].as_u64();
    let approx = query["approximateReturnedRecordCount"].as_u64();
    matches!((approx, limit), (Some(a), Some(l)) if a >= l)
        || paged.is_some_and(|n| n >= limit.unwrap_or(RECORD_CAP))
}

/// Whether `e` says this Graph version has no `security/auditLog` at all.
fn not_served(e: &GraphError) -> bool {
    matches!(
        e,
        GraphError::NotFound { .. }
            | GraphError::UnsupportedQuery { .. }
            | GraphError::Http {
                status: 400 | 404,
                ..
            }
    )
}

impl Collector<'_> {
    fn audit_request(&self, api: AuditApi, path: &str) -> Request {
        let url = graph_url(
            &self.graph,
            &format!("/{}/security/auditLog/queries{path}", api.segment()),
        );
        Request::new(Api::Graph, url, Budget::AuditQuery, SOURCE)
            .permission("AuditLogsQuery.Read.All")
    }

    /// The query of window `w`: the one an earlier run created, with its state
    /// (the first poll), when the service still has it; else a new one.
    async fn audit_query(
        &self,
        service: &AuditService,
        w: &Window,
        upns: &[String],
        case: &str,
        facts: &Facts,
    ) -> Result<(String, Option<Value>), QueryProblem> {
        let api = service.api;
        let k = key(w);
        if let Some(id) = self.journal.audit_query(&k) {
            let poll = self.audit_request(api, &format!("/{id}"));
            if let Ok(f) = self.client.get(&poll).await {
                return Ok((id.to_string(), f.json));
            }
        }
        let name = display_name(case, w);
        let reusable = service.existing.iter().find(|q| {
            q["displayName"] == name.as_str()
                && !matches!(q["status"].as_str(), Some("failed" | "cancelled"))
        });
        if let Some(id) = reusable.and_then(|q| q["id"].as_str()) {
            tracing::info!("{k}: the service already has this run's query {id}; reused");
            self.journal
                .audit_query_created(&k, id)
                .map_err(QueryProblem::disk)?;
            facts
                .reused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok((id.to_string(), reusable.cloned()));
        }
        let graph = |e: GraphError| QueryProblem::from_graph(&k, &e);
        let body = json!({
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": name,
            "filterStartDateTime": format_utc(w.since),
            "filterEndDateTime": format_utc(w.until),
            "userPrincipalNameFilters": upns,
        });
        let created = self
            .client
            .create_audit_query(&self.audit_request(api, ""), &body)
            .await
            .map_err(graph)?;
        let id = created
            .json
            .as_ref()
            .and_then(|v| v["id"].as_str())
            .ok_or_else(|| {
                graph(GraphError::InvalidResponse {
                    url: created.url.clone(),
                    message: "the created audit query has no id".into(),
                })
            })?
            .to_string();
        self.journal
            .audit_query_created(&k, &id)
            .map_err(QueryProblem::disk)?;
        Ok((id, None))
    }

    /// Polls query `id` until the service ends it; its final state.
    async fn poll(
        &self,
        api: AuditApi,
        k: &str,
        id: &str,
        mut known: Option<Value>,
    ) -> Result<Value, QueryProblem> {
        let started = tokio::time::Instant::now();
        let mut wait = std::time::Duration::from_secs(5);
        loop {
            let polled = match known.take() {
                Some(state) => state,
                None => self
                    .client
                    .get(&self.audit_request(api, &format!("/{id}")))
                    .await
                    .map(|f| f.json.unwrap_or(Value::Null))
                    .map_err(|e| QueryProblem::from_graph(k, &e))?,
            };
            match polled["status"].as_str().unwrap_or("") {
                "succeeded" => return Ok(polled),
                "notStarted" | "running" => {}
                other => {
                    return Err(QueryProblem::new(k, false, format!("the service ended audit query {id} as {other:?}; these records were not collected")))
                }
            }
            if started.elapsed().mul_f64(self.time_scale) > POLL_LIMIT {
                return Err(QueryProblem::new(
                    k,
                    false,
                    format!(
                        "audit query {id} had not finished after {} hours; given up",
                        POLL_LIMIT.as_secs() / 3600
                    ),
                ));
            }
            self.sleep_for(wait).await;
            wait = (wait.mul_f64(1.5)).min(POLL_EVERY);
        }
    }

    /// The version to use and the queries the tenant already has there.
    async fn audit_service(&self, asked: Option<AuditApi>) -> AuditService {
        let list = |api: AuditApi| async move {
            let mut pager = self.client.pages(self.audit_request(api, ""));
            let mut all = Vec::new();
            while let Some(page) = pager.next_page().await? {
                all.extend(page.records);
            }
            Ok::<_, GraphError>(all)
        };
        let found = |api, note, existing| AuditService {
            api,
            note,
            existing,
        };
        match asked {
            Some(api) => found(api, None, list(api).await.unwrap_or_default()),
            None => match list(AuditApi::V1).await {
                Ok(existing) => found(AuditApi::V1, None, existing),
                Err(e) if not_served(&e) => {
                    let note = format!(
                        "v1.0 does not serve the audit-log query API in this tenant ({e}); beta was used"
                    );
                    tracing::info!("{note}");
                    let existing = list(AuditApi::Beta).await.unwrap_or_default();
                    found(AuditApi::Beta, Some(note), existing)
                }
                // Permission or licence: the queries themselves say it.
                Err(_) => found(AuditApi::V1, None, Vec::new()),
            },
        }
    }

    /// One window: create (or find) its query, poll it to an end, read its
    /// records, and split or page again where the counts ask for it.
    async fn audit_window(
        &self,
        service: &AuditService,
        w: Window,
        upns: &[String],
        case: &str,
        facts: &Facts,
        slot: Option<SemaphorePermit<'_>>,
    ) -> Ended {
        let api = service.api;
        let k = key(&w);
        let k2 = format!("{k} second paging");
        let q = Query {
            keep: Keep::UpnInWindow {
                upns: upns.to_vec(),
                field: "createdDateTime",
                window: w,
            },
            ..Query::list(String::new(), Budget::AuditQuery, "AuditLogsQuery.Read.All")
        };
        if let Some(first) = self.journal.done(SOURCE, &k) {
            // Paged by an earlier run, which decided on a second paging then:
            // no request now, only what the journal holds.
            self.observer
                .records(SOURCE, first.tally.pages, first.tally.records);
            if capped(
                &Value::Null,
                Some(first.tally.records + first.tally.outside),
            ) {
                return self.split(&k, w);
            }
            let mut pagings = vec![(k, Ok(first))];
            pagings.extend(self.journal.done(SOURCE, &k2).map(|d| (k2, Ok(d))));
            return Ended::Paged(pagings);
        }
        let _permit = match slot {
            Some(p) => p,
            None => self.gate.acquire().await.expect("gate never closes"),
        };
        let (id, known) = match self.audit_query(service, &w, upns, case, facts).await {
            Ok(found) => found,
            Err(p) => return Ended::problem(&k, p),
        };
        let state = match self.poll(api, &k, &id, known).await {
            Ok(q) => q,
            Err(p) => return Ended::problem(&k, p),
        };
        if capped(&state, None) {
            return self.split(&k, w);
        }
        let records = self.audit_request(api, &format!("/{id}/records?$top=1000"));
        let first = match self.spool_pages(SOURCE, &k, records.clone(), &q).await {
            Ok(f) => f,
            Err(p) => return Ended::problem(&k, p),
        };
        let paged = first.tally.records + first.tally.outside;
        if capped(&state, Some(paged)) {
            return self.split(&k, w);
        }
        let mut pagings = vec![(k.clone(), Ok(first))];
        if let Some(counted) = state["approximateReturnedRecordCount"]
            .as_u64()
            .filter(|c| *c != paged)
        {
            tracing::info!(
                "{k}: paged {paged} records, the service counted {counted}; paging again"
            );
            let second = self.spool_pages(SOURCE, &k2, records, &q).await;
            if let Ok(s) = &second {
                facts
                    .repaged
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(json!({
                        "query": k, "counted": counted, "first_paging": paged,
                        "second_paging": s.tally.records + s.tally.outside,
                    }));
            }
            pagings.push((k2, second));
        }
        Ended::Paged(pagings)
    }

    /// Window `w` in two halves, or a problem when it is one second already.
    fn split(&self, k: &str, w: Window) -> Ended {
        let half = (w.until - w.since) / 2;
        if half < Duration::seconds(1) {
            return Ended::problem(
                k,
                QueryProblem::new(
                    k,
                    false,
                    "over the record-count limit even for a one-second window",
                ),
            );
        }
        tracing::info!("{k}: over the query's record limit; splitting the window in two");
        let mid = w.since + half;
        Ended::Split(
            Window {
                since: w.since,
                until: mid,
            },
            Window {
                since: mid,
                until: w.until,
            },
        )
    }

    /// The Purview audit log of `upns` over `windows` (which make up `window`);
    /// the Management Activity API's last days when the query API is unavailable.
    pub async fn purview(
        &self,
        (windows, upns): (Vec<Window>, Vec<String>),
        targets: &[Target],
        window: Window,
        asked: Option<AuditApi>,
        case: &str,
    ) -> Result<SourceSummary, CollectError> {
        let mut pending = windows;
        self.observer.started(SOURCE, pending.len());
        // The queries run for minutes on Microsoft's side, so they are created
        // before the other sources take the concurrency slots: the slots free
        // now are taken before the version probe awaits the network.
        let mut early: Vec<SemaphorePermit<'_>> =
            std::iter::from_fn(|| self.gate.try_acquire().ok())
                .take(pending.len())
                .collect();
        let service = self.audit_service(asked).await;
        let facts = Facts::default();
        let mut finished: Vec<(Window, String, QueryOutcome)> = Vec::new();
        let mut splits = 0u64;
        while !pending.is_empty() {
            let round: Vec<Window> = std::mem::take(&mut pending);
            let ended = join_all(
                round
                    .iter()
                    .map(|w| self.audit_window(&service, *w, &upns, case, &facts, early.pop())),
            )
            .await;
            for (w, e) in round.into_iter().zip(ended) {
                match e {
                    Ended::Paged(pagings) => {
                        finished.extend(pagings.into_iter().map(|(k, o)| (w, k, o)))
                    }
                    Ended::Split(a, b) => {
                        splits += 1;
                        pending.extend([a, b]);
                    }
                }
            }
        }
        let query_api_unavailable = !finished.is_empty()
            && finished
                .iter()
                .all(|(_, _, o)| matches!(o, Err(p) if p.unavailable));
        if query_api_unavailable {
            let why: Vec<String> = finished
                .iter()
                .filter_map(|(_, _, o)| o.as_ref().err().map(|p| p.why.clone()))
                .fold(Vec::new(), |mut v: Vec<String>, w| {
                    if !v.contains(&w) {
                        v.push(w);
                    }
                    v
                });
            return self
                .management_fallback(targets, window, why.join("; "))
                .await;
        }
        // In window order, a second paging after its first.
        finished.sort_by(|a, b| (a.0.since, &a.1).cmp(&(b.0.since, &b.1)));
        let keys: Vec<String> = finished.iter().map(|(_, k, _)| k.clone()).collect();
        let outcomes: Vec<QueryOutcome> = finished.into_iter().map(|(_, _, o)| o).collect();
        let mut details = Map::new();
        details.insert("window".into(), window_json(&window));
        details.insert(
            "api".into(),
            json!(format!(
                "graph {} security/auditLog/queries",
                service.api.segment()
            )),
        );
        if let Some(note) = &service.note {
            details.insert("api_probe".into(), json!(note));
        }
        details.insert("user_principal_names".into(), json!(upns));
        details.insert("windows_split_for_record_limit".into(), json!(splits));
        details.insert(
            "queries_reused".into(),
            json!(facts.reused.load(std::sync::atomic::Ordering::Relaxed)),
        );
        let repaged = facts
            .repaged
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        if !repaged.is_empty() {
            details.insert("paged_twice".into(), json!(repaged));
        }
        let summary = self.merge(
            SOURCE,
            &keys,
            &outcomes,
            &["id"],
            Some("createdDateTime"),
            details,
        )?;
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// The Management Activity API: every blob of each content type for each
    /// 24-hour slice of the last 7 days, the targets' records kept, duplicates
    /// (expected across blobs) removed by `Id`.
    async fn management_fallback(
        &self,
        targets: &[Target],
        window: Window,
        why: String,
    ) -> Result<SourceSummary, CollectError> {
        tracing::warn!("purview-audit: the audit-log query API is unavailable ({why}); falling back to the Management Activity API, which keeps only {MANAGEMENT_DAYS} days");
        let oldest = Utc::now() - Duration::days(MANAGEMENT_DAYS) + Duration::minutes(5);
        let reachable = Window {
            since: window.since.max(oldest),
            until: window.until,
        };
        let ids: Vec<String> = targets
            .iter()
            .flat_map(|t| [t.upn.to_lowercase(), t.id.to_lowercase()])
            .collect();
        let tenant = self.tenant_id();
        let mut asks = Vec::new();
        if reachable.since < reachable.until {
            for slice in reachable.split(Duration::hours(24)) {
                for ct in CONTENT_TYPES {
                    asks.push((ct.to_string(), slice));
                }
            }
        }
        let runs = asks
            .iter()
            .map(|(ct, w)| self.management_slice(&tenant, ct, *w, &ids));
        let outcomes: Vec<QueryOutcome> = join_all(runs).await;
        let keys: Vec<String> = asks
            .iter()
            .map(|(ct, w)| {
                format!(
                    "management {ct} {}/{}",
                    format_utc(w.since),
                    format_utc(w.until)
                )
            })
            .collect();
        let mut details = Map::new();
        details.insert("window".into(), window_json(&reachable));
        details.insert("window_asked".into(), window_json(&window));
        details.insert(
            "api".into(),
            json!("Office 365 Management Activity API (fallback)"),
        );
        details.insert("fallback_reason".into(), json!(why));
        let mut summary = self.merge(
            SOURCE,
            &keys,
            &outcomes,
            &["Id"],
            Some("CreationTime"),
            details,
        )?;
        if reachable.since > window.since && summary.status == SourceStatus::Complete {
            summary.status = SourceStatus::Partial;
            summary.reason = Some(format!(
                "the audit-log query API is unavailable ({why}); the Management Activity API keeps {MANAGEMENT_DAYS} days, so {} to {} is missing: export it from the Purview portal and import it",
                format_utc(window.since),
                format_utc(reachable.since)
            ));
            write_summary(&self.workdir, &summary)?;
        }
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// The content blobs of one content type over one slice.
    async fn content_blobs(
        &self,
        k: &str,
        base: &url::Url,
        tenant: &str,
        ct: &str,
        w: &Window,
    ) -> Result<(Vec<String>, QueryTally), QueryProblem> {
        let mut list_url = base.clone();
        list_url.set_path(&format!(
            "/api/v1.0/{tenant}/activity/feed/subscriptions/content"
        ));
        list_url
            .query_pairs_mut()
            .append_pair("contentType", ct)
            .append_pair(
                "startTime",
                &w.since.format("%Y-%m-%dT%H:%M:%S").to_string(),
            )
            .append_pair("endTime", &w.until.format("%Y-%m-%dT%H:%M:%S").to_string())
            .append_pair("PublisherIdentifier", tenant);
        let list = Request::new(Api::Management, list_url, Budget::Management, SOURCE)
            .permission("ActivityFeed.Read");
        let mut blobs = Vec::new();
        let mut pages = self.client.pages(list);
        let mut tally = QueryTally::default();
        loop {
            match pages.next_page().await {
                Ok(Some(p)) => {
                    tally.pages += 1;
                    tally.retries += u64::from(p.attempts - 1);
                    blobs.extend(
                        p.records
                            .iter()
                            .filter_map(|b| b["contentUri"].as_str().map(String::from)),
                    );
                }
                Ok(None) => return Ok((blobs, tally)),
                Err(e) => return Err(QueryProblem::from_graph(k, &e)),
            }
        }
    }

    /// The records of one content blob (which must be on the API's own host).
    async fn blob(
        &self,
        k: &str,
        base: &url::Url,
        tenant: &str,
        uri: &str,
        tally: &mut QueryTally,
    ) -> Result<Vec<Value>, QueryProblem> {
        let mut url = url::Url::parse(uri)
            .map_err(|e| QueryProblem::new(k, false, format!("content URI {uri:?}: {e}")))?;
        if url.origin() != base.origin() {
            return Err(QueryProblem::new(
                k,
                false,
                format!("content URI on another host: {uri}"),
            ));
        }
        url.query_pairs_mut()
            .append_pair("PublisherIdentifier", tenant);
        let req = Request::new(Api::Management, url, Budget::Management, SOURCE)
            .permission("ActivityFeed.Read");
        let fetched = self
            .client
            .get(&req)
            .await
            .map_err(|e| QueryProblem::from_graph(k, &e))?;
        tally.pages += 1;
        tally.retries += u64::from(fetched.attempts - 1);
        Ok(match fetched.json {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        })
    }

    pub(crate) fn tenant_id(&self) -> String {
        self.client
            .tokens()
            .identity()
            .and_then(|c| c["tid"].as_str().map(String::from))
            .unwrap_or_default()
    }

    /// One content type over one 24-hour slice.
    async fn management_slice(
        &self,
        tenant: &str,
        ct: &str,
        w: Window,
        ids: &[String],
    ) -> QueryOutcome {
        let k = format!(
            "management {ct} {}/{}",
            format_utc(w.since),
            format_utc(w.until)
        );
        if let Some(done) = self.journal.done(SOURCE, &k) {
            self.observer
                .records(SOURCE, done.tally.pages, done.tally.records);
            return Ok(done);
        }
        let _permit = self.gate.acquire().await.expect("gate never closes");
        let Some(base) = self.client.tokens().endpoints().manage.clone() else {
            return Err(QueryProblem::new(
                &k,
                true,
                "this cloud has no Office 365 Management Activity API",
            ));
        };
        let (blobs, mut tally) = self.content_blobs(&k, &base, tenant, ct, &w).await?;
        let mut spool = self.journal.spool(SOURCE, &k).map_err(QueryProblem::disk)?;
        for uri in blobs {
            let records = self.blob(&k, &base, tenant, &uri, &mut tally).await?;
            let before = tally.records;
            for record in records {
                let who = ["UserId", "UserKey", "MailboxOwnerUPN", "ObjectId"]
                    .iter()
                    .filter_map(|f| record[f].as_str())
                    .any(|v| ids.iter().any(|id| id.eq_ignore_ascii_case(v)));
                let when = record_time(&record, "CreationTime").is_some_and(|t| w.contains(t));
                if who && when {
                    tally.records += 1;
                    spool.push(&record).map_err(QueryProblem::disk)?;
                } else {
                    tally.outside += 1;
                }
            }
            self.observer.records(SOURCE, 1, tally.records - before);
        }
        self.journal
            .finish(SOURCE, &k, spool, tally, Vec::new(), Vec::new())
            .map_err(QueryProblem::disk)
    }
}
