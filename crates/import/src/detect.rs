//! Format detection: by content first (CSV header signature, JSON record keys),
//! by file name second (only where the content cannot tell: the portal's
//! interactive and non-interactive sign-in CSVs share one header).

use super::csvread::Header;
use super::entra_csv;
use super::exchange;
use super::jsonread::Container;
use super::monitor::{self, Table};
use super::purview::{self, Layout};
use m365_preserve_sources::Source;
use serde_json::{Map, Value};

/// The sign-in source a file name announces (portal default names, tool names).
pub fn name_hint(file_name: &str) -> Option<Source> {
    let n = file_name.to_ascii_lowercase().replace(['-', '_', ' '], "");
    if n.contains("noninteractive") {
        Some(Source::SigninsNonInteractive)
    } else if n.contains("interactive") {
        Some(Source::SigninsInteractive)
    } else if n.contains("msisignins") || n.contains("managedidentity") {
        Some(Source::SigninsManagedIdentity)
    } else if n.contains("applicationsignins") || n.contains("serviceprincipal") {
        Some(Source::SigninsServicePrincipal)
    } else {
        None
    }
}

/// The sign-in kind in a variant name (`entra-portal-csv/interactive/...`).
fn short(source: Source) -> &'static str {
    match source {
        Source::SigninsInteractive => "interactive",
        Source::SigninsNonInteractive => "noninteractive",
        Source::SigninsServicePrincipal => "serviceprincipal",
        Source::SigninsManagedIdentity => "managedidentity",
        other => other.as_str(),
    }
}

/// What a CSV file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// Portal sign-in download into this source; `current` when it has the
    /// newer owner-tenant columns (57 columns for user sign-ins, not 55).
    Signin {
        source: Source,
        current: bool,
    },
    AuthDetails,
    Audit,
    Purview(Layout),
    InboxRule {
        extractor_suite: bool,
    },
    Mailbox,
}

impl CsvKind {
    pub fn variant(self) -> String {
        match self {
            CsvKind::Signin { source, current } => format!(
                "entra-portal-csv/{}/{}",
                short(source),
                if current { "current" } else { "legacy" }
            ),
            CsvKind::AuthDetails => "entra-portal-csv/authdetails".into(),
            CsvKind::Audit => "entra-portal-csv/audit".into(),
            CsvKind::Purview(l) => l.name().into(),
            CsvKind::InboxRule {
                extractor_suite: false,
            } => "exchange-powershell/get-inboxrule-csv".into(),
            CsvKind::InboxRule {
                extractor_suite: true,
            } => "extractor-suite/mailbox-rules-csv".into(),
            CsvKind::Mailbox => "exchange-powershell/get-mailbox-csv".into(),
        }
    }

    /// The evidence source its records go to (AuthDetails join their sign-ins).
    pub fn source(self) -> Option<Source> {
        match self {
            CsvKind::Signin { source, .. } => Some(source),
            CsvKind::AuthDetails => None,
            CsvKind::Audit => Some(Source::EntraAudit),
            CsvKind::Purview(_) => Some(Source::PurviewAudit),
            CsvKind::InboxRule { .. } => Some(Source::MailboxRules),
            CsvKind::Mailbox => Some(Source::MailboxSettings),
        }
    }
}

/// Why a CSV file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a known format at all.
    Unknown(String),
    /// Known, but not importable as it is.
    Unsupported(String),
}

