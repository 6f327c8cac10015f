//! Deterministic identifiers in the formats Microsoft uses, and the three
//! timestamp layouts the services write.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Datelike, Timelike, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use uuid::Uuid;

/// Name-based (v5) GUID of a scenario object, e.g. `guid("user", "hanako.sato")`.
/// The namespace is private to the simulator, so no id can be a real tenant's and
/// every id is the same on every run.
pub(crate) fn guid(kind: &str, key: &str) -> Uuid {
    static NAMESPACE: OnceLock<Uuid> = OnceLock::new();
    let namespace = NAMESPACE
        .get_or_init(|| Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:m365-preserve:sim:contoso-jp"));
    Uuid::new_v5(namespace, format!("{kind}/{key}").as_bytes())
}

/// A random (v4) GUID drawn from the scenario's seeded generator.
pub(crate) fn random_guid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// An Entra request id (the sign-in `id`): real ones end in a zero byte.
pub(crate) fn request_id(rng: &mut impl Rng) -> Uuid {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[15] = 0;
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// `uniqueTokenIdentifier`: the request id's bytes in GUID (little-endian) order,
/// base64url without padding, as Entra writes it.
pub(crate) fn token_identifier(request: &Uuid) -> String {
    URL_SAFE_NO_PAD.encode(request.to_bytes_le())
}

/// A directoryAudit id: `<service>_<correlation id>_<5 characters>_<number>`,
/// e.g. `Directory_504a302a-…_M1N6X_27777783`.
pub(crate) fn audit_id(service: &str, correlation: &Uuid, rng: &mut impl Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let code: String = (0..5)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    let number: u32 = rng.gen_range(1_000_000..400_000_000);
    format!("{service}_{correlation}_{code}_{number}")
}

/// A unifiedRoleAssignment id: the role and principal GUIDs (little-endian bytes)
/// in base64url, then `-1`, which is how Entra builds them.
pub(crate) fn role_assignment_id(role: &Uuid, principal: &Uuid) -> String {
    format!(
        "{}{}-1",
        URL_SAFE_NO_PAD.encode(role.to_bytes_le()),
        URL_SAFE_NO_PAD.encode(principal.to_bytes_le())
    )
}

/// An opaque Exchange id: a fixed prefix (`AAMkAD…` for Graph, `LgAAAA…` and
/// `RgAAAA…` in mailbox audit records) and 24 bytes only stability matters for.
pub(crate) fn exchange_id(prefix: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("{prefix}{}", URL_SAFE.encode(&digest[..24]))
}

/// A messageRule id (`AQAAAJ5dZp8=`): 01 00 00 00 and four bytes, base64.
pub(crate) fn rule_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let bytes = [1, 0, 0, 0, digest[0], digest[1], digest[2], digest[3]];
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Deterministic 64-bit number for a name (SIDs, PUIDs, object sizes).
pub(crate) fn number(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The `securityIdentifier` of a cloud-only user: `S-1-12-1-` and the object id
/// as four little-endian 32-bit numbers.
pub(crate) fn cloud_sid(id: &Uuid) -> String {
    let b = id.to_bytes_le();
    let part = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    format!("S-1-12-1-{}-{}-{}-{}", part(0), part(4), part(8), part(12))
}

/// `2026-11-18T00:53:05Z`: sign-ins, Graph audit-log records.
pub(crate) fn secs(t: DateTime<Utc>) -> String {
    // By hand: strftime parsing is a measurable share of the large profile's cost.
    let (d, s) = (t.date_naive(), t.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        s.hour(),
        s.minute(),
        s.second()
    )
}

/// `2026-11-18T01:14:22.1234567Z`: directory audits (.NET ticks).
pub(crate) fn ticks(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() / 100
    )
}

/// `2026-11-18T01:14:22`: Management Activity API `CreationTime` (UTC, no zone).
pub(crate) fn zoneless(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parses one of the scenario's own constant times.
pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("scenario time {text:?}: {e}"))
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_microsofts() {
        // The published beta sample's id and uniqueTokenIdentifier pair up this way.
        let id = Uuid::parse_str("0c532507-b101-4090-b2f1-4d768e2f3500").unwrap();
        assert_eq!(token_identifier(&id), "ByVTDAGxkECy8U12ji81AA");
        // Graph's documented Global Administrator assignment id starts with the role's part.
        let ga = Uuid::parse_str("62e90394-69f5-4237-9190-012177145e10").unwrap();
        assert!(role_assignment_id(&ga, &ga).starts_with("lAPpYvVpN0KRkAEhdxReEA"));
        assert_eq!(
            ticks(at("2026-11-18T01:14:22.1234567Z")),
            "2026-11-18T01:14:22.1234567Z"
        );
    }
}
