//! Classification: walking a delivery in order and the precedence that turns one
//! messaging event into one kind.
//!
//! **The precedence lives here and only here**, in `decide`; it is documented on
//! [`messaging_kind`].

use super::{
    Channel, Event, EventData, EventError, EventKind, Handover, Participant, Position, Source,
    ValueArray, WhatsAppErrors, WhatsAppMessage, WhatsAppStatus,
};
use std::borrow::Cow;

use crate::payload::whatsapp::{
    Contact, MessageItem, Metadata, StatusItem, WaError, WaMessage, WaMessageType, WhatsAppValue,
};
use crate::payload::{
    AccountId, Change, ChangeField, ChangeValue, Delivery, Entry, FeedChange, FeedItem, FeedVerb,
    ItemError, Message, MessagingEvent, Party, RawJson, Timestamp, UserId,
};

/// Classifies every item of a delivery, in order: for each entry in
/// array order, all `messaging[]` events, then all `standby[]` events, then all
/// `changes[]`, each in array order. Every item yields exactly one result; an item that
/// could not be read yields an [`EventError`] in its place.
///
/// A WhatsApp `messages` change yields one result per `messages[]` item, then one per
/// `statuses[]` item (see [`whatsapp_kind`]); none when it holds only `contacts`, and one
/// `unknown` event when it holds `errors` and neither messages nor statuses.
///
/// ```
/// use meta_webhooks::{classify, Delivery, EventKind};
///
/// let delivery = Delivery::from_slice(br#"{"object":"instagram","entry":[{"id":"1784",
///   "messaging":[{"sender":{"id":"6934"},"recipient":{"id":"1784"},"timestamp":1769870412000,
///                 "message":{"mid":"m1","text":"hola"}},
///                {"sender":{"id":true},"message":{"mid":"m2","text":"bad sender"}}],
///   "changes":[{"field":"comments","value":{"id":"1795","from":{"id":"6934"},"text":"Precio?"}}]}]}"#)?;
/// let events = classify(&delivery);
/// assert_eq!(events.len(), 3);
///
/// let text = events[0].as_ref().unwrap();
/// assert_eq!(text.kind(), EventKind::Text);
/// assert_eq!(text.sender().map(|s| s.as_str()), Some("6934"));
/// assert_eq!((text.mid().map(|m| m.as_str()), text.text()), (Some("m1"), Some("hola")));
///
/// let bad = events[1].as_ref().unwrap_err();
/// assert!(bad.raw().contains("bad sender"));
///
/// let comment = events[2].as_ref().unwrap();
/// assert_eq!(comment.kind().as_str(), "comment");
/// assert_eq!(comment.recipient().map(|r| r.as_str()), Some("1784"));
/// # Ok::<(), meta_webhooks::ParseError>(())
/// ```
pub fn classify(delivery: &Delivery) -> Vec<Result<Event, EventError>> {
    // Both paths share one walk; a borrowed item is copied once, where its event needs it.
    classify_entries(
        Channel::of(delivery.object()),
        delivery.entries().iter().map(Cow::Borrowed),
    )
}

/// [`classify`] of a delivery that is not needed afterwards: the same results, but the
/// events take the delivery's data over instead of copying it.
///
/// ```
/// use meta_webhooks::Delivery;
/// use meta_webhooks::event::{classify, classify_owned};
///
/// let body = br#"{"object":"instagram","entry":[{"id":"1784","messaging":[
///     {"sender":{"id":"42"},"recipient":{"id":"1784"},"message":{"mid":"m1","text":"hi"}}]}]}"#;
/// let delivery = Delivery::from_slice(body)?;
/// let borrowed = classify(&delivery);
/// let owned = classify_owned(delivery);
/// assert_eq!(owned.len(), 1);
/// assert_eq!(owned[0].as_ref().unwrap().text(), Some("hi"));
/// assert_eq!(format!("{owned:?}"), format!("{borrowed:?}"));
/// # Ok::<(), meta_webhooks::ParseError>(())
/// ```
pub fn classify_owned(delivery: Delivery) -> Vec<Result<Event, EventError>> {
    classify_entries(
        Channel::of(delivery.object()),
        delivery.into_entries().map(Cow::Owned),
    )
}

