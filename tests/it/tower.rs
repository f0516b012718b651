//! The tower adapter (feature `tower`): every path of the `Webhook` service through
//! `tower::ServiceExt::oneshot`, the workers behind `MemorySink`, and real hyper and axum
//! servers on loopback.

mod products;
mod serve;
mod service;
mod workers;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use meta_webhooks::test_util::{HandshakeRequest, SignedRequest};

pub(crate) use super::endpoint::{
    ACCOUNT, RecordingSink, SECRET, TOKEN, handshake, refused_handshakes, verifier,
};

/// A request of the test twin, with the body type a tower service reads.
pub(crate) trait Served {
    fn served(self) -> Request<Full<Bytes>>;
}

impl Served for SignedRequest {
    fn served(self) -> Request<Full<Bytes>> {
        self.build().unwrap().map(Full::new)
    }
}

impl Served for HandshakeRequest {
    fn served(self) -> Request<Full<Bytes>> {
        self.build().unwrap().map(Full::new)
    }
}

pub(crate) async fn body_of<B>(response: Response<B>) -> Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}
