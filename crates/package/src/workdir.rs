//! The work folder: the contract between collect, import and seal. Collect
//! and import write into it, sealing reads it; every path inside it comes from
//! here (see [`crate::layout`] for the layout).

use crate::layout::{self, STATE_DIR};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

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

    /// Where an import moves the collector's evidence of a source it merges.
    pub fn import_aside(&self, source: &str) -> PathBuf {
        self.state_dir()
            .join("import")
            .join(format!("{source}.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
