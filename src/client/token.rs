//! Access tokens: what Meta says about one ([`GraphClient::debug_token`],
//! [`Account::permissions`]) and the refresh of Instagram Login long-lived tokens
//! ([`GraphClient::refresh_instagram_token`]).
//!
//! # Tokens in the query string
//!
//! Everywhere else the client sends a token only in `Authorization: Bearer`. Two Meta calls
//! take one only in the query string, and they are the only ones that put a token in a URL:
//!
//! * `GET /debug_token?input_token=…` (on `graph.facebook.com`, with the app token as the
//!   bearer): the token being inspected;
//! * `GET /refresh_access_token?grant_type=ig_refresh_token&access_token=…` (on
//!   `graph.instagram.com`, unversioned): the long-lived token being refreshed.
//!
//! Their URLs are never logged, and no error carries them: transport errors keep only
//! reqwest's description without the URL, and Graph error messages are scrubbed of both
//! tokens.
//!
//! # Hosts
//!
//! `debug_token` always goes to `graph.facebook.com` and `refresh_access_token` to
//! `graph.instagram.com`, whichever of the two Meta hosts the client was built for, so one
//! client serves both. A client built with another
//! [`base_url`](super::GraphClientBuilder::base_url) (a local mock, a proxy) sends both to
//! that base.

mod info;

use std::fmt;
use std::time::{Duration, SystemTime};

use http::Method;
use serde::Deserialize;

use crate::secret::{AccessToken, AppSecret};

use super::GraphClient;
use super::account::{Account, decode};
use super::call::{Auth, Body, Request};
use super::config::{FACEBOOK_GRAPH_URL, INSTAGRAM_GRAPH_URL};
use super::error::{DecodeFailure, GraphError, MessageError};

pub use info::{
    Expiry, GranularScope, Permission, PermissionStatus, TokenError, TokenInfo, TokenType,
};

/// An app access token, `{app-id}|{app-secret}`: the bearer of
/// [`GraphClient::debug_token`]. Its `Debug` output shows the app id only.
///
/// ```
/// use meta_webhooks::AppSecret;
/// use meta_webhooks::client::AppToken;
///
/// let token = AppToken::new("1234567890", &AppSecret::new("s3cr3t").unwrap()).unwrap();
/// assert_eq!(token.app_id(), Some("1234567890"));
/// assert_eq!(format!("{token:?}"), r#"AppToken { app_id: Some("1234567890"), token: [redacted] }"#);
/// assert!(AppToken::new("12/34", &AppSecret::new("s").unwrap()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken {
    app_id: Option<String>,
    token: AccessToken,
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppToken")
            .field("app_id", &self.app_id)
            .field("token", &self.token)
            .finish()
    }
}

impl AppToken {
    /// The app token made of the app id and the app secret (App Dashboard → Settings →
    /// Basic), the form Meta accepts in place of one fetched with `client_credentials`.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidId`] when the app id is empty or not all ASCII digits.
    pub fn new(app_id: &str, secret: &AppSecret) -> Result<Self, MessageError> {
        if app_id.is_empty() || !app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MessageError::InvalidId("app id"));
        }
        let token = AccessToken::new(format!("{app_id}|{}", secret.expose()))
            .map_err(|_| MessageError::Empty("app token"))?;
        Ok(Self {
            app_id: Some(app_id.to_owned()),
            token,
        })
    }

    /// An app token obtained otherwise (e.g. `GET /oauth/access_token` with
    /// `grant_type=client_credentials`).
    pub fn from_token(token: AccessToken) -> Self {
        Self {
            app_id: None,
            token,
        }
    }

    /// The app id, when the token was made with [`AppToken::new`].
    pub fn app_id(&self) -> Option<&str> {
        self.app_id.as_deref()
    }

    /// The token, to send as a bearer.
    pub fn as_access_token(&self) -> &AccessToken {
        &self.token
    }
}

/// A refreshed Instagram Login long-lived token ([`GraphClient::refresh_instagram_token`]).
///
/// Its `Debug` output never shows the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshedToken {
    /// The new long-lived token. Meta may answer with the same string as before; use this
    /// one from now on either way.
    pub token: AccessToken,
    /// Meta's `token_type` (`"bearer"`), when given.
    pub token_type: Option<String>,
    /// Meta's `expires_in`: how long the token is valid from the answer (about 60 days).
    pub expires_in: Duration,
    /// When the token expires: the client's clock at the answer plus `expires_in`.
    pub expires_at: SystemTime,
}

