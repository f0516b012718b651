//! Setup calls: app subscriptions, `subscribed_apps` and the account lookups send exactly
//! the requests Meta documents and read its answers.

use meta_webhooks::client::{
    AppSubscriptionRequest, AppToken, GraphError, GraphErrorKind, PAGE_LINK_FIELDS,
};
use meta_webhooks::payload::{AccountId, AppId};
use meta_webhooks::{AccessToken, AppSecret, VerifyToken};
use serde_json::json;
use wiremock::MockServer;

use super::{TOKEN, account, answer, builder, ok_json, only_request};

const APP: &str = "1234567890";
const PAGE: &str = "104512345678901";

fn assert_bearer(request: &wiremock::Request, token: &str) {
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {token}")
    );
}

#[tokio::test]
async fn app_subscriptions_use_the_app_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"data": [
            {"object": "instagram", "callback_url": "https://bot.example.com/webhook", "active": true,
             "fields": [{"name": "messages", "version": "v25.0"}, {"name": "comments", "version": "v25.0"}]},
            {"object": "page", "callback_url": "https://bot.example.com/webhook", "active": false, "fields": []}
        ]})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let app_token = AppToken::new(APP, &AppSecret::new("appsecret").unwrap()).unwrap();
    let subs = client
        .app_subscriptions(&AppId::new(APP), &app_token)
        .await
        .unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].object, "instagram");
    assert!(subs[0].has_field("messages") && subs[0].has_field("comments"));
    assert_eq!(subs[1].active, Some(false));

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), format!("/v25.0/{APP}/subscriptions"));
    assert_eq!(request.url.query(), None);
    assert_bearer(&request, &format!("{APP}|appsecret"));
}

#[tokio::test]
async fn subscribe_app_posts_the_form() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": "true"}))).await;
    let client = builder(&server).build().unwrap();
    let app_token = AppToken::new(APP, &AppSecret::new("appsecret").unwrap()).unwrap();
    let subscription = AppSubscriptionRequest::new(
        "page",
        "https://bot.example.com/webhook",
        ["messages", "messaging_postbacks"],
        VerifyToken::new("verify-me").unwrap(),
    )
    .unwrap();
    client
        .subscribe_app(&AppId::new(APP), &app_token, &subscription)
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), format!("/v25.0/{APP}/subscriptions"));
    assert_eq!(request.url.query(), None);
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        "object=page&callback_url=https%3A%2F%2Fbot.example.com%2Fwebhook&fields=messages%2Cmessaging_postbacks&verify_token=verify-me"
    );
}

#[tokio::test]
async fn page_subscribed_apps_get_and_post() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"data": [{"category": "Business", "link": "https://example.com/", "name": "Shop bot",
            "id": APP, "subscribed_fields": ["feed"]}]})),
    )
    .await;
    let client = builder(&server)
        .facebook_login()
        .base_url(server.uri())
        .build()
        .unwrap();
    let page = client.account(AccountId::new(PAGE), AccessToken::new(TOKEN).unwrap());
    let apps = page.subscribed_apps().await.unwrap();
    assert_eq!(apps[0].app_id().unwrap(), APP);
    assert_eq!(apps[0].subscribed_fields, ["feed"]);
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), format!("/v25.0/{PAGE}/subscribed_apps"));
    assert_eq!(request.url.query(), None);
    assert_bearer(&request, TOKEN);

    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let page = client.account(AccountId::new(PAGE), AccessToken::new(TOKEN).unwrap());
    page.subscribe_app(["feed", "messages", "feed"])
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), format!("/v25.0/{PAGE}/subscribed_apps"));
    assert_eq!(request.url.query(), Some("subscribed_fields=feed,messages"));
    assert!(request.body.is_empty());
    assert_bearer(&request, TOKEN);
}

#[tokio::test]
async fn instagram_login_me_subscribed_apps() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let me = client.account(AccountId::new("me"), AccessToken::new(TOKEN).unwrap());
    me.subscribe_app(["comments", "messages"]).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v25.0/me/subscribed_apps");
    assert_eq!(
        request.url.query(),
        Some("subscribed_fields=comments,messages")
    );
}

#[tokio::test]
async fn waba_subscription_takes_no_field_list() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let waba = client.account(
        AccountId::new("102290129340398"),
        AccessToken::new(TOKEN).unwrap(),
    );
    waba.subscribe_app([""; 0]).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v25.0/102290129340398/subscribed_apps");
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn invalid_field_names_are_refused_locally() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let err = account(&client)
        .subscribe_app(["messages&access_token=x"])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Invalid(_)));
    assert!(err.is_local());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn success_false_is_a_decode_error() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": false}))).await;
    let client = builder(&server).build().unwrap();
    let err = account(&client)
        .subscribe_app(["messages"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
}

#[tokio::test]
async fn page_link_reads_the_instagram_account() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"id": PAGE, "name": "Shop", "instagram_business_account": {"id": "17841400000000000"}})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let me = client.account(AccountId::new("me"), AccessToken::new(TOKEN).unwrap());
    let link = me.page_link().await.unwrap();
    assert_eq!(link.id, PAGE);
    assert_eq!(
        link.instagram_business_account.unwrap().id,
        "17841400000000000"
    );
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v25.0/me");
    assert_eq!(
        request.url.query(),
        Some(format!("fields={PAGE_LINK_FIELDS}").as_str())
    );
    assert_eq!(PAGE_LINK_FIELDS, "id,name,instagram_business_account");

    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"id": PAGE, "name": "Shop"}))).await;
    let client = builder(&server).build().unwrap();
    let me = client.account(AccountId::new("me"), AccessToken::new(TOKEN).unwrap());
    assert_eq!(
        me.page_link().await.unwrap().instagram_business_account,
        None
    );
}

#[tokio::test]
async fn instagram_login_account_reads_me() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(
            json!({"id": "7891234567890123", "user_id": "17841400000000000", "username": "shop",
            "account_type": "Business"}),
        ),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let me = account(&client).instagram_login_account().await.unwrap();
    assert_eq!(me.user_id.unwrap(), "17841400000000000");
    assert_eq!(me.account_type.as_deref(), Some("Business"));
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v25.0/me");
    assert_eq!(
        request.url.query(),
        Some("fields=id,user_id,username,name,account_type")
    );
    assert_bearer(&request, TOKEN);
}

#[tokio::test]
async fn whatsapp_phone_number_status() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(
            json!({"id": "106540352242922", "display_phone_number": "+1 555-010-0000",
            "verified_name": "Shop", "quality_rating": "GREEN",
            "whatsapp_business_manager_messaging_limit": "TIER_2K",
            "throughput": {"level": "STANDARD"}, "platform_type": "CLOUD_API"}),
        ),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let phone = client.account(
        AccountId::new("106540352242922"),
        AccessToken::new(TOKEN).unwrap(),
    );
    let number = phone.whatsapp_phone_number().await.unwrap();
    assert_eq!(number.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(number.messaging_limit(), Some("TIER_2K"));
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v25.0/106540352242922");
    assert_eq!(
        request.url.query(),
        Some(
            "fields=id,display_phone_number,verified_name,quality_rating,whatsapp_business_manager_messaging_limit,throughput,code_verification_status,name_status,platform_type"
        )
    );
}

#[tokio::test]
async fn an_expired_token_is_an_auth_error_without_the_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired on Sunday, 06-Dec-26 03:00:00 PST.",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbC"}})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let err = account(&client).subscribed_apps().await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Auth);
    assert!(!err.to_string().contains(TOKEN));
}
