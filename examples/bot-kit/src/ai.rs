//! GPT fallback for messages no rule matched.
//!
//! [`GptFallback::reply`] sends the last [`HISTORY_MESSAGES`] messages of the conversation
//! to an OpenAI-compatible chat completions endpoint (`{base_url}/chat/completions`,
//! through [`async_openai`]) with a short [`SYSTEM_PROMPT`], at most [`MAX_TOKENS`]
//! output tokens (`max_completion_tokens`) and an overall timeout (default 8 s), and
//! returns an [`AiOutcome`]:
//!
//! * [`AiOutcome::Reply`]: the model's answer (trimmed, at most 1000 bytes).
//! * [`AiOutcome::Handoff`]: the answer contains `[HANDOFF]` anywhere (or the model
//!   refused): escalate to a human.
//! * [`AiOutcome::Failed`]: timeout, transport or API error, or an empty answer; the
//!   error is logged and the outcome carries a safe canned reply ([`CANNED_ERROR_REPLY`]).
//! * [`AiOutcome::Disabled`]: no API key configured; the outcome carries the canned
//!   "we'll get back to you" reply ([`CANNED_NO_KEY_REPLY`]).
//!
//! async-openai itself retries a `429`, a `5xx` or a refused connection up to 3 times
//! (100–400 ms apart, or as `Retry-After` says); all of that happens inside the timeout.
//!
//! Every branch but `Handoff` yields a text to send ([`AiOutcome::text`]). The caller
//! sends the typing indicator *before* calling [`GptFallback::reply`].
//!
//! History roles map to chat roles as `user` → `user`, `bot` and `human` → `assistant`
//! (both speak for the business).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest,
};
use thiserror::Error;

use crate::metrics::Metrics;
use crate::rules::MAX_TEXT_BYTES;
use crate::secret::Secret;
use crate::state::{HistoryMessage, Role};

/// Default `OPENAI_BASE_URL`.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Default `OPENAI_MODEL`.
pub const DEFAULT_MODEL: &str = "gpt-4o";

/// Default timeout of one model call (connect + answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// Output token limit of one answer.
pub const MAX_TOKENS: u32 = 200;

/// Number of history messages sent to the model (the newest ones).
pub const HISTORY_MESSAGES: usize = 8;

/// The marker that makes the model's answer an escalation.
pub const HANDOFF_MARKER: &str = "[HANDOFF]";

/// The system prompt (plain text, under 150 words).
pub const SYSTEM_PROMPT: &str = "You are the assistant of a small online shop, answering \
customers in Instagram direct messages. Reply in the customer's language, in plain text \
(no Markdown, no lists, no links unless the customer gave them), in at most three short \
sentences. Be friendly and concise. Never invent product facts: do not state prices, \
stock, sizes, colours, delivery times, discounts or policies unless they already appear \
in this conversation. If you are unsure, if the answer needs such facts, if the customer \
is upset or asks for a person, answer exactly [HANDOFF] and nothing else. Never ask for \
passwords or card details.";

/// Reply when no API key is configured.
pub const CANNED_NO_KEY_REPLY: &str =
    "Thanks for your message! We'll get back to you as soon as we can.";

/// Reply when the model call failed.
pub const CANNED_ERROR_REPLY: &str = "Thanks for your message! We can't answer right now, but someone from our team will get back to you soon.";

/// Settings of the GPT fallback (from `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
/// `OPENAI_MODEL`, `OPENAI_TIMEOUT_SECS`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AiConfig {
    /// The API key; `None` disables the model (canned reply).
    pub api_key: Option<Secret>,
    /// Base URL, up to and including the version path (default
    /// `https://api.openai.com/v1`); `/chat/completions` is appended.
    pub base_url: String,
    /// Model name (default `gpt-4o`).
    pub model: String,
    /// Timeout of one call (default 8 s).
    pub timeout: Duration,
    /// Output token limit (default 200).
    pub max_tokens: u32,
    /// History messages sent (default 8).
    pub history_messages: usize,
    /// System prompt (default [`SYSTEM_PROMPT`]).
    pub system_prompt: String,
}

/// `base_url` is shown with [`redact_url`](crate::secret::redact_url) (no `user:pass@`, no
/// query string); the key is `[redacted]`.
impl fmt::Debug for AiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &crate::secret::redact_url(&self.base_url))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_tokens", &self.max_tokens)
            .field("history_messages", &self.history_messages)
            .field("system_prompt", &self.system_prompt)
            .finish()
    }
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_tokens: MAX_TOKENS,
            history_messages: HISTORY_MESSAGES,
            system_prompt: SYSTEM_PROMPT.to_owned(),
        }
    }
}

