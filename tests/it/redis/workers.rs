//! The worker side: consumer groups, shard leases, reclaim of a dead worker's entries, the
//! retry budget and dead letters, per-conversation order across workers, drain on
//! shutdown, and dedup of redeliveries.

use std::collections::HashMap;
use std::time::Duration;

use meta_webhooks::sink::{Batch, Retry, Sink};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};

use super::{ACCOUNT, Recorder, RedisServer, builder, connect, eventually, now_ms, redis_conn};

const WAIT: Duration = Duration::from_secs(20);

/// One Instagram text from `sender`, as the batch a sink accepts.
fn text(
    body: impl Into<String>,
    sender: impl Into<String>,
    mid: impl Into<String>,
    timestamp_ms: u64,
) -> Batch {
    DeliveryBuilder::instagram()
        .messaging(
            MessagingItem::text(body)
                .sender(sender)
                .mid(mid)
                .timestamp_ms(timestamp_ms),
        )
        .batch()
        .unwrap()
}

async fn pending(conn: &mut redis::aio::MultiplexedConnection, key: &str, group: &str) -> i64 {
    let summary: redis::Value = redis::cmd("XPENDING")
        .arg(key)
        .arg(group)
        .query_async(conn)
        .await
        .unwrap();
    let redis::Value::Array(parts) = summary else {
        panic!("{summary:?}")
    };
    match parts[0] {
        redis::Value::Int(n) => n,
        ref other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_shards_and_keep_each_conversation_in_order() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let receiver = connect(&redis).await;
    let (one, two) = (Recorder::default(), Recorder::default());
    let w1 = connect(&redis)
        .await
        .start_workers(one.clone())
        .await
        .unwrap();
    let w2 = connect(&redis)
        .await
        .start_workers(two.clone())
        .await
        .unwrap();
    let sink = receiver.sink();

    // 8 conversations × 6 messages, as 2-item deliveries interleaving two people.
    let base = now_ms();
    for round in 0..6u64 {
        for pair in 0..4 {
            let (a, b) = (format!("u{}", pair * 2), format!("u{}", pair * 2 + 1));
            let delivery = DeliveryBuilder::instagram()
                .messaging(
                    MessagingItem::text(format!("{a} says {round}"))
                        .sender(&a)
                        .mid(format!("m-{a}-{round}"))
                        .timestamp_ms(base + round),
                )
                .messaging(
                    MessagingItem::text(format!("{b} says {round}"))
                        .sender(&b)
                        .mid(format!("m-{b}-{round}"))
                        .timestamp_ms(base + round),
                );
            sink.accept(delivery.batch().unwrap()).await.unwrap();
        }
    }
    assert_eq!(receiver.stats().enqueued, 48);
    assert!(
        eventually(WAIT, || async { one.handled() + two.handled() == 48 }).await,
        "handled {} + {}",
        one.handled(),
        two.handled()
    );
    for n in 0..8 {
        let user = format!("u{n}");
        let expected: Vec<String> = (0..6).map(|r| format!("{user} says {r}")).collect();
        let (a, b) = (one.texts(&user), two.texts(&user));
        // One conversation may move between workers when shards are rebalanced, but it
        // is never handled by both at once, and its order holds across them.
        let mut merged = a.clone();
        merged.extend(b.clone());
        merged.sort_by_key(|t| t.rsplit(' ').next().unwrap().parse::<u32>().unwrap());
        assert_eq!(merged, expected, "{user}");
        if b.is_empty() {
            assert_eq!(a, expected, "{user}");
        } else if a.is_empty() {
            assert_eq!(b, expected, "{user}");
        }
    }

    // The two workers end up with two shards each.
    let config = receiver.config().clone();
    let leases: Vec<String> = (0..4).map(|s| config.lease_key(s)).collect();
    let mut conn = redis_conn(&redis).await;
    let (n1, n2) = (w1.consumer().to_owned(), w2.consumer().to_owned());
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let leases = leases.clone();
            let (n1, n2) = (n1.clone(), n2.clone());
            async move {
                let owners: Vec<Option<String>> = redis::cmd("MGET")
                    .arg(leases)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                let by = |n: &str| owners.iter().filter(|o| o.as_deref() == Some(n)).count();
                by(&n1) == 2 && by(&n2) == 2
            }
        })
        .await,
        "leases not balanced"
    );
    for shard in 0..4 {
        assert_eq!(
            pending(&mut conn, &config.stream_key(shard), &config.group).await,
            0
        );
    }

    // Graceful shutdown gives the leases back and leaves the registry.
    assert!(w1.shutdown(Duration::from_secs(10)).await);
    assert!(w2.shutdown(Duration::from_secs(10)).await);
    let held: u64 = redis::cmd("EXISTS")
        .arg(&leases)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(held, 0);
    let workers: u64 = redis::cmd("ZCARD")
        .arg(config.workers_key())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(workers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_entries_are_reclaimed_and_handled_once_in_order() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let receiver = builder(&redis).shards(1).connect().await.unwrap();
    let config = receiver.config().clone();
    let base = now_ms();
    for i in 0..3 {
        let delivery = DeliveryBuilder::instagram().messaging(
            MessagingItem::text(format!("msg {i}"))
                .sender("ghosted")
                .mid(format!("g{i}"))
                .timestamp_ms(base + i),
        );
        receiver
            .sink()
            .accept(delivery.batch().unwrap())
            .await
            .unwrap();
    }
    // A worker read them, holds the shard's lease and dies without acknowledging.
    let mut conn = redis_conn(&redis).await;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(config.stream_key(0))
        .arg(&config.group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&config.group)
        .arg("ghost")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(config.stream_key(0))
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(config.lease_key(0))
        .arg("ghost")
        .arg("PX")
        .arg(600)
        .query_async(&mut conn)
        .await
        .unwrap();

    let recorder = Recorder::default();
    let streams = builder(&redis).shards(1).connect().await.unwrap();
    let workers = streams.start_workers(recorder.clone()).await.unwrap();
    assert!(eventually(WAIT, || async { recorder.handled() == 3 }).await);
    assert_eq!(recorder.texts("ghosted"), vec!["msg 0", "msg 1", "msg 2"]);
    assert_eq!(streams.stats().reclaimed, 3);
    assert_eq!(streams.stats().handled, 3);
    assert!(workers.shutdown(Duration::from_secs(10)).await);
    // Handled once: every attempt succeeded, nothing is left pending.
    for i in 0..3 {
        assert_eq!(recorder.attempts(&format!("msg {i}")), 1);
    }
    assert_eq!(
        pending(&mut conn, &config.stream_key(0), &config.group).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_budget_ends_in_the_dead_letter_stream_and_unbounded_retries_do_not_spend_it() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let recorder = Recorder::failing(&[
        ("doomed", u32::MAX, Retry::Budgeted),
        ("store down", 5, Retry::Unbounded),
        ("rejected", u32::MAX, Retry::Never),
    ]);
    let streams = builder(&redis)
        .shards(1)
        .max_deliveries(3)
        .connect()
        .await
        .unwrap();
    let config = streams.config().clone();
    let base = now_ms();
    for (i, body) in ["doomed", "store down", "rejected", "fine"]
        .iter()
        .enumerate()
    {
        let user = format!("p{i}");
        streams
            .sink()
            .accept(text(*body, &user, format!("d{i}"), base + i as u64))
            .await
            .unwrap();
    }
    let workers = streams.start_workers(recorder.clone()).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            let s = streams.stats();
            s.dead == 1 && s.handled == 2 && s.failed == 1
        })
        .await,
        "{:?}",
        streams.stats()
    );
    assert_eq!(recorder.attempts("doomed"), 3, "the budget");
    assert_eq!(
        recorder.attempts("store down"),
        6,
        "five failures, then handled"
    );
    assert_eq!(recorder.attempts("rejected"), 1, "never retried");
    assert_eq!(recorder.texts("p1"), vec!["store down"]);
    assert_eq!(recorder.texts("p3"), vec!["fine"]);
    assert_eq!(streams.stats().retries, 2 + 5);

    let mut conn = redis_conn(&redis).await;
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(config.dead_letter_key())
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let fields: HashMap<_, _> = dead[0].1.iter().cloned().collect();
    assert!(fields["r"].contains("doomed"), "{fields:?}");
    assert!(fields["reason"].contains("test failure"), "{fields:?}");
    assert_eq!(
        pending(&mut conn, &config.stream_key(0), &config.group).await,
        0
    );
    assert!(workers.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_entry_is_dead_lettered_and_its_neighbours_are_handled() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let streams = builder(&redis).shards(1).connect().await.unwrap();
    let config = streams.config().clone();
    let mut conn = redis_conn(&redis).await;
    streams
        .sink()
        .accept(text("before", "n", "n1", now_ms()))
        .await
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(config.stream_key(0))
        .arg("*")
        .arg("o")
        .arg("instagram")
        .arg("r")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    streams
        .sink()
        .accept(text("after", "n", "n2", now_ms() + 1))
        .await
        .unwrap();
    let recorder = Recorder::default();
    let workers = streams.start_workers(recorder.clone()).await.unwrap();
    assert!(eventually(WAIT, || async { recorder.handled() == 2 }).await);
    assert_eq!(recorder.texts("n"), vec!["before", "after"]);
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(config.dead_letter_key())
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let fields: HashMap<_, _> = dead[0].1.iter().cloned().collect();
    assert_eq!(fields["r"], "{not json");
    assert!(fields["reason"].contains("missing field"), "{fields:?}");
    assert!(workers.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_through_two_receivers_is_handled_once() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let (r1, r2) = (connect(&redis).await, connect(&redis).await);
    let delivery = DeliveryBuilder::instagram().messaging(
        MessagingItem::text("hello there")
            .sender("dup")
            .mid("m-dup")
            .timestamp_ms(now_ms()),
    );
    for _ in 0..3 {
        r1.sink().accept(delivery.batch().unwrap()).await.unwrap();
        r2.sink().accept(delivery.batch().unwrap()).await.unwrap();
    }
    let recorder = Recorder::default();
    let streams = connect(&redis).await;
    let workers = streams.start_workers(recorder.clone()).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            let s = streams.stats();
            s.handled == 1 && s.duplicates == 5
        })
        .await,
        "{:?}",
        streams.stats()
    );
    assert_eq!(recorder.texts("dup"), vec!["hello there"]);
    assert!(workers.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_what_is_being_handled_and_leaves_the_rest_for_the_next_worker() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let streams = builder(&redis).shards(1).batch(4).connect().await.unwrap();
    let config = streams.config().clone();
    let base = now_ms();
    for i in 0..12u64 {
        streams
            .sink()
            .accept(text(format!("slow {i}"), "slow", format!("s{i}"), base + i))
            .await
            .unwrap();
    }
    let slow = Recorder {
        delay: Duration::from_millis(100),
        ..Recorder::default()
    };
    let workers = streams.start_workers(slow.clone()).await.unwrap();
    assert!(eventually(WAIT, || async { slow.attempts("slow 0") == 1 }).await);
    assert!(workers.shutdown(Duration::from_secs(20)).await);
    // Everything it had started is finished and acknowledged; nothing is left pending…
    let first = slow.texts("slow");
    assert!(!first.is_empty());
    let mut conn = redis_conn(&redis).await;
    assert_eq!(
        pending(&mut conn, &config.stream_key(0), &config.group).await,
        0
    );
    let lease: Option<String> = redis::cmd("GET")
        .arg(config.lease_key(0))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(lease, None, "the lease went back");

    // …and the next worker handles the rest, in order, none twice.
    let next = Recorder::default();
    let workers = connect(&redis)
        .await
        .start_workers(next.clone())
        .await
        .unwrap();
    assert!(eventually(WAIT, || async { first.len() + next.handled() == 12 }).await);
    let mut all = first.clone();
    all.extend(next.texts("slow"));
    let expected: Vec<String> = (0..12).map(|i| format!("slow {i}")).collect();
    assert_eq!(all, expected);
    assert!(workers.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_carry_on_after_a_redis_restart() {
    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let streams = connect(&redis).await;
    let recorder = Recorder::default();
    let workers = streams.start_workers(recorder.clone()).await.unwrap();
    let sink = streams.sink();
    sink.accept(text("first", "a", "a1", now_ms()))
        .await
        .unwrap();
    assert!(eventually(WAIT, || async { recorder.handled() == 1 }).await);
    // Without persistence the restarted server has no streams or groups: the workers
    // recreate them and handle what arrives next.
    redis.restart().expect("redis-server restarts");
    sink.accept(text("second", "a", "a2", now_ms()))
        .await
        .unwrap();
    assert!(
        eventually(WAIT, || async { recorder.handled() == 2 }).await,
        "{:?}",
        streams.stats()
    );
    assert_eq!(recorder.texts("a"), vec!["first", "second"]);
    assert!(workers.shutdown(Duration::from_secs(10)).await);
    let _ = ACCOUNT;
}
