//! Format detection: by content first (CSV header signature, JSON record keys),
//! by file name second (only where the content cannot tell: the portal's
//! interactive and non-interactive sign-in CSVs share one header).

use super::csvread::Header;
use super::entra_csv;
use super::exchange;
use super::jsonread::Container;
use super::monitor::{self, Table};
use super::peers;
use super::purview::{self, Layout};
use super::variant::{tool_hint, Tool, Variant};
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
    Purview(Layout, Variant),
    /// `Get-InboxRule` rows as written by Exchange, Microsoft-Extractor-Suite or Hawk.
    InboxRule(Variant),
    Mailbox(Variant),
    /// Log Analytics portal export: rows routed by table.
    LogAnalytics,
    UalGraph,
    GraphRule,
    /// A consent report: delegated rows and app role rows.
    Consent(Variant),
    MfaMethods,
    MfaRegistration,
    /// Hawk's flattened unified audit log rows.
    FlatUal(Variant),
}

impl CsvKind {
    pub fn variant(self) -> Variant {
        match self {
            CsvKind::Signin { source, .. } => {
                Variant::of_signin_source(source).expect("a sign-in source")
            }
            CsvKind::AuthDetails => Variant::EntraAuthDetailsCsv,
            CsvKind::Audit => Variant::EntraAuditCsv,
            CsvKind::Purview(_, v)
            | CsvKind::InboxRule(v)
            | CsvKind::Mailbox(v)
            | CsvKind::Consent(v)
            | CsvKind::FlatUal(v) => v,
            CsvKind::LogAnalytics => Variant::LogAnalyticsCsv,
            CsvKind::UalGraph => Variant::ExtractorSuiteUalGraphCsv,
            CsvKind::GraphRule => Variant::ExtractorSuiteMailboxRulesGraph,
            CsvKind::MfaMethods => Variant::ExtractorSuiteMfaMethods,
            CsvKind::MfaRegistration => Variant::ExtractorSuiteMfaRegistration,
        }
    }

    /// What the variant name leaves out (`current`/`legacy` portal layout).
    pub fn detail(self) -> Option<&'static str> {
        match self {
            CsvKind::Signin { current, .. } => Some(if current { "current" } else { "legacy" }),
            _ => None,
        }
    }

    /// The same kind as the operator's `--as` names it (same family).
    pub fn as_variant(self, v: Variant) -> Self {
        match self {
            CsvKind::Signin { current, .. } => CsvKind::Signin {
                source: v.signin_source().expect("a sign-in variant"),
                current,
            },
            CsvKind::Purview(l, _) => CsvKind::Purview(l, v),
            CsvKind::InboxRule(_) => CsvKind::InboxRule(v),
            CsvKind::Mailbox(_) => CsvKind::Mailbox(v),
            other => other,
        }
    }

    /// The evidence source its records go to, when one source takes them all
    /// (AuthDetails join their sign-ins; Log Analytics and consent rows are
    /// routed one by one).
    pub fn source(self) -> Option<Source> {
        match self {
            CsvKind::Signin { source, .. } => Some(source),
            CsvKind::Audit => Some(Source::EntraAudit),
            CsvKind::Purview(..) | CsvKind::UalGraph | CsvKind::FlatUal(_) => {
                Some(Source::PurviewAudit)
            }
            CsvKind::InboxRule(_) | CsvKind::GraphRule => Some(Source::MailboxRules),
            CsvKind::Mailbox(_) => Some(Source::MailboxSettings),
            CsvKind::MfaMethods => Some(Source::AuthMethods),
            CsvKind::MfaRegistration => Some(Source::AuthRegistration),
            CsvKind::AuthDetails | CsvKind::LogAnalytics | CsvKind::Consent(_) => None,
        }
    }
}

/// Why a CSV file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a known format at all.
    Unknown(String),
    /// One of a family the content cannot tell apart (the kind holds the
    /// family's first member): `--as` chooses.
    Ambiguous(CsvKind, String),
}

