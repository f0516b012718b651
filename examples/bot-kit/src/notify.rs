//! Escalation notifications to a Slack-compatible incoming webhook (`NOTIFY_WEBHOOK_URL`).
//!
//! [`Notifier::escalation`] POSTs `{"text": "…"}` (the body Slack, Mattermost, Rocket.Chat
//! and Discord's `/slack` endpoints accept) naming the account, the person, the reason
//! and the person's last message, with a bounded timeout (default 5 s) and no redirects.
//! The text carries no secrets; the webhook URL itself is a credential and never appears
//! in an error or a log line.
//!
//! ```
//! use bot_kit::notify::Escalation;
//!
//! let e = Escalation::new("17841400000000000", "6934581207719432", "human_handoff")
//!     .with_last_message("I want to talk to a person <now>");
//! assert_eq!(
//!     e.text(),
//!     "Conversation handed to a human: account 17841400000000000, user 6934581207719432 \
//!      (reason: human_handoff). Last message: \"I want to talk to a person &lt;now&gt;\". \
//!      Resolve with POST /admin/conversations/17841400000000000/6934581207719432/resolve"
//! );
//! ```

use std::time::Duration;

use meta_webhooks::payload::{AccountId, UserId};
use serde::Serialize;
use thiserror::Error;

use crate::secret::Secret;

/// Default timeout of one notification.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Characters of the last message quoted in a notification.
pub const QUOTE_CHARS: usize = 200;

/// What to tell the humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    account: AccountId,
    user: UserId,
    reason: String,
    last_message: Option<String>,
}

impl Escalation {
    /// An escalation of the conversation of `user` with `account`, because of `reason`
    /// (a rule id, `gpt`, `inbox_reply`, …).
    pub fn new(
        account: impl Into<AccountId>,
        user: impl Into<UserId>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            account: account.into(),
            user: user.into(),
            reason: reason.into(),
            last_message: None,
        }
    }

    /// Quotes the person's last message (its first [`QUOTE_CHARS`] characters).
    pub fn with_last_message(mut self, text: impl Into<String>) -> Self {
        self.last_message = Some(text.into());
        self
    }

    /// The notification text (Slack `mrkdwn`: `&`, `<`, `>` escaped).
    pub fn text(&self) -> String {
        let mut text = format!(
            "Conversation handed to a human: account {}, user {} (reason: {}).",
            escape(self.account.as_str()),
            escape(self.user.as_str()),
            escape(&self.reason)
        );
        if let Some(message) = &self.last_message {
            let mut quoted: String = message.chars().take(QUOTE_CHARS).collect();
            if message.chars().count() > QUOTE_CHARS {
                quoted.push('…');
            }
            text.push_str(&format!(
                " Last message: \"{}\".",
                escape(&quoted.replace(['\n', '\r'], " "))
            ));
        }
        text.push_str(&format!(
            " Resolve with POST /admin/conversations/{}/{}/resolve",
            escape(self.account.as_str()),
            escape(self.user.as_str())
        ));
        text
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Serialize)]
struct SlackBody {
    text: String,
}

/// What went wrong sending a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifyErrorKind {
    /// No answer within the timeout.
    Timeout,
    /// The connection failed.
    Transport,
    /// The webhook answered with a non-2xx status.
    Status,
    /// The notifier is misconfigured.
    Config,
}

/// A failed notification. Never contains the webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("escalation notification: {detail}")]
pub struct NotifyError {
    kind: NotifyErrorKind,
    status: Option<u16>,
    detail: String,
}

impl NotifyError {
    fn new(kind: NotifyErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> NotifyErrorKind {
        self.kind
    }

    /// The webhook's HTTP status for [`NotifyErrorKind::Status`].
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// `true` for [`NotifyErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.kind == NotifyErrorKind::Timeout
    }
}

/// Sends escalation notifications, or does nothing when no URL is configured. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Notifier {
    url: Option<Secret>,
    http: reqwest::Client,
}

impl Notifier {
    /// A notifier posting to `url` (none: notifications are skipped) with `timeout`.
    ///
    /// # Errors
    ///
    /// [`NotifyErrorKind::Config`] when the HTTP client cannot be built.
    pub fn new(url: Option<Secret>, timeout: Duration) -> Result<Self, NotifyError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                NotifyError::new(
                    NotifyErrorKind::Config,
                    format!("cannot build the HTTP client: {}", e.without_url()),
                )
            })?;
        Ok(Self { url, http })
    }

    /// `true` when a webhook URL is configured.
    pub fn is_enabled(&self) -> bool {
        self.url.is_some()
    }

    /// Posts `escalation`. Returns `Ok(false)` when no URL is configured, `Ok(true)` when
    /// the webhook accepted it (2xx).
    ///
    /// # Errors
    ///
    /// [`NotifyError`] on timeout, connection failure or a non-2xx answer.
    pub async fn escalation(&self, escalation: &Escalation) -> Result<bool, NotifyError> {
        let Some(url) = &self.url else {
            return Ok(false);
        };
        let body = SlackBody {
            text: escalation.text(),
        };
        let response = self
            .http
            .post(url.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                let kind = if e.is_timeout() {
                    NotifyErrorKind::Timeout
                } else {
                    NotifyErrorKind::Transport
                };
                NotifyError::new(kind, format!("request failed: {}", e.without_url()))
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(NotifyError {
                kind: NotifyErrorKind::Status,
                status: Some(status.as_u16()),
                detail: format!("the webhook answered {}", status.as_u16()),
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_multiline_messages_are_quoted_short_on_one_line() {
        let e =
            Escalation::new("1", "2", "gpt").with_last_message(format!("a\nb{}", "x".repeat(300)));
        let text = e.text();
        assert!(text.contains("Last message: \"a bxxx"));
        assert!(text.contains("…\"."));
        assert!(!text.contains('\n'));
        assert_eq!(text.matches('x').count(), QUOTE_CHARS - 3);
    }

    #[tokio::test]
    async fn without_url_nothing_is_sent() {
        let n = Notifier::new(None, DEFAULT_TIMEOUT).unwrap();
        assert!(!n.is_enabled());
        assert!(!n.escalation(&Escalation::new("1", "2", "r")).await.unwrap());
    }
}
