//! SSRF-safe download of attachment and story media from Meta's CDN, for transient use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http::header::CONTENT_TYPE;
use thiserror::Error;

use crate::secret::AccessToken;

use super::call::describe;
use super::config::{ConfigError, HostKind};

/// The default allow-list: Meta's CDN hosts for Instagram and Messenger media.
pub const DEFAULT_MEDIA_HOSTS: &[&str] =
    &["*.cdninstagram.com", "*.fbcdn.net", "lookaside.fbsbx.com"];
/// The hosts an access token may be sent to by [`MediaFetcher::fetch_with_token`]: Meta's
/// media host for WhatsApp Cloud API downloads (the `url` of a media lookup), and nothing else.
pub const WHATSAPP_MEDIA_HOSTS: &[&str] = &["lookaside.fbsbx.com"];
/// Default size cap: 25 MiB, Meta's largest attachment size.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 25 * 1024 * 1024;
/// Default time cap for a whole download.
pub const DEFAULT_MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    /// `*.suffix`: any host ending in `.suffix` (not `suffix` itself).
    Suffix(String),
    Exact(String),
}

impl HostRule {
    fn parse(pattern: &str) -> Result<Self, ConfigError> {
        let lower = pattern.trim().to_ascii_lowercase();
        let (rule, name) = match lower.strip_prefix("*.") {
            Some(suffix) => (Self::Suffix(suffix.to_owned()), suffix.to_owned()),
            None => (Self::Exact(lower.clone()), lower),
        };
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if name.is_empty()
            || !name.split('.').all(valid_label)
            || name.parse::<std::net::IpAddr>().is_ok()
        {
            return Err(ConfigError::InvalidHostPattern(pattern.to_owned()));
        }
        Ok(rule)
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => host == name,
            Self::Suffix(suffix) => host
                .strip_suffix(suffix.as_str())
                .and_then(|prefix| prefix.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
        }
    }
}

/// Builds a [`MediaFetcher`].
#[derive(Debug, Clone)]
pub struct MediaFetcherBuilder {
    hosts: Vec<String>,
    token_hosts: Vec<String>,
    max_bytes: u64,
    timeout: Duration,
    connect_timeout: Duration,
    loopback_http: bool,
    token_loopback_port: Option<u16>,
}

impl Default for MediaFetcherBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MediaFetcherBuilder {
    /// The defaults: [`DEFAULT_MEDIA_HOSTS`], [`DEFAULT_MAX_MEDIA_BYTES`],
    /// [`DEFAULT_MEDIA_TIMEOUT`], https only.
    pub fn new() -> Self {
        Self {
            hosts: DEFAULT_MEDIA_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            token_hosts: WHATSAPP_MEDIA_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            timeout: DEFAULT_MEDIA_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            loopback_http: false,
            token_loopback_port: None,
        }
    }

