//! Where everything is, inside a package and inside a work folder: the one
//! place that spells those paths. A work folder is laid out like the package it
//! becomes, plus a state folder that is never sealed.
//!
//! ```text
//! evidence/<source>.json, .csv     records (faithful JSON, flattened CSV)
//! evidence/imported/<file>         imported files, byte for byte
//! evidence/attachments/<file>      --attach files, byte for byte
//! evidence/messages/<id>.eml       --message-id messages
//! evidence/<source>.origins.jsonl  where imported records came from (file, line)
//! raw/<capture>/NNNNNN.json        every HTTP response body (+ .meta.json)
//! report/                          the derived triage report (findings, HTML, timeline)
//! interview.json                   the victim's account of what happened
//! custody.jsonl                    collection-time custody events
//! collection.log                   the run log
//! acquisition.json, manifest.json, SHA256SUMS   written by sealing
//! .m365-preserve/                  tool state (work folder only)
//!   sources/<source>.json          per-source summaries, for the manifest
//!   journal.jsonl, spool/          the collector's checkpoint journal
//!   run.json                       what the collection was asked for
//!   import/<source>.json           collector evidence an import merged
//!   sealed.json, sealed/<package>/ packages sealed with gaps, and what they held
//! ```

use serde::{Deserialize, Serialize};

pub const EVIDENCE_DIR: &str = "evidence";
pub const IMPORTED_DIR: &str = "evidence/imported";
pub const ATTACHMENTS_DIR: &str = "evidence/attachments";
pub const MESSAGES_DIR: &str = "evidence/messages";
pub const RAW_DIR: &str = "raw";
pub const REPORT_DIR: &str = "report";
pub const INTERVIEW: &str = "interview.json";
pub const CUSTODY_LOG: &str = "custody.jsonl";
pub const COLLECTION_LOG: &str = "collection.log";
pub const ACQUISITION: &str = "acquisition.json";
pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
/// Tool state inside a work folder; never sealed.
pub const STATE_DIR: &str = ".m365-preserve";

/// Files the sealer writes itself; a folder to seal must not hold them.
pub const SEALER_WRITES: &[&str] = &[MANIFEST, SUMS, ACQUISITION];

/// `evidence/<source>.json`.
pub fn evidence_json(source: &str) -> String {
    format!("{EVIDENCE_DIR}/{source}.json")
}

/// `evidence/<source>.csv`.
pub fn evidence_csv(source: &str) -> String {
    format!("{EVIDENCE_DIR}/{source}.csv")
}

/// `evidence/<source>.origins.jsonl`: the original file and line of each
/// imported record.
pub fn evidence_origins(source: &str) -> String {
    format!("{EVIDENCE_DIR}/{source}.origins.jsonl")
}

/// `report/<name>`.
pub fn report(name: &str) -> String {
    format!("{REPORT_DIR}/{name}")
}

/// `evidence/messages/<name>`.
pub fn message(name: &str) -> String {
    format!("{MESSAGES_DIR}/{name}")
}

/// `evidence/imported/<name>`.
pub fn imported(name: &str) -> String {
    format!("{IMPORTED_DIR}/{name}")
}

/// `raw/<capture>/<name>`.
pub fn raw(capture: &str, name: &str) -> String {
    format!("{RAW_DIR}/{capture}/{name}")
}

/// What a file in a package is, from where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    /// `evidence/<source>.json|csv` and messages.
    Evidence,
    /// An imported file, byte for byte.
    Imported,
    /// A file attached by the operator.
    Attachment,
    /// A raw HTTP response or its metadata.
    Raw,
    /// The derived report (reproducible from the evidence).
    Report,
    /// The victim's account (`interview.json`).
    Interview,
    Acquisition,
    Custody,
    Log,
    /// Anything else (and roles a later version adds).
    #[serde(other)]
    Other,
}

impl FileRole {
    /// The role of a package path.
    pub fn of(path: &str) -> FileRole {
        let under = |dir: &str| {
            path.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        if under(IMPORTED_DIR) {
            FileRole::Imported
        } else if under(ATTACHMENTS_DIR) {
            FileRole::Attachment
        } else if under(EVIDENCE_DIR) {
            FileRole::Evidence
        } else if under(RAW_DIR) {
            FileRole::Raw
        } else if under(REPORT_DIR) {
            FileRole::Report
        } else {
            match path {
                INTERVIEW => FileRole::Interview,
                ACQUISITION => FileRole::Acquisition,
                CUSTODY_LOG => FileRole::Custody,
                COLLECTION_LOG => FileRole::Log,
                _ => FileRole::Other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_top_folder() {
        assert_eq!(FileRole::of("evidence/user.json"), FileRole::Evidence);
        assert_eq!(FileRole::of("evidence/imported/a.csv"), FileRole::Imported);
        assert_eq!(
            FileRole::of("evidence/attachments/x.png"),
            FileRole::Attachment
        );
        assert_eq!(FileRole::of("raw/user/000001.json"), FileRole::Raw);
        assert_eq!(FileRole::of("acquisition.json"), FileRole::Acquisition);
        assert_eq!(FileRole::of("custody.jsonl"), FileRole::Custody);
        assert_eq!(FileRole::of("collection.log"), FileRole::Log);
        assert_eq!(FileRole::of("report/findings.json"), FileRole::Report);
        assert_eq!(FileRole::of("interview.json"), FileRole::Interview);
        assert_eq!(FileRole::of("evidencex/a"), FileRole::Other);
        assert_eq!(
            serde_json::from_str::<FileRole>("\"analysis\"").unwrap(),
            FileRole::Other
        );
    }
}
