//! What the sources an IR firm asks for beyond the first 22 need around their
//! queries: a prerequisite checked before collecting, the Internet Message-IDs
//! of the phishing messages, the colleagues who received them, `hidden` risk
//! values, and how long the tenant keeps each source (from its licences).

use crate::collector::{Collector, QueryProblem};
use crate::graph::{graph_url, Api, GraphError, Request};
use crate::journal::replay;
use crate::query::key;
use crate::CollectError;
use chrono::{DateTime, Duration, Utc};
use m365_preserve_package::evidence::{write_summary, SourceStatus, SourceSummary};
use m365_preserve_package::timefmt::{format_utc, parse_iso_datetime};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::{
    is_internet_message_id, Budget, Entitlements, Plan, PlanInput, Query, ServicePlan, Source,
    Target, Window,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The Internet Message-IDs of `--message-id`s: given as such, or read from
/// whichever target's mailbox holds the Graph message; and, for each id no
/// mailbox holds, why.
pub(crate) async fn internet_ids(
    c: &Collector<'_>,
    targets: &[Target],
    ids: &[String],
) -> (Vec<String>, Vec<String>) {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        if is_internet_message_id(id) {
            found.push(id.clone());
            continue;
        }
        let mut last = String::from("no target's mailbox holds it");
        for t in targets {
            let path = format!(
                "/v1.0/users/{}/messages/{id}?$select=internetMessageId",
                t.id
            );
            let req = Request::new(
                Api::Graph,
                graph_url(&c.graph, &path),
                Budget::Outlook,
                Source::MessageTrace,
            )
            .permission("Mail.ReadBasic.All");
            match c.client.get(&req).await {
                Ok(f) => match f
                    .json
                    .as_ref()
                    .and_then(|v| v["internetMessageId"].as_str())
                {
                    Some(m) => {
                        found.push(m.to_string());
                        last.clear();
                        break;
                    }
                    None => last = "its message has no internetMessageId".into(),
                },
                Err(GraphError::NotFound { .. }) => {}
                Err(e) => last = e.to_string(),
            }
        }
        if !last.is_empty() {
            missing.push(format!(
                "message {id} could not be traced: {last}; give its Internet Message-ID (<...@...>) with --message-id"
            ));
        }
    }
    found.dedup();
    (found, missing)
}

impl Collector<'_> {
    /// Collects `source` after checking what it needs in the tenant: without
    /// it the source is unavailable with the sentence that says how to add it.
    pub(crate) async fn run_checked(
        &self,
        source: Source,
        plan: &[Query],
        window: Window,
    ) -> Result<SourceSummary, CollectError> {
        let Some(p) = source.prerequisite() else {
            return self.run_source(source, plan, window).await;
        };
        let check = format!("GET {}", p.check);
        let req = Request::new(
            Api::Graph,
            graph_url(&self.graph, p.check),
            Budget::Directory,
            source,
        )
        .permission(p.check_permission);
        match self.client.get(&req).await {
            Ok(f) if f.json.as_ref().is_some_and(|v| v["value"] == json!([])) => {
                tracing::warn!("{source}: {}", p.missing);
                self.observer.started(source, 0);
                let mut details = serde_json::Map::new();
                details.insert("window".into(), crate::window_json(&window));
                details.insert(
                    "prerequisite".into(),
                    json!({"what": p.what, "present": false}),
                );
                let problem = Err(QueryProblem::new(&check, true, p.missing));
                let summary = self.merge(
                    source,
                    &[check],
                    &[problem],
                    source.record_key(),
                    None,
                    details,
                )?;
                self.observer.finished(&summary);
                Ok(summary)
            }
            // Present, or not checkable (permission): the queries will tell.
            checked => {
                let mut summary = self.run_source(source, plan, window).await?;
                let present = match &checked {
                    Ok(_) => json!(true),
                    Err(e) => json!(format!("not checked: {e}")),
                };
                summary.details.insert(
                    "prerequisite".into(),
                    json!({"what": p.what, "present": present}),
                );
                write_summary(&self.workdir, &summary)?;
                Ok(summary)
            }
        }
    }
}

