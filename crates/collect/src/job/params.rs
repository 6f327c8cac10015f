//! What a collection was asked for, kept in the work folder so that a resumed
//! run asks for exactly the same (in particular the same windows, not later ones).

use super::{Collection, JobError};
use crate::entra_retention_days;
use crate::graph::ReadOnlyClient;
use chrono::Timelike;
use chrono::{DateTime, Duration, Utc};
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sources::{AuditApi, Source, SpScope, Window, TRACE_DAYS};
use serde::{Deserialize, Serialize};
use url::Url;

/// Purview keeps audit records this long on Audit (Standard)
/// (<https://learn.microsoft.com/purview/audit-log-retention-policies>).
const PURVIEW_DAYS: i64 = 180;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams {
    pub case: String,
    pub users: Vec<String>,
    pub sources: Vec<Source>,
    pub entra: Window,
    pub purview: Window,
    pub sp_scope: SpScope,
    /// None: v1.0, or beta where v1.0 does not serve the API.
    pub audit_api: Option<AuditApi>,
    pub message_ids: Vec<String>,
    pub phish_senders: Vec<String>,
    /// The message-trace window: at most 90 days back, whole seconds.
    pub trace: Window,
    /// The message-trace window asked for.
    pub trace_asked: Window,
    pub started: DateTime<Utc>,
}

impl RunParams {
    /// What the interrupted run in `workdir` was asked for.
    pub fn load(workdir: &WorkDir) -> Result<Self, JobError> {
        let path = workdir.run_params();
        let text = std::fs::read_to_string(&path)
            .map_err(|_| JobError::NotAWorkFolder(workdir.root().to_path_buf()))?;
        serde_json::from_str(&text).map_err(|source| JobError::DamagedParams { path, source })
    }

    /// Keeps these parameters in the work folder.
    pub fn save(self, workdir: &WorkDir) -> Result<Self, JobError> {
        let path = workdir.run_params();
        let create = |source| JobError::Create {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(workdir.state_dir()).map_err(create)?;
        m365_preserve_package::workdir::write_atomically(
            &path,
            &serde_json::to_vec_pretty(&self).expect("parameters serialise"),
        )
        .map_err(create)?;
        Ok(self)
    }

    /// A resumed run must ask for what the interrupted one asked for.
    pub fn check_resumed(
        self,
        case: &str,
        users: &[String],
        sources: &[Source],
        workdir: &WorkDir,
    ) -> Result<Self, JobError> {
        if (
            self.case.as_str(),
            self.users.as_slice(),
            self.sources.as_slice(),
        ) != (case, users, sources)
        {
            return Err(JobError::ResumeMismatch {
                workdir: workdir.root().to_path_buf(),
                case: self.case,
                users: self.users,
                sources: self.sources,
            });
        }
        Ok(self)
    }

    /// The window a source's records are collected over: Entra's retention for
    /// the Entra logs, message trace's 90 days, and the Purview window for the
    /// logs and mailboxes that reach further back.
    pub fn window_of(&self, source: Source) -> Window {
        match source {
            Source::MessageTrace => self.trace,
            Source::SecurityAlerts
            | Source::SecurityIncidents
            | Source::MailSent
            | Source::MailDeleted => self.purview,
            _ => self.entra,
        }
    }

    /// Fixes the windows of a new run, probing the tenant's retention when no
    /// `--since` is given.
    pub async fn new_run(
        c: &Collection,
        case: &str,
        sources: Vec<Source>,
        client: &ReadOnlyClient,
        base: &Url,
        now: DateTime<Utc>,
    ) -> Result<Self, JobError> {
        let until = c.until.unwrap_or(now);
        let entra_since = match c.since {
            Some(s) => s,
            None => {
                let days = entra_retention_days(client, base).await;
                tracing::info!("Entra logs are kept {days} days by this tenant");
                until - Duration::days(days)
            }
        };
        if entra_since >= until {
            return Err(JobError::EmptyWindow);
        }
        // An hour's margin: the service refuses a start more than 90 days
        // before the moment it receives the request. Without --since, what
        // it reaches is what is asked for.
        let whole = |t: DateTime<Utc>| t.with_nanosecond(0).unwrap_or(t);
        let oldest =
            whole(now - Duration::days(TRACE_DAYS) + Duration::hours(1)) + Duration::seconds(1);
        let trace_asked = Window {
            since: c.since.unwrap_or(oldest),
            until,
        };
        let since = trace_asked.since.max(oldest);
        let since = if whole(since) < since {
            whole(since) + Duration::seconds(1)
        } else {
            since
        };
        let trace_until = whole(until.min(now));
        Ok(Self {
            case: case.to_string(),
            users: c.users.clone(),
            sources,
            entra: Window {
                since: entra_since,
                until,
            },
            purview: Window {
                since: c.since.unwrap_or(until - Duration::days(PURVIEW_DAYS)),
                until,
            },
            sp_scope: c.sp_scope,
            audit_api: c.audit_api,
            message_ids: c.message_ids.clone(),
            phish_senders: c.phish_senders.clone(),
            trace: Window {
                since: since.min(trace_until),
                until: trace_until,
            },
            trace_asked,
            started: now,
        })
    }
}
