//! Token calls: `debug_token`, `/me/permissions` and the Instagram Login token refresh,
//! with the exact requests (the two calls that take a token in the query string included)
//! and no token in any error.

use std::time::{Duration, SystemTime};

use meta_webhooks::client::{
    AppToken, Expiry, GraphClient, GraphError, GraphErrorKind, PermissionStatus, TokenType,
    TransportStage,
};
use meta_webhooks::payload::AccountId;
use meta_webhooks::{AccessToken, AppSecret};
use serde_json::json;
use wiremock::{MockServer, Request, ResponseTemplate};

use super::{ACCOUNT, ManualClock, TOKEN, account, answer, builder, fast_retries, ok_json};

const APP_ID: &str = "1234567890";
const APP_SECRET: &str = "appSECRETvalue42";
/// An Instagram Login long-lived token (they start with `IGAA`).
const IG_TOKEN: &str = "IGAAtestLONGlivedTOKEN987";
const NEW_IG_TOKEN: &str = "IGAAtestREFRESHEDtoken321";

fn app_token() -> AppToken {
    AppToken::new(APP_ID, &AppSecret::new(APP_SECRET).unwrap()).unwrap()
}

fn token(value: &str) -> AccessToken {
    AccessToken::new(value).unwrap()
}

/// The single request the server saw (the token-in-URL hygiene of the other client tests
/// does not apply: these calls carry a token in the query by design).
async fn the_request(server: &MockServer) -> Request {
    let mut all = server.received_requests().await.unwrap();
    assert_eq!(all.len(), 1, "expected one request, got {}", all.len());
    all.pop().unwrap()
}

/// The query's pairs, decoded, in order.
fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

fn assert_debug_token_request(request: &Request, input: &str) {
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v25.0/debug_token");
    assert_eq!(
        query_pairs(request),
        [("input_token".to_owned(), input.to_owned())]
    );
    assert_eq!(
        header(request, "authorization"),
        Some(format!("Bearer {APP_ID}|{APP_SECRET}").as_str())
    );
    assert_eq!(header(request, "accept"), Some("application/json"));
    assert!(request.body.is_empty());
}

fn assert_refresh_request(request: &Request, old: &str) {
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/refresh_access_token", "unversioned");
    assert_eq!(
        query_pairs(request),
        [
            ("grant_type".to_owned(), "ig_refresh_token".to_owned()),
            ("access_token".to_owned(), old.to_owned()),
        ]
    );
    assert_eq!(
        header(request, "authorization"),
        None,
        "the token goes in the query only"
    );
    assert!(request.body.is_empty());
}

/// A Page token's `debug_token` answer, as Meta documents the fields.
fn page_token_info() -> serde_json::Value {
    json!({"data": {
        "app_id": APP_ID,
        "type": "PAGE",
        "application": "Shop bot",
        "data_access_expires_at": 1_777_777_777,
        "expires_at": 0,
        "is_valid": true,
        "issued_at": 1_770_000_000,
        "profile_id": "1029384756",
        "scopes": ["pages_messaging", "instagram_basic", "instagram_manage_messages", "pages_show_list"],
        "granular_scopes": [
            {"scope": "pages_messaging", "target_ids": ["1029384756"]},
            {"scope": "instagram_basic", "target_ids": [ACCOUNT]},
            {"scope": "pages_show_list"}
        ],
        "user_id": "5647382910"
    }})
}

#[tokio::test]
async fn debug_token_sends_the_app_token_as_bearer_and_types_the_answer() {
    let server = MockServer::start().await;
    answer(&server, ok_json(page_token_info())).await;
    let client = builder(&server).build().unwrap();

    let info = client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap();

    assert_debug_token_request(&the_request(&server).await, TOKEN);
    assert!(info.is_valid);
    assert_eq!(info.token_type, Some(TokenType::Page));
    assert_eq!(info.app_id.as_deref(), Some(APP_ID));
    assert_eq!(info.application.as_deref(), Some("Shop bot"));
    assert_eq!(info.expires_at, Some(Expiry::Never));
    assert_eq!(info.expires_in(SystemTime::now()), None);
    assert_eq!(
        info.data_access_expires_at,
        Some(Expiry::At(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_777_777_777)
        ))
    );
    assert_eq!(
        info.issued_at,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_000_000))
    );
    assert_eq!(info.profile_id.as_deref(), Some("1029384756"));
    assert_eq!(info.user_id.as_deref(), Some("5647382910"));
    assert!(info.has_scope("instagram_manage_messages"));
    assert!(!info.has_scope("instagram_manage_comments"));
    assert_eq!(
        info.targets("instagram_basic"),
        Some(&[ACCOUNT.to_owned()][..])
    );
    assert_eq!(info.targets("pages_show_list"), Some(&[][..]));
    assert_eq!(info.error, None);
    // Made for no account: no account state appears.
    assert!(client.accounts_needing_new_token().is_empty());
}

