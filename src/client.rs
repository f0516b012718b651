//! The Graph API client (feature `client`): answer webhooks the way Meta expects, and read
//! what they point to (user profiles, comments, media).
//!
//! * [`GraphClient`] — one pooled HTTP client (reqwest + rustls) for the whole process, for
//!   any number of accounts. Build it once with [`GraphClient::builder`] and clone it freely.
//!   The access token travels only in `Authorization: Bearer …`, never in a URL, a log line
//!   or an error.
//! * [`Account`] — one business account and its token ([`GraphClient::account`]): send text,
//!   quick replies, attachments, generic templates, sender actions, reactions, private and
//!   public comment replies; read user profiles and comments.
//! * [`Message`] and friends — outgoing messages, checked against Meta's limits when built
//!   (e.g. Instagram's 1000-byte text limit), so an invalid message never leaves.
//! * [`MessagingWindow`] — picks `RESPONSE` within 24 hours of the person's last message,
//!   the `HUMAN_AGENT` tag for human replies up to 7 days, or refuses locally.
//! * [`GraphError`] — the Graph error envelope parsed and classified ([`GraphErrorKind`]),
//!   with [`GraphError::is_retryable`] and [`GraphError::is_local`].
//! * [`MediaFetcher`] — SSRF-safe, transient download of media from Meta's CDN.
//! * Setup checks — the app's webhook subscriptions ([`GraphClient::app_subscriptions`]),
//!   each account's `subscribed_apps` ([`Account::subscribed_apps`],
//!   [`Account::subscribe_app`]) and the lookups that tie ids and tokens together
//!   ([`Account::page_link`], [`Account::instagram_login_account`],
//!   [`Account::whatsapp_phone_number`]).
//! * Tokens — [`GraphClient::debug_token`] ([`TokenInfo`]: validity, type, expiry,
//!   scopes), [`Account::permissions`], and [`GraphClient::refresh_instagram_token`] for
//!   Instagram Login long-lived tokens ([`RefreshedToken`]). These two calls are the only
//!   ones that put a token in a URL, because Meta takes it nowhere else; those URLs are
//!   never logged nor put in an error.
//! * [`WhatsApp`] — one WhatsApp business phone number and its token
//!   ([`GraphClient::whatsapp`]): send [`WaOutgoing`] messages (text, media, reactions,
//!   reply buttons, lists, templates), mark messages read with the typing indicator, upload,
//!   look up and download media; see the [`whatsapp` module docs](whatsapp).
//!
//! # Reliability
//!
//! The Send API has no idempotency key, so the client retries (exponential backoff with
//! jitter, bounded attempts and time — see [`RetryPolicy`]) **only where Meta surely did not
//! act**: connection failures, HTTP 429 and Graph rate-limit codes, and the codes Meta
//! documents as temporary (`1`, `2`, `is_transient`). A timeout or a dropped connection after
//! the request was sent, and a 5xx without a Graph error body, are returned as
//! [`GraphErrorKind::OutcomeUnknown`], never retried, and counted
//! ([`GraphClient::outcome_unknown_count`]).
//!
//! Every response's `X-App-Usage` and `X-Business-Use-Case-Usage` headers are parsed
//! ([`Usage`]) and kept per account ([`GraphClient::account_status`]). When they say an
//! account is throttled (a percentage at 100, or an `estimated_time_to_regain_access`), or a
//! rate-limit error names a time to wait, that account is **paused**: its sends fail fast
//! with [`GraphError::AccountPaused`] (no HTTP) until the time passes; other accounts are
//! unaffected. A token Meta rejects (code 190) marks the account as needing a new token
//! ([`GraphClient::accounts_needing_new_token`]); sends with that same token then fail fast.
//!
//! # Tokens in the query string
//!
//! Two Meta calls take a token only in the query string, and they are the only ones that
//! put a token in a URL: [`GraphClient::debug_token`] (`input_token`, on
//! `graph.facebook.com`, with the app token as the bearer) and
//! [`GraphClient::refresh_instagram_token`] (`access_token`, on `graph.instagram.com`,
//! unversioned as Meta documents it). Their URLs are never logged, and no error carries
//! them: transport errors keep only reqwest's description without the URL, and Graph error
//! messages are scrubbed of every token of the call. Each goes to its Meta host whichever of
//! the two the client was built for; a client built with another
//! [`base_url`](GraphClientBuilder::base_url) (a local mock, a proxy) sends both there.
//!
//! # Example
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//!
//! use meta_webhooks::AccessToken;
//! use meta_webhooks::client::{
//!     Author, Message, MessagingWindow, QuickReply, GraphClient, GraphErrorKind,
//! };
//! use meta_webhooks::payload::{AccountId, UserId};
//!
//! # async fn reply() -> Result<(), Box<dyn std::error::Error>> {
//! // Once per process: one connection pool for every account.
//! let client = GraphClient::builder().instagram_login().build()?;
//!
//! // Per account: its id (the webhook's `entry.id`) and its token.
//! let account = client.account(
//!     AccountId::new("17841400000000000"),
//!     AccessToken::new(std::env::var("IG_ACCESS_TOKEN")?)?,
//! );
//!
//! // From the webhook event: who wrote, and when.
//! let person = UserId::new("6934581207719432");
//! let last_inbound = SystemTime::now() - Duration::from_secs(90);
//!
//! let message = Message::text("¡Hola! ¿En qué te ayudo?")?.with_quick_replies([
//!     QuickReply::text("Prices", "PRICES")?,
//!     QuickReply::text("Opening hours", "HOURS")?,
//! ])?;
//!
//! match account
//!     .send_in_window(&person, &message, MessagingWindow::new(last_inbound), Author::Automated)
//!     .await
//! {
//!     Ok(sent) => println!("sent {:?}", sent.message_id),
//!     // Meta may have delivered it: record it, do not resend blindly.
//!     Err(e) if e.kind() == GraphErrorKind::OutcomeUnknown => eprintln!("outcome unknown: {e}"),
//!     // Safe to try again later (rate limit, temporary error, connection refused).
//!     Err(e) if e.is_retryable() => eprintln!("retry after {:?}: {e}", e.retry_after()),
//!     Err(e) if e.kind() == GraphErrorKind::OutsideWindow => eprintln!("window closed: {e}"),
//!     Err(e) if e.kind() == GraphErrorKind::Auth => eprintln!("token needs renewal: {e}"),
//!     Err(e) => eprintln!("not sent: {e}"),
//! }
//! # Ok(())
//! # }
//! ```

