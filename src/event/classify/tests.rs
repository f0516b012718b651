//! One test per precedence rule (and the conflicts between rules), plus the order of
//! classification.

use super::*;
use crate::event::EventKind as K;

const S: &str = r#""sender":{"id":"6934581207719432"},"recipient":{"id":"17841405793187218"},"timestamp":1769870412000"#;

fn delivery(entries: &str) -> Delivery {
    Delivery::from_slice(format!(r#"{{"object":"instagram","entry":[{entries}]}}"#).as_bytes())
        .unwrap()
}

/// The kind of a messaging item given its payload keys (without the common fields).
fn kind(payload: &str) -> EventKind {
    let d = delivery(&format!(r#"{{"id":"1","messaging":[{{{S},{payload}}}]}}"#));
    let events = classify(&d);
    assert_eq!(events.len(), 1);
    events[0].as_ref().unwrap().kind()
}

fn message_kind_of(message: &str) -> EventKind {
    kind(&format!(r#""message":{message}"#))
}

#[test]
fn rule_0_story_mention_referral_wins_over_message() {
    assert_eq!(
        kind(r#""referral":{"source":"STORY_MENTION","story":{"id":"1","url":"u"}}"#),
        K::StoryMention
    );
    assert_eq!(
        kind(r#""referral":{"source":"story_mention"}"#),
        K::StoryMention
    );
    // With a message beside it (even an echo or a plain text): still rule 0.
    assert_eq!(
        kind(
            r#""message":{"mid":"m","text":"hi","is_echo":true},"referral":{"source":"Story_Mention"}"#
        ),
        K::StoryMention
    );
}

#[test]
fn rule_1_message_object() {
    assert_eq!(kind(r#""message":{"mid":"m","text":"hi"}"#), K::Text);
    // A message beats every later payload key.
    assert_eq!(
        kind(
            r#""message":{"mid":"m","text":"hi"},"reaction":{"mid":"m","action":"react"},"read":{"mid":"m"}"#
        ),
        K::Text
    );
    // A non-object message does not match: TEST_MESSAGE is unknown, not an error.
    assert_eq!(kind(r#""message":"TEST_MESSAGE""#), K::Unknown);
    assert_eq!(
        kind(r#""message":"TEST_MESSAGE","read":{"mid":"m"}"#),
        K::Read
    );
}

#[test]
fn rules_2_to_4() {
    assert_eq!(
        kind(r#""message_edit":{"mid":"m","text":"t","num_edit":1}"#),
        K::Edit
    );
    assert_eq!(kind(r#""message_edit":{},"reaction":{"mid":"m"}"#), K::Edit);
    assert_eq!(
        kind(r#""reaction":{"mid":"m","action":"react","reaction":"love"}"#),
        K::Reaction
    );
    assert_eq!(
        kind(r#""reaction":{"mid":"m","action":"unreact"}"#),
        K::Unreaction
    );
    // Anything but "unreact" (also missing, or another case) is a reaction.
    assert_eq!(kind(r#""reaction":{"mid":"m"}"#), K::Reaction);
    assert_eq!(
        kind(r#""reaction":{"mid":"m","action":"UNREACT"}"#),
        K::Reaction
    );
    assert_eq!(
        kind(r#""reaction":{"mid":"m"},"postback":{"title":"t"}"#),
        K::Reaction
    );
    assert_eq!(
        kind(r#""postback":{"mid":"m","title":"Start","payload":"GET_STARTED"}"#),
        K::Postback
    );
    assert_eq!(
        kind(r#""postback":{"title":"t"},"referral":{"source":"ADS"}"#),
        K::Postback
    );
}

#[test]
fn rule_5_event_level_referrals() {
    assert_eq!(
        kind(r#""referral":{"source":"ADS","product":{"id":"p"}}"#),
        K::ProductReferral
    );
    assert_eq!(
        kind(r#""referral":{"source":"ads","ad_id":"1"}"#),
        K::AdReferral
    );
    assert_eq!(
        kind(r#""referral":{"source":"SHORTLINK","ref":"r","type":"OPEN_THREAD"}"#),
        K::Referral
    );
    assert_eq!(kind(r#""referral":{}"#), K::Referral);
    // `product` must be an object.
    assert_eq!(kind(r#""referral":{"product":"p"}"#), K::Referral);
    assert_eq!(
        kind(r#""referral":{"ref":"r"},"read":{"mid":"m"}"#),
        K::Referral
    );
}

#[test]
fn rules_6_to_9() {
    assert_eq!(kind(r#""read":{"mid":"m"}"#), K::Read);
    assert_eq!(kind(r#""read":{"watermark":1458668856253}"#), K::Read);
    assert_eq!(
        kind(r#""read":{"watermark":1},"optin":{"ref":"r"}"#),
        K::Read
    );
    assert_eq!(
        kind(r#""optin":{"type":"notification_messages","payload":"p"}"#),
        K::Optin
    );
    assert_eq!(
        kind(r#""optin":{},"app_roles":{"1":["primary_receiver"]}"#),
        K::Optin
    );
    for handover in [
        r#""pass_thread_control":{"new_owner_app_id":"1","metadata":"m"}"#,
        r#""take_thread_control":{"previous_owner_app_id":"1"}"#,
        r#""request_thread_control":{"requested_owner_app_id":123456789}"#,
        r#""app_roles":{"123456789":["primary_receiver"]}"#,
    ] {
        assert_eq!(kind(handover), K::Handover, "{handover}");
    }
    for unknown in [
        r#""response_feedback":{"feedback":"Good response","mid":"m"}"#,
        r#""order":{"products":[]}"#,
        r#""future_thing":{"x":1}"#,
        r#""is_self":true"#,
    ] {
        assert_eq!(kind(unknown), K::Unknown, "{unknown}");
    }
}

#[test]
fn rules_9_to_12_receipts_account_linking_policy_enforcement() {
    assert_eq!(
        kind(r#""delivery":{"mids":["m"],"watermark":1}"#),
        K::Delivery
    );
    assert_eq!(kind(r#""delivery":{"watermark":1}"#), K::Delivery);
    assert_eq!(
        kind(r#""account_linking":{"status":"linked","authorization_code":"c"}"#),
        K::AccountLinking
    );
    assert_eq!(
        kind(r#""account_linking":{"status":"unlinked"}"#),
        K::AccountLinking
    );
    for key in ["policy_enforcement", "policy-enforcement"] {
        assert_eq!(
            kind(&format!(r#""{key}":{{"action":"block","reason":"r"}}"#)),
            K::PolicyEnforcement,
            "{key}"
        );
    }
    // In order: handover, delivery, account linking, policy enforcement.
    assert_eq!(
        kind(r#""app_roles":{"1":["primary_receiver"]},"delivery":{"watermark":1}"#),
        K::Handover
    );
    assert_eq!(
        kind(r#""delivery":{"watermark":1},"account_linking":{"status":"linked"}"#),
        K::Delivery
    );
    assert_eq!(
        kind(r#""account_linking":{},"policy_enforcement":{"action":"warning"}"#),
        K::AccountLinking
    );
    // Each must be an object.
    for not_object in [
        r#""delivery":[1]"#,
        r#""account_linking":"linked""#,
        r#""policy_enforcement":"block""#,
        r#""policy-enforcement":null"#,
    ] {
        assert_eq!(kind(not_object), K::Unknown, "{not_object}");
    }
}

#[test]
fn a_policy_enforcement_has_no_sender() {
    let d = Delivery::from_slice(
        br#"{"object":"page","entry":[{"id":"104512345678901","messaging":[
            {"recipient":{"id":"104512345678901"},"timestamp":1458692752478,"policy_enforcement":{"action":"block","reason":"r"}},
            {"sender":{"id":"7012345678901234"},"recipient":{"id":"104512345678901"},"policy-enforcement":{"action":"warning","reason":"r"}}]}]}"#,
    )
    .unwrap();
    for event in classify(&d) {
        let event = event.unwrap();
        assert_eq!(event.kind(), K::PolicyEnforcement);
        assert_eq!(event.sender(), None);
        assert!(
            matches!(event.recipient(), Some(Participant::Account(id)) if id == "104512345678901")
        );
        assert!(matches!(event.data(), EventData::PolicyEnforcement(_)));
    }
}

#[test]
fn a_link_preview_stays_text() {
    let preview = r#"{"mid":"m","text":"see https://shop.example/p/42","attachments":[{"type":"fallback","payload":{"url":"https://shop.example/p/42","title":"Linen shirt"}}]}"#;
    assert_eq!(message_kind_of(preview), K::Text);
    // A null payload, an empty text, several previews: still text.
    assert_eq!(
        message_kind_of(
            r#"{"mid":"m","text":"","attachments":[{"type":"fallback","payload":null,"title":"t","url":"u"},{"type":"fallback"}]}"#
        ),
        K::Text
    );
    // Without text, or with any other attachment beside it: media.
    assert_eq!(
        message_kind_of(r#"{"mid":"m","attachments":[{"type":"fallback","payload":{"url":"u"}}]}"#),
        K::Media
    );
    assert_eq!(
        message_kind_of(
            r#"{"mid":"m","text":"t","attachments":[{"type":"fallback"},{"type":"image","payload":{"url":"u"}}]}"#
        ),
        K::Media
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","attachments":[{"type":"fallback"},null]}"#),
        K::Media
    );
    // Earlier message rules still win.
    assert_eq!(
        message_kind_of(
            r#"{"mid":"m","text":"t","is_echo":true,"attachments":[{"type":"fallback"}]}"#
        ),
        K::Echo
    );
    // The preview stays in the typed data.
    let d = delivery(&format!(
        r#"{{"id":"1","messaging":[{{{S},"message":{preview}}}]}}"#
    ));
    let events = classify(&d);
    let EventData::Message(m) = events[0].as_ref().unwrap().data() else {
        panic!("a message")
    };
    assert_eq!(m.attachments[0].url(), Some("https://shop.example/p/42"));
}

/// The kind of a Page `feed` change with this value.
fn feed_kind_of(value: &str) -> EventKind {
    let d = Delivery::from_slice(
        format!(
            r#"{{"object":"page","entry":[{{"id":"104512345678901","time":1769870412,"changes":[{{"field":"feed","value":{value}}}]}}]}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    let events = classify(&d);
    assert_eq!(events.len(), 1);
    events[0].as_ref().unwrap().kind()
}

#[test]
fn page_feed_items_and_verbs() {
    let feed = |item: &str, verb: &str| {
        feed_kind_of(&format!(
            r#"{{"item":"{item}","verb":"{verb}","post_id":"1_2","comment_id":"2_3"}}"#
        ))
    };
    assert_eq!(feed("comment", "add"), K::Comment);
    assert_eq!(feed("comment", "edited"), K::Edit);
    assert_eq!(feed("comment", "edit"), K::Edit);
    assert_eq!(feed("comment", "remove"), K::Deleted);
    for verb in ["hide", "unhide", "block", "unblock", "delete", "ADD", ""] {
        assert_eq!(feed("comment", verb), K::Feed, "comment {verb}");
    }
    assert_eq!(feed("reaction", "add"), K::Reaction);
    assert_eq!(feed("reaction", "edit"), K::Reaction);
    assert_eq!(feed("reaction", "remove"), K::Unreaction);
    for verb in ["edited", "hide", "update"] {
        assert_eq!(feed("reaction", verb), K::Feed, "reaction {verb}");
    }
    for item in [
        "status",
        "post",
        "photo",
        "video",
        "share",
        "like",
        "album",
        "event",
        "milestone",
    ] {
        for verb in ["add", "edited", "remove"] {
            assert_eq!(feed(item, verb), K::Feed, "{item} {verb}");
        }
    }
    // Missing or odd item / verb: feed.
    assert_eq!(feed_kind_of(r#"{"verb":"add"}"#), K::Feed);
    assert_eq!(feed_kind_of(r#"{"item":"comment"}"#), K::Feed);
    assert_eq!(
        feed_kind_of(r#"{"item":["comment"],"verb":"add"}"#),
        K::Feed
    );
    assert_eq!(feed_kind_of("{}"), K::Feed);
}

#[test]
fn a_feed_value_that_is_not_an_object_is_an_error_item_beside_its_neighbours() {
    let d = Delivery::from_slice(
        br#"{"object":"page","entry":[{"id":"104512345678901","changes":[
            {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"2_3","message":"hi"}},
            {"field":"feed","value":"comment"},
            {"field":"feed","value":{"item":"comment","verb":"add","comment_id":true}},
            {"field":"feed","value":{"item":"reaction","verb":"add","post_id":"1_2"}}]}]}"#,
    )
    .unwrap();
    let events = classify(&d);
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].as_ref().unwrap().kind(), K::Comment);
    let error = events[1].as_ref().unwrap_err();
    assert_eq!(error.raw(), r#"{"field":"feed","value":"comment"}"#);
    assert!(
        error.reason().contains("feed value is not an object"),
        "{error}"
    );
    assert!(events[2].is_err());
    assert_eq!(events[3].as_ref().unwrap().kind(), K::Reaction);
}

#[test]
fn message_rules_in_order() {
    let all = r#""mid":"m","text":"t","is_deleted":true,"is_echo":true,"reply_to":{"story":{"id":"s"}},
        "attachments":[{"type":"story_mention"}],"quick_reply":{"payload":"p"},
        "referral":{"source":"ADS","product":{"id":"p"}},"is_unsupported":true"#;
    // Remove the highest-precedence key one at a time: each time the next rule wins.
    let steps = [
        ("", K::Deleted),
        (r#""is_deleted":true,"#, K::Echo),
        (r#""is_echo":true,"#, K::StoryReply),
        (r#""reply_to":{"story":{"id":"s"}},"#, K::StoryMention),
        (
            r#""attachments":[{"type":"story_mention"}],"#,
            K::QuickReply,
        ),
        (r#""quick_reply":{"payload":"p"},"#, K::ProductReferral),
    ];
    let mut message = all.replace('\n', "").replace("        ", "");
    for (remove, expected) in steps {
        message = message.replacen(remove, "", 1);
        assert_eq!(
            message_kind_of(&format!("{{{message}}}")),
            expected,
            "{message}"
        );
    }
    assert_eq!(
        message_kind_of(r#"{"mid":"m","referral":{"source":"Ads"},"attachments":[{}]}"#),
        K::AdReferral
    );
    assert_eq!(
        message_kind_of(
            r#"{"mid":"m","referral":{"source":"SHORTLINK"},"attachments":[{"type":"image"}]}"#
        ),
        K::Media
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","attachments":[{"type":"hologram"}],"is_unsupported":true}"#),
        K::Media
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","is_unsupported":true}"#),
        K::Unknown
    );
    assert_eq!(message_kind_of(r#"{"mid":"m","text":""}"#), K::Text);
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","attachments":[]}"#),
        K::Text
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","attachments":[]}"#),
        K::Unknown
    );
    assert_eq!(message_kind_of(r#"{"mid":"m","text":null}"#), K::Unknown);
    assert_eq!(message_kind_of(r#"{"mid":"m"}"#), K::Unknown);
}

#[test]
fn message_rules_need_the_right_json_types() {
    // `== true` means the JSON boolean.
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","is_echo":"true"}"#),
        K::Text
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","is_deleted":1}"#),
        K::Text
    );
    // `reply_to.story` and `quick_reply` must be objects; attachments an array.
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","reply_to":{"mid":"x"}}"#),
        K::Text
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","reply_to":{"story":"s"}}"#),
        K::Text
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","quick_reply":"p"}"#),
        K::Text
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","text":"t","attachments":{"type":"image"}}"#),
        K::Text
    );
    // Attachments that are not objects still make the array non-empty.
    assert_eq!(
        message_kind_of(r#"{"mid":"m","attachments":[null]}"#),
        K::Media
    );
}

#[test]
fn an_echo_of_anything_is_an_echo() {
    assert_eq!(
        message_kind_of(
            r#"{"mid":"m","is_echo":true,"attachments":[{"type":"story_mention","payload":{"url":"u"}}]}"#
        ),
        K::Echo
    );
    assert_eq!(
        message_kind_of(r#"{"mid":"m","is_echo":true,"quick_reply":{"payload":"p"}}"#),
        K::Echo
    );
    assert_eq!(message_kind_of(r#"{"mid":"m","is_echo":true}"#), K::Echo);
}

#[test]
fn messaging_kind_matches_classify() {
    let ev: MessagingEvent =
        serde_json::from_str(r#"{"reaction":{"mid":"m","action":"unreact"}}"#).unwrap();
    assert_eq!(messaging_kind(&ev), K::Unreaction);
}

#[test]
fn order_is_entries_then_messaging_standby_changes() {
    let d = delivery(&format!(
        r#"{{"id":"A","changes":[{{"field":"comments","value":{{"id":"c1"}}}}],
             "standby":[{{{S},"message":{{"mid":"s1","text":"x"}}}}],
             "messaging":[{{{S},"message":{{"mid":"m1","text":"x"}}}},{{{S},"read":{{"mid":"m2"}}}}]}},
           {{"id":"B"}},
           {{"id":"C","messaging":[],"standby":null,"changes":[{{"field":"mentions","value":{{"media_id":"md"}}}}]}}"#
    ));
    let got: Vec<_> = classify(&d)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            (
                e.account().unwrap().to_string(),
                e.source(),
                e.normalized().mid.unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("A", Source::Messaging, "m1"),
        ("A", Source::Messaging, "m2"),
        ("A", Source::Standby, "s1"),
        ("A", Source::Change, "c1"),
        ("C", Source::Change, "md"),
    ];
    assert_eq!(got.len(), want.len());
    for ((account, source, mid), (wa, ws, wm)) in got.iter().zip(want) {
        assert_eq!((account.as_str(), *source, mid.as_str()), (wa, ws, wm));
    }
}

#[test]
fn changes_map_by_field() {
    let d = delivery(
        r#"{"id":"A","changes":[
            {"field":"comments","value":{"id":"1","text":"t"}},
            {"field":"live_comments","value":{"id":"2","text":"t"}},
            {"field":"mentions","value":{"media_id":"3"}},
            {"field":"story_insights","value":{"media_id":"4","reach":10}},
            {"field":"messages","value":{"sender":{"id":"u"},"recipient":{"id":"A"},"timestamp":"1527459824","message":{"mid":"5","text":"sample"}}},
            {"field":"messaging_postbacks","value":{"sender":{"id":"u"},"postback":{"title":"Go","payload":"GO"}}},
            {"field":"messages","value":{"page_id":"123"}},
            {"field":"feed","value":{"item":"status"}},
            {"value":{"id":"9"}}
        ]}"#,
    );
    let kinds: Vec<_> = classify(&d)
        .into_iter()
        .map(|e| e.unwrap().kind())
        .collect();
    assert_eq!(
        kinds,
        [
            K::Comment,
            K::LiveComment,
            K::Mention,
            K::MediaChange,
            K::Text,
            K::Postback,
            K::Unknown,
            K::Feed,
            K::Unknown
        ]
    );
}

#[test]
fn standby_uses_the_same_rules() {
    let d = delivery(&format!(
        r#"{{"id":"A","standby":[{{{S},"postback":{{"title":"t"}}}},{{{S},"message":{{"mid":"m","is_echo":true}}}}]}}"#
    ));
    let kinds: Vec<_> = classify(&d)
        .into_iter()
        .map(|e| e.unwrap().kind())
        .collect();
    assert_eq!(kinds, [K::Postback, K::Echo]);
}

/// The classification that consumes the delivery (used by `Batch::into_items`) and the
/// count that skips classifying (used for `Accepted`) agree with `classify` on every
/// fixture, including the malformed ones.
#[cfg(feature = "tower")]
#[test]
fn owned_classification_and_count_agree_with_classify_on_the_fixture_corpus() {
    let (mut deliveries, mut with_errors) = (0, 0);
    for fixture in crate::test_util::Corpus::new().fixtures() {
        let fixture = fixture.unwrap();
        let file = fixture.name();
        let Ok(delivery) = Delivery::from_slice(fixture.body()) else {
            continue;
        };
        deliveries += 1;
        let borrowed = classify(&delivery);
        let errors = borrowed.iter().filter(|item| item.is_err()).count();
        with_errors += usize::from(errors > 0);
        assert_eq!(
            count(&delivery),
            (borrowed.len() - errors, errors),
            "{file}"
        );
        let owned = classify_owned(delivery);
        assert_eq!(format!("{owned:?}"), format!("{borrowed:?}"), "{file}");
    }
    assert!(deliveries >= 40, "only {deliveries} fixtures parsed");
    assert!(
        with_errors >= 3,
        "only {with_errors} fixtures with item errors"
    );
}

/// The kind of one WhatsApp message given as JSON, classified through a full delivery.
fn wa_kind(message: &str) -> EventKind {
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"9","changes":[{{"field":"messages",
           "value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"5"}},"messages":[{message}]}}}}]}}]}}"#
    );
    let events = classify(&Delivery::from_slice(body.as_bytes()).unwrap());
    assert_eq!(events.len(), 1, "{message}");
    events[0].as_ref().unwrap().kind()
}

#[test]
fn whatsapp_rules_in_order() {
    // Rule 1 before 2 and 3: a reaction is a reaction whatever rides along.
    assert_eq!(
        wa_kind(
            r#"{"type":"reaction","reaction":{"message_id":"w","emoji":"x"},"referral":{"source_type":"ad"}}"#
        ),
        K::Reaction
    );
    assert_eq!(
        wa_kind(r#"{"type":"reaction","reaction":{"emoji":""}}"#),
        K::Unreaction
    );
    // Rule 2 before 3; an image from an ad is an ad referral.
    assert_eq!(
        wa_kind(
            r#"{"type":"image","image":{"id":"1"},"referral":{},"context":{"referred_product":{}}}"#
        ),
        K::AdReferral
    );
    assert_eq!(
        wa_kind(r#"{"type":"text","text":{"body":"x"},"context":{"referred_product":{}}}"#),
        K::ProductReferral
    );
    // A referral that is not an object does not count.
    assert_eq!(
        wa_kind(r#"{"type":"text","text":{"body":"x"},"referral":"ad"}"#),
        K::Text
    );
    for media in [
        "image", "video", "audio", "document", "sticker", "location", "contacts",
    ] {
        assert_eq!(
            wa_kind(&format!(r#"{{"type":"{media}"}}"#)),
            K::Media,
            "{media}"
        );
    }
    assert_eq!(
        wa_kind(r#"{"type":"interactive","interactive":{"list_reply":{"id":"a"}}}"#),
        K::QuickReply
    );
    assert_eq!(
        wa_kind(r#"{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{}}}"#),
        K::Unknown
    );
    assert_eq!(wa_kind(r#"{"type":"interactive"}"#), K::Unknown);
    assert_eq!(wa_kind(r#"{"type":"button","button":{}}"#), K::QuickReply);
    assert_eq!(wa_kind(r#"{"type":"order","order":{}}"#), K::Order);
    for other in ["unsupported", "system", "request_welcome", "hologram"] {
        assert_eq!(
            wa_kind(&format!(r#"{{"type":"{other}"}}"#)),
            K::Unknown,
            "{other}"
        );
    }
    // Without a type, a text object is not enough.
    assert_eq!(wa_kind(r#"{"text":{"body":"x"}}"#), K::Unknown);
}

#[test]
fn whatsapp_messages_come_before_statuses_whatever_the_key_order() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{
        "statuses":[{"id":"s1","status":"sent","recipient_id":"7"}],
        "messaging_product":"whatsapp","metadata":{"phone_number_id":"5"},
        "messages":[{"from":"7","id":"m1","type":"text","text":{"body":"a"}},{"from":"7","id":"m2","type":"text","text":{"body":"b"}}]}}]}]}"#;
    let events = classify(&Delivery::from_slice(body).unwrap());
    let mids: Vec<_> = events
        .iter()
        .map(|e| e.as_ref().unwrap().mid().unwrap().as_str())
        .collect();
    assert_eq!(mids, ["m1", "m2", "s1"]);
}

#[test]
fn whatsapp_values_with_parties_stay_wrapped_messaging_events() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","sender":{"id":"1"},"message":{"mid":"m","text":"t"}}}]}]}"#;
    let events = classify(&Delivery::from_slice(body).unwrap());
    assert_eq!(events[0].as_ref().unwrap().kind(), K::Text);
    assert!(matches!(
        events[0].as_ref().unwrap().data(),
        EventData::Message(_)
    ));
}

#[cfg(feature = "sink")]
#[test]
fn counts_match_the_classification_for_whatsapp() {
    for body in [
        &br#"{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","messages":[{"id":"a"},5,{"from":true}],"statuses":[{"id":"s"}]}}]}]}"#[..],
        br#"{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","contacts":[{"wa_id":"1"}]}},{"field":"messages","value":{
            "messaging_product":"whatsapp","errors":[{"code":1}]}}]}]}"#,
    ] {
        let delivery = Delivery::from_slice(body).unwrap();
        let events = classify(&delivery);
        let errors = events.iter().filter(|e| e.is_err()).count();
        assert_eq!(count(&delivery), (events.len() - errors, errors));
    }
}
