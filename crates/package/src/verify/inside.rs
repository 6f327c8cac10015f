//! The checks that need the key: decryption, the zip's structure (read from
//! the central directory before anything is decompressed), every entry
//! against the manifest, `SHA256SUMS`, the Merkle root and the collection log.

use super::{CheckName, Checks, EntrySink, Inside};
use crate::custody::{self, INNER_GENESIS};
use crate::hashing::sha256_hex;
use crate::layout;
use crate::manifest::{sha256sums, Manifest, MANIFEST_FORMAT};
use crate::merkle::merkle_root;
use crate::names;
use crate::reader::{PackageFile, PackageReader, ReadSeek};
use crate::seal::Seal;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufReader, Read};

/// Largest `manifest.json`, `SHA256SUMS` or `custody.jsonl` read into memory.
const MAX_DOCUMENT: u64 = 512 << 20;

type Archive = zip::ZipArchive<crate::crypto::Plaintext<BufReader<Box<dyn ReadSeek>>>>;

/// One entry, from the central directory.
struct Entry {
    index: usize,
    name: String,
    size: u64,
}

/// Size and SHA-256 of each entry read.
type Digests = BTreeMap<String, (u64, String)>;

pub(super) fn run(
    checks: &mut Checks,
    paths: &dyn PackageReader,
    seal: &Seal,
    opts: Inside<'_>,
    sink: &mut dyn EntrySink,
) {
    let mut zip = match open_archive(paths, &opts) {
        Ok(z) => z,
        Err(e) => {
            checks.add(CheckName::Decrypt, Err(e));
            return;
        }
    };
    let entries = match structure(&mut zip, opts.max_ratio) {
        Ok(e) => e,
        Err(problems) => return unsafe_archive(checks, problems),
    };
    // The manifest decides what every other entry must be.
    let manifest_text = match read_small(&mut zip, layout::MANIFEST) {
        Ok(t) => t,
        Err(e) => {
            checks.add(CheckName::Decrypt, Err(e));
            return;
        }
    };
    let manifest: Option<Manifest> = serde_json::from_slice(&manifest_text)
        .ok()
        .filter(|m: &Manifest| m.format == MANIFEST_FORMAT);
    let problems = declared_sizes(&entries, manifest.as_ref());
    if !problems.is_empty() {
        return unsafe_archive(checks, problems);
    }
    let digests = match read_entries(checks, &mut zip, &entries, sink) {
        Some(d) => d,
        None => return,
    };
    let manifest_sha = sha256_hex(&manifest_text);
    checks.add(
        CheckName::Manifest,
        check_manifest(manifest.as_ref(), &manifest_sha, seal),
    );
    let Some(manifest) = &manifest else { return };
    checks.add(CheckName::Files, check_files(manifest, &digests));
    checks.add(
        CheckName::Sha256Sums,
        check_sums(&mut zip, manifest, &manifest_sha),
    );
    checks.add(CheckName::MerkleRoot, check_merkle(manifest, seal));
    checks.add(CheckName::CollectionLog, check_collection_log(&mut zip));
}

fn open_archive(paths: &dyn PackageReader, opts: &Inside<'_>) -> Result<Archive, String> {
    let file = paths.open(PackageFile::Ciphertext).map_err(|e| {
        format!(
            "cannot read {}: {e}",
            paths.describe(PackageFile::Ciphertext)
        )
    })?;
    let stream = opts
        .identities
        .decrypt(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| e.to_string())?;
    zip::ZipArchive::new(stream).map_err(|e| {
        format!("the decrypted stream is not a readable zip: {e} (corrupt or truncated package)")
    })
}

/// An unsafe archive: decryption worked, nothing is extracted.
fn unsafe_archive(checks: &mut Checks, problems: Vec<String>) {
    checks.add(
        CheckName::Decrypt,
        Ok("header and first chunks decrypt with the given identity".into()),
    );
    checks.add(
        CheckName::ZipStructure,
        Err(format!(
            "unsafe archive, nothing extracted: {}",
            problems.join("; ")
        )),
    );
}

