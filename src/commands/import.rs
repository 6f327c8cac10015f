//! `m365-preserve import`: portal / diagnostic-settings / PowerShell exports into
//! a private work folder, then sealed like a collection.

use super::seal::{print_outcome, recipients_and_key, zip_options};
use super::{print_json, EXIT_INCOMPLETE};
use crate::cli::ImportArgs;
use crate::logging::LogCapture;
use crate::progress::ByteProgress;
use anyhow::{Context, Result};
use chrono::Utc;
use m365_preserve::evidence::SourceStatus;
use m365_preserve::import::{import_into, ImportReport};
use m365_preserve::package::acquisition::redact_args;
use m365_preserve::package::seal::{package_base, plan_content, seal, SealInput, Sealed};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: ImportArgs, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let started = Utc::now();
    let (recipients, key) = recipients_and_key(&args.recipients, &args.sealing)?;
    std::fs::create_dir_all(&args.case.out)
        .with_context(|| format!("cannot create {}", args.case.out.display()))?;
    let workdir = args
        .case
        .out
        .join(format!(".work-{}", package_base(&args.case.case, started)));
    private_dir(&workdir)?;
    // Whatever happens next, the work folder (plaintext copies) goes away.
    let _cleanup = RemoveOnDrop(workdir.clone());

    let opts = args.provenance.options(&args.case);
    let report =
        import_into(&workdir, &args.files, &opts).context("import failed; nothing was sealed")?;

    let plan = plan_content(&workdir)?;
    let total: u64 = plan.files.iter().map(|f| f.size).sum();
    let progress = ByteProgress::new("sealing", total, quiet);
    let snapshot = || log.snapshot();
    let inc = |n: u64| progress.inc(n);
    let sealed = seal(SealInput {
        content: plan,
        case_id: &args.case.case,
        examiner: &args.case.examiner,
        note: args.case.note.as_deref(),
        tenant_id: None,
        cloud: None,
        operator: None,
        command_line: redact_args(std::env::args()),
        started,
        out_dir: &args.case.out,
        recipients: &recipients,
        signing_key: &key,
        zip: zip_options(&args.sealing),
        log: &snapshot,
        progress: &inc,
    })
    .context("sealing failed; no package was left behind")?;
    progress.finish();
    if args.json {
        print_report_json(&sealed, &report)?;
    } else {
        print_files(&report, quiet);
        print_outcome(&sealed, false)?;
    }
    Ok(if sealed.seal.completeness == "complete" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    })
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

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!("cannot remove the work folder {}: {e}", self.0.display());
        }
    }
}

/// Per-file and per-source tables on stderr (stdout stays the summary).
fn print_files(report: &ImportReport, quiet: bool) {
    if quiet {
        return;
    }
    eprintln!(
        "{:44} {:44} {:>8} {:>6} {:>7}",
        "file", "variant", "rows", "dups", "skipped"
    );
    for f in &report.files {
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        eprintln!(
            "{:44} {:44} {:>8} {:>6} {:>7}",
            name,
            f.variant,
            f.rows,
            f.duplicates,
            f.skipped_rows.len()
        );
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

fn print_report_json(sealed: &Sealed, report: &ImportReport) -> Result<()> {
    let p = &sealed.paths;
    print_json(&json!({
        "package": p.ciphertext, "seal": p.seal, "signature": p.signature, "custody": p.custody,
        "completeness": sealed.seal.completeness, "seal_document": sealed.seal,
        "import": report,
    }))
}
