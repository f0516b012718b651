//! [`GraphMock`]: a scriptable, recording mock of the Graph API.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the mock answers to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphAnswer {
    status: u16,
    body: AnswerBody,
    delay: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum AnswerBody {
    /// `{"recipient_id": …, "message_id": "m_sent_<n>"}`.
    Sent,
    Json(Value),
    Raw(&'static str),
    Empty,
}

impl GraphAnswer {
    /// `200` with `{"recipient_id": <the request's recipient>, "message_id": "m_sent_<n>"}`.
    pub fn ok() -> Self {
        Self {
            status: 200,
            body: AnswerBody::Sent,
            delay: Duration::ZERO,
        }
    }

    /// `500` with a Graph error envelope Meta marks as temporary (`code 2`,
    /// `is_transient: true`): the client retries it.
    pub fn transient() -> Self {
        Self::envelope(
            500,
            json!({"message": "An unexpected error has occurred. Please retry your request later.",
                   "type": "OAuthException", "code": 2, "is_transient": true,
                   "fbtrace_id": "AfaultsTransient"}),
        )
    }

    /// A 5xx (e.g. `502`) with an HTML body and no Graph envelope, as a proxy answers: the
    /// outcome of a send is unknown, so it is never retried.
    pub fn server_error_without_envelope(status: u16) -> Self {
        Self {
            status,
            body: AnswerBody::Raw("<html><body><h1>502 Bad Gateway</h1></body></html>"),
            delay: Duration::ZERO,
        }
    }

    /// `429` with an empty body and no `Retry-After` (so no account pause): rate limited,
    /// retried.
    pub fn too_many_requests() -> Self {
        Self {
            status: 429,
            body: AnswerBody::Empty,
            delay: Duration::ZERO,
        }
    }

    /// `400` with a Graph rate-limit code (`4`, `17`, `32`, `613`, `80000`–`80014`):
    /// retried.
    pub fn rate_limited(code: i64) -> Self {
        Self::graph_error(400, code, None, "(#4) Application request limit reached")
    }

    /// `400` with code `190` (subcode `463`, "Session has expired"): the account's token
    /// is no longer valid.
    pub fn token_expired() -> Self {
        Self::graph_error(
            400,
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        )
    }

    /// `status` with a Graph error envelope of `code` (and `subcode`).
    pub fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Self {
        let mut error = json!({"message": message, "type": "OAuthException", "code": code,
                               "fbtrace_id": "AfaultsError"});
        if let Some(subcode) = subcode {
            error["error_subcode"] = json!(subcode);
        }
        Self::envelope(status, error)
    }

    fn envelope(status: u16, error: Value) -> Self {
        Self {
            status,
            body: AnswerBody::Json(json!({ "error": error })),
            delay: Duration::ZERO,
        }
    }

    /// The same answer, sent after `delay`.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The delay before the answer.
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// The label of the [endpoint](GraphMock::endpoint) it arrived at (one per process).
    pub endpoint: String,
    /// When it arrived.
    pub at: Instant,
    /// When its answer was sent (`at` plus the scripted delay).
    pub answered_at: Instant,
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/v25.0/17841405793187218/messages`.
    pub path: String,
    /// The bearer token of its `Authorization` header (empty without one).
    pub token: String,
    /// The JSON body (`Null` if it was not JSON).
    pub body: Value,
    /// `recipient.id` or `recipient.comment_id` of the body (empty without one).
    pub recipient: String,
    /// The status the mock answered.
    pub status: u16,
}

impl GraphRequest {
    /// Whether the mock answered `2xx`.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `message.text` of the body.
    pub fn text(&self) -> Option<&str> {
        self.body["message"]["text"].as_str()
    }

    /// Whether it is a Send API call (`…/messages`).
    pub fn is_send(&self) -> bool {
        self.path.ends_with("/messages")
    }
}

#[derive(Debug)]
struct State {
    requests: Vec<GraphRequest>,
    by_token: HashMap<String, GraphAnswer>,
    by_recipient: HashMap<String, VecDeque<GraphAnswer>>,
    fallback: GraphAnswer,
    sent: u64,
}

/// A mock Graph API whose answers are scripted per recipient, per token or for everything,
/// and which records every request it receives.
///
/// Each bot process gets its own [`endpoint`](GraphMock::endpoint) (a separate loopback
/// server sharing the script and the record), so every recorded request says which
/// process sent it.
///
/// ```no_run
/// # async fn t() {
/// use bot_harness::faults::{GraphAnswer, GraphMock};
///
/// let graph = GraphMock::new();
/// let base = graph.endpoint("worker-1").await; // GRAPH_API_BASE of one bot process
/// graph.script("1001", [GraphAnswer::transient(), GraphAnswer::ok()]);
/// graph.script_token("token-a", GraphAnswer::token_expired());
/// // … run the bot …
/// assert_eq!(graph.to("1001").len(), 2);
/// # }
/// ```
#[derive(Debug)]
pub struct GraphMock {
    state: Arc<Mutex<State>>,
    servers: tokio::sync::Mutex<Vec<MockServer>>,
}

impl Default for GraphMock {
    fn default() -> Self {
        Self::new()
    }
}

impl GraphMock {
    /// A mock with no endpoint yet that answers [`GraphAnswer::ok`] to everything.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                requests: Vec::new(),
                by_token: HashMap::new(),
                by_recipient: HashMap::new(),
                fallback: GraphAnswer::ok(),
                sent: 0,
            })),
            servers: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// Starts one more loopback server answering from the shared script; its requests are
    /// recorded with `label`. Returns its base URL (`http://127.0.0.1:<port>`), the
    /// `GRAPH_API_BASE` of one bot process.
    pub async fn endpoint(&self, label: &str) -> String {
        let server = MockServer::builder().start().await;
        Mock::given(any())
            .respond_with(Responder {
                label: label.to_owned(),
                state: Arc::clone(&self.state),
            })
            .mount(&server)
            .await;
        let uri = server.uri();
        self.servers.lock().await.push(server);
        uri
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answers to the next requests for `recipient`, in order (then the default).
    pub fn script(&self, recipient: &str, answers: impl IntoIterator<Item = GraphAnswer>) {
        self.lock()
            .by_recipient
            .entry(recipient.to_owned())
            .or_default()
            .extend(answers);
    }

    /// The answer to every request carrying `token` (before any per-recipient script).
    pub fn script_token(&self, token: &str, answer: GraphAnswer) {
        self.lock().by_token.insert(token.to_owned(), answer);
    }

    /// The answer to requests without a script (initially [`GraphAnswer::ok`]).
    pub fn set_default(&self, answer: GraphAnswer) {
        self.lock().fallback = answer;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<GraphRequest> {
        self.lock().requests.clone()
    }

    /// The Send API requests addressed to `recipient`.
    pub fn to(&self, recipient: &str) -> Vec<GraphRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.is_send() && r.recipient == recipient)
            .cloned()
            .collect()
    }

    /// Successful Send API requests per recipient.
    pub fn delivered(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in self.lock().requests.iter() {
            if request.is_send() && request.succeeded() {
                *counts.entry(request.recipient.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Waits (polling, up to `within`) until `done` holds for the requests so far; panics
    /// with `what` and a summary otherwise.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&[GraphRequest]) -> bool,
    ) -> Vec<GraphRequest> {
        let deadline = Instant::now() + within;
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}: {} Graph requests so far",
                requests.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every recipient in `recipients` got at least one successful send.
    pub async fn wait_delivered<'a>(
        &self,
        recipients: impl IntoIterator<Item = &'a str>,
        within: Duration,
    ) {
        let wanted: Vec<&str> = recipients.into_iter().collect();
        let deadline = Instant::now() + within;
        loop {
            let delivered = self.delivered();
            let missing: Vec<&&str> = wanted
                .iter()
                .filter(|r| !delivered.contains_key(**r))
                .collect();
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {within:?}: {} of {} recipients got no reply, e.g. {:?}",
                missing.len(),
                wanted.len(),
                missing.iter().take(10).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Responder {
    label: String,
    state: Arc<Mutex<State>>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let at = Instant::now();
        let token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let recipient = body["recipient"]["id"]
            .as_str()
            .or_else(|| body["recipient"]["comment_id"].as_str())
            .unwrap_or_default()
            .to_owned();
        let path = request.url.path().to_owned();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = if !path.ends_with("/messages") {
            GraphAnswer::graph_error(404, 803, None, "Unknown path components")
        } else if let Some(answer) = state.by_token.get(&token) {
            answer.clone()
        } else if let Some(answer) = state
            .by_recipient
            .get_mut(&recipient)
            .and_then(VecDeque::pop_front)
        {
            answer
        } else {
            state.fallback.clone()
        };
        let template = ResponseTemplate::new(answer.status).set_delay(answer.delay);
        let template = match &answer.body {
            AnswerBody::Sent => {
                let n = state.sent;
                state.sent += 1;
                template.set_body_json(
                    json!({"recipient_id": recipient, "message_id": format!("m_sent_{n}")}),
                )
            }
            AnswerBody::Json(value) => template.set_body_json(value),
            AnswerBody::Raw(text) => template.set_body_raw(text.as_bytes(), "text/html"),
            AnswerBody::Empty => template,
        };
        state.requests.push(GraphRequest {
            endpoint: self.label.clone(),
            at,
            answered_at: at + answer.delay,
            method: request.method.to_string(),
            path,
            token,
            body,
            recipient,
            status: answer.status,
        });
        template
    }
}
