//! One event as one stream entry, and back.
//!
//! An entry keeps the event's item JSON exactly as Meta sent it (`r`), with what the
//! envelope said about it: `object` (`o`), the entry's `id` (`a`) and `time` (`t`), and
//! which array it was in (`s`). A worker rebuilds the smallest delivery holding just that
//! item and runs the same parser and classifier as the receiver, so an event means the
//! same on both sides and no second serialization format exists. `at` is when the
//! receiver accepted the delivery (ms since the Unix epoch) and `c` the conversation, for
//! grouping.
//!
//! A WhatsApp message or status is an item inside a change's value, and means something
//! only with the value's `metadata` (the business number) and the sender's `contacts`
//! item: its entry keeps the change rebuilt around that one item (`r`, with the value's
//! metadata and the sender's contact as parsed, the item exactly as sent) and the WhatsApp
//! Business Account id as the entry's id (`a`), as does a value with errors only (whose
//! item is the whole change).

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::event::{Event, EventData, Participant, classify_owned};
use crate::payload::Delivery;

/// Field names of an entry, in the order [`Encoded::fields`] gives their values.
#[cfg(test)]
pub(crate) const FIELDS: [&str; 7] = ["o", "a", "t", "s", "r", "at", "c"];

/// The conversation an event belongs to: `account:user`, where the user is the person on
/// the other side — the sender, or the recipient for an echo (which the business sent) —
/// and `-` stands for a missing part (e.g. mentions have no sender). Events of one
/// conversation go to one shard and are handled in order.
pub fn conversation_of(event: &Event) -> String {
    let account = event.account().map_or("-", |a| a.as_str());
    let user = if event.is_echo() {
        event.recipient()
    } else {
        event.sender()
    };
    format!("{account}:{}", user.map_or("-", Participant::as_str))
}

/// The shard of a conversation: 64-bit FNV-1a of its bytes, modulo `shards` (at least 1).
///
/// Stable across processes, builds and Rust versions (unlike `std`'s hasher), so every
/// receiver puts a conversation into the same shard.
///
/// ```
/// use meta_webhooks::redis::shard_of;
///
/// assert_eq!(shard_of("17841400000000000:6934581207719432", 1), 0);
/// assert_eq!(shard_of("a", 16), shard_of("a", 16));
/// ```
pub fn shard_of(conversation: &str, shards: u16) -> u16 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = conversation
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    u16::try_from(hash % u64::from(shards.max(1))).unwrap_or(0)
}

/// An event ready for `XADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded<'a> {
    /// The shard it goes to.
    pub(crate) shard: u16,
    conversation: String,
    object: &'a str,
    account: &'a str,
    entry_time: String,
    source: &'static str,
    raw: Cow<'a, str>,
    received_ms: u64,
}

impl Encoded<'_> {
    /// Passes the values of [`FIELDS`], in order, to `push`.
    pub(crate) fn fields(&self, mut push: impl FnMut(&[u8])) {
        push(self.object.as_bytes());
        push(self.account.as_bytes());
        push(self.entry_time.as_bytes());
        push(self.source.as_bytes());
        push(self.raw.as_bytes());
        push(self.received_ms.to_string().as_bytes());
        push(self.conversation.as_bytes());
    }
}

/// Encodes `event` (from a delivery whose `object` is `object`, accepted at
/// `received_ms`) for one of `shards` streams.
pub(crate) fn encode<'a>(
    event: &'a Event,
    object: &'a str,
    received_ms: u64,
    shards: u16,
) -> Encoded<'a> {
    let conversation = conversation_of(event);
    let (account, raw) = match (event.data(), whatsapp_change(event)) {
        (_, Some((business_account, change))) => (business_account, Cow::Owned(change)),
        // A WhatsApp value with errors only: its raw item is the whole change, its entry
        // the WhatsApp Business Account (the event's account is the number).
        (EventData::WhatsAppErrors(errors), None) => (
            errors.business_account.as_ref().map_or("", |a| a.as_str()),
            Cow::Borrowed(event.raw()),
        ),
        (_, None) => (
            event.account().map_or("", |a| a.as_str()),
            Cow::Borrowed(event.raw()),
        ),
    };
    Encoded {
        shard: shard_of(&conversation, shards),
        conversation,
        object,
        account,
        // The event's time stands in for the entry's: the rebuilt event has the same
        // timestamp, as its own timestamp (if any) comes back with its raw item.
        entry_time: event
            .timestamp()
            .map(|t| t.as_millis().to_string())
            .unwrap_or_default(),
        source: event.source().as_str(),
        raw,
        received_ms,
    }
}

