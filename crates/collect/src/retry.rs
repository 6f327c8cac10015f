//! Retry timing shared by every HTTP caller: `Retry-After` parsing and
//! exponential backoff with jitter when the service gives no hint.

use std::time::Duration;

/// How long and how often to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// First backoff when no `Retry-After` is given; doubles each time.
    pub base: Duration,
    /// Longest single wait.
    pub max_wait: Duration,
    /// Divides every computed wait (the simulator runs its clock faster);
    /// `Retry-After` values are used as given.
    pub time_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(1),
            max_wait: Duration::from_secs(120),
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): the
    /// service's `Retry-After` when present, else exponential backoff with
    /// full jitter in [base * 2^(n-1) / 2, base * 2^(n-1)].
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_wait);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let capped = exp.min(self.max_wait).div_f64(self.time_scale.max(1e-9));
        let jitter = 0.5 + rand::random::<f64>() * 0.5;
        capped.mul_f64(jitter)
    }
}

/// Parses `Retry-After`: integer or fractional seconds (Graph sends `2.128`), or
/// an HTTP-date. Negative, absurd or unparsable values are ignored.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (0.0..86_400.0)
            .contains(&secs)
            .then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(parse_retry_after("10", now), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after(" 2.128 ", now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 00:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let w = p.wait(attempt, None);
            let full = Duration::from_secs(1 << (attempt - 1)).min(p.max_wait);
            assert!(w <= full && w >= full / 2, "{attempt}: {w:?}");
        }
        assert_eq!(
            p.wait(3, Some(Duration::from_millis(500))),
            Duration::from_millis(500)
        );
        let fast = RetryPolicy {
            time_scale: 100.0,
            ..RetryPolicy::default()
        };
        assert!(fast.wait(1, None) <= Duration::from_millis(10));
    }
}
