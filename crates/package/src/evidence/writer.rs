//! The per-source evidence writer.

use super::flatten::{flatten_record, leaf_paths};
use super::summary::{FileDigest, SourceStatus, SourceSummary};
use super::EvidenceError;
use crate::hashing::HashingWriter;
use crate::layout;
use crate::timefmt::{format_utc, parse_iso_datetime};
use crate::workdir::WorkDir;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Fields tried, in order, when no time field is named: the record time of each
/// Microsoft log family (Graph sign-ins/objects, directory audit, unified audit log,
/// Azure Monitor).
const TIME_FIELD_CANDIDATES: &[&str] = &[
    "createdDateTime",
    "activityDateTime",
    "CreationTime",
    "creationTime",
    "TimeGenerated",
    "time",
];

/// UTF-8 byte order mark: Excel needs it to show Japanese names correctly.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes one source's records as `evidence/<source>.json` now and
/// `evidence/<source>.csv` at [`EvidenceWriter::finish`].
pub struct EvidenceWriter {
    workdir: WorkDir,
    source: String,
    json_path: PathBuf,
    json: HashingWriter<BufWriter<File>>,
    records: u64,
    columns: Vec<String>,
    column_index: HashMap<String, usize>,
    time_field: Option<Vec<String>>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// Scratch buffer for one record's column paths.
    paths: Vec<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_new(path: &Path) -> Result<File, EvidenceError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err(path))
}

impl EvidenceWriter {
    /// Starts `evidence/<source>.json` in `workdir`. Refuses to overwrite earlier evidence.
    pub fn create(workdir: &WorkDir, source: &str) -> Result<Self, EvidenceError> {
        let valid = !source.is_empty()
            && source
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(EvidenceError::BadSourceName(source.to_string()));
        }
        let dir = workdir.evidence_dir();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let json_path = workdir.evidence_json(source);
        if json_path.exists() || workdir.evidence_csv(source).exists() {
            return Err(EvidenceError::AlreadyExists(source.to_string()));
        }
        let file = create_new(&json_path)?;
        let mut json = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
        json.write_all(b"[\n").map_err(io_err(&json_path))?;
        Ok(Self {
            workdir: workdir.clone(),
            source: source.to_string(),
            json_path,
            json,
            records: 0,
            columns: Vec::new(),
            column_index: HashMap::new(),
            time_field: None,
            first: None,
            last: None,
            paths: Vec::new(),
        })
    }

    /// Names the (dotted) field whose values give the first/last timestamp.
    pub fn with_time_field(mut self, field: &str) -> Self {
        self.time_field = Some(field.split('.').map(str::to_string).collect());
        self
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends one record, exactly as given.
    pub fn write(&mut self, record: &Value) -> Result<(), EvidenceError> {
        if self.records > 0 {
            self.json
                .write_all(b",\n")
                .map_err(io_err(&self.json_path))?;
        }
        serde_json::to_writer(&mut self.json, record)
            .map_err(|e| io_err(&self.json_path)(e.into()))?;
        self.records += 1;
        self.note_columns(record);
        self.note_time(record);
        Ok(())
    }

    fn note_columns(&mut self, record: &Value) {
        leaf_paths(record, &mut self.paths);
        disambiguate(self.paths.iter_mut());
        for name in &self.paths {
            if !self.column_index.contains_key(name) {
                self.column_index.insert(name.clone(), self.columns.len());
                self.columns.push(name.clone());
            }
        }
    }

    fn note_time(&mut self, record: &Value) {
        if self.time_field.is_none() {
            let Value::Object(map) = record else { return };
            self.time_field = TIME_FIELD_CANDIDATES
                .iter()
                .find(|c| map.contains_key(**c))
                .map(|c| vec![c.to_string()]);
        }
        let Some(path) = &self.time_field else { return };
        let mut value = record;
        for key in path {
            match value.get(key) {
                Some(v) => value = v,
                None => return,
            }
        }
        if let Some(t) = value.as_str().and_then(parse_iso_datetime) {
            self.first = Some(self.first.map_or(t.utc, |f| f.min(t.utc)));
            self.last = Some(self.last.map_or(t.utc, |l| l.max(t.utc)));
        }
    }

    /// Closes the JSON file, writes the CSV view, and records the summary beside
    /// the evidence (`.m365-preserve/sources/<source>.json`).
    pub fn finish(
        mut self,
        status: SourceStatus,
        reason: Option<String>,
        details: serde_json::Map<String, Value>,
    ) -> Result<SourceSummary, EvidenceError> {
        let end: &[u8] = if self.records > 0 { b"\n]\n" } else { b"]\n" };
        self.json.write_all(end).map_err(io_err(&self.json_path))?;
        let (buf, json_size, json_sha) = self.json.finish();
        let file = buf
            .into_inner()
            .map_err(|e| io_err(&self.json_path)(e.into_error()))?;
        file.sync_all().map_err(io_err(&self.json_path))?;

        let csv_path = self.workdir.evidence_csv(&self.source);
        let (csv_size, csv_sha) = write_csv(&self.json_path, &csv_path, &self.columns)?;

        let summary = SourceSummary {
            source: self.source.clone(),
            status,
            reason,
            records: self.records,
            time_field: self.time_field.as_ref().map(|p| p.join(".")),
            first_timestamp: self.first.map(format_utc_precise),
            last_timestamp: self.last.map(format_utc_precise),
            csv_columns: self.columns.len() as u64,
            files: vec![
                FileDigest {
                    path: layout::evidence_json(&self.source),
                    size: json_size,
                    sha256: json_sha,
                },
                FileDigest {
                    path: layout::evidence_csv(&self.source),
                    size: csv_size,
                    sha256: csv_sha,
                },
            ],
            details,
        };
        write_summary(&self.workdir, &summary)?;
        Ok(summary)
    }
}

