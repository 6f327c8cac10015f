//! What a folder to seal holds: its files (where each goes in the package)
//! and the source summaries a collector or importer left beside them.

use crate::evidence::{SourceStatus, SourceSummary};
use crate::layout::{self, SEALER_WRITES};
use crate::workdir::WorkDir;
use crate::{io_err, names, FolderProblem, PackageError, SummaryProblem};
use std::fs;
use std::path::{Path, PathBuf};

/// A file of the folder and where it goes in the package.
#[derive(Debug, Clone)]
pub struct ContentFile {
    pub archive_path: String,
    /// The name the file had, when the package stores it under another one
    /// (it collided with another name by case or Unicode normalisation, or
    /// held characters the name policy refuses).
    pub original_name: Option<String>,
    pub disk_path: PathBuf,
    pub size: u64,
}

/// The folder, read.
pub struct ContentPlan {
    pub files: Vec<ContentFile>,
    pub summaries: Vec<SourceSummary>,
    /// A run log left by a collector (`collection.log` at the top).
    pub prior_log: Option<PathBuf>,
    /// Collection-time custody events left by a collector (`custody.jsonl`).
    pub prior_custody: Option<PathBuf>,
}

impl ContentPlan {
    /// Bytes of content to seal.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Reads the folder. A folder with an `evidence/` subfolder is a work folder
/// laid out like the package (`evidence/`, `raw/`, ...); any other folder's
/// files all go under `evidence/`. Links and special files are refused:
/// evidence must be real files.
pub fn plan_content(root: &Path) -> Result<ContentPlan, PackageError> {
    let meta = fs::metadata(root).map_err(|source| FolderProblem::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(FolderProblem::NotAFolder(root.to_path_buf()).into());
    }
    let workdir = WorkDir::at(root);
    let as_is = workdir.evidence_dir().is_dir();
    let mut found = Vec::new();
    walk(root, root, &mut found)?;
    let mut plan = ContentPlan {
        files: Vec::new(),
        summaries: read_summaries(&workdir)?,
        prior_log: None,
        prior_custody: None,
    };
    let state = format!("{}/", layout::STATE_DIR);
    let recorded = if as_is {
        workdir
            .read_originals()
            .map_err(io_err(&workdir.originals()))?
    } else {
        Default::default()
    };
    // The sealer's own documents keep their names.
    let mut names = names::NameTable::default();
    for own in SEALER_WRITES
        .iter()
        .chain(&[layout::CUSTODY_LOG, layout::COLLECTION_LOG])
    {
        names.take_exact(own).expect("the sealer's names are safe");
    }
    for (rel, disk_path, size) in found {
        if rel.starts_with(&state) {
            continue;
        }
        if as_is && rel == layout::COLLECTION_LOG {
            plan.prior_log = Some(disk_path);
            continue;
        }
        if as_is && rel == layout::CUSTODY_LOG {
            plan.prior_custody = Some(disk_path);
            continue;
        }
        if as_is && SEALER_WRITES.contains(&rel.as_str()) {
            return Err(FolderProblem::SealerFile {
                root: root.to_path_buf(),
                name: rel,
            }
            .into());
        }
        let wanted = if as_is {
            rel
        } else {
            format!("{}/{rel}", layout::EVIDENCE_DIR)
        };
        let stored = names.claim(&wanted);
        let original_name = stored
            .original
            .or_else(|| recorded.get(&stored.name).cloned());
        plan.files.push(ContentFile {
            archive_path: stored.name,
            original_name,
            disk_path,
            size,
        });
    }
    Ok(plan)
}

fn read_summaries(workdir: &WorkDir) -> Result<Vec<SourceSummary>, PackageError> {
    let dir = workdir.summaries_dir();
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(io_err(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for path in entries {
        let text = fs::read(&path).map_err(io_err(&path))?;
        let summary: SourceSummary =
            serde_json::from_slice(&text).map_err(|source| FolderProblem::BadSummary {
                path: path.clone(),
                source,
            })?;
        check_summary(&summary).map_err(|why| FolderProblem::InvalidSummary {
            path: path.clone(),
            why,
        })?;
        out.push(summary);
    }
    Ok(out)
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
        if meta.file_type().is_symlink() {
            return Err(FolderProblem::Link(path).into());
        } else if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            let rel = package_name(root, &path);
            out.push((rel, path, meta.len()));
        } else {
            return Err(FolderProblem::SpecialFile(path).into());
        }
    }
    Ok(())
}

/// The `/`-separated name of a file under `root`, as text (bytes that are not
/// UTF-8 as `%XX`); the name policy makes it safe when it is claimed.
fn package_name(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .expect("walked path is under root")
        .components()
        .map(|c| names::os_text(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z`, the only time format the package documents use.
pub(crate) fn is_utc_z(s: &str) -> bool {
    s.ends_with('Z')
        && s.len() >= 20
        && s.as_bytes()[10] == b'T'
        && crate::timefmt::parse_iso_datetime(s).is_some()
}

/// Checks what a collector wrote about a source before it goes into the manifest.
fn check_summary(s: &SourceSummary) -> Result<(), SummaryProblem> {
    for t in [&s.first_timestamp, &s.last_timestamp]
        .into_iter()
        .flatten()
    {
        if !is_utc_z(t) {
            return Err(SummaryProblem::Timestamp(t.clone()));
        }
    }
    if s.status != SourceStatus::Complete && s.reason.as_deref().is_none_or(str::is_empty) {
        return Err(SummaryProblem::NoReason {
            name: s.source.clone(),
            status: s.status,
        });
    }
    for f in &s.files {
        if names::check(&f.path).is_err() || f.sha256.len() != 64 {
            return Err(SummaryProblem::File(f.path.clone()));
        }
    }
    Ok(())
}
