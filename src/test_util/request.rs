//! [`SignedRequest`] and [`HandshakeRequest`]: the two requests Meta sends a webhook.

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};

use crate::signature::SIGNATURE_HEADER;

use super::sign;

/// The path both requests go to unless told otherwise.
const DEFAULT_URI: &str = "/webhook";

/// Builds the `POST` Meta sends for a delivery: the body, `Content-Type:
/// application/json` and `X-Hub-Signature-256` from [`sign`](super::sign).
///
/// For negative tests the signature can be made wrong ([`SignedRequest::signed_with`],
/// [`SignedRequest::tampered`]), malformed ([`SignedRequest::signature`]), missing
/// ([`SignedRequest::unsigned`]) or repeated ([`SignedRequest::duplicate_signature`],
/// [`SignedRequest::extra_signature`]). `Debug` never shows the secret.
///
/// ```
/// use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, SignedRequest};
/// use meta_webhooks::{AppSecret, Verifier, VerifyError};
///
/// let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
/// let body = DeliveryBuilder::instagram().messaging(MessagingItem::text("hi")).build();
///
/// let request = SignedRequest::new("app-secret", body.clone()).build().unwrap();
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri(), "/webhook");
/// assert!(verifier.verify_headers(request.body(), request.headers()).is_ok());
/// // Another body type (e.g. `http_body_util::Full::new` for a tower service):
/// let _request: http::Request<Vec<u8>> = request.map(|body| body.to_vec());
///
/// let forged = SignedRequest::new("app-secret", body.clone()).signed_with("guess").build().unwrap();
/// assert_eq!(verifier.verify_headers(forged.body(), forged.headers()), Err(VerifyError::Mismatch));
/// let twice = SignedRequest::new("app-secret", body).duplicate_signature().build().unwrap();
/// assert_eq!(twice.headers().get_all("x-hub-signature-256").iter().count(), 2);
/// assert!(verifier.verify_headers(twice.body(), twice.headers()).is_err());
/// ```
#[derive(Clone)]
pub struct SignedRequest {
    body: Bytes,
    secret: String,
    method: Method,
    uri: String,
    signature: Signature,
    extra_signatures: Vec<Extra>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    tampered: bool,
}

#[derive(Clone)]
enum Signature {
    /// `sign(secret, body)`.
    Signed,
    /// Exactly this header value.
    Exact(String),
    /// No header.
    Missing,
}

#[derive(Clone)]
enum Extra {
    /// The same value again.
    Same,
    /// Another value.
    Exact(String),
}

