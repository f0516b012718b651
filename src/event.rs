//! Normalized events: one [`Event`] per messaging/standby/changes item, as described in
//! [the event contract](crate::docs::events).
//!
//! [`classify`] walks a [`Delivery`](crate::payload::Delivery) in order (entries, then
//! within each entry `messaging`, `standby`, `changes`) and yields one
//! `Result<Event, EventError>` per item. An [`Event`] exposes what every kind has —
//! account, sender, recipient, timestamp, mid, the user's text — without matching, each
//! through one typed accessor, plus the kind-specific typed [`EventData`]. The precedence
//! that picks the kind is written once and documented on [`messaging_kind`].
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use meta_webhooks::event::{Participant, classify};
//! use meta_webhooks::payload::Timestamp;
//! use meta_webhooks::{Delivery, EventKind};
//!
//! let delivery = Delivery::from_slice(br#"{"object":"instagram","entry":[{"id":"17841405793187218",
//!   "time":1769870412731,"messaging":[{"sender":{"id":"6934581207719432"},
//!   "recipient":{"id":"17841405793187218"},"timestamp":1769870412000,
//!   "message":{"mid":"aWdf","text":"\u00bfTienen talla M?","quick_reply":{"payload":"SIZE_M"}}}]}]}"#)?;
//!
//! for event in classify(&delivery) {
//!     let event = event.expect("valid item");
//!     assert_eq!(event.kind(), EventKind::QuickReply);
//!     assert_eq!(event.kind().as_str(), "quick_reply");
//!     assert_eq!(event.text(), Some("¿Tienen talla M?"));
//!     let person = event.sender().and_then(Participant::user_id).expect("a person wrote");
//!     assert_eq!(person.as_str(), "6934581207719432");
//!     assert_eq!(event.mid().map(|mid| mid.as_str()), Some("aWdf"));
//!     assert_eq!(event.timestamp(), Some(Timestamp::from_millis(1_769_870_412_000)));
//!     assert_eq!(event.dedup_key().as_str(), "17841405793187218:quick_reply:aWdf");
//!
//!     let now = UNIX_EPOCH + Duration::from_millis(1_769_870_412_000) + Duration::from_secs(60);
//!     assert_eq!(event.age(now), Some(Duration::from_secs(60)));
//!     assert!(!event.is_older_than(Duration::from_secs(23 * 3600), now));
//!
//!     let json = serde_json::to_value(event.normalized()).unwrap();
//!     assert_eq!(json["sender"], "6934581207719432");
//! }
//! # Ok::<(), meta_webhooks::ParseError>(())
//! ```

mod classify;

use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::payload::{
    AccountId, AppRoles, ChangeField, Comment, ItemErrorKind, Mention, Message, MessageEdit,
    MessageId, Optin, PassThreadControl, Postback, RawJson, Reaction, Read, Referral,
    RequestThreadControl, StoryInsights, TakeThreadControl, Timestamp, UserId, UserRef,
};

#[cfg(feature = "sink")]
pub(crate) use classify::count;
pub use classify::{classify, classify_owned, messaging_kind};

/// The normalized kind of an event. `Copy`; [`EventKind::as_str`] gives its stable name, as
/// listed in [the event contract](crate::docs::events). Error items are not events: see [`EventError`] (kind `"error"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A text message (also `""`).
    Text,
    /// A reply to the business's story.
    StoryReply,
    /// The person mentioned the business in a story.
    StoryMention,
    /// A message with attachments (any type).
    Media,
    /// A reaction to a message.
    Reaction,
    /// A reaction removed.
    Unreaction,
    /// A postback (icebreaker, button).
    Postback,
    /// A tapped quick reply.
    QuickReply,
    /// A message or referral from a click-to-message ad.
    AdReferral,
    /// A message or referral about a Shops product.
    ProductReferral,
    /// Any other referral (links, chat plugin).
    Referral,
    /// A message sent by the business (never answer it).
    Echo,
    /// A read receipt.
    Read,
    /// An opt-in.
    Optin,
    /// The person unsent a message.
    Deleted,
    /// A message was edited.
    Edit,
    /// A handover-protocol event.
    Handover,
    /// A comment on the business's media.
    Comment,
    /// A comment on a live broadcast.
    LiveComment,
    /// The business was @mentioned in a caption or comment.
    Mention,
    /// Story insights (`story_insights`).
    MediaChange,
    /// Anything else (kept with its raw JSON).
    Unknown,
}