#[tokio::test]
async fn debug_token_of_an_expired_token_is_an_answer_not_an_error() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"data": {
            "app_id": APP_ID,
            "type": "USER",
            "application": "Shop bot",
            "error": {
                "code": 190,
                "message": "Error validating access token: Session has expired on Sunday, 06-Dec-26 01:00:00 PST. The current time is Sunday, 06-Dec-26 06:00:00 PST.",
                "subcode": 463
            },
            "expires_at": 1_796_547_600,
            "is_valid": false,
            "scopes": ["pages_messaging"],
            "user_id": "5647382910"
        }})),
    )
    .await;
    let client = builder(&server).build().unwrap();

    let info = client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap();

    assert_debug_token_request(&the_request(&server).await, TOKEN);
    assert!(!info.is_valid);
    assert_eq!(info.token_type, Some(TokenType::User));
    let error = info.error.as_ref().unwrap();
    assert_eq!((error.code, error.subcode), (Some(190), Some(463)));
    assert!(error.message.starts_with("Error validating access token"));
    let expired_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_547_600);
    assert_eq!(info.expires_at, Some(Expiry::At(expired_at)));
    assert_eq!(
        info.expires_in(expired_at + Duration::from_secs(5)),
        Some(Duration::ZERO)
    );
}

#[tokio::test]
async fn debug_token_with_a_wrong_app_secret_is_an_auth_error_for_no_account() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Invalid OAuth access token signature.",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "AbCdEf"
        }})),
    )
    .await;
    let client = builder(&server).build().unwrap();

    let err = client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), GraphErrorKind::Auth);
    assert_eq!(err.error_body().unwrap().code, Some(190));
    assert!(
        client.accounts_needing_new_token().is_empty(),
        "the app token's rejection is not an account's"
    );
    let shown = format!("{err} | {err:?}");
    for secret in [TOKEN, APP_SECRET] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn debug_token_goes_to_the_facebook_host_path_of_a_custom_base() {
    // With a path prefix in the base (a proxy), the call keeps it and adds the version.
    let server = MockServer::start().await;
    answer(&server, ok_json(page_token_info())).await;
    let client = GraphClient::builder()
        .base_url(format!("{}/graph", server.uri()))
        .graph_version("v24.0")
        .build()
        .unwrap();
    client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap();
    assert_eq!(
        the_request(&server).await.url.path(),
        "/graph/v24.0/debug_token"
    );
}

#[tokio::test]
async fn debug_token_without_data_is_a_decode_error() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"is_valid": true}))).await;
    let client = builder(&server).build().unwrap();
    let err = client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
}

#[tokio::test]
async fn permissions_lists_granted_declined_and_expired() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"data": [
            {"permission": "instagram_business_basic", "status": "granted"},
            {"permission": "instagram_business_manage_messages", "status": "granted"},
            {"permission": "instagram_business_manage_comments", "status": "declined"},
            {"permission": "pages_messaging", "status": "expired"}
        ]})),
    )
    .await;
    let client = builder(&server).build().unwrap();

    let permissions = account(&client).permissions().await.unwrap();

    let request = the_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v25.0/me/permissions");
    assert_eq!(request.url.query(), None);
    assert_eq!(
        header(&request, "authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let got: Vec<(&str, &PermissionStatus)> = permissions
        .iter()
        .map(|p| (p.permission.as_str(), &p.status))
        .collect();
    assert_eq!(
        got,
        [
            ("instagram_business_basic", &PermissionStatus::Granted),
            (
                "instagram_business_manage_messages",
                &PermissionStatus::Granted
            ),
            (
                "instagram_business_manage_comments",
                &PermissionStatus::Declined
            ),
            ("pages_messaging", &PermissionStatus::Expired),
        ]
    );
}

#[tokio::test]
async fn permissions_with_an_expired_token_marks_the_account() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired.",
            "type": "OAuthException", "code": 190, "error_subcode": 463
        }})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let err = account(&client).permissions().await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Auth);
    assert_eq!(
        client.accounts_needing_new_token(),
        vec![AccountId::new(ACCOUNT)]
    );
}

