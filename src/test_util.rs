//! Test helpers (feature `test-util`): the test-side twin of [`signature`](crate::signature).
//!
//! [`sign`] produces exactly the `X-Hub-Signature-256` value that
//! [`Verifier::verify`](crate::Verifier::verify) accepts, so tests and local tools can
//! build signed deliveries without a Meta app.
//!
//! ```
//! use meta_webhooks::test_util::sign;
//! use meta_webhooks::{AppSecret, Verifier};
//!
//! let body = br#"{"object":"instagram","entry":[]}"#;
//! let header = sign("app-secret", body);
//! assert!(header.starts_with("sha256="));
//!
//! let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
//! assert!(verifier.verify(body, &header).is_ok());
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Signs `body` with `secret` and returns the header value `sha256=<64 lowercase hex>`.
///
/// Unlike [`AppSecret`](crate::AppSecret), this accepts an empty secret, so tests can
/// show that a verifier never accepts what an empty key signs.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(body);
    let mut header = String::with_capacity(7 + 64);
    header.push_str(crate::signature::SIGNATURE_PREFIX);
    header.push_str(&hex::encode(mac.finalize().into_bytes()));
    header
}
