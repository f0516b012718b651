//! The receiver side: `Ok` (200) only once Redis stored the events, 503 when it cannot,
//! and recovery by itself after Redis restarts.

use std::time::Duration;

use meta_webhooks::sink::{Sink, SinkError};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};

use super::{RedisServer, builder, connect, now_ms, redis_conn};

async fn xlen(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> u64 {
    redis::cmd("XLEN").arg(key).query_async(conn).await.unwrap()
}

async fn total_len(redis: &RedisServer, streams: &meta_webhooks::redis::Streams) -> u64 {
    let mut conn = redis_conn(redis).await;
    let mut total = 0;
    for shard in 0..streams.config().shards {
        total += xlen(&mut conn, &streams.config().stream_key(shard)).await;
    }
    total
}

#[tokio::test]
async fn ok_only_once_every_event_is_in_its_shard_stream() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let streams = connect(&redis).await;
    let sink = streams.sink();
    let ts = now_ms();
    let delivery = DeliveryBuilder::instagram()
        .messaging(
            MessagingItem::text("one")
                .sender("u1")
                .mid("m1")
                .timestamp_ms(ts),
        )
        .messaging(
            MessagingItem::text("two")
                .sender("u2")
                .mid("m2")
                .timestamp_ms(ts),
        )
        .messaging(
            MessagingItem::text("three")
                .sender("u1")
                .mid("m3")
                .timestamp_ms(ts + 1),
        );
    sink.accept(delivery.batch().unwrap()).await.unwrap();
    // When `accept` returned, all three are stored, each in its conversation's shard.
    assert_eq!(total_len(&redis, &streams).await, 3);
    let mut conn = redis_conn(&redis).await;
    let shard = streams.config().shard_of(&format!("{}:u1", super::ACCOUNT));
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(streams.config().stream_key(shard))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let u1: Vec<String> = entries
        .iter()
        .filter_map(|(_, fields)| {
            let raw = &fields.iter().find(|(k, _)| k == "r")?.1;
            raw.contains("\"u1\"").then(|| raw.clone())
        })
        .collect();
    assert_eq!(u1.len(), 2, "{entries:?}");
    assert!(u1[0].contains("one") && u1[1].contains("three"));
    assert_eq!(streams.stats().enqueued, 3);

    // A delivery without events stores nothing and is fine.
    sink.accept(DeliveryBuilder::instagram().batch().unwrap())
        .await
        .unwrap();
    assert_eq!(total_len(&redis, &streams).await, 3);
}

#[tokio::test]
async fn a_full_shard_or_a_stopped_redis_is_503_and_stores_nothing() {
    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let streams = builder(&redis)
        .shards(1)
        .max_len(2)
        .connect()
        .await
        .unwrap();
    let sink = streams.sink();
    for i in 0..2 {
        let delivery = DeliveryBuilder::instagram().messaging(
            MessagingItem::text("x")
                .sender("full")
                .mid(format!("f{i}"))
                .timestamp_ms(now_ms()),
        );
        sink.accept(delivery.batch().unwrap()).await.unwrap();
    }
    // A delivery of two events where the shard has room for none: all or nothing.
    let delivery = DeliveryBuilder::instagram()
        .messaging(
            MessagingItem::text("x")
                .sender("full")
                .mid("f2")
                .timestamp_ms(now_ms()),
        )
        .messaging(
            MessagingItem::text("y")
                .sender("full")
                .mid("f3")
                .timestamp_ms(now_ms()),
        );
    let error = sink.accept(delivery.batch().unwrap()).await.unwrap_err();
    assert!(matches!(error, SinkError::Full), "{error:?}");
    assert_eq!(error.status().as_u16(), 503);
    assert_eq!(
        total_len(&redis, &streams).await,
        2,
        "a refused delivery adds nothing"
    );
    assert_eq!(streams.stats().full, 1);

    redis.stop();
    let error = sink.accept(delivery.batch().unwrap()).await.unwrap_err();
    assert_eq!(error.status().as_u16(), 503);
    assert!(streams.health().await.is_err());
    assert_eq!(streams.stats().enqueued, 2);
    assert!(streams.stats().unavailable + streams.stats().timed_out >= 1);
}

