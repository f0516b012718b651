//! [`StreamSink`]: the receiver side, storing each delivery's events in their shards.
//!
//! Deliveries accepted at the same time are stored together: each `accept` queues its
//! encoded events, and up to [`MAX_IN_FLIGHT`] tasks each take everything queued (up to
//! [`MAX_GROUP_EVENTS`] events) into one call of the Lua script, which adds each delivery
//! whole or not at all and answers per delivery. One delivery alone goes out at once;
//! under load, the script's fixed cost in Redis and the per-call cost in the client are
//! shared by the deliveries of a group (a group commit). Each delivery still gets its own
//! answer, bounded by the acknowledgement timeout.

use std::fmt;
use std::mem;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use redis::{ErrorKind, RedisError, ServerErrorKind};
use tokio::sync::oneshot;

use super::codec::encode;
use super::{Counters, Streams, millis, redis_reason, scripts, unix_ms};
use crate::sink::{Batch, Sink, SinkError};

/// Script calls of one sink in flight at once.
const MAX_IN_FLIGHT: usize = 4;
/// Events in one script call at most (a larger delivery goes alone).
const MAX_GROUP_EVENTS: usize = 512;

/// The webhook endpoint's [`Sink`] that stores each event in its shard stream (see the
/// [module docs](super)). Made by [`Streams::sink`]; cheap to clone (clones share one
/// queue).
///
/// [`accept`](Sink::accept) returns `Ok` (the endpoint's `200`) only after Redis added
/// every event of the delivery, atomically. It fails (`503`) with [`SinkError::Full`] when
/// a target shard already holds `max_len` entries, and with [`SinkError::Failed`] when
/// Redis is down or slower than `ack_timeout`. A connection found dead is replaced and the
/// call made once more within the same `ack_timeout`, so the first delivery after Redis
/// came back is stored.
///
/// Deliveries accepted concurrently are stored in shared calls (one Lua script call for
/// several deliveries, each added whole or not at all), so throughput grows with
/// concurrency while each delivery keeps its own answer.
#[derive(Clone)]
pub struct StreamSink {
    shared: Arc<SinkShared>,
}

struct SinkShared {
    streams: Streams,
    script: redis::Script,
    /// The stream key of each shard, built once.
    keys: Vec<String>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Pending>,
    in_flight: usize,
}

/// One delivery's encoded events, waiting to be stored.
struct Pending {
    /// The shard of each event.
    shards: Vec<u16>,
    /// The seven values per event, back to back (two allocations per delivery, not
    /// several per event).
    values: Vec<u8>,
    /// Where each value ends in `values`.
    ends: Vec<usize>,
    done: oneshot::Sender<Stored>,
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Added,
    Full,
    TimedOut,
    Unavailable,
}

impl fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSink")
            .field("streams", &self.shared.streams)
            .finish()
    }
}

impl StreamSink {
    pub(super) fn new(streams: Streams) -> Self {
        let keys = (0..streams.config().shards)
            .map(|shard| streams.config().stream_key(shard))
            .collect();
        Self {
            shared: Arc::new(SinkShared {
                streams,
                keys,
                script: redis::Script::new(scripts::ENQUEUE),
                queue: Mutex::new(Queue::default()),
            }),
        }
    }

    /// The [`Streams`] handle it stores through (settings, stats, health).
    pub fn streams(&self) -> &Streams {
        &self.shared.streams
    }
}

