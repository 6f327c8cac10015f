//! The work folder: the contract between collect, import and seal. Collect
//! and import write into it, sealing reads it; every path inside it comes from
//! here (see [`crate::layout`] for the layout).

use crate::layout::{self, STATE_DIR};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// A run's hold on a work folder ([`WorkDir::lock`]).
#[derive(Debug)]
pub struct WorkDirLock {
    _file: std::fs::File,
}

/// Why a work folder could not be held.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the work folder {path} is in use by another m365-preserve run ({holder}); wait for it to end, or stop it, then run the command again")]
    Busy { path: PathBuf, holder: String },
    #[error("cannot lock the work folder ({path}): {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A work folder (it holds plaintext evidence: private to its owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkDir {
    root: PathBuf,
}

impl WorkDir {
    /// The name of a new run's work folder inside the output folder.
    pub fn name_for(case_id: &str, started: DateTime<Utc>) -> String {
        format!(".work-{}", crate::paths::package_base(case_id, started))
    }

    /// Creates a new work folder that only its owner can enter (0700).
    pub fn create(root: &Path) -> std::io::Result<Self> {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(root)?;
        Ok(Self::at(root))
    }

    /// The work folder at `root` (existing or not).
    pub fn at(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A package-relative path (`evidence/user.json`) inside this folder.
    pub fn path(&self, package_path: &str) -> PathBuf {
        self.root.join(package_path)
    }

    pub fn evidence_dir(&self) -> PathBuf {
        self.path(layout::EVIDENCE_DIR)
    }

    pub fn evidence_json(&self, source: &str) -> PathBuf {
        self.path(&layout::evidence_json(source))
    }

    pub fn evidence_csv(&self, source: &str) -> PathBuf {
        self.path(&layout::evidence_csv(source))
    }

    pub fn imported_dir(&self) -> PathBuf {
        self.path(layout::IMPORTED_DIR)
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.path(layout::ATTACHMENTS_DIR)
    }

    pub fn messages_dir(&self) -> PathBuf {
        self.path(layout::MESSAGES_DIR)
    }

    pub fn raw_dir(&self) -> PathBuf {
        self.path(layout::RAW_DIR)
    }

    pub fn custody_log(&self) -> PathBuf {
        self.path(layout::CUSTODY_LOG)
    }

    pub fn collection_log(&self) -> PathBuf {
        self.path(layout::COLLECTION_LOG)
    }

    /// Tool state, never sealed.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    /// Where per-source summaries wait for sealing.
    pub fn summaries_dir(&self) -> PathBuf {
        self.state_dir().join("sources")
    }

    /// The summary of `source`.
    pub fn summary(&self, source: &str) -> PathBuf {
        self.summaries_dir().join(format!("{source}.json"))
    }

    /// The collector's checkpoint journal.
    pub fn journal(&self) -> PathBuf {
        self.state_dir().join("journal.jsonl")
    }

    /// The spool folder of `source` (records of finished queries).
    pub fn spool_dir(&self, source: &str) -> PathBuf {
        self.state_dir().join("spool").join(source)
    }

    /// A spool, relative to the work folder (as the journal records it).
    pub fn spool_rel(source: &str, name: &str) -> String {
        format!("{STATE_DIR}/spool/{source}/{name}")
    }

    /// What a collection was asked for (so `--resume` asks the same).
    pub fn run_params(&self) -> PathBuf {
        self.state_dir().join("run.json")
    }

    /// Names a writer of this folder had to change (`--attach`, import's
    /// originals): one `{"stored": …, "original": …}` per line, read when sealing.
    pub fn originals(&self) -> PathBuf {
        self.state_dir().join("originals.jsonl")
    }

    /// Records that `stored` (package-relative) was given as `original`.
    pub fn record_original(&self, stored: &str, original: &str) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(self.state_dir())?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.originals())?;
        let line = serde_json::json!({"stored": stored, "original": original});
        writeln!(f, "{line}")?;
        f.sync_data()
    }

    /// Drops what was recorded of the names under `dir` (a run that writes
    /// that folder again from scratch).
    pub fn forget_originals_under(&self, dir: &str) -> std::io::Result<()> {
        let kept: Vec<(String, String)> = self
            .read_originals()?
            .into_iter()
            .filter(|(stored, _)| !stored.starts_with(&format!("{dir}/")))
            .collect();
        if !self.originals().exists() {
            return Ok(());
        }
        let mut text = String::new();
        for (stored, original) in kept {
            text.push_str(&serde_json::json!({"stored": stored, "original": original}).to_string());
            text.push('\n');
        }
        std::fs::write(self.originals(), text)
    }

    /// What [`WorkDir::record_original`] recorded, by stored name.
    pub fn read_originals(&self) -> std::io::Result<std::collections::HashMap<String, String>> {
        let text = match std::fs::read_to_string(self.originals()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(e),
        };
        let mut out = std::collections::HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {}: {e}", i + 1),
                )
            })?;
            if let (Some(s), Some(o)) = (v["stored"].as_str(), v["original"].as_str()) {
                out.insert(s.to_string(), o.to_string());
            }
        }
        Ok(out)
    }

    /// The lock a run holds on this folder (see [`WorkDir::lock`]).
    pub fn lock_file(&self) -> PathBuf {
        self.state_dir().join("lock")
    }

    /// Holds this work folder for one run: a second run on the same folder
    /// (`--resume` typed twice, in two terminals) is refused instead of writing
    /// the same journal and spools. The lock goes when the returned value is
    /// dropped or the process ends, however it ends.
    pub fn lock(&self) -> Result<WorkDirLock, LockError> {
        let path = self.lock_file();
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(self.state_dir()).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(LockError::Busy {
                    path: self.root.clone(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        use std::io::Write;
        file.set_len(0).map_err(io)?;
        writeln!(
            file,
            "process {} since {}",
            std::process::id(),
            crate::timefmt::now_rfc3339()
        )
        .map_err(io)?;
        Ok(WorkDirLock { _file: file })
    }

    /// What packages were sealed from this folder and which queries they hold
    /// (written when a package with gaps leaves the folder behind).
    pub fn sealed_record(&self) -> PathBuf {
        self.state_dir().join("sealed.json")
    }

    /// Moves everything a package was sealed from (all but the tool state,
    /// and the per-source summaries) to `.m365-preserve/sealed/<package>/`, so the folder is ready to collect
    /// what that package was missing. Nothing is deleted: the moved files stay
    /// until the folder is.
    pub fn set_aside_sealed(&self, package: &str) -> std::io::Result<PathBuf> {
        let aside = self.state_dir().join("sealed").join(package);
        std::fs::create_dir_all(&aside)?;
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_name() == STATE_DIR {
                continue;
            }
            std::fs::rename(entry.path(), aside.join(entry.file_name()))?;
        }
        // The summaries describe what was sealed; the next package has its own.
        if self.summaries_dir().exists() {
            std::fs::rename(self.summaries_dir(), aside.join(".summaries"))?;
        }
        Ok(aside)
    }

    /// Where an import moves the collector's evidence of a source it merges.
    pub fn import_aside(&self, source: &str) -> PathBuf {
        self.state_dir()
            .join("import")
            .join(format!("{source}.json"))
    }
}

/// Writes a work-folder state file whole or not at all: under a temporary
/// name, synced, then renamed over `path`, so a kill leaves the old file (or
/// none), never a cut one that a resumed run would refuse.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    let tmp = PathBuf::from(name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        write_atomically(&path, b"{\"a\":1}").unwrap();
        write_atomically(&path, b"{\"b\":2}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"b\":2}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run.json"]);
    }

    #[test]
    fn setting_aside_moves_all_but_the_state_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let w = WorkDir::at(dir.path());
        std::fs::create_dir_all(w.evidence_dir()).unwrap();
        std::fs::write(w.evidence_json("user"), "[]").unwrap();
        std::fs::write(w.custody_log(), "x\n").unwrap();
        std::fs::create_dir_all(w.state_dir()).unwrap();
        std::fs::write(w.journal(), "j\n").unwrap();
        let aside = w.set_aside_sealed("CASE_1.zip.age").unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from(STATE_DIR)]);
        assert_eq!(std::fs::read(w.journal()).unwrap(), b"j\n");
        assert_eq!(
            std::fs::read(aside.join("evidence/user.json")).unwrap(),
            b"[]"
        );
        assert_eq!(std::fs::read(aside.join("custody.jsonl")).unwrap(), b"x\n");
    }

    #[test]
    fn paths_follow_the_layout() {
        let w = WorkDir::at(Path::new("/w"));
        assert_eq!(w.evidence_json("user"), Path::new("/w/evidence/user.json"));
        assert_eq!(
            w.summary("user"),
            Path::new("/w/.m365-preserve/sources/user.json")
        );
        assert_eq!(w.custody_log(), Path::new("/w/custody.jsonl"));
        let t = DateTime::parse_from_rfc3339("2026-11-25T06:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(WorkDir::name_for("IR 1", t), ".work-IR-1_20261125T061500Z");
    }

    #[test]
    fn a_new_work_folder_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let w = WorkDir::create(&dir.path().join("w")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(w.root()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(WorkDir::create(w.root()).is_err(), "never reused");
        let held = w.lock().unwrap();
        let again = w.lock().unwrap_err().to_string();
        assert!(
            again.contains("in use by another m365-preserve run (process "),
            "{again}"
        );
        drop(held);
        w.lock().unwrap();
    }
}
