//! Sealing: folder -> zip (parallel deflate) -> age -> file, hashing the
//! plaintext entries and the ciphertext on the way; then the signed seal and the
//! first custody line. No plaintext copy of the package ever touches the disk.

use crate::acquisition::{Acquisition, Clock, EarlierPackage, Host, Tool, ACQUISITION_FORMAT};
use crate::content::{is_utc_z, ContentPlan};
use crate::crypto::{RecipientInfo, Recipients};
use crate::custody::{self, CustodyAction, CustodyEvent, INNER_GENESIS};
use crate::evidence::{FileDigest, SourceStatus, SourceSummary};
use crate::hashing::{sha256_hex, HashingWriter};
use crate::layout::{self, FileRole};
use crate::manifest::{sha256sums, Manifest, ManifestFile};
use crate::paths::{package_base, PackagePaths};
use crate::signing::{SigningKey, SEAL_NAMESPACE};
use crate::timefmt::format_utc;
use crate::zipwrite::{ZipOptions, ZipStreamWriter};
use crate::{io_err, write_new_file, FolderProblem, PackageError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const SEAL_FORMAT: &str = "m365-preserve-seal/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealTimes {
    pub started: String,
    pub finished: String,
    pub sealed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiphertextRef {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRef {
    pub path: String,
    pub sha256: String,
    pub merkle_root: String,
    pub files: u64,
    pub bytes: u64,
    pub records: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceBrief {
    pub source: String,
    pub status: SourceStatus,
    pub records: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signer {
    /// OpenSSH public key of the sealer.
    pub public_key: String,
    pub fingerprint: String,
    /// True when the key was generated for this case and then discarded.
    pub generated_for_this_case: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureRef {
    pub file: String,
    pub namespace: String,
}

/// The seal: the signed statement outside the ciphertext. No secrets, no free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seal {
    pub format: String,
    pub case_id: String,
    pub examiner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub tool: Tool,
    pub times: SealTimes,
    pub ciphertext: CiphertextRef,
    pub recipients: Vec<RecipientInfo>,
    pub manifest: ManifestRef,
    pub completeness: Completeness,
    pub sources: Vec<SourceBrief>,
    pub signer: Signer,
    pub signature: SignatureRef,
    /// Set when this package holds only what an earlier package of the same
    /// collection was missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplements: Option<EarlierPackage>,
}

/// Whether every source of a package is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Completeness {
    Complete,
    /// Some source is partial, unavailable or failed.
    Incomplete,
}

impl Completeness {
    pub fn of(summaries: &[SourceSummary]) -> Self {
        if summaries.iter().all(|s| s.status == SourceStatus::Complete) {
            Completeness::Complete
        } else {
            Completeness::Incomplete
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Incomplete => "incomplete",
        }
    }
}

/// Hears how far sealing has got (a progress bar, log lines, nothing).
pub trait SealProgress: Sync {
    /// Sealing starts with this many bytes of content.
    fn begin(&self, _bytes: u64) {}
    /// This many more bytes were read.
    fn advance(&self, _bytes: u64) {}
    /// Sealing finished.
    fn end(&self) {}
}

/// No progress display.
pub struct Silent;
impl SealProgress for Silent {}

/// Who seals, where, to whom, and how: what every sealing command shares.
pub struct Sealer<'a> {
    pub case_id: &'a str,
    pub examiner: &'a str,
    /// Free text kept inside the encryption (never in the seal).
    pub note: Option<&'a str>,
    pub out_dir: &'a Path,
    pub recipients: &'a Recipients,
    pub signing_key: &'a SigningKey,
    pub zip: ZipOptions,
    /// The command line, secrets redacted.
    pub command_line: Vec<String>,
    /// Snapshot of this run's log, for `collection.log`.
    pub log: &'a (dyn Fn() -> String + Sync),
    pub progress: &'a dyn SealProgress,
}

/// Where the content came from, for the seal and `acquisition.json`.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub started: Option<DateTime<Utc>>,
    pub tenant_id: Option<String>,
    pub cloud: Option<String>,
    /// The operator's token identity (never the token).
    pub operator: Option<Value>,
    /// The package this one completes (a resumed collection's missing queries).
    pub supplements: Option<EarlierPackage>,
}

/// What sealing produced.
pub struct Sealed {
    pub paths: PackagePaths,
    pub seal: Seal,
    pub manifest: Manifest,
}

/// Seals `plan` into a package in the sealer's output folder.
pub fn seal(
    plan: ContentPlan,
    sealer: &Sealer<'_>,
    prov: &Provenance,
) -> Result<Sealed, PackageError> {
    let expected = collector_digests(&plan)?;
    let started = prov.started.unwrap_or_else(Utc::now);
    let mut out = Output::create(sealer)?;
    sealer.progress.begin(plan.bytes());
    let host = Host::this();
    let mut files = out.add_content(&plan, &expected, sealer.progress)?;
    let finished = Utc::now();
    let documents = Documents {
        acquisition: acquisition(sealer, prov, &host, started, finished),
        custody: inner_custody(&plan, &files, sealer.examiner, &host)?,
        log: run_log(&plan, sealer)?,
    };
    files.extend(out.add_documents(&documents)?);
    let manifest = Manifest::new(
        sealer.case_id,
        format_utc(finished),
        files,
        plan.summaries.clone(),
    );
    let manifest_sha = out.add_manifest(&manifest)?;
    let (ct_size, ct_sha) = out.finish(sealer.case_id)?;
    let seal = seal_document(
        sealer,
        prov,
        &out.paths,
        SealFacts {
            started,
            finished,
            ct_size,
            ct_sha: ct_sha.clone(),
            manifest: &manifest,
            manifest_sha,
        },
    );
    out.sign(&seal, sealer, &host, ct_sha)?;
    sealer.progress.end();
    Ok(Sealed {
        paths: out.commit()?,
        seal,
        manifest,
    })
}

/// The collector's digest of every file it wrote (sealing re-hashes and compares),
/// each with its summary; a file the collector wrote must still be there.
fn collector_digests(
    plan: &ContentPlan,
) -> Result<HashMap<&str, (&SourceSummary, &FileDigest)>, PackageError> {
    let expected: HashMap<&str, (&SourceSummary, &FileDigest)> = plan
        .summaries
        .iter()
        .flat_map(|s| s.files.iter().map(move |f| (f.path.as_str(), (s, f))))
        .collect();
    for path in expected.keys() {
        if !plan.files.iter().any(|f| f.archive_path == *path) {
            return Err(FolderProblem::Missing(path.to_string()).into());
        }
    }
    Ok(expected)
}

/// The package's four files while they are written: removed again unless
/// sealing gets to the end.
struct Output {
    paths: PackagePaths,
    written: Vec<PathBuf>,
    zip: Option<ZipStreamWriter<age::stream::StreamWriter<HashingWriter<BufWriter<File>>>>>,
}

impl Output {
    fn create(sealer: &Sealer<'_>) -> Result<Self, PackageError> {
        fs::create_dir_all(sealer.out_dir).map_err(io_err(sealer.out_dir))?;
        let (sealed_at, paths) = free_names(sealer)?;
        let partial_ct = partial(&paths.ciphertext);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial_ct)
            .map_err(io_err(&partial_ct))?;
        let mut out = Output {
            written: vec![partial_ct],
            paths,
            zip: None,
        };
        let sink = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        let encrypted = sealer
            .recipients
            .encryptor()?
            .wrap_output(sink)
            .map_err(io_err(&out.paths.ciphertext))?;
        out.zip = Some(ZipStreamWriter::new(
            encrypted,
            ZipOptions {
                mtime: sealed_at,
                ..sealer.zip.clone()
            },
        ));
        Ok(out)
    }

    fn zip(
        &mut self,
    ) -> &mut ZipStreamWriter<age::stream::StreamWriter<HashingWriter<BufWriter<File>>>> {
        self.zip.as_mut().expect("the zip is open until finish")
    }

    /// Every content file, re-hashed and compared with what its writer recorded.
    fn add_content(
        &mut self,
        plan: &ContentPlan,
        expected: &HashMap<&str, (&SourceSummary, &FileDigest)>,
        progress: &dyn SealProgress,
    ) -> Result<Vec<ManifestFile>, PackageError> {
        let mut files = Vec::new();
        for f in &plan.files {
            let reader = File::open(&f.disk_path).map_err(io_err(&f.disk_path))?;
            let reader = Progress {
                inner: reader,
                progress,
            };
            let digest = self
                .zip()
                .add_reader(&f.archive_path, reader, f.size)
                .map_err(io_err(&f.disk_path))?;
            let summary = expected.get(f.archive_path.as_str());
            if let Some((_, want)) = summary {
                if want.sha256 != digest.sha256 || want.size != digest.size {
                    return Err(FolderProblem::Changed {
                        path: f.archive_path.clone(),
                        written: want.sha256.clone(),
                        now: digest.sha256,
                    }
                    .into());
                }
            }
            let json_file = f.archive_path.ends_with(".json");
            files.push(ManifestFile {
                path: f.archive_path.clone(),
                original_name: f.original_name.clone(),
                size: digest.size,
                sha256: digest.sha256,
                role: FileRole::of(&f.archive_path),
                source: summary.map(|(s, _)| s.source.clone()),
                records: summary.filter(|_| json_file).map(|(s, _)| s.records),
                first_timestamp: summary.and_then(|(s, _)| s.first_timestamp.clone()),
                last_timestamp: summary.and_then(|(s, _)| s.last_timestamp.clone()),
                status: summary.map(|(s, _)| s.status),
            });
        }
        Ok(files)
    }

    /// `acquisition.json`, `custody.jsonl` and `collection.log`.
    fn add_documents(&mut self, docs: &Documents) -> Result<Vec<ManifestFile>, PackageError> {
        let entries: [(&str, &[u8]); 3] = [
            (layout::ACQUISITION, &docs.acquisition),
            (layout::CUSTODY_LOG, docs.custody.as_bytes()),
            (layout::COLLECTION_LOG, &docs.log),
        ];
        let mut files = Vec::new();
        for (name, data) in entries {
            let ct = self.paths.ciphertext.clone();
            let d = self.zip().add_bytes(name, data).map_err(io_err(&ct))?;
            files.push(ManifestFile {
                path: name.to_string(),
                original_name: None,
                size: d.size,
                sha256: d.sha256,
                role: FileRole::of(name),
                source: None,
                records: None,
                first_timestamp: None,
                last_timestamp: None,
                status: None,
            });
        }
        Ok(files)
    }

    /// `manifest.json` and `SHA256SUMS`; returns the manifest's SHA-256.
    fn add_manifest(&mut self, manifest: &Manifest) -> Result<String, PackageError> {
        let ct = self.paths.ciphertext.clone();
        let manifest_bytes = pretty(manifest);
        let manifest_sha = sha256_hex(&manifest_bytes);
        self.zip()
            .add_bytes(layout::MANIFEST, &manifest_bytes)
            .map_err(io_err(&ct))?;
        let sums = sha256sums(
            manifest
                .files
                .iter()
                .map(|f| (f.path.as_str(), f.sha256.as_str()))
                .chain([(layout::MANIFEST, manifest_sha.as_str())]),
        );
        self.zip()
            .add_bytes(layout::SUMS, sums.as_bytes())
            .map_err(io_err(&ct))?;
        Ok(manifest_sha)
    }

    /// Closes the zip and the age stream and syncs the ciphertext; returns its
    /// size and SHA-256.
    fn finish(&mut self, case_id: &str) -> Result<(u64, String), PackageError> {
        let ct = partial(&self.paths.ciphertext);
        let comment = format!(
            "{} {} case {case_id}",
            crate::TOOL_NAME,
            crate::TOOL_VERSION
        );
        let zip = self.zip.take().expect("finished once");
        let encrypted = zip.finish(&comment).map_err(io_err(&ct))?;
        let sink = encrypted.finish().map_err(io_err(&ct))?;
        let (buf, size, sha) = sink.finish();
        let file = buf.into_inner().map_err(|e| io_err(&ct)(e.into_error()))?;
        file.sync_all().map_err(io_err(&ct))?;
        Ok((size, sha))
    }

    /// The seal, its signature and the first custody line.
    fn sign(
        &mut self,
        seal: &Seal,
        sealer: &Sealer<'_>,
        host: &Host,
        ct_sha: String,
    ) -> Result<(), PackageError> {
        let seal_bytes = pretty(seal);
        self.write_partial(&self.paths.seal.clone(), &seal_bytes)?;
        let signature = sealer.signing_key.sign(SEAL_NAMESPACE, &seal_bytes);
        self.write_partial(&self.paths.signature.clone(), signature.as_bytes())?;
        let mut sealed_ev = CustodyEvent::new(CustodyAction::Sealed, sealer.examiner);
        sealed_ev.host = Some(host.hostname.clone());
        sealed_ev.ciphertext_sha256 = Some(ct_sha);
        sealed_ev.matches_seal = Some(true);
        sealed_ev.note = sealer.note.map(String::from);
        let line = custody::chain_line(
            sealed_ev,
            1,
            None,
            &sha256_hex(&seal_bytes),
            Some(sealer.signing_key),
        );
        self.write_partial(&self.paths.custody.clone(), format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// Writes what will become `path` under its partial name.
    fn write_partial(&mut self, path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
        let p = partial(path);
        write_new_file(&p, bytes)?;
        self.written.push(p);
        Ok(())
    }

    /// Sealing got to the end: the four files take their names, the
    /// ciphertext last, so a `.zip.age` is only ever seen with its seal,
    /// signature and custody log beside it (a kill before leaves only
    /// `.partial` files). Linking refuses to replace a file of that name;
    /// where the file system has no links, the name was checked free at start.
    fn commit(mut self) -> Result<PackagePaths, PackageError> {
        let p = self.paths.clone();
        for path in [&p.seal, &p.signature, &p.custody, &p.ciphertext] {
            let from = partial(path);
            match fs::hard_link(&from, path) {
                Ok(()) => fs::remove_file(&from).map_err(io_err(&from))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists || path.exists() => {
                    return Err(PackageError::Exists(path.clone()))
                }
                // File systems without hard links (FAT, exFAT, some shares).
                Err(_) => fs::rename(&from, path).map_err(io_err(path))?,
            }
        }
        if let Some(dir) = p.ciphertext.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err(dir))?;
        }
        self.written.clear();
        Ok(p)
    }
}

