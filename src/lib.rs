//! # meta-webhooks
//!
//! Take Instagram (and Messenger) webhooks from Meta and answer them through the official
//! Send API.
//!
//! (Crate docs with the complete verify → parse → classify example are written with the
//! foundation.)
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod event;
pub mod payload;
pub mod secret;

pub use event::{Event, EventError, EventKind, classify};
pub use payload::{Delivery, ParseError};
pub use secret::{AccessToken, AppSecret, EmptySecretError, VerifyToken};
