//! The [`Webhook`] service.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Empty;
use tower_layer::Layer;
use tower_service::Service;

use crate::endpoint::{Accepted, Answer, Endpoint, Rejection};
use crate::sink::Sink;
use crate::tower::future::{ResponseBody, ResponseFuture};
use crate::tower::layer::WebhookLayer;
use crate::tower::rejection::{DefaultRejection, RejectionResponse};

/// The [`Endpoint`] as a tower [`Service`]; see the [module docs](crate::tower).
///
/// - `GET`: [`Endpoint::handshake`] with the URI's query.
/// - `POST`: [`Endpoint::receive`] (limit, deadline, signature, parse, sink); once the
///   sink accepted the delivery the inner service `S` is called, with the request's parts
///   and the [`Accepted`] summary as body, to produce the acknowledgement
///   ([`Acknowledge`]: an empty `200`).
/// - Any other method: `405`.
///
/// Rejections are answered by the [`RejectionResponse`] `R` and carry the [`Rejection`]
/// in their extensions (the endpoint logged them).
///
/// Cloning is cheap (one `Arc` plus the inner service).
pub struct Webhook<S, K, R = DefaultRejection> {
    inner: S,
    shared: Arc<Shared<K, R>>,
}

pub(crate) struct Shared<K, R> {
    pub(crate) endpoint: Endpoint<K>,
    pub(crate) rejection: Arc<R>,
}

impl<K> Webhook<Acknowledge, K> {
    /// The service answering for `endpoint`, with an empty `200` ([`Acknowledge`]) once
    /// the sink accepted a delivery and [`DefaultRejection`] otherwise.
    ///
    /// To wrap another inner service or answer rejections differently, use
    /// [`WebhookLayer`].
    pub fn new(endpoint: Endpoint<K>) -> Self {
        WebhookLayer::new(endpoint).layer(Acknowledge)
    }
}

impl<S, K, R> Webhook<S, K, R> {
    pub(crate) fn from_parts(inner: S, shared: Shared<K, R>) -> Self {
        Self {
            inner,
            shared: Arc::new(shared),
        }
    }

    /// The endpoint it serves.
    pub fn endpoint(&self) -> &Endpoint<K> {
        &self.shared.endpoint
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
            .field("endpoint", &self.shared.endpoint)
            .finish_non_exhaustive()
    }
}

impl<K, R: RejectionResponse> Shared<K, R> {
    fn reject<B>(&self, rejection: Rejection) -> Response<ResponseBody<B>> {
        let mut response = self.rejection.response(&rejection).map(ResponseBody::full);
        response.extensions_mut().insert(rejection);
        response
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
        let endpoint = &self.shared.endpoint;
        match *request.method() {
            Method::POST => {
                // The service that was driven to readiness goes into the future.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let shared = Arc::clone(&self.shared);
                ResponseFuture::delivery(Box::pin(deliver(shared, inner, request)))
            }
            Method::GET => ResponseFuture::ready(
                match endpoint.handshake(request.uri().query().unwrap_or("")) {
                    Ok(challenge) => Answer::from(challenge)
                        .into_response()
                        .map(ResponseBody::full),
                    Err(rejection) => self.shared.reject(rejection),
                },
            ),
            _ => ResponseFuture::ready(self.shared.reject(endpoint.method_not_allowed())),
        }
    }
}

/// The `POST` path: the endpoint, then the inner service.
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
    let accepted = match shared.endpoint.receive(&parts.headers, body).await {
        Ok(accepted) => accepted,
        Err(rejection) => return Ok(shared.reject(rejection)),
    };
    let response = inner.call(Request::from_parts(parts, accepted)).await?;
    Ok(response.map(ResponseBody::inner))
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
