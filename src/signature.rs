//! `X-Hub-Signature-256` verification over the exact raw request body.
//!
//! Meta signs every webhook `POST` with HMAC-SHA256 keyed by the app secret and sends
//! `X-Hub-Signature-256: sha256=<64 hex digits>`. The MAC covers the **raw bytes** Meta sent
//! — ASCII JSON with `\/` and `\uXXXX` escapes — so the body must be hashed as received,
//! before any parse, and never re-serialized.
//!
//! A [`Verifier`] is built once from one or more [`AppSecret`]s (several during a secret
//! rotation: any of them verifies) and then checks deliveries with [`Verifier::verify`] or
//! [`Verifier::verify_headers`]. The comparison is constant time
//! ([`Mac::verify_slice`]) on the strictly decoded 32 bytes. The legacy SHA-1
//! `X-Hub-Signature` header is never accepted as proof.
//!
//! ```
//! use meta_webhooks::signature::VerifyErrorKind;
//! use meta_webhooks::{AppSecret, Verifier};
//!
//! let verifier = Verifier::new(AppSecret::new("app-secret").unwrap());
//! let body = br#"{"object":"instagram","entry":[]}"#;
//! // HMAC-SHA256("app-secret", body), as Meta sends it:
//! let header = "sha256=4868ba1823ceabaf8b38db993057d6e01e2dea967330aad8444f60a4531cd687";
//! assert!(verifier.verify(body, header).is_ok());
//!
//! // One byte changed (here: a space added) and the signature no longer matches.
//! let err = verifier.verify(br#"{"object":"instagram", "entry":[]}"#, header).unwrap_err();
//! assert_eq!(err.kind(), VerifyErrorKind::Mismatch);
//! assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
//! ```

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, StatusCode};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::secret::AppSecret;

type HmacSha256 = Hmac<Sha256>;

/// The header that carries the signature, lower-case as `http` normalizes it.
pub const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-hub-signature-256");

/// The required prefix of the header value.
pub const SIGNATURE_PREFIX: &str = "sha256=";

/// Length of the hex digest after the prefix (32 bytes).
const HEX_LEN: usize = 64;

/// Verifies `X-Hub-Signature-256` headers against one or more app secrets.
///
/// Build it once at start-up and share it (it is `Send + Sync` and cheap to clone). Each
/// secret's HMAC key schedule is computed once, here, not per request.
///
/// ```
/// use meta_webhooks::{AppSecret, Verifier};
///
/// // During a rotation both the old and the new secret are accepted.
/// let verifier = Verifier::from_secrets([
///     AppSecret::new("old-secret").unwrap(),
///     AppSecret::new("new-secret").unwrap(),
/// ])
/// .unwrap();
/// assert_eq!(verifier.secret_count(), 2);
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<HmacSha256>,
}

impl Verifier {
    /// A verifier for a single app secret.
    ///
    /// An empty secret cannot reach this point: [`AppSecret::new`] refuses it.
    pub fn new(secret: AppSecret) -> Self {
        Self {
            keys: vec![keyed(&secret)],
        }
    }

    /// A verifier accepting any of several secrets (secret rotation).
    ///
    /// # Errors
    ///
    /// [`NoSecretsError`] when the iterator yields no secret.
    pub fn from_secrets(
        secrets: impl IntoIterator<Item = AppSecret>,
    ) -> Result<Self, NoSecretsError> {
        let keys: Vec<HmacSha256> = secrets.into_iter().map(|s| keyed(&s)).collect();
        if keys.is_empty() {
            return Err(NoSecretsError);
        }
        Ok(Self { keys })
    }

    /// Adds another accepted secret, e.g. the new one at the start of a rotation.
    #[must_use]
    pub fn with_secret(mut self, secret: AppSecret) -> Self {
        self.keys.push(keyed(&secret));
        self
    }

