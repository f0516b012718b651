//! `Bot::handle` on WhatsApp events in process: dry-run sender (WhatsApp replies printed),
//! in-memory state, deliveries built with `meta_webhooks::test_util`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bot_kit::state::Role;
use bot_kit::{Bot, Config, ConversationKey, ConversationStore};
use meta_webhooks::event::{Channel, EventKind};
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, WhatsAppChange, WhatsAppItem};
use meta_webhooks::{Delivery, Event, classify};
use serde_json::json;

/// The business number of the deliveries.
const PHONE_NUMBER_ID: &str = WhatsAppChange::PHONE_NUMBER_ID;

/// The one event of a WhatsApp delivery from `wa_id` holding `change`, at `at`.
fn whatsapp(wa_id: &str, at: SystemTime, change: WhatsAppChange) -> Event {
    let body = DeliveryBuilder::whatsapp()
        .user(wa_id)
        .at(at)
        .change(change.into())
        .build();
    let delivery = Delivery::from_slice(&body).unwrap();
    let mut events = classify(&delivery);
    assert_eq!(events.len(), 1);
    let event = events.remove(0).unwrap();
    assert_eq!(event.channel(), Channel::WhatsApp);
    event
}

fn secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn bot(vars: &[(&str, &str)]) -> Bot {
    let config = Config::from_vars(vars.iter().copied()).unwrap();
    Bot::from_config(&config).await.unwrap()
}

#[tokio::test]
async fn a_whatsapp_text_is_answered_in_the_numbers_conversation_with_the_person() {
    let bot = bot(&[]).await;
    let now = SystemTime::now();
    let event = whatsapp(
        "16505551234",
        now,
        WhatsAppChange::new().message(WhatsAppItem::text("price?").timestamp_secs(secs(now))),
    );
    assert_eq!(event.kind(), EventKind::Text);
    bot.handle(&event).await.unwrap();
    let key = ConversationKey::new(PHONE_NUMBER_ID, "16505551234");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].text, "price?");
    assert_eq!(history[1].role, Role::Bot);
    assert!(history[1].text.contains("prices"), "{history:?}");
}

#[tokio::test]
async fn statuses_are_counted_and_touch_no_conversation() {
    let bot = bot(&[]).await;
    for status in ["sent", "delivered", "read", "failed"] {
        let event = whatsapp(
            "16505551234",
            SystemTime::now(),
            WhatsAppChange::new().status("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI=", status),
        );
        assert_eq!(event.kind(), EventKind::Status);
        bot.handle(&event).await.unwrap();
    }
    for key in [
        ConversationKey::new(PHONE_NUMBER_ID, "16505551234"),
        ConversationKey::new(PHONE_NUMBER_ID, PHONE_NUMBER_ID),
    ] {
        assert!(bot.store().load(&key).await.unwrap().is_none(), "{key}");
    }
    assert!(
        bot.metrics()
            .render()
            .contains("botkit_events_total{kind=\"status\"} 4")
    );
}

#[tokio::test]
async fn an_order_is_recorded_without_a_reply() {
    let bot = bot(&[]).await;
    let now = SystemTime::now();
    let order = WhatsAppItem::raw(json!({
        "from": "16505551234", "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUI=",
        "timestamp": secs(now).to_string(), "type": "order",
        "order": {"catalog_id": "194836987003835", "text": "Two of these, please",
                  "product_items": [{"product_retailer_id": "di9ozbzfi4", "quantity": 2,
                                     "item_price": 30, "currency": "USD"}]}
    }));
    let event = whatsapp("16505551234", now, WhatsAppChange::new().message(order));
    assert_eq!(event.kind(), EventKind::Order);
    bot.handle(&event).await.unwrap();
    let key = ConversationKey::new(PHONE_NUMBER_ID, "16505551234");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].text, "[order] Two of these, please");
}

/// With `MAX_EVENT_AGE_SECS` above a day, a message whose 24 h window has closed is still
/// recorded and not answered, on WhatsApp as on Instagram.
#[tokio::test]
async fn no_reply_once_the_24_hour_window_has_closed() {
    let bot = bot(&[("MAX_EVENT_AGE_SECS", "172800")]).await;
    let then = SystemTime::now() - Duration::from_secs(30 * 3600);
    let event = whatsapp(
        "16505551234",
        then,
        WhatsAppChange::new().message(WhatsAppItem::text("price?").timestamp_secs(secs(then))),
    );
    bot.handle(&event).await.unwrap();
    let key = ConversationKey::new(PHONE_NUMBER_ID, "16505551234");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.len(), 1, "recorded, not answered: {history:?}");

    let body = DeliveryBuilder::instagram()
        .account("1784")
        .user("42")
        .at(then)
        .messaging(MessagingItem::text("price?").mid("m_old"))
        .build();
    let delivery = Delivery::from_slice(&body).unwrap();
    let event = classify(&delivery).remove(0).unwrap();
    bot.handle(&event).await.unwrap();
    let key = ConversationKey::new("1784", "42");
    let history = bot.store().load(&key).await.unwrap().unwrap().history;
    assert_eq!(history.len(), 1, "recorded, not answered: {history:?}");

    // Within the window, the same bot answers.
    let now = SystemTime::now();
    let event = whatsapp(
        "16505550000",
        now,
        WhatsAppChange::new().message(WhatsAppItem::text("price?").timestamp_secs(secs(now))),
    );
    bot.handle(&event).await.unwrap();
    let key = ConversationKey::new(PHONE_NUMBER_ID, "16505550000");
    assert_eq!(
        bot.store().load(&key).await.unwrap().unwrap().history.len(),
        2
    );
}
