//! `RedisDedup` against a real `redis-server`: atomic claims shared by clients, TTL ≥ 36 h,
//! and a store error that is never a duplicate.

use std::time::Duration;

use bot_kit::testing::RedisServer;
use bot_kit::{BotDedup, RedisDedup, Secret};
use meta_webhooks::tower::{Claim, Dedup};

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

    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg("botkit:dedup:k1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 36 * 3600 * 1000, "ttl {pttl} ms");
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
