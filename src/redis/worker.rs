//! [`StreamWorkers`]: shard leases, reading through the consumer group, handling, acking.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use redis::{RedisError, Value};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::codec::{self, Decoded};
use super::conn::Conn;
use super::{
    Counters, DEAD_LETTER_MAX_LEN, StreamConfig, StreamError, Streams, millis, redis_reason,
    scripts,
};
use crate::event::Event;
use crate::sink::{Handler, Retry};

/// How long one blocking read waits for new entries before looking at the stop signal.
const BLOCK: Duration = Duration::from_millis(1000);
/// First retry delay; doubled per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Idle time after which a consumer with nothing pending is removed from the group.
const PRUNE_IDLE: Duration = Duration::from_secs(3600);
/// How often a shard loop waits for another consumer's pending entries to become
/// reclaimable before it reads anything newer.
const RECLAIM_POLL: Duration = Duration::from_millis(100);
/// Once a worker is stopping, how often it retries recording a handled entry (the Redis
/// connection may need a moment to come back after an outage)…
const FINISH_RETRY: Duration = Duration::from_millis(50);
/// …and for how long at most, before it leaves the entry pending for reclaim.
const FINISH_GRACE: Duration = Duration::from_secs(2);

/// The running workers of one process: a supervisor that holds shard leases and one task
/// per held shard, handing each stored event to a [`Handler`] (see the
/// [module docs](super)). Started by [`Streams::start_workers`].
pub struct StreamWorkers {
    stop: watch::Sender<bool>,
    supervisor: JoinHandle<()>,
    consumer: String,
}

impl fmt::Debug for StreamWorkers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWorkers")
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

/// Everything the tasks share.
struct Ctx<H> {
    handler: H,
    streams: Streams,
    consumer: String,
    claim_ttl_ms: u64,
    done_ttl_ms: u64,
    scripts: Scripts,
}

impl<H> Ctx<H> {
    fn config(&self) -> &StreamConfig {
        self.streams.config()
    }

    fn counters(&self) -> &Counters {
        self.streams.counters()
    }
}

struct Scripts {
    heartbeat: redis::Script,
    renew: redis::Script,
    release: redis::Script,
    trim: redis::Script,
    claim: redis::Script,
}

impl StreamWorkers {
    pub(super) async fn start<H: Handler>(
        streams: Streams,
        handler: H,
    ) -> Result<Self, StreamError> {
        let config = streams.config();
        for shard in 0..config.shards {
            create_group(streams.conn(), config, shard)
                .await
                .map_err(|e| StreamError::from_redis(&e))?;
        }
        let consumer = consumer_name();
        let reclaim = millis(config.reclaim_idle.max(config.lease)).min(u64::MAX / 4);
        let ctx = Arc::new(Ctx {
            handler,
            consumer: consumer.clone(),
            claim_ttl_ms: reclaim.saturating_mul(2),
            done_ttl_ms: millis(config.dedup_ttl).max(1),
            scripts: Scripts {
                heartbeat: redis::Script::new(scripts::HEARTBEAT),
                renew: redis::Script::new(scripts::LEASE_RENEW),
                release: redis::Script::new(scripts::LEASE_RELEASE),
                trim: redis::Script::new(scripts::TRIM),
                claim: redis::Script::new(scripts::CLAIM),
            },
            streams,
        });
        let (stop, stop_rx) = watch::channel(false);
        let supervisor = tokio::spawn(
            Supervisor {
                ctx,
                held: HashMap::new(),
            }
            .run(stop_rx),
        );
        tracing::info!(consumer = %consumer, "stream workers started");
        Ok(Self {
            stop,
            supervisor,
            consumer,
        })
    }

    /// This process' consumer name in the group (`host-pid-random`), also the value of
    /// the lease keys it holds.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// Stops taking new entries, lets each shard finish the entries it is handling, gives
    /// the leases back and leaves the worker registry. Returns `false` if that took longer
    /// than `timeout`: the unfinished entries stay pending and another worker reclaims them
    /// after `reclaim_idle`.
    pub async fn shutdown(self, timeout: Duration) -> bool {
        let _ = self.stop.send(true);
        let mut supervisor = self.supervisor;
        if tokio::time::timeout(timeout, &mut supervisor).await.is_ok() {
            true
        } else {
            supervisor.abort();
            tracing::warn!("shutdown timeout: unfinished stream entries are left for reclaim");
            false
        }
    }
}

