//! WhatsApp Cloud API deliveries (`object: "whatsapp_business_account"`).
//!
//! A WhatsApp delivery is an envelope like any other: `entry[]` (one per WhatsApp
//! Business Account, `entry.id` being the WABA id) with `changes[] {field, value}`. For
//! `field: "messages"` the `value` is a [`WhatsAppValue`]: the business number that
//! received or sent ([`Metadata`]), the profiles of the people involved ([`Contact`]),
//! and any number of inbound [`WaMessage`]s, [`Status`] notices for messages the
//! business sent, and value-level [`WaError`]s. Other WhatsApp fields
//! (`message_template_status_update`, `account_update`, `phone_number_quality_update`,
//! ...) stay [`ChangeValue::Other`](super::ChangeValue::Other) with their raw JSON.
//!
//! A `messages` change is read as WhatsApp when its value has
//! `messaging_product: "whatsapp"` or a `metadata` object, and no `sender` or
//! `recipient` object (those make it a wrapped messaging event, as the App Dashboard's
//! test button sends for Instagram).
//!
//! The same rules as everywhere hold. Every `messages[]` and `statuses[]` item is read on
//! its own and keeps its raw JSON: one whose `from`, `id` or `recipient_id` is of the
//! wrong JSON type (neither string nor integer), or that is not an object, is an
//! [`ItemError`] in its place while its neighbours parse. A `metadata.phone_number_id`
//! of the wrong type concerns every item of the value, so the whole change is the error
//! item. Everything else is tolerated; unknown message types, statuses and keys are kept.
//!
//! ```
//! use meta_webhooks::payload::whatsapp::{WaMessageType, WhatsAppValue};
//! use meta_webhooks::payload::{ChangeValue, Delivery, Object};
//!
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",
//!   "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
//!     "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
//!     "contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"16315551181"}],
//!     "messages":[{"from":"16315551181","id":"wamid.ABGGFlA5Fpa0AgX-LLz3Qs9EjX3Cvh6sOQ",
//!                  "timestamp":"1602139392","type":"text","text":{"body":"Hello!"}},
//!                 {"from":true,"id":"wamid.bad","type":"text","text":{"body":"?"}}]}}]}]}"#;
//! let delivery = Delivery::from_slice(body)?;
//! assert_eq!(delivery.object(), &Object::WhatsAppBusinessAccount);
//!
//! let entry = delivery.entries()[0].as_ref().expect("entry is an object");
//! let change = entry.changes[0].as_ref().expect("a valid change");
//! let ChangeValue::WhatsApp(value) = &change.value else { panic!("not WhatsApp") };
//! assert_eq!(value.phone_number_id().map(|id| id.as_str()), Some("106540352242922"));
//!
//! let hello = value.messages[0].as_ref().expect("a valid message");
//! assert_eq!(hello.kind, Some(WaMessageType::Text));
//! assert_eq!(hello.text(), Some("Hello!"));
//! assert_eq!(value.profile_name(hello.from.as_ref().unwrap()), Some("Kerry Fisher"));
//!
//! // The malformed neighbour is isolated, with its raw JSON.
//! let bad = value.messages[1].as_ref().unwrap_err();
//! assert!(bad.raw().contains("wamid.bad"));
//! # Ok::<(), meta_webhooks::ParseError>(())
//! ```

mod error;
mod interactive;
mod media;
mod message;
mod order;
mod reaction;
mod referral;
mod status;
mod system;

use std::sync::Arc;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::raw::{Body, ValueSpans};
use super::{AccountId, ItemError, ItemErrorKind, RawJson, Spanned, UserId, lenient};

pub use error::{WaError, WaErrorData};
pub use interactive::{FlowReply, Interactive, InteractiveReply, InteractiveType, TemplateButton};
pub use media::{
    ContactAddress, ContactCard, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
    Location, WaMedia,
};
pub use message::{MessageContext, ReferredProduct, Text, WaMessage, WaMessageType};
pub use order::{OrderItem, WaOrder};
pub use reaction::WaReaction;
pub use referral::{WaReferral, WelcomeMessage};
pub use status::{Conversation, ConversationOrigin, Pricing, Status, StatusKind};
pub use system::{Identity, SystemType, SystemUpdate};

/// A `messages[]` item: the message, or why it could not be read.
pub type MessageItem = Result<Spanned<WaMessage>, ItemError>;

