//! Durable hand-off through Redis Streams (feature `redis`): a [`Sink`](crate::sink::Sink)
//! that stores every event before the webhook answers `200`, shard workers that hand the
//! stored events to a [`Handler`], and a shared [`Dedup`] store.
//!
//! Receivers and workers scale apart: any number of processes may accept deliveries
//! ([`StreamSink`]) and any number may handle them ([`StreamWorkers`]); a process may do
//! both. They meet only in Redis.
//!
//! ```no_run
//! use meta_webhooks::redis::Streams;
//! use meta_webhooks::sink::handler_fn;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let streams = Streams::builder("redis://127.0.0.1:6379/")
//!     .shards(16)
//!     .connect()
//!     .await?;
//! let workers = streams
//!     .start_workers(handler_fn(|event: meta_webhooks::event::Event| async move {
//!         let _ = event; // reply …
//!         Ok::<(), std::convert::Infallible>(())
//!     }))
//!     .await?;
//! let sink = streams.sink(); // → `Webhook::new(verifier, handshake, sink)`
//! # let _ = sink;
//! // … serve until shutdown …
//! workers.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! # The receiver: `200` only after Redis stored the events
//!
//! [`StreamSink`]'s [`accept`](crate::sink::Sink::accept) turns each event of a delivery
//! into one stream entry and adds them in **one atomic call** (a Lua script: the whole
//! delivery or nothing), bounded by [`ack_timeout`](StreamsBuilder::ack_timeout).
//! Deliveries accepted at the same time share that call (each still whole or nothing, with
//! its own answer), so Redis' per-call cost is spread over them under load. It returns
//! `Ok` (the endpoint's `200`) once Redis stored every entry of the delivery, and a
//! [`SinkError`](crate::sink::SinkError) (`503`, Meta retries) when Redis is down, slower
//! than the timeout, or when a target shard already holds
//! [`max_len`](StreamsBuilder::max_len) entries (workers far behind). Items that do not
//! classify are counted ([`StreamStats::invalid`]) and not stored: no worker could act on
//! them.
//!
//! The shard check is made once per delivery, before its events are added: a delivery is
//! refused when one of its target shards *already* holds `max_len` entries, and added
//! whole otherwise. A shard can therefore end above `max_len` by less than one
//! delivery's events (at most `max_len - 1 + 1000` with Meta's largest deliveries), and
//! after that refuses every delivery that targets it until workers catch up.
//!
//! ## Large deliveries
//!
//! Meta sends at most 1000 events per delivery. A delivery is never split: one script call
//! adds at most 512 events of several deliveries together, and a larger delivery goes
//! alone, in one call, whole or not at all. There is no limit of the sink's own on the
//! events of a delivery; the endpoint's body limit bounds it. A 1000-event delivery of
//! text messages was acknowledged in 4–6 ms by a local Redis (see
//! `benches/redis.rs`), well inside the default 200 ms
//! [`ack_timeout`](StreamsBuilder::ack_timeout). Redis runs a script to its end without
//! serving other clients, so the largest delivery also bounds how long it pauses the
//! others; with Redis across a network, give `ack_timeout` room for the transfer of the
//! largest body you accept (the entries carry each item's JSON, so about the body's size).
//!
//! ## A timeout is not proof that nothing was stored
//!
//! When Redis answers later than `ack_timeout`, the delivery is answered `503`, but the
//! script may still have run, or may run later from the connection's buffer: its events
//! may be stored (whole, never in part, as the call is atomic). Such deliveries are
//! counted apart from the ones Redis refused ([`StreamStats::timed_out`], with a warning
//! log). Meta then sends the delivery again; if the first attempt did land, the events are
//! stored twice, and the workers' dedup (by [`dedup key`](crate::event::Event::dedup_key))
//! handles each once. A rising `timed_out` means `ack_timeout` is too short for this Redis
//! or Redis is overloaded: raise the timeout rather than let every retry time out too.
//!
//! # Per-conversation order: shards owned through leases
//!
//! A consumer group alone hands consecutive entries of one stream to different consumers,
//! so two workers could answer one person's messages out of order. Instead:
//!
//! - the events are spread over [`shards`](StreamsBuilder::shards) streams
//!   (`{prefix}stream:{i}`) by a stable hash (64-bit FNV-1a) of the conversation (account
//!   and the person on the other side), so one conversation is always in one shard, in
//!   arrival order;
//! - each shard is handled by one worker at a time, which holds the shard's **lease**
//!   (`{prefix}lease:{i}`, `SET NX PX lease`, renewed every third of it); live workers
//!   register in `{prefix}workers` and each takes at most `ceil(shards / live workers)`
//!   shards, giving extra ones back, so load spreads when a worker joins and shards are
//!   taken over when one leaves or dies;
//! - within a read of [`batch`](StreamsBuilder::batch) entries, conversations run
//!   concurrently and each conversation's entries run one after another (in timestamp
//!   order, then arrival).
//!
//! The new owner of a shard first takes over (`XAUTOCLAIM`) the entries the previous owner
//! left pending for [`reclaim_idle`](StreamsBuilder::reclaim_idle), and handles them before
//! anything newer. The price of shard leases is that a slow conversation holds up its
//! batch, and parallelism is bounded by the shard count times the batch size.
//!
//! # Retries, dead letters and dedup
//!
//! The worker asks the handler how to treat an error ([`Handler::retry`]):
//! [`Retry::Never`] acknowledges the entry as failed; [`Retry::Budgeted`] retries it in
//! place, in order, with backoff, and dead-letters it (`{prefix}dead`) after
//! [`max_deliveries`](StreamsBuilder::max_deliveries) attempts; [`Retry::Unbounded`] (a
//! dependency is down, not the event's fault) retries without limit. Entries that no
//! longer decode are dead-lettered at once.
//!
//! Each event is handled once per [`dedup key`](crate::event::Event::dedup_key)
//! (`{prefix}dedup:{key}`): claimed (expiring), then marked done for
//! [`dedup_ttl`](StreamsBuilder::dedup_ttl) together with the entry's `XACK`, so
//! duplicates from Meta or from two receivers are dropped. A reply can still be sent twice
//! when a worker dies after acting and before it marked the event done: the Send API has
//! no idempotency key. [`RedisDedup`] is the same claim/complete/release contract as a
//! [`Dedup`] store, e.g. for a [`MemorySink`](crate::sink::MemorySink) shared by several
//! processes.
//!
//! # What is guaranteed
//!
//! - **Nothing acknowledged with `200` is lost** while Redis keeps its data (run it with
//!   AOF): an entry leaves the stream only after a worker handled and acknowledged it, or
//!   dead-lettered it. Trimming removes only entries no consumer has pending.
//! - **Memory is bounded**: acknowledged entries are trimmed (`XTRIM MINID`), each shard
//!   stops taking deliveries at `max_len` entries (see above for the overshoot of at most
//!   one delivery), the dead-letter stream holds about
//!   [`DEAD_LETTER_MAX_LEN`].
//! - **Losing Redis recovers by itself**: a connection found dead is replaced, and a call
//!   that failed on it is tried once more on the new one within its deadline, so once
//!   Redis is back the very next delivery and [`health`](Streams::health) check succeed.
//!
//! # Keys
//!
//! Every key starts with [`key_prefix`](StreamsBuilder::key_prefix) (default
//! [`DEFAULT_KEY_PREFIX`]); the consumer group is [`group`](StreamsBuilder::group)
//! (default [`DEFAULT_GROUP`]). The prefix and group must be the same in every process
//! sharing the work, and so must the shard count.

