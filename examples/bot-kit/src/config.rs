//! Configuration from the environment.
//!
//! [`Config::from_env`] reads the process environment; [`Config::from_vars`] is the same
//! parser over any list of `(name, value)` pairs (for tests). Every problem is a
//! [`ConfigError`] whose `Display` is one line naming the variable; [`vars`] has the
//! names as constants.
//!
//! ```
//! use bot_kit::config::{Config, Sending};
//!
//! let config = Config::from_vars([("PORT", "8080"), ("OPENAI_MODEL", "gpt-4o-mini")]).unwrap();
//! assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
//! assert!(matches!(config.sending, Sending::DryRun));
//! assert!(config.generated.app_secret);
//!
//! let err = Config::from_vars([("PORT", "abc")]).unwrap_err();
//! assert_eq!(err.to_string(), r#"PORT: expected a port number 1-65535, got "abc""#);
//! assert_eq!(err.variable(), "PORT");
//! ```
//!
//! The rest of this page is `docs/CONFIGURATION.md`, the one list of the variables.
//!
#![doc = include_str!("../../../docs/CONFIGURATION.md")]

mod accounts;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use meta_webhooks::payload::AccountId;
use meta_webhooks::{AccessToken, AppSecret, VerifyToken};
use thiserror::Error;
use url::Url;

pub use self::accounts::Accounts;
pub use meta_webhooks::redis::StreamConfig;

/// Prefix of the bots' Redis Streams keys (`botkit:stream:{i}`, `botkit:lease:{i}`,
/// `botkit:workers`, `botkit:dead`, `botkit:dedup:{key}`).
pub const STREAM_KEY_PREFIX: &str = "botkit:";

/// The bots' consumer group.
pub const STREAM_GROUP: &str = "botkit-workers";

/// Which part of the work a process does (`BOT_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Role {
    /// Serves the webhook: verifies, queues in Redis, acknowledges. Handles nothing.
    Receiver,
    /// Handles queued events. Its `/webhook` answers 503 (it is not meant to get traffic).
    Worker,
    /// Both (the default; the only role without Redis).
    #[default]
    All,
}

impl Role {
    /// Parses `receiver`, `worker` or `all` (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Receiver, Self::Worker, Self::All]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name))
    }

    /// `receiver`, `worker` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Worker => "worker",
            Self::All => "all",
        }
    }

    /// Whether the process accepts webhook deliveries.
    pub fn receives(self) -> bool {
        matches!(self, Self::Receiver | Self::All)
    }

    /// Whether the process handles events.
    pub fn works(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }
}

/// Where a bot running on a generated dev app secret leaves it for local tools
/// ([`Config::publish_dev_secret`]): `meta-webhooks-dev-app-secret` in the system's
/// temporary directory.
pub fn dev_secret_path() -> PathBuf {
    std::env::temp_dir().join("meta-webhooks-dev-app-secret")
}
use self::accounts::{is_account_id, is_header_safe};
use crate::ai::AiConfig;
use crate::rules::{RuleSet, RulesError, RulesErrorKind};
use crate::secret::Secret;
use crate::state::Backend;

/// The names of the variables, as constants.
pub mod vars {
    /// Meta app secret.
    pub const IG_APP_SECRET: &str = "IG_APP_SECRET";
    /// Handshake verify token.
    pub const IG_VERIFY_TOKEN: &str = "IG_VERIFY_TOKEN";
    /// Access token of `IG_BUSINESS_ID`.
    pub const IG_PAGE_TOKEN: &str = "IG_PAGE_TOKEN";
    /// Instagram professional account id.
    pub const IG_BUSINESS_ID: &str = "IG_BUSINESS_ID";
    /// This bot's Meta app id.
    pub const IG_APP_ID: &str = "IG_APP_ID";
    /// Accounts file.
    pub const ACCOUNTS_FILE: &str = "ACCOUNTS_FILE";
    /// Graph API scheme and host.
    pub const GRAPH_API_BASE: &str = "GRAPH_API_BASE";
    /// Send API request timeout in seconds.
    pub const GRAPH_TIMEOUT_SECS: &str = "GRAPH_TIMEOUT_SECS";
    /// OpenAI API key.
    pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
    /// OpenAI base URL.
    pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
    /// OpenAI model.
    pub const OPENAI_MODEL: &str = "OPENAI_MODEL";
    /// OpenAI call timeout in seconds.
    pub const OPENAI_TIMEOUT_SECS: &str = "OPENAI_TIMEOUT_SECS";
    /// Redis URL.
    pub const REDIS_URL: &str = "REDIS_URL";
    /// Conversation record lifetime in seconds.
    pub const CONVERSATION_TTL_SECS: &str = "CONVERSATION_TTL_SECS";
    /// Rules file.
    pub const RULES_FILE: &str = "RULES_FILE";
    /// Admin bearer token.
    pub const BOT_ADMIN_TOKEN: &str = "BOT_ADMIN_TOKEN";
    /// Escalation webhook URL.
    pub const NOTIFY_WEBHOOK_URL: &str = "NOTIFY_WEBHOOK_URL";
    /// Maximum event age in seconds.
    pub const MAX_EVENT_AGE_SECS: &str = "MAX_EVENT_AGE_SECS";
    /// Listen port.
    pub const PORT: &str = "PORT";
    /// Listen address.
    pub const BIND_ADDR: &str = "BIND_ADDR";
    /// `receiver`, `worker` or `all`.
    pub const BOT_ROLE: &str = "BOT_ROLE";
    /// Number of stream shards.
    pub const STREAM_SHARDS: &str = "STREAM_SHARDS";
    /// Entries per shard before receivers refuse.
    pub const STREAM_MAX_LEN: &str = "STREAM_MAX_LEN";
    /// Bound on a receiver's `XADD`, in milliseconds.
    pub const STREAM_ACK_TIMEOUT_MS: &str = "STREAM_ACK_TIMEOUT_MS";
    /// Shard lease lifetime, in milliseconds.
    pub const STREAM_LEASE_MS: &str = "STREAM_LEASE_MS";
    /// Idle time before a pending entry is reclaimed, in milliseconds.
    pub const STREAM_RECLAIM_IDLE_MS: &str = "STREAM_RECLAIM_IDLE_MS";
    /// Entries per read.
    pub const STREAM_BATCH: &str = "STREAM_BATCH";
    /// Attempts before an entry is dead-lettered.
    pub const STREAM_MAX_DELIVERIES: &str = "STREAM_MAX_DELIVERIES";
    /// Graceful shutdown budget, in seconds.
    pub const SHUTDOWN_TIMEOUT_SECS: &str = "SHUTDOWN_TIMEOUT_SECS";