impl AiConfig {
    /// Defaults with `api_key`.
    pub fn with_key(api_key: Secret) -> Self {
        Self {
            api_key: Some(api_key),
            ..Self::default()
        }
    }
}

/// The result of asking the model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AiOutcome {
    /// Send this answer.
    Reply(String),
    /// The model asked for a human (`[HANDOFF]`) or refused: escalate.
    Handoff,
    /// The call failed (already logged); send `reply`.
    Failed {
        /// The canned reply to send.
        reply: String,
        /// What failed.
        error: AiError,
    },
    /// No API key: send `reply`.
    Disabled {
        /// The canned reply to send.
        reply: String,
    },
}

impl AiOutcome {
    /// The text to send, or `None` for [`AiOutcome::Handoff`].
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Reply(text) => Some(text),
            Self::Failed { reply, .. } | Self::Disabled { reply } => Some(reply),
            Self::Handoff => None,
        }
    }

    /// `true` for [`AiOutcome::Handoff`].
    pub fn is_handoff(&self) -> bool {
        matches!(self, Self::Handoff)
    }

    /// A short label for metrics and logs: `reply`, `handoff`, `failed`, `disabled`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Reply(_) => "reply",
            Self::Handoff => "handoff",
            Self::Failed { .. } => "failed",
            Self::Disabled { .. } => "disabled",
        }
    }
}

/// What went wrong when asking the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AiErrorKind {
    /// No answer within the timeout.
    Timeout,
    /// The request could not be sent or the connection failed.
    Transport,
    /// The API answered with an error status.
    Api,
    /// The answer could not be decoded.
    Decode,
    /// The answer had no text.
    EmptyReply,
    /// There was no message to answer.
    NoInput,
    /// The fallback is misconfigured (e.g. an API key that cannot be sent in a header).
    Config,
}

/// A failed model call. Carries no API key, prompt or message text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("GPT fallback: {detail}")]
pub struct AiError {
    kind: AiErrorKind,
    status: Option<u16>,
    detail: String,
}

impl AiError {
    fn new(kind: AiErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> AiErrorKind {
        self.kind
    }

    /// The HTTP status of an [`AiErrorKind::Api`] error.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// `true` for [`AiErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.kind == AiErrorKind::Timeout
    }
}

/// The GPT fallback: an OpenAI client, or nothing when no key is configured. Cheap to
/// clone.
#[derive(Clone)]
pub struct GptFallback {
    client: Option<Client<OpenAIConfig>>,
    config: Arc<AiConfig>,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for GptFallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GptFallback")
            .field("enabled", &self.client.is_some())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GptFallback {
    /// Builds the fallback. Without an API key it only ever returns
    /// [`AiOutcome::Disabled`].
    ///
    /// # Errors
    ///
    /// [`AiErrorKind::Config`] when the API key is not printable ASCII (it could not be
    /// sent in an `Authorization` header) or the HTTP client cannot be built.
    pub fn new(config: AiConfig) -> Result<Self, AiError> {
        let client = match &config.api_key {
            None => None,
            Some(key) => {
                if key.expose().is_empty() || !key.expose().bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(AiError::new(
                        AiErrorKind::Config,
                        "the API key must be non-empty printable ASCII without spaces",
                    ));
                }
                let http = reqwest::Client::builder()
                    .connect_timeout(config.timeout)
                    .timeout(config.timeout)
                    .build()
                    .map_err(|e| {
                        AiError::new(
                            AiErrorKind::Config,
                            format!("cannot build the HTTP client: {}", e.without_url()),
                        )
                    })?;
                let openai = OpenAIConfig::new()
                    .with_api_base(config.base_url.trim_end_matches('/'))
                    .with_api_key(key.expose())
                    .with_org_id("")
                    .with_project_id("");
                Some(Client::build(http, openai))
            }
        };
        Ok(Self {
            client,
            config: Arc::new(config),
            metrics: None,
        })
    }

    /// Records every call in `metrics` (calls by outcome, latency).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// `true` when an API key is configured.
    pub fn is_enabled(&self) -> bool {
        self.client.is_some()
    }

    /// The settings.
    pub fn config(&self) -> &AiConfig {
        &self.config
    }

