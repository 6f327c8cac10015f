//! Small conversions every part of the report shares: times, addresses and
//! operation names as the rules compare them.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A time field in RFC 3339 (any fraction, `Z`, an offset, or none = UTC).
pub fn time(s: &str) -> Option<DateTime<Utc>> {
    m365_preserve_package::timefmt::parse_iso_datetime(s).map(|t| t.utc)
}

/// `record[field]` as a time.
pub fn time_of(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record.get(field)?.as_str().and_then(time)
}

/// An address without its port or brackets (`[2001:db8::1]:443`, `1.2.3.4:5`,
/// `::ffff:1.2.3.4`), as Sentinel normalises `ClientIP`.
pub fn normalise_ip(s: &str) -> &str {
    let s = s.trim();
    let s = if let Some(rest) = s.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if s.matches(':').count() == 1 {
        s.split(':').next().unwrap_or(s)
    } else {
        s
    };
    s.strip_prefix("::ffff:").unwrap_or(s)
}

/// An operation or activity name as rules compare it: case folded, dashes
/// folded, a trailing period dropped (the unified audit log writes
/// `Add application.`, directory audits `Add application`).
pub fn fold(s: &str) -> String {
    s.trim()
        .trim_end_matches('.')
        .chars()
        .map(|c| match c {
            '–' | '—' | '?' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_ports_and_brackets() {
        assert_eq!(normalise_ip("203.0.113.77:52194"), "203.0.113.77");
        assert_eq!(normalise_ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(normalise_ip("::ffff:1.2.3.4"), "1.2.3.4");
        assert_eq!(normalise_ip("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn operation_names_fold() {
        assert_eq!(fold("Add application."), "add application");
        assert_eq!(
            fold("Update application – Certificates and secrets management"),
            fold("Update application - Certificates and secrets management")
        );
    }
}
