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

/// `url` with its credentials redacted, for logs and start-up lines: a user name or
/// password (`user:pass@`) becomes `***@`, a query string (which may carry a token)
/// becomes `?***`, and a fragment is dropped. A value that does not parse as a URL is
/// printed as `[invalid URL]`, never echoed.
///
/// ```
/// use bot_kit::secret::redact_url;
///
/// assert_eq!(
///     redact_url("https://user:pass@proxy.example/v1?key=sk-1"),
///     "https://***@proxy.example/v1?***"
/// );
/// assert_eq!(redact_url("https://api.openai.com/v1"), "https://api.openai.com/v1");
/// assert_eq!(redact_url("not a url: pass"), "[invalid URL]");
/// ```
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "[invalid URL]".to_owned();
    };
    let credentials = !parsed.username().is_empty() || parsed.password().is_some();
    let query = parsed.query().is_some();
    parsed.set_query(None);
    parsed.set_fragment(None);
    // Cannot-be-a-base URLs (`mailto:`…) have no credentials to clear.
    if credentials && (parsed.set_username("***").is_err() || parsed.set_password(None).is_err()) {
        return "[invalid URL]".to_owned();
    }
    let mut out = String::from(parsed.as_str());
    if query {
        out.push_str("?***");
    }
    out
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
    fn redacted_urls_keep_no_credential() {
        for (url, want) in [
            ("https://u:hunter2@h.example/v1", "https://***@h.example/v1"),
            ("https://hunter2@h.example/", "https://***@h.example/"),
            ("https://:hunter2@h.example/", "https://***@h.example/"),
            (
                "redis://:hunter2@127.0.0.1:6379/2",
                "redis://***@127.0.0.1:6379/2",
            ),
            (
                "http://h.example/p?token=hunter2#hunter2",
                "http://h.example/p?***",
            ),
            ("https://h.example/v1", "https://h.example/v1"),
            ("hunter2", "[invalid URL]"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
            assert!(!redact_url(url).contains("hunter2"));
        }
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
