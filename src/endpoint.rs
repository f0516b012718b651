//! The webhook endpoint, framework-neutral (feature `sink`): handshake, body limit, body
//! deadline, signature, parse, hand-off to a [`Sink`].
//!
//! [`Endpoint`] owns the HTTP contract of a Meta webhook. The tower adapter
//! (`tower::Webhook`, feature `tower`) wraps it for axum and hyper; any
//! other framework calls it directly in a few lines (see [With another framework](#with-another-framework)).
//!
//! | Request | Answer |
//! |---|---|
//! | `GET` handshake | `200` with the challenge as `text/plain`; `403` wrong mode or token; `400` malformed |
//! | `POST` body over the limit (default [`DEFAULT_BODY_LIMIT`], 4 MiB) | `413`, from `Content-Length` or while reading, before any hashing |
//! | `POST` body not complete within the body timeout (default [`DEFAULT_BODY_TIMEOUT`], 10 s) | `408` |
//! | `POST` missing, malformed, wrong or **repeated** `X-Hub-Signature-256` | `401`, nothing parsed |
//! | `POST` verified body that is not a delivery | `400` |
//! | `POST` delivery the [`Sink`] refused (full, closed, failing) | `503`, so Meta retries |
//! | `POST` delivery the sink accepted | `200` |
//! | any other method | `405` with `Allow: GET, POST` |
//!
//! A `200` is given only after [`Sink::accept`] returned `Ok`: nothing acknowledged is lost
//! to a full queue. Every [`Rejection`] is logged with `tracing` at `warn` (its
//! [`kind`](RejectionKind::as_str), status and cause), never with a secret, a signature,
//! a token or body contents. At most 10 lines per second are written for each kind (per
//! endpoint and its clones), so a flood of bad requests cannot flood the log; the first
//! line written after some were left out carries their number in `suppressed`.
//!
//! # Building it
//!
//! There is one way: [`Endpoint::builder`] with the [`Verifier`], the [`Handshake`] and
//! the sink, then the optional settings, then [`build`](EndpointBuilder::build). Cloning
//! an `Endpoint` is cheap (one `Arc`).
//!
//! ```
//! use std::time::Duration;
//!
//! use meta_webhooks::endpoint::Endpoint;
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sink = MemorySink::builder().start(handler_fn(|event: meta_webhooks::Event| async move {
//!     let _ = event; // reply …
//!     Ok::<(), std::convert::Infallible>(())
//! }))?;
//! let endpoint = Endpoint::builder(
//!     Verifier::new(AppSecret::new("app-secret")?),
//!     Handshake::new(VerifyToken::new("verify-token")?),
//!     sink.clone(),
//! )
//! .body_limit(1024 * 1024)
//! .body_timeout(Duration::from_secs(5))
//! .build();
//! assert_eq!(endpoint.body_limit(), 1024 * 1024);
//! # sink.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Serve it with tower (axum, hyper) through `tower::Webhook::new(endpoint)`, or call it
//! from your framework's handlers as below.
//!
//! # The body deadline
//!
//! Unauthenticated bodies are buffered before their signature can be checked, so a
//! client that sends the headers and then trickles the body (or stalls) would hold up to
//! the body limit per connection for as long as the server lets it. The endpoint reads the
//! body within a deadline measured from the start of reading, [`DEFAULT_BODY_TIMEOUT`]
//! (10 s) unless set with [`EndpointBuilder::body_timeout`] (`None` turns it off), and
//! answers `408` when it passes; Meta retries. A body that is complete at once arms no timer.
//! The deadline covers the *whole* body, unlike timeouts that reset per chunk.
//!
//! It applies where the endpoint reads the body: [`receive`](Endpoint::receive),
//! [`read_body`](Endpoint::read_body) and [`read_stream`](Endpoint::read_stream) (and
//! the tower adapter, which calls `receive`). A framework that buffers the body before
//! your handler runs (actix-web's `web::Bytes`, axum's `Bytes` extractor) reads it
//! outside the endpoint's reach: take the body as a stream instead (actix-web's
//! `web::Payload`) and pass it to [`read_stream`](Endpoint::read_stream), or bound the
//! read with the framework's own timeout. The deadline needs a Tokio runtime with its timer
//! (`#[tokio::main]`, actix-web's runtime and `Builder::enable_all` have one).
//!
//! The deadline bounds the body only: bound the rest where the connection is served (see
//! [Serving it](#serving-it)).
//!
//! # Serving it
//!
//! The endpoint is public and its bodies are unauthenticated until they are read whole,
//! so what a hostile peer can hold is set by the endpoint's limits together with the
//! server's. Set all of these:
//!
//! | Limit | Where | Suggested |
//! |---|---|---|
//! | body size | [`EndpointBuilder::body_limit`] | [`DEFAULT_BODY_LIMIT`], 4 MiB (`413` above it) |
//! | whole body in time | [`EndpointBuilder::body_timeout`] | [`DEFAULT_BODY_TIMEOUT`], 10 s (`408` past it) |
//! | request head in time | hyper `http1::Builder::header_read_timeout` with a timer; actix-web `client_request_timeout` | 5 s |
//! | idle keep-alive connection | hyper: the same header timer (it starts when hyper waits for a request); actix-web `keep_alive` | 5 s |
//! | open connections | hyper: a semaphore in the accept loop, refusing at once when full; actix-web `max_connections` (per worker) | a few hundred |
//! | graceful stop | stop accepting, then wait for open requests *with a deadline*, then drop what is left | your `SIGTERM` budget |
//!
//! **Memory.** Each connection holds at most one body being read, so unauthenticated
//! bodies hold at most *body limit × maximum connections* (4 MiB × 256 = 1 GiB), each for
//! at most the body deadline. Lower either for a small machine.
//!
//! **Why 4 MiB.** Meta documents no maximum delivery size, only that one delivery batches
//! up to 1000 updates. A messaging update is typically well under 1 KiB; one with a
//! 1000-byte text written in `\uXXXX` escapes, attachment URLs and referral data stays
//! under about 4 KiB. 1000 updates × 4 KiB = 4 MiB, so the default takes the largest
//! batch and refuses more with `413` before any hashing.
//!
//! **`Content-Length` with `Transfer-Encoding`.** A request that carries both is how
//! request smuggling starts. hyper follows RFC 9112: the transfer coding wins, the length
//! is dropped and the connection is closed after the response; actix-web refuses the
//! request with `400`. Behind a reverse proxy, make the proxy refuse such requests (or
//! forward only the decoded body with its own framing) and never reuse the connection
//! to the server for one; both the proxy and the server must agree on one body, or the
//! rest of it becomes the next request.
//!
//! # With another framework
//!
//! The handlers call [`handshake`](Endpoint::handshake) for `GET`, and for `POST` read the
//! body ([`read_stream`](Endpoint::read_stream) or [`read_body`](Endpoint::read_body)),
//! then [`deliver`](Endpoint::deliver) (with an `http` [`HeaderMap`]) or
//! [`deliver_signatures`](Endpoint::deliver_signatures) (with every
//! `X-Hub-Signature-256` value of a framework with other header types). Any outcome turns
//! into an [`Answer`] (status, headers, body). With actix-web, for instance:
//!
//! ```text
//! async fn delivery(endpoint: web::Data<Endpoint<MySink>>, req: HttpRequest, body: web::Payload) -> HttpResponse {
//!     let length = req.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse().ok());
//!     let signatures = req.headers().get_all("x-hub-signature-256").map(|v| v.as_bytes());
//!     let outcome = match endpoint.read_stream(length, body).await {
//!         Ok(body) => endpoint.deliver_signatures(signatures, body).await,
//!         Err(rejection) => Err(rejection),
//!     };
//!     respond(Answer::from(outcome)) // status, headers() and into_body() into an HttpResponse
//! }
//! ```
//!
//! In-process, with a body already in memory:
//!
//! ```
//! use bytes::Bytes;
//! use http::{HeaderMap, StatusCode};
//! use meta_webhooks::endpoint::{Answer, Endpoint, RejectionKind};
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let sink = MemorySink::builder()
//! #     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
//! #     .unwrap();
//! let endpoint = Endpoint::builder(
//!     Verifier::new(AppSecret::new("app-secret").unwrap()),
//!     Handshake::new(VerifyToken::new("verify-token").unwrap()),
//!     sink.clone(),
//! )
//! .build();
//!
//! let body = Bytes::from_static(br#"{"object":"instagram","entry":[]}"#);
//! let mut headers = HeaderMap::new();
//! let signature = meta_webhooks::test_util::sign("app-secret", &body);
//! headers.insert("x-hub-signature-256", signature.parse().unwrap());
//! let accepted = endpoint.deliver(&headers, body.clone()).await.unwrap();
//! assert_eq!(accepted.events(), 0);
//!
//! // Two signature headers, even if one is right: 401.
//! headers.append("x-hub-signature-256", signature.parse().unwrap());
//! let rejection = endpoint.deliver(&headers, body).await.unwrap_err();
//! assert_eq!(rejection.kind(), RejectionKind::Signature);
//! assert_eq!(Answer::from(rejection).status(), StatusCode::UNAUTHORIZED);
//! # sink.shutdown().await;
//! # }
//! ```

mod answer;
mod log_limit;
mod read;
mod rejection;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue};
use http_body::Body;

use crate::handshake::{Challenge, Handshake};
use crate::payload::Delivery;
use crate::signature::{SIGNATURE_HEADER, Verified, Verifier};
use crate::sink::{Batch, Sink};

pub use answer::Answer;
pub use log_limit::LogLimit;
pub use rejection::{BodyError, Rejection, RejectionKind};

use read::StreamBody;
use rejection::Reason;

/// Default body limit: 4 MiB, Meta's largest batch (1000 updates) at about 4 KiB each;
/// see [Serving it](crate::endpoint#serving-it).
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Default body deadline: the whole body within 10 s of the start of reading, else `408`.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook endpoint; see the [module docs](self).
///
/// Build it with [`Endpoint::builder`]. Cloning is cheap (one `Arc`).
pub struct Endpoint<K> {
    inner: Arc<Inner<K>>,
}

struct Inner<K> {
    verifier: Verifier,
    handshake: Handshake,
    sink: K,
    body_limit: usize,
    body_timeout: Option<Duration>,
    log_limits: log_limit::LogLimits,
}

/// Configures an [`Endpoint`]; made by [`Endpoint::builder`].
pub struct EndpointBuilder<K> {
    verifier: Verifier,
    handshake: Handshake,
    sink: K,
    body_limit: usize,
    body_timeout: Option<Duration>,
}

impl<K: Sink> EndpointBuilder<K> {
    /// Sets the largest body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`]); larger
    /// ones get `413` before any hashing.
    #[must_use]
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Sets the deadline for the whole body, from the start of reading it (default
    /// [`DEFAULT_BODY_TIMEOUT`]); `None` turns it off. A body that misses it gets `408`.
    /// See [the body deadline](crate::endpoint#the-body-deadline).
    #[must_use]
    pub fn body_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.body_timeout = timeout.into();
        self
    }

    /// The endpoint.
    pub fn build(self) -> Endpoint<K> {
        Endpoint {
            inner: Arc::new(Inner {
                verifier: self.verifier,
                handshake: self.handshake,
                sink: self.sink,
                body_limit: self.body_limit,
                body_timeout: self.body_timeout,
                log_limits: log_limit::LogLimits::default(),
            }),
        }
    }
}

impl<K: Sink> Endpoint<K> {
    /// A builder of the endpoint that verifies with `verifier`, answers the handshake with
    /// `handshake` and hands deliveries to `sink`; the body limit is
    /// [`DEFAULT_BODY_LIMIT`] and the body timeout [`DEFAULT_BODY_TIMEOUT`] until set.
    pub fn builder(verifier: Verifier, handshake: Handshake, sink: K) -> EndpointBuilder<K> {
        EndpointBuilder {
            verifier,
            handshake,
            sink,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: Some(DEFAULT_BODY_TIMEOUT),
        }
    }

    /// The sink deliveries go to.
    pub fn sink(&self) -> &K {
        &self.inner.sink
    }

    /// The body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// The body deadline, if any.
    pub fn body_timeout(&self) -> Option<Duration> {
        self.inner.body_timeout
    }

    /// Answers a `GET` handshake from the request's query string (without the `?`; empty
    /// when there is none).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] of kind [`Handshake`](RejectionKind::Handshake): `403` for a wrong
    /// mode or token, `400` for a malformed query.
    pub fn handshake(&self, query: &str) -> Result<Challenge, Rejection> {
        match self.inner.handshake.respond(query) {
            Ok(challenge) => {
                tracing::info!("webhook handshake answered");
                Ok(challenge)
            }
            Err(error) => Err(self.logged(Reason::Handshake(error).into())),
        }
    }

    /// The rejection of a method other than `GET` and `POST` (`405`), logged.
    pub fn method_not_allowed(&self) -> Rejection {
        self.logged(Rejection::method_not_allowed())
    }

    /// The whole `POST` path for a request with `http` types: `413` from
    /// `Content-Length`, then [`read_body`](Self::read_body), then
    /// [`deliver`](Self::deliver).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] (`413`, `408`, `400`, `401`, `503`).
    pub async fn receive<B>(&self, headers: &HeaderMap, body: B) -> Result<Accepted, Rejection>
    where
        B: Body,
        B::Error: fmt::Display,
    {
        let limit = self.inner.body_limit;
        if declared_length(headers.get(CONTENT_LENGTH)).is_some_and(|len| read::over(limit, len)) {
            return Err(self.logged(Reason::TooLarge { limit }.into()));
        }
        let body = read::read(body, limit, self.inner.body_timeout)
            .await
            .map_err(|r| self.logged(r))?;
        self.hand_off(self.inner.verifier.verify_headers(&body, headers), body)
            .await
            .map_err(|r| self.logged(r))
    }

    /// Reads a request body within the body limit (`413` from its size hint or while
    /// reading, before any hashing) and the body deadline (`408`).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] of kind [`TooLarge`](RejectionKind::TooLarge),
    /// [`Timeout`](RejectionKind::Timeout) or [`Body`](RejectionKind::Body) (the body
    /// failed, e.g. the client went away).
    pub async fn read_body<B>(&self, body: B) -> Result<Bytes, Rejection>
    where
        B: Body,
        B::Error: fmt::Display,
    {
        read::read(body, self.inner.body_limit, self.inner.body_timeout)
            .await
            .map_err(|r| self.logged(r))
    }

    /// Like [`read_body`](Self::read_body), for a body given as a stream of chunks
    /// (actix-web's `web::Payload`, a `hyper` body turned into a stream…), with the
    /// request's `Content-Length` if it has one (`413` from it before reading).
    ///
    /// # Errors
    ///
    /// As [`read_body`](Self::read_body).
    pub async fn read_stream<S, D, E>(
        &self,
        content_length: Option<u64>,
        stream: S,
    ) -> Result<Bytes, Rejection>
    where
        S: Stream<Item = Result<D, E>>,
        D: Buf,
        E: fmt::Display,
    {
        self.read_body(StreamBody::new(stream, content_length))
            .await
    }

    /// Verifies a body already read against the request's `X-Hub-Signature-256` headers,
    /// parses it and hands it to the sink.
    ///
    /// Every `X-Hub-Signature-256` header counts: none, or more than one, is `401`. The
    /// body limit applies here too (`413`), for bodies read by the framework.
    ///
    /// # Errors
    ///
    /// A [`Rejection`]: `413`, `401`, `400` (not a delivery), `503` (the sink refused).
    pub async fn deliver(&self, headers: &HeaderMap, body: Bytes) -> Result<Accepted, Rejection> {
        self.check_len(&body).map_err(|r| self.logged(r))?;
        self.hand_off(self.inner.verifier.verify_headers(&body, headers), body)
            .await
            .map_err(|r| self.logged(r))
    }

    /// Like [`deliver`](Self::deliver), with the values of every `X-Hub-Signature-256`
    /// header of the request, for frameworks whose header types are not `http`'s (pass
    /// them all: none, or more than one, is `401`).
    ///
    /// # Errors
    ///
    /// As [`deliver`](Self::deliver).
    pub async fn deliver_signatures<'a, I>(
        &self,
        signatures: I,
        body: Bytes,
    ) -> Result<Accepted, Rejection>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.check_len(&body).map_err(|r| self.logged(r))?;
        let mut headers = HeaderMap::new();
        for value in signatures {
            // A value `http` refuses (control characters) can never verify: keep it as
            // an empty value, so it still counts and is refused.
            let value = HeaderValue::from_bytes(value).unwrap_or(HeaderValue::from_static(""));
            headers.append(SIGNATURE_HEADER, value);
        }
        self.hand_off(self.inner.verifier.verify_headers(&body, &headers), body)
            .await
            .map_err(|r| self.logged(r))
    }

    /// Logs a rejection at `warn` (no secrets, signatures or body contents) and returns
    /// it.
    ///
    /// At most [`log_limit::LINES_PER_SECOND`] lines per second are written for each
    /// [`RejectionKind`] and endpoint, so a flood of bad requests cannot flood the log;
    /// the first line written after some were suppressed says how many (`suppressed`).
    fn logged(&self, rejection: Rejection) -> Rejection {
        if let Some(suppressed) = self.inner.log_limits.check(rejection.kind()) {
            tracing::warn!(
                status = rejection.status().as_u16(),
                rejection = rejection.kind().as_str(),
                reason = %rejection.chain(),
                suppressed,
                "webhook request rejected"
            );
        }
        rejection
    }

    fn check_len(&self, body: &Bytes) -> Result<(), Rejection> {
        let limit = self.inner.body_limit;
        if body.len() > limit {
            return Err(Reason::TooLarge { limit }.into());
        }
        Ok(())
    }

    /// Signature outcome → parse → sink.
    async fn hand_off(
        &self,
        verified: Result<Verified, crate::signature::VerifyError>,
        body: Bytes,
    ) -> Result<Accepted, Rejection> {
        let verified = verified.map_err(Reason::Signature)?;
        let delivery = Delivery::from_slice(&body).map_err(Reason::Parse)?;
        let len = body.len();
        let batch = Batch::new(body, verified, delivery);
        // Counted without classifying: the sink decides how the items are made
        // (MemorySink moves the delivery's data into them instead of copying it).
        let (events, errors) = batch.counts();
        if errors > 0 {
            tracing::warn!(
                errors,
                events,
                "webhook delivery has items that did not classify; handed on to the sink"
            );
        }
        self.inner.sink.accept(batch).await.map_err(Reason::Sink)?;
        Ok(Accepted {
            events,
            errors,
            len,
            verified,
        })
    }
}

