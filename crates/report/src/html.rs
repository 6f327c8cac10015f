//! The HTML report: self-contained (no external requests), prints well, one
//! file per language. Leads with a privileged account, then the checklist in
//! the order the administrator works, each item with its findings and their
//! evidence; an SVG timeline of sign-ins with the key events marked; the
//! sources' completeness; the package's fingerprint.

use crate::context::Context;
use crate::facts::{Facts, Kind};
use crate::finding::{Category, Finding, Severity};
use crate::i18n::{tr, Lang};
use crate::{ItemStatus, PackageInfo, Report};
use chrono::{DateTime, FixedOffset, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::BTreeMap;

/// Sign-ins per hour and the key events, for the chart.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Hour (Unix time) -> (successes, attacker successes, failures).
    bins: BTreeMap<i64, (u32, u32, u32)>,
    events: Vec<(i64, Category, String)>,
    /// The user's local offset from UTC, when the mailbox says (seconds).
    offset: Option<i32>,
}

impl Chart {
    pub fn of(facts: &Facts, ctx: &Context, findings: &[Finding]) -> Self {
        let mut bins: BTreeMap<i64, (u32, u32, u32)> = BTreeMap::new();
        for s in facts
            .signins
            .iter()
            .filter(|s| matches!(s.kind, Kind::Interactive | Kind::NonInteractive) && s.time > 0)
        {
            let b = bins.entry(s.time - s.time.rem_euclid(3600)).or_default();
            match (s.ok(), ctx.signin(s)) {
                (true, false) => b.0 += 1,
                (true, true) => b.1 += 1,
                (false, _) => b.2 += 1,
            }
        }
        let mut events: Vec<(i64, Category, String)> = findings
            .iter()
            .filter(|f| f.severity >= Severity::Medium)
            .filter_map(|f| {
                let t = f.first_seen.as_deref().and_then(crate::values::time)?;
                Some((t.timestamp(), f.category, f.id.clone()))
            })
            .collect();
        if let Some(u) = &facts.user {
            for (field, label) in [
                ("lastPasswordChangeDateTime", "password"),
                ("signInSessionsValidFromDateTime", "revoked"),
            ] {
                if let Some(t) = crate::values::time_of(u, field) {
                    if bins
                        .keys()
                        .next()
                        .is_some_and(|first| t.timestamp() >= *first)
                    {
                        events.push((t.timestamp(), Category::Containment, label.into()));
                    }
                }
            }
        }
        events.sort();
        let offset = facts.settings.iter().find_map(|(_, m)| {
            let tz = m["timeZone"].as_str()?.to_ascii_lowercase();
            (tz.contains("tokyo") || tz == "asia/tokyo").then_some(9 * 3600)
        });
        Chart {
            bins,
            events,
            offset,
        }
    }
}