    /// Every variable the configuration reads.
    pub const ALL: [&str; 29] = [
        IG_APP_SECRET,
        IG_VERIFY_TOKEN,
        IG_PAGE_TOKEN,
        IG_BUSINESS_ID,
        IG_APP_ID,
        ACCOUNTS_FILE,
        GRAPH_API_BASE,
        GRAPH_TIMEOUT_SECS,
        OPENAI_API_KEY,
        OPENAI_BASE_URL,
        OPENAI_MODEL,
        OPENAI_TIMEOUT_SECS,
        REDIS_URL,
        CONVERSATION_TTL_SECS,
        RULES_FILE,
        BOT_ADMIN_TOKEN,
        NOTIFY_WEBHOOK_URL,
        MAX_EVENT_AGE_SECS,
        PORT,
        BIND_ADDR,
        BOT_ROLE,
        STREAM_SHARDS,
        STREAM_MAX_LEN,
        STREAM_ACK_TIMEOUT_MS,
        STREAM_LEASE_MS,
        STREAM_RECLAIM_IDLE_MS,
        STREAM_BATCH,
        STREAM_MAX_DELIVERIES,
        SHUTDOWN_TIMEOUT_SECS,
    ];
}

/// Default `PORT`.
pub const DEFAULT_PORT: u16 = 3000;

/// Default `GRAPH_API_BASE` (Page tokens, Instagram Messaging via the Messenger Platform).
pub const DEFAULT_GRAPH_API_BASE: &str = "https://graph.facebook.com";

/// Default `MAX_EVENT_AGE_SECS`: 23 h, inside the 24 h messaging window.
pub const DEFAULT_MAX_EVENT_AGE: Duration = Duration::from_secs(82_800);

/// Minimum length of `BOT_ADMIN_TOKEN`.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// How replies leave the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// No token configured: print each reply instead of sending it; every account id
    /// is served.
    DryRun,
    /// Send through the Graph API with each account's token; events for other
    /// accounts are not answered.
    Live(Accounts),
}

impl Sending {
    /// `true` for [`Sending::DryRun`].
    pub fn is_dry_run(&self) -> bool {
        matches!(self, Self::DryRun)
    }
}

/// Which values were generated because their variable was unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    /// `IG_APP_SECRET` was generated.
    pub app_secret: bool,
    /// `IG_VERIFY_TOKEN` was generated.
    pub verify_token: bool,
}

/// Where the rules came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    /// The embedded default set.
    Embedded,
    /// `RULES_FILE`.
    File(PathBuf),
}

/// The bot's configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Listen address: `BIND_ADDR`:`PORT`.
    pub listen: SocketAddr,
    /// `IG_APP_SECRET` (or a generated dev value).
    pub app_secret: AppSecret,
    /// `IG_VERIFY_TOKEN` (or a generated dev value).
    pub verify_token: VerifyToken,
    /// Which of the two were generated.
    pub generated: Generated,
    /// `IG_APP_ID`: this bot's Meta app id, to recognize its own echoes by `app_id`.
    pub app_id: Option<String>,
    /// Dry-run or live, with the accounts.
    pub sending: Sending,
    /// `GRAPH_API_BASE`: scheme, host and optional port, no path.
    pub graph_api_base: Url,
    /// `GRAPH_TIMEOUT_SECS`: the limit of one Send API request.
    pub graph_timeout: Duration,
    /// The GPT fallback settings (`api_key` is `None` without `OPENAI_API_KEY`).
    pub ai: AiConfig,
    /// Memory or Redis.
    pub state: Backend,
    /// `CONVERSATION_TTL_SECS`.
    pub conversation_ttl: Duration,
    /// The compiled rules.
    pub rules: RuleSet,
    /// Where the rules came from.
    pub rules_source: RulesSource,
    /// `BOT_ADMIN_TOKEN`; `None` disables the admin API.
    pub admin_token: Option<Secret>,
    /// `NOTIFY_WEBHOOK_URL`; `None` disables notifications.
    pub notify_webhook_url: Option<Secret>,
    /// `MAX_EVENT_AGE_SECS`.
    pub max_event_age: Duration,
    /// `BOT_ROLE`.
    pub role: Role,
    /// The `STREAM_*` settings (used with `REDIS_URL`).
    pub stream: StreamConfig,
    /// `SHUTDOWN_TIMEOUT_SECS`.
    pub shutdown_timeout: Duration,
}

