//! Serving limits of the bots' HTTP servers: how long a peer may take, how much it may
//! send, how many may connect at once.
//!
//! A Meta webhook endpoint is public and unauthenticated until the body's signature is
//! checked, so every slow, idle or stalled connection costs the server until a limit
//! closes it. [`ServeConfig::from_env`] reads these limits (all optional):
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `HEADER_READ_TIMEOUT_SECS` | `5` | the request line and headers must arrive within this, else the connection is closed |
//! | `BODY_TIMEOUT_SECS` | `10` | the *whole* body must arrive within this of the start of reading, else `408` |
//! | `KEEP_ALIVE_SECS` | `5` | an idle keep-alive connection is closed after this; `0` turns keep-alive off |
//! | `MAX_CONNECTIONS` | `256` | open connections at most; more are refused at once |
//! | `BODY_LIMIT_BYTES` | `4194304` (4 MiB) | largest body; larger ones get `413` before hashing |
//!
//! Unauthenticated bodies are buffered before their signature can be checked, so the
//! memory they can hold is bounded by [`ServeConfig::memory_bound`]: body limit × maximum
//! connections (1 GiB with the defaults), each for at most the body timeout.
//!
//! ```
//! use std::time::Duration;
//! use bot_kit::serve::ServeConfig;
//!
//! let serve = ServeConfig::from_vars([("MAX_CONNECTIONS", "64"), ("KEEP_ALIVE_SECS", "0")])?;
//! assert_eq!(serve.max_connections, 64);
//! assert_eq!(serve.keep_alive, None);
//! assert_eq!(serve.body_timeout, Duration::from_secs(10));
//! assert_eq!(serve.memory_bound(), 64 * 4 * 1024 * 1024);
//! # Ok::<(), bot_kit::serve::ServeConfigError>(())
//! ```

use std::collections::HashMap;
use std::time::Duration;

use meta_webhooks::Handshake;
use meta_webhooks::endpoint::Endpoint;
use meta_webhooks::sink::Sink;
use thiserror::Error;

use crate::Config;

/// The environment variables [`ServeConfig`] reads.
pub mod vars {
    /// Time limit of the request line and headers, in seconds.
    pub const HEADER_READ_TIMEOUT_SECS: &str = "HEADER_READ_TIMEOUT_SECS";
    /// Time limit of the whole request body, in seconds.
    pub const BODY_TIMEOUT_SECS: &str = "BODY_TIMEOUT_SECS";
    /// Idle keep-alive timeout, in seconds (`0`: no keep-alive).
    pub const KEEP_ALIVE_SECS: &str = "KEEP_ALIVE_SECS";
    /// Open connections at most.
    pub const MAX_CONNECTIONS: &str = "MAX_CONNECTIONS";
    /// Largest request body, in bytes.
    pub const BODY_LIMIT_BYTES: &str = "BODY_LIMIT_BYTES";

    /// Every variable [`ServeConfig`](super::ServeConfig) reads.
    pub const ALL: [&str; 5] = [
        HEADER_READ_TIMEOUT_SECS,
        BODY_TIMEOUT_SECS,
        KEEP_ALIVE_SECS,
        MAX_CONNECTIONS,
        BODY_LIMIT_BYTES,
    ];
}

/// Default `HEADER_READ_TIMEOUT_SECS`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `BODY_TIMEOUT_SECS` (the endpoint's default body deadline).
pub const DEFAULT_BODY_TIMEOUT: Duration = meta_webhooks::endpoint::DEFAULT_BODY_TIMEOUT;
/// Default `KEEP_ALIVE_SECS`.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Default `MAX_CONNECTIONS`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default `BODY_LIMIT_BYTES` (the endpoint's default body limit).
pub const DEFAULT_BODY_LIMIT: usize = meta_webhooks::endpoint::DEFAULT_BODY_LIMIT;

