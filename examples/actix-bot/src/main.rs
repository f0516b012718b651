//! Run with: cargo run -p actix-bot
//!
//! The same auto-responder as `axum-bot` (Instagram, Messenger and WhatsApp on one URL,
//! signed with either app secret), on actix-web. The webhook is thin glue over the
//! library's framework-neutral [`Endpoint`]: the handshake, and for a delivery the body
//! read as a stream within the body limit (413) and deadline (408), every
//! `X-Hub-Signature-256` header (none, a wrong one or more than one: 401), parse (400) and
//! the hand-off to the bot's sink (503 when it refuses, 200 once queued); other methods
//! get 405. The queue's workers call [`bot_kit::Bot::handle`] once per event (dedup in
//! memory or Redis). The public listener also serves `/healthz`; a second server on
//! `ADMIN_ADDR` (default `127.0.0.1:3001`, loopback) serves `/healthz`, `/metrics` and
//! `POST /admin/conversations/{account}/{igsid}/resolve`, so neither is reachable on the
//! public port.
//!
//! `BOT_ROLE=receiver|worker|all` (with `REDIS_URL`) splits webhook intake from handling
//! across processes over Redis Streams (see `meta_webhooks::redis`). SIGTERM or Ctrl-C
//! shut it down gracefully, within `SHUTDOWN_TIMEOUT_SECS` as a whole.
//!
//! The limits of [`bot_kit::serve`] map onto actix-web's settings:
//! `client_request_timeout` (header read timeout), `keep_alive`, `max_connections` (split
//! over the workers; the accept backlog is as large) and the endpoint's body limit and
//! whole-body deadline (`408`); unauthenticated bodies hold at most body limit ×
//! connection cap. A request with both `Content-Length` and `Transfer-Encoding` is refused
//! by actix-web's parser.
//!
//! With no environment at all it listens on 127.0.0.1:3000 with in-memory state, rules
//! only and a dry-run sender; the generated dev secret and verify token are printed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::{KeepAlive, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bot_kit::{Bot, BotSink, Config, Reply, ServeConfig};
use meta_webhooks::endpoint::{Answer, Endpoint, RejectionKind};
use meta_webhooks::signature::SIGNATURE_HEADER;

/// Everything a request handler needs.
struct AppState {
    bot: Bot,
    endpoint: Endpoint<BotSink>,
}

fn main() -> ExitCode {
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
    match actix_web::rt::System::new().block_on(run(config, serve)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix-bot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, serve: ServeConfig) -> Result<(), Box<dyn std::error::Error>> {
    config.announce();
    let bot = Bot::from_config(&config).await?;
    let running = bot.start().await?;
    let endpoint = bot_kit::serve::endpoint(&config, &serve, running.sink());
    let state = web::Data::new(AppState { bot, endpoint });
    // The serving limits both servers share: header read timeout, keep-alive, accept
    // backlog and the shutdown budget. The signal is handled below, so the whole stop is
    // timed from it.
    macro_rules! limits {
        ($server:expr) => {
            $server
                .backlog(u32::try_from(serve.max_connections).unwrap_or(u32::MAX))
                .client_request_timeout(serve.header_read_timeout)
                .client_disconnect_timeout(Duration::from_secs(1))
                .keep_alive(
                    serve
                        .keep_alive
                        .map_or(KeepAlive::Disabled, KeepAlive::Timeout),
                )
                .shutdown_timeout(config.shutdown_timeout.as_secs())
                .disable_signals()
        };
    }
    // actix-web counts `max_connections` per worker.
    let per_worker = serve.max_connections.div_ceil(WORKERS).max(1);
    let public_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(public_state.clone())
            .service(
                web::resource("/webhook")
                    .get(handshake)
                    .post(delivery)
                    .default_service(web::to(other_method)),
            )
            .route("/healthz", web::get().to(healthz))
    })
    .workers(WORKERS)
    .max_connections(per_worker);
    let server = limits!(server).bind(config.listen)?;
    let admin = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics))
            .route(
                "/admin/conversations/{account}/{igsid}/resolve",
                web::post().to(resolve),
            )
    })
    .workers(1)
    .max_connections(serve.max_connections);
    let admin = limits!(admin).bind(config.admin_listen)?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    for addr in admin.addrs() {
        println!("admin listening on http://{addr} (/metrics, /admin, /healthz)");
    }
    let server = server.run();
    let admin = admin.run();
    let (handle, admin_handle) = (server.handle(), admin.handle());
    let (stopping, mut stop_started) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        bot_kit::shutdown_signal().await;
        let _ = stopping.send(Instant::now());
        // Stop accepting, let in-flight requests finish within `shutdown_timeout`.
        tokio::join!(handle.stop(true), admin_handle.stop(true));
    });
    let (served, admin_served) = tokio::join!(server, admin);
    served?;
    admin_served?;
    // `SHUTDOWN_TIMEOUT_SECS` bounds the whole stop, from the signal on.
    let started = stop_started.try_recv().unwrap_or_else(|_| Instant::now());
    let drained = tokio::time::timeout_at(
        (started + config.shutdown_timeout).into(),
        running.shutdown(),
    )
    .await
    .unwrap_or(false);
    if !drained {
        eprintln!("actix-bot: shutdown timeout; unfinished work is left for other workers");
    }
    Ok(())
}

/// Worker threads of the HTTP server.
const WORKERS: usize = 2;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn handshake(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(state.endpoint.handshake(req.query_string()).into())
}

/// Every `X-Hub-Signature-256` value goes to the endpoint: it refuses none or several.
async fn delivery(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let endpoint = &state.endpoint;
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse().ok());
    let signatures = req
        .headers()
        .get_all(SIGNATURE_HEADER.as_str())
        .map(|v| v.as_bytes());
    let outcome = match endpoint.read_stream(length, body).await {
        Ok(body) => endpoint.deliver_signatures(signatures, body).await,
        Err(rejection) => Err(rejection),
    };
    if let Err(rejection) = &outcome
        && rejection.kind() == RejectionKind::Signature
    {
        state.bot.metrics().record_signature_failure();
    }
    respond(outcome.into())
}

async fn other_method(state: web::Data<AppState>) -> HttpResponse {
    respond(state.endpoint.method_not_allowed().into())
}

/// The endpoint's answer as an actix-web response.
fn respond(answer: Answer) -> HttpResponse {
    let mut response = HttpResponse::build(status(answer.status().as_u16()));
    for header in answer.headers() {
        response.insert_header(header);
    }
    response.body(answer.into_body())
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
