//! The `hub.challenge` verification handshake (`GET` on the callback URL).
//!
//! When a callback URL is configured in the App Dashboard, Meta sends
//!
//! ```text
//! GET /webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=<your token>
//! ```
//!
//! and expects `200` with the challenge as the body. [`Handshake::respond`] checks the query
//! and returns the [`Challenge`] to echo, or a [`HandshakeError`] carrying the status to
//! answer with (`403` for a wrong mode or token, `400` for a malformed query).
//!
//! The challenge is echoed only if it is 1–64 ASCII letters or digits (Meta sends digits),
//! so nothing an attacker chooses can be reflected into a page. Send it as `text/plain`
//! ([`Challenge::CONTENT_TYPE`]), never as HTML.
//!
//! ```
//! use meta_webhooks::{Handshake, VerifyToken};
//!
//! let handshake = Handshake::new(VerifyToken::new("my-token").unwrap());
//! let challenge = handshake
//!     .respond("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-token")
//!     .unwrap();
//! assert_eq!(challenge.as_str(), "1158201444");
//!
//! let err = handshake
//!     .respond("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess")
//!     .unwrap_err();
//! assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
//! ```

use std::borrow::Cow;
use std::fmt;

use http::{StatusCode, Uri};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::secret::VerifyToken;

/// Longest challenge echoed back.
pub const MAX_CHALLENGE_LEN: usize = 64;

/// Answers Meta's subscription handshake for one configured verify token.
///
/// The token is compared in constant time, also across different lengths (both sides are
/// hashed to 32 bytes first, so a length mismatch is a plain failure, never a shorter
/// compare).
#[derive(Clone)]
pub struct Handshake {
    token_digest: [u8; 32],
}

impl Handshake {
    /// A handshake responder for `token`.
    pub fn new(token: VerifyToken) -> Self {
        Self {
            token_digest: Sha256::digest(token.expose().as_bytes()).into(),
        }
    }

    /// Checks a raw query string (with or without the leading `?`; percent-encoding and
    /// `+` are decoded) and returns the challenge to echo.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`]: forbidden (`403`) for a mode other than `subscribe` or a wrong
    /// token; bad request (`400`) for a missing or repeated parameter or an invalid
    /// challenge.
    pub fn respond(&self, query: &str) -> Result<Challenge, HandshakeError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut mode = None;
        let mut token = None;
        let mut challenge = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (slot, param) = match name.as_ref() {
                "hub.mode" => (&mut mode, Param::Mode),
                "hub.verify_token" => (&mut token, Param::VerifyToken),
                "hub.challenge" => (&mut challenge, Param::Challenge),
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(HandshakeError::Repeated(param));
            }
        }
        let mode = mode.ok_or(HandshakeError::Missing(Param::Mode))?;
        let token = token.ok_or(HandshakeError::Missing(Param::VerifyToken))?;
        let challenge = challenge.ok_or(HandshakeError::Missing(Param::Challenge))?;

        if mode != "subscribe" {
            return Err(HandshakeError::WrongMode);
        }
        if !self.token_matches(&token) {
            return Err(HandshakeError::TokenMismatch);
        }
        Challenge::new(challenge)
    }

    /// Like [`respond`](Self::respond), reading the query of a request URI.
    ///
    /// # Errors
    ///
    /// As [`respond`](Self::respond); a URI without a query is missing `hub.mode`.
    pub fn respond_to_uri(&self, uri: &Uri) -> Result<Challenge, HandshakeError> {
        self.respond(uri.query().unwrap_or(""))
    }

    fn token_matches(&self, token: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        digest.ct_eq(&self.token_digest).into()
    }
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("token", &"[redacted]")
            .finish()
    }
}

/// A validated challenge: 1–64 ASCII letters or digits, safe to echo.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Challenge(String);

impl Challenge {
    /// The content type to answer with.
    pub const CONTENT_TYPE: &'static str = "text/plain; charset=utf-8";

    fn new(value: Cow<'_, str>) -> Result<Self, HandshakeError> {
        let ok = (1..=MAX_CHALLENGE_LEN).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(value.into_owned()))
        } else {
            Err(HandshakeError::InvalidChallenge)
        }
    }

    /// The challenge, to be sent as the `text/plain` body of the `200` response.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The challenge as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A handshake query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// `hub.mode`
    Mode,
    /// `hub.verify_token`
    VerifyToken,
    /// `hub.challenge`
    Challenge,
}

impl Param {
    /// The parameter's name in the query string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mode => "hub.mode",
            Self::VerifyToken => "hub.verify_token",
            Self::Challenge => "hub.challenge",
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a handshake was refused. Messages never contain the token or the challenge.
///
/// Inspect it with [`kind`](Self::kind) and answer with [`status`](Self::status); the
/// variants name the parameter at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// A required parameter is absent.
    #[error("missing query parameter {0}")]
    Missing(Param),
    /// A parameter appears more than once.
    #[error("query parameter {0} appears more than once")]
    Repeated(Param),
    /// `hub.mode` is not `subscribe`.
    #[error("hub.mode is not \"subscribe\"")]
    WrongMode,
    /// `hub.verify_token` does not match the configured token.
    #[error("hub.verify_token does not match")]
    TokenMismatch,
    /// `hub.challenge` is empty, longer than 64 bytes or not ASCII letters and digits.
    #[error("hub.challenge must be 1-64 ASCII letters or digits")]
    InvalidChallenge,
}

