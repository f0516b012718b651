//! Fault-injection scenarios for the Redis Streams deployment, run against the real bot
//! binary. Each `pub async fn` taking `bin` is one scenario, run by a test of the same
//! meaning in each bot's `tests/faults.rs`.
//!
//! Every scenario starts its own `redis-server` and bot processes (`BOT_ROLE=receiver`,
//! `worker`, `all`) on free loopback ports, a [`GraphMock`] that answers per recipient, per
//! token or by default and records every request (with the process that sent it), then
//! injects one kind of fault — duplicate deliveries, `SIGKILL` of a worker, Redis killed and
//! restarted, failing Graph answers, an expired token, `SIGTERM` — and asserts exact counts
//! at the mock and in `/metrics`. Every wait has a deadline; every process is stopped by
//! PID at the end, and killed on drop when a scenario fails (its logs are then kept in a
//! `botkit-faults-*` directory under the temp dir, whose path is printed).
//!
//! Scenarios run one at a time (a process-wide lock), so that the latency check of
//! [`redis_outage`] is not measured on a machine busy with another scenario. Each prints
//! one `[faults] …` line with its counts (visible with `--nocapture`).
//!
//! ```no_run
//! # async fn t() {
//! bot_harness::faults::duplicate_storm(std::path::Path::new("target/debug/axum-bot")).await;
//! # }
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test support: failures are assertions"
)]

mod cluster;
mod graph;

pub use cluster::{Cluster, Metrics, Posted, Role, ScratchDir, ShardState, StreamsState};
pub use cluster::{TOKEN_A, TOKEN_B};
pub use graph::{GraphAnswer, GraphMock, GraphRequest};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::e2e::{ACCOUNT, ACCOUNT_B};

/// Scenarios run one at a time (see the [module docs](self)).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The texts the scenarios send: one rule matches, so each gets exactly one text reply and
/// no typing indicator or model call.
const PRICE: &str = "price?";

/// How long a scenario waits for replies, drains, exits.
const WAIT: Duration = Duration::from_secs(30);

/// Stream settings under which a dead worker's shards and entries move on within about
/// two seconds (the SIGKILL and SIGTERM scenarios): 4 shards, batches of 8.
const FAST_FAILOVER: [(&str, &str); 4] = [
    ("STREAM_SHARDS", "4"),
    ("STREAM_BATCH", "8"),
    ("STREAM_LEASE_MS", "1000"),
    ("STREAM_RECLAIM_IDLE_MS", "1500"),
];

/// `IGSID`s of one scenario: `<prefix><i>`, distinct across scenarios.
fn user(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:05}")
}

/// The body of a delivery of one `price?` DM from `user` to `account` with the mid `mid`.
fn price(account: &str, user: &str, mid: &str) -> Bytes {
    crate::e2e::text(account, user, mid, PRICE).build()
}

/// `n` users of one scenario (`user(prefix, i)`) and one `price?` DM from each, with mids
/// `m_<tag>_<i>`.
fn price_texts(prefix: &str, tag: &str, n: usize) -> (Vec<String>, Vec<Bytes>) {
    let users: Vec<String> = (0..n).map(|i| user(prefix, i)).collect();
    let deliveries = users
        .iter()
        .enumerate()
        .map(|(i, u)| price(ACCOUNT, u, &format!("m_{tag}_{i}")))
        .collect();
    (users, deliveries)
}

/// A deterministic shuffle (xorshift), so a failure replays the same order.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).unwrap();
        items.swap(i, j);
    }
}

/// Recipients with more than one successful send, and how many each got.
fn duplicates(delivered: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    delivered
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(u, n)| (u.clone(), *n))
        .collect()
}

