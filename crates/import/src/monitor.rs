//! Azure Monitor diagnostic-settings records (Event Hub, storage account) and Log
//! Analytics table rows, turned back into the Graph shapes. Diagnostic records
//! carry the Graph object in `properties`; Log Analytics renames its fields to
//! PascalCase and stores nested objects as JSON strings. Fields that exist only in
//! the transport (tenant, level, table name...) are kept under `unmappedFields`.

use super::mapping::UNMAPPED;
use m365_preserve_sources::Source;
use serde_json::{Map, Value};

/// The evidence source of a diagnostic-settings category, if it is imported
/// (category names: <https://learn.microsoft.com/entra/identity/monitoring-health/howto-configure-diagnostic-settings>).
pub fn category_source(category: &str) -> Option<Source> {
    match category {
        "SignInLogs" => Some(Source::SigninsInteractive),
        "NonInteractiveUserSignInLogs" => Some(Source::SigninsNonInteractive),
        "ServicePrincipalSignInLogs" => Some(Source::SigninsServicePrincipal),
        "ManagedIdentitySignInLogs" => Some(Source::SigninsManagedIdentity),
        "AuditLogs" => Some(Source::EntraAudit),
        "MicrosoftGraphActivityLogs" => Some(Source::GraphActivity),
        "RiskyServicePrincipals" => Some(Source::RiskyServicePrincipals),
        "ServicePrincipalRiskEvents" => Some(Source::ServicePrincipalRiskDetections),
        "ProvisioningLogs" => Some(Source::Provisioning),
        _ => None,
    }
}

/// A diagnostic record: `properties` (the Graph object) plus its envelope.
pub fn from_diagnostic(mut record: Map<String, Value>) -> Value {
    let mut out = match record.remove("properties") {
        Some(Value::Object(p)) => p,
        Some(other) => {
            let mut m = Map::new();
            m.insert("properties".into(), other);
            m
        }
        None => Map::new(),
    };
    if !record.is_empty() {
        out.insert(UNMAPPED.into(), Value::Object(record));
    }
    Value::Object(out)
}

/// A `dynamic` column stored as a JSON string, decoded; anything else unchanged.
pub fn decode_dynamic(v: Value) -> Value {
    match v {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            match serde_json::from_str::<Value>(&s) {
                Ok(parsed @ (Value::Object(_) | Value::Array(_))) => parsed,
                _ => Value::String(s),
            }
        }
        other => other,
    }
}

/// Log Analytics columns that describe the table row, not the event
/// (<https://learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns>);
/// kept under `unmappedFields`. `TenantId` is the workspace, not the tenant.
const LA_ONLY: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated",
    "Type",
    "Category",
    "OperationName",
    "OperationVersion",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "Identity",
    "Level",
    "Location",
    "Resource",
    "ResourceGroup",
    "ResourceProvider",
    "ResourceId",
    "AlternateSignInName",
    "AADTenantId",
    "MG",
    "ManagementGroupName",
    "Computer",
];

/// Columns whose Graph names are not the camelCase of the column.
const RENAMES: &[(&str, &str)] = &[
    ("Id", "id"),
    ("LocationDetails", "location"),
    (
        "ConditionalAccessPolicies",
        "appliedConditionalAccessPolicies",
    ),
    ("ResourceIdentity", "resourceId"),
    ("IPAddress", "ipAddress"),
    ("RiskEventTypes_V2", "riskEventTypes_v2"),
    ("AADOperationType", "operationType"),
    ("ProcessingTimeInMs", "processingTimeInMilliseconds"),
    (
        "IPAddressFromResourceProvider",
        "ipAddressFromResourceProvider",
    ),
];

/// Graph fields typed `Edm.Boolean` / integer that Log Analytics stores as
/// text (a CSV export has only text): converted so that the CSV and JSON
/// exports of one table give the same records.
const BOOLS: &[&str] = &[
    "isInteractive",
    "isRisky",
    "flaggedForReview",
    "isTenantRestricted",
    "isThroughGlobalSecureAccess",
    "accountEnabled",
    "isProcessing",
];
const INTS: &[&str] = &[
    "processingTimeInMilliseconds",
    "autonomousSystemNumber",
    "responseStatusCode",
    "responseSizeBytes",
    "clientAuthMethod",
    "durationInMilliseconds",
    "durationMs",
];

/// The Log Analytics tables imported
/// (<https://learn.microsoft.com/azure/azure-monitor/reference/tables-category#security>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    SignIns,
    AuditLogs,
    OfficeActivity,
    GraphActivity,
    RiskyServicePrincipals,
    ServicePrincipalRiskEvents,
    Provisioning,
}

