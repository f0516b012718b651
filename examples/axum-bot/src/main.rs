//! Run with: cargo run -p axum-bot
//!
//! An Instagram/Messenger auto-responder on axum. `/webhook` is the library's
//! [`Endpoint`] served by its tower adapter (handshake, body limit and deadline, signature
//! check, 200 only once the delivery is queued); the queue's
//! workers call [`bot_kit::Bot::handle`] once per event (dedup in memory or Redis). Also
//! serves `/healthz`, `/metrics` and `POST /admin/conversations/{account}/{igsid}/resolve`.
//!
//! `BOT_ROLE=receiver|worker|all` (with `REDIS_URL`) splits webhook intake from handling
//! across processes (see `bot_kit::stream`). SIGTERM or Ctrl-C shut it down gracefully.
//!
//! With no environment at all it listens on 127.0.0.1:3000, keeps state in memory, answers
//! with rules only and prints each reply instead of sending it; the generated dev app
//! secret and verify token are printed at start-up. See `bot_kit::config` for every
//! variable.

use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bot_kit::{Bot, Config, Reply};
use meta_webhooks::endpoint::{Endpoint, Rejection, RejectionKind};
use meta_webhooks::tower::Webhook;
use meta_webhooks::{Handshake, Verifier};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bot_kit::init_from_env() {
        Ok(config) => config,
        Err(code) => return code,
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum-bot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    config.announce();
    let bot = Bot::from_config(&config).await?;
    let running = bot.start().await?;
    let endpoint = Endpoint::builder(
        Verifier::new(config.app_secret.clone()),
        Handshake::new(config.verify_token.clone()),
        running.sink(),
    )
    .build();
    let app = Router::new()
        .route_service("/webhook", Webhook::new(endpoint))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/admin/conversations/{account}/{igsid}/resolve",
            post(resolve),
        )
        .layer(axum::middleware::map_response_with_state(
            bot.clone(),
            count_rejections,
        ))
        .with_state(bot);

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then drain the work.
    axum::serve(listener, app)
        .with_graceful_shutdown(bot_kit::shutdown_signal())
        .await?;
    if !running.shutdown().await {
        eprintln!("axum-bot: shutdown timeout; unfinished work is left for other workers");
    }
    Ok(())
}

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
