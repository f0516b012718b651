//! WhatsApp Cloud API error codes through the wire: their classification, `details`,
//! retries (throughput) and non-retries (undeliverable), pauses and rejected tokens.

use std::time::Duration;

use meta_webhooks::client::{GraphError, GraphErrorKind, RetryPolicy};
use meta_webhooks::payload::UserId;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::whatsapp::{assert_wa_messages_post, wa_sent, wa_user, whatsapp};
use super::{ManualClock, TOKEN, builder, requests};

/// A WhatsApp error envelope, as Meta sends it: `error_data.details` carries the precise text.
fn wa_error(code: i64, title: &str, details: &str) -> Value {
    json!({"error": {
        "message": format!("(#{code}) {title}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
    }})
}

fn wa_error_response(status: u16, code: i64, title: &str, details: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(wa_error(code, title, details))
}

/// Mounts `error` for the first `times` requests, then Meta's answer to a send.
async fn fail_then_send(server: &MockServer, times: u64, error: ResponseTemplate) {
    Mock::given(any())
        .respond_with(error)
        .up_to_n_times(times)
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(wa_sent())
        .mount(server)
        .await;
}

#[tokio::test]
async fn every_documented_code_maps_to_its_class() {
    use GraphErrorKind::*;
    let cases: &[(i64, &str, GraphErrorKind)] = &[
        (131_047, "Re-engagement message", OutsideWindow),
        (131_026, "Message Undeliverable", UserUnavailable),
        (
            131_049,
            "This message was not delivered to maintain healthy ecosystem engagement.",
            UserUnavailable,
        ),
        (
            131_050,
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
            UserUnavailable,
        ),
        (130_429, "Rate limit hit", RateLimited),
        (131_048, "Spam rate limit hit", RateLimited),
        (
            131_056,
            "(Business Account, Consumer Account) pair rate limit hit",
            RateLimited,
        ),
        (0, "AuthException", Auth),
        (190, "Access token has expired", Auth),
        (131_005, "Access denied", Permission),
        (
            131_030,
            "Recipient phone number not in allowed list",
            Permission,
        ),
        (131_008, "Required parameter is missing", InvalidParameter),
        (131_009, "Parameter value is not valid", InvalidParameter),
        (131_021, "Recipient cannot be sender", InvalidParameter),
        (131_051, "Unsupported message type", InvalidParameter),
        (131_053, "Media upload error", InvalidParameter),
        (
            132_000,
            "Number of parameters does not match the expected number of params",
            InvalidParameter,
        ),
        (
            132_001,
            "Template name does not exist in the translation",
            InvalidParameter,
        ),
        (
            132_012,
            "Parameter format does not match format in the created template",
            InvalidParameter,
        ),
        (135_000, "Generic user error", InvalidParameter),
        (131_000, "Something went wrong", Transient),
        (131_016, "Service unavailable", Transient),
        (131_057, "Account in maintenance mode", Transient),
        (368, "Temporarily blocked for policies violations", Other),
        (131_031, "Business Account locked", Other),
        (131_042, "Business eligibility payment issue", Other),
        (132_015, "Template is Paused", Other),
        (132_016, "Template is Disabled", Other),
        (133_010, "Phone number Not Registered", Other),
    ];
    for &(code, title, kind) in cases {
        let server = MockServer::start().await;
        let details = format!("Details for {code}.");
        Mock::given(any())
            .respond_with(wa_error_response(400, code, title, &details))
            .mount(&server)
            .await;
        let client = builder(&server)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = whatsapp(&client)
            .send_text(&wa_user(), "hi")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{code}: {err}");
        assert_eq!(err.is_retryable(), kind.is_retryable(), "{code}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
        let body = err.error_body().unwrap();
        assert_eq!(body.code, Some(code));
        assert_eq!(body.details.as_deref(), Some(details.as_str()), "{code}");
        assert_eq!(body.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
        let text = err.to_string();
        assert!(text.contains(&details), "details in Display: {text}");
        assert!(!text.contains(TOKEN) && !text.contains("http"), "{text}");
        assert_eq!(requests(&server).await.len(), 1, "{code}");
    }
}

#[tokio::test]
async fn undeliverable_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(wa_error_response(
            400,
            131_026,
            "Message Undeliverable",
            "Message Undeliverable.",
        ))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = whatsapp(&client)
        .send_text(&wa_user(), "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::UserUnavailable);
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(client.retry_count(), 0);
}

#[tokio::test]
async fn throughput_limit_is_retried_and_delivers_once() {
    let server = MockServer::start().await;
    fail_then_send(
        &server,
        2,
        wa_error_response(
            400,
            130_429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        )
        .insert_header("retry-after", "0"),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let sent = whatsapp(&client).send_text(&wa_user(), "hi").await.unwrap();
    assert!(sent.message_id.as_str().starts_with("wamid."));
    let all = requests(&server).await;
    assert_eq!(all.len(), 3);
    for request in &all {
        assert_eq!(assert_wa_messages_post(request)["text"]["body"], "hi");
    }
    assert_eq!(client.retry_count(), 2);
}

#[tokio::test]
async fn throughput_limit_without_a_delay_pauses_the_number_for_a_second() {
    let server = MockServer::start().await;
    fail_then_send(
        &server,
        1,
        wa_error_response(
            400,
            130_429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
    )
    .await;
    let clock = ManualClock::new();
    let client = builder(&server)
        .clock(clock.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let wa = whatsapp(&client);
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(wa.status().paused_until.is_some());
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert!(matches!(err, GraphError::AccountPaused(_)));
    assert_eq!(requests(&server).await.len(), 1);
    clock.advance(Duration::from_secs(1));
    wa.send_text(&wa_user(), "hi").await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn pair_rate_limit_waits_for_that_person_only() {
    let server = MockServer::start().await;
    let pair_limit = wa_error_response(
        400,
        131_056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
    );
    fail_then_send(&server, 1, pair_limit).await;
    let client = builder(&server).build().unwrap();
    let wa = whatsapp(&client);
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::RateLimited);
    assert!(err.is_retryable());
    // About one message every 6 seconds to one person: longer than this test's retry
    // budget, so the error is returned with the delay instead of slept on.
    assert_eq!(err.retry_after(), Some(Duration::from_secs(6)));
    assert_eq!(requests(&server).await.len(), 1);
    // The number is not paused: another person is messaged right away.
    assert!(wa.status().paused_until.is_none());
    wa.send_text(&UserId::new("447700900123"), "hi")
        .await
        .unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn auth_errors_mark_the_token_and_the_details_are_scrubbed() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(wa_error_response(
            401,
            0,
            "AuthException",
            &format!("We were unable to authenticate the app user with token {TOKEN}."),
        ))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let wa = whatsapp(&client);
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Auth);
    let details = err.error_body().unwrap().details.clone().unwrap();
    assert!(!details.contains(TOKEN), "{details}");
    assert!(details.contains("[redacted]"), "{details}");
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(
        client.accounts_needing_new_token(),
        vec![wa.phone_number_id().clone()]
    );
    // The same token fails fast.
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert!(matches!(err, GraphError::TokenRejected(_)));
    assert_eq!(requests(&server).await.len(), 1);
}
