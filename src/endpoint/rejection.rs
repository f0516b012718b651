//! Why the endpoint refused a request: [`Rejection`], [`RejectionKind`], [`BodyError`].

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use thiserror::Error;

use crate::handshake::HandshakeError;
use crate::payload::ParseError;
use crate::signature::VerifyError;
use crate::sink::SinkError;

/// Why the [`Endpoint`](crate::endpoint::Endpoint) refused a request.
///
/// Inspect it with [`kind`](Self::kind) (what went wrong, for metrics and logs) and
/// [`status`](Self::status) (the HTTP answer). The underlying error, where there is one
/// ([`HandshakeError`], [`BodyError`], [`VerifyError`], [`ParseError`], [`SinkError`]), is
/// its [`source`](std::error::Error::source).
///
/// Messages are short and never contain a secret, a signature (received or expected), a
/// token or body contents.
///
/// ```
/// use meta_webhooks::endpoint::{Endpoint, RejectionKind};
/// use meta_webhooks::sink::{MemorySink, handler_fn};
/// use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let sink = MemorySink::builder()
/// #     .start(handler_fn(|_event| async { Ok::<(), std::convert::Infallible>(()) }))
/// #     .unwrap();
/// let endpoint = Endpoint::builder(
///     Verifier::new(AppSecret::new("app-secret").unwrap()),
///     Handshake::new(VerifyToken::new("verify-token").unwrap()),
///     sink,
/// )
/// .build();
/// let rejection = endpoint
///     .handshake("hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess")
///     .unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::Handshake);
/// assert_eq!(rejection.status(), http::StatusCode::FORBIDDEN);
/// # }
/// ```
#[derive(Debug, Clone, Error)]
#[error(transparent)]
pub struct Rejection(Reason);

#[derive(Debug, Clone, Error)]
pub(crate) enum Reason {
    #[error("method not allowed: webhooks take GET and POST")]
    MethodNotAllowed,
    #[error("handshake refused")]
    Handshake(#[source] HandshakeError),
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body did not arrive within {} ms", timeout.as_millis())]
    Timeout { timeout: Duration },
    #[error("reading the request body failed")]
    Body(#[source] BodyError),
    #[error("signature refused")]
    Signature(#[source] VerifyError),
    #[error("body is not a delivery")]
    Parse(#[source] ParseError),
    #[error("delivery not accepted")]
    Sink(#[source] SinkError),
}

impl From<Reason> for Rejection {
    fn from(reason: Reason) -> Self {
        Self(reason)
    }
}

impl Rejection {
    /// The HTTP status to answer with:
    ///
    /// | kind | status |
    /// |---|---|
    /// | [`MethodNotAllowed`](RejectionKind::MethodNotAllowed) | `405` |
    /// | [`Handshake`](RejectionKind::Handshake) | `403` (wrong mode or token), `400` (malformed) |
    /// | [`TooLarge`](RejectionKind::TooLarge) | `413` |
    /// | [`Timeout`](RejectionKind::Timeout) | `408` |
    /// | [`Body`](RejectionKind::Body) | `400` |
    /// | [`Signature`](RejectionKind::Signature) | `401` |
    /// | [`Parse`](RejectionKind::Parse) | `400` |
    /// | [`Sink`](RejectionKind::Sink) | `503` |
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Reason::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Reason::Handshake(e) => e.status(),
            Reason::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Reason::Body(_) => StatusCode::BAD_REQUEST,
            Reason::Signature(e) => e.status(),
            Reason::Parse(e) => e.status(),
            Reason::Sink(e) => e.status(),
        }
    }

    /// What kind of rejection this is.
    pub fn kind(&self) -> RejectionKind {
        match &self.0 {
            Reason::MethodNotAllowed => RejectionKind::MethodNotAllowed,
            Reason::Handshake(_) => RejectionKind::Handshake,
            Reason::TooLarge { .. } => RejectionKind::TooLarge,
            Reason::Timeout { .. } => RejectionKind::Timeout,
            Reason::Body(_) => RejectionKind::Body,
            Reason::Signature(_) => RejectionKind::Signature,
            Reason::Parse(_) => RejectionKind::Parse,
            Reason::Sink(_) => RejectionKind::Sink,
        }
    }

    /// The rejection and its cause on one line, for logs.
    pub(crate) fn chain(&self) -> Chain<'_> {
        Chain(self)
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self(Reason::MethodNotAllowed)
    }
}

/// Renders a rejection as `reason: cause`.
pub(crate) struct Chain<'a>(&'a Rejection);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        if let Some(cause) = std::error::Error::source(&self.0.0) {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

/// The kind of a [`Rejection`], as a `Copy` value for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// The method is neither `GET` (handshake) nor `POST` (delivery): `405`.
    MethodNotAllowed,
    /// The `GET` handshake was refused: `403` (wrong mode or token) or `400`.
    Handshake,
    /// The body is larger than the limit: `413`, before any hashing.
    TooLarge,
    /// The whole body did not arrive within the body timeout: `408`.
    Timeout,
    /// Reading the request body failed (e.g. the client went away): `400`.
    Body,
    /// The signature is missing, malformed, repeated or wrong: `401`, nothing parsed.
    Signature,
    /// The verified body is not a delivery: `400`.
    Parse,
    /// The sink did not accept the delivery (full, closed or failing): `503`, so Meta
    /// retries.
    Sink,
}

impl RejectionKind {
    /// A stable snake-case name, e.g. `"signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Handshake => "handshake",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn statuses_and_kinds() {
        let cases = [
            (
                Reason::MethodNotAllowed,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
            (
                Reason::Handshake(HandshakeError::TokenMismatch),
                StatusCode::FORBIDDEN,
                "handshake",
            ),
            (
                Reason::Handshake(HandshakeError::InvalidChallenge),
                StatusCode::BAD_REQUEST,
                "handshake",
            ),
            (
                Reason::TooLarge { limit: 10 },
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
            ),
            (
                Reason::Timeout {
                    timeout: Duration::from_secs(1),
                },
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
            ),
            (
                Reason::Body(BodyError::new("reset".into())),
                StatusCode::BAD_REQUEST,
                "body",
            ),
            (
                Reason::Signature(VerifyError::MissingHeader),
                StatusCode::UNAUTHORIZED,
                "signature",
            ),
            (
                Reason::Sink(SinkError::Full),
                StatusCode::SERVICE_UNAVAILABLE,
                "sink",
            ),
        ];
        for (reason, status, kind) in cases {
            let rejection = Rejection::from(reason);
            assert_eq!(rejection.status(), status, "{rejection}");
            assert_eq!(rejection.kind().as_str(), kind);
            assert_eq!(rejection.kind().to_string(), kind);
        }
    }

    #[test]
    fn the_cause_is_the_source_and_part_of_the_log_line() {
        let rejection = Rejection::from(Reason::Signature(VerifyError::MissingHeader));
        assert_eq!(rejection.to_string(), "signature refused");
        let source = rejection.source().map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("missing X-Hub-Signature-256 header")
        );
        assert_eq!(
            rejection.chain().to_string(),
            "signature refused: missing X-Hub-Signature-256 header"
        );
        let too_large = Rejection::from(Reason::TooLarge { limit: 7 });
        assert!(too_large.source().is_none());
        assert_eq!(too_large.chain().to_string(), too_large.to_string());
    }
}
