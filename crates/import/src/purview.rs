//! Unified audit log records, whatever carried them (Purview export CSV in its
//! three layouts, a Management Activity API content blob, a Log Analytics
//! `OfficeActivity` row), normalised to the Graph `auditLogRecord` shape the
//! audit-log query API returns: the common fields on top, the full record in
//! `auditData`. `AuditData.CreationTime` is the canonical time
//! (<https://learn.microsoft.com/purview/audit-log-detailed-properties>).

use super::csvread::Header;
use super::dates::{iso_utc, read_us_date};
use super::error::{BadRow, Position};
use super::mapping::UNMAPPED;
use super::record_types::{record_type_member, record_type_name, user_type_member, user_type_name};
use serde_json::{Map, Value};

/// The Graph member of a record type given as a number (`15`, `"15"`) or a
/// name (`AzureActiveDirectoryStsLogon` from `Search-UnifiedAuditLog`,
/// `exchangeAdmin` from an older Graph client); unknown numbers and names are
/// left out (the value stays in `auditData`).
fn record_type(v: &Value) -> Option<String> {
    enum_member(v, record_type_name, record_type_member)
}

fn user_type(v: &Value) -> Option<String> {
    enum_member(v, user_type_name, user_type_member)
}

fn enum_member(
    v: &Value,
    number: fn(u64) -> Option<&'static str>,
    name: fn(&str) -> Option<&'static str>,
) -> Option<String> {
    let member = match v {
        Value::Number(n) => n.as_u64().and_then(number),
        Value::String(s) => match s.trim().parse::<u64>() {
            Ok(n) => number(n),
            Err(_) => name(s.trim()),
        },
        _ => None,
    };
    member.map(String::from)
}

fn text(v: Option<&Value>) -> Option<Value> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(Value::String(s.clone())),
        Some(Value::Number(n)) => Some(Value::String(n.to_string())),
        _ => None,
    }
}

/// A Management API record (the `AuditData` payload) as a Graph `auditLogRecord`.
/// `fallback` supplies what a CSV row knows when `auditData` lacks it.
pub fn from_audit_data(audit: Map<String, Value>, fallback: &Map<String, Value>) -> Value {
    let get = |k: &str| audit.get(k).or_else(|| fallback.get(k));
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.into(), v);
        }
    };
    put("id", text(get("Id")));
    put(
        "createdDateTime",
        audit
            .get("CreationTime")
            .and_then(Value::as_str)
            .and_then(iso_utc)
            .or_else(|| {
                fallback
                    .get("CreationTime")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .map(Value::String),
    );
    put(
        "auditLogRecordType",
        get("RecordType").and_then(record_type).map(Value::String),
    );
    put("operation", text(get("Operation")));
    put("organizationId", text(get("OrganizationId")));
    put(
        "userType",
        get("UserType").and_then(user_type).map(Value::String),
    );
    put("userId", text(get("UserId")));
    put("service", text(get("Workload")));
    put("objectId", text(get("ObjectId")));
    put(
        "clientIp",
        text(get("ClientIP")).or_else(|| text(get("ClientIPAddress"))),
    );
    out.insert("auditData".into(), Value::Object(audit));
    Value::Object(out)
}

/// The Purview export layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...`
    Current,
    /// `CreationDate,UserIds,Operations,AuditData`
    Classic,
    /// `RecordType,CreationDate,UserIds,Operations,AuditData`
    ClassicRecordType,
    /// `Search-UnifiedAuditLog | Export-Csv`: adds ResultIndex, ResultCount, Identity...
    SearchUnifiedAuditLog,
}

impl Layout {
    pub fn detect(h: &Header) -> Option<Self> {
        if !h.has("auditdata") || !h.has("creationdate") {
            return None;
        }
        if h.has("recordid") && h.has("operation") && h.has("userid") {
            Some(Layout::Current)
        } else if h.has("userids") && h.has("operations") {
            Some(if h.has("resultindex") || h.has("identity") {
                Layout::SearchUnifiedAuditLog
            } else if h.has("recordtype") {
                Layout::ClassicRecordType
            } else {
                Layout::Classic
            })
        } else {
            None
        }
    }
}

/// Converts Purview export rows.
pub struct PurviewCsv {
    audit: usize,
    /// (column, common-schema key it stands for)
    known: Vec<(usize, &'static str)>,
    creation: usize,
    unmapped: Vec<(usize, String)>,
}

impl PurviewCsv {
    pub fn new(h: &Header) -> Self {
        let mut known = Vec::new();
        let mut taken = vec![false; h.width()];
        for (col, key) in [
            ("recordid", "Id"),
            ("identity", "Id"),
            ("recordtype", "RecordType"),
            ("operation", "Operation"),
            ("operations", "Operation"),
            ("userid", "UserId"),
            ("userids", "UserId"),
        ] {
            if let Some(i) = h.find(col) {
                known.push((i, key));
                taken[i] = true;
            }
        }
        let audit = h.find("auditdata").expect("checked by Layout::detect");
        let creation = h.find("creationdate").expect("checked by Layout::detect");
        taken[audit] = true;
        taken[creation] = true;
        let unmapped = (0..h.width())
            .filter(|i| !taken[*i])
            .map(|i| (i, h.label(i)))
            .collect();
        Self {
            audit,
            known,
            creation,
            unmapped,
        }
    }

