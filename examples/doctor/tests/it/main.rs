//! The doctor against a local mock of the Graph API (wiremock), asserting the exact
//! requests, and against a local webhook endpoint built on the library's own handshake and
//! signature code. Nothing leaves 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests assert by panicking"
)]

mod callback;
mod cli;
mod facebook;
mod instagram;
mod whatsapp;

use std::time::{Duration, SystemTime};

use doctor::{Io, Options, Settings};
use meta_webhooks::signature::Verifier;
use meta_webhooks::{AppSecret, VerifyToken};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const APP: &str = "1234567890";
pub(crate) const APP_SECRET: &str = "app-secret-0123456789";
pub(crate) const VERIFY_TOKEN: &str = "verify-token-abc";
pub(crate) const IG: &str = "17841400000000000";
pub(crate) const PAGE: &str = "104512345678901";
pub(crate) const PAGE_TOKEN: &str = "EAAGpageTOKEN0123456789";
pub(crate) const IG_TOKEN: &str = "IGAAuserTOKEN0123456789";
pub(crate) const PHONE: &str = "106540352242922";
pub(crate) const WABA: &str = "102290129340398";
pub(crate) const WA_TOKEN: &str = "EAAGwhatsappTOKEN0123";
pub(crate) const CALLBACK: &str = "https://bot.example.com/webhook";

/// 2026-12-06T06:00:00Z: the doctor's clock in these tests.
pub(crate) fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_536_800)
}

pub(crate) fn unix(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

pub(crate) fn app_bearer() -> String {
    format!("Bearer {APP}|{APP_SECRET}")
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The bots' variables for one Instagram account with Facebook Login at `server`.
pub(crate) fn facebook_vars(server: &MockServer) -> Vec<(String, String)> {
    vec![
        ("GRAPH_API_BASE".into(), server.uri()),
        ("IG_APP_SECRET".into(), APP_SECRET.into()),
        ("IG_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ("IG_APP_ID".into(), APP.into()),
        ("IG_BUSINESS_ID".into(), IG.into()),
        ("IG_PAGE_TOKEN".into(), PAGE_TOKEN.into()),
    ]
}

/// Runs the doctor as `main` does, with `args`, the variables and a fixed answer to the
/// confirmation; returns (exit code, stdout, stderr, whether it asked).
pub(crate) async fn run(
    args: &[&str],
    vars: Vec<(String, String)>,
    answer: bool,
) -> (u8, String, String, bool) {
    let options = Options::parse(args.iter().copied()).unwrap();
    let settings = Settings::from_vars(vars, options.login);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut asked = false;
    let mut confirm = || {
        asked = true;
        answer
    };
    let code = {
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            confirm: &mut confirm,
        };
        run_at(&options, settings, &mut io).await
    };
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        asked,
    )
}

async fn run_at(
    options: &Options,
    settings: Result<Settings, doctor::SettingsError>,
    io: &mut Io<'_>,
) -> u8 {
    doctor::run_at(options, settings, now(), io).await
}

/// `(method, path, query)` of every request the mock saw, in order, after checking token
/// hygiene: a bearer on every request, and a token in the URL only as `debug_token`'s
/// `input_token`.
pub(crate) async fn seen(server: &MockServer) -> Vec<(String, String, String)> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| {
            let query = r.url.query().unwrap_or("").to_owned();
            assert!(
                r.headers
                    .get("authorization")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer ")),
                "no bearer on {} {}",
                r.method,
                r.url.path()
            );
            assert!(!query.contains("access_token"), "token in URL: {query}");
            if r.url.path() != "/v25.0/debug_token" {
                for token in [PAGE_TOKEN, IG_TOKEN, WA_TOKEN, APP_SECRET] {
                    assert!(!query.contains(token), "token in URL: {query}");
                }
            }
            (r.method.to_string(), r.url.path().to_owned(), query)
        })
        .collect()
}