#[cfg(feature = "sink")]
/// How many events and how many errors [`classify`] yields for `delivery`, without
/// classifying: every item that parsed becomes an event, every entry or item that did
/// not an error; a WhatsApp value counts its messages and statuses (see
/// [`classify`]).
pub(crate) fn count(delivery: &Delivery) -> (usize, usize) {
    let (mut events, mut errors) = (0, 0);
    for entry in delivery.entries() {
        let Ok(entry) = entry else {
            errors += 1;
            continue;
        };
        for item in entry.messaging.iter().chain(&entry.standby) {
            if item.is_ok() {
                events += 1
            } else {
                errors += 1
            }
        }
        for item in &entry.changes {
            match item.as_ref().map(|change| &change.value) {
                Ok(ChangeValue::WhatsApp(value)) => {
                    let (e, f) = whatsapp_count(value);
                    events += e;
                    errors += f;
                }
                Ok(_) => events += 1,
                Err(_) => errors += 1,
            }
        }
    }
    (events, errors)
}

#[cfg(feature = "sink")]
/// How many events and errors one WhatsApp value yields.
fn whatsapp_count(value: &WhatsAppValue) -> (usize, usize) {
    if value.messages.is_empty() && value.statuses.is_empty() {
        return (usize::from(!value.errors.is_empty()), 0);
    }
    let items = value.messages.iter().map(Result::is_ok);
    let items = items.chain(value.statuses.iter().map(Result::is_ok));
    items.fold(
        (0, 0),
        |(e, f), ok| if ok { (e + 1, f) } else { (e, f + 1) },
    )
}

/// The items of an entry's array, owned (taken) or borrowed (copied one by one).
enum Items<'a, T> {
    Owned(std::vec::IntoIter<T>),
    Borrowed(std::slice::Iter<'a, T>),
}

impl<'a, T: Clone> Items<'a, T> {
    fn of(items: Cow<'a, [T]>) -> Self {
        match items {
            Cow::Owned(items) => Self::Owned(items.into_iter()),
            Cow::Borrowed(items) => Self::Borrowed(items.iter()),
        }
    }
}

impl<'a, T: Clone> Iterator for Items<'a, T> {
    type Item = Cow<'a, T>;

    fn next(&mut self) -> Option<Cow<'a, T>> {
        match self {
            Self::Owned(items) => items.next().map(Cow::Owned),
            Self::Borrowed(items) => items.next().map(Cow::Borrowed),
        }
    }
}

