//! [`GraphError`]: everything that can stop a Send/Graph API call, classified.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde::Deserialize;
use thiserror::Error;

use crate::payload::AccountId;

use super::window::WindowClosed;

/// What kind of failure a [`GraphError`] is: the value to branch on.
///
/// The Graph classification follows Meta's error tables (Graph API "Handling Errors" and the
/// Messenger Platform error codes): see [`GraphErrorBody::kind`] for the exact mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GraphErrorKind {
    /// Refused before any request: the message or an id is invalid. Fix the request.
    InvalidRequest,
    /// Outside the messaging window (`10/2018278`, `10/2534022`, WhatsApp's `131047`, or
    /// refused locally by the window helper). Instagram and Messenger need a new message from
    /// the person, or a human agent reply with the `HUMAN_AGENT` tag within 7 days; WhatsApp
    /// needs a new message from the person, or a template message.
    OutsideWindow,
    /// Throttled (`4`, `17`, `32`, `341`, `613`, `80000`–`80014`, HTTP 429 without an envelope;
    /// WhatsApp's `130429` throughput, `131048` spam rate limit, `131056` pair rate limit,
    /// `132069` flow throttled, `133008`/`133009`/`133015`/`133016` registration limits) or the
    /// account is paused locally after Meta said it is blocked. Retry later.
    RateLimited,
    /// The access token is invalid or expired (`190`, `102`, WhatsApp's `0`). Get a new token.
    Auth,
    /// A permission is missing or was removed (`3`, `10`, `200`–`299`; WhatsApp's `131005`
    /// access denied and `131030` recipient not in the test number's allowed list).
    Permission,
    /// The person cannot be messaged right now (`551`, `10/2018108`; WhatsApp's `131026`
    /// undeliverable, `131049` not delivered to keep engagement healthy, `131050` the person
    /// stopped marketing messages).
    UserUnavailable,
    /// Meta rejected a parameter (`100`, including unknown users, attachments it could not
    /// fetch and comments that cannot take a private reply; WhatsApp's `33`, `131008`,
    /// `131009`, `131021`, `131051`, `131053`, `135000` and the template errors `132000`,
    /// `132001`, `132005`, `132007`, `132008`, `132012`).
    InvalidParameter,
    /// A temporary failure that Meta documents as safe to retry (`1`, `2`, `is_transient`;
    /// WhatsApp's `131000`, `131016`, `131057`, `133004`), or a network failure before the
    /// request left (connect errors), or a failed read-only request.
    Transient,
    /// The request may or may not have been acted on: a timeout or a dropped connection after
    /// the request was sent, or a 5xx without a Graph error envelope. Never retried
    /// automatically (the Send API has no idempotency key); counted by
    /// [`GraphClient::outcome_unknown_count`](super::GraphClient::outcome_unknown_count).
    OutcomeUnknown,
    /// Meta answered with a success status but the body was not the expected JSON. For a
    /// write, Meta acted: do not send again.
    Decode,
    /// Any other Graph error or HTTP status.
    Other,
}

impl GraphErrorKind {
    /// A stable lower-case name, e.g. `"rate_limited"`, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::OutsideWindow => "outside_window",
            Self::RateLimited => "rate_limited",
            Self::Auth => "auth",
            Self::Permission => "permission",
            Self::UserUnavailable => "user_unavailable",
            Self::InvalidParameter => "invalid_parameter",
            Self::Transient => "transient",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Decode => "decode",
            Self::Other => "other",
        }
    }

    /// `true` for the kinds where sending the same request again cannot deliver twice:
    /// [`RateLimited`](Self::RateLimited) and [`Transient`](Self::Transient).
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient)
    }
}

impl fmt::Display for GraphErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Graph API error envelope, `{"error": {…}}`, parsed leniently.
///
/// Every field but `message` may be missing in practice; `code` and `error_subcode` are
/// accepted as numbers or numeric strings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphErrorBody {
    /// Human-readable description, written for developers (may be in the request locale).
    pub message: String,
    /// The `type`, e.g. `"OAuthException"`.
    pub error_type: Option<String>,
    /// The error code, e.g. `10`.
    pub code: Option<i64>,
    /// The error subcode, e.g. `2018278`.
    pub error_subcode: Option<i64>,
    /// Title of a message meant for the end user, when Meta gives one.
    pub error_user_title: Option<String>,
    /// Message meant for the end user, when Meta gives one.
    pub error_user_msg: Option<String>,
    /// Meta's support trace id; quote it when reporting a problem.
    pub fbtrace_id: Option<String>,
    /// Meta's own hint that the error is temporary.
    pub is_transient: Option<bool>,
    /// `error_data.details`: the WhatsApp Cloud API's precise description of the error
    /// (Meta recommends handling errors by `code` and this text, not by `message`).
    pub details: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: RawGraphError,
}

