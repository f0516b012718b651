//! The Redis hand-off (feature `redis`) against a real `redis-server` on a free loopback
//! port: the sink, the shard workers, the dedup store and recovery after Redis restarts.

mod dedup;
mod server;
mod sink;
mod workers;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meta_webhooks::event::Event;
use meta_webhooks::redis::{Streams, StreamsBuilder};
use meta_webhooks::sink::{Handler, Retry};
use meta_webhooks::test_util::DeliveryBuilder;

pub(crate) use meta_webhooks::test_util::RedisServer;

/// The account the twin's Instagram deliveries go to.
pub(crate) const ACCOUNT: &str = DeliveryBuilder::INSTAGRAM_ACCOUNT;

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Test settings: short leases and reclaim times so that recovery happens within a test.
pub(crate) fn builder(redis: &RedisServer) -> StreamsBuilder {
    Streams::builder(redis.url())
        .key_prefix("it:")
        .shards(4)
        .lease(Duration::from_millis(600))
        .reclaim_idle(Duration::from_millis(300))
}

pub(crate) async fn connect(redis: &RedisServer) -> Streams {
    builder(redis).connect().await.unwrap()
}

/// A plain connection for looking at Redis from the outside.
pub(crate) async fn redis_conn(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Polls `check` every 20 ms until it holds or `within` passed (generous bounds for
/// "eventually", never an assertion on speed).
pub(crate) async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}

/// A handler error with the retry class the test wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestError(pub(crate) Retry);

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "test failure ({:?})", self.0)
    }
}

/// Records the text of every event it handles, per sender, in handling order. Fails the
/// first `failures[text]` attempts of an event with the given retry class; sleeps
/// `delay` per event.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    pub(crate) seen: Arc<Mutex<HashMap<String, Vec<String>>>>,
    pub(crate) attempts: Arc<Mutex<HashMap<String, u32>>>,
    pub(crate) failures: Arc<HashMap<String, (u32, Retry)>>,
    pub(crate) delay: Duration,
}

impl Recorder {
    pub(crate) fn failing(failures: &[(&str, u32, Retry)]) -> Self {
        Self {
            failures: Arc::new(
                failures
                    .iter()
                    .map(|(text, n, retry)| ((*text).to_owned(), (*n, *retry)))
                    .collect(),
            ),
            ..Self::default()
        }
    }

    pub(crate) fn texts(&self, user: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .get(user)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn handled(&self) -> usize {
        self.seen.lock().unwrap().values().map(Vec::len).sum()
    }

    pub(crate) fn attempts(&self, text: &str) -> u32 {
        self.attempts
            .lock()
            .unwrap()
            .get(text)
            .copied()
            .unwrap_or(0)
    }
}

impl Handler for Recorder {
    type Error = TestError;

    async fn handle(&self, event: Event) -> Result<(), TestError> {
        let text = event.text().unwrap_or_default().to_owned();
        let user = event.sender().map_or("-", |p| p.as_str()).to_owned();
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(text.clone()).or_insert(0);
            *n += 1;
            *n
        };
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if let Some((fail, retry)) = self.failures.get(&text)
            && attempt <= *fail
        {
            return Err(TestError(*retry));
        }
        self.seen
            .lock()
            .unwrap()
            .entry(user)
            .or_default()
            .push(text);
        Ok(())
    }

    fn retry(&self, error: &TestError) -> Retry {
        error.0
    }
}
