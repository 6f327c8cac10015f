//! `m365-preserve collect`: resolve targets, collect every source, seal.

use super::connect::{http_client, token_provider};
use super::seal::{print_outcome, recipients_and_key, zip_options};
use super::EXIT_INCOMPLETE;
use crate::cli::CollectArgs;
use crate::logging::LogCapture;
use crate::progress::ByteProgress;
use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::ValueEnum;
use futures_util::future::join_all;
use m365_preserve::collect::{
    entra_retention_days, not_collected, queries, resolve_target, run_source, Window,
};
use m365_preserve::evidence::{SourceStatus, SourceSummary};
use m365_preserve::graph::{Pacer, RawSink, ReadOnlyClient};
use m365_preserve::package::acquisition::redact_args;
use m365_preserve::package::seal::{plan_content, seal, SealInput, Sealed};
use m365_preserve::sources::CATALOGUE;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(args: CollectArgs, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let sealed = rt.block_on(collect(&args, quiet, log))?;
    print_outcome(&sealed, args.json)?;
    Ok(exit_code(&sealed))
}

pub fn exit_code(sealed: &Sealed) -> ExitCode {
    if sealed.seal.completeness == "complete" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    }
}

fn private_dir(path: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
        .with_context(|| format!("cannot create the work folder {}", path.display()))
}

/// Collects and seals; returns the package.
pub async fn collect(args: &CollectArgs, quiet: bool, log: &LogCapture) -> Result<Sealed> {
    let started = Utc::now();
    let names: Vec<&'static str> = if args.sources.is_empty() {
        CATALOGUE.iter().map(|s| s.name).collect()
    } else {
        let mut v = Vec::new();
        for name in &args.sources {
            match CATALOGUE.iter().find(|s| s.name == name.trim()) {
                Some(s) => v.push(s.name),
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
        v
    };
    let (recipients, key) = recipients_and_key(&args.recipients, &args.sealing)?;
    let http = http_client()?;
    let tokens = token_provider(&args.connect, http.clone())?;
    std::fs::create_dir_all(&args.case.out)
        .with_context(|| format!("cannot create {}", args.case.out.display()))?;
    let workdir: PathBuf = args.case.out.join(format!(
        ".work-{}",
        m365_preserve::package::seal::package_base(&args.case.case, started)
    ));
    private_dir(&workdir)?;
    let raw = Arc::new(RawSink::new(&workdir));
    let client = ReadOnlyClient::new(
        http,
        tokens.clone(),
        Arc::new(Pacer::documented(args.connect.time_scale)),
        super::connect::retry_policy(&args.connect),
        Some(raw),
    );
    let base = tokens.endpoints().graph.clone();

    let mut targets = Vec::new();
    for upn in &args.users {
        let t = resolve_target(&client, &base, upn).await?;
        tracing::info!("target {} ({}) = {}", t.upn, t.display_name, t.id);
        targets.push(t);
    }
    let until = args.until.unwrap_or(started);
    let since = match args.since {
        Some(s) => s,
        None => {
            let days = entra_retention_days(&client, &base).await;
            tracing::info!(
                "Entra logs are kept {days} days by this tenant; collecting from {}",
                until - chrono::Duration::days(days)
            );
            until - chrono::Duration::days(days)
        }
    };
    if since >= until {
        bail!("--since must be before --until");
    }
    let window = Window { since, until };
    tracing::info!(
        "the oldest records at risk ({}) expire first; collecting {} sources",
        since.format("%Y-%m-%dT%H:%M:%SZ"),
        names.len()
    );

    let runs = names.iter().map(|name| {
        let (client, base, workdir, targets) = (&client, &base, &workdir, &targets);
        async move {
            let result = match queries(name, targets, &window) {
                Some(plan) => run_source(client, base, workdir, name, plan, window).await,
                None => not_collected(workdir, name, "not collected by this version of m365-preserve; export it from the Purview portal"),
            };
            if let Ok(s) = &result {
                tracing::info!("{name}: {:?}, {} records{}", s.status, s.records, s.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default());
            }
            result
        }
    });
    let summaries: Vec<SourceSummary> =
        join_all(runs).await.into_iter().collect::<Result<_, _>>()?;
    for s in summaries
        .iter()
        .filter(|s| s.source == "user-roles" && s.records > 0)
    {
        tracing::warn!(
            "PRIVILEGED ACCOUNT: a target holds {} directory role assignment(s). A compromised administrator needs incident-response specialists now.",
            s.records
        );
    }
    for file in &args.attach {
        let name = file.file_name().context("--attach needs a file")?;
        let dest_dir = workdir.join("evidence/attachments");
        std::fs::create_dir_all(&dest_dir)?;
        std::fs::copy(file, dest_dir.join(name))
            .with_context(|| format!("cannot copy {}", file.display()))?;
    }

    let (requests, retries, throttled) = client.counters();
    tracing::info!("{requests} requests, {retries} retries, {throttled} throttled responses");
    let plan = plan_content(&workdir)?;
    let total: u64 = plan.files.iter().map(|f| f.size).sum();
    let progress = ByteProgress::new("sealing", total, quiet);
    let snapshot = || log.snapshot();
    let report = |n: u64| progress.inc(n);
    let claims = tokens.identity();
    let sealed = seal(SealInput {
        content: plan,
        case_id: &args.case.case,
        examiner: &args.case.examiner,
        note: args.case.note.as_deref(),
        tenant_id: claims.as_ref().and_then(|c| c["tid"].as_str()),
        cloud: args
            .connect
            .cloud
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .as_deref(),
        operator: Some(
            serde_json::json!({"flow": tokens.credential_kind(), "token_claims": claims}),
        ),
        command_line: redact_args(std::env::args()),
        started,
        out_dir: &args.case.out,
        recipients: &recipients,
        signing_key: &key,
        zip: zip_options(&args.sealing),
        log: &snapshot,
        progress: &report,
    })
    .context("sealing failed; the work folder is kept")?;
    progress.finish();
    print_sources(&summaries, quiet);
    if args.keep_workdir {
        tracing::info!("work folder kept: {}", workdir.display());
    } else {
        std::fs::remove_dir_all(&workdir)
            .with_context(|| format!("cannot remove {}", workdir.display()))?;
    }
    Ok(sealed)
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