/// The tool's variant of a family when the file name names the tool.
fn by_tool(file_name: &str, plain: Variant, mes: Variant, hawk: Variant) -> Variant {
    match tool_hint(file_name) {
        Some(Tool::ExtractorSuite) => mes,
        Some(Tool::Hawk) => hawk,
        None => plain,
    }
}

/// Identifies a CSV file from its header (and, where the content cannot
/// tell, its name).
pub fn csv_kind(h: &Header, file_name: &str) -> Result<CsvKind, Refusal> {
    if let Some(layout) = Layout::detect(h) {
        let v = match layout {
            Layout::Current => Variant::PurviewCurrentCsv,
            Layout::Classic => Variant::PurviewClassicCsv,
            Layout::ClassicRecordType => Variant::PurviewClassicRecordTypeCsv,
            Layout::SearchUnifiedAuditLog => by_tool(
                file_name,
                Variant::SearchUnifiedAuditLogCsv,
                Variant::ExtractorSuiteUalCsv,
                Variant::HawkUalCsv,
            ),
        };
        return Ok(CsvKind::Purview(layout, v));
    }
    if entra_csv::is_auth_details(h) {
        return Ok(CsvKind::AuthDetails);
    }
    if entra_csv::is_audit(h) {
        return Ok(CsvKind::Audit);
    }
    if entra_csv::is_signin(h) {
        return signin_kind(h, file_name);
    }
    if is_log_analytics(h) {
        return Ok(CsvKind::LogAnalytics);
    }
    if h.has("auditlogrecordtype") && h.has("auditdata") && h.has("createddatetime") {
        return Ok(CsvKind::UalGraph);
    }
    if h.has("creationtime") && h.has("operation") && h.has("workload") && h.has("recordtype") {
        return Ok(CsvKind::FlatUal(
            if h.has("parameterstring") || h.has("userids") {
                Variant::HawkSimpleUalCsv
            } else {
                Variant::HawkAuthenticationLogsCsv
            },
        ));
    }
    if h.has("userprincipalname") && h.has("ruleid") && h.has("sequence") {
        return Ok(CsvKind::GraphRule);
    }
    let mut keys = h.names.iter().map(String::as_str);
    if exchange::is_inbox_rule(&mut keys) {
        return Ok(CsvKind::InboxRule(
            if h.has("username") && h.has("rulename") {
                Variant::ExtractorSuiteMailboxRules
            } else {
                by_tool(
                    file_name,
                    Variant::GetInboxRuleCsv,
                    Variant::GetInboxRuleCsv,
                    Variant::HawkInboxRulesCsv,
                )
            },
        ));
    }
    if h.has("username")
        && h.has("rulename")
        && (h.has("ruleenabled") || h.has("enabled"))
        && h.has("forwardto")
    {
        return Ok(CsvKind::InboxRule(Variant::ExtractorSuiteMailboxRules8));
    }
    if exchange::is_mailbox(&mut h.names.iter().map(String::as_str)) {
        return Ok(CsvKind::Mailbox(by_tool(
            file_name,
            Variant::GetMailboxCsv,
            Variant::GetMailboxCsv,
            Variant::HawkForwardingCsv,
        )));
    }
    if h.has("mfastatus") && h.has("user") {
        return Ok(CsvKind::MfaMethods);
    }
    if h.has("ismfaregistered") && h.has("methodsregistered") {
        return Ok(CsvKind::MfaRegistration);
    }
    if h.has("permissiontype") && h.has("permission") && h.has("clientobjectid") {
        return Ok(CsvKind::Consent(if h.has("consentgrantriskcategory") {
            Variant::HawkConsentGrantsCsv
        } else {
            Variant::ExtractorSuiteOauth
        }));
    }
    let shown: Vec<&str> = h.names.iter().take(6).map(String::as_str).collect();
    Err(Refusal::Unknown(format!(
        "a CSV file whose header starts {:?}",
        shown.join(",")
    )))
}