/// For a WhatsApp message or status: the WhatsApp Business Account id (`""` when the
/// entry had none) and the smallest change that classifies as this event again — a value
/// with the same `metadata`, the sender's `contacts` item and the item exactly as sent,
/// alone in its array.
fn whatsapp_change(event: &Event) -> Option<(&str, String)> {
    let (array, _) = event.position().value_item?;
    let (metadata, contact, business_account) = match event.data() {
        EventData::WhatsAppMessage(m) => (
            m.metadata.as_ref(),
            m.contact.as_ref(),
            m.business_account.as_ref(),
        ),
        EventData::WhatsAppStatus(s) => (s.metadata.as_ref(), None, s.business_account.as_ref()),
        _ => return None,
    };
    let field = serde_json::to_string(event.field()?.as_str()).ok()?;
    let mut change = format!("{{\"field\":{field},\"value\":{{\"messaging_product\":\"whatsapp\"");
    if let Some(metadata) = metadata {
        change.push_str(",\"metadata\":");
        change.push_str(&serde_json::to_string(metadata).ok()?);
    }
    if let Some(contact) = contact {
        change.push_str(",\"contacts\":[");
        change.push_str(&serde_json::to_string(contact).ok()?);
        change.push(']');
    }
    change.push_str(&format!(",\"{}\":[{}]}}}}", array.as_str(), event.raw()));
    Some((business_account.map_or("", |a| a.as_str()), change))
}

/// Why a stream entry could not be turned back into an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stream entry unreadable: {0}")]
pub(crate) struct DecodeError(&'static str);

/// A decoded entry: the event, when the receiver accepted it, and its conversation.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The event, as classified from the rebuilt delivery.
    pub(crate) event: Event,
    /// When the receiver accepted the delivery.
    pub(crate) accepted_at: SystemTime,
    /// The conversation.
    pub(crate) conversation: String,
}