impl EventKind {
    /// Every kind, in the order of [the event contract](crate::docs::events).
    pub const ALL: &'static [Self] = &[
        Self::Text,
        Self::StoryReply,
        Self::StoryMention,
        Self::Media,
        Self::Reaction,
        Self::Unreaction,
        Self::Postback,
        Self::QuickReply,
        Self::AdReferral,
        Self::ProductReferral,
        Self::Referral,
        Self::Echo,
        Self::Read,
        Self::Optin,
        Self::Deleted,
        Self::Edit,
        Self::Handover,
        Self::Comment,
        Self::LiveComment,
        Self::Mention,
        Self::MediaChange,
        Self::Unknown,
    ];

    /// The kind's stable name: `"text"`, `"story_reply"`, ..., `"unknown"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::StoryReply => "story_reply",
            Self::StoryMention => "story_mention",
            Self::Media => "media",
            Self::Reaction => "reaction",
            Self::Unreaction => "unreaction",
            Self::Postback => "postback",
            Self::QuickReply => "quick_reply",
            Self::AdReferral => "ad_referral",
            Self::ProductReferral => "product_referral",
            Self::Referral => "referral",
            Self::Echo => "echo",
            Self::Read => "read",
            Self::Optin => "optin",
            Self::Deleted => "deleted",
            Self::Edit => "edit",
            Self::Handover => "handover",
            Self::Comment => "comment",
            Self::LiveComment => "live_comment",
            Self::Mention => "mention",
            Self::MediaChange => "media_change",
            Self::Unknown => "unknown",
        }
    }

    /// The kind with this name, if any (`"error"` is not a kind).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where an item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// `entry[].messaging[]`.
    Messaging,
    /// `entry[].standby[]` (a thread this app does not own).
    Standby,
    /// `entry[].changes[]`.
    Change,
}

impl Source {
    /// `"messaging"`, `"standby"` or `"changes"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Messaging => "messaging",
            Self::Standby => "standby",
            Self::Change => "changes",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the delivery an item sits: `entry[0].messaging[2]`, or `entry[1]` for an
/// entry that is not an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Position {
    /// Index in `entry[]`.
    pub entry: usize,
    /// Which array of the entry, if the item is inside one.
    pub source: Option<Source>,
    /// Index in that array.
    pub index: Option<usize>,
}

impl Position {
    const fn entry(entry: usize) -> Self {
        Self {
            entry,
            source: None,
            index: None,
        }
    }

    const fn item(entry: usize, source: Source, index: usize) -> Self {
        Self {
            entry,
            source: Some(source),
            index: Some(index),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry[{}]", self.entry)?;
        if let Some(source) = self.source {
            write!(f, ".{source}")?;
            if let Some(index) = self.index {
                write!(f, "[{index}]")?;
            }
        }
        Ok(())
    }
}

/// A handover-protocol payload.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Handover {
    /// `pass_thread_control`.
    Pass(PassThreadControl),
    /// `take_thread_control`.
    Take(TakeThreadControl),
    /// `request_thread_control`.
    Request(RequestThreadControl),
    /// `app_roles`.
    AppRoles(AppRoles),
}

