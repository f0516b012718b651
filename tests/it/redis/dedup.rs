//! `RedisDedup`: atomic claims shared by clients, claims that expire, completed marks that
//! last beyond Meta's retry horizon, and a store error that is never a duplicate.

use std::time::Duration;

use meta_webhooks::sink::{Claim, Dedup};

use super::{RedisServer, builder, connect, redis_conn};

async fn pttl(redis: &RedisServer, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(format!("it:dedup:{key}"))
        .query_async(&mut redis_conn(redis).await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_from_two_clients_yield_one_claim() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let a = connect(&redis).await.dedup();
    let b = connect(&redis).await.dedup();
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

#[tokio::test]
async fn complete_keeps_release_frees_and_ttl_covers_metas_retry_horizon() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let dedup = connect(&redis).await.dedup();
    assert_eq!(dedup.claim("k1").await.unwrap(), Claim::Claimed);
    dedup.complete("k1").await.unwrap();
    assert_eq!(dedup.claim("k1").await.unwrap(), Claim::Duplicate);

    assert_eq!(dedup.claim("k2").await.unwrap(), Claim::Claimed);
    dedup.release("k2").await.unwrap();
    assert_eq!(dedup.claim("k2").await.unwrap(), Claim::Claimed);

    let ttl = pttl(&redis, "k1").await;
    assert!(ttl > 36 * 3600 * 1000, "ttl {ttl} ms");
}

#[tokio::test]
async fn redis_down_is_an_error_not_a_duplicate_and_the_first_claim_after_it_works() {
    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let dedup = connect(&redis).await.dedup();
    redis.stop();
    assert!(dedup.claim("down").await.is_err());
    assert!(dedup.complete("down").await.is_err());
    assert!(dedup.release("down").await.is_err());
    redis.restart().expect("redis-server restarts");
    assert_eq!(dedup.claim("down").await.unwrap(), Claim::Claimed);
}

#[tokio::test]
async fn an_unfinished_claim_expires_and_a_late_release_keeps_a_completed_mark() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    // A claim lasts the claim TTL (5 min by default), not the 48 h of a completed mark.
    let dedup = connect(&redis).await.dedup();
    assert_eq!(dedup.claim("k3").await.unwrap(), Claim::Claimed);
    let ttl = pttl(&redis, "k3").await;
    assert!(ttl > 0 && ttl <= 5 * 60 * 1000, "claim ttl {ttl} ms");

    // A process that claimed and died: its claim expires and the event can be handled.
    let short = builder(&redis)
        .dedup_claim_ttl(Duration::from_millis(150))
        .connect()
        .await
        .unwrap()
        .dedup();
    assert_eq!(short.claim("k4").await.unwrap(), Claim::Claimed);
    assert_eq!(short.claim("k4").await.unwrap(), Claim::Duplicate);
    assert!(
        super::eventually(Duration::from_secs(10), || async {
            pttl(&redis, "k4").await == -2
        })
        .await
    );
    assert_eq!(dedup.claim("k4").await.unwrap(), Claim::Claimed);

    // The first holder's release comes after the second completed: the mark stays.
    dedup.complete("k4").await.unwrap();
    short.release("k4").await.unwrap();
    assert_eq!(dedup.claim("k4").await.unwrap(), Claim::Duplicate);
    assert!(pttl(&redis, "k4").await > 36 * 3600 * 1000);
}