/// The package's names, from the case and the second sealing starts in. A
/// second run of the same case within that second (a resumed run after a kill
/// while sealing, a supplementary package) waits for the next second rather
/// than take or replace names already there, finished or `.partial`.
fn free_names(sealer: &Sealer<'_>) -> Result<(DateTime<Utc>, PackagePaths), PackageError> {
    let mut tries = 0;
    loop {
        let now = Utc::now();
        let paths = PackagePaths::new(sealer.out_dir, &package_base(sealer.case_id, now));
        let files = [
            &paths.ciphertext,
            &paths.seal,
            &paths.signature,
            &paths.custody,
        ];
        let taken = files
            .iter()
            .find(|p| p.exists() || partial(p).exists())
            .map(|p| (*p).clone());
        match taken {
            None => return Ok((now, paths)),
            Some(p) if tries == 3 => return Err(PackageError::Exists(p)),
            Some(_) => {
                tries += 1;
                let into_second = u64::from(now.timestamp_subsec_millis());
                std::thread::sleep(std::time::Duration::from_millis(
                    1001 - into_second.min(1000),
                ));
            }
        }
    }
}

/// The name a package file has until sealing ends: `<name>.partial`.
pub fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

/// Suffix of a package file that sealing has not finished.
pub const PARTIAL_SUFFIX: &str = ".partial";

