#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests assert by panicking"
)]

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::event::{EventKind as K, Source};
use crate::payload::{Delivery, Timestamp};
use crate::{AppSecret, Handshake, HandshakeError, Verifier, VerifyError, VerifyToken, classify};

fn kinds(body: &[u8]) -> Vec<K> {
    classify(&Delivery::from_slice(body).unwrap())
        .into_iter()
        .map(|e| e.unwrap().kind())
        .collect()
}

fn one(builder: DeliveryBuilder) -> crate::Event {
    let delivery = Delivery::from_slice(&builder.build()).unwrap();
    let mut events = classify(&delivery);
    assert_eq!(events.len(), 1);
    events.remove(0).unwrap()
}

#[test]
fn every_messaging_constructor_classifies_to_its_kind() {
    let cases = [
        (MessagingItem::text("hi"), K::Text),
        (MessagingItem::echo("hello"), K::Echo),
        (
            MessagingItem::story_reply("wow", "https://cdn/s"),
            K::StoryReply,
        ),
        (
            MessagingItem::story_mention("https://cdn/s"),
            K::StoryMention,
        ),
        (MessagingItem::media("image", "https://cdn/i.jpg"), K::Media),
        (MessagingItem::quick_reply("Yes", "YES"), K::QuickReply),
        (MessagingItem::postback("Start", "GET_STARTED"), K::Postback),
        (MessagingItem::reaction("m1", "love", "❤️"), K::Reaction),
        (MessagingItem::unreaction("m1"), K::Unreaction),
        (MessagingItem::read("m1"), K::Read),
        (MessagingItem::referral("SHORTLINKS", "promo"), K::Referral),
        (MessagingItem::referral("ADS", "ad"), K::AdReferral),
        (MessagingItem::deleted("m1"), K::Deleted),
        (MessagingItem::edit("m1", "new"), K::Edit),
        (MessagingItem::new(), K::Unknown),
        (
            MessagingItem::text("hi").payload_field("is_unsupported", true),
            K::Unknown,
        ),
    ];
    for object in ["instagram", "page"] {
        for (item, kind) in &cases {
            let event = one(DeliveryBuilder::new(object).messaging(item.clone()));
            assert_eq!(event.kind(), *kind, "{object} {item:?}");
            assert_eq!(event.source(), Source::Messaging);
        }
    }
}

#[test]
fn change_constructors_classify_to_their_kind() {
    for (change, kind) in [
        (ChangeItem::comment("Precio?"), K::Comment),
        (ChangeItem::live_comment("🔥"), K::LiveComment),
        (ChangeItem::mention("17887498072083520"), K::Mention),
        (
            ChangeItem::mention("1").value_field("comment_id", "2"),
            K::Mention,
        ),
        (
            ChangeItem::new("story_insights", json!({"media_id": "1", "reach": -1})),
            K::MediaChange,
        ),
        (ChangeItem::new("future_field", json!({"x": 1})), K::Unknown),
    ] {
        let event = one(DeliveryBuilder::instagram().change(change));
        assert_eq!(event.kind(), kind);
        assert_eq!(event.source(), Source::Change);
    }
}

#[test]
fn defaults_are_realistic_and_consistent() {
    let event = one(DeliveryBuilder::instagram().messaging(MessagingItem::text("hi")));
    let n = event.normalized();
    assert_eq!(n.sender, Some(DeliveryBuilder::INSTAGRAM_USER));
    assert_eq!(n.recipient, Some(DeliveryBuilder::INSTAGRAM_ACCOUNT));
    assert_eq!(n.account, Some(DeliveryBuilder::INSTAGRAM_ACCOUNT));
    assert!(n.mid.unwrap().starts_with("aWdf"));
    assert_eq!(n.timestamp, Some(DeliveryBuilder::DEFAULT_TIME_MS));

    let echo = one(DeliveryBuilder::page().messaging(MessagingItem::echo("hello")));
    assert_eq!(echo.normalized().sender, Some(DeliveryBuilder::PAGE_ID));
    assert_eq!(
        echo.normalized().recipient,
        Some(DeliveryBuilder::PAGE_USER)
    );
    assert!(echo.normalized().mid.unwrap().starts_with("m_"));

    let comment = one(DeliveryBuilder::instagram().change(ChangeItem::comment("t")));
    assert_eq!(
        comment.normalized().sender,
        Some(DeliveryBuilder::INSTAGRAM_USER)
    );
    assert_eq!(comment.normalized().mid.unwrap().len(), 17);
    // Changes: entry time in seconds, normalized to ms.
    assert_eq!(
        comment.timestamp().map(Timestamp::as_millis),
        Some(DeliveryBuilder::DEFAULT_TIME_MS / 1000 * 1000)
    );
}

