//! The tower adapter (feature `tower`): every path of the `Webhook` service through
//! `tower::ServiceExt::oneshot`, the workers behind `MemorySink`, and real hyper and axum
//! servers on loopback.

mod serve;
mod service;
mod workers;

pub(crate) use super::endpoint::{
    ACCOUNT, RecordingSink, SECRET, TOKEN, body_of, delivery, dm, handshake, signed_post, verifier,
};