impl SignedRequest {
    /// A `POST /webhook` of `body`, signed with `secret`.
    pub fn new(secret: &str, body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            secret: secret.to_owned(),
            method: Method::POST,
            uri: DEFAULT_URI.to_owned(),
            signature: Signature::Signed,
            extra_signatures: Vec::new(),
            content_type: Some("application/json".to_owned()),
            headers: Vec::new(),
            tampered: false,
        }
    }

    /// The request target: a path (`/hooks/meta`) or an absolute URL
    /// (`http://127.0.0.1:3000/webhook`, e.g. to convert the request for an HTTP client).
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// Another method (`GET`, `PUT`, ... for the 405 path).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Signs with `secret` instead (a forged or outdated signature).
    pub fn signed_with(mut self, secret: &str) -> Self {
        self.secret = secret.to_owned();
        self.signature = Signature::Signed;
        self
    }

    /// Sends exactly `header` as the signature (e.g. `sha1=…` or a truncated value).
    pub fn signature(mut self, header: impl Into<String>) -> Self {
        self.signature = Signature::Exact(header.into());
        self
    }

    /// Sends no `X-Hub-Signature-256` header.
    pub fn unsigned(mut self) -> Self {
        self.signature = Signature::Missing;
        self
    }

    /// Sends the signature header twice, with the same (valid) value.
    pub fn duplicate_signature(mut self) -> Self {
        self.extra_signatures.push(Extra::Same);
        self
    }

    /// Sends a further `X-Hub-Signature-256` header with `header`, after the first.
    pub fn extra_signature(mut self, header: impl Into<String>) -> Self {
        self.extra_signatures.push(Extra::Exact(header.into()));
        self
    }

    /// Changes the body after signing (appends a space), so the signature no longer holds.
    pub fn tampered(mut self) -> Self {
        self.tampered = true;
        self
    }

    /// Another `Content-Type` (`None`: no such header).
    pub fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body as [`SignedRequest::build`] sends it (changed by
    /// [`SignedRequest::tampered`]), e.g. to write the request on a raw connection with
    /// [`SignedRequest::signature_value`].
    pub fn body(&self) -> Bytes {
        if self.tampered {
            let mut bytes = self.body.to_vec();
            bytes.push(b' ');
            Bytes::from(bytes)
        } else {
            self.body.clone()
        }
    }

    /// The signature header value this request carries first, if any.
    pub fn signature_value(&self) -> Option<String> {
        match &self.signature {
            Signature::Signed => Some(sign(&self.secret, &self.body)),
            Signature::Exact(header) => Some(header.clone()),
            Signature::Missing => None,
        }
    }

    /// The request, body as [`Bytes`] (use [`Request::map`] for another body type).
    ///
    /// # Errors
    ///
    /// When the URI or an added header is not valid.
    pub fn build(self) -> Result<Request<Bytes>, http::Error> {
        let signature = self.signature_value();
        let body = self.body();
        let mut builder = Request::builder().method(self.method).uri(self.uri);
        if let Some(content_type) = &self.content_type {
            builder = builder.header(CONTENT_TYPE, content_type.as_str());
        }
        if let Some(signature) = &signature {
            builder = builder.header(SIGNATURE_HEADER, signature.as_str());
        }
        for extra in &self.extra_signatures {
            match extra {
                Extra::Same => {
                    if let Some(signature) = &signature {
                        builder = builder.header(SIGNATURE_HEADER, signature.as_str());
                    }
                }
                Extra::Exact(header) => builder = builder.header(SIGNATURE_HEADER, header.as_str()),
            }
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(body)
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("body_len", &self.body.len())
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Builds the `GET` Meta sends to verify a webhook URL:
/// `?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`.
///
/// ```
/// use meta_webhooks::test_util::HandshakeRequest;
/// use meta_webhooks::{Handshake, VerifyToken};
///
/// let handshake = Handshake::new(VerifyToken::new("my-verify-token").unwrap());
/// let request = HandshakeRequest::new("my-verify-token").challenge("1158201444").build().unwrap();
/// assert_eq!(request.method(), "GET");
/// let query = request.uri().query().unwrap();
/// assert_eq!(handshake.respond(query).unwrap().as_str(), "1158201444");
///
/// let wrong = HandshakeRequest::new("guess").query();
/// assert!(handshake.respond(&wrong).is_err());
/// ```
#[derive(Clone)]
pub struct HandshakeRequest {
    path: String,
    mode: Option<String>,
    challenge: Option<String>,
    token: Option<String>,
}

impl HandshakeRequest {
    /// A `GET /webhook` with mode `subscribe`, challenge `1158201444` and `token`.
    pub fn new(token: &str) -> Self {
        Self {
            path: DEFAULT_URI.to_owned(),
            mode: Some("subscribe".to_owned()),
            challenge: Some("1158201444".to_owned()),
            token: Some(token.to_owned()),
        }
    }

    /// The path (or absolute URL without a query) the request goes to.
    pub fn uri(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// `hub.mode` (`None`: left out).
    pub fn mode(mut self, mode: Option<&str>) -> Self {
        self.mode = mode.map(str::to_owned);
        self
    }

    /// `hub.challenge`. Left out with [`HandshakeRequest::without_challenge`].
    pub fn challenge(mut self, challenge: &str) -> Self {
        self.challenge = Some(challenge.to_owned());
        self
    }

    /// Leaves `hub.challenge` out.
    pub fn without_challenge(mut self) -> Self {
        self.challenge = None;
        self
    }

    /// Leaves `hub.verify_token` out.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// The query string, form-encoded, without `?`.
    pub fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("hub.mode", &self.mode),
            ("hub.challenge", &self.challenge),
            ("hub.verify_token", &self.token),
        ] {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }

    /// The request, with an empty body.
    ///
    /// # Errors
    ///
    /// When the path is not a valid URI.
    pub fn build(self) -> Result<Request<Bytes>, http::Error> {
        let query = self.query();
        let uri = if query.is_empty() {
            self.path
        } else {
            format!("{}?{query}", self.path)
        };
        Request::get(uri).body(Bytes::new())
    }
}

impl fmt::Debug for HandshakeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeRequest")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("challenge", &self.challenge)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}
