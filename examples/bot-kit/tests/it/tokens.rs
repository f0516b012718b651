//! Token upkeep against a mock Graph API (wiremock) and a real redis-server, driven by a
//! hand-moved clock: expiry in the log and `/metrics`, refresh of Instagram Login tokens
//! below 7 days, the refreshed token in the next send and in Redis, which token wins at a
//! restart, failed refreshes, and no token in any log line.

use std::time::{Duration, SystemTime};

use bot_harness::RedisServer;
use bot_kit::tokens::TokenKeeper;
use bot_kit::{Bot, Config};
use meta_webhooks::client::{Clock, Expiry};
use meta_webhooks::payload::AccountId;
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
use meta_webhooks::{Delivery, Event, classify};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Logs, ManualClock};

const ACCOUNT: &str = "17841400000000000";
const APP_ID: &str = "1234567890";
const APP_SECRET: &str = "appSECRETvalue42";
const OLD: &str = "IGAAconfiguredTOKEN0001";
const NEW: &str = "IGAArefreshedTOKEN0002";
const NEWER: &str = "IGAArefreshedTOKEN0003";
const OTHER: &str = "IGAAreplacedTOKEN0004";
const PAGE_TOKEN: &str = "EAAGpageTOKEN0005";
const DAY: Duration = Duration::from_secs(86_400);
/// What Meta answers as `expires_in` for a refreshed token (about 60 days).
const SIXTY_DAYS: u64 = 5_184_000;

/// No token of the test in any line.
fn assert_no_token(logs: &Logs) {
    logs.assert_none_of(&[OLD, NEW, NEWER, OTHER, PAGE_TOKEN, APP_SECRET]);
}

fn config(graph: &MockServer, token: &str, extra: &[(&str, String)]) -> Config {
    let mut vars = vec![
        ("IG_PAGE_TOKEN", token.to_owned()),
        ("IG_BUSINESS_ID", ACCOUNT.to_owned()),
        ("IG_APP_SECRET", APP_SECRET.to_owned()),
        ("IG_VERIFY_TOKEN", "verify-me".to_owned()),
        ("GRAPH_API_BASE", graph.uri()),
    ];
    vars.extend(extra.iter().cloned());
    Config::from_vars(vars).unwrap()
}

/// The bot of [`config`].
async fn new_bot(graph: &MockServer, token: &str, extra: &[(&str, String)]) -> Bot {
    Bot::from_config(&config(graph, token, extra))
        .await
        .unwrap()
}

async fn keeper(bot: &Bot, clock: &ManualClock) -> TokenKeeper {
    bot.token_keeper(clock.clone()).await.unwrap().unwrap()
}

fn account() -> AccountId {
    AccountId::new(ACCOUNT)
}

/// The token `keeper` has in use for the account.
fn live(keeper: &TokenKeeper) -> String {
    keeper
        .live_tokens()
        .get(&account())
        .unwrap()
        .expose()
        .to_owned()
}

/// `GET /refresh_access_token` answered with HTTP 400 and `error`, to be mounted.
fn refresh_refused(error: serde_json::Value) -> Mock {
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error))
}

/// Mounts `GET /refresh_access_token` for `from` answering `to`, once.
async fn refresh_once(graph: &MockServer, from: &str, to: &str) {
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("access_token", from))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": to, "token_type": "bearer", "expires_in": SIXTY_DAYS
        })))
        .up_to_n_times(1)
        .mount(graph)
        .await;
}

/// The refresh requests the server saw, each checked to be exactly the documented call.
async fn refreshes(graph: &MockServer) -> Vec<String> {
    graph
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/refresh_access_token")
        .map(|r| {
            assert_eq!(r.method.as_str(), "GET");
            assert!(r.headers.get("authorization").is_none(), "{r:?}");
            let pairs: Vec<(String, String)> = r
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(pairs.len(), 2, "{pairs:?}");
            assert_eq!(pairs[0], ("grant_type".into(), "ig_refresh_token".into()));
            assert_eq!(pairs[1].0, "access_token");
            pairs[1].1.clone()
        })
        .collect()
}

