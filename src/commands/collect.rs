//! `m365-preserve collect`: resolve targets, collect every source (resumable),
//! seal.

use super::connect::{http_client, token_provider};
use super::private_dir;
use super::seal::{exit_code, print_outcome, recipients_and_key, seal_plan, Sealing};
use crate::cli::CollectArgs;
use crate::logging::LogCapture;
use crate::progress::SourceBars;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use clap::ValueEnum;
use futures_util::future::join_all;
use m365_preserve::collect::{
    entra_retention_days, linked_apps, messages, queries, resolve_target, AuditApi, Collector,
    Journal, PlanOptions, SpScope, Target, Window,
};
use m365_preserve::evidence::{write_summary, SourceStatus, SourceSummary, STATE_DIR};
use m365_preserve::graph::{Pacer, RawSink, ReadOnlyClient};
use m365_preserve::import::import_into;
use m365_preserve::package::custody::{append_to_work_log, CustodyEvent};
use m365_preserve::package::seal::{package_base, plan_content, Sealed};
use m365_preserve::sources::CATALOGUE;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Purview keeps audit records this long on Audit (Standard).
const PURVIEW_DAYS: i64 = 180;
/// Queries in flight at once unless `--concurrency` says otherwise.
const DEFAULT_CONCURRENCY: usize = 16;

pub fn run(args: CollectArgs, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let (sealed, summaries) = rt.block_on(collect(&args, quiet, log))?;
    if args.json {
        super::print_json(&json!({
            "package": sealed.paths.ciphertext,
            "seal": sealed.paths.seal,
            "signature": sealed.paths.signature,
            "custody": sealed.paths.custody,
            "completeness": sealed.seal.completeness,
            "sources": summaries,
            "seal_document": sealed.seal,
        }))?;
    } else {
        print_outcome(&sealed, false)?;
    }
    Ok(exit_code(&sealed))
}

/// What a collection was asked for, kept in the work folder so a resumed run
/// asks for exactly the same (in particular the same window, not a later one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunParams {
    case: String,
    users: Vec<String>,
    sources: Vec<String>,
    entra: Window,
    purview: Window,
    sp_scope: SpScope,
    audit_api: AuditApi,
    message_ids: Vec<String>,
    started: DateTime<Utc>,
}