/// The walk over entries, owned or borrowed: every entry, then its messaging, standby
/// and changes. A borrowed item is copied where its event needs it; a borrowed WhatsApp
/// value is not copied as a whole, only the parts each event keeps.
fn classify_entries<'a>(
    channel: Channel,
    entries: impl ExactSizeIterator<Item = Cow<'a, Result<Entry, ItemError>>>,
) -> Vec<Result<Event, EventError>> {
    let mut out = Vec::with_capacity(entries.len());
    for (index, entry) in entries.enumerate() {
        let (id, time, messaging, standby, changes) = match entry {
            Cow::Owned(Err(ref error)) | Cow::Borrowed(&Err(ref error)) => {
                out.push(Err(EventError::from_item(
                    error,
                    None,
                    Position::entry(index),
                )));
                continue;
            }
            Cow::Owned(Ok(entry)) => {
                let Entry {
                    id,
                    time,
                    messaging,
                    standby,
                    changes,
                    ..
                } = entry;
                let (messaging, standby) = (Cow::Owned(messaging), Cow::Owned(standby));
                (id, time, messaging, standby, Cow::Owned(changes))
            }
            Cow::Borrowed(Ok(entry)) => (
                entry.id.clone(),
                entry.time,
                Cow::Borrowed(&entry.messaging[..]),
                Cow::Borrowed(&entry.standby[..]),
                Cow::Borrowed(&entry.changes[..]),
            ),
        };
        let origin = Origin {
            account: id,
            time,
            channel,
        };
        out.reserve(messaging.len() + standby.len() + changes.len());
        for (source, items) in [(Source::Messaging, messaging), (Source::Standby, standby)] {
            for (i, item) in Items::of(items).enumerate() {
                let position = Position::item(index, source, i);
                out.push(match item.into_owned() {
                    Ok(item) => {
                        let (event, raw) = item.into_parts();
                        Ok(from_messaging(&origin, event, raw, source, position, None))
                    }
                    Err(error) => Err(origin.error(&error, position)),
                });
            }
        }
        for (i, item) in Items::of(changes).enumerate() {
            let position = Position::item(index, Source::Change, i);
            if let Cow::Borrowed(Ok(change)) = item
                && let ChangeValue::WhatsApp(value) = &change.value
            {
                let raw = change.raw_json().clone();
                let field = change.field.clone();
                whatsapp(
                    &mut out,
                    &origin,
                    WaParts::borrowed(value),
                    raw,
                    field,
                    position,
                );
                continue;
            }
            let (change, raw) = match item.into_owned() {
                Ok(change) => change.into_parts(),
                Err(error) => {
                    out.push(Err(origin.error(&error, position)));
                    continue;
                }
            };
            match change.value {
                ChangeValue::WhatsApp(value) => {
                    let parts = WaParts::owned(*value);
                    whatsapp(&mut out, &origin, parts, raw, change.field, position);
                }
                _ => out.push(Ok(from_change(&origin, change, raw, position))),
            }
        }
    }
    out
}

/// What every event of an entry shares.
struct Origin {
    account: Option<AccountId>,
    time: Option<Timestamp>,
    channel: Channel,
}

impl Origin {
    fn error(&self, error: &ItemError, position: Position) -> EventError {
        EventError::from_item(error, self.account.as_ref(), position)
    }

    /// Whether `id` is this entry's account.
    fn is_account(&self, id: &str) -> bool {
        self.account.as_ref().is_some_and(|account| account == id)
    }

    /// The business account when `id` is the entry's account, else a person.
    fn participant(&self, id: &str) -> Participant {
        if self.is_account(id) {
            Participant::Account(AccountId::new(id))
        } else {
            Participant::User(UserId::new(id))
        }
    }
}

/// The sender and recipient of a messaging event, typed: the business wrote it when it is
/// an echo or when the sender's id is the entry's account; then the recipient is the
/// person, otherwise the business. A `user_ref` names a person only when there is no
/// `sender.id`; the recipient is read from `recipient.id` alone.
fn parties(
    origin: &Origin,
    kind: EventKind,
    sender: Option<Party>,
    recipient: Option<Party>,
) -> (Option<Participant>, Option<Participant>) {
    let sender_id = sender.as_ref().and_then(|p| p.id.as_ref());
    let from_business =
        kind == EventKind::Echo || sender_id.is_some_and(|id| origin.is_account(id.as_str()));
    let sender = sender.and_then(|Party { id, user_ref, .. }| match (id, user_ref) {
        (Some(id), _) if from_business => {
            Some(Participant::Account(AccountId::from(id.into_string())))
        }
        (Some(id), _) => Some(Participant::User(id)),
        (None, Some(user_ref)) => Some(Participant::UserRef(user_ref)),
        (None, None) => None,
    });
    let recipient = recipient.and_then(|p| p.id).map(|id| {
        if from_business {
            Participant::User(id)
        } else {
            Participant::Account(AccountId::from(id.into_string()))
        }
    });
    (sender, recipient)
}

