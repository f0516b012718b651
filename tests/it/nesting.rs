//! Nesting-depth regression tests: a 100 000-deep bomb is rejected
//! cleanly — a typed error, no stack overflow, even on a small thread stack — wherever it
//! sits, while depth up to the documented limit parses and brackets inside strings do
//! not count.

use meta_webhooks::payload::{Delivery, ParseErrorKind};
use meta_webhooks::{EventKind, classify};

const BOMB: usize = 100_000;

fn arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn objects(depth: usize) -> String {
    let mut s = String::with_capacity(depth * 6 + 2);
    for _ in 0..depth {
        s.push_str(r#"{"a":"#);
    }
    s.push('1');
    s.push_str(&"}".repeat(depth));
    s
}

/// A one-text-message delivery with `extra` as the value of an unknown key inside the
/// message object (depth of that value's position: 6 = top, entry array, entry,
/// messaging array, event, message).
fn with_unknown_in_message(extra: &str) -> String {
    format!(
        r#"{{"object":"instagram","entry":[{{"id":"17841405793187218","messaging":[{{"sender":{{"id":"6934581207719432"}},"recipient":{{"id":"17841405793187218"}},"timestamp":1769870412000,"message":{{"mid":"aWdf","text":"hi","x":{extra}}}}}]}}]}}"#
    )
}

/// Runs `f` on a thread with a deliberately small stack: a recursive descent over
/// 100 000 levels would overflow it (and abort the test binary).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn rejected_too_deep(body: String) {
    let kind = on_small_stack(move || Delivery::from_slice(body.as_bytes()).map(|_| ()));
    let err = kind.unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::TooDeep, "{err}");
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
}

#[test]
fn bomb_of_arrays_in_an_unknown_top_level_key_is_rejected() {
    rejected_too_deep(format!(
        r#"{{"object":"instagram","entry":[],"x":{}}}"#,
        arrays(BOMB)
    ));
}

#[test]
fn bomb_of_objects_inside_a_message_is_rejected() {
    rejected_too_deep(with_unknown_in_message(&objects(BOMB)));
}

#[test]
fn bomb_inside_an_unknown_change_value_is_rejected() {
    rejected_too_deep(format!(
        r#"{{"object":"instagram","entry":[{{"id":"1","changes":[{{"field":"future","value":{}}}]}}]}}"#,
        arrays(BOMB)
    ));
}

#[test]
fn bare_and_unterminated_bombs_are_rejected() {
    rejected_too_deep(arrays(BOMB));
    rejected_too_deep("[".repeat(BOMB));
    rejected_too_deep(r#"{"a":"#.repeat(BOMB));
    // Without closing brackets the body is also invalid JSON; either reason is a clean
    // rejection, what matters is that it returns.
    let err = on_small_stack(|| {
        Delivery::from_slice(
            format!(r#"{{"object":"page","entry":{}"#, "[".repeat(BOMB)).as_bytes(),
        )
        .map(|_| ())
    })
    .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ParseErrorKind::TooDeep | ParseErrorKind::InvalidJson
        ),
        "{err}"
    );
}

#[test]
fn depth_100_inside_an_unknown_field_parses_and_classifies() {
    // 6 levels down to the message's unknown key, then 94 more: total depth 100.
    let body = with_unknown_in_message(&arrays(94));
    let events = on_small_stack(move || {
        let delivery = Delivery::from_slice(body.as_bytes()).unwrap();
        classify(&delivery)
            .into_iter()
            .map(|r| {
                r.map(|e| (e.kind(), e.text().map(str::to_owned)))
                    .map_err(|e| e.to_string())
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(events, vec![Ok((EventKind::Text, Some("hi".to_owned())))]);
}

#[test]
fn the_documented_limit_is_128_levels() {
    // Top-level object = 1, the array under "x" = 2, ...
    let at = |depth: usize| {
        format!(
            r#"{{"object":"instagram","entry":[],"x":{}}}"#,
            arrays(depth - 1)
        )
    };
    assert!(Delivery::from_slice(at(128).as_bytes()).is_ok());
    let err = Delivery::from_slice(at(129).as_bytes()).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::TooDeep);
}

#[test]
fn brackets_inside_strings_do_not_count() {
    let text = format!(r#"{}\"{}"#, "[".repeat(BOMB), "{".repeat(BOMB));
    let body = format!(
        r#"{{"object":"instagram","entry":[{{"id":"1","messaging":[{{"sender":{{"id":"2"}},"message":{{"mid":"m","text":"{text}"}}}}]}}]}}"#
    );
    let delivery = on_small_stack(move || Delivery::from_slice(body.as_bytes())).unwrap();
    let events = classify(&delivery);
    let event = events[0].as_ref().unwrap();
    assert_eq!(event.kind(), EventKind::Text);
    let expected = format!("{}\"{}", "[".repeat(BOMB), "{".repeat(BOMB));
    assert_eq!(event.text(), Some(expected.as_str()));
}
