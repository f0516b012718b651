//! Event deduplication for the bots: in memory, or shared in Redis.
//!
//! [`RedisDedup`] claims each event's dedup key with `SET key 1 NX PX ttl` (TTL
//! [`DEDUP_TTL`], 48 h, above Meta's 36-hour retry horizon), so several bot processes
//! sharing one Redis handle a delivery sent to all of them exactly once. A Redis error is
//! a [`DedupError`], never a duplicate. [`BotDedup`] picks Redis when `REDIS_URL` is set
//! and [`MemoryDedup`] otherwise.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use meta_webhooks::tower::{Claim, Dedup, DedupError, MemoryDedup};
use redis::aio::ConnectionManager;

use crate::stream::redis_reason;

use crate::secret::Secret;
use crate::state::{Backend, StoreError, StoreErrorKind};

/// How long a claimed or completed key is remembered: 48 hours.
pub const DEDUP_TTL: Duration = Duration::from_secs(48 * 60 * 60);

/// The Redis key prefix of dedup keys.
pub const DEDUP_KEY_PREFIX: &str = "botkit:dedup:";

/// Per-command timeout.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`Dedup`] store in Redis (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct RedisDedup {
    conn: ConnectionManager,
    ttl_ms: u64,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedup")
            .field("ttl_ms", &self.ttl_ms)
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
            ttl_ms: u64::try_from(DEDUP_TTL.as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn key(key: &str) -> String {
        format!("{DEDUP_KEY_PREFIX}{key}")
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, DedupError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(DedupError::new(redis_reason(&error))),
            Err(_) => Err(DedupError::new("redis timeout")),
        }
    }
}

impl Dedup for RedisDedup {
    async fn claim(&self, key: &str) -> Result<Claim, DedupError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(Self::key(key))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(self.ttl_ms);
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
        let mut cmd = redis::cmd("DEL");
        cmd.arg(Self::key(key));
        let _: i64 = self.run(cmd).await?;
        Ok(())
    }
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
