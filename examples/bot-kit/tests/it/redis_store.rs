//! `RedisStore` against a real `redis-server` on a free loopback port.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bot_harness::RedisServer;
use bot_kit::state::{Backend, ConversationState, StoreErrorKind};
use bot_kit::{
    ConversationKey, ConversationStore, HistoryMessage, RedisStore, ResolveOutcome, Secret, Store,
    StoreOptions,
};
use redis::AsyncCommands;

const ACCOUNT: &str = "17841400000000000";
const USER: &str = "6934581207719432";

fn key() -> ConversationKey {
    ConversationKey::new(ACCOUNT, USER)
}

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

async fn store(server: &RedisServer, options: StoreOptions) -> RedisStore {
    RedisStore::connect(&Secret::new(server.url()), options)
        .await
        .expect("connect to the test redis-server")
}

async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn append_load_handoff_resolve_round_trip() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default()).await;

    assert_eq!(store.load(&key()).await.unwrap(), None);
    assert_eq!(store.last_inbound(&key()).await.unwrap(), None);
    assert_eq!(
        store.resolve(&key()).await.unwrap(),
        ResolveOutcome::NotFound
    );

    let c = store
        .append(
            &key(),
            &[
                HistoryMessage::user(
                    "¿Cuánto cuesta? 👋🏽 \"quoted\" \\ مرحبا",
                    at(1_700_000_000_000),
                ),
                HistoryMessage::bot("Los precios están en la tienda.", at(1_700_000_000_500)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(c.state, ConversationState::Active);
    assert_eq!(c.history.len(), 2);
    assert_eq!(c.history[0].text, "¿Cuánto cuesta? 👋🏽 \"quoted\" \\ مرحبا");
    assert_eq!(c.last_inbound, Some(at(1_700_000_000_000)));
    assert_eq!(store.load(&key()).await.unwrap().unwrap(), c);

    assert!(store.set_handoff(&key(), "human_handoff").await.unwrap());
    assert!(!store.set_handoff(&key(), "gpt").await.unwrap());
    let c = store
        .append(
            &key(),
            &[HistoryMessage::user("hello?", at(1_700_000_060_000))],
        )
        .await
        .unwrap();
    match &c.state {
        ConversationState::Handoff { reason, since } => {
            assert_eq!(reason, "human_handoff");
            assert!(*since > at(1_700_000_000_000));
        }
        ConversationState::Active => panic!("append must keep the handoff"),
    }
    assert_eq!(c.history.len(), 3);
    assert_eq!(
        store.last_inbound(&key()).await.unwrap(),
        Some(at(1_700_000_060_000))
    );

    assert_eq!(
        store.resolve(&key()).await.unwrap(),
        ResolveOutcome::Resolved
    );
    assert_eq!(
        store.resolve(&key()).await.unwrap(),
        ResolveOutcome::AlreadyActive
    );
    let c = store.load(&key()).await.unwrap().unwrap();
    assert!(!c.is_handoff());
    assert_eq!(c.history.len(), 3, "resolve keeps the history");

    // Other conversations are separate records.
    let other = ConversationKey::new(ACCOUNT, "1111");
    assert_eq!(store.load(&other).await.unwrap(), None);
}

#[tokio::test]
async fn history_is_capped_at_twenty_and_keeps_the_newest() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default()).await;
    for i in 0..25u64 {
        store
            .append(
                &key(),
                &[HistoryMessage::user(format!("m{i}"), at(1_000 + i))],
            )
            .await
            .unwrap();
    }
    let c = store
        .append(&key(), &[HistoryMessage::bot("reply", at(5_000))])
        .await
        .unwrap();
    assert_eq!(c.history.len(), 20);
    assert_eq!(c.history[0].text, "m6");
    assert_eq!(c.history[18].text, "m24");
    assert_eq!(c.history[19].text, "reply");
    // The bot message did not move the inbound time; an older user message does not either.
    assert_eq!(c.last_inbound, Some(at(1_024)));
    let c = store
        .append(&key(), &[HistoryMessage::user("late", at(10))])
        .await
        .unwrap();
    assert_eq!(c.last_inbound, Some(at(1_024)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_for_one_user_lose_nothing() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default().history_cap(1000)).await;

    let mut tasks = Vec::new();
    for task in 0..50u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..4u64 {
                let n = task * 4 + i;
                store
                    .append(
                        &key(),
                        &[HistoryMessage::user(format!("m{n}"), at(1_000 + n))],
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    // A state change racing the appends must survive them.
    let handoff = {
        let store = store.clone();
        tokio::spawn(async move { store.set_handoff(&key(), "race").await.unwrap() })
    };
    for t in tasks {
        t.await.unwrap();
    }
    assert!(handoff.await.unwrap());

    let c = store.load(&key()).await.unwrap().unwrap();
    let texts: BTreeSet<String> = c.history.iter().map(|m| m.text.clone()).collect();
    let want: BTreeSet<String> = (0..200).map(|n| format!("m{n}")).collect();
    assert_eq!(c.history.len(), 200, "no message lost or duplicated");
    assert_eq!(texts, want);
    assert!(c.is_handoff(), "no append overwrote the handoff");
    assert_eq!(c.last_inbound, Some(at(1_199)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_with_the_default_cap_keep_exactly_twenty() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default()).await;
    let mut tasks = Vec::new();
    for n in 0..100u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append(
                    &key(),
                    &[HistoryMessage::user(format!("m{n}"), at(1_000 + n))],
                )
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().history.len() <= 20);
    }
    let c = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(c.history.len(), 20);
    assert_eq!(c.last_inbound, Some(at(1_099)));
}

#[tokio::test]
async fn records_expire_and_every_update_refreshes_the_ttl() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let ttl = Duration::from_millis(1_500);
    let store = store(&server, StoreOptions::default().ttl(ttl)).await;
    store
        .append(&key(), &[HistoryMessage::user("hi", SystemTime::now())])
        .await
        .unwrap();
    store.set_handoff(&key(), "x").await.unwrap();

    // Both keys carry the TTL.
    let mut conn = raw(&server).await;
    let meta = format!("botkit:conv:{{{ACCOUNT}:{USER}}}:meta");
    let history = format!("botkit:conv:{{{ACCOUNT}:{USER}}}:history");
    for k in [&meta, &history] {
        let pttl: i64 = conn.pttl(k).await.unwrap();
        assert!(pttl > 0 && pttl <= 1_500, "{k}: {pttl}");
    }

    // Keep it alive with updates past the original TTL.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        store
            .append(
                &key(),
                &[HistoryMessage::user("still here", SystemTime::now())],
            )
            .await
            .unwrap();
    }
    let c = store
        .load(&key())
        .await
        .unwrap()
        .expect("refreshed by the appends");
    assert!(c.is_handoff());

    // Then let it expire: the handoff is over and the history gone.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(store.load(&key()).await.unwrap(), None);
    let c = store
        .append(&key(), &[HistoryMessage::user("new", SystemTime::now())])
        .await
        .unwrap();
    assert!(!c.is_handoff());
    assert_eq!(c.history.len(), 1);
}

