//! The tower adapter (feature `tower`): every path of the `Webhook` service through
//! `tower::ServiceExt::oneshot`, the workers behind `MemorySink`, and real hyper and axum
//! servers on loopback.

mod serve;
mod service;
mod workers;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use meta_webhooks::test_util::sign;

pub(crate) use super::endpoint::{
    ACCOUNT, RecordingSink, SECRET, TOKEN, delivery, dm, handshake, verifier,
};

/// A signed `POST /webhook` with `body`.
pub(crate) fn signed_post(body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let body = body.into();
    Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(SECRET, &body))
        .body(Full::new(body))
        .unwrap()
}

pub(crate) async fn body_of<B>(response: Response<B>) -> Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}
