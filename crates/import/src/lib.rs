//! Import of evidence the API cannot give: Entra admin center and Purview
//! portal downloads, Azure Monitor diagnostic-settings and Log Analytics exports,
//! Exchange Online PowerShell exports. Each file is copied byte for byte to
//! `evidence/imported/` and hashed before it is parsed; its records go, mapped to
//! the Graph shape where the mapping is known, into the same `evidence/<source>`
//! files the collector writes, de-duplicated by id. Files are read as streams:
//! memory holds one row plus the set of seen ids.
//!
//! Formats: <https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs>,
//! <https://learn.microsoft.com/purview/audit-log-export-records>, and the tools' own files.

mod csvread;
mod dates;
mod decode;
mod detect;
mod entra_csv;
mod error;
mod exchange;
mod jsonread;
mod mapping;
mod monitor;
mod purview;
mod sink;

pub use error::{BadRow, ImportError, Position, EXPECTED_FORMATS};
pub use mapping::UNMAPPED;

use csvread::{CsvRows, RowIssue};
use detect::{CsvKind, JsonKind, Refusal, Routed};
use jsonread::{JsonIssue, JsonRecords};
use m365_preserve_package::custody::{append_to_work_log, CustodyAction, CustodyEvent};
use m365_preserve_package::evidence::SourceSummary;
use m365_preserve_package::hashing::HashingWriter;
use m365_preserve_package::layout;
use m365_preserve_package::names::{self, NameTable};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::Source;
use mapping::AmbiguousDate;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sink::Sinks;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufRead, BufWriter};
use std::path::{Path, PathBuf};

/// What the operator tells about the files and the run.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Skip rows that cannot be read (each is listed in the manifest and the
    /// source becomes partial) instead of stopping.
    pub skip_bad_rows: bool,
    /// Who runs the import (custody `by`).
    pub examiner: String,
    /// When the files were downloaded from the portal (RFC 3339, as given).
    pub downloaded_at: Option<String>,
    /// Who downloaded them.
    pub downloaded_by: Option<String>,
    pub note: Option<String>,
}

/// A row left out under `--skip-bad-rows`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedRow {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_name: Option<String>,
    pub reason: String,
}

/// A date cell whose day and month could be swapped (kept verbatim).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FlaggedDate {
    pub line: u64,
    pub column: Option<u64>,
    pub column_name: Option<String>,
    pub value: String,
}

/// What one imported file gave.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as given.
    pub file: PathBuf,
    /// Where its exact bytes are in the package.
    pub stored_as: String,
    pub sha256: String,
    pub size: u64,
    pub encoding: String,
    /// The detected format, e.g. `entra-portal-csv/interactive/current`.
    pub variant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Rows (CSV) or records (JSON) read.
    pub rows: u64,
    /// Records written, per source.
    pub records: BTreeMap<Source, u64>,
    /// Records dropped because an earlier file (or the collector) had them.
    pub duplicates: u64,
    pub skipped_rows: Vec<SkippedRow>,
    pub ambiguous_dates: Vec<FlaggedDate>,
    /// Diagnostic records of categories without an evidence source.
    pub not_imported: BTreeMap<String, u64>,
    /// AuthDetails steps: joined to a sign-in / without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_steps: Option<(u64, u64)>,
    #[serde(skip)]
    primary: Option<Source>,
}

/// The result of [`import_into`].
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    /// The summaries of every source the import wrote (also left in the work
    /// folder for the sealer).
    pub sources: Vec<SourceSummary>,
}