/// Waits until each of `users` got a reply and the streams are drained, then a little
/// longer so a late duplicate would show; returns the replies per user.
async fn settled<'a>(
    c: &Cluster,
    users: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, usize> {
    c.graph.wait_delivered(users, WAIT).await;
    c.wait_quiescent(WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.graph.delivered()
}

fn statuses(posted: &[Posted]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for p in posted {
        *counts.entry(p.status).or_insert(0) += 1;
    }
    counts
}

/// Posts `deliveries` one after the other, `pace` apart, in a background task, the way
/// Meta behind a load balancer would: to `urls[i % n]`, and on anything but `200` again to
/// the next URL after 50 ms, until a `200` (for at most [`WAIT`]). Returns every
/// delivery's final outcome.
fn feed(
    http: &reqwest::Client,
    urls: Vec<String>,
    deliveries: Vec<Bytes>,
    pace: Duration,
) -> tokio::task::JoinHandle<Vec<Posted>> {
    let http = http.clone();
    tokio::spawn(async move {
        let mut out = Vec::with_capacity(deliveries.len());
        for (i, delivery) in deliveries.iter().enumerate() {
            let deadline = Instant::now() + WAIT;
            let mut attempt = i;
            loop {
                let posted = cluster::post_to(&http, &urls[attempt % urls.len()], delivery).await;
                if posted.status == 200 || Instant::now() > deadline {
                    out.push(posted);
                    break;
                }
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(pace).await;
        }
        out
    })
}

/// Waits until the process `label` of the mock's record has a request in flight (arrived,
/// not yet answered) after at least `done` answered ones; returns that instant.
async fn wait_in_flight(graph: &GraphMock, label: &str, done: usize) -> Instant {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = Instant::now();
        let mine: Vec<GraphRequest> = graph
            .requests()
            .into_iter()
            .filter(|r| r.endpoint == label)
            .collect();
        let answered = mine.iter().filter(|r| r.answered_at <= now).count();
        if answered >= done && mine.iter().any(|r| r.answered_at > now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{label} never had a request in flight ({} so far)",
            mine.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// 1. Duplicate storm: N distinct mids, each delivered 3–5 times, spread over two
///    receivers, handled by two workers on one Redis → exactly N replies, one per mid.
pub async fn duplicate_storm(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    const N: usize = 200;
    let c = Cluster::start(
        bin,
        "storm",
        false,
        &[("STREAM_SHARDS", "8"), ("STREAM_LEASE_MS", "1000")],
    )
    .await;
    let r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let r2 = c.spawn(Role::Receiver, "r2", &[]).await;
    let w1 = c.spawn(Role::Worker, "w1", &[]).await;
    let w2 = c.spawn(Role::Worker, "w2", &[]).await;
    let shards = c.wait_balanced(&[&w1, &w2]).await;

    let users: Vec<String> = (0..N).map(|i| user("710", i)).collect();
    let mut plan = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let delivery = price(ACCOUNT, u, &format!("m_storm_{i}"));
        for copy in 0..3 + i % 3 {
            plan.push(((i + copy) % 2, delivery.clone()));
        }
    }
    shuffle(&mut plan, 0x5eed_0001);
    let deliveries = plan.len();
    let posted = c.post_all(&[&r1, &r2], plan, 16).await;
    assert_eq!(
        statuses(&posted),
        BTreeMap::from([(200, deliveries)]),
        "every delivery accepted"
    );

    let delivered = settled(&c, users.iter().map(String::as_str)).await;
    let dups = duplicates(&delivered);
    assert!(dups.is_empty(), "one reply per mid, duplicates: {dups:?}");
    assert_eq!(delivered.len(), N);
    let requests = c.graph.requests();
    assert_eq!(requests.len(), N, "no other Graph request");
    assert!(requests.iter().all(|r| r.token == TOKEN_A));

    let (m_r1, m_r2, m_w1, m_w2) = (
        c.metrics(&r1).await,
        c.metrics(&r2).await,
        c.metrics(&w1).await,
        c.metrics(&w2).await,
    );
    let enqueued =
        m_r1.value("botkit_stream_enqueued_total") + m_r2.value("botkit_stream_enqueued_total");
    assert_eq!(
        enqueued, deliveries as f64,
        "each accepted delivery XADDed once"
    );
    let handled = |outcome: &str| {
        let name = format!("botkit_stream_handled_total{{outcome=\"{outcome}\"}}");
        m_w1.value(&name) + m_w2.value(&name)
    };
    assert_eq!(handled("ok"), N as f64, "{}\n{}", m_w1.0, m_w2.0);
    assert_eq!(handled("duplicate"), (deliveries - N) as f64);
    assert_eq!(handled("failed") + handled("dead"), 0.0);
    let per_worker: BTreeMap<String, usize> = requests.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.endpoint.clone()).or_insert(0) += 1;
        m
    });
    println!(
        "[faults] duplicate storm: N={N} mids, {deliveries} deliveries over 2 receivers, \
         {} replies (per worker {per_worker:?}, shards {shards:?}), 0 duplicates, {:.1?}",
        requests.len(),
        started.elapsed()
    );
    drop((r1, r2, w1, w2));
}

