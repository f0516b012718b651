//! Known-answer vectors (computed with Python's `hmac` and cross-checked with
//! `openssl dgst -sha256 -hmac`) and property tests for signature verification.

use meta_webhooks::signature::{Malformed, SIGNATURE_HEADER};
use meta_webhooks::test_util::{Corpus, SignatureVector, VectorExpectation, sign};
use meta_webhooks::{AppSecret, Verifier, VerifyError};
use proptest::prelude::*;

fn vectors() -> Vec<SignatureVector> {
    Corpus::new().signature_vectors().unwrap()
}

fn verifier(secrets: &[String]) -> Verifier {
    Verifier::from_secrets(secrets.iter().map(|s| AppSecret::new(s.as_str()).unwrap())).unwrap()
}

#[test]
fn known_answer_vectors() {
    let vectors = vectors();
    assert!(vectors.len() >= 15, "vector file lost entries");
    for v in &vectors {
        let got = verifier(&v.secrets).verify(v.body.as_bytes(), &v.header);
        match v.expect {
            VectorExpectation::Ok { secret_index } => assert_eq!(
                got.map(|ok| ok.secret_index()),
                Ok(secret_index),
                "{}",
                v.name
            ),
            VectorExpectation::Mismatch => {
                assert_eq!(got, Err(VerifyError::Mismatch), "{}", v.name);
            }
            VectorExpectation::Malformed => assert!(
                matches!(got, Err(VerifyError::Malformed(_))),
                "{}: {got:?}",
                v.name
            ),
            other => panic!("{}: unknown expectation {other:?}", v.name),
        }
    }
}

#[test]
fn vectors_signed_by_test_util_match_the_independent_values() {
    for v in &vectors() {
        let VectorExpectation::Ok { secret_index } = v.expect else {
            continue;
        };
        if !v.header.starts_with("sha256=") {
            continue;
        }
        let secret = &v.secrets[secret_index];
        assert_eq!(
            sign(secret, v.body.as_bytes()),
            v.header.to_ascii_lowercase(),
            "{}",
            v.name
        );
    }
}

#[test]
fn reserialized_meta_body_differs_and_fails() {
    let vectors = vectors();
    let raw = vectors
        .iter()
        .find(|v| v.name == "meta_escapes_raw_bytes")
        .unwrap();
    // Parsing and re-serializing (what a framework's `Json<T>` extractor would hand you)
    // changes the bytes, so the signature over them no longer holds.
    let value: serde_json::Value = serde_json::from_str(&raw.body).unwrap();
    let reserialized = serde_json::to_vec(&value).unwrap();
    assert_ne!(reserialized, raw.body.as_bytes());
    for escape in [r"\/", r"\u00e4", r"\ud83d\ude00", r"\u0040"] {
        assert!(raw.body.contains(escape), "fixture lost {escape}");
    }
    let v = verifier(&raw.secrets);
    assert!(v.verify(raw.body.as_bytes(), &raw.header).is_ok());
    assert_eq!(
        v.verify(&reserialized, &raw.header),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn malformed_vectors_name_the_reason() {
    let v = verifier(&["s".to_owned()]);
    assert_eq!(
        v.verify(b"", "sha256="),
        Err(VerifyError::Malformed(Malformed::WrongLength { len: 0 }))
    );
    let mut headers = http::HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, sign("s", b"").parse().unwrap());
    assert!(v.verify_headers(b"", &headers).is_ok());
}

/// Flipping bit 5 of an ASCII letter only changes its case; in the hex digits that is the
/// same value (hex is case-insensitive by contract), so such a flip is not a forgery.
fn is_case_only_flip(original: u8, bit: u8) -> bool {
    bit == 5 && original.is_ascii_hexdigit() && original.is_ascii_alphabetic()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(secret in ".{1,80}", body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let v = Verifier::new(AppSecret::new(secret.as_str()).unwrap());
        prop_assert!(v.verify(&body, &sign(&secret, &body)).is_ok());
    }

    #[test]
    fn any_body_bit_flip_fails(secret in "[ -~]{1,40}", body in proptest::collection::vec(any::<u8>(), 1..1024), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let v = Verifier::new(AppSecret::new(secret.as_str()).unwrap());
        let header = sign(&secret, &body);
        let mut flipped = body.clone();
        flipped[pos.index(body.len())] ^= 1 << bit;
        prop_assert_eq!(v.verify(&flipped, &header), Err(VerifyError::Mismatch));
    }

    #[test]
    fn any_header_bit_flip_fails(secret in "[ -~]{1,40}", body in proptest::collection::vec(any::<u8>(), 0..512), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let v = Verifier::new(AppSecret::new(secret.as_str()).unwrap());
        let header = sign(&secret, &body);
        let mut bytes = header.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(!is_case_only_flip(bytes[i], bit));
        bytes[i] ^= 1 << bit;
        // A flip may leave UTF-8 (bit 7); such a header cannot even be a &str, so it goes
        // through the HeaderMap path as raw bytes.
        match String::from_utf8(bytes.clone()) {
            Ok(flipped) => prop_assert!(v.verify(&body, &flipped).is_err()),
            Err(_) => {
                if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                    let mut headers = http::HeaderMap::new();
                    headers.insert(SIGNATURE_HEADER, value);
                    prop_assert!(v.verify_headers(&body, &headers).is_err());
                }
            }
        }
    }

    #[test]
    fn arbitrary_headers_never_panic(header in ".{0,200}", hexish in "sha256=[0-9a-fA-Fg-z]{0,70}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = Verifier::new(AppSecret::new("secret").unwrap());
        let _ = v.verify(&body, &header);
        prop_assert!(v.verify(&body, &hexish).is_err());
    }
}
