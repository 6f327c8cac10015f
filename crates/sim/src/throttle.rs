//! Microsoft Graph's per-service throttle budgets
//! (<https://learn.microsoft.com/graph/throttling-limits>), kept in simulated time so
//! `--time-scale` shrinks them for tests.
//!
//! | budget | limit | key |
//! |---|---|---|
//! | reports (sign-ins, directory audits, registration details, auth methods) | 5 requests / 10 s | app |
//! | directory objects | resource-unit token bucket, 3,500 / 5,000 / 8,000 RU per 10 s by tenant size | app |
//! | Outlook | 4 concurrent requests and 10,000 / 10 min | app + mailbox |
//! | identity protection | 1 request / s, 429 **without** `Retry-After` | tenant |
//! | audit-log query submissions | 200 / rolling 24 h | tenant |
//! | Exchange message trace (list and details together) | 100 / 5 min, 429 with `Retry-After` | tenant |
//! | security alerts and incidents | 150 / min | app |
//! | Exchange InvokeCommand (no documented quota: the budget the collector keeps) | 4 concurrent and 10 / 10 s | tenant |
//!
//! Only admitted requests count against a window: a throttled request is not
//! charged, so a client that waits the `Retry-After` it was given gets in.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy)]
pub enum Budget<'a> {
    Reports,
    /// Resource units this request costs.
    Directory {
        cost: u32,
    },
    /// The mailbox's user id.
    Outlook {
        mailbox: &'a str,
    },
    IdentityProtection,
    AuditQuerySubmission,
    MessageTrace,
    Security,
    /// Exchange Online's InvokeCommand, per tenant.
    Exchange,
}

/// A refusal: how long (simulated) the client should wait, if the service says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Throttled {
    RetryAfter(Duration),
    /// Identity protection answers 429 without `Retry-After`.
    NoRetryAfter,
}

/// An admitted request. For Outlook it holds one of the mailbox's four
/// concurrency slots until dropped.
#[derive(Debug, Default)]
pub struct Slot(Option<Arc<AtomicUsize>>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(in_flight) = &self.0 {
            in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

const OUTLOOK_CONCURRENCY: usize = 4;
const EXCHANGE_CONCURRENCY: usize = 4;

/// A sliding window of admitted requests.
#[derive(Debug)]
struct Window {
    limit: usize,
    period: chrono::Duration,
    hits: VecDeque<DateTime<Utc>>,
}

impl Window {
    fn new(limit: usize, period: chrono::Duration) -> Self {
        Self {
            limit,
            period,
            hits: VecDeque::new(),
        }
    }

    /// Admits at `now`, or says how long until the oldest hit leaves the window.
    fn hit(&mut self, now: DateTime<Utc>) -> Result<(), Duration> {
        while self.hits.front().is_some_and(|t| *t + self.period <= now) {
            self.hits.pop_front();
        }
        if self.hits.len() >= self.limit {
            let oldest = self.hits.front().copied().unwrap_or(now);
            let wait = (oldest + self.period - now).to_std().unwrap_or_default();
            return Err(wait.max(Duration::from_millis(1)));
        }
        self.hits.push_back(now);
        Ok(())
    }
}

/// A token bucket of resource units refilled continuously.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    units: f64,
    updated: DateTime<Utc>,
}

impl Bucket {
    const PERIOD_SECS: f64 = 10.0;

    fn take(&mut self, cost: f64, now: DateTime<Utc>) -> Result<(), Duration> {
        let rate = self.capacity / Self::PERIOD_SECS;
        let elapsed = (now - self.updated).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
        self.units = (self.units + elapsed * rate).min(self.capacity);
        self.updated = now;
        if self.units >= cost {
            self.units -= cost;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((cost - self.units) / rate))
        }
    }
}

/// A budget that counts requests in flight as well as in a window (Outlook per
/// mailbox, Exchange per tenant).
#[derive(Debug)]
struct MailboxBudget {
    in_flight: Arc<AtomicUsize>,
    window: Window,
}