/// A `Content-Length` value, when it is one number.
fn declared_length(value: Option<&HeaderValue>) -> Option<u64> {
    value?.to_str().ok()?.trim().parse().ok()
}

impl<K> Clone for Endpoint<K> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K> fmt::Debug for Endpoint<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("verifier", &self.inner.verifier)
            .field("handshake", &self.inner.handshake)
            .field("body_limit", &self.inner.body_limit)
            .field("body_timeout", &self.inner.body_timeout)
            .finish_non_exhaustive()
    }
}

impl<K> fmt::Debug for EndpointBuilder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("verifier", &self.verifier)
            .field("handshake", &self.handshake)
            .field("body_limit", &self.body_limit)
            .field("body_timeout", &self.body_timeout)
            .finish_non_exhaustive()
    }
}

/// A delivery the sink accepted: what the endpoint knows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    events: usize,
    errors: usize,
    len: usize,
    verified: Verified,
}

impl Accepted {
    /// How many items classified into events.
    pub fn events(&self) -> usize {
        self.events
    }

    /// How many items did not classify (handed to the sink as errors).
    pub fn errors(&self) -> usize {
        self.errors
    }

    /// The body's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when the body was empty (never, for a parsed delivery).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Which secret verified the body.
    pub fn verified(&self) -> Verified {
        self.verified
    }
}