/// Default `SHUTDOWN_TIMEOUT_SECS`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// Default `GRAPH_TIMEOUT_SECS`: the Send API client's own default.
pub const DEFAULT_GRAPH_TIMEOUT: Duration = meta_webhooks::client::DEFAULT_TIMEOUT;

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// As [`Config::from_vars`]; also a [`ConfigErrorKind::Invalid`] error for a
    /// variable of [`vars::ALL`] whose value is not valid UTF-8.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut pairs = Vec::new();
        for (key, value) in std::env::vars_os() {
            let Ok(key) = key.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => pairs.push((key, value)),
                Err(_) if vars::ALL.contains(&key.as_str()) => {
                    return Err(ConfigError::new(
                        &key,
                        ConfigErrorKind::Invalid,
                        "not valid UTF-8".to_owned(),
                    ));
                }
                Err(_) => {}
            }
        }
        Self::from_vars(pairs)
    }

    /// Parses the configuration from `(name, value)` pairs (later pairs win), reading
    /// `ACCOUNTS_FILE` and `RULES_FILE` when they are set.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its variable.
    pub fn from_vars<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let env = Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect());

        let port = match env.get(vars::PORT)? {
            None => DEFAULT_PORT,
            Some(v) => match v.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => {
                    return Err(ConfigError::invalid(
                        vars::PORT,
                        format!("expected a port number 1-65535, got {v:?}"),
                    ));
                }
            },
        };
        let bind = match env.get(vars::BIND_ADDR)? {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(v) => v.parse::<IpAddr>().map_err(|_| {
                ConfigError::invalid(
                    vars::BIND_ADDR,
                    format!("expected an IP address such as 127.0.0.1 or 0.0.0.0, got {v:?}"),
                )
            })?,
        };

        let sending = parse_accounts(&env)?;

        let live = !sending.is_dry_run();
        let mut generated = Generated::default();
        let app_secret = match env.get(vars::IG_APP_SECRET)? {
            Some(v) => {
                if !is_header_safe(v) {
                    return Err(ConfigError::invalid(
                        vars::IG_APP_SECRET,
                        "contains whitespace or non-ASCII characters (copy the app secret again)"
                            .to_owned(),
                    ));
                }
                AppSecret::new(v).map_err(|_| ConfigError::empty(vars::IG_APP_SECRET))?
            }
            None if live => return Err(ConfigError::live_requires(vars::IG_APP_SECRET)),
            None => {
                generated.app_secret = true;
                AppSecret::new(random_hex(vars::IG_APP_SECRET, 16)?)
                    .map_err(|_| ConfigError::empty(vars::IG_APP_SECRET))?
            }
        };
        let verify_token = match env.get(vars::IG_VERIFY_TOKEN)? {
            Some(v) => {
                if v.trim() != v {
                    return Err(ConfigError::invalid(
                        vars::IG_VERIFY_TOKEN,
                        "has leading or trailing whitespace".to_owned(),
                    ));
                }
                VerifyToken::new(v).map_err(|_| ConfigError::empty(vars::IG_VERIFY_TOKEN))?
            }
            None if live => return Err(ConfigError::live_requires(vars::IG_VERIFY_TOKEN)),
            None => {
                generated.verify_token = true;
                VerifyToken::new(format!("dev-{}", random_hex(vars::IG_VERIFY_TOKEN, 12)?))
                    .map_err(|_| ConfigError::empty(vars::IG_VERIFY_TOKEN))?
            }
        };

        let app_id = match env.get(vars::IG_APP_ID)? {
            None => None,
            Some(v) if is_account_id(v) => Some(v.to_owned()),
            Some(v) => {
                return Err(ConfigError::invalid(
                    vars::IG_APP_ID,
                    format!("expected the app id's digits, got {v:?}"),
                ));
            }
        };

        let graph_api_base = match env.get(vars::GRAPH_API_BASE)? {
            None => Url::parse(DEFAULT_GRAPH_API_BASE).map_err(|_| {
                ConfigError::invalid(vars::GRAPH_API_BASE, "invalid built-in default".to_owned())
            })?,
            Some(v) => {
                let url = parse_http_url(vars::GRAPH_API_BASE, v)?;
                if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                    return Err(ConfigError::invalid(
                        vars::GRAPH_API_BASE,
                        "expected scheme and host only, e.g. https://graph.facebook.com \
                         (the client adds the version path)"
                            .to_owned(),
                    ));
                }
                url
            }
        };

        let graph_timeout = env
            .seconds(vars::GRAPH_TIMEOUT_SECS, 1, 120)?
            .unwrap_or(DEFAULT_GRAPH_TIMEOUT);

        let mut ai = AiConfig::default();
        if let Some(key) = env.get(vars::OPENAI_API_KEY)? {
            if !is_header_safe(key) {
                return Err(ConfigError::invalid(
                    vars::OPENAI_API_KEY,
                    "contains whitespace or non-ASCII characters (copy the key again)".to_owned(),
                ));
            }
            ai.api_key = Some(Secret::new(key));
        }
        if let Some(base) = env.get(vars::OPENAI_BASE_URL)? {
            let url = parse_http_url(vars::OPENAI_BASE_URL, base)?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(ConfigError::invalid(
                    vars::OPENAI_BASE_URL,
                    "expected a base URL without query or fragment, e.g. https://api.openai.com/v1"
                        .to_owned(),
                ));
            }
            ai.base_url = url.as_str().trim_end_matches('/').to_owned();
        }
        if let Some(model) = env.get(vars::OPENAI_MODEL)? {
            if model.chars().any(char::is_whitespace) {
                return Err(ConfigError::invalid(
                    vars::OPENAI_MODEL,
                    format!("expected a model name without spaces, got {model:?}"),
                ));
            }
            model.clone_into(&mut ai.model);
        }
        if let Some(secs) = env.seconds(vars::OPENAI_TIMEOUT_SECS, 1, 120)? {
            ai.timeout = secs;
        }

        let state = match env.get(vars::REDIS_URL)? {
            None => Backend::Memory,
            Some(url) => {
                redis::Client::open(url).map_err(|_| {
                    ConfigError::invalid(
                        vars::REDIS_URL,
                        "not a valid Redis URL (expected redis://[[user]:password@]host[:port][/db])"
                            .to_owned(),
                    )
                })?;
                Backend::Redis(Secret::new(url))
            }
        };
        let conversation_ttl = env
            .seconds(vars::CONVERSATION_TTL_SECS, 1, 30 * 24 * 3600)?
            .unwrap_or(crate::state::DEFAULT_TTL);

        let (rules, rules_source) = match env.get(vars::RULES_FILE)? {
            None => (RuleSet::embedded_default(), RulesSource::Embedded),
            Some(path) => {
                let path = PathBuf::from(path);
                let rules = RuleSet::from_file(&path).map_err(|e| ConfigError {
                    variable: vars::RULES_FILE.to_owned(),
                    kind: ConfigErrorKind::Rules,
                    problem: if e.kind() == RulesErrorKind::Io {
                        e.to_string()
                    } else {
                        format!("{}: {e}", path.display())
                    },
                    rules: Some(Box::new(e)),
                })?;
                (rules, RulesSource::File(path))
            }
        };

        let admin_token = match env.get(vars::BOT_ADMIN_TOKEN)? {
            None => None,
            Some(token) => {
                if !is_header_safe(token) {
                    return Err(ConfigError::invalid(
                        vars::BOT_ADMIN_TOKEN,
                        "must be printable ASCII without spaces".to_owned(),
                    ));
                }
                if token.len() < MIN_ADMIN_TOKEN_LEN {
                    return Err(ConfigError::invalid(
                        vars::BOT_ADMIN_TOKEN,
                        format!("too short: use at least {MIN_ADMIN_TOKEN_LEN} characters"),
                    ));
                }
                Some(Secret::new(token))
            }
        };
        let notify_webhook_url = match env.get(vars::NOTIFY_WEBHOOK_URL)? {
            None => None,
            Some(url) => {
                parse_http_url(vars::NOTIFY_WEBHOOK_URL, url)?;
                Some(Secret::new(url))
            }
        };
        let max_event_age = env
            .seconds(vars::MAX_EVENT_AGE_SECS, 1, u64::MAX / 1000)?
            .unwrap_or(DEFAULT_MAX_EVENT_AGE);

        let role = match env.get(vars::BOT_ROLE)? {
            None => Role::All,
            Some(v) => Role::from_name(v).ok_or_else(|| {
                ConfigError::invalid(
                    vars::BOT_ROLE,
                    format!("expected receiver, worker or all, got {v:?}"),
                )
            })?,
        };
        if role != Role::All && matches!(state, Backend::Memory) {
            return Err(ConfigError::new(
                vars::REDIS_URL,
                ConfigErrorKind::Missing,
                format!(
                    "required with BOT_ROLE={} (receivers and workers share work through Redis)",
                    role.as_str()
                ),
            ));
        }
        let stream = parse_stream(&env)?;
        let shutdown_timeout = env
            .seconds(vars::SHUTDOWN_TIMEOUT_SECS, 1, 3600)?
            .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT);

        Ok(Self {
            listen: SocketAddr::new(bind, port),
            app_secret,
            verify_token,
            generated,
            app_id,
            sending,
            graph_api_base,
            graph_timeout,
            ai,
            state,
            conversation_ttl,
            rules,
            rules_source,
            admin_token,
            notify_webhook_url,
            max_event_age,
            role,
            stream,
            shutdown_timeout,
        })
    }

    /// What the bot binaries print at start-up: every line of
    /// [`startup_report`](Self::startup_report) on stdout, then, in dev mode, where
    /// [`publish_dev_secret`](Self::publish_dev_secret) left the generated secret (a failure
    /// to write it is reported on stderr and is not fatal).
    pub fn announce(&self) {
        for line in self.startup_report() {
            println!("{line}");
        }
        match self.publish_dev_secret() {
            Ok(Some(path)) => println!(
                "dev app secret also written to {} (cargo run -p simulate signs with it)",
                path.display()
            ),
            Ok(None) => {}
            Err(error) => eprintln!("could not write the dev app secret file: {error}"),
        }
    }

    /// In dev mode (the app secret was generated), writes the secret to
    /// [`dev_secret_path`] — readable by its owner only — so `cargo run -p simulate` can
    /// sign deliveries without `--secret`. Returns the path written, or `None` when
    /// `IG_APP_SECRET` is configured (a real secret is never written anywhere).
    ///
    /// # Errors
    ///
    /// The I/O error of creating or writing the file.
    pub fn publish_dev_secret(&self) -> std::io::Result<Option<PathBuf>> {
        use std::io::Write as _;

        if !self.generated.app_secret {
            return Ok(None);
        }
        let path = dev_secret_path();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        file.write_all(self.app_secret.expose().as_bytes())?;
        Ok(Some(path))
    }

    /// Lines for the binaries to print at start-up: the listen URL and, for every
    /// embedded default in use, what it means. Contains no configured secret; it does
    /// contain the *generated* dev secret and verify token (the developer needs them to
    /// sign test deliveries and to fill in the dashboard).
    pub fn startup_report(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "webhook: http://{}/webhook (GET handshake, POST deliveries)",
            self.listen
        )];
        if self.generated.app_secret {
            lines.push(format!(
                "IG_APP_SECRET not set: generated dev app secret {} (sign test deliveries with it)",
                self.app_secret.expose()
            ));
        }
        if self.generated.verify_token {
            lines.push(format!(
                "IG_VERIFY_TOKEN not set: generated dev verify token {}",
                self.verify_token.expose()
            ));
        }
        match &self.sending {
            Sending::DryRun => lines.push(
                "IG_PAGE_TOKEN not set: dry-run sender (replies are printed, not sent)".to_owned(),
            ),
            Sending::Live(accounts) => {
                let ids: Vec<&str> = accounts.ids().map(AccountId::as_str).collect();
                lines.push(format!(
                    "sending live via {} for {} account(s): {}",
                    self.graph_api_base.as_str().trim_end_matches('/'),
                    accounts.len(),
                    ids.join(", ")
                ));
            }
        }
        match &self.state {
            Backend::Memory => {
                lines.push(
                    "REDIS_URL not set: conversation state and work queue in memory".to_owned(),
                );
            }
            Backend::Redis(_) => lines.push(format!(
                "role {}: conversation state in Redis, deliveries in {} Redis Streams shards",
                self.role.as_str(),
                self.stream.shards
            )),
        }
        if self.ai.api_key.is_none() {
            lines.push(
                "OPENAI_API_KEY not set: rules only; unmatched messages get a canned reply"
                    .to_owned(),
            );
        } else {
            lines.push(format!(
                "GPT fallback: model {} at {}",
                self.ai.model, self.ai.base_url
            ));
        }
        match &self.rules_source {
            RulesSource::Embedded => lines.push(format!(
                "RULES_FILE not set: embedded default rules ({} rules)",
                self.rules.len()
            )),
            RulesSource::File(path) => lines.push(format!(
                "rules: {} ({} rules)",
                path.display(),
                self.rules.len()
            )),
        }
        if self.admin_token.is_none() {
            lines.push("BOT_ADMIN_TOKEN not set: admin API disabled".to_owned());
        }
        if self.notify_webhook_url.is_none() {
            lines.push("NOTIFY_WEBHOOK_URL not set: escalations are only logged".to_owned());
        }
        lines
    }
}

