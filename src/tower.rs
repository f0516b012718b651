//! Tower middleware (feature `tower`): verify, acknowledge fast, hand off to workers.
//!
//! Meta wants a `200` within seconds, retries for up to 36 hours, delivers duplicates and
//! batches of up to 1000 items. [`Webhook`] is the endpoint that does the right thing by
//! default:
//!
//! | Request | Answer |
//! |---|---|
//! | `GET` handshake | `200` with the challenge as `text/plain`; `403` wrong mode/token; `400` malformed |
//! | `POST` body over the limit (default 4 MiB) | `413`, from `Content-Length` or while reading, before any hashing |
//! | `POST` bad or missing `X-Hub-Signature-256` | `401`, nothing parsed |
//! | `POST` verified body that is not a delivery | `400` |
//! | `POST` delivery the [`Sink`](crate::sink::Sink) refused (full, closed, failing) | `503`, so Meta retries |
//! | `POST` delivery the sink accepted | `200` (from the inner service, [`Acknowledge`]) |
//! | any other method | `405` |
//!
//! A `200` is sent only after [`Sink::accept`](crate::sink::Sink::accept) returned `Ok`: nothing acknowledged is
//! lost to a full queue. Rejections are small (status + reason phrase; pluggable with
//! [`RejectionResponse`]), carry their [`Rejection`] in the response extensions, and are
//! logged with `tracing` at `warn` without secrets, signatures or body contents.
//!
//! The layout follows tower-http: [`WebhookLayer`] (configuration, a
//! [`tower_layer::Layer`]), [`Webhook`] (the service), [`ResponseFuture`] /
//! [`ResponseBody`], and [`Rejection`]. Behind the service sit the [`Sink`](crate::sink::Sink) trait and
//! [`MemorySink`](crate::sink::MemorySink) (bounded queue, per-conversation ordered workers calling your
//! [`Handler`](crate::sink::Handler), graceful drain), and the [`Dedup`](crate::sink::Dedup) trait with [`MemoryDedup`](crate::sink::MemoryDedup) (claim →
//! complete, released on failure, TTL-bounded) so a redelivered event is handled once.
//!
//! **[`MemorySink`](crate::sink::MemorySink) is not durable**: deliveries it accepted but has not handled yet are
//! lost if the process crashes. The example bots provide a durable sink (Redis Streams)
//! implementing the same [`Sink`](crate::sink::Sink) trait.
//!
//! # Timeouts
//!
//! The middleware sets **no timeout on reading the request body**: a client that sends
//! headers and then trickles (or never finishes) the body keeps its request, and the
//! connection, open for as long as the server lets it. Bound it where the server is
//! built: tower-http's `TimeoutLayer` around the service (e.g.
//! `TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10))`),
//! hyper's `header_read_timeout` for the head, or your proxy's body timeout. A deadline that fires before [`Sink::accept`](crate::sink::Sink::accept) returned loses nothing (no
//! `200` was sent, Meta retries); one that fires after it only costs a redelivery,
//! which [`Dedup`](crate::sink::Dedup) absorbs. The same with axum's own middleware, no extra dependency:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use axum::extract::Request;
//! use axum::http::StatusCode;
//! use axum::middleware::{self, Next};
//! use axum::response::{IntoResponse, Response};
//! use axum::Router;
//! # use meta_webhooks::{sink::{MemorySink, handler_fn}, tower::Webhook};
//! # use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! /// The whole request, body included, within 10 s; else `408` (Meta retries).
//! async fn deadline(request: Request, next: Next) -> Response {
//!     tokio::time::timeout(Duration::from_secs(10), next.run(request))
//!         .await
//!         .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response())
//! }
//!
//! # async fn app() -> Result<Router, Box<dyn std::error::Error>> {
//! # let sink = MemorySink::builder().start(handler_fn(|_event| async {
//! #     Ok::<(), std::convert::Infallible>(())
//! # }))?;
//! # let webhook = Webhook::new(
//! #     Verifier::new(AppSecret::new("app-secret")?),
//! #     Handshake::new(VerifyToken::new("verify-token")?),
//! #     sink,
//! # );
//! let app = Router::new()
//!     .route_service("/webhook", webhook)
//!     .layer(middleware::from_fn(deadline));
//! # Ok(app)
//! # }
//! ```
//!
//! # With axum
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use axum::Router;
//! use meta_webhooks::event::Event;
//! use meta_webhooks::sink::{MemoryDedup, MemorySink, handler_fn};
//! use meta_webhooks::tower::Webhook;
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::new(AppSecret::new(std::env::var("IG_APP_SECRET")?)?);
//!     let handshake = Handshake::new(VerifyToken::new(std::env::var("IG_VERIFY_TOKEN")?)?);
//!     let sink = MemorySink::builder()
//!         .dedup(MemoryDedup::new())
//!         .start(handler_fn(|event: Event| async move {
//!             println!("{} from {:?}", event.kind().as_str(), event.sender());
//!             Ok::<(), Infallible>(())
//!         }))?;
//!
//!     let app = Router::new()
//!         .route_service("/webhook", Webhook::new(verifier, handshake, sink.clone()));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app)
//!         .with_graceful_shutdown(async {
//!             let _ = tokio::signal::ctrl_c().await;
//!         })
//!         .await?;
//!     sink.shutdown().await; // handle everything that was acknowledged
//!     Ok(())
//! }
//! ```
//!
//! # With hyper, as a plain service
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use hyper::server::conn::http1;
//! use hyper_util::rt::TokioIo;
//! use hyper_util::service::TowerToHyperService;
//! use meta_webhooks::event::Event;
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::tower::WebhookLayer;
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let sink = MemorySink::builder().start(handler_fn(|event: Event| async move {
//!         let _ = event.text();
//!         Ok::<(), Infallible>(())
//!     }))?;
//!     let webhook = WebhookLayer::new(
//!         Verifier::new(AppSecret::new(std::env::var("IG_APP_SECRET")?)?),
//!         Handshake::new(VerifyToken::new(std::env::var("IG_VERIFY_TOKEN")?)?),
//!         sink,
//!     )
//!     .body_limit(1024 * 1024)
//!     .into_service();
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let service = TowerToHyperService::new(webhook.clone());
//!         tokio::spawn(async move {
//!             let _ = http1::Builder::new()
//!                 .serve_connection(TokioIo::new(stream), service)
//!                 .await;
//!         });
//!     }
//! }
//! ```
//!
//! # In-process, with `tower::ServiceExt`
//!
//! ```
//! use http::{Request, StatusCode};
//! use meta_webhooks::{sink::{MemorySink, handler_fn}, tower::Webhook};
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sink = MemorySink::builder()
//!     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
//!     .unwrap();
//! let webhook = Webhook::new(
//!     Verifier::new(AppSecret::new("app-secret").unwrap()),
//!     Handshake::new(VerifyToken::new("verify-token").unwrap()),
//!     sink.clone(),
//! );
//!
//! let body = r#"{"object":"instagram","entry":[]}"#;
//! let request = Request::post("/webhook")
//!     .header("x-hub-signature-256", meta_webhooks::test_util::sign("app-secret", body.as_bytes()))
//!     .body(body.to_owned())
//!     .unwrap();
//! let response = webhook.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! let forged = Request::post("/webhook")
//!     .header("x-hub-signature-256", meta_webhooks::test_util::sign("guess", body.as_bytes()))
//!     .body(body.to_owned())
//!     .unwrap();
//! assert_eq!(webhook.oneshot(forged).await.unwrap().status(), StatusCode::UNAUTHORIZED);
//! sink.shutdown().await;
//! # }
//! ```

pub mod future;
mod layer;
pub mod rejection;
mod service;

pub use future::{ResponseBody, ResponseFuture};
pub use layer::WebhookLayer;
pub use rejection::{BodyError, DefaultRejection, Rejection, RejectionKind, RejectionResponse};
pub use service::{Accepted, Acknowledge, DEFAULT_BODY_LIMIT, Webhook};
