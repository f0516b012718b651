//! Facebook Login: a Page token, the Page linked to the Instagram account.

use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// Mounts a healthy Facebook Login setup; `page_apps` is the Page's `subscribed_apps`.
async fn healthy(server: &MockServer, page_apps: serde_json::Value) {
    mount_instagram_app(server).await;
    mount_page_token(server, &FACEBOOK_SCOPES).await;
    mount_page(server, linked_page()).await;
    mount_page_apps(server, page_apps).await;
}

/// Mounts `debug_token` for the Page token: a valid, never-expiring Page token with `scopes`.
async fn mount_page_token(server: &MockServer, scopes: &[&str]) {
    mount_debug_token(server, PAGE_TOKEN, token_info("PAGE", scopes, 0)).await;
}

/// The Page, linked to the configured Instagram account.
fn linked_page() -> serde_json::Value {
    json!({"id": PAGE, "name": "Shop", "instagram_business_account": {"id": IG}})
}

async fn mount_page(server: &MockServer, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/v25.0/me"))
        .and(query_param("fields", "id,name,instagram_business_account"))
        .and(header("authorization", bearer(PAGE_TOKEN).as_str()))
        .respond_with(ok_json(body))
        .mount(server)
        .await;
}

async fn mount_page_apps(server: &MockServer, data: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/subscribed_apps")))
        .and(header("authorization", bearer(PAGE_TOKEN).as_str()))
        .respond_with(ok_json(json!({ "data": data })))
        .mount(server)
        .await;
}

/// Mounts a linked Page that sends the app nothing until `--fix` subscribes it: the
/// `POST /{PAGE}/subscribed_apps?subscribed_fields=feed` (with the Page token, empty body) is
/// expected exactly once, and the Page sends `feed` after it.
async fn unsubscribed_until_post(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/subscribed_apps")))
        .respond_with(ok_json(json!({"data": []})))
        .up_to_n_times(1)
        .mount(server)
        .await;
    healthy(server, json!([page_app(&["feed"])])).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/subscribed_apps")))
        .and(query_param("subscribed_fields", "feed"))
        .and(header("authorization", bearer(PAGE_TOKEN).as_str()))
        .and(body_string(""))
        .respond_with(ok_json(json!({"success": true})))
        .expect(1)
        .mount(server)
        .await;
}

fn page_app(fields: &[&str]) -> serde_json::Value {
    json!({"category": "Business", "link": "https://example.com/", "name": "Shop bot", "id": APP,
        "subscribed_fields": fields})
}

#[tokio::test]
async fn a_healthy_setup_passes_every_check_with_exactly_these_requests() {
    let server = MockServer::start().await;
    healthy(&server, json!([page_app(&["feed"])])).await;
    let (code, out, err, asked) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!asked);
    assert_eq!(
        out,
        format!(
            "App {APP}\n  ✓ app webhooks: instagram webhooks to {CALLBACK}, fields messages, messaging_postbacks, messaging_referral, comments\n\
             Instagram account {IG} (Facebook Login)\n  ✓ token: valid PAGE token, never expires, has {}\n\
             \x20 ✓ account: Page {PAGE} (Shop) is linked to Instagram account {IG}\n\
             \x20 ✓ subscribed apps: Page {PAGE} (Shop) sends app {APP} its fields feed\n\
             All checks passed.\n",
            FACEBOOK_SCOPES.join(", ")
        )
    );
    assert_eq!(
        seen(&server).await,
        [
            req("GET", &format!("/v25.0/{APP}/subscriptions"), ""),
            req(
                "GET",
                "/v25.0/debug_token",
                &format!("input_token={PAGE_TOKEN}")
            ),
            req(
                "GET",
                "/v25.0/me",
                "fields=id,name,instagram_business_account"
            ),
            req("GET", &format!("/v25.0/{PAGE}/subscribed_apps"), ""),
        ]
    );
}

