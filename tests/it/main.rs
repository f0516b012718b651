//! The integration-test binary: one module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests assert by panicking"
)]

#[cfg(feature = "sink")]
mod bodies;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "sink")]
mod endpoint;
mod fixtures;
mod handshake;
mod nesting;
mod payload;
#[cfg(feature = "redis")]
mod redis;
mod signature;
#[cfg(feature = "tower")]
mod tower;
