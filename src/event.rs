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
mod whatsapp;

use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::payload::{
    AccountId, AccountLinking, AppRoles, ChangeField, Comment, DeliveryReceipt, FeedChange,
    ItemErrorKind, Mention, Message, MessageEdit, MessageId, Object, Optin, PassThreadControl,
    PolicyEnforcement, Postback, RawJson, Reaction, Read, Referral, RequestThreadControl,
    StoryInsights, TakeThreadControl, Timestamp, UserId, UserRef,
};

#[cfg(feature = "sink")]
pub(crate) use classify::count;
pub use classify::{classify, classify_owned, messaging_kind, whatsapp_kind};
pub use whatsapp::{WhatsAppErrors, WhatsAppMessage, WhatsAppStatus};

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
    /// A reaction to a message, or to a Facebook Page post or comment.
    Reaction,
    /// A reaction removed (from a message, or from a Page post or comment).
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
    /// The person unsent a message, or a Facebook Page comment was removed.
    Deleted,
    /// A message or a Facebook Page comment was edited.
    Edit,
    /// A handover-protocol event.
    Handover,
    /// A comment on the business's media, or on a Facebook Page post.
    Comment,
    /// A comment on a live broadcast.
    LiveComment,
    /// The business was @mentioned in a caption or comment.
    Mention,
    /// Story insights (`story_insights`).
    MediaChange,
    /// Anything else (kept with its raw JSON).
    Unknown,
    /// A Messenger delivery receipt: messages the Page sent reached the person.
    Delivery,
    /// A person linked or unlinked their account (Messenger account linking).
    AccountLinking,
    /// Meta warned, blocked or unblocked the Page for a Messenger policy violation.
    PolicyEnforcement,
    /// Any other change to a Facebook Page's feed: posts, photos, videos, shares, likes
    /// of the Page, hidden comments, ...
    Feed,
    /// What happened to a WhatsApp message the business sent: sent, delivered, read,
    /// failed, ... (never answer it).
    Status,
    /// A WhatsApp cart sent from the business's catalog.
    Order,
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
        Self::Delivery,
        Self::AccountLinking,
        Self::PolicyEnforcement,
        Self::Feed,
        Self::Status,
        Self::Order,
    ];

    /// The kind's stable name: `"text"`, `"story_reply"`, ..., `"unknown"`, `"delivery"`,
    /// `"account_linking"`, `"policy_enforcement"`, `"feed"`, `"status"`, `"order"`.
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
            Self::Delivery => "delivery",
            Self::AccountLinking => "account_linking",
            Self::PolicyEnforcement => "policy_enforcement",
            Self::Feed => "feed",
            Self::Status => "status",
            Self::Order => "order",
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

/// The messaging product an event belongs to, to route replies without matching on
/// `object` strings: [`Channel::Instagram`] replies go through the Instagram Send API,
/// [`Channel::Messenger`] through the Page's, [`Channel::WhatsApp`] through the Cloud
/// API's `/<phone_number_id>/messages`.
///
/// ```
/// use meta_webhooks::event::Channel;
/// use meta_webhooks::payload::Object;
///
/// assert_eq!(Channel::of(&Object::WhatsAppBusinessAccount), Channel::WhatsApp);
/// assert_eq!(Channel::of(&Object::Page).as_str(), "messenger");
/// assert_eq!(Channel::of(&Object::from("user")), Channel::Other);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Channel {
    /// Instagram (`object: "instagram"`).
    Instagram,
    /// Messenger: a Facebook Page (`object: "page"`).
    Messenger,
    /// WhatsApp Cloud API (`object: "whatsapp_business_account"`).
    WhatsApp,
    /// Any other `object` (`user`, `permissions`, ...).
    Other,
}

impl Channel {
    /// The channel of a delivery's `object`.
    pub fn of(object: &Object) -> Self {
        match object {
            Object::Instagram => Self::Instagram,
            Object::Page => Self::Messenger,
            Object::WhatsAppBusinessAccount => Self::WhatsApp,
            _ => Self::Other,
        }
    }

    /// `"instagram"`, `"messenger"`, `"whatsapp"` or `"other"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Instagram => "instagram",
            Self::Messenger => "messenger",
            Self::WhatsApp => "whatsapp",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

/// Where in the delivery an item sits: `entry[0].messaging[2]`, `entry[0].changes[1]`
/// and, for a WhatsApp message or status, `entry[0].changes[1].statuses[3]`; `entry[1]`
/// for an entry that is not an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Position {
    /// Index in `entry[]`.
    pub entry: usize,
    /// Which array of the entry, if the item is inside one.
    pub source: Option<Source>,
    /// Index in that array.
    pub index: Option<usize>,
    /// For an item of a WhatsApp change value: which array of the value and the index
    /// in it.
    pub value_item: Option<(ValueArray, usize)>,
}

impl Position {
    const fn entry(entry: usize) -> Self {
        Self {
            entry,
            source: None,
            index: None,
            value_item: None,
        }
    }

