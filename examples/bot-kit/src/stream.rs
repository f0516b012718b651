//! Durable hand-off through Redis Streams: receivers and workers that scale apart.
//!
//! With `REDIS_URL` set, the bots do not queue deliveries in memory. A **receiver**
//! ([`StreamSink`], the webhook's [`Sink`]) turns each verified delivery into one stream
//! entry per event and answers `200` only after Redis stored all of them (one atomic Lua
//! call, bounded by `STREAM_ACK_TIMEOUT_MS`, else `503` so Meta retries). **Workers**
//! ([`StreamWorkers`]) read the entries through a consumer group, handle them with
//! [`Bot::handle_accepted`](crate::Bot::handle_accepted) and `XACK` them. One binary plays
//! either part or both (`BOT_ROLE`, see [`Role`]).
//!
//! # Per-conversation order: shards owned through leases
//!
//! A consumer group alone hands consecutive entries of one stream to different consumers,
//! so two workers could answer one person's messages out of order. Instead:
//!
//! - the events are spread over `STREAM_SHARDS` streams (`botkit:stream:{i}`) by a stable
//!   hash ([`shard_of`], FNV-1a) of the conversation (`account:user`), so one
//!   conversation is always in one shard, in arrival order;
//! - each shard is handled by one worker at a time, which holds the shard's **lease**
//!   (`botkit:lease:{i}`, `SET NX PX STREAM_LEASE_MS`, renewed every third of it); live
//!   workers register in `botkit:workers` and each takes at most
//!   `ceil(shards / live workers)` shards, giving extra ones back, so load spreads when a
//!   worker joins and shards are taken over when one leaves or dies;
//! - within a read of `STREAM_BATCH` entries, conversations run concurrently and each
//!   conversation's entries run one after another (in timestamp order, then arrival).
//!
//! Shard leases were chosen over per-conversation leases because they keep the order
//! without a Redis round trip per event and make crash recovery ordered too: the new owner
//! of a shard first takes over (`XAUTOCLAIM`) the entries the previous owner left pending
//! for `STREAM_RECLAIM_IDLE_MS`, and handles them before anything newer (an entry whose
//! dedup claim is still live waits until that claim is marked done — then it is a
//! duplicate — or expires, `2 × max(STREAM_RECLAIM_IDLE_MS, STREAM_LEASE_MS)` after it was
//! taken, since its handler may be alive and cut off from Redis). The price is that
//! a slow conversation holds up its batch, and parallelism is bounded by the shard count
//! times the batch size.
//!
//! # What is guaranteed
//!
//! - **Nothing acknowledged with 200 is lost** while Redis keeps its data (see the README's
//!   production notes on AOF): an entry leaves the stream only after a worker handled and
//!   acknowledged it, or dead-lettered it (`botkit:dead`) after `STREAM_MAX_DELIVERIES`
//!   retryable failures. Trimming removes only entries that no consumer has pending.
//! - **A 503 is not proof that nothing was stored**: when Redis answers later than
//!   `STREAM_ACK_TIMEOUT_MS`, the receiver answers 503 although the `XADD` may still
//!   complete. Meta then retries a delivery that is already queued, and the retry's events
//!   are dropped as duplicates.
//! - **Memory is bounded**: acknowledged entries are trimmed (`XTRIM MINID`); a receiver
//!   answers 503 once a shard holds `STREAM_MAX_LEN` entries (workers far behind), and Meta
//!   retries later.
//! - **Each event is handled once per dedup key** (`botkit:dedup:`: claimed, then done for
//!   48 h), so duplicates from Meta or from two receivers are dropped. A reply can still be
//!   sent twice when a worker dies after Meta's `200` and before it marked the event done;
//!   the Send API has no idempotency key, so exactly-once is not possible.
//! - A Send API error whose outcome is unknown is never retried (it is counted); retryable
//!   failures (rate limits, transient errors, the state store) are retried in place, in
//!   order, with backoff.