/// A `statuses[]` item: the status, or why it could not be read.
pub type StatusItem = Result<Spanned<Status>, ItemError>;

/// The `value` of a WhatsApp `messages` change.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WhatsAppValue {
    /// `messaging_product` (`whatsapp`).
    pub messaging_product: Option<String>,
    /// `metadata`: the business number.
    pub metadata: Option<Metadata>,
    /// `contacts`: the profiles of the people who wrote (or were written to).
    pub contacts: Vec<Contact>,
    /// `messages[]`, in order: what people sent. An item that could not be read is an
    /// [`ItemError`] in its place; a `messages` that is present, non-null and not an array
    /// is one such error.
    pub messages: Vec<MessageItem>,
    /// `statuses[]`, in order: what happened to messages the business sent; malformed
    /// items as in `messages`.
    pub statuses: Vec<StatusItem>,
    /// `errors`: problems Meta reports for the value as a whole.
    pub errors: Vec<WaError>,
}

impl WhatsAppValue {
    /// `metadata.phone_number_id`: the business number's id, the one to send from.
    pub fn phone_number_id(&self) -> Option<&AccountId> {
        self.metadata.as_ref()?.phone_number_id.as_ref()
    }

    /// The contact whose `wa_id` is `wa_id`.
    pub fn contact(&self, wa_id: &UserId) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.wa_id.as_ref() == Some(wa_id))
    }

    /// The WhatsApp profile name of the person `wa_id`, from `contacts`.
    pub fn profile_name(&self, wa_id: &UserId) -> Option<&str> {
        self.contact(wa_id)?.profile_name()
    }

    /// Reads a `messages` change value (a JSON object, a slice of `body`). `Ok(None)`
    /// when it is not a WhatsApp value.
    ///
    /// Errors are those of `metadata.phone_number_id`, which every item depends on.
    ///
    /// Almost every value is well-formed: one pass types it in place, and the raw JSON of
    /// its items is located on first use. Any anomaly (an item of the wrong shape, an id
    /// of the wrong type, a duplicate key) sends it to the careful reading, which reads
    /// every item on its own and isolates the bad ones.
    pub(crate) fn parse(text: &str, body: &Arc<Body>) -> Result<Option<Self>, serde_json::Error> {
        match serde_json::from_str::<Fast>(text) {
            Ok(fast) => Ok(fast.into_value(&RawJson::slice_of(body, text), body)),
            Err(_) => Self::parse_items(text, body),
        }
    }

    /// The careful reading: every part and every item on its own.
    fn parse_items(text: &str, body: &Arc<Body>) -> Result<Option<Self>, serde_json::Error> {
        let wire: Wire<'_> = serde_json::from_str(text)?;
        if wire.sender.is_some() || wire.recipient.is_some() {
            return Ok(None);
        }
        let metadata = wire.metadata.filter(|m| m.get().starts_with('{'));
        if wire.messaging_product.as_deref() != Some("whatsapp") && metadata.is_none() {
            return Ok(None);
        }
        Ok(Some(Self {
            metadata: metadata
                .map(|m| serde_json::from_str(m.get()))
                .transpose()?,
            contacts: objects(wire.contacts),
            messages: items(wire.messages, body, "messages"),
            statuses: items(wire.statuses, body, "statuses"),
            errors: objects(wire.errors),
            messaging_product: wire.messaging_product,
        }))
    }
}

/// A well-formed `messages` value, typed in one pass.
#[derive(Deserialize)]
pub(crate) struct Fast {
    #[serde(default, deserialize_with = "lenient::object")]
    sender: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "lenient::object")]
    recipient: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "lenient::string")]
    messaging_product: Option<String>,
    // Strict shapes: anything unexpected takes the careful reading.
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Option<Vec<Contact>>,
    #[serde(default)]
    messages: Option<Vec<WaMessage>>,
    #[serde(default)]
    statuses: Option<Vec<Status>>,
    #[serde(default)]
    errors: Option<Vec<WaError>>,
}

