//! Run with: `cargo run --release -p mock-graph -- [PORT]`
//! (default `0`: a free port; the bound address is printed on stdout as
//! `listening on http://127.0.0.1:PORT`). `scripts/loadtest-scaleout.sh` starts it for you.
//!
//! A tiny, fast stand-in for the Graph API's Send endpoints (Instagram and Messenger, and
//! WhatsApp Cloud API), on 127.0.0.1 only, for load tests of the example bots (point their
//! `GRAPH_API_BASE` at it). It does no checking beyond the bearer token and keeps nothing
//! but counters, so it is never the bottleneck:
//!
//! - `POST /{version}/{node}/messages` with `Authorization: Bearer …`, answered as the
//!   API that the body belongs to answers:
//!   - a WhatsApp body (`"messaging_product":"whatsapp"`) sent to a phone number id:
//!     a mark-read (`"status":"read"`, with or without a `typing_indicator`) gets `200`
//!     `{"success":true}` and counts as `whatsapp_reads`; any other (a text, an
//!     interactive message, …) gets `200` `{"messaging_product":"whatsapp","contacts":
//!     [{"input":"<to>","wa_id":"<to>"}],"messages":[{"id":"wamid.mock_<n>"}]}` and counts
//!     as `whatsapp_messages`;
//!   - any other body: `200` `{"recipient_id":"<recipient.id of the body>",
//!     "message_id":"m_mock_<n>"}`, as the Send API answers. Bodies with a `message`
//!     count as `messages`, others (a `sender_action` such as `typing_on`) as
//!     `sender_actions`.
//!
//!   Without a bearer token: `401` with a Graph error of code 190, counted as
//!   `unauthorized`.
//! - `GET /stats`: `{"messages":…,"sender_actions":…,"whatsapp_messages":…,
//!   "whatsapp_reads":…,"unauthorized":…,"other":…,"first_ms":…,"last_ms":…}` — the
//!   counters and the Unix times (milliseconds) at which the first and the last Send
//!   request arrived (`null` before the first).
//! - `GET /probes`: `{"<recipient id>": <Unix µs>, …}` — when the first message to each
//!   recipient (`recipient.id`, or a WhatsApp body's `to`) whose id starts with
//!   [`PROBE_PREFIX`] arrived (the load script sends deliveries from such senders to time
//!   replies end to end); at most [`MAX_PROBES`] are kept.
//! - anything else: `404` with a Graph-shaped error, counted as `other`.
//!
//! SIGTERM or Ctrl-C stops it; the final counters go to stderr.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Recipient ids starting with this are probes: their receipt times are kept.
const PROBE_PREFIX: &str = "99999";
/// Probe receipt times kept at most.
const MAX_PROBES: usize = 100_000;

/// What the mock counted.
#[derive(Debug)]
struct Stats {
    messages: AtomicU64,
    sender_actions: AtomicU64,
    whatsapp_messages: AtomicU64,
    whatsapp_reads: AtomicU64,
    unauthorized: AtomicU64,
    other: AtomicU64,
    /// Unix ms of the first Send request (`u64::MAX` before it).
    first_ms: AtomicU64,
    /// Unix ms of the last Send request (0 before the first).
    last_ms: AtomicU64,
    /// Probe recipient → Unix µs of its first message.
    probes: Mutex<HashMap<String, u64>>,
}

impl Stats {
    fn new() -> Self {
        Self {
            messages: AtomicU64::new(0),
            sender_actions: AtomicU64::new(0),
            whatsapp_messages: AtomicU64::new(0),
            whatsapp_reads: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            other: AtomicU64::new(0),
            first_ms: AtomicU64::new(u64::MAX),
            last_ms: AtomicU64::new(0),
            probes: Mutex::new(HashMap::new()),
        }
    }

    fn json(&self) -> Value {
        let first = self.first_ms.load(Ordering::Relaxed);
        let last = self.last_ms.load(Ordering::Relaxed);
        json!({
            "messages": self.messages.load(Ordering::Relaxed),
            "sender_actions": self.sender_actions.load(Ordering::Relaxed),
            "whatsapp_messages": self.whatsapp_messages.load(Ordering::Relaxed),
            "whatsapp_reads": self.whatsapp_reads.load(Ordering::Relaxed),
            "unauthorized": self.unauthorized.load(Ordering::Relaxed),
            "other": self.other.load(Ordering::Relaxed),
            "first_ms": (first != u64::MAX).then_some(first),
            "last_ms": (last != 0).then_some(last),
        })
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn graph_error(status: StatusCode, code: u32, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"message": message, "type": "OAuthException", "code": code,
                          "fbtrace_id": "mock"}}),
    )
}

async fn send(State(stats): State<Arc<Stats>>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > "Bearer ".len() && v.starts_with("Bearer "));
    if !bearer {
        stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token.");
    }
    let now = now_us();
    stats.first_ms.fetch_min(now / 1000, Ordering::Relaxed);
    stats.last_ms.fetch_max(now / 1000, Ordering::Relaxed);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if body.get("messaging_product").and_then(Value::as_str) == Some("whatsapp") {
        return whatsapp(&stats, &body, now);
    }
    let counter = if body.get("message").is_some() {
        &stats.messages
    } else {
        &stats.sender_actions
    };
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let recipient = body
        .get("recipient")
        .and_then(|r| r.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    probe(&stats, recipient.as_str(), now);
    json_response(
        StatusCode::OK,
        &json!({"recipient_id": recipient, "message_id": format!("m_mock_{n}")}),
    )
}

/// A WhatsApp Cloud API body: a mark-read, or a message to `to`.
fn whatsapp(stats: &Stats, body: &Value, now: u64) -> Response {
    if body.get("status").and_then(Value::as_str) == Some("read") {
        stats.whatsapp_reads.fetch_add(1, Ordering::Relaxed);
        return json_response(StatusCode::OK, &json!({"success": true}));
    }
    let n = stats.whatsapp_messages.fetch_add(1, Ordering::Relaxed);
    let to = body.get("to").cloned().unwrap_or(Value::Null);
    probe(stats, to.as_str(), now);
    json_response(
        StatusCode::OK,
        &json!({"messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": format!("wamid.mock_{n}")}]}),
    )
}

/// Keeps the receipt time of the first message to a probe recipient.
fn probe(stats: &Stats, recipient: Option<&str>, now: u64) {
    if let Some(id) = recipient.filter(|id| id.starts_with(PROBE_PREFIX)) {
        let mut probes = stats.probes.lock().unwrap_or_else(PoisonError::into_inner);
        if probes.len() < MAX_PROBES {
            probes.entry(id.to_owned()).or_insert(now);
        }
    }
}

async fn stats_handler(State(stats): State<Arc<Stats>>) -> Response {
    json_response(StatusCode::OK, &stats.json())
}

async fn probes(State(stats): State<Arc<Stats>>) -> Response {
    let probes = stats
        .probes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    json_response(StatusCode::OK, &json!(probes))
}

async fn other(State(stats): State<Arc<Stats>>) -> Response {
    stats.other.fetch_add(1, Ordering::Relaxed);
    graph_error(
        StatusCode::NOT_FOUND,
        803,
        "Unknown path (mock-graph serves POST /{version}/{node}/messages only).",
    )
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(0), |p| p.parse())?;
    let stats = Arc::new(Stats::new());
    let app = Router::new()
        .route("/{version}/{node}/messages", post(send))
        .route("/stats", get(stats_handler))
        .route("/probes", get(probes))
        .fallback(other)
        .with_state(Arc::clone(&stats));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await?;
    eprintln!("mock-graph at exit: {}", stats.json());
    Ok(())
}
