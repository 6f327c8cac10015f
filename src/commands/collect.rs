//! `m365-preserve collect`: collect every source of the targets (resumable),
//! then seal. The job itself is [`Collection::run`].

use super::connect::connection;
use super::seal::{exit_code, Keys};
use super::send;
use crate::cli::CollectArgs;
use crate::logging::LogCapture;
use crate::outcome::{print_kept, print_outcome, print_sources};
use crate::progress::{ByteProgress, SourceBars};
use anyhow::Result;
use m365_preserve_collect::job::{resume_command, FetchLater};
use m365_preserve_collect::job::{Collected, Collection, DEFAULT_CONCURRENCY};
use m365_preserve_report::i18n::tr;
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
    let collected = rt.block_on(collect(&args, &keys, lang, quiet, log))?;
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
        print_outcome(sealed, lang, false)?;
        if let Some(r) = &sent {
            send::print_report(r, &keys.signing_key, false)?;
        }
        let gaps = collected
            .summaries
            .iter()
            .any(|s| FetchLater::from_details(s).is_some());
        print_kept(collected.workdir.as_deref().filter(|_| gaps), lang, quiet);
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
        phish_senders: args.phish_senders.clone(),
        sp_scope: args.sp_scope,
        audit_api: args.audit_api,
        concurrency: args.concurrency.map_or(DEFAULT_CONCURRENCY, |n| n as usize),
        attach: args.attach.clone(),
        imports: args.imports.clone(),
        import_options: args.provenance.options(&args.case),
        resume: args.resume.clone(),
        keep_workdir: args.keep_workdir,
        interview: args.reporting.interview.clone(),
        exchange: args.exchange,
    }
}

/// Collects and seals, with progress on stderr and the sources' table at the end.
pub async fn collect(
    args: &CollectArgs,
    keys: &Keys,
    lang: Lang,
    quiet: bool,
    log: &LogCapture,
) -> Result<Collected> {
    let conn = connection(&args.connect)?;
    let progress = ByteProgress::new("sealing", quiet);
    let snapshot = || log.snapshot();
    let sealer = keys.sealer(&args.case, &args.sealing, &snapshot, &progress);
    let bars = SourceBars::new(quiet);
    let job = collection(args);
    let run = job.run(&conn, &sealer, &bars);
    let collected = tokio::select! {
        // A run that has finished wins over a Ctrl-C that came meanwhile.
        biased;
        collected = run => collected.map_err(|e| match bars.resumable_workdir() {
            // Stopped after collecting began (disk full, network down): what
            // finished is kept, and the next step is to continue it.
            Some(dir) => anyhow::anyhow!(
                "{}\n{}",
                super::describe(&e),
                resume_hint("console-resume-after-error", &dir, &sealer.command_line, lang)
            ),
            None => e.into(),
        })?,
        _ = tokio::signal::ctrl_c() => {
            bars.clear();
            return Err(Interrupted {
                message: interrupted(bars.resumable_workdir(), &sealer.command_line, lang),
            }
            .into());
        }
    };
    print_sources(&collected.summaries, lang, quiet);
    Ok(collected)
}

/// Ctrl-C: the run stopped where it was (every finished query is in the
/// journal, synced), with what to do next.
#[derive(Debug)]
pub struct Interrupted {
    message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

fn interrupted(workdir: Option<std::path::PathBuf>, command_line: &[String], lang: Lang) -> String {
    match workdir {
        Some(dir) => resume_hint("console-interrupted", &dir, command_line, lang),
        None => tr(lang, "console-interrupted-early", &[]),
    }
}

/// Message `id` with the work folder and the command that continues from it.
fn resume_hint(id: &str, dir: &std::path::Path, command_line: &[String], lang: Lang) -> String {
    tr(
        lang,
        id,
        &[
            ("path", dir.display().to_string()),
            ("command", resume_command(command_line, dir)),
        ],
    )
}