/// Creates the consumer group of `shard` (and the stream) unless it exists, reading from
/// the first entry.
async fn create_group(conn: &Conn, config: &StreamConfig, shard: u16) -> Result<(), RedisError> {
    let mut cmd = redis::cmd("XGROUP");
    cmd.arg("CREATE")
        .arg(config.stream_key(shard))
        .arg(&config.group)
        .arg("0")
        .arg("MKSTREAM");
    let cmd = &cmd;
    let created = conn
        .run(config.command_timeout, |mut c| async move {
            cmd.query_async::<()>(&mut c).await
        })
        .await;
    match created {
        Err(e) if e.code() != Some("BUSYGROUP") => Err(e),
        _ => Ok(()),
    }
}

fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.len() <= 64)
        .unwrap_or_else(|| "worker".to_owned());
    // A randomly keyed hash of the time: unique enough between processes on one host.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        hasher.finish() & 0xffff_ffff
    )
}

/// One command on `conn` within `budget`.
async fn query<T: redis::FromRedisValue>(
    conn: &Conn,
    budget: Duration,
    cmd: &redis::Cmd,
) -> Result<T, RedisError> {
    conn.run(
        budget,
        |mut c| async move { cmd.query_async::<T>(&mut c).await },
    )
    .await
}

/// One script call on `conn` within `budget`.
async fn invoke<T: redis::FromRedisValue>(
    conn: &Conn,
    budget: Duration,
    invocation: &redis::ScriptInvocation<'_>,
) -> Result<T, RedisError> {
    conn.run(budget, |mut c| async move {
        invocation.invoke_async::<T>(&mut c).await
    })
    .await
}

/// A supervisor call's result; a failure is logged and is `None`.
fn logged<T>(result: Result<T, RedisError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(reason = redis_reason(&e), "stream supervisor: Redis failed");
            None
        }
    }
}

struct Held {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Told to stop (rebalancing or a lost lease); the lease goes back once it ended.
    releasing: bool,
}

struct Supervisor<H> {
    ctx: Arc<Ctx<H>>,
    held: HashMap<u16, Held>,
}