/// Kind-specific typed data of an [`Event`]. The variant follows the payload's shape,
/// the [`EventKind`] follows the precedence: e.g. `echo`, `deleted`, `media` and an
/// `unknown` unsupported message all carry [`EventData::Message`], and a story mention
/// is either a `Message` (attachment) or a `Referral` (event-level `STORY_MENTION`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum EventData {
    /// A `message` (all message-derived kinds, `deleted`, `unknown` from a message).
    Message(Box<Message>),
    /// `message_edit`.
    Edit(Box<MessageEdit>),
    /// `reaction` (react and unreact).
    Reaction(Box<Reaction>),
    /// `postback`.
    Postback(Box<Postback>),
    /// An event-level `referral`; for a `STORY_MENTION` referral, with the bare
    /// `message` that may sit beside it.
    Referral {
        /// The referral.
        referral: Box<Referral>,
        /// The `message` object beside a `STORY_MENTION` referral (rule 0), if any.
        message: Option<Box<Message>>,
    },
    /// `read`.
    Read(Read),
    /// `optin`.
    Optin(Box<Optin>),
    /// Handover protocol.
    Handover(Box<Handover>),
    /// `comments` / `live_comments` change value.
    Comment(Box<Comment>),
    /// `mentions` change value.
    Mention(Mention),
    /// `story_insights` change value.
    StoryInsights(StoryInsights),
    /// Nothing typed: see [`Event::raw`].
    Other,
}

/// Who sent or received an [`Event`]: a person, or the business account itself.
///
/// Whether an id names the business or a person is decided once, when the event is
/// classified: the sender is the business ([`Participant::Account`]) for an echo and
/// whenever its id is the entry's account id (e.g. the business's own comment or
/// reaction); the recipient is then the person. Otherwise the sender is the person and the
/// recipient the business.
///
/// ```
/// use meta_webhooks::event::{Participant, classify};
/// use meta_webhooks::Delivery;
///
/// let delivery = Delivery::from_slice(br#"{"object":"instagram","entry":[{"id":"1784","messaging":[
///     {"sender":{"id":"6934"},"recipient":{"id":"1784"},"message":{"mid":"m1","text":"hi"}},
///     {"sender":{"id":"1784"},"recipient":{"id":"6934"},"message":{"mid":"m2","text":"hello","is_echo":true}}]}]}"#)?;
/// let events = classify(&delivery);
/// let inbound = events[0].as_ref().unwrap();
/// assert_eq!(inbound.sender().and_then(Participant::user_id).map(|id| id.as_str()), Some("6934"));
/// assert!(matches!(inbound.recipient(), Some(Participant::Account(id)) if id == "1784"));
///
/// // An echo: the business wrote, the person received.
/// let echo = events[1].as_ref().unwrap();
/// assert!(matches!(echo.sender(), Some(Participant::Account(_))));
/// assert_eq!(echo.recipient().map(Participant::as_str), Some("6934"));
/// # Ok::<(), meta_webhooks::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Participant {
    /// A person, by the id the business account sees (IGSID, PSID, WhatsApp `wa_id`).
    User(UserId),
    /// A Messenger chat-plugin or checkbox-plugin user who has no Page-scoped id yet
    /// (`sender.user_ref` without `sender.id`).
    UserRef(UserRef),
    /// The business account.
    Account(AccountId),
}

impl Participant {
    /// The id as received, whichever variant it is.
    pub fn as_str(&self) -> &str {
        match self {
            Self::User(id) => id.as_str(),
            Self::UserRef(user_ref) => user_ref.as_str(),
            Self::Account(id) => id.as_str(),
        }
    }