impl Table {
    /// The table's name in a variant (`log-analytics-csv/SigninLogs`).
    pub fn name(self, row: &Map<String, Value>) -> &'static str {
        match self {
            Table::SignIns => match signin_table_source(row) {
                Ok(Source::SigninsNonInteractive) => "AADNonInteractiveUserSignInLogs",
                Ok(Source::SigninsServicePrincipal) => "AADServicePrincipalSignInLogs",
                Ok(Source::SigninsManagedIdentity) => "AADManagedIdentitySignInLogs",
                _ => "SigninLogs",
            },
            Table::AuditLogs => "AuditLogs",
            Table::OfficeActivity => "OfficeActivity",
            Table::GraphActivity => "MicrosoftGraphActivityLogs",
            Table::RiskyServicePrincipals => "AADRiskyServicePrincipals",
            Table::ServicePrincipalRiskEvents => "AADServicePrincipalRiskEvents",
            Table::Provisioning => "AADProvisioningLogs",
        }
    }
}

fn text<'m>(row: &'m Map<String, Value>, k: &str) -> &'m str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Which table a row comes from: its `Type` when that names a table, else its
/// columns (a query may overwrite or drop `Type`).
pub fn table(row: &Map<String, Value>) -> Option<Table> {
    let has = |k: &str| row.contains_key(k);
    if !(has("TimeGenerated") || has("TenantId")) {
        return None;
    }
    let by_type = match text(row, "Type") {
        "SigninLogs"
        | "AADNonInteractiveUserSignInLogs"
        | "AADServicePrincipalSignInLogs"
        | "AADManagedIdentitySignInLogs" => Some(Table::SignIns),
        "AuditLogs" => Some(Table::AuditLogs),
        "OfficeActivity" => Some(Table::OfficeActivity),
        "MicrosoftGraphActivityLogs" => Some(Table::GraphActivity),
        "AADRiskyServicePrincipals" => Some(Table::RiskyServicePrincipals),
        "AADServicePrincipalRiskEvents" => Some(Table::ServicePrincipalRiskEvents),
        "AADProvisioningLogs" => Some(Table::Provisioning),
        _ => None,
    };
    if by_type.is_some() {
        return by_type;
    }
    if has("OfficeWorkload") || has("OfficeId") {
        Some(Table::OfficeActivity)
    } else if has("RequestUri") && has("ResponseStatusCode") {
        Some(Table::GraphActivity)
    } else if has("ProvisioningAction") && has("CycleId") {
        Some(Table::Provisioning)
    } else if has("RiskLastUpdatedDateTime") && has("ServicePrincipalType") {
        Some(Table::RiskyServicePrincipals)
    } else if has("RiskEventType") && has("ServicePrincipalDisplayName") {
        Some(Table::ServicePrincipalRiskEvents)
    } else if has("ActivityDisplayName") || (has("InitiatedBy") && has("TargetResources")) {
        Some(Table::AuditLogs)
    } else if (has("AppDisplayName") && (has("CreatedDateTime") || has("IPAddress")))
        || (has("ServicePrincipalCredentialKeyId") && has("ServicePrincipalName"))
    {
        Some(Table::SignIns)
    } else {
        None
    }
}

/// The sign-in source of a Log Analytics sign-in row: its `Type` or `Category`,
/// else whether it is interactive; an application sign-in row that says
/// neither is refused (service principal and managed identity tables have the
/// same columns).
pub fn signin_table_source(row: &Map<String, Value>) -> Result<Source, String> {
    Ok(match (text(row, "Type"), text(row, "Category")) {
        ("AADNonInteractiveUserSignInLogs", _) | (_, "NonInteractiveUserSignInLogs") => {
            Source::SigninsNonInteractive
        }
        ("AADServicePrincipalSignInLogs", _) | (_, "ServicePrincipalSignInLogs") => {
            Source::SigninsServicePrincipal
        }
        ("AADManagedIdentitySignInLogs", _) | (_, "ManagedIdentitySignInLogs") => {
            Source::SigninsManagedIdentity
        }
        ("SigninLogs", _) | (_, "SignInLogs") => Source::SigninsInteractive,
        _ if !row.contains_key("UserPrincipalName") && row.contains_key("ServicePrincipalName") => {
            return Err("an application sign-in row without Type or Category: service principal and managed identity sign-ins have the same columns; export the Type column too".into())
        }
        _ => match row.get("IsInteractive") {
            Some(Value::Bool(false)) => Source::SigninsNonInteractive,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => {
                Source::SigninsNonInteractive
            }
            _ => Source::SigninsInteractive,
        },
    })
}

/// Columns of `table` that are event fields although they are standard column
/// names elsewhere, and the Graph names some columns take in that table only.
fn table_specific(
    table: Table,
) -> (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
) {
    match table {
        Table::GraphActivity => (&["TimeGenerated", "Location", "DurationMs"], &[]),
        Table::ServicePrincipalRiskEvents => (&["Location"], &[]),
        Table::Provisioning => (&["DurationMs"], &[("DurationMs", "durationInMilliseconds")]),
        _ => (&[], &[]),
    }
}

