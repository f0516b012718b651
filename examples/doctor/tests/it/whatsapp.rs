//! WhatsApp: the phone number, the app's whatsapp_business_account webhooks and the
//! WhatsApp Business Account's subscribed apps.

use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer};

use super::*;

fn vars(server: &MockServer) -> Vec<(String, String)> {
    vec![
        ("GRAPH_API_BASE".into(), server.uri()),
        ("IG_APP_SECRET".into(), APP_SECRET.into()),
        ("IG_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ("IG_APP_ID".into(), APP.into()),
        ("WA_PHONE_NUMBER_ID".into(), PHONE.into()),
        ("WA_TOKEN".into(), WA_TOKEN.into()),
        ("WA_BUSINESS_ACCOUNT_ID".into(), WABA.into()),
    ]
}

/// Mounts `debug_token` for the WhatsApp token: a valid, never-expiring system user token
/// with both WhatsApp permissions.
async fn mount_wa_token(server: &MockServer) {
    mount_debug_token(
        server,
        WA_TOKEN,
        token_info(
            "SYSTEM_USER",
            &[
                "whatsapp_business_messaging",
                "whatsapp_business_management",
            ],
            0,
        ),
    )
    .await;
}

async fn mount(server: &MockServer, quality: &str, waba_apps: serde_json::Value) {
    mount_wa_token(server).await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PHONE}")))
        .and(query_param(
            "fields",
            meta_webhooks::client::PHONE_NUMBER_FIELDS,
        ))
        .and(header("authorization", bearer(WA_TOKEN).as_str()))
        .respond_with(ok_json(
            json!({"id": PHONE, "display_phone_number": "+1 555-010-0000",
            "verified_name": "Shop", "quality_rating": quality,
            "whatsapp_business_manager_messaging_limit": "TIER_2K",
            "throughput": {"level": "STANDARD"}}),
        ))
        .mount(server)
        .await;
    mount_app_subscriptions(
        server,
        json!([{"object": "whatsapp_business_account", "callback_url": CALLBACK, "active": true,
            "fields": [{"name": "messages", "version": "v25.0"}]}]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{WABA}/subscribed_apps")))
        .and(header("authorization", bearer(WA_TOKEN).as_str()))
        .respond_with(ok_json(json!({ "data": waba_apps })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_healthy_number() {
    let server = MockServer::start().await;
    mount(
        &server,
        "GREEN",
        json!([{"whatsapp_business_api_data": {"id": APP, "name": "Shop bot", "link": "https://example.com/"}}]),
    )
    .await;
    let (code, out, _, _) = run(&[], vars(&server), false).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        format!(
            "WhatsApp phone number {PHONE}\n\
             \x20 ✓ token: valid SYSTEM_USER token, never expires, has whatsapp_business_messaging, whatsapp_business_management\n\
             \x20 ✓ phone number: +1 555-010-0000 (Shop): quality GREEN, messaging limit TIER_2K\n\
             \x20 ✓ app webhooks: whatsapp_business_account webhooks to {CALLBACK}, fields messages\n\
             \x20 ✓ subscribed apps: WhatsApp Business Account {WABA} sends its webhooks to app {APP}\n\
             All checks passed.\n"
        )
    );
}

#[tokio::test]
async fn a_red_number_and_an_unsubscribed_waba_are_fixed_where_the_api_allows() {
    let server = MockServer::start().await;
    mount(&server, "RED", json!([])).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{WABA}/subscribed_apps")))
        .and(header("authorization", bearer(WA_TOKEN).as_str()))
        .and(body_string(""))
        .respond_with(ok_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let (code, out, _, asked) = run(&["--fix"], vars(&server), true).await;
    assert!(asked);
    // The quality rating is not an API fix: still a problem after the subscription.
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "  ✗ phone number: +1 555-010-0000 (Shop): quality RED, messaging limit TIER_2K\n"
        ),
        "{out}"
    );
    assert!(out.contains(&format!("  ✗ subscribed apps: WhatsApp Business Account {WABA} does not send app {APP} webhooks\n")), "{out}");
    assert!(
        out.contains(&format!("    POST /{WABA}/subscribed_apps\n")),
        "{out}"
    );
    let posts = posts(&server).await;
    assert_eq!(
        posts,
        [req("POST", &format!("/v25.0/{WABA}/subscribed_apps"), "")]
    );
}

#[tokio::test]
async fn without_the_waba_id_its_subscription_is_not_checked() {
    let server = MockServer::start().await;
    mount(&server, "GREEN", json!([])).await;
    let vars: Vec<_> = vars(&server)
        .into_iter()
        .filter(|(k, _)| k != "WA_BUSINESS_ACCOUNT_ID")
        .collect();
    let (code, out, _, _) = run(&[], vars, false).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("  ? subscribed apps: the WhatsApp Business Account's subscription needs its id\n      fix: set WA_BUSINESS_ACCOUNT_ID"), "{out}");
}

#[tokio::test]
async fn fix_sets_the_app_webhooks_of_whatsapp_through_the_api() {
    let server = MockServer::start().await;
    mount_wa_token(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PHONE}")))
        .respond_with(ok_json(json!({"id": PHONE, "quality_rating": "GREEN"})))
        .mount(&server)
        .await;
    // Subscribed without the messages field until the POST.
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{APP}/subscriptions")))
        .respond_with(ok_json(
            json!({"data": [{"object": "whatsapp_business_account",
            "callback_url": CALLBACK, "active": true,
            "fields": [{"name": "account_update", "version": "v25.0"}]}]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_app_subscriptions(
        &server,
        json!([{"object": "whatsapp_business_account", "callback_url": CALLBACK, "active": true,
            "fields": [{"name": "account_update", "version": "v25.0"}, {"name": "messages", "version": "v25.0"}]}]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{APP}/subscriptions")))
        .and(header("authorization", app_bearer().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ok_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{WABA}/subscribed_apps")))
        .respond_with(ok_json(
            json!({"data": [{"whatsapp_business_api_data": {"id": APP}}]}),
        ))
        .mount(&server)
        .await;

    let (code, out, err, _) = run(&["--fix", "--yes"], vars(&server), false).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "  ✗ app webhooks: app {APP}'s whatsapp_business_account webhooks lack messages (subscribed: account_update)\n      fix: run with --fix, or App Dashboard of app {APP} → Webhooks → whatsapp_business_account: subscribe to messages\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  - set app {APP}'s whatsapp_business_account webhooks to {CALLBACK} with fields account_update,messages\n    POST /{APP}/subscriptions object=whatsapp_business_account callback_url={CALLBACK} fields=account_update,messages verify_token=(IG_VERIFY_TOKEN)\n"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("fixed: set app {APP}'s")), "{out}");
    let requests = server.received_requests().await.unwrap();
    let post = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    assert_eq!(post.url.query(), None);
    assert_eq!(
        std::str::from_utf8(&post.body).unwrap(),
        format!(
            "object=whatsapp_business_account&callback_url=https%3A%2F%2Fbot.example.com%2Fwebhook&fields=account_update%2Cmessages&verify_token={VERIFY_TOKEN}"
        )
    );
    assert!(!out.contains(VERIFY_TOKEN), "{out}");
}