/// Imports `files` into the work folder `workdir` (laid out like a package:
/// `evidence/`, `.m365-preserve/sources/`, `custody.jsonl`), ready for
/// [`m365_preserve_package::content::plan_content`].
///
/// When the collector already wrote `evidence/<source>.json` for a source the
/// files feed (e.g. `collect --import` on Entra ID Free: sign-ins unavailable
/// by API, imported from the portal), its records are kept first, imported
/// records with the same id are dropped, the collector's status and reason are
/// kept under `details.collection`, and the source's status becomes the
/// import's (complete, or partial when rows were skipped).
///
/// One custody event per file (name, SHA-256, variant, `downloaded_at`,
/// `downloaded_by`, note) is appended to `<workdir>/custody.jsonl`.
///
/// On error the work folder is left half-written: discard it.
pub fn import_into(
    workdir: &WorkDir,
    files: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let jobs = store_originals(workdir, files)?;
    let stored = jobs.iter().map(|(r, _, _)| r.stored_as.clone()).collect();
    let mut sinks = Sinks::new(workdir, stored);
    let mut reports = read_files(jobs, &mut sinks, opts)?;
    for (index, r) in reports.iter_mut().enumerate() {
        for source in sinks.sources() {
            if let Some(c) = sinks
                .contributions(source)
                .and_then(|m| m.get(&(index as u32)))
            {
                r.records.insert(source, c.written);
                r.duplicates += c.duplicates;
            }
        }
    }
    let (details, partial) = source_details(&reports, &sinks.sources());
    let sources = sinks.finish(details, &partial)?;
    append_custody(workdir, &reports, opts)?;
    Ok(ImportReport {
        files: reports,
        sources,
    })
}

/// A file to import: its report so far, its stored copy and its format.
type Job = (FileReport, PathBuf, Format);

/// Copies each file byte for byte under `evidence/imported/` (hashing it),
/// then detects its format from the copy.
fn store_originals(workdir: &WorkDir, files: &[PathBuf]) -> Result<Vec<Job>, ImportError> {
    let imported = workdir.imported_dir();
    fs::create_dir_all(&imported).map_err(error::io_at(&imported))?;
    let mut taken = NameTable::default();
    for e in fs::read_dir(&imported).map_err(error::io_at(&imported))? {
        let e = e.map_err(error::io_at(&imported))?;
        taken.claim(&names::os_text(&e.file_name()));
    }
    let mut jobs = Vec::new();
    for file in files {
        let stored = taken.claim(&names::os_text(file.file_name().unwrap_or_default()));
        let name = stored.name;
        if let Some(original) = &stored.original {
            workdir
                .record_original(&layout::imported(&name), original)
                .map_err(error::io_at(&workdir.originals()))?;
        }
        let dest = imported.join(&name);
        let (size, sha256) = copy_hashed(file, &dest)?;
        if size == 0 {
            return Err(ImportError::Empty { file: file.clone() });
        }
        let (encoding, format) = sniff(file, &dest)?;
        tracing::info!(
            "{}: {} ({}, SHA-256 {sha256})",
            file.display(),
            format.describe(),
            encoding.name()
        );
        jobs.push((
            FileReport {
                file: file.clone(),
                stored_as: layout::imported(&name),
                sha256,
                size,
                encoding: encoding.name().into(),
                variant: String::new(),
                columns: None,
                container: None,
                rows: 0,
                records: BTreeMap::new(),
                duplicates: 0,
                skipped_rows: Vec::new(),
                ambiguous_dates: Vec::new(),
                not_imported: BTreeMap::new(),
                auth_steps: None,
                primary: None,
            },
            dest,
            format,
        ));
    }
    // AuthDetails first: their steps are joined to the sign-ins that follow.
    jobs.sort_by_key(|(_, _, f)| !matches!(f, Format::Csv(CsvKind::AuthDetails)));
    Ok(jobs)
}

