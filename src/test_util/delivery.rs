//! [`DeliveryBuilder`]: webhook bodies as Meta writes them, for any object.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;

use super::json::{self, Auto, Escaping, Json, Object};
use super::request::SignedRequest;

const WHATSAPP: &str = "whatsapp_business_account";

/// Builds the body of a webhook delivery the way Meta writes it: `object`, then `entry[]`,
/// each entry with `id`, `time` and its `messaging`, `standby` and `changes` items, keys in
/// Meta's order, strings with Meta's escaping (`\/`, non-ASCII as `\uXXXX`).
///
/// Every value has a realistic default and every one can be set:
/// - ids: the account (`entry.id`) and the person (IGSID or PSID) depend on the object
///   ([`DeliveryBuilder::INSTAGRAM_ACCOUNT`], [`DeliveryBuilder::PAGE_ID`], ...); message
///   and comment ids are unique within the delivery and derived from its time;
/// - times: messaging items carry `timestamp` in milliseconds and their entry `time` in
///   milliseconds; an entry holding only `changes` carries `time` in seconds, as Meta
///   does. Everything starts from [`DeliveryBuilder::DEFAULT_TIME_MS`] (fixed, so tests
///   are reproducible) or from the instant given to [`DeliveryBuilder::at`]: pass your
///   `now` where age matters. The n-th item of the delivery (from 0) is `n` ms later.
///
/// Items go into the current entry; [`DeliveryBuilder::entry`] starts another one (another
/// account in the same POST). Before any `entry` call, items go into one entry for the
/// default account.
///
/// ```
/// use meta_webhooks::test_util::{ChangeItem, DeliveryBuilder, MessagingItem};
/// use meta_webhooks::{Delivery, EventKind, classify};
///
/// let body = DeliveryBuilder::instagram()
///     .messaging(MessagingItem::text("Hola 👋"))
///     .messaging(MessagingItem::story_reply("Me encanta", "https://lookaside.fbsbx.com/s"))
///     .entry("17841453247170088")
///     .change(ChangeItem::comment("Precio?"))
///     .build();
/// assert!(body.starts_with(br#"{"object":"instagram","entry":[{"id":"17841405793187218","time":1769870412000,"messaging":[{"sender":{"id":"6934581207719432"}"#));
/// assert!(body.ends_with(br#""text":"Precio?"}}]}]}"#));
///
/// let delivery = Delivery::from_slice(&body).unwrap();
/// let kinds: Vec<_> = classify(&delivery).into_iter().map(|e| e.unwrap().kind()).collect();
/// assert_eq!(kinds, [EventKind::Text, EventKind::StoryReply, EventKind::Comment]);
/// ```
#[derive(Clone, Debug)]
pub struct DeliveryBuilder {
    object: String,
    account: String,
    user: String,
    time_ms: u64,
    escaping: Escaping,
    entries: Vec<Entry>,
    fields: Vec<(String, Option<Json>)>,
}

#[derive(Clone, Debug)]
enum Entry {
    Built(EntryParts),
    Raw(Value),
}

#[derive(Clone, Debug)]
struct EntryParts {
    /// `None`: the default account.
    id: Option<String>,
    time: Option<Json>,
    messaging: Vec<MessagingItem>,
    standby: Vec<MessagingItem>,
    changes: Vec<ChangeItem>,
    fields: Vec<(String, Option<Json>)>,
}

impl DeliveryBuilder {
    /// The default Instagram account (`entry.id`, an IG user id).
    pub const INSTAGRAM_ACCOUNT: &'static str = "17841405793187218";
    /// The default Instagram person (an IGSID).
    pub const INSTAGRAM_USER: &'static str = "6934581207719432";
    /// The default Facebook Page (`entry.id`).
    pub const PAGE_ID: &'static str = "104512345678901";
    /// The default Messenger person (a Page-scoped id).
    pub const PAGE_USER: &'static str = "7012345678901234";
    /// The default account for any other object.
    pub const OTHER_ACCOUNT: &'static str = "102290129340398";
    /// The default person for any other object.
    pub const OTHER_USER: &'static str = "16505551234";
    /// The default time of a delivery, in milliseconds since the Unix epoch
    /// (2026-01-31T14:40:12Z).
    pub const DEFAULT_TIME_MS: u64 = 1_769_870_412_000;

