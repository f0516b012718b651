//! Payload model and classifier, end to end through the public API.

use std::time::{Duration, UNIX_EPOCH};

use meta_webhooks::event::{Channel, EventData, Participant, Source, ValueArray};
use meta_webhooks::payload::{
    AttachmentType, ChangeValue, ItemErrorKind, Object, ParseErrorKind, StatusKind, WaMessageType,
};
use meta_webhooks::test_util::Corpus;
use meta_webhooks::{Delivery, Event, EventKind, classify};
use proptest::prelude::*;

/// A real-shaped Instagram story reply (escaped `\/` URL, IG mid, surrogate-pair emoji).
const STORY_REPLY: &[u8] = br#"{"object":"instagram","entry":[{"time":1769870412731,"id":"17841405793187218","messaging":[{"sender":{"id":"6934581207719432"},"recipient":{"id":"17841405793187218"},"timestamp":1769870412000,"message":{"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTYwMDk0NzE2MDI5MTY5NzozMjE4NzU2NTQ3NjkxMjM0NTY3ODkwMTIzNDU2Nzg5MAZDZD","text":"Me encanta \ud83d\ude0d","reply_to":{"story":{"url":"https:\/\/lookaside.fbsbx.com\/ig_messaging_cdn\/?asset_id=17890&signature=abc","id":"17890455012345678"}}}}]}]}"#;

#[test]
fn story_reply_end_to_end() {
    let delivery = Delivery::from_slice(STORY_REPLY).unwrap();
    assert_eq!(delivery.object(), &Object::Instagram);
    let events = classify(&delivery);
    assert_eq!(events.len(), 1);
    let event = events[0].as_ref().unwrap();
    assert_eq!(event.kind(), EventKind::StoryReply);
    assert_eq!(event.text(), Some("Me encanta 😍"));
    assert_eq!(
        event
            .sender()
            .and_then(Participant::user_id)
            .unwrap()
            .as_str(),
        "6934581207719432"
    );
    assert_eq!(event.account().unwrap().as_str(), "17841405793187218");
    assert_eq!(event.source(), Source::Messaging);
    let EventData::Message(message) = event.data() else {
        panic!("{:?}", event.data())
    };
    let story = message.reply_to.as_ref().unwrap().story.as_ref().unwrap();
    assert_eq!(
        story.url.as_deref(),
        Some("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17890&signature=abc")
    );
    // The raw item is byte-exact, escapes included.
    assert!(event.raw().contains(r#"https:\/\/lookaside"#));
    assert!(event.raw().contains(r#"\ud83d\ude0d"#));
}

#[test]
fn batch_of_two_accounts_keeps_order_and_accounts() {
    let body = br#"{"object":"instagram","entry":[
      {"id":"17841405793187218","time":1769870412731,"messaging":[
        {"sender":{"id":"1"},"recipient":{"id":"17841405793187218"},"timestamp":1769870412000,"message":{"mid":"a","text":"one"}},
        {"sender":{"id":"1"},"recipient":{"id":"17841405793187218"},"timestamp":1769870412001,"message":{"mid":"b","attachments":[{"type":"image","payload":{"url":"https://x"}}]}}]},
      {"id":"17841453247170088","time":1769870412731,"messaging":[
        {"sender":{"id":"17841453247170088"},"recipient":{"id":"2"},"timestamp":1769870412002,"message":{"mid":"c","text":"reply","is_echo":true,"app_id":1517776481860111}}],
       "changes":[{"field":"comments","value":{"id":"17952310476882035","from":{"id":"3","username":"u"},"text":"Precio?","media":{"id":"1","media_product_type":"REELS"}}}]}]}"#;
    let events = classify(&Delivery::from_slice(body).unwrap());
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            let e = e.as_ref().unwrap();
            (
                e.account().unwrap().as_str().to_owned(),
                e.kind(),
                e.normalized().mid.map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "17841405793187218".into(),
                EventKind::Text,
                Some("a".into())
            ),
            (
                "17841405793187218".into(),
                EventKind::Media,
                Some("b".into())
            ),
            (
                "17841453247170088".into(),
                EventKind::Echo,
                Some("c".into())
            ),
            (
                "17841453247170088".into(),
                EventKind::Comment,
                Some("17952310476882035".into())
            ),
        ]
    );
    let media = events[1].as_ref().unwrap();
    let EventData::Message(m) = media.data() else {
        panic!()
    };
    assert_eq!(m.attachments[0].kind, Some(AttachmentType::Image));
    assert!(events[2].as_ref().unwrap().is_echo());
    // Dedup keys of distinct events differ.
    let mut keys: Vec<_> = events
        .iter()
        .map(|e| e.as_ref().unwrap().dedup_key())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4);
}