impl MailboxBudget {
    /// One more request in flight, if fewer than `concurrency` are and the
    /// window has room.
    fn admit(&mut self, concurrency: usize, now: DateTime<Utc>) -> Result<Slot, Throttled> {
        if self.in_flight.load(Ordering::SeqCst) >= concurrency {
            return Err(Throttled::RetryAfter(Duration::from_secs(1)));
        }
        self.window.hit(now).map_err(Throttled::RetryAfter)?;
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Ok(Slot(Some(self.in_flight.clone())))
    }
}

/// Every budget of one simulated tenant.
#[derive(Debug)]
pub struct Throttles {
    reports: Mutex<HashMap<String, Window>>,
    directory: Mutex<HashMap<String, Bucket>>,
    outlook: Mutex<HashMap<(String, String), MailboxBudget>>,
    identity_protection: Mutex<Window>,
    submissions: Mutex<Window>,
    message_trace: Mutex<Window>,
    security: Mutex<HashMap<String, Window>>,
    exchange: Mutex<MailboxBudget>,
    ru_capacity: f64,
}

impl Throttles {
    /// Budgets for a tenant of `users` users (its size class sets the
    /// directory bucket: S < 50, M <= 500, L above).
    pub fn new(users: usize) -> Self {
        let ru_capacity = match users {
            0..50 => 3_500.0,
            50..=500 => 5_000.0,
            _ => 8_000.0,
        };
        Self {
            reports: Mutex::default(),
            directory: Mutex::default(),
            outlook: Mutex::default(),
            identity_protection: Mutex::new(Window::new(1, chrono::Duration::seconds(1))),
            submissions: Mutex::new(Window::new(200, chrono::Duration::hours(24))),
            message_trace: Mutex::new(Window::new(100, chrono::Duration::minutes(5))),
            security: Mutex::default(),
            exchange: Mutex::new(MailboxBudget {
                in_flight: Arc::default(),
                window: Window::new(10, chrono::Duration::seconds(10)),
            }),
            ru_capacity,
        }
    }

    /// Exchange's InvokeCommand admits `n` requests per 10 simulated seconds.
    pub fn with_exchange_window(self, n: usize) -> Self {
        *lock(&self.exchange) = MailboxBudget {
            in_flight: Arc::default(),
            window: Window::new(n, chrono::Duration::seconds(10)),
        };
        self
    }

    /// Admits one request of `app` at simulated time `now`, or refuses it.
    pub fn admit(
        &self,
        budget: Budget<'_>,
        app: &str,
        now: DateTime<Utc>,
    ) -> Result<Slot, Throttled> {
        let retry = Throttled::RetryAfter;
        match budget {
            Budget::Reports => lock(&self.reports)
                .entry(app.to_string())
                .or_insert_with(|| Window::new(5, chrono::Duration::seconds(10)))
                .hit(now)
                .map(|_| Slot::default())
                .map_err(retry),
            Budget::Directory { cost } => lock(&self.directory)
                .entry(app.to_string())
                .or_insert_with(|| Bucket {
                    capacity: self.ru_capacity,
                    units: self.ru_capacity,
                    updated: now,
                })
                .take(f64::from(cost.max(1)), now)
                .map(|_| Slot::default())
                .map_err(retry),
            Budget::Outlook { mailbox } => {
                let mut map = lock(&self.outlook);
                let entry = map
                    .entry((app.to_string(), mailbox.to_ascii_lowercase()))
                    .or_insert_with(|| MailboxBudget {
                        in_flight: Arc::default(),
                        window: Window::new(10_000, chrono::Duration::minutes(10)),
                    });
                entry.admit(OUTLOOK_CONCURRENCY, now)
            }
            Budget::Exchange => lock(&self.exchange).admit(EXCHANGE_CONCURRENCY, now),
            Budget::IdentityProtection => lock(&self.identity_protection)
                .hit(now)
                .map(|_| Slot::default())
                .map_err(|_| Throttled::NoRetryAfter),
            Budget::AuditQuerySubmission => lock(&self.submissions)
                .hit(now)
                .map(|_| Slot::default())
                .map_err(retry),
            Budget::MessageTrace => lock(&self.message_trace)
                .hit(now)
                .map(|_| Slot::default())
                .map_err(retry),
            Budget::Security => lock(&self.security)
                .entry(app.to_string())
                .or_insert_with(|| Window::new(150, chrono::Duration::minutes(1)))
                .hit(now)
                .map(|_| Slot::default())
                .map_err(retry),
        }
    }
}