    /// A delivery for `object` (`"instagram"`, `"page"`, `"whatsapp_business_account"`,
    /// anything), with no entries yet.
    pub fn new(object: impl Into<String>) -> Self {
        let object = object.into();
        let (account, user) = match object.as_str() {
            "instagram" => (Self::INSTAGRAM_ACCOUNT, Self::INSTAGRAM_USER),
            "page" => (Self::PAGE_ID, Self::PAGE_USER),
            _ => (Self::OTHER_ACCOUNT, Self::OTHER_USER),
        };
        Self {
            object,
            account: account.to_owned(),
            user: user.to_owned(),
            time_ms: Self::DEFAULT_TIME_MS,
            escaping: Escaping::Meta,
            entries: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// A delivery for `"instagram"` (Instagram messaging and comments).
    pub fn instagram() -> Self {
        Self::new("instagram")
    }

    /// A delivery for `"page"` (Messenger).
    pub fn page() -> Self {
        Self::new("page")
    }

    /// A delivery for `"whatsapp_business_account"` (WhatsApp Cloud API): the entry is the
    /// WhatsApp Business Account [`OTHER_ACCOUNT`](Self::OTHER_ACCOUNT), the person the
    /// `wa_id` [`OTHER_USER`](Self::OTHER_USER); entries holding only changes carry no
    /// `time`, as Meta sends them. Add values with [`WhatsAppChange`](super::WhatsAppChange).
    pub fn whatsapp() -> Self {
        Self::new(WHATSAPP)
    }

    /// The default account: the id of the entry that items go into without a
    /// [`DeliveryBuilder::entry`] call (before one, or after a raw entry).
    pub fn account(mut self, id: impl Into<String>) -> Self {
        self.account = id.into();
        self
    }

    /// The default person: the sender of inbound items and the recipient of echoes,
    /// the author of comments.
    pub fn user(mut self, id: impl Into<String>) -> Self {
        self.user = id.into();
        self
    }

    /// The delivery's time: every default `timestamp` and `time` derives from it.
    /// Instants before the epoch count as the epoch.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.time_ms = millis(now);
        self
    }

    /// [`DeliveryBuilder::at`] in milliseconds since the Unix epoch.
    pub fn at_millis(mut self, ms: u64) -> Self {
        self.time_ms = ms;
        self
    }

    /// Writes non-ASCII characters as raw UTF-8 and `/` unescaped instead of Meta's
    /// `\uXXXX` and `\/` (both are valid JSON with the same meaning).
    pub fn raw_utf8(mut self) -> Self {
        self.escaping = Escaping::Utf8;
        self
    }

    /// Starts a new entry for the account `id`; the following items go into it.
    pub fn entry(mut self, id: impl Into<String>) -> Self {
        self.entries
            .push(Entry::Built(EntryParts::new(Some(id.into()))));
        self
    }

    /// Adds an entry exactly as given (any JSON, also not an object); the following items
    /// start a new entry for the default account.
    pub fn raw_entry(mut self, entry: Value) -> Self {
        self.entries.push(Entry::Raw(entry));
        self
    }

    /// Sets the current entry's `time` as written (e.g. a string, or seconds).
    pub fn entry_time(mut self, time: impl Into<Value>) -> Self {
        self.current().time = Some(Json::Value(time.into()));
        self
    }

    /// Sets `key` of the current entry to `value` (replacing `id`, `time` or an item
    /// array, or adding an unknown key).
    pub fn entry_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let value = Json::Value(value.into());
        self.current().fields.push((key.into(), Some(value)));
        self
    }

    /// Removes `key` (`id`, `time`, `messaging`, ...) from the current entry.
    pub fn entry_without(mut self, key: impl Into<String>) -> Self {
        self.current().fields.push((key.into(), None));
        self
    }

    /// Adds an item to the current entry's `messaging`.
    pub fn messaging(mut self, item: MessagingItem) -> Self {
        self.current().messaging.push(item);
        self
    }