    /// Replaces the allow-list. Each entry is a host name (`lookaside.fbsbx.com`) or `*.`
    /// and a domain (`*.fbcdn.net`: its subdomains, not the domain itself).
    #[must_use]
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one entry to the allow-list (same syntax as
    /// [`allowed_hosts`](Self::allowed_hosts)).
    #[must_use]
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into());
        self
    }

    /// The size cap in bytes.
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The time cap for a whole download.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time cap for establishing the connection.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// **For tests only**: also accept loopback IP literals (`127.0.0.0/8`, `::1`), with any
    /// port, over `http` or `https`, so that a fetcher can be pointed at a local mock server.
    /// Every other rule (no redirects, caps, no credentials, the allow-list for names) stays.
    /// An access token is still never sent to a loopback server, unless
    /// [`token_to_loopback_port_for_testing`](Self::token_to_loopback_port_for_testing)
    /// names its port.
    #[must_use]
    pub fn allow_loopback_http_for_testing(mut self) -> Self {
        self.loopback_http = true;
        self
    }

    /// Replaces the hosts [`MediaFetcher::fetch_with_token`] may send an access token to
    /// (default [`WHATSAPP_MEDIA_HOSTS`], Meta's media host). Same syntax as
    /// [`allowed_hosts`](Self::allowed_hosts); a URL must pass both lists. Change it only if
    /// Meta documents another media host: a token sent elsewhere is a token leaked.
    #[must_use]
    pub fn token_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.token_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// **For tests only**: treats the loopback server on `port` as Meta's media host, so that
    /// [`MediaFetcher::fetch_with_token`] sends the token to it (and to no other loopback
    /// port). Turns on
    /// [`allow_loopback_http_for_testing`](Self::allow_loopback_http_for_testing).
    #[must_use]
    pub fn token_to_loopback_port_for_testing(mut self, port: u16) -> Self {
        self.loopback_http = true;
        self.token_loopback_port = Some(port);
        self
    }

    /// Builds the fetcher (its own connection pool, without redirects).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHostPattern`] for a malformed allow-list entry,
    /// [`ConfigError::Zero`] for a zero cap, [`ConfigError::Http`] when the TLS client cannot
    /// be initialised.
    pub fn build(self) -> Result<MediaFetcher, ConfigError> {
        let rules = self
            .hosts
            .iter()
            .map(|h| HostRule::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        let token_rules = self
            .token_hosts
            .iter()
            .map(|h| HostRule::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        if self.max_bytes == 0 {
            return Err(ConfigError::Zero("media size cap"));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(ConfigError::Zero("media timeout"));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!self.loopback_http)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("meta-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Http(describe(e, None)))?;
        Ok(MediaFetcher {
            http,
            rules: rules.into(),
            token_rules: token_rules.into(),
            max_bytes: self.max_bytes,
            loopback_http: self.loopback_http,
            token_loopback_port: self.token_loopback_port,
        })
    }
}

/// Downloads media from allow-listed Meta CDN hosts: SSRF-safe, for transient use.
///
/// Webhook payloads carry media URLs (`attachments[].payload.url`, `reply_to.story.url`,
/// story mentions). A [`MediaFetcher`] downloads such a URL only when:
///
/// * the scheme is `https`;
/// * the URL has no credentials (`user:pass@`), no explicit port, and its host is a name,
///   not an IP literal (in any notation);
/// * the host is on the allow-list — by default Meta's CDN hosts
///   ([`DEFAULT_MEDIA_HOSTS`]: `*.cdninstagram.com`, `*.fbcdn.net`, `lookaside.fbsbx.com`);
///
/// and it never follows a redirect (a `3xx` answer is an error), stops reading past
/// [`max_bytes`](MediaFetcherBuilder::max_bytes) (default 25 MiB, Meta's largest attachment),
/// and gives up after [`timeout`](MediaFetcherBuilder::timeout) (default 30 s). [`fetch`](Self::fetch)
/// never sends an `Authorization` header or a cookie. WhatsApp media needs the access token:
/// [`fetch_with_token`](Self::fetch_with_token) sends it as `Authorization: Bearer`, and only
/// to Meta's media host ([`WHATSAPP_MEDIA_HOSTS`]); any other host, even an allow-listed CDN,
/// is refused before connecting. Errors never contain the URL (CDN URLs carry signatures).
///
/// **Meta's policy forbids storing Instagram messaging media**: use the bytes transiently
/// (show them, classify them, forward them to a model) and keep only the CDN URL, which
/// expires. App review rejects apps that cache or store the content.
///
/// Tests point a fetcher at a local server with the explicit opt-ins
/// [`allow_host`](MediaFetcherBuilder::allow_host) and
/// [`allow_loopback_http_for_testing`](MediaFetcherBuilder::allow_loopback_http_for_testing);
/// the defaults refuse both.
///
/// Cheap to clone; clones share the connection pool.
///
/// ```
/// use meta_webhooks::client::{MediaErrorKind, MediaFetcher};
///
/// let fetcher = MediaFetcher::new().unwrap();
/// assert!(fetcher.check_url("https://scontent-iad3-1.cdninstagram.com/v/t51/a.jpg?oh=x").is_ok());
/// assert!(fetcher.check_url("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1").is_ok());
/// for (url, kind) in [
///     ("http://scontent.cdninstagram.com/a.jpg", MediaErrorKind::InsecureScheme),
///     ("https://evil.example/a.jpg", MediaErrorKind::HostNotAllowed),
///     ("https://cdninstagram.com.evil.example/a.jpg", MediaErrorKind::HostNotAllowed),
///     ("https://169.254.169.254/latest/meta-data", MediaErrorKind::IpLiteral),
///     ("https://scontent.cdninstagram.com@evil.example/", MediaErrorKind::Credentials),
/// ] {
///     assert_eq!(fetcher.check_url(url).unwrap_err().kind(), kind, "{url}");
/// }
///
/// // WhatsApp downloads carry the access token: to Meta's media host only.
/// assert!(fetcher.check_token_url("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1").is_ok());
/// assert_eq!(
///     fetcher.check_token_url("https://scontent.xx.fbcdn.net/v/a.jpg").unwrap_err().kind(),
///     MediaErrorKind::TokenHostNotAllowed,
/// );
/// ```
#[derive(Clone)]
pub struct MediaFetcher {
    http: reqwest::Client,
    rules: Arc<[HostRule]>,
    token_rules: Arc<[HostRule]>,
    max_bytes: u64,
    loopback_http: bool,
    token_loopback_port: Option<u16>,
}

impl fmt::Debug for MediaFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaFetcher")
            .field("rules", &self.rules)
            .field("token_rules", &self.token_rules)
            .field("max_bytes", &self.max_bytes)
            .field("loopback_http", &self.loopback_http)
            .field("token_loopback_port", &self.token_loopback_port)
            .finish_non_exhaustive()
    }
}

