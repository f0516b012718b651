//! One URL for every product: Instagram, Messenger and WhatsApp deliveries through one tower
//! `Webhook`, whose verifier holds the app secret of each app.

use http::StatusCode;
use meta_webhooks::event::{Channel, EventKind};
use meta_webhooks::payload::Object;
use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem};
use meta_webhooks::tower::Webhook;
use meta_webhooks::{AppSecret, Verifier};
use serde_json::json;
use tower::ServiceExt;

use super::{RecordingSink, SECRET, Served, handshake};
use meta_webhooks::endpoint::Endpoint;

/// The secret of another app, the one with the WhatsApp product.
const WHATSAPP_SECRET: &str = "tower-test-whatsapp-app-secret";

fn whatsapp_text() -> DeliveryBuilder {
    DeliveryBuilder::new("whatsapp_business_account").raw_entry(json!({
        "id": "102290129340398",
        "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
                          "timestamp": "1749416383", "type": "text", "text": {"body": "Precio?"}}]
        }}]
    }))
}

#[tokio::test]
async fn one_url_takes_all_three_objects_signed_with_either_app_secret() {
    let sink = RecordingSink::default();
    let verifier = Verifier::new(AppSecret::new(SECRET).unwrap())
        .with_secret(AppSecret::new(WHATSAPP_SECRET).unwrap());
    let webhook = Webhook::new(Endpoint::builder(verifier, handshake(), sink.clone()).build());
    let deliveries = [
        (
            DeliveryBuilder::instagram().messaging(MessagingItem::text("hi")),
            Channel::Instagram,
        ),
        (
            DeliveryBuilder::page().messaging(MessagingItem::text("hi")),
            Channel::Messenger,
        ),
        (whatsapp_text(), Channel::WhatsApp),
    ];
    for secret in [SECRET, WHATSAPP_SECRET] {
        for (delivery, _) in &deliveries {
            let response = webhook
                .clone()
                .oneshot(delivery.signed(secret).served())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "signed with {secret}");
        }
    }
    // A secret of neither app: 401, nothing accepted.
    let response = webhook
        .clone()
        .oneshot(whatsapp_text().signed("another-app-secret").served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let accepted = sink.accepted.lock().unwrap();
    assert_eq!(accepted.len(), 6);
    for (batch, (_, channel)) in accepted.iter().zip(deliveries.iter().cycle()) {
        let events: Vec<_> = batch.events().collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].channel(), *channel);
        assert_eq!(events[0].kind(), EventKind::Text);
    }
    let whatsapp = accepted[2].events().next().unwrap();
    assert_eq!(
        accepted[2].delivery().object(),
        &Object::WhatsAppBusinessAccount
    );
    assert_eq!(whatsapp.account().unwrap().as_str(), "106540352242922");
    assert_eq!(whatsapp.text(), Some("Precio?"));
}
