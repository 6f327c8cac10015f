//! Files written by other responders' tools, mapped to the Graph shapes of the
//! collector's sources: Microsoft-Extractor-Suite (`Get-UAL`, `Get-UALGraph`,
//! `Get-MailboxRulesGraph`, `Get-OAuthPermissions`, `Get-MFA`) and Hawk
//! (`Get-HawkTenantConsentGrant`, `Get-SimpleUnifiedAuditLog`,
//! `Import-AzureAuthenticationLog`). Their layouts were learnt from the tools'
//! public source (invictus-ir/Microsoft-Extractor-Suite, T0pCyber/hawk); every
//! column without a Graph field is kept under `unmappedFields`.

use super::csvread::Header;
use super::dates::{read_portal_date, DateCell};
use super::error::{BadRow, Position};
use super::exchange::recipients;
use super::mapping::{bool_text, AmbiguousDate, UNMAPPED};
use super::purview::from_audit_data;
use super::record_types::{record_type_member, user_type_member};
use m365_preserve_sources::Source;
use serde_json::{json, Map, Value};

/// One row as `column -> text`; empty cells are left out unless `keep_empty`
/// (the CSV cannot tell PowerShell's `$null` from `""`).
pub fn row_map(h: &Header, row: &csv::StringRecord, keep_empty: bool) -> Map<String, Value> {
    (0..h.width())
        .filter(|i| keep_empty || !row[*i].is_empty())
        .map(|i| (h.label(i), Value::String(row[i].to_string())))
        .collect()
}

fn take(m: &mut Map<String, Value>, k: &str) -> Option<String> {
    match m.remove(k) {
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
        None => None,
    }
}

fn rest(out: &mut Map<String, Value>, m: Map<String, Value>) {
    if !m.is_empty() {
        out.insert(UNMAPPED.into(), Value::Object(m));
    }
}

/// Puts Graph's `auditLogRecordType` / `userType` member names in the schema's
/// case, keeping an older client's spelling under `unmappedFields`.
pub fn schema_case(record: &mut Map<String, Value>) {
    for (key, member) in [
        (
            "auditLogRecordType",
            record_type_member as fn(&str) -> Option<&'static str>,
        ),
        ("userType", user_type_member),
    ] {
        let Some(Value::String(s)) = record.get(key) else {
            continue;
        };
        let Some(m) = member(s) else { continue };
        if m != s {
            let old = record.insert(key.into(), Value::String(m.into()));
            let extra = record
                .entry(UNMAPPED)
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(e), Some(old)) = (extra, old) {
                e.insert(key.into(), old);
            }
        }
    }
}

/// `Get-UALGraph` CSV: the `auditLogRecord` columns, `auditData` as JSON text,
/// `administrativeUnits` joined with `"; "`.
pub fn ual_graph_row(h: &Header, row: &csv::StringRecord, line: u64) -> Result<Value, BadRow> {
    // The `auditLogRecord` properties keep an empty cell as "" (its JSON form
    // writes `"clientIp": ""` too); other empty cells are left out.
    let mut m = row_map(h, row, true);
    let mut out = Map::new();
    for k in [
        "id",
        "createdDateTime",
        "auditLogRecordType",
        "operation",
        "organizationId",
        "userType",
        "userId",
        "service",
        "objectId",
        "userPrincipalName",
        "clientIp",
    ] {
        if let Some(v) = take(&mut m, k) {
            out.insert(k.into(), Value::String(v));
        }
    }
    if let Some(units) = take(&mut m, "administrativeUnits") {
        let list: Vec<Value> = units
            .split("; ")
            .filter(|u| !u.is_empty())
            .map(|u| Value::String(u.into()))
            .collect();
        out.insert("administrativeUnits".into(), Value::Array(list));
    }
    if let Some(text) = take(&mut m, "auditData").filter(|t| !t.is_empty()) {
        let col = h.find("auditdata").unwrap_or(0);
        let data: Value = serde_json::from_str(&text).map_err(|e| {
            BadRow::new(
                Position::field(line, col as u64 + 1, "auditData"),
                format!("auditData is not JSON ({e})"),
            )
        })?;
        out.insert("auditData".into(), data);
    }
    schema_case(&mut out);
    m.retain(|_, v| v.as_str() != Some(""));
    rest(&mut out, m);
    Ok(Value::Object(out))
}