    /// Adds an item to the current entry's `standby` (the thread is owned by another app).
    pub fn standby(mut self, item: MessagingItem) -> Self {
        self.current().standby.push(item);
        self
    }

    /// Adds an item to the current entry's `changes`.
    pub fn change(mut self, change: ChangeItem) -> Self {
        self.current().changes.push(change);
        self
    }

    /// Sets a top-level key (after `object` and `entry`, or replacing one of them).
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields
            .push((key.into(), Some(Json::Value(value.into()))));
        self
    }

    /// Removes a top-level key (`object` or `entry`).
    pub fn without(mut self, key: impl Into<String>) -> Self {
        self.fields.push((key.into(), None));
        self
    }

    /// The body, byte for byte.
    pub fn build(&self) -> Bytes {
        Bytes::from(self.build_string())
    }

    /// The body as a string.
    pub fn build_string(&self) -> String {
        let mut top = Object::new().with("object", self.object.as_str());
        let mut index = 0_u64;
        let entries = self
            .entries
            .iter()
            .map(|entry| match entry {
                Entry::Raw(value) => Json::Value(value.clone()),
                Entry::Built(parts) => Json::Object(self.render_entry(parts, &mut index)),
            })
            .collect();
        top.set("entry", Json::Array(entries));
        apply(&mut top, &self.fields);
        let mut out = String::with_capacity(256);
        json::write(&mut out, &Json::Object(top), self.escaping, &|_| {
            Value::Null
        });
        out
    }

    /// A signed `POST` of this body (see [`SignedRequest`]).
    pub fn signed(&self, secret: &str) -> SignedRequest {
        SignedRequest::new(secret, self.build())
    }

    /// The [`Batch`](crate::sink::Batch) of this body (see [`batch`](super::batch)).
    ///
    /// # Errors
    ///
    /// When the body is not a delivery (e.g. after [`DeliveryBuilder::without`]`("entry")`).
    #[cfg(feature = "sink")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sink")))]
    pub fn batch(&self) -> Result<crate::sink::Batch, crate::ParseError> {
        super::batch(self.build())
    }

    fn current(&mut self) -> &mut EntryParts {
        if !matches!(self.entries.last(), Some(Entry::Built(_))) {
            self.entries.push(Entry::Built(EntryParts::new(None)));
        }
        match self.entries.last_mut() {
            Some(Entry::Built(parts)) => parts,
            _ => unreachable!("a built entry was pushed above"),
        }
    }

    fn render_entry(&self, parts: &EntryParts, index: &mut u64) -> Object {
        let id = parts.id.as_deref().unwrap_or(&self.account);
        let has_messaging = !parts.messaging.is_empty() || !parts.standby.is_empty();
        let time = parts.time.clone().or_else(|| {
            if has_messaging || parts.changes.is_empty() {
                Some(Json::Value(self.time_ms.into()))
            } else if self.object == WHATSAPP {
                // WhatsApp entries carry no time.
                None
            } else {
                Some(Json::Value((self.time_ms / 1000).into()))
            }
        });
        let mut entry = Object::new().with("id", id);
        if let Some(time) = time {
            entry.set("time", time);
        }
        let render = |items: &[MessagingItem], index: &mut u64| -> Json {
            Json::Array(
                items
                    .iter()
                    .map(|item| {
                        let rendered = self.fill(&item.item, id, *index, item.echo);
                        *index += 1;
                        rendered
                    })
                    .collect(),
            )
        };
        if !parts.messaging.is_empty() {
            let messaging = render(&parts.messaging, index);
            entry.set("messaging", messaging);
        }
        if !parts.standby.is_empty() {
            let standby = render(&parts.standby, index);
            entry.set("standby", standby);
        }
        if !parts.changes.is_empty() {
            let changes = parts
                .changes
                .iter()
                .map(|change| {
                    let rendered = self.fill(&change.item, id, *index, false);
                    *index += 1;
                    rendered
                })
                .collect();
            entry.set("changes", Json::Array(changes));
        }
        apply(&mut entry, &parts.fields);
        entry
    }

    /// `json` with every placeholder replaced for the item at `index` of `account`'s entry.
    fn fill(&self, json: &Json, account: &str, index: u64, echo: bool) -> Json {
        let timestamp = self.time_ms.saturating_add(index);
        // An echo goes from the account to the person.
        let (user, account_id) = if echo {
            (account, self.user.as_str())
        } else {
            (self.user.as_str(), account)
        };
        match json {
            Json::Auto(Auto::User) => Json::from(user),
            Json::Auto(Auto::Account) => Json::from(account_id),
            Json::Auto(Auto::TimestampMs) => Json::Value(timestamp.into()),
            Json::Auto(Auto::Mid) => Json::from(if self.object == "instagram" {
                format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj{account}Oj{timestamp}{index:04}ZDZD")
            } else {
                format!("m_{timestamp}{index:04}AG5Hz2Uq7tuwNEhXfYYKj8mJEM")
            }),
            Json::Auto(Auto::CommentId) => Json::from(format!(
                "1795{:09}{:04}",
                (timestamp / 1000) % 1_000_000_000,
                index % 10_000
            )),
            Json::Auto(Auto::Wamid(n)) => Json::from(format!(
                "wamid.HBgL{user}FQIAEhgU{timestamp}{index:04}{n:02}A"
            )),
            Json::Auto(Auto::TimestampSecs) => Json::from((timestamp / 1000).to_string()),
            Json::Auto(Auto::MediaId) => Json::from("18023456789012345"),
            Json::Auto(Auto::StoryId) => Json::from("17890455012345678"),
            Json::Value(value) => Json::Value(value.clone()),
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|item| self.fill(item, account, index, echo))
                    .collect(),
            ),
            Json::Object(object) => {
                let mut filled = Object::new();
                for (key, value) in object.iter() {
                    filled.set(key, self.fill(value, account, index, echo));
                }
                Json::Object(filled)
            }
        }
    }
}

