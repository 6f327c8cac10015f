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
mod peers;
mod purview;
mod record_types;
mod sink;
mod variant;

pub use error::{BadRow, ImportError, Position, EXPECTED_FORMATS};
pub use mapping::UNMAPPED;
pub use variant::{IdentifiedBy, Variant};

use csvread::{CsvRows, RowIssue};
use detect::{CsvKind, JsonHints, JsonKind, Refusal, Routed};
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
    /// What the operator said a file is (`--as`), by its index in the files.
    pub declared: BTreeMap<usize, Variant>,
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
    /// The format, e.g. `entra-portal-csv/interactive/current`.
    pub variant: String,
    /// Whether the content, the file name or the operator (`--as`) said so.
    pub identified_by: IdentifiedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Rows (CSV) or records (JSON) read.
    pub rows: u64,
    /// Records written, per source.
    pub records: BTreeMap<Source, u64>,
    /// Records dropped because an earlier file (or the collector) had them,
    /// value-equal and with the same id.
    pub duplicates: u64,
    /// Records kept although an earlier, different record had their id.
    pub id_conflicts: u64,
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
    let jobs = store_originals(workdir, files, &opts.declared)?;
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
                r.id_conflicts += c.id_conflicts;
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
fn store_originals(
    workdir: &WorkDir,
    files: &[PathBuf],
    declared: &BTreeMap<usize, Variant>,
) -> Result<Vec<Job>, ImportError> {
    let imported = workdir.imported_dir();
    fs::create_dir_all(&imported).map_err(error::io_at(&imported))?;
    let mut taken = NameTable::default();
    for e in fs::read_dir(&imported).map_err(error::io_at(&imported))? {
        let e = e.map_err(error::io_at(&imported))?;
        taken.claim(&names::os_text(&e.file_name()));
    }
    let mut jobs = Vec::new();
    for (index, file) in files.iter().enumerate() {
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
        let (encoding, format) = sniff(file, &dest, declared.get(&index).copied())?;
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
                identified_by: IdentifiedBy::Content,
                columns: None,
                container: None,
                rows: 0,
                records: BTreeMap::new(),
                duplicates: 0,
                id_conflicts: 0,
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
    jobs.sort_by_key(|(_, _, f)| !matches!(f, Format::Csv(CsvKind::AuthDetails, _)));
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
            Format::Csv(kind, by) => {
                ctx.report.identified_by = by;
                ctx.csv(&dest, kind, sinks, &mut steps)?
            }
            Format::Json(hints, declared) => ctx.json(&dest, sinks, hints, declared)?,
        }
        if matches!(format, Format::Csv(CsvKind::AuthDetails, _)) {
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
#[derive(Debug, Clone, Copy)]
enum Format {
    Csv(CsvKind, IdentifiedBy),
    /// JSON records are told apart one by one; `--as` is checked on the first.
    Json(JsonHints, Option<Variant>),
}

impl Format {
    fn describe(&self) -> String {
        match self {
            Format::Csv(k, _) => k.variant().name().into(),
            Format::Json(..) => "JSON".into(),
        }
    }
}

/// Windows PowerShell 5.1's `ConvertTo-Json` puts two spaces after a key's colon.
fn powershell_layout(head: &[u8]) -> bool {
    head.windows(4).take(64 * 1024).any(|w| w == b"\":  ")
}

fn sniff(
    original: &Path,
    path: &Path,
    declared: Option<Variant>,
) -> Result<(decode::Encoding, Format), ImportError> {
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
    let name = file_name(original);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(ImportError::Empty {
            file: original.to_path_buf(),
        }),
        Some(b'[' | b'{') => {
            let hints = JsonHints {
                tool: variant::tool_hint(&name),
                powershell: powershell_layout(head),
            };
            Ok((encoding, Format::Json(hints, declared)))
        }
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
            let detected = detect::csv_kind(&rows.header, &name);
            csv_format(original, &name, detected, declared).map(|f| (encoding, f))
        }
    }
}

