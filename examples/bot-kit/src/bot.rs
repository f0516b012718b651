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
//! | `comment`, `live_comment` matching a rule | one private reply DM to the commenter (comment-to-DM) |
//! | `echo` this bot did not send | a human answered from the inbox: the conversation goes to HANDOFF (told apart by `app_id` with `IG_APP_ID`, else by mid and text) |
//! | anything else (reaction, read, deleted, unknown, …) | nothing |
//!
//! A conversation in HANDOFF gets no automatic reply until it is resolved
//! ([`Bot::admin_resolve`]) or its record expires (`CONVERSATION_TTL_SECS`). Events older
//! than `MAX_EVENT_AGE_SECS` are recorded and not answered.
//!
//! The bot is HTTP-framework independent: [`Bot::start`] gives the [`BotSink`] that
//! the webhook endpoint hands verified deliveries to, and [`Bot::health`],
//! [`Bot::metrics_text`] and [`Bot::admin_resolve`] answer the other routes as
//! [`Reply`] values that each framework turns into a response.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use meta_webhooks::client::{GraphClient, GraphError, GraphErrorKind, Message, SenderAction};
use meta_webhooks::event::{Event, EventData, EventKind, Participant};
use meta_webhooks::payload::{AccountId, CommentId, Timestamp, UserId};
use meta_webhooks::redis::{StreamSink, StreamWorkers, Streams};
use meta_webhooks::sink::{Batch, Handler, MemoryDedup, MemorySink, Retry, Sink, SinkError};
use thiserror::Error;

use crate::ai::{AiOutcome, GptFallback};
use crate::config::{Accounts, Config, Role, Sending, StreamConfig};
use crate::metrics::Metrics;
use crate::notify::{Escalation, Notifier};
use crate::rules::{Action, RuleSet};
use crate::secret::Secret;
use crate::state::{
    Backend, ConversationKey, ConversationStore, HistoryMessage, ResolveOutcome, Store, StoreError,
    StoreOptions,
};

/// What the bot tells a person when a human takes over.
pub const HANDOFF_REPLY: &str =
    "Thanks! A member of our team will follow up with you here shortly.";

/// The acknowledgement of a photo, video, audio or shared post.
pub const MEDIA_REPLY: &str = "Thanks for sharing! We got it 🙌";

/// The answer to a story mention: thanks and a repost permission request.
pub const STORY_MENTION_REPLY: &str = "Thank you so much for mentioning us in your story! 💜 Would you mind if we repost it on our account? Just reply YES to let us know.";

/// Story reply intents: buy / price.
pub const STORY_REPLY_BUY: &str =
    "Glad you like it! You can order it in our shop — want us to send you the link and the price?";
/// Story reply intents: where / ship.
pub const STORY_REPLY_SHIP: &str =
    "We ship worldwide! Tell us your country and we'll let you know the delivery time and cost.";
/// Story reply intents: love / amazing.
pub const STORY_REPLY_LOVE: &str = "Thank you so much! 💜 That made our day.";
/// Story reply default.
pub const STORY_REPLY_THANKS: &str = "Thanks for your reply to our story! 😊";

/// How many message ids this process remembers having sent (to recognize its echoes).
const SENT_MIDS_CAP: usize = 10_000;

/// How long a `/healthz` or admission check waits for the store.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Where replies go: Meta's Send API, or stdout in dry-run mode.
#[derive(Debug, Clone)]
pub enum Replier {
    /// Print each reply instead of sending it.
    DryRun,
    /// Send through the Send API, each account with its own token.
    Live {
        /// The process-wide client.
        client: GraphClient,
        /// The served accounts and their tokens.
        accounts: Accounts,
    },
}

