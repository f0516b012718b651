//! Runs the built `inspect` binary on the fixture corpus and on signed/unsigned inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "tests assert by panicking"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use meta_webhooks::test_util::{Corpus, Outcome, sign};
use serde::Deserialize;
use serde_json::{Value, json};

const SECRET: &str = "6f1d0c2e9a8b47f3b5c4d2e1f0a9b8c7";

/// The path of the corpus fixture `name` (`"instagram/messaging/text__basic"`).
fn fixture(name: &str) -> PathBuf {
    Corpus::new().fixture(name).unwrap().path().to_owned()
}

/// The exact bytes of the corpus fixture `name`.
fn body(name: &str) -> Vec<u8> {
    Corpus::new().fixture(name).unwrap().body().to_vec()
}

fn inspect(args: &[&str], stdin: Option<&[u8]>) -> Output {
    inspect_env(args, stdin, &[])
}

fn inspect_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inspect"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // The binary may exit without reading stdin (usage errors): a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input);
    }
    child.wait_with_output().unwrap()
}

/// The whole of stdout as exactly one JSON document (serde_json refuses trailing data).
fn document(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The expectation's format: events reduced to the five projected keys; a rejected body to
/// `{"error": true}` (the `message` must be a non-empty string).
fn projected(doc: &Value) -> Outcome {
    if doc.get("error") == Some(&Value::Bool(true)) {
        assert!(
            doc["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{doc}"
        );
    }
    Outcome::deserialize(doc).unwrap_or_else(|e| panic!("{e}: {doc}"))
}

#[test]
fn every_fixture_prints_its_expected_projection() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for fixture in Corpus::new().fixtures() {
        let fixture = fixture.unwrap();
        let Some(expected) = fixture.expected() else {
            continue;
        };
        checked += 1;
        let output = inspect(&[fixture.path().to_str().unwrap()], None);
        let code = output.status.code();
        let want_code = if expected == &Outcome::Rejected {
            Some(2)
        } else {
            Some(0)
        };
        let actual = projected(&document(&output));
        if &actual != expected || code != want_code {
            failures.push(format!(
                "{}: exit {code:?} (want {want_code:?})\n  expected: {expected}\n  actual:   {actual}",
                fixture.name()
            ));
        }
    }
    assert!(checked >= 40, "only {checked} fixtures found");
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn events_carry_account_timestamp_and_error_reasons() {
    let output = inspect(
        &[fixture("instagram/edge/mixed__messaging_item_number.json")
            .to_str()
            .unwrap()],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let doc = document(&output);
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert!(events[0]["account"].is_string());
    assert!(events[0]["timestamp"].is_u64());
    assert_eq!(events[1]["kind"], "error");
    assert!(events[1]["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(events[0].get("reason").is_none());
}

#[test]
fn receipts_account_events_and_page_feed_print_their_kinds() {
    for (name, kind, sender, mid) in [
        (
            "page/messaging/delivery__mids_watermark.json",
            "delivery",
            json!("7012345678901234"),
            Value::Null,
        ),
        (
            "page/messaging/account_linking__linked.json",
            "account_linking",
            json!("5523418876609921"),
            Value::Null,
        ),
        (
            "page/messaging/policy_enforcement__warning_hyphen.json",
            "policy_enforcement",
            Value::Null,
            Value::Null,
        ),
        (
            "page/changes/comment__feed_add.json",
            "comment",
            json!("7012345678901234"),
            json!("998877665544332_1122334455667788"),
        ),
        (
            "page/changes/unreaction__feed_remove.json",
            "unreaction",
            json!("7012345678901234"),
            json!("104512345678901_998877665544332"),
        ),
        (
            "page/changes/feed__photo_add.json",
            "feed",
            json!("104512345678901"),
            json!("104512345678901_998877665544411"),
        ),
    ] {
        let output = inspect(&[fixture(name).to_str().unwrap()], None);
        assert_eq!(output.status.code(), Some(0), "{name}");
        let doc = document(&output);
        let event = &doc["events"][0];
        assert_eq!(event["kind"], kind, "{name}");
        assert_eq!(event["sender"], sender, "{name}");
        assert_eq!(event["mid"], mid, "{name}");
        assert_eq!(event["recipient"], "104512345678901", "{name}");
        assert_eq!(event["account"], "104512345678901", "{name}");
    }
}

#[test]
fn a_page_feed_event_is_timed_by_its_created_time() {
    let output = inspect(
        &[fixture("page/changes/edit__feed_comment_edited.json")
            .to_str()
            .unwrap()],
        None,
    );
    let doc = document(&output);
    let event = &doc["events"][0];
    assert_eq!(event["kind"], "edit");
    assert_eq!(event["text"], "nice \u{2013} price?");
    assert_eq!(event["source"], "changes");
    // created_time 1769870410 s, not entry.time 1769870412 s.
    assert_eq!(event["timestamp"], 1_769_870_410_000_u64);
}

#[test]
fn a_text_with_a_link_preview_prints_as_text() {
    let output = inspect(
        &[fixture("page/messaging/text__link_preview.json")
            .to_str()
            .unwrap()],
        None,
    );
    let event = &document(&output)["events"][0];
    assert_eq!(event["kind"], "text");
    assert_eq!(
        event["text"],
        "\u{bf}Lo ten\u{e9}is en talla M? https://shop.example/p/42"
    );
}

#[test]
fn a_body_with_a_byte_order_mark_is_rejected_with_the_reason() {
    let output = inspect(
        &[fixture("reject/error__utf8_bom.json").to_str().unwrap()],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let doc = document(&output);
    assert_eq!(doc["error"], true);
    assert_eq!(doc["error_kind"], "invalid_json");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("starts with a byte-order mark"),
        "{message}"
    );
}

#[test]
fn dash_reads_stdin() {
    let body = body("instagram/messaging/text__basic.json");
    let from_stdin = inspect(&["-"], Some(&body));
    let from_file = inspect(
        &[fixture("instagram/messaging/text__basic.json")
            .to_str()
            .unwrap()],
        None,
    );
    assert_eq!(from_stdin.status.code(), Some(0));
    assert_eq!(document(&from_stdin), document(&from_file));
    assert_eq!(document(&from_stdin)["events"][0]["kind"], "text");
}

#[test]
fn a_body_that_is_not_a_delivery_exits_2_with_an_error_document() {
    let output = inspect(&["-"], Some(br#"{"object":"instagram"}"#));
    assert_eq!(output.status.code(), Some(2));
    let doc = document(&output);
    assert_eq!(doc["error"], true);
    assert_eq!(doc["message"], "`entry` is missing");
    assert_eq!(doc["error_kind"], "missing_entry");
}

#[test]
fn a_valid_signature_is_accepted() {
    let body = body("instagram/messaging/story_reply__text.json");
    let header = sign(SECRET, &body);
    let output = inspect(
        &["-", "--secret", SECRET, "--signature", &header],
        Some(&body),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(document(&output)["events"][0]["kind"], "story_reply");
    // Uppercase hex is the same signature.
    let upper = format!("sha256={}", header["sha256=".len()..].to_ascii_uppercase());
    let output = inspect(
        &["-", "--signature", &upper, "--secret", SECRET],
        Some(&body),
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn the_secret_can_come_from_the_environment() {
    let body = body("instagram/messaging/text__basic.json");
    let header = sign(SECRET, &body);
    let args = [
        "-",
        "--secret-env",
        "INSPECT_TEST_SECRET",
        "--signature",
        &header,
    ];
    let ok = inspect_env(&args, Some(&body), &[("INSPECT_TEST_SECRET", SECRET)]);
    assert_eq!(ok.status.code(), Some(0));
    let wrong = inspect_env(&args, Some(&body), &[("INSPECT_TEST_SECRET", "other")]);
    assert_rejected_signature(&wrong);
    let unset = inspect_env(&args, Some(&body), &[]);
    assert_eq!(unset.status.code(), Some(1));
}

fn assert_rejected_signature(output: &Output) {
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("signature rejected: "), "{stderr:?}");
    assert!(!stderr.contains(SECRET), "the secret is never printed");
}

#[test]
fn a_rejected_signature_exits_3_with_one_line_on_stderr() {
    let body = body("instagram/messaging/text__basic.json");
    // Signed with another secret.
    let output = inspect(
        &[
            "-",
            "--secret",
            SECRET,
            "--signature",
            &sign("other", &body),
        ],
        Some(&body),
    );
    assert_rejected_signature(&output);
    // One byte of the body changed after signing.
    let header = sign(SECRET, &body);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_rejected_signature(&inspect(
        &["-", "--secret", SECRET, "--signature", &header],
        Some(&tampered),
    ));
    // Malformed header.
    assert_rejected_signature(&inspect(
        &["-", "--secret", SECRET, "--signature", "sha1=abc"],
        Some(&body),
    ));
}

#[test]
fn the_signature_is_checked_before_parsing() {
    // An invalid body with a bad signature is a signature failure (3), not a parse error (2).
    let body = body("reject/error__truncated.json");
    let output = inspect(
        &[
            "-",
            "--secret",
            SECRET,
            "--signature",
            &sign("other", &body),
        ],
        Some(&body),
    );
    assert_rejected_signature(&output);
    // The same body correctly signed gets as far as the parser.
    let output = inspect(
        &["-", "--secret", SECRET, "--signature", &sign(SECRET, &body)],
        Some(&body),
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(document(&output)["error"], true);
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        &[][..],
        &["a.json", "b.json"][..],
        &["-", "--secret", SECRET][..],
        &["-", "--signature", "sha256=00"][..],
        &["-", "--bogus"][..],
        &["/nonexistent/delivery.json"][..],
    ] {
        let output = inspect(args, Some(b"{}"));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn whatsapp_messages_and_statuses_print_one_event_each() {
    let output = inspect(
        &[fixture("whatsapp/batch/mixed__messages_and_statuses.json")
            .to_str()
            .unwrap()],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let doc = document(&output);
    assert_eq!(doc["object"], "whatsapp_business_account");
    let events = doc["events"].as_array().unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["text", "quick_reply", "status", "status"]);
    for event in events {
        assert_eq!(event["account"], "106540352242922");
        assert_eq!(event["channel"], "whatsapp");
        assert_eq!(event["source"], "changes");
        assert!(event["timestamp"].is_u64());
    }
    assert_eq!(events[0]["timestamp"], 1_769_870_412_000_u64);
    assert_eq!(events[1]["text"], "Yes");
    assert_eq!(events[2]["sender"], "106540352242922");
    assert_eq!(events[2]["recipient"], "447700900123");

    // A malformed message is an error in its place, with its reason.
    let output = inspect(
        &[fixture("whatsapp/edge/mixed__bad_ids_isolated.json")
            .to_str()
            .unwrap()],
        None,
    );
    let doc = document(&output);
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events[1]["kind"], "error");
    assert!(
        events[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid messages item")
    );
    assert_eq!(events[1]["account"], "106540352242922");
}
