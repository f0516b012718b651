//! `statuses[]` items: what happened to a message the business sent.

use serde::{Deserialize, Serialize};

use super::error::WaError;
use crate::payload::ids::{MessageId, UserId};
use crate::payload::lenient;
use crate::payload::time::Timestamp;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `statuses[].status`.
    pub enum StatusKind(
        /// A status this version does not name.
        Unknown
    ) {
        /// `sent`: Meta's servers accepted the message.
        Sent = "sent",
        /// `delivered`: it reached the person's device.
        Delivered = "delivered",
        /// `read`: the person opened it (only with read receipts on).
        Read = "read",
        /// `failed`: it could not be sent or delivered (see `errors`).
        Failed = "failed",
        /// `deleted`: the business deleted it.
        Deleted = "deleted",
        /// `played`: the person played a voice message.
        Played = "played",
    }
}

/// One `statuses[]` item: a sent, delivered, read or failed notice for a message the
/// business sent. Sent, delivered and read of one message share its `id` (the wamid).
///
/// `id` and `recipient_id` are read strictly: either of another JSON type than string or
/// integer makes this one item an [`ItemError`](crate::payload::ItemError).
///
/// ```
/// use meta_webhooks::payload::whatsapp::{Status, StatusKind};
///
/// let s: Status = serde_json::from_str(
///     r#"{"id":"wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI=","status":"failed","timestamp":"1769870500",
///         "recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message",
///         "error_data":{"details":"Message failed to send because more than 24 hours have passed"}}]}"#,
/// )?;
/// assert_eq!(s.status, Some(StatusKind::Failed));
/// assert_eq!(s.errors[0].code, Some(131047));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// `id`: the `wamid` of the business's message (strict).
    pub id: Option<MessageId>,
    /// `status`.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub status: Option<StatusKind>,
    /// `timestamp` (seconds as a string on the wire, normalized to milliseconds).
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub timestamp: Option<Timestamp>,
    /// `recipient_id`: the person's WhatsApp id (strict).
    pub recipient_id: Option<UserId>,
    /// `recipient_type`: `individual` or `group`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub recipient_type: Option<String>,
    /// `recipient_user_id`: the person's business-scoped user id, where Meta sends one.
    #[serde(default, deserialize_with = "lenient::id")]
    pub recipient_user_id: Option<String>,
    /// `conversation`: the conversation the message opened or belongs to.
    #[serde(default, deserialize_with = "lenient::object")]
    pub conversation: Option<Conversation>,
    /// `pricing`: how the message is billed.
    #[serde(default, deserialize_with = "lenient::object")]
    pub pricing: Option<Pricing>,
    /// `errors` of a `failed` status.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub errors: Vec<WaError>,
    /// `biz_opaque_callback_data`: the string the business attached when sending.
    #[serde(default, deserialize_with = "lenient::string")]
    pub biz_opaque_callback_data: Option<String>,
}

/// `statuses[].conversation`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Conversation {
    /// `id`.
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<String>,
    /// `expiration_timestamp`: when the conversation window closes.
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub expiration_timestamp: Option<Timestamp>,
    /// `origin`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub origin: Option<ConversationOrigin>,
}

/// `conversation.origin`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ConversationOrigin {
    /// `type`: `service`, `marketing`, `utility`, `authentication`,
    /// `referral_conversion`, ... kept as sent.
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}

/// `statuses[].pricing`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Pricing {
    /// `billable`.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub billable: Option<bool>,
    /// `pricing_model`: `CBP`, `PMP`, ... kept as sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub pricing_model: Option<String>,
    /// `category`: `service`, `marketing`, `utility`, `authentication`, ... kept as sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub category: Option<String>,
    /// `type`: `regular`, `free_customer_service`, `free_entry_point`, ... kept as sent.
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_with_conversation_and_pricing() {
        let s: Status = serde_json::from_str(
            r#"{"id":"wamid.1","status":"delivered","timestamp":"1769870500","recipient_id":"16505551234",
                "conversation":{"id":"c1","expiration_timestamp":"1769956900","origin":{"type":"service"}},
                "pricing":{"billable":false,"pricing_model":"PMP","category":"service","type":"free_customer_service"}}"#,
        )
        .unwrap();
        assert_eq!(s.status, Some(StatusKind::Delivered));
        let c = s.conversation.unwrap();
        assert_eq!(c.expiration_timestamp.unwrap().as_secs(), 1_769_956_900);
        assert_eq!(c.origin.unwrap().kind.as_deref(), Some("service"));
        let p = s.pricing.unwrap();
        assert_eq!(p.billable, Some(false));
        assert_eq!(p.kind.as_deref(), Some("free_customer_service"));
    }

    #[test]
    fn ids_are_strict() {
        assert!(serde_json::from_str::<Status>(r#"{"id":false}"#).is_err());
        assert!(serde_json::from_str::<Status>(r#"{"recipient_id":[]}"#).is_err());
        let s: Status =
            serde_json::from_str(r#"{"status":"queued","pricing":{"billable":"y"}}"#).unwrap();
        assert_eq!(s.status, Some(StatusKind::Unknown("queued".into())));
        assert_eq!(s.pricing.unwrap().billable, None);
    }
}
