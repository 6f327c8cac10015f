//! Verification: the checks an IR firm runs on a package, each reported by name.
//!
//! Without an identity: the seal's signature, the ciphertext hash and the custody
//! chain. With one: also decryption of every chunk, the zip structure, every file
//! against the manifest and `SHA256SUMS`, and the manifest hash and Merkle root
//! against the seal.

use super::crypto::Identities;
use super::custody::{self, CustodyEvent, INNER_GENESIS};
use super::manifest::{sha256sums, Manifest, MANIFEST_FORMAT, MANIFEST_PATH, SUMS_PATH};
use super::merkle::merkle_root;
use super::paths::PackagePaths;
use super::seal::{Seal, SEAL_FORMAT};
use super::signing::{self, SEAL_NAMESPACE};
use crate::hashing::{sha256_hex, sha256_reader};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};

/// Largest `manifest.json`, `SHA256SUMS` or `custody.jsonl` read into memory.
const MAX_DOCUMENT: u64 = 512 << 20;

/// One named check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// The result of verifying a package.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub package: String,
    pub ok: bool,
    pub case_id: Option<String>,
    pub completeness: Option<String>,
    pub signer_fingerprint: Option<String>,
    pub checks: Vec<Check>,
    pub custody: Vec<CustodyEvent>,
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

struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &'static str, result: Result<String, String>) -> bool {
        let ok = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        self.checks.push(Check { name, ok, detail });
        ok
    }
}

