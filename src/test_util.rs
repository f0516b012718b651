//! Test helpers (feature `test-util`): the test-side twin of the webhook.
//!
//! - [`sign`] produces exactly the `X-Hub-Signature-256` value that
//!   [`Verifier::verify`](crate::Verifier::verify) accepts;
//! - [`DeliveryBuilder`] with [`MessagingItem`] and [`ChangeItem`] writes delivery bodies
//!   as Meta does, for any object;
//! - [`SignedRequest`] and [`HandshakeRequest`] build the `POST` and the `GET` Meta sends,
//!   also wrongly signed for negative tests;
//! - `batch` (feature `sink`) gives the `Batch` an endpoint hands its sink, to test a
//!   sink or a handler on its own;
//! - [`Corpus`] walks the crate's fixture corpus ([`Fixture`], its expected [`Outcome`])
//!   and its signature vectors;
//! - `RedisServer` (feature `redis`) runs a real `redis-server` on a free loopback port
//!   for tests of the Redis hand-off.
//!
//! Nothing here reads the clock (but a `Batch`, received now, and `RedisServer` waiting
//! for start-up): times are fixed defaults or the `now` you pass.
//!
//! ```
//! use meta_webhooks::test_util::sign;
//! use meta_webhooks::{AppSecret, Verifier};
//!
//! let body = br#"{"object":"instagram","entry":[]}"#;
//! let header = sign("app-secret", body);
//! assert!(header.starts_with("sha256="));
//!
//! let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
//! assert!(verifier.verify(body, &header).is_ok());
//! ```
//!
//! A whole delivery, signed, through the verifier, parser and classifier:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
//! use meta_webhooks::{AppSecret, Delivery, EventKind, Verifier, classify};
//!
//! let now = SystemTime::now();
//! let request = DeliveryBuilder::instagram()
//!     .at(now)
//!     .messaging(MessagingItem::text("Hola"))
//!     .messaging(MessagingItem::echo("¡Hola! ¿En qué te ayudo?"))
//!     .signed("app-secret")
//!     .build()
//!     .unwrap();
//!
//! let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
//! verifier.verify_headers(request.body(), request.headers()).unwrap();
//! let delivery = Delivery::from_slice(request.body()).unwrap();
//! let events = classify(&delivery);
//! let text = events[0].as_ref().unwrap();
//! assert_eq!((text.kind(), text.text()), (EventKind::Text, Some("Hola")));
//! assert!(!text.is_older_than(Duration::from_secs(60), now));
//! assert_eq!(events[1].as_ref().unwrap().kind(), EventKind::Echo);
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[cfg(feature = "sink")]
mod batch;
mod corpus;
mod delivery;
mod json;
#[cfg(feature = "redis")]
mod redis_server;
mod request;
#[cfg(test)]
mod tests;
mod whatsapp;

#[cfg(feature = "sink")]
#[cfg_attr(docsrs, doc(cfg(feature = "sink")))]
pub use batch::batch;
pub use corpus::{
    Corpus, Fixture, Fixtures, Outcome, ProjectedEvent, SignatureVector, VectorExpectation,
};
pub use delivery::{ChangeItem, DeliveryBuilder, MessagingItem};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "test-util", feature = "redis"))))]
pub use redis_server::{RedisServer, RedisServerError};
pub use request::{HandshakeRequest, SignedRequest};
pub use whatsapp::{WhatsAppChange, WhatsAppItem};

/// Signs `body` with `secret` and returns the header value `sha256=<64 lowercase hex>`.
///
/// Unlike [`AppSecret`](crate::AppSecret), this accepts an empty secret, so tests can
/// show that a verifier never accepts what an empty key signs.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(body);
    let mut header = String::with_capacity(7 + 64);
    header.push_str(crate::signature::SIGNATURE_PREFIX);
    header.push_str(&hex::encode(mac.finalize().into_bytes()));
    header
}
