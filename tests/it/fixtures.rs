//! Fixture corpus harness (spec §7): every `tests/fixtures/**/NAME.json` with a
//! `NAME.expected.json` beside it is parsed and classified, each result projected to
//! `{kind, sender, recipient, mid, text}` and compared with the expectation:
//! `{"object": "...", "events": [...]}`, or `{"error": true}` for a body rejected whole.
//! `tests/fixtures/signatures/` holds signature vectors, not deliveries, and is skipped.

use std::fs;
use std::path::{Path, PathBuf};

use meta_webhooks::{Delivery, classify};
use serde_json::{Value, json};

/// The corpus must not silently shrink.
const MIN_FIXTURES: usize = 40;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "signatures") {
                continue;
            }
            collect(&path, out);
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
            && name.ends_with(".json")
            && !name.ends_with(".expected.json")
        {
            out.push(path);
        }
    }
}

fn expected_path(fixture: &Path) -> PathBuf {
    let name = fixture.file_name().unwrap().to_str().unwrap();
    let stem = name.strip_suffix(".json").unwrap();
    fixture.with_file_name(format!("{stem}.expected.json"))
}

/// What our parser says about `body`, in the expectation's format.
fn actual(body: &[u8]) -> Value {
    match Delivery::from_slice(body) {
        Err(_) => json!({ "error": true }),
        Ok(delivery) => {
            let events: Vec<Value> = classify(&delivery)
                .iter()
                .map(|result| {
                    let n = match result {
                        Ok(event) => event.normalized(),
                        Err(error) => error.normalized(),
                    };
                    json!({
                        "kind": n.kind,
                        "sender": n.sender,
                        "recipient": n.recipient,
                        "mid": n.mid,
                        "text": n.text,
                    })
                })
                .collect();
            json!({ "object": delivery.object().as_str(), "events": events })
        }
    }
}

#[test]
fn fixture_corpus_matches_expectations() {
    let mut fixtures = Vec::new();
    collect(&fixtures_dir(), &mut fixtures);
    let root = fixtures_dir();
    let mut checked = 0;
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let expected_path = expected_path(fixture);
        if !expected_path.exists() {
            continue;
        }
        checked += 1;
        let name = fixture.strip_prefix(&root).unwrap().display().to_string();
        let body = fs::read(fixture).unwrap();
        let expected: Value = serde_json::from_slice(&fs::read(&expected_path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let actual = actual(&body);
        if actual != expected {
            failures.push(format!(
                "{name}\n  expected: {expected}\n  actual:   {actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures mismatch:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked >= MIN_FIXTURES,
        "only {checked} fixtures with expectations found under {} (want ≥ {MIN_FIXTURES})",
        root.display()
    );
}

/// Every fixture also satisfies the invariants the expectations cannot state: one result
/// per item, raw JSON that is a slice of the body, Display without body contents.
#[test]
fn fixture_corpus_invariants() {
    let mut fixtures = Vec::new();
    collect(&fixtures_dir(), &mut fixtures);
    for fixture in &fixtures {
        let body = fs::read(fixture).unwrap();
        match Delivery::from_slice(&body) {
            Err(error) => {
                assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
                assert!(
                    error.to_string().len() < 80,
                    "{}: {error}",
                    fixture.display()
                );
            }
            Ok(delivery) => {
                let expected_items: usize = delivery
                    .entries()
                    .iter()
                    .map(|e| {
                        e.as_ref()
                            .map_or(1, |e| e.messaging.len() + e.standby.len() + e.changes.len())
                    })
                    .sum();
                let events = classify(&delivery);
                assert_eq!(events.len(), expected_items, "{}", fixture.display());
                for result in &events {
                    let raw = match result {
                        Ok(event) => event.raw(),
                        Err(error) => error.raw(),
                    };
                    assert!(
                        delivery.body().contains(raw),
                        "{}: raw not from body",
                        fixture.display()
                    );
                    if let Ok(event) = result {
                        assert!(!event.dedup_key().as_str().is_empty());
                    }
                }
            }
        }
    }
}