    pub fn convert(&self, h: &Header, row: &csv::StringRecord, line: u64) -> Result<Value, BadRow> {
        let at = |i: usize| Position::field(line, i as u64 + 1, &h.names[i]);
        let audit: Map<String, Value> = match serde_json::from_str::<Value>(&row[self.audit]) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(BadRow::new(
                    at(self.audit),
                    "AuditData is JSON but not an object",
                ))
            }
            Err(e) => {
                return Err(BadRow::new(
                    at(self.audit),
                    format!("AuditData is not JSON ({e})"),
                ))
            }
        };
        let mut fallback = Map::new();
        for (i, key) in &self.known {
            if !row[*i].trim().is_empty() {
                fallback.insert((*key).into(), Value::String(row[*i].trim().into()));
            }
        }
        let created = &row[self.creation];
        if !audit.contains_key("CreationTime") {
            match read_us_date(created) {
                Some(t) => {
                    fallback.insert("CreationTime".into(), Value::String(t));
                }
                None => {
                    return Err(BadRow::new(
                        at(self.creation),
                        format!("{created:?} is not a date and AuditData has no CreationTime"),
                    ))
                }
            }
        }
        let mut record = from_audit_data(audit, &fallback);
        let mut extra = Map::new();
        for (i, name) in &self.unmapped {
            if !row[*i].is_empty() {
                extra.insert(name.clone(), Value::String(row[*i].to_string()));
            }
        }
        if !extra.is_empty() {
            record[UNMAPPED] = Value::Object(extra);
        }
        Ok(record)
    }
}

/// Log Analytics `OfficeActivity` columns that restate common-schema fields.
const OFFICE_ACTIVITY: &[(&str, &str)] = &[
    ("OfficeId", "Id"),
    ("Operation", "Operation"),
    ("OrganizationId", "OrganizationId"),
    ("RecordType", "RecordType"),
    ("UserType", "UserType"),
    ("UserId", "UserId"),
    ("OfficeWorkload", "Workload"),
    ("OfficeObjectId", "ObjectId"),
    ("ClientIP", "ClientIP"),
    ("Client_IPAddress", "ClientIPAddress"),
];

/// A Log Analytics `OfficeActivity` row as an `auditLogRecord`; the row (with its
/// `dynamic` columns decoded) is kept under `unmappedFields`, since the table
/// renames and flattens the original record.
pub fn from_office_activity(row: Map<String, Value>) -> Value {
    let mut common = Map::new();
    for (col, key) in OFFICE_ACTIVITY {
        if let Some(v) = row.get(*col) {
            common.entry(key.to_string()).or_insert(v.clone());
        }
    }
    let time = row
        .get("TimeGenerated")
        .and_then(Value::as_str)
        .and_then(iso_utc);
    let mut out = from_audit_data(Map::new(), &common);
    let m = out.as_object_mut().expect("object");
    m.remove("auditData");
    if let Some(t) = time {
        m.insert("createdDateTime".into(), Value::String(t));
    }
    let mut rest = Map::new();
    for (k, v) in row {
        rest.insert(k, super::monitor::decode_dynamic(v));
    }
    m.insert(UNMAPPED.into(), Value::Object(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn management_api_record_becomes_graph_shape() {
        let r = json!({"CreationTime": "2015-06-29T20:03:19", "Id": "80c7", "Operation": "Add User.",
            "OrganizationId": "41463f53", "RecordType": 8, "UserType": 0, "Workload": "AzureActiveDirectory",
            "UserId": "admin@contoso.onmicrosoft.com", "ClientIP": "134.170.188.221", "ObjectId": "x"});
        let out = from_audit_data(r.as_object().unwrap().clone(), &Map::new());
        assert_eq!(out["id"], "80c7");
        assert_eq!(out["createdDateTime"], "2015-06-29T20:03:19Z");
        assert_eq!(out["auditLogRecordType"], "AzureActiveDirectory");
        assert_eq!(out["userType"], "Regular");
        assert_eq!(out["service"], "AzureActiveDirectory");
        assert_eq!(out["auditData"], r);
        assert_eq!(
            record_type(&json!("AzureActiveDirectoryStsLogon")).unwrap(),
            "AzureActiveDirectoryStsLogon"
        );
        assert_eq!(record_type(&json!("exchangeItem")).unwrap(), "ExchangeItem");
        assert_eq!(
            record_type(&json!("52")).unwrap(),
            "DataInsightsRestApiAudit"
        );
        assert_eq!(record_type(&json!(9999)), None);
        assert_eq!(record_type(&json!("NotAType")), None);
    }
}
