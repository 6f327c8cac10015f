//! Azure Monitor diagnostic-settings records (Event Hub, storage account) and Log
//! Analytics table rows, turned back into the Graph shapes. Diagnostic records
//! carry the Graph object in `properties`; Log Analytics renames its fields to
//! PascalCase and stores nested objects as JSON strings. Fields that exist only in
//! the transport (tenant, level, table name...) are kept under `unmappedFields`.

use super::mapping::UNMAPPED;
use m365_preserve_sources::Source;
use serde_json::{Map, Value};

/// The evidence source of a diagnostic-settings category, if it is imported.
pub fn category_source(category: &str) -> Option<Source> {
    match category {
        "SignInLogs" => Some(Source::SigninsInteractive),
        "NonInteractiveUserSignInLogs" => Some(Source::SigninsNonInteractive),
        "ServicePrincipalSignInLogs" => Some(Source::SigninsServicePrincipal),
        "ManagedIdentitySignInLogs" => Some(Source::SigninsManagedIdentity),
        "AuditLogs" => Some(Source::EntraAudit),
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

/// Log Analytics columns that describe the table row, not the event.
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
    "_ResourceId",
    "AlternateSignInName",
    "AADTenantId",
    "_ItemId",
    "_Internal_WorkspaceResourceId",
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
];

/// The Log Analytics tables imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    SignIns,
    AuditLogs,
    OfficeActivity,
}

/// Which table a row comes from, by its columns (a query may overwrite `Type`).
pub fn table(row: &Map<String, Value>) -> Option<Table> {
    let has = |k: &str| row.contains_key(k);
    if !(has("TimeGenerated") || has("TenantId")) {
        return None;
    }
    if has("OfficeWorkload") || has("OfficeId") {
        Some(Table::OfficeActivity)
    } else if has("ActivityDisplayName") || (has("InitiatedBy") && has("TargetResources")) {
        Some(Table::AuditLogs)
    } else if has("AppDisplayName") && (has("CreatedDateTime") || has("IPAddress")) {
        Some(Table::SignIns)
    } else {
        None
    }
}

/// The sign-in source of a Log Analytics sign-in row.
pub fn signin_table_source(row: &Map<String, Value>) -> Source {
    let s = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("");
    match (s("Type"), s("Category")) {
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
        _ => match row.get("IsInteractive") {
            Some(Value::Bool(false)) => Source::SigninsNonInteractive,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => {
                Source::SigninsNonInteractive
            }
            _ => Source::SigninsInteractive,
        },
    }
}

/// A Log Analytics `SigninLogs`/`AuditLogs` row in the Graph shape.
pub fn from_log_analytics(row: Map<String, Value>) -> Value {
    let mut out = Map::new();
    let mut rest = Map::new();
    for (k, v) in row {
        let v = decode_dynamic(v);
        if LA_ONLY.contains(&k.as_str()) || k.ends_with('_') {
            rest.insert(k, v);
            continue;
        }
        let name = RENAMES
            .iter()
            .find(|(from, _)| *from == k)
            .map(|(_, to)| to.to_string())
            .unwrap_or_else(|| {
                let mut c = k.chars();
                c.next()
                    .map(|h| h.to_lowercase().chain(c).collect())
                    .unwrap_or_default()
            });
        if out.contains_key(&name) {
            rest.insert(k, v);
        } else {
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
        let out = from_log_analytics(row.as_object().unwrap().clone());
        assert_eq!(out["id"], "Directory_1");
        assert_eq!(out["operationType"], "Update");
        assert_eq!(out["initiatedBy"]["user"]["id"], "a");
        assert_eq!(out["targetResources"][0]["id"], "t");
        assert_eq!(out[UNMAPPED]["Level"], "4");
        assert_eq!(table(row.as_object().unwrap()), Some(Table::AuditLogs));
    }
}
