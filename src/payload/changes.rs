//! `entry[].changes[]`: `{field, value}` items, including messaging events wrapped as a
//! change's `value`.
//!
//! The `value` is typed by `field`: [`Comment`] for `comments` / `live_comments`,
//! [`Mention`] for `mentions`, [`StoryInsights`] for `story_insights`, [`FeedChange`] for a
//! Facebook Page's `feed`, a [`MessagingEvent`] when a messaging field wraps an event with
//! a `sender` or `recipient` object (the App Dashboard's test button), a
//! [`WhatsAppValue`] for a WhatsApp `messages` value, and [`ChangeValue::Other`] for
//! everything else (other WhatsApp fields, fields added later). Whatever the
//! type, the value's raw JSON stays available through [`Change::value_raw`].
//!
//! A `feed` value that is not an object, or a WhatsApp value whose
//! `metadata.phone_number_id` is neither a string nor an integer, cannot be read at all:
//! the change is an [`ItemError`](super::ItemError) in its place.
//!
//! ```
//! use meta_webhooks::payload::{ChangeField, ChangeValue, Delivery};
//!
//! let delivery = Delivery::from_slice(
//!     br#"{"object":"instagram","entry":[{"id":"17841405793187218","time":1520622968,
//!          "changes":[{"field":"comments","value":{"id":"17952310476882035",
//!                      "from":{"id":"6934581207719432","username":"maria"},"text":"Precio?"}},
//!                     {"field":"follow","value":{"count":[1]}}]}]}"#,
//! )?;
//! let entry = delivery.entries()[0].as_ref().map_err(|e| e.reason().to_owned()).unwrap();
//! let comment = entry.changes[0].as_ref().unwrap();
//! assert_eq!(comment.field, Some(ChangeField::Comments));
//! let ChangeValue::Comment(c) = &comment.value else { panic!() };
//! assert_eq!(c.text.as_deref(), Some("Precio?"));
//! let other = entry.changes[1].as_ref().unwrap();
//! assert_eq!(other.field.as_ref().map(|f| f.as_str()), Some("follow"));
//! assert_eq!(other.value_raw(), Some(r#"{"count":[1]}"#));
//! # Ok::<(), meta_webhooks::ParseError>(())
//! ```

mod comment;
mod feed;
mod mention;
mod story_insights;

use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::messaging::MessagingEvent;
use super::raw::Body;
use super::whatsapp::{Fast, WhatsAppValue};
use super::wire::wire_enum;
use super::{RawJson, lenient};

pub use comment::{Comment, CommentAuthor, CommentMedia};
pub use feed::{FeedAuthor, FeedChange, FeedItem, FeedVerb};
pub use mention::Mention;
pub use story_insights::StoryInsights;

wire_enum! {
    /// `changes[].field`: the subscription field that produced the change.
    pub enum ChangeField(
        /// A field this version does not know (`follow`, WhatsApp fields, ...).
        Unknown
    ) {
        /// `feed`: a Facebook Page's posts, comments, reactions, shares, ...
        Feed = "feed",
        /// `comments`.
        Comments = "comments",
        /// `live_comments`.
        LiveComments = "live_comments",
        /// `mentions`.
        Mentions = "mentions",
        /// `story_insights`.
        StoryInsights = "story_insights",
        /// `messages` (the dashboard test wraps a messaging event in it).
        Messages = "messages",
        /// `message_echoes`.
        MessageEchoes = "message_echoes",
        /// `message_reactions`.
        MessageReactions = "message_reactions",
        /// `message_edit` (Instagram).
        MessageEdit = "message_edit",
        /// `message_edits` (Messenger).
        MessageEdits = "message_edits",
        /// `messaging_postbacks`.
        MessagingPostbacks = "messaging_postbacks",
        /// `messaging_seen` (Instagram reads).
        MessagingSeen = "messaging_seen",
        /// `message_reads` (Messenger).
        MessageReads = "message_reads",
        /// `message_deliveries`.
        MessageDeliveries = "message_deliveries",
        /// `messaging_referral` (Instagram).
        MessagingReferral = "messaging_referral",
        /// `messaging_referrals` (Messenger).
        MessagingReferrals = "messaging_referrals",
        /// `messaging_optins`.
        MessagingOptins = "messaging_optins",
        /// `messaging_handover` (Instagram).
        MessagingHandover = "messaging_handover",
        /// `messaging_handovers` (Messenger).
        MessagingHandovers = "messaging_handovers",
        /// `standby`.
        Standby = "standby",
        /// `messaging_account_linking`.
        MessagingAccountLinking = "messaging_account_linking",
        /// `messaging_policy_enforcement`.
        MessagingPolicyEnforcement = "messaging_policy_enforcement",
        /// `response_feedback`.
        ResponseFeedback = "response_feedback",
        /// `send_cart`.
        SendCart = "send_cart",
    }
}