const CSS: &str = r#"
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Yu Gothic",Meiryo,sans-serif;margin:2em auto;max-width:64em;color:#1b1b1b;line-height:1.5}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1b1b1b;padding-bottom:.2em;margin-top:2em}
.meta{color:#555}.box{border:2px solid #b00020;background:#fff3f3;padding:.8em 1em;margin:1em 0}
.note{border-left:4px solid #c77700;background:#fff8e6;padding:.5em 1em;margin:1em 0}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}.sev{display:inline-block;padding:0 .5em;border-radius:.3em;font-weight:bold;color:#fff}
.critical{background:#6a0010}.high{background:#b00020}.medium{background:#c77700}.low{background:#4a6fa5}.info{background:#777}
.finding{border:1px solid #ccc;border-radius:.4em;padding:.6em 1em;margin:.6em 0;page-break-inside:avoid}
.finding h4{margin:.2em 0}.action{background:#eef6ee;border-left:4px solid #2e7d32;padding:.3em .8em}
.item{margin:1.2em 0;page-break-inside:avoid}.status{font-weight:bold}.ev{font-size:.85em;color:#333;word-break:break-all}
.st-candidates-found{color:#b00020}.st-nothing-found{color:#2e7d32}.st-not-checked{color:#c77700}.st-to-do{color:#1b1b1b}.st-done{color:#2e7d32}
svg{width:100%;height:auto}code{font-size:.9em}
@media print{body{margin:0;max-width:none}.finding,.item{break-inside:avoid}a{color:inherit}}
"#;

fn sev(lang: Lang, s: Severity) -> Markup {
    html! { span class=(format!("sev {}", s.as_str())) { (tr(lang, &format!("severity-{}", s.as_str()), &[])) } }
}

fn time(lang: Lang, t: &str, offset: Option<i32>) -> String {
    let Some(u) = crate::values::time(t) else {
        return t.to_string();
    };
    let utc = u.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let local = match (lang, offset) {
        (_, Some(o)) => Some(o),
        (Lang::Ja, None) => Some(9 * 3600),
        _ => None,
    };
    match local.and_then(FixedOffset::east_opt) {
        Some(tz) => {
            let l: DateTime<FixedOffset> = u.with_timezone(&tz);
            let name = if tz.local_minus_utc() == 9 * 3600 {
                "JST"
            } else {
                "local"
            };
            format!("{utc} ({} {name})", l.format("%Y-%m-%d %H:%M"))
        }
        None => utc,
    }
}

fn finding(lang: Lang, f: &Finding, offset: Option<i32>) -> Markup {
    html! {
        div class="finding" id=(f.id) {
            h4 { (sev(lang, f.severity)) " " (f.id) " · " (f.title.get(lang)) }
            p { (f.explanation.get(lang)) }
            p { strong { (tr(lang, "subject", &[])) ": " } code { (f.subject) } }
            @if let Some(t) = &f.first_seen {
                p { strong { (tr(lang, "first-seen", &[])) ": " } (time(lang, t, offset)) }
            }
            div class="action" { strong { (tr(lang, "what-to-do", &[])) ": " } (f.action.get(lang)) }
            details {
                summary { (tr(lang, "evidence", &[("count", f.evidence.len().to_string())])) " · " (tr(lang, "rule", &[])) " " (f.rule) }
                ul class="ev" {
                    @for e in &f.evidence {
                        li {
                            code { "evidence/" (e.source) ".json" } " id " code { (e.id) }
                            @if let (Some(file), Some(line)) = (&e.file, e.line) {
                                " (" code { (file) } " line " (line) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}

fn chart(lang: Lang, c: &Chart) -> Markup {
    let (Some(first), Some(last)) = (c.bins.keys().next(), c.bins.keys().next_back()) else {
        return html! { p { (tr(lang, "chart-empty", &[])) } };
    };
    let (first, last) = (*first, *last + 3600);
    let width = 960.0f64;
    let height = 220.0f64;
    let top = 20.0;
    let base = height - 30.0;
    let span = (last - first).max(3600) as f64;
    let x = |t: i64| 40.0 + (t - first) as f64 / span * (width - 60.0);
    let max = c
        .bins
        .values()
        .map(|(a, b, f)| (a + b).max(*f))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let bar_w = ((width - 60.0) * 3600.0 / span).max(1.0);
    let h = |n: u32| n as f64 / max * (base - top - 20.0);
    let day = 86_400;
    let mut ticks = Vec::new();
    let mut d = first - first.rem_euclid(day) + day;
    while d < last {
        ticks.push(d);
        d += day * ((last - first) / day / 10 + 1);
    }
    let label = |t: i64| {
        DateTime::<Utc>::from_timestamp(t, 0)
            .map(|u| u.format("%m-%d").to_string())
            .unwrap_or_default()
    };
    html! {
        svg viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(tr(lang, "chart-title", &[])) {
            line x1="40" y1=(base) x2=(width - 20.0) y2=(base) stroke="#333" {}
            @for (t, (ok, bad, fail)) in &c.bins {
                @let ok_h = h(*ok);
                @let bad_h = h(*bad);
                @let fail_h = h(*fail);
                rect x=(format!("{:.1}", x(*t))) y=(format!("{:.1}", base - ok_h)) width=(format!("{bar_w:.1}")) height=(format!("{ok_h:.1}")) fill="#4a6fa5" {}
                rect x=(format!("{:.1}", x(*t))) y=(format!("{:.1}", base - ok_h - bad_h)) width=(format!("{bar_w:.1}")) height=(format!("{bad_h:.1}")) fill="#b00020" {}
                rect x=(format!("{:.1}", x(*t))) y=(format!("{:.1}", base + 2.0)) width=(format!("{bar_w:.1}")) height=(format!("{:.1}", fail_h.min(25.0))) fill="#c77700" {}
            }
            @for t in &ticks {
                text x=(format!("{:.1}", x(*t))) y=(height - 2.0) font-size="10" text-anchor="middle" { (label(*t)) }
            }
            @for (t, cat, text_) in &c.events {
                line x1=(format!("{:.1}", x(*t))) y1=(top) x2=(format!("{:.1}", x(*t))) y2=(base) stroke="#1b1b1b" stroke-dasharray="3,2" {}
                text x=(format!("{:.1}", x(*t) + 2.0)) y=(top + 8.0) font-size="9" transform=(format!("rotate(20 {:.1} {:.1})", x(*t), top)) {
                    (event_label(lang, *cat, text_))
                }
            }
        }
        p class="meta" {
            span style="color:#4a6fa5" { "■ " } (tr(lang, "chart-ok", &[])) " "
            span style="color:#b00020" { "■ " } (tr(lang, "chart-attacker", &[])) " "
            span style="color:#c77700" { "■ " } (tr(lang, "chart-failed", &[]))
        }
    }
}

fn event_label(lang: Lang, cat: Category, text: &str) -> String {
    match text {
        "password" => tr(lang, "chart-password", &[]),
        "revoked" => tr(lang, "chart-revoked", &[]),
        id => format!(
            "{id} {}",
            tr(lang, &format!("category-{}", category_key(cat)), &[])
        ),
    }
}

fn category_key(c: Category) -> &'static str {
    match c {
        Category::PrivilegedRole => "privileged-role",
        Category::Containment => "containment",
        Category::SignIn => "sign-in",
        Category::AuthMethod => "auth-method",
        Category::AppPassword => "app-password",
        Category::InboxRule => "inbox-rule",
        Category::MailForwarding => "mail-forwarding",
        Category::AppRegistration => "app-registration",
        Category::AppConsent => "app-consent",
        Category::Device => "device",
        Category::Guest => "guest",
        Category::MailAccess => "mail-access",
        Category::MailSent => "mail-sent",
    }
}

fn status_key(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::CandidatesFound => "candidates-found",
        ItemStatus::NothingFound => "nothing-found",
        ItemStatus::NotChecked => "not-checked",
        ItemStatus::ToDo => "to-do",
        ItemStatus::Done => "done",
    }
}

/// The report in `lang`.
pub fn render(r: &Report, lang: Lang, info: &PackageInfo) -> String {
    let offset = r.chart.offset;
    let counts: Vec<(Severity, usize)> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|s| (*s, r.findings.iter().filter(|f| f.severity == *s).count()))
    .collect();
    let privileged: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.category == Category::PrivilegedRole)
        .collect();
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (tr(lang, "report-title", &[("user", r.user.clone())])) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (tr(lang, "report-title", &[("user", r.user.clone())])) }
                p class="meta" {
                    (tr(lang, "report-case", &[("case", info.case_id.clone())]))
                    " · "
                    @match &info.ciphertext_sha256 {
                        Some(sha) => { (tr(lang, "report-fingerprint", &[("sha", sha.clone())])) }
                        None => { (tr(lang, "report-fingerprint-seal", &[])) }
                    }
                    @if let Some(fp) = &info.signer_fingerprint {
                        " · " (tr(lang, "report-signer", &[("fingerprint", fp.clone())]))
                    }
                }
                div class="note" { (tr(lang, "report-disclaimer", &[])) }
                @for f in &privileged {
                    div class="box" { strong { (tr(lang, "privileged-warning", &[])) } (finding(lang, f, offset)) }
                }
                h2 { (tr(lang, "summary", &[])) }
                p {
                    @for (s, n) in &counts {
                        (sev(lang, *s)) " " (n) "  "
                    }
                }
                @if !r.not_run.is_empty() {
                    div class="note" {
                        strong { (tr(lang, "not-run-title", &[])) }
                        ul { @for n in &r.not_run { li { code { (n.rule) } " " (n.why.get(lang)) } } }
                    }
                }
                h2 { (tr(lang, "checklist", &[])) }
                @for (n, item) in r.checklist.iter().enumerate() {
                    div class="item" {
                        h3 { (n + 1) ". " (item.title.get(lang)) " — "
                            span class=(format!("status st-{}", status_key(item.status))) { (tr(lang, &format!("status-{}", status_key(item.status)), &[])) } }
                        p { (item.what_to_do.get(lang)) }
                        @for why in &item.not_checked { p class="note" { (why.get(lang)) } }
                        @for id in &item.findings {
                            @if let Some(f) = r.findings.iter().find(|f| &f.id == id) {
                                @if f.category != Category::PrivilegedRole { (finding(lang, f, offset)) }
                            }
                        }
                        @if item.item == crate::Item::Interview {
                            @match &r.interview {
                                Some(iv) => { (crate::interview::render(lang, iv)) }
                                None => { p { (tr(lang, "interview-missing", &[])) } }
                            }
                        }
                        @if item.item == crate::Item::Preservation {
                            table {
                                tr { th { (tr(lang, "source", &[])) } th { (tr(lang, "status", &[])) } th { (tr(lang, "records", &[])) } th { (tr(lang, "reason", &[])) } }
                                @for s in &r.sources {
                                    tr { td { code { (s.source) } } td { (format!("{:?}", s.status).to_lowercase()) } td { (s.records) } td { (s.reason.clone().unwrap_or_default()) } }
                                }
                            }
                        }
                    }
                }
                h2 { (tr(lang, "chart-title", &[])) }
                (chart(lang, &r.chart))
                @if !r.attacker_addresses.is_empty() {
                    h2 { (tr(lang, "attacker-addresses", &[])) }
                    p { @for a in &r.attacker_addresses { code { (a) } " " } }
                }
                h2 { (tr(lang, "legend", &[])) }
                ul { @for s in ["critical", "high", "medium", "low", "info"] {
                    li { (sev(lang, match s { "critical" => Severity::Critical, "high" => Severity::High, "medium" => Severity::Medium, "low" => Severity::Low, _ => Severity::Info })) " " (tr(lang, &format!("severity-{s}-meaning"), &[])) }
                } }
                p class="meta" { (tr(lang, "report-footer", &[])) }
            }
        }
    };
    page.into_string()
}
