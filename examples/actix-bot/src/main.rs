//! Run with: cargo run -p actix-bot
//!
//! The same auto-responder as `axum-bot`, on actix-web. The webhook is thin glue over the
//! `meta-webhooks` core API: the raw body as `web::Bytes` → [`Verifier::verify`] (401) →
//! [`Delivery::from_slice`] (400) → a [`Batch`] handed to the bot's sink (503 when the
//! state store is down, 200 once queued). The queue's workers call
//! [`bot_kit::Bot::handle`] once per event (dedup in memory or Redis). Also serves
//! `/healthz`, `/metrics` and `POST /admin/conversations/{account}/{igsid}/resolve`.
//!
//! `BOT_ROLE=receiver|worker|all` (with `REDIS_URL`) splits webhook intake from handling
//! across processes (see `bot_kit::stream`). SIGTERM or Ctrl-C shut it down gracefully.
//!
//! With no environment at all it listens on 127.0.0.1:3000 with in-memory state, rules
//! only and a dry-run sender; the generated dev secret and verify token are printed.

use std::process::ExitCode;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bot_kit::{Bot, BotSink, Config, Reply};
use meta_webhooks::sink::{Batch, Sink};
use meta_webhooks::tower::DEFAULT_BODY_LIMIT;
use meta_webhooks::{Delivery, Handshake, Verifier};

/// Everything a request handler needs.
struct AppState {
    bot: Bot,
    sink: BotSink,
    verifier: Verifier,
    handshake: Handshake,
}

fn main() -> ExitCode {
    let config = match bot_kit::init_from_env() {
        Ok(config) => config,
        Err(code) => return code,
    };
    match actix_web::rt::System::new().block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix-bot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    config.announce();
    let bot = Bot::from_config(&config).await?;
    let running = bot.start().await?;
    let state = web::Data::new(AppState {
        bot,
        sink: running.sink(),
        verifier: Verifier::new(config.app_secret.clone()),
        handshake: Handshake::new(config.verify_token.clone()),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(DEFAULT_BODY_LIMIT))
            .route("/webhook", web::get().to(handshake))
            .route("/webhook", web::post().to(delivery))
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics))
            .route(
                "/admin/conversations/{account}/{igsid}/resolve",
                web::post().to(resolve),
            )
    })
    .workers(2)
    // actix-web handles SIGTERM/SIGINT itself: stop accepting, finish in-flight requests.
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .bind(config.listen)?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await?;
    if !running.shutdown().await {
        eprintln!("actix-bot: shutdown timeout; unfinished work is left for other workers");
    }
    Ok(())
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn handshake(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match state.handshake.respond(req.query_string()) {
        Ok(challenge) => HttpResponse::Ok()
            .content_type("text/plain")
            .body(challenge.as_str().to_owned()),
        Err(error) => {
            tracing::warn!(%error, "handshake refused");
            HttpResponse::build(status(error.status().as_u16())).finish()
        }
    }
}

async fn delivery(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let verified = match state.verifier.verify(&body, header) {
        Ok(verified) => verified,
        Err(error) => {
            state.bot.metrics().record_signature_failure();
            tracing::warn!(%error, "delivery refused");
            return HttpResponse::build(status(error.status().as_u16())).finish();
        }
    };
    let delivery = match Delivery::from_slice(&body) {
        Ok(delivery) => delivery,
        Err(error) => {
            tracing::warn!(%error, "verified body is not a delivery");
            return HttpResponse::BadRequest().finish();
        }
    };
    match state
        .sink
        .accept(Batch::new(body, verified, delivery))
        .await
    {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(error) => {
            tracing::warn!(%error, "delivery not accepted");
            HttpResponse::build(status(error.status().as_u16())).finish()
        }
    }
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    into_response(state.bot.health().await)
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    into_response(state.bot.metrics_text())
}

async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, igsid) = path.into_inner();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    into_response(
        state
            .bot
            .admin_resolve(authorization, &account, &igsid)
            .await,
    )
}

fn into_response(reply: Reply) -> HttpResponse {
    HttpResponse::build(status(reply.status))
        .content_type(reply.content_type)
        .body(reply.body)
}
