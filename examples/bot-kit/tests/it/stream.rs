//! The bot on the library's Redis Streams hand-off against a real `redis-server`:
//! receivers and workers in separate processes' roles, replies in order, the bot's
//! metrics, and recovery after a Redis restart. (The hand-off itself — leases, reclaim,
//! dead letters, backpressure — is tested in the library.)

use std::time::{Duration, Instant, SystemTime};

use bot_harness::RedisServer;
use bot_kit::{Bot, Config, ConversationKey, ConversationStore, Running};
use meta_webhooks::sink::{Batch, Sink};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
use meta_webhooks::{AppSecret, Delivery, Verifier};

const ACCOUNT: &str = "17841400000000000";
const SECRET: &str = "stream-test-secret";

/// A delivery to [`ACCOUNT`], sent now.
fn delivery() -> DeliveryBuilder {
    DeliveryBuilder::instagram()
        .account(ACCOUNT)
        .at(SystemTime::now())
}

/// The text `text` with the message id `mid` from `user`.
fn text(user: &str, mid: &str, text: &str) -> MessagingItem {
    MessagingItem::text(text).sender(user).mid(mid)
}

/// `delivery` as the webhook endpoint hands it to the sink: signed, verified, parsed.
fn batch(delivery: &DeliveryBuilder) -> Batch {
    let request = delivery.signed(SECRET).build().unwrap();
    let verified = Verifier::new(AppSecret::new(SECRET).unwrap())
        .verify_headers(request.body(), request.headers())
        .unwrap();
    let body = request.into_body();
    let parsed = Delivery::from_slice(&body).unwrap();
    Batch::new(body, verified, parsed)
}

async fn start(redis: &RedisServer, role: &str, extra: &[(&str, &str)]) -> (Bot, Running) {
    let url = redis.url();
    let mut vars = vec![
        ("REDIS_URL", url.as_str()),
        ("BOT_ROLE", role),
        ("STREAM_SHARDS", "4"),
        ("STREAM_LEASE_MS", "600"),
        ("STREAM_RECLAIM_IDLE_MS", "300"),
        ("SHUTDOWN_TIMEOUT_SECS", "5"),
    ];
    vars.extend_from_slice(extra);
    let config = Config::from_vars(vars).unwrap();
    let bot = Bot::from_config(&config).await.unwrap();
    let running = bot.start().await.unwrap();
    (bot, running)
}

async fn redis_conn(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The lease keys of shards `0..shards`.
fn lease_keys(shards: usize) -> Vec<String> {
    (0..shards).map(|s| format!("botkit:lease:{s}")).collect()
}

/// Polls `check` every 50 ms until it is true or `within` passed.
async fn wait_for<F: AsyncFnMut() -> bool>(within: Duration, mut check: F) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

fn metric(bot: &Bot, line_prefix: &str) -> u64 {
    bot.metrics()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(line_prefix).map(str::trim))
        .map_or(0, |v| v.parse().unwrap())
}

async fn user_texts(bot: &Bot, user: &str) -> Vec<String> {
    let key = ConversationKey::new(ACCOUNT, user);
    bot.store()
        .load(&key)
        .await
        .unwrap()
        .map(|c| {
            c.history
                .iter()
                .filter(|m| m.role == bot_kit::state::Role::User)
                .map(|m| m.text.clone())
                .collect()
        })
        .unwrap_or_default()
}

