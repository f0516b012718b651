//! [`RedisDedup`]: the [`Dedup`] contract in Redis.

use std::fmt;
use std::sync::Arc;

use super::{Streams, millis, redis_reason, scripts};
use crate::sink::{Claim, Dedup, DedupError};

/// A [`Dedup`] store in Redis, shared by every process using the same Redis and key
/// prefix. Made by [`Streams::dedup`]; cheap to clone.
///
/// - **claim**: `SET {prefix}dedup:{key} 1 NX PX dedup_claim_ttl`. The claim expires by
///   itself, so a process that dies while handling does not leave the event marked for
///   days: a redelivery after the claim expired is handled;
/// - **complete**: `SET {prefix}dedup:{key} 2 PX dedup_ttl`;
/// - **release** (the handler failed): deletes the key only while it is still a claim
///   (`1`), so a late release never erases another process' completed mark.
///
/// A Redis error or timeout (`command_timeout`) is a [`DedupError`], never a duplicate.
/// The [`StreamWorkers`](super::StreamWorkers) use the same keys and values for their own
/// claims, so a [`MemorySink`](crate::sink::MemorySink) with this store and the stream
/// workers agree on what was handled.
#[derive(Clone)]
pub struct RedisDedup {
    streams: Streams,
    release: Arc<redis::Script>,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.streams.config();
        f.debug_struct("RedisDedup")
            .field("ttl", &config.dedup_ttl)
            .field("claim_ttl", &config.dedup_claim_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisDedup {
    pub(super) fn new(streams: Streams) -> Self {
        Self {
            streams,
            release: Arc::new(redis::Script::new(scripts::RELEASE)),
        }
    }

    async fn set(&self, key: &str, value: &str, ttl_ms: u64, nx: bool) -> Result<bool, DedupError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.streams.config().dedup_key(key)).arg(value);
        if nx {
            cmd.arg("NX");
        }
        cmd.arg("PX").arg(ttl_ms.max(1));
        let cmd = &cmd;
        self.streams
            .conn()
            .run(
                self.streams.config().command_timeout,
                |mut conn| async move { cmd.query_async::<Option<String>>(&mut conn).await },
            )
            .await
            .map(|answer| answer.is_some())
            .map_err(|error| DedupError::new(redis_reason(&error)))
    }
}

impl Dedup for RedisDedup {
    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        let ttl = millis(self.streams.config().dedup_claim_ttl);
        Ok(if self.set(key, "1", ttl, true).await? {
            Claim::Claimed
        } else {
            Claim::Duplicate
        })
    }

    async fn complete(&self, key: &str) -> Result<(), DedupError> {
        let ttl = millis(self.streams.config().dedup_ttl);
        self.set(key, "2", ttl, false).await.map(drop)
    }

    async fn release(&self, key: &str) -> Result<(), DedupError> {
        let mut invocation = self.release.prepare_invoke();
        invocation.key(self.streams.config().dedup_key(key));
        let invocation = &invocation;
        self.streams
            .conn()
            .run(
                self.streams.config().command_timeout,
                |mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await },
            )
            .await
            .map(drop)
            .map_err(|error| DedupError::new(redis_reason(&error)))
    }
}
