//! Deduplication of redelivered events: claim → complete, or release on failure.
//!
//! Meta retries a delivery it did not see acknowledged, for up to 36 hours, and the same
//! event can also arrive in two different deliveries. A [`Dedup`] store remembers which
//! events (by [`Event::dedup_key`](crate::event::Event::dedup_key)) are being or have been
//! handled, so a worker handles each one once:
//!
//! 1. [`claim`](Dedup::claim) the key before handling. [`Claim::Duplicate`] means another
//!    worker holds or completed it: skip the event.
//! 2. [`complete`](Dedup::complete) it after the handler succeeded; the key is then
//!    remembered for the store's TTL (default [`DEFAULT_DEDUP_TTL`], longer than Meta's
//!    retry horizon).
//! 3. [`release`](Dedup::release) it when the handler failed, so a redelivery is handled.
//!
//! **A store error is not a duplicate.** Implementations return [`DedupError`] when they
//! cannot tell (store down, timeout); callers must then not treat the event as handled.
//! [`MemorySink`](crate::sink::MemorySink) retries the claim and then follows its
//! [`OnDedupError`](crate::sink::OnDedupError) policy (by default it handles the event,
//! accepting a possible second handling over a silent loss).
//!
//! [`MemoryDedup`] is the in-process implementation: bounded, expiring, shared by clones,
//! and lost on restart. A shared store (e.g. Redis `SET key 1 NX PX ttl` for the claim,
//! `SET key 2 PX ttl` for complete, `DEL key` for release) implements the same trait
//! outside this crate:
//!
//! ```
//! use meta_webhooks::sink::{Claim, Dedup, DedupError};
//!
//! /// A store that delegates to some shared key-value service.
//! struct SharedDedup { /* connection pool, ttl, key prefix … */ }
//!
//! impl Dedup for SharedDedup {
//!     async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
//!         // e.g. `SET {prefix}{key} 1 NX PX {ttl}`: OK → claimed, nil → duplicate.
//!         let _ = key;
//!         let was_set = true; // the store's answer
//!         Ok(if was_set { Claim::Claimed } else { Claim::Duplicate })
//!     }
//!     async fn complete(&self, _key: &str) -> Result<(), DedupError> {
//!         Ok(()) // e.g. `SET {prefix}{key} 2 PX {ttl}`
//!     }
//!     async fn release(&self, _key: &str) -> Result<(), DedupError> {
//!         // A failure here is reported; never pretend it worked.
//!         Err(DedupError::new("store unavailable"))
//!     }
//! }
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Default time a key is remembered: 48 hours, Meta's 36-hour retry horizon plus margin.
pub const DEFAULT_DEDUP_TTL: Duration = Duration::from_secs(48 * 60 * 60);

/// Default bound on the keys a [`MemoryDedup`] holds.
pub const DEFAULT_DEDUP_CAPACITY: usize = 100_000;

/// The answer to a [`Dedup::claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Claim {
    /// The key was free and is now held by the caller: handle the event, then
    /// [`complete`](Dedup::complete) or [`release`](Dedup::release) it.
    Claimed,
    /// The key is held or was completed within the TTL: skip the event.
    Duplicate,
}

impl Claim {
    /// `true` for [`Claim::Claimed`].
    pub fn is_claimed(self) -> bool {
        matches!(self, Self::Claimed)
    }

    /// `true` for [`Claim::Duplicate`].
    pub fn is_duplicate(self) -> bool {
        matches!(self, Self::Duplicate)
    }
}

/// A store that remembers which events were handled (see the [module docs](self)).
///
/// Implementations must make `claim` atomic across everything that shares the store: two
/// concurrent claims of one key yield exactly one [`Claim::Claimed`]. They must be cheap to
/// share (`Send + Sync`), and they must return [`DedupError`], never
/// [`Claim::Duplicate`], when they cannot answer.
pub trait Dedup: Send + Sync + 'static {
    /// Atomically claims `key` for the caller.
    ///
    /// # Errors
    ///
    /// [`DedupError`] when the store cannot answer; the event is then neither a duplicate
    /// nor claimed.
    fn claim(&self, key: &str) -> impl Future<Output = Result<Claim, DedupError>> + Send;

    /// Marks a claimed `key` as handled; it stays remembered for the store's TTL.
    ///
    /// # Errors
    ///
    /// [`DedupError`] when the store cannot record it (a redelivery may then be handled
    /// again once the claim expires).
    fn complete(&self, key: &str) -> impl Future<Output = Result<(), DedupError>> + Send;

    /// Forgets a claimed `key` after a failed handling, so a redelivery is handled.
    ///
    /// # Errors
    ///
    /// [`DedupError`] when the store cannot forget it (the claim then blocks redeliveries
    /// until it expires).
    fn release(&self, key: &str) -> impl Future<Output = Result<(), DedupError>> + Send;
}