#[derive(Deserialize)]
struct RawRefreshed {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DataWrapper<T> {
    data: T,
}

/// Which Meta host a token call is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Facebook,
    Instagram,
}

impl GraphClient {
    /// The root of a token call on `host`: Meta's host for it when the client talks to
    /// either Meta host, else the client's own base (a mock, a proxy); with the Graph
    /// version segment when `versioned`.
    fn token_root(&self, host: Host, versioned: bool) -> String {
        let api_root = self.inner.api_root.as_str();
        // The version segment has no `/` (checked when the client was built).
        let (base, version) = api_root.rsplit_once('/').unwrap_or((api_root, ""));
        let base = if base == FACEBOOK_GRAPH_URL || base == INSTAGRAM_GRAPH_URL {
            match host {
                Host::Facebook => FACEBOOK_GRAPH_URL,
                Host::Instagram => INSTAGRAM_GRAPH_URL,
            }
        } else {
            base
        };
        if versioned {
            format!("{base}/{version}")
        } else {
            base.to_owned()
        }
    }

    /// What Meta knows about `input_token`: `GET /{version}/debug_token?input_token=…` on
    /// `graph.facebook.com`, with `app_token` as the bearer.
    ///
    /// A token Meta no longer accepts (expired, revoked, password changed) is not an error
    /// here: the answer says [`TokenInfo::is_valid`]` == false` and usually carries
    /// [`TokenInfo::error`]. The call is made for no account: it does not touch any
    /// account's pause or rejected-token state.
    ///
    /// `input_token` travels in the query string (Meta takes it nowhere else); that URL is
    /// never logged and never appears in an error (see
    /// [Tokens in the query string](super#tokens-in-the-query-string)).
    ///
    /// ```no_run
    /// use std::time::SystemTime;
    /// use meta_webhooks::{AccessToken, AppSecret};
    /// use meta_webhooks::client::{AppToken, GraphClient};
    ///
    /// # async fn check() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = GraphClient::builder().facebook_login().build()?;
    /// let app = AppToken::new("1234567890", &AppSecret::new(std::env::var("APP_SECRET")?)?)?;
    /// let info = client
    ///     .debug_token(&app, &AccessToken::new(std::env::var("PAGE_TOKEN")?)?)
    ///     .await?;
    /// if !info.is_valid {
    ///     eprintln!("token invalid: {:?}", info.error.map(|e| e.message));
    /// } else if let Some(left) = info.expires_in(SystemTime::now()) {
    ///     println!("valid for {} more days", left.as_secs() / 86_400);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`GraphError`] of the call itself (e.g. [`GraphErrorKind::Auth`] for a wrong app
    /// token); [`GraphError::Decode`] when the answer has no `data` object.
    ///
    /// [`GraphErrorKind::Auth`]: super::GraphErrorKind::Auth
    pub async fn debug_token(
        &self,
        app_token: &AppToken,
        input_token: &AccessToken,
    ) -> Result<TokenInfo, GraphError> {
        let request = Request {
            method: Method::GET,
            path: "debug_token".to_owned(),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let auth = Auth {
            account: None,
            bearer: Some(app_token.as_access_token()),
            query_token: Some(("input_token", input_token)),
        };
        let root = self.token_root(Host::Facebook, true);
        let (status, body) = self.inner.call_with(&root, auth, &request).await?;
        let wrapper: DataWrapper<TokenInfo> = decode(status, &body, "a debug_token answer")?;
        Ok(wrapper.data)
    }

    /// Refreshes an Instagram Login long-lived token (Instagram User token, at least 24 hours
    /// old and not expired) for another 60 days:
    /// `GET https://graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token&access_token=…`
    /// (unversioned, as Meta documents it). The expiry is computed from the client's
    /// [`Clock`](super::Clock).
    ///
    /// The token travels in the query string (Meta takes it nowhere else); that URL is never
    /// logged and never appears in an error. The call is made for no account; use
    /// [`Account::refresh_instagram_token`] to have a rejection (code 190) recorded on the
    /// account.
    ///
    /// ```no_run
    /// use meta_webhooks::AccessToken;
    /// use meta_webhooks::client::GraphClient;
    ///
    /// # async fn refresh() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = GraphClient::builder().instagram_login().build()?;
    /// let refreshed = client
    ///     .refresh_instagram_token(&AccessToken::new(std::env::var("IG_TOKEN")?)?)
    ///     .await?;
    /// // Store `refreshed.token` (a secret) where the next start finds it.
    /// println!("new token expires at {:?}", refreshed.expires_at);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]: [`GraphErrorKind::Auth`] (code 190) for an expired or revoked
    /// token, which cannot be refreshed any more; [`GraphError::Decode`] when the answer has
    /// no token or no `expires_in`.
    ///
    /// [`GraphErrorKind::Auth`]: super::GraphErrorKind::Auth
    pub async fn refresh_instagram_token(
        &self,
        token: &AccessToken,
    ) -> Result<RefreshedToken, GraphError> {
        self.refresh(None, token).await
    }

    async fn refresh(
        &self,
        account: Option<&crate::payload::AccountId>,
        token: &AccessToken,
    ) -> Result<RefreshedToken, GraphError> {
        let request = Request {
            method: Method::GET,
            path: "refresh_access_token".to_owned(),
            query: Some("grant_type=ig_refresh_token".to_owned()),
            body: Body::Empty,
            write: false,
        };
        let auth = Auth {
            account,
            bearer: None,
            query_token: Some(("access_token", token)),
        };
        let root = self.token_root(Host::Instagram, false);
        let (status, body) = self.inner.call_with(&root, auth, &request).await?;
        let now = self.inner.clock.now();
        let raw: RawRefreshed = decode(status, &body, "a refresh_access_token answer")?;
        let missing = |what: &str| {
            GraphError::Decode(DecodeFailure {
                status,
                reason: format!("no {what} in the answer"),
            })
        };
        let token = raw
            .access_token
            .and_then(|t| AccessToken::new(t).ok())
            .ok_or_else(|| missing("access_token"))?;
        let seconds = match raw.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| missing("expires_in"))?;
        let expires_in = Duration::from_secs(seconds);
        Ok(RefreshedToken {
            token,
            token_type: raw.token_type,
            expires_in,
            expires_at: now.checked_add(expires_in).unwrap_or(now),
        })
    }
}