#[tokio::test]
async fn an_expired_token_is_reported_and_nothing_else_is_asked_with_it() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    let expired = unix(now()) - 3600;
    mount_debug_token(
        &server,
        PAGE_TOKEN,
        json!({"data": {"app_id": APP, "type": "PAGE", "is_valid": false, "expires_at": expired,
            "scopes": [], "error": {"code": 190, "subcode": 463,
            "message": "Error validating access token: Session has expired."}}}),
    )
    .await;
    let (code, out, _, _) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("  ✗ token: the PAGE token is expired (at Unix time {expired})\n      fix: create a new Page token")),
        "{out}"
    );
    assert!(
        out.contains("  ? account: not checked: Meta refused the token\n"),
        "{out}"
    );
    assert!(
        out.contains("1 problem found, 2 checks not made.\n"),
        "{out}"
    );
    let paths: Vec<String> = seen(&server).await.into_iter().map(|r| r.1).collect();
    assert_eq!(
        paths,
        [
            format!("/v25.0/{APP}/subscriptions"),
            "/v25.0/debug_token".to_owned()
        ]
    );
}

#[tokio::test]
async fn a_missing_permission_is_named_with_its_fix() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    let scopes: Vec<&str> = FACEBOOK_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "instagram_manage_comments")
        .collect();
    mount_page_token(&server, &scopes).await;
    mount_page(&server, linked_page()).await;
    mount_page_apps(&server, json!([page_app(&["feed"])])).await;
    let (code, out, _, _) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("  ✗ token: valid PAGE token, but lacks instagram_manage_comments\n      fix: grant the app instagram_manage_comments when logging in"),
        "{out}"
    );
}

#[tokio::test]
async fn fields_the_app_does_not_subscribe_are_named() {
    let server2 = MockServer::start().await;
    mount_app_subscriptions(
        &server2,
        json!([instagram_subscription(
            CALLBACK,
            &["messages", "messaging_postbacks"]
        )]),
    )
    .await;
    mount_page_token(&server2, &FACEBOOK_SCOPES).await;
    mount_page(&server2, linked_page()).await;
    mount_page_apps(&server2, json!([page_app(&["feed"])])).await;
    let (code, out, _, _) = run(&[], facebook_vars(&server2), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  ✗ app webhooks: app {APP}'s instagram webhooks lack messaging_referral, comments (subscribed: messages, messaging_postbacks)\n      fix: App Dashboard of app {APP} → Webhooks → instagram: subscribe to messaging_referral, comments\n"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_page_without_instagram_account_is_reported() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    mount_page_token(&server, &FACEBOOK_SCOPES).await;
    mount_page(&server, json!({"id": PAGE, "name": "Shop"})).await;
    mount_page_apps(&server, json!([page_app(&["feed"])])).await;
    let (code, out, _, _) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  ✗ account: Page {PAGE} (Shop) has no Instagram professional account linked\n      fix: link Instagram account {IG} to the Page"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_page_linked_to_another_account_names_both() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    mount_page_token(&server, &FACEBOOK_SCOPES).await;
    mount_page(
        &server,
        json!({"id": PAGE, "name": "Shop", "instagram_business_account": {"id": "17841499999999999"}}),
    )
    .await;
    mount_page_apps(&server, json!([page_app(&["feed"])])).await;
    let (code, out, _, _) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "is linked to Instagram account 17841499999999999, not to the configured {IG}"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn fix_subscribes_the_page_after_asking() {
    let server = MockServer::start().await;
    unsubscribed_until_post(&server).await;

    let (code, out, err, asked) = run(&["--fix"], facebook_vars(&server), true).await;
    assert!(asked);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "  ✗ subscribed apps: Page {PAGE} (Shop) does not send app {APP} any webhooks"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\n--fix will send:\n  - subscribe app {APP} to Page {PAGE} (Shop) (fields feed)\n    POST /{PAGE}/subscribed_apps?subscribed_fields=feed\n"
        )),
        "{out}"
    );
    assert!(out.contains("\nAfter the fixes:\n"), "{out}");
    assert!(out.contains(&format!("fixed: subscribe app {APP} to Page {PAGE} (Shop) (fields feed) (POST /{PAGE}/subscribed_apps?subscribed_fields=feed)\nAll checks passed.\n")), "{out}");
    let posts = posts(&server).await;
    assert_eq!(
        posts,
        [req(
            "POST",
            &format!("/v25.0/{PAGE}/subscribed_apps"),
            "subscribed_fields=feed"
        )]
    );
}

#[tokio::test]
async fn fix_with_json_prints_the_plan_on_stderr_and_the_final_report_as_json() {
    let server = MockServer::start().await;
    unsubscribed_until_post(&server).await;
    let (code, out, err, asked) =
        run(&["--fix", "--yes", "--json"], facebook_vars(&server), false).await;
    assert!(!asked);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("--fix will send:"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["outcome"], "healthy");
    assert_eq!(
        json["fixes"],
        json!([{
            "description": format!("subscribe app {APP} to Page {PAGE} (Shop) (fields feed)"),
            "request": format!("POST /{PAGE}/subscribed_apps?subscribed_fields=feed"),
            "applied": true
        }])
    );
}

