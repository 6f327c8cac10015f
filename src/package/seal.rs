//! Sealing: evidence folder -> zip (parallel deflate) -> age -> file, hashing the
//! plaintext entries and the ciphertext on the way; then the signed seal and the
//! first custody line. No plaintext copy of the package ever touches the disk.

use super::acquisition::{Acquisition, Clock, Host, Tool, ACQUISITION_FORMAT};
use super::crypto::{RecipientInfo, Recipients};
use super::custody::{self, CustodyEvent, INNER_GENESIS};
use super::manifest::{role_of, sha256sums, Manifest, ManifestFile, MANIFEST_PATH, SUMS_PATH};
use super::paths::PackagePaths;
use super::signing::{SigningKey, SEAL_NAMESPACE};
use super::zipwrite::{ZipOptions, ZipStreamWriter};
use super::{io_err, write_new_file, PackageError};
use crate::evidence::{SourceStatus, SourceSummary, STATE_DIR};
use crate::hashing::{sha256_hex, HashingWriter};
use crate::timefmt::format_utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

pub const SEAL_FORMAT: &str = "m365-preserve-seal/1";
/// Files the sealer writes itself; an evidence folder may not contain them.
const RESERVED: &[&str] = &[MANIFEST_PATH, SUMS_PATH, "acquisition.json"];

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
    /// `complete`, or `incomplete` when any source is not complete.
    pub completeness: String,
    pub sources: Vec<SourceBrief>,
    pub signer: Signer,
    pub signature: SignatureRef,
}

/// Everything sealing needs.
pub struct SealInput<'a> {
    /// The evidence folder, read by [`plan_content`].
    pub content: ContentPlan,
    pub case_id: &'a str,
    pub examiner: &'a str,
    pub note: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    pub cloud: Option<&'a str>,
    pub operator: Option<Value>,
    pub command_line: Vec<String>,
    pub started: DateTime<Utc>,
    pub out_dir: &'a Path,
    pub recipients: &'a Recipients,
    pub signing_key: &'a SigningKey,
    pub zip: ZipOptions,
    /// Snapshot of this run's log, for `collection.log`.
    pub log: &'a dyn Fn() -> String,
    /// Called with the number of evidence bytes just read.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// What sealing produced.
pub struct Sealed {
    pub paths: PackagePaths,
    pub seal: Seal,
    pub manifest: Manifest,
}

/// A file of the evidence folder and where it goes in the package.
#[derive(Debug, Clone)]
pub struct ContentFile {
    pub archive_path: String,
    pub disk_path: PathBuf,
    pub size: u64,
}

/// The evidence folder, read.
pub struct ContentPlan {
    pub files: Vec<ContentFile>,
    pub summaries: Vec<SourceSummary>,
    /// A run log left by a collector (`collection.log` at the top).
    pub prior_log: Option<PathBuf>,
    /// Collection-time custody events left by a collector (`custody.jsonl`).
    pub prior_custody: Option<PathBuf>,
}