/// The records of a source's evidence file.
fn evidence(workdir: &WorkDir, source: Source) -> Vec<Value> {
    std::fs::read(workdir.evidence_json(source.as_str()))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Marks a complete source partial (a partial one keeps its status) and adds `why`.
fn partial(s: &mut SourceSummary, why: &str) {
    if s.status == SourceStatus::Complete {
        s.status = SourceStatus::Partial;
    }
    s.reason = Some(match s.reason.take() {
        Some(r) => format!("{r}; {why}"),
        None => why.to_string(),
    });
}

/// What [`annotate`] needs to know of the run.
pub(crate) struct Context<'a> {
    pub input: &'a PlanInput<'a>,
    /// The message-trace window asked for (before the 90-day limit).
    pub trace_asked: Window,
    /// `--message-id`s that could not be traced, with why.
    pub untraced: &'a [String],
}

/// Adds to the summaries what only the whole run knows, and rewrites them.
pub(crate) fn annotate(
    c: &Collector<'_>,
    summaries: &mut [SourceSummary],
    cx: &Context<'_>,
) -> Result<(), CollectError> {
    let entitlements = entitlements_of_run(c, summaries, cx.input);
    for s in summaries.iter_mut() {
        let Some(source) = Source::from_name(&s.source) else {
            continue;
        };
        let before = s.clone();
        match source {
            Source::MessageTrace => message_trace(&c.workdir, s, cx),
            Source::RiskyServicePrincipals | Source::ServicePrincipalRiskDetections => {
                hidden(&c.workdir, source, s)
            }
            _ => {}
        }
        if let Some(e) = &entitlements {
            retention(source, s, e, cx.input.targets);
        }
        if *s != before {
            write_summary(&c.workdir, s)?;
        }
    }
    Ok(())
}

/// The colleagues who received each phishing message or sender's mail, the
/// 90-day limit, and the messages that could not be traced.
fn message_trace(workdir: &WorkDir, s: &mut SourceSummary, cx: &Context<'_>) {
    let rows = evidence(workdir, Source::MessageTrace);
    let recipients = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let set: BTreeSet<String> = rows
            .iter()
            .filter(|r| keep(r))
            .filter_map(|r| r["recipientAddress"].as_str().map(str::to_lowercase))
            .collect();
        set.into_iter().collect()
    };
    let field_is =
        |r: &Value, k: &str, v: &str| r[k].as_str().is_some_and(|x| x.eq_ignore_ascii_case(v));
    let mut warn = Vec::new();
    for m in cx.input.internet_message_ids {
        let to = recipients(&|r| field_is(r, "messageId", m));
        tracing::warn!(
            "message-trace: {} recipient(s) of {m} (warn them): {}",
            to.len(),
            to.join(", ")
        );
        warn.push(json!({"message_id": m, "recipients": to}));
    }
    for sender in cx.input.phish_senders {
        let to = recipients(&|r| field_is(r, "senderAddress", sender));
        tracing::warn!(
            "message-trace: {} recipient(s) of mail from {sender} (warn them): {}",
            to.len(),
            to.join(", ")
        );
        warn.push(json!({"sender": sender, "recipients": to}));
    }
    if !warn.is_empty() {
        s.details.insert("phishing_recipients".into(), json!(warn));
    }
    s.details.insert(
        "partitioned".into(),
        json!("each row is kept by one query: rows sent by a target by its sender query, other rows to a target by its recipient query, the rest by the phishing sender's or message's query; records_outside_query counts the rows another query keeps and those outside the window"),
    );
    let reachable = cx.input.trace;
    if reachable.since > cx.trace_asked.since {
        s.details
            .insert("window_asked".into(), crate::window_json(&cx.trace_asked));
        partial(
            s,
            &format!(
                "message trace reaches {} days back, so {} to {} cannot be traced",
                m365_preserve_sources::TRACE_DAYS,
                format_utc(cx.trace_asked.since),
                format_utc(reachable.since.min(cx.trace_asked.until))
            ),
        );
    }
    for why in cx.untraced {
        partial(s, why);
    }
}

