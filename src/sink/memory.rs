//! [`MemorySink`]: a bounded in-memory queue with worker tasks calling a [`Handler`].

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;

use super::{Batch, Sink, SinkError};
use crate::event::{Event, EventError, Participant};
use crate::payload::Timestamp;
use crate::sink::dedup::{Claim, Dedup, DedupError, NoDedup};
use crate::sink::handler::Handler;

type Item = Result<Event, EventError>;

/// What a worker does with an event when the dedup store keeps failing (after its
/// retries). A store error is never taken for a duplicate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnDedupError {
    /// Handle the event anyway (at-least-once: it may be handled twice if it is
    /// redelivered). The default: the delivery was acknowledged, so Meta will not resend
    /// it and skipping would lose it.
    #[default]
    Handle,
    /// Do not handle the event (at-most-once); it is logged at `error` and counted.
    Skip,
}

/// [`MemorySinkBuilder::start`] was called outside a Tokio runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("MemorySink must be started from within a Tokio runtime")]
pub struct NoRuntimeError;

/// Counters of a [`MemorySink`] since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// Deliveries accepted.
    pub accepted: u64,
    /// Deliveries refused (full or closed).
    pub refused: u64,
    /// Jobs (a delivery's items for one worker) queued or being handled now.
    pub pending: u64,
    /// Events handled successfully.
    pub handled: u64,
    /// Events whose handler failed or panicked.
    pub failed: u64,
    /// Events skipped as duplicates.
    pub duplicates: u64,
    /// Items that did not classify, passed to [`Handler::handle_invalid`].
    pub invalid: u64,
    /// Dedup store failures that exhausted their retries.
    pub dedup_errors: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    pending: AtomicU64,
    handled: AtomicU64,
    failed: AtomicU64,
    duplicates: AtomicU64,
    invalid: AtomicU64,
    dedup_errors: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A bounded in-memory [`Sink`] whose worker tasks call a [`Handler`].
///
/// # Ordering
///
/// Items are sharded over the workers by conversation — the account plus the person on
/// the other side (the sender; for the account's own echoes, the recipient). One worker
/// handles its items one at a time, so:
///
/// - within one delivery, the events of one conversation are handled in `timestamp`
///   order (events without a timestamp first, in delivery order);
/// - across deliveries, in the order the sink accepted them. Meta may deliver out of
///   order after a retry (it does not promise order then); the handler sees the event
///   `timestamp` and can tell;
/// - different conversations are handled concurrently on different workers (two
///   conversations that hash to the same worker wait for each other).
///
/// # Capacity and back-pressure
///
/// Each worker has a queue of `queue_capacity` jobs (one job = one delivery's items for
/// that worker). A delivery is accepted whole or not at all: if any worker it needs is
/// full, nothing is queued and [`SinkError::Full`] makes the service answer `503`.
///
/// # Durability and shutdown
///
/// **Not durable:** what is queued is lost if the process crashes; the example bots show
/// a durable sink (Redis Streams) for that. [`shutdown`](Self::shutdown) stops accepting
/// (further deliveries get [`SinkError::Closed`] → `503`) and waits until everything
/// accepted was handled.
///
/// ```
/// use meta_webhooks::sink::{MemoryDedup, MemorySink, handler_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sink = MemorySink::builder()
///     .workers(8)
///     .queue_capacity(256)
///     .dedup(MemoryDedup::new())
///     .start(handler_fn(|event: meta_webhooks::event::Event| async move {
///         let _ = event; // reply …
///         Ok::<(), std::convert::Infallible>(())
///     }))
///     .expect("inside a Tokio runtime");
/// // … serve `Endpoint::builder(verifier, handshake, sink.clone()).build()` …
/// sink.shutdown().await; // drains what was accepted
/// # }
/// ```
#[derive(Clone)]
pub struct MemorySink {
    shared: Arc<Shared>,
}

struct Shared {
    senders: RwLock<Option<Box<[mpsc::Sender<Job>]>>>,
    workers: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
    worker_count: usize,
    counters: Arc<Counters>,
}

struct Job {
    items: Vec<Item>,
}

