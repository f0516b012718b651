//! One in-process request through the tower `Webhook` service beside the bare
//! verify + parse + classify of the same bytes, in the same run.
//!
//! Run with: `cargo bench --bench tower --features tower,test-util`
//!
//! - `verify_parse_classify`: `Verifier::verify_headers` + `Delivery::from_slice` +
//!   `event::classify_owned` on the raw bytes — the work any correct endpoint must do.
//! - `service_noop_sink`: clone the signed `http::Request` (built once), call the service
//!   (method dispatch, the endpoint's `Content-Length` pre-check, body collection within
//!   the deadline (a body complete at once arms no timer), the same verify/parse, the
//!   `Batch`, a sink that classifies it with `Batch::into_items` and drops the items, the
//!   inner `Acknowledge`, the response). The future completes without waiting, so it is
//!   polled once with a no-op waker, no runtime.
//! - `service_memory_sink`: the same with `MemorySink` (4 workers, no-op handler), called
//!   from a task on a two-thread Tokio runtime as a server would: the hand-off to the
//!   worker queue and the wake-up are included; the workers' handling runs concurrently
//!   and is not timed.
//!
//! The bodies and the signed request come from the test twin (`DeliveryBuilder`,
//! `SignedRequest`): keys in Meta's order, as Instagram sends them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "benchmark harness"
)]

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use http_body_util::Full;
use meta_webhooks::endpoint::Endpoint;
use meta_webhooks::payload::Delivery;
use meta_webhooks::sink::{Batch, MemorySink, Sink, SinkError, handler_fn};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
use meta_webhooks::tower::Webhook;
use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
use tower::{Service, ServiceExt};

const SECRET: &str = "6f1d0c2e9a8b47f3b5c4d2e1f0a9b8c7";

/// A sink that takes the classified items and drops them: the middleware alone, with
/// the classification every sink needs.
struct Discard;

impl Sink for Discard {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        black_box(batch.into_items());
        Ok(())
    }
}

/// `events` text messages of `text`, one per sender, as Instagram sends them (each with a
/// full-length mid).
fn delivery(events: usize, text: &str) -> DeliveryBuilder {
    (0..events).fold(
        DeliveryBuilder::instagram().entry_time(1_769_870_412_731_u64),
        |delivery, i| {
            delivery.messaging(
                MessagingItem::text(text)
                    .sender(format!("69345812077194{i:02}"))
                    .mid(format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjMzQwMjgyMzY2ODQxNzEwMzAwOTQ5MTI4MjAwMDAwMDAwMDAwMDAxOjA0NzUxOTMwMjc5NzAwODMwNjE3MDgxMTI1NjQyNTIzNjAwNTU0ZDZ{i:03}")),
            )
        },
    )
}

/// The signed `POST` of `delivery`, with `Content-Length`, as a server hands it over.
fn request(delivery: &DeliveryBuilder) -> Request<Full<Bytes>> {
    let body = delivery.build();
    delivery
        .signed(SECRET)
        .header("content-length", body.len().to_string())
        .build()
        .unwrap()
        .map(Full::new)
}

/// Polls a future that never waits.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

fn bench(c: &mut Criterion) {
    let verifier = Verifier::new(AppSecret::new(SECRET).unwrap());
    let handshake = Handshake::new(VerifyToken::new("token").unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let memory = runtime.block_on(async {
        MemorySink::builder()
            .workers(4)
            .queue_capacity(4096)
            .start(handler_fn(|event| async move {
                black_box(event);
                Ok::<(), Infallible>(())
            }))
            .unwrap()
    });
    let noop_service =
        Webhook::new(Endpoint::builder(verifier.clone(), handshake.clone(), Discard).build());
    let memory_service =
        Webhook::new(Endpoint::builder(verifier.clone(), handshake, memory.clone()).build());

    let mut group = c.benchmark_group("tower");
    // ~600 B: one text DM as Instagram sends it; and a 10-event batch.
    let inputs = [
        (
            "600B",
            delivery(
                1,
                &"Hi! Is the linen shirt still available in M? ".repeat(4),
            ),
        ),
        ("batch10_3KiB", delivery(10, "Do you ship to Vienna?")),
    ];
    for (label, delivery) in inputs {
        let body = delivery.build();
        let request = request(&delivery);
        let headers = request.headers().clone();
        assert_eq!(
            now(noop_service.clone().oneshot(request.clone()))
                .unwrap()
                .status(),
            200
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("verify_parse_classify", label),
            &body,
            |b, body| {
                b.iter(|| {
                    verifier.verify_headers(black_box(body), &headers).unwrap();
                    let delivery = Delivery::from_slice(black_box(body)).unwrap();
                    black_box(meta_webhooks::event::classify_owned(delivery))
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("service_noop_sink", label),
            &request,
            |b, request| {
                let mut service = noop_service.clone();
                b.iter(|| {
                    let response = now(service.call(black_box(request.clone())));
                    black_box(response.unwrap().status())
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("service_memory_sink", label),
            &request,
            |b, request| {
                // Timed inside a task on the runtime, as a server calls the service, so
                // waking a worker is the runtime's in-process wake-up.
                // The workers get time to catch up between timed runs of 256 calls, so
                // the queue never fills (a full queue would answer 503, not measured here).
                b.iter_custom(|iters| {
                    let mut service = memory_service.clone();
                    let request = request.clone();
                    let sink = memory.clone();
                    runtime.block_on(async move {
                        tokio::spawn(async move {
                            let mut timed = Duration::ZERO;
                            let mut left = iters;
                            while left > 0 {
                                while sink.stats().pending > 256 {
                                    tokio::task::yield_now().await;
                                }
                                let run = left.min(256);
                                let start = Instant::now();
                                for _ in 0..run {
                                    let response = service.call(black_box(request.clone())).await;
                                    black_box(response.unwrap().status());
                                }
                                timed += start.elapsed();
                                left -= run;
                            }
                            timed
                        })
                        .await
                        .unwrap()
                    })
                })
            },
        );
    }
    group.finish();
    runtime.block_on(memory.shutdown());
    assert_eq!(memory.stats().refused, 0, "the queue never filled");
}

criterion_group!(benches, bench);
criterion_main!(benches);
