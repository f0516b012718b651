//! Error classification, retries without double sends, outcome-unknown accounting and
//! account pauses, against a mock server.

use std::time::Duration;

use meta_webhooks::AccessToken;
use meta_webhooks::client::{
    GraphClient, GraphError, GraphErrorKind, RetryPolicy, TransportStage, UnknownReason, UseCase,
};
use meta_webhooks::payload::AccountId;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{
    ACCOUNT, ManualClock, OTHER_ACCOUNT, TOKEN, USER, account, answer, assert_messages_post,
    builder, ok_json, requests, user,
};

fn envelope(code: i64, subcode: Option<i64>, extra: Value) -> Value {
    let mut error = json!({
        "message": format!("(#{code}) something"),
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC123xyz"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if let Value::Object(extra) = extra {
        error.as_object_mut().unwrap().extend(extra);
    }
    json!({ "error": error })
}

fn sent() -> ResponseTemplate {
    ok_json(json!({"recipient_id": USER, "message_id": "mid.1"}))
}

#[tokio::test]
async fn classification_table_through_the_wire() {
    use GraphErrorKind::*;
    let cases: &[(u16, Option<Value>, GraphErrorKind, bool)] = &[
        (
            400,
            Some(envelope(10, Some(2_018_278), json!({}))),
            OutsideWindow,
            false,
        ),
        (
            400,
            Some(envelope(10, Some(2_534_022), json!({}))),
            OutsideWindow,
            false,
        ),
        (400, Some(envelope(4, None, json!({}))), RateLimited, true),
        (400, Some(envelope(17, None, json!({}))), RateLimited, true),
        (400, Some(envelope(32, None, json!({}))), RateLimited, true),
        (
            400,
            Some(envelope(613, Some(2_534_040), json!({}))),
            RateLimited,
            true,
        ),
        (
            400,
            Some(envelope(613, Some(2_018_338), json!({}))),
            Other,
            false,
        ),
        (
            400,
            Some(envelope(80_002, None, json!({}))),
            RateLimited,
            true,
        ),
        (
            400,
            Some(envelope(80_006, None, json!({}))),
            RateLimited,
            true,
        ),
        (401, Some(envelope(190, Some(460), json!({}))), Auth, false),
        (
            400,
            Some(envelope(551, Some(1_545_041), json!({}))),
            UserUnavailable,
            false,
        ),
        (
            400,
            Some(envelope(100, Some(2_018_001), json!({}))),
            InvalidParameter,
            false,
        ),
        (
            403,
            Some(envelope(200, Some(2_534_041), json!({}))),
            Permission,
            false,
        ),
        (
            500,
            Some(envelope(2, None, json!({"is_transient": true}))),
            Transient,
            true,
        ),
        (500, Some(envelope(1, None, json!({}))), Transient, true),
        (
            400,
            Some(envelope(2_018_300, None, json!({}))),
            Other,
            false,
        ),
        (429, None, RateLimited, true),
        (400, None, Other, false),
        (502, None, OutcomeUnknown, false),
    ];
    for (status, body, kind, retryable) in cases {
        let server = MockServer::start().await;
        let response = match body {
            Some(body) => ResponseTemplate::new(*status).set_body_json(body),
            None => ResponseTemplate::new(*status).set_body_string("<html>error</html>"),
        };
        answer(&server, response).await;
        // One attempt, so that every case is one request.
        let client = builder(&server)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = account(&client).send_text(&user(), "hi").await.unwrap_err();
        assert_eq!(err.kind(), *kind, "HTTP {status} {body:?}: {err}");
        assert_eq!(err.is_retryable(), *retryable, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(*status));
        assert!(!err.is_local());
        if let Some(body) = body {
            let graph = err.error_body().unwrap();
            assert_eq!(graph.code, body["error"]["code"].as_i64());
            assert_eq!(graph.error_subcode, body["error"]["error_subcode"].as_i64());
            assert_eq!(graph.fbtrace_id.as_deref(), Some("AbC123xyz"));
            assert_eq!(graph.error_type.as_deref(), Some("OAuthException"));
            assert!(err.to_string().contains("AbC123xyz"), "{err}");
        } else {
            assert!(err.error_body().is_none());
        }
        assert_eq!(requests(&server).await.len(), 1);
    }
}

#[tokio::test]
async fn transient_5xx_then_success_delivers_exactly_once() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500).set_body_json(envelope(
            2,
            None,
            json!({"message": "An unexpected error has occurred. Please retry your request later.", "is_transient": true}),
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(sent()).mount(&server).await;
    let client = builder(&server).build().unwrap();

    let sent = account(&client).send_text(&user(), "once").await.unwrap();
    assert_eq!(sent.message_id.unwrap(), "mid.1");
    let all = requests(&server).await;
    assert_eq!(all.len(), 2, "one failed attempt, one delivery");
    assert_eq!(
        all[0].body, all[1].body,
        "the retry resends the same request"
    );
    assert_eq!(assert_messages_post(&all[1])["message"]["text"], "once");
    assert_eq!(client.retry_count(), 1);
    assert_eq!(client.outcome_unknown_count(), 0);
}

#[tokio::test]
async fn http_429_then_success_delivers_exactly_once() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(sent()).mount(&server).await;
    let client = builder(&server).build().unwrap();
    account(&client).send_text(&user(), "once").await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
    assert_eq!(client.retry_count(), 1);
}

