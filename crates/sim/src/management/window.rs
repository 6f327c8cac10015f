//! The `startTime`/`endTime` window of a content listing
//! (<https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-reference>):
//! both or neither (neither = the last 24 hours), no more than 24 hours apart,
//! and the start no more than 7 days in the past. Times are UTC, written
//! `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`.
//!
//! The documentation gives AF20030 for a window that breaks these rules; live
//! tenants answer AF20055 with the same text, which is what the simulator sends.
//! They also accept a start up to about an hour beyond the 7 days (observed by
//! third-party collectors); the simulator allows the same hour, so a client
//! asking for exactly "7 days ago" by its own clock is not refused for the
//! seconds its request took.

use super::feed_error::FeedError;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The longest window one listing may cover.
const MAX_SPAN_HOURS: i64 = 24;
/// How far back content can be listed.
const RETENTION_DAYS: i64 = 7;
/// Tolerance beyond the retention seen on the live service.
const RETENTION_GRACE_MINUTES: i64 = 60;

/// A validated window: `start <= contentCreated < end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The bounds as the client wrote them (or as defaulted), carried into
    /// `NextPageUri` so that every page lists the same window.
    pub start_text: String,
    pub end_text: String,
}

/// Checks the request's bounds against the simulated `now`.
pub(super) fn resolve(
    start: Option<&str>,
    end: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Window, FeedError> {
    let window = match (start, end) {
        (None, None) => {
            let start = now - Duration::hours(MAX_SPAN_HOURS);
            let text = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
            Window {
                start,
                end: now,
                start_text: text(start),
                end_text: text(now),
            }
        }
        (Some(start_text), Some(end_text)) => Window {
            start: parse("startTime", start_text)?,
            end: parse("endTime", end_text)?,
            start_text: start_text.to_string(),
            end_text: end_text.to_string(),
        },
        _ => return Err(invalid_window()),
    };
    let oldest = now - Duration::days(RETENTION_DAYS) - Duration::minutes(RETENTION_GRACE_MINUTES);
    if window.end < window.start
        || window.end - window.start > Duration::hours(MAX_SPAN_HOURS)
        || window.start < oldest
    {
        return Err(invalid_window());
    }
    Ok(window)
}

/// A UTC date or date-time in one of the documented layouts (fractions and a
/// `Z` are tolerated); anything else is AF20002.
fn parse(name: &str, text: &str) -> Result<DateTime<Utc>, FeedError> {
    let parsed = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        Err(_) => m365_preserve_package::timefmt::parse_iso_datetime(text).map(|p| p.utc),
    };
    parsed.ok_or_else(|| {
        FeedError::bad_request(
            "AF20002",
            format!("Invalid parameter type: {name}. Expected type: datetime"),
        )
    })
}

fn invalid_window() -> FeedError {
    FeedError::bad_request(
        "AF20055",
        "Start time and end time must both be specified (or both omitted) and must be less than or equal to \
         24 hours apart, with the start time no more than 7 days in the past.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-09-10T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn accepts_the_documented_layouts_and_defaults_to_the_last_day() {
        let w = resolve(Some("2026-09-09"), Some("2026-09-10"), now()).unwrap();
        assert_eq!(w.end - w.start, Duration::hours(24));
        assert!(resolve(Some("2026-09-09T10:00"), Some("2026-09-10T09:59:59"), now()).is_ok());
        let d = resolve(None, None, now()).unwrap();
        assert_eq!((d.end, d.end - d.start), (now(), Duration::hours(24)));
        assert_eq!(d.start_text, "2026-09-09T12:00:00");
    }

    #[test]
    fn refuses_half_windows_long_windows_and_old_starts() {
        let code = |r: Result<Window, FeedError>| format!("{:?}", r.unwrap_err());
        assert!(code(resolve(Some("2026-09-09"), None, now())).contains("AF20055"));
        assert!(code(resolve(
            Some("2026-09-08T00:00"),
            Some("2026-09-09T00:01"),
            now()
        ))
        .contains("AF20055"));
        assert!(code(resolve(
            Some("2026-09-10T00:00"),
            Some("2026-09-09T00:00"),
            now()
        ))
        .contains("AF20055"));
        assert!(code(resolve(Some("2026-09-02"), Some("2026-09-03"), now())).contains("AF20055"));
        assert!(code(resolve(Some("yesterday"), Some("2026-09-03"), now())).contains("AF20002"));
    }
}