/// The kind of one messaging event, by the precedence of [the event contract](crate::docs::events). First match
/// wins:
///
/// Event level (an item of `messaging` / `standby`, or a wrapped change `value`):
///
/// | # | condition | kind |
/// |---|---|---|
/// | 0 | `referral` object with `source` `STORY_MENTION` (any case) — wins over `message` | `story_mention` |
/// | 1 | `message` object | message rules below |
/// | 2 | `message_edit` object | `edit` |
/// | 3 | `reaction` object | `unreaction` if `action == "unreact"`, else `reaction` |
/// | 4 | `postback` object | `postback` |
/// | 5 | `referral` object | `product_referral` with a `product` object; `ad_referral` if `source` is `ADS` (any case); else `referral` |
/// | 6 | `read` object | `read` |
/// | 7 | `optin` object | `optin` |
/// | 8 | `pass_thread_control`, `take_thread_control`, `request_thread_control` or `app_roles` | `handover` |
/// | 9 | `delivery` object | `delivery` |
/// | 10 | `account_linking` object | `account_linking` |
/// | 11 | `policy_enforcement` or `policy-enforcement` object | `policy_enforcement` (never with a sender) |
/// | 12 | anything else (`response_feedback`, `order`, future keys, no payload) | `unknown` |
///
/// Message rules (on `message`):
///
/// | # | condition | kind |
/// |---|---|---|
/// | 1 | `is_deleted == true` | `deleted` |
/// | 2 | `is_echo == true` (whatever the content: an echo of anything is an echo) | `echo` |
/// | 3 | `reply_to.story` is an object | `story_reply` |
/// | 4 | some attachment has `type == "story_mention"` | `story_mention` |
/// | 5 | `quick_reply` is an object | `quick_reply` |
/// | 6 | `referral.product` is an object | `product_referral` |
/// | 7 | `referral.source` is `ADS` (any case) | `ad_referral` |
/// | 8 | `attachments` is a non-empty array (any type, known or not) — except a link preview: `text` is a string and every attachment is a `fallback` | `media` (a link preview stays `text`) |
/// | 9 | `is_unsupported == true` | `unknown` |
/// | 10 | `text` is a string (including `""`) | `text` |
/// | 11 | otherwise | `unknown` |
///
/// "Object" means a JSON object: a key holding another JSON type (`"message":"TEST_MESSAGE"`)
/// does not match its rule. Changes map by `field`: `comments` → `comment`,
/// `live_comments` → `live_comment`, `mentions` → `mention`, `story_insights` →
/// `media_change`, `feed` → the Page feed table below, a messaging field wrapping an
/// event → the table above, anything else → `unknown`.
///
/// A Facebook Page's `feed` change, by `value.item` and `value.verb`:
///
/// | `item` | `verb` | kind |
/// |---|---|---|
/// | `comment` | `add` | `comment` |
/// | `comment` | `edited` or `edit` | `edit` |
/// | `comment` | `remove` | `deleted` |
/// | `reaction` | `add` or `edit` | `reaction` |
/// | `reaction` | `remove` | `unreaction` |
/// | anything else, a missing `item` or `verb`, or another verb | | `feed` |
///
/// A Page's own comment (`from.id` equal to `entry.id`) is still a `comment`; its sender
/// is then [`Participant::Account`].
///
/// ```
/// use meta_webhooks::event::messaging_kind;
/// use meta_webhooks::payload::MessagingEvent;
/// use meta_webhooks::EventKind;
///
/// let echo_of_story_mention: MessagingEvent = serde_json::from_str(
///     r#"{"message":{"mid":"m","is_echo":true,"attachments":[{"type":"story_mention"}]}}"#,
/// )?;
/// assert_eq!(messaging_kind(&echo_of_story_mention), EventKind::Echo);
/// let test: MessagingEvent = serde_json::from_str(r#"{"message":"TEST_MESSAGE"}"#)?;
/// assert_eq!(messaging_kind(&test), EventKind::Unknown);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn messaging_kind(event: &MessagingEvent) -> EventKind {
    decide(event).0
}

/// Which payload of the event matched; taken out of the event by `data`.
#[derive(Clone, Copy)]
enum Pick {
    /// Rule 0: the `STORY_MENTION` referral, with the message if there is one.
    StoryMentionReferral,
    Message,
    Edit,
    Reaction,
    Postback,
    Referral,
    Read,
    Optin,
    Handover,
    Delivery,
    AccountLinking,
    PolicyEnforcement,
    Other,
}

