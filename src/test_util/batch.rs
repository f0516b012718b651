//! [`batch`]: the [`Batch`] an endpoint hands its sink, to test a sink on its own.

use bytes::Bytes;

use crate::payload::Delivery;
use crate::sink::Batch;
use crate::{AppSecret, ParseError, Verifier};

use super::sign;

/// The secret a batch's body is signed and verified with.
const SECRET: &str = "test-util-batch";

/// The [`Batch`] an endpoint hands its [`Sink`](crate::sink::Sink) for `body`, received
/// now: the body verified (by the first and only secret) and parsed. For testing a sink,
/// a handler or the workers behind a sink without an endpoint in front.
///
/// ```
/// use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, batch};
///
/// let body = DeliveryBuilder::instagram().messaging(MessagingItem::text("hi")).build();
/// let batch = batch(body.clone()).unwrap();
/// assert_eq!(batch.body(), &body);
/// assert_eq!(batch.verified().secret_index(), 0);
/// assert_eq!(batch.events().next().unwrap().text(), Some("hi"));
///
/// assert!(meta_webhooks::test_util::batch("not json").is_err());
/// ```
///
/// # Errors
///
/// When `body` is not a delivery (what the endpoint answers with `400`).
pub fn batch(body: impl Into<Bytes>) -> Result<Batch, ParseError> {
    let body = body.into();
    let delivery = Delivery::from_slice(&body)?;
    let verified = AppSecret::new(SECRET)
        .ok()
        .map(Verifier::new)
        .and_then(|verifier| verifier.verify(&body, &sign(SECRET, &body)).ok());
    let Some(verified) = verified else {
        unreachable!("a body signed with the verifier's own secret verifies");
    };
    Ok(Batch::new(body, verified, delivery))
}
