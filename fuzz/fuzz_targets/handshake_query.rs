//! Handshake query parsing on arbitrary input.
//!
//! Input layout (the seed corpus follows it; any bytes are valid input): `token \n query`.
//! An empty or non-UTF-8 token falls back to a fixed one; a non-UTF-8 query is decoded
//! lossily (the HTTP layer hands `respond` a `&str`).
//!
//! Besides "no panic", it checks the handshake's contract:
//! - an echoed challenge is 1–64 ASCII letters or digits (nothing else is reflected),
//! - a leading `?` makes no difference,
//! - `respond_to_uri` agrees with `respond` on the URI's query,
//! - the status is 403 exactly for the "forbidden" errors, else 400.
#![no_main]

use http::{StatusCode, Uri};
use libfuzzer_sys::fuzz_target;
use meta_webhooks::handshake::{HandshakeErrorKind, MAX_CHALLENGE_LEN};
use meta_webhooks::{Handshake, VerifyToken};

const FALLBACK_TOKEN: &str = "my-verify-token";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == b'\n');
    let token = std::str::from_utf8(parts.next().unwrap_or_default())
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or(FALLBACK_TOKEN);
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let Ok(token) = VerifyToken::new(token) else {
        return;
    };
    let handshake = Handshake::new(token);

    let result = handshake.respond(&query);
    match &result {
        Ok(challenge) => {
            let c = challenge.as_str();
            assert!(
                (1..=MAX_CHALLENGE_LEN).contains(&c.len()),
                "challenge length"
            );
            assert!(
                c.bytes().all(|b| b.is_ascii_alphanumeric()),
                "challenge charset"
            );
        }
        Err(err) => {
            let expected = match err.kind() {
                HandshakeErrorKind::WrongMode | HandshakeErrorKind::TokenMismatch => {
                    StatusCode::FORBIDDEN
                }
                _ => StatusCode::BAD_REQUEST,
            };
            assert_eq!(err.status(), expected);
            let _ = (err.to_string(), err.kind().as_str());
        }
    }

    if !query.starts_with('?') {
        assert_eq!(
            handshake.respond(&format!("?{query}")),
            result,
            "leading '?'"
        );
    }

    if let Ok(uri) = format!("/webhook?{query}").parse::<Uri>() {
        let via_uri = handshake.respond_to_uri(&uri);
        assert_eq!(via_uri, handshake.respond(uri.query().unwrap_or("")));
    }
});