/// The event-level rules of the precedence. The one place it is written.
fn decide(ev: &MessagingEvent) -> (EventKind, Pick) {
    // Rule 0 wins over the message rules.
    if ev.referral.as_ref().is_some_and(|r| r.is_story_mention()) {
        return (EventKind::StoryMention, Pick::StoryMentionReferral);
    }
    if let Some(message) = &ev.message {
        return (message_kind(message), Pick::Message);
    }
    if ev.message_edit.is_some() {
        return (EventKind::Edit, Pick::Edit);
    }
    if let Some(reaction) = &ev.reaction {
        let kind = if reaction.is_unreact() {
            EventKind::Unreaction
        } else {
            EventKind::Reaction
        };
        return (kind, Pick::Reaction);
    }
    if ev.postback.is_some() {
        return (EventKind::Postback, Pick::Postback);
    }
    if let Some(referral) = &ev.referral {
        let kind = if referral.product.is_some() {
            EventKind::ProductReferral
        } else if referral.is_ads() {
            EventKind::AdReferral
        } else {
            EventKind::Referral
        };
        return (kind, Pick::Referral);
    }
    if ev.read.is_some() {
        return (EventKind::Read, Pick::Read);
    }
    if ev.optin.is_some() {
        return (EventKind::Optin, Pick::Optin);
    }
    if ev.is_handover() {
        return (EventKind::Handover, Pick::Handover);
    }
    if ev.delivery.is_some() {
        return (EventKind::Delivery, Pick::Delivery);
    }
    if ev.account_linking.is_some() {
        return (EventKind::AccountLinking, Pick::AccountLinking);
    }
    if ev.policy_enforcement.is_some() {
        return (EventKind::PolicyEnforcement, Pick::PolicyEnforcement);
    }
    (EventKind::Unknown, Pick::Other)
}

/// The message rules of the precedence.
fn message_kind(m: &Message) -> EventKind {
    if m.is_deleted {
        EventKind::Deleted
    } else if m.is_echo {
        EventKind::Echo
    } else if m.is_story_reply() {
        EventKind::StoryReply
    } else if m.has_story_mention() {
        EventKind::StoryMention
    } else if m.quick_reply.is_some() {
        EventKind::QuickReply
    } else if m.referral.as_ref().is_some_and(|r| r.product.is_some()) {
        EventKind::ProductReferral
    } else if m.referral.as_ref().is_some_and(|r| r.is_ads()) {
        EventKind::AdReferral
    } else if !m.attachments.is_empty() && !m.is_link_preview() {
        EventKind::Media
    } else if m.is_unsupported {
        EventKind::Unknown
    } else if m.text.is_some() {
        EventKind::Text
    } else {
        EventKind::Unknown
    }
}

/// Takes the payload `decide` picked out of the event. (A picked payload is always
/// there; were it not, the event would carry no data rather than panic.)
fn data(ev: MessagingEvent, pick: Pick) -> EventData {
    let other = || EventData::Other;
    match pick {
        Pick::StoryMentionReferral => {
            ev.referral
                .map_or_else(other, |referral| EventData::Referral {
                    referral,
                    message: ev.message,
                })
        }
        Pick::Message => ev.message.map_or_else(other, EventData::Message),
        Pick::Edit => ev.message_edit.map_or_else(other, EventData::Edit),
        Pick::Reaction => ev.reaction.map_or_else(other, EventData::Reaction),
        Pick::Postback => ev.postback.map_or_else(other, EventData::Postback),
        Pick::Referral => ev
            .referral
            .map_or_else(other, |referral| EventData::Referral {
                referral,
                message: None,
            }),
        Pick::Read => ev.read.map_or_else(other, EventData::Read),
        Pick::Optin => ev.optin.map_or_else(other, EventData::Optin),
        Pick::Handover => EventData::Handover(Box::new(handover(ev))),
        Pick::Delivery => ev.delivery.map_or_else(other, EventData::Delivery),
        Pick::AccountLinking => ev
            .account_linking
            .map_or_else(other, EventData::AccountLinking),
        Pick::PolicyEnforcement => ev
            .policy_enforcement
            .map_or_else(other, EventData::PolicyEnforcement),
        Pick::Other => EventData::Other,
    }
}

