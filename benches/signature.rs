//! `Verifier::verify` beside raw HMAC-SHA256 of the same bytes, in the same run.
//!
//! Run with: `cargo bench --bench signature`
//!
//! The baseline is the bare RustCrypto computation (key schedule + update + finalize) that
//! any correct verifier must do; the ratio `verify / baseline` shows the verifier's own
//! overhead (header parsing, hex decoding, constant-time compare).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, sign};
use meta_webhooks::{AppSecret, Verifier};
use sha2::Sha256;

const SECRET: &str = "6f1d0c2e9a8b47f3b5c4d2e1f0a9b8c7";

/// A real-shaped delivery of exactly `len` bytes: one text DM whose text fills the rest,
/// with Meta's escapes in it.
fn body(len: usize) -> Vec<u8> {
    let with = |text: &str| {
        DeliveryBuilder::instagram()
            .messaging(MessagingItem::text(text))
            .build()
    };
    // Meta's escaping: `/` is written `\/`, `ä` is written `\u00e4`.
    let wire_len = |c: char| match c {
        '/' => 2,
        c if c.is_ascii() => 1,
        _ => 6,
    };
    let mut budget = len - with("").len();
    let mut text = String::new();
    for c in "hi \u{e4} / ".chars().cycle() {
        if wire_len(c) > budget {
            break;
        }
        budget -= wire_len(c);
        text.push(c);
    }
    text.extend(std::iter::repeat_n('x', budget));
    let body = with(&text).to_vec();
    assert_eq!(body.len(), len);
    body
}

fn bench(c: &mut Criterion) {
    let verifier = Verifier::new(AppSecret::new(SECRET).unwrap());
    let mut group = c.benchmark_group("signature");
    for (label, len) in [
        ("512B", 512),
        ("2KiB", 2048),
        ("16KiB", 16 * 1024),
        ("256KiB", 256 * 1024),
    ] {
        let body = body(len);
        let header = sign(SECRET, &body);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(
            BenchmarkId::new("raw_hmac_sha256", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac =
                        <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
                    mac.update(black_box(body));
                    black_box(mac.finalize().into_bytes())
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("verify", label), &body, |b, body| {
            b.iter(|| black_box(verifier.verify(black_box(body), black_box(&header)).is_ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