/// A Log Analytics "Export to CSV": its datetime columns carry ` [UTC]`, and
/// every table has `TimeGenerated` (and, in "all columns", `Type`).
fn is_log_analytics(h: &Header) -> bool {
    h.has("timegenerated [utc]") || (h.has("timegenerated") && (h.has("type") || h.has("tenantid")))
}

fn signin_kind(h: &Header, file_name: &str) -> Result<CsvKind, Refusal> {
    let current = h.has("app owner tenant id");
    let hint = name_hint(file_name);
    let source = if entra_csv::is_user_signin(h) {
        match hint {
            Some(s @ (Source::SigninsInteractive | Source::SigninsNonInteractive)) => s,
            _ => return Err(Refusal::Ambiguous(CsvKind::Signin { source: Source::SigninsInteractive, current }, format!(
                "a user sign-in download, but interactive and non-interactive downloads have the same columns and the file name does not say which ({} columns); say which with --as entra-portal-csv/interactive or --as entra-portal-csv/noninteractive before the file, or keep the portal's name (InteractiveSignIns_..., NonInteractiveSignIns_...)",
                h.width()
            ))),
        }
    } else if h.has("service principal id") {
        match hint {
            Some(s @ (Source::SigninsServicePrincipal | Source::SigninsManagedIdentity)) => s,
            _ if h.has("managed identity type") => Source::SigninsManagedIdentity,
            _ => return Err(Refusal::Ambiguous(CsvKind::Signin { source: Source::SigninsServicePrincipal, current },
                "an application or managed identity sign-in download, but the two have the same columns and the file name does not say which; say which with --as entra-portal-csv/serviceprincipal or --as entra-portal-csv/managedidentity before the file, or keep the portal's name (ApplicationSignIns_..., MSISignIns_...)".into(),
            )),
        }
    } else {
        return Err(Refusal::Unknown(
            "a sign-in header without user or service principal columns".into(),
        ));
    };
    Ok(CsvKind::Signin { source, current })
}

/// What a JSON record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    GraphSignin,
    GraphAudit,
    GraphAuditRecord,
    ManagementApi,
    /// A `Search-UnifiedAuditLog` object (wrapper with `AuditData`).
    SearchObject,
    Diagnostic,
    LogAnalytics(Table),
    InboxRule,
    Mailbox,
    /// Another Graph object type collected by a named source.
    Graph(Source),
}

/// What the file says about its writer besides its records.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonHints {
    /// The tool its name points to.
    pub tool: Option<Tool>,
    /// Windows PowerShell 5.1 `ConvertTo-Json` layout (`"key":  value`, two
    /// spaces): a camelCase Graph record in it was written by
    /// Microsoft-Extractor-Suite (Hawk writes the SDK's PascalCase models).
    pub powershell: bool,
}