impl Account {
    /// The permissions the account's token holds, as Meta lists them for its user:
    /// `GET /me/permissions` with the token as the bearer. The check to use when no app id
    /// is at hand for [`GraphClient::debug_token`].
    ///
    /// # Errors
    ///
    /// Any [`GraphError`] ([`GraphErrorKind::Auth`] for an expired token, which also marks
    /// the account as needing a new token); [`GraphError::Decode`] when the answer is not a
    /// `data` list.
    ///
    /// [`GraphErrorKind::Auth`]: super::GraphErrorKind::Auth
    pub async fn permissions(&self) -> Result<Vec<Permission>, GraphError> {
        let request = Request {
            method: Method::GET,
            path: "me/permissions".to_owned(),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        let wrapper: DataWrapper<Vec<Permission>> = decode(status, &body, "a list of permissions")?;
        Ok(wrapper.data)
    }

    /// [`GraphClient::refresh_instagram_token`] for this account's token, with the account's
    /// state applied: it fails fast while the account is paused or after Meta rejected this
    /// token, and a rejection (code 190) marks the account as needing a new token.
    ///
    /// The account keeps its old token: make a new [`Account`] with the refreshed one.
    ///
    /// # Errors
    ///
    /// As [`GraphClient::refresh_instagram_token`], plus [`GraphError::AccountPaused`] and
    /// [`GraphError::TokenRejected`] without a request.
    pub async fn refresh_instagram_token(&self) -> Result<RefreshedToken, GraphError> {
        self.client().refresh(Some(self.id()), self.token()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> GraphClient {
        GraphClient::builder().base_url(base).build().unwrap()
    }

    #[test]
    fn token_calls_go_to_their_meta_host_or_to_a_custom_base() {
        for base in [INSTAGRAM_GRAPH_URL, FACEBOOK_GRAPH_URL] {
            let c = client(base);
            assert_eq!(
                c.token_root(Host::Facebook, true),
                "https://graph.facebook.com/v25.0"
            );
            assert_eq!(
                c.token_root(Host::Instagram, false),
                "https://graph.instagram.com"
            );
        }
        let c = client("http://127.0.0.1:9/prefix");
        assert_eq!(
            c.token_root(Host::Facebook, true),
            "http://127.0.0.1:9/prefix/v25.0"
        );
        assert_eq!(
            c.token_root(Host::Instagram, false),
            "http://127.0.0.1:9/prefix"
        );
    }
}