mod codec;
mod scripts;
mod worker;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use meta_webhooks::sink::{Batch, Sink, SinkError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use self::codec::{
    DecodeError, Decoded, Encoded, FIELDS, conversation_of, decode, encode, shard_of,
};
pub use self::worker::StreamWorkers;

use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::state::{StoreError, StoreErrorKind};

/// Key prefix of the shard streams: `botkit:stream:{shard}`.
pub const STREAM_KEY_PREFIX: &str = "botkit:stream:";
/// Key prefix of the shard leases: `botkit:lease:{shard}`.
pub const LEASE_KEY_PREFIX: &str = "botkit:lease:";
/// Sorted set of live workers (score: last heartbeat, Redis time in ms).
pub const WORKERS_KEY: &str = "botkit:workers";
/// The dead-letter stream: entries given up after `STREAM_MAX_DELIVERIES` attempts.
pub const DEAD_LETTER_KEY: &str = "botkit:dead";
/// Entries kept in the dead-letter stream (approximately; older ones are trimmed).
pub const DEAD_LETTER_MAX_LEN: u64 = 10_000;
/// The consumer group every worker reads through.
pub const GROUP: &str = "botkit-workers";

/// Which part of the work a process does (`BOT_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Role {
    /// Serves the webhook: verifies, queues in Redis, acknowledges. Handles nothing.
    Receiver,
    /// Handles queued events. Its `/webhook` answers 503 (it is not meant to get traffic).
    Worker,
    /// Both (the default; the only role without Redis).
    #[default]
    All,
}

impl Role {
    /// Parses `receiver`, `worker` or `all` (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Receiver, Self::Worker, Self::All]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name))
    }

    /// `receiver`, `worker` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Worker => "worker",
            Self::All => "all",
        }
    }

    /// Whether the process accepts webhook deliveries.
    pub fn receives(self) -> bool {
        matches!(self, Self::Receiver | Self::All)
    }

    /// Whether the process handles events.
    pub fn works(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }
}

/// The `STREAM_*` settings (see [`crate::config`] for the variables).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// Number of shard streams (`STREAM_SHARDS`, 1–1024). Must be the same in every process.
    pub shards: u16,
    /// Entries one shard may hold before receivers answer 503 (`STREAM_MAX_LEN`).
    pub max_len: u64,
    /// Bound on a receiver's `XADD` (`STREAM_ACK_TIMEOUT_MS`).
    pub ack_timeout: Duration,
    /// Shard lease lifetime (`STREAM_LEASE_MS`).
    pub lease: Duration,
    /// Idle time after which another worker's pending entry is reclaimed
    /// (`STREAM_RECLAIM_IDLE_MS`).
    pub reclaim_idle: Duration,
    /// Entries read from a shard at a time (`STREAM_BATCH`).
    pub batch: usize,
    /// Attempts before an entry that keeps failing retryably is dead-lettered
    /// (`STREAM_MAX_DELIVERIES`).
    pub max_deliveries: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            shards: 16,
            max_len: 100_000,
            ack_timeout: Duration::from_millis(200),
            lease: Duration::from_secs(10),
            reclaim_idle: Duration::from_secs(30),
            batch: 32,
            max_deliveries: 5,
        }
    }
}

impl StreamConfig {
    /// The stream key of `shard`.
    pub fn stream_key(shard: u16) -> String {
        format!("{STREAM_KEY_PREFIX}{shard}")
    }