impl Drop for Output {
    fn drop(&mut self) {
        for p in &self.written {
            let _ = fs::remove_file(p);
        }
    }
}

/// The documents the sealer writes into the package.
struct Documents {
    acquisition: Vec<u8>,
    custody: String,
    log: Vec<u8>,
}

fn acquisition(
    sealer: &Sealer<'_>,
    prov: &Provenance,
    host: &Host,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> Vec<u8> {
    pretty(&Acquisition {
        format: ACQUISITION_FORMAT.into(),
        case_id: sealer.case_id.into(),
        examiner: sealer.examiner.into(),
        note: sealer.note.map(String::from),
        tool: Tool::this(),
        host: host.clone(),
        operator: prov.operator.clone(),
        tenant_id: prov.tenant_id.clone(),
        cloud: prov.cloud.clone(),
        command_line: sealer.command_line.clone(),
        supplements: prov.supplements.clone(),
        clock: Clock {
            source: "system clock".into(),
            timezone: "UTC".into(),
        },
        started: format_utc(started),
        finished: format_utc(finished),
    })
}

/// The collection-time custody log, continued with sealing's own two events.
fn inner_custody(
    plan: &ContentPlan,
    files: &[ManifestFile],
    examiner: &str,
    host: &Host,
) -> Result<String, PackageError> {
    let prior = prior_custody_text(plan)?;
    let mut started = CustodyEvent::new(CustodyAction::SealingStarted, examiner);
    started.host = Some(host.hostname.clone());
    started.details = Some(json!({"files": plan.files.len(), "bytes": plan.bytes()}));
    let mut done = CustodyEvent::new(CustodyAction::EvidenceSealed, examiner);
    done.host = Some(host.hostname.clone());
    done.details = Some(json!({
        "files": files.len(),
        "bytes": files.iter().map(|f| f.size).sum::<u64>(),
        "records": plan.summaries.iter().map(|s| s.records).sum::<u64>(),
    }));
    Ok(custody::append_events(
        &prior,
        vec![started, done],
        INNER_GENESIS,
    ))
}

/// The log a collector left, followed by this run's.
fn run_log(plan: &ContentPlan, sealer: &Sealer<'_>) -> Result<Vec<u8>, PackageError> {
    let mut log = match &plan.prior_log {
        Some(p) => fs::read(p).map_err(io_err(p))?,
        None => Vec::new(),
    };
    log.write_all((sealer.log)().as_bytes())
        .expect("writing to memory");
    Ok(log)
}

/// What the seal states besides the sealer's identity.
struct SealFacts<'a> {
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    ct_size: u64,
    ct_sha: String,
    manifest: &'a Manifest,
    manifest_sha: String,
}