/// 2. A worker is killed with `SIGKILL` while it handles: every accepted delivery is still
///    answered (the other worker takes over its shards and reclaims its pending entries);
///    duplicates can only be events the killed worker had sent to Graph before the kill.
pub async fn worker_sigkill(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    const N: usize = 120;
    const BATCH: usize = 8; // STREAM_BATCH in FAST_FAILOVER
    let c = Cluster::start(bin, "sigkill", false, &FAST_FAILOVER).await;
    c.graph
        .set_default(GraphAnswer::ok().delayed(Duration::from_millis(150)));
    let r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let mut w1 = c.spawn(Role::Worker, "w1", &[]).await;
    let w2 = c.spawn(Role::Worker, "w2", &[]).await;
    c.wait_balanced(&[&w1, &w2]).await;

    let (users, deliveries) = price_texts("720", "kill", N);
    let feeding = feed(
        c.http(),
        vec![r1.url("/webhook")],
        deliveries,
        Duration::from_millis(20),
    );

    wait_in_flight(&c.graph, "w1", 5).await;
    // The shards the victim holds: its lease values are its consumer name, `host-pid-rand`.
    let victim = w1.pid();
    let victim_shards = c.leases_of(victim).await;
    w1.kill();
    let killed_at = Instant::now();
    assert!(!victim_shards.is_empty(), "the victim held no shard");
    // Everything the victim sent (it sends nothing once reaped).
    let before_kill: Vec<GraphRequest> = c
        .graph
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "w1")
        .collect();
    let in_flight = before_kill
        .iter()
        .filter(|r| r.answered_at > killed_at)
        .count();

    let posted = feeding.await.unwrap();
    assert_eq!(statuses(&posted), BTreeMap::from([(200, N)]));
    let delivered = settled(&c, users.iter().map(String::as_str)).await;
    assert_eq!(delivered.len(), N, "every accepted delivery answered");
    let dups = duplicates(&delivered);
    // A duplicate is an event the killed worker sent before it died (Graph 200, no ack).
    let victim_sent: BTreeSet<&str> = before_kill
        .iter()
        .filter(|r| r.succeeded())
        .map(|r| r.recipient.as_str())
        .collect();
    for (u, n) in &dups {
        assert_eq!(*n, 2, "{u} answered {n} times");
        assert!(
            victim_sent.contains(u.as_str()),
            "duplicate to {u} was not sent by the killed worker before the kill"
        );
    }
    // At most one batch per shard the victim held can sit between Graph's 200 and the ack.
    let bound = BATCH * victim_shards.len();
    assert!(
        dups.len() <= bound,
        "{} duplicates > the killed worker's in-flight bound {bound}",
        dups.len()
    );
    let m_w2 = c.metrics(&w2).await;
    println!(
        "[faults] worker SIGKILL: N={N}, killed pid {victim} holding shards {victim_shards:?} \
         with {in_flight} Graph requests in flight ({} sent before), {} duplicates {:?} \
         (bound {bound} = batch x shards held), reclaimed by w2: {}, {:.1?}",
        before_kill.len(),
        dups.len(),
        dups.keys().collect::<Vec<_>>(),
        m_w2.value("botkit_stream_reclaimed_total"),
        started.elapsed()
    );
    drop((r1, w2));
}

