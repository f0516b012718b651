//! Rate limit of log lines about refused requests (e.g. failed admin logins): at most a
//! few lines per second; the first line that gets through after a quiet spell carries how
//! many were suppressed before it. Lock-free (atomics only).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One limiter: the current one-second window, lines in it, and lines suppressed since
/// the last one written.
#[derive(Debug)]
pub(crate) struct LogLimit {
    per_second: u64,
    window: AtomicU64,
    emitted: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimit {
    pub(crate) const fn new(per_second: u64) -> Self {
        Self {
            per_second,
            window: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether to log now (wall-clock seconds); see [`check_at`](Self::check_at).
    pub(crate) fn check(&self) -> Option<u64> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.check_at(now)
    }

    /// At second `now`: `Some(suppressed)` to write a line (saying how many were
    /// suppressed since the last one), `None` to suppress it.
    pub(crate) fn check_at(&self, now: u64) -> Option<u64> {
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
}
