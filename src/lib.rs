//! # meta-webhooks
//!
//! Take Instagram (and Messenger) webhooks from Meta and answer them through the official
//! Send API.
//!
//! (Crate docs with the complete verify → parse → classify example are written with the
//! foundation.)
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod payload;
pub mod secret;

#[cfg(feature = "client")]
pub use client::{SendClient, SendError};
pub use secret::{AccessToken, AppSecret, EmptySecretError, VerifyToken};