/// Reads the evidence folder. A folder with an `evidence/` subfolder is a work
/// folder laid out like the package (`evidence/`, `raw/`, ...); any other folder's
/// files all go under `evidence/`. Links and special files are refused: evidence
/// must be real files.
pub fn plan_content(root: &Path) -> Result<ContentPlan, PackageError> {
    let meta = fs::metadata(root).map_err(io_err(root))?;
    if !meta.is_dir() {
        return Err(PackageError::Evidence(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let as_is = root.join("evidence").is_dir();
    let mut found = Vec::new();
    walk(root, root, &mut found)?;
    let mut plan = ContentPlan {
        files: Vec::new(),
        summaries: Vec::new(),
        prior_log: None,
        prior_custody: None,
    };
    for (rel, disk_path, size) in found {
        if rel.starts_with(&format!("{STATE_DIR}/")) {
            continue;
        }
        if as_is && rel == "collection.log" {
            plan.prior_log = Some(disk_path);
            continue;
        }
        if as_is && rel == "custody.jsonl" {
            plan.prior_custody = Some(disk_path);
            continue;
        }
        if as_is && RESERVED.contains(&rel.as_str()) {
            return Err(PackageError::Evidence(format!(
                "{} contains {rel}, which the sealer writes itself; move it away",
                root.display()
            )));
        }
        let archive_path = if as_is {
            rel
        } else {
            format!("evidence/{rel}")
        };
        plan.files.push(ContentFile {
            archive_path,
            disk_path,
            size,
        });
    }
    let sources_dir = root.join(STATE_DIR).join("sources");
    if sources_dir.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(&sources_dir)
            .map_err(io_err(&sources_dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let text = fs::read(&path).map_err(io_err(&path))?;
            let summary: SourceSummary = serde_json::from_slice(&text).map_err(|e| {
                PackageError::Evidence(format!("{} is not a source summary: {e}", path.display()))
            })?;
            check_summary(&path, &summary)?;
            plan.summaries.push(summary);
        }
    }
    Ok(plan)
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf, u64)>,
) -> Result<(), PackageError> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(io_err(&path))?;
        let rel = path
            .strip_prefix(root)
            .expect("walked path is under root")
            .to_str()
            .ok_or_else(|| {
                PackageError::Evidence(format!("{} has a name that is not UTF-8", path.display()))
            })?
            .replace(std::path::MAIN_SEPARATOR, "/");
        if meta.file_type().is_symlink() {
            return Err(PackageError::Evidence(format!(
                "{} is a symbolic link; copy the real file into the folder",
                path.display()
            )));
        } else if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            out.push((rel, path, meta.len()));
        } else {
            return Err(PackageError::Evidence(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// A file name safe on every file system: case ids become `[A-Za-z0-9._-]`.
pub fn package_base(case_id: &str, sealed: DateTime<Utc>) -> String {
    let safe: String = case_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{}_{}",
        safe.trim_matches('.'),
        sealed.format("%Y%m%dT%H%M%SZ")
    )
}

/// Removes a partly written output unless disarmed.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

/// Counts bytes read and reports them.
struct Progress<'a, R> {
    inner: R,
    report: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.report)(n as u64);
        Ok(n)
    }
}

