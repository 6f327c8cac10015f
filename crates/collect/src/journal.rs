//! The checkpoint journal: what a collection has finished, so a collection
//! killed at any point resumes by fetching only what is missing.
//!
//! Every query writes the records it keeps to its own spool file
//! (`.m365-preserve/spool/<source>/<n>.jsonl`); once the last page is in, the
//! spool is synced and one `query-done` line (with the spool's SHA-256) is
//! appended to `.m365-preserve/journal.jsonl`. A query without that line is
//! fetched again from its first page. Purview audit queries also journal the id
//! of the server-side query, so a resumed run polls it instead of submitting a
//! new one. The evidence files are built from the spools in plan order, so a
//! resumed collection writes the same records in the same order.

use fs_err::{self as fs, File, OpenOptions};
use m365_preserve_package::hashing::sha256_reader;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Counters of one finished query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryTally {
    pub records: u64,
    pub pages: u64,
    pub retries: u64,
    /// Records the service returned outside what was asked (dropped).
    pub outside: u64,
}

impl std::ops::AddAssign for QueryTally {
    fn add_assign(&mut self, o: Self) {
        self.records += o.records;
        self.pages += o.pages;
        self.retries += o.retries;
        self.outside += o.outside;
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Line {
    QueryDone {
        source: Source,
        key: String,
        spool: String,
        sha256: String,
        #[serde(flatten)]
        tally: QueryTally,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        facts: Vec<Value>,
    },
    AuditQueryCreated {
        key: String,
        id: String,
    },
}

#[derive(Debug, Clone)]
struct Done {
    spool: String,
    sha256: String,
    tally: QueryTally,
    notes: Vec<String>,
    facts: Vec<Value>,
}

/// A query an earlier run finished.
#[derive(Debug, Clone)]
pub struct Finished {
    pub spool: PathBuf,
    pub tally: QueryTally,
    /// What the query had to note (e.g. a premium field collected without).
    pub notes: Vec<String>,
    /// What the query looked up besides its records (e.g. rule folder names).
    pub facts: Vec<Value>,
}

/// Errors of the journal and spools (disk problems, or a damaged work folder).
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A disk problem; the message names the file (fs-err).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{path} line {line}: {message}")]
    Damaged {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The journal of one work folder.
pub struct Journal {
    root: PathBuf,
    file: Mutex<File>,
    done: HashMap<(Source, String), Done>,
    audit_ids: HashMap<String, String>,
}

impl Journal {
    /// Opens (or starts) the journal of `workdir`, reading what earlier runs finished.
    pub fn open(workdir: &WorkDir) -> Result<Self, JournalError> {
        let state = workdir.state_dir();
        fs::create_dir_all(&state).map_err(JournalError::Io)?;
        let path = workdir.journal();
        let mut done = HashMap::new();
        let mut audit_ids = HashMap::new();
        let bytes = if path.exists() {
            fs::read(&path).map_err(JournalError::Io)?
        } else {
            Vec::new()
        };
        // A torn last line (the process died while writing it) is dropped.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let text = String::from_utf8_lossy(&bytes[..whole]);
        for (i, raw) in text.lines().enumerate() {
            match serde_json::from_str::<Line>(raw) {
                Ok(Line::QueryDone {
                    source,
                    key,
                    spool,
                    sha256,
                    tally,
                    notes,
                    facts,
                }) => {
                    let d = Done {
                        spool,
                        sha256,
                        tally,
                        notes,
                        facts,
                    };
                    done.insert((source, key), d);
                }
                Ok(Line::AuditQueryCreated { key, id }) => {
                    audit_ids.insert(key, id);
                }
                Err(e) => {
                    return Err(JournalError::Damaged {
                        path,
                        line: i + 1,
                        message: e.to_string(),
                    })
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(JournalError::Io)?;
        file.set_len(whole as u64).map_err(JournalError::Io)?;
        Ok(Self {
            root: workdir.root().to_path_buf(),
            file: Mutex::new(file),
            done,
            audit_ids,
        })
    }

    /// Queries finished by earlier runs.
    pub fn finished(&self) -> usize {
        self.done.len()
    }

    /// The queries earlier runs finished, as `(source, key)`.
    pub fn keys(&self) -> impl Iterator<Item = (Source, &str)> {
        self.done.keys().map(|(s, k)| (*s, k.as_str()))
    }

    fn append(&self, line: &Line) -> Result<(), JournalError> {
        let mut text = serde_json::to_string(line).expect("journal line serialises");
        text.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(text.as_bytes()).map_err(JournalError::Io)?;
        f.sync_data().map_err(JournalError::Io)
    }

    /// Spools are named by a digest of the query key: stable across runs.
    fn spool_rel(source: Source, key: &str) -> String {
        let digest = m365_preserve_package::hashing::sha256_hex(key.as_bytes());
        WorkDir::spool_rel(source.as_str(), &format!("{}.jsonl", &digest[..24]))
    }

    /// Where the spool of query `key` of `source` is written (finished or not).
    pub fn spool_path(&self, source: Source, key: &str) -> std::path::PathBuf {
        self.root.join(Self::spool_rel(source, key))
    }

    /// The tally of a query an earlier run finished, when its spool is intact.
    pub fn done(&self, source: Source, key: &str) -> Option<Finished> {
        let d = self.done.get(&(source, key.to_string()))?;
        let spool = self.root.join(&d.spool);
        let (_, sha) = File::open(&spool).and_then(sha256_reader).ok()?;
        (sha == d.sha256).then(|| Finished {
            spool,
            tally: d.tally,
            notes: d.notes.clone(),
            facts: d.facts.clone(),
        })
    }

    /// Starts (or restarts) the spool of query `key` of `source`.
    pub fn spool(&self, source: Source, key: &str) -> Result<Spool, JournalError> {
        let rel = Self::spool_rel(source, key);
        let path = self.root.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(JournalError::Io)?;
        }
        let file = File::create(&path).map_err(JournalError::Io)?;
        Ok(Spool {
            rel,
            path,
            out: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    /// Marks a query finished, once its spool is on disk.
    pub fn finish(
        &self,
        source: Source,
        key: &str,
        spool: Spool,
        tally: QueryTally,
        notes: Vec<String>,
        facts: Vec<Value>,
    ) -> Result<Finished, JournalError> {
        let Spool { rel, path, out } = spool;
        let file = out
            .into_inner()
            .map_err(|e| JournalError::Io(e.into_error()))?;
        file.sync_all().map_err(JournalError::Io)?;
        let (_, sha256) = File::open(&path)
            .and_then(sha256_reader)
            .map_err(JournalError::Io)?;
        self.append(&Line::QueryDone {
            source,
            key: key.into(),
            spool: rel,
            sha256,
            tally,
            notes: notes.clone(),
            facts: facts.clone(),
        })?;
        Ok(Finished {
            spool: path,
            tally,
            notes,
            facts,
        })
    }

    /// The server-side audit query an earlier run created for `key`.
    pub fn audit_query(&self, key: &str) -> Option<&str> {
        self.audit_ids.get(key).map(String::as_str)
    }

    pub fn audit_query_created(&self, key: &str, id: &str) -> Result<(), JournalError> {
        self.append(&Line::AuditQueryCreated {
            key: key.into(),
            id: id.into(),
        })
    }
}

/// Records kept by one query, one JSON document per line.
pub struct Spool {
    rel: String,
    path: PathBuf,
    out: BufWriter<File>,
}

impl Spool {
    pub fn push(&mut self, record: &Value) -> Result<(), JournalError> {
        serde_json::to_writer(&mut self.out, record).map_err(|e| {
            JournalError::Io(std::io::Error::other(format!(
                "{}: {e}",
                self.path.display()
            )))
        })?;
        self.out.write_all(b"\n").map_err(JournalError::Io)
    }
}

/// Reads a spool back, record by record.
pub fn replay(
    path: &Path,
    mut each: impl FnMut(Value) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    let reader = BufReader::with_capacity(256 * 1024, File::open(path).map_err(JournalError::Io)?);
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(JournalError::Io)?;
        let value = serde_json::from_str(&line).map_err(|e| JournalError::Damaged {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?;
        each(value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finished_queries_survive_a_restart_and_torn_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = Journal::open(&WorkDir::at(dir.path())).unwrap();
            let mut s = j.spool(Source::User, "GET /x").unwrap();
            s.push(&json!({"id": "a"})).unwrap();
            let tally = QueryTally {
                records: 1,
                pages: 1,
                ..Default::default()
            };
            j.finish(
                Source::User,
                "GET /x",
                s,
                tally,
                vec!["n".into()],
                Vec::new(),
            )
            .unwrap();
            j.audit_query_created("w1", "q-1").unwrap();
            let _unfinished = j.spool(Source::User, "GET /y").unwrap();
        }
        let path = WorkDir::at(dir.path()).journal();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"event\":\"query-do").unwrap();
        drop(f);
        let j = Journal::open(&WorkDir::at(dir.path())).unwrap();
        assert_eq!(j.finished(), 1);
        assert_eq!(j.audit_query("w1"), Some("q-1"));
        let done = j.done(Source::User, "GET /x").unwrap();
        assert_eq!(done.tally.records, 1);
        assert_eq!(done.notes, vec!["n".to_string()]);
        let mut seen = Vec::new();
        replay(&done.spool, |v| {
            seen.push(v);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![json!({"id": "a"})]);
        assert!(j.done(Source::User, "GET /y").is_none());
        // The torn tail is gone, so new lines parse.
        j.audit_query_created("w2", "q-2").unwrap();
        assert_eq!(
            Journal::open(&WorkDir::at(dir.path()))
                .unwrap()
                .audit_query("w2"),
            Some("q-2")
        );
    }

    #[test]
    fn a_changed_spool_is_fetched_again() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&WorkDir::at(dir.path())).unwrap();
        let mut s = j.spool(Source::User, "k").unwrap();
        s.push(&json!({"id": "a"})).unwrap();
        let p = j
            .finish(
                Source::User,
                "k",
                s,
                QueryTally::default(),
                Vec::new(),
                Vec::new(),
            )
            .unwrap();
        fs::write(&p.spool, b"{\"id\":\"b\"}\n").unwrap();
        assert!(j.done(Source::User, "k").is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// A journal damaged anywhere (cut, a byte changed, a block repeated)
        /// opens, or is refused naming its file and line; never a panic, and
        /// a query it still calls finished has an intact spool.
        #[test]
        fn a_damaged_journal_opens_or_is_refused_with_its_line(
            cut in 0usize..2000,
            flip in proptest::option::of((0usize..2000, 1u8..=255)),
            repeat in proptest::option::of((0usize..2000, 1usize..200)),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let w = WorkDir::at(dir.path());
            {
                let j = Journal::open(&w).unwrap();
                for n in 0..6 {
                    let key = format!("GET /users/{n}?$filter=x eq '佐藤'");
                    let mut s = j.spool(Source::User, &key).unwrap();
                    s.push(&json!({"id": n})).unwrap();
                    j.finish(Source::User, &key, s, QueryTally::default(), vec![], vec![]).unwrap();
                    j.audit_query_created(&format!("w{n}"), "q").unwrap();
                }
            }
            let path = w.journal();
            let mut bytes = fs::read(&path).unwrap();
            if let Some((at, x)) = flip {
                let at = at % bytes.len();
                bytes[at] ^= x;
            }
            if let Some((at, len)) = repeat {
                let at = at % bytes.len();
                let piece = bytes[at..(at + len).min(bytes.len())].to_vec();
                bytes.splice(at..at, piece);
            }
            bytes.truncate(cut.min(bytes.len()));
            fs::write(&path, &bytes).unwrap();
            match Journal::open(&w) {
                Ok(j) => {
                    for n in 0..6 {
                        let key = format!("GET /users/{n}?$filter=x eq '佐藤'");
                        if let Some(done) = j.done(Source::User, &key) {
                            let mut seen = Vec::new();
                            replay(&done.spool, |v| { seen.push(v); Ok(()) }).unwrap();
                            proptest::prop_assert_eq!(seen, vec![json!({"id": n})]);
                        }
                    }
                }
                Err(JournalError::Damaged { path: p, line, message }) => {
                    proptest::prop_assert_eq!(p, path);
                    proptest::prop_assert!(line >= 1 && !message.is_empty());
                }
                Err(e) => proptest::prop_assert!(false, "{e}"),
            }
        }
    }
}
