//! The four files of a package, found from any one of them.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// `CASE_<UTC>.zip.age`, `.seal.json`, `.seal.json.sig`, `.custody.jsonl`.
#[derive(Debug, Clone)]
pub struct PackagePaths {
    pub base: String,
    pub ciphertext: PathBuf,
    pub seal: PathBuf,
    pub signature: PathBuf,
    pub custody: PathBuf,
}

const SUFFIXES: &[&str] = &[".zip.age", ".seal.json.sig", ".seal.json", ".custody.jsonl"];

impl PackagePaths {
    /// From the folder and base name (`CASE_20261125T061500Z`).
    pub fn new(dir: &Path, base: &str) -> Self {
        Self {
            base: base.to_string(),
            ciphertext: dir.join(format!("{base}.zip.age")),
            seal: dir.join(format!("{base}.seal.json")),
            signature: dir.join(format!("{base}.seal.json.sig")),
            custody: dir.join(format!("{base}.custody.jsonl")),
        }
    }

    /// From any one of the files, or the base path without suffix.
    pub fn from_any(path: &Path) -> Self {
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = SUFFIXES
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name)
            .to_string();
        Self::new(&dir, &base)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_siblings_from_any_file() {
        for p in [
            "out/C1_20261125T000000Z.zip.age",
            "out/C1_20261125T000000Z.seal.json",
            "out/C1_20261125T000000Z.seal.json.sig",
            "out/C1_20261125T000000Z.custody.jsonl",
            "out/C1_20261125T000000Z",
        ] {
            let pp = PackagePaths::from_any(Path::new(p));
            assert_eq!(pp.base, "C1_20261125T000000Z");
            assert_eq!(pp.seal, Path::new("out/C1_20261125T000000Z.seal.json"));
        }
    }
}
