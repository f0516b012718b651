//! `Delivery::from_slice` + `classify` beside `serde_json::from_slice::<Value>` of the same
//! bytes, in the same run.
//!
//! Run with: `cargo bench --bench parse`
//! Table: `python3 scripts/bench_table.py parse value typed`
//!
//! Inputs (exact bytes of the fixtures, Meta's escaping): a ~600 B text DM, a story reply,
//! a comments change, a 50-entry batch assembled from the entries of ten messaging
//! fixtures, a WhatsApp text delivery (Meta's example shape) and a WhatsApp value with two
//! messages and two statuses. The baseline builds a generic `Value` tree and does nothing with it; the
//! subject builds the typed model *and* the normalized events (every item classified).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meta_webhooks::test_util::Corpus;
use meta_webhooks::{Delivery, classify};
use serde_json::Value;
use serde_json::value::RawValue;

fn fixture(name: &str) -> Vec<u8> {
    Corpus::new()
        .fixture(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .body()
        .to_vec()
}

/// `{"object":"instagram","entry":[…50 entries…]}`, the entries copied byte for byte from
/// several messaging fixtures (text, media, reaction, postback, story reply, echo, ...).
fn batch_of_50() -> Vec<u8> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        entry: Vec<&'a RawValue>,
    }
    let sources = [
        "text__basic",
        "media__image",
        "reaction__love_escaped",
        "postback__icebreaker",
        "story_reply__text",
        "text__meta_escapes",
        "echo__text",
        "read__ig_mid",
        "story_mention__attachment",
        "quick_reply__basic",
    ]
    .map(|name| fixture(&format!("instagram/messaging/{name}.json")));
    let entries: Vec<&str> = sources
        .iter()
        .map(|body| serde_json::from_slice::<Envelope<'_>>(body).unwrap().entry[0].get())
        .collect();
    let parts: Vec<&str> = entries.iter().copied().cycle().take(50).collect();
    format!(r#"{{"object":"instagram","entry":[{}]}}"#, parts.join(",")).into_bytes()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "text_dm",
            fixture("instagram/messaging/text__reply_to_mid.json"),
        ),
        (
            "story_reply",
            fixture("instagram/messaging/story_reply__text.json"),
        ),
        (
            "comments_change",
            fixture("instagram/changes/comment__ad_media.json"),
        ),
        ("batch", batch_of_50()),
        (
            "whatsapp_text",
            fixture("whatsapp/changes/text__no_entry_time.json"),
        ),
        (
            "whatsapp_messages_statuses",
            fixture("whatsapp/batch/mixed__messages_and_statuses.json"),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, body) in inputs() {
        // The subject must actually do the work: every item is an event.
        let events = classify(&Delivery::from_slice(&body).unwrap());
        assert!(
            !events.is_empty() && events.iter().all(Result::is_ok),
            "{name}"
        );
        let label = format!("{name}_{}B", body.len());
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("value", &label), &body, |b, body| {
            b.iter(|| black_box(serde_json::from_slice::<Value>(black_box(body)).unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("typed", &label), &body, |b, body| {
            b.iter(|| {
                let delivery = Delivery::from_slice(black_box(body)).unwrap();
                black_box(classify(&delivery))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
