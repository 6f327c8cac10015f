//! `m365-preserve custody record|show`: the hand-over log outside the package.

use super::print_json;
use crate::cli::{CustodyRecordArgs, CustodyShowArgs};
use anyhow::{bail, Context, Result};
use m365_preserve_handover::Location;
use m365_preserve_package::acquisition::Host;
use m365_preserve_package::custody::{
    append_locked, chain_line, check_chain, ChainBroken, CustodyAction, CustodyEvent,
};
use m365_preserve_package::hashing::{sha256_hex, sha256_reader};
use m365_preserve_package::reader::{PackageFile, PackageReader};
use m365_preserve_package::seal::Seal;
use m365_preserve_package::signing::SigningKey;
use std::io::BufReader;
use std::process::ExitCode;

fn load(paths: &dyn PackageReader) -> Result<(Seal, Vec<u8>, String)> {
    let seal_bytes = paths
        .read_all(PackageFile::Seal)
        .with_context(|| format!("cannot read the seal {}", paths.describe(PackageFile::Seal)))?;
    let seal: Seal = serde_json::from_slice(&seal_bytes)
        .with_context(|| format!("{} is not a seal", paths.describe(PackageFile::Seal)))?;
    let text = paths
        .read_all(PackageFile::Custody)
        .map_err(anyhow::Error::from)
        .and_then(|b| Ok(String::from_utf8(b)?))
        .with_context(|| format!("cannot read {}", paths.describe(PackageFile::Custody)))?;
    Ok((seal, seal_bytes, text))
}

pub fn record(args: CustodyRecordArgs) -> Result<ExitCode> {
    let mut location = Location::parse(args.package.as_os_str())?;
    let paths = location.reader();
    let custody_name = paths.describe(PackageFile::Custody);
    let (seal, seal_bytes, text) = load(paths)?;
    let genesis = sha256_hex(&seal_bytes);
    let check = |text: &str| check_chain(text, &genesis, true, Some(&seal.ciphertext.sha256));
    // Refuse early, before hashing a large package, when the log is already broken.
    if let Some(p) = check(&text).problems.into_iter().next() {
        bail!(broken(&custody_name, &ChainBroken(p)));
    }
    let file = paths
        .open(PackageFile::Ciphertext)
        .with_context(|| format!("cannot read {}", paths.describe(PackageFile::Ciphertext)))?;
    let (_, observed) = sha256_reader(BufReader::with_capacity(1 << 20, file))
        .with_context(|| format!("cannot read {}", paths.describe(PackageFile::Ciphertext)))?;
    let matches = observed == seal.ciphertext.sha256;
    let key = match &args.signing_key {
        Some(p) => SigningKey::load(p)?,
        None => SigningKey::generate(),
    };
    let action = CustodyAction::from(args.action);
    let mut ev = CustodyEvent::new(action, &args.by);
    ev.to = args.to;
    ev.method = args.method;
    ev.note = args.note;
    ev.host = Some(Host::this().hostname);
    ev.ciphertext_sha256 = Some(observed.clone());
    ev.matches_seal = Some(matches);
    let (seq, line, written) = match &mut location {
        Location::Local(p) => {
            // Another recorder may have appended since: the sequence number and the
            // previous line's hash are taken under the log's lock.
            let mut seq = 0;
            let appended = append_locked(&p.custody, false, check, |text, chain| {
                seq = chain.events.len() as u64 + 1;
                let line = chain_line(ev, seq, text.lines().last(), "", Some(&key));
                format!("{line}\n")
            })
            .map_err(|e| {
                match e.get_ref().and_then(|e| e.downcast_ref::<ChainBroken>()) {
                    Some(b) => anyhow::anyhow!(broken(&custody_name, b)),
                    None => {
                        anyhow::Error::new(e).context(format!("cannot append to {custody_name}"))
                    }
                }
            })?;
            (seq, appended.trim_end().to_string(), custody_name.clone())
        }
        // In storage nothing is overwritten: the log with the new line is a new object.
        Location::Remote(r) => {
            let seq = check(&text).events.len() as u64 + 1;
            let line = chain_line(ev, seq, text.lines().last(), "", Some(&key));
            r.write_custody(format!("{text}{line}\n"))?;
            (seq, line, r.describe(PackageFile::Custody))
        }
    };
    if args.json {
        print_json(&serde_json::from_str::<serde_json::Value>(&line)?)?;
    } else {
        println!("Recorded event {seq} ({action}) in {written}");
        println!(
            "  ciphertext SHA-256 {observed} ({})",
            if matches {
                "matches the seal"
            } else {
                "DOES NOT match the seal"
            }
        );
        println!(
            "  signed by {}{}",
            key.fingerprint(),
            if key.is_generated() {
                " (one-time key)"
            } else {
                ""
            }
        );
    }
    if !matches {
        eprintln!("error: the package's ciphertext does not match its seal; the mismatch was recorded. Do not rely on this copy.");
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Refusing to append to a broken log: where, and what to do.
fn broken(custody: &str, b: &ChainBroken) -> String {
    format!(
        "{custody}: {b}. Keep this copy as it is and ask the sender for theirs (`custody show` lists every problem)"
    )
}

pub fn show(args: CustodyShowArgs) -> Result<ExitCode> {
    let location = Location::parse(args.package.as_os_str())?;
    let paths = location.reader();
    let (seal, seal_bytes, text) = load(paths)?;
    let chain = check_chain(
        &text,
        &sha256_hex(&seal_bytes),
        true,
        Some(&seal.ciphertext.sha256),
    );
    if args.json {
        print_json(&chain)?;
    } else {
        println!(
            "Custody of case {} ({})",
            seal.case_id,
            paths.describe(PackageFile::Custody)
        );
        for e in &chain.events {
            let to =
                e.to.as_deref()
                    .map(|t| format!(" -> {t}"))
                    .unwrap_or_default();
            let method = e
                .method
                .as_deref()
                .map(|m| format!(" via {m}"))
                .unwrap_or_default();
            println!(
                "  {:>3}  {}  {:11} {}{to}{method}  [{}]",
                e.seq,
                e.time,
                e.action,
                e.by,
                e.signer_fingerprint.as_deref().unwrap_or("unsigned")
            );
        }
        for p in &chain.problems {
            println!("  PROBLEM at line {}: {}", p.line, p.problem);
        }
        println!(
            "Result: {}",
            if chain.problems.is_empty() {
                "chain and signatures intact"
            } else {
                "the custody log is BROKEN"
            }
        );
    }
    Ok(if chain.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}
