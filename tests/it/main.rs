//! The integration-test binary: one module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests assert by panicking"
)]

#[cfg(feature = "client")]
mod client;
mod fixtures;
mod handshake;
mod payload;
mod signature;
#[cfg(feature = "tower")]
mod tower;
