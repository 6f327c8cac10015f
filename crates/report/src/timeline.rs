//! The super-timeline: one row per timestamped record of every source, in
//! Timesketch's import format (`message`, `datetime`, `timestamp_desc` plus
//! fields; <https://timesketch.org/guides/user/import-from-json-csv/>), as
//! `report/timeline.csv` and `report/timeline.jsonl`. Times are UTC with an
//! explicit `Z`: a JSONL line with only a `timestamp` would be read as local
//! time by the server.

use crate::finding::Finding;
use crate::values::time;
use crate::ReportError;
use chrono::{DateTime, SecondsFormat, Utc};
use m365_preserve_sources::Source;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The CSV columns (every JSONL line has the non-empty ones).
const COLUMNS: &[&str] = &[
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "source",
    "record_id",
    "user",
    "ip",
    "country",
    "asn",
    "app",
    "session_id",
    "device_id",
    "user_agent",
    "result",
    "operation",
    "tag",
    "severity",
];

/// One row.
#[derive(Default)]
struct Row {
    fields: [String; 18],
}

impl Row {
    fn set(&mut self, column: &str, value: impl Into<String>) {
        if let Some(i) = COLUMNS.iter().position(|c| *c == column) {
            self.fields[i] = value.into();
        }
    }
}

/// What the timeline shows of a sign-in.
pub struct SignInView<'a> {
    pub id: &'a str,
    pub time: &'a str,
    pub ip: &'a str,
    pub app: &'a str,
    pub country: &'a str,
    pub asn: u32,
    pub error: i32,
    pub session: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
}

/// Writes the timeline files.
pub struct Timeline {
    csv: Option<(PathBuf, csv::Writer<BufWriter<File>>)>,
    jsonl: Option<(PathBuf, BufWriter<File>)>,
    rows: u64,
    error: Option<ReportError>,
}