impl ChangeField {
    /// Whether this is a messaging field whose `value` may wrap a messaging event
    /// (a "wrapped messaging change", classified like the event it wraps).
    pub fn is_messaging(&self) -> bool {
        matches!(
            self,
            Self::Messages
                | Self::MessageEchoes
                | Self::MessageReactions
                | Self::MessageEdit
                | Self::MessageEdits
                | Self::MessagingPostbacks
                | Self::MessagingSeen
                | Self::MessageReads
                | Self::MessageDeliveries
                | Self::MessagingReferral
                | Self::MessagingReferrals
                | Self::MessagingOptins
                | Self::MessagingHandover
                | Self::MessagingHandovers
                | Self::Standby
                | Self::MessagingAccountLinking
                | Self::MessagingPolicyEnforcement
                | Self::ResponseFeedback
                | Self::SendCart
        )
    }
}

/// The typed `value` of a change.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ChangeValue {
    /// `comments` or `live_comments`.
    Comment(Box<Comment>),
    /// `mentions`.
    Mention(Mention),
    /// `story_insights`.
    StoryInsights(StoryInsights),
    /// `feed` (a Facebook Page).
    Feed(Box<FeedChange>),
    /// A messaging field whose value is a messaging event (has `sender` or `recipient`).
    Messaging(Box<MessagingEvent>),
    /// A WhatsApp `messages` value: inbound messages, statuses and errors.
    WhatsApp(Box<WhatsAppValue>),
    /// Anything else; see [`Change::value_raw`].
    Other,
}

/// One `changes[]` item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Change {
    /// `field`; `None` if missing or not a string.
    pub field: Option<ChangeField>,
    /// `value`, typed by `field`.
    pub value: ChangeValue,
    value_raw: Option<RawJson>,
}

impl Change {
    /// The `value` exactly as received; `None` if absent or `null`.
    pub fn value_raw(&self) -> Option<&str> {
        self.value_raw.as_ref().map(RawJson::as_str)
    }

    /// Parses one change item (a JSON object, already captured as `item`, a slice of
    /// `body`). Errors are those of strict ids inside a typed value.
    pub(crate) fn parse(item: &str, body: &Arc<Body>) -> Result<Self, serde_json::Error> {
        Self::from_parts(serde_json::from_str(item)?, body)
    }