impl EntryParts {
    fn new(id: Option<String>) -> Self {
        Self {
            id,
            time: None,
            messaging: Vec::new(),
            standby: Vec::new(),
            changes: Vec::new(),
            fields: Vec::new(),
        }
    }
}

fn apply(object: &mut Object, fields: &[(String, Option<Json>)]) {
    for (key, value) in fields {
        match value {
            Some(value) => object.set(key, value.clone()),
            None => object.remove(key),
        }
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One item of `messaging[]` or `standby[]`: `sender`, `recipient`, `timestamp` (ms),
/// then the payload (`message`, `postback`, `reaction`, `read`, `referral`, ...).
///
/// The constructors give the shapes Meta documents; the setters change any part.
/// Ids and times left unset come from the [`DeliveryBuilder`] when it builds: the sender
/// is the delivery's person and the recipient the entry's account (the other way round
/// for [`MessagingItem::echo`]), the `mid` is unique in the delivery.
///
/// ```
/// use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
/// use meta_webhooks::{Delivery, EventKind, classify};
///
/// let item = MessagingItem::quick_reply("Yes", "CONFIRM")
///     .sender("25371938466021547")
///     .mid("aWdfZAG1faXRlbTox")
///     .timestamp_ms(1_769_870_500_000);
/// let body = DeliveryBuilder::instagram().messaging(item).build();
/// let delivery = Delivery::from_slice(&body).unwrap();
/// let events = classify(&delivery);
/// let event = events[0].as_ref().unwrap();
/// assert_eq!(event.kind(), EventKind::QuickReply);
/// assert_eq!(event.normalized().sender, Some("25371938466021547"));
/// assert_eq!(event.normalized().mid, Some("aWdfZAG1faXRlbTox"));
/// assert_eq!(event.timestamp().unwrap().as_millis(), 1_769_870_500_000);
/// ```
#[derive(Clone, Debug)]
pub struct MessagingItem {
    item: Json,
    payload: Option<&'static str>,
    echo: bool,
}

impl MessagingItem {
    /// An item with `sender`, `recipient` and `timestamp` and no payload (classified as
    /// `unknown` until a payload is set with [`MessagingItem::field`]).
    pub fn new() -> Self {
        Self {
            item: Json::Object(
                Object::new()
                    .with("sender", Object::new().with("id", Auto::User))
                    .with("recipient", Object::new().with("id", Auto::Account))
                    .with("timestamp", Auto::TimestampMs),
            ),
            payload: None,
            echo: false,
        }
    }

    /// An item exactly as given: no defaults are filled in, any JSON (also not an object).
    pub fn raw(item: Value) -> Self {
        Self {
            item: Json::Value(item),
            payload: None,
            echo: false,
        }
    }

    fn with_payload(key: &'static str, payload: Object) -> Self {
        let mut item = Self::new();
        item.object().set(key, payload);
        item.payload = Some(key);
        item
    }

    fn message(message: Object) -> Self {
        Self::with_payload(
            "message",
            Object::new().with("mid", Auto::Mid).merged(message),
        )
    }

    /// A text message (`message {mid, text}`): kind `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::message(Object::new().with("text", text.into()))
    }

    /// An echo of a text the business sent (`is_echo`): sender is the account, recipient
    /// the person. Kind `echo`.
    pub fn echo(text: impl Into<String>) -> Self {
        let mut item = Self::message(
            Object::new()
                .with("text", text.into())
                .with("is_echo", Value::Bool(true)),
        );
        item.echo = true;
        item
    }

    /// A reply to the business's story (`reply_to.story {url, id}`): kind `story_reply`.
    pub fn story_reply(text: impl Into<String>, story_url: impl Into<String>) -> Self {
        let story = Object::new()
            .with("url", story_url.into())
            .with("id", Auto::StoryId);
        Self::message(
            Object::new()
                .with("text", text.into())
                .with("reply_to", Object::new().with("story", story)),
        )
    }

    /// The person mentioned the business in their story (a `story_mention` attachment
    /// with the story's CDN URL): kind `story_mention`.
    pub fn story_mention(cdn_url: impl Into<String>) -> Self {
        Self::media("story_mention", cdn_url)
    }

    /// A message with one attachment of `kind` (`image`, `video`, `audio`, `file`,
    /// `share`, `ig_reel`, ...) at `url`: kind `media` (for `story_mention`,
    /// `story_mention`).
    pub fn media(kind: impl Into<String>, url: impl Into<String>) -> Self {
        let attachment = Object::new()
            .with("type", kind.into())
            .with("payload", Object::new().with("url", url.into()));
        Self::message(Object::new().with("attachments", Json::Array(vec![attachment.into()])))
    }

    /// A tapped quick reply: `message {mid, text: title, quick_reply {payload}}`, kind
    /// `quick_reply`.
    pub fn quick_reply(title: impl Into<String>, payload: impl Into<String>) -> Self {
        Self::message(
            Object::new()
                .with("text", title.into())
                .with("quick_reply", Object::new().with("payload", payload.into())),
        )
    }

    /// A postback (`postback {mid, title, payload}`, e.g. an icebreaker): kind `postback`.
    pub fn postback(title: impl Into<String>, payload: impl Into<String>) -> Self {
        Self::with_payload(
            "postback",
            Object::new()
                .with("mid", Auto::Mid)
                .with("title", title.into())
                .with("payload", payload.into()),
        )
    }

    /// A reaction to the message `mid` (`reaction {mid, action: "react", reaction,
    /// emoji}`, `reaction` e.g. `"love"`): kind `reaction`.
    pub fn reaction(
        mid: impl Into<String>,
        reaction: impl Into<String>,
        emoji: impl Into<String>,
    ) -> Self {
        Self::with_payload(
            "reaction",
            Object::new()
                .with("mid", mid.into())
                .with("action", "react")
                .with("reaction", reaction.into())
                .with("emoji", emoji.into()),
        )
    }

    /// A removed reaction (`action: "unreact"`): kind `unreaction`.
    pub fn unreaction(mid: impl Into<String>) -> Self {
        Self::with_payload(
            "reaction",
            Object::new()
                .with("mid", mid.into())
                .with("action", "unreact"),
        )
    }

    /// A read receipt up to the message `mid` (`read {mid}`): kind `read`.
    pub fn read(mid: impl Into<String>) -> Self {
        Self::with_payload("read", Object::new().with("mid", mid.into()))
    }

    /// An event-level referral on an existing thread (`referral {ref, source, type}`,
    /// `source` e.g. `"SHORTLINKS"`, `"ADS"`): kind `referral` (`ad_referral` for `ADS`).
    pub fn referral(source: impl Into<String>, referral_ref: impl Into<String>) -> Self {
        Self::with_payload(
            "referral",
            Object::new()
                .with("ref", referral_ref.into())
                .with("source", source.into())
                .with("type", "OPEN_THREAD"),
        )
    }

    /// The person unsent the message `mid` (`message {mid, is_deleted}`): kind `deleted`.
    pub fn deleted(mid: impl Into<String>) -> Self {
        Self::with_payload(
            "message",
            Object::new()
                .with("mid", mid.into())
                .with("is_deleted", Value::Bool(true)),
        )
    }

    /// The person edited the message `mid` (`message_edit {mid, text, num_edit}`): kind
    /// `edit`.
    pub fn edit(mid: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_payload(
            "message_edit",
            Object::new()
                .with("mid", mid.into())
                .with("text", text.into())
                .with("num_edit", Value::from(1)),
        )
    }

    /// Sets `sender.id`.
    pub fn sender(self, id: impl Into<String>) -> Self {
        self.field_json("sender", Object::new().with("id", id.into()).into())
    }

    /// Sets `recipient.id`.
    pub fn recipient(self, id: impl Into<String>) -> Self {
        self.field_json("recipient", Object::new().with("id", id.into()).into())
    }

    /// Sets `timestamp`, in milliseconds since the Unix epoch.
    pub fn timestamp_ms(self, ms: u64) -> Self {
        self.field_json("timestamp", Json::Value(ms.into()))
    }

    /// Sets `timestamp` to `time` (milliseconds; instants before the epoch count as it).
    pub fn at(self, time: SystemTime) -> Self {
        self.timestamp_ms(millis(time))
    }

    /// Sets the payload's `mid` (`message.mid`, `postback.mid`, `reaction.mid`, ...).
    pub fn mid(self, mid: impl Into<String>) -> Self {
        self.payload_field("mid", mid.into())
    }

    /// Sets `key` inside the payload object (`message`, `postback`, `reaction`, `read`,
    /// `referral`, `message_edit`), e.g. `("is_unsupported", true)`; on an item without a
    /// payload, at the top level.
    pub fn payload_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = Json::Value(value.into());
        match self.payload {
            Some(payload) => self.object().object_mut(payload).set(key, value),
            None => self.object().set(key, value),
        }
        self
    }

    /// Removes `key` from the payload object (e.g. `"mid"` for a message without one).
    pub fn payload_without(mut self, key: &str) -> Self {
        match self.payload {
            Some(payload) => self.object().object_mut(payload).remove(key),
            None => self.object().remove(key),
        }
        self
    }

    /// Sets a top-level key of the item (`sender`, `message`, an unknown key, ...).
    pub fn field(self, key: &str, value: impl Into<Value>) -> Self {
        self.field_json(key, Json::Value(value.into()))
    }

    /// Removes a top-level key of the item (`sender`, `recipient`, `timestamp`, ...).
    pub fn without(mut self, key: &str) -> Self {
        self.object().remove(key);
        self
    }

    fn field_json(mut self, key: &str, value: Json) -> Self {
        self.object().set(key, value);
        self
    }

    /// The item as an ordered object (a raw item that is a JSON object becomes one).
    fn object(&mut self) -> &mut Object {
        self.item.as_object_mut()
    }
}

