//! Verification: the checks an IR firm runs on a package, each reported by name.
//!
//! Without an identity: the seal's signature, the ciphertext hash and the custody
//! chain ([`outside`]). With one: also decryption of every chunk, the zip
//! structure, every file against the manifest and `SHA256SUMS`, and the manifest
//! hash and Merkle root against the seal ([`inside`]).

mod inside;
mod outside;

use crate::crypto::Identities;
use crate::custody::CustodyEvent;
use crate::hashing::sha256_reader;
use crate::reader::{PackageFile, PackageReader};
use crate::seal::Completeness;
use serde::Serialize;
use std::io::{self, Read};

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    /// `seal.json` is readable and of a known format.
    Seal,
    /// The seal's SSH signature, by the key it names (or the expected one).
    SealSignature,
    /// The ciphertext's size and SHA-256 against the seal.
    Ciphertext,
    /// The custody log outside the package: chain, signatures, observed hashes.
    CustodyChain,
    /// Every age chunk authenticates with the identity.
    Decrypt,
    /// Safe names, no links or duplicates, sizes as declared, CRC-32 of every entry.
    ZipStructure,
    /// `manifest.json` is the one the seal names.
    Manifest,
    /// Every file against the manifest.
    Files,
    /// `SHA256SUMS` lists exactly the manifest's files.
    #[serde(rename = "sha256sums")]
    Sha256Sums,
    /// The Merkle root of the files against the manifest and the seal.
    MerkleRoot,
    /// The collection-time custody log inside the package.
    CollectionLog,
}

impl CheckName {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Seal => "seal",
            CheckName::SealSignature => "seal-signature",
            CheckName::Ciphertext => "ciphertext",
            CheckName::CustodyChain => "custody-chain",
            CheckName::Decrypt => "decrypt",
            CheckName::ZipStructure => "zip-structure",
            CheckName::Manifest => "manifest",
            CheckName::Files => "files",
            CheckName::Sha256Sums => "sha256sums",
            CheckName::MerkleRoot => "merkle-root",
            CheckName::CollectionLog => "collection-log",
        }
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One named check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: CheckName,
    pub ok: bool,
    pub detail: String,
}

/// A value read from the package, as a report shows it: at most 200
/// characters, so a hostile seal cannot fill the terminal or the report.
fn shown(value: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 200;
    match value.char_indices().nth(MAX) {
        None => value.into(),
        Some((end, _)) => format!("{}… ({} bytes)", &value[..end], value.len()).into(),
    }
}

/// The result of verifying a package.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub package: String,
    pub ok: bool,
    pub case_id: Option<String>,
    pub completeness: Option<Completeness>,
    pub signer_fingerprint: Option<String>,
    pub checks: Vec<Check>,
    pub custody: Vec<CustodyEvent>,
}

impl VerifyReport {
    /// Whether the checks that need the key ran (and so every file was read).
    pub fn inside_checked(&self) -> bool {
        self.checks.iter().any(|c| c.name == CheckName::Files)
    }
}

/// Where verified entries go: nowhere (verify) or to disk (open).
pub trait EntrySink {
    /// Consumes one entry's content; returns its size and SHA-256.
    fn entry(&mut self, name: &str, content: &mut dyn Read) -> io::Result<(u64, String)>;
}

/// Hashes entries and keeps nothing.
pub struct HashOnly;

impl EntrySink for HashOnly {
    fn entry(&mut self, _name: &str, content: &mut dyn Read) -> io::Result<(u64, String)> {
        sha256_reader(content)
    }
}

/// Options for the inside checks.
pub struct Inside<'a> {
    pub identities: &'a Identities,
    /// Refuse entries over 1 MiB that expand more than this many times (zip bombs).
    pub max_ratio: u64,
}

/// The checks as they are run.
struct Checks(Vec<Check>);

impl Checks {
    /// Records a check; returns whether it passed.
    fn add(&mut self, name: CheckName, result: Result<String, String>) -> bool {
        let ok = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        self.0.push(Check { name, ok, detail });
        ok
    }
}

/// Verifies a package; `inside` adds the checks that need the decryption key.
pub fn verify(
    paths: &dyn PackageReader,
    trusted_signer: Option<&str>,
    inside: Option<(Inside<'_>, &mut dyn EntrySink)>,
) -> VerifyReport {
    let mut checks = Checks(Vec::new());
    let mut report = VerifyReport {
        package: paths.describe(PackageFile::Ciphertext),
        ok: false,
        case_id: None,
        completeness: None,
        signer_fingerprint: None,
        checks: Vec::new(),
        custody: Vec::new(),
    };
    let Some((seal, seal_bytes)) = outside::read_seal(&mut checks, paths) else {
        report.checks = checks.0;
        return report;
    };
    report.case_id = Some(seal.case_id.clone());
    report.completeness = Some(seal.completeness);
    report.signer_fingerprint = Some(seal.signer.fingerprint.clone());
    checks.add(
        CheckName::SealSignature,
        outside::signature(paths, &seal, &seal_bytes, trusted_signer),
    );
    checks.add(CheckName::Ciphertext, outside::ciphertext(paths, &seal));
    let (custody, events) = outside::custody(paths, &seal, &seal_bytes);
    report.custody = events;
    checks.add(CheckName::CustodyChain, custody);
    if let Some((opts, sink)) = inside {
        inside::run(&mut checks, paths, &seal, opts, sink);
    }
    report.ok = checks.0.iter().all(|c| c.ok);
    report.checks = checks.0;
    report
}
