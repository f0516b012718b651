//! The bot itself: one [`Bot`] built from a [`Config`], handling classified events.
//!
//! [`Bot::handle`] implements the behaviour per event kind:
//!
//! | Event | What the bot does |
//! |---|---|
//! | `text`, `quick_reply` | rules first (a `handoff` rule escalates), else a typing indicator and the GPT fallback |
//! | `story_reply` | an intent-based reply: buy/price, where/ship, love/amazing, otherwise thanks |
//! | `story_mention` | thanks and a repost permission request; the story id and CDN URL are recorded (not the media) |
//! | `media` | a short acknowledgement |
//! | `comment`, `live_comment` matching a rule (Instagram, or a Facebook Page post) | one private reply DM to the commenter (comment-to-DM); never to the business's own comments |
//! | `policy_enforcement` | a warning (block or warning) or info (unblock) log line, counted in `botkit_policy_enforcements_total` |
//! | `echo` this bot did not send | a human answered from the inbox: the conversation goes to HANDOFF (told apart by `app_id` with `IG_APP_ID`, else by mid and text) |
//! | anything else (reaction, read, delivery, deleted, edit, feed, unknown, …) | nothing |
//!
//! On WhatsApp (`object: "whatsapp_business_account"`, the same URL), replies go through
//! the Cloud API from the business number (`POST /{phone-number-id}/messages`,
//! `WA_TOKEN`), and every message the bot handles is first marked read (with the typing
//! indicator when a reply follows):
//!
//! | WhatsApp event | What the bot does |
//! |---|---|
//! | `text`, `quick_reply` (button and list replies), and `ad_referral` / `product_referral` with text | as an Instagram text: rules, else the GPT fallback, handoff |
//! | `media` (image, video, audio, document, sticker, location, contacts) | the short acknowledgement |
//! | `order` | recorded in the conversation and marked read; no reply (a human handles the cart) |
//! | `status` (sent, delivered, read, failed) | nothing: counted in `botkit_events_total{kind="status"}` and logged at debug level |
//! | reaction, unknown (system, unsupported, …) | nothing |
//!
//! A WhatsApp conversation is keyed by the business number's `phone_number_id` and the
//! person's `wa_id` (`/admin/conversations/{phone_number_id}/{wa_id}/resolve` resolves
//! it); a Graph node id names one node, so it never meets an Instagram account's key.
//! A redelivered message is handled once: the library's dedup key is its wamid (a status's
//! is its wamid and status).
//!
//! A conversation in HANDOFF gets no automatic reply until it is resolved
//! ([`Bot::admin_resolve`]) or its record expires (`CONVERSATION_TTL_SECS`); its WhatsApp
//! messages are still marked read (without the typing indicator). Events older than
//! `MAX_EVENT_AGE_SECS` are recorded and not answered (nor marked read), and no reply is
//! sent once the 24 h messaging window of the person's message has closed (on WhatsApp
//! only a template message could be sent then; the bot sends none).
//!
//! The bot is HTTP-framework independent: [`Bot::start`] gives the [`BotSink`] that
//! the webhook endpoint hands verified deliveries to, and [`Bot::health`],
//! [`Bot::metrics_text`] and [`Bot::admin_resolve`] answer the other routes as
//! [`Reply`] values that each framework turns into a response.

mod admin;
mod dispatch;
mod error;
mod health;
mod replier;
mod running;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use meta_webhooks::event::Event;
use meta_webhooks::sink::MemoryDedup;

pub use self::admin::bearer_matches;
use self::dispatch::SentMids;
pub use self::dispatch::{
    HANDOFF_REPLY, MEDIA_REPLY, STORY_MENTION_REPLY, STORY_REPLY_BUY, STORY_REPLY_LOVE,
    STORY_REPLY_SHIP, STORY_REPLY_THANKS, story_reply_intent,
};
pub use self::error::{BotError, BotErrorKind};
pub use self::replier::Replier;
pub use self::running::{BotHandler, BotSink, Running};
use crate::ai::GptFallback;
use crate::config::{Config, Role, StreamConfig};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::rules::RuleSet;
use crate::secret::Secret;
use crate::state::{Backend, Store, StoreOptions};

/// A framework-independent HTTP answer: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl Reply {
    fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// The example bot: rules, GPT fallback, conversation state, handoff, replies. Cheap to