impl<H: Handler> Supervisor<H> {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let tick = (self.ctx.config().lease / 3).max(Duration::from_millis(10));
        loop {
            self.tick().await;
            // A change (or a dropped sender) within the tick means: stop.
            if tokio::time::timeout(tick, stop.changed()).await.is_ok() {
                break;
            }
        }
        // Shutdown: every shard finishes what it is handling, then the leases go back.
        for held in self.held.values() {
            let _ = held.stop.send(true);
        }
        let shards: Vec<u16> = self.held.keys().copied().collect();
        for shard in shards {
            if let Some(held) = self.held.remove(&shard) {
                let _ = held.task.await;
                self.release(shard).await;
            }
        }
        let mut cmd = redis::cmd("ZREM");
        cmd.arg(self.ctx.config().workers_key())
            .arg(&self.ctx.consumer);
        let _ = self.query::<i64>(&cmd).await;
        tracing::info!("stream workers stopped");
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let ctx = &self.ctx;
        logged(query(ctx.streams.conn(), ctx.config().command_timeout, cmd).await)
    }

    async fn script<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[&str],
    ) -> Option<T> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let ctx = &self.ctx;
        logged(
            invoke(
                ctx.streams.conn(),
                ctx.config().command_timeout,
                &invocation,
            )
            .await,
        )
    }

    async fn release(&self, shard: u16) {
        let key = self.ctx.config().lease_key(shard);
        let _ = self
            .script::<i64>(&self.ctx.scripts.release, &[&key], &[&self.ctx.consumer])
            .await;
    }

    async fn tick(&mut self) {
        let config = self.ctx.config();
        let lease_ms = millis(config.lease).to_string();
        // Shard tasks that ended (told to, or after a lost lease) give their lease back.
        let finished: Vec<u16> = self
            .held
            .iter()
            .filter(|(_, h)| h.task.is_finished())
            .map(|(s, _)| *s)
            .collect();
        for shard in finished {
            self.held.remove(&shard);
            self.release(shard).await;
        }
        // A worker counts as live for three lease periods after its last heartbeat.
        let registry_ms = millis(config.lease.saturating_mul(3)).to_string();
        let workers_key = config.workers_key();
        let Some(live) = self
            .script::<u64>(
                &self.ctx.scripts.heartbeat,
                &[&workers_key],
                &[&self.ctx.consumer, &registry_ms],
            )
            .await
        else {
            return;
        };
        // Renew what we hold (also shards still finishing a batch before they go back).
        let shards: Vec<u16> = self.held.keys().copied().collect();
        for shard in shards {
            let key = config.lease_key(shard);
            let renewed = self
                .script::<i64>(
                    &self.ctx.scripts.renew,
                    &[&key],
                    &[&self.ctx.consumer, &lease_ms],
                )
                .await;
            if renewed != Some(0) {
                continue;
            }
            if let Some(held) = self.held.get_mut(&shard) {
                if !held.releasing {
                    tracing::warn!(shard, "shard lease lost: stopping after the current batch");
                }
                held.releasing = true;
                let _ = held.stop.send(true);
            }
        }
        let shards = u64::from(config.shards);
        let fair = usize::try_from(shards.div_ceil(live.max(1))).unwrap_or(usize::MAX);
        let mut active: Vec<u16> = self
            .held
            .iter()
            .filter(|(_, h)| !h.releasing)
            .map(|(s, _)| *s)
            .collect();
        // Give extra shards back so that a worker that joined gets its share.
        active.sort_unstable();
        while active.len() > fair {
            let Some(shard) = active.pop() else { break };
            if let Some(held) = self.held.get_mut(&shard) {
                tracing::info!(shard, fair, "rebalancing: giving a shard back");
                held.releasing = true;
                let _ = held.stop.send(true);
            }
        }
        // Take free shards up to the fair share, starting at a per-worker offset.
        let start = u64::from(config.shard_of(&self.ctx.consumer));
        for i in 0..shards {
            if active.len() >= fair {
                break;
            }
            let shard = u16::try_from((start + i) % shards).unwrap_or(0);
            if self.held.contains_key(&shard) {
                continue;
            }
            let mut cmd = redis::cmd("SET");
            cmd.arg(config.lease_key(shard))
                .arg(&self.ctx.consumer)
                .arg("NX")
                .arg("PX")
                .arg(&lease_ms);
            if let Some(Some(_)) = self.query::<Option<String>>(&cmd).await {
                tracing::info!(shard, "shard lease taken");
                let (stop, stop_rx) = watch::channel(false);
                let task = tokio::spawn(shard_loop(Arc::clone(&self.ctx), shard, stop_rx));
                self.held.insert(
                    shard,
                    Held {
                        stop,
                        task,
                        releasing: false,
                    },
                );
                active.push(shard);
            }
        }
    }
}

/// What became of one entry.
enum Outcome {
    /// Acknowledged (handled, duplicate, failed for good or dead-lettered).
    Acked,
    /// Left pending: the worker is stopping.
    Left,
}

/// One decoded entry to handle.
struct Job {
    id: String,
    decoded: Decoded,
    fields: HashMap<String, String>,
}

/// One entry read from a shard.
struct Entry {
    id: String,
    /// `None` when the entry no longer exists (deleted from the stream).
    fields: Option<HashMap<String, String>>,
}

async fn shard_loop<H: Handler>(ctx: Arc<Ctx<H>>, shard: u16, mut stop: watch::Receiver<bool>) {
    // Its own connection: blocking reads must not hold up the other shards' calls.
    let conn = Conn::new(ctx.streams.client().clone(), ctx.config().command_timeout);
    let mut shard_task = Shard {
        key: ctx.config().stream_key(shard),
        ctx,
        shard,
        conn,
        stop: stop.clone(),
    };
    shard_task.prune_consumers().await;
    let mut failures = 0u32;
    while !*stop.borrow() {
        match shard_task.step().await {
            Ok(Step::Continue) => failures = 0,
            Ok(Step::Stop) => break,
            Err(error) if error.code() == Some("NOGROUP") => {
                // Redis lost its data (restarted without persistence) or someone deleted
                // the stream: recreate the group from the start of whatever is there.
                tracing::warn!(shard, "consumer group missing: recreating it");
                let _ = create_group(&shard_task.conn, shard_task.ctx.config(), shard).await;
            }
            Err(error) => {
                failures += 1;
                tracing::warn!(shard, reason = redis_reason(&error), "stream read failed");
                if sleep_or_stop(&mut stop, backoff(failures)).await {
                    break;
                }
            }
        }
    }
}