impl Default for MessagingItem {
    fn default() -> Self {
        Self::new()
    }
}

/// One item of `changes[]`: `{"field": …, "value": {…}}`.
///
/// ```
/// use meta_webhooks::test_util::{ChangeItem, DeliveryBuilder};
/// use meta_webhooks::{Delivery, EventKind, classify};
///
/// let body = DeliveryBuilder::instagram()
///     .change(ChangeItem::comment("Precio?").from("25371938466021547", "ana.g").id("17952310476882035"))
///     .change(ChangeItem::mention("17887498072083520"))
///     .build();
/// let delivery = Delivery::from_slice(&body).unwrap();
/// let events = classify(&delivery);
/// let comment = events[0].as_ref().unwrap();
/// assert_eq!(comment.kind(), EventKind::Comment);
/// assert_eq!(comment.normalized().mid, Some("17952310476882035"));
/// assert_eq!(events[1].as_ref().unwrap().kind(), EventKind::Mention);
/// // An entry with only changes carries its time in seconds.
/// assert!(body.starts_with(br#"{"object":"instagram","entry":[{"id":"17841405793187218","time":1769870412,"changes":"#));
/// ```
#[derive(Clone, Debug)]
pub struct ChangeItem {
    item: Json,
}

impl ChangeItem {
    /// A change of `field` with `value` as given (`{"field", "value"}`).
    pub fn new(field: impl Into<String>, value: Value) -> Self {
        Self::with_value(field, Json::Value(value))
    }