/// clone (shared inside).
#[derive(Clone)]
pub struct Bot {
    inner: Arc<Inner>,
}

struct Inner {
    rules: RuleSet,
    store: Store,
    gpt: GptFallback,
    notifier: Notifier,
    metrics: Arc<Metrics>,
    replier: Replier,
    dedup: MemoryDedup,
    max_event_age: Duration,
    admin_token: Option<Secret>,
    sent_mids: Mutex<SentMids>,
    app_id: Option<String>,
    backend: Backend,
    role: Role,
    stream: StreamConfig,
    shutdown_timeout: Duration,
    /// The app token for `debug_token` ([`crate::tokens::app_token`]).
    token_app: Option<meta_webhooks::client::AppToken>,
    /// The WhatsApp app's token for `debug_token` ([`crate::tokens::whatsapp_app_token`]).
    wa_token_app: Option<meta_webhooks::client::AppToken>,
}

tokio::task_local! {
    /// When the delivery being handled was accepted (for the reply latency).
    static ACCEPTED_AT: SystemTime;
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot")
            .field("store", &self.inner.store.backend_name())
            .field("replier", &self.inner.replier)
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// Builds the bot: opens the store (memory, or Redis at `REDIS_URL`) and the dedup
    /// store next to it, the GPT fallback, the notifier and the replier.
    ///
    /// # Errors
    ///
    /// [`BotError`] when Redis cannot be reached or a client cannot be built.
    pub async fn from_config(config: &Config) -> Result<Self, BotError> {
        let metrics = Arc::new(Metrics::new());
        let store = Store::open(
            &config.state,
            StoreOptions::default().ttl(config.conversation_ttl),
        )
        .await?;
        // With Redis the stream workers deduplicate (see `meta_webhooks::redis`); the
        // in-memory queue deduplicates in memory.
        let dedup = MemoryDedup::new();
        let gpt = GptFallback::new(config.ai.clone())
            .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))?
            .with_metrics(Arc::clone(&metrics));
        let notifier = Notifier::new(
            config.notify_webhook_url.clone(),
            crate::notify::DEFAULT_TIMEOUT,
        )
        .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))?;
        let replier = Replier::from_config(config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                rules: config.rules.clone(),
                store,
                gpt,
                notifier,
                metrics,
                replier,
                dedup,
                max_event_age: config.max_event_age,
                admin_token: config.admin_token.clone(),
                sent_mids: Mutex::new(SentMids::default()),
                app_id: config.app_id.clone(),
                backend: config.state.clone(),
                role: config.role,
                stream: config.stream.clone(),
                shutdown_timeout: config.shutdown_timeout,
                token_app: crate::tokens::app_token(config),
                wa_token_app: crate::tokens::whatsapp_app_token(config),
            }),
        })
    }

    /// The metrics this bot records.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The conversation store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This process' role.
    pub fn role(&self) -> Role {
        self.inner.role
    }

    /// Handles one event of a delivery accepted at `accepted_at` (for the
    /// `botkit_reply_latency_seconds` histogram); otherwise as [`Bot::handle`].
    ///
    /// # Errors
    ///
    /// As [`Bot::handle`].
    pub async fn handle_accepted(
        &self,
        event: &Event,
        accepted_at: SystemTime,
    ) -> Result<(), BotError> {
        ACCEPTED_AT.scope(accepted_at, self.handle(event)).await
    }

    /// Handles one event (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`BotError`] when the store or the Send API failed.
    pub async fn handle(&self, event: &Event) -> Result<(), BotError> {
        let kind = event.kind();
        self.inner.metrics.record_event(kind.as_str());
        let result = self.dispatch(event, kind).await;
        if let Err(error) = &result {
            let metrics = &self.inner.metrics;
            metrics.record_error(error.kind().as_str());
            if let Some(send) = error.send_kind() {
                metrics.record_send_failure(send.as_str());
            }
            if let Some(account) = event.account().filter(|_| error.is_token_rejected())
                && metrics.pause_account(account.as_str())
            {
                tracing::error!(
                    account = %account,
                    "Meta rejected this account's access token: its replies are paused \
                     until the bot restarts with a new token; other accounts go on; {}",
                    crate::tokens::DOCTOR_ADVICE
                );
            }
            tracing::warn!(kind = kind.as_str(), %error, "event handling failed");
        }
        result
    }
}