/// Sleeps `delay` unless stopped first; `true` when stopped.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, delay: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    match tokio::time::timeout(delay, stop.changed()).await {
        Ok(_) => true,
        Err(_) => *stop.borrow(),
    }
}

fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(10))
        .min(MAX_BACKOFF)
}

enum Step {
    Continue,
    Stop,
}

struct Shard<H> {
    ctx: Arc<Ctx<H>>,
    shard: u16,
    key: String,
    conn: Conn,
    stop: watch::Receiver<bool>,
}

/// How one attempt at handling ended.
enum Attempt<E> {
    Ok,
    Failed(E),
    Panicked,
}

impl<H: Handler> Shard<H> {
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisError> {
        query(&self.conn, self.ctx.config().command_timeout, cmd).await
    }

    async fn step(&mut self) -> Result<Step, RedisError> {
        // 1. Entries other consumers left pending come first (they are older).
        if self.others_pending().await? {
            let claimed = self.reclaim().await?;
            if claimed > 0 {
                Counters::add(&self.ctx.counters().reclaimed, claimed);
                tracing::info!(
                    shard = self.shard,
                    claimed,
                    "reclaimed entries of a stopped worker"
                );
            } else if self.others_pending().await? {
                // Not idle long enough yet: wait rather than overtake them.
                return Ok(if sleep_or_stop(&mut self.stop, RECLAIM_POLL).await {
                    Step::Stop
                } else {
                    Step::Continue
                });
            }
        }
        // 2. Our own pending entries (retries, reclaimed ones), then 3. new ones.
        let mut entries = self.read("0", None).await?;
        if entries.is_empty() {
            entries = self.read(">", Some(BLOCK)).await?;
        }
        let Some(last) = entries.last().map(|e| e.id.clone()) else {
            return Ok(Step::Continue);
        };
        if self.handle(entries).await {
            self.trim(&last).await;
            Ok(Step::Continue)
        } else {
            Ok(Step::Stop)
        }
    }

    /// Forgets consumers of this shard's group that have nothing pending and were idle for
    /// [`PRUNE_IDLE`] (every process start adds one), so `XINFO` and `XPENDING` stay small.
    async fn prune_consumers(&mut self) {
        let mut cmd = redis::cmd("XINFO");
        cmd.arg("CONSUMERS")
            .arg(&self.key)
            .arg(&self.ctx.config().group);
        let Ok(Value::Array(consumers)) = self.query::<Value>(&cmd).await else {
            return;
        };
        let prune_ms = i64::try_from(PRUNE_IDLE.as_millis()).unwrap_or(i64::MAX);
        for consumer in consumers {
            let fields: HashMap<String, Value> = match consumer {
                Value::Array(kv) => kv
                    .chunks(2)
                    .filter_map(|pair| match pair {
                        [k, v] => Some((text(k)?, v.clone())),
                        _ => None,
                    })
                    .collect(),
                Value::Map(kv) => kv
                    .into_iter()
                    .filter_map(|(k, v)| Some((text(&k)?, v)))
                    .collect(),
                _ => continue,
            };
            let int = |name: &str| match fields.get(name) {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            };
            let Some(name) = fields.get("name").and_then(text) else {
                continue;
            };
            if name != self.ctx.consumer
                && int("pending") == Some(0)
                && int("idle").is_some_and(|idle| idle > prune_ms)
            {
                let mut cmd = redis::cmd("XGROUP");
                cmd.arg("DELCONSUMER")
                    .arg(&self.key)
                    .arg(&self.ctx.config().group)
                    .arg(&name);
                let _ = self.query::<i64>(&cmd).await;
            }
        }
    }

    async fn others_pending(&mut self) -> Result<bool, RedisError> {
        let mut cmd = redis::cmd("XPENDING");
        cmd.arg(&self.key).arg(&self.ctx.config().group);
        let summary: Value = self.query(&cmd).await?;
        let Value::Array(parts) = summary else {
            return Ok(false);
        };
        let Some(Value::Array(consumers)) = parts.get(3) else {
            return Ok(false);
        };
        Ok(consumers.iter().any(|c| match c {
            Value::Array(pair) => pair
                .first()
                .and_then(text)
                .is_some_and(|name| name != self.ctx.consumer),
            _ => false,
        }))
    }