    /// How many secrets are accepted.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies `header` (the value of `X-Hub-Signature-256`) over the raw `body`.
    ///
    /// The header must be exactly `sha256=` followed by 64 hex digits, upper- or lower-case.
    /// The body is hashed as given: pass the bytes exactly as received.
    ///
    /// # Errors
    ///
    /// [`VerifyError::Malformed`] when the header is not of that form and
    /// [`VerifyError::Mismatch`] when no accepted secret produced the signature.
    ///
    /// ```
    /// use meta_webhooks::signature::VerifyErrorKind;
    /// use meta_webhooks::{AppSecret, Verifier};
    ///
    /// let verifier = Verifier::new(AppSecret::new("s").unwrap());
    /// let err = verifier.verify(b"{}", "sha1=abc").unwrap_err();
    /// assert_eq!(err.kind(), VerifyErrorKind::Malformed);
    /// assert_eq!(err.kind().as_str(), "malformed");
    /// ```
    pub fn verify(&self, body: &[u8], header: &str) -> Result<Verified, VerifyError> {
        let expected = parse_header(header.as_bytes())?;
        self.verify_digest(body, &expected)
    }

    /// Verifies the `X-Hub-Signature-256` header found in `headers` over the raw `body`.
    ///
    /// Only `X-Hub-Signature-256` is consulted: a request that carries nothing but the
    /// legacy SHA-1 `X-Hub-Signature` is refused as [`VerifyError::MissingHeader`]. A
    /// request with several `X-Hub-Signature-256` values is refused as malformed.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingHeader`], [`VerifyError::Malformed`] or
    /// [`VerifyError::Mismatch`].
    ///
    /// ```
    /// use http::HeaderMap;
    /// use meta_webhooks::signature::VerifyErrorKind;
    /// use meta_webhooks::{AppSecret, Verifier};
    ///
    /// let verifier = Verifier::new(AppSecret::new("s").unwrap());
    /// let err = verifier.verify_headers(b"{}", &HeaderMap::new()).unwrap_err();
    /// assert_eq!(err.kind(), VerifyErrorKind::MissingHeader);
    /// ```
    pub fn verify_headers(
        &self,
        body: &[u8],
        headers: &HeaderMap,
    ) -> Result<Verified, VerifyError> {
        let mut values = headers.get_all(SIGNATURE_HEADER).iter();
        let value = values.next().ok_or(VerifyError::MissingHeader)?;
        if values.next().is_some() {
            return Err(VerifyError::Malformed(Malformed::Repeated));
        }
        let expected = parse_header(value.as_bytes())?;
        self.verify_digest(body, &expected)
    }

    fn verify_digest(&self, body: &[u8], expected: &[u8; 32]) -> Result<Verified, VerifyError> {
        for (index, key) in self.keys.iter().enumerate() {
            let mut mac = key.clone();
            mac.update(body);
            if mac.verify_slice(expected).is_ok() {
                return Ok(Verified {
                    secret_index: index,
                });
            }
        }
        Err(VerifyError::Mismatch)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &format_args!("[redacted; {}]", self.keys.len()))
            .finish()
    }
}

fn keyed(secret: &AppSecret) -> HmacSha256 {
    let secret = secret.expose().as_bytes();
    HmacSha256::new_from_slice(secret).unwrap_or_else(|_| {
        // Unreachable: HMAC takes keys of any length. Were it ever reached, the key would
        // still be derived from the secret (its SHA-256, zero-padded to the block), never a
        // constant, so a verifier can never accept signatures made without the secret.
        let mut key = hmac::digest::Key::<HmacSha256>::default();
        key.iter_mut()
            .zip(Sha256::digest(secret).iter())
            .for_each(|(k, d)| *k = *d);
        HmacSha256::new(&key)
    })
}

/// Parses `sha256=<64 hex>` strictly into the 32 digest bytes.
fn parse_header(value: &[u8]) -> Result<[u8; 32], VerifyError> {
    let hex = value
        .strip_prefix(SIGNATURE_PREFIX.as_bytes())
        .ok_or(VerifyError::Malformed(Malformed::MissingPrefix))?;
    if hex.len() != HEX_LEN {
        return Err(VerifyError::Malformed(Malformed::WrongLength {
            len: hex.len(),
        }));
    }
    decode_hex(hex).ok_or(VerifyError::Malformed(Malformed::NotHex))
}