/// The serving limits; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// `HEADER_READ_TIMEOUT_SECS`.
    pub header_read_timeout: Duration,
    /// `BODY_TIMEOUT_SECS`.
    pub body_timeout: Duration,
    /// `KEEP_ALIVE_SECS`; `None` when keep-alive is off.
    pub keep_alive: Option<Duration>,
    /// `MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `BODY_LIMIT_BYTES`.
    pub body_limit: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl ServeConfig {
    /// Reads the limits from the process environment.
    pub fn from_env() -> Result<Self, ServeConfigError> {
        Self::from_vars(
            vars::ALL
                .iter()
                .filter_map(|name| Some((*name, std::env::var(name).ok()?))),
        )
    }

    /// Reads the limits from `vars` (name, value) instead of the environment; unset ones
    /// keep their default.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ServeConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let env: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let number = |name: &str, min: u64, max: u64| -> Result<Option<u64>, ServeConfigError> {
            let Some(value) = env.get(name) else {
                return Ok(None);
            };
            match value.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ServeConfigError {
                    variable: name.to_owned(),
                    problem: format!("expected a whole number {min}-{max}, got {value:?}"),
                }),
            }
        };
        let defaults = Self::default();
        let seconds = |name, default: Duration| -> Result<Duration, ServeConfigError> {
            Ok(number(name, 1, 3600)?.map_or(default, Duration::from_secs))
        };
        let keep_alive = match number(vars::KEEP_ALIVE_SECS, 0, 3600)? {
            None => defaults.keep_alive,
            Some(0) => None,
            Some(n) => Some(Duration::from_secs(n)),
        };
        let max_connections = number(vars::MAX_CONNECTIONS, 1, 1_000_000)?
            .map_or(Ok(defaults.max_connections), usize::try_from)
            .unwrap_or(defaults.max_connections);
        let body_limit = number(vars::BODY_LIMIT_BYTES, 1024, 1 << 30)?
            .map_or(Ok(defaults.body_limit), usize::try_from)
            .unwrap_or(defaults.body_limit);
        Ok(Self {
            header_read_timeout: seconds(
                vars::HEADER_READ_TIMEOUT_SECS,
                defaults.header_read_timeout,
            )?,
            body_timeout: seconds(vars::BODY_TIMEOUT_SECS, defaults.body_timeout)?,
            keep_alive,
            max_connections,
            body_limit,
        })
    }

    /// The most memory unauthenticated bodies can hold at once, in bytes: body limit ×
    /// maximum connections.
    pub fn memory_bound(&self) -> u64 {
        (self.body_limit as u64).saturating_mul(self.max_connections as u64)
    }
}

/// The webhook endpoint both bots serve on `/webhook`: the handshake with
/// `config.verify_token`, the signature check with [`Config::verifier`] (the Instagram and
/// Messenger app secret and, when set, the WhatsApp one, so one URL takes all three
/// products' deliveries), `serve`'s body limit and body deadline, and `sink` (the running
/// bot's [`Running::sink`](crate::Running::sink)).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bot_kit::{Bot, Config, ServeConfig};
///
/// let config = Config::from_vars([("IG_APP_SECRET", "ig-secret"), ("WA_APP_SECRET", "wa-secret")])?;
/// let bot = Bot::from_config(&config).await?;
/// let running = bot.start().await?;
/// let endpoint = bot_kit::serve::endpoint(&config, &ServeConfig::default(), running.sink());
/// # drop(endpoint);
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub fn endpoint<K: Sink>(config: &Config, serve: &ServeConfig, sink: K) -> Endpoint<K> {
    Endpoint::builder(
        config.verifier(),
        Handshake::new(config.verify_token.clone()),
        sink,
    )
    .body_limit(serve.body_limit)
    .body_timeout(serve.body_timeout)
    .build()
}

/// A serving limit that cannot be used. `Display` is one line, `VARIABLE: problem`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable}: {problem}")]
pub struct ServeConfigError {
    variable: String,
    problem: String,
}

impl ServeConfigError {
    /// The variable at fault.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(ServeConfig::from_vars(none), Ok(ServeConfig::default()));
        assert_eq!(ServeConfig::default().memory_bound(), 1 << 30);
        let error = ServeConfig::from_vars([("BODY_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(error.variable(), "BODY_TIMEOUT_SECS");
        assert!(ServeConfig::from_vars([("MAX_CONNECTIONS", "many")]).is_err());
        let serve = ServeConfig::from_vars([("KEEP_ALIVE_SECS", "7")]).unwrap();
        assert_eq!(serve.keep_alive, Some(Duration::from_secs(7)));
    }
}