fn parse_accounts(env: &Env) -> Result<Sending, ConfigError> {
    let token = env.get(vars::IG_PAGE_TOKEN)?;
    let business_id = env.get(vars::IG_BUSINESS_ID)?;
    let mut accounts = Accounts::default();
    match (token, business_id) {
        (Some(token), Some(id)) => {
            if !is_account_id(id) {
                return Err(ConfigError::invalid(
                    vars::IG_BUSINESS_ID,
                    "expected the numeric Instagram professional account id (digits only)"
                        .to_owned(),
                ));
            }
            if !is_header_safe(token) {
                return Err(ConfigError::invalid(
                    vars::IG_PAGE_TOKEN,
                    "contains whitespace or non-ASCII characters (copy the token again)".to_owned(),
                ));
            }
            let token =
                AccessToken::new(token).map_err(|_| ConfigError::empty(vars::IG_PAGE_TOKEN))?;
            accounts.insert(AccountId::new(id), token);
        }
        (Some(_), None) => {
            return Err(ConfigError::new(
                vars::IG_BUSINESS_ID,
                ConfigErrorKind::Missing,
                "required when IG_PAGE_TOKEN is set (the Instagram professional account id the \
                 token belongs to)"
                    .to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                vars::IG_PAGE_TOKEN,
                ConfigErrorKind::Missing,
                "required when IG_BUSINESS_ID is set (unset both for dry-run mode)".to_owned(),
            ));
        }
        (None, None) => {}
    }
    if let Some(path) = env.get(vars::ACCOUNTS_FILE)? {
        let source = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                vars::ACCOUNTS_FILE,
                ConfigErrorKind::Unreadable,
                format!("cannot read {path}: {e}"),
            )
        })?;
        let entries = Accounts::parse_file(&source, |name| env.0.get(name).cloned())?;
        for (id, token) in entries {
            let shown = id.as_str().to_owned();
            if !accounts.insert(id, token) {
                return Err(ConfigError::new(
                    vars::ACCOUNTS_FILE,
                    ConfigErrorKind::Conflict,
                    format!("account {shown} is configured twice"),
                ));
            }
        }
    }
    Ok(if accounts.is_empty() {
        Sending::DryRun
    } else {
        Sending::Live(accounts)
    })
}

