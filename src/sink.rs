//! Where verified deliveries go (feature `sink`): the [`Sink`] trait, the [`Batch`] it
//! receives, the [`Handler`] that acts on each event, the [`Dedup`] stores, and
//! [`MemorySink`], the in-process implementation with its workers.
//!
//! Nothing here depends on an HTTP framework: an endpoint (axum, actix-web, hyper), a
//! queue consumer or a test builds a [`Batch`] and hands it to a sink.
//!
//! The webhook endpoint answers `200` only after
//! [`Sink::accept`] returned `Ok`: from then on the delivery is the sink's
//! responsibility, because Meta will not send it again. A sink that cannot take it (full,
//! shutting down, its store down) returns a [`SinkError`] and the service answers `503`,
//! so Meta retries later.
//!
//! # Durability
//!
//! [`MemorySink`] keeps accepted deliveries in memory until its workers handled them:
//! **what is queued is lost if the process crashes** (a graceful
//! [`shutdown`](MemorySink::shutdown) drains it). Where that matters, implement [`Sink`]
//! over a durable queue (feature `redis` ships one over Redis Streams): `accept` returns
//! once the delivery is stored, and a separate consumer handles it.
//!
//! # Implementing a sink
//!
//! ```
//! use meta_webhooks::sink::{Batch, Sink, SinkError};
//!
//! /// Stores the raw verified body in some durable queue; a consumer parses it again.
//! struct QueueSink { /* client, stream name … */ }
//!
//! impl Sink for QueueSink {
//!     async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
//!         let body: &[u8] = batch.body(); // exactly the bytes Meta signed
//!         let stored = !body.is_empty();  // e.g. XADD stream * body <bytes>
//!         if stored { Ok(()) } else { Err(SinkError::failed("queue unavailable")) }
//!     }
//! }
//! ```

pub mod dedup;
mod handler;
mod memory;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use bytes::Bytes;
use http::StatusCode;
use thiserror::Error;

use crate::event::{Event, EventError, classify, classify_owned, count};
use crate::payload::Delivery;
use crate::signature::Verified;

pub use dedup::{
    Claim, DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_TTL, Dedup, DedupError, DedupErrorKind,
    MemoryDedup, NoDedup,
};
pub use handler::{Handler, HandlerFn, Retry, handler_fn};
pub use memory::{MemorySink, MemorySinkBuilder, NoRuntimeError, OnDedupError, SinkStats};

/// One verified, parsed and classified delivery, as handed to a [`Sink`].
///
/// It keeps the raw body (the exact bytes whose signature was verified, shared, not
/// copied), the typed [`Delivery`], and one item per `messaging`/`standby`/`changes`
/// entry in order: an [`Event`], or an [`EventError`] for an item that could
/// not be classified (it keeps the raw item; never drop it silently).
///
/// The items are classified when first asked for: [`items`](Self::items),
/// [`events`](Self::events) and [`errors`](Self::errors) classify once and keep the
/// result; [`into_items`](Self::into_items) on a batch whose items were not looked at
/// moves the delivery's data into the events instead of copying it (what
/// [`MemorySink`] does). Either way the items are the same.
#[derive(Debug)]
pub struct Batch {
    body: Bytes,
    verified: Verified,
    delivery: Delivery,
    items: OnceLock<Vec<Result<Event, EventError>>>,
    received_at: SystemTime,
}

impl Batch {
    /// The batch of `delivery` (parsed from `body`, whose signature was `verified`),
    /// received now; its items are classified on first use.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use meta_webhooks::payload::Delivery;
    /// use meta_webhooks::sink::Batch;
    /// use meta_webhooks::{AppSecret, Verifier};
    ///
    /// let body = Bytes::from_static(br#"{"object":"instagram","entry":[{"id":"1784","time":1,
    ///     "messaging":[{"sender":{"id":"42"},"recipient":{"id":"1784"},"timestamp":1,
    ///     "message":{"mid":"m1","text":"hi"}}]}]}"#);
    /// let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
    /// let header = meta_webhooks::test_util::sign("app-secret", &body);
    /// let verified = verifier.verify(&body, &header).unwrap();
    /// let delivery = Delivery::from_slice(&body).unwrap();
    ///
    /// let batch = Batch::new(body, verified, delivery);
    /// assert_eq!(batch.events().count(), 1);
    /// assert_eq!(batch.errors().count(), 0);
    /// ```
    pub fn new(body: Bytes, verified: Verified, delivery: Delivery) -> Self {
        Self {
            body,
            verified,
            delivery,
            items: OnceLock::new(),
            received_at: SystemTime::now(),
        }
    }