/// The `POST` requests among [`seen`]'s.
pub(crate) async fn posts(server: &MockServer) -> Vec<(String, String, String)> {
    seen(server)
        .await
        .into_iter()
        .filter(|r| r.0 == "POST")
        .collect()
}

pub(crate) fn req(method: &str, path: &str, query: &str) -> (String, String, String) {
    (method.to_owned(), path.to_owned(), query.to_owned())
}

pub(crate) fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// A valid token's `debug_token` answer with `scopes`.
pub(crate) fn token_info(kind: &str, scopes: &[&str], expires_at: i64) -> Value {
    json!({"data": {
        "app_id": APP, "type": kind, "application": "Shop bot",
        "data_access_expires_at": 0, "expires_at": expires_at, "is_valid": true,
        "issued_at": 1_790_000_000, "scopes": scopes, "user_id": "5647382910"
    }})
}

pub(crate) const FACEBOOK_SCOPES: [&str; 6] = [
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
    "pages_manage_metadata",
    "pages_read_engagement",
    "pages_show_list",
];

/// Mounts `GET /v25.0/debug_token?input_token=<token>` with the app token.
pub(crate) async fn mount_debug_token(server: &MockServer, token: &str, answer: Value) {
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .and(query_param("input_token", token))
        .and(header("authorization", app_bearer().as_str()))
        .respond_with(ok_json(answer))
        .mount(server)
        .await;
}

/// Mounts the app's subscriptions.
pub(crate) async fn mount_app_subscriptions(server: &MockServer, data: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{APP}/subscriptions")))
        .and(header("authorization", app_bearer().as_str()))
        .respond_with(ok_json(json!({ "data": data })))
        .mount(server)
        .await;
}

pub(crate) fn instagram_subscription(callback: &str, fields: &[&str]) -> Value {
    json!({
        "object": "instagram", "callback_url": callback, "active": true,
        "fields": fields.iter().map(|f| json!({"name": f, "version": "v25.0"})).collect::<Vec<_>>()
    })
}

pub(crate) const ALL_INSTAGRAM_FIELDS: [&str; 4] = [
    "messages",
    "messaging_postbacks",
    "messaging_referral",
    "comments",
];

/// Mounts the app's `instagram` subscription to [`CALLBACK`] with every field the bots need.
pub(crate) async fn mount_instagram_app(server: &MockServer) {
    mount_app_subscriptions(
        server,
        json!([instagram_subscription(CALLBACK, &ALL_INSTAGRAM_FIELDS)]),
    )
    .await;
}

/// A webhook endpoint on 127.0.0.1 built on the library's handshake and signature checks,
/// as the bots serve it; `good = false` answers like a misconfigured one (wrong verify token,
/// no signature check).
pub(crate) struct Endpoint {
    good: bool,
}

impl Respond for Endpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !self.good {
            return if request.method.as_str() == "GET" {
                ResponseTemplate::new(403)
            } else {
                ResponseTemplate::new(200)
            };
        }
        if request.method.as_str() == "GET" {
            let handshake =
                meta_webhooks::handshake::Handshake::new(VerifyToken::new(VERIFY_TOKEN).unwrap());
            return match handshake.respond(request.url.query().unwrap_or("")) {
                Ok(challenge) => ResponseTemplate::new(200)
                    .insert_header("content-type", "text/plain")
                    .set_body_string(challenge.as_str()),
                Err(error) => ResponseTemplate::new(error.status().as_u16()),
            };
        }
        let verifier = Verifier::new(AppSecret::new(APP_SECRET).unwrap());
        let signature = request
            .headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match verifier.verify(&request.body, signature) {
            Ok(_) => ResponseTemplate::new(200),
            Err(_) => ResponseTemplate::new(401),
        }
    }
}

/// Starts a webhook endpoint at `/webhook`; returns the server and its URL.
pub(crate) async fn endpoint(good: bool) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(path("/webhook"))
        .respond_with(Endpoint { good })
        .mount(&server)
        .await;
    let url = format!("{}/webhook", server.uri());
    (server, url)
}
