//! The [`Webhook`] service.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::{BodyExt, Empty};
use tower_service::Service;

use crate::handshake::{Challenge, Handshake};
use crate::payload::Delivery;
use crate::signature::{Verified, Verifier};
use crate::sink::{Batch, Sink};
use crate::tower::future::{ResponseBody, ResponseFuture};
use crate::tower::layer::WebhookLayer;
use crate::tower::rejection::{BodyError, DefaultRejection, Rejection, RejectionResponse};

/// Default body limit: 4 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The webhook endpoint as a tower [`Service`]; see the [module docs](crate::tower).
///
/// - `GET` answers the handshake: `200` with the challenge as `text/plain`, or `403`/`400`.
/// - `POST` reads the body up to the limit (`413` beyond it, before any hashing), verifies
///   `X-Hub-Signature-256` (`401`, nothing parsed), parses (`400` for a body that is not a
///   delivery), classifies, and hands the [`Batch`] to the sink (`503` if it refuses).
///   Only then is the inner service `S` called, with the request's parts and an
///   [`Accepted`] summary as body, to produce the acknowledgement ([`Acknowledge`]: an
///   empty `200`).
/// - Any other method: `405`.
///
/// Rejections are answered by the [`RejectionResponse`] `R`, carry the [`Rejection`] in
/// their extensions and are logged at `warn` (without secrets or body contents).
///
/// Cloning is cheap (one `Arc` plus the inner service).
pub struct Webhook<S, K, R = DefaultRejection> {
    inner: S,
    shared: Arc<Shared<K, R>>,
}

pub(crate) struct Shared<K, R> {
    pub(crate) verifier: Verifier,
    pub(crate) handshake: Handshake,
    pub(crate) sink: Arc<K>,
    pub(crate) rejection: Arc<R>,
    pub(crate) body_limit: usize,
}

impl<K: Sink> Webhook<Acknowledge, K> {
    /// The endpoint with the defaults: a 4 MiB body limit, [`DefaultRejection`] and an
    /// empty `200` ([`Acknowledge`]) once the sink accepted a delivery.
    ///
    /// Configure it with [`WebhookLayer`] and [`WebhookLayer::into_service`].
    pub fn new(verifier: Verifier, handshake: Handshake, sink: K) -> Self {
        WebhookLayer::new(verifier, handshake, sink).into_service()
    }
}

impl<S, K, R> Webhook<S, K, R> {
    pub(crate) fn from_parts(inner: S, shared: Shared<K, R>) -> Self {
        Self {
            inner,
            shared: Arc::new(shared),
        }
    }

    /// The sink deliveries go to.
    pub fn sink(&self) -> &K {
        &self.shared.sink
    }

    /// The body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.shared.body_limit
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, K, R> Clone for Webhook<S, K, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, K, R> fmt::Debug for Webhook<S, K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("inner", &self.inner)
            .field("verifier", &self.shared.verifier)
            .field("handshake", &self.shared.handshake)
            .field("body_limit", &self.shared.body_limit)
            .finish_non_exhaustive()
    }
}

impl<K, R: RejectionResponse> Shared<K, R> {
    fn reject<B>(&self, rejection: Rejection) -> Response<ResponseBody<B>> {
        let status = rejection.status();
        tracing::warn!(
            status = status.as_u16(),
            rejection = rejection.kind().as_str(),
            reason = %rejection,
            "webhook request rejected"
        );
        let mut response = self.rejection.response(&rejection).map(ResponseBody::full);
        response.extensions_mut().insert(rejection);
        response
    }

    fn handshake<B>(&self, uri: &Uri) -> Response<ResponseBody<B>> {
        match self.handshake.respond_to_uri(uri) {
            Ok(challenge) => {
                tracing::info!("webhook handshake answered");
                let mut response =
                    Response::new(ResponseBody::full(Bytes::from(challenge.into_string())));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(Challenge::CONTENT_TYPE),
                );
                response
            }
            Err(error) => self.reject(Rejection::Handshake(error)),
        }
    }

    /// The `413` that can be given before reading anything.
    fn precheck<B: Body>(&self, request: &Request<B>) -> Option<Rejection> {
        let limit = self.body_limit;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let too_large = |len: u64| usize::try_from(len).map_or(true, |len| len > limit);
        let hinted = request.body().size_hint().lower();
        (declared.is_some_and(too_large) || too_large(hinted))
            .then_some(Rejection::TooLarge { limit })
    }
}

