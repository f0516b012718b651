//! Run with: `cargo run --release -p loadtest-server -- [PORT] [APP_SECRET]`
//! (defaults `39871` and `loadtest-secret`; `scripts/loadtest.sh` starts it for you).
//!
//! The server that `scripts/loadtest.sh` puts under load, on 127.0.0.1 only:
//!
//! - `POST /webhook`: the [`Endpoint`] served by the tower [`Webhook`] as a bot would run
//!   it — verify, parse, classify, dedup ([`MemoryDedup`]) and hand off to a [`MemorySink`]
//!   whose handler does nothing but count;
//! - `POST /webhook-memory`: the same without dedup (the endpoint and the hand-off to the
//!   workers alone);
//! - `POST /webhook-discard`: the same endpoint over a sink that classifies each
//!   delivery and drops the items (the middleware's own cost, without the hand-off to
//!   workers);
//! - `POST /plain`: a plain axum handler answering `200` with an empty body, the baseline;
//! - `POST /plain-read`: the same, but it reads the whole body first (what any endpoint
//!   that looks at the delivery pays for on top of `/plain`);
//! - `POST /floor`: a plain axum handler doing only the work no correct endpoint can skip —
//!   read the body, verify `X-Hub-Signature-256`, parse and classify — and answering
//!   `200` (`401`/`400` otherwise), with no tower service, batch, sink or dedup: the floor
//!   under the webhook endpoint's cost;
//! - `GET /stats`: the `/webhook` sink's counters, so the script can check every acknowledged
//!   delivery was accepted and none refused.
//!
//! SIGTERM or Ctrl-C stops it gracefully: the HTTP server first, then the sink drains and
//! the final counters are printed to stderr.
#![forbid(unsafe_code)]

use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use meta_webhooks::endpoint::{DEFAULT_BODY_LIMIT, Endpoint};
use meta_webhooks::event::Event;
use meta_webhooks::payload::Delivery;
use meta_webhooks::sink::{Batch, MemoryDedup, MemorySink, Sink, SinkError, SinkStats, handler_fn};
use meta_webhooks::tower::Webhook;
use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};

/// A sink that accepts every delivery, classifies it (as every sink must to use it) and
/// drops the items.
struct Discard;

impl Sink for Discard {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        std::hint::black_box(batch.into_items());
        Ok(())
    }
}

/// The work every correct endpoint must do before acknowledging: verify, parse, classify.
fn floor(verifier: &Verifier, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    if verifier.verify_headers(body, headers).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    match Delivery::from_slice(body) {
        Ok(delivery) => {
            std::hint::black_box(meta_webhooks::event::classify_owned(delivery));
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

fn stats_line(stats: SinkStats) -> String {
    format!(
        "accepted={} refused={} handled={} duplicates={} failed={} invalid={} pending={}",
        stats.accepted,
        stats.refused,
        stats.handled,
        stats.duplicates,
        stats.failed,
        stats.invalid,
        stats.pending
    )
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(39871), |p| p.parse())?;
    let secret = args.next().unwrap_or_else(|| "loadtest-secret".to_owned());

    let sink = MemorySink::builder()
        .workers(4)
        .queue_capacity(1024)
        .dedup(MemoryDedup::new())
        .start(handler_fn(|event: Event| async move {
            std::hint::black_box(event);
            Ok::<(), Infallible>(())
        }))?;
    let verifier = Verifier::new(AppSecret::new(secret.clone())?);
    let handshake = Handshake::new(VerifyToken::new("loadtest-token")?);
    let webhook =
        Webhook::new(Endpoint::builder(verifier.clone(), handshake.clone(), sink.clone()).build());
    // The same without dedup: the endpoint and the hand-off to the workers.
    let memory = MemorySink::builder()
        .workers(4)
        .queue_capacity(1024)
        .start(handler_fn(|event: Event| async move {
            std::hint::black_box(event);
            Ok::<(), Infallible>(())
        }))?;
    let webhook_memory = Webhook::new(
        Endpoint::builder(verifier.clone(), handshake.clone(), memory.clone()).build(),
    );
    // The same endpoint over a sink that drops deliveries: the endpoint alone.
    let discard = Webhook::new(Endpoint::builder(verifier, handshake, Discard).build());
    // Shared, as the webhook's is: the handler is cloned per request.
    let floor_verifier = std::sync::Arc::new(Verifier::new(AppSecret::new(secret.clone())?));
    let stats = sink.clone();
    let app = Router::new()
        .route_service("/webhook", webhook)
        .route_service("/webhook-memory", webhook_memory)
        .route_service("/webhook-discard", discard)
        .route("/plain", post(|| async {}))
        .route("/plain-read", post(|body: Bytes| async move { drop(body) }))
        .route(
            "/floor",
            post(move |request: Request| async move {
                // The parts are taken, not cloned (the `HeaderMap` extractor would clone).
                let (parts, body) = request.into_parts();
                match axum::body::to_bytes(body, DEFAULT_BODY_LIMIT).await {
                    Ok(body) => floor(&floor_verifier, &parts.headers, &body),
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            }),
        )
        .route(
            "/stats",
            get(move || {
                let stats = stats.stats();
                async move { stats_line(stats) }
            }),
        );

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("loadtest-server listening on {}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await?;
    memory.shutdown().await;
    sink.shutdown().await;
    eprintln!("loadtest-server stopped: {}", stats_line(sink.stats()));
    Ok(())
}