/// Downloaded media, for transient use only (do not store Instagram messaging media).
#[derive(Clone, PartialEq, Eq)]
pub struct FetchedMedia {
    bytes: Bytes,
    content_type: Option<String>,
}

impl fmt::Debug for FetchedMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchedMedia")
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl FetchedMedia {
    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Takes the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The `Content-Type` the CDN sent, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` for an empty body.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Why a media download was refused or failed. Never contains the URL.
///
/// Inspect it with [`kind`](Self::kind) (and [`is_refused`](Self::is_refused), whether the
/// URL was refused before any connection); the variants carry the details.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Not a valid absolute URL.
    #[error("refused: not a valid absolute URL")]
    InvalidUrl,
    /// Not `https` (or `http` on loopback under the testing opt-in).
    #[error("refused: only https URLs are fetched")]
    InsecureScheme,
    /// The URL carries a user name or password.
    #[error("refused: URLs with credentials are not fetched")]
    Credentials,
    /// The host is an IP address, not a name.
    #[error("refused: IP address hosts are not fetched")]
    IpLiteral,
    /// The URL names an explicit port.
    #[error("refused: URLs with an explicit port are not fetched")]
    Port,
    /// The host is not on the allow-list.
    #[error("refused: host {0:?} is not on the media allow-list")]
    HostNotAllowed(String),
    /// An access token would have gone to a host that is not Meta's media host; nothing was
    /// sent.
    #[error("refused: host {0:?} is not Meta's media host; the access token is not sent to it")]
    TokenHostNotAllowed(String),
    /// The server answered with a redirect, which is never followed.
    #[error("the server answered with a redirect (HTTP {0}), which is not followed")]
    Redirect(u16),
    /// The server answered with another non-success status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the size cap.
    #[error("the media is larger than the {0}-byte cap")]
    TooLarge(u64),
    /// The download did not finish within the time cap.
    #[error("the download timed out")]
    Timeout,
    /// Another network failure; reqwest's description without the URL.
    #[error("the download failed: {0}")]
    Transport(String),
}

/// The kind of a [`MediaError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaErrorKind {
    /// [`MediaError::InvalidUrl`].
    InvalidUrl,
    /// [`MediaError::InsecureScheme`].
    InsecureScheme,
    /// [`MediaError::Credentials`].
    Credentials,
    /// [`MediaError::IpLiteral`].
    IpLiteral,
    /// [`MediaError::Port`].
    Port,
    /// [`MediaError::HostNotAllowed`].
    HostNotAllowed,
    /// [`MediaError::TokenHostNotAllowed`].
    TokenHostNotAllowed,
    /// [`MediaError::Redirect`].
    Redirect,
    /// [`MediaError::Status`].
    Status,
    /// [`MediaError::TooLarge`].
    TooLarge,
    /// [`MediaError::Timeout`].
    Timeout,
    /// [`MediaError::Transport`].
    Transport,
}

impl MediaErrorKind {
    /// A stable snake_case name, e.g. `"host_not_allowed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid_url",
            Self::InsecureScheme => "insecure_scheme",
            Self::Credentials => "credentials",
            Self::IpLiteral => "ip_literal",
            Self::Port => "port",
            Self::HostNotAllowed => "host_not_allowed",
            Self::TokenHostNotAllowed => "token_host_not_allowed",
            Self::Redirect => "redirect",
            Self::Status => "status",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
        }
    }
}

