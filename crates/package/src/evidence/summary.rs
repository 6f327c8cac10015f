//! Per-source summaries, left beside the evidence so that sealing can put them in
//! the manifest and check that no evidence file changed after it was written.

use crate::dedup::IdConflicts;
use serde::{Deserialize, Serialize};

/// Completeness of one source, as the manifest, console and exit code report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    /// Every record of every asked window was collected.
    Complete,
    /// Some windows or rows are missing; `reason` and `missing` say which.
    Partial,
    /// The source could not be read at all (licence, permission, API absent...).
    Unavailable,
    /// The collection of this source failed with an error.
    Failed,
}

/// Name, size and SHA-256 of one written file, relative to the package root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What one source produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub source: String,
    pub status: SourceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub records: u64,
    /// The field whose values give the time span (e.g. `createdDateTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    /// Number of CSV columns (leaf fields found in any record).
    pub csv_columns: u64,
    pub files: Vec<FileDigest>,
    /// Records kept although an earlier, different record had their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_conflicts: Option<IdConflicts>,
    /// Free-form details a collector or importer adds (query, windows, pages, retries).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}