impl<D: Dedup> Dedup for Arc<D> {
    fn claim(&self, key: &str) -> impl Future<Output = Result<Claim, DedupError>> + Send {
        (**self).claim(key)
    }

    fn complete(&self, key: &str) -> impl Future<Output = Result<(), DedupError>> + Send {
        (**self).complete(key)
    }

    fn release(&self, key: &str) -> impl Future<Output = Result<(), DedupError>> + Send {
        (**self).release(key)
    }
}

/// A dedup store that could not answer. Its reason is short and carries no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("dedup store failed: {reason}")]
pub struct DedupError {
    reason: Cow<'static, str>,
}

impl DedupError {
    /// An error with a short reason, e.g. `"connection refused"`. Never put credentials or
    /// full connection URLs in it: it is logged.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// What went wrong, to branch on and to log: today always
    /// [`DedupErrorKind::Unavailable`].
    pub fn kind(&self) -> DedupErrorKind {
        DedupErrorKind::Unavailable
    }

    /// The reason given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The kind of a [`DedupError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DedupErrorKind {
    /// The store could not answer (down, refused, timed out): the claim is unknown, which
    /// is never taken for a duplicate.
    Unavailable,
}

impl DedupErrorKind {
    /// `"unavailable"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for DedupErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No deduplication: every claim succeeds. The default of
/// [`MemorySink`](crate::sink::MemorySink).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoDedup;

impl Dedup for NoDedup {
    async fn claim(&self, _key: &str) -> Result<Claim, DedupError> {
        Ok(Claim::Claimed)
    }

    async fn complete(&self, _key: &str) -> Result<(), DedupError> {
        Ok(())
    }

    async fn release(&self, _key: &str) -> Result<(), DedupError> {
        Ok(())
    }
}

/// In-memory [`Dedup`]: keys expire after a TTL and at most `capacity` keys are held.
///
/// Clones share one store. Memory stays bounded: expired keys are purged as new keys
/// arrive, and when the store is full the oldest key is evicted (a redelivery of that
/// event would then be handled again). It never fails, and it is lost on restart — use a
/// shared store (Redis) when several processes handle the same account or when
/// restarts must not forget.
///
/// Every operation has an `_at` form taking `now`, for tests without sleeping:
///
/// ```
/// use std::time::{Duration, Instant};
/// use meta_webhooks::sink::{Claim, MemoryDedup};
///
/// let dedup = MemoryDedup::new().ttl(Duration::from_secs(60));
/// let t0 = Instant::now();
/// assert_eq!(dedup.claim_at("k", t0), Claim::Claimed);
/// assert_eq!(dedup.claim_at("k", t0), Claim::Duplicate);
/// dedup.complete_at("k", t0);
/// assert_eq!(dedup.claim_at("k", t0 + Duration::from_secs(59)), Claim::Duplicate);
/// assert_eq!(dedup.claim_at("k", t0 + Duration::from_secs(61)), Claim::Claimed);
/// ```
#[derive(Clone)]
pub struct MemoryDedup {
    ttl: Duration,
    capacity: usize,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Key → expiry.
    keys: HashMap<Arc<str>, Instant>,
    /// Keys in the order their current expiry was set (expiries are monotone because the
    /// TTL is fixed). An entry whose expiry no longer matches `keys` is stale and skipped.
    order: VecDeque<(Instant, Arc<str>)>,
}

impl State {
    fn purge(&mut self, now: Instant) -> usize {
        let mut removed = 0;
        while let Some((expiry, _)) = self.order.front() {
            if *expiry > now {
                break;
            }
            if let Some((expiry, key)) = self.order.pop_front() {
                removed += usize::from(self.remove_if_current(&key, expiry));
            }
        }
        removed
    }

    fn evict_oldest(&mut self) {
        while let Some((expiry, key)) = self.order.pop_front() {
            if self.remove_if_current(&key, expiry) {
                return;
            }
        }
    }

    fn remove_if_current(&mut self, key: &Arc<str>, expiry: Instant) -> bool {
        if self.keys.get(key) == Some(&expiry) {
            self.keys.remove(key);
            true
        } else {
            false
        }
    }

    fn set(&mut self, key: &str, expiry: Instant, capacity: usize) {
        let key: Arc<str> = match self.keys.get_key_value(key) {
            Some((existing, _)) => Arc::clone(existing),
            None => {
                while self.keys.len() >= capacity {
                    self.evict_oldest();
                }
                Arc::from(key)
            }
        };
        self.keys.insert(Arc::clone(&key), expiry);
        self.order.push_back((expiry, key));
        // Stale entries (keys refreshed or removed) are dropped once they outnumber the
        // live ones, so `order` stays within twice the capacity.
        if self.order.len() > 2 * self.keys.len() + 16 {
            let keys = &self.keys;
            self.order
                .retain(|(expiry, key)| keys.get(key) == Some(expiry));
        }
    }
}

impl MemoryDedup {
    /// A store with [`DEFAULT_DEDUP_TTL`] and [`DEFAULT_DEDUP_CAPACITY`].
    pub fn new() -> Self {
        Self {
            ttl: DEFAULT_DEDUP_TTL,
            capacity: DEFAULT_DEDUP_CAPACITY,
            state: Arc::default(),
        }
    }

