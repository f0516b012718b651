//! One event as one stream entry, and back.
//!
//! An entry keeps the event's item JSON exactly as Meta sent it (`r`), with what the
//! envelope said about it: `object` (`o`), the entry's `id` (`a`) and `time` (`t`), and
//! which array it was in (`s`). A worker rebuilds the smallest delivery holding just that
//! item and runs the same parser and classifier as the receiver, so an event means the
//! same on both sides and no second serialization format exists. `at` is when the
//! receiver accepted the delivery (ms since the Unix epoch, for the reply latency) and `c`
//! the conversation, for grouping.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_webhooks::Delivery;
use meta_webhooks::event::{Event, Participant, classify_owned};
use thiserror::Error;

/// Field names of an entry, in the order [`Encoded::fields`] gives their values.
pub const FIELDS: [&str; 7] = ["o", "a", "t", "s", "r", "at", "c"];

/// The conversation an event belongs to: `account:user`, where the user is the sender
/// (the recipient for an echo, which the business sent), or `-` for events without one
/// (e.g. mentions). Events of one conversation are handled in order.
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
pub struct Encoded {
    /// The shard it goes to.
    pub shard: u16,
    /// The conversation ([`conversation_of`]).
    pub conversation: String,
    object: String,
    account: String,
    entry_time: String,
    source: &'static str,
    raw: String,
    received_ms: u64,
}

impl Encoded {
    /// The values of [`FIELDS`], in order.
    pub fn fields(&self) -> [String; 7] {
        [
            self.object.clone(),
            self.account.clone(),
            self.entry_time.clone(),
            self.source.to_owned(),
            self.raw.clone(),
            self.received_ms.to_string(),
            self.conversation.clone(),
        ]
    }
}

/// Encodes `event` (from a delivery whose `object` is `object`, accepted at
/// `received_ms`) for one of `shards` streams.
pub fn encode(event: &Event, object: &str, received_ms: u64, shards: u16) -> Encoded {
    let conversation = conversation_of(event);
    Encoded {
        shard: shard_of(&conversation, shards),
        conversation,
        object: object.to_owned(),
        account: event
            .account()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        // The event's time stands in for the entry's: the rebuilt event has the same
        // timestamp, as its own timestamp (if any) comes back with its raw item.
        entry_time: event
            .timestamp()
            .map(|t| t.as_millis().to_string())
            .unwrap_or_default(),
        source: event.source().as_str(),
        raw: event.raw().to_owned(),
        received_ms,
    }
}

/// Why a stream entry could not be turned back into an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stream entry unreadable: {0}")]
pub struct DecodeError(&'static str);

/// A decoded entry: the event, when the receiver accepted it, and its conversation.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The event, as classified from the rebuilt delivery.
    pub event: Event,
    /// When the receiver accepted the delivery.
    pub accepted_at: SystemTime,
    /// The conversation.
    pub conversation: String,
}

/// Decodes an entry from its fields (`get(name)` gives a field's value).
///
/// # Errors
///
/// [`DecodeError`] when a field is missing or the item no longer classifies as exactly one
/// event (a poison entry: the worker dead-letters it).
pub fn decode<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Decoded, DecodeError> {
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
    use meta_webhooks::event::classify;

    fn round_trip(event: &Event, object: &str) -> Decoded {
        let encoded = encode(event, object, 1_700_000_000_123, 16);
        let map: HashMap<&str, String> = FIELDS.into_iter().zip(encoded.fields()).collect();
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

    #[test]
    fn every_fixture_event_survives_the_stream() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let mut paths = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    paths.push(path);
                }
            }
        }
        let mut checked = 0;
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Ok(delivery) = Delivery::from_slice(&bytes) else {
                continue;
            };
            for event in classify(&delivery).into_iter().flatten() {
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