    /// The chat request for `history` (its newest [`AiConfig::history_messages`]
    /// messages after the system prompt).
    pub fn request(&self, history: &[HistoryMessage]) -> CreateChatCompletionRequest {
        let start = history.len().saturating_sub(self.config.history_messages);
        let recent = history.get(start..).unwrap_or_default();
        let mut messages = Vec::with_capacity(recent.len() + 1);
        messages.push(ChatCompletionRequestMessage::System(
            ChatCompletionRequestSystemMessage::from(self.config.system_prompt.as_str()),
        ));
        for m in recent {
            messages.push(match m.role {
                Role::User => ChatCompletionRequestMessage::User(
                    ChatCompletionRequestUserMessage::from(m.text.as_str()),
                ),
                Role::Bot | Role::Human => ChatCompletionRequestMessage::Assistant(
                    ChatCompletionRequestAssistantMessage::from(m.text.as_str()),
                ),
            });
        }
        CreateChatCompletionRequest {
            messages,
            model: self.config.model.clone(),
            max_completion_tokens: Some(self.config.max_tokens),
            ..CreateChatCompletionRequest::default()
        }
    }

    /// Asks the model to answer the conversation whose newest message (last in
    /// `history`) is the person's. Never fails: errors become [`AiOutcome::Failed`] with
    /// a canned reply, and are logged.
    pub async fn reply(&self, history: &[HistoryMessage]) -> AiOutcome {
        let Some(client) = &self.client else {
            return AiOutcome::Disabled {
                reply: CANNED_NO_KEY_REPLY.to_owned(),
            };
        };
        let started = Instant::now();
        let outcome = match self.call(client, history).await {
            Ok(answer) => interpret(&answer),
            Err(error) => {
                tracing::error!(
                    kind = ?error.kind(),
                    status = error.status(),
                    %error,
                    "GPT fallback failed; sending the canned reply"
                );
                AiOutcome::Failed {
                    reply: CANNED_ERROR_REPLY.to_owned(),
                    error,
                }
            }
        };
        if let Some(metrics) = &self.metrics {
            metrics.record_gpt_call(outcome.label(), started.elapsed());
        }
        outcome
    }

    async fn call(
        &self,
        client: &Client<OpenAIConfig>,
        history: &[HistoryMessage],
    ) -> Result<Option<String>, AiError> {
        if !history.iter().any(|m| m.role == Role::User) {
            return Err(AiError::new(
                AiErrorKind::NoInput,
                "no user message to answer",
            ));
        }
        let request = self.request(history);
        let response = tokio::time::timeout(self.config.timeout, client.chat().create(request))
            .await
            .map_err(|_| {
                AiError::new(
                    AiErrorKind::Timeout,
                    format!("no answer within {:?}", self.config.timeout),
                )
            })?
            .map_err(map_openai_error)?;
        let Some(choice) = response.choices.into_iter().next() else {
            return Err(AiError::new(
                AiErrorKind::EmptyReply,
                "the answer has no choices",
            ));
        };
        if choice.message.refusal.is_some() && choice.message.content.is_none() {
            return Ok(None);
        }
        Ok(Some(choice.message.content.unwrap_or_default()))
    }
}

/// `None` = refusal.
fn interpret(answer: &Option<String>) -> AiOutcome {
    let Some(answer) = answer else {
        return AiOutcome::Handoff;
    };
    if answer.contains(HANDOFF_MARKER) {
        return AiOutcome::Handoff;
    }
    let text = answer.trim();
    if text.is_empty() {
        let error = AiError::new(AiErrorKind::EmptyReply, "the model answered with no text");
        tracing::error!(kind = ?error.kind(), %error, "GPT fallback failed; sending the canned reply");
        return AiOutcome::Failed {
            reply: CANNED_ERROR_REPLY.to_owned(),
            error,
        };
    }
    AiOutcome::Reply(truncate_to_bytes(text, MAX_TEXT_BYTES))
}

/// Cuts `text` to at most `max` bytes on a character boundary, ending with `…` when cut.
fn truncate_to_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let ellipsis = '…';
    let budget = max.saturating_sub(ellipsis.len_utf8());
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() > budget {
            break;
        }
        end = i + c.len_utf8();
    }
    let mut out = text.get(..end).unwrap_or_default().trim_end().to_owned();
    out.push(ellipsis);
    out
}

