//! The Management Activity API's request budget: a number of requests per
//! (simulated) minute per tenant, counted in fixed one-minute windows. The
//! simulator serves one tenant, so one counter is the per-tenant budget.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

pub(super) struct Throttle {
    per_minute: u32,
    /// Start of the current window and requests counted in it.
    window: Mutex<Option<(DateTime<Utc>, u32)>>,
}

impl Throttle {
    pub(super) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            window: Mutex::new(None),
        }
    }

    /// Counts a request made at `now`; false when it is over the budget. Refused
    /// requests count too, as the service keeps counting while it throttles.
    pub(super) fn admit(&self, now: DateTime<Utc>) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let (start, count) = match *window {
            Some((start, count)) if now - start < Duration::minutes(1) => (start, count + 1),
            _ => (now, 1),
        };
        *window = Some((start, count));
        count <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_resets_each_minute() {
        let t0: DateTime<Utc> = "2026-09-10T12:00:00Z".parse().unwrap();
        let throttle = Throttle::new(2);
        assert!(throttle.admit(t0));
        assert!(throttle.admit(t0 + Duration::seconds(10)));
        assert!(!throttle.admit(t0 + Duration::seconds(20)));
        assert!(throttle.admit(t0 + Duration::seconds(61)));
    }
}