/// The CSV format from detection and the operator's `--as`, which may only
/// choose within the family the content belongs to.
fn csv_format(
    original: &Path,
    name: &str,
    detected: Result<CsvKind, Refusal>,
    declared: Option<Variant>,
) -> Result<Format, ImportError> {
    let file = original.to_path_buf();
    match (detected, declared) {
        (Ok(kind), None) => {
            let named = match kind {
                CsvKind::Signin { source, .. } => detect::name_hint(name) == Some(source),
                _ => variant::tool_hint(name).is_some(),
            };
            let shared = kind.variant().family() != variant::Family::Own(kind.variant());
            let by = if shared && named {
                IdentifiedBy::FileName
            } else {
                IdentifiedBy::Content
            };
            Ok(Format::Csv(kind, by))
        }
        (Ok(kind), Some(v)) if v.family() == kind.variant().family() => {
            Ok(Format::Csv(kind.as_variant(v), IdentifiedBy::Operator))
        }
        (Ok(kind), Some(v)) => Err(ImportError::Declared {
            file,
            declared: v,
            found: kind.variant().name().into(),
        }),
        (Err(Refusal::Ambiguous(kind, why)), declared) => match declared {
            Some(v) if v.family() == kind.variant().family() => {
                Ok(Format::Csv(kind.as_variant(v), IdentifiedBy::Operator))
            }
            Some(v) => Err(ImportError::Declared {
                file,
                declared: v,
                found: why,
            }),
            None => Err(ImportError::Unsupported { file, why }),
        },
        (Err(Refusal::Unknown(why)), _) => Err(ImportError::UnknownFormat { file, why }),
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
    Signin(entra_csv::SigninCsv, Source),
    Steps(entra_csv::AuthDetailsCsv),
    Audit(entra_csv::AuditCsv),
    Purview(purview::PurviewCsv),
    /// Log Analytics columns: names without ` [UTC]`, and which are datetimes.
    LogAnalytics(Vec<(String, bool)>),
    Simple(CsvKind),
}

/// What one row gave.
enum Out {
    Record(Source, Value),
    /// An AuthDetails step (its sign-in's Request ID), kept for its sign-in.
    Step(String, Value),
    /// A row of a table without an evidence source.
    NotImported(String),
}

impl Conv {
    fn new(kind: CsvKind, h: &csvread::Header) -> Self {
        match kind {
            CsvKind::Signin { source, .. } => Conv::Signin(entra_csv::SigninCsv::new(h), source),
            CsvKind::AuthDetails => Conv::Steps(entra_csv::AuthDetailsCsv::new(h)),
            CsvKind::Audit => Conv::Audit(entra_csv::AuditCsv::new(h)),
            CsvKind::Purview(..) => Conv::Purview(purview::PurviewCsv::new(h)),
            CsvKind::LogAnalytics => Conv::LogAnalytics(
                h.names
                    .iter()
                    .map(|n| match n.strip_suffix(" [UTC]") {
                        Some(base) => (base.trim().to_string(), true),
                        None => (n.clone(), false),
                    })
                    .collect(),
            ),
            other => Conv::Simple(other),
        }
    }

    fn convert(
        &self,
        h: &csvread::Header,
        row: &csv::StringRecord,
        line: u64,
        flags: &mut Vec<AmbiguousDate>,
    ) -> Result<Out, BadRow> {
        let one =
            |kind: CsvKind, v: Value| Out::Record(kind.source().expect("single-source kinds"), v);
        match self {
            Conv::Signin(c, source) => c
                .convert(h, row, line, flags)
                .map(|v| Out::Record(*source, v)),
            Conv::Steps(c) => c
                .convert(h, row, line, flags)
                .map(|(id, step)| Out::Step(id, step)),
            Conv::Audit(c) => c
                .convert(h, row, line, flags)
                .map(|v| Out::Record(Source::EntraAudit, v)),
            Conv::Purview(c) => c
                .convert(h, row, line)
                .map(|v| Out::Record(Source::PurviewAudit, v)),
            Conv::LogAnalytics(cols) => log_analytics_row(cols, row, line),
            Conv::Simple(kind) => Ok(match kind {
                CsvKind::InboxRule(_) => one(*kind, exchange::rule(peers::row_map(h, row, true))),
                CsvKind::Mailbox(_) => one(*kind, Value::Object(peers::row_map(h, row, true))),
                CsvKind::UalGraph => one(*kind, peers::ual_graph_row(h, row, line)?),
                CsvKind::GraphRule => one(*kind, peers::graph_rule_row(h, row)),
                CsvKind::Consent(_) => {
                    let (source, v) = peers::consent_row(h, row);
                    Out::Record(source, v)
                }
                CsvKind::MfaMethods => one(*kind, peers::mfa_summary_row(h, row)),
                CsvKind::MfaRegistration => one(*kind, peers::registration_row(h, row)),
                CsvKind::FlatUal(_) => one(*kind, peers::flat_ual_row(h, row, line, flags)?),
                _ => unreachable!("kinds with their own converter"),
            }),
        }
    }
}

/// A Log Analytics CSV row as the same `column -> value` map the JSON export
/// has (datetimes as ISO 8601 UTC, empty cells left out), then routed.
fn log_analytics_row(
    cols: &[(String, bool)],
    row: &csv::StringRecord,
    line: u64,
) -> Result<Out, BadRow> {
    let mut m = Map::with_capacity(cols.len());
    for (i, (name, datetime)) in cols.iter().enumerate() {
        let text = &row[i];
        if text.is_empty() {
            continue;
        }
        let v = if *datetime {
            match dates::read_la_date(text) {
                dates::DateCell::Utc(t) => t,
                _ => {
                    return Err(BadRow::new(
                        Position::field(line, i as u64 + 1, &format!("{name} [UTC]")),
                        format!(
                        "{text:?} is not a Log Analytics date and time (M/D/YYYY, h:mm:ss.fff AM)"
                    ),
                    ))
                }
            }
        } else {
            text.to_string()
        };
        m.insert(name.clone(), Value::String(v));
    }
    let Some(table) = monitor::table(&m) else {
        let t = m.get("Type").and_then(Value::as_str).unwrap_or("unknown");
        return Ok(Out::NotImported(format!("Log Analytics table {t}")));
    };
    match detect::log_analytics(table, m) {
        Routed::To(source, v) => Ok(Out::Record(source, v)),
        Routed::NotImported(what) => Ok(Out::NotImported(what)),
        Routed::Bad(why) => Err(BadRow::new(Position::line(line), why)),
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
        self.report.variant = variant_text(kind.variant(), kind.detail());
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
        let mut table: Option<String> = None;
        let join = matches!(kind, CsvKind::Signin { .. }) && !steps.is_empty();
        // Parsing and mapping run on their own thread, a batch of rows ahead of
        // this one, which de-duplicates and writes: two cores busy.
        std::thread::scope(|scope| -> Result<(), ImportError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(4);
            let (h, conv, kind) = (&h, &conv, kind);
            let producer = scope.spawn(move || {
                let mut batch = Vec::with_capacity(BATCH_ROWS);
                let mut flags = Vec::new();
                let mut table = None;
                loop {
                    let item = match rows.next_row() {
                        Ok(Some(line)) => {
                            let row = rows.row();
                            if kind == CsvKind::LogAnalytics && table.is_none() {
                                table = la_table_name(h, row);
                            }
                            let out = conv.convert(h, row, line, &mut flags);
                            Parsed::Row(line, out, std::mem::take(&mut flags))
                        }
                        Ok(None) => break,
                        Err(RowIssue::Io(e)) => Parsed::Stop(RowIssue::Io(e), rows.line() + 1),
                        Err(issue) => Parsed::Stop(issue, 0),
                    };
                    let stop = matches!(
                        &item,
                        Parsed::Stop(RowIssue::Fatal(..) | RowIssue::Io(_), _)
                    );
                    batch.push(item);
                    if stop || batch.len() == BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        let gone = tx.send(full).is_err();
                        if gone || stop {
                            return table;
                        }
                    }
                }
                let _ = tx.send(batch);
                table
            });
            for batch in rx {
                for item in batch {
                    self.take(item, sinks, steps, join)?;
                }
            }
            table = producer.join().expect("the parser does not panic");
            Ok(())
        })?;
        if let Some(t) = table {
            self.report.variant = format!("{}/{t}", self.report.variant);
        }
        self.no_source_for_all_rows()
    }

    /// One parsed row (or the reason reading stopped), in file order.
    fn take(
        &mut self,
        item: Parsed,
        sinks: &mut Sinks,
        steps: &mut HashMap<String, Vec<Value>>,
        join: bool,
    ) -> Result<(), ImportError> {
        let (line, converted, mut flags) = match item {
            Parsed::Row(line, out, flags) => (line, out, flags),
            Parsed::Stop(RowIssue::Bad(b), _) => {
                self.report.rows += 1;
                return self.bad(b);
            }
            Parsed::Stop(RowIssue::Fatal(at, reason), _) => return Err(self.broken(at, reason)),
            Parsed::Stop(RowIssue::Io(e), line) => return Err(self.read_err(e, line)),
        };
        self.report.rows += 1;
        self.flag(&mut flags);
        match converted {
            Ok(Out::Record(source, mut record)) => {
                if join {
                    let id = record.get("id").and_then(Value::as_str).map(String::from);
                    if let Some(s) = id.and_then(|id| steps.remove(&id)) {
                        record["authenticationDetails"] = Value::Array(s);
                    }
                }
                self.report.primary.get_or_insert(source);
                sinks.put(source, self.index, line, &record)?;
            }
            Ok(Out::Step(id, step)) => steps.entry(id).or_default().push(step),
            Ok(Out::NotImported(what)) => {
                *self.report.not_imported.entry(what).or_default() += 1;
            }
            Err(b) => self.bad(b)?,
        }
        Ok(())
    }

    /// A file none of whose rows has an evidence source fails: nothing of it
    /// would be in the evidence files but the original copy.
    fn no_source_for_all_rows(&mut self) -> Result<(), ImportError> {
        for (what, n) in &self.report.not_imported {
            tracing::warn!("{}: {n} record(s) of {what} have no evidence source and were not imported (the file itself is kept)", self.file.display());
        }
        if self.report.primary.is_none() && !self.report.not_imported.is_empty() {
            let what: Vec<&str> = self
                .report
                .not_imported
                .keys()
                .map(String::as_str)
                .collect();
            return Err(ImportError::Unsupported {
                file: self.file.clone(),
                why: format!(
                    "it holds only {} records, which m365-preserve has no evidence source for; seal the file as it is with `m365-preserve seal`",
                    what.join(", ")
                ),
            });
        }
        Ok(())
    }

    fn json(
        &mut self,
        path: &Path,
        sinks: &mut Sinks,
        hints: JsonHints,
        declared: Option<Variant>,
    ) -> Result<(), ImportError> {
        let (_, reader) = decode::open(path).map_err(|e| self.read_err(e, 1))?;
        let hint = detect::name_hint(&file_name(&self.file));
        let mut first: Option<JsonKind> = None;
        let mut detail: Option<&'static str> = None;
        let mut container = None;
        // Parsing and mapping run a batch of records ahead on their own thread.
        std::thread::scope(|scope| -> Result<(), ImportError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<JsonItem>>(4);
            let producer = scope.spawn(move || {
                let mut records = JsonRecords::new(reader);
                let mut batch = Vec::with_capacity(BATCH_ROWS);
                loop {
                    let item = match records.next_record() {
                        Ok(Some((at, Value::Object(map)))) => match detect::json_kind(&map) {
                            Some(kind) => {
                                let table = match kind {
                                    JsonKind::LogAnalytics(t) => Some(t.name(&map)),
                                    _ => None,
                                };
                                let routed = detect::route(kind, map, hint, hints);
                                JsonItem::Record(at, kind, routed, table, records.container())
                            }
                            None => JsonItem::Unknown(at, map.keys().take(8).cloned().collect()),
                        },
                        Ok(Some((at, _))) => JsonItem::NotObject(at),
                        Ok(None) => break,
                        Err(issue) => JsonItem::Issue(issue),
                    };
                    let stop = matches!(
                        &item,
                        JsonItem::Issue(JsonIssue::Fatal(..) | JsonIssue::Io(_))
                    );
                    batch.push(item);
                    if stop || batch.len() == BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        let gone = tx.send(full).is_err();
                        if gone || stop {
                            return records.container();
                        }
                    }
                }
                let _ = tx.send(batch);
                records.container()
            });
            for batch in rx {
                for item in batch {
                    let (at, kind, routed) = match item {
                        JsonItem::Record(at, kind, routed, table, c) => {
                            if first.is_none() {
                                self.first_json_record(kind, c, hints, declared)?;
                                detail = table;
                            }
                            (at, kind, routed)
                        }
                        JsonItem::Unknown(at, keys) => {
                            self.report.rows += 1;
                            if first.is_none() {
                                return Err(ImportError::UnknownFormat {
                                    file: self.file.clone(),
                                    why: format!(
                                        "JSON whose first record ({at}) has the keys {keys:?}"
                                    ),
                                });
                            }
                            self.bad(BadRow::new(
                                at,
                                format!("a record of an unknown kind (keys {keys:?})"),
                            ))?;
                            continue;
                        }
                        JsonItem::NotObject(at) => {
                            self.report.rows += 1;
                            self.bad(BadRow::new(at, "a record that is not a JSON object"))?;
                            continue;
                        }
                        JsonItem::Issue(JsonIssue::Bad(at, reason)) => {
                            self.report.rows += 1;
                            self.bad(BadRow::new(at, reason))?;
                            continue;
                        }
                        JsonItem::Issue(JsonIssue::Fatal(at, reason)) => {
                            return Err(self.broken(at, reason))
                        }
                        JsonItem::Issue(JsonIssue::Io(e)) => return Err(self.read_err(e, 0)),
                    };
                    self.report.rows += 1;
                    first.get_or_insert(kind);
                    match routed {
                        Routed::To(source, record) => {
                            self.report.primary.get_or_insert(source);
                            sinks.put(source, self.index, at.line, &record)?;
                        }
                        Routed::NotImported(category) => {
                            *self.report.not_imported.entry(category).or_default() += 1;
                        }
                        Routed::Bad(why) => self.bad(BadRow::new(at, why))?,
                    }
                }
            }
            container = producer.join().expect("the parser does not panic");
            Ok(())
        })?;
        self.report.container = container.map(|c| c.name().to_string());
        self.report.variant = match (first, declared) {
            (Some(_), Some(v)) => variant_text(v, detail),
            (Some(k), None) => variant_text(k.variant(container, hints), detail),
            (None, _) => "json/no-records".into(),
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
        self.no_source_for_all_rows()
    }

    /// Checks the operator's `--as` against the first record's kind.
    fn first_json_record(
        &mut self,
        kind: JsonKind,
        container: Option<jsonread::Container>,
        hints: JsonHints,
        declared: Option<Variant>,
    ) -> Result<(), ImportError> {
        let found = kind.variant(container, hints);
        self.report.identified_by = match declared {
            None if found.family() != variant::Family::Own(found) && hints.tool.is_some() => {
                IdentifiedBy::FileName
            }
            None => IdentifiedBy::Content,
            Some(v) if v.family() == found.family() => IdentifiedBy::Operator,
            Some(v) => {
                return Err(ImportError::Declared {
                    file: self.file.clone(),
                    declared: v,
                    found: found.name().into(),
                })
            }
        };
        Ok(())
    }
}

