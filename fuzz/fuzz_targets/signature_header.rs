//! Signature header parsing and verification on arbitrary input.
//!
//! Input layout (the seed corpus follows it; any bytes are valid input):
//! `secret \n header \n body`. A missing part is empty; an empty secret falls back to a fixed
//! one (an `AppSecret` cannot be empty).
//!
//! Besides "no panic", it checks the verifier's contract:
//! - anything accepted is exactly the HMAC of the body (hex compared case-insensitively),
//! - `verify` (a `&str`) and `verify_headers` (a `HeaderMap`) agree,
//! - the genuine signature, lower- or upper-case, is always accepted.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use meta_webhooks::signature::SIGNATURE_HEADER;
use meta_webhooks::test_util::sign;
use meta_webhooks::{AppSecret, Verifier};

const FALLBACK_SECRET: &str = "6f1d0c2e9a8b47f3b5c4d2e1f0a9b8c7";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let secret = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let secret = if secret.is_empty() {
        FALLBACK_SECRET.to_owned()
    } else {
        secret
    };
    let Ok(app_secret) = AppSecret::new(secret.clone()) else {
        return;
    };
    let verifier = Verifier::new(app_secret);
    let genuine = sign(&secret, body);

    // The header as a string, when it is one.
    if let Ok(header) = std::str::from_utf8(header) {
        let result = verifier.verify(body, header);
        if result.is_ok() {
            assert!(
                header.eq_ignore_ascii_case(&genuine),
                "accepted a header that is not the body's HMAC"
            );
        }
        let _ = result.map_err(|e| (e.to_string(), e.status(), e.kind().as_str()));
    }

    // The header as an HTTP header value (any bytes `http` accepts, including obs-text).
    if let Ok(value) = HeaderValue::from_bytes(header) {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, value);
        let via_map = verifier.verify_headers(body, &headers);
        if let Ok(header) = std::str::from_utf8(header) {
            let via_str = verifier.verify(body, header);
            assert_eq!(
                via_map.is_ok(),
                via_str.is_ok(),
                "verify and verify_headers disagree"
            );
            assert_eq!(
                via_map.err(),
                via_str.err(),
                "verify and verify_headers disagree"
            );
        } else {
            assert!(via_map.is_err(), "accepted a non-UTF-8 header");
        }
    }

    // The genuine signature always verifies, in either case.
    assert!(verifier.verify(body, &genuine).is_ok());
    let upper = format!(
        "sha256={}",
        genuine.trim_start_matches("sha256=").to_ascii_uppercase()
    );
    assert!(verifier.verify(body, &upper).is_ok());
});