    const fn item(entry: usize, source: Source, index: usize) -> Self {
        Self {
            entry,
            source: Some(source),
            index: Some(index),
            value_item: None,
        }
    }

    const fn within(self, array: ValueArray, index: usize) -> Self {
        Self {
            value_item: Some((array, index)),
            ..self
        }
    }
}

/// An array inside a WhatsApp change value whose items are events of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueArray {
    /// `value.messages[]`.
    Messages,
    /// `value.statuses[]`.
    Statuses,
}

impl ValueArray {
    /// `"messages"` or `"statuses"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::Statuses => "statuses",
        }
    }
}

impl fmt::Display for ValueArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
        if let Some((array, index)) = self.value_item {
            write!(f, ".{array}[{index}]")?;
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
    /// `delivery` (Messenger delivery receipt).
    Delivery(DeliveryReceipt),
    /// `account_linking`.
    AccountLinking(AccountLinking),
    /// `policy_enforcement` (either spelling).
    PolicyEnforcement(PolicyEnforcement),
    /// A Facebook Page `feed` change value, whatever its kind (`comment`, `edit`,
    /// `deleted`, `reaction`, `unreaction` or `feed`).
    Feed(Box<FeedChange>),
    /// `comments` / `live_comments` change value.
    Comment(Box<Comment>),
    /// `mentions` change value.
    Mention(Mention),
    /// `story_insights` change value.
    StoryInsights(StoryInsights),
    /// An inbound WhatsApp message (every kind from a `messages[]` item), with the
    /// business number and the sender's profile.
    WhatsAppMessage(Box<WhatsAppMessage>),
    /// A WhatsApp `statuses[]` item (kind `status`).
    WhatsAppStatus(Box<WhatsAppStatus>),
    /// A WhatsApp value with `errors` and neither messages nor statuses (kind `unknown`).
    WhatsAppErrors(Box<WhatsAppErrors>),
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
    channel: Channel,
}

impl Event {
    /// The normalized kind.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The business account the event belongs to: `entry.id` (the Instagram account, the
    /// Page); for a WhatsApp message, status or errors value the business number's
    /// `metadata.phone_number_id` (the number to send from; the WhatsApp Business Account
    /// id stays in the typed data), `entry.id` for other WhatsApp changes.
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// The messaging product: from the delivery's `object`, and [`Channel::WhatsApp`] for
    /// any WhatsApp value.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Who acted: `sender.id` (else `sender.user_ref`) of a messaging event, the author
    /// (`value.from.id`) of a comment or of a Page `feed` change, `from` (the person's
    /// `wa_id`) of a WhatsApp message, the business number of a WhatsApp status; `None`
    /// for other changes, for a policy enforcement and for messaging events without a
    /// sender. See [`Participant`] for when it is the business account.
    pub fn sender(&self) -> Option<&Participant> {
        self.sender.as_ref()
    }

    /// Who received it: `recipient.id` of a messaging event (the business account, or the
    /// person for an echo), the business number of a WhatsApp message, `recipient_id` of
    /// a WhatsApp status, the account (`entry.id`) for other changes.
    pub fn recipient(&self) -> Option<&Participant> {
        self.recipient.as_ref()
    }

