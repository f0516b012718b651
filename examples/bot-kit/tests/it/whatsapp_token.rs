//! The WhatsApp number's token in the daily token check, against a mock Graph API
//! (wiremock) and a hand-moved clock: its expiry from `debug_token` with the WhatsApp
//! app's token, in the log and `/metrics` under the phone number id; an invalid token gets
//! the doctor's advice; no app id, no request; never a refresh; no token in any log line.

use std::time::{Duration, SystemTime};

use bot_kit::tokens::{DOCTOR_ADVICE, TokenKeeper};
use bot_kit::{Bot, Config};
use meta_webhooks::client::{Clock, Expiry};
use meta_webhooks::payload::AccountId;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Logs, ManualClock};

const PHONE_NUMBER_ID: &str = "106540352242922";
const WA_TOKEN: &str = "EAAWAsystemUSERtoken0101";
const IG_ACCOUNT: &str = "17841400000000000";
const PAGE_TOKEN: &str = "EAAGpageTOKEN0102";
const IG_APP_ID: &str = "1234567890";
const IG_APP_SECRET: &str = "igAPPsecretVALUE42";
const WA_APP_ID: &str = "9876543210";
const WA_APP_SECRET: &str = "waAPPsecretVALUE43";
const DAY: Duration = Duration::from_secs(86_400);

fn start() -> ManualClock {
    ManualClock::at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_547_600))
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

/// No token or app secret of the test in any line.
fn assert_no_secret(logs: &Logs) {
    logs.assert_none_of(&[WA_TOKEN, PAGE_TOKEN, IG_APP_SECRET, WA_APP_SECRET]);
}

