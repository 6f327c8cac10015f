//! Custody logs: one canonical JSON object per line, each carrying the SHA-256 of
//! the previous line (the first: of the seal, or 64 zeros inside the package).
//! Lines outside the package are also SSH-signed by whoever recorded them.

use super::canonical::canonical_json;
use super::signing::{self, SigningKey, CUSTODY_NAMESPACE};
use crate::hashing::sha256_hex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `prev` of the first line of the collection-time log inside the package.
pub const INNER_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a custody event records. Hand-over actions are recorded outside the
/// package, in `CASE_….custody.jsonl`; collection-time actions inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CustodyAction {
    /// The package was sealed (the first line outside the package).
    Sealed,
    Transferred,
    Received,
    Verified,
    Opened,
    Copied,
    Disposed,
    CollectionStarted,
    CollectionInterrupted,
    CollectionResumed,
    CollectionFinished,
    EvidenceImported,
    InterviewRecorded,
    SealingStarted,
    EvidenceSealed,
    /// An action of a later version of the tool.
    #[serde(other)]
    Unknown,
}

impl CustodyAction {
    /// The actions a person records by hand (`custody record --action`).
    pub const HANDOVER: &'static [CustodyAction] = &[
        CustodyAction::Transferred,
        CustodyAction::Received,
        CustodyAction::Verified,
        CustodyAction::Opened,
        CustodyAction::Copied,
        CustodyAction::Disposed,
    ];

    /// The name written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyAction::Sealed => "sealed",
            CustodyAction::Transferred => "transferred",
            CustodyAction::Received => "received",
            CustodyAction::Verified => "verified",
            CustodyAction::Opened => "opened",
            CustodyAction::Copied => "copied",
            CustodyAction::Disposed => "disposed",
            CustodyAction::CollectionStarted => "collection-started",
            CustodyAction::CollectionInterrupted => "collection-interrupted",
            CustodyAction::CollectionResumed => "collection-resumed",
            CustodyAction::CollectionFinished => "collection-finished",
            CustodyAction::EvidenceImported => "evidence-imported",
            CustodyAction::InterviewRecorded => "interview-recorded",
            CustodyAction::SealingStarted => "sealing-started",
            CustodyAction::EvidenceSealed => "evidence-sealed",
            CustodyAction::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for CustodyAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One custody event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustodyEvent {
    pub seq: u64,
    pub time: String,
    pub action: CustodyAction,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The ciphertext SHA-256 this actor computed when recording the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches_seal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    pub prev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl CustodyEvent {
    /// A new unsigned, unchained event (seq and prev are set when it is appended).
    pub fn new(action: CustodyAction, by: &str) -> Self {
        Self {
            seq: 0,
            time: crate::timefmt::now_rfc3339(),
            action,
            by: by.into(),
            to: None,
            method: None,
            note: None,
            host: None,
            ciphertext_sha256: None,
            matches_seal: None,
            details: None,
            prev: String::new(),
            signer: None,
            signer_fingerprint: None,
            sig: None,
        }
    }
}

fn to_line(event: &CustodyEvent) -> String {
    canonical_json(&serde_json::to_value(event).expect("custody event serialises"))
}

/// Appends `event` after `last_line` (or `genesis`), signing it when a key is given.
/// Returns the new line without its newline.
pub fn chain_line(
    mut event: CustodyEvent,
    seq: u64,
    prev_line: Option<&str>,
    genesis: &str,
    key: Option<&SigningKey>,
) -> String {
    event.seq = seq;
    event.prev = prev_line.map_or_else(|| genesis.to_string(), |l| sha256_hex(l.as_bytes()));
    event.sig = None;
    event.signer = None;
    event.signer_fingerprint = None;
    if let Some(key) = key {
        event.signer = Some(key.public_openssh());
        event.signer_fingerprint = Some(key.fingerprint());
        let body = to_line(&event);
        event.sig = Some(key.sign(CUSTODY_NAMESPACE, body.as_bytes()));
    }
    to_line(&event)
}

/// Appends unsigned events to an existing (checked) JSONL log, continuing its chain.
pub fn append_events(existing: &str, events: Vec<CustodyEvent>, genesis: &str) -> String {
    let mut out = existing.to_string();
    let mut prev: Option<String> = existing.lines().last().map(String::from);
    let first_seq = existing.lines().count() as u64 + 1;
    for (i, ev) in events.into_iter().enumerate() {
        let line = chain_line(ev, first_seq + i as u64, prev.as_deref(), genesis, None);
        out.push_str(&line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

/// A custody log found broken when appending to it: nothing was appended.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the custody log is broken at line {}: {}; nothing was appended", .0.line, .0.problem)]
pub struct ChainBroken(pub ChainProblem);

/// Appends to the custody log at `path` as one atomic step among any number of
/// writers (people recording receipt on a shared drive at the same moment, a
/// script): under an exclusive lock on the file, the log is re-read and checked
/// with `check`, `make` builds the text to append from the checked log, and the
/// text is written and synced before the lock is released. A broken log is
/// refused (an [`std::io::ErrorKind::InvalidData`] error holding [`ChainBroken`]),
/// naming its first bad line. Returns what was appended.
pub fn append_locked(
    path: &std::path::Path,
    create: bool,
    check: impl FnOnce(&str) -> ChainReport,
    make: impl FnOnce(&str, &ChainReport) -> String,
) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(create)
        .open(path)?;
    // Released when `f` is closed, after the sync below.
    f.lock()?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let report = check(&text);
    if let Some(first) = report.problems.first() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            ChainBroken(first.clone()),
        ));
    }
    let added = make(&text, &report);
    f.write_all(added.as_bytes())?;
    f.sync_all()?;
    Ok(added)
}

