//! `--callback URL`: the handshake and the forged signature against a local endpoint, and
//! the app's callback URL compared with it.

use serde_json::json;
use wiremock::MockServer;

use super::*;

async fn graph(callback: &str) -> MockServer {
    let server = MockServer::start().await;
    mount_app_subscriptions(
        &server,
        json!([instagram_subscription(callback, &ALL_INSTAGRAM_FIELDS)]),
    )
    .await;
    server
}

fn callback_only_vars(server: &MockServer) -> Vec<(String, String)> {
    vec![
        ("GRAPH_API_BASE".into(), server.uri()),
        ("IG_APP_SECRET".into(), APP_SECRET.into()),
        ("IG_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ("IG_APP_ID".into(), APP.into()),
    ]
}

#[tokio::test]
async fn a_good_endpoint_echoes_the_challenge_and_refuses_a_forged_signature() {
    let (bot, url) = endpoint(true).await;
    let server = graph(&url).await;
    let (code, out, _, _) = run(&["--callback", &url], callback_only_vars(&server), false).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        format!(
            "App {APP}\n  ✓ callback handshake: {url} echoed a random challenge\n  ✓ callback signature: a delivery with a wrong signature got 401\nAll checks passed.\n"
        )
    );
    let requests = bot.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let get = &requests[0];
    assert_eq!(get.method.as_str(), "GET");
    let query: Vec<(String, String)> = get.url.query_pairs().into_owned().collect();
    assert_eq!(query[0], ("hub.mode".into(), "subscribe".into()));
    assert_eq!(query[1], ("hub.verify_token".into(), VERIFY_TOKEN.into()));
    assert_eq!(query[2].0, "hub.challenge");
    assert_eq!(query[2].1.len(), 10);
    assert!(query[2].1.bytes().all(|b| b.is_ascii_digit()));
    let post = &requests[1];
    assert_eq!(post.method.as_str(), "POST");
    assert_eq!(post.body, br#"{"object":"instagram","entry":[]}"#);
    assert!(
        post.headers
            .get("x-hub-signature-256")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("sha256=")
    );
    // Two runs, two challenges.
    let (_, _, _, _) = run(&["--callback", &url], callback_only_vars(&server), false).await;
    let again = bot.received_requests().await.unwrap();
    assert_ne!(again[0].url.query(), again[2].url.query());
}

#[tokio::test]
async fn a_bad_endpoint_fails_both_checks() {
    let (_bot, url) = endpoint(false).await;
    let server = graph(&url).await;
    let (code, out, _, _) = run(&["--callback", &url], callback_only_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("  ✗ callback handshake: {url} answered the handshake with 403 Forbidden\n      fix: the endpoint refused IG_VERIFY_TOKEN")), "{out}");
    assert!(
        out.contains(
            "  ✗ callback signature: a delivery with a wrong signature was accepted (200 OK)\n"
        ),
        "{out}"
    );
    assert!(
        !out.contains(VERIFY_TOKEN),
        "the verify token is never printed: {out}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_problem() {
    // A port nothing listens on (wiremock keeps dropped servers in a pool).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/webhook");
    let server = graph(&url).await;
    let (code, out, _, _) = run(&["--callback", &url], callback_only_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  ✗ callback handshake: {url} could not be reached"
        )),
        "{out}"
    );
    assert!(!out.contains(VERIFY_TOKEN), "{out}");
}

#[tokio::test]
async fn the_app_must_send_its_webhooks_to_the_callback() {
    let (_bot, url) = endpoint(true).await;
    let server = graph("https://old.example.com/hook").await;
    mount_debug_token(&server, PAGE_TOKEN, token_info("PAGE", &FACEBOOK_SCOPES, 0)).await;
    let (code, out, _, _) = run(&["--callback", &url], facebook_vars(&server), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  ✗ app webhooks: app {APP}'s instagram webhooks go to https://old.example.com/hook, not {url}\n      fix: App Dashboard of app {APP} → Webhooks → instagram: set the callback URL to {url}"
        )),
        "{out}"
    );
    assert!(out.contains("  ✓ callback handshake"), "{out}");
}