impl std::fmt::Display for MediaErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl MediaError {
    /// What went wrong, to branch on and to log.
    pub fn kind(&self) -> MediaErrorKind {
        match self {
            Self::InvalidUrl => MediaErrorKind::InvalidUrl,
            Self::InsecureScheme => MediaErrorKind::InsecureScheme,
            Self::Credentials => MediaErrorKind::Credentials,
            Self::IpLiteral => MediaErrorKind::IpLiteral,
            Self::Port => MediaErrorKind::Port,
            Self::HostNotAllowed(_) => MediaErrorKind::HostNotAllowed,
            Self::TokenHostNotAllowed(_) => MediaErrorKind::TokenHostNotAllowed,
            Self::Redirect(_) => MediaErrorKind::Redirect,
            Self::Status(_) => MediaErrorKind::Status,
            Self::TooLarge(_) => MediaErrorKind::TooLarge,
            Self::Timeout => MediaErrorKind::Timeout,
            Self::Transport(_) => MediaErrorKind::Transport,
        }
    }

    /// `true` when the URL was refused before any connection was made.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            Self::InvalidUrl
                | Self::InsecureScheme
                | Self::Credentials
                | Self::IpLiteral
                | Self::Port
                | Self::HostNotAllowed(_)
                | Self::TokenHostNotAllowed(_)
        )
    }

    /// The HTTP status the server answered with, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Redirect(code) | Self::Status(code) => StatusCode::from_u16(*code).ok(),
            _ => None,
        }
    }
}

impl MediaFetcher {
    /// A fetcher with the defaults (Meta CDN hosts, https only, 25 MiB, 30 s).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Http`] when the TLS client cannot be initialised.
    pub fn new() -> Result<Self, ConfigError> {
        MediaFetcherBuilder::new().build()
    }

    /// A builder, starting from the defaults.
    pub fn builder() -> MediaFetcherBuilder {
        MediaFetcherBuilder::new()
    }

    /// Checks `url` against the rules without any network access.
    ///
    /// # Errors
    ///
    /// The refusal: [`MediaError::InvalidUrl`], [`MediaError::InsecureScheme`],
    /// [`MediaError::Credentials`], [`MediaError::IpLiteral`], [`MediaError::Port`] or
    /// [`MediaError::HostNotAllowed`].
    pub fn check_url(&self, url: &str) -> Result<(), MediaError> {
        self.parse_allowed(url).map(drop)
    }

    fn parse_allowed(&self, raw: &str) -> Result<reqwest::Url, MediaError> {
        let url = reqwest::Url::parse(raw).map_err(|_| MediaError::InvalidUrl)?;
        let host = HostKind::of(&url).ok_or(MediaError::InvalidUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(MediaError::Credentials);
        }
        let loopback_ok =
            self.loopback_http && matches!(host, HostKind::Ip(ip) if ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback_ok => {}
            _ => return Err(MediaError::InsecureScheme),
        }
        if loopback_ok {
            return Ok(url);
        }
        let HostKind::Domain(name) = host else {
            return Err(MediaError::IpLiteral);
        };
        if url.port().is_some() {
            return Err(MediaError::Port);
        }
        let name = name.to_ascii_lowercase();
        if self.rules.iter().any(|rule| rule.matches(&name)) {
            Ok(url)
        } else {
            Err(MediaError::HostNotAllowed(name))
        }
    }

    /// Downloads `url` if the rules allow it.
    ///
    /// # Errors
    ///
    /// A refusal (see [`check_url`](Self::check_url)) before any connection, or
    /// [`MediaError::Redirect`], [`MediaError::Status`], [`MediaError::TooLarge`],
    /// [`MediaError::Timeout`], [`MediaError::Transport`].
    pub async fn fetch(&self, url: &str) -> Result<FetchedMedia, MediaError> {
        let url = self.parse_allowed(url)?;
        self.get(url, None).await
    }