/// `Get-MailboxRulesGraph` CSV as a `messageRule`: addresses joined with
/// `"; "`, the folder as `FolderID: <id>`.
pub fn graph_rule_row(h: &Header, row: &csv::StringRecord) -> Value {
    let mut m = row_map(h, row, false);
    let mut out = Map::new();
    if let Some(id) = take(&mut m, "RuleId") {
        out.insert("id".into(), Value::String(id));
    }
    if let Some(n) = take(&mut m, "RuleName") {
        out.insert("displayName".into(), Value::String(n));
    }
    if let Some(seq) = take(&mut m, "Sequence") {
        let v = seq.parse::<i64>().map(Value::from);
        out.insert("sequence".into(), v.unwrap_or(Value::String(seq)));
    }
    let flag = |m: &mut Map<String, Value>, k: &str| {
        take(m, k).map(|t| bool_text(&t).map_or(Value::String(t), Value::Bool))
    };
    if let Some(b) = flag(&mut m, "Enabled") {
        out.insert("isEnabled".into(), b);
    }
    let mut actions = Map::new();
    for (col, key) in [
        ("ForwardTo", "forwardTo"),
        ("RedirectTo", "redirectTo"),
        ("ForwardAsAttachment", "forwardAsAttachmentTo"),
    ] {
        if let Some(t) = take(&mut m, col) {
            let list: Vec<Value> = t
                .split("; ")
                .flat_map(|a| recipients(&Value::String(a.into())))
                .collect();
            actions.insert(key.into(), Value::Array(list));
        }
    }
    for (col, key) in [
        ("Delete", "delete"),
        ("PermanentDelete", "permanentDelete"),
        ("StopProcessingRules", "stopProcessingRules"),
        ("MarkAsRead", "markAsRead"),
    ] {
        if let Some(b) = flag(&mut m, col) {
            actions.insert(key.into(), b);
        }
    }
    if let Some(f) = take(&mut m, "MoveToFolder") {
        let id = f.strip_prefix("FolderID: ").unwrap_or(&f).to_string();
        actions.insert("moveToFolder".into(), Value::String(id));
    }
    let mut conditions = Map::new();
    for (col, key) in [
        ("From", "senderContains"),
        ("SubjectContains", "subjectContains"),
        ("BodyContains", "bodyContains"),
    ] {
        if let Some(t) = take(&mut m, col) {
            let list: Vec<Value> = t.split("; ").map(|w| Value::String(w.into())).collect();
            conditions.insert(key.into(), Value::Array(list));
        }
    }
    if let Some(b) = flag(&mut m, "HasAttachments") {
        conditions.insert("hasAttachments".into(), b);
    }
    if let Some(i) = take(&mut m, "IsImportant") {
        conditions.insert("importance".into(), Value::String(i.to_lowercase()));
    }
    if !conditions.is_empty() {
        out.insert("conditions".into(), Value::Object(conditions));
    }
    if !actions.is_empty() {
        out.insert("actions".into(), Value::Object(actions));
    }
    rest(&mut out, m);
    Value::Object(out)
}

