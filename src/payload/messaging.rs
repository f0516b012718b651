//! `entry[].messaging[]` and `entry[].standby[]` events.
//!
//! One [`MessagingEvent`] carries the common fields (sender, recipient, timestamp) and, in
//! practice, exactly one payload key. Every payload Meta documents has a typed field here;
//! payloads this version does not model (`account_linking`, `policy_enforcement`,
//! `response_feedback`, future keys) are kept in the item's raw JSON
//! ([`Spanned::raw`](super::Spanned::raw)).
//!
//! Tolerance: unknown keys are ignored; a known key holding an
//! unexpected JSON type reads as absent (so `"message":"TEST_MESSAGE"` is simply "no
//! message"); only an id the normalizer reads (`sender.id`/`user_ref`, `recipient.id`,
//! the `mid` of `message`, `message_edit`, `reaction`, `postback`, `read`) that is neither
//! a string nor an integer makes the item invalid.
//!
//! ```
//! use meta_webhooks::payload::MessagingEvent;
//!
//! let event: MessagingEvent = serde_json::from_str(
//!     r#"{"sender":{"id":6934581207719432},"recipient":{"id":"17841405793187218"},
//!         "timestamp":"1527459824","message":{"mid":"aWdf","text":"hi","future":[1]}}"#,
//! )?;
//! assert_eq!(event.sender_id().map(|id| id.as_str()), Some("6934581207719432"));
//! assert_eq!(event.timestamp.map(|t| t.as_millis()), Some(1_527_459_824_000));
//! assert_eq!(event.message.as_ref().and_then(|m| m.text.as_deref()), Some("hi"));
//! # Ok::<(), serde_json::Error>(())
//! ```

mod attachment;
mod handover;
mod message;
mod optin;
mod postback;
mod reaction;
mod read;
mod referral;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::{AppId, UserId, UserRef};
use super::lenient;
use super::time::Timestamp;

pub use attachment::{Attachment, AttachmentPayload, AttachmentType, Coordinates};
pub use handover::{PassThreadControl, RequestThreadControl, TakeThreadControl};
pub use message::{Command, Message, MessageEdit, QuickReply, ReplyTo, StoryRef};
pub use optin::Optin;
pub use postback::Postback;
pub use reaction::{Reaction, ReactionAction};
pub use read::{DeliveryReceipt, Read};
pub use referral::{AdsContextData, ProductRef, Referral};

/// A `sender` or `recipient` object, as on the wire.
///
/// Its `id` names the person, or the business account on the other side (the sender of an
/// echo, the recipient of everything else); a classified event's `sender()` and
/// `recipient()` say which.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Party {
    /// The scoped id: the person's IGSID/PSID, or the business account's id.
    pub id: Option<UserId>,
    /// Messenger chat-plugin / checkbox users are identified by `user_ref` instead.
    pub user_ref: Option<UserRef>,
}

impl Party {
    /// `id`, else `user_ref`.
    pub fn as_str(&self) -> Option<&str> {
        self.id
            .as_ref()
            .map(UserId::as_str)
            .or_else(|| self.user_ref.as_ref().map(UserRef::as_str))
    }
}

/// `app_roles` of a handover event: app id → roles (`primary_receiver`,
/// `secondary_receiver`).
pub type AppRoles = BTreeMap<AppId, Vec<String>>;

/// One item of `entry[].messaging[]` or `entry[].standby[]`, or the `value` of a wrapped
/// messaging change.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct MessagingEvent {
    /// Who acted (absent on `app_roles`, `policy_enforcement`, some opt-ins).
    #[serde(default, deserialize_with = "lenient::object")]
    pub sender: Option<Party>,
    /// Who received it.
    #[serde(default, deserialize_with = "lenient::object")]
    pub recipient: Option<Party>,
    /// When it happened (normalized to milliseconds).
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub timestamp: Option<Timestamp>,
    /// A message (also echoes, unsends, unsupported media).
    #[serde(default, deserialize_with = "lenient::object")]
    pub message: Option<Box<Message>>,
    /// An edited message.
    #[serde(default, deserialize_with = "lenient::object")]
    pub message_edit: Option<Box<MessageEdit>>,
    /// A reaction or its removal.
    #[serde(default, deserialize_with = "lenient::object")]
    pub reaction: Option<Box<Reaction>>,
    /// A postback (icebreaker, button, persistent menu).
    #[serde(default, deserialize_with = "lenient::object")]
    pub postback: Option<Box<Postback>>,
    /// An event-level referral (ads, links, story mentions in the `messaging_referrals` shape).
    #[serde(default, deserialize_with = "lenient::object")]
    pub referral: Option<Box<Referral>>,
    /// A read receipt.
    #[serde(default, deserialize_with = "lenient::object")]
    pub read: Option<Read>,
    /// A Messenger delivery receipt.
    #[serde(default, deserialize_with = "lenient::object")]
    pub delivery: Option<DeliveryReceipt>,
    /// An opt-in (marketing messages, legacy plugins).
    #[serde(default, deserialize_with = "lenient::object")]
    pub optin: Option<Box<Optin>>,
    /// Handover: thread control passed to this app.
    #[serde(default, deserialize_with = "lenient::object")]
    pub pass_thread_control: Option<Box<PassThreadControl>>,
    /// Handover: thread control taken from this app.
    #[serde(default, deserialize_with = "lenient::object")]
    pub take_thread_control: Option<Box<TakeThreadControl>>,
    /// Handover: another app requests thread control.
    #[serde(default, deserialize_with = "lenient::object")]
    pub request_thread_control: Option<Box<RequestThreadControl>>,
    /// Handover: app roles changed.
    #[serde(default, deserialize_with = "lenient::string_lists")]
    pub app_roles: Option<AppRoles>,
    /// Event-level self-messaging flag (postbacks).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_self: bool,
}