/// Decodes an entry from its fields (`get(name)` gives a field's value).
///
/// # Errors
///
/// [`DecodeError`] when a field is missing or the item no longer classifies as exactly one
/// event (a poison entry: the worker dead-letters it).
pub(crate) fn decode<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Decoded, DecodeError> {
    let field = |name: &'static str| get(name).ok_or(DecodeError("missing field"));
    let object = field("o")?;
    let account = field("a")?;
    let entry_time = field("t")?;
    let source = field("s")?;
    let raw = field("r")?;
    let received_ms: u64 = field("at")?
        .parse()
        .map_err(|_| DecodeError("bad acceptance time"))?;
    if !matches!(source, "messaging" | "standby" | "changes") {
        return Err(DecodeError("unknown source array"));
    }
    let json = |s: &str| serde_json::to_string(s).map_err(|_| DecodeError("unencodable"));
    let mut body = format!("{{\"object\":{},\"entry\":[{{", json(object)?);
    if !account.is_empty() {
        body.push_str(&format!("\"id\":{},", json(account)?));
    }
    if !entry_time.is_empty() {
        let ms: u64 = entry_time
            .parse()
            .map_err(|_| DecodeError("bad entry time"))?;
        body.push_str(&format!("\"time\":{ms},"));
    }
    body.push_str(&format!("\"{source}\":[{raw}]}}]}}"));
    let delivery = Delivery::from_slice(body.as_bytes()).map_err(|_| DecodeError("not JSON"))?;
    let mut items = classify_owned(delivery).into_iter();
    let (Some(Ok(event)), None) = (items.next(), items.next()) else {
        return Err(DecodeError("not exactly one event"));
    };
    Ok(Decoded {
        conversation: get("c").map_or_else(|| conversation_of(&event), str::to_owned),
        event,
        accepted_at: UNIX_EPOCH
            .checked_add(Duration::from_millis(received_ms))
            .unwrap_or(UNIX_EPOCH),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn round_trip(event: &Event, object: &str) -> Decoded {
        let encoded = encode(event, object, 1_700_000_000_123, 16);
        let mut values = Vec::new();
        encoded.fields(|v| values.push(String::from_utf8(v.to_vec()).unwrap()));
        let map: HashMap<&str, String> = FIELDS.into_iter().zip(values).collect();
        decode(|name| map.get(name).map(String::as_str)).unwrap()
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        // Known FNV-1a 64 values: "" → cbf29ce484222325, "a" → af63dc4c8601ec8c.
        assert_eq!(
            shard_of("", u16::MAX),
            (0xcbf2_9ce4_8422_2325u64 % 65535) as u16
        );
        assert_eq!(
            shard_of("a", u16::MAX),
            (0xaf63_dc4c_8601_ec8cu64 % 65535) as u16
        );
        assert_eq!(shard_of("anything", 1), 0);
        assert_eq!(shard_of("anything", 0), 0);
    }

    #[cfg(feature = "test-util")]
    #[test]
    fn every_fixture_event_survives_the_stream() {
        let mut checked = 0;
        for fixture in crate::test_util::Corpus::new().fixtures() {
            let fixture = fixture.unwrap();
            let name = fixture.name().to_owned();
            let Ok(delivery) = Delivery::from_slice(fixture.body()) else {
                continue;
            };
            for event in crate::event::classify(&delivery).into_iter().flatten() {
                let back = round_trip(&event, delivery.object().as_str());
                let (a, b) = (&event, &back.event);
                assert_eq!(a.kind(), b.kind(), "{name}");
                assert_eq!(a.dedup_key(), b.dedup_key(), "{name}");
                assert_eq!(a.raw(), b.raw(), "{name}");
                assert_eq!(a.account(), b.account(), "{name}");
                assert_eq!(a.sender(), b.sender(), "{name}");
                assert_eq!(a.recipient(), b.recipient(), "{name}");
                assert_eq!(a.timestamp(), b.timestamp(), "{name}");
                assert_eq!(a.mid(), b.mid(), "{name}");
                assert_eq!(a.text(), b.text(), "{name}");
                assert_eq!(a.source(), b.source(), "{name}");
                assert_eq!(back.conversation, conversation_of(a), "{name}");
                assert_eq!(super::super::unix_ms(back.accepted_at), 1_700_000_000_123);
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} events checked");
    }

    #[test]
    fn a_whatsapp_item_keeps_its_number_contact_and_business_account() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"},{"profile":{"name":"Kerry Fisher"},"wa_id":"16315551181"}],"messages":[{"from":"16505551234","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Hi"}},{"from":"16315551181","id":"wamid.B","timestamp":"1749416384","type":"text","text":{"body":"Precio?"}}],"statuses":[{"id":"wamid.C","status":"read","timestamp":"1749416385","recipient_id":"16505551234"}]},"field":"messages"}]}]}"#;
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        let events: Vec<Event> = crate::event::classify(&delivery)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events.len(), 3);
        for event in &events {
            let back = round_trip(event, "whatsapp_business_account").event;
            assert_eq!(back.kind(), event.kind());
            assert_eq!(back.raw(), event.raw());
            assert_eq!(back.dedup_key(), event.dedup_key());
            assert_eq!(back.account().unwrap().as_str(), "106540352242922");
            assert_eq!(back.sender_name(), event.sender_name());
            match (back.data(), event.data()) {
                (EventData::WhatsAppMessage(b), EventData::WhatsAppMessage(a)) => {
                    assert_eq!(b.business_account, a.business_account);
                    assert_eq!(b.contact.as_ref().unwrap().wa_id, a.message.from);
                }
                (EventData::WhatsAppStatus(b), EventData::WhatsAppStatus(a)) => {
                    assert_eq!(b.business_account, a.business_account);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            round_trip(&events[1], "whatsapp_business_account")
                .event
                .sender_name(),
            Some("Kerry Fisher")
        );

        // A value with errors only: one event for the value, addressed to the account.
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"errors":[{"code":131000,"title":"Something went wrong"}]},"field":"messages"}]}]}"#;
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        let event = crate::event::classify(&delivery).remove(0).unwrap();
        let back = round_trip(&event, "whatsapp_business_account").event;
        assert_eq!(back.kind(), event.kind());
        assert_eq!(back.raw(), event.raw());
        assert_eq!(back.account(), event.account());
        assert_eq!(back.recipient(), event.recipient());
        assert_eq!(back.dedup_key(), event.dedup_key());
    }

    #[test]
    fn damaged_entries_are_errors_not_panics() {
        let ok: HashMap<&str, &str> = [
            ("o", "instagram"),
            ("a", "17841400000000000"),
            ("t", "1700000000000"),
            ("s", "messaging"),
            ("r", r#"{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1700000000000,"message":{"mid":"m1","text":"hi"}}"#),
            ("at", "1700000000001"),
            ("c", "17841400000000000:1"),
        ]
        .into_iter()
        .collect();
        assert!(decode(|n| ok.get(n).copied()).is_ok());
        for (field, value) in [
            ("s", "entry"),
            ("s", "messaging\":[],\"x"),
            ("r", "{"),
            ("r", "{}],\"changes\":[{}"),
            ("r", "1"),
            ("at", "soon"),
            ("t", "yesterday"),
        ] {
            let mut bad = ok.clone();
            bad.insert(field, value);
            assert!(decode(|n| bad.get(n).copied()).is_err(), "{field}={value}");
        }
        let mut missing = ok.clone();
        missing.remove("r");
        assert_eq!(
            decode(|n| missing.get(n).copied()).unwrap_err(),
            DecodeError("missing field")
        );
    }
}
