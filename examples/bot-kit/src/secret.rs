//! [`Secret`]: a string that never prints.
//!
//! The Meta secrets have their own newtypes in [`meta_webhooks`] ([`AppSecret`],
//! [`VerifyToken`], [`AccessToken`]). The bot handles a few more values that must stay out
//! of logs and error messages: the OpenAI API key, the admin bearer token, the Redis URL
//! (it may carry a password) and the notification webhook URL (a Slack incoming-webhook URL
//! *is* its credential). They all use [`Secret`].
//!
//! [`AppSecret`]: meta_webhooks::AppSecret
//! [`VerifyToken`]: meta_webhooks::VerifyToken
//! [`AccessToken`]: meta_webhooks::AccessToken

use std::fmt;

/// A secret string whose `Debug` output is `[redacted]` and which has no `Display`.
///
/// ```
/// use bot_kit::Secret;
///
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reveals the secret. Use only where it must be handed to a connection, a header or a
    /// constant-time comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `candidate` in constant time: both are hashed with SHA-256 and the
    /// digests compared with [`subtle`], so neither where they differ nor the candidate's
    /// length shows in the timing, and a wrong-length candidate takes the same path as a
    /// wrong one. Nothing is trimmed: a candidate with extra whitespace does not match.
    ///
    /// ```
    /// use bot_kit::Secret;
    ///
    /// let token = Secret::new("admin-token-0123456789");
    /// assert!(token.matches("admin-token-0123456789"));
    /// assert!(!token.matches("admin-token-0123456788"));
    /// assert!(!token.matches("admin"));
    /// assert!(!token.matches(" admin-token-0123456789"));
    /// ```
    pub fn matches(&self, candidate: &str) -> bool {
        use sha2::{Digest as _, Sha256};
        use subtle::ConstantTimeEq as _;

        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(candidate.as_bytes());
        expected.as_slice().ct_eq(given.as_slice()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_even_nested() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert!(!format!("{:?}", Some(vec![s])).contains("hunter2"));
    }

    #[test]
    fn matches_requires_equal_bytes_whatever_the_length() {
        let s = Secret::new("abc");
        assert!(s.matches("abc"));
        assert!(!s.matches("abd"));
        assert!(!s.matches("ab"));
        assert!(!s.matches("abcd"));
        assert!(!s.matches(""));
        assert!(!s.matches("abc "));
        assert!(!s.matches(" abc"));
    }
}