    /// The max size in bytes this fetcher downloads.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Checks `url` as [`check_url`](Self::check_url) does, and that an access token may be
    /// sent to its host ([`WHATSAPP_MEDIA_HOSTS`] by default), without any network access.
    ///
    /// # Errors
    ///
    /// A refusal of [`check_url`](Self::check_url), or [`MediaError::TokenHostNotAllowed`].
    pub fn check_token_url(&self, url: &str) -> Result<(), MediaError> {
        self.parse_token_allowed(url).map(drop)
    }

    fn parse_token_allowed(&self, raw: &str) -> Result<reqwest::Url, MediaError> {
        let url = self.parse_allowed(raw)?;
        let allowed = match HostKind::of(&url) {
            Some(HostKind::Domain(name)) => {
                let name = name.to_ascii_lowercase();
                if self.token_rules.iter().any(|rule| rule.matches(&name)) {
                    true
                } else {
                    return Err(MediaError::TokenHostNotAllowed(name));
                }
            }
            Some(HostKind::Ip(ip)) => {
                self.loopback_http
                    && ip.is_loopback()
                    && self.token_loopback_port.is_some()
                    && url.port_or_known_default() == self.token_loopback_port
            }
            None => false,
        };
        if allowed {
            Ok(url)
        } else {
            let host = url.host_str().unwrap_or_default().to_owned();
            Err(MediaError::TokenHostNotAllowed(host))
        }
    }

    /// Downloads WhatsApp media from `url` (the `url` of a media lookup) with
    /// `Authorization: Bearer <token>`, under every rule of [`fetch`](Self::fetch), and only
    /// if the host is Meta's media host ([`WHATSAPP_MEDIA_HOSTS`]). The token goes nowhere
    /// else: another host is refused before connecting, and redirects are never followed.
    ///
    /// # Errors
    ///
    /// A refusal (see [`check_token_url`](Self::check_token_url)) before any connection, or
    /// the errors of [`fetch`](Self::fetch).
    pub async fn fetch_with_token(
        &self,
        url: &str,
        token: &AccessToken,
    ) -> Result<FetchedMedia, MediaError> {
        let url = self.parse_token_allowed(url)?;
        self.get(url, Some(token)).await
    }