fn seal_document(
    sealer: &Sealer<'_>,
    prov: &Provenance,
    paths: &PackagePaths,
    facts: SealFacts<'_>,
) -> Seal {
    let summaries = &facts.manifest.sources;
    Seal {
        format: SEAL_FORMAT.into(),
        case_id: sealer.case_id.into(),
        examiner: sealer.examiner.into(),
        tenant_id: prov.tenant_id.clone(),
        tool: Tool::this(),
        times: SealTimes {
            started: format_utc(facts.started),
            finished: format_utc(facts.finished),
            sealed: format_utc(Utc::now()),
        },
        ciphertext: CiphertextRef {
            file: file_name(&paths.ciphertext),
            size: facts.ct_size,
            sha256: facts.ct_sha,
        },
        recipients: sealer.recipients.describe(),
        manifest: ManifestRef {
            path: layout::MANIFEST.into(),
            sha256: facts.manifest_sha,
            merkle_root: facts.manifest.merkle_root.clone(),
            files: facts.manifest.totals.files,
            bytes: facts.manifest.totals.bytes,
            records: facts.manifest.totals.records,
        },
        completeness: Completeness::of(summaries),
        sources: summaries
            .iter()
            .map(|s| SourceBrief {
                source: s.source.clone(),
                status: s.status,
                records: s.records,
                reason: s.reason.clone(),
            })
            .collect(),
        signer: Signer {
            public_key: sealer.signing_key.public_openssh(),
            fingerprint: sealer.signing_key.fingerprint(),
            generated_for_this_case: sealer.signing_key.is_generated(),
        },
        signature: SignatureRef {
            file: file_name(&paths.signature),
            namespace: SEAL_NAMESPACE.into(),
        },
        supplements: prov.supplements.clone(),
    }
}

/// Counts bytes read and reports them.
struct Progress<'a, R> {
    inner: R,
    progress: &'a dyn SealProgress,
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// The collector's collection-time custody log, checked, kept byte for byte.
fn prior_custody_text(plan: &ContentPlan) -> Result<String, PackageError> {
    let Some(path) = &plan.prior_custody else {
        return Ok(String::new());
    };
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let report = custody::check_chain(&text, INNER_GENESIS, false, None);
    let bad_time = report
        .events
        .iter()
        .position(|e| !is_utc_z(&e.time))
        .map(|i| custody::ChainProblem {
            line: i + 1,
            problem: format!("time {:?} is not RFC 3339 UTC", report.events[i].time),
        });
    if let Some(p) = report.problems.first().or(bad_time.as_ref()) {
        return Err(FolderProblem::BrokenCollectionLog {
            path: path.clone(),
            line: p.line,
            problem: p.problem.clone(),
        }
        .into());
    }
    Ok(text)
}

fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).expect("document serialises");
    v.push(b'\n');
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
