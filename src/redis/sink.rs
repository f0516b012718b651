//! [`StreamSink`]: the receiver side, storing each delivery's events in their shards.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::codec::encode;
use super::{Counters, Streams, millis, redis_reason, scripts, unix_ms};
use crate::sink::{Batch, Sink, SinkError};

/// The webhook endpoint's [`Sink`] that stores each event in its shard stream (see the
/// [module docs](super)). Made by [`Streams::sink`]; cheap to clone.
///
/// [`accept`](Sink::accept) returns `Ok` (the endpoint's `200`) only after one atomic
/// call added every event of the delivery. It fails (`503`) with [`SinkError::Full`] when
/// a target shard already holds `max_len` entries, and with [`SinkError::Failed`] when
/// Redis is down or slower than `ack_timeout`. A connection found dead is replaced and the
/// call made once more within the same `ack_timeout`, so the first delivery after Redis
/// came back is stored.
#[derive(Clone)]
pub struct StreamSink {
    streams: Streams,
    script: Arc<redis::Script>,
}

impl fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSink")
            .field("streams", &self.streams)
            .finish()
    }
}

impl StreamSink {
    pub(super) fn new(streams: Streams) -> Self {
        Self {
            streams,
            script: Arc::new(redis::Script::new(scripts::ENQUEUE)),
        }
    }

    /// The [`Streams`] handle it stores through (settings, stats, health).
    pub fn streams(&self) -> &Streams {
        &self.streams
    }
}

impl Sink for StreamSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        let config = self.streams.config();
        let counters = self.streams.counters();
        let received_ms = unix_ms(batch.received_at());
        let object = batch.delivery().object().as_str();
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(config.max_len);
        let mut events = 0u64;
        for item in batch.items() {
            match item {
                Ok(event) => {
                    let encoded = encode(event, object, received_ms, config.shards);
                    invocation.key(config.stream_key(encoded.shard));
                    encoded.fields(|value| {
                        invocation.arg(value);
                    });
                    events += 1;
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
        if events == 0 {
            return Ok(());
        }
        let started = Instant::now();
        let invocation = &invocation;
        let result = self
            .streams
            .conn()
            .run(config.ack_timeout, |mut conn| async move {
                invocation.invoke_async::<u64>(&mut conn).await
            })
            .await;
        match result {
            Ok(_) => {
                Counters::add(&counters.enqueued, events);
                Ok(())
            }
            Err(error) if error.code() == Some("FULL") => {
                Counters::add(&counters.full, 1);
                tracing::warn!(
                    max_len = config.max_len,
                    "stream shard full (workers behind): delivery refused (503)"
                );
                Err(SinkError::Full)
            }
            Err(error) if error.is_timeout() => {
                Counters::add(&counters.timed_out, 1);
                tracing::warn!(
                    waited_ms = millis(started.elapsed()),
                    "Redis did not answer within the acknowledgement timeout: 503, \
                     though the events may have been stored"
                );
                Err(SinkError::failed("stream timeout"))
            }
            Err(error) => {
                Counters::add(&counters.unavailable, 1);
                tracing::warn!(
                    waited_ms = millis(started.elapsed()),
                    reason = redis_reason(&error),
                    "Redis refused the delivery: 503"
                );
                Err(SinkError::failed("stream unavailable"))
            }
        }
    }
}