fn sends(requests: &[Request]) -> Vec<&Request> {
    requests
        .iter()
        .filter(|r| r.url.path() == format!("/v25.0/{ACCOUNT}/messages"))
        .collect()
}

fn text_event(user: &str, mid: &str) -> Event {
    let body = DeliveryBuilder::instagram()
        .account(ACCOUNT)
        .user(user)
        .at(SystemTime::now())
        .messaging(MessagingItem::text("price?").mid(mid))
        .build();
    classify(&Delivery::from_slice(&body).unwrap())
        .remove(0)
        .unwrap()
}

async fn accept_sends(graph: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{ACCOUNT}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "recipient_id": "42", "message_id": "m_out"
        })))
        .mount(graph)
        .await;
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn refresh_happens_below_seven_days_left_and_not_above() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    refresh_once(&graph, OLD, NEW).await;
    refresh_once(&graph, NEW, NEWER).await;
    let bot = new_bot(&graph, OLD, &[]).await;
    let clock = ManualClock::starting_now();
    let t0 = clock.now();
    let keeper = keeper(&bot, &clock).await;

    // Start: the expiry of an Instagram Login token is unknown until a refresh tells it.
    keeper.restore().await;
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD]);
    let first_expiry = t0 + Duration::from_secs(SIXTY_DAYS);
    assert_eq!(keeper.expiry(&account()), Some(Expiry::At(first_expiry)));
    assert_eq!(live(&keeper), NEW);

    // Not due again within the day.
    clock.advance(DAY / 2);
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await.len(), 1);

    // 8 days left at the daily check: logged, not refreshed.
    clock.advance(Duration::from_secs(SIXTY_DAYS) - DAY / 2 - 8 * DAY);
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await.len(), 1);
    assert!(logs.text().contains("days_left=8"), "{}", logs.text());

    // A day later, 7 days left is not "less than 7 days"; a day after that, 6 are.
    clock.advance(DAY);
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await.len(), 1);
    clock.advance(DAY);
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD, NEW]);
    assert_eq!(live(&keeper), NEWER);
    let second_expiry = clock.now() + Duration::from_secs(SIXTY_DAYS);
    assert_eq!(keeper.expiry(&account()), Some(Expiry::At(second_expiry)));

    let metrics = bot.metrics().render();
    assert!(
        metrics.contains("botkit_token_refreshes_total{outcome=\"ok\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("botkit_token_refreshes_total{outcome=\"failed\"} 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "botkit_token_expires_at_seconds{{account=\"{ACCOUNT}\"}} {}\n",
            unix(second_expiry)
        )),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE botkit_token_expires_at_seconds gauge\n"));
    assert!(logs.text().contains("access token refreshed"));
    assert_no_token(&logs);
}

#[tokio::test]
async fn the_next_send_uses_the_refreshed_token() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    refresh_once(&graph, OLD, NEW).await;
    accept_sends(&graph).await;
    let bot = new_bot(&graph, OLD, &[]).await;
    let clock = ManualClock::starting_now();

    bot.handle(&text_event("42", "m1")).await.unwrap();
    let keeper = keeper(&bot, &clock).await;
    keeper.tick().await;
    bot.handle(&text_event("43", "m2")).await.unwrap();

    let requests = graph.received_requests().await.unwrap();
    let auth: Vec<&str> = sends(&requests)
        .iter()
        .map(|r| r.headers.get("authorization").unwrap().to_str().unwrap())
        .collect();
    assert_eq!(auth, [format!("Bearer {OLD}"), format!("Bearer {NEW}")]);
    assert_no_token(&logs);
}

#[tokio::test]
async fn the_refreshed_token_is_kept_in_redis_and_wins_at_a_restart_unless_the_configured_one_changed()
 {
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start().expect("redis-server must be installed");
    let with_redis = [("REDIS_URL", redis.url())];
    let graph = MockServer::start().await;
    refresh_once(&graph, OLD, NEW).await;
    accept_sends(&graph).await;
    let clock = ManualClock::starting_now();
    let t0 = clock.now();

    // First run: refreshes and stores.
    let bot = new_bot(&graph, OLD, &with_redis).await;
    let first = keeper(&bot, &clock).await;
    first.restore().await;
    first.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD]);

    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let record: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg(format!("botkit:token:{ACCOUNT}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let expires_at = unix(t0) + SIXTY_DAYS;
    assert_eq!(record["token"], NEW);
    assert_eq!(record["expires_at"], expires_at.to_string());
    assert_eq!(record["refreshed_at"], unix(t0).to_string());
    assert_eq!(record.len(), 4, "{:?}", record.keys());
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("botkit:token:{ACCOUNT}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        ttl > 59 * 86_400,
        "the record expires with the token: {ttl}"
    );
    drop(first);
    drop(bot);

    // Restart with the same configured token: the refreshed one is used, its expiry known.
    clock.advance(DAY);
    let bot = new_bot(&graph, OLD, &with_redis).await;
    let second = keeper(&bot, &clock).await;
    second.restore().await;
    assert_eq!(live(&second), NEW);
    second.tick().await;
    assert_eq!(refreshes(&graph).await.len(), 1, "59 days left: no refresh");
    assert_eq!(
        second.expiry(&account()),
        Some(Expiry::At(
            SystemTime::UNIX_EPOCH + Duration::from_secs(expires_at)
        ))
    );
    bot.handle(&text_event("42", "m1")).await.unwrap();
    let requests = graph.received_requests().await.unwrap();
    let last = sends(&requests).pop().unwrap();
    assert_eq!(
        last.headers.get("authorization").unwrap(),
        &format!("Bearer {NEW}")
    );
    drop(second);
    drop(bot);

    // Restart with a new token in the environment: it wins.
    refresh_once(&graph, OTHER, NEWER).await;
    let bot = new_bot(&graph, OTHER, &with_redis).await;
    let third = keeper(&bot, &clock).await;
    third.restore().await;
    assert_eq!(live(&third), OTHER);
    assert!(
        logs.text()
            .contains("the configured access token changed since the last refresh")
    );
    // Its expiry is unknown: it is refreshed, and the record now descends from it.
    third.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD, OTHER]);
    let token: String = redis::cmd("HGET")
        .arg(format!("botkit:token:{ACCOUNT}"))
        .arg("token")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(token, NEWER);
    drop(third);
    drop(bot);

    // A stored token past its expiry (by the clock) is not used.
    clock.advance(Duration::from_secs(SIXTY_DAYS) + DAY);
    let bot = new_bot(&graph, OTHER, &with_redis).await;
    let fourth = keeper(&bot, &clock).await;
    fourth.restore().await;
    assert_eq!(live(&fourth), OTHER);
    assert!(
        logs.text()
            .contains("the refreshed access token in Redis has expired")
    );
    assert_no_token(&logs);
}

