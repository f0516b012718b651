//! `read` and `delivery` receipts.

use serde::{Deserialize, Serialize};

use crate::payload::ids::MessageId;
use crate::payload::lenient;

/// A read receipt: Instagram names the message (`mid`), Messenger a `watermark` (every
/// message up to that time was read).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Read {
    /// The message read (Instagram; strict).
    pub mid: Option<MessageId>,
    /// Messenger watermark in milliseconds.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub watermark: Option<u64>,
}

/// A Messenger delivery receipt.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct DeliveryReceipt {
    /// The messages delivered (may be absent).
    #[serde(default, deserialize_with = "lenient::ids")]
    pub mids: Vec<MessageId>,
    /// Every message up to this time was delivered.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub watermark: Option<u64>,
}
