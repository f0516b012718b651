//! Conversation state: one record per (business account, IGSID).
//!
//! A record holds the conversation's [`ConversationState`] (`Active`, or `Handoff` to a
//! human, with a reason), its recent [`HistoryMessage`]s (oldest first, capped at
//! [`DEFAULT_HISTORY_CAP`] = 20) and the time of the person's last message (for Meta's
//! 24-hour messaging window). Every update refreshes the record's time-to-live
//! ([`DEFAULT_TTL`] = 1 h), so an idle conversation — including one in handoff — is
//! forgotten an hour after its last activity and then starts `Active` again.
//!
//! Two backends implement [`ConversationStore`]:
//!
//! * [`MemoryStore`]: a mutex-guarded map, for development and single-process bots.
//! * [`RedisStore`]: Redis through a tokio [`ConnectionManager`](redis::aio::ConnectionManager),
//!   shared by several processes. Every update is one Lua script, so concurrent events
//!   of one person never lose a message or a state change (see [`RedisStore`] for the
//!   record format).
//!
//! [`Store`] is the enum of both, chosen at start-up from [`Backend`] (`REDIS_URL` set or
//! not).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), bot_kit::state::StoreError> {
//! use std::time::SystemTime;
//! use bot_kit::state::{ConversationKey, ConversationStore, HistoryMessage, MemoryStore, StoreOptions};
//!
//! let store = MemoryStore::new(StoreOptions::default());
//! let key = ConversationKey::new("17841400000000000", "6934581207719432");
//! let conversation = store.append(&key, &[HistoryMessage::user("hola", SystemTime::now())]).await?;
//! assert!(!conversation.is_handoff());
//! assert!(store.set_handoff(&key, "asked for a human").await?); // newly in handoff
//! assert!(store.load(&key).await?.unwrap().is_handoff());
//! # Ok(()) }
//! ```

mod memory;
mod redis_store;

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meta_webhooks::payload::{AccountId, UserId};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use self::memory::MemoryStore;
pub use self::redis_store::RedisStore;
use crate::secret::Secret;

/// Default number of history messages kept per conversation.
pub const DEFAULT_HISTORY_CAP: usize = 20;

/// Default time-to-live of a conversation record, refreshed on every update.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// Default prefix of the Redis keys.
pub const DEFAULT_KEY_PREFIX: &str = "botkit:conv";

/// Default connect and response timeout of Redis operations.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Identifies a conversation: the business account (the webhook `entry.id`) and the
/// person's Instagram-scoped id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationKey {
    account: AccountId,
    user: UserId,
}

impl ConversationKey {
    /// Builds a key.
    pub fn new(account: impl Into<AccountId>, user: impl Into<UserId>) -> Self {
        Self {
            account: account.into(),
            user: user.into(),
        }
    }

    /// The business account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The person.
    pub fn user(&self) -> &UserId {
        &self.user
    }
}

impl fmt::Display for ConversationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.user)
    }
}

/// Who wrote a history message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person writing to the business.
    User,
    /// This bot (a rule or the GPT fallback).
    Bot,
    /// A human agent of the business (a message sent from the Instagram inbox).
    Human,
}

impl Role {
    /// `"user"`, `"bot"` or `"human"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Bot => "bot",
            Self::Human => "human",
        }
    }
}

/// One message of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireMessage", try_from = "WireMessage")]
pub struct HistoryMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub text: String,
    /// When it was written (the webhook event's timestamp for inbound messages).
    /// Stored with millisecond precision.
    pub at: SystemTime,
}

impl HistoryMessage {
    /// A message from the person.
    pub fn user(text: impl Into<String>, at: SystemTime) -> Self {
        Self::new(Role::User, text, at)
    }

    /// A message from this bot.
    pub fn bot(text: impl Into<String>, at: SystemTime) -> Self {
        Self::new(Role::Bot, text, at)
    }

    /// A message from a human agent.
    pub fn human(text: impl Into<String>, at: SystemTime) -> Self {
        Self::new(Role::Human, text, at)
    }

    /// A message from `role`. `at` is truncated to whole milliseconds, the precision the
    /// stores keep.
    pub fn new(role: Role, text: impl Into<String>, at: SystemTime) -> Self {
        Self {
            role,
            text: text.into(),
            at: from_unix_ms(to_unix_ms(at)),
        }
    }
}

/// The stored form of a [`HistoryMessage`]: `{"role":"user","text":"…","at_ms":1700000000000}`.
#[derive(Serialize, Deserialize)]
struct WireMessage {
    role: Role,
    text: String,
    at_ms: u64,
}

impl From<HistoryMessage> for WireMessage {
    fn from(m: HistoryMessage) -> Self {
        Self {
            role: m.role,
            text: m.text,
            at_ms: to_unix_ms(m.at),
        }
    }
}

