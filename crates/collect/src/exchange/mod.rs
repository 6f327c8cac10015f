//! `--exchange`: the data only Exchange Online has (hidden inbox rules,
//! mailbox forwarding and audit settings, mailbox and Send As permissions,
//! transport rules, whether the unified audit log ingests), read with the
//! allowlisted cmdlets of [`m365_preserve_sources::Cmdlet`] through the
//! module's own REST endpoint ([`rest`]).
//!
//! Read-only twice over: the client can express nothing but those `Get-`
//! cmdlets, and before anything is collected [`check_access`] asks Exchange,
//! through the module's cmdlet listing, what the app's roles let it run; if
//! that is anything but `Get-` cmdlets, the collection is refused (the README's
//! setup gives the app custom roles holding only the cmdlets it needs).

pub mod rest;

use crate::auth::decode_claims;
use crate::collector::{Collector, QueryOutcome, QueryProblem};
use crate::graph::{GraphError, ReadOnlyClient, Request};
use crate::journal::{replay, Finished, QueryTally};
use crate::CollectError;
use age::secrecy::ExposeSecret;
use futures_util::future::join_all;
use m365_preserve_package::evidence::{write_summary, SourceStatus, SourceSummary};
use m365_preserve_sources::{Cmdlet, CmdletName, Source};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The application permission of Office 365 Exchange Online that app-only
/// access needs (<https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2>).
pub const MANAGE_AS_APP: &str = "Exchange.ManageAsApp";

/// Pages of one cmdlet beyond which paging is taken to be broken.
const MAX_PAGES: u64 = 10_000;

/// What the app may do in Exchange Online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// It can run these cmdlets, every one a `Get-`.
    ReadOnly { cmdlets: Vec<String> },
    /// Exchange cannot be read with this credential, and why (the Exchange
    /// sources end unavailable with this reason).
    Unavailable(String),
}

/// The app can change the tenant through Exchange: `--exchange` refuses to run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("--exchange refused before collecting anything: the app's Exchange roles let it run {} cmdlets that are not Get- ({}{}), so it could change the tenant. Give it only the custom read-only roles of the README (Exchange Online setup), check with `m365-preserve doctor --exchange`, then run again", .writes.len(), .writes.iter().take(8).cloned().collect::<Vec<_>>().join(", "), if .writes.len() > 8 { ", ..." } else { "" })]
pub struct NotReadOnly {
    /// Every cmdlet the app may run that is not a `Get-`.
    pub writes: Vec<String>,
}

/// Checks what the app may run in Exchange Online: the token must carry
/// [`MANAGE_AS_APP`], and the module's cmdlet listing must hold nothing but
/// `Get-` cmdlets.
pub async fn check_access(client: &ReadOnlyClient, tenant_id: &str) -> Result<Access, NotReadOnly> {
    let endpoints = client.tokens().endpoints();
    let token = match client.tokens().token(&endpoints.exchange_resource).await {
        Ok(t) => t,
        Err(e) => {
            return Ok(Access::Unavailable(format!(
                "no token for Exchange Online ({e})"
            )))
        }
    };
    let roles = decode_claims(token.expose_secret())
        .and_then(|c| c.get("roles").cloned())
        .unwrap_or_default();
    if !roles
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == MANAGE_AS_APP))
    {
        return Ok(Access::Unavailable(format!(
            "the app lacks the permission {MANAGE_AS_APP} (Office 365 Exchange Online, application permission, admin consent; README: Exchange Online)"
        )));
    }
    let req = rest::cmdlet_listing(&endpoints.exchange, tenant_id);
    let listing = match client.get(&req).await {
        Ok(f) => f.json.unwrap_or_default(),
        Err(e) => {
            return Ok(Access::Unavailable(format!(
                "the app's Exchange cmdlets could not be listed: {e}"
            )))
        }
    };
    let cmdlets = match rest::exported_cmdlets(&listing) {
        Ok(c) => c,
        Err(why) => {
            return Ok(Access::Unavailable(format!(
                "the Exchange cmdlet listing: {why}"
            )))
        }
    };
    let writes: Vec<String> = cmdlets
        .iter()
        .filter(|c| !c.starts_with("Get-"))
        .cloned()
        .collect();
    if !writes.is_empty() {
        return Err(NotReadOnly { writes });
    }
    if cmdlets.is_empty() {
        return Ok(Access::Unavailable(
            "the app holds no Exchange role: give it the custom read-only roles (README: Exchange Online)"
                .into(),
        ));
    }
    Ok(Access::ReadOnly { cmdlets })
}

