//! Escalation notifications against a local webhook server.

use std::time::Duration;

use bot_kit::notify::{DEFAULT_TIMEOUT, NotifyErrorKind};
use bot_kit::{Escalation, Notifier, Secret};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOOK_PATH: &str = "/services/T000/B000/SeCrEtHoOk";

fn escalation() -> Escalation {
    Escalation::new("17841400000000000", "6934581207719432", "human_handoff")
        .with_last_message("Quiero hablar con una persona, por favor")
}

#[tokio::test]
async fn posts_a_slack_compatible_body_naming_account_and_user() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "text": "Conversation handed to a human: account 17841400000000000, user \
                     6934581207719432 (reason: human_handoff). Last message: \"Quiero hablar \
                     con una persona, por favor\". Resolve with POST \
                     /admin/conversations/17841400000000000/6934581207719432/resolve"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let notifier = Notifier::new(
        Some(Secret::new(format!("{}{HOOK_PATH}", server.uri()))),
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    assert!(notifier.is_enabled());
    assert!(notifier.escalation(&escalation()).await.unwrap());

    let requests = server.received_requests().await.unwrap();
    let body: serde_json::Value = requests[0].body_json().unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "only `text`");
    assert!(requests[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn an_error_status_is_reported_without_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&server)
        .await;
    let notifier = Notifier::new(
        Some(Secret::new(format!("{}{HOOK_PATH}", server.uri()))),
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    let err = notifier.escalation(&escalation()).await.unwrap_err();
    assert_eq!(err.kind(), NotifyErrorKind::Status);
    assert_eq!(err.status(), Some(404));
    let shown = format!("{err} {err:?} {notifier:?}");
    assert!(!shown.contains("SeCrEtHoOk"), "{shown}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let notifier = Notifier::new(
        Some(Secret::new(format!("{}{HOOK_PATH}", server.uri()))),
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    let err = notifier.escalation(&escalation()).await.unwrap_err();
    assert_eq!(err.status(), Some(307));
}

#[tokio::test]
async fn a_slow_webhook_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let notifier = Notifier::new(
        Some(Secret::new(format!("{}{HOOK_PATH}", server.uri()))),
        Duration::from_millis(300),
    )
    .unwrap();
    let err = notifier.escalation(&escalation()).await.unwrap_err();
    assert_eq!(err.kind(), NotifyErrorKind::Timeout, "{err}");
    assert!(err.is_timeout());
    assert!(!err.to_string().contains("SeCrEtHoOk"));
}