/// Appends unsigned collection-time events to the work folder's log
/// (`<workdir>/custody.jsonl`, inside the package once sealed), continuing its
/// chain under the log's lock.
pub fn append_to_work_log(
    workdir: &crate::workdir::WorkDir,
    events: Vec<CustodyEvent>,
) -> std::io::Result<()> {
    let check = |text: &str| {
        let mut report = check_chain(text, INNER_GENESIS, false, None);
        if text.is_empty() {
            report.problems.clear();
        }
        report
    };
    append_locked(&workdir.custody_log(), true, check, |text, _| {
        append_events(text, events, INNER_GENESIS)[text.len()..].to_string()
    })?;
    Ok(())
}

/// A problem found at a line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub line: usize,
    pub problem: String,
}

/// The result of checking a custody log.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub events: Vec<CustodyEvent>,
    pub problems: Vec<ChainProblem>,
}

/// Checks a custody log: parse, sequence, `prev` links, signatures (when
/// `signed`), and that every observed ciphertext hash equals `sealed_sha256`.
pub fn check_chain(
    text: &str,
    genesis: &str,
    signed: bool,
    sealed_sha256: Option<&str>,
) -> ChainReport {
    let mut events = Vec::new();
    let mut problems = Vec::new();
    if !text.is_empty() && !text.ends_with('\n') {
        problems.push(ChainProblem {
            line: text.lines().count(),
            problem: "the last line is incomplete (truncated log?)".into(),
        });
    }
    let mut prev_line: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let expected_prev =
            prev_line.map_or_else(|| genesis.to_string(), |l| sha256_hex(l.as_bytes()));
        prev_line = Some(line);
        let mut found = Vec::new();
        if let Some(event) = check_line(line, n, &expected_prev, signed, sealed_sha256, &mut found)
        {
            events.push(event);
        }
        problems.extend(
            found
                .into_iter()
                .map(|problem| ChainProblem { line: n, problem }),
        );
    }
    if text.lines().next().is_none() {
        problems.push(ChainProblem {
            line: 0,
            problem: "the custody log is empty".into(),
        });
    }
    ChainReport { events, problems }
}