    /// Sets how long a claimed or completed key is remembered.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the most keys held at once (at least 1); the oldest is evicted beyond it.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every await-free step, so a poisoned lock (a
        // panic elsewhere while holding it) is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`Dedup::claim`] at the instant `now`.
    pub fn claim_at(&self, key: &str, now: Instant) -> Claim {
        let mut state = self.lock();
        state.purge(now);
        if state.keys.get(key).is_some_and(|expiry| *expiry > now) {
            return Claim::Duplicate;
        }
        state.set(key, now + self.ttl, self.capacity);
        Claim::Claimed
    }

    /// [`Dedup::complete`] at the instant `now`: the key is remembered until `now + ttl`.
    pub fn complete_at(&self, key: &str, now: Instant) {
        let mut state = self.lock();
        state.purge(now);
        state.set(key, now + self.ttl, self.capacity);
    }

    /// [`Dedup::release`]: forgets `key`.
    pub fn remove(&self, key: &str) {
        self.lock().keys.remove(key);
    }

    /// Drops every key expired at `now` and returns how many were dropped.
    pub fn purge_expired(&self, now: Instant) -> usize {
        self.lock().purge(now)
    }

    /// How many keys are held (expired ones count until purged).
    pub fn len(&self) -> usize {
        self.lock().keys.len()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryDedup {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDedup")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Dedup for MemoryDedup {
    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        Ok(self.claim_at(key, Instant::now()))
    }

    async fn complete(&self, key: &str) -> Result<(), DedupError> {
        self.complete_at(key, Instant::now());
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), DedupError> {
        self.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn claim_complete_release_cycle() {
        let d = MemoryDedup::new().ttl(MIN);
        let t = Instant::now();
        assert!(d.claim_at("a", t).is_claimed());
        assert!(d.claim_at("a", t).is_duplicate());
        assert!(d.claim_at("b", t).is_claimed());
        d.remove("a");
        assert!(
            d.claim_at("a", t).is_claimed(),
            "released keys can be claimed again"
        );
        d.complete_at("a", t + MIN / 2);
        // Completing refreshed the expiry: still a duplicate after the claim's TTL.
        assert!(
            d.claim_at("a", t + MIN + Duration::from_secs(1))
                .is_duplicate()
        );
        assert!(d.claim_at("a", t + MIN * 2).is_claimed());
    }

    #[test]
    fn expired_keys_are_purged_without_sleeping() {
        let d = MemoryDedup::new().ttl(MIN);
        let t = Instant::now();
        for i in 0..1000 {
            assert!(d.claim_at(&format!("k{i}"), t).is_claimed());
        }
        assert_eq!(d.len(), 1000);
        // A claim after expiry purges everything that expired.
        assert!(d.claim_at("new", t + MIN).is_claimed());
        assert_eq!(d.len(), 1);
        assert_eq!(d.purge_expired(t + MIN * 2), 1);
        assert!(d.is_empty());
        assert!(d.lock().order.is_empty());
    }

    #[test]
    fn capacity_evicts_the_oldest_and_bounds_memory() {
        let d = MemoryDedup::new().ttl(MIN).capacity(3);
        let t = Instant::now();
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            assert!(
                d.claim_at(key, t + Duration::from_millis(i as u64))
                    .is_claimed()
            );
        }
        assert_eq!(d.len(), 3);
        assert!(d.claim_at("a", t).is_claimed(), "oldest was evicted");
        assert!(d.claim_at("d", t).is_duplicate());
        // Refreshing keys many times does not grow the bookkeeping without bound.
        for i in 0..10_000u64 {
            d.complete_at("d", t + Duration::from_millis(i));
        }
        assert!(d.lock().order.len() <= 2 * 3 + 16);
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn clones_share_the_store() {
        let d = MemoryDedup::new();
        let other = d.clone();
        let t = Instant::now();
        assert!(d.claim_at("x", t).is_claimed());
        assert!(other.claim_at("x", t).is_duplicate());
        assert!(format!("{d:?}").contains("len: 1"));
    }

    #[test]
    fn no_dedup_always_claims() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(NoDedup.claim("a").await.unwrap().is_claimed());
            assert!(NoDedup.claim("a").await.unwrap().is_claimed());
            assert!(NoDedup.complete("a").await.is_ok());
            assert!(NoDedup.release("a").await.is_ok());
        });
    }

    #[test]
    fn error_shows_its_reason() {
        let e = DedupError::new("connection refused");
        assert_eq!(e.reason(), "connection refused");
        assert_eq!(e.kind().as_str(), "unavailable");
        assert_eq!(e.to_string(), "dedup store failed: connection refused");
    }
}
