//! Event deduplication for the bots: in memory, or shared in Redis.
//!
//! [`RedisDedup`] is the [`Dedup`] contract in Redis, so several processes that each feed a
//! [`MemorySink`](meta_webhooks::sink::MemorySink) from one Redis handle an event sent to
//! all of them once:
//!
//! - **claim**: `SET key 1 NX PX claim_ttl` ([`DEDUP_CLAIM_TTL`], 5 min). The claim
//!   expires by itself, so a process that dies while handling does not leave the event
//!   marked for 48 h: a redelivery after the claim expired is handled;
//! - **complete**: `SET key 2 PX ttl` ([`DEDUP_TTL`], 48 h, above Meta's 36-hour retry
//!   horizon);
//! - **release** (the handler failed): deletes the key only while it is still a claim
//!   (`1`), so a late release never erases another process' completed mark.
//!
//! A Redis error is a [`DedupError`], never a duplicate. [`BotDedup`] picks Redis when
//! asked for it and [`MemoryDedup`] otherwise; the bots themselves use [`MemoryDedup`] with
//! the in-memory queue and, with Redis, the stream workers' own claim (see
//! [`crate::stream`]), which follows the same states.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use meta_webhooks::sink::{Claim, Dedup, DedupError, MemoryDedup};
use redis::aio::ConnectionManager;

use crate::stream::redis_reason;

use crate::secret::Secret;
use crate::state::{Backend, StoreError, StoreErrorKind};

/// How long a completed key is remembered: 48 hours, above Meta's 36-hour retry horizon.
pub const DEDUP_TTL: Duration = Duration::from_secs(48 * 60 * 60);

/// How long a claim holds when it is neither completed nor released (its handler died):
/// 5 minutes, well above one event's handling (a GPT call and a Send API request, each
/// bounded by its timeout).
pub const DEDUP_CLAIM_TTL: Duration = Duration::from_secs(5 * 60);

/// Deletes KEYS[1] only while it holds a claim (`1`), not a completed mark (`2`).
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == '1' then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The Redis key prefix of dedup keys.
pub const DEDUP_KEY_PREFIX: &str = "botkit:dedup:";

/// Per-command timeout.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`Dedup`] store in Redis (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct RedisDedup {
    conn: ConnectionManager,
    ttl_ms: u64,
    claim_ttl_ms: u64,
    release: Arc<redis::Script>,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedup")
            .field("ttl_ms", &self.ttl_ms)
            .field("claim_ttl_ms", &self.claim_ttl_ms)
            .finish_non_exhaustive()
    }
}

impl RedisDedup {
    /// Connects to Redis at `url`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] for an invalid URL or when Redis cannot be reached. The error never
    /// contains the URL.
    pub async fn connect(url: &Secret) -> Result<Self, StoreError> {
        let conn = crate::stream::connect(url, REDIS_TIMEOUT)
            .await
            .map_err(|e| {
                if e.kind() == StoreErrorKind::Config {
                    e
                } else {
                    StoreError::new(StoreErrorKind::Unavailable, "dedup: Redis unreachable")
                }
            })?;
        Ok(Self {
            conn,
            ttl_ms: millis(DEDUP_TTL),
            claim_ttl_ms: millis(DEDUP_CLAIM_TTL),
            release: Arc::new(redis::Script::new(RELEASE_LUA)),
        })
    }

    /// Sets how long an unfinished claim holds (default [`DEDUP_CLAIM_TTL`]; at least
    /// 1 ms). Keep it above the longest time one event's handling can take.
    #[must_use]
    pub fn with_claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl_ms = millis(ttl).max(1);
        self
    }

    fn key(key: &str) -> String {
        format!("{DEDUP_KEY_PREFIX}{key}")
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, DedupError> {
        let mut conn = self.conn.clone();
        bounded(cmd.query_async::<T>(&mut conn)).await
    }
}

impl Dedup for RedisDedup {
    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(Self::key(key))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(self.claim_ttl_ms);
        let answer: Option<String> = self.run(cmd).await?;
        Ok(if answer.is_some() {
            Claim::Claimed
        } else {
            Claim::Duplicate
        })
    }

    async fn complete(&self, key: &str) -> Result<(), DedupError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(Self::key(key)).arg("2").arg("PX").arg(self.ttl_ms);
        let _: Option<String> = self.run(cmd).await?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), DedupError> {
        let mut conn = self.conn.clone();
        let invocation = self.release.key(Self::key(key));
        bounded(invocation.invoke_async::<i64>(&mut conn)).await?;
        Ok(())
    }
}

/// One Redis call within [`REDIS_TIMEOUT`]; a failure or timeout is a [`DedupError`].
async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, DedupError> {
    match tokio::time::timeout(REDIS_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(DedupError::new(redis_reason(&error))),
        Err(_) => Err(DedupError::new("redis timeout")),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The bots' dedup store: in memory, or in Redis when `REDIS_URL` is set.
#[derive(Debug, Clone)]
pub enum BotDedup {
    /// In this process (lost on restart, not shared).
    Memory(Arc<MemoryDedup>),
    /// In Redis, shared by every process using it.
    Redis(RedisDedup),
}

impl BotDedup {
    /// Opens the dedup store matching the state backend.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when Redis cannot be reached.
    pub async fn open(backend: &Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Memory => Ok(Self::Memory(Arc::new(MemoryDedup::new().ttl(DEDUP_TTL)))),
            Backend::Redis(url) => Ok(Self::Redis(RedisDedup::connect(url).await?)),
        }
    }

    /// Whether the store answers (`PING` within `timeout`; always `true` in memory).
    pub async fn ping(&self, timeout: Duration) -> bool {
        match self {
            Self::Memory(_) => true,
            Self::Redis(redis) => {
                let mut conn = redis.conn.clone();
                matches!(
                    tokio::time::timeout(
                        timeout,
                        redis::cmd("PING").query_async::<String>(&mut conn)
                    )
                    .await,
                    Ok(Ok(_))
                )
            }
        }
    }
}

impl Dedup for BotDedup {
    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        match self {
            Self::Memory(m) => m.claim(key).await,
            Self::Redis(r) => r.claim(key).await,
        }
    }

    async fn complete(&self, key: &str) -> Result<(), DedupError> {
        match self {
            Self::Memory(m) => m.complete(key).await,
            Self::Redis(r) => r.complete(key).await,
        }
    }

    async fn release(&self, key: &str) -> Result<(), DedupError> {
        match self {
            Self::Memory(m) => m.release(key).await,
            Self::Redis(r) => r.release(key).await,
        }
    }
}
