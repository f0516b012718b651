//! Field extraction per kind, dedup keys, age checks, projections.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::payload::Delivery;

const SENDER: &str = r#""sender":{"id":"6934581207719432"},"recipient":{"id":"17841405793187218"},"timestamp":1769870412000"#;

fn all(entries: &str) -> Vec<Result<Event, EventError>> {
    let body = format!(r#"{{"object":"instagram","entry":[{entries}]}}"#);
    classify(&Delivery::from_slice(body.as_bytes()).unwrap())
}

fn item(payload: &str) -> Event {
    let mut events = all(&format!(
        r#"{{"id":"17841405793187218","time":1769870412731,"messaging":[{{{SENDER},{payload}}}]}}"#
    ));
    assert_eq!(events.len(), 1);
    events.remove(0).unwrap()
}

fn change(field: &str, value: &str) -> Event {
    let mut events = all(&format!(
        r#"{{"id":"17841405793187218","time":1520622968,"changes":[{{"field":"{field}","value":{value}}}]}}"#
    ));
    events.remove(0).unwrap()
}

/// (kind, sender, recipient, mid, text) of the normalized projection.
fn row(e: &Event) -> (&str, Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
    let n = e.normalized();
    (n.kind, n.sender, n.recipient, n.mid, n.text)
}

const U: Option<&str> = Some("6934581207719432");
const B: Option<&str> = Some("17841405793187218");

#[test]
fn kind_names_are_stable() {
    let names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "text",
            "story_reply",
            "story_mention",
            "media",
            "reaction",
            "unreaction",
            "postback",
            "quick_reply",
            "ad_referral",
            "product_referral",
            "referral",
            "echo",
            "read",
            "optin",
            "deleted",
            "edit",
            "handover",
            "comment",
            "live_comment",
            "mention",
            "media_change",
            "unknown",
            "delivery",
            "account_linking",
            "policy_enforcement",
            "feed",
            "status",
            "order"
        ]
    );
    for k in EventKind::ALL {
        assert_eq!(EventKind::from_name(k.as_str()), Some(*k));
        assert_eq!(k.to_string(), k.as_str());
    }
    assert_eq!(EventKind::from_name("error"), None);
}