#[derive(Deserialize)]
struct RawGraphError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    error_type: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    error_subcode: Option<serde_json::Value>,
    #[serde(default)]
    error_user_title: Option<String>,
    #[serde(default)]
    error_user_msg: Option<String>,
    #[serde(default)]
    fbtrace_id: Option<String>,
    #[serde(default)]
    is_transient: Option<bool>,
    #[serde(default)]
    error_data: Option<serde_json::Value>,
}

fn lenient_int(value: Option<serde_json::Value>) -> Option<i64> {
    match value? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl GraphErrorBody {
    /// Parses a response body as a Graph error envelope.
    ///
    /// Returns `None` when the body is not JSON, has no `error` object, or the object has
    /// neither a `code` nor a `message` — i.e. when it is not an envelope at all.
    ///
    /// ```
    /// use meta_webhooks::client::{GraphErrorBody, GraphErrorKind};
    ///
    /// let body = br#"{"error":{"message":"(#10) This message is sent outside of allowed window.",
    ///   "type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"AbC123xyz"}}"#;
    /// let err = GraphErrorBody::from_body(body).unwrap();
    /// assert_eq!((err.code, err.error_subcode), (Some(10), Some(2018278)));
    /// assert_eq!(err.kind(), GraphErrorKind::OutsideWindow);
    /// assert!(GraphErrorBody::from_body(b"<html>Bad Gateway</html>").is_none());
    /// ```
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let raw = serde_json::from_slice::<Envelope>(body).ok()?.error;
        let code = lenient_int(raw.code);
        if code.is_none() && raw.message.is_none() {
            return None;
        }
        Some(Self {
            message: raw.message.unwrap_or_default(),
            error_type: raw.error_type,
            code,
            error_subcode: lenient_int(raw.error_subcode),
            error_user_title: raw.error_user_title,
            error_user_msg: raw.error_user_msg,
            fbtrace_id: raw.fbtrace_id,
            is_transient: raw.is_transient,
            details: raw
                .error_data
                .as_ref()
                .and_then(|data| data.get("details"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Classifies the error (first match wins):
    ///
    /// | code – subcode | kind |
    /// |---|---|
    /// | `10 – 2018278`, `10 – 2534022` | [`OutsideWindow`](GraphErrorKind::OutsideWindow) |
    /// | `613 – 2018338`, `613 – 1893016` (tag abuse, duplicate opt-in) | [`Other`](GraphErrorKind::Other) |
    /// | `4`, `17`, `32`, `341`, `613`, `80000`–`80014` | [`RateLimited`](GraphErrorKind::RateLimited) |
    /// | `190`, `102` | [`Auth`](GraphErrorKind::Auth) |
    /// | `551`, `10 – 2018108` | [`UserUnavailable`](GraphErrorKind::UserUnavailable) |
    /// | `3`, `10`, `200`–`299` | [`Permission`](GraphErrorKind::Permission) |
    /// | `100` | [`InvalidParameter`](GraphErrorKind::InvalidParameter) |
    /// | `2 – 2018344` (terms of service not accepted) | [`Other`](GraphErrorKind::Other) |
    /// | `1`, `2`, or `is_transient: true` | [`Transient`](GraphErrorKind::Transient) |
    /// | anything else | [`Other`](GraphErrorKind::Other) |
    ///
    /// The WhatsApp Cloud API's codes, checked before the table above:
    ///
    /// | code | kind |
    /// |---|---|
    /// | `131047` (re-engagement: more than 24 hours since the person's last message; send a template) | [`OutsideWindow`](GraphErrorKind::OutsideWindow) |
    /// | `130429` (throughput), `131048` (spam rate limit), `131056` (pair rate limit), `132069` (flow throttled), `133008`, `133009`, `133015`, `133016` (registration limits) | [`RateLimited`](GraphErrorKind::RateLimited) |
    /// | `0` (could not authenticate the app user) | [`Auth`](GraphErrorKind::Auth) |
    /// | `131026` (undeliverable), `131049` (not delivered to keep engagement healthy), `131050` (the person stopped marketing messages) | [`UserUnavailable`](GraphErrorKind::UserUnavailable) |
    /// | `131005` (access denied), `131030` (recipient not in the allowed list) | [`Permission`](GraphErrorKind::Permission) |
    /// | `33`, `131008`, `131009`, `131021`, `131051`, `131053`, `135000`, `132000`, `132001`, `132005`, `132007`, `132008`, `132012` | [`InvalidParameter`](GraphErrorKind::InvalidParameter) |
    /// | `131000` (something went wrong), `131016` (service unavailable), `131057` (maintenance mode), `133004` (server temporarily unavailable) | [`Transient`](GraphErrorKind::Transient) |
    /// | `368`, `131031`, `131037`, `131042`, `131045`, `131052`, `132015`, `132016`, `132068`, `133010` and other policy, account, payment and registration errors | [`Other`](GraphErrorKind::Other) |
    pub fn kind(&self) -> GraphErrorKind {
        let Some(code) = self.code else {
            return if self.is_transient == Some(true) {
                GraphErrorKind::Transient
            } else {
                GraphErrorKind::Other
            };
        };
        match classify(code, self.error_subcode) {
            Some(kind) => kind,
            None if self.is_transient == Some(true) => GraphErrorKind::Transient,
            None => GraphErrorKind::Other,
        }
    }

    /// How long to wait before retrying when Meta names no delay: WhatsApp's pair rate limit
    /// (`131056`) allows about one message every 6 seconds to the same person, and its
    /// throughput limit (`130429`) is counted per second.
    pub(crate) fn default_retry_after(&self) -> Option<Duration> {
        match self.code {
            Some(131_056) => Some(Duration::from_secs(6)),
            Some(130_429) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

impl GraphErrorKind {
    /// Classifies a Graph or WhatsApp error `code` (and `error_subcode`) by the table of
    /// [`GraphErrorBody::kind`], without an error envelope: e.g. the `errors[].code` of a
    /// WhatsApp `failed` status webhook (`131047` is
    /// [`OutsideWindow`](Self::OutsideWindow), `131026`
    /// [`UserUnavailable`](Self::UserUnavailable)). Unknown codes are
    /// [`Other`](Self::Other).
    ///
    /// ```
    /// use meta_webhooks::client::GraphErrorKind;
    ///
    /// assert_eq!(GraphErrorKind::from_code(131_047, None), GraphErrorKind::OutsideWindow);
    /// assert_eq!(GraphErrorKind::from_code(10, Some(2_018_278)), GraphErrorKind::OutsideWindow);
    /// assert!(GraphErrorKind::from_code(130_429, None).is_retryable());
    /// assert!(!GraphErrorKind::from_code(131_026, None).is_retryable());
    /// ```
    pub fn from_code(code: i64, subcode: Option<i64>) -> Self {
        classify(code, subcode).unwrap_or(Self::Other)
    }
}

/// The classification table; `None` for a code it does not name.
fn classify(code: i64, subcode: Option<i64>) -> Option<GraphErrorKind> {
    Some(match (code, subcode) {
        (131_047, _) => GraphErrorKind::OutsideWindow,
        (130_429 | 131_048 | 131_056 | 132_069 | 133_008 | 133_009 | 133_015 | 133_016, _) => {
            GraphErrorKind::RateLimited
        }
        (0, _) => GraphErrorKind::Auth,
        (131_026 | 131_049 | 131_050, _) => GraphErrorKind::UserUnavailable,
        (131_005 | 131_030, _) => GraphErrorKind::Permission,
        (
            33 | 131_008 | 131_009 | 131_021 | 131_051 | 131_053 | 135_000 | 132_000 | 132_001
            | 132_005 | 132_007 | 132_008 | 132_012,
            _,
        ) => GraphErrorKind::InvalidParameter,
        (131_000 | 131_016 | 131_057 | 133_004, _) => GraphErrorKind::Transient,
        (10, Some(2_018_278 | 2_534_022)) => GraphErrorKind::OutsideWindow,
        (613, Some(2_018_338 | 1_893_016)) => GraphErrorKind::Other,
        (4 | 17 | 32 | 341 | 613 | 80_000..=80_014, _) => GraphErrorKind::RateLimited,
        (190 | 102, _) => GraphErrorKind::Auth,
        (551, _) | (10, Some(2_018_108)) => GraphErrorKind::UserUnavailable,
        (3 | 10 | 200..=299, _) => GraphErrorKind::Permission,
        (100, _) => GraphErrorKind::InvalidParameter,
        (2, Some(2_018_344)) => GraphErrorKind::Other,
        (1 | 2, _) => GraphErrorKind::Transient,
        _ => return None,
    })
}

impl GraphErrorBody {
    /// `false` for a rate limit that concerns one recipient, not the whole account
    /// (WhatsApp's pair rate limit, `131056`): it must not pause the account's other sends.
    pub(crate) fn limits_whole_account(&self) -> bool {
        self.code != Some(131_056)
    }

    /// Replaces every occurrence of `secret` in the free-text fields by `[redacted]`.
    pub(crate) fn redact(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        for text in [
            Some(&mut self.message),
            self.error_user_title.as_mut(),
            self.error_user_msg.as_mut(),
            self.details.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if text.contains(secret) {
                *text = text.replace(secret, "[redacted]");
            }
        }
    }
}

impl fmt::Display for GraphErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.error_subcode) {
            (Some(code), Some(sub)) => write!(f, "code {code}/{sub}")?,
            (Some(code), None) => write!(f, "code {code}")?,
            (None, _) => f.write_str("no code")?,
        }
        if let Some(ty) = &self.error_type {
            write!(f, " ({ty})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(details) = &self.details {
            write!(f, " ({details})")?;
        }
        if let Some(trace) = &self.fbtrace_id {
            write!(f, " [fbtrace_id {trace}]")?;
        }
        Ok(())
    }
}

/// Meta answered with a Graph error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Graph API error on HTTP {}: {error}", status.as_u16())]
#[non_exhaustive]
pub struct GraphFailure {
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// The parsed envelope.
    pub error: GraphErrorBody,
    /// How long Meta asked to wait, from `Retry-After` or the usage headers'
    /// `estimated_time_to_regain_access`, when given.
    pub retry_after: Option<Duration>,
}

/// Meta (or a proxy in front of it) answered with an error status and no Graph error
/// envelope, in a case where the outcome is known: `429` (not processed), another `4xx`, or a
/// `5xx` to a read-only request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("HTTP {} without a Graph error body", status.as_u16())]
#[non_exhaustive]
pub struct StatusFailure {
    /// The HTTP status.
    pub status: StatusCode,
    /// `RateLimited` for 429, `Transient` for a 5xx to a read, `Other` otherwise.
    pub kind: GraphErrorKind,
    /// The `Retry-After` delay, when given in seconds.
    pub retry_after: Option<Duration>,
}

/// A network failure in a case where the outcome is known: the connection could not be
/// established (the request never left), or a read-only request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{stage}: {reason}")]
#[non_exhaustive]
pub struct TransportFailure {
    /// Where it failed.
    pub stage: TransportStage,
    /// reqwest's description of the failure, without the URL.
    pub reason: String,
}

/// Where a [`TransportFailure`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportStage {
    /// DNS, TCP or TLS: nothing was sent.
    Connect,
    /// After connecting, on a read-only request (nothing to deliver twice).
    Read,
}

impl fmt::Display for TransportStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect to the Graph API; nothing was sent",
            Self::Read => "the read request failed",
        })
    }
}

/// A write whose outcome is unknown: Meta may or may not have acted on it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("outcome unknown, Meta may have acted on the request: {reason}")]
#[non_exhaustive]
pub struct OutcomeUnknown {
    /// Why the outcome is unknown.
    pub reason: UnknownReason,
}

/// Why a write's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnknownReason {
    /// The request was sent and no answer came within the timeout.
    Timeout,
    /// The connection failed after the request started; reqwest's description, without the URL.
    ConnectionLost(String),
    /// A 5xx status without a Graph error envelope (e.g. a gateway error from a proxy).
    ServerError(StatusCode),
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out after the request was sent"),
            Self::ConnectionLost(reason) => write!(f, "connection lost: {reason}"),
            Self::ServerError(status) => {
                write!(f, "HTTP {} without a Graph error body", status.as_u16())
            }
        }
    }
}

