//! `RedisDedup` against a real `redis-server`: atomic claims shared by clients, claims that
//! expire, completed marks that last ≥ 36 h, and a store error that is never a duplicate.

use std::time::Duration;

use bot_harness::RedisServer;
use bot_kit::{BotDedup, RedisDedup, Secret};
use meta_webhooks::sink::{Claim, Dedup};

async fn connect(server: &RedisServer) -> RedisDedup {
    RedisDedup::connect(&Secret::new(server.url()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_claims_from_two_clients_yield_one_claim() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let a = connect(&server).await;
    let b = connect(&server).await;
    for i in 0..20 {
        let key = format!("acct:text:mid{i}");
        let (ca, cb) = tokio::join!(a.claim(&key), b.claim(&key));
        let claims = [ca.unwrap(), cb.unwrap()];
        assert_eq!(
            claims.iter().filter(|c| c.is_claimed()).count(),
            1,
            "{claims:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn complete_keeps_release_frees_and_ttl_covers_metas_retry_horizon() {
    let server = RedisServer::start().expect("redis-server must be installed");
    let dedup = connect(&server).await;
    assert_eq!(dedup.claim("k1").await.unwrap(), Claim::Claimed);
    dedup.complete("k1").await.unwrap();
    assert_eq!(dedup.claim("k1").await.unwrap(), Claim::Duplicate);

    assert_eq!(dedup.claim("k2").await.unwrap(), Claim::Claimed);
    dedup.release("k2").await.unwrap();
    assert_eq!(dedup.claim("k2").await.unwrap(), Claim::Claimed);

    let ttl = pttl(&server, "k1").await;
    assert!(ttl > 36 * 3600 * 1000, "ttl {ttl} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_is_an_error_not_a_duplicate_and_recovers() {
    let mut server = RedisServer::start().expect("redis-server must be installed");
    let dedup = BotDedup::Redis(connect(&server).await);
    assert!(dedup.ping(Duration::from_secs(1)).await);
    server.stop();
    assert!(dedup.claim("down").await.is_err());
    assert!(!dedup.ping(Duration::from_secs(1)).await);
    server.restart().unwrap();
    let mut claimed = None;
    for _ in 0..50 {
        if let Ok(claim) = dedup.claim("down").await {
            claimed = Some(claim);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(claimed, Some(Claim::Claimed));
}

async fn pttl(server: &RedisServer, key: &str) -> i64 {
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("PTTL")
        .arg(format!("botkit:dedup:{key}"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unfinished_claim_expires_and_a_late_release_keeps_a_completed_mark() {
    let server = RedisServer::start().expect("redis-server must be installed");
    // A claim lasts DEDUP_CLAIM_TTL, not the 48 h of a completed mark.
    let dedup = connect(&server).await;
    assert_eq!(dedup.claim("k3").await.unwrap(), Claim::Claimed);
    let ttl = pttl(&server, "k3").await;
    assert!(
        ttl > 0 && ttl <= bot_kit::dedup::DEDUP_CLAIM_TTL.as_millis() as i64,
        "claim ttl {ttl} ms"
    );

    // A process that claimed and died: its claim expires and the event can be handled.
    let short = connect(&server)
        .await
        .with_claim_ttl(Duration::from_millis(150));
    assert_eq!(short.claim("k4").await.unwrap(), Claim::Claimed);
    assert_eq!(short.claim("k4").await.unwrap(), Claim::Duplicate);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(dedup.claim("k4").await.unwrap(), Claim::Claimed);

    // The first holder's release comes after the second completed: the mark stays.
    dedup.complete("k4").await.unwrap();
    short.release("k4").await.unwrap();
    assert_eq!(dedup.claim("k4").await.unwrap(), Claim::Duplicate);
    assert!(pttl(&server, "k4").await > 36 * 3600 * 1000);
}
