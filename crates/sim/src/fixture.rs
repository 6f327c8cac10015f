//! The simulated tenant's data: a fixture folder (documented in samples/README.md,
//! schema in schemas/fixture.schema.json).
//!
//! ```text
//! <fixture>/tenant.json             tenant, registered apps, directory objects, mailboxes, ...
//! <fixture>/signins.jsonl           beta signIn records of all four types, one per line
//! <fixture>/directory-audits.jsonl  directoryAudit records
//! <fixture>/audit-records.jsonl     Purview auditLogRecord records (Graph shape; `auditData`
//!                                   is the Management Activity API record)
//! <fixture>/messages/<file>.eml     MIME served by /users/{id}/messages/{id}/$value
//! ```
//!
//! Record times are written relative to `tenant.json`'s `anchor`: the simulator
//! shifts every timestamp by (now - anchor) when it loads the fixture, so the
//! scenario is always recent and falls inside the retention windows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Entra licence of the simulated tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Licence {
    Free,
    P1,
    P2,
}

impl Licence {
    /// Days of sign-in and directory-audit logs the tenant retains.
    pub fn retention_days(self) -> i64 {
        match self {
            Licence::Free => 7,
            Licence::P1 | Licence::P2 => 30,
        }
    }
}

/// A certificate registered on an app (for JWT client assertions).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCertificate {
    /// PEM X.509 certificate; its DER's SHA-1 (`x5t`) and SHA-256 (`x5t#S256`)
    /// thumbprints identify it in assertions.
    pub certificate_pem: String,
}

/// An app registration that may ask the token endpoint for tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub client_id: String,
    pub display_name: String,
    /// SHA-256 (hex) of the client secret; the secret itself is never stored.
    #[serde(default)]
    pub secret_sha256: Option<String>,
    #[serde(default)]
    pub certificates: Vec<AppCertificate>,
    /// Application permissions granted with admin consent (token `roles`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated scopes a device-code sign-in gets (token `scp`).
    #[serde(default)]
    pub delegated_scopes: Vec<String>,
    /// Whether public-client flows (device code) are allowed.
    #[serde(default)]
    pub public_client: bool,
}

/// One user's mailbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    /// False simulates an application access policy blocking the app.
    #[serde(default = "yes")]
    pub reachable: bool,
    #[serde(default)]
    pub settings: Value,
    /// mailFolder objects (id, displayName, ...), for resolving rule folder ids.
    #[serde(default)]
    pub folders: Vec<Value>,
    /// messageRule objects of the Inbox.
    #[serde(default)]
    pub rules: Vec<Value>,
    /// Messages whose MIME can be fetched: `{"id": ..., "eml": "messages/x.eml"}`.
    #[serde(default)]
    pub messages: Vec<Value>,
    /// message objects (metadata; their folder is `parentFolderId`), served by
    /// `/mailFolders/{folder}/messages` and `/messages/{id}`.
    #[serde(default)]
    pub items: Vec<Value>,
}

fn yes() -> bool {
    true
}

/// Exchange Online's own view of the tenant, served by the simulated
/// `InvokeCommand` (objects as the cmdlets return them, PascalCase with their
/// `@odata.type` annotations).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// client id -> the cmdlets the app's Exchange roles hold (what the
    /// module's cmdlet listing returns; anything else is refused).
    #[serde(default)]
    pub role_cmdlets: BTreeMap<String, Vec<String>>,
    /// user id -> what Exchange holds for the user's mailbox.
    #[serde(default)]
    pub mailboxes: BTreeMap<String, ExchangeMailbox>,
    /// `Get-TransportRule` objects.
    #[serde(default)]
    pub transport_rules: Vec<Value>,
    /// The `Get-AdminAuditLogConfig` object.
    #[serde(default)]
    pub admin_audit_log_config: Value,
    /// `Get-MailboxAuditBypassAssociation` objects.
    #[serde(default)]
    pub audit_bypass_associations: Vec<Value>,
}

/// One mailbox as Exchange has it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeMailbox {
    /// The `Get-Mailbox` object.
    pub mailbox: Value,
    /// `Get-InboxRule` objects, each with whether it is listed only with `-IncludeHidden`.
    #[serde(default)]
    pub inbox_rules: Vec<ExchangeRule>,
    /// `Get-MailboxPermission` objects.
    #[serde(default)]
    pub mailbox_permissions: Vec<Value>,
    /// `Get-RecipientPermission` objects.
    #[serde(default)]
    pub recipient_permissions: Vec<Value>,
}

/// An inbox rule and whether Exchange hides it (system rules, and rules
/// hidden through MAPI) from `Get-InboxRule` without `-IncludeHidden`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRule {
    pub hidden: bool,
    pub rule: Value,
}

