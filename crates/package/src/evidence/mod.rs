//! Evidence writers: records in, `evidence/<source>.json` and `evidence/<source>.csv`
//! out, each hashed as it is written, with record counts and the time span covered.
//!
//! The JSON file is the faithful copy (one record per line, value-equal to the
//! service's record); the CSV is a derived, flattened view for spreadsheets.

mod flatten;
mod summary;
mod writer;

pub use flatten::{flatten_record, leaf_paths, Cell};
pub use summary::{FileDigest, SourceStatus, SourceSummary};
pub use writer::{write_summary, EvidenceWriter};

use std::path::PathBuf;

/// Errors from writing evidence files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("cannot write evidence file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("source name {0:?} is not allowed: use lower-case letters, digits and '-'")]
    BadSourceName(String),
    #[error("evidence for source {0:?} already exists in this folder; refusing to overwrite it")]
    AlreadyExists(String),
    #[error("evidence file {path} is corrupt at line {line}: {reason}")]
    Corrupt {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}