fn parse_stream(env: &Env) -> Result<StreamConfig, ConfigError> {
    let mut stream = StreamConfig::default();
    stream.key_prefix = STREAM_KEY_PREFIX.to_owned();
    stream.group = STREAM_GROUP.to_owned();
    if let Some(n) = env.number(vars::STREAM_SHARDS, 1, 1024)? {
        stream.shards = u16::try_from(n).unwrap_or(u16::MAX);
    }
    if let Some(n) = env.number(vars::STREAM_MAX_LEN, 1, u64::from(u32::MAX))? {
        stream.max_len = n;
    }
    if let Some(n) = env.number(vars::STREAM_ACK_TIMEOUT_MS, 10, 60_000)? {
        stream.ack_timeout = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_LEASE_MS, 300, 3_600_000)? {
        stream.lease = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_RECLAIM_IDLE_MS, 100, 86_400_000)? {
        stream.reclaim_idle = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_BATCH, 1, 1000)? {
        stream.batch = usize::try_from(n).unwrap_or(1000);
    }
    if let Some(n) = env.number(vars::STREAM_MAX_DELIVERIES, 1, 1000)? {
        stream.max_deliveries = u32::try_from(n).unwrap_or(1000);
    }
    Ok(stream)
}

fn parse_http_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    // The value may embed a credential (a Slack webhook path, a password): never echo it.
    let url = Url::parse(value)
        .map_err(|e| ConfigError::invalid(variable, format!("not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            variable,
            "expected an http:// or https:// URL".to_owned(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(
            variable,
            "the URL has no host".to_owned(),
        ));
    }
    Ok(url)
}

fn random_hex(variable: &str, bytes: usize) -> Result<String, ConfigError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        ConfigError::new(
            variable,
            ConfigErrorKind::Random,
            format!("cannot generate a dev value: {e}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The variables, later pairs winning.
struct Env(HashMap<String, String>);

impl Env {
    /// The value, `None` when unset; an error when set but empty.
    fn get(&self, name: &str) -> Result<Option<&str>, ConfigError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) if v.is_empty() => Err(ConfigError::empty(name)),
            Some(v) => Ok(Some(v.as_str())),
        }
    }

    /// A whole number within `min..=max`.
    fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::invalid(
                name,
                format!("expected a whole number {min}-{max}, got {v:?}"),
            )),
        }
    }

    /// A whole number of seconds within `min..=max`.
    fn seconds(&self, name: &str, min: u64, max: u64) -> Result<Option<Duration>, ConfigError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(Duration::from_secs(n))),
            _ => Err(ConfigError::invalid(
                name,
                format!("expected whole seconds {min}-{max}, got {v:?}"),
            )),
        }
    }
}