/// Every entry's name, type, uniqueness and compression ratio, from the
/// central directory alone.
fn structure(zip: &mut Archive, max_ratio: u64) -> Result<Vec<Entry>, Vec<String>> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut seen_folded = HashSet::new();
    let mut entries = Vec::new();
    for index in 0..zip.len() {
        let e = match zip.by_index_raw(index) {
            Ok(e) => e,
            Err(err) => {
                problems.push(format!("entry {index}: {err}"));
                continue;
            }
        };
        let name = String::from_utf8_lossy(e.name_raw()).into_owned();
        if let Err(why) = names::check(&name) {
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
        } else if !seen_folded.insert(names::folded(&name)) {
            problems.push(format!(
                "{name:?}: differs from another entry only by case or Unicode normalisation"
            ));
        }
        let (size, packed) = (e.size(), e.compressed_size());
        if size > (1 << 20) && size / packed.max(1) > max_ratio {
            problems.push(format!(
                "{name:?}: expands {}x ({} -> {size} bytes), above the limit of {}x (zip bomb?)",
                size / packed.max(1),
                packed,
                max_ratio
            ));
        }
        entries.push(Entry { index, name, size });
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// Entries whose declared size differs from the manifest's.
fn declared_sizes(entries: &[Entry], manifest: Option<&Manifest>) -> Vec<String> {
    let Some(m) = manifest else {
        return Vec::new();
    };
    let expected: BTreeMap<&str, u64> = m.files.iter().map(|f| (f.path.as_str(), f.size)).collect();
    entries
        .iter()
        .filter_map(|e| {
            let want = expected.get(e.name.as_str())?;
            (*want != e.size).then(|| {
                format!(
                    "{}: declared size {} bytes, the manifest says {want}",
                    e.name, e.size
                )
            })
        })
        .collect()
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

/// Every entry, in archive order: decrypt, inflate, CRC, hash (checks
/// `decrypt` and `zip-structure`); `None` when reading stopped.
fn read_entries(
    checks: &mut Checks,
    zip: &mut Archive,
    entries: &[Entry],
    sink: &mut dyn EntrySink,
) -> Option<Digests> {
    let mut digests = Digests::new();
    for e in entries {
        let result = zip
            .by_index(e.index)
            .map_err(io::Error::other)
            .and_then(|entry| {
                let mut bounded = Bounded {
                    inner: entry,
                    left: e.size,
                    name: e.name.clone(),
                };
                sink.entry(&e.name, &mut bounded)
            });
        match result {
            Ok(d) => {
                digests.insert(e.name.clone(), d);
            }
            Err(err) if err.get_ref().is_some_and(|i| i.is::<SizeExceeded>()) => {
                checks.add(
                    CheckName::Decrypt,
                    Ok("chunks read so far authenticated".into()),
                );
                checks.add(
                    CheckName::ZipStructure,
                    Err(format!(
                        "unsafe archive, nothing extracted: {}: {err}",
                        e.name
                    )),
                );
                return None;
            }
            Err(err) => {
                checks.add(
                    CheckName::Decrypt,
                    Err(format!(
                        "{}: {err} (the ciphertext is corrupt, truncated or was modified)",
                        e.name
                    )),
                );
                return None;
            }
        }
    }
    checks.add(
        CheckName::Decrypt,
        Ok(format!(
            "every chunk authenticated ({} entries)",
            entries.len()
        )),
    );
    checks.add(
        CheckName::ZipStructure,
        Ok("names safe, no links, no duplicates, CRC-32 of every entry correct".into()),
    );
    Some(digests)
}

fn check_manifest(
    manifest: Option<&Manifest>,
    manifest_sha: &str,
    seal: &Seal,
) -> Result<String, String> {
    match manifest {
        _ if manifest_sha != seal.manifest.sha256 => Err(format!(
            "manifest.json SHA-256 is {manifest_sha}, the seal says {}",
            super::shown(&seal.manifest.sha256)
        )),
        None => Err("manifest.json is not a m365-preserve manifest".into()),
        Some(m) => Ok(format!(
            "SHA-256 {manifest_sha} as sealed; {} files, {} records",
            m.totals.files, m.totals.records
        )),
    }
}

fn check_files(manifest: &Manifest, digests: &Digests) -> Result<String, String> {
    let mut problems = Vec::new();
    for f in &manifest.files {
        match digests.get(&f.path) {
            None => problems.push(format!(
                "{} is in the manifest but not in the archive",
                f.path
            )),
            Some((size, sha)) if *size != f.size || *sha != f.sha256 => problems.push(format!(
                "{}: SHA-256 {sha}, the manifest says {}",
                f.path, f.sha256
            )),
            Some(_) => {}
        }
    }
    let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for name in digests.keys() {
        if name != layout::MANIFEST && name != layout::SUMS && !listed.contains(name.as_str()) {
            problems.push(format!("{name} is in the archive but not in the manifest"));
        }
    }
    if problems.is_empty() {
        Ok(format!("{} files match the manifest", manifest.files.len()))
    } else {
        Err(problems.join("; "))
    }
}

fn check_sums(
    zip: &mut Archive,
    manifest: &Manifest,
    manifest_sha: &str,
) -> Result<String, String> {
    let expected = sha256sums(
        manifest
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .chain([(layout::MANIFEST, manifest_sha)]),
    );
    let text = read_small(zip, layout::SUMS)?;
    if text == expected.as_bytes() {
        Ok(format!(
            "{} lines, every file but itself",
            manifest.files.len() + 1
        ))
    } else {
        Err("SHA256SUMS does not list exactly the manifest's files and hashes".into())
    }
}

fn check_merkle(manifest: &Manifest, seal: &Seal) -> Result<String, String> {
    let root = merkle_root(
        manifest
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str())),
    );
    if root == manifest.merkle_root && root == seal.manifest.merkle_root {
        Ok(root)
    } else {
        Err(format!(
            "recomputed {root}; manifest says {}, seal says {}",
            super::shown(&manifest.merkle_root),
            super::shown(&seal.manifest.merkle_root)
        ))
    }
}

fn check_collection_log(zip: &mut Archive) -> Result<String, String> {
    let text = read_small(zip, layout::CUSTODY_LOG)?;
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

fn read_small(zip: &mut Archive, name: &str) -> Result<Vec<u8>, String> {
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
