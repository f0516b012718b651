//! The [`WebhookLayer`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::handshake::Handshake;
use crate::signature::Verifier;
use crate::sink::Sink;
use crate::tower::rejection::{DefaultRejection, RejectionResponse};
use crate::tower::service::{Acknowledge, DEFAULT_BODY_LIMIT, Shared, Webhook};

/// Configures the webhook endpoint and wraps an inner service into a [`Webhook`].
///
/// The inner service is called only for deliveries the sink accepted, with an
/// [`Accepted`](crate::tower::Accepted) body, and produces the acknowledgement; use
/// [`into_service`](Self::into_service) for the default empty `200`.
///
/// ```
/// use meta_webhooks::sink::{MemorySink, handler_fn};
/// use meta_webhooks::tower::WebhookLayer;
/// use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sink = MemorySink::builder()
///     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
///     .unwrap();
/// let webhook = WebhookLayer::new(
///     Verifier::new(AppSecret::new("app-secret").unwrap()),
///     Handshake::new(VerifyToken::new("verify-token").unwrap()),
///     sink,
/// )
/// .body_limit(1024 * 1024)
/// .into_service();
/// assert_eq!(webhook.body_limit(), 1024 * 1024);
/// # }
/// ```
pub struct WebhookLayer<K, R = DefaultRejection> {
    verifier: Verifier,
    handshake: Handshake,
    sink: Arc<K>,
    rejection: Arc<R>,
    body_limit: usize,
}

impl<K: Sink> WebhookLayer<K> {
    /// A layer verifying with `verifier`, answering the handshake with `handshake` and
    /// handing deliveries to `sink`; body limit [`DEFAULT_BODY_LIMIT`] (4 MiB),
    /// [`DefaultRejection`].
    pub fn new(verifier: Verifier, handshake: Handshake, sink: K) -> Self {
        Self {
            verifier,
            handshake,
            sink: Arc::new(sink),
            rejection: Arc::new(DefaultRejection),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl<K, R> WebhookLayer<K, R> {
    /// Sets the largest body accepted, in bytes; larger ones get `413` before any hashing.
    #[must_use]
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Sets how rejections are answered.
    #[must_use]
    pub fn rejection<R2: RejectionResponse>(self, rejection: R2) -> WebhookLayer<K, R2> {
        WebhookLayer {
            verifier: self.verifier,
            handshake: self.handshake,
            sink: self.sink,
            rejection: Arc::new(rejection),
            body_limit: self.body_limit,
        }
    }

    /// The endpoint with [`Acknowledge`] (an empty `200`) as the inner service.
    pub fn into_service(self) -> Webhook<Acknowledge, K, R> {
        self.layer(Acknowledge)
    }
}

impl<S, K, R> Layer<S> for WebhookLayer<K, R> {
    type Service = Webhook<S, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Webhook::from_parts(
            inner,
            Shared {
                verifier: self.verifier.clone(),
                handshake: self.handshake.clone(),
                sink: Arc::clone(&self.sink),
                rejection: Arc::clone(&self.rejection),
                body_limit: self.body_limit,
            },
        )
    }
}

impl<K, R> Clone for WebhookLayer<K, R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            handshake: self.handshake.clone(),
            sink: Arc::clone(&self.sink),
            rejection: Arc::clone(&self.rejection),
            body_limit: self.body_limit,
        }
    }
}

impl<K, R> fmt::Debug for WebhookLayer<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("verifier", &self.verifier)
            .field("handshake", &self.handshake)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}