#[tokio::test]
async fn another_worker_adopts_a_refresh_from_redis_at_its_next_check() {
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start().expect("redis-server must be installed");
    let with_redis = [("REDIS_URL", redis.url())];
    let graph = MockServer::start().await;
    refresh_once(&graph, OLD, NEW).await;
    let clock = ManualClock::starting_now();
    let config = config(&graph, OLD, &with_redis);
    let bot_a = Bot::from_config(&config).await.unwrap();
    let bot_b = Bot::from_config(&config).await.unwrap();
    let a = keeper(&bot_a, &clock).await;
    let b = keeper(&bot_b, &clock).await;

    a.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD]);
    assert_eq!(live(&b), OLD);
    // B's first check finds A's refresh in Redis, and does not refresh again.
    b.tick().await;
    assert_eq!(live(&b), NEW);
    assert_eq!(refreshes(&graph).await.len(), 1);
    assert_no_token(&logs);
}

#[tokio::test]
async fn a_failed_refresh_is_logged_counted_and_tried_again_an_hour_later() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    refresh_refused(json!({"error": {
        "message": "Invalid parameter", "type": "OAuthException", "code": 100,
        "fbtrace_id": "Fb1"
    }}))
    .up_to_n_times(1)
    .mount(&graph)
    .await;
    let bot = new_bot(&graph, OLD, &[]).await;
    let clock = ManualClock::starting_now();
    let keeper = keeper(&bot, &clock).await;

    keeper.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD]);
    assert_eq!(live(&keeper), OLD);
    assert_eq!(keeper.expiry(&account()), None);
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(
        text.contains("the access token refresh failed; trying again later"),
        "{text}"
    );
    assert!(text.contains("code 100"), "{text}");
    assert!(text.contains("access token expiry unknown"), "{text}");
    let metrics = bot.metrics().render();
    assert!(
        metrics.contains("botkit_token_refreshes_total{outcome=\"failed\"} 1\n"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("botkit_token_expires_at_seconds{"),
        "unknown expiry: no series\n{metrics}"
    );

    // Not before the hour.
    clock.advance(Duration::from_secs(59 * 60));
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await.len(), 1);

    refresh_once(&graph, OLD, NEW).await;
    clock.advance(Duration::from_secs(60));
    keeper.tick().await;
    assert_eq!(refreshes(&graph).await, [OLD, OLD]);
    assert_eq!(live(&keeper), NEW);
    let metrics = bot.metrics().render();
    assert!(metrics.contains("botkit_token_refreshes_total{outcome=\"ok\"} 1\n"));
    assert!(metrics.contains("botkit_token_refreshes_total{outcome=\"failed\"} 1\n"));
    assert_no_token(&logs);
}

