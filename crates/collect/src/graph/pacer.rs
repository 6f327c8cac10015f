//! Pacing: one sliding window per documented throttle budget, so a collection
//! stays under Microsoft's rates instead of bouncing off 429s
//! (<https://learn.microsoft.com/graph/throttling-limits>).
//! A window admits at most `max` requests in any `window`-long interval, which is
//! what the services enforce; after a 429 the budget pauses for the Retry-After
//! and admits one request fewer per window for the rest of the run.

use m365_preserve_sources::Budget;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

struct Window {
    max: usize,
    window: Duration,
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

/// Admission for requests, per budget.
pub struct Pacer {
    windows: HashMap<Budget, Mutex<Window>>,
    /// Budgets that count requests in flight (Outlook, Exchange).
    in_flight: HashMap<Budget, Arc<Semaphore>>,
}

/// Held while a request is in flight (where the budget counts concurrency).
pub struct Admission {
    _in_flight: Option<OwnedSemaphorePermit>,
}

impl Pacer {
    /// The documented budgets; `time_scale` > 1 shrinks the windows to match a
    /// simulator whose clock runs faster.
    pub fn documented(time_scale: f64) -> Self {
        let windows = Budget::ALL
            .iter()
            .map(|b| {
                let (max, window) = b.limit();
                // Arrival jitter: keep a small margin so the service never sees
                // `max + 1` requests inside one window.
                let window =
                    window.div_f64(time_scale.max(1e-9)).mul_f64(1.03) + Duration::from_millis(15);
                (
                    *b,
                    Mutex::new(Window {
                        max,
                        window,
                        sent: VecDeque::new(),
                        paused_until: None,
                    }),
                )
            })
            .collect();
        let in_flight = Budget::ALL
            .iter()
            .filter_map(|b| Some((*b, Arc::new(Semaphore::new(b.concurrency()?)))))
            .collect();
        Self { windows, in_flight }
    }

    /// Waits until `budget` admits one more request.
    pub async fn admit(&self, budget: Budget) -> Admission {
        let in_flight = match self.in_flight.get(&budget) {
            Some(s) => Some(
                s.clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore never closed"),
            ),
            None => None,
        };
        let mut w = self.windows[&budget].lock().await;
        loop {
            let now = Instant::now();
            if let Some(until) = w.paused_until.filter(|u| *u > now) {
                tokio::time::sleep_until(until.into()).await;
                continue;
            }
            let horizon = w.window;
            while w
                .sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= horizon)
            {
                w.sent.pop_front();
            }
            if w.sent.len() < w.max {
                w.sent.push_back(now);
                return Admission {
                    _in_flight: in_flight,
                };
            }
            let oldest = *w.sent.front().expect("window is full");
            tokio::time::sleep_until((oldest + horizon).into()).await;
        }
    }

    /// Records a 429 on `budget`: pause for `retry_after` (or one window) and
    /// admit one request fewer per window from now on.
    pub async fn throttled(&self, budget: Budget, retry_after: Option<Duration>) {
        let mut w = self.windows[&budget].lock().await;
        let pause = retry_after.unwrap_or(w.window);
        w.paused_until = Some(Instant::now() + pause);
        w.max = w.max.saturating_sub((w.max / 5).max(1)).max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_more_than_max_in_any_window() {
        // Reports: 5 per 10 s; at time scale 100 that is 5 per ~103 ms.
        let pacer = Pacer::documented(100.0);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            let _a = pacer.admit(Budget::Reports).await;
            times.push(start.elapsed());
        }
        for i in 5..times.len() {
            assert!(
                times[i] - times[i - 5] >= Duration::from_millis(100),
                "{times:?}"
            );
        }
        // The first five go at once.
        assert!(times[4] < Duration::from_millis(50), "{times:?}");
    }

    #[tokio::test]
    async fn a_429_pauses_and_tightens_the_budget() {
        let pacer = Pacer::documented(1000.0);
        pacer
            .throttled(Budget::Reports, Some(Duration::from_millis(60)))
            .await;
        let start = Instant::now();
        let _a = pacer.admit(Budget::Reports).await;
        assert!(start.elapsed() >= Duration::from_millis(55));
        assert_eq!(pacer.windows[&Budget::Reports].lock().await.max, 4);
    }
}