/// Identifies a CSV file from its header (and, for sign-ins, its name).
pub fn csv_kind(h: &Header, file_name: &str) -> Result<CsvKind, Refusal> {
    if let Some(layout) = Layout::detect(h) {
        return Ok(CsvKind::Purview(layout));
    }
    if entra_csv::is_auth_details(h) {
        return Ok(CsvKind::AuthDetails);
    }
    if entra_csv::is_audit(h) {
        return Ok(CsvKind::Audit);
    }
    if entra_csv::is_signin(h) {
        let current = h.has("app owner tenant id");
        let hint = name_hint(file_name);
        let source = if entra_csv::is_user_signin(h) {
            match hint {
                Some(s @ (Source::SigninsInteractive | Source::SigninsNonInteractive)) => s,
                _ => return Err(Refusal::Unsupported(format!(
                    "a user sign-in download, but interactive and non-interactive downloads have the same columns and the file name does not say which; rename it to start with InteractiveSignIns_ or NonInteractiveSignIns_ as the portal names it ({} columns)",
                    h.width()
                ))),
            }
        } else if h.has("service principal id") {
            match hint {
                Some(s @ (Source::SigninsServicePrincipal | Source::SigninsManagedIdentity)) => s,
                _ if h.has("managed identity type") => Source::SigninsManagedIdentity,
                _ => return Err(Refusal::Unsupported(
                    "an application or managed identity sign-in download, but the two have the same columns and the file name does not say which; rename it to start with ApplicationSignIns_ or MSISignIns_ as the portal names it".into(),
                )),
            }
        } else {
            return Err(Refusal::Unknown(
                "a sign-in header without user or service principal columns".into(),
            ));
        };
        return Ok(CsvKind::Signin { source, current });
    }
    let mut keys = h.names.iter().map(String::as_str);
    if exchange::is_inbox_rule(&mut keys) {
        return Ok(CsvKind::InboxRule {
            extractor_suite: h.has("username") && h.has("rulename"),
        });
    }
    if exchange::is_mailbox(&mut h.names.iter().map(String::as_str)) {
        return Ok(CsvKind::Mailbox);
    }
    if h.has("mfastatus") && h.has("user") {
        return Err(Refusal::Unsupported(
            "this is Microsoft-Extractor-Suite's own MFA summary (one row per user, True/False per method), not a Microsoft export; collect the methods with `m365-preserve collect --sources auth-methods`, or seal the file as it is with `m365-preserve seal`".into(),
        ));
    }
    if h.has("permissiontype") && h.has("consenttype") && h.has("permission") {
        return Err(Refusal::Unsupported(
            "this is Microsoft-Extractor-Suite's own OAuth permissions report (grants joined with app metadata), not a Microsoft export; collect the grants with `m365-preserve collect --sources oauth2-grants,app-role-assignments`, or seal the file as it is with `m365-preserve seal`".into(),
        ));
    }
    let shown: Vec<&str> = h.names.iter().take(6).map(String::as_str).collect();
    Err(Refusal::Unknown(format!(
        "a CSV file whose header starts {:?}",
        shown.join(",")
    )))
}

/// What a JSON record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    GraphSignin,
    GraphAudit,
    GraphAuditRecord,
    ManagementApi,
    Diagnostic,
    LogAnalytics(Table),
    InboxRule,
    Mailbox,
    /// Another Graph object type collected by a named source.
    Graph(Source),
}

impl JsonKind {
    pub fn variant(self, container: Option<Container>) -> String {
        match self {
            JsonKind::GraphSignin => "graph-json/signins".into(),
            JsonKind::GraphAudit => "graph-json/directory-audits".into(),
            JsonKind::GraphAuditRecord => "graph-json/audit-log-records".into(),
            JsonKind::ManagementApi => "management-api/content-blob".into(),
            JsonKind::Diagnostic => match container {
                Some(Container::Records) => "azure-monitor/event-hub".into(),
                Some(Container::Lines) => "azure-monitor/storage-pt1h".into(),
                _ => "azure-monitor/record".into(),
            },
            JsonKind::LogAnalytics(t) => format!(
                "log-analytics/{}",
                match t {
                    Table::SignIns => "signins",
                    Table::AuditLogs => "AuditLogs",
                    Table::OfficeActivity => "OfficeActivity",
                }
            ),
            JsonKind::InboxRule => "exchange-powershell/get-inboxrule-json".into(),
            JsonKind::Mailbox => "exchange-powershell/get-mailbox-json".into(),
            JsonKind::Graph(source) => format!("graph-json/{}", graph_type(source)),
        }
    }
}

fn s<'m>(m: &'m Map<String, Value>, k: &str) -> &'m str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Identifies one JSON record by its keys.
pub fn json_kind(m: &Map<String, Value>) -> Option<JsonKind> {
    let has = |k: &str| m.contains_key(k);
    if has("category")
        && m.get("properties").is_some_and(Value::is_object)
        && (has("time") || has("operationName"))
    {
        return Some(JsonKind::Diagnostic);
    }
    if let Some(t) = monitor::table(m) {
        return Some(JsonKind::LogAnalytics(t));
    }
    if has("CreationTime") && has("RecordType") && has("Operation") {
        return Some(JsonKind::ManagementApi);
    }
    if has("auditLogRecordType")
        || (m.get("auditData").is_some_and(Value::is_object) && has("operation"))
    {
        return Some(JsonKind::GraphAuditRecord);
    }
    if has("createdDateTime")
        && (has("signInEventTypes") || has("isInteractive") || (has("appId") && has("status")))
    {
        return Some(JsonKind::GraphSignin);
    }
    if has("activityDateTime") && has("activityDisplayName") {
        return Some(JsonKind::GraphAudit);
    }
    if has("sequence") && (has("conditions") || has("actions")) {
        return Some(JsonKind::Graph(Source::MailboxRules));
    }
    if exchange::is_inbox_rule(&mut m.keys().map(String::as_str)) {
        return Some(JsonKind::InboxRule);
    }
    if exchange::is_mailbox(&mut m.keys().map(String::as_str)) {
        return Some(JsonKind::Mailbox);
    }
    if s(m, "@odata.type").ends_with("AuthenticationMethod") {
        return Some(JsonKind::Graph(Source::AuthMethods));
    }
    if has("clientId") && has("consentType") && has("scope") {
        return Some(JsonKind::Graph(Source::Oauth2Grants));
    }
    if has("servicePrincipalType") || (has("appId") && has("servicePrincipalNames")) {
        return Some(JsonKind::Graph(Source::ServicePrincipals));
    }
    if has("deviceId") && has("operatingSystem") {
        return Some(JsonKind::Graph(Source::Devices));
    }
    None
}