/// Whether the unified audit log ingests (`Get-AdminAuditLogConfig`), for `doctor`.
pub async fn audit_log_ingesting(
    client: &ReadOnlyClient,
    tenant_id: &str,
) -> Result<Option<bool>, GraphError> {
    let cmdlet = Cmdlet::GetAdminAuditLogConfig;
    let base = &client.tokens().endpoints().exchange;
    let req = rest::invoke(base, tenant_id, &cmdlet, Source::ExchangeAuditConfig);
    let fetched = client.invoke_command(&req, &cmdlet).await?;
    let page = rest::envelope(fetched.json.unwrap_or_default()).map_err(|message| {
        GraphError::InvalidResponse {
            url: req.url.to_string(),
            message,
        }
    })?;
    Ok(page
        .records
        .first()
        .and_then(|c| c["UnifiedAuditLogIngestionEnabled"].as_bool()))
}

/// The journal key of a cmdlet: what it is, as PowerShell would write it.
fn key(cmdlet: &Cmdlet) -> String {
    format!("POST InvokeCommand {cmdlet}")
}

/// Exchange's system rules, which `-IncludeHidden` also lists (CIPP and
/// Azure365Addict's hidden-rule scripts set these names apart).
fn is_system_rule(name: &str) -> bool {
    name == "Junk E-Mail Rule" || name.starts_with("Microsoft.Exchange.OOF.")
}

impl Collector<'_> {
    /// Collects one Exchange source from its cmdlets into `evidence/<source>.{json,csv}`.
    pub async fn exchange_source(
        &self,
        source: Source,
        cmdlets: &[Cmdlet],
        access: &Access,
    ) -> Result<SourceSummary, CollectError> {
        self.observer.started(source, cmdlets.len());
        let tenant = self.tenant_id();
        let outcomes = join_all(
            cmdlets
                .iter()
                .map(|c| self.cmdlet(source, c, access, &tenant)),
        )
        .await;
        let keys: Vec<String> = cmdlets.iter().map(key).collect();
        let mut details = Map::new();
        details.insert(
            "api".into(),
            json!("Exchange Online admin API, POST /adminapi/beta/{tenant}/InvokeCommand"),
        );
        if let Access::ReadOnly { cmdlets } = access {
            details.insert("app_exchange_cmdlets".into(), json!(cmdlets));
        }
        if source == Source::ExchangeInboxRules {
            mark_rules(cmdlets, &outcomes, &mut details)?;
        }
        let id_field = match source {
            Source::ExchangeInboxRules => &["Identity"][..],
            Source::ExchangeMailbox => &["ExchangeGuid"],
            Source::ExchangeTransportRules => &["Guid"],
            _ => &[],
        };
        let mut summary = self.merge(source, &keys, &outcomes, id_field, None, details)?;
        if let Some(why) = outcomes
            .iter()
            .flatten()
            .flat_map(|f| &f.notes)
            .find(|n| n.contains(rest::MORE_RESULTS))
        {
            summary.status = SourceStatus::Partial;
            summary.reason = Some(format!("Exchange returned only part of the results: {why}"));
        }
        self.observe_findings(&mut summary)?;
        write_summary(&self.workdir, &summary)?;
        self.observer.finished(&summary);
        Ok(summary)
    }

    /// Runs one cmdlet into its spool, page by page, unless an earlier run finished it.
    async fn cmdlet(
        &self,
        source: Source,
        cmdlet: &Cmdlet,
        access: &Access,
        tenant: &str,
    ) -> QueryOutcome {
        let key = key(cmdlet);
        if let Access::Unavailable(why) = access {
            return Err(QueryProblem::new(&key, true, why.clone()));
        }
        if let Some(done) = self.journal.done(source, &key) {
            self.observer
                .records(source, done.tally.pages, done.tally.records);
            return Ok(done);
        }
        let _permit = self.gate.acquire().await.expect("gate never closes");
        let mut spool = self
            .journal
            .spool(source, &key)
            .map_err(QueryProblem::disk)?;
        let mut tally = QueryTally::default();
        let mut notes = Vec::new();
        let base = &self.client.tokens().endpoints().exchange;
        let mut req = rest::invoke(base, tenant, cmdlet, source);
        loop {
            let fetched = match self.client.invoke_command(&req, cmdlet).await {
                Ok(f) => f,
                // A link that stops working mid-way is a broken collection, not a missing mailbox.
                Err(GraphError::NotFound { message, .. }) if tally.pages > 0 => {
                    return Err(QueryProblem::new(
                        &key,
                        false,
                        format!(
                            "the next page stopped existing after {} pages ({message})",
                            tally.pages
                        ),
                    ))
                }
                Err(e) => return Err(QueryProblem::from_graph(&key, &e)),
            };
            tally.pages += 1;
            tally.retries += u64::from(fetched.attempts - 1);
            let page = rest::envelope(fetched.json.unwrap_or_default())
                .map_err(|m| QueryProblem::new(&key, false, format!("unexpected response: {m}")))?;
            notes.extend(
                page.warnings
                    .iter()
                    .map(|w| format!("Exchange warned: {w}")),
            );
            let n = page.records.len() as u64;
            for record in page.records {
                spool.push(&record).map_err(QueryProblem::disk)?;
            }
            tally.records += n;
            self.observer.records(source, 1, n);
            let Some(link) = page.next else { break };
            req = self.next_page(&req, &link, &key, tally.pages)?;
        }
        self.journal
            .finish(source, &key, spool, tally, notes, Vec::new())
            .map_err(QueryProblem::disk)
    }

    /// The request for the page at `link`: the same cmdlet re-sent, only to
    /// the host the first page came from.
    fn next_page(
        &self,
        req: &Request,
        link: &str,
        key: &str,
        pages: u64,
    ) -> Result<Request, QueryProblem> {
        let url = url::Url::parse(link)
            .map_err(|e| QueryProblem::new(key, false, format!("next page link {link:?}: {e}")))?;
        if url.origin() != req.url.origin() {
            return Err(QueryProblem::new(
                key,
                false,
                format!("the next page link points to another host: {link}"),
            ));
        }
        if pages >= MAX_PAGES {
            return Err(QueryProblem::new(
                key,
                false,
                format!("more than {MAX_PAGES} pages: paging looks broken"),
            ));
        }
        Ok(Request { url, ..req.clone() })
    }

    /// What the administrator must hear at once, on the console and in the
    /// manifest: forwarding, mailboxes not audited, the audit log not ingesting.
    fn observe_findings(&self, summary: &mut SourceSummary) -> Result<(), CollectError> {
        let records = read_records(&self.workdir.evidence_json(&summary.source))?;
        let mut warnings = Vec::new();
        for r in &records {
            let who = r["UserPrincipalName"]
                .as_str()
                .or(r["Identity"].as_str())
                .unwrap_or("?");
            if let Some(to) = r["ForwardingSmtpAddress"]
                .as_str()
                .or(r["ForwardingAddress"].as_str())
            {
                warnings.push(format!(
                    "mailbox {who} forwards all mail to {to} (DeliverToMailboxAndForward: {})",
                    r["DeliverToMailboxAndForward"]
                ));
            }
            if r["AuditEnabled"] == false {
                warnings.push(format!("mailbox auditing is off for {who}"));
            }
            if r["UnifiedAuditLogIngestionEnabled"] == false {
                warnings.push("the unified audit log is NOT ingesting (UnifiedAuditLogIngestionEnabled: False): Purview holds no audit records for the time it was off; tell the IR firm. Turning it on (Set-AdminAuditLogConfig) is a change an administrator makes, not this tool".to_string());
            }
            if r["AuditBypassEnabled"] == true {
                warnings.push(format!(
                    "mailbox access by {who} is not audited (AuditBypassEnabled)"
                ));
            }
        }
        if let Some(hidden) = summary
            .details
            .get("hidden_rules")
            .and_then(Value::as_array)
        {
            for h in hidden {
                warnings.push(format!(
                    "hidden inbox rule {:?} in {} (only Get-InboxRule -IncludeHidden lists it)",
                    h["Name"].as_str().unwrap_or(""),
                    h["mailbox"].as_str().unwrap_or("?")
                ));
            }
        }
        for w in &warnings {
            tracing::warn!("{}: {w}", summary.source);
        }
        if !warnings.is_empty() {
            summary.details.insert("warnings".into(), json!(warnings));
        }
        Ok(())
    }
}

