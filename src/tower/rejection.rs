//! Why a request was refused ([`Rejection`]) and how the refusal is answered
//! ([`RejectionResponse`]).
//!
//! The [`Webhook`](crate::tower::Webhook) service builds the response for a rejection
//! with its [`RejectionResponse`] (by default [`DefaultRejection`]: the status and its
//! reason phrase as `text/plain`, nothing else), then inserts the [`Rejection`] itself into
//! the response extensions, so outer layers (metrics, logging) can see the cause:
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode};
//! use meta_webhooks::tower::{Rejection, RejectionResponse};
//!
//! /// Answers every rejection with an empty body and its status.
//! #[derive(Clone)]
//! struct Bare;
//!
//! impl RejectionResponse for Bare {
//!     fn response(&self, rejection: &Rejection) -> Response<Bytes> {
//!         let mut res = Response::new(Bytes::new());
//!         *res.status_mut() = rejection.status();
//!         res
//!     }
//! }
//!
//! let res = Bare.response(&Rejection::MethodNotAllowed);
//! assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
//! ```
//!
//! A closure `Fn(&Rejection) -> Response<Bytes>` is a `RejectionResponse` too.

use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use thiserror::Error;

use crate::handshake::HandshakeError;
use crate::payload::ParseError;
use crate::signature::VerifyError;
use crate::sink::SinkError;

/// Why the webhook service refused a request. Rides in the rejection response's
/// extensions.
///
/// Messages are short and never contain a secret, a signature (received or expected),
/// a token or body contents.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The method is neither `GET` (handshake) nor `POST` (delivery): `405`.
    #[error("method not allowed: webhooks take GET and POST")]
    MethodNotAllowed,
    /// The `GET` handshake was refused: `403` (wrong mode or token) or `400`.
    #[error("handshake refused: {0}")]
    Handshake(HandshakeError),
    /// The body is larger than the configured limit: `413`, before any hashing.
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the request body failed (e.g. the client went away): `400`.
    #[error("reading the request body failed: {0}")]
    Body(BodyError),
    /// The signature is missing, malformed or wrong: `401`, nothing parsed.
    #[error("signature refused: {0}")]
    Signature(VerifyError),
    /// The verified body is not a delivery: `400`.
    #[error("body is not a delivery: {0}")]
    Parse(ParseError),
    /// The sink did not accept the delivery (full, closed or failing): `503`, so Meta
    /// retries.
    #[error("delivery not accepted: {0}")]
    Sink(SinkError),
}

impl Rejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Handshake(e) => e.status(),
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Body(_) => StatusCode::BAD_REQUEST,
            Self::Signature(e) => e.status(),
            Self::Parse(e) => e.status(),
            Self::Sink(e) => e.status(),
        }
    }

    /// What kind of rejection this is.
    pub fn kind(&self) -> RejectionKind {
        match self {
            Self::MethodNotAllowed => RejectionKind::MethodNotAllowed,
            Self::Handshake(_) => RejectionKind::Handshake,
            Self::TooLarge { .. } => RejectionKind::TooLarge,
            Self::Body(_) => RejectionKind::Body,
            Self::Signature(_) => RejectionKind::Signature,
            Self::Parse(_) => RejectionKind::Parse,
            Self::Sink(_) => RejectionKind::Sink,
        }
    }

    /// `true` for [`Rejection::MethodNotAllowed`].
    pub fn is_method_not_allowed(&self) -> bool {
        matches!(self, Self::MethodNotAllowed)
    }

    /// `true` for [`Rejection::Handshake`].
    pub fn is_handshake(&self) -> bool {
        matches!(self, Self::Handshake(_))
    }

    /// `true` for [`Rejection::TooLarge`].
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }

    /// `true` for [`Rejection::Body`].
    pub fn is_body(&self) -> bool {
        matches!(self, Self::Body(_))
    }

    /// `true` for [`Rejection::Signature`].
    pub fn is_signature(&self) -> bool {
        matches!(self, Self::Signature(_))
    }

    /// `true` for [`Rejection::Parse`].
    pub fn is_parse(&self) -> bool {
        matches!(self, Self::Parse(_))
    }

    /// `true` for [`Rejection::Sink`].
    pub fn is_sink(&self) -> bool {
        matches!(self, Self::Sink(_))
    }
}

/// The kind of a [`Rejection`], as a `Copy` value for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// [`Rejection::MethodNotAllowed`]
    MethodNotAllowed,
    /// [`Rejection::Handshake`]
    Handshake,
    /// [`Rejection::TooLarge`]
    TooLarge,
    /// [`Rejection::Body`]
    Body,
    /// [`Rejection::Signature`]
    Signature,
    /// [`Rejection::Parse`]
    Parse,
    /// [`Rejection::Sink`]
    Sink,
}

impl RejectionKind {
    /// A stable snake-case name, e.g. `"signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Handshake => "handshake",
            Self::TooLarge => "too_large",
            Self::Body => "body",
            Self::Signature => "signature",
            Self::Parse => "parse",
            Self::Sink => "sink",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reading the request body failed. The reason is the body error's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct BodyError {
    reason: String,
}

impl BodyError {
    pub(crate) fn new(reason: String) -> Self {
        Self { reason }
    }

    /// The underlying error's message.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

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

/// The default rejection response: the status, its reason phrase as a `text/plain` body
/// (e.g. `Unauthorized`), and `Allow: GET, POST` on a `405`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRejection;

impl RejectionResponse for DefaultRejection {
    fn response(&self, rejection: &Rejection) -> Response<Bytes> {
        let status = rejection.status();
        let mut res = Response::new(Bytes::from_static(
            status.canonical_reason().unwrap_or("Error").as_bytes(),
        ));
        *res.status_mut() = status;
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if rejection.is_method_not_allowed() {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_kinds() {
        let cases = [
            (
                Rejection::MethodNotAllowed,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
            (
                Rejection::Handshake(HandshakeError::TokenMismatch),
                StatusCode::FORBIDDEN,
                "handshake",
            ),
            (
                Rejection::Handshake(HandshakeError::InvalidChallenge),
                StatusCode::BAD_REQUEST,
                "handshake",
            ),
            (
                Rejection::TooLarge { limit: 10 },
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
            ),
            (
                Rejection::Body(BodyError::new("reset".into())),
                StatusCode::BAD_REQUEST,
                "body",
            ),
            (
                Rejection::Signature(VerifyError::Mismatch),
                StatusCode::UNAUTHORIZED,
                "signature",
            ),
            (
                Rejection::Sink(SinkError::Full),
                StatusCode::SERVICE_UNAVAILABLE,
                "sink",
            ),
        ];
        for (rejection, status, kind) in cases {
            assert_eq!(rejection.status(), status, "{rejection}");
            assert_eq!(rejection.kind().as_str(), kind);
            assert_eq!(rejection.kind().to_string(), kind);
            let res = DefaultRejection.response(&rejection);
            assert_eq!(res.status(), status);
            assert_eq!(
                res.body().as_ref(),
                status.canonical_reason().unwrap().as_bytes()
            );
            assert_eq!(
                res.headers().get(header::ALLOW).is_some(),
                rejection.is_method_not_allowed()
            );
        }
    }

    #[test]
    fn closures_are_rejection_responses() {
        let teapot = |_: &Rejection| {
            let mut res = Response::new(Bytes::new());
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            res
        };
        assert_eq!(
            teapot.response(&Rejection::MethodNotAllowed).status(),
            StatusCode::IM_A_TEAPOT
        );
    }
}