    /// The person's id, if this is [`Participant::User`].
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Self::User(id) => Some(id),
            _ => None,
        }
    }

    /// The `user_ref`, if this is [`Participant::UserRef`].
    pub fn user_ref(&self) -> Option<&UserRef> {
        match self {
            Self::UserRef(user_ref) => Some(user_ref),
            _ => None,
        }
    }

    /// The business account's id, if this is [`Participant::Account`].
    pub fn account_id(&self) -> Option<&AccountId> {
        match self {
            Self::Account(id) => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One normalized event. Owned, cheap to clone (`Send + Sync + 'static`).
///
/// What every kind has is reachable without matching, each through one typed accessor:
/// [`account`](Self::account), [`sender`](Self::sender), [`recipient`](Self::recipient),
/// [`mid`](Self::mid), [`timestamp`](Self::timestamp) and [`text`](Self::text). The rest is
/// in [`data`](Self::data).
#[derive(Clone, Debug)]
pub struct Event {
    kind: EventKind,
    source: Source,
    position: Position,
    account: Option<AccountId>,
    sender: Option<Participant>,
    recipient: Option<Participant>,
    timestamp: Option<Timestamp>,
    entry_time: Option<Timestamp>,
    field: Option<ChangeField>,
    data: EventData,
    raw: RawJson,
}

impl Event {
    /// The normalized kind.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The business account the event belongs to (`entry.id`).
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// Who acted: `sender.id` (else `sender.user_ref`) of a messaging event, the author
    /// (`value.from.id`) of a comment; `None` for other changes and for messaging events
    /// without a sender. See [`Participant`] for when it is the business account.
    pub fn sender(&self) -> Option<&Participant> {
        self.sender.as_ref()
    }

    /// Who received it: `recipient.id` of a messaging event (the business account, or the
    /// person for an echo), the account (`entry.id`) for changes.
    pub fn recipient(&self) -> Option<&Participant> {
        self.recipient.as_ref()
    }

    /// When the event happened: its own `timestamp`, else the `time` of its entry (changes
    /// carry only the latter). Seconds on the wire are normalized to milliseconds.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp.or(self.entry_time)
    }

    /// The id of the message the event is about: `message.mid` for message kinds (also
    /// `echo`, `deleted`, `unknown` from a message and a story-mention referral's
    /// message), `message_edit.mid`, `reaction.mid`, `postback.mid`, `read.mid`; `None`
    /// otherwise, and for changes (a comment's id is in [`EventData::Comment`]).
    pub fn mid(&self) -> Option<&MessageId> {
        match &self.data {
            EventData::Message(m) => m.mid.as_ref(),
            EventData::Edit(e) => e.mid.as_ref(),
            EventData::Reaction(r) => r.mid.as_ref(),
            EventData::Postback(p) => p.mid.as_ref(),
            EventData::Referral { message, .. } => message.as_ref().and_then(|m| m.mid.as_ref()),
            EventData::Read(r) => r.mid.as_ref(),
            EventData::Comment(_)
            | EventData::Mention(_)
            | EventData::StoryInsights(_)
            | EventData::Optin(_)
            | EventData::Handover(_)
            | EventData::Other => None,
        }
    }

    /// The id the event is keyed by: [`mid`](Self::mid) for messaging events; for changes
    /// the comment id (`value.id`, else `value.comment_id`), a mention's `comment_id` else
    /// `media_id`, story insights' `media_id`.
    fn item_id(&self) -> Option<&str> {
        match &self.data {
            EventData::Comment(c) => c.comment_id().map(AsRef::as_ref),
            EventData::Mention(m) => m
                .comment_id
                .as_ref()
                .map(AsRef::as_ref)
                .or_else(|| m.media_id.as_ref().map(AsRef::as_ref)),
            EventData::StoryInsights(s) => s.media_id.as_ref().map(AsRef::as_ref),
            _ => self.mid().map(MessageId::as_str),
        }
    }

    /// The user's words: `message.text` for message kinds
    /// (with a quick reply it is the button title; with a product or ad referral the text
    /// sent with it), `message_edit.text`, the postback's `title`, a comment's `text`.
    /// `None` for `deleted` and `unknown`, and for kinds without text. Verbatim: escapes
    /// resolved, no trimming or normalization.
    pub fn text(&self) -> Option<&str> {
        if matches!(self.kind, EventKind::Deleted | EventKind::Unknown) {
            return None;
        }
        match &self.data {
            EventData::Message(m) => m.text.as_deref(),
            EventData::Edit(e) => e.text.as_deref(),
            EventData::Postback(p) => p.title.as_deref(),
            EventData::Comment(c) => c.text.as_deref(),
            _ => None,
        }
    }

    /// Kind-specific typed data.
    pub fn data(&self) -> &EventData {
        &self.data
    }

    /// Which array the item came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Where the item sits in the delivery.
    pub fn position(&self) -> Position {
        self.position
    }

    /// For events from `changes`, the change's `field`.
    pub fn field(&self) -> Option<&ChangeField> {
        self.field.as_ref()
    }

    /// The item's JSON exactly as received (the change item for wrapped events).
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// Whether the business sent this (an echo): never answer it.
    pub fn is_echo(&self) -> bool {
        self.kind == EventKind::Echo
    }

    /// A key that is equal for every redelivery of the same event, prefixed with the
    /// account id:
    ///
    /// - message kinds (also `deleted`, `echo`, `unknown` from a message, a postback or a
    ///   `STORY_MENTION` referral with a mid): `account:kind:mid` — an unsend reuses the
    ///   original mid, the kind keeps them apart;
    /// - `edit`: `account:edit:mid:num_edit` (each edit of one message is its own event);
    /// - `reaction`/`unreaction`: `account:reaction:mid:action:timestamp:sender`;
    /// - `read`: `account:read:sender:mid` (or `w` + watermark);
    /// - changes: `account:change:field:id` with the value's `id`, else `comment_id`,
    ///   else `media_id`;
    /// - anything else: `account:sha256:` + the SHA-256 of the item's raw JSON bytes.
    ///
    /// A missing part is written `-`.
    pub fn dedup_key(&self) -> DedupKey {
        let account = self.account.as_ref().map_or("-", AccountId::as_str);
        // One allocation: the account, then the kind's part written in place.
        let mut key =
            String::with_capacity(account.len() + 32 + self.item_id().map_or(0, str::len));
        key.push_str(account);
        key.push(':');
        let prefix = key.len();
        if self.write_dedup_body(&mut key).is_none() {
            key.truncate(prefix);
            key.push_str("sha256:");
            key.push_str(&hex::encode(Sha256::digest(self.raw.as_str().as_bytes())));
        }
        DedupKey(key)
    }

    /// Appends the part of the dedup key after `account:`; `None` (with `out` partly
    /// written) when the event has none and the digest of the raw item stands in.
    fn write_dedup_body(&self, out: &mut String) -> Option<()> {
        if let Some(field) = self.field.as_ref().filter(|_| self.is_plain_change()) {
            let id = match &self.data {
                EventData::Comment(_) | EventData::Mention(_) | EventData::StoryInsights(_) => {
                    self.item_id().map(str::to_owned)
                }
                _ => value_id(self.raw.as_str()),
            }?;
            return write!(out, "change:{field}:{id}").ok();
        }
        match &self.data {
            EventData::Reaction(r) => {
                let mid = r.mid.as_ref()?;
                let action = r.action.as_ref().map_or("-", |a| a.as_str());
                write!(out, "reaction:{mid}:{action}:").ok()?;
                match self.timestamp {
                    Some(t) => write!(out, "{t}").ok()?,
                    None => out.push('-'),
                }
                write!(out, ":{}", self.sender().map_or("-", Participant::as_str)).ok()
            }
            EventData::Read(r) => {
                write!(
                    out,
                    "read:{}:",
                    self.sender().map_or("-", Participant::as_str)
                )
                .ok()?;
                match (&r.mid, r.watermark) {
                    (Some(mid), _) => write!(out, "{mid}").ok(),
                    (None, Some(w)) => write!(out, "w{w}").ok(),
                    (None, None) => None,
                }
            }
            EventData::Edit(e) => {
                let mid = e.mid.as_ref()?;
                write!(out, "edit:{mid}:").ok()?;
                match e.num_edit {
                    Some(n) => write!(out, "{n}").ok(),
                    None => {
                        out.push('-');
                        Some(())
                    }
                }
            }
            EventData::Message(_) | EventData::Postback(_) | EventData::Referral { .. } => {
                let mid = self.item_id()?;
                out.push_str(self.kind.as_str());
                out.push(':');
                out.push_str(mid);
                Some(())
            }
            _ => None,
        }
    }

    fn is_plain_change(&self) -> bool {
        self.source == Source::Change
            && matches!(
                self.data,
                EventData::Comment(_)
                    | EventData::Mention(_)
                    | EventData::StoryInsights(_)
                    | EventData::Other
            )
    }

    /// How long before `now` the event happened ([`Event::timestamp`]); `None` without
    /// a timestamp, zero for a timestamp in the future.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.timestamp().map(|t| t.age(now))
    }

    /// Whether the event is older than `max` at `now` (e.g. the 23 h auto-reply limit).
    /// `false` when it has no timestamp: age unknown is not "old".
    pub fn is_older_than(&self, max: Duration, now: SystemTime) -> bool {
        self.age(now).is_some_and(|age| age > max)
    }

    /// The normalized projection of [the event contract](crate::docs::events), serializable:
    /// `{"kind","sender","recipient","mid","text","account","timestamp","source"}`, absent
    /// fields as `null`.
    pub fn normalized(&self) -> NormalizedEvent<'_> {
        NormalizedEvent {
            kind: self.kind.as_str(),
            sender: self.sender().map(Participant::as_str),
            recipient: self.recipient().map(Participant::as_str),
            mid: self.item_id(),
            text: self.text(),
            account: self.account.as_ref().map(AccountId::as_str),
            timestamp: self.timestamp().map(Timestamp::as_millis),
            source: Some(self.source.as_str()),
            reason: None,
        }
    }
}