    /// An item exactly as given (any JSON, also not an object).
    pub fn raw(item: Value) -> Self {
        Self {
            item: Json::Value(item),
        }
    }

    /// `{"value", "field"}`, in the order WhatsApp deliveries use.
    pub(super) fn value_first(field: impl Into<String>, value: Json) -> Self {
        Self {
            item: Json::Object(
                Object::new()
                    .with("value", value)
                    .with("field", field.into()),
            ),
        }
    }

    fn with_value(field: impl Into<String>, value: Json) -> Self {
        Self {
            item: Json::Object(
                Object::new()
                    .with("field", field.into())
                    .with("value", value),
            ),
        }
    }

    fn commentlike(field: &str, text: String) -> Self {
        let value = Object::new()
            .with(
                "from",
                Object::new()
                    .with("id", Auto::User)
                    .with("username", "someone"),
            )
            .with(
                "media",
                Object::new()
                    .with("id", Auto::MediaId)
                    .with("media_product_type", "FEED"),
            )
            .with("id", Auto::CommentId)
            .with("text", text);
        Self::with_value(field, value.into())
    }

    /// A comment on the account's media (field `comments`, value `{from {id, username},
    /// media {id, media_product_type}, id, text}`): kind `comment`.
    pub fn comment(text: impl Into<String>) -> Self {
        Self::commentlike("comments", text.into())
    }