#[tokio::test]
async fn the_first_delivery_and_health_check_after_a_restart_succeed() {
    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let streams = connect(&redis).await;
    let sink = streams.sink();
    let health = connect(&redis).await;
    sink.accept(
        DeliveryBuilder::instagram()
            .messaging(
                MessagingItem::text("before")
                    .sender("r")
                    .mid("r1")
                    .timestamp_ms(now_ms()),
            )
            .batch()
            .unwrap(),
    )
    .await
    .unwrap();
    health.health().await.unwrap();

    // Redis restarts while nothing talks to it: the connections are dead, unnoticed.
    redis.restart().expect("redis-server restarts");
    health.health().await.unwrap();
    sink.accept(
        DeliveryBuilder::instagram()
            .messaging(
                MessagingItem::text("after")
                    .sender("r")
                    .mid("r2")
                    .timestamp_ms(now_ms()),
            )
            .batch()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        total_len(&redis, &streams).await,
        1,
        "the new server holds the new entry"
    );

    // Redis is down for a while and calls fail meanwhile…
    redis.stop();
    for i in 0..3 {
        let delivery = DeliveryBuilder::instagram().messaging(
            MessagingItem::text("down")
                .sender("r")
                .mid(format!("d{i}"))
                .timestamp_ms(now_ms()),
        );
        assert!(sink.accept(delivery.batch().unwrap()).await.is_err());
        assert!(health.health().await.is_err());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …then the very next ones once it is back succeed.
    redis.restart().expect("redis-server restarts");
    health.health().await.unwrap();
    streams.health().await.unwrap();
    sink.accept(
        DeliveryBuilder::instagram()
            .messaging(
                MessagingItem::text("back")
                    .sender("r")
                    .mid("r3")
                    .timestamp_ms(now_ms()),
            )
            .batch()
            .unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_bad_url_or_an_unreachable_server_fail_to_connect_without_the_url() {
    use meta_webhooks::redis::{StreamErrorKind, Streams};
    let error = Streams::builder("http://user:hunter2@localhost/")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StreamErrorKind::Config);
    assert!(!error.to_string().contains("hunter2"));

    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let url = redis.url().replace("127.0.0.1", ":hunter2@127.0.0.1");
    redis.stop();
    let error = Streams::builder(url).connect().await.unwrap_err();
    assert!(
        matches!(
            error.kind(),
            StreamErrorKind::Unavailable | StreamErrorKind::Timeout
        ),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_are_each_stored_whole_or_refused_whole() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let streams = builder(&redis)
        .shards(1)
        .max_len(31)
        .connect()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let sink = streams.sink();
        tasks.push(tokio::spawn(async move {
            let delivery = DeliveryBuilder::instagram()
                .messaging(
                    MessagingItem::text("a")
                        .sender("c")
                        .mid(format!("c{i}a"))
                        .timestamp_ms(now_ms()),
                )
                .messaging(
                    MessagingItem::text("b")
                        .sender("c")
                        .mid(format!("c{i}b"))
                        .timestamp_ms(now_ms()),
                );
            sink.accept(delivery.batch().unwrap()).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(error) => assert!(matches!(error, SinkError::Full), "{error:?}"),
        }
    }
    // Shards are checked before each delivery: it is added whole while below the cap.
    assert_eq!(accepted, 16);
    assert_eq!(total_len(&redis, &streams).await, 2 * 16);
    let stats = streams.stats();
    assert_eq!((stats.enqueued, stats.full), (32, 24));
}

#[tokio::test]
async fn a_delivery_of_a_thousand_events_is_stored_whole_or_refused_whole() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    // One shard, capped at one such delivery: the first fills it, the second is refused.
    // The generous timeout keeps a loaded machine from turning this into a timing test;
    // the elapsed time is printed, not asserted.
    let streams = builder(&redis)
        .shards(1)
        .max_len(1000)
        .ack_timeout(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let sink = streams.sink();
    let big = |tag: &str| {
        let ts = now_ms();
        (0..1000)
            .fold(DeliveryBuilder::instagram(), |delivery, i| {
                delivery.messaging(
                    MessagingItem::text("hello")
                        .sender(format!("{tag}{i}"))
                        .mid(format!("{tag}m{i}"))
                        .timestamp_ms(ts),
                )
            })
            .batch()
            .unwrap()
    };
    let started = std::time::Instant::now();
    sink.accept(big("a")).await.unwrap();
    println!("1000-event delivery stored in {:?}", started.elapsed());
    assert_eq!(total_len(&redis, &streams).await, 1000);
    assert_eq!(streams.stats().enqueued, 1000);

    let error = sink.accept(big("b")).await.unwrap_err();
    assert!(matches!(error, SinkError::Full), "{error:?}");
    assert_eq!(
        total_len(&redis, &streams).await,
        1000,
        "a refused delivery adds none of its events"
    );
    let stats = streams.stats();
    assert_eq!((stats.enqueued, stats.full, stats.timed_out), (1000, 1, 0));
}
