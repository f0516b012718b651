//! `postback`.

use serde::{Deserialize, Serialize};

use super::referral::Referral;
use crate::payload::ids::MessageId;
use crate::payload::lenient;

/// A tapped icebreaker, template button or persistent-menu item.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Postback {
    /// The postback's message id (Instagram, v11+; strict).
    pub mid: Option<MessageId>,
    /// The button title the person saw.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
    /// The developer payload (omitted on standby copies).
    #[serde(default, deserialize_with = "lenient::string")]
    pub payload: Option<String>,
    /// Messenger: how a new conversation started (m.me link, ad, ...).
    #[serde(default, deserialize_with = "lenient::object")]
    pub referral: Option<Box<Referral>>,
}