#[test]
fn meta_escaping_by_default_raw_utf8_on_request() {
    let builder = DeliveryBuilder::instagram().messaging(MessagingItem::story_reply(
        "Me encanta 😍 ä",
        "https://cdn.example/s?a=1",
    ));
    let meta = builder.build_string();
    assert!(meta.is_ascii());
    assert!(meta.contains(r#"Me encanta \ud83d\ude0d \u00e4"#), "{meta}");
    assert!(meta.contains(r#"https:\/\/cdn.example\/s?a=1"#), "{meta}");
    let raw = builder.clone().raw_utf8().build_string();
    assert!(raw.contains("Me encanta 😍 ä"));
    for body in [meta, raw] {
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        let events = classify(&delivery);
        assert_eq!(events[0].as_ref().unwrap().text(), Some("Me encanta 😍 ä"));
    }
}

#[test]
fn batches_keep_order_accounts_and_distinct_ids() {
    let body = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("one"))
        .messaging(MessagingItem::media("video", "https://cdn/v.mp4"))
        .standby(MessagingItem::read("m"))
        .entry("17841453247170088")
        .messaging(MessagingItem::postback("Go", "GO"))
        .change(ChangeItem::comment("c1"))
        .change(ChangeItem::comment("c2"))
        .build();
    let delivery = Delivery::from_slice(&body).unwrap();
    let events: Vec<_> = classify(&delivery)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.kind(), e.account().unwrap().as_str()))
        .collect();
    let (a, b) = (DeliveryBuilder::INSTAGRAM_ACCOUNT, "17841453247170088");
    assert_eq!(
        summary,
        [
            (K::Text, a),
            (K::Media, a),
            (K::Read, a),
            (K::Postback, b),
            (K::Comment, b),
            (K::Comment, b)
        ]
    );
    assert_eq!(events[2].source(), Source::Standby);
    let mut keys: Vec<_> = events.iter().map(|e| e.dedup_key()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), events.len(), "every item has its own ids");
    // Timestamps follow the order of the items.
    assert!(events[0].timestamp() < events[1].timestamp());
}

#[test]
fn now_drives_every_default_time() {
    let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
    let event = one(DeliveryBuilder::instagram()
        .at(now)
        .messaging(MessagingItem::text("x")));
    assert_eq!(
        event.timestamp(),
        Some(Timestamp::from_millis(1_800_000_000_123))
    );
    assert_eq!(event.age(now), Some(Duration::ZERO));
    let later = now + Duration::from_secs(24 * 3600);
    assert!(event.is_older_than(Duration::from_secs(23 * 3600), later));
    // An explicit item time wins.
    let old = now - Duration::from_secs(3600);
    let event = one(DeliveryBuilder::instagram()
        .at(now)
        .messaging(MessagingItem::text("x").at(old)));
    assert_eq!(event.age(now), Some(Duration::from_secs(3600)));
}

#[test]
fn every_field_is_settable() {
    let body = DeliveryBuilder::instagram()
        .account("1")
        .user("2")
        .messaging(
            MessagingItem::text("t")
                .sender("3")
                .recipient("4")
                .timestamp_ms(5)
                .mid("M")
                .payload_field("extra", json!({"k": [1]}))
                .field("unknown_key", true),
        )
        .messaging(
            MessagingItem::text("no mid")
                .payload_without("mid")
                .without("recipient"),
        )
        .messaging(MessagingItem::text("user").field("sender", json!({"user_ref": "ref-1"})))
        .entry_time("2026-01-31T14:40:12Z")
        .entry_field("extra_entry_key", 1)
        .field("top", "level")
        .build_string();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["top"], "level");
    let entry = &value["entry"][0];
    assert_eq!(entry["id"], "1");
    assert_eq!(entry["time"], "2026-01-31T14:40:12Z");
    assert_eq!(entry["extra_entry_key"], 1);
    let item = &entry["messaging"][0];
    assert_eq!(
        item,
        &json!({"sender": {"id": "3"}, "recipient": {"id": "4"}, "timestamp": 5,
                "message": {"mid": "M", "text": "t", "extra": {"k": [1]}}, "unknown_key": true})
    );
    assert!(body.contains(r#"{"sender":{"id":"3"},"recipient":{"id":"4"},"timestamp":5,"message":{"mid":"M","text":"t""#));
    let outcome = Outcome::of(body.as_bytes());
    let Outcome::Delivery { events, .. } = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(events[1].mid, None);
    assert_eq!(events[1].recipient, None);
    assert_eq!(events[1].sender.as_deref(), Some("2"));
    assert_eq!(events[2].sender.as_deref(), Some("ref-1"));
}

#[test]
fn raw_items_and_entries_go_in_as_given() {
    let body = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("ok"))
        .messaging(MessagingItem::raw(json!(5)))
        .change(ChangeItem::raw(
            json!({"field": "comments", "value": {"id": true}}),
        ))
        .raw_entry(json!("not an entry"))
        .messaging(MessagingItem::raw(json!({"message": "TEST_MESSAGE"})))
        .build();
    assert_eq!(
        Outcome::of(&body).kinds(),
        ["text", "error", "error", "error", "unknown"]
    );
    // Without `entry` the body is rejected whole.
    let rejected = DeliveryBuilder::instagram().without("entry").build();
    assert_eq!(Outcome::of(&rejected), Outcome::Rejected);
    assert_eq!(
        DeliveryBuilder::instagram().build(),
        br#"{"object":"instagram","entry":[]}"#[..]
    );
}

