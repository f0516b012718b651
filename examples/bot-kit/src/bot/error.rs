//! What can go wrong while building the bot or handling an event.

use meta_webhooks::client::{GraphError, GraphErrorKind};
use thiserror::Error;

use crate::state::StoreError;

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

/// A failure of [`Bot::handle`](super::Bot::handle) or of building a [`Bot`](super::Bot).
/// Carries no secrets.
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

    pub(super) fn send(error: GraphError) -> Self {
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
