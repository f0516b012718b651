//! Secret newtypes that never print.
//!
//! [`AppSecret`], [`VerifyToken`] and [`AccessToken`] hold the three secrets a Meta
//! integration handles. Their `Debug` output is `[redacted]`, they do not implement
//! `Display` or `Serialize`, and the crate never puts them in an error message, a log
//! line or a URL.

use std::fmt;

use thiserror::Error;

/// Error returned when a secret is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{0} must not be empty")]
pub struct EmptySecretError(&'static str);

impl EmptySecretError {
    /// Which kind of secret was empty (`"app secret"`, `"verify token"`, `"access token"`).
    pub fn what(&self) -> &'static str {
        self.0
    }
}

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret.
            ///
            /// # Errors
            ///
            /// [`EmptySecretError`] when the secret is empty: an empty key would make every
            /// check trivially forgeable.
            pub fn new(secret: impl Into<String>) -> Result<Self, EmptySecretError> {
                let secret = secret.into();
                if secret.is_empty() {
                    return Err(EmptySecretError($what));
                }
                Ok(Self(secret))
            }

            /// Reveals the secret. Use only where the secret must be handed to a
            /// cryptographic primitive or an `Authorization` header.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl TryFrom<String> for $name {
            type Error = EmptySecretError;

            fn try_from(secret: String) -> Result<Self, Self::Error> {
                Self::new(secret)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = EmptySecretError;

            fn try_from(secret: &str) -> Result<Self, Self::Error> {
                Self::new(secret)
            }
        }
    };
}

secret_newtype! {
    /// A Meta app secret (App Dashboard → Settings → Basic), the HMAC key of
    /// `X-Hub-Signature-256`.
    ///
    /// ```
    /// use meta_webhooks::AppSecret;
    ///
    /// let secret = AppSecret::new("s3cr3t").unwrap();
    /// assert_eq!(format!("{secret:?}"), "[redacted]");
    /// assert!(AppSecret::new("").is_err());
    /// ```
    AppSecret, "app secret"
}

secret_newtype! {
    /// The verify token typed into the App Dashboard, echoed by Meta in the `hub.verify_token`
    /// handshake parameter.
    ///
    /// ```
    /// use meta_webhooks::VerifyToken;
    ///
    /// let token = VerifyToken::new("my-verify-token").unwrap();
    /// assert_eq!(format!("{token:?}"), "[redacted]");
    /// ```
    VerifyToken, "verify token"
}

secret_newtype! {
    /// A Graph API access token (Page token or Instagram User token). Sent only in an
    /// `Authorization: Bearer` header, never in a URL.
    ///
    /// ```
    /// use meta_webhooks::AccessToken;
    ///
    /// let token = AccessToken::new("EAAG...").unwrap();
    /// assert_eq!(format!("{token:?}"), "[redacted]");
    /// ```
    AccessToken, "access token"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_debug_print() {
        let s = AppSecret::new("topsecret").unwrap();
        let v = VerifyToken::new("topsecret").unwrap();
        let a = AccessToken::new("topsecret").unwrap();
        for out in [
            format!("{s:?}"),
            format!("{v:?}"),
            format!("{a:?}"),
            format!("{:?}", Some(&s)),
        ] {
            assert!(!out.contains("topsecret"), "{out}");
        }
    }

    #[test]
    fn empty_secrets_are_refused_and_named() {
        let err = AppSecret::new("").unwrap_err();
        assert_eq!(err.what(), "app secret");
        assert_eq!(err.to_string(), "app secret must not be empty");
        assert!(VerifyToken::try_from("").is_err());
        assert!(AccessToken::try_from(String::new()).is_err());
    }
}
