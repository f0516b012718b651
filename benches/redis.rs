//! Accepted deliveries per second of the Redis Streams sink beside a bare `XADD` pipeline
//! of the same bytes, against a local `redis-server`, in the same run.
//!
//! Run with: `cargo bench --bench redis --features redis,test-util`
//!
//! - `sink`: `StreamSink::accept` of pre-built batches (one text event per delivery, the
//!   common case: the classification, the entry encoding, the atomic Lua call with its
//!   shard-length check, the acknowledgement).
//! - then `MAX_BATCH` (1000) events in one delivery, alone: the time until it is
//!   acknowledged, against the default acknowledgement timeout of 200 ms.
//! - `bare`: one `XADD` per event with exactly the field values the sink stored (read back
//!   from Redis after a warm-up), to the same shard streams, no check, no script.
//!
//! Both run `CONCURRENCY` callers over one multiplexed connection (so Redis sees
//! pipelined commands either way), in alternating rounds of `DELIVERIES` each; the
//! streams are deleted between rounds. The ratio `sink / bare` is reported per pair, with
//! min / median / max. Set `REDIS_BENCH_ROUNDS` and `REDIS_BENCH_DELIVERIES` to change
//! the size. `redis-server` must be installed (`REDIS_SERVER_BIN` to point at one).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark harness"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use meta_webhooks::redis::Streams;
use meta_webhooks::sink::{Batch, Sink};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, RedisServer};

