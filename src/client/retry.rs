//! Retry policy: exponential backoff with jitter inside a bounded time budget.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often and how long a failed call is retried.
///
/// The Send API has no idempotency key, so [`GraphClient`](super::GraphClient) retries only
/// where Meta surely did not act:
///
/// * the connection could not be established (nothing was sent);
/// * HTTP 429, or a Graph rate-limit code (`4`, `17`, `32`, `341`, `613`, `80000`–`80014`);
/// * a Graph code Meta documents as "wait and retry" (`1`, `2`) or flags `is_transient`.
///
/// A timeout or a dropped connection after the request was sent, and a 5xx without a Graph
/// error envelope, are reported as
/// [`GraphErrorKind::OutcomeUnknown`](super::GraphErrorKind::OutcomeUnknown) and never retried.
/// Read-only requests (profile, comment) are also retried after those, since reading twice
/// is harmless.
///
/// A retry waits `min(initial × 2^n, max_backoff)`, or longer when Meta asked for a delay
/// (`Retry-After`, `estimated_time_to_regain_access`); with jitter the wait is drawn
/// uniformly from its upper half. A retry whose wait would end after the budget is not made:
/// the last error is returned instead (with [`GraphError::retry_after`](super::GraphError::retry_after)
/// when known), so a caller can queue the work for later.
///
/// ```
/// use std::time::Duration;
/// use meta_webhooks::client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(4)
///     .with_initial_backoff(Duration::from_millis(200))
///     .with_budget(Duration::from_secs(10));
/// assert_eq!(policy.max_attempts(), 4);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    budget: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// 3 attempts, 500 ms doubling up to 8 s, within 30 s, with jitter.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            budget: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is attempted once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts, the first included (0 is treated as 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest computed wait between attempts (a delay Meta asks for may be longer, as
    /// long as it fits the budget).
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The most time a call may spend waiting for retries in total.
    #[must_use]
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// Randomizes each wait within its upper half (on by default), so that many clients do
    /// not retry in lockstep.
    #[must_use]
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Total attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest computed wait.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The total waiting budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Whether waits are jittered.
    pub fn jitter(&self) -> bool {
        self.jitter
    }

    /// The wait before retry number `retry` (1 for the first retry), without jitter.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1_u32 << shift)
            .min(self.max_backoff)
    }

    /// The wait before retry number `retry`, honouring a delay Meta asked for.
    pub(crate) fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let backoff = self.backoff(retry);
        let backoff = if self.jitter {
            jittered(backoff)
        } else {
            backoff
        };
        hint.map_or(backoff, |hint| hint.max(backoff))
    }
}

/// Uniform in `[d/2, d]`.
fn jittered(d: Duration) -> Duration {
    let half = d / 2;
    let span = u64::try_from(d.saturating_sub(half).as_nanos()).unwrap_or(u64::MAX);
    if span == 0 {
        return d;
    }
    half + Duration::from_nanos(random_u64() % (span + 1).max(1))
}

/// A random number from the standard library's randomly keyed SipHash (no extra dependency;
/// jitter needs no cryptographic quality).
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(500))
            .with_jitter(false);
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(p.backoff(1000), Duration::from_millis(500));
        assert_eq!(p.delay(1, None), Duration::from_millis(100));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn jitter_stays_in_upper_half() {
        let p = RetryPolicy::default().with_initial_backoff(Duration::from_millis(100));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = p.delay(1, None);
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
                "{d:?}"
            );
            seen.insert(d);
        }
        assert!(seen.len() > 1, "jitter should vary");
    }

    #[test]
    fn zero_attempts_means_one() {
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }
}