/// Verifies a package; `inside` adds the checks that need the decryption key.
pub fn verify(
    paths: &PackagePaths,
    trusted_signer: Option<&str>,
    inside: Option<(Inside<'_>, &mut dyn EntrySink)>,
) -> VerifyReport {
    let mut r = Report { checks: Vec::new() };
    let mut report = VerifyReport {
        package: paths.ciphertext.display().to_string(),
        ok: false,
        case_id: None,
        completeness: None,
        signer_fingerprint: None,
        checks: Vec::new(),
        custody: Vec::new(),
    };

    let seal_bytes = std::fs::read(&paths.seal);
    let seal: Option<Seal> = match &seal_bytes {
        Err(e) => {
            r.add(
                "seal",
                Err(format!("cannot read {}: {e}", paths.seal.display())),
            );
            None
        }
        Ok(bytes) => match serde_json::from_slice::<Seal>(bytes) {
            Ok(seal) if seal.format == SEAL_FORMAT => {
                r.add(
                    "seal",
                    Ok(format!(
                        "case {} sealed {} by {}",
                        seal.case_id, seal.times.sealed, seal.examiner
                    )),
                );
                Some(seal)
            }
            Ok(seal) => {
                r.add(
                    "seal",
                    Err(format!("unknown seal format {:?}", seal.format)),
                );
                None
            }
            Err(e) => {
                r.add(
                    "seal",
                    Err(format!("{} is not a valid seal: {e}", paths.seal.display())),
                );
                None
            }
        },
    };
    let Some(seal) = seal else {
        report.checks = r.checks;
        return report;
    };
    let seal_bytes = seal_bytes.expect("read above");
    report.case_id = Some(seal.case_id.clone());
    report.completeness = Some(seal.completeness.clone());
    report.signer_fingerprint = Some(seal.signer.fingerprint.clone());

    r.add(
        "seal-signature",
        check_signature(paths, &seal, &seal_bytes, trusted_signer),
    );
    r.add("ciphertext", check_ciphertext(paths, &seal));

    let custody_result = match std::fs::read_to_string(&paths.custody) {
        Err(e) => Err(format!("cannot read {}: {e}", paths.custody.display())),
        Ok(text) => {
            let chain = custody::check_chain(
                &text,
                &sha256_hex(&seal_bytes),
                true,
                Some(&seal.ciphertext.sha256),
            );
            let first_ok = chain.events.first().map(|e| {
                e.action == "sealed"
                    && e.signer_fingerprint.as_deref() == Some(seal.signer.fingerprint.as_str())
            });
            report.custody = chain.events.clone();
            match (chain.problems.first(), first_ok) {
                (Some(p), _) => Err(format!("line {}: {}", p.line, p.problem)),
                (None, Some(false)) => Err(
                    "line 1: the first event must be 'sealed', signed by the seal's signer".into(),
                ),
                _ => Ok(format!(
                    "{} events, chain and signatures intact",
                    chain.events.len()
                )),
            }
        }
    };
    r.add("custody-chain", custody_result);

    if let Some((opts, sink)) = inside {
        check_inside(&mut r, paths, &seal, opts, sink);
    }
    report.ok = r.checks.iter().all(|c| c.ok);
    report.checks = r.checks;
    report
}

fn check_signature(
    paths: &PackagePaths,
    seal: &Seal,
    seal_bytes: &[u8],
    trusted: Option<&str>,
) -> Result<String, String> {
    let sig = std::fs::read_to_string(&paths.signature)
        .map_err(|e| format!("cannot read {}: {e}", paths.signature.display()))?;
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

fn check_ciphertext(paths: &PackagePaths, seal: &Seal) -> Result<String, String> {
    let file = File::open(&paths.ciphertext)
        .map_err(|e| format!("cannot read {}: {e}", paths.ciphertext.display()))?;
    let (size, sha) =
        sha256_reader(BufReader::with_capacity(1 << 20, file)).map_err(|e| e.to_string())?;
    if size != seal.ciphertext.size {
        return Err(format!(
            "size is {size} bytes, the seal says {} (truncated or extended)",
            seal.ciphertext.size
        ));
    }
    if sha != seal.ciphertext.sha256 {
        return Err(format!(
            "SHA-256 is {sha}, the seal says {}",
            seal.ciphertext.sha256
        ));
    }
    Ok(format!("{size} bytes, SHA-256 {sha}"))
}

/// An entry name that cannot escape the extraction folder on any system.
pub fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.contains('\0') || name.chars().any(char::is_control) {
        return Some("control characters in the name");
    }
    if name.contains('\\') {
        return Some("backslash in the name");
    }
    if name.starts_with('/') {
        return Some("absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("drive letter");
    }
    if name.split('/').any(|c| c == "..") {
        return Some("'..' component");
    }
    if name.split('/').any(|c| c.is_empty() || c == ".") {
        return Some("empty or '.' component (directory entry?)");
    }
    None
}

/// An entry produced more bytes than its header declared.
#[derive(Debug)]
struct SizeExceeded(String);

impl std::fmt::Display for SizeExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} holds more data than its declared size (zip bomb?)",
            self.0
        )
    }
}

impl std::error::Error for SizeExceeded {}