/// Reads every file into the sinks; the files' reports, in reading order.
fn read_files(
    jobs: Vec<Job>,
    sinks: &mut Sinks,
    opts: &ImportOptions,
) -> Result<Vec<FileReport>, ImportError> {
    let mut steps: HashMap<String, Vec<Value>> = HashMap::new();
    let mut reports = Vec::new();
    let mut auth_reports = Vec::new();
    for (index, (mut report, dest, format)) in jobs.into_iter().enumerate() {
        let mut ctx = FileRun {
            index: index as u32,
            file: report.file.clone(),
            skip: opts.skip_bad_rows,
            report: &mut report,
        };
        match format {
            Format::Csv(kind) => ctx.csv(&dest, kind, sinks, &mut steps)?,
            Format::Json => ctx.json(&dest, sinks)?,
        }
        if matches!(format, Format::Csv(CsvKind::AuthDetails)) {
            auth_reports.push(reports.len());
        }
        reports.push(report);
    }
    let unmatched: u64 = steps.values().map(|v| v.len() as u64).sum();
    for i in &auth_reports {
        let r = &mut reports[*i];
        let total = r.rows - r.skipped_rows.len() as u64;
        r.auth_steps = Some((total.saturating_sub(unmatched), unmatched));
        if unmatched > 0 {
            tracing::warn!("{}: {unmatched} authentication step(s) match no imported sign-in (import the sign-in download of the same period)", r.file.display());
        }
    }
    Ok(reports)
}

/// What a file is, from its first bytes.
enum Format {
    Csv(CsvKind),
    Json,
}

impl Format {
    fn describe(&self) -> String {
        match self {
            Format::Csv(k) => k.variant(),
            Format::Json => "JSON".into(),
        }
    }
}