/// 3. Redis is killed mid-run: receivers answer `503` within 300 ms while it is down;
///    restarted on the same port and directory (AOF, `appendfsync always`) nothing that got
///    a `200` is lost, receivers accept again and workers resume.
pub async fn redis_outage(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let mut c = Cluster::start(
        bin,
        "redis",
        true,
        &[
            ("STREAM_SHARDS", "4"),
            ("STREAM_BATCH", "8"),
            // The outage (about 1.5 s) outlasts the leases…
            ("STREAM_LEASE_MS", "1000"),
            // …but not the dedup claims (2 × 3 s).
            ("STREAM_RECLAIM_IDLE_MS", "3000"),
            // The default bound, the one the 300 ms requirement is about.
            ("STREAM_ACK_TIMEOUT_MS", "200"),
        ],
    )
    .await;
    const SHARDS: usize = 4;
    const BATCH: usize = 8;
    const CLAIM_TTL: Duration = Duration::from_secs(6);
    c.graph
        .set_default(GraphAnswer::ok().delayed(Duration::from_millis(100)));
    let mut r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let mut r2 = c.spawn(Role::Receiver, "r2", &[]).await;
    let mut w1 = c.spawn(Role::Worker, "w1", &[]).await;
    let mut w2 = c.spawn(Role::Worker, "w2", &[]).await;
    c.wait_balanced(&[&w1, &w2]).await;

    // Before: accepted while Redis is up; many still unanswered when it dies.
    let before: Vec<String> = (0..60).map(|i| user("730", i)).collect();
    let plan = before
        .iter()
        .enumerate()
        .map(|(i, u)| (i % 2, price(ACCOUNT, u, &format!("m_up_{i}"))))
        .collect();
    // (With `appendfsync always` an XADD may exceed the 200 ms bound: 503, Meta retries.)
    let slow_before = c.accept_all(&[&r1, &r2], plan, 8).await;
    c.redis.stop();
    let stopped_at = Instant::now();

    // While down: every delivery refused fast.
    let down: Vec<(String, Bytes)> = (0..20)
        .map(|i| {
            let u = user("731", i);
            let d = price(ACCOUNT, &u, &format!("m_down_{i}"));
            (u, d)
        })
        .collect();
    let mut latencies = Vec::new();
    for (i, (_, delivery)) in down.iter().enumerate() {
        let receiver = if i % 2 == 0 { &r1 } else { &r2 };
        let posted = c.post(receiver, delivery).await;
        assert_eq!(posted.status, 503, "delivery {i} while Redis is down");
        latencies.push(posted.elapsed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let max_503 = latencies.iter().max().copied().unwrap_or_default();
    assert!(
        max_503 <= Duration::from_millis(300),
        "503 must come within 300 ms, slowest {max_503:?}: {latencies:?}"
    );
    let down_for = stopped_at.elapsed();

    c.redis.restart().expect("restart redis on the same port");
    let restarted_at = Instant::now();
    // After: Meta redelivers what got a 503; receivers accept again.
    let deadline = Instant::now() + WAIT;
    loop {
        if c.post(&r1, &down[0].1).await.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "receivers never accepted again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed_after = stopped_at.elapsed();
    let plan = down
        .iter()
        .enumerate()
        .map(|(i, (_, d))| (i % 2, d.clone()))
        .collect();
    let slow_after = c.accept_all(&[&r1, &r2], plan, 4).await;

    let all: Vec<&str> = before
        .iter()
        .chain(down.iter().map(|(u, _)| u))
        .map(String::as_str)
        .collect();
    let delivered = settled(&c, all.iter().copied()).await;
    assert_eq!(delivered.len(), all.len(), "nothing accepted was lost");
    let dups = duplicates(&delivered);
    // A duplicate can only be an event a worker held when Redis died: accepted before the
    // crash, sent to Graph before Redis was back, its ack and done mark lost. While its
    // dedup claim lives, the handler (alive, its lease lost in the outage) records it and
    // no other worker sends it again; so with Redis back well within the claim's lifetime
    // there is none, and otherwise at most one batch per shard.
    let first_sends: BTreeMap<String, Instant> =
        c.graph.requests().iter().fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.recipient.clone()).or_insert(r.at);
            m
        });
    let mut dup_timing = Vec::new();
    for (u, n) in &dups {
        assert_eq!(*n, 2, "{u} answered {n} times");
        assert!(
            before.contains(u),
            "duplicate to {u}, accepted after the crash"
        );
        let first = first_sends[u];
        assert!(
            first < restarted_at,
            "duplicate to {u}: first sent after Redis was back"
        );
        let sends: Vec<String> = c
            .graph
            .to(u)
            .iter()
            .map(|r| {
                let t = if r.at >= stopped_at {
                    format!("+{:?}", r.at - stopped_at)
                } else {
                    format!("-{:?}", stopped_at - r.at)
                };
                format!("{}@{t}", r.endpoint)
            })
            .collect();
        dup_timing.push(format!("{u}: {sends:?}"));
    }
    if resumed_after + Duration::from_secs(2) < CLAIM_TTL {
        assert!(
            dups.is_empty(),
            "Redis back after {resumed_after:?}, within the claims' lifetime, yet duplicates: \
             {dup_timing:?}"
        );
    }
    assert!(
        dups.len() <= BATCH * SHARDS,
        "{} duplicates > batch x shards",
        dups.len()
    );
    for (name, p) in [
        ("r1", &mut r1),
        ("r2", &mut r2),
        ("w1", &mut w1),
        ("w2", &mut w2),
    ] {
        assert!(p.is_running(), "{name} survived the outage");
    }
    println!(
        "[faults] Redis outage: {} accepted before the crash ({slow_before} after a 503 from \
         a slow fsync), Redis down {down_for:.1?}, {} deliveries refused with 503 (max \
         {max_503:?}), accepting again {resumed_after:.1?} after the crash ({slow_after} \
         503s then), {} answered, {} duplicates (bound {}) {dup_timing:?}, {:.1?}",
        before.len(),
        down.len(),
        delivered.len(),
        dups.len(),
        BATCH * SHARDS,
        started.elapsed()
    );
    drop((r1, r2, w1, w2));
}

