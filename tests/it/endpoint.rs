//! The framework-neutral endpoint (feature `sink`): every status of the HTTP contract
//! through `Endpoint` directly, and what gets logged. Also the helpers the tower adapter's
//! tests share.

mod contract;
mod logs;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use meta_webhooks::sink::{Batch, Sink, SinkError};
use meta_webhooks::test_util::{DeliveryBuilder, HandshakeRequest, SignedRequest};
use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};

pub(crate) const SECRET: &str = "tower-test-app-secret";
pub(crate) const TOKEN: &str = "tower-test-verify-token";
/// The account the twin's Instagram deliveries go to.
pub(crate) const ACCOUNT: &str = DeliveryBuilder::INSTAGRAM_ACCOUNT;

pub(crate) fn verifier() -> Verifier {
    Verifier::new(AppSecret::new(SECRET).unwrap())
}

pub(crate) fn handshake() -> Handshake {
    Handshake::new(VerifyToken::new(TOKEN).unwrap())
}

/// Handshakes the endpoint refuses, with the status each gets: a wrong token or mode is
/// 403, a malformed query 400. The endpoint's and the tower adapter's tests both run them.
pub(crate) fn refused_handshakes() -> [(HandshakeRequest, StatusCode); 5] {
    [
        (
            HandshakeRequest::new("guess").challenge("1"),
            StatusCode::FORBIDDEN,
        ),
        (
            HandshakeRequest::new(TOKEN)
                .mode(Some("unsubscribe"))
                .challenge("1"),
            StatusCode::FORBIDDEN,
        ),
        (
            HandshakeRequest::new(TOKEN).challenge("<script>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            HandshakeRequest::new(TOKEN).without_challenge(),
            StatusCode::BAD_REQUEST,
        ),
        (
            HandshakeRequest::new(TOKEN)
                .mode(None)
                .without_challenge()
                .without_token(),
            StatusCode::BAD_REQUEST,
        ),
    ]
}

/// The endpoint's signed `POST` as a framework hands it over: headers and body.
pub(crate) fn parts(request: SignedRequest) -> (HeaderMap, Bytes) {
    let (parts, body) = request.build().unwrap().into_parts();
    (parts.headers, body)
}

/// A sink that records what it accepted, or refuses with a set error.
#[derive(Clone, Default)]
pub(crate) struct RecordingSink {
    pub(crate) accepted: Arc<Mutex<Vec<Batch>>>,
    pub(crate) refuse: Option<SinkError>,
}

impl RecordingSink {
    pub(crate) fn refusing(error: SinkError) -> Self {
        Self {
            refuse: Some(error),
            ..Self::default()
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}

impl Sink for RecordingSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        if let Some(error) = &self.refuse {
            return Err(error.clone());
        }
        self.accepted.lock().unwrap().push(batch);
        Ok(())
    }
}