/// Checks line `n`; its event, when it is one.
fn check_line(
    line: &str,
    n: usize,
    expected_prev: &str,
    signed: bool,
    sealed_sha256: Option<&str>,
    problems: &mut Vec<String>,
) -> Option<CustodyEvent> {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("not valid JSON: {e}"));
            return None;
        }
    };
    let event: CustodyEvent = match serde_json::from_value(value.clone()) {
        Ok(ev) => ev,
        Err(e) => {
            problems.push(format!("not a custody event: {e}"));
            return None;
        }
    };
    if canonical_json(&value) != line {
        problems.push("the line is not in canonical form (edited by hand?)".into());
    }
    if event.seq != n as u64 {
        problems.push(format!("sequence number is {}, expected {n}", event.seq));
    }
    if event.prev != expected_prev {
        problems.push("its hash of the previous line does not match: a line before it was edited, removed or inserted".into());
    }
    if signed {
        check_signature(&value, &event, problems);
    }
    if let (Some(expected), Some(observed)) = (sealed_sha256, &event.ciphertext_sha256) {
        if observed != expected {
            problems.push(format!(
                "{} observed ciphertext SHA-256 {observed}, but the seal says {expected}",
                event.by
            ));
        }
    }
    Some(event)
}

/// The line's SSH signature, over the line without `sig`, by the key it names.
fn check_signature(value: &Value, event: &CustodyEvent, problems: &mut Vec<String>) {
    let (Some(signer), Some(sig)) = (&event.signer, &event.sig) else {
        problems.push("the line is not signed".into());
        return;
    };
    let mut unsigned = value.clone();
    if let Value::Object(map) = &mut unsigned {
        map.remove("sig");
    }
    let body = canonical_json(&unsigned);
    if let Err(e) = signing::verify(signer, CUSTODY_NAMESPACE, body.as_bytes(), sig) {
        problems.push(format!("{e}: this line was edited after it was signed"));
    }
    if let (Some(fp), Ok(actual)) = (&event.signer_fingerprint, signing::fingerprint_of(signer)) {
        if *fp != actual {
            problems.push("signer fingerprint does not match the signer key".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(key: &SigningKey) -> String {
        let mut text = String::new();
        let mut prev: Option<String> = None;
        for (i, action) in [
            CustodyAction::Sealed,
            CustodyAction::Transferred,
            CustodyAction::Received,
        ]
        .into_iter()
        .enumerate()
        {
            let mut ev = CustodyEvent::new(action, "Examiner 山田");
            ev.ciphertext_sha256 = Some("ab".repeat(32));
            let line = chain_line(ev, i as u64 + 1, prev.as_deref(), "g", Some(key));
            text.push_str(&line);
            text.push('\n');
            prev = Some(line);
        }
        text
    }

    #[test]
    fn actions_round_trip_and_later_ones_are_kept_apart() {
        for a in CustodyAction::HANDOVER {
            let v = serde_json::to_value(a).unwrap();
            assert_eq!(v, a.as_str());
            assert_eq!(serde_json::from_value::<CustodyAction>(v).unwrap(), *a);
        }
        assert_eq!(
            serde_json::from_str::<CustodyAction>("\"archived\"").unwrap(),
            CustodyAction::Unknown
        );
    }

    #[test]
    fn intact_chain_passes() {
        let key = SigningKey::generate();
        let r = check_chain(&log(&key), "g", true, Some(&"ab".repeat(32)));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.events.len(), 3);
    }

    #[test]
    fn edited_line_is_reported_at_that_line() {
        let key = SigningKey::generate();
        let text = log(&key).replacen("transferred", "disposed", 1);
        let r = check_chain(&text, "g", true, None);
        assert_eq!(r.problems[0].line, 2, "{:?}", r.problems);
        assert!(r.problems[0].problem.contains("edited"));
        assert!(r
            .problems
            .iter()
            .any(|p| p.line == 3 && p.problem.contains("previous line")));
    }

    #[test]
    fn removed_line_and_wrong_hash_are_reported() {
        let key = SigningKey::generate();
        let text = log(&key);
        let without_second: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let r = check_chain(&without_second, "g", true, None);
        assert!(r.problems.iter().any(|p| p.line == 2));
        let r = check_chain(&text, "g", true, Some(&"cd".repeat(32)));
        assert_eq!(r.problems.len(), 3);
    }
}