/// One scripted case of [`graph_failures`].
struct Case {
    user: String,
    answers: Vec<GraphAnswer>,
    /// Requests the mock must see for it.
    attempts: usize,
    /// Of which answered `2xx` (Meta acted).
    sent: usize,
    /// `botkit_stream_handled_total{outcome=…}` it ends in.
    outcome: &'static str,
}

/// 4. Graph failing: retryable failures (transient envelope, 429, rate-limit codes, slow
///    answers within the timeout) are retried by the client within its budget and each
///    reply is delivered exactly once; terminal failures (codes 100, 10, 551, a 5xx without
///    envelope, an answer slower than `GRAPH_TIMEOUT_SECS`) are attempted exactly once,
///    never retried, and counted; a reply that stays rate limited ends in the dead-letter
///    stream after `STREAM_MAX_DELIVERIES`.
pub async fn graph_failures(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    // The client's policy (RetryPolicy::default): 3 attempts within 30 s.
    const ATTEMPTS: usize = 3;
    const MAX_DELIVERIES: usize = 2;
    let c = Cluster::start(
        bin,
        "graph",
        false,
        &[
            ("STREAM_SHARDS", "4"),
            ("STREAM_LEASE_MS", "1000"),
            ("STREAM_RECLAIM_IDLE_MS", "1000"),
            ("STREAM_MAX_DELIVERIES", "2"),
            ("GRAPH_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let w1 = c.spawn(Role::Worker, "w1", &[]).await;

    let ms = Duration::from_millis;
    let retryable: Vec<Vec<GraphAnswer>> = vec![
        vec![GraphAnswer::transient()],
        vec![GraphAnswer::transient(), GraphAnswer::transient()],
        vec![GraphAnswer::too_many_requests()],
        vec![GraphAnswer::rate_limited(4)],
        vec![GraphAnswer::rate_limited(17)],
        vec![GraphAnswer::rate_limited(32)],
        vec![GraphAnswer::rate_limited(613)],
        vec![GraphAnswer::rate_limited(80_002)],
        vec![GraphAnswer::transient().delayed(ms(700))],
    ];
    let mut cases = Vec::new();
    for (i, failures) in retryable.into_iter().enumerate() {
        let mut answers = failures;
        answers.push(GraphAnswer::ok());
        cases.push(Case {
            user: user("740", i),
            attempts: answers.len(),
            sent: 1,
            answers,
            outcome: "ok",
        });
    }
    // Slow but within GRAPH_TIMEOUT_SECS: one attempt.
    cases.push(Case {
        user: user("741", 0),
        answers: vec![GraphAnswer::ok().delayed(ms(600))],
        attempts: 1,
        sent: 1,
        outcome: "ok",
    });
    // Terminal: one attempt each, never retried. The last one answers after the client
    // gave up: Meta acted, the bot cannot know (outcome unknown), so it must not resend.
    let terminal = [
        GraphAnswer::graph_error(400, 100, None, "(#100) Invalid parameter"),
        GraphAnswer::graph_error(400, 10, None, "(#10) Permission denied"),
        GraphAnswer::graph_error(400, 551, None, "This person isn't available right now."),
        GraphAnswer::server_error_without_envelope(502),
        GraphAnswer::ok().delayed(ms(1500)),
    ];
    for (i, answer) in terminal.iter().enumerate() {
        cases.push(Case {
            user: user("742", i),
            sent: usize::from(answer.status() == 200),
            answers: vec![answer.clone()],
            attempts: 1,
            outcome: "failed",
        });
    }
    // Rate limited on every attempt: the client gives up after its attempts, the worker
    // tries again until STREAM_MAX_DELIVERIES, then dead-letters it.
    cases.push(Case {
        user: user("743", 0),
        answers: vec![GraphAnswer::too_many_requests(); 20],
        attempts: ATTEMPTS * MAX_DELIVERIES,
        sent: 0,
        outcome: "dead",
    });
    for case in &cases {
        c.graph.script(&case.user, case.answers.clone());
    }
    let plan = cases
        .iter()
        .enumerate()
        .map(|(i, case)| (0, price(ACCOUNT, &case.user, &format!("m_graph_{i}"))))
        .collect();
    let posted = c.post_all(&[&r1], plan, 4).await;
    assert_eq!(statuses(&posted), BTreeMap::from([(200, cases.len())]));

    c.graph
        .wait_delivered(
            cases
                .iter()
                .filter(|c| c.outcome == "ok")
                .map(|c| c.user.as_str()),
            WAIT,
        )
        .await;
    let drained = c.wait_quiescent(WAIT).await;
    // Long enough for any retry of a terminal failure to show.
    tokio::time::sleep(ms(2500)).await;
    let state = c.streams().await;
    assert!(state.is_quiescent(), "{state:?}");
    assert_eq!(drained.dead, 1, "the exhausted reply is dead-lettered");

    let mut report = Vec::new();
    for case in &cases {
        let requests = c.graph.to(&case.user);
        let sent = requests.iter().filter(|r| r.succeeded()).count();
        assert_eq!(
            (requests.len(), sent),
            (case.attempts, case.sent),
            "attempts and 2xx answers for {} (statuses {:?})",
            case.user,
            requests.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        if let (Some(first), Some(last)) = (requests.first(), requests.last()) {
            report.push(format!("{}x/{:.1?}", requests.len(), last.at - first.at));
        }
    }
    let m = c.metrics(&w1).await;
    let count = |outcome: &str| cases.iter().filter(|c| c.outcome == outcome).count() as f64;
    for outcome in ["ok", "failed", "dead"] {
        assert_eq!(
            m.value(&format!(
                "botkit_stream_handled_total{{outcome=\"{outcome}\"}}"
            )),
            count(outcome),
            "handled {outcome}: {}",
            m.0
        );
    }
    assert_eq!(
        m.value("botkit_stream_retries_total"),
        (MAX_DELIVERIES - 1) as f64,
        "{}",
        m.0
    );
    // Every failure the bot saw, by class (retries inside the client are not failures).
    for (kind, n) in [
        ("invalid_parameter", 1),
        ("permission", 1),
        ("user_unavailable", 1),
        ("outcome_unknown", 2),
        ("rate_limited", MAX_DELIVERIES),
    ] {
        assert_eq!(
            m.value(&format!("botkit_send_failures_total{{kind=\"{kind}\"}}")),
            n as f64,
            "send failures {kind}: {}",
            m.0
        );
    }
    println!(
        "[faults] Graph failures: {} retryable delivered once each (attempts/span {:?}), \
         {} terminal attempted once each (codes 100, 10, 551, 502 without envelope, answer \
         after the 1 s timeout), 1 dead-lettered after {} attempts; {:.1?}",
        count("ok"),
        &report[..10],
        terminal.len(),
        ATTEMPTS * MAX_DELIVERIES,
        started.elapsed()
    );
    drop((r1, w1));
}

/// 5. One account's token expired (code 190): that account pauses (no further request with
///    its token, `botkit_account_paused{account=…} 1`, named by `/healthz`); the other
///    account's replies all arrive.
pub async fn expired_token(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start(bin, "token", false, &[("STREAM_SHARDS", "4")]).await;
    c.graph.script_token(TOKEN_A, GraphAnswer::token_expired());
    let r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let w1 = c.spawn(Role::Worker, "w1", &[]).await;

    let first = c
        .post(&r1, &price(ACCOUNT, &user("750", 0), "m_tok_a0"))
        .await;
    assert_eq!(first.status, 200);
    c.graph
        .wait_until("the request with the expired token", WAIT, |r| {
            r.iter().any(|r| r.token == TOKEN_A)
        })
        .await;

    let a_users: Vec<String> = (1..6).map(|i| user("750", i)).collect();
    let b_users: Vec<String> = (0..10).map(|i| user("751", i)).collect();
    let mut plan = Vec::new();
    for (i, u) in b_users.iter().enumerate() {
        plan.push((0, price(ACCOUNT_B, u, &format!("m_tok_b{i}"))));
        if let Some(a) = a_users.get(i) {
            plan.push((0, price(ACCOUNT, a, &format!("m_tok_a{}", i + 1))));
        }
    }
    let total = plan.len();
    let posted = c.post_all(&[&r1], plan, 4).await;
    assert_eq!(statuses(&posted), BTreeMap::from([(200, total)]));
    c.graph
        .wait_delivered(b_users.iter().map(String::as_str), WAIT)
        .await;
    c.wait_quiescent(WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let requests = c.graph.requests();
    let with_a = requests.iter().filter(|r| r.token == TOKEN_A).count();
    assert_eq!(
        with_a, 1,
        "no request with the rejected token after the first"
    );
    let delivered = c.graph.delivered();
    for u in &b_users {
        assert_eq!(delivered.get(u), Some(&1), "account B's reply to {u}");
    }
    assert!(
        requests
            .iter()
            .filter(|r| r.token != TOKEN_A)
            .all(|r| r.token == TOKEN_B && r.succeeded())
    );
    let m = c.metrics(&w1).await;
    assert_eq!(
        m.value(&format!("botkit_account_paused{{account=\"{ACCOUNT}\"}}")),
        1.0,
        "{}",
        m.0
    );
    assert_eq!(
        m.value(&format!("botkit_account_paused{{account=\"{ACCOUNT_B}\"}}")),
        0.0,
        "{}",
        m.0
    );
    let (health_status, health) = c.get(&w1, "/healthz").await;
    assert!(
        health.contains(ACCOUNT),
        "/healthz names the account: {health}"
    );
    assert!(!health.contains(ACCOUNT_B), "{health}");
    println!(
        "[faults] expired token: 1 request with A's token (then paused), {} of A's later \
         replies not attempted, {} of B's delivered once each, /healthz {health_status}: \
         {:?}, {:.1?}",
        a_users.len(),
        b_users.len(),
        health.trim(),
        started.elapsed()
    );
    drop((r1, w1));
}

/// 6. `SIGTERM` while deliveries are in flight: a worker and a receiver each exit `0`
///    within `SHUTDOWN_TIMEOUT_SECS`; every accepted delivery is answered exactly once (by
///    the other worker, through the other receiver).
pub async fn sigterm_drain(bin: &Path) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    const N: usize = 100;
    const SHUTDOWN: Duration = Duration::from_secs(5);
    let env = [&FAST_FAILOVER[..], &[("SHUTDOWN_TIMEOUT_SECS", "5")]].concat();
    let c = Cluster::start(bin, "sigterm", false, &env).await;
    c.graph
        .set_default(GraphAnswer::ok().delayed(Duration::from_millis(200)));
    let r1 = c.spawn(Role::Receiver, "r1", &[]).await;
    let mut r2 = c.spawn(Role::Receiver, "r2", &[]).await;
    let mut w1 = c.spawn(Role::Worker, "w1", &[]).await;
    let w2 = c.spawn(Role::Worker, "w2", &[]).await;
    c.wait_balanced(&[&w1, &w2]).await;

    let (users, deliveries) = price_texts("760", "term", N);
    let feeding = feed(
        c.http(),
        vec![r2.url("/webhook"), r1.url("/webhook")],
        deliveries,
        Duration::from_millis(20),
    );

    wait_in_flight(&c.graph, "w1", 3).await;
    let term_at = Instant::now();
    w1.terminate();
    r2.terminate();
    let (w1_exit, r2_exit) = tokio::join!(
        w1.wait_exit(SHUTDOWN + Duration::from_secs(2)),
        r2.wait_exit(SHUTDOWN + Duration::from_secs(2))
    );
    let exited_after = term_at.elapsed();
    for (name, exit) in [("worker", w1_exit), ("receiver", r2_exit)] {
        let exit =
            exit.unwrap_or_else(|| panic!("the {name} still runs {exited_after:?} after SIGTERM"));
        assert_eq!(exit.code(), Some(0), "the {name} exits 0 after SIGTERM");
    }
    assert!(exited_after <= SHUTDOWN, "exited after {exited_after:?}");
    let w1_after = c
        .graph
        .requests()
        .iter()
        .filter(|r| r.endpoint == "w1" && r.at > term_at)
        .count();

    let posted = feeding.await.unwrap();
    assert_eq!(statuses(&posted), BTreeMap::from([(200, N)]));
    let delivered = settled(&c, users.iter().map(String::as_str)).await;
    let dups = duplicates(&delivered);
    assert!(dups.is_empty(), "exactly once after SIGTERM: {dups:?}");
    assert_eq!(delivered.len(), N);
    let by_w1 = c
        .graph
        .requests()
        .iter()
        .filter(|r| r.endpoint == "w1")
        .count();
    println!(
        "[faults] SIGTERM: N={N}, worker and receiver exited 0 within {exited_after:.1?} \
         (limit {SHUTDOWN:?}); the worker sent {by_w1} replies ({w1_after} after SIGTERM, \
         finishing its batch), 0 duplicates, {:.1?}",
        started.elapsed()
    );
    drop((r1, w2));
}