#[tokio::test]
async fn orphaned_history_is_discarded_by_the_next_write() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default()).await;
    let mut conn = raw(&server).await;
    let history = format!("botkit:conv:{{{ACCOUNT}:{USER}}}:history");
    let _: () = conn
        .rpush(&history, r#"{"role":"user","text":"stale","at_ms":1}"#)
        .await
        .unwrap();
    assert_eq!(store.load(&key()).await.unwrap(), None);
    let c = store
        .append(&key(), &[HistoryMessage::user("fresh", at(2))])
        .await
        .unwrap();
    let texts: Vec<&str> = c.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["fresh"]);
}

#[tokio::test]
async fn corrupt_records_are_typed_errors() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let store = store(&server, StoreOptions::default()).await;
    store
        .append(&key(), &[HistoryMessage::user("ok", at(1))])
        .await
        .unwrap();
    let mut conn = raw(&server).await;
    let history = format!("botkit:conv:{{{ACCOUNT}:{USER}}}:history");
    let _: () = conn.rpush(&history, "not json").await.unwrap();
    let err = store.load(&key()).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert!(!err.to_string().contains("not json"));

    // A key of the wrong type is a backend error, not a panic.
    let meta = format!("botkit:conv:{{{ACCOUNT}:2}}:meta");
    let _: () = conn.set(&meta, "a string").await.unwrap();
    let err = store
        .append(
            &ConversationKey::new(ACCOUNT, "2"),
            &[HistoryMessage::user("x", at(1))],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Backend, "{err}");
}