fn handover(ev: MessagingEvent) -> Handover {
    if let Some(p) = ev.pass_thread_control {
        Handover::Pass(*p)
    } else if let Some(t) = ev.take_thread_control {
        Handover::Take(*t)
    } else if let Some(r) = ev.request_thread_control {
        Handover::Request(*r)
    } else {
        Handover::AppRoles(ev.app_roles.unwrap_or_default())
    }
}

/// `raw` is the raw JSON of the item (the messaging item, or the change item that wraps
/// `ev`).
fn from_messaging(
    origin: &Origin,
    mut ev: MessagingEvent,
    raw: RawJson,
    source: Source,
    position: Position,
    field: Option<ChangeField>,
) -> Event {
    let (kind, pick) = decide(&ev);
    // Meta sends a policy enforcement to the Page with no sender: none is taken from it.
    let sender = ev
        .sender
        .take()
        .filter(|_| kind != EventKind::PolicyEnforcement);
    let (sender, recipient) = parties(origin, kind, sender, ev.recipient.take());
    Event {
        kind,
        source,
        position,
        account: origin.account.clone(),
        sender,
        recipient,
        timestamp: ev.timestamp,
        entry_time: origin.time,
        field,
        data: data(ev, pick),
        raw,
        channel: origin.channel,
    }
}

fn from_change(origin: &Origin, change: Change, raw: RawJson, position: Position) -> Event {
    let Change { field, value, .. } = change;
    let mut timestamp = None;
    let (kind, sender, data) = match value {
        ChangeValue::Messaging(ev) => {
            return from_messaging(origin, *ev, raw, Source::Change, position, field);
        }
        ChangeValue::Feed(f) => {
            let sender = f.author_id().map(|id| origin.participant(id.as_str()));
            timestamp = f.created_time;
            (feed_kind(&f), sender, EventData::Feed(f))
        }
        ChangeValue::Comment(c) => {
            let kind = if field == Some(ChangeField::LiveComments) {
                EventKind::LiveComment
            } else {
                EventKind::Comment
            };
            let sender = c.author_id().map(|id| origin.participant(id.as_str()));
            (kind, sender, EventData::Comment(c))
        }
        ChangeValue::Mention(m) => (EventKind::Mention, None, EventData::Mention(m)),
        ChangeValue::StoryInsights(s) => {
            (EventKind::MediaChange, None, EventData::StoryInsights(s))
        }
        // Taken apart by the caller; kept total rather than panic.
        ChangeValue::WhatsApp(_) | ChangeValue::Other => {
            (EventKind::Unknown, None, EventData::Other)
        }
    };
    Event {
        kind,
        source: Source::Change,
        position,
        // The recipient of a change is the account (`entry.id`).
        recipient: origin.account.clone().map(Participant::Account),
        account: origin.account.clone(),
        sender,
        timestamp,
        entry_time: origin.time,
        field,
        data,
        raw,
        channel: origin.channel,
    }
}