impl MessagingEvent {
    /// `sender.id`, typed.
    pub fn sender_id(&self) -> Option<&UserId> {
        self.sender.as_ref().and_then(|p| p.id.as_ref())
    }

    /// `recipient.id`, typed.
    pub fn recipient_id(&self) -> Option<&UserId> {
        self.recipient.as_ref().and_then(|p| p.id.as_ref())
    }

    /// Whether this is a wrapped messaging event when found as a change `value`: it has a
    /// `sender` or `recipient` object.
    pub fn has_party(&self) -> bool {
        self.sender.is_some() || self.recipient.is_some()
    }

    /// Whether any handover key is present (precedence rule 8).
    pub fn is_handover(&self) -> bool {
        self.pass_thread_control.is_some()
            || self.take_thread_control.is_some()
            || self.request_thread_control.is_some()
            || self.app_roles.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<MessagingEvent, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integer_ids_become_exact_strings() {
        let e = parse(r#"{"sender":{"id":17841405793187218},"recipient":{"id":510512709009335}}"#)
            .unwrap();
        assert_eq!(e.sender_id().unwrap(), "17841405793187218");
        assert_eq!(e.recipient_id().unwrap(), "510512709009335");
    }

    #[test]
    fn ids_the_normalizer_reads_are_strict() {
        for bad in [
            r#"{"sender":{"id":true}}"#,
            r#"{"sender":{"user_ref":{}}}"#,
            r#"{"recipient":{"id":[1]}}"#,
            r#"{"message":{"mid":1.5}}"#,
            r#"{"message_edit":{"mid":false}}"#,
            r#"{"reaction":{"mid":{}}}"#,
            r#"{"postback":{"mid":[]}}"#,
            r#"{"read":{"mid":true}}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn everything_else_is_tolerated() {
        let e = parse(
            r#"{"sender":"6934581207719432","recipient":5,"timestamp":"soon",
                "message":"TEST_MESSAGE","reaction":[],"postback":null,"read":1,
                "app_roles":"x","is_self":"yes","unknown":{"deep":[[[[{}]]]]}}"#,
        )
        .unwrap();
        assert!(e.sender.is_none() && e.recipient.is_none() && e.timestamp.is_none());
        assert!(e.message.is_none() && e.reaction.is_none() && e.postback.is_none());
        assert!(e.read.is_none() && !e.is_handover() && !e.is_self);
    }

    #[test]
    fn sender_falls_back_to_user_ref() {
        let e = parse(r#"{"sender":{"user_ref":"cb-42"},"optin":{"ref":"r"}}"#).unwrap();
        assert_eq!(e.sender.as_ref().and_then(Party::as_str), Some("cb-42"));
        assert!(e.sender_id().is_none());
        let e = parse(r#"{"sender":{"id":"1","user_ref":"cb-42"}}"#).unwrap();
        assert_eq!(e.sender.as_ref().and_then(Party::as_str), Some("1"));
    }

    #[test]
    fn handover_shapes() {
        let e = parse(
            r#"{"recipient":{"id":"1"},"timestamp":1458692752478,
                "app_roles":{"123456789":["primary_receiver"]}}"#,
        )
        .unwrap();
        assert!(e.is_handover());
        assert_eq!(
            e.app_roles.unwrap()[&AppId::new("123456789")],
            vec!["primary_receiver".to_owned()]
        );
        let e = parse(
            r#"{"sender":{"id":"1"},"request_thread_control":{"requested_owner_app_id":123456789,"metadata":"m"}}"#,
        )
        .unwrap();
        assert_eq!(
            e.request_thread_control
                .unwrap()
                .requested_owner_app_id
                .unwrap(),
            "123456789"
        );
    }
}