impl From<WireMessage> for HistoryMessage {
    fn from(w: WireMessage) -> Self {
        Self {
            role: w.role,
            text: w.text,
            at: from_unix_ms(w.at_ms),
        }
    }
}

/// Whether the bot may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationState {
    /// The bot answers automatically.
    Active,
    /// A human has the conversation: no automatic replies until it is resolved (or the
    /// record expires).
    Handoff {
        /// Why (a rule id, "gpt", "human replied from the inbox", …).
        reason: String,
        /// When the handoff started.
        since: SystemTime,
    },
}

/// A conversation record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Active or in handoff.
    pub state: ConversationState,
    /// Recent messages, oldest first, at most the store's history cap.
    pub history: Vec<HistoryMessage>,
    /// Time of the person's latest message (the latest `at` of a [`Role::User`] message
    /// ever appended, even if it has left the history since).
    pub last_inbound: Option<SystemTime>,
    /// Time of the last update.
    pub updated: SystemTime,
}

impl Conversation {
    /// `true` when a human has the conversation.
    pub fn is_handoff(&self) -> bool {
        matches!(self.state, ConversationState::Handoff { .. })
    }

    /// The last `n` history messages (all of them when there are fewer).
    pub fn recent(&self, n: usize) -> &[HistoryMessage] {
        let start = self.history.len().saturating_sub(n);
        self.history.get(start..).unwrap_or_default()
    }
}

/// What [`ConversationStore::resolve`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResolveOutcome {
    /// The conversation was in handoff and is active again.
    Resolved,
    /// The conversation exists and was already active.
    AlreadyActive,
    /// No record (never seen, or expired).
    NotFound,
}

/// Tuning shared by both stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    ttl: Duration,
    history_cap: usize,
    key_prefix: String,
    redis_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            history_cap: DEFAULT_HISTORY_CAP,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }
}

impl StoreOptions {
    /// Time-to-live of a record after its last update (at least 1 ms; default 1 h).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_millis(1));
        self
    }

    /// Number of history messages kept (at least 1; default 20).
    pub fn history_cap(mut self, cap: usize) -> Self {
        self.history_cap = cap.max(1);
        self
    }

    /// Prefix of the Redis keys (default `botkit:conv`), so several bots can share a
    /// database.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Connect and response timeout of each Redis operation (default 2 s).
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = timeout;
        self
    }

    /// The configured time-to-live.
    pub fn get_ttl(&self) -> Duration {
        self.ttl
    }

    /// The configured history cap.
    pub fn get_history_cap(&self) -> usize {
        self.history_cap
    }
}

/// Where conversation state lives, from `REDIS_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// In this process's memory (`REDIS_URL` unset).
    Memory,
    /// In Redis at this URL (kept secret: it may carry a password).
    Redis(Secret),
}

/// The operations the bots need on conversation records. Every method is atomic per
/// conversation: concurrent calls for one key never lose an update.
pub trait ConversationStore: Send + Sync {
    /// The record, or `None` when there is none (never seen, or expired).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds a record it cannot decode.
    fn load(
        &self,
        key: &ConversationKey,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + Send;

    /// Appends `messages` (creating an `Active` record when there is none), keeps the
    /// newest `history_cap`, advances `last_inbound` to the latest [`Role::User`]
    /// message, refreshes the TTL and returns the record as it is after the update — so
    /// a caller learns the state (e.g. handoff) and the history in the same step.
    ///
    /// A message equal to one still in the history (same role, text and time to the
    /// millisecond) is not appended again, so an event handled a second time (retried
    /// after a failed reply, or redelivered) does not show up twice in what the GPT
    /// fallback is given.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails; nothing is appended then.
    fn append(
        &self,
        key: &ConversationKey,
        messages: &[HistoryMessage],
    ) -> impl Future<Output = Result<Conversation, StoreError>> + Send;

    /// Puts the conversation in handoff (creating the record when there is none) and
    /// refreshes the TTL. Returns `true` when it was not in handoff before (the caller
    /// should notify), `false` when it already was (the first reason is kept).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn set_handoff(
        &self,
        key: &ConversationKey,
        reason: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Makes a conversation in handoff active again (and refreshes the TTL).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn resolve(
        &self,
        key: &ConversationKey,
    ) -> impl Future<Output = Result<ResolveOutcome, StoreError>> + Send;

    /// Time of the person's latest message, for the 24-hour messaging window.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn last_inbound(
        &self,
        key: &ConversationKey,
    ) -> impl Future<Output = Result<Option<SystemTime>, StoreError>> + Send;
}

/// Either backend, chosen at start-up.
#[derive(Debug, Clone)]
pub enum Store {
    /// In memory.
    Memory(MemoryStore),
    /// In Redis.
    Redis(RedisStore),
}

