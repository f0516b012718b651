//! [`WhatsAppChange`] and [`WhatsAppItem`]: WhatsApp `messages` change values as Meta
//! writes them, for [`DeliveryBuilder::whatsapp`](super::DeliveryBuilder::whatsapp).

use serde_json::Value;

use super::delivery::ChangeItem;
use super::json::{Auto, Json, Object};

/// A WhatsApp `messages` change (`{"value": {messaging_product, metadata, contacts,
/// messages, statuses, errors}, "field": "messages"}`), keys in Meta's order.
///
/// Unset ids and times come from the [`DeliveryBuilder`](super::DeliveryBuilder): a
/// message is from the delivery's person (a `wa_id`) with a `wamid` unique in the delivery
/// and a timestamp in seconds as a string; `contacts` lists the person with
/// [`PROFILE_NAME`](Self::PROFILE_NAME) when the value has messages and no contact was
/// set; a status goes to the delivery's person.
///
/// ```
/// use meta_webhooks::event::Channel;
/// use meta_webhooks::test_util::{DeliveryBuilder, WhatsAppChange, WhatsAppItem};
/// use meta_webhooks::{Delivery, EventKind, classify};
///
/// let body = DeliveryBuilder::whatsapp()
///     .change(
///         WhatsAppChange::new()
///             .message(WhatsAppItem::text("Hola"))
///             .message(WhatsAppItem::button_reply("SIZE_M", "Size M"))
///             .status("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI=", "delivered")
///             .into(),
///     )
///     .build();
/// assert!(body.starts_with(br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid."#));
///
/// let delivery = Delivery::from_slice(&body).unwrap();
/// let events: Vec<_> = classify(&delivery).into_iter().map(Result::unwrap).collect();
/// let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
/// assert_eq!(kinds, [EventKind::Text, EventKind::QuickReply, EventKind::Status]);
/// assert_eq!(events[0].channel(), Channel::WhatsApp);
/// assert_eq!(events[0].account().unwrap().as_str(), WhatsAppChange::PHONE_NUMBER_ID);
/// assert_eq!(events[0].timestamp().unwrap().as_millis(), DeliveryBuilder::DEFAULT_TIME_MS);
/// assert_eq!(events[1].reply_payload(), Some("SIZE_M"));
/// assert_ne!(events[0].mid(), events[1].mid());
/// ```
#[derive(Clone, Debug)]
pub struct WhatsAppChange {
    metadata: Object,
    contacts: Option<Vec<Json>>,
    messages: Vec<Json>,
    statuses: Vec<Json>,
    errors: Vec<Json>,
    fields: Vec<(String, Option<Json>)>,
}

impl WhatsAppChange {
    /// The default business number's id (`metadata.phone_number_id`).
    pub const PHONE_NUMBER_ID: &'static str = "106540352242922";
    /// The default business number as people see it (`metadata.display_phone_number`).
    pub const DISPLAY_PHONE_NUMBER: &'static str = "15550783881";
    /// The default profile name of the person writing.
    pub const PROFILE_NAME: &'static str = "Kerry Fisher";

