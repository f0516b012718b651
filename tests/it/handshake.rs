//! Property tests for the handshake: arbitrary query strings never panic, and only a
//! correct token with a safe challenge is ever echoed.

use meta_webhooks::test_util::HandshakeRequest;
use meta_webhooks::{Handshake, VerifyToken};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_queries_never_panic_and_never_reflect_unsafe_text(query in ".{0,300}") {
        let hs = Handshake::new(VerifyToken::new("token").unwrap());
        if let Ok(challenge) = hs.respond(&query) {
            prop_assert!(challenge.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
            prop_assert!((1..=64).contains(&challenge.as_str().len()));
        }
    }

    #[test]
    fn structured_queries_follow_the_contract(
        mode in prop_oneof![Just("subscribe".to_owned()), "[a-z]{0,12}"],
        token in prop_oneof![Just("token".to_owned()), "[ -~]{0,12}"],
        challenge in "[ -~]{0,70}",
    ) {
        let hs = Handshake::new(VerifyToken::new("token").unwrap());
        let query = HandshakeRequest::new(&token)
            .mode(Some(&mode))
            .challenge(&challenge)
            .query();
        let safe = (1..=64).contains(&challenge.len()) && challenge.bytes().all(|b| b.is_ascii_alphanumeric());
        match hs.respond(&query) {
            Ok(echo) => {
                prop_assert!(mode == "subscribe" && token == "token" && safe);
                prop_assert_eq!(echo.as_str(), challenge.as_str());
            }
            Err(err) => {
                prop_assert!(!(mode == "subscribe" && token == "token" && safe));
                let forbidden = mode != "subscribe" || token != "token";
                prop_assert_eq!(err.status() == http::StatusCode::FORBIDDEN, forbidden, "{:?}", err);
            }
        }
    }
}