/// A bot live on WhatsApp only (Instagram dry), with `extra` variables.
fn whatsapp_config(graph: &MockServer, extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("WA_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_owned()),
        ("WA_TOKEN", WA_TOKEN.to_owned()),
        ("IG_VERIFY_TOKEN", "verify-me".to_owned()),
        ("GRAPH_API_BASE", graph.uri()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Config::from_vars(vars).unwrap()
}

async fn keeper(config: &Config, clock: &ManualClock) -> (Bot, TokenKeeper) {
    let bot = Bot::from_config(config).await.unwrap();
    let keeper = bot.token_keeper(clock.clone()).await.unwrap().unwrap();
    (bot, keeper)
}

fn phone() -> AccountId {
    AccountId::new(PHONE_NUMBER_ID)
}

/// `debug_token` for `WA_TOKEN` answering `data`.
async fn debug_token_answers(graph: &MockServer, data: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .and(query_param("input_token", WA_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": data })))
        .mount(graph)
        .await;
}

fn system_user_token(app_id: &str, expires_at: u64) -> serde_json::Value {
    json!({
        "app_id": app_id, "type": "SYSTEM_USER", "application": "Shop bot WhatsApp",
        "data_access_expires_at": 0, "expires_at": expires_at, "is_valid": true,
        "issued_at": 1_790_000_000u64,
        "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
        "granular_scopes": [
            {"scope": "whatsapp_business_messaging", "target_ids": ["102290129340398"]}
        ],
        "user_id": "122100000000000001"
    })
}

fn gauge(bot: &Bot, account: &str) -> Option<String> {
    let prefix = format!("botkit_token_expires_at_seconds{{account=\"{account}\"}} ");
    bot.metrics()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

#[tokio::test]
async fn the_whatsapp_numbers_expiry_is_logged_and_exported_daily_and_never_refreshed() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let clock = start();
    // Three days left: an Instagram Login token would be refreshed, this one is not.
    let expires = unix(clock.now()) + 3 * 86_400;
    debug_token_answers(&graph, system_user_token(IG_APP_ID, expires)).await;
    let config = whatsapp_config(
        &graph,
        &[("IG_APP_ID", IG_APP_ID), ("IG_APP_SECRET", IG_APP_SECRET)],
    );
    let (bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    let line = logs.line("access token expiry");
    assert!(line.contains(" INFO "), "{line}");
    assert!(
        line.contains(&format!("account={PHONE_NUMBER_ID}")),
        "{line}"
    );
    assert!(line.contains("expires_at=2026-12-09T09:00:00Z"), "{line}");
    assert!(line.contains("days_left=3"), "{line}");
    assert_eq!(gauge(&bot, PHONE_NUMBER_ID), Some(expires.to_string()));
    assert_eq!(
        keeper.expiry(&phone()),
        Some(Expiry::At(
            SystemTime::UNIX_EPOCH + Duration::from_secs(expires)
        ))
    );

    // Not due again within the day; due the next day.
    keeper.tick().await;
    assert_eq!(graph.received_requests().await.unwrap().len(), 1);
    clock.advance(DAY);
    keeper.tick().await;
    let requests = graph.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.url.path() == "/v25.0/debug_token"),
        "only debug_token, never a refresh: {:?}",
        requests.iter().map(|r| r.url.path()).collect::<Vec<_>>()
    );
    assert!(logs.text().contains("days_left=2"), "{}", logs.text());
    assert_no_secret(&logs);
}

#[tokio::test]
async fn a_system_user_token_that_never_expires_is_reported_as_0() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    debug_token_answers(&graph, system_user_token(IG_APP_ID, 0)).await;
    let config = whatsapp_config(
        &graph,
        &[("IG_APP_ID", IG_APP_ID), ("IG_APP_SECRET", IG_APP_SECRET)],
    );
    let clock = start();
    let (bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    assert_eq!(keeper.expiry(&phone()), Some(Expiry::Never));
    assert_eq!(gauge(&bot, PHONE_NUMBER_ID).as_deref(), Some("0"));
    let line = logs.line("access token expiry: never");
    assert!(
        line.contains(&format!("account={PHONE_NUMBER_ID}")),
        "{line}"
    );
    assert_no_secret(&logs);
}

#[tokio::test]
async fn the_debug_token_request_is_exactly_the_documented_call_with_the_whatsapp_apps_token() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let clock = start();
    debug_token_answers(
        &graph,
        system_user_token(WA_APP_ID, unix(clock.now()) + 60 * 86_400),
    )
    .await;
    // Two apps: the WhatsApp app's id and secret make the app token.
    let config = whatsapp_config(
        &graph,
        &[
            ("IG_APP_ID", IG_APP_ID),
            ("IG_APP_SECRET", IG_APP_SECRET),
            ("WA_APP_ID", WA_APP_ID),
            ("WA_APP_SECRET", WA_APP_SECRET),
        ],
    );
    let (_bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    let requests = graph.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v25.0/debug_token");
    assert_eq!(
        request.url.query(),
        Some(format!("input_token={WA_TOKEN}").as_str())
    );
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {WA_APP_ID}|{WA_APP_SECRET}")
    );
    assert!(request.body.is_empty());
    assert!(logs.text().contains("days_left=60"), "{}", logs.text());
    assert_no_secret(&logs);
}

#[tokio::test]
async fn one_app_with_both_products_checks_the_whatsapp_token_with_ig_app_id() {
    let graph = MockServer::start().await;
    let clock = start();
    debug_token_answers(&graph, system_user_token(IG_APP_ID, 0)).await;
    let config = whatsapp_config(
        &graph,
        &[("IG_APP_ID", IG_APP_ID), ("IG_APP_SECRET", IG_APP_SECRET)],
    );
    let (_bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    let requests = graph.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers.get("authorization").unwrap(),
        &format!("Bearer {IG_APP_ID}|{IG_APP_SECRET}")
    );
}

#[tokio::test]
async fn an_invalid_whatsapp_token_is_logged_at_error_with_the_doctors_advice() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let clock = start();
    let expired = unix(clock.now()) - 86_400;
    debug_token_answers(
        &graph,
        json!({
            "app_id": WA_APP_ID, "type": "SYSTEM_USER", "application": "Shop bot WhatsApp",
            "expires_at": expired, "is_valid": false,
            "error": {"code": 190, "subcode": 463,
                      "message": format!("Error validating access token: Session has expired. Token: {WA_TOKEN}")},
            "scopes": ["whatsapp_business_messaging"], "user_id": "122100000000000001"
        }),
    )
    .await;
    let config = whatsapp_config(
        &graph,
        &[("WA_APP_ID", WA_APP_ID), ("WA_APP_SECRET", WA_APP_SECRET)],
    );
    let (bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    let line = logs.line(DOCTOR_ADVICE);
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("access token is invalid"), "{line}");
    assert!(
        line.contains(&format!("account={PHONE_NUMBER_ID}")),
        "{line}"
    );
    assert!(
        line.contains("code=190") && line.contains("subcode=463"),
        "{line}"
    );
    assert!(line.contains("[redacted]"), "{line}");
    assert_eq!(gauge(&bot, PHONE_NUMBER_ID), Some(expired.to_string()));
    assert_no_secret(&logs);
}

#[tokio::test]
async fn without_the_whatsapp_apps_id_the_expiry_is_unknown_and_no_request_is_made() {
    let graph = MockServer::start().await;
    let cases: [&[(&str, &str)]; 3] = [
        // No app id at all.
        &[("IG_APP_SECRET", IG_APP_SECRET)],
        // IG_APP_ID is another app's than WA_APP_SECRET's.
        &[
            ("IG_APP_ID", IG_APP_ID),
            ("IG_APP_SECRET", IG_APP_SECRET),
            ("WA_APP_SECRET", WA_APP_SECRET),
        ],
        // WhatsApp only with its own secret: IG_APP_ID does not name its app.
        &[("IG_APP_ID", IG_APP_ID), ("WA_APP_SECRET", WA_APP_SECRET)],
    ];
    for extra in cases {
        let (logs, _guard) = Logs::capture();
        let clock = start();
        let (bot, keeper) = keeper(&whatsapp_config(&graph, extra), &clock).await;
        keeper.tick().await;
        assert!(
            graph.received_requests().await.unwrap().is_empty(),
            "{extra:?}"
        );
        assert_eq!(keeper.expiry(&phone()), None, "{extra:?}");
        let line = logs.line("access token expiry unknown");
        assert!(
            line.contains(&format!("account={PHONE_NUMBER_ID}")),
            "{line}"
        );
        assert_eq!(gauge(&bot, PHONE_NUMBER_ID), None, "{extra:?}");
        assert_no_secret(&logs);
    }
}

#[tokio::test]
async fn the_accounts_and_the_whatsapp_number_are_checked_together_each_with_its_apps_token() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let clock = start();
    let page_expires = unix(clock.now()) + 50 * 86_400;
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .and(query_param("input_token", PAGE_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "app_id": IG_APP_ID, "type": "PAGE", "application": "Shop bot",
            "expires_at": page_expires, "is_valid": true,
            "scopes": ["pages_messaging"], "user_id": "5647382910", "profile_id": "1029384756"
        }})))
        .mount(&graph)
        .await;
    debug_token_answers(&graph, system_user_token(WA_APP_ID, 0)).await;
    let config = whatsapp_config(
        &graph,
        &[
            ("IG_PAGE_TOKEN", PAGE_TOKEN),
            ("IG_BUSINESS_ID", IG_ACCOUNT),
            ("IG_APP_ID", IG_APP_ID),
            ("IG_APP_SECRET", IG_APP_SECRET),
            ("WA_APP_ID", WA_APP_ID),
            ("WA_APP_SECRET", WA_APP_SECRET),
        ],
    );
    let (bot, keeper) = keeper(&config, &clock).await;

    keeper.tick().await;
    let requests = graph.received_requests().await.unwrap();
    let bearer_for = |input: &str| {
        requests
            .iter()
            .find(|r| r.url.query() == Some(format!("input_token={input}").as_str()))
            .unwrap_or_else(|| panic!("no debug_token for {input}"))
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(requests.len(), 2);
    assert_eq!(
        bearer_for(PAGE_TOKEN),
        format!("Bearer {IG_APP_ID}|{IG_APP_SECRET}")
    );
    assert_eq!(
        bearer_for(WA_TOKEN),
        format!("Bearer {WA_APP_ID}|{WA_APP_SECRET}")
    );
    assert_eq!(gauge(&bot, IG_ACCOUNT), Some(page_expires.to_string()));
    assert_eq!(gauge(&bot, PHONE_NUMBER_ID).as_deref(), Some("0"));
    assert_no_secret(&logs);
}