/// Configures and starts a [`MemorySink`].
#[derive(Debug, Clone)]
pub struct MemorySinkBuilder<D = NoDedup> {
    workers: usize,
    queue_capacity: usize,
    dedup: D,
    on_dedup_error: OnDedupError,
    dedup_attempts: u32,
    dedup_backoff: Duration,
}

impl MemorySink {
    /// Default number of workers.
    pub const DEFAULT_WORKERS: usize = 16;
    /// Default queue capacity per worker, in jobs.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 128;

    /// A builder with the defaults: [`DEFAULT_WORKERS`](Self::DEFAULT_WORKERS) workers,
    /// [`DEFAULT_QUEUE_CAPACITY`](Self::DEFAULT_QUEUE_CAPACITY) jobs per worker, no dedup.
    pub fn builder() -> MemorySinkBuilder {
        MemorySinkBuilder {
            workers: Self::DEFAULT_WORKERS,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            dedup: NoDedup,
            on_dedup_error: OnDedupError::default(),
            dedup_attempts: 3,
            dedup_backoff: Duration::from_millis(50),
        }
    }

    /// Stops accepting deliveries and waits until every accepted one was handled.
    ///
    /// Deliveries offered after this started get [`SinkError::Closed`] (the service
    /// answers `503`, Meta retries later). Every caller waits for the drain; calls after
    /// it completed return at once. Bound the wait with `tokio::time::timeout` if the
    /// handler may hang.
    pub async fn shutdown(&self) {
        let senders = self
            .shared
            .senders
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropping the senders ends each worker once its queue is empty.
        drop(senders);
        let mut workers = self.shared.workers.lock().await;
        for worker in workers.drain(..) {
            // A worker only ends by draining its queue (handler panics are caught).
            let _ = worker.await;
        }
    }

    /// `true` once [`shutdown`](Self::shutdown) started.
    pub fn is_closed(&self) -> bool {
        self.shared
            .senders
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// The number of workers.
    pub fn workers(&self) -> usize {
        self.shared.worker_count
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SinkStats {
        let c = &self.shared.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SinkStats {
            accepted: load(&c.accepted),
            refused: load(&c.refused),
            pending: load(&c.pending),
            handled: load(&c.handled),
            failed: load(&c.failed),
            duplicates: load(&c.duplicates),
            invalid: load(&c.invalid),
            dedup_errors: load(&c.dedup_errors),
        }
    }

    /// Queues the items, whole or not at all.
    fn enqueue(&self, mut items: Vec<Item>) -> Result<(), SinkError> {
        let counters = &self.shared.counters;
        let result = self.try_enqueue(&mut items);
        match &result {
            Ok(()) => bump(&counters.accepted),
            Err(_) => bump(&counters.refused),
        }
        result
    }

    fn try_enqueue(&self, items: &mut Vec<Item>) -> Result<(), SinkError> {
        // Held only while queueing (no await): `shutdown` waits for it, and no reference
        // count is touched per delivery.
        let senders = self
            .shared
            .senders
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let senders = senders.as_deref().ok_or(SinkError::Closed)?;
        let shards = senders.len();
        if items.is_empty() {
            return Ok(());
        }
        if items.len() == 1 {
            let shard = items.first().map_or(0, |item| shard_of(item, shards));
            let sender = senders.get(shard).ok_or(SinkError::Closed)?;
            let permit = sender.try_reserve().map_err(refusal)?;
            self.shared.counters.pending.fetch_add(1, Ordering::Relaxed);
            permit.send(Job {
                items: std::mem::take(items),
            });
            return Ok(());
        }
        // Order by (worker, timestamp); the sort is stable, so ties keep delivery order.
        let mut keyed: Vec<(usize, u64, Item)> = items
            .drain(..)
            .map(|item| (shard_of(&item, shards), timestamp(&item), item))
            .collect();
        keyed.sort_by_key(|(shard, ts, _)| (*shard, *ts));
        let mut jobs: Vec<(usize, Vec<Item>)> = Vec::new();
        for (shard, _, item) in keyed {
            match jobs.last_mut() {
                Some((last, job)) if *last == shard => job.push(item),
                _ => jobs.push((shard, vec![item])),
            }
        }
        // Reserve a slot in every queue involved before sending anything: all or nothing.
        let mut permits = Vec::with_capacity(jobs.len());
        for (shard, _) in &jobs {
            let sender = senders.get(*shard).ok_or(SinkError::Closed)?;
            permits.push(sender.try_reserve().map_err(refusal)?);
        }
        self.shared
            .counters
            .pending
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        for (permit, (_, items)) in permits.into_iter().zip(jobs) {
            permit.send(Job { items });
        }
        Ok(())
    }
}

fn refusal(err: TrySendError<()>) -> SinkError {
    match err {
        TrySendError::Full(()) => SinkError::Full,
        TrySendError::Closed(()) => SinkError::Closed,
    }
}

fn timestamp(item: &Item) -> u64 {
    item.as_ref()
        .ok()
        .and_then(Event::timestamp)
        .map_or(0, Timestamp::as_millis)
}

/// The worker for an item: a hash of (account, the person on the other side).
fn shard_of(item: &Item, shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    let mut hasher = DefaultHasher::new();
    match item {
        Ok(event) => {
            let account = event.account().map(|a| a.as_str());
            let person = match event.sender() {
                Some(Participant::Account(_)) => event.recipient(),
                sender => sender,
            }
            .map(Participant::as_str);
            account.hash(&mut hasher);
            person.hash(&mut hasher);
        }
        Err(error) => error.account().map(|a| a.as_str()).hash(&mut hasher),
    }
    // The modulo of a u64 by a usize that fits in u64 is below `shards`.
    usize::try_from(hasher.finish() % shards as u64).unwrap_or(0)
}

impl Sink for MemorySink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        self.enqueue(batch.into_items())
    }
}