    /// Types the `value` of a change read as [`ChangeParts`] (whose `value` borrows from
    /// `body`).
    pub(crate) fn from_parts(
        parts: ChangeParts<'_>,
        body: &Arc<Body>,
    ) -> Result<Self, serde_json::Error> {
        let value_raw = parts.value.map(|v| RawJson::slice_of(body, v.get()));
        let text = parts.value.map_or("null", RawValue::get);
        let is_object = text.starts_with('{');
        let value = match &parts.field {
            Some(ChangeField::Comments | ChangeField::LiveComments) => {
                ChangeValue::Comment(Box::new(typed_or_default(text, is_object)?))
            }
            Some(ChangeField::Mentions) => ChangeValue::Mention(typed_or_default(text, is_object)?),
            Some(ChangeField::StoryInsights) => {
                ChangeValue::StoryInsights(typed_or_default(text, is_object)?)
            }
            Some(ChangeField::Feed) if is_object => {
                ChangeValue::Feed(Box::new(serde_json::from_str(text)?))
            }
            Some(ChangeField::Feed) => {
                return Err(serde::de::Error::custom("feed value is not an object"));
            }
            Some(ChangeField::Messages) if is_object => match WhatsAppValue::parse(text, body) {
                Ok(Some(value)) => ChangeValue::WhatsApp(Box::new(value)),
                Ok(None) => wrapped(text)?,
                // A WhatsApp value cannot be told apart when it is not even that shape
                // (duplicate keys); the messaging reading decides.
                Err(_) if !looks_whatsapp(text) => wrapped(text)?,
                Err(error) => return Err(error),
            },
            Some(field) if field.is_messaging() && is_object => wrapped(text)?,
            _ => ChangeValue::Other,
        };
        Ok(Self {
            field: parts.field,
            value,
            value_raw,
        })
    }
}

impl Change {
    /// A change of a WhatsApp delivery read in one pass (its `value` may come before its
    /// `field`): `value` is the value already read as a WhatsApp value (`None` if absent
    /// or `null`), `value_raw` its raw JSON. `None` when the value needs a reading by
    /// another type (a `comments`, `feed`, ... field; a `messages` value that is not
    /// WhatsApp's).
    pub(crate) fn from_whatsapp(
        field: Option<ChangeField>,
        value: Option<Fast>,
        value_raw: Option<RawJson>,
        body: &Arc<Body>,
    ) -> Option<Self> {
        let typed = match (&field, value) {
            (Some(ChangeField::Messages), Some(value)) => {
                ChangeValue::WhatsApp(Box::new(value.into_value(value_raw.as_ref()?, body)?))
            }
            (
                Some(
                    ChangeField::Comments
                    | ChangeField::LiveComments
                    | ChangeField::Mentions
                    | ChangeField::StoryInsights
                    | ChangeField::Feed,
                ),
                _,
            ) => return None,
            (Some(field), Some(_)) if field.is_messaging() => return None,
            _ => ChangeValue::Other,
        };
        Some(Self {
            field,
            value: typed,
            value_raw,
        })
    }
}

/// A change item with its `value` not yet typed (the `field` may come after it).
#[derive(Deserialize)]
pub(crate) struct ChangeParts<'a> {
    #[serde(default, deserialize_with = "lenient::wire")]
    field: Option<ChangeField>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
}

fn typed_or_default<T: for<'de> Deserialize<'de> + Default>(
    text: &str,
    is_object: bool,
) -> Result<T, serde_json::Error> {
    if is_object {
        serde_json::from_str(text)
    } else {
        Ok(T::default())
    }
}

/// Whether a `messages` value that failed to read as WhatsApp says it is one.
fn looks_whatsapp(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Product {
        #[serde(default, deserialize_with = "lenient::string")]
        messaging_product: Option<String>,
        #[serde(default, deserialize_with = "lenient::object")]
        metadata: Option<IgnoredAny>,
    }
    serde_json::from_str::<Product>(text)
        .is_ok_and(|p| p.messaging_product.as_deref() == Some("whatsapp") || p.metadata.is_some())
}

