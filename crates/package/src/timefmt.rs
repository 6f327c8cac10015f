//! Timestamps: every time the tool writes is RFC 3339 UTC ending in `Z`.
//!
//! Rule for evidence values without a zone: Microsoft Graph, the Management Activity
//! API and the portal downloads all emit UTC, so a zone-less date-time is read as UTC.
//! A value with an offset is converted to UTC. Fractional seconds keep their digits.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};

/// Now, formatted for documents (second precision).
pub fn now_rfc3339() -> String {
    format_utc(Utc::now())
}

/// Formats a UTC instant as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parsed ISO 8601 date-time: the UTC instant and the fractional digits as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTime {
    pub utc: DateTime<Utc>,
    fraction: String,
}

impl ParsedTime {
    /// RFC 3339 UTC text, keeping the fractional digits of the input.
    pub fn to_rfc3339_z(&self) -> String {
        let mut s = self.utc.format("%Y-%m-%dT%H:%M:%S").to_string();
        if !self.fraction.is_empty() {
            s.push('.');
            s.push_str(&self.fraction);
        }
        s.push('Z');
        s
    }
}

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.f+]][Z|±HH:MM|±HHMM|±HH]`; anything else is `None`.
/// Cheap to call on every string value: it rejects non-timestamps on the first bytes.
pub fn parse_iso_datetime(s: &str) -> Option<ParsedTime> {
    let b = s.as_bytes();
    if b.len() < 16 || b.len() > 40 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    let (hour, minute) = (digits(11..13)?, digits(14..16)?);
    let mut i = 16;
    let mut second = 0;
    let mut fraction = String::new();
    if b.get(i) == Some(&b':') {
        second = digits(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start || i - start > 9 {
                return None;
            }
            fraction = s[start..i].to_string();
        }
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<9}");
        padded.parse::<u32>().ok()?
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let naive = NaiveDateTime::new(date, time);
    let offset_seconds: i64 = match &s[i..] {
        "" | "Z" | "z" => 0,
        rest => {
            let rb = rest.as_bytes();
            let sign = match rb[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if !body.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m) = match body.len() {
                2 => (body.parse::<i64>().ok()?, 0),
                4 => (
                    body[..2].parse::<i64>().ok()?,
                    body[2..].parse::<i64>().ok()?,
                ),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let utc = naive.and_utc() - chrono::Duration::seconds(offset_seconds);
    Some(ParsedTime { utc, fraction })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Option<String> {
        parse_iso_datetime(s).map(|p| p.to_rfc3339_z())
    }

    #[test]
    fn normalises_offsets_and_zoneless_values_to_utc() {
        assert_eq!(
            norm("2026-11-20T09:15:00Z").unwrap(),
            "2026-11-20T09:15:00Z"
        );
        assert_eq!(
            norm("2026-11-20T18:15:00+09:00").unwrap(),
            "2026-11-20T09:15:00Z"
        );
        assert_eq!(
            norm("2026-11-20T18:15:00+0900").unwrap(),
            "2026-11-20T09:15:00Z"
        );
        assert_eq!(
            norm("2026-11-20T01:00:00.1234567-05:00").unwrap(),
            "2026-11-20T06:00:00.1234567Z"
        );
        assert_eq!(norm("2026-11-20 09:15:07").unwrap(), "2026-11-20T09:15:07Z");
        assert_eq!(norm("2026-11-20T09:15").unwrap(), "2026-11-20T09:15:00Z");
        assert_eq!(
            norm("2026-01-01T00:30:00+01:00").unwrap(),
            "2025-12-31T23:30:00Z"
        );
    }

    #[test]
    fn rejects_non_timestamps() {
        for s in [
            "2026-11-20",
            "hello world, this is long",
            "2026-13-20T09:15:00Z",
            "2026-11-20T25:15:00Z",
            "2026-11-20T09:15:00Zjunk",
            "2026-11-20T09:15:00+9",
            "abcd-ef-ghTij:kl",
        ] {
            assert_eq!(norm(s), None, "{s}");
        }
    }
}