fn format_utc_precise(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_nanos() == 0 {
        format_utc(t)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

/// Gives the second and later cells sharing one column name (a key containing a
/// dot colliding with a nested path) the suffixes `#2`, `#3`... so no value is lost.
fn disambiguate<'a>(names: impl Iterator<Item = &'a mut String>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names {
        let count = seen.entry(name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            *name = format!("{name}#{count}");
        }
    }
}

/// Second pass: reads the JSON just written (one record per line) and writes the CSV.
fn write_csv(
    json_path: &Path,
    csv_path: &Path,
    columns: &[String],
) -> Result<(u64, String), EvidenceError> {
    let file = create_new(csv_path)?;
    let mut out = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
    out.write_all(UTF8_BOM).map_err(io_err(csv_path))?;
    let index: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let csv_err = |e: csv::Error| io_err(csv_path)(std::io::Error::other(e));
        if !columns.is_empty() {
            csv.write_record(columns).map_err(csv_err)?;
        }
        let reader = BufReader::with_capacity(
            256 * 1024,
            File::open(json_path).map_err(io_err(json_path))?,
        );
        let mut row: Vec<String> = vec![String::new(); columns.len()];
        let mut cells = Vec::new();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(io_err(json_path))?;
            let body = line.strip_suffix(',').unwrap_or(&line);
            if n == 0 || body == "]" {
                continue;
            }
            let record: Value = serde_json::from_str(body).map_err(|e| EvidenceError::Corrupt {
                path: json_path.to_path_buf(),
                line: n as u64 + 1,
                reason: e.to_string(),
            })?;
            flatten_record(&record, &mut cells);
            disambiguate(cells.iter_mut().map(|(name, _)| name));
            row.iter_mut().for_each(String::clear);
            for (name, text) in cells.drain(..) {
                if let Some(&i) = index.get(name.as_str()) {
                    row[i] = text;
                }
            }
            csv.write_record(&row).map_err(csv_err)?;
        }
        csv.flush().map_err(io_err(csv_path))?;
    }
    let (buf, size, sha) = out.finish();
    let file = buf
        .into_inner()
        .map_err(|e| io_err(csv_path)(e.into_error()))?;
    file.sync_all().map_err(io_err(csv_path))?;
    Ok((size, sha))
}