fn sniff(original: &Path, path: &Path) -> Result<(decode::Encoding, Format), ImportError> {
    let read_err = |source| ImportError::Read {
        file: original.to_path_buf(),
        source,
    };
    let (encoding, mut reader) = decode::open(path).map_err(read_err)?;
    let head = reader.fill_buf().map_err(read_err)?;
    if head.starts_with(b"PK\x03\x04") {
        return Err(ImportError::Unsupported {
            file: original.to_path_buf(),
            why: "a zip archive (an Excel .xlsx workbook is one too): extract it, or save the sheet as CSV, and import the files inside".into(),
        });
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(ImportError::Empty {
            file: original.to_path_buf(),
        }),
        Some(b'[' | b'{') => Ok((encoding, Format::Json)),
        Some(_) => {
            let rows = match CsvRows::open(reader) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    return Err(ImportError::Empty {
                        file: original.to_path_buf(),
                    })
                }
                Err(RowIssue::Io(e)) => return Err(read_err(e)),
                Err(RowIssue::Bad(b)) => {
                    return Err(ImportError::UnknownFormat {
                        file: original.to_path_buf(),
                        why: format!("the first line is not text ({}: {})", b.at, b.reason),
                    })
                }
                Err(RowIssue::Fatal(at, reason)) => {
                    return Err(ImportError::UnknownFormat {
                        file: original.to_path_buf(),
                        why: format!("{at}: {reason}"),
                    })
                }
            };
            let name = file_name(original);
            match detect::csv_kind(&rows.header, &name) {
                Ok(kind) => Ok((encoding, Format::Csv(kind))),
                Err(Refusal::Unknown(why)) => Err(ImportError::UnknownFormat {
                    file: original.to_path_buf(),
                    why,
                }),
                Err(Refusal::Unsupported(why)) => Err(ImportError::Unsupported {
                    file: original.to_path_buf(),
                    why,
                }),
            }
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copies `from` to `to` (a new file), hashing the bytes on the way.
fn copy_hashed(from: &Path, to: &Path) -> Result<(u64, String), ImportError> {
    let mut src = fs::File::open(from).map_err(|source| ImportError::Read {
        file: from.to_path_buf(),
        source,
    })?;
    let out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(error::io_at(to))?;
    let mut w = HashingWriter::new(BufWriter::with_capacity(1 << 20, out));
    std::io::copy(&mut src, &mut w).map_err(|source| ImportError::Read {
        file: from.to_path_buf(),
        source,
    })?;
    let (buf, size, sha) = w.finish();
    let file = buf
        .into_inner()
        .map_err(|e| error::io_at(to)(e.into_error()))?;
    file.sync_all().map_err(error::io_at(to))?;
    Ok((size, sha))
}

/// Turns the rows of one kind of CSV into records.
enum Conv {
    Signin(entra_csv::SigninCsv),
    Steps(entra_csv::AuthDetailsCsv),
    Audit(entra_csv::AuditCsv),
    Purview(purview::PurviewCsv),
    Rule,
    Mailbox,
}

impl Conv {
    fn new(kind: CsvKind, h: &csvread::Header) -> Self {
        match kind {
            CsvKind::Signin { .. } => Conv::Signin(entra_csv::SigninCsv::new(h)),
            CsvKind::AuthDetails => Conv::Steps(entra_csv::AuthDetailsCsv::new(h)),
            CsvKind::Audit => Conv::Audit(entra_csv::AuditCsv::new(h)),
            CsvKind::Purview(_) => Conv::Purview(purview::PurviewCsv::new(h)),
            CsvKind::InboxRule { .. } => Conv::Rule,
            CsvKind::Mailbox => Conv::Mailbox,
        }
    }

    /// The record of one row (`None`: an AuthDetails step, kept for its sign-in).
    fn convert(
        &self,
        h: &csvread::Header,
        row: &csv::StringRecord,
        line: u64,
        flags: &mut Vec<AmbiguousDate>,
        steps: &mut HashMap<String, Vec<Value>>,
    ) -> Result<Option<Value>, BadRow> {
        let as_map = || -> Map<String, Value> {
            (0..h.width())
                .map(|i| (h.label(i), Value::String(row[i].to_string())))
                .collect()
        };
        match self {
            Conv::Signin(c) => c.convert(h, row, line, flags).map(|mut v| {
                let id = v.get("id").and_then(Value::as_str).map(String::from);
                if let Some(s) = id.and_then(|id| steps.remove(&id)) {
                    v["authenticationDetails"] = Value::Array(s);
                }
                Some(v)
            }),
            Conv::Steps(c) => c.convert(h, row, line, flags).map(|(id, step)| {
                steps.entry(id).or_default().push(step);
                None
            }),
            Conv::Audit(c) => c.convert(h, row, line, flags).map(Some),
            Conv::Purview(c) => c.convert(h, row, line).map(Some),
            Conv::Rule => Ok(Some(exchange::rule(as_map()))),
            Conv::Mailbox => Ok(Some(Value::Object(as_map()))),
        }
    }
}

/// One file being imported.
struct FileRun<'a> {
    index: u32,
    file: PathBuf,
    skip: bool,
    report: &'a mut FileReport,
}

