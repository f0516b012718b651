//! Classification: walking a delivery in the spec's order (§7.3) and the precedence that
//! turns one messaging event into one kind (§7.4).
//!
//! **The precedence lives here and only here**, in `decide`; it is documented on
//! [`messaging_kind`].

use super::{Event, EventData, EventError, EventKind, Handover, Position, Source};
use crate::payload::{
    AccountId, Change, ChangeField, ChangeValue, Delivery, Entry, ItemError, Message, MessageEdit,
    MessagingEvent, Optin, Party, Postback, Reaction, Read, Referral, Spanned,
};

/// Classifies every item of a delivery, in the spec's order (§7.3): for each entry in
/// array order, all `messaging[]` events, then all `standby[]` events, then all
/// `changes[]`, each in array order. Every item yields exactly one result; an item that
/// could not be read yields an [`EventError`] in its place.
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
/// assert_eq!((text.sender(), text.mid(), text.text()), (Some("6934"), Some("m1"), Some("hola")));
///
/// let bad = events[1].as_ref().unwrap_err();
/// assert!(bad.raw().contains("bad sender"));
///
/// let comment = events[2].as_ref().unwrap();
/// assert_eq!(comment.kind().as_str(), "comment");
/// assert_eq!(comment.recipient(), Some("1784"));
/// # Ok::<(), meta_webhooks::ParseError>(())
/// ```
pub fn classify(delivery: &Delivery) -> Vec<Result<Event, EventError>> {
    let count = delivery
        .entries()
        .iter()
        .map(|e| {
            e.as_ref()
                .map_or(1, |e| e.messaging.len() + e.standby.len() + e.changes.len())
        })
        .sum();
    let mut out = Vec::with_capacity(count);
    for (index, entry) in delivery.entries().iter().enumerate() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                out.push(Err(EventError::from_item(
                    error,
                    None,
                    Position::entry(index),
                )));
                continue;
            }
        };
        for (source, items) in [
            (Source::Messaging, &entry.messaging),
            (Source::Standby, &entry.standby),
        ] {
            for (i, item) in items.iter().enumerate() {
                let position = Position::item(index, source, i);
                out.push(match item {
                    Ok(event) => Ok(from_messaging(entry, event, event, source, position, None)),
                    Err(error) => Err(item_error(entry, error, position)),
                });
            }
        }
        for (i, item) in entry.changes.iter().enumerate() {
            let position = Position::item(index, Source::Change, i);
            out.push(match item {
                Ok(change) => Ok(from_change(entry, change, position)),
                Err(error) => Err(item_error(entry, error, position)),
            });
        }
    }
    out
}

/// The kind of one messaging event, by the precedence of spec §7.4. First match wins:
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
/// | 9 | anything else (`delivery`, `account_linking`, future keys, no payload) | `unknown` |
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
/// | 8 | `attachments` is a non-empty array (any type, known or not) | `media` |
/// | 9 | `is_unsupported == true` | `unknown` |
/// | 10 | `text` is a string (including `""`) | `text` |
/// | 11 | otherwise | `unknown` |
///
/// "Object" means a JSON object: a key holding another JSON type (`"message":"TEST_MESSAGE"`)
/// does not match its rule. Changes map by `field`: `comments` → `comment`,
/// `live_comments` → `live_comment`, `mentions` → `mention`, `story_insights` →
/// `media_change`, a messaging field wrapping an event → the table above, anything else
/// → `unknown`.
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