impl Store {
    /// Opens the configured backend: a fresh [`MemoryStore`], or a [`RedisStore`]
    /// connected to the URL.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the Redis URL is invalid or Redis cannot be reached.
    pub async fn open(backend: &Backend, options: StoreOptions) -> Result<Self, StoreError> {
        match backend {
            Backend::Memory => Ok(Self::Memory(MemoryStore::new(options))),
            Backend::Redis(url) => Ok(Self::Redis(RedisStore::connect(url, options).await?)),
        }
    }

    /// `"memory"` or `"redis"`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }

    /// Checks that the backend answers (always `Ok` for memory), for `/healthz`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when Redis does not answer `PING`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(store) => store.ping().await,
        }
    }
}

impl ConversationStore for Store {
    async fn load(&self, key: &ConversationKey) -> Result<Option<Conversation>, StoreError> {
        match self {
            Self::Memory(s) => s.load(key).await,
            Self::Redis(s) => s.load(key).await,
        }
    }

    async fn append(
        &self,
        key: &ConversationKey,
        messages: &[HistoryMessage],
    ) -> Result<Conversation, StoreError> {
        match self {
            Self::Memory(s) => s.append(key, messages).await,
            Self::Redis(s) => s.append(key, messages).await,
        }
    }

    async fn set_handoff(&self, key: &ConversationKey, reason: &str) -> Result<bool, StoreError> {
        match self {
            Self::Memory(s) => s.set_handoff(key, reason).await,
            Self::Redis(s) => s.set_handoff(key, reason).await,
        }
    }

    async fn resolve(&self, key: &ConversationKey) -> Result<ResolveOutcome, StoreError> {
        match self {
            Self::Memory(s) => s.resolve(key).await,
            Self::Redis(s) => s.resolve(key).await,
        }
    }

    async fn last_inbound(&self, key: &ConversationKey) -> Result<Option<SystemTime>, StoreError> {
        match self {
            Self::Memory(s) => s.last_inbound(key).await,
            Self::Redis(s) => s.last_inbound(key).await,
        }
    }
}

/// What went wrong in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend cannot be reached (connection refused or dropped).
    Unavailable,
    /// The backend did not answer in time.
    Timeout,
    /// The backend answered with an error.
    Backend,
    /// A stored record cannot be decoded.
    Corrupt,
    /// The store is misconfigured (e.g. an invalid Redis URL).
    Config,
}

/// A conversation store failure. Carries no URL, password or message text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("conversation store: {detail}")]
pub struct StoreError {
    kind: StoreErrorKind,
    detail: String,
}

impl StoreError {
    pub(crate) fn new(kind: StoreErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// `true` when the backend could not be reached or did not answer in time: the
    /// operation may succeed later (let Meta retry the delivery).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.kind,
            StoreErrorKind::Unavailable | StoreErrorKind::Timeout
        )
    }

    /// `true` when a stored record could not be decoded.
    pub fn is_corrupt(&self) -> bool {
        self.kind == StoreErrorKind::Corrupt
    }
}

/// Milliseconds since the Unix epoch (0 before it, saturating far in the future).
pub(crate) fn to_unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The time `ms` milliseconds after the Unix epoch.
pub(crate) fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_message_wire_format_is_stable() {
        let m = HistoryMessage::user("¡hola! \"x\"", from_unix_ms(1_700_000_000_123));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"role":"user","text":"¡hola! \"x\"","at_ms":1700000000123}"#
        );
        let back: HistoryMessage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(
            serde_json::from_str::<HistoryMessage>(r#"{"role":"robot","text":"","at_ms":1}"#)
                .is_err()
        );
    }

    #[test]
    fn timestamps_truncate_to_milliseconds() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let m = HistoryMessage::bot("x", t);
        assert_eq!(to_unix_ms(m.at), 1_700_000_000_123);
        assert_eq!(to_unix_ms(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }

    #[test]
    fn recent_returns_the_tail() {
        let now = SystemTime::now();
        let c = Conversation {
            state: ConversationState::Active,
            history: (0..5)
                .map(|i| HistoryMessage::user(i.to_string(), now))
                .collect(),
            last_inbound: None,
            updated: now,
        };
        let texts: Vec<&str> = c.recent(2).iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["3", "4"]);
        assert_eq!(c.recent(10).len(), 5);
        assert!(c.recent(0).is_empty());
    }

    #[test]
    fn options_clamp_degenerate_values() {
        let o = StoreOptions::default().ttl(Duration::ZERO).history_cap(0);
        assert_eq!(o.get_ttl(), Duration::from_millis(1));
        assert_eq!(o.get_history_cap(), 1);
    }
}
