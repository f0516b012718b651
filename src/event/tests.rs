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
            "unknown"
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
        r#""delivery":{"mids":["M"],"watermark":1}"#,
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