impl FileRun<'_> {
    fn bad(&mut self, row: BadRow) -> Result<(), ImportError> {
        if !self.skip {
            return Err(ImportError::BadRow {
                file: self.file.clone(),
                row,
            });
        }
        tracing::warn!(
            "{}, {}: skipped: {}",
            self.file.display(),
            row.at,
            row.reason
        );
        self.report.skipped_rows.push(SkippedRow {
            line: row.at.line,
            column: row.at.column,
            column_name: row.at.column_name,
            reason: row.reason,
        });
        Ok(())
    }

    fn flag(&mut self, flags: &mut Vec<AmbiguousDate>) {
        for f in flags.drain(..) {
            self.report.ambiguous_dates.push(FlaggedDate {
                line: f.at.line,
                column: f.at.column,
                column_name: f.at.column_name,
                value: f.value,
            });
        }
    }

    fn broken(&self, at: Position, reason: String) -> ImportError {
        ImportError::Broken {
            file: self.file.clone(),
            at,
            reason,
        }
    }

    fn read_err(&self, e: std::io::Error, line: u64) -> ImportError {
        if e.kind() == std::io::ErrorKind::InvalidData {
            self.broken(Position::line(line), e.to_string())
        } else {
            ImportError::Read {
                file: self.file.clone(),
                source: e,
            }
        }
    }

    fn csv(
        &mut self,
        path: &Path,
        kind: CsvKind,
        sinks: &mut Sinks,
        steps: &mut HashMap<String, Vec<Value>>,
    ) -> Result<(), ImportError> {
        let (_, reader) = decode::open(path).map_err(|e| self.read_err(e, 1))?;
        let mut rows = match CsvRows::open(reader) {
            Ok(Some(r)) => r,
            _ => unreachable!("the header was read when the file was detected"),
        };
        let h = rows.header.clone();
        self.report.variant = kind.variant();
        self.report.columns = Some(h.width());
        let hint = detect::name_hint(&file_name(&self.file));
        self.report.primary = kind.source().or(match kind {
            CsvKind::AuthDetails => Some(hint.unwrap_or(Source::SigninsInteractive)),
            _ => None,
        });
        if let Some(source) = kind.source() {
            sinks.ensure(source)?;
        }
        let conv = Conv::new(kind, &h);
        let mut flags = Vec::new();
        loop {
            let line = match rows.next_row() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(RowIssue::Bad(b)) => {
                    self.report.rows += 1;
                    self.bad(b)?;
                    continue;
                }
                Err(RowIssue::Fatal(at, reason)) => return Err(self.broken(at, reason)),
                Err(RowIssue::Io(e)) => return Err(self.read_err(e, rows.line() + 1)),
            };
            self.report.rows += 1;
            let row = rows.row();
            let converted = conv.convert(&h, row, line, &mut flags, steps);
            self.flag(&mut flags);
            match converted {
                Ok(Some(record)) => {
                    let source = kind.source().expect("record-producing kinds have a source");
                    sinks.put(source, self.index, line, &record)?;
                }
                Ok(None) => {}
                Err(b) => self.bad(b)?,
            }
        }
        Ok(())
    }

    fn json(&mut self, path: &Path, sinks: &mut Sinks) -> Result<(), ImportError> {
        let (_, reader) = decode::open(path).map_err(|e| self.read_err(e, 1))?;
        let mut records = JsonRecords::new(reader);
        let hint = detect::name_hint(&file_name(&self.file));
        let mut first: Option<JsonKind> = None;
        loop {
            let (at, value) = match records.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(JsonIssue::Bad(at, reason)) => {
                    self.report.rows += 1;
                    self.bad(BadRow::new(at, reason))?;
                    continue;
                }
                Err(JsonIssue::Fatal(at, reason)) => return Err(self.broken(at, reason)),
                Err(JsonIssue::Io(e)) => return Err(self.read_err(e, 0)),
            };
            self.report.rows += 1;
            let Value::Object(map) = value else {
                self.bad(BadRow::new(at, "a record that is not a JSON object"))?;
                continue;
            };
            let Some(kind) = detect::json_kind(&map) else {
                let keys: Vec<&str> = map.keys().take(8).map(String::as_str).collect();
                if first.is_none() {
                    return Err(ImportError::UnknownFormat {
                        file: self.file.clone(),
                        why: format!("JSON whose first record ({at}) has the keys {keys:?}"),
                    });
                }
                self.bad(BadRow::new(
                    at,
                    format!("a record of an unknown kind (keys {keys:?})"),
                ))?;
                continue;
            };
            first.get_or_insert(kind);
            match detect::route(kind, map, hint) {
                Routed::To(source, record) => {
                    self.report.primary.get_or_insert(source);
                    sinks.put(source, self.index, at.line, &record)?;
                }
                Routed::NotImported(category) => {
                    *self.report.not_imported.entry(category).or_default() += 1;
                }
            }
        }
        self.report.container = records.container().map(|c| c.name().to_string());
        self.report.variant = match first {
            Some(k) => k.variant(records.container()),
            None => "json/no-records".into(),
        };
        if first.is_none() && self.report.skipped_rows.is_empty() {
            if let Some(source) = hint {
                sinks.ensure(source)?;
                self.report.primary = Some(source);
            }
        }
        if self.report.primary.is_none() && !self.report.skipped_rows.is_empty() {
            return Err(ImportError::Broken {
                file: self.file.clone(),
                at: Position::line(self.report.skipped_rows[0].line),
                reason: "no record of the file could be read, so it is not known what it holds"
                    .into(),
            });
        }
        for (category, n) in &self.report.not_imported {
            tracing::warn!("{}: {n} record(s) of diagnostic category {category} have no evidence source and were not imported (the file itself is kept)", self.file.display());
        }
        Ok(())
    }
}

