//! The typed data of WhatsApp events: each item together with what it needs from its
//! value (the business number, the sender's profile) and its entry (the WhatsApp
//! Business Account id).

use crate::payload::{AccountId, Contact, Metadata, Status, WaError, WaMessage};

/// An inbound WhatsApp message: the data of every event from a `messages[]` item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WhatsAppMessage {
    /// The message.
    pub message: WaMessage,
    /// The value's `metadata`: the business number that received it.
    pub metadata: Option<Metadata>,
    /// The item of the value's `contacts` whose `wa_id` is the message's `from`.
    pub contact: Option<Contact>,
    /// The WhatsApp Business Account id (`entry.id`).
    pub business_account: Option<AccountId>,
}

impl WhatsAppMessage {
    /// The sender's WhatsApp profile name.
    pub fn profile_name(&self) -> Option<&str> {
        self.contact.as_ref()?.profile_name()
    }

    /// The business number's `phone_number_id`.
    pub fn phone_number_id(&self) -> Option<&AccountId> {
        self.metadata.as_ref()?.phone_number_id.as_ref()
    }
}

/// A WhatsApp `statuses[]` item: what happened to a message the business sent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WhatsAppStatus {
    /// The status.
    pub status: Status,
    /// The value's `metadata`: the business number that sent the message.
    pub metadata: Option<Metadata>,
    /// The WhatsApp Business Account id (`entry.id`).
    pub business_account: Option<AccountId>,
}

impl WhatsAppStatus {
    /// The business number's `phone_number_id`.
    pub fn phone_number_id(&self) -> Option<&AccountId> {
        self.metadata.as_ref()?.phone_number_id.as_ref()
    }
}

/// A WhatsApp value that carries `errors` and neither messages nor statuses.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WhatsAppErrors {
    /// The value's `errors`.
    pub errors: Vec<WaError>,
    /// The value's `metadata`.
    pub metadata: Option<Metadata>,
    /// The WhatsApp Business Account id (`entry.id`).
    pub business_account: Option<AccountId>,
}