    /// An empty value for the default business number.
    pub fn new() -> Self {
        Self {
            metadata: Object::new()
                .with("display_phone_number", Self::DISPLAY_PHONE_NUMBER)
                .with("phone_number_id", Self::PHONE_NUMBER_ID),
            contacts: None,
            messages: Vec::new(),
            statuses: Vec::new(),
            errors: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Sets `metadata.phone_number_id` (any JSON, to test odd types).
    pub fn phone_number_id(mut self, id: impl Into<Value>) -> Self {
        self.metadata.set("phone_number_id", Json::Value(id.into()));
        self
    }

    /// Adds a contact (`{profile {name}, wa_id}`); once one is added, no default is.
    pub fn contact(mut self, wa_id: impl Into<String>, name: impl Into<String>) -> Self {
        let contact = Object::new()
            .with("profile", Object::new().with("name", name.into()))
            .with("wa_id", wa_id.into());
        self.contacts
            .get_or_insert_with(Vec::new)
            .push(contact.into());
        self
    }

    /// Leaves `contacts` out.
    pub fn without_contacts(mut self) -> Self {
        self.contacts = Some(Vec::new());
        self
    }

    /// Adds a message. Without an id it gets a `wamid` unique in the delivery.
    pub fn message(mut self, item: WhatsAppItem) -> Self {
        let ordinal = u16::try_from(self.messages.len()).unwrap_or(u16::MAX);
        let mut item = item.item;
        if let Json::Object(object) = &mut item
            && !object.iter().any(|(key, _)| key == "id")
        {
            *object = std::mem::take(object).inserted_after_from("id", Auto::Wamid(ordinal));
        }
        self.messages.push(item);
        self
    }

    /// Adds a status of `status` (`sent`, `delivered`, `read`, `failed`, ...) for the
    /// business's message `wamid`, to the delivery's person.
    pub fn status(self, wamid: impl Into<String>, status: impl Into<String>) -> Self {
        let item = Object::new()
            .with("id", wamid.into())
            .with("status", status.into())
            .with("timestamp", Auto::TimestampSecs)
            .with("recipient_id", Auto::User);
        self.status_json(item.into())
    }

    /// Adds a status item exactly as given (any JSON).
    pub fn raw_status(self, item: Value) -> Self {
        self.status_json(Json::Value(item))
    }

    fn status_json(mut self, item: Json) -> Self {
        self.statuses.push(item);
        self
    }

    /// Adds a value-level error (`{code, title, message}`).
    pub fn error(mut self, code: i64, title: impl Into<String>) -> Self {
        let title = title.into();
        let error = Object::new()
            .with("code", Json::Value(code.into()))
            .with("title", title.as_str())
            .with("message", title);
        self.errors.push(error.into());
        self
    }

    /// Sets `key` of the value (an unknown key, or a part replaced by any JSON).
    pub fn value_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields
            .push((key.into(), Some(Json::Value(value.into()))));
        self
    }

    /// Removes `key` from the value (`messaging_product`, `metadata`, ...).
    pub fn value_without(mut self, key: impl Into<String>) -> Self {
        self.fields.push((key.into(), None));
        self
    }

    fn value(self) -> Json {
        let mut value = Object::new()
            .with("messaging_product", "whatsapp")
            .with("metadata", self.metadata);
        let contacts = match self.contacts {
            Some(contacts) => contacts,
            None if !self.messages.is_empty() => vec![
                Object::new()
                    .with("profile", Object::new().with("name", Self::PROFILE_NAME))
                    .with("wa_id", Auto::User)
                    .into(),
            ],
            None => Vec::new(),
        };
        for (key, items) in [
            ("contacts", contacts),
            ("messages", self.messages),
            ("statuses", self.statuses),
            ("errors", self.errors),
        ] {
            if !items.is_empty() {
                value.set(key, Json::Array(items));
            }
        }
        for (key, field) in self.fields {
            match field {
                Some(json) => value.set(&key, json),
                None => value.remove(&key),
            }
        }
        value.into()
    }
}

impl Default for WhatsAppChange {
    fn default() -> Self {
        Self::new()
    }
}

impl From<WhatsAppChange> for ChangeItem {
    fn from(change: WhatsAppChange) -> Self {
        ChangeItem::value_first("messages", change.value())
    }
}

/// One inbound WhatsApp message for a [`WhatsAppChange`]: `from`, `id`, `timestamp`, the
/// type's object, then `type`, as Meta writes them.
///
/// ```
/// use meta_webhooks::test_util::{DeliveryBuilder, WhatsAppChange, WhatsAppItem};
/// use meta_webhooks::{Delivery, EventKind, classify};
///
/// let reaction = WhatsAppItem::reaction("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI=", "")
///     .from("447700900123")
///     .id("wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgUM0E=")
///     .timestamp_secs(1_769_870_500);
/// let body = DeliveryBuilder::whatsapp()
///     .change(WhatsAppChange::new().message(reaction).into())
///     .build();
/// let events = classify(&Delivery::from_slice(&body).unwrap());
/// let event = events[0].as_ref().unwrap();
/// assert_eq!(event.kind(), EventKind::Unreaction);
/// assert_eq!(event.normalized().sender, Some("447700900123"));
/// assert_eq!(event.reacted_to().unwrap().as_str(), "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI=");
/// assert_eq!(event.timestamp().unwrap().as_secs(), 1_769_870_500);
/// ```
#[derive(Clone, Debug)]
pub struct WhatsAppItem {
    item: Json,
}

impl WhatsAppItem {
    /// A message of `type` carrying `payload` under the type's key.
    fn typed(kind: &str, payload: Json) -> Self {
        let item = Object::new()
            .with("from", Auto::User)
            .with("timestamp", Auto::TimestampSecs)
            .with(kind, payload)
            .with("type", kind);
        Self { item: item.into() }
    }