/// Counts the records whose risk level or detail is `hidden` (no Workload ID
/// Premium): kept as served, and said so.
fn hidden(workdir: &WorkDir, source: Source, s: &mut SourceSummary) {
    let n = evidence(workdir, source)
        .iter()
        .filter(|r| r["riskLevel"] == "hidden" || r["riskDetail"] == "hidden")
        .count();
    if n > 0 {
        let text = format!("{n} record(s) carry riskLevel or riskDetail \"hidden\": the tenant lacks Workload ID Premium, so Microsoft withholds them; kept as served");
        tracing::warn!("{source}: {text}");
        s.details
            .insert("hidden_values".into(), json!({"records": n, "why": text}));
    }
}

/// The service plans of the tenant and of each target, from the `licences`
/// source's queries (subscribed SKUs first, then one per target).
fn entitlements_of_run(
    c: &Collector<'_>,
    summaries: &[SourceSummary],
    input: &PlanInput<'_>,
) -> Option<Entitlements> {
    let licences = summaries
        .iter()
        .find(|s| s.source == Source::Licences.as_str())?;
    if licences.status != SourceStatus::Complete {
        return None;
    }
    let Plan::Queries(queries) = Source::Licences.plan(input) else {
        return None;
    };
    // The spools of this run (or of the run it resumes) hold each query's records.
    let records = |q: &Query| -> Option<Vec<Value>> {
        let spool = c.journal.spool_path(Source::Licences, &key(q));
        let mut out = Vec::new();
        replay(&spool, |r| {
            out.push(r);
            Ok(())
        })
        .ok()?;
        Some(out)
    };
    let skus = records(queries.first()?)?;
    let users = input
        .targets
        .iter()
        .zip(queries.iter().skip(1))
        .filter_map(|(t, q)| Some((t.upn.clone(), records(q)?)))
        .collect::<Vec<_>>();
    Some(entitlements(&skus, &users))
}

/// Service plans provisioned (`Success`) in enabled subscriptions, and in each
/// user's licence details
/// (<https://learn.microsoft.com/graph/api/resources/subscribedsku>).
pub fn entitlements(skus: &[Value], users: &[(String, Vec<Value>)]) -> Entitlements {
    let plans = |licence: &Value| -> Vec<ServicePlan> {
        licence["servicePlans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["provisioningStatus"] == "Success")
            .filter_map(|p| p["servicePlanId"].as_str().and_then(ServicePlan::from_id))
            .collect()
    };
    let mut e = Entitlements::default();
    for sku in skus {
        if matches!(
            sku["capabilityStatus"].as_str(),
            Some("Enabled" | "Warning")
        ) {
            e.tenant.extend(plans(sku));
        }
    }
    for (upn, details) in users {
        e.users
            .entry(upn.to_lowercase())
            .or_default()
            .extend(details.iter().flat_map(plans));
    }
    e
}

/// How long the tenant keeps the source's records and when the oldest one
/// collected expires, per target for Purview (Audit Premium is per user).
fn retention(source: Source, s: &mut SourceSummary, e: &Entitlements, targets: &[Target]) {
    let oldest = s
        .first_timestamp
        .as_deref()
        .and_then(parse_iso_datetime)
        .map(|t| t.utc);
    let statement = |upn: Option<&str>| {
        let r = source.retention(e, upn)?;
        let expires = r.days.zip(oldest).map(|(d, t)| t + Duration::days(d));
        let mut statement = json!({
            "kept_days": r.days,
            "rule": r.rule,
            "oldest_record": oldest.map(format_utc),
            "oldest_expires": expires.map(|t: DateTime<Utc>| format_utc(t)),
        });
        if let Some(u) = upn {
            statement["user"] = json!(u);
        }
        Some(statement)
    };
    let statements: Vec<Value> = if source == Source::PurviewAudit {
        targets
            .iter()
            .filter_map(|t| statement(Some(&t.upn)))
            .collect()
    } else {
        statement(None).into_iter().collect()
    };
    if !statements.is_empty() {
        s.details.insert("retention".into(), json!(statements));
    }
}
