//! `Bot::handle` in process: dry-run sender, in-memory state, events from deliveries
//! built with `meta_webhooks::test_util`.

use std::time::{Duration, SystemTime};

use bot_kit::bot::{MEDIA_REPLY, story_reply_intent};
use bot_kit::{Bot, Config, ConversationKey, ConversationStore};
use meta_webhooks::event::EventKind;
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
use meta_webhooks::{Delivery, Event, classify};

/// The account the deliveries are for.
const ACCOUNT: &str = "1784";

/// The one event of a delivery to [`ACCOUNT`] from `user`, sent now, holding `item`.
fn event(user: &str, item: MessagingItem) -> Event {
    let body = DeliveryBuilder::instagram()
        .account(ACCOUNT)
        .user(user)
        .at(SystemTime::now())
        .messaging(item)
        .build();
    let delivery = Delivery::from_slice(&body).unwrap();
    classify(&delivery).remove(0).unwrap()
}

async fn bot() -> Bot {
    let config = Config::from_vars([("PORT", "3000")]).unwrap();
    Bot::from_config(&config).await.unwrap()
}

#[tokio::test]
async fn text_is_recorded_with_the_rule_reply_and_counted() {
    let bot = bot().await;
    let event = event("42", MessagingItem::text("price?").mid("m1"));
    assert_eq!(event.kind(), EventKind::Text);
    bot.handle(&event).await.unwrap();
    let conversation = bot
        .store()
        .load(&ConversationKey::new(ACCOUNT, "42"))
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
    bot.handle(&echo("43", "human1", "Hi, Ana here", None))
        .await
        .unwrap();
    let key = ConversationKey::new(ACCOUNT, "43");
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());

    let text = event("43", MessagingItem::text("price?").mid("m2"));
    bot.handle(&text).await.unwrap();
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert!(
        history.iter().all(|m| m.role != bot_kit::state::Role::Bot),
        "{history:?}"
    );
}

/// An echo of `text` to `user` with the message id `mid`, sent by the app `app_id`.
fn echo(user: &str, mid: &str, text: &str, app_id: Option<u64>) -> Event {
    let mut item = MessagingItem::echo(text).mid(mid);
    if let Some(app_id) = app_id {
        item = item.payload_field("app_id", app_id);
    }
    event(user, item)
}

/// Has `user` ask "price?" and returns the bot's (rule) reply from the history.
async fn price_reply(bot: &Bot, user: &str, mid: &str) -> String {
    bot.handle(&event(user, MessagingItem::text("price?").mid(mid)))
        .await
        .unwrap();
    let key = ConversationKey::new(ACCOUNT, user);
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
    let key = ConversationKey::new(ACCOUNT, "46");
    assert!(bot.store().load(&key).await.unwrap().is_none());

    // A human typing in the inbox the very text the bot just sent: the app id says human.
    let key = ConversationKey::new(ACCOUNT, "47");
    let reply = price_reply(&bot, "47", "m5").await;
    bot.handle(&echo("47", "inbox1", &reply, Some(INBOX)))
        .await
        .unwrap();
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());

    // No app_id on the echo: mid and text decide, as without IG_APP_ID.
    bot.handle(&echo("48", "noapp", "Ana here", None))
        .await
        .unwrap();
    let key = ConversationKey::new(ACCOUNT, "48");
    assert!(bot.store().load(&key).await.unwrap().unwrap().is_handoff());
}

#[tokio::test]
async fn without_ig_app_id_an_echo_of_a_recent_bot_reply_is_the_bots() {
    let bot = bot().await;
    let key = ConversationKey::new(ACCOUNT, "49");
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
    let media = event("44", MessagingItem::media("image", "https://x").mid("m3"));
    bot.handle(&media).await.unwrap();
    let key = ConversationKey::new(ACCOUNT, "44");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.last().unwrap().text, MEDIA_REPLY);

    let two_days_ago = SystemTime::now() - Duration::from_secs(48 * 3600);
    let stale = event(
        "45",
        MessagingItem::text("price?").mid("m4").at(two_days_ago),
    );
    bot.handle(&stale).await.unwrap();
    let history = bot
        .store()
        .load(&ConversationKey::new(ACCOUNT, "45"))
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