/// Seals the planned evidence into a package in `input.out_dir`.
pub fn seal(input: SealInput<'_>) -> Result<Sealed, PackageError> {
    let plan = &input.content;
    let expected: HashMap<&str, (&SourceSummary, &crate::evidence::FileDigest)> = plan
        .summaries
        .iter()
        .flat_map(|s| s.files.iter().map(move |f| (f.path.as_str(), (s, f))))
        .collect();
    for path in expected.keys() {
        if !plan.files.iter().any(|f| f.archive_path == *path) {
            return Err(PackageError::Evidence(format!(
                "{path} was written by the collector but is missing from the folder"
            )));
        }
    }

    fs::create_dir_all(input.out_dir).map_err(io_err(input.out_dir))?;
    let sealed_at = Utc::now();
    let paths = PackagePaths::new(input.out_dir, &package_base(input.case_id, sealed_at));
    for p in [
        &paths.ciphertext,
        &paths.seal,
        &paths.signature,
        &paths.custody,
    ] {
        if p.exists() {
            return Err(PackageError::Exists(p.clone()));
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&paths.ciphertext)
        .map_err(io_err(&paths.ciphertext))?;
    let mut cleanup = Cleanup(vec![paths.ciphertext.clone()]);
    let sink = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
    let encrypted = input
        .recipients
        .encryptor()?
        .wrap_output(sink)
        .map_err(io_err(&paths.ciphertext))?;
    let mut zip = ZipStreamWriter::new(
        encrypted,
        ZipOptions {
            mtime: sealed_at,
            ..input.zip.clone()
        },
    );

    let host = Host::this();
    let total_bytes: u64 = plan.files.iter().map(|f| f.size).sum();
    let prior_custody = prior_custody_text(plan)?;
    let mut inner_events = Vec::new();
    let mut started_ev = CustodyEvent::new("sealing-started", input.examiner);
    started_ev.host = Some(host.hostname.clone());
    started_ev.details = Some(json!({"files": plan.files.len(), "bytes": total_bytes}));
    inner_events.push(started_ev);

    let mut files = Vec::new();
    for f in &plan.files {
        let reader = File::open(&f.disk_path).map_err(io_err(&f.disk_path))?;
        let reader = Progress {
            inner: reader,
            report: input.progress,
        };
        let digest = zip
            .add_reader(&f.archive_path, reader, f.size)
            .map_err(io_err(&f.disk_path))?;
        let summary = expected.get(f.archive_path.as_str());
        if let Some((_, want)) = summary {
            if want.sha256 != digest.sha256 || want.size != digest.size {
                return Err(PackageError::Evidence(format!(
                    "{} changed after it was written (SHA-256 {} when written, {} now); refusing to seal it",
                    f.archive_path, want.sha256, digest.sha256
                )));
            }
        }
        let json_file = f.archive_path.ends_with(".json");
        files.push(ManifestFile {
            path: f.archive_path.clone(),
            size: digest.size,
            sha256: digest.sha256,
            role: role_of(&f.archive_path).into(),
            source: summary.map(|(s, _)| s.source.clone()),
            records: summary.filter(|_| json_file).map(|(s, _)| s.records),
            first_timestamp: summary.and_then(|(s, _)| s.first_timestamp.clone()),
            last_timestamp: summary.and_then(|(s, _)| s.last_timestamp.clone()),
            status: summary.map(|(s, _)| s.status),
        });
    }

    let mut done_ev = CustodyEvent::new("evidence-sealed", input.examiner);
    done_ev.host = Some(host.hostname.clone());
    done_ev.details = Some(json!({
        "files": files.len(),
        "bytes": files.iter().map(|f| f.size).sum::<u64>(),
        "records": plan.summaries.iter().map(|s| s.records).sum::<u64>(),
    }));
    inner_events.push(done_ev);

    let finished = Utc::now();
    let acquisition = Acquisition {
        format: ACQUISITION_FORMAT.into(),
        case_id: input.case_id.into(),
        examiner: input.examiner.into(),
        note: input.note.map(String::from),
        tool: Tool::this(),
        host: host.clone(),
        operator: input.operator.clone(),
        tenant_id: input.tenant_id.map(String::from),
        cloud: input.cloud.map(String::from),
        command_line: input.command_line.clone(),
        clock: Clock {
            source: "system clock".into(),
            timezone: "UTC".into(),
        },
        started: format_utc(input.started),
        finished: format_utc(finished),
    };
    let mut extra: Vec<(&str, Vec<u8>)> = vec![
        ("acquisition.json", pretty(&acquisition)),
        (
            "custody.jsonl",
            custody::append_events(&prior_custody, inner_events, INNER_GENESIS).into_bytes(),
        ),
    ];
    let mut log = match &plan.prior_log {
        Some(p) => fs::read(p).map_err(io_err(p))?,
        None => Vec::new(),
    };
    log.extend_from_slice((input.log)().as_bytes());
    extra.push(("collection.log", log));
    for (name, data) in &extra {
        let d = zip
            .add_bytes(name, data)
            .map_err(io_err(&paths.ciphertext))?;
        files.push(ManifestFile {
            path: name.to_string(),
            size: d.size,
            sha256: d.sha256,
            role: role_of(name).into(),
            source: None,
            records: None,
            first_timestamp: None,
            last_timestamp: None,
            status: None,
        });
    }

    let manifest = Manifest::new(
        input.case_id,
        format_utc(finished),
        files,
        plan.summaries.clone(),
    );
    let manifest_bytes = pretty(&manifest);
    let manifest_sha = sha256_hex(&manifest_bytes);
    zip.add_bytes(MANIFEST_PATH, &manifest_bytes)
        .map_err(io_err(&paths.ciphertext))?;
    let sums = sha256sums(
        manifest
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .chain([(MANIFEST_PATH, manifest_sha.as_str())]),
    );
    zip.add_bytes(SUMS_PATH, sums.as_bytes())
        .map_err(io_err(&paths.ciphertext))?;

    let comment = format!(
        "{} {} case {}",
        crate::TOOL_NAME,
        crate::TOOL_VERSION,
        input.case_id
    );
    let encrypted = zip.finish(&comment).map_err(io_err(&paths.ciphertext))?;
    let sink = encrypted.finish().map_err(io_err(&paths.ciphertext))?;
    let (buf, ct_size, ct_sha) = sink.finish();
    let file = buf
        .into_inner()
        .map_err(|e| io_err(&paths.ciphertext)(e.into_error()))?;
    file.sync_all().map_err(io_err(&paths.ciphertext))?;

    let all_complete = plan
        .summaries
        .iter()
        .all(|s| s.status == SourceStatus::Complete);
    let seal = Seal {
        format: SEAL_FORMAT.into(),
        case_id: input.case_id.into(),
        examiner: input.examiner.into(),
        tenant_id: input.tenant_id.map(String::from),
        tool: Tool::this(),
        times: SealTimes {
            started: format_utc(input.started),
            finished: format_utc(finished),
            sealed: format_utc(Utc::now()),
        },
        ciphertext: CiphertextRef {
            file: file_name(&paths.ciphertext),
            size: ct_size,
            sha256: ct_sha.clone(),
        },
        recipients: input.recipients.describe(),
        manifest: ManifestRef {
            path: MANIFEST_PATH.into(),
            sha256: manifest_sha,
            merkle_root: manifest.merkle_root.clone(),
            files: manifest.totals.files,
            bytes: manifest.totals.bytes,
            records: manifest.totals.records,
        },
        completeness: if all_complete {
            "complete"
        } else {
            "incomplete"
        }
        .into(),
        sources: plan
            .summaries
            .iter()
            .map(|s| SourceBrief {
                source: s.source.clone(),
                status: s.status,
                records: s.records,
                reason: s.reason.clone(),
            })
            .collect(),
        signer: Signer {
            public_key: input.signing_key.public_openssh(),
            fingerprint: input.signing_key.fingerprint(),
            generated_for_this_case: input.signing_key.is_generated(),
        },
        signature: SignatureRef {
            file: file_name(&paths.signature),
            namespace: SEAL_NAMESPACE.into(),
        },
    };
    let seal_bytes = pretty(&seal);
    write_new_file(&paths.seal, &seal_bytes)?;
    cleanup.0.push(paths.seal.clone());
    write_new_file(
        &paths.signature,
        input
            .signing_key
            .sign(SEAL_NAMESPACE, &seal_bytes)
            .as_bytes(),
    )?;
    cleanup.0.push(paths.signature.clone());

    let mut sealed_ev = CustodyEvent::new("sealed", input.examiner);
    sealed_ev.host = Some(host.hostname.clone());
    sealed_ev.ciphertext_sha256 = Some(ct_sha);
    sealed_ev.matches_seal = Some(true);
    sealed_ev.note = input.note.map(String::from);
    let line = custody::chain_line(
        sealed_ev,
        1,
        None,
        &sha256_hex(&seal_bytes),
        Some(input.signing_key),
    );
    write_new_file(&paths.custody, format!("{line}\n").as_bytes())?;
    cleanup.0.clear();
    Ok(Sealed {
        paths,
        seal,
        manifest,
    })
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
        return Err(PackageError::Evidence(format!(
            "{} line {}: {}; refusing to seal a broken collection log",
            path.display(),
            p.line,
            p.problem
        )));
    }
    Ok(text)
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z`, the only time format the package documents use.
fn is_utc_z(s: &str) -> bool {
    s.ends_with('Z')
        && s.len() >= 20
        && s.as_bytes()[10] == b'T'
        && crate::timefmt::parse_iso_datetime(s).is_some()
}

/// Checks what a collector wrote about a source before it goes into the manifest.
fn check_summary(path: &Path, s: &SourceSummary) -> Result<(), PackageError> {
    let bad = |why: String| PackageError::Evidence(format!("{}: {why}", path.display()));
    for t in [&s.first_timestamp, &s.last_timestamp]
        .into_iter()
        .flatten()
    {
        if !is_utc_z(t) {
            return Err(bad(format!("timestamp {t:?} is not RFC 3339 UTC")));
        }
    }
    if s.status != SourceStatus::Complete && s.reason.as_deref().is_none_or(str::is_empty) {
        return Err(bad(format!(
            "source {} is {:?} but gives no reason",
            s.source, s.status
        )));
    }
    for f in &s.files {
        if crate::package::verify::unsafe_name_reason(&f.path).is_some() || f.sha256.len() != 64 {
            return Err(bad(format!("file entry {:?} is not valid", f.path)));
        }
    }
    Ok(())
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
