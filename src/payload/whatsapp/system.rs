//! `system` and `identity` of a WhatsApp message.

use serde::{Deserialize, Serialize};

use crate::payload::ids::UserId;
use crate::payload::lenient;
use crate::payload::time::Timestamp;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `system.type`.
    pub enum SystemType(
        /// A type this version does not name.
        Unknown
    ) {
        /// `customer_changed_number`: the person moved to a new number (`wa_id`).
        CustomerChangedNumber = "customer_changed_number",
        /// `customer_identity_changed`: the person's identity key changed.
        CustomerIdentityChanged = "customer_identity_changed",
        /// `user_changed_number`: older name of a number change.
        UserChangedNumber = "user_changed_number",
    }
}

/// `system`: WhatsApp tells the business that the person changed their number or their
/// identity changed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SystemUpdate {
    /// `body`: a sentence describing the change.
    #[serde(default, deserialize_with = "lenient::string")]
    pub body: Option<String>,
    /// `type`.
    #[serde(rename = "type", default, deserialize_with = "lenient::wire")]
    pub kind: Option<SystemType>,
    /// `wa_id` (also `new_wa_id` in older payloads): the person's new WhatsApp id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub wa_id: Option<UserId>,
    /// `new_wa_id`.
    #[serde(default, deserialize_with = "lenient::id")]
    pub new_wa_id: Option<UserId>,
    /// `identity`: the new identity hash.
    #[serde(default, deserialize_with = "lenient::string")]
    pub identity: Option<String>,
    /// `customer`: the person's id before the change.
    #[serde(default, deserialize_with = "lenient::id")]
    pub customer: Option<UserId>,
}

impl SystemUpdate {
    /// The person's new WhatsApp id: `wa_id`, else `new_wa_id`.
    pub fn new_id(&self) -> Option<&UserId> {
        self.wa_id.as_ref().or(self.new_wa_id.as_ref())
    }
}

/// `identity` of a message: the person's identity key at the time.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Identity {
    /// `acknowledged`.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub acknowledged: bool,
    /// `created_timestamp`.
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub created_timestamp: Option<Timestamp>,
    /// `hash`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub hash: Option<String>,
}