    /// The lease key of `shard`.
    pub fn lease_key(shard: u16) -> String {
        format!("{LEASE_KEY_PREFIX}{shard}")
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(time: std::time::SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Opens a Redis connection manager whose commands give up after `timeout`.
pub(crate) async fn connect(
    url: &Secret,
    timeout: Duration,
) -> Result<ConnectionManager, StoreError> {
    let client = redis::Client::open(url.expose())
        .map_err(|_| StoreError::new(StoreErrorKind::Config, "invalid Redis URL"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200));
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|_| StoreError::new(StoreErrorKind::Unavailable, "stream: Redis unreachable"))
}

/// The receiver side: the webhook's [`Sink`] that stores each event in its shard stream.
///
/// [`accept`](Sink::accept) answers `Ok` (the webhook's 200) only after one atomic Lua call
/// added every event of the delivery; it fails (503) when Redis is down or slower than
/// `STREAM_ACK_TIMEOUT_MS`, or when a target shard already holds `STREAM_MAX_LEN` entries.
/// Items that are not events (malformed, see [`meta_webhooks::event::EventError`]) are
/// logged and counted, not queued: no worker could act on them. Cheap to clone.
#[derive(Clone)]
pub struct StreamSink {
    conn: ConnectionManager,
    config: StreamConfig,
    metrics: Arc<Metrics>,
    script: Arc<redis::Script>,
}

impl std::fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StreamSink {
    /// Connects to Redis at `url`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] for an invalid URL or when Redis cannot be reached (never containing
    /// the URL).
    pub async fn connect(
        url: &Secret,
        config: StreamConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StoreError> {
        let conn = connect(url, config.ack_timeout).await?;
        Ok(Self {
            conn,
            config,
            metrics,
            script: Arc::new(redis::Script::new(scripts::ENQUEUE)),
        })
    }

    /// The settings.
    pub fn config(&self) -> &StreamConfig {
        &self.config
    }
}

impl Sink for StreamSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        let received_ms = unix_ms(batch.received_at());
        let object = batch.delivery().object().as_str();
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(self.config.max_len);
        let mut events = 0u64;
        for item in batch.items() {
            match item {
                Ok(event) => {
                    let encoded = encode(event, object, received_ms, self.config.shards);
                    invocation.key(StreamConfig::stream_key(encoded.shard));
                    for value in encoded.fields() {
                        invocation.arg(value);
                    }
                    events += 1;
                }
                Err(error) => {
                    self.metrics.record_error("event");
                    tracing::warn!(
                        position = %error.position(),
                        reason = error.reason(),
                        "item is not an event: logged, not queued"
                    );
                }
            }
        }
        if events == 0 {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let started = std::time::Instant::now();
        match tokio::time::timeout(
            self.config.ack_timeout,
            invocation.invoke_async::<u64>(&mut conn),
        )
        .await
        {
            Ok(Ok(_)) => {
                self.metrics.record_enqueued(events);
                Ok(())
            }
            Ok(Err(error)) if error.code() == Some("FULL") => {
                self.metrics.record_error("stream_full");
                tracing::warn!(
                    max_len = self.config.max_len,
                    "stream shard full (workers behind): delivery refused (503), Meta will retry"
                );
                Err(SinkError::failed("stream full"))
            }
            Ok(Err(error)) => {
                self.metrics.record_error("stream_unavailable");
                tracing::warn!(
                    waited_ms = started.elapsed().as_millis() as u64,
                    reason = redis_reason(&error),
                    "Redis refused the delivery: 503, Meta will retry"
                );
                Err(SinkError::failed("stream unavailable"))
            }
            Err(_) => {
                self.metrics.record_error("stream_unavailable");
                tracing::warn!(
                    waited_ms = started.elapsed().as_millis() as u64,
                    "Redis did not answer in STREAM_ACK_TIMEOUT_MS: 503, Meta will retry"
                );
                Err(SinkError::failed("stream timeout"))
            }
        }
    }
}

/// A short, secret-free description of a Redis error.
pub(crate) fn redis_reason(error: &redis::RedisError) -> &'static str {
    if error.is_timeout() {
        "redis timeout"
    } else if error.is_connection_refusal() || error.is_connection_dropped() || error.is_io_error()
    {
        "redis unavailable"
    } else {
        "redis error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_say_what_they_do() {
        assert_eq!(Role::from_name("Receiver"), Some(Role::Receiver));
        assert_eq!(Role::from_name("worker"), Some(Role::Worker));
        assert_eq!(Role::from_name("ALL"), Some(Role::All));
        assert_eq!(Role::from_name("both"), None);
        assert!(Role::Receiver.receives() && !Role::Receiver.works());
        assert!(!Role::Worker.receives() && Role::Worker.works());
        assert!(Role::All.receives() && Role::All.works());
    }
}
