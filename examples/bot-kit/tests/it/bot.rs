//! `Bot::handle` in process: dry-run sender, in-memory state, events built from JSON.

use bot_kit::bot::{MEDIA_REPLY, story_reply_intent};
use bot_kit::{Bot, Config, ConversationKey, ConversationStore};
use meta_webhooks::event::EventKind;
use meta_webhooks::{Delivery, Event, classify};
use serde_json::json;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn events(body: &serde_json::Value) -> Vec<Event> {
    let bytes = serde_json::to_vec(body).unwrap();
    let delivery = Delivery::from_slice(&bytes).unwrap();
    classify(&delivery)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn item(user: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut item =
        json!({"sender": {"id": user}, "recipient": {"id": "1784"}, "timestamp": now_ms()});
    item.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"object": "instagram", "entry": [{"id": "1784", "time": now_ms(), "messaging": [item]}]})
}

async fn bot() -> Bot {
    let config = Config::from_vars([("PORT", "3000")]).unwrap();
    Bot::from_config(&config).await.unwrap()
}

#[tokio::test]
async fn text_is_recorded_with_the_rule_reply_and_counted() {
    let bot = bot().await;
    let event = &events(&item(
        "42",
        json!({"message": {"mid": "m1", "text": "price?"}}),
    ))[0];
    assert_eq!(event.kind(), EventKind::Text);
    bot.handle(event).await.unwrap();
    let conversation = bot
        .store()
        .load(&ConversationKey::new("1784", "42"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.history.len(), 2, "{:?}", conversation.history);
    assert!(conversation.history[1].text.contains("prices"));
    assert!(
        bot.metrics()
            .render()
            .contains("botkit_events_total{kind=\"text\"} 1")
    );
}

#[tokio::test]
async fn an_echo_the_bot_did_not_send_hands_off_and_silences_the_bot() {
    let bot = bot().await;
    let echo = json!({"object": "instagram", "entry": [{"id": "1784", "time": now_ms(), "messaging": [{
        "sender": {"id": "1784"}, "recipient": {"id": "43"}, "timestamp": now_ms(),
        "message": {"mid": "human1", "text": "Hi, Ana here", "is_echo": true}}]}]});
    bot.handle(&events(&echo)[0]).await.unwrap();
    let key = ConversationKey::new("1784", "43");
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());

    let text = &events(&item(
        "43",
        json!({"message": {"mid": "m2", "text": "price?"}}),
    ))[0];
    bot.handle(text).await.unwrap();
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert!(
        history.iter().all(|m| m.role != bot_kit::state::Role::Bot),
        "{history:?}"
    );
}

fn echo(user: &str, mid: &str, text: &str, app_id: Option<u64>) -> Event {
    let mut message = json!({"mid": mid, "text": text, "is_echo": true});
    if let Some(app_id) = app_id {
        message["app_id"] = json!(app_id);
    }
    let body = json!({"object": "instagram", "entry": [{"id": "1784", "time": now_ms(), "messaging": [{
        "sender": {"id": "1784"}, "recipient": {"id": user}, "timestamp": now_ms(),
        "message": message}]}]});
    events(&body).remove(0)
}

/// Has `user` ask "price?" and returns the bot's (rule) reply from the history.
async fn price_reply(bot: &Bot, user: &str, mid: &str) -> String {
    bot.handle(
        &events(&item(
            user,
            json!({"message": {"mid": mid, "text": "price?"}}),
        ))[0],
    )
    .await
    .unwrap();
    let key = ConversationKey::new("1784", user);
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    history[1].text.clone()
}

#[tokio::test]
async fn with_ig_app_id_an_echo_is_told_apart_by_its_app_id() {
    const OURS: u64 = 1_517_776_481_860_111;
    const INBOX: u64 = 263_902_037_430_900;
    let config = Config::from_vars([("PORT", "3000"), ("IG_APP_ID", "1517776481860111")]).unwrap();
    let bot = Bot::from_config(&config).await.unwrap();

    // This app's echo whose mid the bot has not learned yet (it came before the Send
    // API's answer) and whose text is in no history: still this bot's, no handoff.
    bot.handle(&echo("46", "early", "Hello from the bot", Some(OURS)))
        .await
        .unwrap();
    let key = ConversationKey::new("1784", "46");
    assert!(bot.store().load(&key).await.unwrap().is_none());

    // A human typing in the inbox the very text the bot just sent: the app id says human.
    let key = ConversationKey::new("1784", "47");
    let reply = price_reply(&bot, "47", "m5").await;
    bot.handle(&echo("47", "inbox1", &reply, Some(INBOX)))
        .await
        .unwrap();
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());

    // No app_id on the echo: mid and text decide, as without IG_APP_ID.
    bot.handle(&echo("48", "noapp", "Ana here", None))
        .await
        .unwrap();
    let key = ConversationKey::new("1784", "48");
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());
}

#[tokio::test]
async fn without_ig_app_id_an_echo_of_a_recent_bot_reply_is_the_bots() {
    let bot = bot().await;
    let key = ConversationKey::new("1784", "49");
    let reply = price_reply(&bot, "49", "m6").await;
    // An app_id is ignored when the bot does not know its own.
    bot.handle(&echo("49", "other-process", &reply, Some(1)))
        .await
        .unwrap();
    assert!(!bot.store().load(&key).await.unwrap().unwrap().is_handoff());
}

#[tokio::test]
async fn media_is_acknowledged_and_stale_events_are_recorded_only() {
    let bot = bot().await;
    let media = item(
        "44",
        json!({"message": {"mid": "m3", "attachments": [{"type": "image", "payload": {"url": "https://x"}}]}}),
    );
    bot.handle(&events(&media)[0]).await.unwrap();
    let key = ConversationKey::new("1784", "44");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.last().unwrap().text, MEDIA_REPLY);

    let stale = json!({"object": "instagram", "entry": [{"id": "1784", "time": 1, "messaging": [{
        "sender": {"id": "45"}, "recipient": {"id": "1784"}, "timestamp": now_ms() - 48 * 3_600_000,
        "message": {"mid": "m4", "text": "price?"}}]}]});
    bot.handle(&events(&stale)[0]).await.unwrap();
    let history = bot
        .store()
        .load(&ConversationKey::new("1784", "45"))
        .await
        .unwrap()
        .unwrap()
        .history;
    assert_eq!(history.len(), 1, "recorded, not answered: {history:?}");
}

#[test]
fn story_reply_intents() {
    assert_eq!(
        story_reply_intent("How much?"),
        bot_kit::bot::STORY_REPLY_BUY
    );
    assert_eq!(
        story_reply_intent("do you SHIP to Spain"),
        bot_kit::bot::STORY_REPLY_SHIP
    );
    assert_eq!(
        story_reply_intent("amazing 😍"),
        bot_kit::bot::STORY_REPLY_LOVE
    );
    assert_eq!(story_reply_intent("ok"), bot_kit::bot::STORY_REPLY_THANKS);
}

#[test]
fn bearer_check() {
    let token = bot_kit::Secret::new("0123456789abcdef-admin");
    assert!(bot_kit::bot::bearer_matches(
        &token,
        Some("Bearer 0123456789abcdef-admin")
    ));
    assert!(!bot_kit::bot::bearer_matches(
        &token,
        Some("Bearer 0123456789abcdef-admiN")
    ));
    assert!(!bot_kit::bot::bearer_matches(
        &token,
        Some("0123456789abcdef-admin")
    ));
    assert!(!bot_kit::bot::bearer_matches(&token, None));
}
