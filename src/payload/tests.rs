//! Envelope-level tests: whole-body rejects, per-item isolation, depth limits on every
//! path (typed, `IgnoredAny`, `RawValue`), tolerance, other objects.

use super::*;
use crate::event::classify;

fn kind_of(body: &[u8]) -> ParseErrorKind {
    Delivery::from_slice(body).unwrap_err().kind()
}

fn nest(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn whole_body_rejects() {
    use ParseErrorKind as K;
    assert_eq!(
        kind_of(b"{\"object\":\"page\",\"entry\":[],\"x\":\"\xff\"}"),
        K::NotUtf8
    );
    for invalid in [
        &b""[..],
        b"   ",
        b"{",
        br#"{"object":"instagram","entry":[{"id":"1"}"#,
        br#"{'object':'instagram'}"#,
        br#"{"object":"instagram","entry":[],}"#,
        br#"{"object":"instagram","entry":[]} x"#,
        br#"{"object":"instagram","entry":[{"messaging":[{"a":tru}]}]}"#,
    ] {
        assert_eq!(
            kind_of(invalid),
            K::InvalidJson,
            "{}",
            String::from_utf8_lossy(invalid)
        );
    }
    for not_object in [&b"[]"[..], b"null", b"\"instagram\"", b"42", b"true"] {
        assert_eq!(kind_of(not_object), K::NotAnObject);
    }
    assert_eq!(kind_of(br#"{"entry":[]}"#), K::MissingObject);
    assert_eq!(kind_of(br#"{"object":null,"entry":[]}"#), K::InvalidObject);
    assert_eq!(kind_of(br#"{"object":7,"entry":[]}"#), K::InvalidObject);
    assert_eq!(
        kind_of(br#"{"object":{"a":1},"entry":[]}"#),
        K::InvalidObject
    );
    assert_eq!(kind_of(br#"{"object":"instagram"}"#), K::MissingEntry);
    for entry in ["null", "{}", "\"x\"", "1"] {
        let body = format!(r#"{{"object":"instagram","entry":{entry}}}"#);
        assert_eq!(kind_of(body.as_bytes()), K::InvalidEntry, "{entry}");
    }
}

#[test]
fn syntax_beats_shape_and_messages_carry_no_body() {
    // A truncated array is invalid JSON, not "not an object".
    assert_eq!(kind_of(b"[1,2"), ParseErrorKind::InvalidJson);
    let secret = r#"{"object":"instagram","entry":[{"messaging":[{"message":{"text":"my password is hunter2"}]}]}"#;
    let err = Delivery::from_slice(secret.as_bytes()).unwrap_err();
    assert!(err.kind() == ParseErrorKind::InvalidJson);
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.position().is_some());
    let err = Delivery::from_slice(b"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "body is empty or truncated JSON (line 1, column 0)"
    );
    assert!(Delivery::from_slice(b"{}").unwrap_err().kind() == ParseErrorKind::MissingObject);
}

#[test]
fn a_leading_byte_order_mark_is_rejected_and_named() {
    let body = br#"{"object":"page","entry":[]}"#;
    assert!(Delivery::from_slice(body).is_ok());
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(body);
    let err = Delivery::from_slice(&with_bom).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::InvalidJson);
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    assert!(
        err.to_string().contains("starts with a byte-order mark"),
        "{err}"
    );
    assert_eq!(err.position(), Some((1, 1)));
    // Only a leading mark is named: inside a string it is text, after whitespace it is
    // plain invalid JSON; a UTF-16 mark is not UTF-8 at all.
    let inside = "{\"object\":\"page\u{feff}\",\"entry\":[]}";
    assert!(Delivery::from_slice(inside.as_bytes()).is_ok());
    let mut after_space = b" ".to_vec();
    after_space.extend_from_slice(&with_bom);
    let err = Delivery::from_slice(&after_space).unwrap_err();
    assert!(!err.to_string().contains("byte-order mark"), "{err}");
    assert_eq!(kind_of(b"\xFF\xFE{\x00}\x00"), ParseErrorKind::NotUtf8);
}

#[test]
fn depth_up_to_128_accepted_anywhere() {
    // The envelope uses 4 levels (object, entry, entry object, messaging) + the item.
    for inner in [60, 95, 123] {
        let body = format!(
            r#"{{"object":"instagram","entry":[{{"id":"1","messaging":[{{"sender":{{"id":"u"}},"message":{{"mid":"m","text":"t"}},"unknown":{n}}}]}}]}}"#,
            n = nest(inner)
        );
        let d = Delivery::from_slice(body.as_bytes()).unwrap();
        let events = classify(&d);
        assert_eq!(events[0].as_ref().unwrap().text(), Some("t"), "{inner}");
    }
    // Total depth 100 in an unknown top-level key (IgnoredAny path).
    let body = format!(r#"{{"object":"instagram","entry":[],"x":{}}}"#, nest(99));
    assert!(Delivery::from_slice(body.as_bytes()).is_ok());
    // Total depth exactly 128 in an unknown entry key.
    let body = format!(
        r#"{{"object":"instagram","entry":[{{"x":{}}}]}}"#,
        nest(125)
    );
    assert!(Delivery::from_slice(body.as_bytes()).is_ok());
}

#[test]
fn depth_over_128_rejected_on_every_path() {
    let bodies = [
        // Unknown top-level key: serde's IgnoredAny path would accept it.
        format!(r#"{{"object":"instagram","entry":[],"x":{}}}"#, nest(128)),
        // Unknown entry key.
        format!(
            r#"{{"object":"instagram","entry":[{{"x":{}}}]}}"#,
            nest(126)
        ),
        // Inside a messaging item (captured as RawValue, then typed from it).
        format!(
            r#"{{"object":"instagram","entry":[{{"messaging":[{{"unknown":{}}}]}}]}}"#,
            nest(125)
        ),
        // Inside a known typed field.
        format!(
            r#"{{"object":"instagram","entry":[{{"messaging":[{{"message":{{"attachments":{}}}}}]}}]}}"#,
            nest(124)
        ),
        // Inside a change value (RawValue, typed later).
        format!(
            r#"{{"object":"instagram","entry":[{{"changes":[{{"field":"feed","value":{}}}]}}]}}"#,
            nest(200)
        ),
        // Top level.
        nest(129),
    ];
    for body in &bodies {
        assert_eq!(
            kind_of(body.as_bytes()),
            ParseErrorKind::TooDeep,
            "{}",
            &body[..60.min(body.len())]
        );
    }
}

#[test]
fn nesting_bomb_is_rejected_without_overflow() {
    for bomb in [
        "[".repeat(100_000),
        format!(
            r#"{{"object":"instagram","entry":[{{"x":{}"#,
            "{\"a\":".repeat(100_000)
        ),
        format!(
            r#"{{"object":"instagram","entry":[],"x":{}}}"#,
            nest(100_000)
        ),
    ] {
        let err = Delivery::from_slice(bomb.as_bytes()).unwrap_err();
        assert!(err.kind() == ParseErrorKind::TooDeep, "{err}");
    }
}

#[test]
fn bad_items_are_isolated_with_their_raw_json() {
    let body = br#"{"object":"instagram","entry":[
        {"id":"A","messaging":[{"sender":{"id":"u"},"message":{"mid":"m","text":"ok"}}, 17, "s", null, [1],
                               {"sender":{"id":true},"message":{"mid":"m2"}}],
              "standby":{"not":"an array"},
              "changes":[{"field":"comments","value":{"id":false}}, 5]},
        42, null, {"id":{"bad":1},"messaging":[]}, {"id":"B","messaging":"oops"}]}"#;
    let d = Delivery::from_slice(body).unwrap();
    let entries = d.entries();
    assert_eq!(entries.len(), 5);
    let a = entries[0].as_ref().unwrap();
    assert_eq!(a.messaging.len(), 6);
    assert!(a.messaging[0].is_ok());
    let raws: Vec<_> = a.messaging[1..]
        .iter()
        .map(|m| m.as_ref().unwrap_err().raw())
        .collect();
    assert_eq!(
        raws,
        [
            "17",
            r#""s""#,
            "null",
            "[1]",
            r#"{"sender":{"id":true},"message":{"mid":"m2"}}"#
        ]
    );
    assert_eq!(
        a.messaging[1].as_ref().unwrap_err().reason(),
        "messaging item is not an object"
    );
    assert_eq!(a.standby.len(), 1);
    let standby = a.standby[0].as_ref().unwrap_err();
    assert_eq!(
        (standby.reason(), standby.raw()),
        ("standby is not an array", r#"{"not":"an array"}"#)
    );
    assert_eq!(a.changes.len(), 2);
    assert_eq!(
        a.changes[0].as_ref().unwrap_err().raw(),
        r#"{"field":"comments","value":{"id":false}}"#
    );
    assert_eq!(
        a.changes[1].as_ref().unwrap_err().reason(),
        "changes item is not an object"
    );
    assert_eq!(entries[1].as_ref().unwrap_err().raw(), "42");
    assert_eq!(entries[2].as_ref().unwrap_err().raw(), "null");
    let bad_id = entries[3].as_ref().unwrap_err();
    assert_eq!(
        bad_id.reason(),
        "entry.id is neither a string nor an integer"
    );
    assert_eq!(bad_id.raw(), r#"{"id":{"bad":1},"messaging":[]}"#);
    let kinds = [
        a.messaging[1].as_ref().unwrap_err().kind(),
        standby.kind(),
        a.changes[0].as_ref().unwrap_err().kind(),
        entries[1].as_ref().unwrap_err().kind(),
        bad_id.kind(),
    ];
    assert_eq!(
        kinds.map(ItemErrorKind::as_str),
        [
            "not_an_object",
            "not_an_array",
            "invalid_item",
            "not_an_object",
            "invalid_entry_id"
        ]
    );
    let b = entries[4].as_ref().unwrap();
    assert_eq!(b.messaging[0].as_ref().unwrap_err().raw(), r#""oops""#);
    // One result per item, in place.
    assert_eq!(classify(&d).len(), 6 + 1 + 2 + 1 + 1 + 1 + 1);
}

#[test]
fn empty_and_missing_arrays_contribute_nothing() {
    let d = Delivery::from_slice(
        br#"{"object":"page","entry":[{"id":"1"},{"id":"2","messaging":[],"standby":null,"changes":[]}]}"#,
    )
    .unwrap();
    assert_eq!(d.entries().len(), 2);
    assert!(classify(&d).is_empty());
    let d = Delivery::from_slice(br#"{"object":"page","entry":[]}"#).unwrap();
    assert!(d.entries().is_empty() && classify(&d).is_empty());
}

#[test]
fn wire_tolerances() {
    let d = Delivery::from_slice(
        br#"{"object":"page","entry":[{"id":510512709009335,"time":"1520622968","uid":"x","hop_context":[{}],
            "messaging":[{"sender":{"id":1254459154682919},"recipient":{"id":510512709009335},"timestamp":1458692752478,
              "message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","seq":73,"app_id":1517776481860111,"is_echo":true,
                "attachments":[{"type":"fallback","payload":null,"title":"Link","url":"https://x"},{"type":"ephemeral"},
                               {"type":"location","payload":{"coordinates":{"lat":52.5,"long":13.4}}},
                               {"type":"ig_reel","payload":{"reel_video_id":"17990"}},{"type":"template","payload":{"template_type":"generic","elements":[]}},
                               {"type":"brand_new","payload":{"x":[1,{"y":null}]}}]}},
              {"sender":{"id":"1"},"timestamp":"1527459824","message_edit":{"mid":"m","num_edit":"3"}}]}]}"#,
    )
    .unwrap();
    let entry = d.entries()[0].as_ref().unwrap();
    assert_eq!(entry.id.as_ref().unwrap(), "510512709009335");
    assert_eq!(entry.time.unwrap().as_millis(), 1_520_622_968_000);
    let ev = entry.messaging[0].as_ref().unwrap();
    assert_eq!(ev.sender_id().unwrap(), "1254459154682919");
    assert_eq!(ev.timestamp.unwrap().as_millis(), 1_458_692_752_478);
    let m = ev.message.as_ref().unwrap();
    assert_eq!(m.app_id.as_ref().unwrap(), "1517776481860111");
    assert_eq!(m.attachments.len(), 6);
    assert!(m.attachments[0].payload.is_none());
    assert_eq!(m.attachments[0].url(), Some("https://x"));
    assert!(m.attachments[1].payload.is_none());
    assert_eq!(
        m.attachments[5].kind.as_ref().unwrap().as_str(),
        "brand_new"
    );
    assert_eq!(
        m.attachments[5].payload.as_ref().unwrap().raw(),
        r#"{"x":[1,{"y":null}]}"#
    );
    let edit = entry.messaging[1].as_ref().unwrap();
    assert_eq!(edit.timestamp.unwrap().as_millis(), 1_527_459_824_000);
    assert_eq!(edit.message_edit.as_ref().unwrap().num_edit, Some(3));
}

#[test]
fn other_objects_parse_as_envelopes() {
    let d = Delivery::from_slice(
        br#"{"object":"user","entry":[{"id":"8856996819413533","uid":"8856996819413533","time":1769870412,
            "changes":[{"field":"email","value":{"email":"x@example.com"}}]}]}"#,
    )
    .unwrap();
    assert_eq!(d.object(), &Object::Other("user".into()));
    assert_eq!(d.object().as_str(), "user");
    let change = d.entries()[0].as_ref().unwrap().changes[0]
        .as_ref()
        .unwrap();
    assert!(matches!(change.value, ChangeValue::Other));
    assert_eq!(change.value_raw(), Some(r#"{"email":"x@example.com"}"#));
    let events = classify(&d);
    let e = events[0].as_ref().unwrap();
    assert_eq!(e.kind().as_str(), "unknown");
    assert_eq!(e.normalized().recipient, Some("8856996819413533"));
}

#[test]
fn whatsapp_messages_values_are_typed() {
    let d = Delivery::from_slice(
        br#"{"object":"whatsapp_business_account","entry":[{"id":"8856996819413533","changes":[{"value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"16505553333","phone_number_id":"27681414235104944"},
            "contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"16315551234"}],
            "messages":[{"from":"16315551234","id":"wamid.ABGGFlCGg0cvAgo-sJQh43L5Pe4W","timestamp":"1603059201","text":{"body":"Hello this is an answer"},"type":"text"}]},
            "field":"messages"},
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12345678}}]}]}"#,
    )
    .unwrap();
    assert_eq!(d.object(), &Object::WhatsAppBusinessAccount);
    assert_eq!(d.object().as_str(), "whatsapp_business_account");
    let changes = &d.entries()[0].as_ref().unwrap().changes;
    let ChangeValue::WhatsApp(value) = &changes[0].as_ref().unwrap().value else {
        panic!("{changes:?}")
    };
    assert_eq!(value.phone_number_id().unwrap(), "27681414235104944");
    let message = value.messages[0].as_ref().unwrap();
    assert_eq!(message.text(), Some("Hello this is an answer"));
    assert!(message.raw().starts_with(r#"{"from":"16315551234""#));
    // Other WhatsApp fields keep their raw JSON.
    let template = changes[1].as_ref().unwrap();
    assert!(matches!(template.value, ChangeValue::Other));
    assert!(template.value_raw().unwrap().contains("APPROVED"));
}

#[test]
fn raw_json_is_the_exact_input_slice() {
    let body = br#"{"object":"instagram","entry":[{"id":"1","messaging":[ {"sender":{"id":"u"},"message":{"mid":"m","text":"caf\u00e9 \/ \ud83d\ude00"}} ]}]}"#;
    let d = Delivery::from_slice(body).unwrap();
    let item = d.entries()[0].as_ref().unwrap().messaging[0]
        .as_ref()
        .unwrap();
    assert_eq!(
        item.raw(),
        r#"{"sender":{"id":"u"},"message":{"mid":"m","text":"caf\u00e9 \/ \ud83d\ude00"}}"#
    );
    let span = item.raw_json().span();
    assert_eq!(&d.body()[span], item.raw());
    assert_eq!(
        item.message.as_ref().unwrap().text.as_deref(),
        Some("café / 😀")
    );
}

#[test]
fn duplicate_keys_do_not_panic() {
    let d = Delivery::from_slice(
        br#"{"object":"page","object":"instagram","entry":[5],"entry":[{"id":"1","id":"2","messaging":[],"messaging":[{"read":{"mid":"m"}}]}]}"#,
    )
    .unwrap();
    assert_eq!(d.object(), &Object::Instagram);
    let entry = d.entries()[0].as_ref().unwrap();
    assert_eq!(entry.id.as_ref().unwrap(), "2");
    assert_eq!(entry.messaging.len(), 1);
}

#[test]
fn delivery_is_owned_and_thread_safe() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Delivery>();
    assert_traits::<ParseError>();
    assert_traits::<ItemError>();
}

/// Everything observable about a delivery's events, for comparing the two parse paths.
fn observe(
    object: &Object,
    entries: Vec<Result<Entry, ItemError>>,
    body: &Arc<Body>,
) -> Vec<String> {
    let delivery = Delivery {
        object: object.clone(),
        entries,
        body: Arc::clone(body),
    };
    let values_raw = delivery
        .entries()
        .iter()
        .flatten()
        .flat_map(|entry| entry.changes.iter().flatten())
        .map(|change| format!("value {:?}", change.value_raw()));
    let events = classify(&delivery)
        .iter()
        .map(|r| match r {
            Ok(e) => format!(
                "{:?} {} {:?} {:?}",
                e.normalized(),
                e.dedup_key(),
                e.raw(),
                e.data()
            ),
            Err(e) => format!("{:?} {:?}", e.normalized(), e.raw()),
        })
        .collect::<Vec<_>>();
    values_raw.chain(events).collect()
}

#[test]
fn fast_and_careful_paths_agree_on_the_fixture_corpus() {
    let mut fast_taken = 0;
    for fixture in crate::test_util::Corpus::new().fixtures() {
        let fixture = fixture.unwrap();
        let (bytes, file) = (fixture.body(), fixture.name());
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        if depth::exceeds(bytes, depth::MAX_DEPTH) {
            continue;
        }
        let body = Body::new(text);
        let Some((object, entries)) = fast::parse(&body) else {
            continue;
        };
        fast_taken += 1;
        let fast = observe(&object, entries, &body);
        let careful_body = Body::new(text);
        let (c_object, c_entries) = envelope::parse(&careful_body).unwrap();
        assert_eq!(object, c_object, "{file}");
        let careful = observe(&c_object, c_entries, &careful_body);
        assert_eq!(fast, careful, "{file}");
    }
    assert!(
        fast_taken >= 40,
        "fast path taken for only {fast_taken} fixtures"
    );
}

#[test]
fn fast_path_declines_every_anomaly() {
    let accepts = |json: &str| fast::parse(&Body::new(json)).is_some();
    assert!(accepts(
        r#"{"object":"instagram","entry":[{"id":1,"time":"1","messaging":[{"message":"TEST_MESSAGE"}],"standby":null,"changes":[{"field":"x","value":5}]}],"x":[]}"#
    ));
    // WhatsApp changes, `value` first, are read in one pass.
    let whatsapp = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"5"},
          "messages":[{"from":"1","id":"a","type":"text","text":{"body":"x"}}]},"field":"messages"},
        {"value":{"event":"APPROVED"},"field":"message_template_status_update"},
        {"value":null,"field":"messages"},{"field":"x"}]}]}"#;
    assert!(accepts(whatsapp));
    let delivery = Delivery::from_slice(whatsapp.as_bytes()).unwrap();
    let changes = &delivery.entries()[0].as_ref().unwrap().changes;
    let raws: Vec<_> = changes
        .iter()
        .map(|c| c.as_ref().unwrap().value_raw())
        .collect();
    assert_eq!(raws[1], Some(r#"{"event":"APPROVED"}"#));
    assert_eq!(raws[2..], [None, None]);
    assert!(raws[0].unwrap().starts_with(r#"{"messaging_product""#));
    assert!(raws[0].unwrap().ends_with("}]}"));
    for declined in [
        // A value WhatsApp's one-pass reading cannot type.
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"id":"1"},"field":"comments"}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"sender":{"id":"1"}},"field":"messages"}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"sender":{"id":"1"}},"field":"message_echoes"}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":[null,null,"whatsapp"],"field":"messages"}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[7]},"field":"messages"}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{},"value":{},"field":"messages"}]}]}"#,
        "[]",
        r#"{"entry":[]}"#,
        r#"{"object":1,"entry":[]}"#,
        r#"{"object":"i"}"#,
        r#"{"object":"i","entry":{}}"#,
        r#"{"object":"i","object":"p","entry":[]}"#,
        r#"{"object":"i","entry":[],"entry":[]}"#,
        r#"{"object":"i","entry":[5]}"#,
        r#"{"object":"i","entry":[{"id":true}]}"#,
        r#"{"object":"i","entry":[{"id":"1","id":"2"}]}"#,
        r#"{"object":"i","entry":[{"messaging":"x"}]}"#,
        r#"{"object":"i","entry":[{"messaging":[],"messaging":[]}]}"#,
        r#"{"object":"i","entry":[{"messaging":[5]}]}"#,
        r#"{"object":"i","entry":[{"standby":[{"sender":{"id":[]}}]}]}"#,
        r#"{"object":"i","entry":[{"changes":[{"field":"comments","value":{"id":true}}]}]}"#,
        r#"{"object":"i","entry":[{"changes":["x"]}]}"#,
        r#"{"object":"i","entry":[]} trailing"#,
    ] {
        assert!(!accepts(declined), "{declined}");
        // ... and the careful path still gives a sensible answer (not a panic).
        let _ = Delivery::from_slice(declined.as_bytes());
    }
}