/// Locks a budget map; a panic elsewhere cannot leave a budget half-updated
/// in a way that matters, so a poisoned lock is simply taken over.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: f64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds((secs * 1000.0) as i64)
    }

    #[test]
    fn reports_allow_five_per_ten_seconds_per_app() {
        let th = Throttles::new(10);
        for i in 0..5 {
            assert!(th.admit(Budget::Reports, "a", t(i as f64)).is_ok());
        }
        assert_eq!(
            th.admit(Budget::Reports, "a", t(5.0)).unwrap_err(),
            Throttled::RetryAfter(Duration::from_secs(5))
        );
        assert!(th.admit(Budget::Reports, "b", t(5.0)).is_ok());
        assert!(th.admit(Budget::Reports, "a", t(10.0)).is_ok());
    }

    #[test]
    fn directory_bucket_refills() {
        let th = Throttles::new(10);
        for _ in 0..1750 {
            assert!(th.admit(Budget::Directory { cost: 2 }, "a", t(0.0)).is_ok());
        }
        let Throttled::RetryAfter(wait) = th
            .admit(Budget::Directory { cost: 2 }, "a", t(0.0))
            .unwrap_err()
        else {
            panic!()
        };
        assert!(wait > Duration::ZERO && wait < Duration::from_millis(10));
        assert!(th.admit(Budget::Directory { cost: 2 }, "a", t(1.0)).is_ok());
    }

    #[test]
    fn outlook_allows_four_concurrent_per_mailbox() {
        let th = Throttles::new(10);
        let slots: Vec<_> = (0..4)
            .map(|_| {
                th.admit(Budget::Outlook { mailbox: "m" }, "a", t(0.0))
                    .unwrap()
            })
            .collect();
        assert!(th
            .admit(Budget::Outlook { mailbox: "m" }, "a", t(0.0))
            .is_err());
        assert!(th
            .admit(Budget::Outlook { mailbox: "n" }, "a", t(0.0))
            .is_ok());
        drop(slots);
        assert!(th
            .admit(Budget::Outlook { mailbox: "m" }, "a", t(0.0))
            .is_ok());
    }

    #[test]
    fn message_trace_allows_a_hundred_per_five_minutes_per_tenant() {
        let th = Throttles::new(10);
        for i in 0..100 {
            let app = if i % 2 == 0 { "a" } else { "b" };
            assert!(th.admit(Budget::MessageTrace, app, t(i as f64)).is_ok());
        }
        assert!(matches!(
            th.admit(Budget::MessageTrace, "c", t(100.0)),
            Err(Throttled::RetryAfter(_))
        ));
        assert!(th.admit(Budget::MessageTrace, "c", t(300.0)).is_ok());
    }

    #[test]
    fn identity_protection_has_no_retry_after() {
        let th = Throttles::new(10);
        assert!(th.admit(Budget::IdentityProtection, "a", t(0.0)).is_ok());
        assert_eq!(
            th.admit(Budget::IdentityProtection, "b", t(0.5))
                .unwrap_err(),
            Throttled::NoRetryAfter
        );
        assert!(th.admit(Budget::IdentityProtection, "a", t(1.0)).is_ok());
    }
}