impl Replier {
    /// The replier the configuration asks for.
    ///
    /// # Errors
    ///
    /// [`BotError`] ([`BotErrorKind::Config`]) when the Send API client cannot be built
    /// (e.g. an invalid `GRAPH_API_BASE`).
    pub fn from_config(config: &Config) -> Result<Self, BotError> {
        match &config.sending {
            Sending::DryRun => Ok(Self::DryRun),
            Sending::Live(accounts) => {
                let client = GraphClient::builder()
                    .base_url(config.graph_api_base.as_str().trim_end_matches('/'))
                    .timeout(config.graph_timeout)
                    .build()
                    .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))?;
                Ok(Self::Live {
                    client,
                    accounts: accounts.clone(),
                })
            }
        }
    }

    fn account(
        &self,
        account: &AccountId,
    ) -> Result<Option<meta_webhooks::client::Account>, BotError> {
        match self {
            Self::DryRun => Ok(None),
            Self::Live { client, accounts } => match accounts.token(account) {
                Some(token) => Ok(Some(client.account(account.clone(), token.clone()))),
                None => Err(BotError::new(
                    BotErrorKind::UnknownAccount,
                    format!("no token for account {account}"),
                )),
            },
        }
    }

    /// Sends (or prints) a text reply; returns the sent message id when Meta gave one.
    ///
    /// # Errors
    ///
    /// [`BotError`] when the account is not served or the Send API failed.
    pub async fn text(
        &self,
        account: &AccountId,
        to: &UserId,
        text: &str,
    ) -> Result<Option<String>, BotError> {
        match self.account(account)? {
            None => {
                println!("[dry-run] reply to {to} via {account}: {text}");
                Ok(None)
            }
            Some(acc) => {
                let sent = acc.send_text(to, text).await.map_err(BotError::send)?;
                Ok(sent.message_id.map(|m| m.as_str().to_owned()))
            }
        }
    }

    /// Shows (or prints) the typing indicator.
    ///
    /// # Errors
    ///
    /// [`BotError`] when the account is not served or the Send API failed.
    pub async fn typing(&self, account: &AccountId, to: &UserId) -> Result<(), BotError> {
        match self.account(account)? {
            None => {
                println!("[dry-run] typing_on to {to} via {account}");
                Ok(())
            }
            Some(acc) => acc
                .sender_action(to, &SenderAction::TypingOn)
                .await
                .map_err(BotError::send),
        }
    }

    /// Sends (or prints) a private reply DM to a comment's author.
    ///
    /// # Errors
    ///
    /// [`BotError`] when the account is not served or the Send API failed.
    pub async fn private_reply(
        &self,
        account: &AccountId,
        comment: &CommentId,
        text: &str,
    ) -> Result<Option<String>, BotError> {
        match self.account(account)? {
            None => {
                println!("[dry-run] private reply to comment {comment} via {account}: {text}");
                Ok(None)
            }
            Some(acc) => {
                let message = Message::text(text).map_err(|e| BotError::send(e.into()))?;
                let sent = acc
                    .private_reply(comment, &message)
                    .await
                    .map_err(BotError::send)?;
                Ok(sent.message_id.map(|m| m.as_str().to_owned()))
            }
        }
    }
}

/// What went wrong while handling an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BotErrorKind {
    /// The conversation store failed.
    Store,
    /// The Send API failed.
    Send,
    /// The event belongs to an account this process has no token for.
    UnknownAccount,
    /// The bot could not be built from its configuration.
    Config,
}

impl BotErrorKind {
    /// A short label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Send => "send",
            Self::UnknownAccount => "unknown_account",
            Self::Config => "config",
        }
    }
}

/// A failure of [`Bot::handle`] or of building a [`Bot`]. Carries no secrets.
#[derive(Debug, Clone, Error)]
#[error("{}: {detail}", kind.as_str())]
pub struct BotError {
    kind: BotErrorKind,
    detail: String,
    send: Option<GraphErrorKind>,
}

impl BotError {
    pub(crate) fn new(kind: BotErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            send: None,
        }
    }

    fn send(error: GraphError) -> Self {
        Self {
            kind: BotErrorKind::Send,
            detail: error.to_string(),
            send: Some(error.kind()),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> BotErrorKind {
        self.kind
    }

    /// For [`BotErrorKind::Send`], how the Send API failed.
    pub fn send_kind(&self) -> Option<GraphErrorKind> {
        self.send
    }

    /// `true` for [`BotErrorKind::Store`].
    pub fn is_store(&self) -> bool {
        self.kind == BotErrorKind::Store
    }

    /// `true` when handling the event again later may succeed without acting twice: the
    /// state store failed, or the Send API failed retryably (rate limits, documented
    /// transient errors, failures before the request left — never an unknown outcome).
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            BotErrorKind::Store => true,
            BotErrorKind::Send => self.send.is_some_and(GraphErrorKind::is_retryable),
            _ => false,
        }
    }

    /// `true` when Meta rejected the account's access token (code 190/102) or the client
    /// refused to use a token Meta had rejected.
    pub fn is_token_rejected(&self) -> bool {
        self.send == Some(GraphErrorKind::Auth)
    }
}

