//! `m365-preserve send` (and `collect`/`import --send`): upload a sealed package
//! into the firm's storage with a signed receipt in the custody log.

use super::print_json;
use crate::cli::{SendArgs, UploadArgs};
use crate::progress::ByteProgress;
use anyhow::{Context, Result};
use m365_preserve_handover::dest::{Access, ProcessEnv};
use m365_preserve_handover::receipt::ReadBackStatus;
use m365_preserve_handover::{send, Destination, Retention, SendOptions, SendReport};
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::seal::Seal;
use m365_preserve_package::signing::SigningKey;
use std::process::ExitCode;

pub fn run(args: SendArgs, quiet: bool) -> Result<ExitCode> {
    let paths = PackagePaths::from_any(&args.package);
    let dest = destination(&args.to)?;
    let key = match &args.signing_key {
        Some(p) => SigningKey::load(p)?,
        None => SigningKey::generate(),
    };
    let by = match args.by {
        Some(b) => b,
        None => examiner(&paths)?,
    };
    let rt = tokio::runtime::Runtime::new()?;
    let report = rt.block_on(upload(
        &paths,
        &dest,
        &args.options,
        by,
        args.note,
        &key,
        quiet,
    ))?;
    print_report(&report, &key, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// The destination of `--to` / `--send`, checked before anything else is done.
pub fn destination(url: &str) -> Result<Destination> {
    let dest = Destination::parse(url, &ProcessEnv)?;
    dest.check(Access::Write, chrono::Utc::now())?;
    Ok(dest)
}

fn examiner(paths: &PackagePaths) -> Result<String> {
    let bytes = std::fs::read(&paths.seal)
        .with_context(|| format!("cannot read the seal {}", paths.seal.display()))?;
    let seal: Seal = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a seal", paths.seal.display()))?;
    Ok(seal.examiner)
}

/// Uploads `paths` to `dest` with a progress display.
pub async fn upload(
    paths: &PackagePaths,
    dest: &Destination,
    args: &UploadArgs,
    by: String,
    note: Option<String>,
    key: &SigningKey,
    quiet: bool,
) -> Result<SendReport> {
    let progress = ByteProgress::new("sending", quiet);
    let opts = SendOptions {
        by,
        note,
        retention: args.retain_until.map(|until| Retention {
            mode: args.retention_mode,
            until,
        }),
        part_size: args.part_size_mib.map(|m| m << 20),
        parallel: args.parallel as usize,
        signing_key: key,
        progress: &progress,
    };
    if !quiet {
        eprintln!("sending {} to {}", paths.base, dest.display());
    }
    send(paths, dest, &opts)
        .await
        .with_context(|| format!("sending to {} failed", dest.display()))
}

/// Where everything went and what the service confirmed.
pub fn print_report(report: &SendReport, key: &SigningKey, as_json: bool) -> Result<()> {
    if as_json {
        return print_json(report);
    }
    println!(
        "Sent to {}{}",
        report.destination,
        if report.resumed {
            " (continuing an interrupted send)"
        } else {
            ""
        }
    );
    for o in &report.objects {
        let pieces = if o.parts.is_empty() {
            String::new()
        } else {
            format!(", {} pieces", o.parts.len())
        };
        let checks: Vec<String> = o
            .checksums
            .iter()
            .map(|c| format!("{} {:?}", c.algorithm, c.by_service).to_lowercase())
            .collect();
        println!(
            "  {:10} {} ({} bytes{pieces}; {}; ETag {})",
            o.file,
            o.name,
            o.size,
            checks.join(", "),
            o.etag.as_deref().unwrap_or("-")
        );
        if let Some(back) = &o.read_back {
            match back.status {
                ReadBackStatus::Confirmed => {
                    println!("             read back: {}", back.checks.join("; "))
                }
                ReadBackStatus::NotPermitted => {}
            }
        }
    }
    for w in &report.warnings {
        println!("  NOTE: {w}");
    }
    println!(
        "Custody event {} (transferred) signed by {}{}",
        report.custody_event,
        report.signer_fingerprint,
        if key.is_generated() {
            " (one-time key)"
        } else {
            ""
        }
    );
    Ok(())
}
