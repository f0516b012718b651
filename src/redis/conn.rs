//! One shared Redis connection that replaces itself when it is found dead.
//!
//! A multiplexed connection whose server went away stays in place until a command fails
//! on it. Reconnect helpers that only start reconnecting at that moment answer that first
//! command with the old connection's error, and a reconnect that ran while Redis was still
//! down leaves a failed connection behind for the next caller: after an outage, the first
//! delivery and the first health check failed although Redis was back. Here a call that
//! fails on a connection it did not open itself (it may be stale) drops that connection
//! and is tried once more on a fresh one, within the same deadline; a call on a fresh
//! connection is never repeated.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};

use super::{StreamError, StreamErrorKind};

/// Whether `error` means the connection is unusable (dropped, refused, I/O, protocol).
pub(crate) fn is_connection_error(error: &RedisError) -> bool {
    error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_io_error()
        || error.is_unrecoverable_error()
}

/// The error of a call that ran out of time.
pub(crate) fn timeout_error() -> RedisError {
    RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
}

/// The error of a call that found no connection in time.
fn not_connected() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "connect timed out",
    ))
}

/// A lazily (re)opened multiplexed connection. Cheap to clone; clones share it.
#[derive(Clone)]
pub(crate) struct Conn {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    config: AsyncConnectionConfig,
    slot: Mutex<Slot>,
    /// Held while connecting, so that concurrent callers share one new connection.
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Slot {
    generation: u64,
    conn: Option<MultiplexedConnection>,
}

/// A connection handed to one call: which generation it is and whether this call opened
/// it (then a failure on it is not retried).
struct Lease {
    generation: u64,
    conn: MultiplexedConnection,
    fresh: bool,
}

impl Conn {
    /// A connection to `client`'s server, opened on first use; each connect attempt gives
    /// up after `connect_timeout`. Each call's own bound is given to [`run`](Self::run).
    pub(crate) fn new(client: redis::Client, connect_timeout: Duration) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(None);
        Self {
            inner: Arc::new(Inner {
                client,
                config,
                slot: Mutex::new(Slot::default()),
                connecting: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        let slot = self
            .inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.conn.clone().map(|conn| (slot.generation, conn))
    }

    async fn lease(&self) -> Result<Lease, RedisError> {
        if let Some((generation, conn)) = self.current() {
            return Ok(Lease {
                generation,
                conn,
                fresh: false,
            });
        }
        let _connecting = self.inner.connecting.lock().await;
        // Another caller may have connected while this one waited: that connection is
        // as fresh as one opened here.
        if let Some((generation, conn)) = self.current() {
            return Ok(Lease {
                generation,
                conn,
                fresh: true,
            });
        }
        let conn = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&self.inner.config)
            .await?;
        let mut slot = self
            .inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.generation += 1;
        slot.conn = Some(conn.clone());
        Ok(Lease {
            generation: slot.generation,
            conn,
            fresh: true,
        })
    }

    /// Forgets the connection of `generation` (if it is still the current one), so the
    /// next call opens a new one.
    fn drop_connection(&self, generation: u64) {
        let mut slot = self
            .inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.generation == generation {
            slot.conn = None;
        }
    }

    /// Runs `call` on the connection within `budget` (connecting included). A connection
    /// error on a connection this call did not open drops it and runs `call` once more on
    /// a new one, within what is left of `budget`. A timeout or connection error drops
    /// the connection for the next caller.
    ///
    /// `call` may thus run twice; it must be safe to repeat when its first run may have
    /// reached Redis (the callers' commands are idempotent, or their repetition is caught
    /// by the dedup claims).
    pub(crate) async fn run<T, F, Fut>(
        &self,
        budget: Duration,
        mut call: F,
    ) -> Result<T, RedisError>
    where
        F: FnMut(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let deadline = Instant::now() + budget;
        let mut retried = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let lease = match tokio::time::timeout(remaining, self.lease()).await {
                Ok(Ok(lease)) => lease,
                Ok(Err(error)) => return Err(error),
                // Nothing was sent: not a timeout whose command may have run.
                Err(_) => return Err(not_connected()),
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, call(lease.conn)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) if is_connection_error(&error) && !error.is_timeout() => {
                    self.drop_connection(lease.generation);
                    if lease.fresh || retried {
                        return Err(error);
                    }
                    retried = true;
                }
                Ok(Err(error)) => {
                    if error.is_timeout() {
                        self.drop_connection(lease.generation);
                    }
                    return Err(error);
                }
                Err(_) => {
                    self.drop_connection(lease.generation);
                    return Err(timeout_error());
                }
            }
        }
    }

    /// `PING` within `budget`.
    pub(crate) async fn ping(&self, budget: Duration) -> Result<(), StreamError> {
        self.run(budget, |mut conn| async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await
        .map(drop)
        .map_err(|error| {
            if error.is_timeout() {
                StreamError::new(StreamErrorKind::Timeout, "redis timeout")
            } else {
                StreamError::from_redis(&error)
            }
        })
    }
}