impl From<StoreError> for BotError {
    fn from(error: StoreError) -> Self {
        Self::new(BotErrorKind::Store, error.to_string())
    }
}

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
}

tokio::task_local! {
    /// When the delivery being handled was accepted (for the reply latency).
    static ACCEPTED_AT: SystemTime;
}

/// Who sent an echo, as far as its `app_id` tells ([`Bot::echo_sender`]).
enum EchoSender {
    /// This bot's app.
    ThisApp,
    /// Another app: the inbox, where a human typed it, or another tool.
    OtherApp,
    /// No `app_id` on the echo, or no `IG_APP_ID` configured.
    Unknown,
}

#[derive(Default)]
struct SentMids {
    set: HashSet<String>,
    order: VecDeque<String>,
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

    /// Starts what this process' role (`BOT_ROLE`) and backend ask for and returns the
    /// [`Running`] handle, whose [`sink`](Running::sink) the webhook endpoint hands
    /// verified deliveries to. Call from within a Tokio runtime.
    ///
    /// - Without Redis: an in-memory queue ([`MemorySink`]) with workers calling
    ///   [`Bot::handle`] (dedup in memory). Not durable: a crash loses what was queued.
    /// - With Redis: receivers ([`Role::Receiver`], [`Role::All`]) queue in Redis Streams
    ///   ([`StreamSink`]); workers ([`Role::Worker`], [`Role::All`]) run [`StreamWorkers`]
    ///   calling [`Bot::handle_accepted`]. The hand-off's counters show in `/metrics`.
    ///
    /// # Errors
    ///
    /// [`BotError`] outside a Tokio runtime or when Redis cannot be reached.
    pub async fn start(&self) -> Result<Running, BotError> {
        let inner = &self.inner;
        let (sink, workers, streams) = match &inner.backend {
            Backend::Memory => {
                let queue = MemorySink::builder()
                    .dedup(inner.dedup.clone())
                    .start(BotHandler { bot: self.clone() })
                    .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))?;
                (SinkKind::Memory(queue), None, None)
            }
            Backend::Redis(url) => {
                let stream_error = |e: meta_webhooks::redis::StreamError| {
                    BotError::new(BotErrorKind::Store, e.to_string())
                };
                let streams = Streams::builder(url.expose())
                    .config(inner.stream.clone())
                    .connect()
                    .await
                    .map_err(stream_error)?;
                inner.metrics.observe_stream(streams.clone());
                let sink = if inner.role.receives() {
                    SinkKind::Stream(streams.sink())
                } else {
                    SinkKind::Off
                };
                let workers = if inner.role.works() {
                    Some(
                        streams
                            .start_workers(BotHandler { bot: self.clone() })
                            .await
                            .map_err(stream_error)?,
                    )
                } else {
                    None
                };
                (sink, workers, Some(streams))
            }
        };
        Ok(Running {
            sink: BotSink {
                inner: Arc::new(sink),
                bot: self.clone(),
            },
            workers,
            streams,
            shutdown_timeout: inner.shutdown_timeout,
        })
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
                     until the bot restarts with a new token; other accounts go on"
                );
            }
            tracing::warn!(kind = kind.as_str(), %error, "event handling failed");
        }
        result
    }

    async fn dispatch(&self, event: &Event, kind: EventKind) -> Result<(), BotError> {
        let Some(account) = event.account().cloned() else {
            return Ok(());
        };
        if kind == EventKind::Echo {
            return self.echo(&account, event).await;
        }
        let stale = event.is_older_than(self.inner.max_event_age, SystemTime::now());
        match kind {
            EventKind::Text | EventKind::QuickReply => {
                let (Some(user), Some(text)) =
                    (event.sender().and_then(Participant::user_id), event.text())
                else {
                    return Ok(());
                };
                self.text(&account, user, text, event_time(event), stale)
                    .await
            }
            EventKind::StoryReply => {
                let Some(user) = event.sender().and_then(Participant::user_id) else {
                    return Ok(());
                };
                let text = event.text().unwrap_or_default();
                let reply = story_reply_intent(text);
                self.simple(
                    &account,
                    user,
                    &format!("[story reply] {text}"),
                    reply,
                    event_time(event),
                    stale,
                    "story_reply",
                )
                .await
            }
            EventKind::StoryMention => {
                let Some(user) = event.sender().and_then(Participant::user_id) else {
                    return Ok(());
                };
                let (id, url) = story_mention_ref(event);
                tracing::info!(
                    story_id = id.as_deref().unwrap_or("-"),
                    "story mention recorded"
                );
                let note = format!(
                    "[story mention] id={} url={}",
                    id.as_deref().unwrap_or("-"),
                    url.as_deref().unwrap_or("-")
                );
                self.simple(
                    &account,
                    user,
                    &note,
                    STORY_MENTION_REPLY,
                    event_time(event),
                    stale,
                    "story_mention",
                )
                .await
            }
            EventKind::Media => {
                let Some(user) = event.sender().and_then(Participant::user_id) else {
                    return Ok(());
                };
                self.simple(
                    &account,
                    user,
                    "[media]",
                    MEDIA_REPLY,
                    event_time(event),
                    stale,
                    "media",
                )
                .await
            }
            EventKind::Comment | EventKind::LiveComment => {
                self.comment(&account, event, stale).await
            }
            _ => Ok(()),
        }
    }

    async fn text(
        &self,
        account: &AccountId,
        user: &UserId,
        text: &str,
        at: SystemTime,
        stale: bool,
    ) -> Result<(), BotError> {
        let key = ConversationKey::new(account.clone(), user.clone());
        let conversation = self
            .inner
            .store
            .append(&key, &[HistoryMessage::user(text, at)])
            .await?;
        if stale {
            tracing::info!("event older than MAX_EVENT_AGE_SECS: recorded, not answered");
            return Ok(());
        }
        if conversation.is_handoff() {
            tracing::debug!("conversation in handoff: no auto-reply");
            return Ok(());
        }
        match self
            .inner
            .rules
            .find(text)
            .map(|rule| (rule.id(), rule.action()))
        {
            Some((id, Action::Handoff { text: reply })) => {
                let id = id.to_owned();
                let reply = reply.clone();
                self.escalate(&key, &id, text, &reply).await
            }
            Some((_, action)) => {
                let reply = action.text().to_owned();
                self.send(&key, &reply, "rule").await
            }
            None => {
                if let Err(error) = self.inner.replier.typing(account, user).await {
                    tracing::warn!(%error, "typing indicator failed");
                }
                let outcome = self.inner.gpt.reply(&conversation.history).await;
                match outcome {
                    AiOutcome::Handoff => self.escalate(&key, "gpt", text, HANDOFF_REPLY).await,
                    other => match other.text() {
                        Some(reply) => {
                            let reply = reply.to_owned();
                            self.send(&key, &reply, &format!("gpt_{}", other.label()))
                                .await
                        }
                        None => Ok(()),
                    },
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments, reason = "internal helper")]
    async fn simple(
        &self,
        account: &AccountId,
        user: &UserId,
        note: &str,
        reply: &str,
        at: SystemTime,
        stale: bool,
        source: &str,
    ) -> Result<(), BotError> {
        let key = ConversationKey::new(account.clone(), user.clone());
        let conversation = self
            .inner
            .store
            .append(&key, &[HistoryMessage::user(note, at)])
            .await?;
        if stale || conversation.is_handoff() {
            return Ok(());
        }
        self.send(&key, reply, source).await
    }

    async fn comment(
        &self,
        account: &AccountId,
        event: &Event,
        stale: bool,
    ) -> Result<(), BotError> {
        let EventData::Comment(comment) = event.data() else {
            return Ok(());
        };
        let (Some(comment_id), Some(text)) = (comment.comment_id(), comment.text.as_deref()) else {
            return Ok(());
        };
        // Never answer the business's own comments.
        if comment
            .author_id()
            .is_some_and(|a| a.as_str() == account.as_str())
        {
            return Ok(());
        }
        if stale {
            return Ok(());
        }
        let Some(rule) = self.inner.rules.find(text) else {
            return Ok(());
        };
        let reply = rule.action().text().to_owned();
        let mid = self
            .inner
            .replier
            .private_reply(account, comment_id, &reply)
            .await?;
        self.record_reply("comment_dm");
        if let Some(mid) = mid {
            self.remember_sent(mid);
        }
        if let Some(user) = comment.author_id() {
            let key = ConversationKey::new(account.clone(), user.clone());
            self.record_sent(&key, &reply).await;
        }
        Ok(())
    }

    async fn echo(&self, account: &AccountId, event: &Event) -> Result<(), BotError> {
        // For an echo the business is the sender and the person the recipient.
        let Some(user) = event.recipient().and_then(Participant::user_id) else {
            return Ok(());
        };
        let key = ConversationKey::new(account.clone(), user.clone());
        let text = event.text().unwrap_or_default();
        match self.echo_sender(event) {
            EchoSender::ThisApp => return Ok(()),
            EchoSender::OtherApp => {}
            EchoSender::Unknown => {
                if self.is_own_echo(&key, event, text).await? {
                    return Ok(());
                }
            }
        }
        tracing::info!("echo not sent by this bot: a human answered, conversation in handoff");
        self.inner
            .store
            .append(&key, &[HistoryMessage::human(text, event_time(event))])
            .await?;
        self.inner.store.set_handoff(&key, "inbox_reply").await?;
        Ok(())
    }

    /// Who sent an echo, by its `app_id` (Meta sets it to the sending app; messages typed
    /// in the inbox carry the inbox app's id). Decides only when `IG_APP_ID` is configured
    /// and the echo has an `app_id`: then it holds even for an echo that arrives before
    /// the Send API answered, whose mid this bot cannot know yet.
    fn echo_sender(&self, event: &Event) -> EchoSender {
        let echo_app = match event.data() {
            EventData::Message(message) => message.app_id.as_ref(),
            _ => None,
        };
        match (self.inner.app_id.as_deref(), echo_app) {
            (Some(ours), Some(sender)) if sender.as_str() == ours => EchoSender::ThisApp,
            (Some(_), Some(_)) => EchoSender::OtherApp,
            _ => EchoSender::Unknown,
        }
    }

    /// Without an `app_id` to go by: the echo is this bot's when its mid is one this
    /// process sent, or its text is a recent bot reply in the shared history (a reply
    /// sent by another process).
    async fn is_own_echo(
        &self,
        key: &ConversationKey,
        event: &Event,
        text: &str,
    ) -> Result<bool, BotError> {
        if event.mid().is_some_and(|mid| self.sent(mid.as_str())) {
            return Ok(true);
        }
        if let Some(conversation) = self.inner.store.load(key).await? {
            return Ok(conversation
                .recent(6)
                .iter()
                .any(|m| m.role == crate::state::Role::Bot && !text.is_empty() && m.text == text));
        }
        Ok(false)
    }

    async fn escalate(
        &self,
        key: &ConversationKey,
        reason: &str,
        last_message: &str,
        reply: &str,
    ) -> Result<(), BotError> {
        let changed = self.inner.store.set_handoff(key, reason).await?;
        self.send(key, reply, "handoff").await?;
        if changed {
            let escalation = Escalation::new(key.account().clone(), key.user().clone(), reason)
                .with_last_message(last_message);
            if let Err(error) = self.inner.notifier.escalation(&escalation).await {
                self.inner.metrics.record_error("notify");
                tracing::warn!(%error, "escalation notification failed");
            }
        }
        Ok(())
    }

    async fn send(&self, key: &ConversationKey, text: &str, source: &str) -> Result<(), BotError> {
        let mid = self
            .inner
            .replier
            .text(key.account(), key.user(), text)
            .await?;
        self.record_reply(source);
        if let Some(mid) = mid {
            self.remember_sent(mid);
        }
        self.record_sent(key, text).await;
        Ok(())
    }

    /// Appends a reply that was sent to the history. A store failure here is logged, not
    /// returned: the reply is out, and an error would make the caller handle the event
    /// again and send it twice.
    async fn record_sent(&self, key: &ConversationKey, text: &str) {
        if let Err(error) = self
            .inner
            .store
            .append(key, &[HistoryMessage::bot(text, SystemTime::now())])
            .await
        {
            self.inner.metrics.record_error("store");
            tracing::warn!(%error, "reply sent but not recorded in the history");
        }
    }

    fn record_reply(&self, source: &str) {
        self.inner.metrics.record_reply(source);
        if let Ok(accepted) = ACCEPTED_AT.try_with(|at| *at) {
            let latency = SystemTime::now()
                .duration_since(accepted)
                .unwrap_or(Duration::ZERO);
            self.inner.metrics.record_reply_latency(latency);
        }
    }

    fn remember_sent(&self, mid: String) {
        let mut sent = self
            .inner
            .sent_mids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if sent.set.insert(mid.clone()) {
            sent.order.push_back(mid);
        }
        while sent.order.len() > SENT_MIDS_CAP {
            if let Some(old) = sent.order.pop_front() {
                sent.set.remove(&old);
            }
        }
    }

    fn sent(&self, mid: &str) -> bool {
        self.inner
            .sent_mids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set
            .contains(mid)
    }

    /// `/healthz`: `200 ok` when the store answers, `503` otherwise. Accounts whose
    /// replies are paused because Meta rejected their token are listed (still `200`: the
    /// other accounts work).
    pub async fn health(&self) -> Reply {
        if !self.store_ok().await {
            return Reply::text(503, "state store unavailable\n");
        }
        let paused = self.inner.metrics.paused_accounts();
        if paused.is_empty() {
            Reply::text(200, "ok\n")
        } else {
            Reply::text(
                200,
                format!(
                    "ok\npaused accounts (access token rejected): {}\n",
                    paused.join(", ")
                ),
            )
        }
    }

    /// The store answers a `PING`. A failed first try is repeated once within the same
    /// bound: after a Redis restart the first command finds the old connection dead (and
    /// replaces it), which must not make the first check after the restart fail.
    async fn store_ok(&self) -> bool {
        let store = &self.inner.store;
        let ping = async {
            if store.ping().await.is_ok() {
                return true;
            }
            store.ping().await.is_ok()
        };
        matches!(
            tokio::time::timeout(STORE_CHECK_TIMEOUT, ping).await,
            Ok(true)
        )
    }

    /// `/metrics`: Prometheus text.
    pub fn metrics_text(&self) -> Reply {
        Reply {
            status: 200,
            content_type: crate::metrics::CONTENT_TYPE,
            body: self.inner.metrics.render(),
        }
    }

    /// `POST /admin/conversations/{account}/{igsid}/resolve` with the request's
    /// `Authorization` header: `204` resolved, `200` already active, `404` unknown
    /// conversation, `401` wrong or missing bearer token, `404` when `BOT_ADMIN_TOKEN` is
    /// unset (the route is off), `503` when the store failed.
    pub async fn admin_resolve(
        &self,
        authorization: Option<&str>,
        account: &str,
        igsid: &str,
    ) -> Reply {
        let Some(token) = &self.inner.admin_token else {
            return Reply::text(404, "admin API disabled (BOT_ADMIN_TOKEN unset)\n");
        };
        if !bearer_matches(token, authorization) {
            return Reply::text(401, "unauthorized\n");
        }
        let key = ConversationKey::new(account, igsid);
        match self.inner.store.resolve(&key).await {
            Ok(ResolveOutcome::Resolved) => Reply::text(204, ""),
            Ok(ResolveOutcome::AlreadyActive) => Reply::text(200, "already active\n"),
            Ok(ResolveOutcome::NotFound) => Reply::text(404, "no such conversation\n"),
            Err(error) => {
                tracing::warn!(%error, "resolve failed");
                Reply::text(503, "state store unavailable\n")
            }
        }
    }
}

/// Whether `authorization` is `Bearer <token>` with exactly `token` (constant time).
pub fn bearer_matches(token: &Secret, authorization: Option<&str>) -> bool {
    authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .is_some_and(|candidate| token.matches(candidate.trim()))
}

/// The reply to a story reply, by intent: buy/price, where/ship, love/amazing, else
/// thanks.
pub fn story_reply_intent(text: &str) -> &'static str {
    let text = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&["buy", "price", "cost", "how much", "precio", "comprar"]) {
        STORY_REPLY_BUY
    } else if has(&[
        "where", "ship", "deliver", "dónde", "donde", "envío", "envio",
    ]) {
        STORY_REPLY_SHIP
    } else if has(&["love", "amazing", "beautiful", "❤", "😍", "encanta"]) {
        STORY_REPLY_LOVE
    } else {
        STORY_REPLY_THANKS
    }
}