/// The kind of one WhatsApp `messages[]` item. First match wins:
///
/// | # | condition | kind |
/// |---|---|---|
/// | 1 | `type == "reaction"` | `unreaction` if `reaction.emoji` is `""` or absent, else `reaction` |
/// | 2 | a `referral` object (click-to-WhatsApp ad) | `ad_referral` |
/// | 3 | a `context.referred_product` object | `product_referral` |
/// | 4 | `type == "text"` | `text` |
/// | 5 | `type` is `image`, `video`, `audio`, `document`, `sticker`, `location` or `contacts` | `media` |
/// | 6 | `type == "interactive"` with a `button_reply` or `list_reply`, or `type == "button"` | `quick_reply` |
/// | 7 | `type == "order"` | `order` |
/// | 8 | anything else (`unsupported`, `system`, `request_welcome`, a flow's `nfm_reply`, types added later) | `unknown` |
///
/// Each `statuses[]` item is a `status` event (sent, delivered, read, failed, ...).
///
/// ```
/// use meta_webhooks::event::whatsapp_kind;
/// use meta_webhooks::payload::WaMessage;
/// use meta_webhooks::EventKind;
///
/// let removed: WaMessage = serde_json::from_str(
///     r#"{"type":"reaction","reaction":{"message_id":"wamid.1","emoji":""}}"#,
/// )?;
/// assert_eq!(whatsapp_kind(&removed), EventKind::Unreaction);
/// let from_ad: WaMessage = serde_json::from_str(
///     r#"{"type":"text","text":{"body":"Hi!"},"referral":{"source_type":"ad","ctwa_clid":"c"}}"#,
/// )?;
/// assert_eq!(whatsapp_kind(&from_ad), EventKind::AdReferral);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn whatsapp_kind(m: &WaMessage) -> EventKind {
    use WaMessageType as T;
    let kind = m.kind.as_ref();
    if kind == Some(&T::Reaction) {
        return if m.is_unreaction() {
            EventKind::Unreaction
        } else {
            EventKind::Reaction
        };
    }
    if m.referral.is_some() {
        return EventKind::AdReferral;
    }
    if m.referred_product().is_some() {
        return EventKind::ProductReferral;
    }
    match kind {
        Some(T::Text) => EventKind::Text,
        Some(
            T::Image | T::Video | T::Audio | T::Document | T::Sticker | T::Location | T::Contacts,
        ) => EventKind::Media,
        Some(T::Interactive)
            if m.interactive
                .as_ref()
                .is_some_and(|i| i.button_reply.is_some() || i.list_reply.is_some()) =>
        {
            EventKind::QuickReply
        }
        Some(T::Button) => EventKind::QuickReply,
        Some(T::Order) => EventKind::Order,
        _ => EventKind::Unknown,
    }
}

/// The parts of a WhatsApp value its events take: owned (taken) or borrowed (copied
/// where an event keeps them).
struct WaParts<'a> {
    metadata: Option<Metadata>,
    contacts: Cow<'a, [Contact]>,
    messages: Cow<'a, [MessageItem]>,
    statuses: Cow<'a, [StatusItem]>,
    errors: Cow<'a, [WaError]>,
}

impl<'a> WaParts<'a> {
    fn owned(value: WhatsAppValue) -> Self {
        Self {
            metadata: value.metadata,
            contacts: Cow::Owned(value.contacts),
            messages: Cow::Owned(value.messages),
            statuses: Cow::Owned(value.statuses),
            errors: Cow::Owned(value.errors),
        }
    }

    fn borrowed(value: &'a WhatsAppValue) -> Self {
        Self {
            metadata: value.metadata.clone(),
            contacts: Cow::Borrowed(&value.contacts),
            messages: Cow::Borrowed(&value.messages),
            statuses: Cow::Borrowed(&value.statuses),
            errors: Cow::Borrowed(&value.errors),
        }
    }
}

