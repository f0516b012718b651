//! Tower adapter of the webhook [`Endpoint`](crate::endpoint::Endpoint) (feature `tower`):
//! for axum, hyper and anything else that serves a tower [`Service`](tower_service::Service).
//!
//! The HTTP contract (handshake, body limit and deadline, signature, parse, hand-off to
//! the sink, statuses, logging) is the endpoint's; see [`crate::endpoint`]. This module
//! only adapts it, following tower-http's layout: [`Webhook`] (the service),
//! [`WebhookLayer`] (to wrap an inner service that produces the acknowledgement, or to
//! answer rejections differently), [`ResponseFuture`] / [`ResponseBody`], and
//! [`RejectionResponse`] / [`DefaultRejection`]. A rejection's response carries its
//! [`Rejection`](crate::endpoint::Rejection) in the extensions.
//!
//! Build the [`Endpoint`](crate::endpoint::Endpoint) with its builder, then serve
//! `Webhook::new(endpoint)`; there is no other way to configure the endpoint.
//!
//! # With axum
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use axum::Router;
//! use meta_webhooks::endpoint::Endpoint;
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
//!     let endpoint = Endpoint::builder(verifier, handshake, sink.clone()).build();
//!
//!     let app = Router::new().route_service("/webhook", Webhook::new(endpoint));
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
//! The endpoint bounds the body (limit and deadline); bound the request head and idle
//! connections where the connection is served (hyper's `header_read_timeout`, with a
//! timer: hyper starts it when it waits for a request, so it also closes idle keep-alive
//! connections), and the number of connections in the accept loop (a semaphore; refuse
//! the connection at once when it is full). See [serving the endpoint](crate::endpoint#serving-it)
//! for the limits and the memory bound they give.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use hyper::server::conn::http1;
//! use hyper_util::rt::{TokioIo, TokioTimer};
//! use hyper_util::service::TowerToHyperService;
//! use meta_webhooks::endpoint::Endpoint;
//! use meta_webhooks::event::Event;
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::tower::Webhook;
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//! use tokio::sync::Semaphore;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let sink = MemorySink::builder().start(handler_fn(|event: Event| async move {
//!         let _ = event.text();
//!         Ok::<(), Infallible>(())
//!     }))?;
//!     let endpoint = Endpoint::builder(
//!         Verifier::new(AppSecret::new(std::env::var("IG_APP_SECRET")?)?),
//!         Handshake::new(VerifyToken::new(std::env::var("IG_VERIFY_TOKEN")?)?),
//!         sink,
//!     )
//!     .body_limit(1024 * 1024)
//!     .body_timeout(Duration::from_secs(10))
//!     .build();
//!     let webhook = Webhook::new(endpoint);
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     let connections = Arc::new(Semaphore::new(256)); // × body limit = the memory bound
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
//!             continue; // full: drop (close) the connection at once, never queue it
//!         };
//!         let service = TowerToHyperService::new(webhook.clone());
//!         tokio::spawn(async move {
//!             let _ = http1::Builder::new()
//!                 .timer(TokioTimer::new())
//!                 .header_read_timeout(Duration::from_secs(5))
//!                 .serve_connection(TokioIo::new(stream), service)
//!                 .await;
//!             drop(permit);
//!         });
//!     }
//! }
//! ```
//!
//! # In-process, with `tower::ServiceExt`
//!
//! ```
//! use http::{Request, StatusCode};
//! use meta_webhooks::endpoint::{Endpoint, Rejection, RejectionKind};
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::tower::Webhook;
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sink = MemorySink::builder()
//!     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
//!     .unwrap();
//! let endpoint = Endpoint::builder(
//!     Verifier::new(AppSecret::new("app-secret").unwrap()),
//!     Handshake::new(VerifyToken::new("verify-token").unwrap()),
//!     sink.clone(),
//! )
//! .build();
//! let webhook = Webhook::new(endpoint);
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
//! let response = webhook.oneshot(forged).await.unwrap();
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! let rejection = response.extensions().get::<Rejection>().unwrap();
//! assert_eq!(rejection.kind(), RejectionKind::Signature);
//! sink.shutdown().await;
//! # }
//! ```

pub mod future;
mod layer;
pub mod rejection;
mod service;

pub use future::{ResponseBody, ResponseFuture};
pub use layer::WebhookLayer;
pub use rejection::{DefaultRejection, RejectionResponse};
pub use service::{Acknowledge, Webhook};