impl Fast {
    /// The value, its items' raw JSON located in `raw` (the value's) on first use;
    /// `None` when it is not a WhatsApp value.
    pub(crate) fn into_value(self, raw: &RawJson, body: &Arc<Body>) -> Option<WhatsAppValue> {
        if self.sender.is_some() || self.recipient.is_some() {
            return None;
        }
        if self.messaging_product.as_deref() != Some("whatsapp") && self.metadata.is_none() {
            return None;
        }
        let messages = self.messages.unwrap_or_default();
        let statuses = self.statuses.unwrap_or_default();
        let spans = (!messages.is_empty() || !statuses.is_empty()).then(|| ValueSpans::new(raw));
        let raw = |array, index| {
            spans.as_ref().map_or_else(
                || RawJson::slice_of(body, ""),
                |spans| RawJson::value_item(body, spans, array, index),
            )
        };
        Some(WhatsAppValue {
            messaging_product: self.messaging_product,
            metadata: self.metadata,
            contacts: self.contacts.unwrap_or_default(),
            messages: messages
                .into_iter()
                .enumerate()
                .map(|(i, inner)| {
                    Ok(Spanned {
                        inner,
                        raw: raw(0, i),
                    })
                })
                .collect(),
            statuses: statuses
                .into_iter()
                .enumerate()
                .map(|(i, inner)| {
                    Ok(Spanned {
                        inner,
                        raw: raw(1, i),
                    })
                })
                .collect(),
            errors: self.errors.unwrap_or_default(),
        })
    }
}

/// A `messages` value with its parts not yet typed.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(default, deserialize_with = "lenient::object")]
    sender: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "lenient::object")]
    recipient: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "lenient::string")]
    messaging_product: Option<String>,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    contacts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<&'a RawValue>,
    #[serde(borrow, default)]
    statuses: Option<&'a RawValue>,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
}

/// An array of tolerant objects (`contacts`, `errors`); anything else reads as empty.
fn objects<T: DeserializeOwned + Default>(raw: Option<&RawValue>) -> Vec<T> {
    raw.and_then(|raw| lenient::objects(&mut serde_json::Deserializer::from_str(raw.get())).ok())
        .unwrap_or_default()
}

/// The items of `messages` or `statuses`, each read on its own.
fn items<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    body: &Arc<Body>,
    what: &str,
) -> Vec<Result<Spanned<T>, ItemError>> {
    let Some(raw) = raw.map(RawValue::get).filter(|raw| *raw != "null") else {
        return Vec::new();
    };
    let elements = if raw.starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(raw).ok()
    } else {
        None
    };
    let Some(elements) = elements else {
        return vec![Err(ItemError::new(
            ItemErrorKind::NotAnArray,
            format!("{what} is not an array"),
            RawJson::slice_of(body, raw),
        ))];
    };
    elements
        .into_iter()
        .map(|element| {
            let text = element.get();
            let raw = RawJson::slice_of(body, text);
            if !text.starts_with('{') {
                return Err(ItemError::new(
                    ItemErrorKind::NotAnObject,
                    format!("{what} item is not an object"),
                    raw,
                ));
            }
            match serde_json::from_str(text) {
                Ok(inner) => Ok(Spanned { inner, raw }),
                Err(e) => Err(ItemError::new(
                    ItemErrorKind::InvalidItem,
                    format!("invalid {what} item: {e}"),
                    raw,
                )),
            }
        })
        .collect()
}

/// `metadata` of a WhatsApp value: the business number.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Metadata {
    /// `display_phone_number`: the number as people see it.
    #[serde(default, deserialize_with = "lenient::string")]
    pub display_phone_number: Option<String>,
    /// `phone_number_id`: the number's id, to send from and to route by (strict).
    pub phone_number_id: Option<AccountId>,
}

/// One item of a WhatsApp value's `contacts`: a person's profile.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Contact {
    /// `wa_id`: the person's WhatsApp id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub wa_id: Option<UserId>,
    /// `profile`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub profile: Option<Profile>,
    /// `user_id`: the person's business-scoped user id, where Meta sends one.
    #[serde(default, deserialize_with = "lenient::id")]
    pub user_id: Option<String>,
}

impl Contact {
    /// `profile.name`.
    pub fn profile_name(&self) -> Option<&str> {
        self.profile.as_ref()?.name.as_deref()
    }
}