#[tokio::test]
async fn rate_limit_code_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(envelope(613, None, json!({}))))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(sent()).mount(&server).await;
    let client = builder(&server).build().unwrap();
    account(&client).send_text(&user(), "x").await.unwrap();
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(503).set_body_json(envelope(2, None, json!({}))),
    )
    .await;
    let client = builder(&server)
        .retry_policy(super::fast_retries().with_max_attempts(4))
        .build()
        .unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert!(err.kind() == GraphErrorKind::Transient);
    assert_eq!(requests(&server).await.len(), 4);
    assert_eq!(client.retry_count(), 3);
}

#[tokio::test]
async fn terminal_errors_are_not_retried() {
    for body in [
        envelope(100, None, json!({})),
        envelope(10, Some(2_018_278), json!({})),
        envelope(551, None, json!({})),
        envelope(200, None, json!({})),
        envelope(368, None, json!({})),
    ] {
        let server = MockServer::start().await;
        answer(&server, ResponseTemplate::new(400).set_body_json(&body)).await;
        let client = builder(&server).build().unwrap();
        let err = account(&client).send_text(&user(), "x").await.unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert_eq!(requests(&server).await.len(), 1, "{body}");
        assert_eq!(client.retry_count(), 0);
    }
}

#[tokio::test]
async fn server_error_without_envelope_is_outcome_unknown_and_not_retried() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert!(err.kind() == GraphErrorKind::OutcomeUnknown);
    assert!(!err.is_retryable());
    assert!(matches!(
        err,
        GraphError::OutcomeUnknown(ref o) if o.reason == UnknownReason::ServerError(http::StatusCode::BAD_GATEWAY)
    ));
    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(client.outcome_unknown_count(), 1);
}

#[tokio::test]
async fn timeout_after_sending_is_outcome_unknown_and_counted() {
    let server = MockServer::start().await;
    answer(&server, sent().set_delay(Duration::from_secs(3))).await;
    let client = builder(&server)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert!(matches!(
        err,
        GraphError::OutcomeUnknown(ref o) if o.reason == UnknownReason::Timeout
    ));
    assert_eq!(err.kind(), GraphErrorKind::OutcomeUnknown);
    assert_eq!(requests(&server).await.len(), 1, "never retried blindly");
    assert_eq!(client.outcome_unknown_count(), 1);
    assert_eq!(client.retry_count(), 0);
}

#[tokio::test]
async fn read_timeouts_and_5xx_are_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_string("unavailable"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok_json(json!({"username": "ana"})).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok_json(json!({"username": "ana"})))
        .mount(&server)
        .await;
    let client = builder(&server)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let profile = account(&client).user_profile(&user()).await.unwrap();
    assert_eq!(profile.username.as_deref(), Some("ana"));
    assert_eq!(requests(&server).await.len(), 3);
    assert_eq!(
        client.outcome_unknown_count(),
        0,
        "reads have no unknown outcome"
    );
}

#[tokio::test]
async fn connect_errors_are_retried_and_reported_as_not_sent() {
    // A port with nothing listening: every connection is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = GraphClient::builder()
        .base_url(&base)
        .retry_policy(super::fast_retries().with_max_attempts(3))
        .build()
        .unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert!(
        matches!(err, GraphError::Transport(ref t) if t.stage == TransportStage::Connect),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(client.retry_count(), 2);
    assert_eq!(client.outcome_unknown_count(), 0);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(&base), "no URL in errors: {shown}");
    assert!(!shown.contains(TOKEN));
}