/// Rows handed from the parsing thread to the writing one at a time.
const BATCH_ROWS: usize = 256;

/// What the JSON parsing thread found, in file order.
enum JsonItem {
    Record(
        Position,
        JsonKind,
        Routed,
        Option<&'static str>,
        Option<jsonread::Container>,
    ),
    /// A record of no known kind, with its first keys.
    Unknown(Position, Vec<String>),
    NotObject(Position),
    Issue(JsonIssue),
}

/// What the parsing thread found, in file order.
enum Parsed {
    Row(u64, Result<Out, BadRow>, Vec<AmbiguousDate>),
    /// A row that cannot be read, or the end of reading (with the line for I/O errors).
    Stop(RowIssue, u64),
}

/// A variant's manifest text with its detail (`.../current`, a table name).
fn variant_text(v: Variant, detail: Option<&str>) -> String {
    match detail {
        Some(d) => format!("{}/{d}", v.name()),
        None => v.name().to_string(),
    }
}

/// The table a Log Analytics CSV row names in its `Type` column.
fn la_table_name(h: &csvread::Header, row: &csv::StringRecord) -> Option<String> {
    h.find("type")
        .map(|i| row[i].trim().to_string())
        .filter(|t| !t.is_empty())
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
                "encoding": r.encoding, "variant": r.variant, "identified_by": r.identified_by,
                "rows": r.rows,
                "records": r.records.get(&source).copied().unwrap_or(0),
                "duplicates": r.duplicates, "id_conflicts": r.id_conflicts,
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
            // A skipped row's source is not known: every source its file feeds
            // may have lost it, so each is partial and lists it.
            {
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
                "identified_by": r.identified_by,
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
