//! The messaging window: which `messaging_type` a reply may use, decided locally.

use std::time::{Duration, SystemTime};

use thiserror::Error;

use super::message::{MessageTag, MessagingType};

/// The standard messaging window: 24 hours after the person's last message.
pub const STANDARD_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The human agent window: 7 days after the person's last message, for replies written by
/// a person and sent with the `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Who wrote a reply: decides whether the 7-day human agent window applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Author {
    /// Written by a bot or any automation: only the 24-hour window.
    Automated,
    /// Written by a human agent: the 24-hour window, then `HUMAN_AGENT` up to 7 days.
    Human,
}

/// The window opened by a person's last inbound message.
///
/// Meta lets a business answer a person within **24 hours** of that person's last message
/// (`messaging_type: RESPONSE`). A reply written by a **human agent** may be sent up to
/// **7 days** after it with `messaging_type: MESSAGE_TAG` and `tag: HUMAN_AGENT` (the app needs
/// the Human Agent feature; automated use of the tag is prohibited). Anything later is refused
/// here with [`WindowClosed`], so no request is made that Meta would reject with
/// `10/2018278`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use meta_webhooks::client::{Author, MessageTag, MessagingType, MessagingWindow};
///
/// let now = SystemTime::now();
/// let hours = |h: u64| Duration::from_secs(h * 3600);
///
/// let window = MessagingWindow::new(now - hours(2));
/// assert_eq!(window.messaging_type(Author::Automated, now).unwrap(), MessagingType::Response);
///
/// let window = MessagingWindow::new(now - hours(30));
/// assert!(window.messaging_type(Author::Automated, now).is_err());
/// assert_eq!(
///     window.messaging_type(Author::Human, now).unwrap(),
///     MessagingType::MessageTag(MessageTag::HumanAgent),
/// );
///
/// let window = MessagingWindow::new(now - hours(8 * 24));
/// assert!(window.messaging_type(Author::Human, now).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessagingWindow {
    last_inbound: SystemTime,
}

impl MessagingWindow {
    /// The window opened by a message the person sent at `last_inbound` (the webhook event's
    /// timestamp).
    pub fn new(last_inbound: SystemTime) -> Self {
        Self { last_inbound }
    }

    /// When the person's last message arrived.
    pub fn last_inbound(&self) -> SystemTime {
        self.last_inbound
    }

    /// Time since the last inbound message; zero if it lies in the future (clock skew).
    pub fn elapsed(&self, now: SystemTime) -> Duration {
        now.duration_since(self.last_inbound).unwrap_or_default()
    }

    /// `true` while an automated reply may still be sent (less than 24 hours).
    pub fn is_open(&self, now: SystemTime) -> bool {
        self.elapsed(now) < STANDARD_WINDOW
    }

    /// The `messaging_type` a reply by `author` must use at `now`.
    ///
    /// # Errors
    ///
    /// [`WindowClosed`] when the reply may not be sent at all: after 24 hours for
    /// [`Author::Automated`], after 7 days for [`Author::Human`].
    pub fn messaging_type(
        &self,
        author: Author,
        now: SystemTime,
    ) -> Result<MessagingType, WindowClosed> {
        let elapsed = self.elapsed(now);
        if elapsed < STANDARD_WINDOW {
            return Ok(MessagingType::Response);
        }
        if author == Author::Human && elapsed < HUMAN_AGENT_WINDOW {
            return Ok(MessagingType::MessageTag(MessageTag::HumanAgent));
        }
        Err(WindowClosed { elapsed, author })
    }
}

/// Refused locally: the messaging window for this reply is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error(
    "messaging window closed: the person's last message was {}h ago (limit {}h for {} replies); nothing was sent",
    elapsed.as_secs() / 3600,
    limit(*author).as_secs() / 3600,
    match author { Author::Human => "human agent", Author::Automated => "automated" }
)]
#[non_exhaustive]
pub struct WindowClosed {
    /// Time since the person's last message.
    pub elapsed: Duration,
    /// Who the reply was for.
    pub author: Author,
}

fn limit(author: Author) -> Duration {
    match author {
        Author::Automated => STANDARD_WINDOW,
        Author::Human => HUMAN_AGENT_WINDOW,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let w = MessagingWindow::new(t0);
        let just_before = t0 + STANDARD_WINDOW - Duration::from_millis(1);
        assert_eq!(
            w.messaging_type(Author::Automated, just_before),
            Ok(MessagingType::Response)
        );
        let at_24h = t0 + STANDARD_WINDOW;
        let err = w.messaging_type(Author::Automated, at_24h).unwrap_err();
        assert_eq!(err.elapsed, STANDARD_WINDOW);
        assert_eq!(
            w.messaging_type(Author::Human, at_24h),
            Ok(MessagingType::MessageTag(MessageTag::HumanAgent))
        );
        let at_7d = t0 + HUMAN_AGENT_WINDOW;
        assert!(w.messaging_type(Author::Human, at_7d).is_err());
        assert!(err.to_string().contains("24h"), "{err}");
    }

    #[test]
    fn future_inbound_counts_as_now() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let w = MessagingWindow::new(t0 + Duration::from_secs(60));
        assert_eq!(w.elapsed(t0), Duration::ZERO);
        assert!(w.is_open(t0));
    }
}