const ACCOUNT: &str = "17841400000000000";
const CONCURRENCY: usize = 64;
const SHARDS: u16 = 16;
/// Events in the largest delivery Meta sends.
const MAX_BATCH: usize = 1000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One text message from sender `i`, as the endpoint hands it to the sink (verified and
/// parsed).
fn batch(i: usize) -> Batch {
    DeliveryBuilder::instagram()
        .account(ACCOUNT)
        .at_millis(1_700_000_000_000)
        .messaging(
            MessagingItem::text("Hi! Do you ship to Germany, and how much would it cost?")
                .sender(format!("69345812077{i:05}"))
                .mid(format!(
                    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA{i:08}"
                ))
                .timestamp_ms(1_700_000_000_000 + i as u64),
        )
        .batch()
        .unwrap()
}

/// One delivery of `MAX_BATCH` text messages (Meta's largest), each from its own sender.
fn big_batch(tag: usize) -> Batch {
    (0..MAX_BATCH)
        .fold(
            DeliveryBuilder::instagram()
                .account(ACCOUNT)
                .at_millis(1_700_000_000_000),
            |delivery, i| {
                delivery.messaging(
                    MessagingItem::text("Hi! Do you ship to Germany, and how much would it cost?")
                        .sender(format!("69345812{tag:03}{i:05}"))
                        .mid(format!(
                            "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3{tag:03}{i:08}"
                        ))
                        .timestamp_ms(1_700_000_000_000 + i as u64),
                )
            },
        )
        .batch()
        .unwrap()
}

/// CPU time (user + system) of process `pid` (`self` for this one), from `/proc`; zero
/// where that is not available.
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the 14th field.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // USER_HZ is 100 on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Runs `work(i)` for `0..n` on `CONCURRENCY` tasks; returns the wall time.
async fn run<F, Fut>(n: usize, work: Arc<F>) -> Duration
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let work = Arc::clone(&work);
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while i < n {
                work(i).await;
                i += CONCURRENCY;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

/// Redis' own count of calls and time in µs (`INFO commandstats`) of `command` since the
/// last `CONFIG RESETSTAT`: the server-side cost, which contention on the client side does
/// not blur. Commands a script runs count too (its `XADD`s under `xadd`).
async fn server_stats(conn: &mut redis::aio::MultiplexedConnection, command: &str) -> (f64, f64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    let prefix = format!("cmdstat_{command}:");
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or("");
    let field = |name: &str| {
        line.split(',')
            .find_map(|kv| kv.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (field("calls="), field("usec="))
}

async fn reset_stats(conn: &mut redis::aio::MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(conn)
        .await
        .unwrap();
}

async fn clear(conn: &mut redis::aio::MultiplexedConnection, streams: &Streams) {
    let keys: Vec<String> = (0..SHARDS)
        .map(|s| streams.config().stream_key(s))
        .collect();
    let _: i64 = redis::cmd("DEL").arg(keys).query_async(conn).await.unwrap();
}

fn main() {
    let rounds = env_usize("REDIS_BENCH_ROUNDS", 5);
    let n = env_usize("REDIS_BENCH_DELIVERIES", 20_000);
    let redis = RedisServer::start().expect("redis-server must be installed");
    let server_pid = redis.pid().unwrap().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let streams = Streams::builder(redis.url())
            .shards(SHARDS)
            .max_len(10_000_000)
            .ack_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        let sink = streams.sink();
        let client = redis::Client::open(redis.url()).unwrap();
        let mut admin = client.get_multiplexed_async_connection().await.unwrap();

        // Warm-up: the sink stores one entry per delivery; read the exact fields back.
        let batches: Vec<Batch> = (0..n).map(batch).collect();
        for b in batches {
            sink.accept(b).await.unwrap();
        }
        let mut bare_args: Vec<(String, Vec<(String, String)>)> = Vec::with_capacity(n);
        for shard in 0..SHARDS {
            let key = streams.config().stream_key(shard);
            let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
                .arg(&key)
                .arg("-")
                .arg("+")
                .query_async(&mut admin)
                .await
                .unwrap();
            for (_, fields) in entries {
                bare_args.push((key.clone(), fields));
            }
        }
        assert_eq!(bare_args.len(), n);
        let bare_args = Arc::new(bare_args);
        clear(&mut admin, &streams).await;

        let bare_conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut ratios = Vec::new();
        println!("redis sink vs bare XADD: {n} deliveries per round, {CONCURRENCY} in flight");
        for round in 0..rounds {
            // Batches are consumed by `accept`: build them outside the timed part.
            let batches: Arc<Vec<std::sync::Mutex<Option<Batch>>>> = Arc::new(
                (0..n)
                    .map(|i| std::sync::Mutex::new(Some(batch(i))))
                    .collect(),
            );
            reset_stats(&mut admin).await;
            let cpu = (cpu_time("self"), cpu_time(&server_pid));
            let sink_time = {
                let sink = sink.clone();
                let batches = Arc::clone(&batches);
                run(
                    n,
                    Arc::new(move |i: usize| {
                        let sink = sink.clone();
                        let b = batches[i].lock().unwrap().take().unwrap();
                        async move { sink.accept(b).await.unwrap() }
                    }),
                )
                .await
            };
            let sink_cpu = (cpu_time("self") - cpu.0, cpu_time(&server_pid) - cpu.1);
            let (script_calls, script_usec) = server_stats(&mut admin, "evalsha").await;
            let (_, inner_xadd_usec) = server_stats(&mut admin, "xadd").await;
            clear(&mut admin, &streams).await;
            reset_stats(&mut admin).await;
            let cpu = (cpu_time("self"), cpu_time(&server_pid));
            let bare_time = {
                let args = Arc::clone(&bare_args);
                let conn = bare_conn.clone();
                run(
                    n,
                    Arc::new(move |i: usize| {
                        let mut conn = conn.clone();
                        let args = Arc::clone(&args);
                        async move {
                            let (key, fields) = &args[i];
                            let mut cmd = redis::cmd("XADD");
                            cmd.arg(key).arg("*");
                            for (k, v) in fields {
                                cmd.arg(k).arg(v);
                            }
                            let _: String = cmd.query_async(&mut conn).await.unwrap();
                        }
                    }),
                )
                .await
            };
            let bare_cpu = (cpu_time("self") - cpu.0, cpu_time(&server_pid) - cpu.1);
            let (_, bare_usec) = server_stats(&mut admin, "xadd").await;
            clear(&mut admin, &streams).await;
            let sink_rate = n as f64 / sink_time.as_secs_f64();
            let bare_rate = n as f64 / bare_time.as_secs_f64();
            let ratio = sink_rate / bare_rate;
            ratios.push(ratio);
            let n_f = n as f64;
            println!(
                "round {round}: sink {sink_rate:>8.0}/s   bare XADD {bare_rate:>8.0}/s   ratio {ratio:.2}"
            );
            println!(
                "         server µs per delivery in commands: sink script {:.2} (of which its \
                 XADDs {:.2}; {:.1} deliveries per call), bare XADD {:.2}",
                script_usec / n_f,
                inner_xadd_usec / n_f,
                n_f / script_calls.max(1.0),
                bare_usec / n_f
            );
            let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
            println!(
                "         CPU µs per delivery: sink client {:.1} + server {:.1}, \
                 bare client {:.1} + server {:.1}",
                per(sink_cpu.0),
                per(sink_cpu.1),
                per(bare_cpu.0),
                per(bare_cpu.1)
            );
        }
        ratios.sort_by(f64::total_cmp);
        if let (Some(min), Some(max)) = (ratios.first(), ratios.last()) {
            let median = ratios[ratios.len() / 2];
            println!("ratio sink / bare XADD: min {min:.2}  median {median:.2}  max {max:.2}");
        }

        // The largest delivery, alone: how long until it is acknowledged.
        let mut waits = Vec::new();
        for tag in 0..rounds {
            let big = big_batch(tag);
            let started = Instant::now();
            sink.accept(big).await.unwrap();
            waits.push(started.elapsed());
            clear(&mut admin, &streams).await;
        }
        waits.sort();
        if let (Some(min), Some(max)) = (waits.first(), waits.last()) {
            println!(
                "{MAX_BATCH}-event delivery acknowledged in: min {min:.1?}  median {:.1?}  max {max:.1?}",
                waits[waits.len() / 2]
            );
        }
        let stats = streams.stats();
        assert_eq!(stats.full + stats.unavailable + stats.timed_out, 0);
    });
}
