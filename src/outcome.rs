//! What the administrator reads when a sealing command ends: the table of
//! sources (stderr), then the package and one sentence per gap with the
//! command that fetches it (stdout), in their language.

use crate::commands::print_json;
use anyhow::Result;
use m365_preserve_collect::job::FetchLater;
use m365_preserve_package::evidence::{SourceStatus, SourceSummary};
use m365_preserve_package::seal::{Completeness, Sealed};
use m365_preserve_report::i18n::tr;
use m365_preserve_report::Lang;
use serde_json::json;
use std::path::Path;
use unicode_width::UnicodeWidthStr;

fn status_word(lang: Lang, status: SourceStatus) -> String {
    let id = match status {
        SourceStatus::Complete => "console-status-complete",
        SourceStatus::Partial => "console-status-partial",
        SourceStatus::Unavailable => "console-status-unavailable",
        SourceStatus::Failed => "console-status-failed",
    };
    tr(lang, id, &[])
}

/// `text` padded to `width` terminal columns (Japanese takes two each).
fn pad(text: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// The table of sources: status and records; the reasons follow the package
/// ([`print_outcome`]), each once.
pub fn print_sources(summaries: &[SourceSummary], lang: Lang, quiet: bool) {
    if quiet {
        return;
    }
    eprintln!(
        "{} {} {:>9}",
        pad(&tr(lang, "console-sources-header", &[]), 34),
        pad(&tr(lang, "console-status-header", &[]), 12),
        tr(lang, "console-records-header", &[])
    );
    for s in summaries {
        eprintln!(
            "{} {} {:>9}",
            pad(&s.source, 34),
            pad(&status_word(lang, s.status), 12),
            s.records
        );
    }
    print_retention(summaries, lang);
}

/// How long the tenant keeps each source and when the oldest record collected
/// expires (present when the `licences` source was collected).
fn print_retention(summaries: &[SourceSummary], lang: Lang) {
    let kept: Vec<(&str, &serde_json::Value)> = summaries
        .iter()
        .filter_map(|s| s.details.get("retention").map(|r| (s.source.as_str(), r)))
        .collect();
    if kept.is_empty() {
        return;
    }
    eprintln!("{}", tr(lang, "console-retention-header", &[]));
    for (source, statements) in kept {
        for r in statements.as_array().into_iter().flatten() {
            let days = match r["kept_days"].as_i64() {
                Some(d) => tr(lang, "console-retention-days", &[("days", d.to_string())]),
                None => tr(lang, "console-retention-forever", &[]),
            };
            let user = r["user"]
                .as_str()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            let expires = r["oldest_expires"]
                .as_str()
                .map(|t| {
                    tr(
                        lang,
                        "console-retention-expires",
                        &[("when", t.to_string())],
                    )
                })
                .unwrap_or_default();
            eprintln!(
                "  {} {days}{user}{expires} [{}]",
                pad(source, 34),
                r["rule"].as_str().unwrap_or("")
            );
        }
    }
}

/// The package, its gaps and how to fetch them, and who signed the seal.
pub fn print_outcome(sealed: &Sealed, lang: Lang, as_json: bool) -> Result<()> {
    let s = &sealed.seal;
    let p = &sealed.paths;
    if as_json {
        return print_json(&json!({
            "package": p.ciphertext, "seal": p.seal, "signature": p.signature, "custody": p.custody,
            "completeness": s.completeness, "seal_document": s,
        }));
    }
    let completeness = match s.completeness {
        Completeness::Complete => "console-completeness-complete",
        Completeness::Incomplete => "console-completeness-incomplete",
    };
    let t = |id: &str, args: &[(&str, String)]| tr(lang, id, args);
    println!(
        "{}",
        t(
            "console-sealed",
            &[
                ("case", s.case_id.clone()),
                ("files", s.manifest.files.to_string()),
                ("bytes", s.manifest.bytes.to_string()),
                ("records", s.manifest.records.to_string()),
                ("completeness", t(completeness, &[])),
            ]
        )
    );
    let line = |id: &str, path: &Path| println!("  {} {}", pad(&t(id, &[]), 10), path.display());
    line("console-package", &p.ciphertext);
    println!("  {} SHA-256 {}", pad("", 10), s.ciphertext.sha256);
    line("console-seal", &p.seal);
    line("console-signature", &p.signature);
    line("console-custody", &p.custody);
    if let Some(earlier) = &s.supplements {
        println!(
            "{}",
            t(
                "console-supplements",
                &[
                    ("file", earlier.file.clone()),
                    ("sha256", earlier.sha256.clone())
                ]
            )
        );
    }
    for src in sealed
        .manifest
        .sources
        .iter()
        .filter(|x| x.status != SourceStatus::Complete)
    {
        println!("{}", gap(src, lang));
    }
    let signed = if s.signer.generated_for_this_case {
        "console-signed-generated"
    } else {
        "console-signed-by"
    };
    let fp = s.signer.fingerprint.clone();
    println!("{}", t(signed, &[("fingerprint", fp)]));
    Ok(())
}

/// One sentence on a source that is not complete: what is missing, why, and
/// the commands that fetch it when it can be fetched.
fn gap(s: &SourceSummary, lang: Lang) -> String {
    let reason = s
        .reason
        .as_deref()
        .map(|r| r.trim_end_matches('.').to_string())
        .unwrap_or_else(|| tr(lang, "console-no-reason", &[]));
    let args = [
        ("source", s.source.clone()),
        ("records", s.records.to_string()),
        ("reason", reason),
        ("status", status_word(lang, s.status)),
    ];
    let fetch = FetchLater::from_details(s);
    let lead = match (s.status, &fetch) {
        (SourceStatus::Unavailable, _) => return tr(lang, "console-unavailable", &args),
        (_, None) => return tr(lang, "console-gap-lost", &args),
        (SourceStatus::Failed, Some(_)) => "console-gap-failed",
        _ => "console-gap-partial",
    };
    let fetch = fetch.expect("matched above");
    format!(
        "{}\n    {}\n  {}\n    {}",
        tr(lang, lead, &args),
        fetch.resume,
        tr(lang, "console-gap-alone", &[]),
        fetch.new_package
    )
}

/// The kept work folder, when gaps are to be fetched from it.
pub fn print_kept(workdir: Option<&Path>, lang: Lang, quiet: bool) {
    if let (Some(dir), false) = (workdir, quiet) {
        eprintln!(
            "{}",
            tr(
                lang,
                "console-workdir-kept",
                &[("path", dir.display().to_string())]
            )
        );
    }
}
