//! The per-source evidence writer.

use super::flatten::{cell_text_into, flatten_record, leaf_paths, same_leaf_paths, walk};
use super::summary::{FileDigest, SourceStatus, SourceSummary};
use super::EvidenceError;
use crate::dedup::IdConflicts;
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
    id_conflicts: Option<IdConflicts>,
    /// Scratch buffer for one record's JSON text.
    line: Vec<u8>,
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
            id_conflicts: None,
            line: Vec::with_capacity(4096),
        })
    }

    /// Names the (dotted) field whose values give the first/last timestamp.
    pub fn with_time_field(mut self, field: &str) -> Self {
        self.time_field = Some(field.split('.').map(str::to_string).collect());
        self
    }

    /// Records the summary as kept despite sharing an id (see [`crate::dedup`]).
    pub fn set_id_conflicts(&mut self, conflicts: Option<IdConflicts>) {
        self.id_conflicts = conflicts;
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
        // Serialised into a reused buffer, then hashed and written in one call
        // (serde writes token by token; hashing each token costs more than the text).
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).expect("a Value serialises");
        self.json
            .write_all(&self.line)
            .map_err(io_err(&self.json_path))?;
        self.records += 1;
        self.note_columns(record);
        self.note_time(record);
        Ok(())
    }

    fn note_columns(&mut self, record: &Value) {
        // `paths` holds the last record's leaf paths: the same shape adds no column.
        if same_leaf_paths(record, &self.paths) {
            return;
        }
        leaf_paths(record, &mut self.paths);
        let mut names = self.paths.clone();
        disambiguate(names.iter_mut());
        for name in &names {
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
            id_conflicts: self.id_conflicts.take(),
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

/// Lines of the JSON file handed to a CSV worker at a time.
const BATCH_LINES: usize = 512;

/// Second pass: reads the JSON just written (one record per line) and writes
/// the CSV. Parsing and flattening run on worker threads in batches of lines
/// (one per core, at most two batches each in flight, so memory stays a few
/// batches); this thread reads the lines and writes the rows in order.
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
    let csv_err = |e: csv::Error| io_err(csv_path)(std::io::Error::other(e));
    if !columns.is_empty() {
        let mut header = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        header.write_record(columns).map_err(csv_err)?;
        let bytes = header
            .into_inner()
            .map_err(|e| csv_err(e.into_error().into()))?;
        out.write_all(&bytes).map_err(io_err(csv_path))?;
    }
    let reader = BufReader::with_capacity(
        256 * 1024,
        File::open(json_path).map_err(io_err(json_path))?,
    );
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    type Batch = (u64, u64, Vec<String>);
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Batch>(workers * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) =
        std::sync::mpsc::sync_channel::<(u64, Result<Vec<u8>, EvidenceError>)>(workers * 2);
    let index = &index;
    std::thread::scope(|scope| -> Result<(), EvidenceError> {
        for _ in 0..workers {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            scope.spawn(move || {
                let mut rows = CsvRows::new(columns.len(), index);
                loop {
                    let next = work_rx.lock().expect("not poisoned").recv();
                    let Ok((seq, first_line, lines)) = next else {
                        return;
                    };
                    let bytes = rows.batch(json_path, first_line, &lines);
                    if done_tx.send((seq, bytes)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut next_out = 0u64;
        let mut sent = 0u64;
        let mut received = 0u64;
        let mut write = |pending: &mut std::collections::BTreeMap<u64, Vec<u8>>,
                         next_out: &mut u64|
         -> Result<(), EvidenceError> {
            while let Some(bytes) = pending.remove(next_out) {
                out.write_all(&bytes).map_err(io_err(csv_path))?;
                *next_out += 1;
            }
            Ok(())
        };
        let mut lines = reader.lines();
        let mut line_no = 0u64;
        loop {
            let mut batch = Vec::with_capacity(BATCH_LINES);
            let first = line_no + 1;
            for line in lines.by_ref() {
                line_no += 1;
                batch.push(line.map_err(io_err(json_path))?);
                if batch.len() == BATCH_LINES {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            // Keep at most a few batches in flight: collect before sending more.
            while sent - received >= (workers * 2) as u64 {
                let (seq, bytes) = done_rx.recv().expect("workers alive");
                received += 1;
                pending.insert(seq, bytes?);
                write(&mut pending, &mut next_out)?;
            }
            work_tx.send((sent, first, batch)).expect("workers alive");
            sent += 1;
        }
        drop(work_tx);
        while received < sent {
            let (seq, bytes) = done_rx.recv().expect("workers alive");
            received += 1;
            pending.insert(seq, bytes?);
            write(&mut pending, &mut next_out)?;
        }
        Ok(())
    })?;
    let (buf, size, sha) = out.finish();
    let file = buf
        .into_inner()
        .map_err(|e| io_err(csv_path)(e.into_error()))?;
    file.sync_all().map_err(io_err(csv_path))?;
    Ok((size, sha))
}

/// One CSV worker's state: the last record shape's columns, reused while the
/// records keep that shape (no per-cell column look-up, no path strings).
struct CsvRows<'a> {
    index: &'a HashMap<&'a str, usize>,
    shape: Vec<String>,
    slots: Vec<usize>,
    row: Vec<String>,
    cells: Vec<(String, String)>,
}

impl<'a> CsvRows<'a> {
    fn new(width: usize, index: &'a HashMap<&'a str, usize>) -> Self {
        Self {
            index,
            shape: Vec::new(),
            slots: Vec::new(),
            row: vec![String::new(); width],
            cells: Vec::new(),
        }
    }

    /// The CSV rows of a batch of JSON lines starting at line `first`.
    fn batch(
        &mut self,
        json_path: &Path,
        first: u64,
        lines: &[String],
    ) -> Result<Vec<u8>, EvidenceError> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::with_capacity(lines.len() * 512));
        for (k, line) in lines.iter().enumerate() {
            let body = line.strip_suffix(',').unwrap_or(line);
            if (first == 1 && k == 0) || body == "]" {
                continue;
            }
            let record: Value = serde_json::from_str(body).map_err(|e| EvidenceError::Corrupt {
                path: json_path.to_path_buf(),
                line: first + k as u64,
                reason: e.to_string(),
            })?;
            self.fill(&record);
            csv.write_record(&self.row)
                .map_err(|e| io_err(json_path)(std::io::Error::other(e)))?;
        }
        csv.into_inner()
            .map_err(|e| io_err(json_path)(std::io::Error::other(e.into_error())))
    }

    /// Puts `record`'s cells in `row`, by column.
    fn fill(&mut self, record: &Value) {
        self.row.iter_mut().for_each(String::clear);
        if !same_leaf_paths(record, &self.shape) {
            flatten_record(record, &mut self.cells);
            let mut names: Vec<String> = self.cells.drain(..).map(|(n, _)| n).collect();
            self.shape.clone_from(&names);
            disambiguate(names.iter_mut());
            self.slots = names
                .iter()
                .map(|n| self.index.get(n.as_str()).copied().unwrap_or(usize::MAX))
                .collect();
        }
        let (row, slots) = (&mut self.row, &self.slots);
        let mut i = 0;
        walk(record, &mut |_, leaf| {
            if let Some(cell) = slots.get(i).and_then(|&s| row.get_mut(s)) {
                cell_text_into(leaf, cell);
            }
            i += 1;
        });
    }
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