fn map_openai_error(e: OpenAIError) -> AiError {
    match e {
        OpenAIError::Reqwest(e) => {
            let kind = if e.is_timeout() {
                AiErrorKind::Timeout
            } else if e.is_decode() {
                AiErrorKind::Decode
            } else {
                AiErrorKind::Transport
            };
            AiError::new(kind, format!("request failed: {}", e.without_url()))
        }
        OpenAIError::ApiError(response) => {
            // The API's message can quote part of the key ("Incorrect API key provided:
            // sk-ab***yz"), so only the status, type and code are kept.
            let api = &response.api_error;
            let mut detail = format!("API error {}", response.status_code.as_u16());
            if let Some(t) = &api.r#type {
                detail.push_str(&format!(" type={t}"));
            }
            if let Some(c) = &api.code {
                detail.push_str(&format!(" code={c}"));
            }
            AiError {
                kind: AiErrorKind::Api,
                status: Some(response.status_code.as_u16()),
                detail,
            }
        }
        OpenAIError::JSONDeserialize(e, _) => {
            AiError::new(AiErrorKind::Decode, format!("undecodable answer: {e}"))
        }
        other => AiError::new(AiErrorKind::Transport, kind_name(&other)),
    }
}

fn kind_name(e: &OpenAIError) -> &'static str {
    match e {
        OpenAIError::InvalidArgument(_) => "invalid request",
        OpenAIError::StreamError(_) => "stream error",
        _ => "client error",
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn system_prompt_is_short_plain_and_asks_for_handoff() {
        let words = SYSTEM_PROMPT.split_whitespace().count();
        assert!(words <= 150, "{words} words");
        assert!(SYSTEM_PROMPT.contains(HANDOFF_MARKER));
        assert!(SYSTEM_PROMPT.contains("Never invent product facts"));
        assert!(SYSTEM_PROMPT.contains("plain text"));
    }

    #[test]
    fn request_keeps_the_last_eight_messages_and_maps_roles() {
        let gpt = GptFallback::new(AiConfig::with_key(Secret::new("sk-test"))).unwrap();
        let now = SystemTime::now();
        let history: Vec<HistoryMessage> = (0..12)
            .map(|i| match i % 3 {
                0 => HistoryMessage::user(format!("u{i}"), now),
                1 => HistoryMessage::bot(format!("b{i}"), now),
                _ => HistoryMessage::human(format!("h{i}"), now),
            })
            .collect();
        let json = serde_json::to_value(gpt.request(&history)).unwrap();
        assert_eq!(json["model"], "gpt-4o");
        assert_eq!(json["max_completion_tokens"], 200);
        let messages = json["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 9);
        assert_eq!(messages[0]["role"], "system");
        assert_eq!(messages[1]["role"], "assistant");
        assert_eq!(messages[1]["content"], "b4");
        assert_eq!(messages[2]["content"], "h5");
        assert_eq!(messages[6]["role"], "user");
        assert_eq!(messages[6]["content"], "u9");
        assert_eq!(messages[7]["content"], "b10");
        assert_eq!(messages[8]["role"], "assistant");
        assert_eq!(messages[8]["content"], "h11");
    }

    #[test]
    fn interpret_detects_handoff_anywhere_and_empty_answers() {
        assert_eq!(
            interpret(&Some("  Hello!  ".to_owned())),
            AiOutcome::Reply("Hello!".to_owned())
        );
        assert!(interpret(&Some("I think [HANDOFF] is best".to_owned())).is_handoff());
        assert!(interpret(&Some("[HANDOFF]".to_owned())).is_handoff());
        assert!(interpret(&None).is_handoff());
        match interpret(&Some("  \n".to_owned())) {
            AiOutcome::Failed { reply, error } => {
                assert_eq!(reply, CANNED_ERROR_REPLY);
                assert_eq!(error.kind(), AiErrorKind::EmptyReply);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_answers_are_cut_on_a_char_boundary() {
        let arabic = "مرحبا ".repeat(200); // 11 bytes each → 2200 bytes
        let out = truncate_to_bytes(&arabic, MAX_TEXT_BYTES);
        assert!(out.len() <= MAX_TEXT_BYTES);
        assert!(out.ends_with('…'));
        assert_eq!(truncate_to_bytes("short", 10), "short");
    }

    #[test]
    fn keys_that_cannot_be_a_header_are_refused() {
        let err = GptFallback::new(AiConfig::with_key(Secret::new("sk-1\n2"))).unwrap_err();
        assert_eq!(err.kind(), AiErrorKind::Config);
        assert!(!err.to_string().contains("sk-1"));
    }

    #[tokio::test]
    async fn without_key_the_canned_reply_is_returned() {
        let gpt = GptFallback::new(AiConfig::default()).unwrap();
        assert!(!gpt.is_enabled());
        let outcome = gpt
            .reply(&[HistoryMessage::user("hi", SystemTime::now())])
            .await;
        assert_eq!(
            outcome,
            AiOutcome::Disabled {
                reply: CANNED_NO_KEY_REPLY.to_owned()
            }
        );
        assert_eq!(outcome.text(), Some(CANNED_NO_KEY_REPLY));
    }
}