mod account;
mod call;
mod config;
mod error;
mod media;
mod message;
mod retry;
mod setup;
mod state;
mod token;
mod usage;
pub mod whatsapp;
mod window;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::payload::AccountId;
use crate::secret::AccessToken;

use call::Inner;

pub use account::{
    Account, COMMENT_FIELDS, Comment, CommentAuthor, CommentMedia, MessageSent,
    USER_PROFILE_FIELDS, UserProfile,
};
pub use config::{
    Clock, ConfigError, ConfigErrorKind, DEFAULT_CONNECT_TIMEOUT, DEFAULT_GRAPH_VERSION,
    DEFAULT_THROTTLE_PAUSE, DEFAULT_TIMEOUT, FACEBOOK_GRAPH_URL, GraphClientBuilder,
    INSTAGRAM_GRAPH_URL, SystemClock,
};
pub use error::{
    AccountPaused, DecodeFailure, GraphError, GraphErrorBody, GraphErrorKind, GraphFailure,
    MessageError, MessageErrorKind, OutcomeUnknown, StatusFailure, TransportFailure,
    TransportStage, UnknownReason,
};
pub use media::{
    DEFAULT_MAX_MEDIA_BYTES, DEFAULT_MEDIA_HOSTS, DEFAULT_MEDIA_TIMEOUT, FetchedMedia, MediaError,
    MediaErrorKind, MediaFetcher, MediaFetcherBuilder, WHATSAPP_MEDIA_HOSTS,
};
pub use message::{
    Attachment, AttachmentSource, AttachmentType, Button, GenericElement, GenericTemplate,
    MAX_ATTACHMENTS, MAX_BUTTONS, MAX_QUICK_REPLIES, MAX_TEMPLATE_ELEMENTS, MAX_TEXT_BYTES,
    Message, MessageTag, MessagingType, QuickReply, SendOptions, SenderAction,
};
pub use retry::RetryPolicy;
pub use setup::{
    AppSubscription, AppSubscriptionRequest, INSTAGRAM_LOGIN_FIELDS, InstagramLoginAccount,
    NodeRef, PAGE_LINK_FIELDS, PHONE_NUMBER_FIELDS, PageLink, PhoneNumber, SubscribedApp,
    SubscribedField, Throughput, WhatsAppApiApp,
};
pub use state::AccountStatus;
pub use token::{
    AppToken, Expiry, GranularScope, Permission, PermissionStatus, RefreshedToken, TokenError,
    TokenInfo, TokenType,
};
pub use usage::{
    APP_USAGE_HEADER, AppUsage, BUSINESS_USE_CASE_USAGE_HEADER, BusinessUseCaseUsage, Usage,
    UseCase,
};
pub use whatsapp::{
    WaDownloadError, WaDownloadErrorKind, WaHeader, WaList, WaListRow, WaListSection, WaMedia,
    WaMediaInfo, WaMediaKind, WaMediaSource, WaOutgoing, WaParameter, WaReplyButton,
    WaReplyButtons, WaSent, WaTemplate, WaTemplateComponent, WaUpload, WhatsApp,
};
pub use window::{Author, HUMAN_AGENT_WINDOW, MessagingWindow, STANDARD_WINDOW, WindowClosed};

