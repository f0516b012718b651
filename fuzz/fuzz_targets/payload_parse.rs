//! `Delivery::from_slice` on arbitrary bytes.
//!
//! Besides "no panic, no hang, bounded memory", it checks the parser against an independent
//! reading of the same bytes with serde_json:
//! - bytes that serde_json's syntax check (`IgnoredAny`, no depth limit) refuses are
//!   rejected as a whole;
//! - a JSON object (read as a `serde_json::Value`, no duplicate keys) with a string
//!   `object` and an array `entry` is a delivery, never rejected, with one entry result
//!   per `entry` item; any other top level is rejected;
//! - every error maps to 400 and says nothing about the body beyond a position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meta_webhooks::payload::{Delivery, ParseErrorKind};
use serde::de::IgnoredAny;
use serde_json::Value;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let parsed = Delivery::from_slice(data);

    match &parsed {
        Err(err) => {
            assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
            let _ = (
                err.kind().as_str(),
                err.position(),
                err.kind() == ParseErrorKind::TooDeep,
            );
            assert!(err.to_string().len() < 100, "error message too long: {err}");
        }
        Ok(delivery) => {
            assert_eq!(delivery.body().as_bytes(), data, "body kept verbatim");
            let _ = delivery.object().as_str();
            for entry in delivery.entries() {
                match entry {
                    Ok(entry) => {
                        let _ = (entry.id.as_ref().map(|id| id.as_str()), entry.time);
                        for item in entry.messaging.iter().chain(&entry.standby) {
                            let raw = match item {
                                Ok(event) => event.raw(),
                                Err(err) => err.raw(),
                            };
                            assert!(delivery.body().contains(raw), "raw is not from the body");
                        }
                        for item in &entry.changes {
                            let raw = match item {
                                Ok(change) => change.raw(),
                                Err(err) => err.raw(),
                            };
                            assert!(delivery.body().contains(raw), "raw is not from the body");
                        }
                    }
                    Err(err) => assert!(!err.reason().is_empty()),
                }
            }
        }
    }

    if serde_json::from_slice::<IgnoredAny>(data).is_err() {
        assert!(
            parsed.is_err(),
            "accepted what serde_json's syntax check rejects"
        );
    }
    match common::reference(data) {
        None => {}
        Some(Value::Object(map)) => {
            if let (Some(Value::String(_)), Some(Value::Array(entries))) =
                (map.get("object"), map.get("entry"))
            {
                let delivery = parsed.as_ref().expect("a valid delivery was rejected");
                assert_eq!(delivery.entries().len(), entries.len(), "entry count");
            } else {
                assert!(parsed.is_err(), "accepted a body without object/entry");
            }
        }
        Some(_) => assert!(parsed.is_err(), "accepted a non-object top level"),
    }
});
