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
mod ai;
mod behaviour;
mod env;
mod error;
mod meta;
mod report;
mod server;
mod state;
mod stream;
#[cfg(test)]
mod tests;
pub mod vars;

use std::net::SocketAddr;
use std::time::Duration;

use meta_webhooks::{AppSecret, Verifier, VerifyToken};
use url::Url;

pub use self::accounts::{Accounts, Sending, WhatsAppNumber};
pub use self::behaviour::{DEFAULT_MAX_EVENT_AGE, RulesSource};
use self::env::Env;
pub use self::error::{ConfigError, ConfigErrorKind};
pub use self::meta::{DEFAULT_GRAPH_API_BASE, DEFAULT_GRAPH_TIMEOUT, Generated};
pub use self::report::dev_secret_path;
pub use self::server::{
    DEFAULT_ADMIN_ADDR, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT, MIN_ADMIN_TOKEN_LEN,
};
pub use self::stream::{Role, STREAM_GROUP, STREAM_KEY_PREFIX};
use crate::ai::AiConfig;
use crate::rules::RuleSet;
use crate::secret::Secret;
use crate::state::Backend;
pub use meta_webhooks::redis::StreamConfig;

/// The bot's configuration. Its `Debug` output holds no secret, and its URLs are
/// redacted ([`redact_url`](crate::secret::redact_url)).
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Listen address: `BIND_ADDR`:`PORT`.
    pub listen: SocketAddr,
    /// Admin listen address, `ADMIN_ADDR` (default `127.0.0.1:3001`): `/admin`, `/metrics`
    /// and `/healthz`. The public `listen` address serves `/webhook` and `/healthz` only.
    pub admin_listen: SocketAddr,
    /// `IG_APP_SECRET` (or a generated dev value); for a bot sending live on WhatsApp only,
    /// `WA_APP_SECRET` when `IG_APP_SECRET` is unset. [`Config::verifier`] holds it.
    pub app_secret: AppSecret,
    /// `WA_APP_SECRET`, the app secret of the app with the WhatsApp product when it is not
    /// the same as `app_secret`: [`Config::verifier`] accepts deliveries signed with either.
    pub wa_app_secret: Option<AppSecret>,
    /// `IG_VERIFY_TOKEN` (or a generated dev value).
    pub verify_token: VerifyToken,
    /// Which of the two were generated.
    pub generated: Generated,
    /// `IG_APP_ID`: this bot's Meta app id, to recognize its own echoes by `app_id`.
    pub app_id: Option<String>,
    /// `WA_APP_ID`: the app with the WhatsApp product, whose app token checks `WA_TOKEN`
    /// with `debug_token` ([`crate::tokens`]); when unset, `IG_APP_ID` if `WA_APP_SECRET` is
    /// unset (or the same as `IG_APP_SECRET`: one app), else `None`.
    pub wa_app_id: Option<String>,
    /// Dry-run or live, with the accounts.
    pub sending: Sending,
    /// `WA_PHONE_NUMBER_ID` + `WA_TOKEN`: the WhatsApp number replies are sent from;
    /// `None` prints WhatsApp replies instead (dry run).
    pub whatsapp: Option<WhatsAppNumber>,
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

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("app_secret", &self.app_secret)
            .field("wa_app_secret", &self.wa_app_secret)
            .field("verify_token", &self.verify_token)
            .field("generated", &self.generated)
            .field("app_id", &self.app_id)
            .field("wa_app_id", &self.wa_app_id)
            .field("sending", &self.sending)
            .field("whatsapp", &self.whatsapp)
            .field(
                "graph_api_base",
                &crate::secret::redact_url(self.graph_api_base.as_str()),
            )
            .field("graph_timeout", &self.graph_timeout)
            .field("ai", &self.ai)
            .field("state", &self.state)
            .field("conversation_ttl", &self.conversation_ttl)
            .field("rules", &self.rules)
            .field("rules_source", &self.rules_source)
            .field("admin_token", &self.admin_token)
            .field("notify_webhook_url", &self.notify_webhook_url)
            .field("max_event_age", &self.max_event_age)
            .field("role", &self.role)
            .field("stream", &self.stream)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

