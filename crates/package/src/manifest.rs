//! `manifest.json` and `SHA256SUMS`: what is inside a package.

use crate::evidence::SourceSummary;
use crate::layout::FileRole;
use serde::{Deserialize, Serialize};

pub const MANIFEST_FORMAT: &str = "m365-preserve-manifest/1";

/// One file inside the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    /// The name the file had before the name policy stored it as `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_name: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub role: FileRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::evidence::SourceStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
    pub records: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub case_id: String,
    pub created: String,
    pub hash_algorithm: String,
    /// Merkle root over `files` (see [`super::merkle`]).
    pub merkle_root: String,
    pub totals: Totals,
    pub sources: Vec<SourceSummary>,
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    pub fn new(
        case_id: &str,
        created: String,
        files: Vec<ManifestFile>,
        sources: Vec<SourceSummary>,
    ) -> Self {
        let merkle_root =
            super::merkle::merkle_root(files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())));
        let totals = Totals {
            files: files.len() as u64,
            bytes: files.iter().map(|f| f.size).sum(),
            records: sources.iter().map(|s| s.records).sum(),
        };
        Self {
            format: MANIFEST_FORMAT.into(),
            case_id: case_id.into(),
            created,
            hash_algorithm: "sha256".into(),
            merkle_root,
            totals,
            sources,
            files,
        }
    }
}

/// `sha256sum -c` lines for `(path, sha256)` pairs, sorted by path.
pub fn sha256sums<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut lines: Vec<(&str, &str)> = entries.into_iter().collect();
    lines.sort_by(|a, b| a.0.cmp(b.0));
    lines
        .into_iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect()
}