/// `contacts[].profile`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Profile {
    /// `name`: the name the person set in WhatsApp, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<WhatsAppValue>, serde_json::Error> {
        let body = Body::new(text);
        WhatsAppValue::parse(body.text(), &body)
    }

    #[test]
    fn whatsapp_values_are_recognized() {
        assert!(
            parse(r#"{"messaging_product":"whatsapp"}"#)
                .unwrap()
                .is_some()
        );
        assert!(
            parse(r#"{"metadata":{"phone_number_id":"1"}}"#)
                .unwrap()
                .is_some()
        );
        assert!(parse(r#"{"page_id":"1"}"#).unwrap().is_none());
        assert!(parse(r#"{"metadata":"x"}"#).unwrap().is_none());
        assert!(
            parse(r#"{"messaging_product":"whatsapp","sender":{"id":"1"}}"#)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn items_are_isolated() {
        let v = parse(
            r#"{"messaging_product":"whatsapp","metadata":{"phone_number_id":106540352242922},
                "messages":[{"id":"a","type":"text"},7,{"from":[],"id":"b"},{"id":"c"}],
                "statuses":{"id":"s"},"errors":[{"code":"131000"},3]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(v.phone_number_id().unwrap(), "106540352242922");
        let kinds: Vec<_> = v
            .messages
            .iter()
            .map(|m| m.as_ref().map(|_| "ok").map_err(ItemError::kind))
            .collect();
        assert_eq!(
            kinds,
            [
                Ok("ok"),
                Err(ItemErrorKind::NotAnObject),
                Err(ItemErrorKind::InvalidItem),
                Ok("ok")
            ]
        );
        assert_eq!(v.messages[1].as_ref().unwrap_err().raw(), "7");
        assert_eq!(v.messages[3].as_ref().unwrap().raw(), r#"{"id":"c"}"#);
        let status = v.statuses[0].as_ref().unwrap_err();
        assert_eq!(status.kind(), ItemErrorKind::NotAnArray);
        assert_eq!(status.raw(), r#"{"id":"s"}"#);
        assert_eq!(v.errors.len(), 2);
        assert_eq!(v.errors[0].code, Some(131_000));
    }

    #[test]
    fn a_bad_phone_number_id_fails_the_value() {
        assert!(
            parse(r#"{"messaging_product":"whatsapp","metadata":{"phone_number_id":true}}"#)
                .is_err()
        );
    }

    #[test]
    fn contacts_give_profile_names() {
        let v = parse(
            r#"{"messaging_product":"whatsapp","contacts":[{"profile":{"name":"A\u00e9"},"wa_id":"1"},{"wa_id":2}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(v.profile_name(&UserId::new("1")), Some("Aé"));
        assert_eq!(v.profile_name(&UserId::new("2")), None);
        assert!(v.contact(&UserId::new("2")).is_some());
        assert!(v.messages.is_empty() && v.statuses.is_empty());
    }
}

#[cfg(test)]
mod fast_tests {
    use super::*;

    const VALUE: &str = r#"{"messaging_product":"whatsapp","metadata":{"phone_number_id":"5"},
        "messages":[ {"from":"1","id":"a","type":"text","text":{"body":"x"}} ,{"from":"2","id":"b","type":"reaction","reaction":{"emoji":""}}],
        "statuses":[{"id":"s","status":"read","recipient_id":"1"}]}"#;

    #[test]
    fn the_fast_and_careful_readings_agree() {
        let body = Body::new(VALUE);
        let fast = WhatsAppValue::parse(body.text(), &body).unwrap().unwrap();
        let careful = WhatsAppValue::parse_items(body.text(), &body)
            .unwrap()
            .unwrap();
        assert_eq!(format!("{fast:?}"), format!("{careful:?}"));
        let raws: Vec<_> = fast
            .messages
            .iter()
            .map(|m| m.as_ref().unwrap().raw().to_owned())
            .collect();
        assert_eq!(
            raws,
            [
                r#"{"from":"1","id":"a","type":"text","text":{"body":"x"}}"#,
                r#"{"from":"2","id":"b","type":"reaction","reaction":{"emoji":""}}"#
            ]
        );
        assert_eq!(
            fast.statuses[0].as_ref().unwrap().raw(),
            r#"{"id":"s","status":"read","recipient_id":"1"}"#
        );
    }

    #[test]
    fn an_anomaly_takes_the_careful_reading() {
        // A message that is not an object: the fast reading declines, the careful one
        // isolates it.
        let text = VALUE.replace(r#" {"from":"1""#, r#" 7,{"from":"1""#);
        let body = Body::new(&text);
        let value = WhatsAppValue::parse(body.text(), &body).unwrap().unwrap();
        assert_eq!(value.messages.len(), 3);
        assert_eq!(value.messages[0].as_ref().unwrap_err().raw(), "7");
        assert!(value.messages[1].is_ok() && value.statuses[0].is_ok());
    }
}