/// The value of each byte as a hex digit (either case), or `0xFF`.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, not a request"
)]
const HEX_DIGITS: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes 64 hex digits without branching on each digit (a table lookup per digit;
/// invalid digits are collected in one flag and checked once).
fn decode_hex(hex: &[u8]) -> Option<[u8; 32]> {
    let digit = |b: u8| HEX_DIGITS.get(usize::from(b)).copied().unwrap_or(0xFF);
    let mut digest = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = match *pair {
            [high, low] => (digit(high), digit(low)),
            _ => (0xFF, 0xFF),
        };
        invalid |= high | low;
        *byte = (high << 4) | (low & 0x0F);
    }
    (invalid & 0xF0 == 0 && hex.len() == 2 * digest.len()).then_some(digest)
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    secret_index: usize,
}

impl Verified {
    /// Which secret verified the body: its position in the order the secrets were given.
    ///
    /// Useful during a rotation to see when deliveries signed with the old secret stop.
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }
}

/// Why a signature was refused.
///
/// Inspect it with [`kind`](Self::kind) (and answer with [`status`](Self::status)); the
/// [`Malformed`] variant says how the header was malformed. Messages never contain a secret,
/// the received signature or the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request has no `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    MissingHeader,
    /// The header is present but is not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header: {0}")]
    Malformed(Malformed),
    /// The header is well formed but no accepted secret produced it.
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

impl VerifyError {
    /// What went wrong, to branch on and to log.
    pub fn kind(&self) -> VerifyErrorKind {
        match self {
            Self::MissingHeader => VerifyErrorKind::MissingHeader,
            Self::Malformed(_) => VerifyErrorKind::Malformed,
            Self::Mismatch => VerifyErrorKind::Mismatch,
        }
    }

    /// The HTTP status to answer with: always `401 Unauthorized`.
    pub fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
}

/// The kind of a [`VerifyError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// No `X-Hub-Signature-256` header.
    MissingHeader,
    /// The header is not `sha256=` and 64 hex digits, or was sent more than once.
    Malformed,
    /// No accepted secret produced the signature.
    Mismatch,
}

impl VerifyErrorKind {
    /// `"missing_header"`, `"malformed"` or `"mismatch"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::Malformed => "malformed",
            Self::Mismatch => "mismatch",
        }
    }
}

impl fmt::Display for VerifyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a signature header was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The value does not start with exactly `sha256=`.
    #[error("expected the prefix \"sha256=\"")]
    MissingPrefix,
    /// The digest after the prefix is not 64 characters long.
    #[error("expected 64 hex digits after \"sha256=\", got {len} characters")]
    WrongLength {
        /// The length found.
        len: usize,
    },
    /// The digest contains a character that is not a hex digit.
    #[error("the digest is not hexadecimal")]
    NotHex,
    /// The header was sent more than once.
    #[error("the header was sent more than once")]
    Repeated,
}