impl HandshakeError {
    /// What went wrong, to branch on and to log.
    pub fn kind(&self) -> HandshakeErrorKind {
        match self {
            Self::Missing(_) => HandshakeErrorKind::Missing,
            Self::Repeated(_) => HandshakeErrorKind::Repeated,
            Self::WrongMode => HandshakeErrorKind::WrongMode,
            Self::TokenMismatch => HandshakeErrorKind::TokenMismatch,
            Self::InvalidChallenge => HandshakeErrorKind::InvalidChallenge,
        }
    }

    /// The HTTP status to answer with: `403 Forbidden` for a well-formed request that is not
    /// authorized (wrong mode or token), `400 Bad Request` for a malformed query.
    pub fn status(&self) -> StatusCode {
        match self.kind() {
            HandshakeErrorKind::WrongMode | HandshakeErrorKind::TokenMismatch => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The kind of a [`HandshakeError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// A required parameter is absent.
    Missing,
    /// A parameter appears more than once.
    Repeated,
    /// `hub.mode` is not `subscribe`.
    WrongMode,
    /// `hub.verify_token` does not match.
    TokenMismatch,
    /// `hub.challenge` is not 1–64 ASCII letters or digits.
    InvalidChallenge,
}

impl HandshakeErrorKind {
    /// `"missing"`, `"repeated"`, `"wrong_mode"`, `"token_mismatch"` or
    /// `"invalid_challenge"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Repeated => "repeated",
            Self::WrongMode => "wrong_mode",
            Self::TokenMismatch => "token_mismatch",
            Self::InvalidChallenge => "invalid_challenge",
        }
    }
}

impl fmt::Display for HandshakeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs() -> Handshake {
        Handshake::new(VerifyToken::new("tok en/ä").unwrap())
    }

    #[test]
    fn accepts_meta_request_with_encoded_token() {
        let c = hs()
            .respond(
                "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=tok+en%2F%C3%A4",
            )
            .unwrap();
        assert_eq!(c.as_str(), "1158201444");
        assert_eq!(c.to_string(), "1158201444");
        let c = hs()
            .respond("hub.verify_token=tok%20en/%C3%A4&hub.challenge=abcXYZ09&hub.mode=subscribe&other=1")
            .unwrap();
        assert_eq!(c.into_string(), "abcXYZ09");
    }

    #[test]
    fn wrong_mode_or_token_is_forbidden() {
        let err = hs()
            .respond("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=tok+en%2F%C3%A4")
            .unwrap_err();
        assert_eq!(
            (err, err.status()),
            (HandshakeError::WrongMode, StatusCode::FORBIDDEN)
        );
        assert_eq!(err.kind().as_str(), "wrong_mode");
        for token in ["tok+en", "tok+en%2F%C3%A4x", "", "TOK+EN%2F%C3%A4"] {
            let q = format!("hub.mode=subscribe&hub.challenge=1&hub.verify_token={token}");
            assert_eq!(
                hs().respond(&q),
                Err(HandshakeError::TokenMismatch),
                "{token}"
            );
        }
    }

    #[test]
    fn malformed_queries_are_bad_requests() {
        let cases = [
            ("", HandshakeError::Missing(Param::Mode)),
            (
                "hub.mode=subscribe&hub.challenge=1",
                HandshakeError::Missing(Param::VerifyToken),
            ),
            (
                "hub.mode=subscribe&hub.verify_token=x",
                HandshakeError::Missing(Param::Challenge),
            ),
            (
                "hub.mode=subscribe&hub.mode=subscribe&hub.challenge=1&hub.verify_token=x",
                HandshakeError::Repeated(Param::Mode),
            ),
        ];
        for (q, want) in cases {
            let err = hs().respond(q).unwrap_err();
            assert_eq!(err, want, "{q}");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn challenge_must_be_short_alphanumeric() {
        let ok = "a".repeat(64);
        let long = "a".repeat(65);
        for (challenge, valid) in [
            ("1", true),
            (ok.as_str(), true),
            ("", false),
            (long.as_str(), false),
            ("%3Cscript%3E", false),
            ("12+34", false),
            ("12-34", false),
            ("%C3%A4", false),
            ("%00", false),
        ] {
            let q = format!(
                "hub.mode=subscribe&hub.verify_token=tok+en%2F%C3%A4&hub.challenge={challenge}"
            );
            assert_eq!(hs().respond(&q).is_ok(), valid, "{challenge}");
        }
    }

    #[test]
    fn uri_convenience_and_redacted_debug() {
        let uri: Uri =
            "/webhook?hub.mode=subscribe&hub.challenge=42&hub.verify_token=tok+en%2F%C3%A4"
                .parse()
                .unwrap();
        assert_eq!(hs().respond_to_uri(&uri).unwrap().as_str(), "42");
        let bare: Uri = "/webhook".parse().unwrap();
        assert_eq!(
            hs().respond_to_uri(&bare),
            Err(HandshakeError::Missing(Param::Mode))
        );
        assert_eq!(
            format!("{:?}", hs()),
            r#"Handshake { token: "[redacted]" }"#
        );
    }
}
