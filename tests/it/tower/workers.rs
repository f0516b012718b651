//! `MemorySink` behind the endpoint: ordering, dedup, back-pressure, shutdown, failures.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use meta_webhooks::Event;
use meta_webhooks::endpoint::{Endpoint, Rejection, RejectionKind};
use meta_webhooks::event::EventError;
use meta_webhooks::sink::{
    Claim, Dedup, DedupError, Handler, MemoryDedup, MemorySink, OnDedupError, SinkError,
    SinkErrorKind, handler_fn,
};
use meta_webhooks::test_util::{Corpus, DeliveryBuilder, MessagingItem};
use meta_webhooks::tower::{Acknowledge, Webhook};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::{SECRET, Served, handshake, verifier};

type Log = Arc<Mutex<Vec<(String, u64, String)>>>;

/// Records (sender, timestamp, mid) of every handled event, after an optional pause.
fn recorder(log: &Log, pause: Duration) -> impl Handler<Error = Infallible> {
    let log = Arc::clone(log);
    handler_fn(move |event: Event| {
        let log = Arc::clone(&log);
        async move {
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            log.lock().unwrap().push((
                event
                    .sender()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                event.timestamp().map(|t| t.as_millis()).unwrap_or_default(),
                event
                    .mid()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            ));
            Ok(())
        }
    })
}

fn endpoint(sink: &MemorySink) -> Webhook<Acknowledge, MemorySink> {
    Webhook::new(Endpoint::builder(verifier(), handshake(), sink.clone()).build())
}

async fn post(
    service: &Webhook<Acknowledge, MemorySink>,
    delivery: &DeliveryBuilder,
) -> StatusCode {
    service
        .clone()
        .oneshot(delivery.signed(SECRET).served())
        .await
        .unwrap()
        .status()
}

