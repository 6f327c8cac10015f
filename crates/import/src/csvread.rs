//! Streaming CSV rows with positions. Headers are matched by a normalised name
//! (trimmed, inner whitespace collapsed, lower-case) because the portal writes
//! `Application ID ` and `Autonomous system  number`; duplicated names keep their
//! positions. Rows are read one at a time; a row may not grow past a fixed size, so
//! an unbalanced quote cannot swallow the rest of a 1 GiB file into memory.

use super::error::{BadRow, Position};
use std::collections::HashMap;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest cell accepted: portal and Purview cells are far smaller (Excel holds
/// 32,767 characters per cell); a bigger one means broken quoting or a damaged file.
pub const MAX_FIELD_BYTES: usize = 1 << 20;
/// Largest row read before giving up on the file (memory stays bounded).
const MAX_ROW_BYTES: u64 = 16 << 20;

/// A header name as matched: trimmed, whitespace runs collapsed, lower-case.
pub fn norm(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The header row.
#[derive(Debug, Clone)]
pub struct Header {
    /// Names as written, trimmed.
    pub names: Vec<String>,
    /// Normalised names.
    pub keys: Vec<String>,
    first: HashMap<String, usize>,
}

impl Header {
    fn new(raw: &csv::StringRecord) -> Self {
        let names: Vec<String> = raw.iter().map(|s| s.trim().to_string()).collect();
        let keys: Vec<String> = names.iter().map(|n| norm(n)).collect();
        let mut first = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            first.entry(k.clone()).or_insert(i);
        }
        Self { names, keys, first }
    }

    /// Index of the first column with this normalised name.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.first.get(key).copied()
    }

    pub fn has(&self, key: &str) -> bool {
        self.first.contains_key(key)
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// The name used for column `i` outside the Graph mapping: the header as
    /// written, with ` (2)`, ` (3)`... for repeated names.
    pub fn label(&self, i: usize) -> String {
        let n = self.keys[..i]
            .iter()
            .filter(|k| **k == self.keys[i])
            .count();
        if n == 0 {
            self.names[i].clone()
        } else {
            format!("{} ({})", self.names[i], n + 1)
        }
    }
}

/// Why reading stopped or a row was refused.
#[derive(Debug)]
pub enum RowIssue {
    /// This row is bad; the next one can be read.
    Bad(BadRow),
    /// The file cannot be read further.
    Fatal(Position, String),
    Io(io::Error),
}

/// Counts bytes handed to the CSV parser since the current row began.
struct Guarded<R> {
    inner: R,
    used: Arc<AtomicU64>,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.used.load(Ordering::Relaxed) > MAX_ROW_BYTES {
            return Err(io::Error::other(RowTooLarge));
        }
        let n = self.inner.read(buf)?;
        self.used.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[derive(Debug)]
struct RowTooLarge;

impl std::fmt::Display for RowTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row larger than {} MiB", MAX_ROW_BYTES >> 20)
    }
}

impl std::error::Error for RowTooLarge {}

/// A CSV file being read row by row.
pub struct CsvRows {
    reader: csv::Reader<Guarded<Box<dyn BufRead + Send>>>,
    pub header: Header,
    /// Lines before the CSV text (a PowerShell `#TYPE` line).
    skipped_lines: u64,
    used: Arc<AtomicU64>,
    row: csv::StringRecord,
    spare: csv::StringRecord,
    line: u64,
}

/// Removes the CR of a CRLF line end from the last cell.
fn strip_cr(row: &mut csv::StringRecord, spare: &mut csv::StringRecord) {
    let Some(last) = row.iter().next_back() else {
        return;
    };
    if !last.ends_with('\r') {
        return;
    }
    spare.clear();
    let n = row.len();
    for (i, f) in row.iter().enumerate() {
        spare.push_field(if i + 1 == n { &f[..f.len() - 1] } else { f });
    }
    std::mem::swap(row, spare);
}

