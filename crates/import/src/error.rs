//! Import errors: every one names the file and, where there is one, the line and
//! column, and says what the operator can do about it.

use std::fmt;
use std::path::PathBuf;

/// The formats the importer recognises, listed in "unknown format" errors.
pub const EXPECTED_FORMATS: &str = "Entra admin center sign-in CSV (InteractiveSignIns_*, NonInteractiveSignIns_*, \
ApplicationSignIns_*, MSISignIns_*, *_AuthDetails_*) or JSON download; Entra audit log CSV or JSON download; \
Purview audit export CSV (RecordId,CreationDate,RecordType,Operation,UserId,AuditData / CreationDate,UserIds,Operations,AuditData / \
Search-UnifiedAuditLog | Export-Csv); Office 365 Management Activity API content blob; Azure Monitor diagnostic export \
(Event Hub {\"records\":[...]} or storage PT1H.json); Log Analytics export (SigninLogs, AADNonInteractiveUserSignInLogs, \
AuditLogs, OfficeActivity, MicrosoftGraphActivityLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs, \
AADRiskyServicePrincipals, AADServicePrincipalRiskEvents, AADProvisioningLogs: portal CSV or JSON); Exchange Online PowerShell \
Get-InboxRule or Get-Mailbox as CSV or JSON; Microsoft Graph JSON (sign-ins, directory audits, audit log records, message rules, \
authentication methods, OAuth2 grants, service principals, devices); Microsoft-Extractor-Suite output (sign-ins, audit logs, \
Get-UAL CSV/JSON/JSONL, Get-UALGraph, mailbox rules, OAuth permissions, MFA); Hawk output (inbox rules, forwarding, consent \
grants, unified audit log searches, authentication logs)";

/// Where in a file something was found. Lines are 1-based; the column is the
/// 1-based CSV field (with its header name) or JSON byte column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub column: Option<u64>,
    pub column_name: Option<String>,
}

impl Position {
    pub fn line(line: u64) -> Self {
        Self {
            line,
            ..Self::default()
        }
    }

    pub fn at(line: u64, column: u64) -> Self {
        Self {
            line,
            column: Some(column),
            column_name: None,
        }
    }

    pub fn field(line: u64, column: u64, name: &str) -> Self {
        Self {
            line,
            column: Some(column),
            column_name: Some(name.to_string()),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(c) = self.column {
            write!(f, ", column {c}")?;
        }
        if let Some(n) = &self.column_name {
            write!(f, " ({})", n.trim())?;
        }
        Ok(())
    }
}

/// A row (CSV) or record (JSON) that cannot be imported; `--skip-bad-rows` may
/// skip it, otherwise it stops the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub at: Position,
    pub reason: String,
}

impl BadRow {
    pub fn new(at: Position, reason: impl Into<String>) -> Self {
        Self {
            at,
            reason: reason.into(),
        }
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("{file}: cannot read it: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is empty (0 bytes); download it again from the portal")]
    Empty { file: PathBuf },
    #[error("{file}: not a format m365-preserve can import ({why}). Expected one of: {EXPECTED_FORMATS}")]
    UnknownFormat { file: PathBuf, why: String },
    #[error("{file}: {why}")]
    Unsupported { file: PathBuf, why: String },
    #[error("{file}: --as {declared} does not fit this file, whose content is {found}; remove --as for it or name the variant its content allows")]
    Declared {
        file: PathBuf,
        declared: crate::Variant,
        found: String,
    },
    #[error("{file}, {}: {}; fix or re-download the file, or pass --skip-bad-rows to import the other rows and mark the source partial", .row.at, .row.reason)]
    BadRow { file: PathBuf, row: BadRow },
    #[error("{file}, {at}: {reason}; the file is damaged or truncated: download it again")]
    Broken {
        file: PathBuf,
        at: Position,
        reason: String,
    },
    #[error("{0}")]
    Evidence(#[from] m365_preserve_package::evidence::EvidenceError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}