fn read_records(path: &std::path::Path) -> Result<Vec<Value>, CollectError> {
    let text = std::fs::read(path).map_err(|source| CollectError::WorkFolder {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(serde_json::from_slice(&text).unwrap_or_default())
}

/// Which rules are hidden: those `Get-InboxRule -IncludeHidden` lists and the
/// plain call does not (shared/reference/exchange-rest.md §4, "Hidden rules").
/// System rules are labelled apart; rules in error are named too. The records
/// stay as served; the marks go into the manifest's details.
fn mark_rules(
    cmdlets: &[Cmdlet],
    outcomes: &[QueryOutcome],
    details: &mut Map<String, Value>,
) -> Result<(), CollectError> {
    let spool = |mailbox: &str, hidden: bool| -> Option<&Finished> {
        cmdlets
            .iter()
            .zip(outcomes)
            .find(|(c, _)| {
                matches!(c, Cmdlet::GetInboxRule { mailbox: m, include_hidden } if m == mailbox && *include_hidden == hidden)
            })
            .and_then(|(_, o)| o.as_ref().ok())
    };
    let mailboxes: BTreeSet<&str> = cmdlets.iter().filter_map(Cmdlet::mailbox).collect();
    let (mut hidden_rules, mut system_rules, mut in_error, mut notes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for mailbox in mailboxes {
        let (Some(all), Some(visible)) = (spool(mailbox, true), spool(mailbox, false)) else {
            notes.push(format!("hidden rules of {mailbox} could not be told apart: one of its two Get-InboxRule calls failed"));
            continue;
        };
        let mut listed = BTreeSet::new();
        replay(&visible.spool, |r| {
            listed.insert(r["Identity"].as_str().unwrap_or("").to_string());
            Ok(())
        })?;
        let mut seen = BTreeSet::new();
        replay(&all.spool, |r| {
            let identity = r["Identity"].as_str().unwrap_or("").to_string();
            let name = r["Name"].as_str().unwrap_or("");
            let mark = json!({"mailbox": mailbox, "Identity": identity, "RuleIdentity": r["RuleIdentity"], "Name": name});
            if r["InError"] == true {
                in_error.push(mark.clone());
            }
            if !listed.contains(&identity) {
                if is_system_rule(name) {
                    system_rules.push(mark);
                } else {
                    hidden_rules.push(mark);
                }
            }
            seen.insert(identity);
            Ok(())
        })?;
        for gone in listed.difference(&seen) {
            notes.push(format!("rule {gone} of {mailbox} was listed without -IncludeHidden but not with it: it changed between the two calls"));
        }
    }
    details.insert("hidden_rules".into(), json!(hidden_rules));
    details.insert("system_rules".into(), json!(system_rules));
    if !in_error.is_empty() {
        details.insert("rules_in_error".into(), json!(in_error));
    }
    details.insert(
        "marking".into(),
        json!("a rule listed by Get-InboxRule -IncludeHidden but not by Get-InboxRule is hidden; Junk E-Mail Rule and Microsoft.Exchange.OOF.* are Exchange's system rules; records are the -IncludeHidden output as served"),
    );
    if !notes.is_empty() {
        details.insert("rule_notes".into(), json!(notes));
    }
    Ok(())
}

/// What `doctor --exchange` finds, without collecting anything.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checkup {
    /// The cmdlets the app may run (empty when they could not be listed).
    pub cmdlets: Vec<String>,
    /// Those that are not `Get-`: `collect --exchange` refuses while there are any.
    pub not_read_only: Vec<String>,
    /// Why Exchange Online cannot be read with this credential, if it cannot.
    pub unavailable: Option<String>,
    /// `UnifiedAuditLogIngestionEnabled`, when it could be read.
    pub audit_log_ingesting: Option<bool>,
    /// Why it could not be read.
    pub audit_log_problem: Option<String>,
    /// Per Exchange source, what it still needs (empty: ready).
    pub sources: Vec<SourceCheck>,
}

/// One Exchange source's readiness.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceCheck {
    pub source: Source,
    pub missing: Vec<String>,
}

/// The Exchange checks of `doctor`: the app's roles, each source's cmdlets,
/// and whether the unified audit log ingests.
pub async fn checkup(client: &ReadOnlyClient, tenant_id: &str) -> Checkup {
    let access = check_access(client, tenant_id).await;
    let (cmdlets, not_read_only, unavailable) = match &access {
        Ok(Access::ReadOnly { cmdlets }) => (cmdlets.clone(), Vec::new(), None),
        Ok(Access::Unavailable(why)) => (Vec::new(), Vec::new(), Some(why.clone())),
        Err(refused) => (Vec::new(), refused.writes.clone(), None),
    };
    // The listed cmdlets this tool may run (anything else does not parse).
    let held: BTreeSet<CmdletName> = cmdlets.iter().filter_map(|c| c.parse().ok()).collect();
    let sources = Source::exchange()
        .map(|source| {
            let missing = match &unavailable {
                Some(why) => vec![why.clone()],
                None if !not_read_only.is_empty() => {
                    vec![
                        "the app can run cmdlets that are not Get-: collect --exchange refuses"
                            .into(),
                    ]
                }
                None => source
                    .cmdlets()
                    .iter()
                    .filter(|c| !held.contains(c))
                    .map(|c| format!("an Exchange role holding {c}"))
                    .collect(),
            };
            SourceCheck { source, missing }
        })
        .collect();
    let (audit_log_ingesting, audit_log_problem) = match &access {
        Ok(Access::ReadOnly { cmdlets })
            if cmdlets.iter().any(|c| c == "Get-AdminAuditLogConfig") =>
        {
            match audit_log_ingesting(client, tenant_id).await {
                Ok(v) => (v, None),
                Err(e) => (None, Some(e.to_string())),
            }
        }
        _ => (
            None,
            Some("Get-AdminAuditLogConfig cannot be run with this app".into()),
        ),
    };
    Checkup {
        cmdlets,
        not_read_only,
        unavailable,
        audit_log_ingesting,
        audit_log_problem,
        sources,
    }
}