/// Leaves `summary` beside the evidence for the sealer (sources whose files are
/// not written by an [`EvidenceWriter`], e.g. messages, use it directly).
pub fn write_summary(workdir: &WorkDir, summary: &SourceSummary) -> Result<(), EvidenceError> {
    let dir = workdir.summaries_dir();
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let path = workdir.summary(&summary.source);
    let text = serde_json::to_vec_pretty(summary).expect("summary serialises");
    fs::write(&path, text).map_err(io_err(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write_all(records: &[Value]) -> (tempfile::TempDir, SourceSummary) {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EvidenceWriter::create(&WorkDir::at(dir.path()), "entra-audit").unwrap();
        for r in records {
            w.write(r).unwrap();
        }
        let s = w
            .finish(SourceStatus::Complete, None, Default::default())
            .unwrap();
        (dir, s)
    }

    #[test]
    fn json_is_value_equal_one_record_per_line_and_hashed() {
        let input = r#"[{"id":"1","n":1.50,"big":123456789012345678901234567890,"s":"\u6771\u4eac"},
                       {"id":"2","dup":1,"dup":2,"nested":{"a":[1,{"b":null}]}}]"#;
        let records: Vec<Value> = serde_json::from_str(input).unwrap();
        let (dir, s) = write_all(&records);
        let text = fs::read_to_string(dir.path().join("evidence/entra-audit.json")).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        let back: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, records);
        assert_eq!(
            back[1]["dup"],
            json!(2),
            "duplicate keys keep the last value"
        );
        assert!(text.contains("1.50") && text.contains("123456789012345678901234567890"));
        assert_eq!(
            s.files[0].sha256,
            crate::hashing::sha256_hex(text.as_bytes())
        );
        assert_eq!(s.records, 2);
    }

    #[test]
    fn csv_has_bom_union_of_columns_and_utc_times() {
        let records = vec![
            json!({"id": "1", "createdDateTime": "2026-11-20T18:00:00+09:00", "location": {"city": "東京"}}),
            json!({"id": "2", "createdDateTime": "2026-11-19T01:02:03Z", "extra": [1, 2], "a.b": 1, "a": {"b": 2}}),
        ];
        let (dir, s) = write_all(&records);
        let bytes = fs::read(dir.path().join("evidence/entra-audit.csv")).unwrap();
        assert!(bytes.starts_with(UTF8_BOM));
        let mut rdr = csv::Reader::from_reader(&bytes[3..]);
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            headers,
            [
                "id",
                "createdDateTime",
                "location.city",
                "extra",
                "a.b",
                "a.b#2"
            ]
        );
        let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][1], "2026-11-20T09:00:00Z");
        assert_eq!(&rows[0][2], "東京");
        assert_eq!(&rows[1][3], "[1,2]");
        assert_eq!((&rows[1][4], &rows[1][5]), ("1", "2"));
        assert_eq!(s.first_timestamp.as_deref(), Some("2026-11-19T01:02:03Z"));
        assert_eq!(s.last_timestamp.as_deref(), Some("2026-11-20T09:00:00Z"));
        assert_eq!(s.time_field.as_deref(), Some("createdDateTime"));
        let summary: SourceSummary = serde_json::from_slice(
            &fs::read(dir.path().join(".m365-preserve/sources/entra-audit.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(summary, s);
    }

    #[test]
    fn empty_source_gives_valid_empty_files() {
        let (dir, s) = write_all(&[]);
        let text = fs::read_to_string(dir.path().join("evidence/entra-audit.json")).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<Value>>(&text).unwrap(),
            Vec::<Value>::new()
        );
        assert_eq!(s.records, 0);
        assert_eq!(s.csv_columns, 0);
    }

    #[test]
    fn refuses_bad_names_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            EvidenceWriter::create(&WorkDir::at(dir.path()), "../x"),
            Err(EvidenceError::BadSourceName(_))
        ));
        let w = EvidenceWriter::create(&WorkDir::at(dir.path()), "user").unwrap();
        w.finish(SourceStatus::Complete, None, Default::default())
            .unwrap();
        assert!(matches!(
            EvidenceWriter::create(&WorkDir::at(dir.path()), "user"),
            Err(EvidenceError::AlreadyExists(_))
        ));
    }
}