#[tokio::test]
async fn a_refresh_meta_refuses_with_190_gives_the_doctor_advice_and_waits_a_day() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    refresh_refused(json!({"error": {
        "message": format!("Error validating access token {OLD}: Session has expired."),
        "type": "OAuthException", "code": 190, "error_subcode": 463
    }}))
    .mount(&graph)
    .await;
    let bot = new_bot(&graph, OLD, &[]).await;
    let clock = ManualClock::starting_now();
    let keeper = keeper(&bot, &clock).await;

    keeper.tick().await;
    let text = logs.text();
    assert!(text.contains("ERROR"), "{text}");
    assert!(
        text.contains("run `cargo run -p doctor` to check the token"),
        "{text}"
    );
    clock.advance(2 * 60 * 60 * Duration::from_secs(1));
    keeper.tick().await;
    assert_eq!(
        refreshes(&graph).await.len(),
        1,
        "not retried within the day"
    );
    let metrics = bot.metrics().render();
    assert!(metrics.contains("botkit_token_refreshes_total{outcome=\"failed\"} 1\n"));
    assert_no_token(&logs);
}

#[tokio::test]
async fn facebook_login_tokens_are_checked_with_debug_token_when_the_app_id_is_set() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let clock = ManualClock::starting_now();
    let expires = unix(clock.now()) + 30 * 86_400;
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .and(query_param("input_token", PAGE_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "app_id": APP_ID, "type": "PAGE", "application": "Shop bot",
            "expires_at": expires, "is_valid": true,
            "scopes": ["pages_messaging"], "user_id": "5647382910", "profile_id": "1029384756"
        }})))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "app_id": APP_ID, "type": "PAGE", "is_valid": false, "expires_at": expires,
            "error": {"code": 190, "subcode": 460,
                      "message": "Error validating access token: The session has been invalidated because the user changed their password."}
        }})))
        .mount(&graph)
        .await;
    let bot = new_bot(&graph, PAGE_TOKEN, &[("IG_APP_ID", APP_ID.into())]).await;
    let keeper = keeper(&bot, &clock).await;

    keeper.tick().await;
    let requests = graph.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.url.query(),
        Some(format!("input_token={PAGE_TOKEN}").as_str())
    );
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {APP_ID}|{APP_SECRET}")
    );
    assert!(logs.text().contains("days_left=30"), "{}", logs.text());
    assert!(bot.metrics().render().contains(&format!(
        "botkit_token_expires_at_seconds{{account=\"{ACCOUNT}\"}} {expires}\n"
    )));
    assert_eq!(
        refreshes(&graph).await.len(),
        0,
        "a Page token is not refreshed"
    );

    // The next day Meta says the token is invalid: an error line with the doctor's advice.
    clock.advance(DAY);
    keeper.tick().await;
    let text = logs.text();
    assert!(
        text.contains("Meta says this account's access token is invalid; run `cargo run -p doctor` to check the token"),
        "{text}"
    );
    assert!(text.contains("subcode=460"), "{text}");
    assert_no_token(&logs);
}