/// The `id`, `comment_id` or `media_id` of an untyped change value, for dedup keys.
fn value_id(change_item: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        value: Option<Ids>,
    }
    #[derive(serde::Deserialize)]
    struct Ids {
        #[serde(default, deserialize_with = "crate::payload::lenient::id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "crate::payload::lenient::id")]
        comment_id: Option<String>,
        #[serde(default, deserialize_with = "crate::payload::lenient::id")]
        media_id: Option<String>,
    }
    let ids = serde_json::from_str::<Item>(change_item).ok()?.value?;
    ids.id.or(ids.comment_id).or(ids.media_id)
}

/// A deduplication key; see [`Event::dedup_key`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DedupKey(String);

impl DedupKey {
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DedupKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The serializable projection of an event or an error item, as described in
/// [the event contract](crate::docs::events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NormalizedEvent<'a> {
    /// The kind's name, or `"error"`.
    pub kind: &'a str,
    /// See [`Event::sender`].
    pub sender: Option<&'a str>,
    /// See [`Event::recipient`].
    pub recipient: Option<&'a str>,
    /// See [`Event::mid`]; for changes, the id of the comment or media the change is
    /// about (`value.id`, else `value.comment_id`, else `value.media_id`).
    pub mid: Option<&'a str>,
    /// See [`Event::text`].
    pub text: Option<&'a str>,
    /// The account id (`entry.id`).
    pub account: Option<&'a str>,
    /// See [`Event::timestamp`], in milliseconds.
    pub timestamp: Option<u64>,
    /// `"messaging"`, `"standby"`, `"changes"`; `null` for an entry-level error.
    pub source: Option<&'a str>,
    /// For errors: why the item was rejected (omitted for events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

/// An item that could not be read: in its place in the order, with its kind, a short
/// reason and its raw JSON. Its neighbours are unaffected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {reason}")]
pub struct EventError {
    kind: ItemErrorKind,
    reason: String,
    raw: RawJson,
    account: Option<AccountId>,
    position: Position,
}

impl EventError {
    /// What was wrong with the item, to branch on and to log.
    pub fn kind(&self) -> ItemErrorKind {
        self.kind
    }

    /// Why the item was rejected (short, e.g. `"entry is not an object"`).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The item's JSON exactly as received.
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The account (`entry.id`) of the entry holding the item, if known.
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// Where the item sits in the delivery.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The projection with kind `"error"`, the `reason`, and `null` sender, recipient,
    /// mid and text (an invalid item is not trusted for any of them).
    pub fn normalized(&self) -> NormalizedEvent<'_> {
        NormalizedEvent {
            kind: "error",
            sender: None,
            recipient: None,
            mid: None,
            text: None,
            account: self.account.as_ref().map(AccountId::as_str),
            timestamp: None,
            source: self.position.source.map(Source::as_str),
            reason: Some(&self.reason),
        }
    }
}

#[cfg(test)]
mod tests;
