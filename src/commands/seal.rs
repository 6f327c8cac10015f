//! `m365-preserve seal`: seal a folder of evidence.

use super::{print_json, read_passphrase, EXIT_INCOMPLETE};
use crate::cli::{CaseArgs, RecipientArgs, SealArgs, SealingArgs};
use crate::logging::LogCapture;
use crate::progress::ByteProgress;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use m365_preserve::package::acquisition::redact_args;
use m365_preserve::package::crypto::Recipients;
use m365_preserve::package::seal::{plan_content, seal, ContentPlan, SealInput, Sealed};
use m365_preserve::package::signing::SigningKey;
use m365_preserve::package::zipwrite::ZipOptions;
use m365_preserve::package::PackageError;
use serde_json::json;
use std::process::ExitCode;

pub fn run(args: SealArgs, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    let started = Utc::now();
    let (recipients, key) = recipients_and_key(&args.recipients, &args.sealing)?;
    let plan = plan_content(&args.evidence)?;
    let total: u64 = plan.files.iter().map(|f| f.size).sum();
    tracing::info!(
        "sealing {} files ({total} bytes) from {} for case {}",
        plan.files.len(),
        args.evidence.display(),
        args.case.case
    );
    let sealed = seal_plan(
        plan,
        Sealing {
            case: &args.case,
            sealing: &args.sealing,
            recipients: &recipients,
            key: &key,
            started,
            tenant_id: None,
            cloud: None,
            operator: None,
        },
        quiet,
        log,
    )
    .context("sealing failed; no package was left behind")?;
    let secs = (Utc::now() - started).num_milliseconds().max(1) as f64 / 1000.0;
    tracing::info!(
        "sealed in {secs:.1} s ({:.0} MB/s)",
        total as f64 / 1e6 / secs
    );
    print_outcome(&sealed, args.json)?;
    Ok(exit_code(&sealed))
}

/// 0 when every source is complete, 3 when the package has gaps.
pub fn exit_code(sealed: &Sealed) -> ExitCode {
    if sealed.seal.completeness == "complete" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    }
}

/// What a command seals with, besides the content.
pub struct Sealing<'a> {
    pub case: &'a CaseArgs,
    pub sealing: &'a SealingArgs,
    pub recipients: &'a Recipients,
    pub key: &'a SigningKey,
    pub started: DateTime<Utc>,
    pub tenant_id: Option<&'a str>,
    pub cloud: Option<&'a str>,
    pub operator: Option<serde_json::Value>,
}

/// Seals `plan`, with a progress bar (or log lines) on stderr.
pub fn seal_plan(
    plan: ContentPlan,
    s: Sealing<'_>,
    quiet: bool,
    log: &LogCapture,
) -> Result<Sealed, PackageError> {
    let total: u64 = plan.files.iter().map(|f| f.size).sum();
    let progress = ByteProgress::new("sealing", total, quiet);
    let snapshot = || log.snapshot();
    let report = |n: u64| progress.inc(n);
    let sealed = seal(SealInput {
        content: plan,
        case_id: &s.case.case,
        examiner: &s.case.examiner,
        note: s.case.note.as_deref(),
        tenant_id: s.tenant_id,
        cloud: s.cloud,
        operator: s.operator,
        command_line: redact_args(std::env::args()),
        started: s.started,
        out_dir: &s.case.out,
        recipients: s.recipients,
        signing_key: s.key,
        zip: zip_options(s.sealing),
        log: &snapshot,
        progress: &report,
    })?;
    progress.finish();
    Ok(sealed)
}

/// Who can open the package, and the key that signs it.
pub fn recipients_and_key(
    r: &RecipientArgs,
    sealing: &SealingArgs,
) -> Result<(Recipients, SigningKey)> {
    let recipients = if r.passphrase || r.passphrase_env.is_some() {
        Recipients::passphrase(read_passphrase(r.passphrase_env.as_deref(), true)?)?
    } else {
        Recipients::from_keys(&r.recipients, &r.recipients_files)?
    };
    let key = match &sealing.signing_key {
        Some(path) => SigningKey::load(path)?,
        None => SigningKey::generate(),
    };
    Ok((recipients, key))
}

/// Compression settings from the flags.
pub fn zip_options(sealing: &SealingArgs) -> ZipOptions {
    let mut zip = ZipOptions {
        level: sealing.level,
        ..ZipOptions::default()
    };
    if let Some(t) = sealing.threads {
        zip.threads = t.max(1);
    }
    zip
}

/// The end-of-run summary: where everything is and what to confirm out of band.
pub fn print_outcome(sealed: &Sealed, as_json: bool) -> Result<()> {
    let s = &sealed.seal;
    let p = &sealed.paths;
    if as_json {
        return print_json(&json!({
            "package": p.ciphertext, "seal": p.seal, "signature": p.signature, "custody": p.custody,
            "completeness": s.completeness, "seal_document": s,
        }));
    }
    println!(
        "Sealed case {}: {} files, {} bytes, {} records ({})",
        s.case_id, s.manifest.files, s.manifest.bytes, s.manifest.records, s.completeness
    );
    println!("  package    {}", p.ciphertext.display());
    println!("             SHA-256 {}", s.ciphertext.sha256);
    println!("  seal       {}", p.seal.display());
    println!("  signature  {}", p.signature.display());
    println!("  custody    {}", p.custody.display());
    for src in s
        .sources
        .iter()
        .filter(|x| x.status != m365_preserve::evidence::SourceStatus::Complete)
    {
        println!(
            "  WARNING: {} is {:?}: {}",
            src.source,
            src.status,
            src.reason.as_deref().unwrap_or("no reason given")
        );
    }
    if s.signer.generated_for_this_case {
        println!(
            "Seal signed with a key generated for this case: {}\nTell the recipient this fingerprint by phone or another channel, so they can trust the seal.",
            s.signer.fingerprint
        );
    } else {
        println!("Seal signed by {}", s.signer.fingerprint);
    }
    Ok(())
}