/// Each source's import details, and the reason of those that lost rows.
#[allow(clippy::type_complexity)]
fn source_details(
    reports: &[FileReport],
    sources: &[Source],
) -> (
    BTreeMap<Source, Map<String, Value>>,
    BTreeMap<Source, String>,
) {
    let mut details = BTreeMap::new();
    let mut partial = BTreeMap::new();
    for &source in sources {
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        let mut flagged = Vec::new();
        for r in reports {
            let feeds = r.records.contains_key(&source) || r.primary == Some(source);
            if !feeds {
                continue;
            }
            let mut f = json!({
                "file": file_name(&r.file), "stored_as": r.stored_as, "sha256": r.sha256,
                "encoding": r.encoding, "variant": r.variant, "rows": r.rows,
                "records": r.records.get(&source).copied().unwrap_or(0),
                "duplicates": r.duplicates,
            });
            if let Some(c) = r.columns {
                f["columns"] = json!(c);
            }
            if let Some(c) = &r.container {
                f["container"] = json!(c);
            }
            if let Some((joined, unmatched)) = r.auth_steps {
                f["authentication_steps"] = json!({"joined": joined, "without_sign_in": unmatched});
            }
            files.push(f);
            if r.primary == Some(source) {
                for s in &r.skipped_rows {
                    let mut v = serde_json::to_value(s).expect("serialisable");
                    v["file"] = json!(file_name(&r.file));
                    skipped.push(v);
                }
                for d in &r.ambiguous_dates {
                    let mut v = serde_json::to_value(d).expect("serialisable");
                    v["file"] = json!(file_name(&r.file));
                    flagged.push(v);
                }
            }
        }
        let mut d = Map::new();
        d.insert("imported_files".into(), Value::Array(files));
        if !skipped.is_empty() {
            partial.insert(
                source,
                format!(
                    "{} row(s) of the imported files could not be read and were skipped (details.skipped_rows)",
                    skipped.len()
                ),
            );
            d.insert("skipped_rows".into(), Value::Array(skipped));
        }
        if !flagged.is_empty() {
            d.insert("ambiguous_dates".into(), Value::Array(flagged));
        }
        details.insert(source, d);
    }
    (details, partial)
}

/// Appends one `evidence-imported` event per file to `<workdir>/custody.jsonl`.
fn append_custody(
    workdir: &WorkDir,
    reports: &[FileReport],
    opts: &ImportOptions,
) -> Result<(), ImportError> {
    let events = reports
        .iter()
        .map(|r| {
            let mut ev = CustodyEvent::new(CustodyAction::EvidenceImported, &opts.examiner);
            ev.note = opts.note.clone();
            ev.method = Some("portal or PowerShell export, copied byte for byte".into());
            ev.details = Some(json!({
                "file": file_name(&r.file),
                "original_path": r.file.display().to_string(),
                "stored_as": r.stored_as,
                "sha256": r.sha256,
                "size": r.size,
                "encoding": r.encoding,
                "variant": r.variant,
                "records": r.records,
                "skipped_rows": r.skipped_rows.len(),
                "downloaded_at": opts.downloaded_at,
                "downloaded_by": opts.downloaded_by,
            }));
            ev
        })
        .collect();
    append_to_work_log(workdir, events).map_err(error::io_at(&workdir.custody_log()))
}