    async fn get(
        &self,
        url: reqwest::Url,
        token: Option<&AccessToken>,
    ) -> Result<FetchedMedia, MediaError> {
        let request = self.http.get(url);
        // `bearer_auth` marks the header sensitive.
        let request = match token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        };
        let secret = token.map(AccessToken::expose);
        let transport = |error: reqwest::Error| transport(error, secret);
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(MediaError::Redirect(status.as_u16()));
        }
        if !status.is_success() {
            return Err(MediaError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > self.max_bytes)
        {
            return Err(MediaError::TooLarge(self.max_bytes));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
            if total > self.max_bytes {
                return Err(MediaError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedMedia {
            bytes: body.freeze(),
            content_type,
        })
    }
}

fn transport(error: reqwest::Error, secret: Option<&str>) -> MediaError {
    if error.is_timeout() {
        MediaError::Timeout
    } else {
        MediaError::Transport(describe(error, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rules() {
        let star = HostRule::parse("*.FBCDN.net").unwrap();
        assert!(star.matches("scontent.xx.fbcdn.net"));
        assert!(!star.matches("fbcdn.net"));
        assert!(!star.matches("evilfbcdn.net"));
        assert!(!star.matches("fbcdn.net.evil.com"));
        let exact = HostRule::parse("lookaside.fbsbx.com").unwrap();
        assert!(exact.matches("lookaside.fbsbx.com"));
        assert!(!exact.matches("x.lookaside.fbsbx.com"));
        for bad in [
            "",
            "*.",
            "*",
            "a..b",
            "1.2.3.4",
            "a/b",
            "*.a b",
            "exa_mple.com",
        ] {
            assert!(HostRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_refusals() {
        let f = MediaFetcher::new().unwrap();
        let cases = [
            ("not a url", MediaErrorKind::InvalidUrl),
            ("data:text/plain,hi", MediaErrorKind::InvalidUrl),
            ("file:///etc/passwd", MediaErrorKind::InvalidUrl),
            (
                "ftp://scontent.cdninstagram.com/a",
                MediaErrorKind::InsecureScheme,
            ),
            (
                "http://scontent.cdninstagram.com/a",
                MediaErrorKind::InsecureScheme,
            ),
            ("http://127.0.0.1:8080/a", MediaErrorKind::InsecureScheme),
            ("https://127.0.0.1/a", MediaErrorKind::IpLiteral),
            ("https://2130706433/a", MediaErrorKind::IpLiteral),
            ("https://0x7f.1/a", MediaErrorKind::IpLiteral),
            ("https://[::1]/a", MediaErrorKind::IpLiteral),
            ("https://[::ffff:a9fe:a9fe]/a", MediaErrorKind::IpLiteral),
            (
                "https://u:p@scontent.cdninstagram.com/a",
                MediaErrorKind::Credentials,
            ),
            (
                "https://scontent.cdninstagram.com:8443/a",
                MediaErrorKind::Port,
            ),
            ("https://localhost/a", MediaErrorKind::HostNotAllowed),
            (
                "https://evil.com\\@scontent.cdninstagram.com/a",
                MediaErrorKind::HostNotAllowed,
            ),
            ("https://cdninstagram.com/a", MediaErrorKind::HostNotAllowed),
            (
                "https://scontent.cdninstagram.com.evil.com/a",
                MediaErrorKind::HostNotAllowed,
            ),
        ];
        for (url, kind) in cases {
            let err = f.check_url(url).unwrap_err();
            assert_eq!(err.kind(), kind, "{url}: {err}");
            assert!(err.is_refused());
            assert!(!err.to_string().contains("/a"), "no URL in errors: {err}");
        }
        for ok in [
            "https://scontent.cdninstagram.com/a.jpg",
            "https://SCONTENT-IAD3-1.CDNINSTAGRAM.COM/a.jpg",
            "https://video.xx.fbcdn.net/v.mp4",
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x",
            "https://scontent.cdninstagram.com:443/a.jpg",
        ] {
            assert!(f.check_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn the_token_goes_only_to_the_media_host() {
        let f = MediaFetcher::new().unwrap();
        assert!(
            f.check_token_url("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
                .is_ok()
        );
        for url in [
            "https://scontent.xx.fbcdn.net/v/a.jpg",
            "https://scontent.cdninstagram.com/a.jpg",
            "https://x.lookaside.fbsbx.com/a",
        ] {
            let err = f.check_token_url(url).unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    MediaErrorKind::TokenHostNotAllowed | MediaErrorKind::HostNotAllowed
                ),
                "{url}: {err}"
            );
            assert!(err.is_refused());
        }
        assert_eq!(
            f.check_token_url("https://scontent.xx.fbcdn.net/v/a.jpg")
                .unwrap_err()
                .kind(),
            MediaErrorKind::TokenHostNotAllowed
        );
        // Loopback for tests: only the named port gets the token.
        let f = MediaFetcher::builder()
            .token_to_loopback_port_for_testing(4000)
            .build()
            .unwrap();
        assert!(f.check_token_url("http://127.0.0.1:4000/m").is_ok());
        assert!(f.check_url("http://127.0.0.1:4001/m").is_ok());
        assert_eq!(
            f.check_token_url("http://127.0.0.1:4001/m").unwrap_err(),
            MediaError::TokenHostNotAllowed("127.0.0.1".into())
        );
        let f = MediaFetcher::builder()
            .allow_loopback_http_for_testing()
            .build()
            .unwrap();
        assert!(f.check_token_url("http://127.0.0.1:4000/m").is_err());
    }

    #[test]
    fn loopback_opt_in_only_opens_loopback_ips() {
        let f = MediaFetcher::builder()
            .allow_loopback_http_for_testing()
            .build()
            .unwrap();
        assert!(f.check_url("http://127.0.0.1:1234/a").is_ok());
        assert!(f.check_url("http://[::1]:1234/a").is_ok());
        assert_eq!(
            f.check_url("http://10.0.0.1/a").unwrap_err().kind(),
            MediaErrorKind::InsecureScheme
        );
        assert_eq!(
            f.check_url("https://10.0.0.1/a").unwrap_err().kind(),
            MediaErrorKind::IpLiteral
        );
        assert_eq!(
            f.check_url("http://localhost:1234/a").unwrap_err().kind(),
            MediaErrorKind::InsecureScheme
        );
        assert_eq!(
            f.check_url("http://u@127.0.0.1:1234/a").unwrap_err().kind(),
            MediaErrorKind::Credentials
        );
    }
}
