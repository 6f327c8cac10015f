//! Dates in exported files. Portal downloads write ISO 8601 UTC; a file re-saved
//! by Excel carries the saving PC's locale (`03/04/2026 10:00`, `04.03.2026 10:00`,
//! `2026/03/04 10:00`). A value that can be read only one way is converted; a value
//! whose day and month could be swapped is kept verbatim and flagged, never guessed.
//! The Purview export's `CreationDate` is documented US-locale (`9/20/2023 4:05:03 AM`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use m365_preserve_package::timefmt::parse_iso_datetime;

/// How a date cell was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateCell {
    /// RFC 3339 UTC text (`...Z`).
    Utc(String),
    /// Day and month could be swapped: kept verbatim, flagged.
    Ambiguous,
    /// Not a date at all.
    Invalid,
}

/// Reads an ISO 8601 or spreadsheet-locale date-time (UTC, as the portals write).
pub fn read_portal_date(text: &str) -> DateCell {
    let t = text.trim();
    if let Some(p) = parse_iso_datetime(t) {
        return DateCell::Utc(p.to_rfc3339_z());
    }
    let Some((date, time)) = split_date_time(t) else {
        return DateCell::Invalid;
    };
    let Some(time) = parse_time(time) else {
        return DateCell::Invalid;
    };
    let sep = if date.contains('/') { '/' } else { '.' };
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return DateCell::Invalid;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let (Some(x), Some(y), Some(z)) = (num(a), num(b), num(c)) else {
        return DateCell::Invalid;
    };
    let ymd = if a.len() == 4 {
        Some((x as i32, y, z))
    } else if c.len() == 4 {
        match (x > 12, y > 12) {
            (true, false) => Some((z as i32, y, x)),
            (false, true) => Some((z as i32, x, y)),
            (false, false) if x == y => Some((z as i32, x, y)),
            (false, false) => return DateCell::Ambiguous,
            (true, true) => None,
        }
    } else {
        None
    };
    match ymd.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)) {
        Some(d) => DateCell::Utc(format_naive(NaiveDateTime::new(d, time))),
        None => DateCell::Invalid,
    }
}

/// Reads a Log Analytics export's ` [UTC]` cell: the portal writes the
/// US-locale `M/D/YYYY, h:mm:ss.fff AM` (a comma after the date, milliseconds),
/// which is never day-first; any other text is read like a portal date.
pub fn read_la_date(text: &str) -> DateCell {
    let t = text.trim();
    let meridiem = t.ends_with("AM") || t.ends_with("PM");
    match t.split_once(", ") {
        Some((date, _)) if meridiem && date.contains('/') => match read_us_date(t) {
            Some(utc) => DateCell::Utc(utc),
            None => DateCell::Invalid,
        },
        _ => read_portal_date(t),
    }
}

/// Reads a US-locale `M/d/yyyy h:mm:ss AM` (or ISO) date-time, as Purview exports it.
pub fn read_us_date(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(p) = parse_iso_datetime(t) {
        return Some(p.to_rfc3339_z());
    }
    let (date, time) = split_date_time(t)?;
    let mut it = date.split('/');
    let (m, d, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(format_naive(NaiveDateTime::new(date, parse_time(time)?)))
}

/// Normalises a zone-less or offset date-time (`CreationTime`) to RFC 3339 UTC.
pub fn iso_utc(text: &str) -> Option<String> {
    parse_iso_datetime(text.trim()).map(|p| p.to_rfc3339_z())
}

fn split_date_time(t: &str) -> Option<(&str, &str)> {
    let (date, time) = t.split_once(' ')?;
    Some((date.trim_end_matches(','), time.trim()))
}

/// `H:mm[:ss[.fff]]` with an optional `AM`/`PM`.
fn parse_time(t: &str) -> Option<NaiveTime> {
    let (clock, meridiem) = match t.rsplit_once(' ') {
        Some((c, m)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => {
            (c, Some(m.eq_ignore_ascii_case("PM")))
        }
        _ => (t, None),
    };
    let mut parts = clock.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let (s, nanos) = match parts.next() {
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let nanos = if frac.is_empty() {
                0
            } else if frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) {
                format!("{frac:0<9}").parse().ok()?
            } else {
                return None;
            };
            (whole.parse().ok()?, nanos)
        }
        None => (0, 0),
    };
    if parts.next().is_some() {
        return None;
    }
    let h = match meridiem {
        Some(pm) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => h,
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

fn format_naive(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateCell {
        DateCell::Utc(s.into())
    }

    #[test]
    fn iso_and_unambiguous_locale_dates_are_read() {
        assert_eq!(
            read_portal_date("2025-12-04T08:19:41Z"),
            utc("2025-12-04T08:19:41Z")
        );
        assert_eq!(
            read_portal_date("2026-01-24T06:54:24.0000000Z "),
            utc("2026-01-24T06:54:24.0000000Z")
        );
        assert_eq!(
            read_portal_date("24/03/2026 10:05:01"),
            utc("2026-03-24T10:05:01Z")
        );
        assert_eq!(
            read_portal_date("3/24/2026 10:05 PM"),
            utc("2026-03-24T22:05:00Z")
        );
        assert_eq!(
            read_portal_date("2026/03/04 9:05"),
            utc("2026-03-04T09:05:00Z")
        );
        assert_eq!(
            read_portal_date("24.03.2026 10:05:01"),
            utc("2026-03-24T10:05:01Z")
        );
        assert_eq!(
            read_portal_date("04/04/2026 10:05"),
            utc("2026-04-04T10:05:00Z")
        );
    }

    #[test]
    fn swappable_day_and_month_are_flagged_not_guessed() {
        assert_eq!(read_portal_date("03/04/2026 10:00"), DateCell::Ambiguous);
        assert_eq!(read_portal_date("03.04.2026 10:00:00"), DateCell::Ambiguous);
        assert_eq!(read_portal_date("yesterday"), DateCell::Invalid);
        assert_eq!(read_portal_date("31/31/2026 10:00"), DateCell::Invalid);
    }

    #[test]
    fn log_analytics_dates_are_us_with_milliseconds() {
        assert_eq!(
            read_la_date("6/5/2026, 12:40:24.178 PM"),
            utc("2026-06-05T12:40:24.178Z")
        );
        assert_eq!(
            read_la_date("6/14/2026, 11:58:40.412 PM"),
            utc("2026-06-14T23:58:40.412Z")
        );
        assert_eq!(
            read_la_date("2026-06-14T23:58:40.4123456Z"),
            utc("2026-06-14T23:58:40.4123456Z")
        );
        assert_eq!(read_la_date("13/5/2026, 1:00:00.000 PM"), DateCell::Invalid);
    }

    #[test]
    fn purview_us_dates() {
        assert_eq!(
            read_us_date("9/20/2023 4:05:03 AM").as_deref(),
            Some("2023-09-20T04:05:03Z")
        );
        assert_eq!(
            read_us_date("3/4/2023 12:00:00 AM").as_deref(),
            Some("2023-03-04T00:00:00Z")
        );
        assert_eq!(
            read_us_date("3/4/2023 12:30:00 PM").as_deref(),
            Some("2023-03-04T12:30:00Z")
        );
        assert_eq!(read_us_date("13/4/2023 1:00:00 AM"), None);
        assert_eq!(
            iso_utc("2015-06-29T20:03:19").as_deref(),
            Some("2015-06-29T20:03:19Z")
        );
    }
}