impl Timeline {
    /// Creates `timeline.csv` and `timeline.jsonl` in `dir`.
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        let csv_path = dir.join("timeline.csv");
        let jsonl_path = dir.join("timeline.jsonl");
        let open = |p: &Path| File::create(p).map_err(|e| ReportError::write(p, e));
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(BufWriter::with_capacity(256 * 1024, open(&csv_path)?));
        csv.write_record(COLUMNS)
            .map_err(|e| ReportError::write(&csv_path, e.into()))?;
        Ok(Self {
            csv: Some((csv_path, csv)),
            jsonl: Some((
                jsonl_path.clone(),
                BufWriter::with_capacity(256 * 1024, open(&jsonl_path)?),
            )),
            rows: 0,
            error: None,
        })
    }

    /// A timeline that writes nothing (reports of rules only, in tests).
    pub fn none() -> Self {
        Self {
            csv: None,
            jsonl: None,
            rows: 0,
            error: None,
        }
    }

    fn push(&mut self, when: DateTime<Utc>, desc: &str, message: String, mut row: Row) {
        row.set(
            "datetime",
            when.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        );
        row.set("timestamp", when.timestamp_micros().to_string());
        row.set("timestamp_desc", desc);
        row.set("message", message);
        self.rows += 1;
        if self.error.is_some() {
            return;
        }
        if let Some((path, w)) = &mut self.csv {
            if let Err(e) = w.write_record(&row.fields) {
                self.error = Some(ReportError::write(path, e.into()));
                return;
            }
        }
        if let Some((path, w)) = &mut self.jsonl {
            let mut m = Map::new();
            for (c, v) in COLUMNS.iter().zip(&row.fields) {
                if !v.is_empty() {
                    m.insert((*c).into(), Value::String(v.clone()));
                }
            }
            let mut line = serde_json::to_vec(&m).expect("a row serialises");
            line.push(b'\n');
            if let Err(e) = w.write_all(&line) {
                self.error = Some(ReportError::write(path, e));
            }
        }
    }

    /// A sign-in of `source`.
    pub fn signin(&mut self, source: Source, s: &SignInView<'_>) {
        let Some(when) = time(s.time) else { return };
        let desc = match source {
            Source::SigninsNonInteractive => "Sign-in (non-interactive)",
            Source::SigninsServicePrincipal => "Sign-in (service principal)",
            Source::SigninsManagedIdentity => "Sign-in (managed identity)",
            _ => "Sign-in (interactive)",
        };
        let result = if s.error == 0 {
            "success".to_string()
        } else {
            format!("failure {}", s.error)
        };
        let message = format!(
            "{} from {} ({}, AS{}): {result}",
            if s.app.is_empty() { "sign-in" } else { s.app },
            s.ip,
            s.country,
            s.asn
        );
        let mut row = Row::default();
        row.set("source", source.as_str());
        row.set("record_id", s.id);
        row.set("ip", s.ip);
        row.set("country", s.country);
        if s.asn != 0 {
            row.set("asn", s.asn.to_string());
        }
        row.set("app", s.app);
        row.set("session_id", s.session);
        row.set("device_id", s.device_id);
        row.set("user_agent", s.user_agent);
        row.set("result", result);
        self.push(when, desc, message, row);
    }

    /// A record of any other source: one row per time it carries.
    pub fn record(&mut self, source: Source, r: &Value) {
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
        let id = s("id");
        let rows: Vec<(&str, &str, String)> = match source {
            Source::EntraAudit => vec![(
                "activityDateTime",
                "Directory audit",
                format!("{} {}: {}", actor(r), s("activityDisplayName"), s("result")),
            )],
            Source::PurviewAudit => {
                let data = r.get("auditData").unwrap_or(r);
                let op = r
                    .get("operation")
                    .or(data.get("Operation"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let user = r
                    .get("userPrincipalName")
                    .or(data.get("UserId"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let ip = data
                    .get("ClientIP")
                    .or(data.get("ClientIPAddress"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let field = if r.get("createdDateTime").is_some() {
                    "createdDateTime"
                } else {
                    "CreationTime"
                };
                vec![(field, "Purview audit", format!("{op} by {user} from {ip}"))]
            }
            Source::RiskDetections => vec![
                (
                    "activityDateTime",
                    "Risk activity",
                    format!(
                        "{} ({}, {}) {}",
                        s("riskEventType"),
                        s("riskLevel"),
                        s("riskState"),
                        s("ipAddress")
                    ),
                ),
                (
                    "detectedDateTime",
                    "Risk detected",
                    format!("{} detected", s("riskEventType")),
                ),
            ],
            Source::RiskyUsers => vec![(
                "riskLastUpdatedDateTime",
                "User risk updated",
                format!("{} {}", s("riskLevel"), s("riskState")),
            )],
            Source::AuthMethods => vec![(
                "createdDateTime",
                "Auth method created",
                format!("{} {}", s("@odata.type"), s("displayName")),
            )],
            Source::AuthRegistration => vec![(
                "lastUpdatedDateTime",
                "Registration details updated",
                format!(
                    "preferred method {}",
                    s("userPreferredMethodForSecondaryAuthentication")
                ),
            )],
            Source::User => vec![
                (
                    "lastPasswordChangeDateTime",
                    "Password last changed",
                    "password changed".into(),
                ),
                (
                    "signInSessionsValidFromDateTime",
                    "Sessions valid from (revocation)",
                    "sign-in sessions valid from".into(),
                ),
                ("createdDateTime", "User created", "user created".into()),
            ],
            Source::Devices => vec![
                (
                    "registrationDateTime",
                    "Device registered",
                    format!("{} ({})", s("displayName"), s("trustType")),
                ),
                (
                    "approximateLastSignInDateTime",
                    "Device last sign-in",
                    s("displayName").to_string(),
                ),
            ],
            Source::Applications | Source::ServicePrincipals => vec![(
                "createdDateTime",
                "App created",
                format!("{} ({})", s("displayName"), s("appId")),
            )],
            Source::AppRoleAssignments => vec![(
                "createdDateTime",
                "App role assigned",
                s("resourceDisplayName").to_string(),
            )],
            Source::Guests => vec![
                ("createdDateTime", "Guest created", s("mail").to_string()),
                (
                    "externalUserStateChangeDateTime",
                    "Guest state changed",
                    format!("{} {}", s("mail"), s("externalUserState")),
                ),
            ],
            _ => Vec::new(),
        };
        for (field, desc, message) in rows {
            let Some(when) = r.get(field).and_then(Value::as_str).and_then(time) else {
                continue;
            };
            let mut row = Row::default();
            row.set("source", source.as_str());
            row.set("record_id", id);
            if source == Source::EntraAudit {
                row.set("operation", s("activityDisplayName"));
                row.set("result", s("result"));
                row.set(
                    "ip",
                    r["initiatedBy"]["user"]["ipAddress"].as_str().unwrap_or(""),
                );
            }
            if source == Source::PurviewAudit {
                let data = r.get("auditData").unwrap_or(r);
                row.set(
                    "operation",
                    r.get("operation")
                        .or(data.get("Operation"))
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                row.set(
                    "ip",
                    data.get("ClientIP")
                        .or(data.get("ClientIPAddress"))
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                row.set("session_id", data["SessionId"].as_str().unwrap_or(""));
            }
            self.push(when, desc, message, row);
        }
    }

    /// A finding, at the time of its earliest evidence.
    pub fn finding(&mut self, f: &Finding) {
        let Some(when) = f.first_seen.as_deref().and_then(time) else {
            return;
        };
        let mut row = Row::default();
        row.set("source", "report");
        row.set("record_id", f.id.clone());
        row.set("tag", format!("[\"{}\"]", f.rule));
        row.set("severity", f.severity.as_str());
        let desc = format!("Finding: {}", f.rule);
        self.push(when, &desc, f.title.en.clone(), row);
    }

    /// Rows written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and closes the files.
    pub fn finish(mut self) -> Result<u64, ReportError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some((path, w)) = self.csv.take() {
            let mut inner = w
                .into_inner()
                .map_err(|e| ReportError::write(&path, std::io::Error::other(e.to_string())))?;
            inner.flush().map_err(|e| ReportError::write(&path, e))?;
        }
        if let Some((path, mut w)) = self.jsonl.take() {
            w.flush().map_err(|e| ReportError::write(&path, e))?;
        }
        Ok(self.rows)
    }
}

/// Who did a directory audit's activity.
fn actor(r: &Value) -> String {
    let by = &r["initiatedBy"];
    by["user"]["userPrincipalName"]
        .as_str()
        .or(by["app"]["displayName"].as_str())
        .unwrap_or("?")
        .to_string()
}