impl fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySink")
            .field("workers", &self.shared.worker_count)
            .field("closed", &self.is_closed())
            .field("stats", &self.stats())
            .finish()
    }
}

impl<D: Dedup> MemorySinkBuilder<D> {
    /// Sets the number of worker tasks (at least 1).
    #[must_use]
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Sets each worker's queue capacity in jobs (at least 1).
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Deduplicates events by [`Event::dedup_key`] with `dedup`.
    #[must_use]
    pub fn dedup<D2: Dedup>(self, dedup: D2) -> MemorySinkBuilder<D2> {
        MemorySinkBuilder {
            workers: self.workers,
            queue_capacity: self.queue_capacity,
            dedup,
            on_dedup_error: self.on_dedup_error,
            dedup_attempts: self.dedup_attempts,
            dedup_backoff: self.dedup_backoff,
        }
    }

    /// Sets what happens when a dedup claim keeps failing (default
    /// [`OnDedupError::Handle`]).
    #[must_use]
    pub fn on_dedup_error(mut self, policy: OnDedupError) -> Self {
        self.on_dedup_error = policy;
        self
    }

    /// Sets how often a failed dedup claim is tried in all (at least 1; default 3) and the
    /// first pause between tries (doubling; default 50 ms).
    #[must_use]
    pub fn dedup_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.dedup_attempts = attempts.max(1);
        self.dedup_backoff = backoff;
        self
    }

    /// Spawns the workers on the current Tokio runtime and returns the sink.
    ///
    /// # Errors
    ///
    /// [`NoRuntimeError`] when called outside a Tokio runtime.
    pub fn start<H: Handler>(self, handler: H) -> Result<MemorySink, NoRuntimeError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| NoRuntimeError)?;
        let counters = Arc::new(Counters::default());
        let worker = Arc::new(Worker {
            handler,
            dedup: self.dedup,
            on_dedup_error: self.on_dedup_error,
            dedup_attempts: self.dedup_attempts,
            dedup_backoff: self.dedup_backoff,
            counters: Arc::clone(&counters),
        });
        let mut senders = Vec::with_capacity(self.workers);
        let mut workers = Vec::with_capacity(self.workers);
        for _ in 0..self.workers {
            let (tx, rx) = mpsc::channel(self.queue_capacity);
            senders.push(tx);
            workers.push(runtime.spawn(Arc::clone(&worker).run(rx)));
        }
        Ok(MemorySink {
            shared: Arc::new(Shared {
                senders: RwLock::new(Some(senders.into())),
                workers: tokio::sync::Mutex::new(workers),
                worker_count: self.workers,
                counters,
            }),
        })
    }
}

struct Worker<H, D> {
    handler: H,
    dedup: D,
    on_dedup_error: OnDedupError,
    dedup_attempts: u32,
    dedup_backoff: Duration,
    counters: Arc<Counters>,
}