impl SinkShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next group from the queue: whole deliveries, up to
    /// [`MAX_GROUP_EVENTS`] events (at least one delivery), skipping the ones whose caller
    /// gave up waiting.
    fn next_group(queue: &mut Queue) -> Vec<Pending> {
        queue.waiting.retain(|p| !p.done.is_closed());
        let mut events = 0;
        let mut take = 0;
        for pending in &queue.waiting {
            if take > 0 && events + pending.shards.len() > MAX_GROUP_EVENTS {
                break;
            }
            events += pending.shards.len();
            take += 1;
        }
        let rest = queue.waiting.split_off(take);
        mem::replace(&mut queue.waiting, rest)
    }

    /// Stores groups until the queue is empty, then frees its slot.
    async fn flush(self: Arc<Self>, mut group: Vec<Pending>) {
        /// Frees the slot if the task ends early (a panic): the slot is otherwise freed
        /// under the same lock that found the queue empty, so that no delivery queued
        /// meanwhile is left without a task to store it.
        struct Slot {
            shared: Arc<SinkShared>,
            armed: bool,
        }
        impl Drop for Slot {
            fn drop(&mut self) {
                if self.armed {
                    let mut queue = self.shared.lock();
                    queue.in_flight = queue.in_flight.saturating_sub(1);
                }
            }
        }
        let mut slot = Slot {
            shared: Arc::clone(&self),
            armed: true,
        };
        loop {
            if !group.is_empty() {
                self.store(group).await;
            }
            let mut queue = self.lock();
            group = Self::next_group(&mut queue);
            if group.is_empty() {
                queue.in_flight = queue.in_flight.saturating_sub(1);
                slot.armed = false;
                return;
            }
        }
    }

    /// One script call for `group`; answers each delivery.
    ///
    /// The `EVALSHA` command is written straight from the queued values (no intermediate
    /// argument vectors); an unknown script is loaded and the call made again.
    async fn store(&self, group: Vec<Pending>) {
        let config = self.streams.config();
        let events: usize = group.iter().map(|p| p.shards.len()).sum();
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.script.get_hash()).arg(events);
        for pending in &group {
            for &shard in &pending.shards {
                cmd.arg(self.keys.get(usize::from(shard)).map_or("", String::as_str));
            }
        }
        cmd.arg(config.max_len).arg(group.len());
        for pending in &group {
            cmd.arg(pending.shards.len());
            let mut start = 0;
            for &end in &pending.ends {
                cmd.arg(pending.values.get(start..end).unwrap_or_default());
                start = end;
            }
        }
        let (cmd, script) = (&cmd, &self.script);
        let result: Result<Vec<i64>, RedisError> = self
            .streams
            .conn()
            .run(config.ack_timeout, |mut conn| async move {
                match cmd.query_async(&mut conn).await {
                    Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                        script.load_async(&mut conn).await?;
                        cmd.query_async(&mut conn).await
                    }
                    other => other,
                }
            })
            .await;
        let failure = match &result {
            Ok(_) => Stored::Unavailable,
            Err(error) if error.is_timeout() => Stored::TimedOut,
            Err(error) => {
                tracing::warn!(reason = redis_reason(error), "Redis refused the deliveries");
                Stored::Unavailable
            }
        };
        let answers = result.unwrap_or_default();
        for (i, pending) in group.into_iter().enumerate() {
            let stored = match answers.get(i) {
                Some(1) => Stored::Added,
                Some(_) => Stored::Full,
                None => failure,
            };
            let _ = pending.done.send(stored);
        }
    }
}

impl Sink for StreamSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        let shared = &self.shared;
        let config = shared.streams.config();
        let counters = shared.streams.counters();
        let started = Instant::now();
        let received_ms = unix_ms(batch.received_at());
        let object = batch.delivery().object().as_str();
        let mut shards = Vec::with_capacity(batch.items().len());
        let mut values = Vec::new();
        let mut ends = Vec::with_capacity(7 * batch.items().len());
        for item in batch.items() {
            match item {
                Ok(event) => {
                    let encoded = encode(event, object, received_ms, config.shards);
                    shards.push(encoded.shard);
                    encoded.fields(|value| {
                        values.extend_from_slice(value);
                        ends.push(values.len());
                    });
                }
                Err(error) => {
                    Counters::add(&counters.invalid, 1);
                    tracing::warn!(
                        position = %error.position(),
                        reason = error.reason(),
                        "item is not an event: logged, not stored"
                    );
                }
            }
        }
        if shards.is_empty() {
            return Ok(());
        }
        let events = shards.len() as u64;
        let (done, answer) = oneshot::channel();
        let lead = {
            let mut queue = shared.lock();
            queue.waiting.push(Pending {
                shards,
                values,
                ends,
                done,
            });
            if queue.in_flight < MAX_IN_FLIGHT {
                queue.in_flight += 1;
                Some(SinkShared::next_group(&mut queue))
            } else {
                None
            }
        };
        if let Some(group) = lead {
            // On its own task: a caller that stops waiting (its request was dropped)
            // must not abandon the deliveries of the others.
            tokio::spawn(Arc::clone(shared).flush(group));
        }
        let stored = match tokio::time::timeout(config.ack_timeout, answer).await {
            Ok(Ok(stored)) => stored,
            Ok(Err(_)) => Stored::Unavailable,
            Err(_) => Stored::TimedOut,
        };
        match stored {
            Stored::Added => {
                Counters::add(&counters.enqueued, events);
                Ok(())
            }
            Stored::Full => {
                Counters::add(&counters.full, 1);
                tracing::warn!(
                    max_len = config.max_len,
                    "stream shard full (workers behind): delivery refused (503)"
                );
                Err(SinkError::Full)
            }
            Stored::TimedOut => {
                Counters::add(&counters.timed_out, 1);
                tracing::warn!(
                    waited_ms = millis(started.elapsed()),
                    "Redis did not answer within the acknowledgement timeout: 503, \
                     though the events may have been stored"
                );
                Err(SinkError::failed("stream timeout"))
            }
            Stored::Unavailable => {
                Counters::add(&counters.unavailable, 1);
                tracing::warn!(
                    waited_ms = millis(started.elapsed()),
                    "Redis unavailable: delivery refused (503)"
                );
                Err(SinkError::failed("stream unavailable"))
            }
        }
    }
}