    /// How many items classify into events and how many into errors, without
    /// classifying them.
    pub(crate) fn counts(&self) -> (usize, usize) {
        match self.items.get() {
            Some(items) => {
                let errors = items.iter().filter(|item| item.is_err()).count();
                (items.len() - errors, errors)
            }
            None => count(&self.delivery),
        }
    }

    /// The raw body, exactly as received and verified.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Which secret verified the body.
    pub fn verified(&self) -> Verified {
        self.verified
    }

    /// The parsed delivery.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Every item in order: events and per-item errors.
    pub fn items(&self) -> &[Result<Event, EventError>] {
        self.items.get_or_init(|| classify(&self.delivery))
    }

    /// The items that classified.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.items().iter().filter_map(|item| item.as_ref().ok())
    }

    /// The items that did not classify.
    pub fn errors(&self) -> impl Iterator<Item = &EventError> {
        self.items().iter().filter_map(|item| item.as_ref().err())
    }

    /// When the service received the delivery.
    pub fn received_at(&self) -> SystemTime {
        self.received_at
    }

    /// Takes the items out, in order.
    pub fn into_items(self) -> Vec<Result<Event, EventError>> {
        match self.items.into_inner() {
            Some(items) => items,
            None => classify_owned(self.delivery),
        }
    }

    /// Splits the batch into its raw body, delivery and items.
    pub fn into_parts(self) -> (Bytes, Delivery, Vec<Result<Event, EventError>>) {
        let items = match self.items.into_inner() {
            Some(items) => items,
            None => classify(&self.delivery),
        };
        (self.body, self.delivery, items)
    }
}

/// Takes responsibility for verified deliveries (see the [module docs](self)).
///
/// `accept` should return quickly (Meta wants an answer within seconds): store or enqueue,
/// do not handle inline. Return `Ok` only once the delivery cannot be lost by this
/// process anymore in the sink's own terms (queued in memory for [`MemorySink`], stored
/// for a durable sink).
pub trait Sink: Send + Sync + 'static {
    /// Accepts one delivery.
    ///
    /// # Errors
    ///
    /// [`SinkError`] when the delivery was not taken; the service then answers `503`.
    fn accept(&self, batch: Batch) -> impl Future<Output = Result<(), SinkError>> + Send;
}

impl<K: Sink> Sink for Arc<K> {
    fn accept(&self, batch: Batch) -> impl Future<Output = Result<(), SinkError>> + Send {
        (**self).accept(batch)
    }
}

/// Why a [`Sink`] did not accept a delivery. Always answered with `503`.
///
/// Inspect it with [`kind`](Self::kind); answer with [`status`](Self::status).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The sink is at capacity; Meta should retry later.
    #[error("sink is full")]
    Full,
    /// The sink is shutting down or stopped.
    #[error("sink is closed")]
    Closed,
    /// The sink's store failed. The reason is short and holds no secrets.
    #[error("sink failed: {0}")]
    Failed(Cow<'static, str>),
}

impl SinkError {
    /// A [`SinkError::Failed`] with a short reason (logged: no credentials, no URLs).
    pub fn failed(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Failed(reason.into())
    }

    /// What went wrong, to branch on and to log.
    pub fn kind(&self) -> SinkErrorKind {
        match self {
            Self::Full => SinkErrorKind::Full,
            Self::Closed => SinkErrorKind::Closed,
            Self::Failed(_) => SinkErrorKind::Failed,
        }
    }

    /// The HTTP status to answer with: always `503 Service Unavailable`.
    pub fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The kind of a [`SinkError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SinkErrorKind {
    /// The sink is at capacity.
    Full,
    /// The sink is shutting down or stopped.
    Closed,
    /// The sink's store failed.
    Failed,
}

impl SinkErrorKind {
    /// `"full"`, `"closed"` or `"failed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Closed => "closed",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for SinkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