async fn bot_replies(bot: &Bot, user: &str) -> usize {
    let key = ConversationKey::new(ACCOUNT, user);
    bot.store().load(&key).await.unwrap().map_or(0, |c| {
        c.history
            .iter()
            .filter(|m| m.role == bot_kit::state::Role::Bot)
            .count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_shards_and_keep_each_conversation_in_order() {
    let redis = RedisServer::start().unwrap();
    let (receiver, r_running) = start(&redis, "receiver", &[]).await;
    let (w1, w1_running) = start(&redis, "worker", &[]).await;
    let (w2, w2_running) = start(&redis, "worker", &[]).await;
    let sink = r_running.sink();

    // 8 conversations × 6 messages, sent as 2-item deliveries interleaving two users.
    for round in 0..6u64 {
        for pair in 0..4 {
            let (a, b) = (format!("u{}", pair * 2), format!("u{}", pair * 2 + 1));
            let body = delivery()
                .messaging(text(
                    &a,
                    &format!("m-{a}-{round}"),
                    &format!("{a} says {round}"),
                ))
                .messaging(text(
                    &b,
                    &format!("m-{b}-{round}"),
                    &format!("{b} says {round}"),
                ));
            sink.accept(batch(&body)).await.unwrap();
        }
    }
    assert_eq!(metric(&receiver, "botkit_stream_enqueued_total"), 48);

    let handled = || {
        metric(&w1, "botkit_stream_handled_total{outcome=\"ok\"}")
            + metric(&w2, "botkit_stream_handled_total{outcome=\"ok\"}")
    };
    assert!(
        wait_for(Duration::from_secs(20), async || handled() == 48).await,
        "handled {}",
        handled()
    );
    for n in 0..8 {
        let user = format!("u{n}");
        let expected: Vec<String> = (0..6).map(|r| format!("{user} says {r}")).collect();
        assert_eq!(user_texts(&receiver, &user).await, expected);
        assert_eq!(bot_replies(&receiver, &user).await, 6, "{user}");
    }
    // The two workers end up with two shards each.
    let mut conn = redis_conn(&redis).await;
    let w1_name = w1_running.workers().unwrap().consumer().to_owned();
    let w2_name = w2_running.workers().unwrap().consumer().to_owned();
    assert!(
        wait_for(Duration::from_secs(5), async || {
            let owners: Vec<Option<String>> = redis::cmd("MGET")
                .arg(lease_keys(4))
                .query_async(&mut conn)
                .await
                .unwrap();
            let by = |n: &str| owners.iter().filter(|o| o.as_deref() == Some(n)).count();
            by(&w1_name) == 2 && by(&w2_name) == 2
        })
        .await,
        "leases not balanced"
    );

    // Nothing is left pending; the reply latency was measured.
    for shard in 0..4 {
        let summary: redis::Value = redis::cmd("XPENDING")
            .arg(format!("botkit:stream:{shard}"))
            .arg("botkit-workers")
            .query_async(&mut conn)
            .await
            .unwrap();
        let redis::Value::Array(parts) = summary else {
            panic!("{summary:?}")
        };
        assert_eq!(parts[0], redis::Value::Int(0), "shard {shard}");
    }
    let count = metric(&w1, "botkit_reply_latency_seconds_count")
        + metric(&w2, "botkit_reply_latency_seconds_count");
    assert_eq!(count, 48);

    // Graceful shutdown gives the leases back and leaves the registry.
    assert!(w1_running.shutdown().await);
    assert!(w2_running.shutdown().await);
    assert!(r_running.shutdown().await);
    let leases: u64 = redis::cmd("EXISTS")
        .arg(lease_keys(4))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(leases, 0);
    let workers: u64 = redis::cmd("ZCARD")
        .arg("botkit:workers")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(workers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_mid_through_two_receivers_is_answered_once() {
    let redis = RedisServer::start().unwrap();
    let (r1, r1_running) = start(&redis, "receiver", &[]).await;
    let (_r2, r2_running) = start(&redis, "receiver", &[]).await;
    let body = delivery().messaging(text("dup", "m-dup", "hello there"));
    for _ in 0..3 {
        r1_running.sink().accept(batch(&body)).await.unwrap();
        r2_running.sink().accept(batch(&body)).await.unwrap();
    }
    let (w, w_running) = start(&redis, "worker", &[]).await;
    assert!(
        wait_for(Duration::from_secs(15), async || {
            metric(&w, "botkit_stream_handled_total{outcome=\"ok\"}") == 1
                && metric(&w, "botkit_stream_handled_total{outcome=\"duplicate\"}") == 5
        })
        .await,
        "{}",
        w.metrics().render()
    );
    assert_eq!(bot_replies(&r1, "dup").await, 1);
    assert_eq!(user_texts(&r1, "dup").await, vec!["hello there"]);
    w_running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_delivery_and_health_check_after_a_redis_restart_succeed() {
    let mut redis = RedisServer::start().unwrap();
    let (bot, running) = start(&redis, "all", &[]).await;
    let sink = running.sink();
    sink.accept(batch(&delivery().messaging(text("rs", "rs1", "before"))))
        .await
        .unwrap();
    assert_eq!(bot.health().await.status, 200);
    assert!(
        wait_for(Duration::from_secs(20), async || {
            metric(&bot, "botkit_stream_handled_total{outcome=\"ok\"}") == 1
        })
        .await
    );

    // Redis restarts (losing its data) while nothing talks to it.
    redis.restart().unwrap();
    assert_eq!(bot.health().await.status, 200, "the first health check");
    sink.accept(batch(&delivery().messaging(text("rs", "rs2", "after"))))
        .await
        .expect("the first delivery after the restart");
    // The workers recreate their group and the bot answers it.
    assert!(
        wait_for(Duration::from_secs(30), async || {
            metric(&bot, "botkit_stream_handled_total{outcome=\"ok\"}") == 2
        })
        .await,
        "{}",
        bot.metrics().render()
    );
    assert!(running.shutdown().await);
}

#[tokio::test]
async fn worker_role_refuses_webhook_deliveries() {
    let redis = RedisServer::start().unwrap();
    let (_w, running) = start(&redis, "worker", &[]).await;
    let body = delivery().messaging(text("x", "x1", "hi"));
    let error = running.sink().accept(batch(&body)).await.unwrap_err();
    assert_eq!(error.status().as_u16(), 503);
    running.shutdown().await;
}