fn story_mention_ref(event: &Event) -> (Option<String>, Option<String>) {
    match event.data() {
        EventData::Referral { referral, .. } => {
            let story = referral.story.as_ref();
            (
                story.and_then(|s| s.id.as_ref()).map(|id| id.to_string()),
                story.and_then(|s| s.url.clone()),
            )
        }
        EventData::Message(message) => {
            let attachment = message.attachments.iter().find(|a| {
                a.kind
                    .as_ref()
                    .is_some_and(|k| k.as_str() == "story_mention")
            });
            let payload = attachment.and_then(|a| a.payload.as_ref());
            let id = payload
                .and_then(|p| p.story_media_id.as_ref().map(ToString::to_string))
                .or_else(|| payload.and_then(|p| p.id.clone()))
                .or_else(|| message.mid.as_ref().map(ToString::to_string));
            let url = attachment.and_then(|a| a.url().map(str::to_owned));
            (id, url)
        }
        _ => (None, None),
    }
}

fn event_time(event: &Event) -> SystemTime {
    event
        .timestamp()
        .map_or_else(SystemTime::now, Timestamp::to_system_time)
}

/// The [`Handler`] the worker queue calls: [`Bot::handle`].
#[derive(Debug, Clone)]
pub struct BotHandler {
    bot: Bot,
}