#[tokio::test]
async fn errors_never_contain_the_token_or_the_url() {
    let server = MockServer::start().await;
    let body = json!({"error": {
        "message": format!("Malformed access token {TOKEN}"),
        "type": "OAuthException",
        "code": 190,
        "error_user_msg": format!("token {TOKEN} is invalid"),
        "fbtrace_id": "T"
    }});
    answer(&server, ResponseTemplate::new(400).set_body_json(body)).await;
    let client = builder(&server).build().unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains(&server.uri()), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[tokio::test]
async fn rejected_token_marks_the_account_and_fails_fast_until_a_new_token() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_json(envelope(190, Some(463), json!({}))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(sent()).mount(&server).await;
    let client = builder(&server).build().unwrap();
    let acc = account(&client);
    let err = acc.send_text(&user(), "x").await.unwrap_err();
    assert!(err.kind() == GraphErrorKind::Auth);
    assert_eq!(
        requests(&server).await.len(),
        1,
        "auth errors are not retried"
    );
    assert!(acc.status().needs_new_token);
    assert_eq!(
        client.accounts_needing_new_token(),
        [AccountId::new(ACCOUNT)]
    );

    // Same token: refused locally.
    let err = acc.send_text(&user(), "x").await.unwrap_err();
    assert!(matches!(err, GraphError::TokenRejected(_)));
    assert!(err.kind() == GraphErrorKind::Auth && err.is_local());
    assert_eq!(requests(&server).await.len(), 1);

    // A new token goes through and clears the mark.
    let renewed = client.account(
        AccountId::new(ACCOUNT),
        AccessToken::new("EAAGrenewed").unwrap(),
    );
    renewed.send_text(&user(), "x").await.unwrap();
    assert!(!renewed.status().needs_new_token);
    assert!(client.accounts_needing_new_token().is_empty());
}

fn buc_header(account: &str, call_count: u32, regain_minutes: u32) -> String {
    json!({ account: [{
        "type": "instagram",
        "call_count": call_count,
        "total_cputime": 10,
        "total_time": 10,
        "estimated_time_to_regain_access": regain_minutes
    }]})
    .to_string()
}

#[tokio::test]
async fn throttled_account_is_paused_locally_and_other_accounts_are_not() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(envelope(80_002, None, json!({})))
                .insert_header("x-business-use-case-usage", buc_header(ACCOUNT, 100, 5)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(sent()).mount(&server).await;
    let clock = ManualClock::new();
    let client = builder(&server).clock(clock.clone()).build().unwrap();
    let acc = account(&client);

    let err = acc.send_text(&user(), "x").await.unwrap_err();
    assert!(err.kind() == GraphErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(300)));
    assert_eq!(
        requests(&server).await.len(),
        1,
        "a 5-minute wait does not fit the retry budget: returned, not slept"
    );
    let status = acc.status();
    assert!(status.paused_until.is_some());
    let usage = status.usage.unwrap();
    assert_eq!(usage.business[0].use_case, UseCase::Instagram);
    assert_eq!(usage.business[0].call_count, 100);

    // Paused: no request.
    clock.advance(Duration::from_secs(299));
    let err = acc.send_text(&user(), "x").await.unwrap_err();
    assert!(matches!(err, GraphError::AccountPaused(_)));
    assert!(err.kind() == GraphErrorKind::RateLimited && err.is_local() && err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(requests(&server).await.len(), 1);

    // Another account on the same client is unaffected.
    let other = client.account(
        AccountId::new(OTHER_ACCOUNT),
        AccessToken::new(TOKEN).unwrap(),
    );
    other.send_text(&user(), "x").await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);

    // After the regain time, sends resume.
    clock.advance(Duration::from_secs(1));
    acc.send_text(&user(), "x").await.unwrap();
    assert_eq!(requests(&server).await.len(), 3);
    assert!(acc.status().paused_until.is_none());
}

#[tokio::test]
async fn usage_headers_on_success_are_exposed_and_full_usage_pauses() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(sent().insert_header(
            "x-app-usage",
            r#"{"call_count":12,"total_time":3,"total_cputime":4}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(sent().insert_header(
            "x-app-usage",
            r#"{"call_count":100,"total_time":3,"total_cputime":4}"#,
        ))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = builder(&server)
        .clock(clock.clone())
        .throttle_pause(Duration::from_secs(60))
        .build()
        .unwrap();
    let acc = account(&client);

    acc.send_text(&user(), "1").await.unwrap();
    let status = acc.status();
    assert_eq!(status.usage.unwrap().app.unwrap().call_count, 12);
    assert!(status.paused_until.is_none());

    // The message went out, and Meta says the limit is reached: pause the default time.
    acc.send_text(&user(), "2").await.unwrap();
    assert!(acc.status().paused_until.is_some());
    assert!(acc.send_text(&user(), "3").await.unwrap_err().is_local());
    clock.advance(Duration::from_secs(60));
    acc.send_text(&user(), "4").await.unwrap();
    assert_eq!(requests(&server).await.len(), 3);

    client.reset_account(&AccountId::new(ACCOUNT));
    assert_eq!(acc.status(), Default::default());
}

#[tokio::test]
async fn success_with_a_non_json_body_is_a_decode_error_not_a_resend() {
    let server = MockServer::start().await;
    answer(&server, ResponseTemplate::new(200).set_body_string("OK")).await;
    let client = builder(&server).build().unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn retries_wait_out_a_pause_the_usage_headers_just_set() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(500)
            .set_body_json(envelope(2, None, json!({})))
            .insert_header(
                "x-app-usage",
                r#"{"call_count":100,"total_time":1,"total_cputime":1}"#,
            ),
    )
    .await;
    let client = builder(&server)
        .throttle_pause(Duration::from_secs(60))
        .build()
        .unwrap();
    let err = account(&client).send_text(&user(), "x").await.unwrap_err();
    assert!(err.kind() == GraphErrorKind::Transient);
    assert_eq!(
        requests(&server).await.len(),
        1,
        "a transient error is retried, but not into a 60 s pause beyond the budget"
    );
    assert!(account(&client).status().paused_until.is_some());
}
