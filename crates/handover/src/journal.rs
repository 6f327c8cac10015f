//! The send journal: what an interrupted send had already done, so that the
//! same command run again continues. It lives next to the package as
//! `.CASE_….send-<destination hash>.json`, holds no secret (object names,
//! receipts, an S3 upload id), and is removed when the send is complete.

use crate::receipt::{ObjectReceipt, PartReceipt};
use m365_preserve_package::paths::PackagePaths;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A large object being sent in pieces.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct InProgress {
    pub name: String,
    pub part_size: u64,
    pub parts: u64,
    /// S3's multipart upload id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// Pieces the service acknowledged, by number.
    pub done: BTreeMap<u64, PartReceipt>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct State {
    /// The destination, as displayed (no secret).
    pub destination: String,
    /// Objects committed, by file (`ciphertext`, `seal`...).
    pub committed: BTreeMap<String, ObjectReceipt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<InProgress>,
    /// The `transferred` custody line, once written (so a re-run does not
    /// record the transfer twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody_line: Option<String>,
}

pub(crate) struct Journal {
    path: PathBuf,
    pub state: State,
    /// Whether an earlier run left this journal.
    pub resumed: bool,
}

impl Journal {
    /// The journal of sending `paths` to `destination`: the earlier run's, or a new one.
    pub fn open(paths: &PackagePaths, destination: &str) -> std::io::Result<Self> {
        let dir = paths.ciphertext.parent().unwrap_or(Path::new(""));
        let hash = hex::encode(&Sha256::digest(destination.as_bytes())[..6]);
        let path = dir.join(format!(".{}.send-{hash}.json", paths.base));
        match std::fs::read(&path) {
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{}: not a send journal ({e}); remove it to start over",
                            path.display()
                        ),
                    )
                })?;
                Ok(Self {
                    path,
                    state,
                    resumed: true,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path,
                state: State {
                    destination: destination.to_string(),
                    ..State::default()
                },
                resumed: false,
            }),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the journal (a new file renamed over the old one).
    pub fn save(&self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(&self.state).expect("journal serialises"),
        )?;
        std::fs::rename(&tmp, &self.path)
    }

    /// The send is complete: the journal goes.
    pub fn remove(self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_named_per_destination() {
        let dir = tempfile::tempdir().unwrap();
        let paths = PackagePaths::new(dir.path(), "C_20261125T000000Z");
        let mut j = Journal::open(&paths, "s3://a").unwrap();
        assert!(!j.resumed);
        j.state.upload = Some(InProgress {
            name: "C.zip.age".into(),
            part_size: 8,
            parts: 2,
            upload_id: Some("u".into()),
            done: BTreeMap::new(),
        });
        j.save().unwrap();
        let again = Journal::open(&paths, "s3://a").unwrap();
        assert!(again.resumed);
        assert_eq!(again.state.upload.unwrap().upload_id.as_deref(), Some("u"));
        let other = Journal::open(&paths, "s3://b").unwrap();
        assert!(!other.resumed);
        assert_ne!(other.path(), again.path);
        again_remove(j);
    }

    fn again_remove(j: Journal) {
        let p = j.path().to_path_buf();
        j.remove().unwrap();
        assert!(!p.exists());
    }
}
