//! The closed set of file formats the importer reads ("variants"), named as the
//! manifest records them and as `import --as VARIANT` takes them. Formats that
//! the content cannot tell apart form a [`Family`]; `--as` may choose only
//! within the family the content belongs to, so an operator can say what a
//! renamed download is, never map one format's rows as another's.

use m365_preserve_sources::Source;
use serde::Serialize;

macro_rules! variants {
    ($($(#[$doc:meta])* $v:ident = $name:literal,)*) => {
        /// One importable file format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
        pub enum Variant {
            $($(#[$doc])* #[cfg_attr(feature = "clap", value(name = $name))] $v,)*
        }

        impl Variant {
            /// The name in the manifest and in `--as`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Variant::$v => $name,)*
                }
            }
        }
    };
}

variants! {
    /// Entra admin center interactive sign-ins download (CSV).
    EntraInteractiveCsv = "entra-portal-csv/interactive",
    /// Entra admin center non-interactive sign-ins download (CSV).
    EntraNonInteractiveCsv = "entra-portal-csv/noninteractive",
    /// Entra admin center service principal sign-ins download (CSV).
    EntraServicePrincipalCsv = "entra-portal-csv/serviceprincipal",
    /// Entra admin center managed identity sign-ins download (CSV).
    EntraManagedIdentityCsv = "entra-portal-csv/managedidentity",
    /// The AuthDetails companion of a sign-in download.
    EntraAuthDetailsCsv = "entra-portal-csv/authdetails",
    /// Entra admin center audit log download (CSV).
    EntraAuditCsv = "entra-portal-csv/audit",
    /// Purview audit search export, current layout.
    PurviewCurrentCsv = "purview-export-csv/current",
    /// Purview audit export, classic layout.
    PurviewClassicCsv = "purview-export-csv/classic",
    /// Purview audit export, classic layout with RecordType.
    PurviewClassicRecordTypeCsv = "purview-export-csv/classic-recordtype",
    /// `Search-UnifiedAuditLog | Export-Csv`.
    SearchUnifiedAuditLogCsv = "purview-export-csv/search-unifiedauditlog",
    /// Exchange Online `Get-InboxRule | Export-Csv`.
    GetInboxRuleCsv = "exchange-powershell/get-inboxrule-csv",
    /// Exchange Online `Get-InboxRule | ConvertTo-Json`.
    GetInboxRuleJson = "exchange-powershell/get-inboxrule-json",
    /// `Search-UnifiedAuditLog | ConvertTo-Json` by an unnamed script.
    SearchUnifiedAuditLogJson = "exchange-powershell/search-unifiedauditlog-json",
    /// Exchange Online `Get-Mailbox | Export-Csv`.
    GetMailboxCsv = "exchange-powershell/get-mailbox-csv",
    /// Exchange Online `Get-Mailbox | ConvertTo-Json`.
    GetMailboxJson = "exchange-powershell/get-mailbox-json",
    /// Graph sign-ins (portal JSON download, API pages).
    GraphSignins = "graph-json/signins",
    /// Graph directory audits.
    GraphDirectoryAudits = "graph-json/directory-audits",
    /// Graph audit-log query records (`auditLogRecord`).
    GraphAuditLogRecords = "graph-json/audit-log-records",
    /// Graph message rules.
    GraphMessageRules = "graph-json/message-rules",
    /// Graph authentication methods.
    GraphAuthenticationMethods = "graph-json/authentication-methods",
    /// Graph OAuth2 permission grants.
    GraphOauth2Grants = "graph-json/oauth2-grants",
    /// Graph service principals.
    GraphServicePrincipals = "graph-json/service-principals",
    /// Graph devices.
    GraphDevices = "graph-json/devices",
    /// Office 365 Management Activity API content blob.
    ManagementApiBlob = "management-api/content-blob",
    /// Azure Monitor diagnostic records from an Event Hub (`{"records": [...]}`).
    AzureMonitorEventHub = "azure-monitor/event-hub",
    /// Azure Monitor diagnostic records from a storage account (`PT1H.json`).
    AzureMonitorStorage = "azure-monitor/storage-pt1h",
    /// One Azure Monitor diagnostic record.
    AzureMonitorRecord = "azure-monitor/record",
    /// Log Analytics / Sentinel rows as JSON (query API response or records).
    LogAnalyticsJson = "log-analytics-json",
    /// Log Analytics / Sentinel portal "Export to CSV".
    LogAnalyticsCsv = "log-analytics-csv",
    /// Microsoft-Extractor-Suite `Get-GraphEntraSignInLogs` JSON.
    ExtractorSuiteSignins = "extractor-suite/signins-json",
    /// Microsoft-Extractor-Suite `Get-GraphEntraAuditLogs` JSON.
    ExtractorSuiteAuditLogs = "extractor-suite/audit-logs-json",
    /// Microsoft-Extractor-Suite `Get-UAL` CSV.
    ExtractorSuiteUalCsv = "extractor-suite/ual-csv",
    /// Microsoft-Extractor-Suite `Get-UAL` JSON or JSONL (whole results).
    ExtractorSuiteUalJson = "extractor-suite/ual-json",
    /// Microsoft-Extractor-Suite `Get-UAL -AuditDataOnly`, SOF-ELK or `Get-UALGraph` JSONL.
    ExtractorSuiteUalAuditData = "extractor-suite/ual-auditdata-jsonl",
    /// Microsoft-Extractor-Suite `Get-UALGraph` CSV.
    ExtractorSuiteUalGraphCsv = "extractor-suite/ualgraph-csv",
    /// Microsoft-Extractor-Suite `Get-UALGraph` JSON.
    ExtractorSuiteUalGraphJson = "extractor-suite/ualgraph-json",
    /// Microsoft-Extractor-Suite `Get-MailboxRules`, 24-column layout.
    ExtractorSuiteMailboxRules = "extractor-suite/mailbox-rules-csv",
    /// Microsoft-Extractor-Suite `Get-MailboxRules`, older 8-column layouts.
    ExtractorSuiteMailboxRules8 = "extractor-suite/mailbox-rules-8col-csv",
    /// Microsoft-Extractor-Suite `Get-MailboxRulesGraph`.
    ExtractorSuiteMailboxRulesGraph = "extractor-suite/mailbox-rules-graph-csv",
    /// Microsoft-Extractor-Suite `Get-OAuthPermissions(Graph)`.
    ExtractorSuiteOauth = "extractor-suite/oauth-permissions-csv",
    /// Microsoft-Extractor-Suite `Get-MFA` authentication methods per user.
    ExtractorSuiteMfaMethods = "extractor-suite/mfa-authentication-methods-csv",
    /// Microsoft-Extractor-Suite `Get-MFA` user registration details.
    ExtractorSuiteMfaRegistration = "extractor-suite/mfa-user-registration-csv",
    /// Hawk inbox rules (`InboxRules_*`, `_Investigate_InboxRules_*`) CSV.
    HawkInboxRulesCsv = "hawk/inbox-rules-csv",
    /// Hawk inbox rules JSON (objects appended one after another).
    HawkInboxRulesJson = "hawk/inbox-rules-json",
    /// Hawk `ForwardingReport_*` / `User_ForwardingReport` CSV.
    HawkForwardingCsv = "hawk/forwarding-csv",
    /// Hawk `Consent_Grants` CSV.
    HawkConsentGrantsCsv = "hawk/consent-grants-csv",
    /// Hawk raw unified audit log searches (`Search-UnifiedAuditLog` objects) CSV.
    HawkUalCsv = "hawk/ual-csv",
    /// Hawk raw unified audit log searches JSON.
    HawkUalJson = "hawk/ual-json",
    /// Hawk `Simple_*` unified audit log CSV (flattened AuditData).
    HawkSimpleUalCsv = "hawk/ual-simple-csv",
    /// Hawk `Converted_Authentication_Logs` CSV.
    HawkAuthenticationLogsCsv = "hawk/authentication-logs-csv",
}

/// Formats whose files the content alone cannot tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    UserSigninCsv,
    AppSigninCsv,
    SearchUalCsv,
    SearchUalJson,
    InboxRuleCsv,
    InboxRuleJson,
    MailboxCsv,
    GraphSignins,
    GraphAudits,
    AuditDataLines,
    GraphAuditRecords,
    /// Recognised by its content alone.
    Own(Variant),
}

impl Variant {
    /// The family whose members `--as` may choose between.
    pub fn family(self) -> Family {
        use Variant::*;
        match self {
            EntraInteractiveCsv | EntraNonInteractiveCsv => Family::UserSigninCsv,
            EntraServicePrincipalCsv | EntraManagedIdentityCsv => Family::AppSigninCsv,
            SearchUnifiedAuditLogCsv | ExtractorSuiteUalCsv | HawkUalCsv => Family::SearchUalCsv,
            SearchUnifiedAuditLogJson | ExtractorSuiteUalJson | HawkUalJson => {
                Family::SearchUalJson
            }
            GetInboxRuleCsv | HawkInboxRulesCsv => Family::InboxRuleCsv,
            GetInboxRuleJson | HawkInboxRulesJson => Family::InboxRuleJson,
            GetMailboxCsv | HawkForwardingCsv => Family::MailboxCsv,
            GraphSignins | ExtractorSuiteSignins => Family::GraphSignins,
            GraphDirectoryAudits | ExtractorSuiteAuditLogs => Family::GraphAudits,
            ManagementApiBlob | ExtractorSuiteUalAuditData => Family::AuditDataLines,
            GraphAuditLogRecords | ExtractorSuiteUalGraphJson => Family::GraphAuditRecords,
            other => Family::Own(other),
        }
    }

    /// The members of a family, for messages.
    pub fn members(family: Family) -> Vec<Variant> {
        FAMILY_MEMBERS
            .iter()
            .copied()
            .filter(|v| v.family() == family)
            .collect()
    }

    /// The sign-in source a portal sign-in variant stands for.
    pub fn signin_source(self) -> Option<Source> {
        match self {
            Variant::EntraInteractiveCsv => Some(Source::SigninsInteractive),
            Variant::EntraNonInteractiveCsv => Some(Source::SigninsNonInteractive),
            Variant::EntraServicePrincipalCsv => Some(Source::SigninsServicePrincipal),
            Variant::EntraManagedIdentityCsv => Some(Source::SigninsManagedIdentity),
            _ => None,
        }
    }

    /// The portal sign-in variant of a source.
    pub fn of_signin_source(source: Source) -> Option<Variant> {
        FAMILY_MEMBERS
            .iter()
            .copied()
            .find(|v| v.signin_source() == Some(source))
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Variant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The variants that share a family with another.
const FAMILY_MEMBERS: &[Variant] = {
    use Variant::*;
    &[
        EntraInteractiveCsv,
        EntraNonInteractiveCsv,
        EntraServicePrincipalCsv,
        EntraManagedIdentityCsv,
        SearchUnifiedAuditLogCsv,
        ExtractorSuiteUalCsv,
        HawkUalCsv,
        SearchUnifiedAuditLogJson,
        ExtractorSuiteUalJson,
        HawkUalJson,
        GetInboxRuleCsv,
        HawkInboxRulesCsv,
        GetInboxRuleJson,
        HawkInboxRulesJson,
        GetMailboxCsv,
        HawkForwardingCsv,
        GraphSignins,
        ExtractorSuiteSignins,
        GraphDirectoryAudits,
        ExtractorSuiteAuditLogs,
        ManagementApiBlob,
        ExtractorSuiteUalAuditData,
        GraphAuditLogRecords,
        ExtractorSuiteUalGraphJson,
    ]
};

/// How a file's variant was known (recorded per file in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifiedBy {
    /// Its content alone.
    Content,
    /// Its content, with the file name choosing within the family.
    FileName,
    /// The operator's `--as`.
    Operator,
}

/// Which tool wrote a file, from the names the tools give their outputs
/// (Microsoft-Extractor-Suite `Init-OutputDir` and per-cmdlet names; Hawk's
/// `Out-MultipleFileType` prefixes), where content cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ExtractorSuite,
    Hawk,
}

pub fn tool_hint(file_name: &str) -> Option<Tool> {
    let n = file_name.to_ascii_lowercase();
    const HAWK: &[&str] = &[
        "inboxrules_",
        "_investigate_",
        "all_inboxrules",
        "forwardingreport",
        "consent_grants",
        "raw_",
        "simple_",
        "_simple",
        "_logs",
        "admin_inbox_rules",
        "converted_authentication_logs",
        "hawk",
    ];
    const MES: &[&str] = &[
        "-signinlogs",
        "signinlogs-",
        "-auditlogs",
        "auditlogs-",
        "ual-",
        "mailboxrules",
        "oauthpermissions",
        "authenticationmethods",
        "userregistrationdetails",
    ];
    if HAWK.iter().any(|p| n.contains(p)) {
        Some(Tool::Hawk)
    } else if MES.iter().any(|p| n.contains(p)) {
        Some(Tool::ExtractorSuite)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_list_their_members_and_names_are_unique() {
        assert_eq!(
            Variant::members(Family::UserSigninCsv),
            vec![
                Variant::EntraInteractiveCsv,
                Variant::EntraNonInteractiveCsv
            ]
        );
        assert_eq!(
            Variant::LogAnalyticsCsv.family(),
            Family::Own(Variant::LogAnalyticsCsv)
        );
        assert_eq!(
            Variant::of_signin_source(Source::SigninsManagedIdentity),
            Some(Variant::EntraManagedIdentityCsv)
        );
        assert_eq!(
            tool_hint("Hawk_contoso/hanako/InboxRules_hanako.csv"),
            Some(Tool::Hawk)
        );
        assert_eq!(
            tool_hint("20260615031209-interactiveUser-nonInteractiveUser-SignInLogs.json"),
            Some(Tool::ExtractorSuite)
        );
        assert_eq!(tool_hint("InteractiveSignIns_2026-11-18.json"), None);
    }
}