#[test]
fn retried_delivery_gives_the_same_dedup_keys() {
    let body = br#"{"object":"page","entry":[{"id":"P","time":1,"messaging":[
        {"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1458692752478,"optin":{"ref":"r"}},
        {"sender":{"id":"U"},"recipient":{"id":"P"},"timestamp":1458692752478,"reaction":{"mid":"m","action":"react","emoji":"\u2764\ufe0f"}}]}]}"#;
    let keys = |body: &[u8]| -> Vec<String> {
        classify(&Delivery::from_slice(body).unwrap())
            .into_iter()
            .map(|e| e.unwrap().dedup_key().to_string())
            .collect()
    };
    assert_eq!(keys(body), keys(body));
    // Another entry.time (Meta re-sent it later) does not change the item keys.
    let resent = String::from_utf8(body.to_vec())
        .unwrap()
        .replace(r#""time":1,"#, r#""time":2,"#);
    assert_eq!(keys(body), keys(resent.as_bytes()));
}

#[test]
fn dashboard_test_payload_is_a_text_event() {
    let body = br#"{"object":"instagram","entry":[{"id":"0","time":1769870900,"changes":[{"field":"messages",
     "value":{"sender":{"id":"40000001"},"recipient":{"id":"40000002"},"timestamp":"1769870900",
              "message":{"mid":"sample_mid_0001","text":"sample text"}}}]}]}"#;
    let events = classify(&Delivery::from_slice(body).unwrap());
    let e = events[0].as_ref().unwrap();
    assert_eq!((e.kind(), e.source()), (EventKind::Text, Source::Change));
    assert_eq!(
        e.timestamp().map(|t| t.as_millis()),
        Some(1_769_870_900_000)
    );
    let now = UNIX_EPOCH + Duration::from_secs(1_769_870_900 + 3600);
    assert_eq!(e.age(now), Some(Duration::from_secs(3600)));
    let delivery = Delivery::from_slice(body).unwrap();
    let change = delivery.entries()[0].as_ref().unwrap().changes[0]
        .as_ref()
        .unwrap();
    assert!(matches!(change.value, ChangeValue::Messaging(_)));
}

/// The events of a WhatsApp fixture, all valid.
fn whatsapp_events(name: &str) -> Vec<Event> {
    let fixture = Corpus::new().fixture(&format!("whatsapp/{name}")).unwrap();
    classify(&Delivery::from_slice(fixture.body()).unwrap())
        .into_iter()
        .map(|e| e.unwrap())
        .collect()
}

const WABA: &str = "102290129340398";
const NUMBER: &str = "106540352242922";