#[test]
fn any_object_is_a_delivery() {
    let body = DeliveryBuilder::new("whatsapp_business_account")
        .change(ChangeItem::new(
            "account_update",
            json!({"phone_number": "15550783881", "event": "VERIFIED_ACCOUNT"}),
        ))
        .build();
    let outcome = Outcome::of(&body);
    let Outcome::Delivery { object, events } = &outcome else {
        panic!("{outcome}")
    };
    assert_eq!(object, "whatsapp_business_account");
    assert_eq!(events[0].kind, "unknown");
    assert_eq!(
        kinds(
            &DeliveryBuilder::new("user")
                .messaging(MessagingItem::text("x"))
                .build()
        ),
        [K::Text]
    );
}

#[test]
fn signed_requests_verify_and_negative_ones_fail_as_intended() {
    let verifier = Verifier::new(AppSecret::new("s3cret").unwrap());
    let builder = DeliveryBuilder::instagram().messaging(MessagingItem::text("hi"));
    let verify = |request: SignedRequest| {
        let request = request.build().unwrap();
        verifier
            .verify_headers(request.body(), request.headers())
            .map(|_| ())
    };
    let good = builder.signed("s3cret");
    assert_eq!(verify(good.clone()), Ok(()));
    let request = good.clone().uri("http://127.0.0.1:1/hook").build().unwrap();
    assert_eq!(request.uri().path(), "/hook");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(request.body(), &builder.build());
    assert_eq!(
        verify(good.clone().signed_with("nope")),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(verify(good.clone().tampered()), Err(VerifyError::Mismatch));
    // What a raw connection writes: the body as sent and the first signature value.
    assert_eq!(good.body(), builder.build());
    assert_eq!(
        good.signature_value(),
        Some(sign("s3cret", &builder.build()))
    );
    let tampered = good.clone().tampered();
    assert_eq!(
        tampered.body(),
        tampered.clone().build().unwrap().into_body()
    );
    assert_ne!(tampered.body(), builder.build());
    assert_eq!(tampered.signature_value(), good.signature_value());
    assert_eq!(good.clone().unsigned().signature_value(), None);
    assert!(matches!(
        verify(good.clone().signature("sha1=00")),
        Err(VerifyError::Malformed(_))
    ));
    assert!(verify(good.clone().unsigned()).is_err());
    assert!(verify(good.clone().duplicate_signature()).is_err());
    assert!(
        verify(
            good.clone()
                .extra_signature(sign("other", &builder.build()))
        )
        .is_err()
    );
    let request = good
        .clone()
        .method(http::Method::PUT)
        .content_type(None)
        .header("x-forwarded-for", "10.0.0.1")
        .build()
        .unwrap();
    assert_eq!(request.method(), http::Method::PUT);
    assert!(request.headers().get("content-type").is_none());
    assert_eq!(request.headers()["x-forwarded-for"], "10.0.0.1");
    assert!(good.clone().uri("not a uri").build().is_err());
    let debug = format!("{good:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
}

#[test]
fn handshake_requests_follow_the_contract() {
    let handshake = Handshake::new(VerifyToken::new("tok en&").unwrap());
    let respond = |request: HandshakeRequest| {
        let request = request.build().unwrap();
        assert_eq!(request.method(), http::Method::GET);
        handshake
            .respond(request.uri().query().unwrap_or(""))
            .map(|c| c.as_str().to_owned())
    };
    assert_eq!(
        respond(HandshakeRequest::new("tok en&")).unwrap(),
        "1158201444"
    );
    assert_eq!(
        respond(HandshakeRequest::new("tok en&").challenge("abc123")).unwrap(),
        "abc123"
    );
    let forbidden =
        |r: Result<String, HandshakeError>| r.unwrap_err().status() == http::StatusCode::FORBIDDEN;
    assert!(forbidden(respond(HandshakeRequest::new("wrong"))));
    assert!(respond(HandshakeRequest::new("tok en&").without_token()).is_err());
    assert!(forbidden(respond(
        HandshakeRequest::new("tok en&").mode(Some("unsubscribe"))
    )));
    assert!(respond(HandshakeRequest::new("tok en&").without_challenge()).is_err());
    assert!(respond(HandshakeRequest::new("tok en&").challenge("<script>")).is_err());
    assert!(!format!("{:?}", HandshakeRequest::new("tok en&")).contains("tok en"));
}

#[test]
fn corpus_names_say_what_the_fixtures_hold() {
    let corpus = Corpus::new();
    let mut count = 0;
    for fixture in corpus.fixtures() {
        let fixture = fixture.unwrap();
        count += 1;
        assert!(fixture.path().starts_with(corpus.root()));
        assert!(!fixture.name().ends_with(".json"));
        if fixture.is_reject() {
            assert_eq!(fixture.group(), None, "{}", fixture.name());
            assert_eq!(fixture.kind(), "error");
            assert_eq!(fixture.expected(), Some(&Outcome::Rejected));
            continue;
        }
        let group = fixture.group().unwrap();
        assert!(
            ["messaging", "standby", "changes", "batch", "edge"].contains(&group),
            "{}",
            fixture.name()
        );
        // The file name announces the first event's kind.
        if let (Some(kind), Some(Outcome::Delivery { object, events })) =
            (fixture.event_kind(), fixture.expected())
        {
            assert_eq!(events[0].kind, kind.as_str(), "{}", fixture.name());
            match fixture.object() {
                "other" => {}
                "whatsapp" => assert_eq!(object, "whatsapp_business_account", "{}", fixture.name()),
                dir => assert_eq!(object, dir, "{}", fixture.name()),
            }
        }
    }
    assert_eq!(corpus.fixtures().size_hint(), (count, Some(count)));
    assert!(count >= 140, "{count}");
    let text = corpus
        .fixture("instagram/messaging/text__basic.json")
        .unwrap();
    assert_eq!((text.kind(), text.case()), ("text", "basic"));
    assert!(corpus.fixture("instagram/messaging/nope").is_err());
    assert!(
        Corpus::at("/nonexistent")
            .fixtures()
            .next()
            .unwrap()
            .is_err()
    );
    assert!(corpus.signature_vectors().unwrap().len() >= 15);
}

#[test]
fn outcome_reads_richer_documents_as_their_projection() {
    let doc = json!({"object": "instagram", "events": [{"kind": "text", "sender": "1",
        "recipient": "2", "mid": "m", "text": "t", "account": "2", "timestamp": 5,
        "source": "messaging"}]});
    let outcome: Outcome = serde_json::from_value(doc).unwrap();
    assert_eq!(outcome.kinds(), ["text"]);
    let rejected: Outcome = serde_json::from_value(json!({"error": true, "message": "m"})).unwrap();
    assert_eq!(rejected, Outcome::Rejected);
    assert_eq!(rejected.to_string(), r#"{"error":true}"#);
    assert!(serde_json::from_value::<Outcome>(json!({"object": "x"})).is_err());
}

#[cfg(feature = "sink")]
#[test]
fn batches_hold_the_bytes_verified_and_parsed() {
    let builder = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("hi"))
        .messaging(MessagingItem::raw(json!({"sender": {"id": {}}})));
    let built = builder.batch().unwrap();
    assert_eq!(built.body(), &builder.build());
    assert_eq!(built.verified().secret_index(), 0);
    assert_eq!(built.events().count(), 1);
    assert_eq!(
        built.errors().count(),
        1,
        "a malformed item is kept as an error"
    );
    let fixture = Corpus::new()
        .fixture("instagram/messaging/text__basic")
        .unwrap();
    assert_eq!(batch(fixture.body().clone()).unwrap().events().count(), 1);
    assert!(builder.clone().without("entry").batch().is_err());
    assert!(batch(bytes::Bytes::new()).is_err());
}