/// The Graph API client (Send API, profiles, comments): one connection pool and one set of
/// per-account states, shared by all clones. See the [module docs](self).
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("api_root", &self.inner.api_root)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client with the defaults of [`GraphClientBuilder`] (Instagram Login host,
    /// [`DEFAULT_GRAPH_VERSION`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Http`] when the TLS client cannot be initialised.
    pub fn new() -> Result<Self, ConfigError> {
        GraphClientBuilder::new().build()
    }

    /// A builder.
    pub fn builder() -> GraphClientBuilder {
        GraphClientBuilder::new()
    }

    /// A handle for one business account and its token. Cheap; make one per account (or
    /// per request) as convenient: state is kept in the client, keyed by `id`.
    pub fn account(&self, id: AccountId, token: AccessToken) -> Account {
        Account::new(self.clone(), id, token)
    }

    /// The root every request path is joined to, e.g. `https://graph.instagram.com/v25.0`.
    pub fn api_root(&self) -> &str {
        &self.inner.api_root
    }

    /// What the client knows about an account: pause, rejected token, latest usage.
    pub fn account_status(&self, id: &AccountId) -> AccountStatus {
        self.inner.accounts.status(id, self.inner.clock.now())
    }

    /// The accounts whose token Meta rejected (code 190/102), sorted.
    pub fn accounts_needing_new_token(&self) -> Vec<AccountId> {
        self.inner.accounts.needing_new_token()
    }

    /// Forgets everything about an account (pause, rejected token, usage).
    pub fn reset_account(&self, id: &AccountId) {
        self.inner.accounts.reset(id);
    }

    /// How many writes ended with [`GraphErrorKind::OutcomeUnknown`] since the client was
    /// built (all clones included). Export it as a metric and alert on it.
    pub fn outcome_unknown_count(&self) -> u64 {
        self.inner.outcome_unknown.load(Ordering::Relaxed)
    }

    /// How many automatic retries were made since the client was built.
    pub fn retry_count(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }
}
