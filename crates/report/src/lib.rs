//! The triage report for the first responder: from the evidence of one
//! package, findings per checklist item (what to look at and remove, each
//! resting on evidence records), the checklist in the order an administrator
//! works, which rules could not run and why, a Timesketch timeline, and the
//! HTML report in Japanese and English.
//!
//! The report is derived data: the same evidence gives a byte-identical
//! `findings.json`. Findings say "review"; they never claim certainty.

mod context;
mod evidence;
mod facts;
mod finding;
mod html;
pub mod i18n;
pub mod interview;
mod rules;
mod timeline;
mod values;

pub use finding::{Category, EvidenceRef, Finding, Item, Severity};
pub use i18n::{Lang, Text};

use context::Context;
use evidence::Evidence;
use facts::Facts;
use finding::Draft;
use m365_preserve_package::evidence::SourceStatus;
use m365_preserve_sources::Source;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use timeline::Timeline;

/// The format of `findings.json`.
pub const FINDINGS_FORMAT: &str = "m365-preserve-findings/1";

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid document: {why}")]
    Document { path: PathBuf, why: String },
    #[error("{path} line {line} is not a JSON record: {why}")]
    Corrupt {
        path: PathBuf,
        line: u64,
        why: String,
    },
    #[error(
        "{0} holds no evidence (no evidence/ folder): give a work folder or an opened package"
    )]
    NotEvidence(PathBuf),
    #[error("interview {path}: {why}; fix the file (m365-preserve interview --template shows the format)")]
    Interview {
        path: PathBuf,
        why: interview::InterviewError,
    },
}

impl ReportError {
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        ReportError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        ReportError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How far a checklist item got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// Findings to review.
    CandidatesFound,
    /// The rules ran and found nothing.
    NothingFound,
    /// Some rules could not run (see the reasons).
    NotChecked,
    /// A step for the administrator; the report has nothing to check.
    ToDo,
    /// Done (the interview is recorded; the evidence is sealed).
    Done,
}

/// One checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistEntry {
    pub item: Item,
    pub status: ItemStatus,
    pub title: Text,
    pub what_to_do: Text,
    /// The findings of the item, by id.
    pub findings: Vec<String>,
    /// Why parts of it could not be checked.
    pub not_checked: Vec<Text>,
}

/// A rule that could not run.
#[derive(Debug, Clone, Serialize)]
pub struct NotRun {
    pub rule: &'static str,
    pub category: Category,
    pub why: Text,
}

