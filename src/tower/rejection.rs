//! How a refusal is answered: [`RejectionResponse`] and [`DefaultRejection`].
//!
//! The [`Webhook`](crate::tower::Webhook) service builds the response for a
//! [`Rejection`] with its [`RejectionResponse`] (by default [`DefaultRejection`]: the
//! endpoint's [`Answer`], i.e. the status and its reason phrase as `text/plain`, nothing
//! else), then inserts the [`Rejection`] itself into the response extensions, so outer
//! layers (metrics, logging) can see the cause:
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use meta_webhooks::endpoint::{Endpoint, Rejection, RejectionKind};
//! use meta_webhooks::sink::{MemorySink, handler_fn};
//! use meta_webhooks::tower::{Acknowledge, WebhookLayer};
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//! use tower::{Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let sink = MemorySink::builder()
//! #     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
//! #     .unwrap();
//! let endpoint = Endpoint::builder(
//!     Verifier::new(AppSecret::new("app-secret").unwrap()),
//!     Handshake::new(VerifyToken::new("verify-token").unwrap()),
//!     sink,
//! )
//! .build();
//! // Answers every rejection with an empty body and its status.
//! let bare = |rejection: &Rejection| {
//!     let mut res = Response::new(Bytes::new());
//!     *res.status_mut() = rejection.status();
//!     res
//! };
//! let webhook = WebhookLayer::new(endpoint).rejection(bare).layer(Acknowledge);
//!
//! let request = Request::put("/webhook").body(String::new()).unwrap();
//! let response = webhook.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
//! let rejection = response.extensions().get::<Rejection>().unwrap();
//! assert_eq!(rejection.kind(), RejectionKind::MethodNotAllowed);
//! # }
//! ```
//!
//! A closure `Fn(&Rejection) -> Response<Bytes>` is a `RejectionResponse` too.

use bytes::Bytes;
use http::Response;

use crate::endpoint::{Answer, Rejection};

/// Builds the HTTP response for a [`Rejection`].
///
/// The service inserts the rejection into the returned response's extensions afterwards;
/// the implementation does not need to. Keep responses small and reveal nothing: Meta
/// only reads the status.
pub trait RejectionResponse: Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: &Rejection) -> Response<Bytes>;
}

impl<F> RejectionResponse for F
where
    F: Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static,
{
    fn response(&self, rejection: &Rejection) -> Response<Bytes> {
        self(rejection)
    }
}

/// The default rejection response: the endpoint's [`Answer`] — the status, its reason
/// phrase as a `text/plain` body (e.g. `Unauthorized`), and `Allow: GET, POST` on a
/// `405`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRejection;

impl RejectionResponse for DefaultRejection {
    fn response(&self, rejection: &Rejection) -> Response<Bytes> {
        Answer::from(rejection).into_response()
    }
}

#[cfg(test)]
mod tests {
    use http::{StatusCode, header};

    use super::*;

    #[test]
    fn the_default_is_the_answer() {
        let rejection = Rejection::method_not_allowed();
        let res = DefaultRejection.response(&rejection);
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "GET, POST");
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(res.body().as_ref(), b"Method Not Allowed");
    }

    #[test]
    fn closures_are_rejection_responses() {
        let teapot = |_: &Rejection| {
            let mut res = Response::new(Bytes::new());
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            res
        };
        assert_eq!(
            teapot.response(&Rejection::method_not_allowed()).status(),
            StatusCode::IM_A_TEAPOT
        );
    }
}
