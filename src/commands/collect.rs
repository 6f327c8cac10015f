//! `m365-preserve collect`: collect every source of the targets (resumable),
//! then seal. The job itself is [`Collection::run`].

use super::connect::connection;
use super::seal::{exit_code, print_outcome, Keys};
use super::send;
use crate::cli::CollectArgs;
use crate::logging::LogCapture;
use crate::progress::{ByteProgress, SourceBars};
use anyhow::Result;
use m365_preserve_collect::job::{Collected, Collection, DEFAULT_CONCURRENCY};
use m365_preserve_package::evidence::{SourceStatus, SourceSummary};
use m365_preserve_report::Lang;
use serde_json::json;
use std::process::ExitCode;

pub fn run(args: CollectArgs, lang: Lang, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let dest = args
        .send
        .send_to
        .as_deref()
        .map(send::destination)
        .transpose()?;
    let keys = Keys::from_flags(&args.recipients, &args.sealing)?;
    let collected = rt.block_on(collect(&args, &keys, quiet, log))?;
    let sealed = &collected.sealed;
    super::report::after_sealing(
        &collected.report,
        sealed,
        lang,
        !args.reporting.no_local_report,
        quiet || args.json,
    )?;
    let sent = match &dest {
        Some(d) => Some(rt.block_on(send::upload(
            &sealed.paths,
            d,
            &args.send.upload,
            args.case.examiner.clone(),
            None,
            &keys.signing_key,
            quiet,
        ))?),
        None => None,
    };
    if args.json {
        super::print_json(&json!({
            "package": sealed.paths.ciphertext,
            "seal": sealed.paths.seal,
            "signature": sealed.paths.signature,
            "custody": sealed.paths.custody,
            "completeness": sealed.seal.completeness,
            "sources": collected.summaries,
            "seal_document": sealed.seal,
            "sent": sent,
        }))?;
    } else {
        print_outcome(sealed, false)?;
        if let Some(r) = &sent {
            send::print_report(r, &keys.signing_key, false)?;
        }
    }
    Ok(exit_code(sealed))
}

/// What the flags ask to collect.
pub fn collection(args: &CollectArgs) -> Collection {
    Collection {
        users: args.users.clone(),
        sources: args.sources.clone(),
        since: args.since,
        until: args.until,
        message_ids: args.message_ids.clone(),
        sp_scope: args.sp_scope,
        audit_api: args.audit_api,
        concurrency: args.concurrency.map_or(DEFAULT_CONCURRENCY, |n| n as usize),
        attach: args.attach.clone(),
        imports: args.imports.clone(),
        import_options: args.provenance.options(&args.case),
        resume: args.resume.clone(),
        keep_workdir: args.keep_workdir,
        interview: args.reporting.interview.clone(),
    }
}

/// Collects and seals, with progress on stderr and the sources' table at the end.
pub async fn collect(
    args: &CollectArgs,
    keys: &Keys,
    quiet: bool,
    log: &LogCapture,
) -> Result<Collected> {
    let conn = connection(&args.connect)?;
    let progress = ByteProgress::new("sealing", quiet);
    let snapshot = || log.snapshot();
    let sealer = keys.sealer(&args.case, &args.sealing, &snapshot, &progress);
    let bars = SourceBars::new(quiet);
    let collected = collection(args).run(&conn, &sealer, &bars).await?;
    print_sources(&collected.summaries, quiet);
    Ok(collected)
}

/// The console table of sources (stderr, so stdout stays the summary).
pub fn print_sources(summaries: &[SourceSummary], quiet: bool) {
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