    /// `XAUTOCLAIM`s every entry idle for `reclaim_idle`; returns how many.
    async fn reclaim(&mut self) -> Result<u64, RedisError> {
        let config = self.ctx.config();
        let idle = millis(config.reclaim_idle).to_string();
        let mut start = "0-0".to_owned();
        let mut claimed = 0u64;
        for _ in 0..1000 {
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(&self.key)
                .arg(&config.group)
                .arg(&self.ctx.consumer)
                .arg(&idle)
                .arg(&start)
                .arg("COUNT")
                .arg(config.batch)
                .arg("JUSTID");
            let reply: Value = self.query(&cmd).await?;
            let Value::Array(parts) = reply else { break };
            let next = parts.first().and_then(text).unwrap_or_default();
            if let Some(Value::Array(ids)) = parts.get(1) {
                claimed += ids.len() as u64;
            }
            if next == "0-0" || next.is_empty() {
                break;
            }
            start = next;
        }
        Ok(claimed)
    }

    async fn read(
        &mut self,
        from: &str,
        block: Option<Duration>,
    ) -> Result<Vec<Entry>, RedisError> {
        let config = self.ctx.config();
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&config.group)
            .arg(&self.ctx.consumer)
            .arg("COUNT")
            .arg(config.batch);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(millis(block));
        }
        cmd.arg("STREAMS").arg(&self.key).arg(from);
        let budget = config.command_timeout + block.unwrap_or_default();
        let reply: Value = query(&self.conn, budget, &cmd).await?;
        Ok(parse_read(reply))
    }

    /// Handles a batch; `false` if the worker is stopping and left entries pending.
    async fn handle(&mut self, entries: Vec<Entry>) -> bool {
        // Group by conversation, keeping arrival order, then timestamp order per group.
        let mut groups: Vec<(String, Vec<Job>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for entry in entries {
            let Some(fields) = entry.fields else {
                tracing::error!(shard = self.shard, id = %entry.id, "pending entry no longer in the stream");
                Counters::add(&self.ctx.counters().missing, 1);
                let _ = self.ack(&entry.id).await;
                continue;
            };
            match codec::decode(|name| fields.get(name).map(String::as_str)) {
                Ok(decoded) => {
                    let slot = *index
                        .entry(decoded.conversation.clone())
                        .or_insert_with(|| {
                            groups.push((decoded.conversation.clone(), Vec::new()));
                            groups.len() - 1
                        });
                    if let Some((_, group)) = groups.get_mut(slot) {
                        group.push(Job {
                            id: entry.id,
                            decoded,
                            fields,
                        });
                    }
                }
                Err(error) => {
                    tracing::error!(shard = self.shard, id = %entry.id, %error, "dead-lettering an unreadable entry");
                    if self
                        .dead_letter(&entry.id, &fields, &error.to_string())
                        .await
                        .is_ok()
                    {
                        Counters::add(&self.ctx.counters().dead, 1);
                    }
                }
            }
        }
        let mut tasks = JoinSet::new();
        for (_, mut group) in groups {
            group.sort_by_key(|job| job.decoded.event.timestamp());
            let mut worker = self.clone_for_task();
            tasks.spawn(async move {
                for job in group {
                    if let Outcome::Left = worker.entry(&job).await {
                        return false;
                    }
                }
                true
            });
        }
        let mut all_done = true;
        while let Some(done) = tasks.join_next().await {
            all_done &= done.unwrap_or(false);
        }
        all_done
    }

    fn clone_for_task(&self) -> Self {
        Self {
            ctx: Arc::clone(&self.ctx),
            shard: self.shard,
            key: self.key.clone(),
            conn: self.conn.clone(),
            stop: self.stop.clone(),
        }
    }

    /// Runs the handler on its own task, so that a panic fails this attempt only.
    async fn attempt(&self, event: Event, accepted_at: SystemTime) -> Attempt<H::Error> {
        let ctx = Arc::clone(&self.ctx);
        let task =
            tokio::spawn(async move { ctx.handler.handle_accepted(event, accepted_at).await });
        match task.await {
            Ok(Ok(())) => Attempt::Ok,
            Ok(Err(error)) => Attempt::Failed(error),
            Err(_) => Attempt::Panicked,
        }
    }

    /// Handles one entry to its end (see the [module docs](super)).
    async fn entry(&mut self, job: &Job) -> Outcome {
        let (id, decoded) = (job.id.as_str(), &job.decoded);
        let kind = decoded.event.kind().as_str();
        let dedup = self
            .ctx
            .config()
            .dedup_key(decoded.event.dedup_key().as_str());
        let ctx = Arc::clone(&self.ctx);
        let counters = ctx.counters();
        let mut attempts = 0u32;
        let mut waits = 0u32;
        // A live claim is never taken over at once, also not for a reclaimed entry: its
        // handler may be alive (cut off from Redis, its lease lost) and about to mark it
        // done. A dead handler's claim expires by itself (`claim_ttl_ms`, twice the
        // reclaim idle time, counted from when it was taken).
        let mut takeover = false;
        loop {
            if waits > 0 && sleep_or_stop(&mut self.stop, backoff(waits)).await {
                return Outcome::Left;
            }
            waits += 1;
            match self.claim(&dedup, takeover).await {
                Err(error) => {
                    tracing::warn!(reason = redis_reason(&error), "dedup claim failed");
                    continue;
                }
                Ok(0) => {
                    Counters::add(&counters.duplicates, 1);
                    return self.finish(id, None).await;
                }
                Ok(1) => {}
                Ok(_) => {
                    // Another worker holds a claim: wait for it to finish, or for the claim
                    // to outlive any handling (its owner died), then take it over.
                    if u128::from(waits) * FIRST_BACKOFF.as_millis()
                        > u128::from(self.ctx.claim_ttl_ms)
                    {
                        takeover = true;
                    }
                    continue;
                }
            }
            takeover = true;
            let (retry, reason) = match self
                .attempt(decoded.event.clone(), decoded.accepted_at)
                .await
            {
                Attempt::Ok => {
                    Counters::add(&counters.handled, 1);
                    return self.finish(id, Some(&dedup)).await;
                }
                Attempt::Failed(error) => {
                    let retry = self.ctx.handler.retry(&error);
                    tracing::warn!(kind, %error, ?retry, "stream handler failed");
                    (retry, error.to_string())
                }
                Attempt::Panicked => {
                    tracing::error!(kind, "stream handler panicked");
                    (Retry::Budgeted, "handler panicked".to_owned())
                }
            };
            match retry {
                Retry::Unbounded => {
                    let _ = self.unclaim(&dedup).await;
                    Counters::add(&counters.retries, 1);
                }
                Retry::Budgeted => {
                    let _ = self.unclaim(&dedup).await;
                    attempts += 1;
                    if attempts >= self.ctx.config().max_deliveries {
                        tracing::error!(kind, attempts, "giving up on an event: dead-lettered");
                        let _ = self.dead_letter(id, &job.fields, &reason).await;
                        let _ = self.mark_done(&dedup).await;
                        Counters::add(&counters.dead, 1);
                        return Outcome::Acked;
                    }
                    Counters::add(&counters.retries, 1);
                }
                // `Never`, and whatever else a later version adds: not retried.
                _ => {
                    Counters::add(&counters.failed, 1);
                    return self.finish(id, Some(&dedup)).await;
                }
            }
        }
    }

    async fn claim(&mut self, dedup: &str, takeover: bool) -> Result<i64, RedisError> {
        let ttl = self.ctx.claim_ttl_ms.to_string();
        let mut invocation = self.ctx.scripts.claim.prepare_invoke();
        invocation
            .key(dedup)
            .arg(ttl)
            .arg(if takeover { "1" } else { "0" });
        invoke(&self.conn, self.ctx.config().command_timeout, &invocation).await
    }

    async fn unclaim(&mut self, dedup: &str) -> Result<(), RedisError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(dedup);
        self.query::<i64>(&cmd).await.map(drop)
    }

    async fn mark_done(&mut self, dedup: &str) -> Result<(), RedisError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(dedup).arg("2").arg("PX").arg(self.ctx.done_ttl_ms);
        self.query::<()>(&cmd).await
    }

    async fn ack(&mut self, id: &str) -> Result<(), RedisError> {
        let mut cmd = redis::cmd("XACK");
        cmd.arg(&self.key).arg(&self.ctx.config().group).arg(id);
        self.query::<i64>(&cmd).await.map(drop)
    }

    async fn pipeline(&self, pipe: &redis::Pipeline) -> Result<(), RedisError> {
        self.conn
            .run(self.ctx.config().command_timeout, |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await
    }

    /// Marks the event done (if `dedup`) and acknowledges the entry, in one transaction;
    /// retried until it works. A stop (shutdown, or the shard lease lost — which a worker
    /// notices when Redis answers again after an outage longer than the lease) does not
    /// abandon it at once: the handler acted already, and an entry left without its done
    /// mark is handled a second time by the shard's next owner. Once stopping, it retries
    /// every [`FINISH_RETRY`] for up to [`FINISH_GRACE`], then leaves the entry pending.
    async fn finish(&mut self, id: &str, dedup: Option<&str>) -> Outcome {
        let mut failures = 0u32;
        let mut stopping_since: Option<Instant> = None;
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(dedup) = dedup {
            pipe.cmd("SET")
                .arg(dedup)
                .arg("2")
                .arg("PX")
                .arg(self.ctx.done_ttl_ms)
                .ignore();
        }
        pipe.cmd("XACK")
            .arg(&self.key)
            .arg(&self.ctx.config().group)
            .arg(id)
            .ignore();
        loop {
            match self.pipeline(&pipe).await {
                Ok(()) => return Outcome::Acked,
                Err(error) => {
                    failures += 1;
                    if let Some(since) = stopping_since {
                        if since.elapsed() >= FINISH_GRACE {
                            tracing::warn!(
                                reason = redis_reason(&error),
                                "ack failed while stopping: the entry stays pending for reclaim"
                            );
                            return Outcome::Left;
                        }
                        tokio::time::sleep(FINISH_RETRY).await;
                        continue;
                    }
                    tracing::warn!(reason = redis_reason(&error), "ack failed; retrying");
                    if sleep_or_stop(&mut self.stop, backoff(failures)).await {
                        stopping_since = Some(Instant::now());
                    }
                }
            }
        }
    }

    async fn dead_letter(
        &mut self,
        id: &str,
        fields: &HashMap<String, String>,
        reason: &str,
    ) -> Result<(), RedisError> {
        let config = self.ctx.config();
        let mut pipe = redis::pipe();
        pipe.atomic();
        let add = pipe
            .cmd("XADD")
            .arg(config.dead_letter_key())
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_LETTER_MAX_LEN)
            .arg("*")
            .arg("shard")
            .arg(self.shard)
            .arg("id")
            .arg(id)
            .arg("reason")
            .arg(reason);
        for (name, value) in fields {
            add.arg(name).arg(value);
        }
        add.ignore();
        pipe.cmd("XACK")
            .arg(&self.key)
            .arg(&config.group)
            .arg(id)
            .ignore();
        self.pipeline(&pipe).await
    }

    async fn trim(&mut self, last: &str) {
        let mut invocation = self.ctx.scripts.trim.prepare_invoke();
        invocation
            .key(&self.key)
            .arg(&self.ctx.config().group)
            .arg(last);
        let result: Result<i64, _> =
            invoke(&self.conn, self.ctx.config().command_timeout, &invocation).await;
        if let Err(error) = result {
            tracing::debug!(
                reason = redis_reason(&error),
                "trim failed (retried next batch)"
            );
        }
    }
}

/// The text of a string-ish value.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses an `XREADGROUP` reply (RESP2 arrays or RESP3 maps) for one stream.
fn parse_read(reply: Value) -> Vec<Entry> {
    let streams: Vec<Value> = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs.into_iter().map(|(_, entries)| entries).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for entries in streams {
        let Value::Array(entries) = entries else {
            continue;
        };
        for entry in entries {
            let Value::Array(parts) = entry else { continue };
            let Some(id) = parts.first().and_then(text) else {
                continue;
            };
            let fields = match parts.get(1) {
                Some(Value::Array(kv)) => Some(
                    kv.chunks(2)
                        .filter_map(|pair| match pair {
                            [k, v] => Some((text(k)?, text(v)?)),
                            _ => None,
                        })
                        .collect(),
                ),
                Some(Value::Map(kv)) => Some(
                    kv.iter()
                        .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
                        .collect(),
                ),
                _ => None,
            };
            out.push(Entry { id, fields });
        }
    }
    out
}