mod codec;
mod conn;
mod dedup;
mod scripts;
mod sink;
mod worker;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

pub use dedup::RedisDedup;
pub use sink::StreamSink;
pub use worker::StreamWorkers;

use self::conn::Conn;
#[cfg(doc)]
use crate::sink::{Dedup, Handler, Retry};

/// Default prefix of every key: `meta-webhooks:`.
pub const DEFAULT_KEY_PREFIX: &str = "meta-webhooks:";
/// Default consumer group name: `meta-webhooks-workers`.
pub const DEFAULT_GROUP: &str = "meta-webhooks-workers";
/// Entries kept in the dead-letter stream (approximately; older ones are trimmed).
pub const DEAD_LETTER_MAX_LEN: u64 = 10_000;

/// The settings of the Redis hand-off, with their defaults (see [`StreamsBuilder`] for
/// what each means). Every process sharing the work must use the same `key_prefix`,
/// `group` and `shards`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// Prefix of every key (default [`DEFAULT_KEY_PREFIX`]).
    pub key_prefix: String,
    /// Consumer group name (default [`DEFAULT_GROUP`]).
    pub group: String,
    /// Number of shard streams (default 16; 1–1024).
    pub shards: u16,
    /// Entries one shard may hold before deliveries are refused (default 100 000).
    pub max_len: u64,
    /// Bound on storing one delivery (default 200 ms).
    pub ack_timeout: Duration,
    /// Shard lease lifetime (default 10 s).
    pub lease: Duration,
    /// Idle time after which another worker's pending entry is reclaimed (default 30 s).
    pub reclaim_idle: Duration,
    /// Entries read from a shard at a time (default 32).
    pub batch: usize,
    /// Attempts of an entry failing with [`Retry::Budgeted`] before it is dead-lettered
    /// (default 5).
    pub max_deliveries: u32,
    /// How long a handled event is remembered (default 48 h).
    pub dedup_ttl: Duration,
    /// How long an unfinished dedup claim of [`RedisDedup`] holds (default 5 min).
    pub dedup_claim_ttl: Duration,
    /// Timeout of the other Redis calls: connecting, health checks, dedup, worker
    /// bookkeeping (default 2 s).
    pub command_timeout: Duration,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            group: DEFAULT_GROUP.to_owned(),
            shards: 16,
            max_len: 100_000,
            ack_timeout: Duration::from_millis(200),
            lease: Duration::from_secs(10),
            reclaim_idle: Duration::from_secs(30),
            batch: 32,
            max_deliveries: 5,
            dedup_ttl: crate::sink::DEFAULT_DEDUP_TTL,
            dedup_claim_ttl: Duration::from_secs(5 * 60),
            command_timeout: Duration::from_secs(2),
        }
    }
}

