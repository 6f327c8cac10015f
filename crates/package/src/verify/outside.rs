//! The checks that need no key: the seal, its signature, the ciphertext's hash
//! and the custody log outside the package.

use super::{CheckName, Checks};
use crate::custody::{self, CustodyAction, CustodyEvent};
use crate::hashing::{sha256_hex, sha256_reader};
use crate::reader::{PackageFile, PackageReader};
use crate::seal::{Seal, SEAL_FORMAT};
use crate::signing::{self, SEAL_NAMESPACE};
use std::io::BufReader;

/// Reads and parses the seal (check `seal`); `None` stops verification.
pub(super) fn read_seal(checks: &mut Checks, paths: &dyn PackageReader) -> Option<(Seal, Vec<u8>)> {
    let bytes = match paths.read_all(PackageFile::Seal) {
        Ok(b) => b,
        Err(e) => {
            checks.add(
                CheckName::Seal,
                Err(format!(
                    "cannot read {}: {e}",
                    paths.describe(PackageFile::Seal)
                )),
            );
            return None;
        }
    };
    let result = match serde_json::from_slice::<Seal>(&bytes) {
        Ok(seal) if seal.format == SEAL_FORMAT => Ok(seal),
        Ok(seal) => Err(format!(
            "unknown seal format {:?}",
            super::shown(&seal.format)
        )),
        Err(e) => Err(format!(
            "{} is not a valid seal: {e}",
            paths.describe(PackageFile::Seal)
        )),
    };
    match result {
        Ok(seal) => {
            checks.add(
                CheckName::Seal,
                Ok(format!(
                    "case {} sealed {} by {}",
                    super::shown(&seal.case_id),
                    super::shown(&seal.times.sealed),
                    super::shown(&seal.examiner)
                )),
            );
            Some((seal, bytes))
        }
        Err(e) => {
            checks.add(CheckName::Seal, Err(e));
            None
        }
    }
}

pub(super) fn signature(
    paths: &dyn PackageReader,
    seal: &Seal,
    seal_bytes: &[u8],
    trusted: Option<&str>,
) -> Result<String, String> {
    let cannot = |e: &dyn std::fmt::Display| {
        format!(
            "cannot read {}: {e}",
            paths.describe(PackageFile::Signature)
        )
    };
    let sig = paths
        .read_all(PackageFile::Signature)
        .map_err(|e| cannot(&e))
        .and_then(|b| String::from_utf8(b).map_err(|e| cannot(&e)))?;
    let actual = signing::fingerprint_of(&seal.signer.public_key)?;
    if actual != seal.signer.fingerprint {
        return Err("the seal's signer fingerprint does not match its public key".into());
    }
    signing::verify(&seal.signer.public_key, SEAL_NAMESPACE, seal_bytes, &sig).map_err(|e| {
        format!(
            "{e}: the seal was modified after signing, or the signature belongs to another seal"
        )
    })?;
    match trusted {
        Some(t) if t != actual && t.trim() != seal.signer.public_key => Err(format!(
            "signed by {actual}, which is not the expected signer {t}"
        )),
        Some(_) => Ok(format!("signed by {actual} (the expected signer)")),
        None => Ok(format!(
            "signed by {actual}{}; confirm this fingerprint with the sealer out of band",
            if seal.signer.generated_for_this_case {
                " (key generated for this case)"
            } else {
                ""
            }
        )),
    }
}

pub(super) fn ciphertext(paths: &dyn PackageReader, seal: &Seal) -> Result<String, String> {
    let cannot = |e: std::io::Error| {
        format!(
            "cannot read {}: {e}",
            paths.describe(PackageFile::Ciphertext)
        )
    };
    let file = paths.open(PackageFile::Ciphertext).map_err(cannot)?;
    let (size, sha) = sha256_reader(BufReader::with_capacity(1 << 20, file)).map_err(cannot)?;
    if size != seal.ciphertext.size {
        return Err(format!(
            "size is {size} bytes, the seal says {} (truncated or extended)",
            seal.ciphertext.size
        ));
    }
    if sha != seal.ciphertext.sha256 {
        return Err(format!(
            "SHA-256 is {sha}, the seal says {}",
            super::shown(&seal.ciphertext.sha256)
        ));
    }
    Ok(format!("{size} bytes, SHA-256 {sha}"))
}

/// The custody log's check and the events it holds.
pub(super) fn custody(
    paths: &dyn PackageReader,
    seal: &Seal,
    seal_bytes: &[u8],
) -> (Result<String, String>, Vec<CustodyEvent>) {
    let text = match paths.read_all(PackageFile::Custody).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            return (
                Err(format!("{}: {e}", paths.describe(PackageFile::Custody))),
                Vec::new(),
            )
        }
        Err(e) => {
            return (
                Err(format!(
                    "cannot read {}: {e}",
                    paths.describe(PackageFile::Custody)
                )),
                Vec::new(),
            )
        }
    };
    let chain = custody::check_chain(
        &text,
        &sha256_hex(seal_bytes),
        true,
        Some(&seal.ciphertext.sha256),
    );
    let first_ok = chain.events.first().map(|e| {
        e.action == CustodyAction::Sealed
            && e.signer_fingerprint.as_deref() == Some(seal.signer.fingerprint.as_str())
    });
    let result = match (chain.problems.first(), first_ok) {
        (Some(p), _) => Err(format!("line {}: {}", p.line, p.problem)),
        (None, Some(false)) => {
            Err("line 1: the first event must be 'sealed', signed by the seal's signer".into())
        }
        _ => Ok(format!(
            "{} events, chain and signatures intact",
            chain.events.len()
        )),
    };
    (result, chain.events)
}
