//! The fixture corpus (`test_util::Corpus`): every delivery with an `.expected.json` beside
//! it is parsed and classified, projected to `{kind, sender, recipient, mid, text}` and
//! compared with the expectation (`{"error": true}` for a body rejected whole).

use meta_webhooks::payload::{ChangeItem, ChangeValue};
use meta_webhooks::test_util::{Corpus, Fixture, Outcome};
use meta_webhooks::{Delivery, classify};

/// The corpus must not silently shrink.
const MIN_FIXTURES: usize = 40;

fn fixtures() -> Vec<Fixture> {
    Corpus::new()
        .fixtures()
        .collect::<std::io::Result<_>>()
        .unwrap()
}

#[test]
fn fixture_corpus_matches_expectations() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for fixture in fixtures() {
        let Some(expected) = fixture.expected() else {
            continue;
        };
        checked += 1;
        let actual = Outcome::of(fixture.body());
        if &actual != expected {
            failures.push(format!(
                "{}\n  expected: {expected}\n  actual:   {actual}",
                fixture.name()
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
        Corpus::new().root().display()
    );
}

/// Every fixture also satisfies the invariants the expectations cannot state: one result
/// per item, raw JSON that is a slice of the body, Display without body contents.
#[test]
fn fixture_corpus_invariants() {
    for fixture in fixtures() {
        let name = fixture.name();
        match Delivery::from_slice(fixture.body()) {
            Err(error) => {
                assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
                assert!(error.to_string().len() < 80, "{name}: {error}");
            }
            Ok(delivery) => {
                let expected_items: usize = delivery
                    .entries()
                    .iter()
                    .map(|e| {
                        e.as_ref().map_or(1, |e| {
                            let changes: usize = e.changes.iter().map(change_items).sum();
                            e.messaging.len() + e.standby.len() + changes
                        })
                    })
                    .sum();
                let events = classify(&delivery);
                assert_eq!(events.len(), expected_items, "{name}");
                for result in &events {
                    let raw = match result {
                        Ok(event) => event.raw(),
                        Err(error) => error.raw(),
                    };
                    assert!(delivery.body().contains(raw), "{name}: raw not from body");
                    if let Ok(event) = result {
                        assert!(!event.dedup_key().as_str().is_empty());
                    }
                }
            }
        }
    }
}

/// How many results a change yields: one, except a WhatsApp `messages` value, which
/// yields one per message and status, or one for `errors` alone, or none.
fn change_items(change: &ChangeItem) -> usize {
    match change.as_ref().map(|c| &c.value) {
        Ok(ChangeValue::WhatsApp(value)) => {
            let items = value.messages.len() + value.statuses.len();
            if items == 0 {
                usize::from(!value.errors.is_empty())
            } else {
                items
            }
        }
        _ => 1,
    }
}

/// `tests/fixtures/README.md` lists every fixture in its directory's table (`### `dir/` (n)`
/// headings, one `` | `name` | … `` row per fixture), states each table's count and the
/// total, and lists nothing that does not exist.
#[test]
fn fixture_readme_lists_the_corpus() {
    use std::collections::BTreeSet;

    let corpus = Corpus::new();
    let readme = std::fs::read_to_string(corpus.root().join("README.md")).unwrap();

    let mut listed = BTreeSet::new();
    let mut stated_counts = Vec::new();
    let mut stated_total = None;
    let mut section: Option<(String, usize, usize)> = None; // (dir, stated, rows)
    for line in readme.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            let (dir, count) = heading
                .split_once("/` (")
                .unwrap_or_else(|| panic!("README heading not in the form ### `dir/` (n): {line}"));
            let count = count.trim_end_matches(')').parse().unwrap();
            stated_counts.extend(section.replace((dir.to_owned(), count, 0)));
        } else if line.starts_with("## ") {
            stated_counts.extend(section.take());
        } else if let Some(total) = line.strip_suffix(" deliveries.") {
            stated_total = Some(total.parse::<usize>().unwrap());
        } else if let (Some((dir, _, rows)), Some(row)) = (&mut section, line.strip_prefix("| `")) {
            let name = row.split('`').next().unwrap();
            listed.insert(format!("{dir}/{name}"));
            *rows += 1;
        }
    }
    stated_counts.extend(section);

    let actual: BTreeSet<String> = fixtures().iter().map(|f| f.name().to_owned()).collect();
    let missing: Vec<_> = actual.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&actual).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tests/fixtures/README.md is out of date:\n  not listed: {missing:?}\n  listed but missing: {extra:?}"
    );
    for (dir, stated, rows) in &stated_counts {
        assert_eq!(
            stated, rows,
            "README: `{dir}/` says ({stated}) but has {rows} rows"
        );
    }
    assert_eq!(
        stated_total,
        Some(actual.len()),
        "README: the stated total of deliveries is wrong"
    );
}