#[tokio::test]
async fn key_prefixes_separate_bots_sharing_a_database() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let a = store(&server, StoreOptions::default().key_prefix("shop-a")).await;
    let b = store(&server, StoreOptions::default().key_prefix("shop-b")).await;
    a.set_handoff(&key(), "x").await.unwrap();
    assert!(a.load(&key()).await.unwrap().is_some());
    assert_eq!(b.load(&key()).await.unwrap(), None);
}

#[tokio::test]
async fn redis_stopped_mid_run_gives_typed_errors_then_recovers() {
    let mut server = RedisServer::start().expect("redis-server must be installed");
    let store = Store::open(
        &Backend::Redis(Secret::new(server.url())),
        StoreOptions::default().redis_timeout(Duration::from_millis(500)),
    )
    .await
    .unwrap();
    assert_eq!(store.backend_name(), "redis");
    store.ping().await.unwrap();
    store
        .append(&key(), &[HistoryMessage::user("before", at(1))])
        .await
        .unwrap();

    server.stop();
    // Every operation fails with a typed "unavailable" error; a guard timeout catches a hang.
    let guard = Duration::from_secs(20);
    let err = tokio::time::timeout(
        guard,
        store.append(&key(), &[HistoryMessage::user("during", at(2))]),
    )
    .await
    .expect("append must not hang while Redis is down")
    .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = tokio::time::timeout(guard, store.load(&key()))
        .await
        .expect("load must not hang while Redis is down")
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(
        tokio::time::timeout(guard, store.ping())
            .await
            .unwrap()
            .is_err()
    );

    // Back on the same port (empty: no persistence). The connection manager reconnects and
    // the scripts are reloaded.
    server.restart().expect("restart on the same port");
    let mut recovered = None;
    for _ in 0..100 {
        match store
            .append(&key(), &[HistoryMessage::user("after", at(3))])
            .await
        {
            Ok(c) => {
                recovered = Some(c);
                break;
            }
            Err(e) => {
                assert!(e.is_unavailable(), "{e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let c = recovered.expect("the store recovers after Redis comes back");
    let texts: Vec<&str> = c.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["after"]);
}

#[tokio::test]
async fn connecting_to_nothing_is_an_unavailable_error_without_the_url() {
    let mut server = RedisServer::start().expect("redis-server must be installed");
    let url = format!("redis://:hunter2@127.0.0.1:{}/", server.port());
    server.stop();
    let err = RedisStore::connect(
        &Secret::new(url),
        StoreOptions::default().redis_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!err.to_string().contains("hunter2"));
    assert!(!err.to_string().contains("127.0.0.1"));

    let err = RedisStore::connect(&Secret::new("http://:hunter2@x/"), StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Config);
    assert!(!err.to_string().contains("hunter2"));
}

/// An event handled twice (a retry after a failed reply, a redelivery) appends the same
/// messages again: the history keeps one copy, other messages still go in.
async fn repeated_messages_are_appended_once(store: &impl ConversationStore) {
    let question = HistoryMessage::user("Do you ship to Vienna?", at(1_700_000_000_000));
    let human = HistoryMessage::human("Yes, in 3 days.", at(1_700_000_001_000));
    store
        .append(&key(), std::slice::from_ref(&question))
        .await
        .unwrap();
    let c = store
        .append(&key(), &[question.clone(), human.clone(), human.clone()])
        .await
        .unwrap();
    assert_eq!(c.history, [question.clone(), human.clone()]);
    // The same text at another time is another message.
    let again = HistoryMessage::user("Do you ship to Vienna?", at(1_700_000_002_000));
    let c = store
        .append(&key(), std::slice::from_ref(&again))
        .await
        .unwrap();
    assert_eq!(c.history, [question, human, again]);
    assert_eq!(
        store.load(&key()).await.unwrap().unwrap().history,
        c.history
    );
}

#[tokio::test]
async fn redis_appends_a_repeated_message_once() {
    let server = RedisServer::start().expect("redis-server must be installed");
    repeated_messages_are_appended_once(&store(&server, StoreOptions::default()).await).await;
}

#[tokio::test]
async fn memory_appends_a_repeated_message_once() {
    repeated_messages_are_appended_once(&bot_kit::MemoryStore::new(StoreOptions::default())).await;
}
