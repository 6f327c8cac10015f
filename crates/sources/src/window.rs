//! What a plan is made for: the target users and the time window.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A compromised user, resolved to its object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub upn: String,
    pub display_name: String,
}

/// A half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.since <= t && t < self.until
    }

    /// The window cut into slices of at most `len`, oldest first.
    pub fn split(&self, len: Duration) -> Vec<Window> {
        let mut out = Vec::new();
        let mut since = self.since;
        while since < self.until {
            let until = (since + len).min(self.until);
            out.push(Window { since, until });
            since = until;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_window_oldest_first() {
        let since = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = Window {
            since,
            until: since + Duration::days(16),
        };
        let parts = w.split(Duration::days(7));
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].since, w.since);
        assert_eq!(parts[2].until, w.until);
        assert!(parts.windows(2).all(|p| p[0].until == p[1].since));
    }
}