/// A user's authentication methods.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    /// Polymorphic method objects, each with `@odata.type`.
    #[serde(default)]
    pub methods: Vec<Value>,
    /// beta `/authentication/requirements` (`{"perUserMfaState": ...}`).
    #[serde(default)]
    pub requirements: Value,
}

/// `tenant.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub tenant_id: String,
    pub display_name: String,
    pub default_domain: String,
    /// Licence unless `sim --licence` overrides it.
    pub licence: Licence,
    /// The instant record times are written against (see module docs).
    pub anchor: String,
    pub apps: Vec<App>,
    pub users: Vec<Value>,
    #[serde(default)]
    pub groups: Vec<Value>,
    #[serde(default)]
    pub role_definitions: Vec<Value>,
    #[serde(default)]
    pub role_assignments: Vec<Value>,
    #[serde(default)]
    pub role_eligibility_schedule_instances: Vec<Value>,
    #[serde(default)]
    pub devices: Vec<Value>,
    #[serde(default)]
    pub applications: Vec<Value>,
    #[serde(default)]
    pub service_principals: Vec<Value>,
    #[serde(default)]
    pub oauth2_permission_grants: Vec<Value>,
    #[serde(default)]
    pub app_role_assignments: Vec<Value>,
    /// user id -> ids of groups, directory roles, administrative units.
    #[serde(default)]
    pub member_of: BTreeMap<String, Vec<String>>,
    /// user id -> ids of owned applications, service principals, groups.
    #[serde(default)]
    pub owned_objects: BTreeMap<String, Vec<String>>,
    /// user id -> device object ids.
    #[serde(default)]
    pub registered_devices: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub owned_devices: BTreeMap<String, Vec<String>>,
    /// user id -> mailbox.
    #[serde(default)]
    pub mailboxes: BTreeMap<String, Mailbox>,
    /// user id -> authentication methods.
    #[serde(default)]
    pub authentication: BTreeMap<String, Authentication>,
    #[serde(default)]
    pub registration_details: Vec<Value>,
    #[serde(default)]
    pub risky_users: Vec<Value>,
    #[serde(default)]
    pub risk_detections: Vec<Value>,
    /// exchangeMessageTrace rows (one per message and recipient), newest first.
    #[serde(default)]
    pub message_traces: Vec<Value>,
    #[serde(default)]
    pub conditional_access: ConditionalAccess,
    #[serde(default)]
    pub authentication_strength_policies: Vec<Value>,
    #[serde(default)]
    pub deleted_items: DeletedItems,
    #[serde(default)]
    pub risky_service_principals: Vec<Value>,
    #[serde(default)]
    pub service_principal_risk_detections: Vec<Value>,
    /// security.alert objects (alerts_v2).
    #[serde(default)]
    pub security_alerts: Vec<Value>,
    /// security.incident objects; `alertIds` (removed when served) name their alerts.
    #[serde(default)]
    pub security_incidents: Vec<Value>,
    #[serde(default)]
    pub subscribed_skus: Vec<Value>,
    /// user id -> licenseDetails objects, where they are not what the user's
    /// `assignedLicenses` and the subscribed SKUs make them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub license_details: BTreeMap<String, Vec<Value>>,
    /// What only Exchange Online shows (`collect --exchange`).
    #[serde(default)]
    pub exchange: Exchange,
}

/// Conditional Access: live and soft-deleted policies and named locations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccess {
    #[serde(default)]
    pub policies: Vec<Value>,
    /// Polymorphic (`@odata.type` ipNamedLocation / countryNamedLocation).
    #[serde(default)]
    pub named_locations: Vec<Value>,
    #[serde(default)]
    pub deleted_policies: Vec<Value>,
    #[serde(default)]
    pub deleted_named_locations: Vec<Value>,
}

/// Soft-deleted directory objects, by type (`/directory/deletedItems/{cast}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedItems {
    #[serde(default)]
    pub applications: Vec<Value>,
    #[serde(default)]
    pub service_principals: Vec<Value>,
    #[serde(default)]
    pub users: Vec<Value>,
    #[serde(default)]
    pub groups: Vec<Value>,
}

/// A loaded fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub dir: PathBuf,
    pub tenant: Tenant,
    pub signins: Vec<Value>,
    pub directory_audits: Vec<Value>,
    pub audit_records: Vec<Value>,
}

/// A fixture problem, naming the file (and line) at fault.
#[derive(Debug, thiserror::Error)]
#[error("fixture {file}{}: {problem}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct FixtureError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub problem: String,
}