/// Coalesces a Kusto `union`'s `X_dynamic` / `X_string` pair into `X`
/// (<https://learn.microsoft.com/kusto/query/union-operator>: columns of one name
/// and different types are suffixed with their type); the other, empty one is
/// dropped.
pub fn merge_typed_pairs(row: Map<String, Value>) -> Map<String, Value> {
    if !row
        .keys()
        .any(|k| k.ends_with("_dynamic") || k.ends_with("_string"))
    {
        return row;
    }
    let mut out = Map::with_capacity(row.len());
    for (k, v) in row {
        let base = k
            .strip_suffix("_dynamic")
            .or_else(|| k.strip_suffix("_string"));
        match base {
            Some(base) => {
                let empty = matches!(&v, Value::Null) || v.as_str() == Some("");
                if !empty || !out.contains_key(base) {
                    if empty {
                        continue;
                    }
                    out.insert(base.to_string(), v);
                }
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    out
}

fn typed(name: &str, v: Value) -> Value {
    match v {
        Value::String(s) if BOOLS.contains(&name) => match s.as_str() {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => Value::String(s),
        },
        Value::String(s) if INTS.contains(&name) => match s.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(s),
        },
        other => other,
    }
}

fn camel(k: &str) -> String {
    let mut c = k.chars();
    c.next()
        .map(|h| h.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// A Log Analytics row in the Graph shape of its table's source: columns
/// renamed to the Graph field (camelCase, or the renames above), `dynamic` text
/// decoded, Graph-typed values converted; transport columns, `_`-prefixed
/// system columns and `_`-suffixed duplicates under `unmappedFields`.
pub fn from_log_analytics(row: Map<String, Value>, table: Table) -> Value {
    let (keep, renames) = table_specific(table);
    let mut out = Map::new();
    let mut rest = Map::new();
    for (k, v) in merge_typed_pairs(row) {
        // A string column is never null in Log Analytics, and its CSV export
        // writes "" as an empty cell, which the CSV reader leaves out: an empty
        // string is left out of the JSON rows too, so both exports give the
        // same record (the original file keeps every byte).
        if v.as_str() == Some("") {
            continue;
        }
        let v = decode_dynamic(v);
        let transport = LA_ONLY.contains(&k.as_str()) && !keep.contains(&k.as_str());
        if transport || k.ends_with('_') || k.starts_with('_') {
            rest.insert(k, v);
            continue;
        }
        let name = renames
            .iter()
            .chain(RENAMES)
            .find(|(from, _)| *from == k)
            .map(|(_, to)| to.to_string())
            .unwrap_or_else(|| camel(&k));
        if out.contains_key(&name) {
            rest.insert(k, v);
        } else {
            let v = typed(&name, v);
            out.insert(name, v);
        }
    }
    if !rest.is_empty() {
        out.insert(UNMAPPED.into(), Value::Object(rest));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_analytics_audit_row_becomes_a_directory_audit() {
        let row = json!({"TenantId": "0", "TimeGenerated": "2021-08-02T13:29:25.983Z", "Id": "Directory_1",
            "ActivityDisplayName": "Update application", "AADOperationType": "Update", "Level": "4",
            "InitiatedBy": "{\"user\":{\"id\":\"a\"}}", "TargetResources": "[{\"id\":\"t\"}]", "Type": "AuditLogs"});
        let out = from_log_analytics(row.as_object().unwrap().clone(), Table::AuditLogs);
        assert_eq!(out["id"], "Directory_1");
        assert_eq!(out["operationType"], "Update");
        assert_eq!(out["initiatedBy"]["user"]["id"], "a");
        assert_eq!(out["targetResources"][0]["id"], "t");
        assert_eq!(out[UNMAPPED]["Level"], "4");
        assert_eq!(table(row.as_object().unwrap()), Some(Table::AuditLogs));
    }

    #[test]
    fn union_pairs_coalesce_and_text_becomes_graph_types() {
        let row = json!({"TimeGenerated": "t", "Type": "AADNonInteractiveUserSignInLogs",
            "Status_dynamic": "", "Status_string": "{\"errorCode\":50126}", "IsInteractive": "false",
            "ProcessingTimeInMs": "113", "Location": "JP", "_ItemId": "x", "UserId_": "u"});
        let m = row.as_object().unwrap().clone();
        assert_eq!(table(&m), Some(Table::SignIns));
        assert_eq!(signin_table_source(&m), Ok(Source::SigninsNonInteractive));
        let out = from_log_analytics(m, Table::SignIns);
        assert_eq!(out["status"]["errorCode"], 50126);
        assert_eq!(out["isInteractive"], false);
        assert_eq!(out["processingTimeInMilliseconds"], 113);
        assert_eq!(out[UNMAPPED]["Location"], "JP");
        assert_eq!(out[UNMAPPED]["_ItemId"], "x");
        assert!(out.get("status_dynamic").is_none());
    }
}