fn source_names(args: &CollectArgs) -> Result<Vec<String>> {
    if args.sources.is_empty() {
        return Ok(CATALOGUE.iter().map(|s| s.name.to_string()).collect());
    }
    let mut v = Vec::new();
    for name in &args.sources {
        match CATALOGUE.iter().find(|s| s.name == name.trim()) {
            Some(s) => v.push(s.name.to_string()),
            None => bail!(
                "unknown source {name:?}; the sources are: {}",
                CATALOGUE
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(v)
}

/// Appends collection-time custody events to the work folder's log.
fn custody(workdir: &Path, events: Vec<CustodyEvent>) -> Result<()> {
    append_to_work_log(workdir, events)
        .with_context(|| format!("cannot write {}", workdir.join("custody.jsonl").display()))
}

fn event(action: &str, by: &str, details: serde_json::Value) -> CustodyEvent {
    let mut e = CustodyEvent::new(action, by);
    e.details = Some(details);
    e
}

fn params_path(workdir: &Path) -> PathBuf {
    workdir.join(STATE_DIR).join("run.json")
}

/// The work folder: a new private one, or the interrupted run's (`--resume`)
/// with what that run was asked for.
fn open_workdir(args: &CollectArgs, now: DateTime<Utc>) -> Result<(PathBuf, Option<RunParams>)> {
    if let Some(dir) = &args.resume {
        let text = std::fs::read_to_string(params_path(dir)).with_context(|| {
            format!(
                "{} is not the work folder of an interrupted collection (no {STATE_DIR}/run.json)",
                dir.display()
            )
        })?;
        let prior = serde_json::from_str(&text).context("run.json is damaged")?;
        return Ok((dir.clone(), Some(prior)));
    }
    let dir = args
        .case
        .out
        .join(format!(".work-{}", package_base(&args.case.case, now)));
    private_dir(&dir)?;
    Ok((dir, None))
}

/// A resumed run must ask for what the interrupted one asked for.
fn check_resumed(
    p: RunParams,
    args: &CollectArgs,
    names: &[String],
    workdir: &Path,
) -> Result<RunParams> {
    if (&p.case, &p.users, p.sources.as_slice()) != (&args.case.case, &args.users, names) {
        bail!(
            "--resume {}: that collection was for case {} users {:?} sources {:?}; run the same command again with --resume",
            workdir.display(),
            p.case,
            p.users,
            p.sources
        );
    }
    Ok(p)
}

/// Fixes the windows of a new run (probing the tenant's retention) and keeps
/// them in the work folder, so a resumed run asks for the same ones.
async fn new_run(
    args: &CollectArgs,
    names: Vec<String>,
    client: &ReadOnlyClient,
    base: &url::Url,
    now: DateTime<Utc>,
    workdir: &Path,
) -> Result<RunParams> {
    let until = args.until.unwrap_or(now);
    let entra_since = match args.since {
        Some(s) => s,
        None => {
            let days = entra_retention_days(client, base).await;
            tracing::info!("Entra logs are kept {days} days by this tenant");
            until - Duration::days(days)
        }
    };
    if entra_since >= until {
        bail!("--since must be before --until");
    }
    let p = RunParams {
        case: args.case.case.clone(),
        users: args.users.clone(),
        sources: names,
        entra: Window {
            since: entra_since,
            until,
        },
        purview: Window {
            since: args.since.unwrap_or(until - Duration::days(PURVIEW_DAYS)),
            until,
        },
        sp_scope: args.sp_scope,
        audit_api: args.audit_api,
        message_ids: args.message_ids.clone(),
        started: now,
    };
    let path = params_path(workdir);
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, serde_json::to_vec_pretty(&p)?)?;
    Ok(p)
}

/// Collects and seals; returns the package and the sources' summaries.
pub async fn collect(
    args: &CollectArgs,
    quiet: bool,
    log: &LogCapture,
) -> Result<(Sealed, Vec<SourceSummary>)> {
    let now = Utc::now();
    let names = source_names(args)?;
    let (recipients, key) = recipients_and_key(&args.recipients, &args.sealing)?;
    let http = http_client()?;
    let tokens = token_provider(&args.connect, http.clone())?;
    std::fs::create_dir_all(&args.case.out)
        .with_context(|| format!("cannot create {}", args.case.out.display()))?;
    let (workdir, prior) = open_workdir(args, now)?;
    let raw = Arc::new(RawSink::new(&workdir));
    let client = ReadOnlyClient::new(
        http,
        tokens.clone(),
        Arc::new(Pacer::documented(args.connect.time_scale)),
        super::connect::retry_policy(&args.connect),
        Some(raw),
    );
    let base = tokens.endpoints().graph.clone();

    let mut targets: Vec<Target> = Vec::new();
    for upn in &args.users {
        let t = resolve_target(&client, &base, upn).await?;
        tracing::info!("target {} ({}) = {}", t.upn, t.display_name, t.id);
        targets.push(t);
    }

    let params = match prior {
        Some(p) => check_resumed(p, args, &names, &workdir)?,
        None => new_run(args, names.clone(), &client, &base, now, &workdir).await?,
    };
    let journal = Journal::open(&workdir)?;
    if args.resume.is_some() {
        warn_unfinished_packages(&args.case.out);
        tracing::warn!(
            "resuming the interrupted collection in {}: {} queries were finished and are kept",
            workdir.display(),
            journal.finished()
        );
        custody(
            &workdir,
            vec![
                event(
                    "collection-interrupted",
                    &args.case.examiner,
                    json!({"detected_at_resume": true}),
                ),
                event(
                    "collection-resumed",
                    &args.case.examiner,
                    json!({"queries_already_done": journal.finished()}),
                ),
            ],
        )?;
    } else {
        custody(
            &workdir,
            vec![event(
                "collection-started",
                &args.case.examiner,
                json!({"users": params.users, "sources": params.sources, "window": params.entra}),
            )],
        )?;
        tracing::info!(
            "work folder {} (if this run is interrupted, run the same command again with --resume {})",
            workdir.display(),
            workdir.display()
        );
    }
    let w = params.entra;
    tracing::warn!(
        "records older than {} are already gone from Entra; the oldest in the window expire within hours, so the oldest windows are collected first",
        w.since.format("%Y-%m-%d %H:%M UTC")
    );

    let bars = SourceBars::new(quiet);
    let concurrency = args.concurrency.map_or(DEFAULT_CONCURRENCY, |n| n as usize);
    let collector = Collector {
        client: &client,
        graph: base.clone(),
        workdir: workdir.clone(),
        journal,
        gate: tokio::sync::Semaphore::new(concurrency),
        observer: &bars,
        time_scale: args.connect.time_scale,
    };
    let mut plan_opts = PlanOptions::default();
    if params.sp_scope == SpScope::Linked
        && names.iter().any(|n| n == "entra-signins-serviceprincipal")
    {
        let linked = linked_apps(&collector, &targets)
            .await
            .context("--sp-scope linked: cannot list the apps linked to the targets")?;
        tracing::info!(
            "service-principal sign-ins of {} linked service principals and {} owned apps",
            linked.service_principal_ids.len(),
            linked.app_ids.len()
        );
        plan_opts.linked = Some(linked);
    }
    // Purview first: its queries take minutes on Microsoft's side, so they are
    // created before anything else takes the concurrency slots.
    let mut order: Vec<&String> = names.iter().collect();
    order.sort_by_key(|n| *n != "purview-audit");
    let runs = order.into_iter().map(|name| {
        let (collector, targets, params, plan_opts) = (&collector, &targets, &params, &plan_opts);
        async move {
            if name == "purview-audit" {
                return collector
                    .purview(targets, params.purview, params.audit_api, &params.case)
                    .await;
            }
            let plan = queries(name, targets, &params.entra, plan_opts)
                .unwrap_or_else(|| panic!("every catalogue source has a plan: {name}"));
            collector.run_source(name, plan, params.entra).await
        }
    });
    let mut summaries: Vec<SourceSummary> = if concurrency == 1 {
        let mut v = Vec::new();
        for r in runs {
            v.push(r.await?);
        }
        v
    } else {
        join_all(runs).await.into_iter().collect::<Result<_, _>>()?
    };
    summaries.sort_by_key(|s| names.iter().position(|n| *n == s.source));
    if !params.message_ids.is_empty() {
        summaries.push(messages(&collector, &targets, &params.message_ids).await?);
    }
    warn_privileged(&workdir, &mut summaries)?;
    for file in &args.attach {
        let name = file.file_name().context("--attach needs a file")?;
        let dest_dir = workdir.join("evidence/attachments");
        std::fs::create_dir_all(&dest_dir)?;
        std::fs::copy(file, dest_dir.join(name))
            .with_context(|| format!("cannot copy {}", file.display()))?;
    }
    if !args.imports.is_empty() {
        let report = import_into(&workdir, &args.imports, &args.provenance.options(&args.case))
            .with_context(|| {
                format!(
                    "import failed; nothing was sealed. Fix or leave out the file and collect again (this run's work folder {} can be deleted)",
                    workdir.display()
                )
            })?;
        for merged in report.sources {
            match summaries.iter_mut().find(|s| s.source == merged.source) {
                Some(s) => *s = merged,
                None => summaries.push(merged),
            }
        }
    }
    let (requests, retries, throttled) = client.counters();
    tracing::info!("{requests} requests, {retries} retries, {throttled} throttled responses");
    custody(
        &workdir,
        vec![event(
            "collection-finished",
            &args.case.examiner,
            json!({
                "requests": requests, "retries": retries, "throttled": throttled,
                "sources": summaries.iter().map(|s| json!({"source": s.source, "status": s.status, "records": s.records})).collect::<Vec<_>>(),
            }),
        )],
    )?;

    let claims = tokens.identity();
    let cloud = args
        .connect
        .cloud
        .to_possible_value()
        .map(|v| v.get_name().to_string());
    let sealed = seal_plan(
        plan_content(&workdir)?,
        Sealing {
            case: &args.case,
            sealing: &args.sealing,
            recipients: &recipients,
            key: &key,
            started: params.started,
            tenant_id: claims.as_ref().and_then(|c| c["tid"].as_str()),
            cloud: cloud.as_deref(),
            operator: Some(json!({"flow": tokens.credential_kind(), "token_claims": claims})),
        },
        quiet,
        log,
    )
    .with_context(|| {
        format!(
            "sealing failed; the work folder {} is kept",
            workdir.display()
        )
    })?;
    print_sources(&summaries, quiet);
    if args.keep_workdir {
        tracing::info!("work folder kept: {}", workdir.display());
    } else {
        std::fs::remove_dir_all(&workdir)
            .with_context(|| format!("cannot remove {}", workdir.display()))?;
    }
    Ok((sealed, summaries))
}

/// A run killed while sealing leaves a ciphertext without its seal: say it is
/// not evidence (it is never deleted by the tool).
fn warn_unfinished_packages(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if let Some(base) = name.strip_suffix(".zip.age") {
            if !out.join(format!("{base}.seal.json")).exists() {
                tracing::warn!("{} has no seal: the interrupted run was killed while sealing it; it is not evidence and can be deleted", p.display());
            }
        }
    }
}

/// A target holding a directory role (active or eligible) needs specialists:
/// said on the console and in the manifest.
fn warn_privileged(workdir: &Path, summaries: &mut [SourceSummary]) -> Result<()> {
    for s in summaries
        .iter_mut()
        .filter(|s| s.source == "user-roles" && s.records > 0)
    {
        let text = format!(
            "PRIVILEGED ACCOUNT: a target holds {} directory role assignment(s). A compromised administrator can change the whole tenant: call incident-response specialists now.",
            s.records
        );
        tracing::warn!("{text}");
        s.details.insert("warning".into(), json!(text));
        write_summary(workdir, s)?;
    }
    Ok(())
}

/// The console table of sources (stderr, so stdout stays the summary).
fn print_sources(summaries: &[SourceSummary], quiet: bool) {
    if quiet {
        return;
    }
    eprintln!("{:34} {:12} {:>9}  reason", "source", "status", "records");
    for s in summaries {
        let status = match s.status {
            SourceStatus::Complete => "complete",
            SourceStatus::Partial => "PARTIAL",
            SourceStatus::Unavailable => "UNAVAILABLE",
            SourceStatus::Failed => "FAILED",
        };
        let reason: String = s
            .reason
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(140)
            .collect();
        eprintln!("{:34} {:12} {:>9}  {reason}", s.source, status, s.records);
    }
}
