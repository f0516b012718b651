//! [`Answer`]: the endpoint's outcome as a framework-neutral HTTP answer.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::endpoint::{Accepted, Rejection, RejectionKind};
use crate::handshake::Challenge;

/// What to send back, whatever the HTTP framework: a status, at most two headers
/// (`Content-Type`, and `Allow` on a `405`) and a small body.
///
/// Build it from an outcome of the [`Endpoint`](crate::endpoint::Endpoint) with `From`;
/// turn it into your framework's response in a few lines (or into an
/// [`http::Response`] with [`into_response`](Self::into_response)):
///
/// | outcome | answer |
/// |---|---|
/// | `Ok(Challenge)` | `200`, the challenge as `text/plain` |
/// | `Ok(Accepted)` | `200`, empty body |
/// | `Err(Rejection)` | [`Rejection::status`], its reason phrase (e.g. `Unauthorized`) as `text/plain`, and `Allow: GET, POST` on a `405` |
///
/// A rejection's answer reveals nothing of the cause: Meta only reads the status.
///
/// ```
/// use meta_webhooks::endpoint::{Answer, Endpoint};
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
/// let answer = Answer::from(
///     endpoint.handshake("hub.mode=subscribe&hub.challenge=42&hub.verify_token=verify-token"),
/// );
/// assert_eq!(answer.status(), http::StatusCode::OK);
/// assert_eq!(answer.content_type(), Some("text/plain; charset=utf-8"));
/// assert_eq!(answer.body().as_ref(), b"42");
///
/// // In any framework: status, headers, body.
/// let (status, headers, body) = (answer.status().as_u16(), answer.headers(), answer.into_body());
/// # let _ = (status, headers.count(), body);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    status: StatusCode,
    content_type: Option<&'static str>,
    allow: Option<&'static str>,
    body: Bytes,
}

/// The content type of every answer with a body.
const TEXT_PLAIN: &str = Challenge::CONTENT_TYPE;

impl Answer {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `Content-Type`, when there is a body.
    pub fn content_type(&self) -> Option<&'static str> {
        self.content_type
    }

    /// Every header to send, as `(name, value)` (lower-case names): `content-type` when
    /// there is a body, `allow` on a `405`.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &'static str)> + use<> {
        let content_type = self
            .content_type
            .map(|v| (header::CONTENT_TYPE.as_str(), v));
        let allow = self.allow.map(|v| (header::ALLOW.as_str(), v));
        content_type.into_iter().chain(allow)
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, taken out.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// An [`http::Response`] with the status, headers and body.
    pub fn into_response(self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(content_type) = self.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        *response.body_mut() = self.body;
        response
    }
}

impl From<&Rejection> for Answer {
    fn from(rejection: &Rejection) -> Self {
        let status = rejection.status();
        Self {
            status,
            content_type: Some(TEXT_PLAIN),
            allow: (rejection.kind() == RejectionKind::MethodNotAllowed).then_some("GET, POST"),
            body: Bytes::from_static(status.canonical_reason().unwrap_or("Error").as_bytes()),
        }
    }
}

impl From<Rejection> for Answer {
    fn from(rejection: Rejection) -> Self {
        Self::from(&rejection)
    }
}

impl From<Challenge> for Answer {
    fn from(challenge: Challenge) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: Some(TEXT_PLAIN),
            allow: None,
            body: Bytes::from(challenge.into_string()),
        }
    }
}

impl From<Accepted> for Answer {
    fn from(_: Accepted) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: None,
            allow: None,
            body: Bytes::new(),
        }
    }
}

impl<T: Into<Answer>> From<Result<T, Rejection>> for Answer {
    fn from(outcome: Result<T, Rejection>) -> Self {
        match outcome {
            Ok(done) => done.into(),
            Err(rejection) => Self::from(&rejection),
        }
    }
}