impl CsvRows {
    /// Reads the header (after an optional PowerShell `#TYPE ...` line).
    /// `Ok(None)`: no header at all.
    pub fn open(mut input: Box<dyn BufRead + Send>) -> Result<Option<Self>, RowIssue> {
        let mut skipped_lines = 0;
        if input
            .fill_buf()
            .map_err(RowIssue::Io)?
            .starts_with(b"#TYPE")
        {
            let mut first = Vec::new();
            input.read_until(b'\n', &mut first).map_err(RowIssue::Io)?;
            skipped_lines = 1;
        }
        let used = Arc::new(AtomicU64::new(0));
        // Rows end at LF only, so the line a row starts on is counted exactly
        // for CRLF files too; the CR left at a row's end is removed below.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(Guarded {
                inner: input,
                used: used.clone(),
            });
        let mut raw = csv::StringRecord::new();
        match reader.read_record(&mut raw) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => return Err(issue(e, skipped_lines, None)),
        }
        used.store(0, Ordering::Relaxed);
        strip_cr(&mut raw, &mut csv::StringRecord::new());
        Ok(Some(Self {
            reader,
            header: Header::new(&raw),
            skipped_lines,
            used,
            row: csv::StringRecord::new(),
            spare: csv::StringRecord::new(),
            line: skipped_lines + 1,
        }))
    }

    /// Advances to the next row; returns its first line, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<u64>, RowIssue> {
        let line = loop {
            self.used.store(0, Ordering::Relaxed);
            let more = self
                .reader
                .read_record(&mut self.row)
                .map_err(|e| issue(e, self.skipped_lines, Some(&self.header)))?;
            if !more {
                return Ok(None);
            }
            let line = self.row.position().map_or(0, |p| p.line()) + self.skipped_lines;
            strip_cr(&mut self.row, &mut self.spare);
            // A blank CRLF line is a row of one empty cell: not a row.
            if !(self.row.len() == 1 && self.row[0].is_empty()) {
                break line;
            }
        };
        self.line = line;
        if self.row.len() != self.header.width() {
            return Err(RowIssue::Bad(BadRow::new(
                Position::line(line),
                format!(
                    "the row has {} fields but the header has {}: a quote is missing or unbalanced (broken quoting), or the row is cut short",
                    self.row.len(),
                    self.header.width()
                ),
            )));
        }
        if let Some((i, f)) = self
            .row
            .iter()
            .enumerate()
            .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
        {
            return Err(RowIssue::Bad(BadRow::new(
                Position::field(line, i as u64 + 1, &self.header.names[i]),
                format!(
                    "the cell holds {:.1} MB, more than the {} MiB a portal export cell can hold (unbalanced quotes?)",
                    f.len() as f64 / 1e6,
                    MAX_FIELD_BYTES >> 20
                ),
            )));
        }
        Ok(Some(line))
    }

    /// The current row (valid after `next_row` returned a line).
    pub fn row(&self) -> &csv::StringRecord {
        &self.row
    }

    /// The current row's first line.
    pub fn line(&self) -> u64 {
        self.line
    }
}

fn issue(e: csv::Error, skipped: u64, header: Option<&Header>) -> RowIssue {
    let line = e.position().map_or(0, |p| p.line()) + skipped;
    match e.into_kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let field = err.field();
            let at = match header.and_then(|h| h.names.get(field)) {
                Some(name) => Position::field(line, field as u64 + 1, name),
                None => Position::at(line, field as u64 + 1),
            };
            RowIssue::Bad(BadRow::new(
                at,
                format!(
                    "invalid UTF-8 after byte {} of the cell: the file is not UTF-8 or UTF-16 text (save it again as \"CSV UTF-8\")",
                    err.valid_up_to()
                ),
            ))
        }
        csv::ErrorKind::Io(io) => {
            if io.get_ref().is_some_and(|inner| inner.is::<RowTooLarge>()) {
                RowIssue::Fatal(
                    Position::line(line.max(1)),
                    format!(
                        "a row grows past {} MiB: a quote is never closed (broken quoting)",
                        MAX_ROW_BYTES >> 20
                    ),
                )
            } else {
                RowIssue::Io(io)
            }
        }
        other => RowIssue::Fatal(Position::line(line.max(1)), format!("{other:?}")),
    }
}