impl Config {
    /// The signature verifier of the webhook endpoint: `app_secret` and, when set,
    /// `wa_app_secret`, so one URL takes Instagram, Messenger and WhatsApp deliveries
    /// signed by either app.
    ///
    /// ```
    /// use bot_kit::Config;
    /// use meta_webhooks::test_util::sign;
    ///
    /// let config = Config::from_vars([
    ///     ("IG_APP_SECRET", "instagram-app-secret"),
    ///     ("WA_APP_SECRET", "whatsapp-app-secret"),
    /// ])?;
    /// let verifier = config.verifier();
    /// assert_eq!(verifier.secret_count(), 2);
    /// let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    /// assert!(verifier.verify(body, &sign("whatsapp-app-secret", body)).is_ok());
    /// assert!(verifier.verify(body, &sign("instagram-app-secret", body)).is_ok());
    /// assert!(verifier.verify(body, &sign("another-secret", body)).is_err());
    /// # Ok::<(), bot_kit::ConfigError>(())
    /// ```
    pub fn verifier(&self) -> Verifier {
        let verifier = Verifier::new(self.app_secret.clone());
        match &self.wa_app_secret {
            Some(secret) => verifier.with_secret(secret.clone()),
            None => verifier,
        }
    }

    /// Where WhatsApp calls go: `GRAPH_API_BASE`, except when that is Instagram's host
    /// (`graph.instagram.com`, for Instagram Login tokens), which serves no WhatsApp API:
    /// then [`DEFAULT_GRAPH_API_BASE`] (`graph.facebook.com`), where the Cloud API lives.
    ///
    /// ```
    /// use bot_kit::Config;
    ///
    /// let config = Config::from_vars([("GRAPH_API_BASE", "https://graph.instagram.com")])?;
    /// assert_eq!(config.whatsapp_graph_base().as_str(), "https://graph.facebook.com/");
    /// let config = Config::from_vars([("GRAPH_API_BASE", "http://127.0.0.1:9999")])?;
    /// assert_eq!(config.whatsapp_graph_base(), config.graph_api_base);
    /// # Ok::<(), bot_kit::ConfigError>(())
    /// ```
    pub fn whatsapp_graph_base(&self) -> Url {
        if self.graph_api_base.host_str() == Some(meta::INSTAGRAM_GRAPH_HOST)
            && let Ok(url) = Url::parse(DEFAULT_GRAPH_API_BASE)
        {
            return url;
        }
        self.graph_api_base.clone()
    }

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
        let listen = server::listen(&env)?;
        let admin_listen = server::admin_listen(&env, listen)?;
        let sending = accounts::sending(&env)?;
        let whatsapp = accounts::whatsapp(&env)?;
        let live = !sending.is_dry_run() || whatsapp.is_some();
        let whatsapp_only = sending.is_dry_run() && whatsapp.is_some();
        let meta::Secrets {
            app_secret,
            wa_app_secret,
            verify_token,
            generated,
        } = meta::secrets(&env, live, whatsapp_only)?;
        let app_id = meta::app_id(&env)?;
        let wa_app_id = meta::wa_app_id(&env, app_id.as_deref())?;
        let (graph_api_base, graph_timeout) = meta::graph(&env)?;
        let ai = ai::ai(&env)?;
        let (state, conversation_ttl) = state::state(&env)?;
        let (rules, rules_source) = behaviour::rules(&env)?;
        let admin_token = server::admin_token(&env)?;
        let notify_webhook_url = behaviour::notify_webhook_url(&env)?;
        let max_event_age = behaviour::max_event_age(&env)?;
        let role = stream::role(&env, &state)?;
        let stream = stream::stream(&env)?;
        let shutdown_timeout = server::shutdown_timeout(&env)?;

        Ok(Self {
            listen,
            admin_listen,
            app_secret,
            wa_app_secret,
            verify_token,
            generated,
            app_id,
            wa_app_id,
            sending,
            whatsapp,
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
}