impl Handler for BotHandler {
    type Error = BotError;

    async fn handle(&self, event: Event) -> Result<(), BotError> {
        self.bot.handle(&event).await
    }

    async fn handle_accepted(&self, event: Event, accepted_at: SystemTime) -> Result<(), BotError> {
        self.bot.handle_accepted(&event, accepted_at).await
    }

    /// The state store being down is not the event's fault: retried without limit. A
    /// retryable Send API failure (rate limit, transient, before the request left) spends
    /// the retry budget; anything else, an unknown outcome above all, is never retried.
    fn retry(&self, error: &BotError) -> Retry {
        if error.is_store() {
            Retry::Unbounded
        } else if error.is_retryable() {
            Retry::Budgeted
        } else {
            Retry::Never
        }
    }
}

/// What [`Bot::start`] started; shut it down with [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    sink: BotSink,
    workers: Option<StreamWorkers>,
    streams: Option<Streams>,
    shutdown_timeout: Duration,
}

impl Running {
    /// The [`Sink`] for the webhook endpoint.
    pub fn sink(&self) -> BotSink {
        self.sink.clone()
    }

    /// The stream workers, when this process runs them.
    pub fn workers(&self) -> Option<&StreamWorkers> {
        self.workers.as_ref()
    }

    /// The Redis hand-off (settings, counters, health), with `REDIS_URL`.
    pub fn streams(&self) -> Option<&Streams> {
        self.streams.as_ref()
    }

