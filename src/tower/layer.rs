//! The [`WebhookLayer`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::endpoint::Endpoint;
use crate::tower::rejection::{DefaultRejection, RejectionResponse};
use crate::tower::service::{Shared, Webhook};

/// Wraps an inner service into a [`Webhook`] over an [`Endpoint`], optionally with a
/// custom [`RejectionResponse`].
///
/// The inner service is called only for deliveries the sink accepted, with the request's
/// parts and an [`Accepted`](crate::endpoint::Accepted) body, and produces the
/// acknowledgement. For the default empty `200`, use [`Webhook::new`] (the same as
/// `WebhookLayer::new(endpoint).layer(Acknowledge)`).
///
/// ```
/// use std::convert::Infallible;
///
/// use http::{Request, Response};
/// use meta_webhooks::endpoint::{Accepted, Endpoint};
/// use meta_webhooks::sink::{MemorySink, handler_fn};
/// use meta_webhooks::tower::WebhookLayer;
/// use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
/// use tower::{ServiceBuilder, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sink = MemorySink::builder()
///     .start(handler_fn(|_event| async { Ok::<(), Infallible>(()) }))
///     .unwrap();
/// let endpoint = Endpoint::builder(
///     Verifier::new(AppSecret::new("app-secret").unwrap()),
///     Handshake::new(VerifyToken::new("verify-token").unwrap()),
///     sink,
/// )
/// .build();
/// let webhook = ServiceBuilder::new()
///     .layer(WebhookLayer::new(endpoint))
///     .service(service_fn(|request: Request<Accepted>| async move {
///         let events = request.body().events();
///         Ok::<_, Infallible>(Response::new(format!("EVENT_RECEIVED {events}")))
///     }));
/// # let _ = webhook;
/// # }
/// ```
pub struct WebhookLayer<K, R = DefaultRejection> {
    endpoint: Endpoint<K>,
    rejection: Arc<R>,
}

impl<K> WebhookLayer<K> {
    /// A layer over `endpoint`, answering rejections with [`DefaultRejection`].
    pub fn new(endpoint: Endpoint<K>) -> Self {
        Self {
            endpoint,
            rejection: Arc::new(DefaultRejection),
        }
    }
}

impl<K, R> WebhookLayer<K, R> {
    /// Sets how rejections are answered.
    #[must_use]
    pub fn rejection<R2: RejectionResponse>(self, rejection: R2) -> WebhookLayer<K, R2> {
        WebhookLayer {
            endpoint: self.endpoint,
            rejection: Arc::new(rejection),
        }
    }
}

impl<S, K, R> Layer<S> for WebhookLayer<K, R> {
    type Service = Webhook<S, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Webhook::from_parts(
            inner,
            Shared {
                endpoint: self.endpoint.clone(),
                rejection: Arc::clone(&self.rejection),
            },
        )
    }
}

impl<K, R> Clone for WebhookLayer<K, R> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            rejection: Arc::clone(&self.rejection),
        }
    }
}

impl<K, R> fmt::Debug for WebhookLayer<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}
