//! Instagram Login: an Instagram User token on the Instagram host, no Page.

use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer};

use super::*;

const INSTAGRAM_SCOPES: [&str; 3] = [
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
];

fn vars(server: &MockServer) -> Vec<(String, String)> {
    vec![
        ("GRAPH_API_BASE".into(), server.uri()),
        ("IG_APP_SECRET".into(), "instagram-app-secret".into()),
        ("META_APP_SECRET".into(), APP_SECRET.into()),
        ("IG_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ("IG_APP_ID".into(), APP.into()),
        ("IG_BUSINESS_ID".into(), IG.into()),
        ("IG_PAGE_TOKEN".into(), IG_TOKEN.into()),
    ]
}

async fn mount_me(server: &MockServer, user_id: &str) {
    Mock::given(method("GET"))
        .and(path("/v25.0/me"))
        .and(query_param(
            "fields",
            "id,user_id,username,name,account_type",
        ))
        .and(header("authorization", bearer(IG_TOKEN).as_str()))
        .respond_with(ok_json(
            json!({"id": "7891234567890123", "user_id": user_id,
            "username": "shop", "account_type": "Business"}),
        ))
        .mount(server)
        .await;
}

/// Mounts the account's `subscribed_apps`: the app, with every field the bots need.
async fn mount_account_apps(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v25.0/me/subscribed_apps"))
        .respond_with(ok_json(json!({"data": [{"id": APP,
            "subscribed_fields": ALL_INSTAGRAM_FIELDS}]})))
        .mount(server)
        .await;
}

async fn mount_common(server: &MockServer) {
    mount_instagram_app(server).await;
    let in_sixty_days = unix(now()) + 60 * 86_400;
    mount_debug_token(
        server,
        IG_TOKEN,
        token_info("USER", &INSTAGRAM_SCOPES, in_sixty_days),
    )
    .await;
}

#[tokio::test]
async fn fix_subscribes_the_missing_account_fields_keeping_the_others() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    mount_me(&server, IG).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/subscribed_apps"))
        .and(header("authorization", bearer(IG_TOKEN).as_str()))
        .respond_with(ok_json(json!({"data": [{"id": APP, "name": "Shop bot",
            "subscribed_fields": ["messages", "comments"]}]})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/subscribed_apps"))
        .respond_with(ok_json(json!({"data": [{"id": APP, "name": "Shop bot",
            "subscribed_fields": ["messages", "comments", "messaging_postbacks", "messaging_referral"]}]})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/me/subscribed_apps"))
        .and(query_param(
            "subscribed_fields",
            "messages,comments,messaging_postbacks,messaging_referral",
        ))
        .and(header("authorization", bearer(IG_TOKEN).as_str()))
        .and(body_string(""))
        .respond_with(ok_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;

    let (code, out, err, asked) = run(
        &["--fix", "--yes", "--login", "instagram"],
        vars(&server),
        false,
    )
    .await;
    assert!(!asked, "--yes does not ask");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("Instagram account {IG} (Instagram Login)\n")),
        "{out}"
    );
    assert!(
        out.contains(
            "  ✓ token: valid USER token, expires in 60 days, has instagram_business_basic"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  ✓ account: the token belongs to @shop ({IG}), a Business account\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  ✗ subscribed apps: account {IG} does not send app {APP} messaging_postbacks, messaging_referral (subscribed: messages, comments)\n"
        )),
        "{out}"
    );
    assert!(out.contains("POST /me/subscribed_apps?subscribed_fields=messages,comments,messaging_postbacks,messaging_referral\n"), "{out}");
    assert!(out.ends_with("All checks passed.\n"), "{out}");
    let seen = seen(&server).await;
    let first_run: Vec<_> = seen.iter().take(5).cloned().collect();
    assert_eq!(
        first_run,
        [
            req("GET", &format!("/v25.0/{APP}/subscriptions"), ""),
            req(
                "GET",
                "/v25.0/debug_token",
                &format!("input_token={IG_TOKEN}")
            ),
            req(
                "GET",
                "/v25.0/me",
                "fields=id,user_id,username,name,account_type"
            ),
            req("GET", "/v25.0/me/subscribed_apps", ""),
            req(
                "POST",
                "/v25.0/me/subscribed_apps",
                "subscribed_fields=messages,comments,messaging_postbacks,messaging_referral"
            ),
        ]
    );
}

#[tokio::test]
async fn a_token_of_another_account_is_reported() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    mount_me(&server, "17841411111111111").await;
    mount_account_apps(&server).await;
    let (code, out, _, _) = run(&["--login", "instagram"], vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  ✗ account: the token belongs to @shop (17841411111111111), not to the configured account {IG}\n      fix: set the business id to 17841411111111111, or use a token of account {IG}\n"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_token_expiring_within_a_day_is_a_problem() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    mount_debug_token(
        &server,
        IG_TOKEN,
        token_info("USER", &INSTAGRAM_SCOPES, unix(now()) + 3 * 3600),
    )
    .await;
    mount_me(&server, IG).await;
    mount_account_apps(&server).await;
    let (code, out, _, _) = run(&["--login", "instagram"], vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("  ✗ token: valid USER token, but it expires in 3 h\n"),
        "{out}"
    );
}

#[tokio::test]
async fn a_token_debug_token_cannot_read_is_checked_on_the_instagram_host() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .respond_with(
            wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException", "code": 190, "fbtrace_id": "T"}})),
        )
        .mount(&server)
        .await;
    mount_me(&server, IG).await;
    mount_account_apps(&server).await;
    let (code, out, _, _) = run(&["--login", "instagram"], vars(&server), false).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  ✓ token: debug_token failed (Graph API error on HTTP 400: code 190 (OAuthException): Invalid OAuth access token - Cannot parse access token [fbtrace_id T]); valid: the Instagram host accepts it"),
        "{out}"
    );
    assert!(!out.contains(IG_TOKEN));
}

#[tokio::test]
async fn an_expired_instagram_token_is_refused_by_the_instagram_host() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me"))
        .respond_with(
            wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired.",
            "type": "OAuthException", "code": 190, "error_subcode": 463}})),
        )
        .mount(&server)
        .await;
    let vars: Vec<_> = vars(&server)
        .into_iter()
        .filter(|(k, _)| k != "META_APP_SECRET")
        .collect();
    let (code, out, _, _) = run(&["--login", "instagram"], vars, false).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  ? app webhooks: app 1234567890's instagram subscription needs the app token\n      fix: set META_APP_SECRET (the Meta app's secret, not the Instagram app secret)\n"), "{out}");
    assert!(out.contains("  ✗ token: Meta refused the token: Graph API error on HTTP 400: code 190/463 (OAuthException): Error validating access token: Session has expired.\n      fix: log in again with Business Login for Instagram"), "{out}");
    assert_eq!(
        seen(&server).await,
        [req(
            "GET",
            "/v25.0/me",
            "fields=id,user_id,username,name,account_type"
        )]
    );
}
