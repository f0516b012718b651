//! `reaction` of a WhatsApp message.

use serde::{Deserialize, Serialize};

use crate::payload::ids::MessageId;
use crate::payload::lenient;

/// `reaction`: an emoji put on (or, with an empty `emoji`, taken off) a message. The
/// reaction is a message of its own with its own `wamid`; `message_id` names the message
/// reacted to.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaReaction {
    /// `message_id`: the `wamid` of the message reacted to.
    #[serde(default, deserialize_with = "lenient::id")]
    pub message_id: Option<MessageId>,
    /// `emoji`; empty or absent when the reaction is removed.
    #[serde(default, deserialize_with = "lenient::string")]
    pub emoji: Option<String>,
}