/// Where a record goes.
pub enum Routed {
    To(Source, Value),
    /// A diagnostic category this tool has no evidence source for.
    NotImported(String),
}

/// The Graph objects of a source, as a variant names them.
fn graph_type(source: Source) -> &'static str {
    match source {
        Source::MailboxRules => "message-rules",
        Source::AuthMethods => "authentication-methods",
        other => other.as_str(),
    }
}

/// Converts a classified record and picks its source (`hint`: from the file name).
pub fn route(kind: JsonKind, m: Map<String, Value>, hint: Option<Source>) -> Routed {
    match kind {
        JsonKind::GraphSignin => Routed::To(signin_source(&m, hint), Value::Object(m)),
        JsonKind::GraphAudit => Routed::To(Source::EntraAudit, Value::Object(m)),
        JsonKind::GraphAuditRecord => Routed::To(Source::PurviewAudit, Value::Object(m)),
        JsonKind::ManagementApi => Routed::To(
            Source::PurviewAudit,
            purview::from_audit_data(m, &Map::new()),
        ),
        JsonKind::Diagnostic => {
            let category = s(&m, "category").to_string();
            match monitor::category_source(&category) {
                Some(source) => Routed::To(source, monitor::from_diagnostic(m)),
                None => Routed::NotImported(category),
            }
        }
        JsonKind::LogAnalytics(Table::SignIns) => {
            let source = monitor::signin_table_source(&m);
            Routed::To(source, monitor::from_log_analytics(m))
        }
        JsonKind::LogAnalytics(Table::AuditLogs) => {
            Routed::To(Source::EntraAudit, monitor::from_log_analytics(m))
        }
        JsonKind::LogAnalytics(Table::OfficeActivity) => {
            Routed::To(Source::PurviewAudit, purview::from_office_activity(m))
        }
        JsonKind::InboxRule => Routed::To(Source::MailboxRules, exchange::rule(m)),
        JsonKind::Mailbox => Routed::To(Source::MailboxSettings, Value::Object(m)),
        JsonKind::Graph(source) => Routed::To(source, Value::Object(m)),
    }
}

/// The sign-in source of a Graph sign-in: `signInEventTypes` (beta) decides,
/// then the file name, then the v1.0 fields.
pub fn signin_source(m: &Map<String, Value>, hint: Option<Source>) -> Source {
    if let Some(Value::Array(types)) = m.get("signInEventTypes") {
        for t in types.iter().filter_map(Value::as_str) {
            match t {
                "interactiveUser" => return Source::SigninsInteractive,
                "nonInteractiveUser" => return Source::SigninsNonInteractive,
                "servicePrincipal" => return Source::SigninsServicePrincipal,
                "managedIdentity" => return Source::SigninsManagedIdentity,
                _ => {}
            }
        }
    }
    if let Some(h) = hint {
        return h;
    }
    let msi = m
        .get("managedServiceIdentity")
        .and_then(|v| v.get("msiType"))
        .and_then(Value::as_str)
        .unwrap_or("none");
    if !msi.is_empty() && !msi.eq_ignore_ascii_case("none") {
        return Source::SigninsManagedIdentity;
    }
    match m.get("isInteractive") {
        Some(Value::Bool(true)) => Source::SigninsInteractive,
        _ if s(m, "userId").is_empty() && !s(m, "servicePrincipalId").is_empty() => {
            Source::SigninsServicePrincipal
        }
        Some(Value::Bool(false)) => Source::SigninsNonInteractive,
        _ => Source::SigninsInteractive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_hint_the_sign_in_kind() {
        assert_eq!(
            name_hint("InteractiveSignIns_2025-11-04_2025-12-04.csv"),
            Some(Source::SigninsInteractive)
        );
        assert_eq!(
            name_hint("NonInteractiveSignIns_2025-11-04.json"),
            Some(Source::SigninsNonInteractive)
        );
        assert_eq!(
            name_hint("MSISignIns_2025-11-04_2025-12-04.csv"),
            Some(Source::SigninsManagedIdentity)
        );
        assert_eq!(
            name_hint("ApplicationSignIns_2025-11-04.csv"),
            Some(Source::SigninsServicePrincipal)
        );
        assert_eq!(
            name_hint("servicePrincipal-SignInLogs.json"),
            Some(Source::SigninsServicePrincipal)
        );
        assert_eq!(name_hint("AuditLogs_2024-11-09.csv"), None);
    }
}