    /// When the event happened: its own `timestamp` (a Page `feed` change's
    /// `created_time`), else the `time` of its entry (other changes carry only the
    /// latter). Seconds on the wire are normalized to milliseconds.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp.or(self.entry_time)
    }

    /// The id of the message the event is about: `message.mid` for message kinds (also
    /// `echo`, `deleted`, `unknown` from a message and a story-mention referral's
    /// message), `message_edit.mid`, `reaction.mid`, `postback.mid`, `read.mid`; the
    /// `wamid` of a WhatsApp message (a reaction's own, see [`reacted_to`](Self::reacted_to))
    /// or status; `None` otherwise (a delivery receipt's mids are in
    /// [`EventData::Delivery`]), and for other changes (a comment's id is in
    /// [`EventData::Comment`] or [`EventData::Feed`]).
    pub fn mid(&self) -> Option<&MessageId> {
        match &self.data {
            EventData::WhatsAppMessage(m) => m.message.id.as_ref(),
            EventData::WhatsAppStatus(s) => s.status.id.as_ref(),
            EventData::Message(m) => m.mid.as_ref(),
            EventData::Edit(e) => e.mid.as_ref(),
            EventData::Reaction(r) => r.mid.as_ref(),
            EventData::Postback(p) => p.mid.as_ref(),
            EventData::Referral { message, .. } => message.as_ref().and_then(|m| m.mid.as_ref()),
            EventData::Read(r) => r.mid.as_ref(),
            EventData::Comment(_)
            | EventData::Mention(_)
            | EventData::StoryInsights(_)
            | EventData::Feed(_)
            | EventData::Optin(_)
            | EventData::Handover(_)
            | EventData::Delivery(_)
            | EventData::AccountLinking(_)
            | EventData::PolicyEnforcement(_)
            | EventData::WhatsAppErrors(_)
            | EventData::Other => None,
        }
    }

    /// The message a reaction is about: `reaction.mid` on Instagram and Messenger,
    /// `reaction.message_id` of a WhatsApp reaction (whose own [`mid`](Self::mid) is the
    /// reaction message's `wamid`); `None` for other events.
    pub fn reacted_to(&self) -> Option<&MessageId> {
        match &self.data {
            EventData::Reaction(r) => r.mid.as_ref(),
            EventData::WhatsAppMessage(m) => m.message.reaction.as_ref()?.message_id.as_ref(),
            _ => None,
        }
    }

    /// What a bot branches on when the person tapped something: a quick reply's
    /// `payload`, a postback's `payload`; on WhatsApp the `id` of a button or list reply,
    /// or the `payload` of a template's quick-reply button. `None` otherwise.
    pub fn reply_payload(&self) -> Option<&str> {
        match &self.data {
            EventData::Message(m) => m.quick_reply_payload(),
            EventData::Postback(p) => p.payload.as_deref(),
            EventData::WhatsAppMessage(m) => m.message.reply_id(),
            _ => None,
        }
    }

    /// The name the sender goes by, where the payload carries one: the WhatsApp profile
    /// name (from the value's `contacts`), a comment author's `username`, a Page feed
    /// author's `name`.
    pub fn sender_name(&self) -> Option<&str> {
        match &self.data {
            EventData::WhatsAppMessage(m) => m.profile_name(),
            EventData::Comment(c) => c.from.as_ref()?.username.as_deref(),
            EventData::Feed(f) => f.from.as_ref()?.name.as_deref(),
            _ => None,
        }
    }

    /// The id the event is keyed by: [`mid`](Self::mid) for messaging events; for changes
    /// the comment id (`value.id`, else `value.comment_id`), a mention's `comment_id` else
    /// `media_id`, story insights' `media_id`, a Page `feed` change's
    /// [`object_id`](FeedChange::object_id).
    fn item_id(&self) -> Option<&str> {
        match &self.data {
            EventData::Feed(f) => f.object_id(),
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
    /// sent with it), `message_edit.text`, the postback's `title`, a comment's `text`, the
    /// `message` of a Page `feed` change (a comment, an edited comment, a post); for a
    /// WhatsApp message [`WaMessage::text`](crate::payload::WaMessage::text): the text's
    /// body, a media caption, a reply's title, a template button's text, an order's text.
    /// `None` for `deleted` and `unknown`, for reactions, and for kinds without text.
    /// Verbatim: escapes resolved, no trimming or normalization.
    pub fn text(&self) -> Option<&str> {
        if matches!(self.kind, EventKind::Deleted | EventKind::Unknown) {
            return None;
        }
        match &self.data {
            EventData::Message(m) => m.text.as_deref(),
            EventData::Edit(e) => e.text.as_deref(),
            EventData::Postback(p) => p.title.as_deref(),
            EventData::Comment(c) => c.text.as_deref(),
            EventData::WhatsAppMessage(m) => m.message.text(),
            EventData::Feed(f)
                if !matches!(self.kind, EventKind::Reaction | EventKind::Unreaction) =>
            {
                f.message.as_deref()
            }
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
    /// - a WhatsApp message: `account:kind:wamid`; a WhatsApp status:
    ///   `account:status:wamid:status` (sent, delivered and read of one message share its
    ///   wamid and stay apart);
    /// - Page `feed` changes: `account:change:feed:item:verb:id:from:created_time`, with
    ///   the id of the comment or post ([`FeedChange::object_id`]) — a comment's add, edit
    ///   and removal, and everyone's reactions to one post, share that id;
    /// - other changes: `account:change:field:id` with the value's `id`, else
    ///   `comment_id`, else `media_id`;
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
        if let EventData::Feed(f) = &self.data {
            let id = f.object_id()?;
            let field = self.field.as_ref().map_or("feed", ChangeField::as_str);
            let item = f.item.as_ref().map_or("-", |i| i.as_str());
            let verb = f.verb.as_ref().map_or("-", |v| v.as_str());
            let from = f.author_id().map_or("-", UserId::as_str);
            write!(out, "change:{field}:{item}:{verb}:{id}:{from}:").ok()?;
            return match f.created_time {
                Some(t) => write!(out, "{t}").ok(),
                None => {
                    out.push('-');
                    Some(())
                }
            };
        }
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
            EventData::WhatsAppMessage(m) => {
                let wamid = m.message.id.as_ref()?;
                write!(out, "{}:{wamid}", self.kind.as_str()).ok()
            }
            EventData::WhatsAppStatus(s) => {
                let wamid = s.status.id.as_ref()?;
                let status = s.status.status.as_ref().map_or("-", |k| k.as_str());
                write!(out, "status:{wamid}:{status}").ok()
            }
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