#[tokio::test]
async fn without_an_app_id_a_facebook_login_token_has_an_unknown_expiry() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    let bot = new_bot(&graph, PAGE_TOKEN, &[]).await;
    let clock = ManualClock::starting_now();
    let keeper = keeper(&bot, &clock).await;
    keeper.tick().await;
    assert!(graph.received_requests().await.unwrap().is_empty());
    assert_eq!(keeper.expiry(&account()), None);
    assert!(logs.text().contains("access token expiry unknown"));
    assert_no_token(&logs);
}

#[tokio::test]
async fn an_account_paused_on_190_logs_the_doctor_advice() {
    let (logs, _guard) = Logs::capture();
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired.",
            "type": "OAuthException", "code": 190, "error_subcode": 463
        }})))
        .mount(&graph)
        .await;
    let bot = new_bot(&graph, PAGE_TOKEN, &[]).await;
    assert!(bot.handle(&text_event("42", "m1")).await.is_err());
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("Meta rejected this account's access token"))
        .unwrap_or_else(|| panic!("no pause line in\n{text}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains("run `cargo run -p doctor` to check the token"),
        "{line}"
    );
    assert_no_token(&logs);
}

#[tokio::test]
async fn dry_run_has_no_keeper() {
    let bot = Bot::from_config(&Config::from_vars([("PORT", "3000")]).unwrap())
        .await
        .unwrap();
    assert!(
        bot.token_keeper(ManualClock::starting_now())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn start_puts_the_refreshed_token_from_redis_in_use_before_the_first_reply() {
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start().expect("redis-server must be installed");
    let with_redis = [("REDIS_URL", redis.url())];
    let graph = MockServer::start().await;
    refresh_once(&graph, OLD, NEW).await;
    accept_sends(&graph).await;
    let config = config(&graph, OLD, &with_redis);

    // A first process refreshed the token and stored it.
    let first = Bot::from_config(&config).await.unwrap();
    keeper(&first, &ManualClock::starting_now())
        .await
        .tick()
        .await;
    assert_eq!(refreshes(&graph).await, [OLD]);

    // A process started afterwards replies with it from its first reply on.
    let bot = Bot::from_config(&config).await.unwrap();
    let running = bot.start().await.unwrap();
    bot.handle(&text_event("42", "m1")).await.unwrap();
    let requests = graph.received_requests().await.unwrap();
    let auth: Vec<&str> = sends(&requests)
        .iter()
        .map(|r| r.headers.get("authorization").unwrap().to_str().unwrap())
        .collect();
    assert_eq!(auth, [format!("Bearer {NEW}")]);
    assert!(running.shutdown().await);
    assert_no_token(&logs);
}