/// A messaging-field value is a wrapped event only if it has a `sender` or `recipient`
/// object; the Page test stub `{"page_id":…}` and WhatsApp values are [`ChangeValue::Other`].
fn wrapped(text: &str) -> Result<ChangeValue, serde_json::Error> {
    match serde_json::from_str::<MessagingEvent>(text) {
        Ok(event) if event.has_party() => Ok(ChangeValue::Messaging(Box::new(event))),
        Ok(_) => Ok(ChangeValue::Other),
        Err(error) => {
            // Invalid as a messaging event: that only matters if it is one.
            #[derive(Deserialize)]
            struct Probe {
                #[serde(default, deserialize_with = "lenient::object")]
                sender: Option<IgnoredAny>,
                #[serde(default, deserialize_with = "lenient::object")]
                recipient: Option<IgnoredAny>,
            }
            match serde_json::from_str::<Probe>(text) {
                Ok(p) if p.sender.is_none() && p.recipient.is_none() => Ok(ChangeValue::Other),
                _ => Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(item: &str) -> Result<Change, serde_json::Error> {
        let body = Body::new(item);
        Change::parse(body.text(), &body)
    }

    #[test]
    fn typed_by_field() {
        let c = parse(r#"{"value":{"comment_id":"1","media_id":2},"field":"mentions"}"#).unwrap();
        let ChangeValue::Mention(m) = c.value else {
            panic!("{c:?}")
        };
        assert_eq!(m.comment_id.unwrap(), "1");
        assert_eq!(m.media_id.unwrap(), "2");

        let c =
            parse(r#"{"field":"story_insights","value":{"media_id":"9","reach":-1,"exits":"3"}}"#)
                .unwrap();
        let ChangeValue::StoryInsights(s) = c.value else {
            panic!()
        };
        assert_eq!((s.reach, s.exits), (Some(-1), Some(3)));
    }

    #[test]
    fn wrapped_messaging_needs_a_party() {
        let c = parse(
            r#"{"field":"messages","value":{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":"1527459824","message":{"mid":"m","text":"t"}}}"#,
        )
        .unwrap();
        assert!(matches!(c.value, ChangeValue::Messaging(_)));
        let c = parse(r#"{"field":"messages","value":{"page_id":"123"}}"#).unwrap();
        assert!(matches!(c.value, ChangeValue::Other));
        assert_eq!(c.value_raw(), Some(r#"{"page_id":"123"}"#));
        // Not an event (no party), so an odd `message.mid` is not an error.
        let c = parse(r#"{"field":"messages","value":{"message":{"mid":true}}}"#).unwrap();
        assert!(matches!(c.value, ChangeValue::Other));
        // An event with an invalid id is.
        assert!(parse(r#"{"field":"messages","value":{"sender":{"id":true}}}"#).is_err());
    }

    #[test]
    fn strict_ids_in_typed_values() {
        assert!(parse(r#"{"field":"comments","value":{"id":true}}"#).is_err());
        assert!(parse(r#"{"field":"comments","value":{"from":{"id":[]}}}"#).is_err());
        assert!(parse(r#"{"field":"mentions","value":{"media_id":{}}}"#).is_err());
        // Ids nobody reads stay tolerant.
        assert!(parse(r#"{"field":"comments","value":{"id":"1","parent_id":true}}"#).is_ok());
    }

    #[test]
    fn page_feed_values_are_typed_and_must_be_objects() {
        let c = parse(
            r#"{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","message":"hi"}}"#,
        )
        .unwrap();
        let ChangeValue::Feed(f) = c.value else {
            panic!("{c:?}")
        };
        assert_eq!(f.object_id(), Some("1_2"));
        for bad in [
            r#"{"field":"feed","value":"x"}"#,
            r#"{"field":"feed","value":null}"#,
            r#"{"field":"feed"}"#,
            r#"{"field":"feed","value":{"item":"comment","comment_id":true}}"#,
        ] {
            let error = parse(bad).unwrap_err();
            assert!(
                bad.contains("true") || error.to_string() == "feed value is not an object",
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn odd_shapes_are_tolerated() {
        let c = parse(r#"{"field":"comments","value":"x"}"#).unwrap();
        let ChangeValue::Comment(cm) = c.value else {
            panic!()
        };
        assert!(cm.comment_id().is_none());
        let c = parse(r#"{"field":5}"#).unwrap();
        assert!(c.field.is_none() && c.value_raw().is_none());
        assert!(matches!(c.value, ChangeValue::Other));
    }
}