/// One row of a consent report (Microsoft-Extractor-Suite's
/// `OAuthPermissions.csv`, one per delegated scope or app role; Hawk's
/// `Consent_Grants.csv`): a delegated row as an `oAuth2PermissionGrant`, an
/// application row as an `appRoleAssignment`.
pub fn consent_row(h: &Header, row: &csv::StringRecord) -> (Source, Value) {
    let mut m = row_map(h, row, false);
    let application = m
        .get("PermissionType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("application"));
    let mut out = Map::new();
    let mut put = |m: &mut Map<String, Value>, col: &str, key: &str| {
        if let Some(v) = take(m, col) {
            out.insert(key.into(), Value::String(v));
        }
    };
    let source = if application {
        put(&mut m, "ClientObjectId", "principalId");
        put(&mut m, "AppDisplayName", "principalDisplayName");
        put(&mut m, "ClientDisplayName", "principalDisplayName");
        put(&mut m, "ResourceObjectId", "resourceId");
        put(&mut m, "ResourceDisplayName", "resourceDisplayName");
        out.insert("principalType".into(), json!("ServicePrincipal"));
        Source::AppRoleAssignments
    } else {
        put(&mut m, "ClientObjectId", "clientId");
        put(&mut m, "ConsentType", "consentType");
        put(&mut m, "PrincipalObjectId", "principalId");
        put(&mut m, "ResourceObjectId", "resourceId");
        put(&mut m, "Permission", "scope");
        Source::Oauth2Grants
    };
    rest(&mut out, m);
    (source, Value::Object(out))
}

/// `Get-MFA` registration details: the `userRegistrationDetails` properties,
/// booleans from `True`/`False`, collections from `", "`-joined text.
pub fn registration_row(h: &Header, row: &csv::StringRecord) -> Value {
    let mut m = row_map(h, row, false);
    let mut out = Map::new();
    for k in [
        "id",
        "userPrincipalName",
        "userDisplayName",
        "lastUpdatedDateTime",
        "userPreferredMethodForSecondaryAuthentication",
        "userType",
    ] {
        if let Some(v) = take(&mut m, k) {
            out.insert(k.into(), Value::String(v));
        }
    }
    for k in [
        "isAdmin",
        "isSsprRegistered",
        "isSsprEnabled",
        "isSsprCapable",
        "isMfaRegistered",
        "isMfaCapable",
        "isPasswordlessCapable",
        "isSystemPreferredAuthenticationMethodEnabled",
    ] {
        if let Some(t) = take(&mut m, k) {
            out.insert(
                k.into(),
                bool_text(&t).map_or(Value::String(t), Value::Bool),
            );
        }
    }
    for k in ["methodsRegistered", "systemPreferredAuthenticationMethods"] {
        if let Some(t) = take(&mut m, k) {
            let list = t.split(", ").map(|x| Value::String(x.into())).collect();
            out.insert(k.into(), Value::Array(list));
        }
    }
    rest(&mut out, m);
    Value::Object(out)
}

/// `Get-MFA` authentication methods: one summary row per user (method kinds
/// as `True`/`False`), which no Graph object matches; the user's name is
/// `userPrincipalName`, the row is kept as written.
pub fn mfa_summary_row(h: &Header, row: &csv::StringRecord) -> Value {
    let mut m = row_map(h, row, false);
    let mut out = Map::new();
    if let Some(u) = take(&mut m, "user") {
        out.insert("userPrincipalName".into(), Value::String(u));
    }
    rest(&mut out, m);
    Value::Object(out)
}

/// A flattened unified audit log row (Hawk `Simple_*`,
/// `Converted_Authentication_Logs`) as an `auditLogRecord`: the row is the
/// `auditData` as far as the tool kept it. Hawk writes `CreationTime` as the
/// culture's short date and time; an ambiguous one is kept verbatim and flagged.
pub fn flat_ual_row(
    h: &Header,
    row: &csv::StringRecord,
    line: u64,
    flags: &mut Vec<AmbiguousDate>,
) -> Result<Value, BadRow> {
    let audit = row_map(h, row, false);
    let mut fallback = Map::new();
    if let Some(created) = audit.get("CreationTime").and_then(Value::as_str) {
        let col = h.find("creationtime").unwrap_or(0);
        let at = || Position::field(line, col as u64 + 1, "CreationTime");
        match read_portal_date(created) {
            DateCell::Utc(t) => {
                fallback.insert("CreationTime".into(), Value::String(t));
            }
            DateCell::Ambiguous => flags.push(AmbiguousDate {
                at: at(),
                value: created.to_string(),
            }),
            DateCell::Invalid => {
                return Err(BadRow::new(
                    at(),
                    format!("{created:?} is not a date and time"),
                ))
            }
        }
    }
    Ok(from_audit_data(audit, &fallback))
}

/// A `Search-UnifiedAuditLog` object as JSON (Microsoft-Extractor-Suite
/// `Get-UAL -Output JSON|JSONL`, Hawk `Raw_*.json`): `AuditData` as an object
/// or as JSON text, the wrapper's other properties kept under `unmappedFields`.
pub fn search_object(mut m: Map<String, Value>) -> Result<Value, String> {
    let audit = match m.remove("AuditData") {
        Some(Value::Object(a)) => a,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(a)) => a,
            _ => return Err("AuditData is neither an object nor JSON text of one".into()),
        },
        _ => return Err("AuditData is missing or not an object".into()),
    };
    let mut fallback = Map::new();
    for (col, key) in [
        ("Identity", "Id"),
        ("Operations", "Operation"),
        ("UserIds", "UserId"),
        ("RecordType", "RecordType"),
    ] {
        if let Some(v) = m.get(col) {
            fallback.insert(key.into(), v.clone());
        }
    }
    let mut record = from_audit_data(audit, &fallback);
    if !m.is_empty() {
        record[UNMAPPED] = Value::Object(m);
    }
    Ok(record)
}