/// A small deterministic generator (xorshift), so the test needs no `rand`.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_senders_events_keep_their_order_across_interleaved_deliveries() {
    let log: Log = Arc::default();
    let sink = MemorySink::builder()
        .workers(4)
        .queue_capacity(1024)
        // A pause makes later jobs queue up behind earlier ones, on every worker.
        .start(recorder(&log, Duration::from_micros(200)))
        .unwrap();
    let service = endpoint(&sink);
    let senders: Vec<String> = (0..6).map(|i| format!("69345812077194{i:02}")).collect();
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut clock: BTreeMap<&str, u64> = BTreeMap::new();
    let mut expected: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for d in 0..60 {
        let mut items = Vec::new();
        for sender in &senders {
            if rng.next().is_multiple_of(3) {
                continue;
            }
            // Two or three events of this sender, written newest first inside the
            // delivery: the sink must sort them by timestamp.
            let n = 2 + rng.next() % 2;
            let t = clock.entry(sender).or_insert(1_769_870_000_000);
            let mut mine = Vec::new();
            for _ in 0..n {
                *t += 1 + rng.next() % 5;
                mine.push(*t);
            }
            for ts in mine.iter().rev() {
                items.push(
                    MessagingItem::text("x")
                        .sender(sender.as_str())
                        .mid(format!("mid-{d}-{sender}-{ts}"))
                        .timestamp_ms(*ts),
                );
            }
            expected.entry(sender.clone()).or_default().extend(mine);
        }
        // Interleave the senders' items inside the delivery as well.
        let mut shuffled = Vec::new();
        while !items.is_empty() {
            let i = (rng.next() as usize) % items.len();
            shuffled.push(items.remove(i));
        }
        let delivery = shuffled
            .into_iter()
            .fold(DeliveryBuilder::instagram(), DeliveryBuilder::messaging);
        assert_eq!(post(&service, &delivery).await, StatusCode::OK);
    }
    sink.shutdown().await;

    let log = log.lock().unwrap();
    let mut got: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (sender, ts, _) in log.iter() {
        got.entry(sender.clone()).or_default().push(*ts);
    }
    assert_eq!(got.len(), senders.len());
    for (sender, timestamps) in &got {
        assert!(
            timestamps.windows(2).all(|w| w[0] < w[1]),
            "{sender} out of order: {timestamps:?}"
        );
        assert_eq!(timestamps, &expected[sender], "{sender}");
    }
    let stats = sink.stats();
    assert_eq!(stats.accepted, 60);
    assert_eq!(stats.handled as usize, log.len());
    assert_eq!(stats.pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_mid_delivered_20_times_concurrently_is_handled_once() {
    let log: Log = Arc::default();
    let sink = MemorySink::builder()
        .workers(4)
        .dedup(MemoryDedup::new())
        .start(recorder(&log, Duration::from_millis(5)))
        .unwrap();
    let service = endpoint(&sink);
    let delivery =
        DeliveryBuilder::instagram().messaging(MessagingItem::text("hi").mid("mid-twenty"));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let service = service.clone();
        let delivery = delivery.clone();
        tasks.push(tokio::spawn(async move { post(&service, &delivery).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    sink.shutdown().await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].2, "mid-twenty");
    let stats = sink.stats();
    assert_eq!(
        (stats.accepted, stats.handled, stats.duplicates),
        (20, 1, 19)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sink_answers_503_and_drops_nothing_it_accepted() {
    let gate = Arc::new(Semaphore::new(0));
    let handled = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let gate = Arc::clone(&gate);
        let handled = Arc::clone(&handled);
        MemorySink::builder()
            .workers(2)
            .queue_capacity(2)
            .start(handler_fn(move |event: Event| {
                let gate = Arc::clone(&gate);
                let handled = Arc::clone(&handled);
                async move {
                    gate.acquire().await.unwrap().forget();
                    handled
                        .lock()
                        .unwrap()
                        .push(event.mid().unwrap().as_str().to_owned());
                    Ok::<(), Infallible>(())
                }
            }))
            .unwrap()
    };
    let service = endpoint(&sink);
    let mut accepted = BTreeSet::new();
    let mut refused = 0;
    // Senders spread over both workers; each worker holds one job in its handler and
    // two in its queue, so at most six deliveries can be taken.
    for i in 0..40 {
        let mid = format!("mid-{i}");
        let request = DeliveryBuilder::instagram()
            .messaging(
                MessagingItem::text("x")
                    .sender(format!("sender-{i}"))
                    .mid(mid.as_str())
                    .timestamp_ms(i),
            )
            .signed(SECRET);
        let response = service.clone().oneshot(request.served()).await.unwrap();
        match response.status() {
            StatusCode::OK => {
                accepted.insert(mid);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let rejection = response.extensions().get::<Rejection>().unwrap();
                assert_eq!(rejection.kind(), RejectionKind::Sink);
                let cause = std::error::Error::source(rejection)
                    .and_then(|e| e.downcast_ref::<SinkError>())
                    .map(SinkError::kind);
                assert_eq!(cause, Some(SinkErrorKind::Full));
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused >= 34, "refused only {refused}");
    assert!(!accepted.is_empty() && accepted.len() <= 6, "{accepted:?}");
    assert_eq!(sink.stats().refused, refused);

    gate.add_permits(1000);
    sink.shutdown().await;
    let handled: BTreeSet<String> = handled.lock().unwrap().iter().cloned().collect();
    assert_eq!(handled, accepted, "everything acknowledged was handled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_accepted_whole_or_not_at_all() {
    let gate = Arc::new(Semaphore::new(0));
    let count = Arc::new(AtomicUsize::new(0));
    let sink = {
        let gate = Arc::clone(&gate);
        let count = Arc::clone(&count);
        MemorySink::builder()
            .workers(8)
            .queue_capacity(1)
            .start(handler_fn(move |_event: Event| {
                let gate = Arc::clone(&gate);
                let count = Arc::clone(&count);
                async move {
                    gate.acquire().await.unwrap().forget();
                    count.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), Infallible>(())
                }
            }))
            .unwrap()
    };
    let service = endpoint(&sink);
    // 40 senders spread over all 8 workers: one batch needs a slot on every worker.
    let batch = |round: u64| {
        (0..40).fold(DeliveryBuilder::instagram(), |delivery, s| {
            delivery.messaging(
                MessagingItem::text("x")
                    .sender(format!("s{s}"))
                    .mid(format!("m{round}-{s}"))
                    .timestamp_ms(round),
            )
        })
    };
    let mut accepted = 0;
    for round in 0..10 {
        if post(&service, &batch(round)).await == StatusCode::OK {
            accepted += 1;
        }
    }
    assert!((1..=2).contains(&accepted), "accepted {accepted}");
    gate.add_permits(10_000);
    sink.shutdown().await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        accepted * 40,
        "no partial batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_what_was_accepted_and_then_refuses() {
    let log: Log = Arc::default();
    let sink = MemorySink::builder()
        .workers(2)
        .start(recorder(&log, Duration::from_millis(2)))
        .unwrap();
    let service = endpoint(&sink);
    for i in 0..30 {
        let delivery = DeliveryBuilder::instagram().messaging(
            MessagingItem::text("x")
                .sender(format!("s{}", i % 5))
                .mid(format!("m{i}"))
                .timestamp_ms(i),
        );
        assert_eq!(post(&service, &delivery).await, StatusCode::OK);
    }
    // Nothing much was handled yet; shutdown waits for all of it.
    let shutdown = {
        let sink = sink.clone();
        tokio::spawn(async move { sink.shutdown().await })
    };
    // A second caller waits for the same drain.
    sink.shutdown().await;
    assert_eq!(log.lock().unwrap().len(), 30);
    shutdown.await.unwrap();
    assert!(sink.is_closed());

    let late = DeliveryBuilder::instagram().messaging(MessagingItem::text("x").mid("late"));
    let response = service
        .clone()
        .oneshot(late.signed(SECRET).served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let rejection = response.extensions().get::<Rejection>().unwrap();
    assert_eq!(rejection.kind(), RejectionKind::Sink);
    let cause = std::error::Error::source(rejection)
        .and_then(|e| e.downcast_ref::<SinkError>())
        .map(SinkError::kind);
    assert_eq!(cause, Some(SinkErrorKind::Closed));
    assert_eq!(log.lock().unwrap().len(), 30);
}

/// Fails the first `failures` handlings of mids starting with `retry`; panics on "boom".
struct Flaky {
    calls: Mutex<BTreeMap<String, usize>>,
    failures: usize,
    invalid: AtomicUsize,
}

impl Handler for Flaky {
    type Error = String;

    async fn handle(&self, event: Event) -> Result<(), String> {
        let mid = event
            .mid()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        if event.text() == Some("boom") {
            panic!("handler bug");
        }
        let mut calls = self.calls.lock().unwrap();
        let n = calls.entry(mid.clone()).or_default();
        *n += 1;
        if mid.starts_with("retry") && *n <= self.failures {
            Err("send API unavailable".to_owned())
        } else {
            Ok(())
        }
    }

    async fn handle_invalid(&self, error: EventError) {
        assert!(!error.raw().is_empty());
        self.invalid.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_handling_releases_the_claim_so_a_redelivery_is_handled() {
    let flaky = Arc::new(Flaky {
        calls: Mutex::default(),
        failures: 1,
        invalid: AtomicUsize::new(0),
    });
    let dedup = MemoryDedup::new();
    let sink = MemorySink::builder()
        .workers(1)
        .dedup(dedup.clone())
        .start(Arc::clone(&flaky))
        .unwrap();
    let service = endpoint(&sink);
    let retried = DeliveryBuilder::instagram().messaging(MessagingItem::text("hi").mid("retry-me"));
    for _ in 0..3 {
        assert_eq!(post(&service, &retried).await, StatusCode::OK);
    }
    // A panicking handler does not stop the worker, and its claim is released too.
    let boom = DeliveryBuilder::instagram().messaging(MessagingItem::text("boom").mid("boom-mid"));
    assert_eq!(post(&service, &boom).await, StatusCode::OK);
    // An item that did not classify reaches `handle_invalid`.
    let malformed = Corpus::new()
        .fixture("instagram/edge/mixed__sender_id_object")
        .unwrap();
    assert_eq!(
        service
            .clone()
            .oneshot(malformed.signed(SECRET).served())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    sink.shutdown().await;

    // 1st: failed → released; 2nd: handled → completed; 3rd: duplicate.
    assert_eq!(flaky.calls.lock().unwrap()["retry-me"], 2);
    let stats = sink.stats();
    assert_eq!(stats.failed, 2, "one error, one panic");
    assert_eq!(stats.duplicates, 1);
    assert!(stats.invalid >= 1);
    assert_eq!(flaky.invalid.load(Ordering::SeqCst) as u64, stats.invalid);
    // The panicked event's claim was released: it can be claimed again.
    let key = format!("{}:text:boom-mid", super::ACCOUNT);
    assert!(dedup.claim_at(&key, std::time::Instant::now()).is_claimed());
}

/// A dedup store that is down.
struct Down(AtomicUsize);

impl Dedup for Down {
    async fn claim(&self, _key: &str) -> Result<Claim, DedupError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(DedupError::new("connection refused"))
    }
    async fn complete(&self, _key: &str) -> Result<(), DedupError> {
        Err(DedupError::new("connection refused"))
    }
    async fn release(&self, _key: &str) -> Result<(), DedupError> {
        Err(DedupError::new("connection refused"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dedup_store_error_is_not_a_duplicate() {
    for (policy, expect_handled) in [(OnDedupError::Handle, 1), (OnDedupError::Skip, 0)] {
        let log: Log = Arc::default();
        let down = Arc::new(Down(AtomicUsize::new(0)));
        let sink = MemorySink::builder()
            .workers(1)
            .dedup(Arc::clone(&down))
            .dedup_retries(3, Duration::from_millis(1))
            .on_dedup_error(policy)
            .start(recorder(&log, Duration::ZERO))
            .unwrap();
        let service = endpoint(&sink);
        let delivery = DeliveryBuilder::instagram().messaging(MessagingItem::text("hi"));
        assert_eq!(post(&service, &delivery).await, StatusCode::OK);
        sink.shutdown().await;
        assert_eq!(down.0.load(Ordering::SeqCst), 3, "{policy:?}: retried");
        assert_eq!(log.lock().unwrap().len(), expect_handled, "{policy:?}");
        let stats = sink.stats();
        assert_eq!(stats.dedup_errors, 1);
        assert_eq!(stats.duplicates, 0, "never counted as a duplicate");
    }
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let log: Log = Arc::default();
    let err = MemorySink::builder()
        .start(recorder(&log, Duration::ZERO))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "MemorySink must be started from within a Tokio runtime"
    );
}
