//! Runs the built `simulate` binary against a small loopback server that verifies each
//! POST's signature and classifies its body.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "tests assert by panicking"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use meta_webhooks::test_util::{Corpus, Outcome};
use meta_webhooks::{AppSecret, Delivery, Verifier, classify};

const SECRET: &str = "simulate-test-secret";

/// What the server saw: per request, the kinds of its events, or `"401"` when the
/// signature did not verify.
type Seen = Arc<Mutex<Vec<Vec<String>>>>;

/// Serves `POST`s on a free loopback port until the test ends; answers 200 to a verified
/// delivery and 401 otherwise.
fn server() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    let seen = Seen::default();
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let verifier = Verifier::new(AppSecret::new(SECRET).unwrap());
        for stream in listener.incoming() {
            handle(stream.unwrap(), &verifier, &record);
        }
    });
    (url, seen)
}

fn handle(stream: TcpStream, verifier: &Verifier, seen: &Seen) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = http::HeaderMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    let len: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let (status, kinds) = match verifier.verify_headers(&body, &headers) {
        Ok(_) => {
            let kinds = Outcome::of(&body)
                .kinds()
                .into_iter()
                .map(str::to_owned)
                .collect();
            // Timestamps were refreshed: every event is recent.
            if let Ok(delivery) = Delivery::from_slice(&body) {
                for event in classify(&delivery).into_iter().flatten() {
                    assert!(!event.is_older_than(Duration::from_secs(600), SystemTime::now()));
                }
            }
            ("200 OK", kinds)
        }
        Err(_) => ("401 Unauthorized", vec!["401".to_owned()]),
    };
    seen.lock().unwrap().push(kinds);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
}

fn simulate(url: &str, secret: &str, targets: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["--url", url, "--secret", secret])
        .args(targets)
        .env_remove("IG_APP_SECRET")
        .output()
        .unwrap()
}

#[test]
fn default_kinds_arrive_signed_in_order() {
    let (url, seen) = server();
    let output = simulate(&url, SECRET, &[]);
    assert!(output.status.success(), "{output:?}");
    let seen = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = seen.iter().map(|k| k[0].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "text",
            "quick_reply",
            "story_reply",
            "story_mention",
            "media",
            "comment",
            "reaction",
            "read",
            "deleted",
            "unknown",
            "echo"
        ]
    );
    assert!(seen.iter().all(|k| k.len() == 1));
}

#[test]
fn other_kinds_come_from_the_fixtures_and_files_are_sent() {
    let (url, seen) = server();
    let file = Corpus::new()
        .fixture("page/messaging/optin__notification_messages")
        .unwrap();
    let output = simulate(&url, SECRET, &["handover", file.path().to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(*seen.lock().unwrap(), [vec!["handover"], vec!["optin"]]);
}

#[test]
fn a_wrong_secret_is_refused_and_unknown_targets_fail() {
    let (url, seen) = server();
    let output = simulate(&url, "not-the-secret", &["text", "no_such_kind"]);
    assert!(!output.status.success());
    assert_eq!(*seen.lock().unwrap(), [vec!["401"]]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_such_kind"));
}

#[test]
fn whatsapp_text_button_reply_and_status_arrive() {
    let (url, seen) = server();
    let file = Corpus::new()
        .fixture("whatsapp/changes/text__no_entry_time")
        .unwrap();
    let output = simulate(&url, SECRET, &["whatsapp", file.path().to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            vec!["text"],
            vec!["quick_reply"],
            vec!["status"],
            vec!["text"]
        ]
    );
}

#[test]
fn whatsapp_deliveries_are_signed_with_the_whatsapp_secret() {
    let (url, seen) = server();
    let output = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["--url", &url, "whatsapp_text", "text"])
        .env("IG_APP_SECRET", "the-instagram-app-secret")
        .env("WA_APP_SECRET", SECRET)
        .output()
        .unwrap();
    // The WhatsApp delivery verifies with the WhatsApp secret; the Instagram one was
    // signed with the other app's secret.
    assert!(!output.status.success());
    assert_eq!(*seen.lock().unwrap(), [vec!["text"], vec!["401"]]);
}
