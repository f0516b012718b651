//! Runs the example binary against a real `redis-server` on a free loopback port and
//! sees a signed delivery acknowledged and handled.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests assert by panicking"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, RedisServer, SignedRequest};

const SECRET: &str = "redis-axum-example-secret";

/// Kills the example when the test ends, however it ends.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `request` as one HTTP/1.1 request and returns the status code.
fn post(port: u16, request: &SignedRequest) -> u16 {
    let body = request.body();
    let signature = request.signature_value().unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

#[test]
fn a_signed_delivery_is_stored_then_handled() {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-axum"))
        .env("REDIS_URL", redis.url())
        .env("APP_SECRET", SECRET)
        .env("VERIFY_TOKEN", "redis-axum-token")
        .env("LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _example = Example(child);
    let (lines, output) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |prefix: &str| loop {
        let line = output
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no line starting with {prefix:?}"));
        if line.starts_with(prefix) {
            return line;
        }
    };
    wait_for("listening on");

    let hello = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("hello from the test").mid("m-example-1"))
        .signed(SECRET);
    assert_eq!(
        post(port, &hello.clone().signature("sha256=00")),
        401,
        "a bad signature is refused"
    );
    assert_eq!(post(port, &hello), 200);
    let handled = wait_for("handled");
    assert_eq!(
        handled,
        format!(
            "handled text from {}: hello from the test",
            DeliveryBuilder::INSTAGRAM_USER
        )
    );
    // Meta's redelivery of the same event is acknowledged and not handled again.
    assert_eq!(post(port, &hello), 200);
    let second = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("second").mid("m-example-2"))
        .signed(SECRET);
    assert_eq!(post(port, &second), 200);
    assert_eq!(
        wait_for("handled"),
        format!(
            "handled text from {}: second",
            DeliveryBuilder::INSTAGRAM_USER
        ),
        "the redelivery was skipped, the next event handled"
    );
}