impl Fixture {
    /// Reads and checks a fixture folder.
    pub fn load(dir: &Path) -> Result<Self, FixtureError> {
        let err = |file: &Path, line: Option<usize>, problem: String| FixtureError {
            file: file.to_path_buf(),
            line,
            problem,
        };
        let tenant_path = dir.join("tenant.json");
        let text = std::fs::read_to_string(&tenant_path)
            .map_err(|e| err(&tenant_path, None, e.to_string()))?;
        let tenant: Tenant = serde_json::from_str(&text)
            .map_err(|e| err(&tenant_path, Some(e.line()), e.to_string()))?;
        if chrono::DateTime::parse_from_rfc3339(&tenant.anchor).is_err() {
            return Err(err(
                &tenant_path,
                None,
                format!("anchor {:?} is not an RFC 3339 time", tenant.anchor),
            ));
        }
        if tenant.apps.is_empty() {
            return Err(err(
                &tenant_path,
                None,
                "no apps: the token endpoint would refuse every client".into(),
            ));
        }
        let fixture = Fixture {
            dir: dir.to_path_buf(),
            signins: read_jsonl(&dir.join("signins.jsonl"), &["id", "createdDateTime"])?,
            directory_audits: read_jsonl(
                &dir.join("directory-audits.jsonl"),
                &["id", "activityDateTime"],
            )?,
            audit_records: read_jsonl(
                &dir.join("audit-records.jsonl"),
                &["id", "createdDateTime"],
            )?,
            tenant,
        };
        Ok(fixture)
    }
}

/// Reads a JSON Lines file of objects that must have `required` string keys.
/// A missing file is an empty collection.
fn read_jsonl(path: &Path, required: &[&str]) -> Result<Vec<Value>, FixtureError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(FixtureError {
                file: path.to_path_buf(),
                line: None,
                problem: e.to_string(),
            })
        }
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let problem = |p: String| FixtureError {
            file: path.to_path_buf(),
            line: Some(i + 1),
            problem: p,
        };
        let v: Value = serde_json::from_str(line).map_err(|e| problem(format!("not JSON: {e}")))?;
        let Some(obj) = v.as_object() else {
            return Err(problem("not a JSON object".into()));
        };
        for key in required {
            if !obj.get(*key).is_some_and(Value::is_string) {
                return Err(problem(format!("missing string field {key:?}")));
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Shifts every date-time string in `value` by `delta` (keeping its format:
/// a `Z`, an offset or no zone, and its fractional digits).
pub fn shift_times(value: &mut Value, delta: chrono::Duration) {
    match value {
        Value::String(s) => {
            if let Some(shifted) = shift_one(s, delta) {
                *s = shifted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_times(v, delta)),
        Value::Object(map) => shift_map(map, delta),
        _ => {}
    }
}

fn shift_map(map: &mut Map<String, Value>, delta: chrono::Duration) {
    for v in map.values_mut() {
        shift_times(v, delta);
    }
}

fn shift_one(s: &str, delta: chrono::Duration) -> Option<String> {
    let parsed = m365_preserve_package::timefmt::parse_iso_datetime(s)?;
    // Keep the original layout: replace only the date-time digits.
    let b = s.as_bytes();
    let zone_start = s[19.min(s.len())..]
        .find(['Z', 'z', '+', '-'])
        .map(|i| i + 19)
        .unwrap_or(s.len());
    let original_offset =
        m365_preserve_package::timefmt::parse_iso_datetime(&format!("{}Z", &s[..zone_start]))
            .map(|naive| naive.utc - parsed.utc)
            .unwrap_or_default();
    let local = parsed.utc + delta + original_offset;
    let sep = b[10] as char;
    let mut out = local.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string();
    if b.len() > 16 && b[16] != b':' {
        out = local.format(&format!("%Y-%m-%d{sep}%H:%M")).to_string();
    }
    let frac_start = 19;
    if zone_start > frac_start {
        out.push_str(&s[frac_start..zone_start]);
    }
    out.push_str(&s[zone_start..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_keeps_each_timestamp_format() {
        let d = chrono::Duration::days(3) + chrono::Duration::hours(1);
        let mut v = serde_json::json!({
            "a": "2026-11-20T10:00:00Z",
            "b": ["2026-11-20T10:00:00.1234567Z", "2026-11-20T19:00:00+09:00"],
            "c": {"CreationTime": "2026-11-20T10:00:00"},
            "d": "not a time", "e": 5
        });
        shift_times(&mut v, d);
        assert_eq!(v["a"], "2026-11-23T11:00:00Z");
        assert_eq!(v["b"][0], "2026-11-23T11:00:00.1234567Z");
        assert_eq!(v["b"][1], "2026-11-23T20:00:00+09:00");
        assert_eq!(v["c"]["CreationTime"], "2026-11-23T11:00:00");
        assert_eq!(v["d"], "not a time");
    }
}
