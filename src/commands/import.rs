//! `m365-preserve import`: portal / diagnostic-settings / PowerShell exports into
//! a private work folder, then sealed like a collection.

use super::print_json;
use super::seal::{exit_code, Keys};
use super::send;
use crate::cli::ImportArgs;
use crate::logging::LogCapture;
use crate::outcome::print_outcome;
use crate::progress::ByteProgress;
use anyhow::{Context, Result};
use chrono::Utc;
use m365_preserve_handover::SendReport;
use m365_preserve_import::{import_into, ImportReport};
use m365_preserve_package::content::plan_content;
use m365_preserve_package::evidence::SourceStatus;
use m365_preserve_package::seal::{seal, Provenance, Sealed};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_report::Lang;
use serde_json::json;
use std::process::ExitCode;

pub fn run(args: ImportArgs, lang: Lang, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let started = Utc::now();
    let dest = args
        .send
        .send_to
        .as_deref()
        .map(send::destination)
        .transpose()?;
    let keys = Keys::from_flags(&args.recipients, &args.sealing)?;
    std::fs::create_dir_all(&args.case.out)
        .with_context(|| format!("cannot create {}", args.case.out.display()))?;
    let dir = args
        .case
        .out
        .join(WorkDir::name_for(&args.case.case, started));
    let workdir = WorkDir::create(&dir)
        .with_context(|| format!("cannot create the work folder {}", dir.display()))?;
    // Whatever happens next, the work folder (plaintext copies) goes away.
    let _cleanup = RemoveOnDrop(workdir.clone());

    let mut opts = args.provenance.options(&args.case);
    opts.declared = args.placed.clone();
    let imported =
        import_into(&workdir, &args.files, &opts).context("import failed; nothing was sealed")?;

    let info = m365_preserve_report::PackageInfo {
        case_id: args.case.case.clone(),
        ..Default::default()
    };
    let report = m365_preserve_report::prepare(
        &workdir,
        args.reporting.interview.as_deref(),
        &args.case.examiner,
        &info,
    )
    .context("the report could not be written; nothing was sealed")?;
    let progress = ByteProgress::new("sealing", quiet);
    let snapshot = || log.snapshot();
    let sealer = keys.sealer(&args.case, &args.sealing, &snapshot, &progress);
    let prov = Provenance {
        started: Some(started),
        ..Provenance::default()
    };
    let sealed = plan_content(workdir.root())
        .and_then(|plan| seal(plan, &sealer, &prov))
        .context("sealing failed; no package was left behind")?;
    let sent = match &dest {
        Some(d) => {
            let rt = tokio::runtime::Runtime::new()?;
            Some(rt.block_on(send::upload(
                &sealed.paths,
                d,
                &args.send.upload,
                args.case.examiner.clone(),
                None,
                &keys.signing_key,
                quiet,
            ))?)
        }
        None => None,
    };
    if args.json {
        print_report_json(&sealed, &imported, sent.as_ref())?;
    } else {
        print_files(&imported, quiet);
        print_outcome(&sealed, lang, false)?;
        if let Some(r) = &sent {
            send::print_report(r, &keys.signing_key, false)?;
        }
    }
    super::report::after_sealing(
        &report,
        &sealed,
        lang,
        !args.reporting.no_local_report,
        quiet || args.json,
    )?;
    Ok(exit_code(&sealed))
}

struct RemoveOnDrop(WorkDir);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(self.0.root()) {
            tracing::warn!(
                "cannot remove the work folder {}: {e}",
                self.0.root().display()
            );
        }
    }
}

/// Per-file and per-source tables on stderr (stdout stays the summary).
fn print_files(report: &ImportReport, quiet: bool) {
    if quiet {
        return;
    }
    eprintln!(
        "{:44} {:44} {:>8} {:>6} {:>9} {:>7}",
        "file", "variant", "rows", "dups", "conflicts", "skipped"
    );
    for f in &report.files {
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        eprintln!(
            "{:44} {:44} {:>8} {:>6} {:>9} {:>7}",
            name,
            f.variant,
            f.rows,
            f.duplicates,
            f.id_conflicts,
            f.skipped_rows.len()
        );
        if f.id_conflicts > 0 {
            eprintln!(
                "  note: {} record(s) share an id with a different earlier record; both are kept and the ids listed in the manifest (id_conflicts)",
                f.id_conflicts
            );
        }
        if !f.ambiguous_dates.is_empty() {
            eprintln!(
                "  WARNING: {} date(s) could be read day-first or month-first (re-saved by a spreadsheet?); kept as written, listed in the manifest, e.g. line {} {:?}",
                f.ambiguous_dates.len(),
                f.ambiguous_dates[0].line,
                f.ambiguous_dates[0].value
            );
        }
    }
    eprintln!("{:34} {:12} {:>9}", "source", "status", "records");
    for s in &report.sources {
        let status = match s.status {
            SourceStatus::Complete => "complete",
            SourceStatus::Partial => "PARTIAL",
            SourceStatus::Unavailable => "UNAVAILABLE",
            SourceStatus::Failed => "FAILED",
        };
        eprintln!("{:34} {:12} {:>9}", s.source, status, s.records);
    }
}

fn print_report_json(
    sealed: &Sealed,
    report: &ImportReport,
    sent: Option<&SendReport>,
) -> Result<()> {
    let p = &sealed.paths;
    print_json(&json!({
        "package": p.ciphertext, "seal": p.seal, "signature": p.signature, "custody": p.custody,
        "completeness": sealed.seal.completeness, "seal_document": sealed.seal,
        "import": report, "sent": sent,
    }))
}