#[test]
fn message_derived_kinds_take_message_mid_and_text() {
    let m = |extra: &str| format!(r#""message":{{"mid":"M","text":"T"{extra}}}"#);
    for (extra, kind) in [
        ("", "text"),
        (
            r#","reply_to":{"story":{"id":"s","url":"u"}}"#,
            "story_reply",
        ),
        (
            r#","attachments":[{"type":"story_mention","payload":{"url":"u"}}]"#,
            "story_mention",
        ),
        (r#","quick_reply":{"payload":"P"}"#, "quick_reply"),
        (r#","referral":{"source":"ADS","ad_id":"1"}"#, "ad_referral"),
        (r#","referral":{"product":{"id":"p"}}"#, "product_referral"),
        (
            r#","attachments":[{"type":"image","payload":{"url":"u"}}]"#,
            "media",
        ),
        (r#","is_echo":true"#, "echo"),
    ] {
        let e = item(&m(extra));
        assert_eq!(row(&e), (kind, U, B, Some("M"), Some("T")), "{extra}");
    }
    // Media without text: text null.
    let e = item(r#""message":{"mid":"M","attachments":[{"type":"image"}]}"#);
    assert_eq!(row(&e), ("media", U, B, Some("M"), None));
}

#[test]
fn deleted_and_unknown_messages_keep_mid_drop_text() {
    let e = item(r#""message":{"mid":"M","text":"T","is_deleted":true}"#);
    assert_eq!(row(&e), ("deleted", U, B, Some("M"), None));
    let e = item(r#""message":{"mid":"M","text":"T","is_unsupported":true}"#);
    assert_eq!(row(&e), ("unknown", U, B, Some("M"), None));
    let e = item(r#""message":"TEST_MESSAGE""#);
    assert_eq!(row(&e), ("unknown", U, B, None, None));
}

#[test]
fn edit_reaction_postback_read() {
    let e = item(r#""message_edit":{"mid":"M","text":"new","num_edit":"2"}"#);
    assert_eq!(row(&e), ("edit", U, B, Some("M"), Some("new")));
    let e = item(r#""reaction":{"mid":"M","action":"react","reaction":"love","emoji":"❤️"}"#);
    assert_eq!(row(&e), ("reaction", U, B, Some("M"), None));
    let e = item(r#""reaction":{"mid":"M","action":"unreact"}"#);
    assert_eq!(row(&e), ("unreaction", U, B, Some("M"), None));
    let e = item(r#""postback":{"mid":"M","title":"Start","payload":"GO"}"#);
    assert_eq!(row(&e), ("postback", U, B, Some("M"), Some("Start")));
    let e = item(r#""postback":{"payload":"GO"}"#);
    assert_eq!(row(&e), ("postback", U, B, None, None));
    let e = item(r#""read":{"mid":"M"}"#);
    assert_eq!(row(&e), ("read", U, B, Some("M"), None));
    let e = item(r#""read":{"watermark":1458668856253}"#);
    assert_eq!(row(&e), ("read", U, B, None, None));
}

#[test]
fn event_level_referrals_and_story_mentions() {
    let e = item(r#""referral":{"source":"ADS","ad_id":"1","ref":"r"}"#);
    assert_eq!(row(&e), ("ad_referral", U, B, None, None));
    let e = item(r#""referral":{"product":{"id":"p"}}"#);
    assert_eq!(row(&e), ("product_referral", U, B, None, None));
    let e = item(r#""referral":{"source":"SHORTLINK"}"#);
    assert_eq!(row(&e), ("referral", U, B, None, None));
    // Rule 0: mid from the message beside it, text never.
    let e = item(
        r#""referral":{"source":"STORY_MENTION","story":{"id":"s","url":"u"}},"message":{"mid":"M","text":"T"}"#,
    );
    assert_eq!(row(&e), ("story_mention", U, B, Some("M"), None));
    let EventData::Referral { referral, message } = e.data() else {
        panic!()
    };
    assert_eq!(referral.story.as_ref().unwrap().url.as_deref(), Some("u"));
    assert!(message.is_some());
    let e = item(r#""referral":{"source":"STORY_MENTION"}"#);
    assert_eq!(row(&e), ("story_mention", U, B, None, None));
}

#[test]
fn optin_handover_unknown_have_no_mid_or_text() {
    for payload in [
        r#""optin":{"type":"notification_messages","payload":"p","title":"T"}"#,
        r#""pass_thread_control":{"new_owner_app_id":"1"}"#,
        r#""response_feedback":{"feedback":"Good response","mid":"M"}"#,
    ] {
        let e = item(payload);
        let (_, sender, recipient, mid, text) = row(&e);
        assert_eq!(
            (sender, recipient, mid, text),
            (U, B, None, None),
            "{payload}"
        );
        assert_eq!(
            e.sender(),
            Some(&Participant::User(UserId::new(U.unwrap())))
        );
        assert_eq!(
            e.recipient(),
            Some(&Participant::Account(AccountId::new(B.unwrap())))
        );
    }
}

#[test]
fn delivery_account_linking_policy_enforcement() {
    let e = item(r#""delivery":{"mids":["M1","M2"],"watermark":1458668856253}"#);
    assert_eq!(row(&e), ("delivery", U, B, None, None));
    let EventData::Delivery(d) = e.data() else {
        panic!("{e:?}")
    };
    assert_eq!(d.mids, [MessageId::new("M1"), MessageId::new("M2")]);
    assert_eq!(d.watermark, Some(1_458_668_856_253));
    assert_eq!(e.mid(), None, "the delivered mids stay in the typed data");

    let e = item(r#""account_linking":{"status":"linked","authorization_code":"SECRET_CODE"}"#);
    assert_eq!(row(&e), ("account_linking", U, B, None, None));
    let EventData::AccountLinking(linking) = e.data() else {
        panic!("{e:?}")
    };
    assert_eq!(linking.authorization_code.as_deref(), Some("SECRET_CODE"));
    assert!(
        !format!("{linking:?}").contains("SECRET_CODE"),
        "redacted in Debug"
    );

    let e = item(r#""policy-enforcement":{"action":"block","reason":"R"}"#);
    assert_eq!(row(&e), ("policy_enforcement", None, B, None, None));
    let EventData::PolicyEnforcement(policy) = e.data() else {
        panic!("{e:?}")
    };
    assert!(policy.is_block());
    assert_eq!(policy.reason.as_deref(), Some("R"));
}

/// A Page `feed` change of Page `P` at `entry.time` `T`.
fn feed(value: &str) -> Event {
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"104512345678901","time":1769870499,"changes":[{{"field":"feed","value":{value}}}]}}]}}"#
    );
    let mut events = classify(&Delivery::from_slice(body.as_bytes()).unwrap());
    assert_eq!(events.len(), 1);
    events.remove(0).unwrap()
}

const PAGE: Option<&str> = Some("104512345678901");
const PERSON: Option<&str> = Some("7012345678901234");

#[test]
fn page_feed_field_extraction() {
    let comment = |verb: &str| {
        feed(&format!(
            r#"{{"from":{{"id":"7012345678901234","name":"Maria L"}},"item":"comment","verb":"{verb}",
                "comment_id":"998877665544332_1122334455667788","post_id":"104512345678901_998877665544332",
                "parent_id":"104512345678901_998877665544332","created_time":1769870410,"message":"Precio?"}}"#
        ))
    };
    let c = "998877665544332_1122334455667788";
    assert_eq!(
        row(&comment("add")),
        ("comment", PERSON, PAGE, Some(c), Some("Precio?"))
    );
    assert_eq!(
        row(&comment("edited")),
        ("edit", PERSON, PAGE, Some(c), Some("Precio?"))
    );
    assert_eq!(
        row(&comment("remove")),
        ("deleted", PERSON, PAGE, Some(c), None)
    );
    assert_eq!(
        row(&comment("hide")),
        ("feed", PERSON, PAGE, Some(c), Some("Precio?"))
    );
    let e = comment("add");
    assert_eq!(e.mid(), None, "a comment id is not a message id");
    assert_eq!(e.source(), Source::Change);
    assert_eq!(e.field(), Some(&ChangeField::Feed));
    let EventData::Feed(value) = e.data() else {
        panic!("{e:?}")
    };
    assert_eq!(
        value.from.as_ref().unwrap().name.as_deref(),
        Some("Maria L")
    );
    assert_eq!(
        value.parent_id.as_deref(),
        Some("104512345678901_998877665544332")
    );

    // Reactions: the comment reacted to, else the post; no text.
    let r = feed(
        r#"{"item":"reaction","verb":"add","reaction_type":"love","from":{"id":"7012345678901234"},
            "post_id":"104512345678901_998877665544332","comment_id":"998877665544332_1","created_time":1769870411}"#,
    );
    assert_eq!(
        row(&r),
        ("reaction", PERSON, PAGE, Some("998877665544332_1"), None)
    );
    let r = feed(
        r#"{"item":"reaction","verb":"remove","reaction_type":"like","from":{"id":"7012345678901234"},
            "post_id":"104512345678901_998877665544332","created_time":1769870412}"#,
    );
    assert_eq!(
        row(&r),
        (
            "unreaction",
            PERSON,
            PAGE,
            Some("104512345678901_998877665544332"),
            None
        )
    );

    // Any other item: the post, else the comment; the message as text.
    let p = feed(
        r#"{"item":"status","verb":"add","post_id":"104512345678901_5","message":"New linen in stock","published":1}"#,
    );
    assert_eq!(
        row(&p),
        (
            "feed",
            None,
            PAGE,
            Some("104512345678901_5"),
            Some("New linen in stock")
        )
    );
    let p = feed(r#"{"item":"like","verb":"add","user_id":"7012345678901234"}"#);
    assert_eq!(row(&p), ("feed", None, PAGE, None, None));
}

#[test]
fn page_feed_timestamps_and_participants() {
    // created_time (seconds), else entry.time.
    let e = feed(r#"{"item":"comment","verb":"add","comment_id":"1_2","created_time":1769870410}"#);
    assert_eq!(
        e.timestamp(),
        Some(Timestamp::from_millis(1_769_870_410_000))
    );
    let e = feed(r#"{"item":"comment","verb":"add","comment_id":"1_2"}"#);
    assert_eq!(
        e.timestamp(),
        Some(Timestamp::from_millis(1_769_870_499_000))
    );
    // The Page's own comment: still a comment, sent by the account.
    let e = feed(
        r#"{"item":"comment","verb":"add","comment_id":"1_2","from":{"id":"104512345678901","name":"Shop"},"message":"Thanks!"}"#,
    );
    assert_eq!(e.kind(), EventKind::Comment);
    assert!(matches!(e.sender(), Some(Participant::Account(id)) if id == "104512345678901"));
    assert!(matches!(e.recipient(), Some(Participant::Account(id)) if id == "104512345678901"));
    let e = feed(
        r#"{"item":"comment","verb":"add","comment_id":"1_2","from":{"id":"7012345678901234"}}"#,
    );
    assert_eq!(
        e.sender().and_then(Participant::user_id),
        Some(&UserId::new("7012345678901234"))
    );
}

#[test]
fn page_feed_dedup_keys_keep_distinct_events_apart() {
    let key = |value: &str| feed(value).dedup_key().into_string();
    let p = "104512345678901";
    let comment = |verb: &str, created: u64| {
        key(&format!(
            r#"{{"item":"comment","verb":"{verb}","comment_id":"2_3","post_id":"1_2","from":{{"id":"7"}},"created_time":{created}}}"#
        ))
    };
    assert_eq!(
        comment("add", 1769870410),
        format!("{p}:change:feed:comment:add:2_3:7:1769870410000")
    );
    // Add, edit and removal of one comment share its id, not their keys.
    let keys = [
        comment("add", 1769870410),
        comment("edited", 1769870410),
        comment("remove", 1769870410),
    ];
    assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
    // Two edits of one comment at different times.
    assert_ne!(comment("edited", 1769870420), comment("edited", 1769870430));
    // Everyone's reactions to one post.
    let reaction = |from: &str| {
        key(&format!(
            r#"{{"item":"reaction","verb":"add","reaction_type":"like","post_id":"1_2","from":{{"id":"{from}"}},"created_time":1769870410}}"#
        ))
    };
    assert_ne!(reaction("7"), reaction("8"));
    assert_eq!(
        reaction("7"),
        format!("{p}:change:feed:reaction:add:1_2:7:1769870410000")
    );
    // A redelivery is the same event: the same key.
    assert_eq!(reaction("7"), reaction("7"));
    // Missing parts are `-`; without any object id, the digest of the raw item.
    assert_eq!(
        key(r#"{"item":"share","post_id":"1_2"}"#),
        format!("{p}:change:feed:share:-:1_2:-:-")
    );
    let like = key(r#"{"item":"like","verb":"add","user_id":"7"}"#);
    assert!(like.starts_with(&format!("{p}:sha256:")), "{like}");
    assert_ne!(like, key(r#"{"item":"like","verb":"add","user_id":"8"}"#));
}

#[test]
fn a_comment_lifecycle_and_its_reactions_have_distinct_keys() {
    let body = include_bytes!("../../tests/fixtures/page/batch/mixed__feed_comment_lifecycle.json");
    let events = classify(&Delivery::from_slice(body).unwrap());
    let keys: Vec<_> = events
        .iter()
        .map(|e| e.as_ref().unwrap().dedup_key())
        .collect();
    assert_eq!(keys.len(), 5);
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), 5, "{keys:?}");
    // Redelivered, every key is the same again.
    let again: Vec<_> = classify(&Delivery::from_slice(body).unwrap())
        .iter()
        .map(|e| e.as_ref().unwrap().dedup_key())
        .collect();
    assert_eq!(keys, again);
}

#[test]
fn product_template_elements_are_typed_on_the_message() {
    let e = item(
        r#""message":{"mid":"M","attachments":[{"type":"template","payload":{"product":{"elements":[
            {"id":"7380183658674392","retailer_id":"SHIRT-LINEN-M","image_url":"https:\/\/shop.example\/shirt.jpg","title":"Linen shirt","subtitle":"\u20ac49"}]}}}]}"#,
    );
    assert_eq!(e.kind(), EventKind::Media);
    let EventData::Message(m) = e.data() else {
        panic!("{e:?}")
    };
    let payload = m.attachments[0].payload.as_ref().unwrap();
    let product = &payload.products()[0];
    assert_eq!(product.id.as_ref().unwrap(), "7380183658674392");
    assert_eq!(product.retailer_id.as_deref(), Some("SHIRT-LINEN-M"));
    assert_eq!(
        product.image_url.as_deref(),
        Some("https://shop.example/shirt.jpg")
    );
    assert_eq!(product.title.as_deref(), Some("Linen shirt"));
    assert_eq!(product.subtitle.as_deref(), Some("\u{20ac}49"));
}

#[test]
fn sender_falls_back_to_user_ref_and_may_be_absent() {
    let mut events = all(r#"{"id":"1","messaging":[
            {"sender":{"user_ref":"UR"},"recipient":{"id":"1"},"postback":{"title":"t"}},
            {"sender":{"id":"ID","user_ref":"UR"},"recipient":{"id":"1"},"read":{"mid":"m"}},
            {"recipient":{"id":"1"},"optin":{"ref":"r","user_ref":"UR"}},
            {"recipient":{"id":"1"},"timestamp":1,"app_roles":{"1":["primary_receiver"]}},
            {"message":{"mid":"m","text":"no parties"}}
        ]}"#)
    .into_iter()
    .map(Result::unwrap);
    let e = events.next().unwrap();
    assert_eq!(e.sender(), Some(&Participant::UserRef(UserRef::new("UR"))));
    assert_eq!(e.sender().and_then(Participant::user_id), None);
    let e = events.next().unwrap();
    assert_eq!(e.sender(), Some(&Participant::User(UserId::new("ID"))));
    assert_eq!(events.next().unwrap().sender(), None);
    assert_eq!(events.next().unwrap().kind(), EventKind::Handover);
    let e = events.next().unwrap();
    assert_eq!(row(&e), ("text", None, None, Some("m"), Some("no parties")));
}

#[test]
fn change_fields() {
    let c = change(
        "comments",
        r#"{"id":"C1","comment_id":"C2","text":"Precio?","from":{"id":"6934581207719432","username":"u"},"media":{"id":"md","media_product_type":"FEED"}}"#,
    );
    assert_eq!(row(&c), ("comment", U, B, Some("C1"), Some("Precio?")));
    let c = change("comments", r#"{"comment_id":"C2","text":"t"}"#);
    assert_eq!(row(&c), ("comment", None, B, Some("C2"), Some("t")));
    let c = change(
        "live_comments",
        r#"{"id":"L","from":{"id":"6934581207719432"},"text":"🔥"}"#,
    );
    assert_eq!(row(&c), ("live_comment", U, B, Some("L"), Some("🔥")));
    let c = change("mentions", r#"{"comment_id":"C","media_id":"M"}"#);
    assert_eq!(row(&c), ("mention", None, B, Some("C"), None));
    let c = change("mentions", r#"{"media_id":17887498072083520}"#);
    assert_eq!(
        row(&c),
        ("mention", None, B, Some("17887498072083520"), None)
    );
    let c = change("story_insights", r#"{"media_id":"S","reach":-1}"#);
    assert_eq!(row(&c), ("media_change", None, B, Some("S"), None));
    let c = change("follow", r#"{"id":"X","text":"ignored"}"#);
    assert_eq!(row(&c), ("unknown", None, B, None, None));
    assert_eq!(c.field().map(ChangeField::as_str), Some("follow"));
    // Changes carry entry.time.
    assert_eq!(
        c.timestamp().map(Timestamp::as_millis),
        Some(1_520_622_968_000)
    );
}

#[test]
fn wrapped_messaging_change_is_normalized_as_messaging() {
    let c = change(
        "messages",
        r#"{"sender":{"id":"40000001"},"recipient":{"id":"40000002"},"timestamp":"1527459824","message":{"mid":"sample_mid","text":"sample text"}}"#,
    );
    assert_eq!(
        row(&c),
        (
            "text",
            Some("40000001"),
            Some("40000002"),
            Some("sample_mid"),
            Some("sample text")
        )
    );
    assert_eq!(c.source(), Source::Change);
    assert_eq!(
        c.timestamp().map(Timestamp::as_millis),
        Some(1_527_459_824_000)
    );
    assert_eq!(c.field(), Some(&ChangeField::Messages));
}

#[test]
fn integer_ids_become_decimal_strings() {
    let events = all(
        r#"{"id":17841405793187218,"messaging":[{"sender":{"id":6934581207719432},"recipient":{"id":17841405793187218},"message":{"mid":123,"text":"t"}}]}"#,
    );
    let e = events[0].as_ref().unwrap();
    assert_eq!(row(e), ("text", U, B, Some("123"), Some("t")));
    assert_eq!(e.account().unwrap(), "17841405793187218");
}

#[test]
fn dedup_keys_per_kind() {
    let key = |e: &Event| e.dedup_key().into_string();
    let a = "17841405793187218";
    assert_eq!(
        key(&item(r#""message":{"mid":"M","text":"T"}"#)),
        format!("{a}:text:M")
    );
    // An unsend reuses the mid: the kind keeps the keys apart.
    assert_eq!(
        key(&item(r#""message":{"mid":"M","is_deleted":true}"#)),
        format!("{a}:deleted:M")
    );
    assert_eq!(
        key(&item(r#""message":{"mid":"M","is_echo":true}"#)),
        format!("{a}:echo:M")
    );
    assert_eq!(
        key(&item(
            r#""reaction":{"mid":"M","action":"react","reaction":"love"}"#
        )),
        format!("{a}:reaction:M:react:1769870412000:6934581207719432")
    );
    assert_eq!(
        key(&item(r#""read":{"mid":"M"}"#)),
        format!("{a}:read:6934581207719432:M")
    );
    assert_eq!(
        key(&item(r#""read":{"watermark":42}"#)),
        format!("{a}:read:6934581207719432:w42")
    );
    assert_eq!(
        key(&item(r#""message_edit":{"mid":"M","num_edit":2}"#)),
        format!("{a}:edit:M:2")
    );
    assert_eq!(
        key(&item(r#""postback":{"mid":"M","title":"t"}"#)),
        format!("{a}:postback:M")
    );
    assert_eq!(
        key(&change("comments", r#"{"id":"C"}"#)),
        format!("{a}:change:comments:C")
    );
    assert_eq!(
        key(&change("live_comments", r#"{"comment_id":"C"}"#)),
        format!("{a}:change:live_comments:C")
    );
    assert_eq!(
        key(&change("mentions", r#"{"media_id":"M"}"#)),
        format!("{a}:change:mentions:M")
    );
    assert_eq!(
        key(&change("story_insights", r#"{"media_id":"S"}"#)),
        format!("{a}:change:story_insights:S")
    );
    assert_eq!(
        key(&change("follow", r#"{"id":7}"#)),
        format!("{a}:change:follow:7")
    );
}

#[test]
fn dedup_falls_back_to_a_stable_digest_of_the_raw_item() {
    let optin = r#""optin":{"ref":"r"}"#;
    let k1 = item(optin).dedup_key();
    let k2 = item(optin).dedup_key();
    assert_eq!(k1, k2);
    assert!(k1.as_str().starts_with("17841405793187218:sha256:"), "{k1}");
    assert_eq!(k1.as_str().len(), "17841405793187218:sha256:".len() + 64);
    // Different bytes, different key.
    assert_ne!(k1, item(r#""optin":{"ref":"s"}"#).dedup_key());
    // A message without mid, a postback without mid, an unknown change value.
    assert!(
        item(r#""message":{"text":"T"}"#)
            .dedup_key()
            .as_str()
            .contains(":sha256:")
    );
    assert!(
        item(r#""postback":{"title":"t"}"#)
            .dedup_key()
            .as_str()
            .contains(":sha256:")
    );
    assert!(
        change("follow", r#"{"x":1}"#)
            .dedup_key()
            .as_str()
            .contains(":sha256:")
    );
    // The digest is SHA-256 of exactly the item's bytes.
    let e = item(optin);
    let expected = hex::encode(Sha256::digest(e.raw().as_bytes()));
    assert!(e.dedup_key().as_str().ends_with(&expected));
}

#[test]
fn age_and_window_checks_take_now() {
    let e = item(r#""message":{"mid":"M","text":"T"}"#);
    let at = UNIX_EPOCH + Duration::from_millis(1_769_870_412_000);
    assert_eq!(e.age(at), Some(Duration::ZERO));
    let later = at + Duration::from_secs(24 * 3600);
    assert_eq!(e.age(later), Some(Duration::from_secs(24 * 3600)));
    assert!(e.is_older_than(Duration::from_secs(23 * 3600), later));
    assert!(!e.is_older_than(Duration::from_secs(25 * 3600), later));
    // In the future (clock skew): age zero, not old.
    assert_eq!(e.age(UNIX_EPOCH), Some(Duration::ZERO));
    // No timestamp anywhere: age unknown, never "old".
    let mut events = all(r#"{"id":"1","messaging":[{"message":{"mid":"m","text":"t"}}]}"#);
    let e = events.remove(0).unwrap();
    assert_eq!((e.timestamp(), e.age(later)), (None, None));
    assert!(!e.is_older_than(Duration::ZERO, later));
}

#[test]
fn timestamp_falls_back_to_entry_time_and_normalizes_seconds() {
    let events = all(r#"{"id":"1","time":1769870412,"messaging":[
            {"message":{"mid":"a","text":"t"}},
            {"timestamp":"1769870400","message":{"mid":"b","text":"t"}},
            {"timestamp":1769870400123,"message":{"mid":"c","text":"t"}}]}"#);
    let ts: Vec<_> = events
        .iter()
        .map(|e| e.as_ref().unwrap().timestamp().map(Timestamp::as_millis))
        .collect();
    assert_eq!(
        ts,
        [
            Some(1_769_870_412_000),
            Some(1_769_870_400_000),
            Some(1_769_870_400_123)
        ]
    );
}

#[test]
fn normalized_projection() {
    let e = item(r#""message":{"mid":"M","text":"T"}"#);
    let json = serde_json::to_value(e.normalized()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind":"text","sender":"6934581207719432","recipient":"17841405793187218",
            "mid":"M","text":"T","account":"17841405793187218","timestamp":1_769_870_412_000_u64,
            "source":"messaging"})
    );
    let events = all(r#"{"id":"A","messaging":[{"sender":{"id":true}}]}"#);
    let err = events[0].as_ref().unwrap_err();
    let json = serde_json::to_value(err.normalized()).unwrap();
    assert_eq!(json["kind"], "error");
    assert_eq!(json["account"], "A");
    assert_eq!(json["source"], "messaging");
    assert!(json["sender"].is_null() && json["mid"].is_null() && json["text"].is_null());
    assert!(json["reason"].as_str().unwrap().contains("messaging item"));
}

#[test]
fn errors_carry_reason_raw_account_position() {
    let events = all(
        r#"{"id":"A","messaging":[{"sender":{"id":"u"},"message":{"mid":"m","text":"ok"}},
             {"sender":{"id":"u"},"message":{"mid":["x"]}}]},
           7"#,
    );
    assert_eq!(events.len(), 3);
    let err = events[1].as_ref().unwrap_err();
    assert_eq!(
        err.raw(),
        r#"{"sender":{"id":"u"},"message":{"mid":["x"]}}"#
    );
    assert_eq!(err.account().unwrap(), "A");
    assert_eq!(err.kind(), ItemErrorKind::InvalidItem);
    assert_eq!(err.position().to_string(), "entry[0].messaging[1]");
    assert!(
        err.to_string()
            .starts_with("entry[0].messaging[1]: invalid messaging item"),
        "{err}"
    );
    let err = events[2].as_ref().unwrap_err();
    assert_eq!((err.reason(), err.raw()), ("entry is not an object", "7"));
    assert_eq!(err.kind(), ItemErrorKind::NotAnObject);
    assert_eq!(err.position().to_string(), "entry[1]");
    assert!(err.account().is_none());
}

#[test]
fn text_is_exactly_as_decoded() {
    let e = item(
        r#""message":{"mid":"M","text":"  \ud83d\udc4b\ud83c\udffd a\u0308 \u05e9\u05dc\u05d5\u05dd \/ \"q\" \\ \t\n "}"#,
    );
    assert_eq!(e.text(), Some("  👋🏽 a\u{308} שלום / \"q\" \\ \t\n "));
    let e = item(r#""message":{"mid":"M","text":"👨‍👩‍👧 🇪🇸"}"#);
    assert_eq!(e.text(), Some("👨‍👩‍👧 🇪🇸"));
}

#[test]
fn events_are_owned_and_thread_safe() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Event>();
    assert_traits::<EventError>();
    assert_traits::<EventKind>();
    let e = item(r#""message":{"mid":"M","text":"T"}"#);
    let handle = std::thread::spawn(move || e.text().map(str::to_owned));
    assert_eq!(handle.join().unwrap().as_deref(), Some("T"));
}

#[test]
fn participants_are_typed_by_who_wrote() {
    let account = || Participant::Account(AccountId::new("17841405793187218"));
    let user = || Participant::User(UserId::new("6934581207719432"));
    // Inbound: the person wrote to the business.
    let e = item(r#""message":{"mid":"M","text":"T"}"#);
    assert_eq!(
        (e.sender(), e.recipient()),
        (Some(&user()), Some(&account()))
    );
    assert_eq!(e.mid(), Some(&MessageId::new("M")));
    assert_eq!(
        e.timestamp(),
        Some(Timestamp::from_millis(1_769_870_412_000))
    );
    // An echo: the business wrote to the person.
    let events = all(r#"{"id":"17841405793187218","messaging":[
            {"sender":{"id":"17841405793187218"},"recipient":{"id":"6934581207719432"},
             "message":{"mid":"E","text":"T","is_echo":true}},
            {"sender":{"id":"17841405793187218"},"recipient":{"id":"6934581207719432"},
             "reaction":{"mid":"R","action":"react","reaction":"love"}}]}"#);
    for e in &events {
        let e = e.as_ref().unwrap();
        assert_eq!(
            (e.sender(), e.recipient()),
            (Some(&account()), Some(&user()))
        );
    }
    // The business's own comment, and a person's.
    let c = change(
        "comments",
        r#"{"id":"C","from":{"id":"17841405793187218"},"text":"t"}"#,
    );
    assert_eq!(
        (c.sender(), c.recipient()),
        (Some(&account()), Some(&account()))
    );
    assert_eq!(c.mid(), None, "a comment id is not a message id");
    let c = change(
        "comments",
        r#"{"id":"C","from":{"id":"6934581207719432"},"text":"t"}"#,
    );
    assert_eq!(c.sender().and_then(Participant::user_id), user().user_id());
    assert_eq!(
        c.timestamp(),
        Some(Timestamp::from_millis(1_520_622_968_000))
    );
}