impl StreamConfig {
    /// The stream key of `shard`: `{prefix}stream:{shard}`.
    pub fn stream_key(&self, shard: u16) -> String {
        format!("{}stream:{shard}", self.key_prefix)
    }

    /// The lease key of `shard`: `{prefix}lease:{shard}`.
    pub fn lease_key(&self, shard: u16) -> String {
        format!("{}lease:{shard}", self.key_prefix)
    }

    /// The sorted set of live workers: `{prefix}workers`.
    pub fn workers_key(&self) -> String {
        format!("{}workers", self.key_prefix)
    }

    /// The dead-letter stream: `{prefix}dead`.
    pub fn dead_letter_key(&self) -> String {
        format!("{}dead", self.key_prefix)
    }

    /// The dedup key of an event's [`dedup_key`](crate::event::Event::dedup_key):
    /// `{prefix}dedup:{key}`.
    pub fn dedup_key(&self, key: &str) -> String {
        format!("{}dedup:{key}", self.key_prefix)
    }

    /// The shard a conversation goes to (see [`shard_of`]).
    pub fn shard_of(&self, conversation: &str) -> u16 {
        codec::shard_of(conversation, self.shards)
    }

    fn normalized(mut self) -> Self {
        self.shards = self.shards.clamp(1, 1024);
        self.max_len = self.max_len.max(1);
        self.batch = self.batch.clamp(1, 1000);
        self.max_deliveries = self.max_deliveries.max(1);
        self.ack_timeout = self.ack_timeout.max(Duration::from_millis(1));
        self.command_timeout = self.command_timeout.max(Duration::from_millis(1));
        self.lease = self.lease.max(Duration::from_millis(30));
        self.dedup_claim_ttl = self.dedup_claim_ttl.max(Duration::from_millis(1));
        self.dedup_ttl = self.dedup_ttl.max(Duration::from_millis(1));
        self
    }
}

