//! Shared logic of the `meta-webhooks` example bots (`axum-bot`, `actix-bot`).
//!
//! They answer Instagram, Messenger and WhatsApp (the Cloud API, `WA_PHONE_NUMBER_ID` and
//! `WA_TOKEN`) on one webhook URL: see [`bot`] for the behaviour per event kind and
//! channel, and `docs/WHATSAPP.md` for the WhatsApp setup.
//!
//! The bots are thin framework glue; everything they have in common lives here, as a
//! library with its own tests:
//!
//! | Module | What |
//! |---|---|
//! | [`config`] | [`Config::from_env`]: every variable, defaults, one-line errors, embedded dev defaults, multiple accounts |
//! | [`rules`] | keyword/pattern rules from TOML, compiled once into a `RegexSet`; English, Spanish and Arabic defaults |
//! | [`state`] | conversation records (active / handoff, history, last inbound time) in memory or Redis, updated atomically |
//! | [`ai`] | GPT fallback through `async-openai`, with timeout, `[HANDOFF]` detection and canned replies |
//! | [`notify`] | Slack-compatible escalation notifications |
//! | [`metrics`] | the `/metrics` registry (`prometheus-client`), Prometheus text format |
//! | [`serve`] | [`ServeConfig::from_env`]: the HTTP serving limits (header, body and idle timeouts, connection cap, body limit) |
//! | [`tokens`] | access token upkeep: expiry in the log and `/metrics`, refresh of Instagram Login tokens, refreshed tokens kept in Redis |
//!
//! A bot's handling of one inbound text message, put together from these parts:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::SystemTime;
//! use bot_kit::{Config, ConversationKey, ConversationStore, GptFallback, HistoryMessage, Store, StoreOptions};
//! use bot_kit::rules::Action;
//!
//! let config = Config::from_vars([("OPENAI_MODEL", "gpt-4o")])?; // tests; bots use from_env()
//! let store = Store::open(&config.state, StoreOptions::default().ttl(config.conversation_ttl)).await?;
//! let gpt = GptFallback::new(config.ai.clone())?;
//!
//! let key = ConversationKey::new("17841400000000000", "6934581207719432");
//! let conversation = store.append(&key, &[HistoryMessage::user("¿Cuánto cuesta?", SystemTime::now())]).await?;
//! if !conversation.is_handoff() {
//!     let reply = match config.rules.find("¿Cuánto cuesta?").map(|r| r.action()) {
//!         Some(Action::Handoff { text }) => {
//!             store.set_handoff(&key, "rule").await?;
//!             Some(text.clone())
//!         }
//!         Some(action) => Some(action.text().to_owned()),
//!         // (send the typing indicator first)
//!         None => gpt.reply(&conversation.history).await.text().map(str::to_owned),
//!     };
//!     assert!(reply.unwrap().contains("prices"));
//! }
//! # Ok(()) }
//! ```

pub mod ai;
pub mod bot;
pub mod config;
pub mod metrics;
pub mod notify;
pub mod rules;
pub mod secret;
pub mod serve;
pub mod state;
pub mod tokens;

pub use ai::{AiConfig, AiOutcome, GptFallback};
pub use bot::{Bot, BotError, BotErrorKind, BotHandler, BotSink, Replier, Reply, Running};
pub use config::{Config, ConfigError, Role};
pub use metrics::Metrics;
pub use notify::{Escalation, Notifier};
pub use rules::{Action, RuleSet, RulesError};
pub use secret::Secret;
pub use serve::{ServeConfig, ServeConfigError};
pub use state::{
    Conversation, ConversationKey, ConversationState, ConversationStore, HistoryMessage,
    MemoryStore, RedisStore, ResolveOutcome, Store, StoreError, StoreOptions,
};
pub use tokens::{LiveTokens, TokenKeeper};

/// Resolves on the first SIGINT (Ctrl-C) or, on Unix, SIGTERM: the cue for a graceful
/// shutdown (stop accepting, finish in-flight work, see [`Running::shutdown`]).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

/// What both bot binaries do first: logs to stderr filtered by `RUST_LOG` (default
/// `info`), coloured only when stderr is a terminal (a file or a pipe gets plain lines),
/// then the configuration from the environment. A bad configuration is printed as its
/// one-line error and becomes exit code 2.
///
/// # Errors
///
/// The exit code to end the process with when the configuration is invalid.
pub fn init_from_env() -> Result<Config, std::process::ExitCode> {
    use std::io::IsTerminal as _;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    Config::from_env().map_err(|error| {
        eprintln!("configuration error: {error}");
        std::process::ExitCode::from(2)
    })
}