    /// Graceful shutdown, after the HTTP server stopped accepting: the in-memory queue
    /// handles everything it accepted; stream workers finish the entries they are handling
    /// and give their shards back. Bounded by `SHUTDOWN_TIMEOUT_SECS`; returns `false` when
    /// that ran out (unfinished stream entries are then reclaimed by another worker; the
    /// in-memory queue's are lost).
    pub async fn shutdown(self) -> bool {
        let timeout = self.shutdown_timeout;
        let started = Instant::now();
        let mut clean = true;
        if let SinkKind::Memory(queue) = self.sink.inner.as_ref() {
            clean &= tokio::time::timeout(timeout, queue.shutdown())
                .await
                .is_ok();
        }
        if let Some(workers) = self.workers {
            clean &= workers
                .shutdown(timeout.saturating_sub(started.elapsed()))
                .await;
        }
        clean
    }
}

#[derive(Debug)]
enum SinkKind {
    Memory(MemorySink),
    Stream(StreamSink),
    Off,
}

/// The [`Sink`] the webhook endpoint hands verified deliveries to: counts them and passes
/// them on to the in-memory queue or the Redis stream ([`Bot::start`]). In a
/// `BOT_ROLE=worker` process it refuses every delivery (503): workers are not meant to get
/// webhook traffic. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BotSink {
    inner: Arc<SinkKind>,
    bot: Bot,
}

impl BotSink {
    /// The in-memory queue, when there is one.
    pub fn queue(&self) -> Option<&MemorySink> {
        match self.inner.as_ref() {
            SinkKind::Memory(queue) => Some(queue),
            _ => None,
        }
    }
}

impl Sink for BotSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        self.bot.inner.metrics.record_delivery();
        match self.inner.as_ref() {
            SinkKind::Memory(queue) => queue.accept(batch).await,
            SinkKind::Stream(stream) => stream.accept(batch).await,
            SinkKind::Off => {
                tracing::warn!("delivery sent to a BOT_ROLE=worker process: refused (503)");
                Err(SinkError::failed("this process does not receive webhooks"))
            }
        }
    }
}