/// Reads at most `limit` bytes and fails if there are more.
struct Bounded<R> {
    inner: R,
    left: u64,
    name: String,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    SizeExceeded(self.name.clone()),
                )),
            };
        }
        let cap = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..cap])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn check_inside(
    r: &mut Report,
    paths: &PackagePaths,
    seal: &Seal,
    opts: Inside<'_>,
    sink: &mut dyn EntrySink,
) {
    let file = match File::open(&paths.ciphertext) {
        Ok(f) => f,
        Err(e) => {
            r.add(
                "decrypt",
                Err(format!("cannot read {}: {e}", paths.ciphertext.display())),
            );
            return;
        }
    };
    let stream = match opts
        .identities
        .decrypt(BufReader::with_capacity(1 << 20, file))
    {
        Ok(s) => s,
        Err(e) => {
            r.add("decrypt", Err(e.to_string()));
            return;
        }
    };
    let mut zip = match zip::ZipArchive::new(stream) {
        Ok(z) => z,
        Err(e) => {
            r.add("decrypt", Err(format!("the decrypted stream is not a readable zip: {e} (corrupt or truncated package)")));
            return;
        }
    };

    // Structure first, from the central directory, before anything is decompressed.
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut seen_folded = HashSet::new();
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let e = match zip.by_index_raw(i) {
            Ok(e) => e,
            Err(err) => {
                problems.push(format!("entry {i}: {err}"));
                continue;
            }
        };
        let name = String::from_utf8_lossy(e.name_raw()).into_owned();
        if let Some(why) = unsafe_name_reason(&name) {
            problems.push(format!("{name:?}: {why}"));
        }
        if e.is_symlink() || e.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            problems.push(format!("{name:?}: symbolic link"));
        }
        if e.is_dir() {
            problems.push(format!("{name:?}: directory entry"));
        }
        if !seen.insert(name.clone()) {
            problems.push(format!("{name:?}: duplicate name"));
        } else if !seen_folded.insert(name.to_lowercase()) {
            problems.push(format!("{name:?}: differs from another entry only by case"));
        }
        let (size, packed) = (e.size(), e.compressed_size());
        if size > (1 << 20) && size / packed.max(1) > opts.max_ratio {
            problems.push(format!(
                "{name:?}: expands {}x ({} -> {size} bytes), above the limit of {}x (zip bomb?)",
                size / packed.max(1),
                packed,
                opts.max_ratio
            ));
        }
        entries.push((i, name, size));
    }
    if !problems.is_empty() {
        r.add(
            "decrypt",
            Ok("header and first chunks decrypt with the given identity".into()),
        );
        r.add(
            "zip-structure",
            Err(format!(
                "unsafe archive, nothing extracted: {}",
                problems.join("; ")
            )),
        );
        return;
    }

    // The manifest decides what every other entry must be.
    let manifest_text = match read_small(&mut zip, MANIFEST_PATH) {
        Ok(t) => t,
        Err(e) => {
            r.add("decrypt", Err(e));
            return;
        }
    };
    let manifest_sha = sha256_hex(&manifest_text);
    let manifest: Option<Manifest> = serde_json::from_slice(&manifest_text)
        .ok()
        .filter(|m: &Manifest| m.format == MANIFEST_FORMAT);
    let expected: BTreeMap<&str, (u64, &str)> = manifest
        .iter()
        .flat_map(|m| {
            m.files
                .iter()
                .map(|f| (f.path.as_str(), (f.size, f.sha256.as_str())))
        })
        .collect();
    for (_, name, size) in &entries {
        if let Some((want, _)) = expected.get(name.as_str()) {
            if want != size {
                problems.push(format!(
                    "{name}: declared size {size} bytes, the manifest says {want}"
                ));
            }
        }
    }
    if !problems.is_empty() {
        r.add(
            "decrypt",
            Ok("header and first chunks decrypt with the given identity".into()),
        );
        r.add(
            "zip-structure",
            Err(format!(
                "unsafe archive, nothing extracted: {}",
                problems.join("; ")
            )),
        );
        return;
    }

    // Now every entry, in archive order: decrypt, inflate, CRC, hash.
    let mut digests: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut read_error = None;
    for (i, name, size) in &entries {
        let result = zip
            .by_index(*i)
            .map_err(io::Error::other)
            .and_then(|entry| {
                let mut bounded = Bounded {
                    inner: entry,
                    left: *size,
                    name: name.clone(),
                };
                sink.entry(name, &mut bounded)
            });
        match result {
            Ok(d) => {
                digests.insert(name.clone(), d);
            }
            Err(e) => {
                let oversized = e.get_ref().is_some_and(|inner| inner.is::<SizeExceeded>());
                read_error = Some((oversized, format!("{name}: {e}")));
                break;
            }
        }
    }
    match read_error {
        Some((true, e)) => {
            r.add("decrypt", Ok("chunks read so far authenticated".into()));
            r.add(
                "zip-structure",
                Err(format!("unsafe archive, nothing extracted: {e}")),
            );
            return;
        }
        Some((false, e)) => {
            r.add(
                "decrypt",
                Err(format!(
                    "{e} (the ciphertext is corrupt, truncated or was modified)"
                )),
            );
            return;
        }
        None => {}
    }
    r.add(
        "decrypt",
        Ok(format!(
            "every chunk authenticated ({} entries)",
            entries.len()
        )),
    );
    r.add(
        "zip-structure",
        Ok("names safe, no links, no duplicates, CRC-32 of every entry correct".into()),
    );

    r.add(
        "manifest",
        match &manifest {
            _ if manifest_sha != seal.manifest.sha256 => Err(format!(
                "manifest.json SHA-256 is {manifest_sha}, the seal says {}",
                seal.manifest.sha256
            )),
            None => Err("manifest.json is not a m365-preserve manifest".into()),
            Some(m) => Ok(format!(
                "SHA-256 {manifest_sha} as sealed; {} files, {} records",
                m.totals.files, m.totals.records
            )),
        },
    );
    let Some(manifest) = &manifest else { return };

    let mut file_problems = Vec::new();
    for f in &manifest.files {
        match digests.get(&f.path) {
            None => file_problems.push(format!(
                "{} is in the manifest but not in the archive",
                f.path
            )),
            Some((size, sha)) if *size != f.size || *sha != f.sha256 => file_problems.push(
                format!("{}: SHA-256 {sha}, the manifest says {}", f.path, f.sha256),
            ),
            Some(_) => {}
        }
    }
    for name in digests.keys() {
        if name != MANIFEST_PATH && name != SUMS_PATH && !expected.contains_key(name.as_str()) {
            file_problems.push(format!("{name} is in the archive but not in the manifest"));
        }
    }
    r.add(
        "files",
        if file_problems.is_empty() {
            Ok(format!("{} files match the manifest", manifest.files.len()))
        } else {
            Err(file_problems.join("; "))
        },
    );

    let sums_expected = sha256sums(
        manifest
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .chain([(MANIFEST_PATH, manifest_sha.as_str())]),
    );
    r.add(
        "sha256sums",
        match read_small(&mut zip, SUMS_PATH) {
            Err(e) => Err(e),
            Ok(text) if text == sums_expected.as_bytes() => Ok(format!(
                "{} lines, every file but itself",
                manifest.files.len() + 1
            )),
            Ok(_) => Err("SHA256SUMS does not list exactly the manifest's files and hashes".into()),
        },
    );

    let root = merkle_root(
        manifest
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str())),
    );
    r.add(
        "merkle-root",
        if root == manifest.merkle_root && root == seal.manifest.merkle_root {
            Ok(root)
        } else {
            Err(format!(
                "recomputed {root}; manifest says {}, seal says {}",
                manifest.merkle_root, seal.manifest.merkle_root
            ))
        },
    );

    r.add(
        "collection-log",
        match read_small(&mut zip, "custody.jsonl") {
            Err(e) => Err(e),
            Ok(text) => {
                let text = String::from_utf8_lossy(&text);
                let chain = custody::check_chain(&text, INNER_GENESIS, false, None);
                match chain.problems.first() {
                    Some(p) => Err(format!("custody.jsonl line {}: {}", p.line, p.problem)),
                    None => Ok(format!(
                        "{} collection-time events, chain intact",
                        chain.events.len()
                    )),
                }
            }
        },
    );
}

fn read_small<R: Read + io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if entry.size() > MAX_DOCUMENT {
        return Err(format!(
            "{name} is {} bytes, larger than any real one",
            entry.size()
        ));
    }
    let mut out = Vec::new();
    entry
        .take(MAX_DOCUMENT)
        .read_to_end(&mut out)
        .map_err(|e| {
            format!("{name}: {e} (the ciphertext is corrupt, truncated or was modified)")
        })?;
    Ok(out)
}