impl JsonKind {
    pub fn variant(self, container: Option<Container>, hints: JsonHints) -> Variant {
        let mes = hints.tool == Some(Tool::ExtractorSuite) || hints.powershell;
        let pick = |plain, tool| if mes { tool } else { plain };
        match self {
            JsonKind::GraphSignin => pick(Variant::GraphSignins, Variant::ExtractorSuiteSignins),
            JsonKind::GraphAudit => pick(
                Variant::GraphDirectoryAudits,
                Variant::ExtractorSuiteAuditLogs,
            ),
            JsonKind::GraphAuditRecord => pick(
                Variant::GraphAuditLogRecords,
                Variant::ExtractorSuiteUalGraphJson,
            ),
            JsonKind::ManagementApi => match container {
                Some(Container::Lines) => Variant::ExtractorSuiteUalAuditData,
                _ => pick(
                    Variant::ManagementApiBlob,
                    Variant::ExtractorSuiteUalAuditData,
                ),
            },
            JsonKind::SearchObject => match hints.tool {
                Some(Tool::Hawk) => Variant::HawkUalJson,
                Some(Tool::ExtractorSuite) => Variant::ExtractorSuiteUalJson,
                None => Variant::SearchUnifiedAuditLogJson,
            },
            JsonKind::Diagnostic => match container {
                Some(Container::Records) => Variant::AzureMonitorEventHub,
                Some(Container::Lines) => Variant::AzureMonitorStorage,
                _ => Variant::AzureMonitorRecord,
            },
            JsonKind::LogAnalytics(_) => Variant::LogAnalyticsJson,
            JsonKind::InboxRule => match hints.tool {
                Some(Tool::Hawk) => Variant::HawkInboxRulesJson,
                _ => Variant::GetInboxRuleJson,
            },
            JsonKind::Mailbox => Variant::GetMailboxJson,
            JsonKind::Graph(Source::MailboxRules) => Variant::GraphMessageRules,
            JsonKind::Graph(Source::AuthMethods) => Variant::GraphAuthenticationMethods,
            JsonKind::Graph(Source::Oauth2Grants) => Variant::GraphOauth2Grants,
            JsonKind::Graph(Source::ServicePrincipals) => Variant::GraphServicePrincipals,
            JsonKind::Graph(_) => Variant::GraphDevices,
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
    if has("AuditData") && has("UserIds") && has("Operations") {
        return Some(JsonKind::SearchObject);
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
    /// A diagnostic category or table this tool has no evidence source for.
    NotImported(String),
    /// A record of a known kind that cannot be mapped (the reason).
    Bad(String),
}

/// A Log Analytics row (from a CSV or JSON export) in its source's Graph shape.
pub fn log_analytics(table: Table, m: Map<String, Value>) -> Routed {
    let source = match table {
        Table::SignIns => match monitor::signin_table_source(&m) {
            Ok(s) => s,
            Err(why) => return Routed::Bad(why),
        },
        Table::AuditLogs => Source::EntraAudit,
        Table::OfficeActivity => {
            return Routed::To(Source::PurviewAudit, purview::from_office_activity(m))
        }
        Table::GraphActivity => Source::GraphActivity,
        Table::RiskyServicePrincipals => Source::RiskyServicePrincipals,
        Table::ServicePrincipalRiskEvents => Source::ServicePrincipalRiskDetections,
        Table::Provisioning => Source::Provisioning,
    };
    Routed::To(source, monitor::from_log_analytics(m, table))
}

/// Converts a classified record and picks its source (`hint`: from the file name).
pub fn route(
    kind: JsonKind,
    m: Map<String, Value>,
    hint: Option<Source>,
    hints: JsonHints,
) -> Routed {
    match kind {
        JsonKind::GraphSignin => Routed::To(signin_source(&m, hint), Value::Object(m)),
        JsonKind::GraphAudit => Routed::To(Source::EntraAudit, Value::Object(m)),
        JsonKind::GraphAuditRecord if hints.powershell || hints.tool.is_some() => {
            let mut m = m;
            peers::schema_case(&mut m);
            Routed::To(Source::PurviewAudit, Value::Object(m))
        }
        JsonKind::GraphAuditRecord => Routed::To(Source::PurviewAudit, Value::Object(m)),
        JsonKind::ManagementApi => Routed::To(
            Source::PurviewAudit,
            purview::from_audit_data(m, &Map::new()),
        ),
        JsonKind::SearchObject => match peers::search_object(m) {
            Ok(record) => Routed::To(Source::PurviewAudit, record),
            Err(why) => Routed::Bad(why),
        },
        JsonKind::Diagnostic => {
            let category = s(&m, "category").to_string();
            match monitor::category_source(&category) {
                Some(source) => Routed::To(source, monitor::from_diagnostic(m)),
                None => Routed::NotImported(category),
            }
        }
        JsonKind::LogAnalytics(table) => log_analytics(table, m),
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
