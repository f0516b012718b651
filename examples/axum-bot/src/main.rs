//! Run with: cargo run -p axum-bot
//!
//! An Instagram, Messenger and WhatsApp auto-responder on axum. `/webhook` is the
//! library's [`Endpoint`](meta_webhooks::endpoint::Endpoint) served by its tower adapter
//! (handshake, body limit and deadline, signature check with either app secret,
//! `IG_APP_SECRET` or `WA_APP_SECRET`, 200 only once the delivery is queued): one URL
//! takes all three products' deliveries ([`bot_kit::serve::endpoint`]); the queue's
//! workers call [`bot_kit::Bot::handle`] once per event (dedup in memory or Redis). The
//! public listener also serves `/healthz`; a second listener on `ADMIN_ADDR` (default
//! `127.0.0.1:3001`, loopback) serves `/healthz`, `/metrics` and
//! `POST /admin/conversations/{account}/{igsid}/resolve`, so neither is reachable on the
//! public port.
//!
//! `BOT_ROLE=receiver|worker|all` (with `REDIS_URL`) splits webhook intake from handling
//! across processes over Redis Streams (see `meta_webhooks::redis`). SIGTERM or Ctrl-C
//! shut it down gracefully, within `SHUTDOWN_TIMEOUT_SECS` as a whole.
//!
//! It serves HTTP/1 from its own accept loop (hyper-util's connection builder) with the
//! limits of [`bot_kit::serve`]: header read timeout, whole-body deadline (`408`), idle
//! keep-alive timeout, a connection cap (excess connections get `503` at once) and a body
//! limit (`413`); unauthenticated bodies hold at most body limit × connection cap.
//!
//! With no environment at all it listens on 127.0.0.1:3000, keeps state in memory, answers
//! with rules only and prints each reply instead of sending it; the generated dev app
//! secret and verify token are printed at start-up. See `bot_kit::config` for every
//! variable, and `bot_kit::serve` for the serving limits.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bot_kit::{Bot, Config, Reply, ServeConfig};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use meta_webhooks::endpoint::{Rejection, RejectionKind};
use meta_webhooks::tower::Webhook;
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bot_kit::init_from_env() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let serve = match ServeConfig::from_env() {
        Ok(serve) => serve,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    match run(config, serve).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum-bot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, serve: ServeConfig) -> Result<(), Box<dyn std::error::Error>> {
    config.announce();
    let bot = Bot::from_config(&config).await?;
    let running = bot.start().await?;
    let endpoint = bot_kit::serve::endpoint(&config, &serve, running.sink());
    let public = Router::new()
        .route_service("/webhook", Webhook::new(endpoint))
        .route("/healthz", get(healthz))
        .layer(axum::middleware::map_response_with_state(
            bot.clone(),
            count_rejections,
        ))
        .with_state(bot.clone());
    let admin = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/admin/conversations/{account}/{igsid}/resolve",
            post(resolve),
        )
        .with_state(bot);

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let admin_listener = tokio::net::TcpListener::bind(config.admin_listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!(
        "admin listening on http://{} (/metrics, /admin, /healthz)",
        admin_listener.local_addr()?
    );
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        bot_kit::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let (graceful, admin_graceful) = tokio::join!(
        serve_until_signal(listener, public, &serve, stopping.clone()),
        serve_until_signal(admin_listener, admin, &serve, stopping),
    );
    // SIGTERM/SIGINT: `SHUTDOWN_TIMEOUT_SECS` bounds the whole stop, from the signal on:
    // in-flight requests first (a stalled body ends with its deadline or is cut here), then
    // the queue's work. Connections still open when `main` returns are dropped.
    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    let both = async { tokio::join!(graceful.shutdown(), admin_graceful.shutdown()) };
    if tokio::time::timeout_at(deadline, both).await.is_err() {
        eprintln!("axum-bot: shutdown timeout; open connections are closed");
    }
    let drained = tokio::time::timeout_at(deadline, running.shutdown())
        .await
        .unwrap_or(false);
    if !drained {
        eprintln!("axum-bot: shutdown timeout; unfinished work is left for other workers");
    }
    Ok(())
}

/// Serves `app` on `listener` until `stopping` turns true (SIGTERM or SIGINT), then stops accepting and returns
/// the open connections (each already told to finish its request and close).
///
/// Each connection is an HTTP/1 connection with the header read timeout and keep-alive of
/// `serve` (hyper arms its header timer when it starts waiting for a request, so it also
/// closes idle keep-alive connections). At most `MAX_CONNECTIONS` are open at once: one
/// more is answered `503` and closed at once, never queued.
async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    app: Router,
    serve: &ServeConfig,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> GracefulShutdown {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    let idle = serve.keep_alive.unwrap_or_default();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(serve.header_read_timeout.max(idle))
        .keep_alive(serve.keep_alive.is_some());
    let service = TowerToHyperService::new(app);
    let permits = Arc::new(Semaphore::new(serve.max_connections));
    let graceful = GracefulShutdown::new();
    let signal = stopping.wait_for(|stop| *stop);
    tokio::pin!(signal);
    loop {
        let stream = tokio::select! {
            _ = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            let _ = stream.try_write(TOO_MANY_CONNECTIONS);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection(TokioIo::new(stream), service.clone())
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    graceful
}

/// The answer to a connection over `MAX_CONNECTIONS`, written once without waiting.
const TOO_MANY_CONNECTIONS: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// Counts signature failures for `/metrics` (the tower service puts its rejection in the
/// response extensions).
async fn count_rejections(State(bot): State<Bot>, response: Response<Body>) -> Response<Body> {
    if response
        .extensions()
        .get::<Rejection>()
        .is_some_and(|rejection| rejection.kind() == RejectionKind::Signature)
    {
        bot.metrics().record_signature_failure();
    }
    response
}

async fn healthz(State(bot): State<Bot>) -> Response<Body> {
    into_response(bot.health().await)
}

async fn metrics(State(bot): State<Bot>) -> Response<Body> {
    into_response(bot.metrics_text())
}

async fn resolve(
    State(bot): State<Bot>,
    Path((account, igsid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    into_response(bot.admin_resolve(authorization, &account, &igsid).await)
}

fn into_response(reply: Reply) -> Response<Body> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, reply.content_type)],
        reply.body,
    )
        .into_response()
}