/// What is wrong with a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// Set but empty.
    Empty,
    /// A value that cannot be used.
    Invalid,
    /// Unset, but required by another setting.
    Missing,
    /// Contradicts another setting (e.g. an account configured twice).
    Conflict,
    /// A file that cannot be read.
    Unreadable,
    /// An invalid rules file ([`ConfigError::rules_error`] has the details).
    Rules,
    /// A dev value could not be generated (no OS randomness).
    Random,
}

/// A configuration problem. `Display` is one line, `VARIABLE: problem`, and never
/// contains a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    variable: String,
    kind: ConfigErrorKind,
    problem: String,
    rules: Option<Box<RulesError>>,
}

impl ConfigError {
    fn new(variable: &str, kind: ConfigErrorKind, problem: String) -> Self {
        Self {
            variable: variable.to_owned(),
            kind,
            problem,
            rules: None,
        }
    }

    fn invalid(variable: &str, problem: String) -> Self {
        Self::new(variable, ConfigErrorKind::Invalid, problem)
    }

    fn empty(variable: &str) -> Self {
        Self::new(
            variable,
            ConfigErrorKind::Empty,
            "is set but empty (unset it to use the default)".to_owned(),
        )
    }

    fn live_requires(variable: &str) -> Self {
        Self::new(
            variable,
            ConfigErrorKind::Missing,
            "required when IG_PAGE_TOKEN or ACCOUNTS_FILE is set (a generated dev value \
             cannot work with Meta)"
                .to_owned(),
        )
    }

    /// The variable at fault.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// What is wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The rules error behind a [`ConfigErrorKind::Rules`] error.
    pub fn rules_error(&self) -> Option<&RulesError> {
        self.rules.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(pairs: &[(&str, &str)]) -> ConfigError {
        Config::from_vars(pairs.iter().copied()).unwrap_err()
    }

    #[test]
    fn only_a_generated_secret_is_published() {
        let configured = Config::from_vars([("IG_APP_SECRET", "real-secret")]).unwrap();
        assert_eq!(configured.publish_dev_secret().unwrap(), None);
        let dev = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
        let path = dev.publish_dev_secret().unwrap().unwrap();
        assert_eq!(path, dev_secret_path());
        // Other tests may publish their own generated secret concurrently; the file always
        // holds one whole generated secret, never a configured one.
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(!written.is_empty() && written != "real-secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o077,
                0
            );
        }
    }

    #[test]
    fn roles_parse_and_say_what_they_do() {
        assert_eq!(Role::from_name("Receiver"), Some(Role::Receiver));
        assert_eq!(Role::from_name("worker"), Some(Role::Worker));
        assert_eq!(Role::from_name("ALL"), Some(Role::All));
        assert_eq!(Role::from_name("both"), None);
        assert!(Role::Receiver.receives() && !Role::Receiver.works());
        assert!(!Role::Worker.receives() && Role::Worker.works());
        assert!(Role::All.receives() && Role::All.works());
    }