    /// A comment on a live broadcast (field `live_comments`): kind `live_comment`.
    pub fn live_comment(text: impl Into<String>) -> Self {
        Self::commentlike("live_comments", text.into())
    }

    /// The account was @mentioned in the caption of `media_id` (field `mentions`, value
    /// `{media_id}`): kind `mention`. Add a `comment_id` with
    /// [`ChangeItem::value_field`] for a mention in a comment.
    pub fn mention(media_id: impl Into<String>) -> Self {
        Self::with_value(
            "mentions",
            Object::new().with("media_id", media_id.into()).into(),
        )
    }

    /// Sets the comment's author (`value.from {id, username}`).
    pub fn from(self, id: impl Into<String>, username: impl Into<String>) -> Self {
        let from = Object::new()
            .with("id", id.into())
            .with("username", username.into());
        self.value_json("from", from.into())
    }

    /// Sets the comment's id (`value.id`).
    pub fn id(self, id: impl Into<String>) -> Self {
        self.value_field("id", id.into())
    }

    /// Sets `key` inside `value`.
    pub fn value_field(self, key: &str, value: impl Into<Value>) -> Self {
        self.value_json(key, Json::Value(value.into()))
    }

    /// Removes `key` from `value`.
    pub fn value_without(mut self, key: &str) -> Self {
        self.object().object_mut("value").remove(key);
        self
    }

    /// Sets a top-level key of the item (`field`, `value`, an unknown key).
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.object().set(key, Json::Value(value.into()));
        self
    }

    fn value_json(mut self, key: &str, value: Json) -> Self {
        self.object().object_mut("value").set(key, value);
        self
    }

    fn object(&mut self) -> &mut Object {
        self.item.as_object_mut()
    }
}
