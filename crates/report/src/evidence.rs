//! Reading the evidence a report rests on: a work folder (before sealing) or an
//! opened package. Records are streamed, one line of `evidence/<source>.json`
//! at a time; the sources' statuses come from the summaries the collector left
//! (work folder) or from `manifest.json` (package).

use crate::ReportError;
use m365_preserve_package::evidence::{SourceStatus, SourceSummary};
use m365_preserve_package::layout;
use m365_preserve_package::manifest::Manifest;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Where an imported record came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Origin {
    pub record: u64,
    pub file: String,
    pub line: u64,
}

/// An evidence folder.
pub struct Evidence {
    root: PathBuf,
    summaries: BTreeMap<String, SourceSummary>,
    own_app: Option<String>,
}

impl Evidence {
    /// Opens a work folder or an opened package.
    pub fn open(root: &Path) -> Result<Self, ReportError> {
        let workdir = WorkDir::at(root);
        let mut summaries = BTreeMap::new();
        let manifest = root.join(layout::MANIFEST);
        if manifest.is_file() {
            let text = std::fs::read(&manifest).map_err(|e| ReportError::read(&manifest, e))?;
            let m: Manifest = serde_json::from_slice(&text).map_err(|e| ReportError::Document {
                path: manifest.clone(),
                why: e.to_string(),
            })?;
            for s in m.sources {
                summaries.insert(s.source.clone(), s);
            }
        } else if workdir.summaries_dir().is_dir() {
            let dir = workdir.summaries_dir();
            let entries = std::fs::read_dir(&dir).map_err(|e| ReportError::read(&dir, e))?;
            for e in entries.flatten() {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let text = std::fs::read(&path).map_err(|e| ReportError::read(&path, e))?;
                let s: SourceSummary =
                    serde_json::from_slice(&text).map_err(|e| ReportError::Document {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                summaries.insert(s.source.clone(), s);
            }
        } else if !workdir.evidence_dir().is_dir() {
            return Err(ReportError::NotEvidence(root.to_path_buf()));
        }
        let own_app = std::fs::read(root.join(layout::ACQUISITION))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|a| {
                let c = &a["operator"]["token_claims"];
                c["appid"].as_str().or(c["azp"].as_str()).map(String::from)
            });
        Ok(Self {
            root: root.to_path_buf(),
            summaries,
            own_app,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The summary of `source`, when it was collected or imported.
    pub fn summary(&self, source: Source) -> Option<&SourceSummary> {
        self.summaries.get(source.as_str())
    }

    /// Every summary, by source name.
    pub fn summaries(&self) -> impl Iterator<Item = &SourceSummary> {
        self.summaries.values()
    }

    /// Whether `source`'s records are all there.
    pub fn complete(&self, source: Source) -> bool {
        self.summary(source)
            .is_some_and(|s| s.status == SourceStatus::Complete)
    }

    /// Whether `source` has any records to read.
    pub fn has(&self, source: Source) -> bool {
        self.path(source).is_file()
    }

    fn path(&self, source: Source) -> PathBuf {
        self.root.join(layout::evidence_json(source.as_str()))
    }

    /// How many sign-ins `source` holds, for reserving memory up front: the
    /// summary's count, bounded by what the file could hold (a damaged or
    /// hostile summary cannot make the report reserve much more than the file).
    pub fn signin_hint(&self, source: Source) -> usize {
        /// Fewer bytes than a sign-in's line takes: its id and time alone do.
        const MIN_LINE: u64 = 64;
        let counted = self.summary(source).map_or(0, |s| s.records);
        let fits = std::fs::metadata(self.path(source)).map_or(0, |m| m.len() / MIN_LINE);
        usize::try_from(counted.min(fits)).unwrap_or(usize::MAX)
    }

    /// The records of `source`, in file order, with their positions.
    pub fn records(&self, source: Source) -> Result<Records, ReportError> {
        let path = self.path(source);
        let reader = match std::fs::File::open(&path) {
            Ok(f) => Some(BufReader::with_capacity(256 * 1024, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ReportError::read(&path, e)),
        };
        Ok(Records {
            path,
            reader,
            line: 0,
            index: 0,
            buf: String::new(),
        })
    }

    /// Where the imported records of `source` came from, by position.
    pub fn origins(&self, source: Source) -> BTreeMap<u64, Origin> {
        let path = self.root.join(layout::evidence_origins(source.as_str()));
        let Ok(text) = std::fs::read_to_string(&path) else {
            return BTreeMap::new();
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<Origin>(l).ok())
            .map(|o| (o.record, o))
            .collect()
    }

    /// The collector's own app id, from the package's acquisition record.
    pub fn own_app(&self) -> Option<&str> {
        self.own_app.as_deref()
    }

    /// The victim's account of what happened, when it was recorded.
    pub fn interview(&self) -> Option<crate::interview::Interview> {
        let text = std::fs::read(self.root.join(layout::INTERVIEW)).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

/// The records of one evidence file.
pub struct Records {
    path: PathBuf,
    reader: Option<BufReader<std::fs::File>>,
    line: u64,
    index: u64,
    buf: String,
}

impl Records {
    /// The next record's line text (without the array's `,`) and its position;
    /// `None` at the end.
    pub fn next_line(&mut self) -> Result<Option<(u64, &str)>, ReportError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        loop {
            self.buf.clear();
            let n = reader
                .read_line(&mut self.buf)
                .map_err(|e| ReportError::read(&self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let body = self.buf.trim_end_matches(['\n', '\r']);
            let body = body.strip_suffix(',').unwrap_or(body);
            if body == "[" || body == "]" || body.is_empty() {
                continue;
            }
            let index = self.index;
            self.index += 1;
            let start = 0;
            let end = body.len();
            return Ok(Some((index, &self.buf[start..end])));
        }
    }

    /// The next record, parsed.
    pub fn next_value(&mut self) -> Result<Option<(u64, Value)>, ReportError> {
        let line = self.line;
        let path = self.path.clone();
        match self.next_line()? {
            None => Ok(None),
            Some((i, text)) => {
                let v = serde_json::from_str(text).map_err(|e| ReportError::Corrupt {
                    path,
                    line: line + 1,
                    why: e.to_string(),
                })?;
                Ok(Some((i, v)))
            }
        }
    }

    /// The line number (1-based) of the record last returned.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads every record of `source` into memory (small sources only: objects,
/// rules, methods).
pub fn all(evidence: &Evidence, source: Source) -> Result<Vec<(u64, Value)>, ReportError> {
    let mut out = Vec::new();
    let mut r = evidence.records(source)?;
    while let Some(rec) = r.next_value()? {
        out.push(rec);
    }
    Ok(out)
}
