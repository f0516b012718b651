//! Rejections are logged with `tracing` at `warn`, and never with a secret, a token, a
//! signature or body contents.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock};

use http::StatusCode;
use meta_webhooks::endpoint::Endpoint;
use meta_webhooks::test_util::{DeliveryBuilder, HandshakeRequest, MessagingItem, SignedRequest};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use super::{RecordingSink, SECRET, TOKEN, handshake, parts, verifier};

/// A minimal subscriber that renders every event as `LEVEL field=value …`, keeping those
/// emitted on one thread (the test's; other tests run on other threads).
///
/// It is installed as the global default: a thread-local default (`set_default`) races
/// with other tests' threads over tracing's per-callsite interest cache and can miss
/// events.
#[derive(Clone)]
struct Capture {
    lines: Arc<Mutex<Vec<(Level, String)>>>,
    thread: Arc<Mutex<Option<std::thread::ThreadId>>>,
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture {
            lines: Arc::default(),
            thread: Arc::default(),
        };
        tracing::subscriber::set_global_default(capture.clone()).unwrap();
        capture
    })
}

struct Render<'a>(&'a mut String);

impl Visit for Render<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *self.thread.lock().unwrap() != Some(std::thread::current().id()) {
            return;
        }
        let mut line = String::new();
        event.record(&mut Render(&mut line));
        self.lines
            .lock()
            .unwrap()
            .push((*event.metadata().level(), line));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn rejections_are_logged_at_warn_without_secrets() {
    let capture = capture();
    *capture.thread.lock().unwrap() = Some(std::thread::current().id());
    let endpoint = Endpoint::builder(verifier(), handshake(), RecordingSink::default()).build();

    let request = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("private words of a customer"))
        .signed(SECRET);
    let good = request.signature_value().unwrap();
    let forged = request.clone().signed_with("attacker");
    let forged_value = forged.signature_value().unwrap();
    let (headers, body) = parts(forged);
    let rejection = endpoint.deliver(&headers, body.clone()).await.unwrap_err();
    assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);

    let wrong_token = "guessed-token-value";
    let rejection = endpoint
        .handshake(&HandshakeRequest::new(wrong_token).challenge("1").query())
        .unwrap_err();
    assert_eq!(rejection.status(), StatusCode::FORBIDDEN);

    let (headers, private) = parts(SignedRequest::new(
        SECRET,
        "{\"private\": \"not a delivery\"}",
    ));
    let rejection = endpoint.deliver(&headers, private).await.unwrap_err();
    assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);

    // No header at all, and the same header twice.
    let rejection = endpoint
        .deliver_signatures([], body.clone())
        .await
        .unwrap_err();
    assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
    let rejection = endpoint
        .deliver_signatures([good.as_bytes(), good.as_bytes()], body.clone())
        .await
        .unwrap_err();
    assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);

    let lines = capture.lines.lock().unwrap().clone();
    let warns: Vec<&String> = lines
        .iter()
        .filter(|(level, _)| *level == Level::WARN)
        .map(|(_, line)| line)
        .collect();
    assert_eq!(warns.len(), 5, "{lines:?}");
    assert!(warns[0].contains("status=401") && warns[0].contains("rejection=\"signature\""));
    assert!(warns[1].contains("status=403") && warns[1].contains("rejection=\"handshake\""));
    assert!(warns[2].contains("status=400") && warns[2].contains("rejection=\"parse\""));
    assert!(
        warns[3].contains("missing X-Hub-Signature-256 header") && !warns[3].contains("prefix"),
        "{}",
        warns[3]
    );
    assert!(warns[4].contains("more than once"), "{}", warns[4]);
    for (_, line) in &lines {
        for secret in [
            SECRET,
            TOKEN,
            wrong_token,
            &good[7..],
            &forged_value[7..],
            "private",
        ] {
            assert!(!line.contains(secret), "{line} reveals {secret}");
        }
    }
}
