//! [`GraphClientBuilder`]: host, Graph version, timeouts, retries and the clock.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use thiserror::Error;

use super::retry::RetryPolicy;
use super::{GraphClient, Inner};

/// Host for Instagram API with Instagram Login (Instagram User access tokens).
pub const INSTAGRAM_GRAPH_URL: &str = "https://graph.instagram.com";
/// Host for Facebook Login / Messenger Platform (Page access tokens).
pub const FACEBOOK_GRAPH_URL: &str = "https://graph.facebook.com";
/// The Graph API version used unless configured otherwise.
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";
/// Default limit for establishing a connection (DNS, TCP, TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default limit for a whole request, answer included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default account pause when Meta reports full usage without a time to regain access.
pub const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(60);

/// A source of the current time, injectable so that pauses and windows are testable
/// without sleeping.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// An invalid client configuration.
///
/// Inspect it with [`kind`](Self::kind); the variants carry the details.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is unusable: see the message for why.
    #[error("invalid base URL: {0}")]
    InvalidBaseUrl(&'static str),
    /// The Graph version is not of the form `v25.0`.
    #[error("invalid Graph API version {0:?}: expected the form v25.0")]
    InvalidVersion(String),
    /// A media host pattern is not a host name or `*.` followed by one.
    #[error("invalid media host pattern {0:?}: expected a host name or *.domain")]
    InvalidHostPattern(String),
    /// A timeout or limit is zero.
    #[error("the {0} must not be zero")]
    Zero(&'static str),
    /// The HTTP client could not be built (e.g. no TLS roots available).
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

impl ConfigError {
    /// What is wrong, to branch on and to log.
    pub fn kind(&self) -> ConfigErrorKind {
        match self {
            Self::InvalidBaseUrl(_) => ConfigErrorKind::InvalidBaseUrl,
            Self::InvalidVersion(_) => ConfigErrorKind::InvalidVersion,
            Self::InvalidHostPattern(_) => ConfigErrorKind::InvalidHostPattern,
            Self::Zero(_) => ConfigErrorKind::Zero,
            Self::Http(_) => ConfigErrorKind::Http,
        }
    }
}

/// The kind of a [`ConfigError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// [`ConfigError::InvalidBaseUrl`].
    InvalidBaseUrl,
    /// [`ConfigError::InvalidVersion`].
    InvalidVersion,
    /// [`ConfigError::InvalidHostPattern`].
    InvalidHostPattern,
    /// [`ConfigError::Zero`].
    Zero,
    /// [`ConfigError::Http`].
    Http,
}

impl ConfigErrorKind {
    /// A stable snake_case name, e.g. `"invalid_base_url"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidBaseUrl => "invalid_base_url",
            Self::InvalidVersion => "invalid_version",
            Self::InvalidHostPattern => "invalid_host_pattern",
            Self::Zero => "zero",
            Self::Http => "http",
        }
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a [`GraphClient`].
///
/// Defaults: [`INSTAGRAM_GRAPH_URL`], [`DEFAULT_GRAPH_VERSION`], [`DEFAULT_CONNECT_TIMEOUT`],
/// [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`], [`DEFAULT_THROTTLE_PAUSE`],
/// [`SystemClock`].
///
/// ```
/// use std::time::Duration;
/// use meta_webhooks::client::{RetryPolicy, GraphClient};
///
/// let client = GraphClient::builder()
///     .facebook_login()
///     .graph_version("v24.0")
///     .timeout(Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().with_max_attempts(2))
///     .build()
///     .unwrap();
/// assert_eq!(client.api_root(), "https://graph.facebook.com/v24.0");
///
/// // Plain http only for a loopback test server: a token never travels in clear text.
/// assert!(GraphClient::builder().base_url("http://graph.example.com").build().is_err());
/// assert!(GraphClient::builder().base_url("http://127.0.0.1:8080").build().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct GraphClientBuilder {
    base_url: String,
    graph_version: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    throttle_pause: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for GraphClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl GraphClientBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self {
            base_url: INSTAGRAM_GRAPH_URL.to_owned(),
            graph_version: DEFAULT_GRAPH_VERSION.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            throttle_pause: DEFAULT_THROTTLE_PAUSE,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `graph.instagram.com` (Instagram Login; Instagram User tokens). The default.
    #[must_use]
    pub fn instagram_login(self) -> Self {
        self.base_url(INSTAGRAM_GRAPH_URL)
    }

    /// Uses `graph.facebook.com` (Facebook Login / Messenger Platform; Page tokens).
    #[must_use]
    pub fn facebook_login(self) -> Self {
        self.base_url(FACEBOOK_GRAPH_URL)
    }

    /// Uses another base URL, e.g. a local test server. It must be `https`, or `http` on a
    /// loopback address (`127.0.0.0/8`, `::1`, `localhost`); it may carry a path prefix but
    /// no credentials, query or fragment. Checked by [`build`](Self::build).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The Graph API version path segment, e.g. `"v25.0"`.
    #[must_use]
    pub fn graph_version(mut self, version: impl Into<String>) -> Self {
        self.graph_version = version.into();
        self
    }

    /// Limit for establishing a connection.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for one whole request (connect, send, answer). A write that hits it after the
    /// request was sent is reported as outcome unknown.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long to pause an account when Meta reports full usage (a percentage at 100) but
    /// gives no time to regain access.
    #[must_use]
    pub fn throttle_pause(mut self, pause: Duration) -> Self {
        self.throttle_pause = pause;
        self
    }

    /// The clock used for account pauses and the messaging window.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client (one connection pool, shared by all clones and accounts).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid base URL or version, a zero timeout, or when the TLS
    /// client cannot be initialised.
    pub fn build(self) -> Result<GraphClient, ConfigError> {
        let base = validate_base_url(&self.base_url)?;
        validate_version(&self.graph_version)?;
        if self.timeout.is_zero() {
            return Err(ConfigError::Zero("timeout"));
        }
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::Zero("connect timeout"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("meta-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        Ok(GraphClient {
            inner: Arc::new(Inner::new(
                http,
                format!("{base}/{}", self.graph_version),
                self.retry,
                self.throttle_pause,
                self.clock,
            )),
        })
    }
}

/// The host of a parsed URL: an IP literal or a domain name (lower case, as the URL parser
/// normalizes it; IPv4 in any notation becomes dotted decimal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostKind<'a> {
    Ip(IpAddr),
    Domain(&'a str),
}

impl<'a> HostKind<'a> {
    pub(crate) fn of(url: &'a reqwest::Url) -> Option<Self> {
        let host = url.host_str()?;
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Some(match bare.parse::<IpAddr>() {
            Ok(ip) => Self::Ip(ip),
            Err(_) => Self::Domain(host),
        })
    }

    /// `true` for `127.0.0.0/8`, `::1` and `localhost`.
    pub(crate) fn is_loopback(self) -> bool {
        match self {
            Self::Ip(ip) => ip.is_loopback(),
            Self::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        }
    }
}

fn validate_base_url(raw: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(raw).map_err(|_| ConfigError::InvalidBaseUrl("not a URL"))?;
    let host = HostKind::of(&url).ok_or(ConfigError::InvalidBaseUrl("no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if host.is_loopback() => {}
        "http" => {
            return Err(ConfigError::InvalidBaseUrl(
                "plain http is allowed only on a loopback address",
            ));
        }
        _ => return Err(ConfigError::InvalidBaseUrl("scheme must be https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::InvalidBaseUrl("credentials are not allowed"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::InvalidBaseUrl(
            "a query or fragment is not allowed",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn validate_version(version: &str) -> Result<(), ConfigError> {
    let ok = version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidVersion(version.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            validate_base_url("https://graph.instagram.com/").unwrap(),
            "https://graph.instagram.com"
        );
        assert_eq!(
            validate_base_url("http://127.0.0.1:9999/prefix/").unwrap(),
            "http://127.0.0.1:9999/prefix"
        );
        assert!(validate_base_url("http://[::1]:80").is_ok());
        assert!(validate_base_url("http://localhost:80").is_ok());
        assert!(validate_base_url("http://10.0.0.1").is_err());
        assert!(validate_base_url("ftp://graph.facebook.com").is_err());
        assert!(validate_base_url("https://u:p@graph.facebook.com").is_err());
        assert!(validate_base_url("https://graph.facebook.com/?access_token=x").is_err());
        assert!(validate_base_url("graph.facebook.com").is_err());
    }

    #[test]
    fn versions() {
        for ok in ["v25.0", "v3.10"] {
            assert!(validate_version(ok).is_ok(), "{ok}");
        }
        for bad in ["25.0", "v25", "v25.", "v.0", "v25.0/", "v25.0?x", ""] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
    }
}