#[tokio::test]
async fn fix_declined_changes_nothing() {
    let server = MockServer::start().await;
    healthy(&server, json!([])).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let (code, out, err, asked) = run(&["--fix"], facebook_vars(&server), false).await;
    assert!(asked);
    assert_eq!(code, 1);
    assert!(out.contains("--fix will send:"), "{out}");
    assert_eq!(err, "Nothing changed.\n");
}

#[tokio::test]
async fn json_output_has_a_stable_shape() {
    let server = MockServer::start().await;
    healthy(&server, json!([page_app(&["feed"])])).await;
    let (code, out, _, _) = run(&["--json"], facebook_vars(&server), false).await;
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["outcome"], "healthy");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["fixes"], json!([]));
    let sections = json["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0]["kind"], "app");
    assert_eq!(sections[0]["id"], APP);
    assert_eq!(sections[1]["kind"], "instagram");
    assert_eq!(sections[1]["id"], IG);
    assert_eq!(
        sections[1]["checks"][2],
        json!({"check": "subscribed apps", "status": "ok",
            "detail": format!("Page {PAGE} (Shop) sends app {APP} its fields feed")})
    );
    let checks: Vec<&str> = sections[1]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["token", "account", "subscribed apps"]);
}

#[tokio::test]
async fn json_problems_carry_the_fix_and_exit_1() {
    let server = MockServer::start().await;
    healthy(&server, json!([])).await;
    let (code, out, _, _) = run(&["--json"], facebook_vars(&server), false).await;
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["outcome"], "problems");
    assert_eq!(json["exit_code"], 1);
    let check = &json["sections"][1]["checks"][2];
    assert_eq!(check["status"], "problem");
    assert_eq!(
        check["fix"],
        format!("run with --fix, or POST /{PAGE}/subscribed_apps?subscribed_fields=feed")
    );
}

#[tokio::test]
async fn without_the_app_secret_the_token_is_checked_through_permissions_and_the_run_is_incomplete()
{
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/permissions"))
        .and(header("authorization", bearer(PAGE_TOKEN).as_str()))
        .respond_with(ok_json(json!({"data": FACEBOOK_SCOPES.iter()
            .map(|p| json!({"permission": p, "status": "granted"})).collect::<Vec<_>>()})))
        .mount(&server)
        .await;
    mount_page(&server, linked_page()).await;
    mount_page_apps(&server, json!([page_app(&["feed"])])).await;
    let vars: Vec<(String, String)> = facebook_vars(&server)
        .into_iter()
        .filter(|(k, _)| k != "IG_APP_ID")
        .collect();
    let (code, out, _, _) = run(&[], vars, false).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("  ? app webhooks: the app's instagram subscription needs the app id\n      fix: set META_APP_ID (or IG_APP_ID) and META_APP_SECRET\n"), "{out}");
    assert!(
        out.contains("  ✓ token: valid; has instagram_basic"),
        "{out}"
    );
    assert!(
        out.contains("No problem found, but 1 check could not be made.\n"),
        "{out}"
    );
}

#[tokio::test]
async fn graph_down_means_could_not_check() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let (code, out, _, _) = run(&[], facebook_vars(&server), false).await;
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains('✗'), "{out}");
    assert!(
        !out.contains(PAGE_TOKEN) && !out.contains(APP_SECRET),
        "{out}"
    );
}

#[tokio::test]
async fn an_instagram_login_token_on_the_facebook_host_is_named_without_calls() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    let vars: Vec<(String, String)> = facebook_vars(&server)
        .into_iter()
        .map(|(k, v)| {
            if k == "IG_PAGE_TOKEN" {
                (k, IG_TOKEN.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let (code, out, _, _) = run(&[], vars, false).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  ✗ token: an Instagram Login token (it starts with IG), but the bots send through graph.facebook.com (Facebook Login)\n      fix: set GRAPH_API_BASE=https://graph.instagram.com"), "{out}");
    assert_eq!(
        seen(&server).await,
        [req("GET", &format!("/v25.0/{APP}/subscriptions"), "")]
    );
}
