//! Rate limit of the endpoint's rejection logs: at most [`LINES_PER_SECOND`] lines per
//! second for each [`RejectionKind`] (per endpoint); the first line that gets through after a quiet spell
//! carries how many were suppressed before it. Lock-free (atomics only), so a flood of bad
//! requests costs a few atomic operations each and no log I/O.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::RejectionKind;

/// Rejection log lines per second and rejection kind, at most.
pub(super) const LINES_PER_SECOND: u64 = 10;

/// A rate limit for log lines about refused requests: at most `per_second` lines in each
/// wall-clock second; the first line written after some were dropped learns how many.
///
/// The endpoint limits its rejection logs with one per rejection kind; glue code uses it
/// for its own refusals (e.g. failed admin logins) so a flood of bad requests costs a few
/// atomic operations each and no log I/O. Lock-free, usable in a `static`.
///
/// ```
/// use meta_webhooks::endpoint::LogLimit;
///
/// static REFUSED: LogLimit = LogLimit::new(5);
///
/// if let Some(suppressed) = REFUSED.check() {
///     eprintln!("request refused ({suppressed} similar lines suppressed before this one)");
/// }
/// ```
#[derive(Debug)]
pub struct LogLimit {
    per_second: u64,
    window: AtomicU64,
    emitted: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimit {
    /// A limiter writing at most `per_second` lines per second.
    pub const fn new(per_second: u64) -> Self {
        Self {
            per_second,
            window: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether to write a line now (wall-clock seconds); see [`check_at`](Self::check_at).
    pub fn check(&self) -> Option<u64> {
        self.check_at(unix_seconds())
    }

    /// At second `now` (any monotonic count of seconds, e.g. since the Unix epoch):
    /// `Some(suppressed)` to write a line, saying how many were suppressed since the last
    /// one written; `None` to suppress it.
    pub fn check_at(&self, now: u64) -> Option<u64> {
        let window = self.window.load(Ordering::Relaxed);
        if window != now
            && self
                .window
                .compare_exchange(window, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.emitted.store(0, Ordering::Relaxed);
        }
        if self.emitted.fetch_add(1, Ordering::Relaxed) < self.per_second {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// One limiter per rejection kind (an endpoint's).
#[derive(Debug)]
pub(super) struct LogLimits([LogLimit; 8]);

impl Default for LogLimits {
    fn default() -> Self {
        Self(std::array::from_fn(|_| LogLimit::new(LINES_PER_SECOND)))
    }
}

impl LogLimits {
    /// Whether to log a rejection of `kind` now; see [`LogLimit::check_at`].
    pub(super) fn check(&self, kind: RejectionKind) -> Option<u64> {
        let now = unix_seconds();
        let index = match kind {
            RejectionKind::MethodNotAllowed => 0,
            RejectionKind::Handshake => 1,
            RejectionKind::TooLarge => 2,
            RejectionKind::Timeout => 3,
            RejectionKind::Body => 4,
            RejectionKind::Signature => 5,
            RejectionKind::Parse => 6,
            RejectionKind::Sink => 7,
        };
        self.0.get(index)?.check_at(now)
    }
}

/// Seconds since the Unix epoch (0 for a clock before it).
fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_writes_the_limit_then_reports_what_it_suppressed() {
        let limit = LogLimit::new(3);
        let written: Vec<_> = (0..100).filter_map(|_| limit.check_at(7)).collect();
        assert_eq!(written, [0, 0, 0]);
        // The next second: the first line carries the 97 suppressed ones.
        assert_eq!(limit.check_at(8), Some(97));
        assert_eq!(limit.check_at(8), Some(0));
        assert_eq!(limit.check_at(8), Some(0));
        assert_eq!(limit.check_at(8), None);
        assert_eq!(limit.check_at(20), Some(1));
    }

    #[test]
    fn kinds_are_limited_separately() {
        let limits = LogLimits::default();
        let signature = (0..1000)
            .filter(|_| limits.check(RejectionKind::Signature).is_some())
            .count();
        let parse = (0..5)
            .filter(|_| limits.check(RejectionKind::Parse).is_some())
            .count();
        // A burst may straddle a second boundary: at most two windows' worth.
        assert!(signature <= 2 * LINES_PER_SECOND as usize, "{signature}");
        assert_eq!(parse, 5);
    }
}