#[tokio::test]
async fn refresh_sends_the_documented_query_and_computes_the_expiry_from_the_clock() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({
            "access_token": NEW_IG_TOKEN,
            "token_type": "bearer",
            "expires_in": 5_183_944
        })),
    )
    .await;
    let clock = ManualClock::new();
    clock.advance(Duration::from_secs(3_600));
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_003_600);
    let client = builder(&server).clock(clock).build().unwrap();

    let refreshed = client
        .refresh_instagram_token(&token(IG_TOKEN))
        .await
        .unwrap();

    assert_refresh_request(&the_request(&server).await, IG_TOKEN);
    assert_eq!(refreshed.token.expose(), NEW_IG_TOKEN);
    assert_eq!(refreshed.token_type.as_deref(), Some("bearer"));
    assert_eq!(refreshed.expires_in, Duration::from_secs(5_183_944));
    assert_eq!(refreshed.expires_at, now + Duration::from_secs(5_183_944));
    let shown = format!("{refreshed:?}");
    assert!(!shown.contains(NEW_IG_TOKEN), "{shown}");
}

#[tokio::test]
async fn refresh_query_token_is_form_encoded() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"access_token": NEW_IG_TOKEN, "token_type": "bearer", "expires_in": "60"})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let odd = "IGAA+a/b=c&d";
    let refreshed = client.refresh_instagram_token(&token(odd)).await.unwrap();
    let request = the_request(&server).await;
    assert_refresh_request(&request, odd);
    assert_eq!(
        request.url.query(),
        Some("grant_type=ig_refresh_token&access_token=IGAA%2Ba%2Fb%3Dc%26d")
    );
    assert_eq!(refreshed.expires_in, Duration::from_secs(60));
}

#[tokio::test]
async fn refresh_of_an_expired_token_is_an_auth_error_without_the_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": format!("Error validating access token {IG_TOKEN}: Session has expired."),
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "fbtrace_id": "AzYx"
        }})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let acc = client.account(AccountId::new(ACCOUNT), token(IG_TOKEN));

    let err = acc.refresh_instagram_token().await.unwrap_err();

    assert_refresh_request(&the_request(&server).await, IG_TOKEN);
    assert_eq!(err.kind(), GraphErrorKind::Auth);
    assert!(!err.is_retryable());
    assert_eq!(err.error_body().unwrap().error_subcode, Some(463));
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains(IG_TOKEN), "{shown}");
    assert!(!shown.contains(&server.uri()), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    // Through the account, the rejection is recorded and the next call fails fast.
    assert_eq!(
        client.accounts_needing_new_token(),
        vec![AccountId::new(ACCOUNT)]
    );
    let again = acc.refresh_instagram_token().await.unwrap_err();
    assert!(matches!(again, GraphError::TokenRejected(_)), "{again:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn refresh_without_expires_in_is_a_decode_error() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"access_token": NEW_IG_TOKEN, "token_type": "bearer"})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let err = client
        .refresh_instagram_token(&token(IG_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
    assert!(!format!("{err:?}").contains(NEW_IG_TOKEN));
}

/// Makes both query-token calls (the refresh and `debug_token`), which must fail, and checks
/// that neither error's `Display` or `Debug` holds a token, the app secret, a token's query
/// parameter or `url`; returns the two errors.
async fn failed_query_token_calls(client: &GraphClient, url: &str) -> [GraphError; 2] {
    let refresh = client
        .refresh_instagram_token(&token(IG_TOKEN))
        .await
        .unwrap_err();
    let debug = client
        .debug_token(&app_token(), &token(TOKEN))
        .await
        .unwrap_err();
    for err in [&refresh, &debug] {
        let shown = format!("{err} | {err:?}");
        for secret in [
            IG_TOKEN,
            TOKEN,
            APP_SECRET,
            url,
            "access_token",
            "input_token",
        ] {
            assert!(!shown.contains(secret), "{secret:?} in {shown}");
        }
    }
    [refresh, debug]
}

#[tokio::test]
async fn transport_errors_of_query_token_calls_hold_no_url_and_no_token() {
    // A port with nothing listening.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = GraphClient::builder()
        .base_url(&base)
        .retry_policy(fast_retries().with_max_attempts(1))
        .build()
        .unwrap();
    for err in failed_query_token_calls(&client, &base).await {
        assert!(
            matches!(err, GraphError::Transport(ref t) if t.stage == TransportStage::Connect),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn timeouts_of_query_token_calls_hold_no_url_and_no_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({})).set_delay(Duration::from_secs(2)),
    )
    .await;
    let client = builder(&server)
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_retries().with_max_attempts(1))
        .build()
        .unwrap();
    for err in failed_query_token_calls(&client, &server.uri()).await {
        assert_eq!(err.kind(), GraphErrorKind::Transient, "{err:?}");
    }
}
