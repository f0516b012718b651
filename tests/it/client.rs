//! The Send/Graph API client against a local mock server (wiremock): exact requests,
//! error classification, retries, account pauses and the media fetcher.

mod errors;
mod media;
mod send;
mod setup;
mod token;
mod whatsapp;
mod whatsapp_errors;
mod whatsapp_media;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use meta_webhooks::AccessToken;
use meta_webhooks::client::{Account, Clock, GraphClient, GraphClientBuilder, RetryPolicy};
use meta_webhooks::payload::{AccountId, UserId};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCOUNT: &str = "17841400000000000";
const OTHER_ACCOUNT: &str = "17841400000000001";
const TOKEN: &str = "EAAGtestTOKEN0123456789";
const USER: &str = "6934581207719432";

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_000_000),
        )))
    }

    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Millisecond backoff so that retry tests do not wait.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
        .with_budget(Duration::from_secs(5))
}

fn builder(server: &MockServer) -> GraphClientBuilder {
    GraphClient::builder()
        .base_url(server.uri())
        .retry_policy(fast_retries())
        .timeout(Duration::from_secs(5))
}

fn account(client: &GraphClient) -> Account {
    client.account(AccountId::new(ACCOUNT), AccessToken::new(TOKEN).unwrap())
}

fn user() -> UserId {
    UserId::new(USER)
}

/// Answers every request with `response`.
async fn answer(server: &MockServer, response: ResponseTemplate) {
    Mock::given(any())
        .respond_with(response)
        .mount(server)
        .await;
}

fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Every request the server saw, each checked for token hygiene: the token only in
/// `Authorization: Bearer`, never in the URL.
async fn requests(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.unwrap();
    for request in &requests {
        let url = request.url.as_str();
        assert!(
            !url.contains("access_token"),
            "token parameter in URL: {url}"
        );
        assert!(!url.contains(TOKEN), "token in URL: {url}");
        let auth = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap());
        assert!(
            auth.is_some_and(|a| a.starts_with("Bearer ")),
            "Authorization header: {auth:?}"
        );
    }
    requests
}

/// The single request the server saw.
async fn only_request(server: &MockServer) -> Request {
    let mut all = requests(server).await;
    assert_eq!(
        all.len(),
        1,
        "expected exactly one request, got {}",
        all.len()
    );
    all.pop().unwrap()
}

/// Checks a JSON `POST /v25.0/{ACCOUNT}/messages` and returns its body.
fn assert_messages_post(request: &Request) -> Value {
    assert_json_post(request, &format!("/v25.0/{ACCOUNT}/messages"))
}

/// Checks a JSON `POST` to `path` (no query, the bearer token, JSON in and out) and returns
/// its body.
fn assert_json_post(request: &Request, path: &str) -> Value {
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), path);
    assert_eq!(request.url.query(), None);
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(request.headers.get("accept").unwrap(), "application/json");
    serde_json::from_slice(&request.body).unwrap()
}