    #[test]
    fn the_streams_keep_the_bots_key_prefix_and_group() {
        let c = Config::from_vars([("STREAM_SHARDS", "4")]).unwrap();
        assert_eq!(c.stream.shards, 4);
        assert_eq!(c.stream.stream_key(3), "botkit:stream:3");
        assert_eq!(c.stream.lease_key(0), "botkit:lease:0");
        assert_eq!(c.stream.dead_letter_key(), "botkit:dead");
        assert_eq!(c.stream.workers_key(), "botkit:workers");
        assert_eq!(c.stream.dedup_key("k"), "botkit:dedup:k");
        assert_eq!(c.stream.group, "botkit-workers");
    }

    #[test]
    fn nothing_set_gives_the_embedded_defaults() {
        let c = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:3000".parse().unwrap());
        assert!(c.generated.app_secret && c.generated.verify_token);
        assert_eq!(c.app_secret.expose().len(), 32);
        assert!(c.verify_token.expose().starts_with("dev-"));
        assert!(c.sending.is_dry_run());
        assert_eq!(c.state, Backend::Memory);
        assert!(c.ai.api_key.is_none());
        assert_eq!(c.ai.base_url, "https://api.openai.com/v1");
        assert_eq!(c.ai.model, "gpt-4o");
        assert_eq!(c.ai.timeout, Duration::from_secs(8));
        assert_eq!(c.graph_api_base.as_str(), "https://graph.facebook.com/");
        assert_eq!(c.graph_timeout, Duration::from_secs(30));
        assert_eq!(c.max_event_age, Duration::from_secs(82_800));
        assert_eq!(c.conversation_ttl, Duration::from_secs(3600));
        assert_eq!(c.rules_source, RulesSource::Embedded);
        assert_eq!(c.rules.len(), 6);
        assert!(c.admin_token.is_none() && c.notify_webhook_url.is_none());

        // Two runs generate different dev values.
        let d = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
        assert_ne!(c.app_secret.expose(), d.app_secret.expose());

        let report = c.startup_report().join("\n");
        assert!(report.contains("http://127.0.0.1:3000/webhook"));
        assert!(report.contains(c.app_secret.expose()));
        assert!(report.contains(c.verify_token.expose()));
        assert!(report.contains("dry-run"));
    }