/// Error of [`Verifier::from_secrets`] when no secret was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a verifier needs at least one app secret")]
pub struct NoSecretsError;

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(secret: &str) -> Verifier {
        Verifier::new(AppSecret::new(secret).unwrap())
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn accepts_lower_and_upper_hex() {
        let v = verifier("secret");
        let header = sign("secret", b"hello");
        assert!(v.verify(b"hello", &header).is_ok());
        let upper = format!("sha256={}", header[7..].to_ascii_uppercase());
        assert!(v.verify(b"hello", &upper).is_ok());
    }

    #[test]
    fn prefix_is_case_sensitive_and_strict() {
        let v = verifier("secret");
        let header = sign("secret", b"x");
        for bad in [
            header.replacen("sha256=", "SHA256=", 1),
            header.replacen("sha256=", "sha256 =", 1),
            header.replacen("sha256=", "", 1),
            format!(" {header}"),
            header.replacen("sha256=", "sha1=", 1),
        ] {
            assert!(
                v.verify(b"x", &bad).unwrap_err().kind() == VerifyErrorKind::Malformed,
                "{bad}"
            );
        }
    }

    #[test]
    fn hex_decoding_agrees_with_the_hex_crate_on_every_byte() {
        let base = *b"00112233445566778899aabbccddeeffAABBCCDDEEFF0123456789abcdef0f1e";
        for position in [0, 1, 30, 63] {
            for byte in 0..=u8::MAX {
                let mut hex = base;
                hex[position] = byte;
                let mut expected = [0u8; 32];
                let expected = hex::decode_to_slice(hex, &mut expected).map(|()| expected);
                assert_eq!(decode_hex(&hex), expected.ok(), "{byte:#04x} at {position}");
            }
        }
        assert_eq!(decode_hex(&base[..62]), None);
        assert_eq!(decode_hex(&[b'0'; 66]), None);
    }

    #[test]
    fn wrong_lengths_and_non_hex_are_malformed() {
        let v = verifier("secret");
        assert_eq!(
            v.verify(b"x", "sha256="),
            Err(VerifyError::Malformed(Malformed::WrongLength { len: 0 }))
        );
        let h63 = format!("sha256={}", "a".repeat(63));
        assert_eq!(
            v.verify(b"x", &h63),
            Err(VerifyError::Malformed(Malformed::WrongLength { len: 63 }))
        );
        let non_hex = format!("sha256={}", "g".repeat(64));
        assert_eq!(
            v.verify(b"x", &non_hex),
            Err(VerifyError::Malformed(Malformed::NotHex))
        );
        // Multi-byte characters count by byte and never panic.
        let multi = format!("sha256={}", "é".repeat(32));
        assert!(v.verify(b"x", &multi).unwrap_err().kind() == VerifyErrorKind::Malformed);
    }

    #[test]
    fn rotation_accepts_every_listed_secret_and_reports_which() {
        let v = Verifier::from_secrets([
            AppSecret::new("old").unwrap(),
            AppSecret::new("new").unwrap(),
        ])
        .unwrap();
        assert_eq!(
            v.verify(b"b", &sign("old", b"b")).unwrap().secret_index(),
            0
        );
        assert_eq!(
            v.verify(b"b", &sign("new", b"b")).unwrap().secret_index(),
            1
        );
        assert!(
            v.verify(b"b", &sign("other", b"b")).unwrap_err().kind() == VerifyErrorKind::Mismatch
        );
        assert_eq!(Verifier::from_secrets([]).unwrap_err(), NoSecretsError);
        let grown = verifier("a").with_secret(AppSecret::new("b").unwrap());
        assert_eq!(
            grown.verify(b"z", &sign("b", b"z")).unwrap().secret_index(),
            1
        );
    }

    #[test]
    fn header_map_lookup_ignores_legacy_sha1_and_refuses_repeats() {
        let v = verifier("secret");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            v.verify_headers(b"x", &headers),
            Err(VerifyError::MissingHeader)
        );
        headers.insert(SIGNATURE_HEADER, sign("secret", b"x").parse().unwrap());
        assert!(v.verify_headers(b"x", &headers).is_ok());
        headers.append(SIGNATURE_HEADER, sign("secret", b"x").parse().unwrap());
        assert_eq!(
            v.verify_headers(b"x", &headers),
            Err(VerifyError::Malformed(Malformed::Repeated))
        );
    }

    #[test]
    fn non_ascii_header_bytes_are_malformed_not_a_panic() {
        let v = verifier("secret");
        let mut headers = HeaderMap::new();
        let mut raw = b"sha256=".to_vec();
        raw.extend(std::iter::repeat_n(0xFFu8, 64));
        headers.insert(
            SIGNATURE_HEADER,
            http::HeaderValue::from_bytes(&raw).unwrap(),
        );
        assert_eq!(
            v.verify_headers(b"x", &headers),
            Err(VerifyError::Malformed(Malformed::NotHex))
        );
    }

    #[test]
    fn errors_and_debug_reveal_nothing() {
        let v = verifier("super-secret-value");
        let good = sign("super-secret-value", b"body");
        let err = v.verify(b"other", &good).unwrap_err();
        let shown = format!("{err} {err:?} {v:?}");
        assert!(!shown.contains("super-secret-value"));
        assert!(!shown.contains(&good[7..]));
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(format!("{v:?}"), "Verifier { secrets: [redacted; 1] }");
    }
}