#[test]
fn whatsapp_messages_and_statuses_of_one_value() {
    let events = whatsapp_events("batch/mixed__messages_and_statuses");
    let kinds: Vec<_> = events.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Text,
            EventKind::QuickReply,
            EventKind::Status,
            EventKind::Status
        ]
    );
    for event in &events {
        assert_eq!(event.channel(), Channel::WhatsApp);
        assert_eq!(event.account().unwrap().as_str(), NUMBER);
        assert_eq!(event.source(), Source::Change);
        assert_eq!(event.field().map(|f| f.as_str()), Some("messages"));
        assert!(!event.is_echo());
    }

    let (text, reply) = (&events[0], &events[1]);
    assert_eq!(
        text.sender()
            .and_then(Participant::user_id)
            .unwrap()
            .as_str(),
        "16315551181"
    );
    assert_eq!(
        text.recipient()
            .and_then(Participant::account_id)
            .unwrap()
            .as_str(),
        NUMBER
    );
    assert_eq!(text.sender_name(), Some("Kerry Fisher"));
    assert_eq!(reply.sender_name(), Some("Zo\u{eb} Ba\u{15f}"));
    assert_eq!(
        (reply.text(), reply.reply_payload()),
        (Some("Yes"), Some("YES"))
    );
    assert_eq!(
        reply.timestamp().map(|t| t.as_millis()),
        Some(1_769_870_413_000)
    );
    let EventData::WhatsAppMessage(message) = reply.data() else {
        panic!("{:?}", reply.data())
    };
    assert_eq!(message.business_account.as_ref().unwrap().as_str(), WABA);
    assert_eq!(message.phone_number_id().unwrap().as_str(), NUMBER);
    assert_eq!(message.message.kind, Some(WaMessageType::Interactive));
    assert_eq!(
        reply.position().to_string(),
        "entry[0].changes[0].messages[1]"
    );
    assert!(reply.raw().starts_with(r#"{"from":"447700900123""#));

    // Sent and delivered share a wamid; their dedup keys stay apart.
    let (sent, delivered) = (&events[2], &events[3]);
    assert_eq!(sent.mid(), delivered.mid());
    assert!(matches!(sent.sender(), Some(Participant::Account(id)) if id == NUMBER));
    assert_eq!(
        sent.recipient()
            .and_then(Participant::user_id)
            .unwrap()
            .as_str(),
        "447700900123"
    );
    let wamid = sent.mid().unwrap().as_str();
    assert_eq!(
        sent.dedup_key().as_str(),
        format!("{NUMBER}:status:{wamid}:sent")
    );
    assert_eq!(
        delivered.dedup_key().as_str(),
        format!("{NUMBER}:status:{wamid}:delivered")
    );
    assert_eq!(
        text.dedup_key().as_str(),
        format!("{NUMBER}:text:{}", text.mid().unwrap())
    );
    assert_eq!(
        delivered.position().value_item,
        Some((ValueArray::Statuses, 1))
    );
    assert_eq!(sent.text(), None);
}

#[test]
fn whatsapp_reactions_name_the_message_reacted_to() {
    for (name, kind) in [
        ("changes/reaction__emoji", EventKind::Reaction),
        ("changes/unreaction__empty_emoji", EventKind::Unreaction),
        ("edge/unreaction__no_emoji_key", EventKind::Unreaction),
    ] {
        let event = &whatsapp_events(name)[0];
        assert_eq!(event.kind(), kind, "{name}");
        let reacted_to = event.reacted_to().unwrap();
        assert_ne!(
            event.mid(),
            Some(reacted_to),
            "{name}: a reaction has its own wamid"
        );
        assert!(reacted_to.as_str().starts_with("wamid."));
        assert_eq!(event.text(), None);
    }
}

#[test]
fn whatsapp_failed_status_carries_its_errors() {
    let event = &whatsapp_events("changes/status__failed")[0];
    let EventData::WhatsAppStatus(status) = event.data() else {
        panic!("{:?}", event.data())
    };
    assert_eq!(status.status.status, Some(StatusKind::Failed));
    let error = &status.status.errors[0];
    assert_eq!(error.code, Some(131_047));
    assert!(
        error
            .details()
            .unwrap()
            .starts_with("Message failed to send")
    );
    assert_eq!(
        error.href.as_deref(),
        Some("https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/")
    );
    assert!(event.dedup_key().as_str().ends_with(":failed"));
}

#[test]
fn whatsapp_bad_items_are_isolated_with_their_place() {
    let fixture = Corpus::new()
        .fixture("whatsapp/edge/mixed__bad_ids_isolated")
        .unwrap();
    let results = classify(&Delivery::from_slice(fixture.body()).unwrap());
    assert_eq!(results.len(), 6);
    let bad_from = results[1].as_ref().unwrap_err();
    assert_eq!(bad_from.kind(), ItemErrorKind::InvalidItem);
    assert_eq!(bad_from.account().unwrap().as_str(), NUMBER);
    assert_eq!(
        bad_from.position().to_string(),
        "entry[0].changes[0].messages[1]"
    );
    assert!(bad_from.raw().contains(r#""from":true"#));
    assert!(bad_from.reason().starts_with("invalid messages item"));
    let bad_status = results[4].as_ref().unwrap_err();
    assert_eq!(
        bad_status.position().value_item,
        Some((ValueArray::Statuses, 0))
    );
    assert_eq!(results[5].as_ref().unwrap().kind(), EventKind::Status);

    // A phone number id of the wrong type concerns every item: the change is the error.
    let events = Corpus::new()
        .fixture("whatsapp/edge/mixed__phone_number_id_bool")
        .unwrap();
    let results = classify(&Delivery::from_slice(events.body()).unwrap());
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(error.position().to_string(), "entry[0].changes[0]");
    assert_eq!(error.account().unwrap().as_str(), WABA);
    assert_eq!(results[1].as_ref().unwrap().text(), Some("neighbour"));
}

#[test]
fn whatsapp_other_values_and_fields() {
    // Errors only: one unknown, carrying the errors; contacts only: nothing.
    let event = &whatsapp_events("changes/unknown__errors_only")[0];
    assert_eq!(event.kind(), EventKind::Unknown);
    assert_eq!(event.account().unwrap().as_str(), NUMBER);
    let EventData::WhatsAppErrors(errors) = event.data() else {
        panic!("{:?}", event.data())
    };
    assert_eq!(errors.errors[0].code, Some(131_000));
    assert!(whatsapp_events("changes/mixed__contacts_only").is_empty());

    // Other fields: unknown, to the business account, raw JSON kept.
    let event = &whatsapp_events("changes/unknown__template_status_update")[0];
    assert_eq!(
        (event.kind(), event.channel()),
        (EventKind::Unknown, Channel::WhatsApp)
    );
    assert_eq!(event.account().unwrap().as_str(), WABA);
    assert!(matches!(event.data(), EventData::Other));
    assert!(event.raw().contains("message_template_status_update"));

    // Messages' texts and ids come through their typed accessors.
    let order = &whatsapp_events("changes/order__cart")[0];
    let EventData::WhatsAppMessage(m) = order.data() else {
        panic!()
    };
    let items = &m.message.order.as_ref().unwrap().product_items;
    assert_eq!(
        (items[0].quantity, items[1].item_price),
        (Some(1), Some(12.0))
    );
    let button = &whatsapp_events("changes/quick_reply__template_button")[0];
    assert_eq!(button.reply_payload(), Some("STOP_PROMOTIONS"));
    let list = &whatsapp_events("changes/quick_reply__list_reply")[0];
    assert_eq!(list.reply_payload(), Some("ship_express"));
}

#[test]
fn channels_follow_the_object() {
    let channel = |body: &[u8]| {
        classify(&Delivery::from_slice(body).unwrap())[0]
            .as_ref()
            .unwrap()
            .channel()
    };
    assert_eq!(channel(STORY_REPLY), Channel::Instagram);
    assert_eq!(
        channel(br#"{"object":"page","entry":[{"id":"P","messaging":[{"sender":{"id":"U"},"message":{"mid":"m","text":"t"}}]}]}"#),
        Channel::Messenger
    );
    // A WhatsApp value is WhatsApp whatever the object says.
    assert_eq!(
        channel(br#"{"object":"user","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","messages":[{"id":"w","type":"text","text":{"body":"x"}}]}}]}]}"#),
        Channel::WhatsApp
    );
    assert_eq!(
        channel(
            br#"{"object":"user","entry":[{"id":"1","changes":[{"field":"email","value":{}}]}]}"#
        ),
        Channel::Other
    );
}

#[test]
fn parse_error_maps_to_400() {
    let err = Delivery::from_slice(b"[]").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::NotAnObject);
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    assert_eq!(err.kind().as_str(), "not_an_object");
}

/// Bodies built from valid fragments, to reach deep into the item parsers.
fn item_strategy() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("-1".to_owned()),
        Just("1.5e3".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just(r#""s""#.to_owned()),
        Just(r#""1527459824""#.to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    let key = prop_oneof![
        Just("sender"),
        Just("recipient"),
        Just("timestamp"),
        Just("message"),
        Just("message_edit"),
        Just("reaction"),
        Just("postback"),
        Just("referral"),
        Just("read"),
        Just("optin"),
        Just("app_roles"),
        Just("id"),
        Just("mid"),
        Just("text"),
        Just("attachments"),
        Just("is_echo"),
        Just("quick_reply"),
        Just("reply_to"),
        Just("story"),
        Just("source"),
        Just("product"),
        Just("type"),
        Just("payload"),
        Just("field"),
        Just("value"),
        Just("from"),
        Just("user_ref"),
    ];
    let leaf = scalar.boxed();
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                let fields: Vec<_> = kv.iter().map(|(k, v)| format!(r#""{k}":{v}"#)).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(delivery) = Delivery::from_slice(&body) {
            let _ = classify(&delivery);
        }
    }

    #[test]
    fn structured_items_yield_one_result_each(
        messaging in prop::collection::vec(item_strategy(), 0..4),
        changes in prop::collection::vec(item_strategy(), 0..3),
    ) {
        let body = format!(
            r#"{{"object":"instagram","entry":[{{"id":"1","messaging":[{}],"changes":[{}]}}]}}"#,
            messaging.join(","),
            changes.join(",")
        );
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        let events = classify(&delivery);
        prop_assert_eq!(events.len(), messaging.len() + changes.len());
        for (result, raw) in events.iter().zip(messaging.iter().chain(changes.iter())) {
            match result {
                Ok(event) => {
                    prop_assert_eq!(event.raw(), raw.as_str());
                    let _ = (event.dedup_key(), event.normalized(), event.text(), event.mid());
                }
                Err(error) => prop_assert_eq!(error.raw(), raw.as_str()),
            }
        }
    }

    #[test]
    fn whatsapp_items_yield_one_result_each(
        messages in prop::collection::vec(item_strategy(), 0..4),
        statuses in prop::collection::vec(item_strategy(), 0..4),
    ) {
        let body = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"2"}},"messages":[{}],"statuses":[{}]}}}}]}}]}}"#,
            messages.join(","),
            statuses.join(",")
        );
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        let events = classify(&delivery);
        prop_assert_eq!(events.len(), messages.len() + statuses.len());
        for (result, raw) in events.iter().zip(messages.iter().chain(statuses.iter())) {
            match result {
                Ok(event) => {
                    prop_assert_eq!(event.raw(), raw.as_str());
                    prop_assert_eq!(event.account().map(|a| a.as_str()), Some("2"));
                    let _ = (event.dedup_key(), event.normalized(), event.text(), event.mid());
                }
                Err(error) => prop_assert_eq!(error.raw(), raw.as_str()),
            }
        }
    }

    #[test]
    fn truncations_of_a_real_body_never_panic(cut in 0..STORY_REPLY.len()) {
        let result = Delivery::from_slice(&STORY_REPLY[..cut]);
        prop_assert!(result.is_err());
    }
}