impl<H: Handler, D: Dedup> Worker<H, D> {
    async fn run(self: Arc<Self>, mut rx: mpsc::Receiver<Job>) {
        while let Some(job) = rx.recv().await {
            for item in job.items {
                match item {
                    Ok(event) => self.event(event).await,
                    Err(error) => self.invalid(error).await,
                }
            }
            self.counters.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn invalid(&self, error: EventError) {
        bump(&self.counters.invalid);
        tracing::warn!(reason = error.reason(), "webhook item did not classify");
        let handler = &self.handler;
        if CatchUnwind::new(|| handler.handle_invalid(error))
            .await
            .is_err()
        {
            tracing::error!("webhook handler panicked on an invalid item");
        }
    }

    async fn event(&self, event: Event) {
        let kind = event.kind().as_str();
        // `NoDedup` ignores keys: do not build one for it.
        let key = if TypeId::of::<D>() == TypeId::of::<NoDedup>() {
            String::new()
        } else {
            event.dedup_key().into_string()
        };
        let key = key.as_str();
        let claimed = match self.claim(key).await {
            Ok(Claim::Claimed) => true,
            Ok(Claim::Duplicate) => {
                bump(&self.counters.duplicates);
                tracing::debug!(kind, "duplicate webhook event skipped");
                return;
            }
            Err(error) => {
                bump(&self.counters.dedup_errors);
                match self.on_dedup_error {
                    OnDedupError::Skip => {
                        tracing::error!(kind, %error, "dedup store failed; event skipped");
                        return;
                    }
                    OnDedupError::Handle => {
                        tracing::error!(kind, %error, "dedup store failed; handling anyway");
                        false
                    }
                }
            }
        };
        let handler = &self.handler;
        match CatchUnwind::new(|| handler.handle(event)).await {
            Ok(Ok(())) => {
                bump(&self.counters.handled);
                if claimed && let Err(error) = self.dedup.complete(key).await {
                    tracing::warn!(kind, %error, "dedup complete failed");
                }
            }
            Ok(Err(error)) => {
                bump(&self.counters.failed);
                tracing::warn!(kind, %error, "webhook handler failed");
                self.release(claimed, key, kind).await;
            }
            Err(Panicked) => {
                bump(&self.counters.failed);
                tracing::error!(kind, "webhook handler panicked");
                self.release(claimed, key, kind).await;
            }
        }
    }

    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        let mut pause = self.dedup_backoff;
        let mut attempt = 1;
        loop {
            match self.dedup.claim(key).await {
                Ok(claim) => return Ok(claim),
                Err(error) if attempt >= self.dedup_attempts => return Err(error),
                Err(error) => {
                    tracing::warn!(attempt, %error, "dedup claim failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }

    async fn release(&self, claimed: bool, key: &str, kind: &str) {
        if claimed && let Err(error) = self.dedup.release(key).await {
            tracing::warn!(kind, %error, "dedup release failed");
        }
    }
}

/// A panic caught while handling.
#[derive(Debug)]
struct Panicked;

pin_project_lite::pin_project! {
    /// Runs a future made by `make`, turning a panic (while making or polling it) into
    /// `Err(Panicked)` so one bad event cannot stop a worker.
    struct CatchUnwind<M, F> {
        make: Option<M>,
        #[pin]
        future: Option<F>,
    }
}

impl<M, F> CatchUnwind<M, F>
where
    M: FnOnce() -> F,
    F: Future,
{
    fn new(make: M) -> Self {
        Self {
            make: Some(make),
            future: None,
        }
    }
}

impl<M, F> Future for CatchUnwind<M, F>
where
    M: FnOnce() -> F,
    F: Future,
{
    type Output = Result<F::Output, Panicked>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(make) = this.make.take() {
            match catch_unwind(AssertUnwindSafe(make)) {
                Ok(future) => this.future.set(Some(future)),
                Err(_) => return Poll::Ready(Err(Panicked)),
            }
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(Panicked));
        };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                this.future.set(None);
                Poll::Ready(Ok(output))
            }
            Err(_) => {
                this.future.set(None);
                Poll::Ready(Err(Panicked))
            }
        }
    }
}
