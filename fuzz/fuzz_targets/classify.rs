//! Parse, classify, then exercise every accessor of every result, so none can panic.
//!
//! Checks the classifier's structural contract (one result per item, in order) against an independent
//! count made with `serde_json::Value`: one result per item (an entry that is not an
//! object, or a `messaging`/`standby`/`changes` that is present, non-null and not an
//! array, counts as one error item; a WhatsApp `messages` value counts its messages and
//! statuses, one for `errors` alone, none for `contacts` alone), in entry order and,
//! within an entry, messaging → standby → changes. Each result's raw JSON is a slice of the body and its normalized
//! projection serializes to the documented keys.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use meta_webhooks::event::{EventData, EventKind, Source};
use meta_webhooks::{Delivery, classify};
use serde_json::Value;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(delivery) = Delivery::from_slice(data) else {
        return;
    };
    let results = classify(&delivery);
    let body = delivery.body();

    if let Some(expected) = expected_items(data) {
        assert_eq!(results.len(), expected, "one result per item");
    }

    let nows = [
        UNIX_EPOCH,
        UNIX_EPOCH + Duration::from_millis(1_769_870_412_731),
        UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1000),
    ];
    let mut last = (0usize, 0u8);
    for result in &results {
        let (position, normalized) = match result {
            Ok(event) => {
                let kind = event.kind();
                assert_eq!(EventKind::from_name(kind.as_str()), Some(kind));
                assert_eq!(kind.to_string(), kind.as_str());
                let _ = (
                    event.account().map(|a| a.as_str()),
                    event.sender().map(|s| s.to_string()),
                    event.sender().and_then(|s| s.user_id()),
                    event.sender().and_then(|s| s.user_ref()),
                    event.recipient().and_then(|r| r.account_id()),
                    event.timestamp().map(|t| t.as_millis()),
                    event.mid().map(|m| m.as_str()),
                    event.text(),
                    event.field().map(|f| f.as_str()),
                    event.is_echo(),
                    format!("{:?}", event.data()),
                    event.channel().as_str(),
                    event.reacted_to().map(|m| m.as_str()),
                    event.reply_payload(),
                    event.sender_name(),
                );
                if let EventData::WhatsAppStatus(status) = event.data() {
                    assert_eq!(event.kind(), EventKind::Status);
                    if let Some(kind) = &status.status.status {
                        if status.status.id.is_some() {
                            assert!(event.dedup_key().as_str().ends_with(kind.as_str()));
                        }
                    }
                }
                assert_eq!(event.is_echo(), kind == EventKind::Echo);
                if matches!(kind, EventKind::Deleted | EventKind::Unknown) {
                    assert_eq!(event.text(), None);
                }
                if kind == EventKind::PolicyEnforcement {
                    assert!(
                        event.sender().is_none(),
                        "a policy enforcement has no sender"
                    );
                }
                if let EventData::Feed(feed) = event.data() {
                    assert_eq!(event.field().map(|f| f.as_str()), Some("feed"));
                    assert_eq!(event.normalized().mid, feed.object_id());
                    if feed.created_time.is_some() {
                        assert_eq!(event.timestamp(), feed.created_time);
                    }
                }
                assert!(body.contains(event.raw()), "raw is not from the body");
                let key = event.dedup_key();
                let account = event.account().map_or("-", |a| a.as_str());
                assert!(
                    key.as_str().starts_with(&format!("{account}:")),
                    "dedup prefix"
                );
                assert_eq!(key.to_string(), key.as_str());
                assert_eq!(event.clone().dedup_key(), key, "dedup key is stable");
                for now in nows {
                    let age = event.age(now);
                    assert_eq!(age.is_some(), event.timestamp().is_some());
                    let _ = event.is_older_than(Duration::from_secs(23 * 3600), now);
                    let _ = event.is_older_than(Duration::ZERO, now);
                }
                let _ = event.is_older_than(Duration::MAX, SystemTime::now());
                let normalized = event.normalized();
                assert_eq!(normalized.sender, event.sender().map(|s| s.as_str()));
                assert_eq!(normalized.recipient, event.recipient().map(|r| r.as_str()));
                assert_eq!(
                    normalized.timestamp,
                    event.timestamp().map(|t| t.as_millis())
                );
                if let Some(mid) = event.mid() {
                    assert_eq!(normalized.mid, Some(mid.as_str()));
                }
                (event.position(), normalized)
            }
            Err(err) => {
                assert!(!err.reason().is_empty());
                assert!(body.contains(err.raw()), "raw is not from the body");
                let _ = (err.account().map(|a| a.as_str()), err.to_string());
                let n = err.normalized();
                assert_eq!(n.kind, "error");
                (err.position(), n)
            }
        };
        // Entry order; within an entry, messaging, standby, changes.
        let rank = match position.source {
            None => 0,
            Some(Source::Messaging) => 1,
            Some(Source::Standby) => 2,
            Some(Source::Change) => 3,
            Some(_) => 4,
        };
        assert!((position.entry, rank) >= last, "classification order");
        last = (position.entry, rank);
        let _ = position.to_string();

        let json: Value = serde_json::to_value(&normalized).expect("normalized serializes");
        for key in ["kind", "sender", "recipient", "mid", "text"] {
            let v = json.get(key).expect("normalized key present");
            assert!(v.is_string() || v.is_null(), "{key} is a string or null");
        }
        let _ = format!("{result:?}");
    }
});