/// A success status with a body that is not what the operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("HTTP {} with an unexpected body: {reason}", status.as_u16())]
#[non_exhaustive]
pub struct DecodeFailure {
    /// The (successful) HTTP status.
    pub status: StatusCode,
    /// What was wrong with the body (never the body itself).
    pub reason: String,
}

/// Refused locally: the account is paused because Meta said it is throttled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "account {account} is paused by Meta rate limiting for another {}s; nothing was sent",
    remaining.as_secs()
)]
#[non_exhaustive]
pub struct AccountPaused {
    /// The paused account.
    pub account: AccountId,
    /// When the pause ends.
    pub until: SystemTime,
    /// How long until then, from the moment of the refusal.
    pub remaining: Duration,
}

/// A message, outgoing id or option that cannot be sent; found before any request.
///
/// Inspect it with [`kind`](Self::kind); the variants carry the details.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The text is empty.
    #[error("the text is empty")]
    EmptyText,
    /// The text exceeds Instagram's limit of 1000 bytes of UTF-8.
    #[error("the text is {len} bytes of UTF-8; Instagram accepts at most {max}")]
    TextTooLong {
        /// The length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// More quick replies than Meta accepts (13).
    #[error("{count} quick replies; Meta accepts at most {max}")]
    TooManyQuickReplies {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A message built from a list of attachments got none.
    #[error("no attachments given")]
    NoAttachments,
    /// More attachments in one message than Instagram accepts (10).
    #[error("{count} attachments; Instagram accepts at most {max} in one message")]
    TooManyAttachments {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A generic template without elements.
    #[error("a generic template needs at least one element")]
    NoElements,
    /// More generic template elements than Meta accepts (10).
    #[error("{count} template elements; Meta accepts at most {max}")]
    TooManyElements {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More buttons on one template element than Meta accepts (3).
    #[error("{count} buttons on one element; Meta accepts at most {max}")]
    TooManyButtons {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A required string (a title, a payload, an attachment id) is empty.
    #[error("the {0} is empty")]
    Empty(&'static str),
    /// A URL is not an absolute `http` or `https` URL.
    #[error("the {0} is not an absolute http(s) URL")]
    InvalidUrl(&'static str),
    /// An id that goes into the request path has characters other than ASCII letters,
    /// digits, `_` and `-` (this keeps ids from changing the request's path or query).
    #[error("the {0} is not a valid Graph node id")]
    InvalidId(&'static str),
    /// A WhatsApp text field is longer than Meta accepts, counted in characters.
    #[error("the {what} is {len} characters; WhatsApp accepts at most {max}")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Its length in characters (Unicode scalar values).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A WhatsApp list (buttons, rows, sections) has fewer or more items than Meta accepts.
    #[error("{count} {what}; WhatsApp accepts {min} to {max}")]
    WrongCount {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The least accepted.
        min: usize,
        /// The most accepted.
        max: usize,
    },
    /// Two items that must be unique share a value (e.g. two reply buttons with one id).
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A field or combination that this message type does not accept (e.g. a caption on
    /// audio).
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// A value that is not of the expected form (e.g. a MIME type, a language code).
    #[error("the {0} is not valid")]
    InvalidValue(&'static str),
}

impl MessageError {
    /// What is wrong, to branch on and to log.
    pub fn kind(&self) -> MessageErrorKind {
        match self {
            Self::EmptyText => MessageErrorKind::EmptyText,
            Self::TextTooLong { .. } => MessageErrorKind::TextTooLong,
            Self::TooManyQuickReplies { .. } => MessageErrorKind::TooManyQuickReplies,
            Self::NoAttachments => MessageErrorKind::NoAttachments,
            Self::TooManyAttachments { .. } => MessageErrorKind::TooManyAttachments,
            Self::NoElements => MessageErrorKind::NoElements,
            Self::TooManyElements { .. } => MessageErrorKind::TooManyElements,
            Self::TooManyButtons { .. } => MessageErrorKind::TooManyButtons,
            Self::Empty(_) => MessageErrorKind::Empty,
            Self::InvalidUrl(_) => MessageErrorKind::InvalidUrl,
            Self::InvalidId(_) => MessageErrorKind::InvalidId,
            Self::TooLong { .. } => MessageErrorKind::TooLong,
            Self::WrongCount { .. } => MessageErrorKind::WrongCount,
            Self::Duplicate(_) => MessageErrorKind::Duplicate,
            Self::NotAllowed(_) => MessageErrorKind::NotAllowed,
            Self::InvalidValue(_) => MessageErrorKind::InvalidValue,
        }
    }
}

/// The kind of a [`MessageError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageErrorKind {
    /// [`MessageError::EmptyText`].
    EmptyText,
    /// [`MessageError::TextTooLong`].
    TextTooLong,
    /// [`MessageError::TooManyQuickReplies`].
    TooManyQuickReplies,
    /// [`MessageError::NoAttachments`].
    NoAttachments,
    /// [`MessageError::TooManyAttachments`].
    TooManyAttachments,
    /// [`MessageError::NoElements`].
    NoElements,
    /// [`MessageError::TooManyElements`].
    TooManyElements,
    /// [`MessageError::TooManyButtons`].
    TooManyButtons,
    /// [`MessageError::Empty`].
    Empty,
    /// [`MessageError::InvalidUrl`].
    InvalidUrl,
    /// [`MessageError::InvalidId`].
    InvalidId,
    /// [`MessageError::TooLong`].
    TooLong,
    /// [`MessageError::WrongCount`].
    WrongCount,
    /// [`MessageError::Duplicate`].
    Duplicate,
    /// [`MessageError::NotAllowed`].
    NotAllowed,
    /// [`MessageError::InvalidValue`].
    InvalidValue,
}

impl MessageErrorKind {
    /// A stable snake_case name, e.g. `"text_too_long"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EmptyText => "empty_text",
            Self::TextTooLong => "text_too_long",
            Self::TooManyQuickReplies => "too_many_quick_replies",
            Self::NoAttachments => "no_attachments",
            Self::TooManyAttachments => "too_many_attachments",
            Self::NoElements => "no_elements",
            Self::TooManyElements => "too_many_elements",
            Self::TooManyButtons => "too_many_buttons",
            Self::Empty => "empty",
            Self::InvalidUrl => "invalid_url",
            Self::InvalidId => "invalid_id",
            Self::TooLong => "too_long",
            Self::WrongCount => "wrong_count",
            Self::Duplicate => "duplicate",
            Self::NotAllowed => "not_allowed",
            Self::InvalidValue => "invalid_value",
        }
    }
}

impl fmt::Display for MessageErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can stop a Send/Graph API call.
///
/// Errors come from three places, and the variant tells which:
///
/// * **refused locally, nothing sent** — an invalid message or id
///   ([`GraphError::Invalid`]), a closed messaging window ([`GraphError::WindowClosed`]), an
///   account paused by Meta's rate limiting ([`GraphError::AccountPaused`]) or an account whose
///   token Meta already rejected ([`GraphError::TokenRejected`]);
/// * **Meta answered** — with its Graph error envelope ([`GraphError::Graph`]), with an error
///   status and no envelope ([`GraphError::Status`]), or with a success status and a body that is
///   not what the operation returns ([`GraphError::Decode`]);
/// * **the network failed** — before the request left ([`GraphError::Transport`]), or after it
///   may have reached Meta ([`GraphError::OutcomeUnknown`]).
///
/// Inspect it with [`GraphError::kind`], which folds all of them into one [`GraphErrorKind`]
/// to branch on and to log; [`GraphError::is_retryable`] and [`GraphError::is_local`] are
/// the two classifications that cut across kinds (is sending the same request again safe;
/// was any request made). The variants carry the details.
///
/// No variant holds a token, a full URL or a third-party type: Graph messages are scrubbed of
/// the token that was used, and transport failures keep only reqwest's URL-less description.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Refused locally: the message, an id or an option is invalid. Nothing was sent.
    #[error("not sent: {0}")]
    Invalid(#[from] MessageError),
    /// Refused locally: the messaging window is closed. Nothing was sent.
    #[error(transparent)]
    WindowClosed(#[from] WindowClosed),
    /// Refused locally: the account is paused by rate limiting. Nothing was sent.
    #[error(transparent)]
    AccountPaused(#[from] AccountPaused),
    /// Refused locally: Meta rejected this account's token (code 190/102) and the same token
    /// was used again. Nothing was sent; build the account with a new token.
    #[error("account {0} needs a new access token; nothing was sent")]
    TokenRejected(AccountId),
    /// Meta answered with a Graph error envelope.
    #[error(transparent)]
    Graph(Box<GraphFailure>),
    /// Meta answered with an error status and no envelope, outcome known.
    #[error(transparent)]
    Status(StatusFailure),
    /// The network failed where the outcome is known (connect, or a read).
    #[error(transparent)]
    Transport(TransportFailure),
    /// A write whose outcome is unknown. Not retried; counted.
    #[error(transparent)]
    OutcomeUnknown(OutcomeUnknown),
    /// A success status with an unexpected body.
    #[error(transparent)]
    Decode(DecodeFailure),
}

impl GraphError {
    /// The classification to branch on.
    pub fn kind(&self) -> GraphErrorKind {
        match self {
            Self::Invalid(_) => GraphErrorKind::InvalidRequest,
            Self::WindowClosed(_) => GraphErrorKind::OutsideWindow,
            Self::AccountPaused(_) => GraphErrorKind::RateLimited,
            Self::TokenRejected(_) => GraphErrorKind::Auth,
            Self::Graph(failure) => failure.error.kind(),
            Self::Status(failure) => failure.kind,
            Self::Transport(_) => GraphErrorKind::Transient,
            Self::OutcomeUnknown(_) => GraphErrorKind::OutcomeUnknown,
            Self::Decode(_) => GraphErrorKind::Decode,
        }
    }

    /// `true` when the same request may be sent again (later) without any risk of acting
    /// twice: rate limits, documented transient errors and failures before the request left.
    /// Never `true` for [`OutcomeUnknown`](Self::OutcomeUnknown).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// `true` when the error was decided locally and no request was made.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Self::Invalid(_)
                | Self::WindowClosed(_)
                | Self::AccountPaused(_)
                | Self::TokenRejected(_)
        )
    }

    /// The HTTP status Meta answered with, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Graph(failure) => Some(failure.status),
            Self::Status(failure) => Some(failure.status),
            Self::Decode(failure) => Some(failure.status),
            Self::OutcomeUnknown(OutcomeUnknown {
                reason: UnknownReason::ServerError(status),
            }) => Some(*status),
            _ => None,
        }
    }

    /// The Graph error envelope, when Meta sent one.
    pub fn error_body(&self) -> Option<&GraphErrorBody> {
        match self {
            Self::Graph(failure) => Some(&failure.error),
            _ => None,
        }
    }

    /// How long to wait before trying again, when known: Meta's `Retry-After` or
    /// `estimated_time_to_regain_access`, or the rest of a local account pause.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Graph(failure) => failure.retry_after,
            Self::Status(failure) => failure.retry_after,
            Self::AccountPaused(paused) => Some(paused.remaining),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(code: i64, subcode: Option<i64>) -> GraphErrorBody {
        GraphErrorBody {
            message: "m".into(),
            error_type: None,
            code: Some(code),
            error_subcode: subcode,
            error_user_title: None,
            error_user_msg: None,
            fbtrace_id: None,
            is_transient: None,
            details: None,
        }
    }

    #[test]
    fn classification_table() {
        use GraphErrorKind::*;
        let table: &[(i64, Option<i64>, GraphErrorKind)] = &[
            (10, Some(2_018_278), OutsideWindow),
            (10, Some(2_534_022), OutsideWindow),
            (4, None, RateLimited),
            (17, None, RateLimited),
            (32, None, RateLimited),
            (341, None, RateLimited),
            (613, None, RateLimited),
            (613, Some(2_534_040), RateLimited),
            (613, Some(2_018_338), Other),
            (613, Some(1_893_016), Other),
            (80_002, None, RateLimited),
            (80_006, None, RateLimited),
            (190, None, Auth),
            (190, Some(460), Auth),
            (102, None, Auth),
            (551, None, UserUnavailable),
            (551, Some(1_545_041), UserUnavailable),
            (10, Some(2_018_108), UserUnavailable),
            (10, None, Permission),
            (3, None, Permission),
            (200, Some(2_534_041), Permission),
            (299, None, Permission),
            (100, None, InvalidParameter),
            (100, Some(2_018_001), InvalidParameter),
            (100, Some(2_534_025), InvalidParameter),
            (1, None, Transient),
            (2, None, Transient),
            (2, Some(2_018_344), Other),
            (368, None, Other),
            (2_018_300, None, Other),
            (9_000_001, None, Other),
            // WhatsApp Cloud API.
            (131_047, None, OutsideWindow),
            (130_429, None, RateLimited),
            (131_048, None, RateLimited),
            (131_056, None, RateLimited),
            (132_069, None, RateLimited),
            (133_008, None, RateLimited),
            (133_016, None, RateLimited),
            (0, None, Auth),
            (131_026, None, UserUnavailable),
            (131_049, None, UserUnavailable),
            (131_050, None, UserUnavailable),
            (131_005, None, Permission),
            (131_030, Some(2_655_007), Permission),
            (33, None, InvalidParameter),
            (131_008, None, InvalidParameter),
            (131_009, None, InvalidParameter),
            (131_021, None, InvalidParameter),
            (131_051, None, InvalidParameter),
            (131_053, None, InvalidParameter),
            (135_000, None, InvalidParameter),
            (132_000, None, InvalidParameter),
            (132_001, None, InvalidParameter),
            (132_005, None, InvalidParameter),
            (132_007, None, InvalidParameter),
            (132_008, None, InvalidParameter),
            (132_012, None, InvalidParameter),
            (131_000, None, Transient),
            (131_016, None, Transient),
            (131_057, None, Transient),
            (133_004, None, Transient),
            (131_031, None, Other),
            (131_037, None, Other),
            (131_042, None, Other),
            (131_045, None, Other),
            (131_052, None, Other),
            (132_015, None, Other),
            (132_016, None, Other),
            (132_068, None, Other),
            (133_010, None, Other),
        ];
        for &(code, sub, kind) in table {
            assert_eq!(graph(code, sub).kind(), kind, "{code}/{sub:?}");
        }
    }

    #[test]
    fn is_transient_flag_makes_unknown_codes_transient_but_not_terminal_ones() {
        let mut e = graph(999, None);
        e.is_transient = Some(true);
        assert_eq!(e.kind(), GraphErrorKind::Transient);
        let mut e = graph(100, None);
        e.is_transient = Some(true);
        assert_eq!(e.kind(), GraphErrorKind::InvalidParameter);
        let mut e = graph(613, Some(2_018_338));
        e.is_transient = Some(true);
        assert_eq!(e.kind(), GraphErrorKind::Other);
        // Without an envelope, the flag is not there to consult.
        assert_eq!(GraphErrorKind::from_code(999, None), GraphErrorKind::Other);
        assert_eq!(
            GraphErrorKind::from_code(131_056, None),
            GraphErrorKind::RateLimited
        );
    }

    #[test]
    fn envelope_is_parsed_leniently() {
        let e = GraphErrorBody::from_body(
            br#"{"error":{"message":"x","code":"613","error_subcode":"2534040","is_transient":false,"extra":{"a":1}}}"#,
        )
        .unwrap();
        assert_eq!(e.code, Some(613));
        assert_eq!(e.error_subcode, Some(2_534_040));
        assert_eq!(e.is_transient, Some(false));
        assert!(GraphErrorBody::from_body(br#"{"error":{}}"#).is_none());
        assert!(GraphErrorBody::from_body(br#"{"error":"nope"}"#).is_none());
        assert!(GraphErrorBody::from_body(b"").is_none());
        assert!(GraphErrorBody::from_body(br#"{"id":"1"}"#).is_none());
    }

    #[test]
    fn whatsapp_details_and_default_delays() {
        let e = GraphErrorBody::from_body(
            br#"{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},"fbtrace_id":"AbC"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind(), GraphErrorKind::RateLimited);
        assert!(
            e.details
                .as_deref()
                .unwrap()
                .starts_with("Message failed to send")
        );
        assert_eq!(e.default_retry_after(), Some(Duration::from_secs(6)));
        assert!(!e.limits_whole_account());
        let throughput = graph(130_429, None);
        assert_eq!(
            throughput.default_retry_after(),
            Some(Duration::from_secs(1))
        );
        assert!(throughput.limits_whole_account());
        assert_eq!(graph(4, None).default_retry_after(), None);
        // `error_data` of another shape is ignored.
        let e =
            GraphErrorBody::from_body(br#"{"error":{"message":"m","code":100,"error_data":"x"}}"#)
                .unwrap();
        assert_eq!(e.details, None);
    }

    #[test]
    fn redact_removes_the_token_from_texts() {
        let mut e = graph(190, None);
        e.message = "Invalid token EAAGsecret given".into();
        e.error_user_msg = Some("EAAGsecret".into());
        e.details = Some("token EAAGsecret".into());
        e.redact("EAAGsecret");
        assert_eq!(e.details.as_deref(), Some("token [redacted]"));
        assert_eq!(e.message, "Invalid token [redacted] given");
        assert_eq!(e.error_user_msg.as_deref(), Some("[redacted]"));
    }

    #[test]
    fn display_names_code_and_trace() {
        let mut e = graph(10, Some(2_018_278));
        e.error_type = Some("OAuthException".into());
        e.fbtrace_id = Some("T1".into());
        let failure = GraphError::Graph(Box::new(GraphFailure {
            status: StatusCode::BAD_REQUEST,
            error: e,
            retry_after: None,
        }));
        assert_eq!(
            failure.to_string(),
            "Graph API error on HTTP 400: code 10/2018278 (OAuthException): m [fbtrace_id T1]"
        );
        assert_eq!(failure.kind(), GraphErrorKind::OutsideWindow);
        assert_eq!(failure.status(), Some(StatusCode::BAD_REQUEST));
        assert!(!failure.is_retryable());
    }
}