pub use codec::{conversation_of, shard_of};

/// Configures and connects [`Streams`]; see [`Streams::builder`].
///
/// Every setting has a default ([`StreamConfig::default`]); the names in parentheses are
/// the environment variables the example bots read them from.
#[derive(Clone)]
pub struct StreamsBuilder {
    url: String,
    config: StreamConfig,
}

impl fmt::Debug for StreamsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("StreamsBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StreamsBuilder {
    /// Replaces every setting at once (e.g. parsed from the environment).
    #[must_use]
    pub fn config(mut self, config: StreamConfig) -> Self {
        self.config = config;
        self
    }

    /// Prefix of every key (default [`DEFAULT_KEY_PREFIX`], `meta-webhooks:`).
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.key_prefix = prefix.into();
        self
    }

    /// Consumer group name (default [`DEFAULT_GROUP`], `meta-webhooks-workers`).
    #[must_use]
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.config.group = group.into();
        self
    }

    /// Number of shard streams (`STREAM_SHARDS`; default 16, clamped to 1–1024). The
    /// unit of per-conversation order and of parallelism across workers.
    #[must_use]
    pub fn shards(mut self, shards: u16) -> Self {
        self.config.shards = shards;
        self
    }

    /// Entries one shard may hold before deliveries are refused with `503`
    /// (`STREAM_MAX_LEN`; default 100 000). Checked before each delivery, which is then
    /// added whole: a shard may end above it by less than one delivery's events (see the
    /// [module docs](self)).
    #[must_use]
    pub fn max_len(mut self, max_len: u64) -> Self {
        self.config.max_len = max_len;
        self
    }

    /// Bound on storing one delivery; over it the delivery gets `503`
    /// (`STREAM_ACK_TIMEOUT_MS`; default 200 ms), though its events may still be stored
    /// (counted in [`StreamStats::timed_out`]; see the [module docs](self)).
    #[must_use]
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.config.ack_timeout = timeout;
        self
    }

    /// Shard lease lifetime, renewed every third of it (`STREAM_LEASE_MS`; default 10 s).
    /// A dead worker's shards are free again after it.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self
    }

    /// How long an entry must sit pending at another consumer before it is reclaimed
    /// (`STREAM_RECLAIM_IDLE_MS`; default 30 s). Keep it above the longest handling.
    #[must_use]
    pub fn reclaim_idle(mut self, idle: Duration) -> Self {
        self.config.reclaim_idle = idle;
        self
    }

    /// Entries a worker reads from one shard at a time (`STREAM_BATCH`; default 32,
    /// clamped to 1–1000).
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        self.config.batch = batch;
        self
    }

    /// Attempts of an entry failing with [`Retry::Budgeted`] before it is dead-lettered
    /// (`STREAM_MAX_DELIVERIES`; default 5).
    #[must_use]
    pub fn max_deliveries(mut self, attempts: u32) -> Self {
        self.config.max_deliveries = attempts;
        self
    }

    /// How long a handled event is remembered as done (default 48 h, above Meta's 36-hour
    /// retry horizon).
    #[must_use]
    pub fn dedup_ttl(mut self, ttl: Duration) -> Self {
        self.config.dedup_ttl = ttl;
        self
    }

    /// How long an unfinished claim of [`RedisDedup`] holds (default 5 min). Keep it above
    /// the longest handling of one event. (The workers' own claims last twice
    /// `max(reclaim_idle, lease)`.)
    #[must_use]
    pub fn dedup_claim_ttl(mut self, ttl: Duration) -> Self {
        self.config.dedup_claim_ttl = ttl;
        self
    }

    /// Timeout of the other Redis calls: connecting, health checks, dedup, worker
    /// bookkeeping (default 2 s).
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = timeout;
        self
    }

    /// Connects to Redis. Call from within a Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StreamError`] ([`StreamErrorKind::Config`]) for an invalid URL, or
    /// ([`StreamErrorKind::Unavailable`], [`StreamErrorKind::Timeout`]) when Redis cannot
    /// be reached within the command timeout. The error never contains the URL.
    pub async fn connect(self) -> Result<Streams, StreamError> {
        let config = self.config.normalized();
        let client = redis::Client::open(self.url.as_str())
            .map_err(|_| StreamError::new(StreamErrorKind::Config, "invalid Redis URL"))?;
        let conn = Conn::new(client.clone(), config.command_timeout);
        conn.ping(config.command_timeout).await?;
        Ok(Streams {
            shared: Arc::new(Shared {
                client,
                conn,
                config,
                counters: Counters::default(),
            }),
        })
    }
}