    /// A message exactly as given (any JSON, also not an object).
    pub fn raw(item: Value) -> Self {
        Self {
            item: Json::Value(item),
        }
    }

    /// A text message (`text {body}`): kind `text`.
    pub fn text(body: impl Into<String>) -> Self {
        Self::typed("text", Object::new().with("body", body.into()).into())
    }

    /// An image (`image {caption, mime_type, sha256, id}`): kind `media`, the caption its
    /// text.
    pub fn image(media_id: impl Into<String>, caption: impl Into<String>) -> Self {
        let image = Object::new()
            .with("caption", caption.into())
            .with("mime_type", "image/jpeg")
            .with("sha256", "gS8vB2xoDdmbJ6zJQ5Z0pq8w3rCj1hFvJ4p7Vd2R6Ow=")
            .with("id", media_id.into());
        Self::typed("image", image.into())
    }

    /// A tapped reply button (`interactive {type: button_reply, button_reply {id,
    /// title}}`): kind `quick_reply`.
    pub fn button_reply(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self::interactive("button_reply", id.into(), title.into())
    }

    /// A picked list row (`interactive {type: list_reply, list_reply {id, title}}`):
    /// kind `quick_reply`.
    pub fn list_reply(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self::interactive("list_reply", id.into(), title.into())
    }

    fn interactive(kind: &str, id: String, title: String) -> Self {
        let reply = Object::new().with("id", id).with("title", title);
        let interactive = Object::new().with("type", kind).with(kind, reply);
        Self::typed("interactive", interactive.into())
    }

    /// A tapped quick-reply button of a template (`button {payload, text}`): kind
    /// `quick_reply`.
    pub fn template_button(payload: impl Into<String>, text: impl Into<String>) -> Self {
        let button = Object::new()
            .with("payload", payload.into())
            .with("text", text.into());
        Self::typed("button", button.into())
    }

    /// A reaction to the message `wamid` (`reaction {message_id, emoji}`): kind
    /// `reaction`, or `unreaction` for an empty emoji.
    pub fn reaction(wamid: impl Into<String>, emoji: impl Into<String>) -> Self {
        let reaction = Object::new()
            .with("message_id", wamid.into())
            .with("emoji", emoji.into());
        Self::typed("reaction", reaction.into())
    }

    /// Sets `from` (the person's `wa_id`; any JSON, to test odd types).
    pub fn from(self, wa_id: impl Into<Value>) -> Self {
        self.field("from", wa_id)
    }

    /// Sets `id` (the message's `wamid`).
    pub fn id(self, wamid: impl Into<Value>) -> Self {
        self.field("id", wamid)
    }

    /// Sets `timestamp`, in seconds (written as a string, as Meta does).
    pub fn timestamp_secs(self, secs: u64) -> Self {
        self.field("timestamp", secs.to_string())
    }

    /// Sets a top-level key of the message (`context`, `referral`, an unknown key).
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.item
            .as_object_mut()
            .set(key, Json::Value(value.into()));
        self
    }
}