impl<S, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for Webhook<S, K, R>
where
    S: Service<Request<Accepted>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    K: Sink,
    R: RejectionResponse,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: fmt::Display,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match *request.method() {
            Method::POST => {
                if let Some(rejection) = self.shared.precheck(&request) {
                    return ResponseFuture::ready(self.shared.reject(rejection));
                }
                // The service that was driven to readiness goes into the future.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let shared = Arc::clone(&self.shared);
                ResponseFuture::delivery(Box::pin(deliver(shared, inner, request)))
            }
            Method::GET => ResponseFuture::ready(self.shared.handshake(request.uri())),
            _ => ResponseFuture::ready(self.shared.reject(Rejection::MethodNotAllowed)),
        }
    }
}

/// The `POST` path: limit → signature → parse → classify → sink → inner service.
async fn deliver<S, K, R, ReqBody, ResBody>(
    shared: Arc<Shared<K, R>>,
    mut inner: S,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<Accepted>, Response = Response<ResBody>>,
    K: Sink,
    R: RejectionResponse,
    ReqBody: Body,
    ReqBody::Error: fmt::Display,
{
    let (parts, body) = request.into_parts();
    let body = match read_body(body, shared.body_limit).await {
        Ok(body) => body,
        Err(rejection) => return Ok(shared.reject(rejection)),
    };
    let verified = match shared.verifier.verify_headers(&body, &parts.headers) {
        Ok(verified) => verified,
        Err(error) => return Ok(shared.reject(Rejection::Signature(error))),
    };
    let delivery = match Delivery::from_slice(&body) {
        Ok(delivery) => delivery,
        Err(error) => return Ok(shared.reject(Rejection::Parse(error))),
    };
    let len = body.len();
    let batch = Batch::new(body, verified, delivery);
    // Counted without classifying: the sink decides how the items are made (MemorySink
    // moves the delivery's data into them instead of copying it).
    let (events, errors) = batch.counts();
    let accepted = Accepted {
        events,
        errors,
        len,
        verified,
    };
    if errors > 0 {
        tracing::warn!(
            errors,
            events = accepted.events,
            "webhook delivery has items that did not classify; handed on to the sink"
        );
    }
    if let Err(error) = shared.sink.accept(batch).await {
        return Ok(shared.reject(Rejection::Sink(error)));
    }
    let response = inner.call(Request::from_parts(parts, accepted)).await?;
    Ok(response.map(ResponseBody::inner))
}

/// Reads the whole body, refusing it as soon as it exceeds `limit`. A body that arrives
/// in one chunk is kept as is; several chunks are copied once into one buffer.
async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: fmt::Display,
{
    let capacity = body.size_hint().lower();
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Rejection::Body(BodyError::new(e.to_string())))?;
        // Trailers carry nothing a delivery needs.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let chunk_len = data.remaining();
        len = len.saturating_add(chunk_len);
        if len > limit {
            return Err(Rejection::TooLarge { limit });
        }
        if chunk_len == 0 {
            continue;
        }
        if let Some(joined) = joined.as_mut() {
            joined.put(data);
        } else if let Some(previous) = first.take() {
            let hint = usize::try_from(capacity).unwrap_or(limit).clamp(len, limit);
            let mut buffer = BytesMut::with_capacity(hint);
            buffer.put(previous);
            buffer.put(data);
            joined = Some(buffer);
        } else {
            first = Some(data.copy_to_bytes(chunk_len));
        }
        // With a known length (HTTP/1.1 `Content-Length`), stop once it has all arrived
        // instead of waiting for the end-of-stream signal: one wake-up less per request.
        if body.is_end_stream() {
            break;
        }
    }
    Ok(match joined {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// What the inner service receives as the request body once the sink accepted a
/// delivery (the request's method, URI, headers and extensions are kept).
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

/// The default inner service: answers an accepted delivery with an empty `200 OK`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acknowledge;

impl<B> Service<Request<B>> for Acknowledge {
    type Response = Response<Empty<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<B>) -> Self::Future {
        let mut response = Response::new(Empty::new());
        *response.status_mut() = StatusCode::OK;
        std::future::ready(Ok(response))
    }
}