/// A source's completeness, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub source: String,
    pub status: SourceStatus,
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The whole report (`findings.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub user: String,
    pub findings: Vec<Finding>,
    pub checklist: Vec<ChecklistEntry>,
    pub not_run: Vec<NotRun>,
    pub sources: Vec<SourceRow>,
    /// Addresses the report links to the attacker.
    pub attacker_addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interview: Option<interview::Interview>,
    /// Sign-ins for the timeline chart (not in `findings.json`).
    #[serde(skip)]
    pub chart: html::Chart,
}

/// What the HTML says about the package, when known (the copy beside the
/// package is rendered after sealing; the copy inside cannot hold its own hash).
#[derive(Debug, Clone, Default)]
pub struct PackageInfo {
    pub case_id: String,
    /// The collector's own app id (from its token, or the package's acquisition record).
    pub own_app_id: Option<String>,
    pub ciphertext_sha256: Option<String>,
    pub signer_fingerprint: Option<String>,
}

/// The files `write` produced, relative to the evidence root.
pub const FILES: &[&str] = &[
    "report/findings.json",
    "report/report.ja.html",
    "report/report.en.html",
    "report/timeline.csv",
    "report/timeline.jsonl",
];

/// Reads the evidence under `root` (a work folder or an opened package) and
/// writes `report/` into `out` (normally `root` itself).
pub fn generate(root: &Path, out: &Path, info: &PackageInfo) -> Result<Report, ReportError> {
    let evidence = Evidence::open(root)?;
    let dir = out.join(m365_preserve_package::layout::REPORT_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::write(&dir, e))?;
    let mut timeline = Timeline::create(&dir)?;
    let report = analyse(&evidence, &mut timeline, info)?;
    for f in &report.findings {
        timeline.finding(f);
    }
    timeline.finish()?;
    write_findings(&report, &dir.join("findings.json"))?;
    for lang in Lang::ALL {
        let path = dir.join(format!("report.{}.html", lang.code()));
        write_file(&path, html::render(&report, lang, info).as_bytes())?;
    }
    Ok(report)
}

/// Before sealing a work folder: adds the interview (checked; custody records
/// who answered and when) and writes the report into `report/`.
pub fn prepare(
    workdir: &m365_preserve_package::workdir::WorkDir,
    interview: Option<&Path>,
    by: &str,
    info: &PackageInfo,
) -> Result<Report, ReportError> {
    if let Some(path) = interview {
        let bytes = std::fs::read(path).map_err(|e| ReportError::read(path, e))?;
        let iv = interview::Interview::parse(&bytes).map_err(|why| ReportError::Interview {
            path: path.to_path_buf(),
            why,
        })?;
        let dest = workdir.path(m365_preserve_package::layout::INTERVIEW);
        std::fs::write(&dest, &bytes).map_err(|e| ReportError::write(&dest, e))?;
        let mut ev = m365_preserve_package::custody::CustodyEvent::new(
            m365_preserve_package::custody::CustodyAction::InterviewRecorded,
            by,
        );
        ev.details = Some(serde_json::json!({
            "answered_by": iv.answered_by, "recorded_by": iv.recorded_by,
            "recorded_at": iv.recorded_at, "file": m365_preserve_package::layout::INTERVIEW,
        }));
        m365_preserve_package::custody::append_to_work_log(workdir, vec![ev])
            .map_err(|e| ReportError::write(&workdir.custody_log(), e))?;
    }
    generate(workdir.root(), workdir.root(), info)
}

/// Writes the administrator's copy of the report beside the package, readable
/// by its owner only (it holds personal data).
pub fn write_local(
    report: &Report,
    lang: Lang,
    info: &PackageInfo,
    path: &Path,
) -> Result<(), ReportError> {
    m365_preserve_package::write_private_file(path, render_html(report, lang, info).as_bytes())
        .map_err(|e| match e {
            m365_preserve_package::PackageError::Io { path, source } => {
                ReportError::Write { path, source }
            }
            other => ReportError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other(other.to_string()),
            },
        })
}

/// How many findings of each severity.
pub fn count(report: &Report, severity: Severity) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .count()
}

/// The report of `root` without writing anything (tests, re-rendering).
pub fn analyse_folder(root: &Path, info: &PackageInfo) -> Result<Report, ReportError> {
    analyse(&Evidence::open(root)?, &mut Timeline::none(), info)
}

/// The HTML report in `lang`.
pub fn render_html(report: &Report, lang: Lang, info: &PackageInfo) -> String {
    html::render(report, lang, info)
}

/// `findings.json`, as written.
pub fn findings_json(report: &Report) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(report).expect("the report serialises");
    v.push(b'\n');
    v
}

fn write_findings(report: &Report, path: &Path) -> Result<(), ReportError> {
    write_file(path, &findings_json(report))
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, data).map_err(|e| ReportError::write(path, e))
}

fn analyse(
    evidence: &Evidence,
    timeline: &mut Timeline,
    info: &PackageInfo,
) -> Result<Report, ReportError> {
    let facts = Facts::read(evidence, timeline)?;
    let ctx = Context::build(&facts);
    let target = facts.target();
    let origins: BTreeMap<Source, _> = Source::ALL
        .iter()
        .map(|s| (*s, evidence.origins(*s)))
        .filter(|(_, o)| !o.is_empty())
        .collect();
    let input = rules::Input {
        facts: &facts,
        ctx: &ctx,
        target: &target,
        evidence,
        origins: &origins,
        own_app: info.own_app_id.as_deref().or(evidence.own_app()),
    };
    let mut drafts: Vec<Draft> = Vec::new();
    let mut not_run = Vec::new();
    for rule in rules::all() {
        match missing(evidence, rule.needs) {
            Some(why) => not_run.push(NotRun {
                rule: rule.id,
                category: rule.category,
                why,
            }),
            None => drafts.extend((rule.run)(&input)),
        }
    }
    let findings = number(drafts);
    let checklist = checklist(evidence, &findings, &not_run);
    let mut attacker_addresses: Vec<String> = ctx
        .ips
        .iter()
        .map(|ip| facts.strings.get(*ip).to_string())
        .collect();
    attacker_addresses.sort();
    let sources = evidence
        .summaries()
        .map(|s| SourceRow {
            source: s.source.clone(),
            status: s.status,
            records: s.records,
            reason: s.reason.clone(),
        })
        .collect();
    Ok(Report {
        format: FINDINGS_FORMAT,
        user: target.upn.clone(),
        chart: html::Chart::of(&facts, &ctx, &findings),
        findings,
        checklist,
        not_run,
        sources,
        attacker_addresses,
        interview: evidence.interview(),
    })
}

/// Why a rule needing `needs` cannot run on this evidence, if it cannot.
fn missing(evidence: &Evidence, needs: &[Source]) -> Option<Text> {
    // A rule on sign-ins runs with any of the user sign-in sources.
    let any_of = needs == rules::SIGNINS;
    let problems: Vec<(Source, String)> = needs
        .iter()
        .filter_map(|s| match evidence.summary(*s) {
            None if !evidence.has(*s) => Some((*s, "-".to_string())),
            Some(sum) if matches!(sum.status, SourceStatus::Unavailable | SourceStatus::Failed) => {
                Some((*s, sum.reason.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    let blocked = if any_of {
        problems.len() == needs.len()
    } else {
        !problems.is_empty()
    };
    if !blocked {
        return None;
    }
    let names: Vec<&str> = problems.iter().map(|(s, _)| s.as_str()).collect();
    let reasons: Vec<String> = problems
        .iter()
        .filter(|(_, r)| r != "-")
        .map(|(s, r)| format!("{s}: {}", r.chars().take(160).collect::<String>()))
        .collect();
    Some(i18n::text(
        "not-run",
        &[
            ("sources", names.join(", ")),
            ("reasons", reasons.join("; ")),
        ],
    ))
}

/// Findings in report order, numbered.
fn number(mut drafts: Vec<Draft>) -> Vec<Finding> {
    drafts.sort_by(|a, b| {
        (
            std::cmp::Reverse(a.severity),
            a.category,
            a.first_seen,
            a.rule,
            &a.subject,
        )
            .cmp(&(
                std::cmp::Reverse(b.severity),
                b.category,
                b.first_seen,
                b.rule,
                &b.subject,
            ))
    });
    drafts
        .into_iter()
        .enumerate()
        .map(|(n, d)| {
            let msg = |part: &str| i18n::text(&format!("{}-{part}", d.message), &d.args);
            let mut evidence = d.evidence;
            evidence.dedup();
            Finding {
                id: format!("F-{:03}", n + 1),
                rule: d.rule,
                category: d.category,
                severity: d.severity,
                title: msg("title"),
                explanation: msg("explanation"),
                subject: d.subject,
                first_seen: d.first_seen.map(m365_preserve_package::timefmt::format_utc),
                evidence,
                action: msg("action"),
                attacker_context: d.attacker_context,
            }
        })
        .collect()
}

/// The checklist, each item with its status and findings.
fn checklist(evidence: &Evidence, findings: &[Finding], not_run: &[NotRun]) -> Vec<ChecklistEntry> {
    Item::ALL
        .iter()
        .map(|item| {
            let key = item.key();
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.category.item() == *item)
                .collect();
            let blocked: Vec<Text> = not_run
                .iter()
                .filter(|n| n.category.item() == *item)
                .map(|n| n.why.clone())
                .collect();
            let status = match item {
                Item::Interview if evidence.interview().is_some() => ItemStatus::Done,
                Item::Interview | Item::HandOver => ItemStatus::ToDo,
                Item::Preservation => {
                    if evidence
                        .summaries()
                        .all(|s| s.status == SourceStatus::Complete)
                    {
                        ItemStatus::Done
                    } else {
                        ItemStatus::NotChecked
                    }
                }
                _ if mine.iter().any(|f| f.severity > Severity::Info) => {
                    ItemStatus::CandidatesFound
                }
                _ if !blocked.is_empty() => ItemStatus::NotChecked,
                Item::AppPasswords => ItemStatus::ToDo,
                _ => ItemStatus::NothingFound,
            };
            ChecklistEntry {
                item: *item,
                status,
                title: i18n::text(&format!("item-{key}"), &[]),
                what_to_do: i18n::text(&format!("item-{key}-todo"), &[]),
                findings: mine.iter().map(|f| f.id.clone()).collect(),
                not_checked: blocked,
            }
        })
        .collect()
}