/// What matched, borrowed from the event; turned into owned [`EventData`] by `data`.
enum Matched<'a> {
    StoryMentionReferral(&'a Referral, Option<&'a Message>),
    Message(&'a Message),
    Edit(&'a MessageEdit),
    Reaction(&'a Reaction),
    Postback(&'a Postback),
    Referral(&'a Referral),
    Read(&'a Read),
    Optin(&'a Optin),
    Handover,
    Other,
}

/// Spec §7.4, event level. The one place the precedence is written.
fn decide(ev: &MessagingEvent) -> (EventKind, Matched<'_>) {
    // Rule 0 wins over the message rules.
    if let Some(referral) = ev.referral.as_ref().filter(|r| r.is_story_mention()) {
        return (
            EventKind::StoryMention,
            Matched::StoryMentionReferral(referral, ev.message.as_deref()),
        );
    }
    if let Some(message) = &ev.message {
        return (message_kind(message), Matched::Message(message));
    }
    if let Some(edit) = &ev.message_edit {
        return (EventKind::Edit, Matched::Edit(edit));
    }
    if let Some(reaction) = &ev.reaction {
        let kind = if reaction.is_unreact() {
            EventKind::Unreaction
        } else {
            EventKind::Reaction
        };
        return (kind, Matched::Reaction(reaction));
    }
    if let Some(postback) = &ev.postback {
        return (EventKind::Postback, Matched::Postback(postback));
    }
    if let Some(referral) = &ev.referral {
        let kind = if referral.product.is_some() {
            EventKind::ProductReferral
        } else if referral.is_ads() {
            EventKind::AdReferral
        } else {
            EventKind::Referral
        };
        return (kind, Matched::Referral(referral));
    }
    if let Some(read) = &ev.read {
        return (EventKind::Read, Matched::Read(read));
    }
    if let Some(optin) = &ev.optin {
        return (EventKind::Optin, Matched::Optin(optin));
    }
    if ev.is_handover() {
        return (EventKind::Handover, Matched::Handover);
    }
    (EventKind::Unknown, Matched::Other)
}

/// Spec §7.4, message rules.
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
    } else if !m.attachments.is_empty() {
        EventKind::Media
    } else if m.is_unsupported {
        EventKind::Unknown
    } else if m.text.is_some() {
        EventKind::Text
    } else {
        EventKind::Unknown
    }
}

fn data(ev: &MessagingEvent, matched: Matched<'_>) -> EventData {
    match matched {
        Matched::StoryMentionReferral(referral, message) => EventData::Referral {
            referral: Box::new(referral.clone()),
            message: message.map(|m| Box::new(m.clone())),
        },
        Matched::Message(m) => EventData::Message(Box::new(m.clone())),
        Matched::Edit(e) => EventData::Edit(Box::new(e.clone())),
        Matched::Reaction(r) => EventData::Reaction(Box::new(r.clone())),
        Matched::Postback(p) => EventData::Postback(Box::new(p.clone())),
        Matched::Referral(r) => EventData::Referral {
            referral: Box::new(r.clone()),
            message: None,
        },
        Matched::Read(r) => EventData::Read(r.clone()),
        Matched::Optin(o) => EventData::Optin(Box::new(o.clone())),
        Matched::Handover => EventData::Handover(Box::new(handover(ev))),
        Matched::Other => EventData::Other,
    }
}

fn handover(ev: &MessagingEvent) -> Handover {
    if let Some(p) = &ev.pass_thread_control {
        Handover::Pass((**p).clone())
    } else if let Some(t) = &ev.take_thread_control {
        Handover::Take((**t).clone())
    } else if let Some(r) = &ev.request_thread_control {
        Handover::Request((**r).clone())
    } else {
        Handover::AppRoles(ev.app_roles.clone().unwrap_or_default())
    }
}

/// `item` carries the raw JSON (the messaging item, or the change item that wraps `ev`).
fn from_messaging<T>(
    entry: &Entry,
    item: &Spanned<T>,
    ev: &MessagingEvent,
    source: Source,
    position: Position,
    field: Option<&ChangeField>,
) -> Event {
    let (kind, matched) = decide(ev);
    Event {
        kind,
        source,
        position,
        account: entry.id.clone(),
        sender: ev.sender.clone(),
        recipient: ev.recipient.as_ref().map(|p| Party {
            id: p.id.clone(),
            user_ref: None,
        }),
        timestamp: ev.timestamp,
        entry_time: entry.time,
        field: field.cloned(),
        data: data(ev, matched),
        raw: item.raw_json().clone(),
    }
}

fn from_change(entry: &Entry, change: &Spanned<Change>, position: Position) -> Event {
    if let ChangeValue::Messaging(ev) = &change.value {
        return from_messaging(
            entry,
            change,
            ev,
            Source::Change,
            position,
            change.field.as_ref(),
        );
    }
    let (kind, sender, data) = match &change.value {
        ChangeValue::Comment(c) => {
            let kind = if change.field == Some(ChangeField::LiveComments) {
                EventKind::LiveComment
            } else {
                EventKind::Comment
            };
            let sender = c.author_id().map(|id| Party {
                id: Some(id.clone()),
                user_ref: None,
            });
            (kind, sender, EventData::Comment(c.clone()))
        }
        ChangeValue::Mention(m) => (EventKind::Mention, None, EventData::Mention(m.clone())),
        ChangeValue::StoryInsights(s) => (
            EventKind::MediaChange,
            None,
            EventData::StoryInsights(s.clone()),
        ),
        ChangeValue::Messaging(_) | ChangeValue::Other => {
            (EventKind::Unknown, None, EventData::Other)
        }
    };
    Event {
        kind,
        source: Source::Change,
        position,
        account: entry.id.clone(),
        sender,
        // Spec §7.5: the recipient of a change is the account (`entry.id`).
        recipient: entry.id.as_ref().map(|id| Party {
            id: Some(id.as_str().into()),
            user_ref: None,
        }),
        timestamp: None,
        entry_time: entry.time,
        field: change.field.clone(),
        data,
        raw: change.raw_json().clone(),
    }
}

fn item_error(entry: &Entry, error: &ItemError, position: Position) -> EventError {
    EventError::from_item(error, entry.id.as_ref(), position)
}

impl EventError {
    fn from_item(error: &ItemError, account: Option<&AccountId>, position: Position) -> Self {
        Self {
            reason: error.reason().to_owned(),
            raw: error.raw_json().clone(),
            account: account.cloned(),
            position,
        }
    }
}

#[cfg(test)]
mod tests;