/// The expected item count, computed from `serde_json::Value`; `None` when the reference
/// reading is unavailable (see `common::reference`) or the shape is not a delivery. An
/// entry that is not an object, or whose `id` is neither a string, an integer nor null,
/// is one error item.
fn expected_items(data: &[u8]) -> Option<usize> {
    let value = common::reference(data)?;
    let entries = value.get("entry")?.as_array()?;
    let count = entries
        .iter()
        .map(|entry| match entry.as_object() {
            None => 1,
            Some(entry)
                if entry.get("id").is_some_and(|id| {
                    !(id.is_string() || id.is_u64() || id.is_i64() || id.is_null())
                }) =>
            {
                1
            }
            Some(entry) => {
                let arrays: usize = ["messaging", "standby"]
                    .iter()
                    .map(|key| array_items(entry.get(*key)))
                    .sum();
                let changes = match entry.get("changes") {
                    Some(Value::Array(changes)) => changes.iter().map(change_items).sum(),
                    other => array_items(other),
                };
                arrays + changes
            }
        })
        .sum();
    Some(count)
}

/// Items of an array (absent or null: none; not an array: one error item).
fn array_items(value: Option<&Value>) -> usize {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Array(items)) => items.len(),
        Some(_) => 1,
    }
}

/// Results of one `changes[]` item: one, except a WhatsApp `messages` value (no `sender`
/// or `recipient` object; `messaging_product: "whatsapp"` or a `metadata` object), which
/// yields its messages and statuses, else one for a non-empty `errors` array, else none;
/// a `metadata.phone_number_id` that is not an id makes the whole change one error.
fn change_items(change: &Value) -> usize {
    let is_id = |v: &Value| v.is_string() || v.is_u64() || v.is_i64() || v.is_null();
    let Some(value) = change
        .get("value")
        .and_then(Value::as_object)
        .filter(|_| change.get("field").and_then(Value::as_str) == Some("messages"))
    else {
        return 1;
    };
    let party = ["sender", "recipient"]
        .iter()
        .any(|key| value.get(*key).is_some_and(Value::is_object));
    let metadata = value.get("metadata").and_then(Value::as_object);
    let whatsapp = value.get("messaging_product").and_then(Value::as_str) == Some("whatsapp")
        || metadata.is_some();
    if party || !whatsapp {
        return 1;
    }
    if metadata
        .and_then(|m| m.get("phone_number_id"))
        .is_some_and(|id| !is_id(id))
    {
        return 1;
    }
    match array_items(value.get("messages")) + array_items(value.get("statuses")) {
        0 => usize::from(
            value
                .get("errors")
                .and_then(Value::as_array)
                .is_some_and(|errors| !errors.is_empty()),
        ),
        items => items,
    }
}