/// A connection to the Redis hand-off: makes the [`StreamSink`], starts the
/// [`StreamWorkers`], gives the [`RedisDedup`] store, checks health and reports
/// [`StreamStats`]. Cheap to clone; clones share the connection and the counters.
#[derive(Clone)]
pub struct Streams {
    shared: Arc<Shared>,
}

struct Shared {
    client: redis::Client,
    conn: Conn,
    config: StreamConfig,
    counters: Counters,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Streams {
    /// A builder for Redis at `url` (`redis://[[user]:password@]host[:port][/db]`, or
    /// `rediss://` with the `redis` crate's TLS features), with the default settings.
    pub fn builder(url: impl Into<String>) -> StreamsBuilder {
        StreamsBuilder {
            url: url.into(),
            config: StreamConfig::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &StreamConfig {
        &self.shared.config
    }

    /// The receiver side: the webhook endpoint's sink.
    pub fn sink(&self) -> StreamSink {
        StreamSink::new(self.clone())
    }

    /// The dedup store (claim with [`dedup_claim_ttl`](StreamsBuilder::dedup_claim_ttl),
    /// complete with [`dedup_ttl`](StreamsBuilder::dedup_ttl)), sharing this connection.
    pub fn dedup(&self) -> RedisDedup {
        RedisDedup::new(self.clone())
    }

    /// Starts the workers handing stored events to `handler`: creates the consumer group
    /// on every shard (if missing) and starts the supervisor that takes shard leases.
    /// Call from within a Tokio runtime; stop them with [`StreamWorkers::shutdown`].
    ///
    /// # Errors
    ///
    /// [`StreamError`] when Redis cannot be reached.
    pub async fn start_workers<H: crate::sink::Handler>(
        &self,
        handler: H,
    ) -> Result<StreamWorkers, StreamError> {
        StreamWorkers::start(self.clone(), handler).await
    }

    /// Whether Redis answers a `PING` within the command timeout. After an outage, the
    /// first check once Redis is back succeeds (a dead connection is replaced at once).
    ///
    /// # Errors
    ///
    /// [`StreamError`] ([`StreamErrorKind::Unavailable`] or [`StreamErrorKind::Timeout`])
    /// when it does not.
    pub async fn health(&self) -> Result<(), StreamError> {
        self.shared
            .conn
            .ping(self.shared.config.command_timeout)
            .await
    }

    /// A snapshot of the counters of this handle and everything made from it (sink,
    /// workers, dedup), since it connected.
    pub fn stats(&self) -> StreamStats {
        self.shared.counters.snapshot()
    }

    pub(crate) fn conn(&self) -> &Conn {
        &self.shared.conn
    }

    pub(crate) fn client(&self) -> &redis::Client {
        &self.shared.client
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }
}

/// What went wrong talking to Redis. The reason is short and never holds the URL or a
/// password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("redis: {reason}")]
pub struct StreamError {
    kind: StreamErrorKind,
    reason: &'static str,
}

/// The kind of a [`StreamError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamErrorKind {
    /// The URL or a setting is invalid.
    Config,
    /// Redis cannot be reached (refused, dropped, unknown host).
    Unavailable,
    /// Redis did not answer in time.
    Timeout,
    /// Redis answered with an error.
    Redis,
}

impl StreamErrorKind {
    /// A short label: `config`, `unavailable`, `timeout`, `redis`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Redis => "redis",
        }
    }
}