/// The events of a WhatsApp `messages` change: one per `messages[]` item, then one per
/// `statuses[]` item; one `unknown` for a value with `errors` only; none for a value with
/// only `contacts`.
fn whatsapp<'a>(
    out: &mut Vec<Result<Event, EventError>>,
    origin: &Origin,
    value: WaParts<'a>,
    raw: RawJson,
    field: Option<ChangeField>,
    position: Position,
) {
    let WaParts {
        metadata,
        contacts,
        messages,
        statuses,
        errors,
    } = value;
    let number = metadata.as_ref().and_then(|m| m.phone_number_id.clone());
    let business_account = origin.account.clone();
    let event = |kind, sender, recipient, timestamp, data, raw, position| Event {
        kind,
        source: Source::Change,
        position,
        account: number.clone(),
        sender,
        recipient,
        timestamp,
        entry_time: origin.time,
        field: field.clone(),
        data,
        raw,
        channel: Channel::WhatsApp,
    };
    let error =
        |error: &ItemError, position| EventError::from_item(error, number.as_ref(), position);
    if messages.is_empty() && statuses.is_empty() {
        if !errors.is_empty() {
            let data = EventData::WhatsAppErrors(Box::new(WhatsAppErrors {
                errors: errors.into_owned(),
                metadata,
                business_account: business_account.clone(),
            }));
            let recipient = business_account.map(Participant::Account);
            out.push(Ok(event(
                EventKind::Unknown,
                None,
                recipient,
                None,
                data,
                raw,
                position,
            )));
        }
        return;
    }
    out.reserve(messages.len() + statuses.len());
    // Every event of the value carries its metadata: a copy for each, the last takes it.
    let last = messages.len() + statuses.len();
    let mut metadata = metadata;
    let mut metadata_for = |i: usize| {
        if i + 1 == last {
            metadata.take()
        } else {
            metadata.clone()
        }
    };
    let message_count = messages.len();
    let mut contacts = contacts;
    let single_message = messages.len() == 1;
    for (i, item) in Items::of(messages).enumerate() {
        let position = position.within(ValueArray::Messages, i);
        let (message, raw) = match item.into_owned() {
            Ok(item) => item.into_parts(),
            Err(e) => {
                out.push(Err(error(&e, position)));
                continue;
            }
        };
        let kind = whatsapp_kind(&message);
        let sender = message.from.clone().map(Participant::User);
        // With a single message its contact is taken, not copied.
        let contact = message.from.as_ref().and_then(|from| {
            let at = contacts
                .iter()
                .position(|c| c.wa_id.as_ref() == Some(from))?;
            match &mut contacts {
                Cow::Owned(contacts) if single_message => Some(contacts.swap_remove(at)),
                contacts => contacts.get(at).cloned(),
            }
        });
        let recipient = number.clone().map(Participant::Account);
        let timestamp = message.timestamp;
        let data = EventData::WhatsAppMessage(Box::new(WhatsAppMessage {
            message,
            metadata: metadata_for(i),
            contact,
            business_account: business_account.clone(),
        }));
        out.push(Ok(event(
            kind, sender, recipient, timestamp, data, raw, position,
        )));
    }
    for (i, item) in Items::of(statuses).enumerate() {
        let position = position.within(ValueArray::Statuses, i);
        let (status, raw) = match item.into_owned() {
            Ok(item) => item.into_parts(),
            Err(e) => {
                out.push(Err(error(&e, position)));
                continue;
            }
        };
        let sender = number.clone().map(Participant::Account);
        let recipient = status.recipient_id.clone().map(Participant::User);
        let timestamp = status.timestamp;
        let data = EventData::WhatsAppStatus(Box::new(WhatsAppStatus {
            status,
            metadata: metadata_for(message_count + i),
            business_account: business_account.clone(),
        }));
        out.push(Ok(event(
            EventKind::Status,
            sender,
            recipient,
            timestamp,
            data,
            raw,
            position,
        )));
    }
}

/// The kind of a Facebook Page `feed` change, by `item` and `verb` (the table on
/// [`messaging_kind`]).
fn feed_kind(f: &FeedChange) -> EventKind {
    match (&f.item, &f.verb) {
        (Some(FeedItem::Comment), Some(FeedVerb::Add)) => EventKind::Comment,
        (Some(FeedItem::Comment), Some(FeedVerb::Edited | FeedVerb::Edit)) => EventKind::Edit,
        (Some(FeedItem::Comment), Some(FeedVerb::Remove)) => EventKind::Deleted,
        (Some(FeedItem::Reaction), Some(FeedVerb::Add | FeedVerb::Edit)) => EventKind::Reaction,
        (Some(FeedItem::Reaction), Some(FeedVerb::Remove)) => EventKind::Unreaction,
        _ => EventKind::Feed,
    }
}

impl EventError {
    fn from_item(error: &ItemError, account: Option<&AccountId>, position: Position) -> Self {
        Self {
            kind: error.kind(),
            reason: error.reason().to_owned(),
            raw: error.raw_json().clone(),
            account: account.cloned(),
            position,
        }
    }
}

#[cfg(test)]
mod tests;
