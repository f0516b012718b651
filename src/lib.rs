//! # meta-webhooks
//!
//! Take Instagram (and Messenger) webhooks from Meta and answer them through the official
//! Send API — verified to the byte, typed, and hard to misuse.
//!
//! The core needs no async runtime and no HTTP framework: raw bytes and
//! [`http`] types in, typed values out.
//!
//! ```text
//! raw bytes + headers
//!   └─ signature::Verifier::verify(body, header)   // HMAC over the exact bytes, first
//!        └─ payload + event classification         // typed, lossless
//!             └─ your handler → Send API reply
//! ```
//!
//! ## Verify a delivery and answer the handshake
//!
//! ```
//! use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Built once at start-up (several secrets may be active during a rotation).
//! let verifier = Verifier::new(AppSecret::new("app-secret")?);
//! let handshake = Handshake::new(VerifyToken::new("my-verify-token")?);
//!
//! // GET /webhook?hub.mode=subscribe&… → echo the challenge as text/plain.
//! let challenge = handshake
//!     .respond("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token")?;
//! assert_eq!(challenge.as_str(), "1158201444");
//!
//! // POST /webhook → verify the raw body before parsing anything.
//! let body = br#"{"object":"instagram","entry":[]}"#;
//! let header = "sha256=4868ba1823ceabaf8b38db993057d6e01e2dea967330aad8444f60a4531cd687";
//! match verifier.verify(body, header) {
//!     Ok(_) => { /* parse, classify, enqueue, then answer 200 */ }
//!     Err(err) => { /* answer err.status() (401) and drop the body */ return Err(err.into()) }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Features
//!
//! | Feature     | Default | What it adds |
//! |-------------|---------|--------------|
//! | *(core)*    | yes     | [`signature`], [`handshake`], [`payload`], [`event`], [`secret`] |
//! | `client`    | no      | [`client`]: Send/Graph API client (reqwest + tokio), typed errors, retries, rate limits |
//! | `sink`      | no      | `sink`: sinks, handlers, dedup and in-memory workers (tokio), no framework needed |
//! | `tower`     | no      | Tower adapter of the endpoint (turns on `sink`) |
//! | `test-util` | no      | `test_util::sign` and other helpers for tests and local tools |
//! | `full`      | no      | all of the above |
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