    #[test]
    fn everything_set_is_parsed() {
        let c = Config::from_vars([
            ("IG_APP_SECRET", "0123456789abcdef0123456789abcdef"),
            ("IG_VERIFY_TOKEN", "my verify token"),
            ("IG_PAGE_TOKEN", "EAAGtoken123"),
            ("IG_BUSINESS_ID", "17841400000000001"),
            ("GRAPH_API_BASE", "http://127.0.0.1:9999"),
            ("GRAPH_TIMEOUT_SECS", "5"),
            ("OPENAI_API_KEY", "sk-test-123"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:8888/v1/"),
            ("OPENAI_MODEL", "gpt-4o-mini"),
            ("OPENAI_TIMEOUT_SECS", "3"),
            ("REDIS_URL", "redis://:pw@127.0.0.1:6379/2"),
            ("CONVERSATION_TTL_SECS", "600"),
            ("BOT_ADMIN_TOKEN", "admin-token-0123456789"),
            (
                "NOTIFY_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/XYZ",
            ),
            ("MAX_EVENT_AGE_SECS", "3600"),
            ("PORT", "8080"),
            ("BIND_ADDR", "0.0.0.0"),
        ])
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.generated, Generated::default());
        assert_eq!(c.verify_token.expose(), "my verify token");
        let Sending::Live(accounts) = &c.sending else {
            panic!("expected live sending");
        };
        assert_eq!(
            accounts
                .token(&AccountId::new("17841400000000001"))
                .unwrap()
                .expose(),
            "EAAGtoken123"
        );
        assert_eq!(c.graph_api_base.as_str(), "http://127.0.0.1:9999/");
        assert_eq!(c.graph_timeout, Duration::from_secs(5));
        assert_eq!(c.ai.api_key.as_ref().unwrap().expose(), "sk-test-123");
        assert_eq!(c.ai.base_url, "http://127.0.0.1:8888/v1");
        assert_eq!(c.ai.model, "gpt-4o-mini");
        assert_eq!(c.ai.timeout, Duration::from_secs(3));
        assert_eq!(
            c.state,
            Backend::Redis(Secret::new("redis://:pw@127.0.0.1:6379/2"))
        );
        assert_eq!(c.conversation_ttl, Duration::from_secs(600));
        assert_eq!(c.max_event_age, Duration::from_secs(3600));
        assert!(c.admin_token.unwrap().matches("admin-token-0123456789"));

        // Debug output and the start-up report never show a configured secret.
        let c = Config::from_vars([
            ("IG_APP_SECRET", "SECRET-app-123"),
            ("IG_VERIFY_TOKEN", "SECRET-verify"),
            ("IG_PAGE_TOKEN", "SECRET-page"),
            ("IG_BUSINESS_ID", "17841400000000001"),
            ("OPENAI_API_KEY", "SECRET-openai"),
            ("REDIS_URL", "redis://:SECRET-pw@127.0.0.1/"),
            ("BOT_ADMIN_TOKEN", "SECRET-admin-0123456789"),
            ("NOTIFY_WEBHOOK_URL", "https://hooks.example/SECRET-hook"),
        ])
        .unwrap();
        let shown = format!("{c:?}\n{}", c.startup_report().join("\n"));
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn each_bad_value_names_its_variable_in_one_line() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (
                &[("PORT", "abc")],
                "PORT",
                r#"PORT: expected a port number 1-65535, got "abc""#,
            ),
            (
                &[("PORT", "0")],
                "PORT",
                r#"PORT: expected a port number 1-65535, got "0""#,
            ),
            (
                &[("PORT", "70000")],
                "PORT",
                r#"PORT: expected a port number 1-65535, got "70000""#,
            ),
            (
                &[("PORT", "")],
                "PORT",
                "PORT: is set but empty (unset it to use the default)",
            ),
            (&[("BIND_ADDR", "localhost")], "BIND_ADDR", ""),
            (
                &[("IG_APP_ID", "my-app")],
                "IG_APP_ID",
                r#"IG_APP_ID: expected the app id's digits, got "my-app""#,
            ),
            (&[("MAX_EVENT_AGE_SECS", "-1")], "MAX_EVENT_AGE_SECS", ""),
            (&[("MAX_EVENT_AGE_SECS", "1.5")], "MAX_EVENT_AGE_SECS", ""),
            (&[("OPENAI_TIMEOUT_SECS", "0")], "OPENAI_TIMEOUT_SECS", ""),
            (&[("GRAPH_TIMEOUT_SECS", "0")], "GRAPH_TIMEOUT_SECS", ""),
            (&[("GRAPH_TIMEOUT_SECS", "121")], "GRAPH_TIMEOUT_SECS", ""),
            (
                &[("CONVERSATION_TTL_SECS", "x")],
                "CONVERSATION_TTL_SECS",
                "",
            ),
            (
                &[("GRAPH_API_BASE", "graph.facebook.com")],
                "GRAPH_API_BASE",
                "",
            ),
            (
                &[("GRAPH_API_BASE", "https://graph.facebook.com/v25.0")],
                "GRAPH_API_BASE",
                "",
            ),
            (
                &[("GRAPH_API_BASE", "ftp://graph.facebook.com")],
                "GRAPH_API_BASE",
                "",
            ),
            (
                &[("OPENAI_BASE_URL", "api.openai.com")],
                "OPENAI_BASE_URL",
                "",
            ),
            (&[("OPENAI_MODEL", "gpt 4o")], "OPENAI_MODEL", ""),
            (&[("REDIS_URL", "localhost:6379")], "REDIS_URL", ""),
            (
                &[("NOTIFY_WEBHOOK_URL", "not a url")],
                "NOTIFY_WEBHOOK_URL",
                "",
            ),
            (&[("BOT_ADMIN_TOKEN", "tiny-tok")], "BOT_ADMIN_TOKEN", ""),
            (&[("IG_PAGE_TOKEN", "EAAG")], "IG_BUSINESS_ID", ""),
            (
                &[("IG_BUSINESS_ID", "17841400000000001")],
                "IG_PAGE_TOKEN",
                "",
            ),
            (
                &[("IG_PAGE_TOKEN", "EAAG"), ("IG_BUSINESS_ID", "my-shop")],
                "IG_BUSINESS_ID",
                "",
            ),
            (
                &[("IG_PAGE_TOKEN", "EAAG"), ("IG_BUSINESS_ID", "1784")],
                "IG_APP_SECRET",
                "",
            ),
            (
                &[
                    ("IG_PAGE_TOKEN", "EAAG"),
                    ("IG_BUSINESS_ID", "1784"),
                    ("IG_APP_SECRET", "abc"),
                ],
                "IG_VERIFY_TOKEN",
                "",
            ),
            (
                &[
                    ("IG_PAGE_TOKEN", "EAAG token\n"),
                    ("IG_BUSINESS_ID", "1784"),
                ],
                "IG_PAGE_TOKEN",
                "",
            ),
            (&[("IG_APP_SECRET", "abc\n")], "IG_APP_SECRET", ""),
            (&[("OPENAI_API_KEY", "sk-abc ")], "OPENAI_API_KEY", ""),
            (
                &[("RULES_FILE", "/nonexistent/rules.toml")],
                "RULES_FILE",
                "",
            ),
            (
                &[("ACCOUNTS_FILE", "/nonexistent/accounts.toml")],
                "ACCOUNTS_FILE",
                "",
            ),
        ];
        for (pairs, variable, exact) in cases {
            let e = err(pairs);
            assert_eq!(e.variable(), *variable, "{pairs:?} → {e}");
            let line = e.to_string();
            assert!(line.starts_with(&format!("{variable}: ")), "{line}");
            assert!(!line.contains('\n'), "{line:?}");
            if !exact.is_empty() {
                assert_eq!(line, *exact);
            }
            // No value of a secret variable is ever echoed.
            for (name, value) in pairs.iter() {
                if name.contains("TOKEN")
                    || name.contains("SECRET")
                    || name.contains("KEY")
                    || name.contains("URL")
                {
                    assert!(!line.contains(value.trim()), "{line} echoes {name}");
                }
            }
        }
    }

    #[test]
    fn later_pairs_win() {
        let c = Config::from_vars([("PORT", "abc"), ("PORT", "4000")]).unwrap();
        assert_eq!(c.listen.port(), 4000);
    }
}
