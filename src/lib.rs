// The crate documentation is the README, so its examples compile as doctests. A link
// label's first definition wins: these point rustdoc at the guides rendered in `docs`,
// while GitHub follows the README's own definitions (files in the repository).
#![doc = "[events]: crate::docs::events"]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod docs;
#[cfg(feature = "sink")]
#[cfg_attr(docsrs, doc(cfg(feature = "sink")))]
pub mod endpoint;
pub mod event;
pub mod handshake;
pub mod payload;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
pub mod secret;
pub mod signature;
#[cfg(feature = "sink")]
#[cfg_attr(docsrs, doc(cfg(feature = "sink")))]
pub mod sink;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

#[cfg(feature = "client")]
pub use client::{GraphClient, GraphError};
pub use event::{Event, EventError, EventKind, classify};
pub use handshake::{Challenge, Handshake, HandshakeError};
pub use payload::{Delivery, ParseError};
pub use secret::{AccessToken, AppSecret, EmptySecretError, VerifyToken};
pub use signature::{Verified, Verifier, VerifyError};