impl StreamError {
    pub(crate) fn new(kind: StreamErrorKind, reason: &'static str) -> Self {
        Self { kind, reason }
    }

    pub(crate) fn from_redis(error: &redis::RedisError) -> Self {
        let kind = if error.is_timeout() {
            StreamErrorKind::Timeout
        } else if conn::is_connection_error(error) {
            StreamErrorKind::Unavailable
        } else {
            StreamErrorKind::Redis
        };
        Self::new(kind, redis_reason(error))
    }

    /// What went wrong.
    pub fn kind(&self) -> StreamErrorKind {
        self.kind
    }

    /// The short reason.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

/// Counters of a [`Streams`] handle since it connected (see [`Streams::stats`]).
///
/// Receiver counters count deliveries or events this process tried to store; worker
/// counters count stream entries this process finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStats {
    /// Events stored in the shard streams.
    pub enqueued: u64,
    /// Deliveries refused because a target shard was full.
    pub full: u64,
    /// Deliveries refused because Redis failed or could not be reached.
    pub unavailable: u64,
    /// Deliveries refused because Redis answered later than the acknowledgement timeout:
    /// their entries may still have been stored (a redelivery is then a duplicate).
    pub timed_out: u64,
    /// Items that did not classify as events: logged, not stored.
    pub invalid: u64,
    /// Entries handled successfully and acknowledged.
    pub handled: u64,
    /// Entries skipped as duplicates (already handled) and acknowledged.
    pub duplicates: u64,
    /// Entries whose handler failed with [`Retry::Never`], acknowledged.
    pub failed: u64,
    /// Entries moved to the dead-letter stream (retry budget spent, or unreadable).
    pub dead: u64,
    /// Attempts that failed retryably and were tried again.
    pub retries: u64,
    /// Entries taken over from a consumer that stopped.
    pub reclaimed: u64,
    /// Pending entries found deleted from their stream (acknowledged, nothing to handle).
    pub missing: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) enqueued: AtomicU64,
    pub(crate) full: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) invalid: AtomicU64,
    pub(crate) handled: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dead: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) reclaimed: AtomicU64,
    pub(crate) missing: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StreamStats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StreamStats {
            enqueued: load(&self.enqueued),
            full: load(&self.full),
            unavailable: load(&self.unavailable),
            timed_out: load(&self.timed_out),
            invalid: load(&self.invalid),
            handled: load(&self.handled),
            duplicates: load(&self.duplicates),
            failed: load(&self.failed),
            dead: load(&self.dead),
            retries: load(&self.retries),
            reclaimed: load(&self.reclaimed),
            missing: load(&self.missing),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whole milliseconds of `duration`, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A short, secret-free description of a Redis error.
pub(crate) fn redis_reason(error: &redis::RedisError) -> &'static str {
    if error.is_timeout() {
        "redis timeout"
    } else if conn::is_connection_error(error) {
        "redis unavailable"
    } else {
        "redis error"
    }
}
