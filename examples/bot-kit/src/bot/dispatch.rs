//! The behaviour per event kind (the table in the [parent module's docs](super)): rules,
//! the GPT fallback, story replies and mentions, media, comment-to-DM, echoes and handoff,
//! on Instagram and Messenger and on WhatsApp.

use std::collections::{HashSet, VecDeque};
use std::sync::PoisonError;
use std::time::{Duration, SystemTime};

use meta_webhooks::client::MessagingWindow;
use meta_webhooks::event::{Channel, Event, EventData, EventKind, Participant};
use meta_webhooks::payload::{AccountId, MessageId, PolicyAction, Timestamp, UserId};

use super::{ACCEPTED_AT, Bot, BotError};
use crate::ai::AiOutcome;
use crate::notify::Escalation;
use crate::rules::Action;
use crate::state::{ConversationKey, ConversationStore as _, HistoryMessage};

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

/// How a conversation's replies leave, and what the inbound message is.
#[derive(Clone, Copy)]
enum Via<'a> {
    /// Instagram or Messenger: the Send API of the account (`POST /{account}/messages`).
    Graph,
    /// WhatsApp: the Cloud API of the business number.
    WhatsApp {
        /// The inbound message's wamid, to mark it read.
        wamid: Option<&'a MessageId>,
        /// When the person sent it: the start of the 24 h customer service window.
        at: SystemTime,
    },
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

/// The message ids this process sent, oldest first, at most [`SENT_MIDS_CAP`].
#[derive(Default)]
pub(super) struct SentMids {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Bot {
    pub(super) async fn dispatch(&self, event: &Event, kind: EventKind) -> Result<(), BotError> {
        let Some(account) = event.account().cloned() else {
            return Ok(());
        };
        if event.channel() == Channel::WhatsApp {
            return self.whatsapp(&account, event, kind).await;
        }
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
                self.text(Via::Graph, &account, user, text, event_time(event), stale)
                    .await
            }
            EventKind::StoryReply => {
                let Some(user) = event.sender().and_then(Participant::user_id) else {
                    return Ok(());
                };
                let text = event.text().unwrap_or_default();
                let reply = story_reply_intent(text);
                self.simple(
                    Via::Graph,
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
                    Via::Graph,
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
                    Via::Graph,
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
            EventKind::PolicyEnforcement => {
                self.policy_enforcement(&account, event);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A WhatsApp event: messages are answered as on Instagram (rules, GPT fallback,
    /// handoff; media acknowledged) and marked read; statuses and everything else get
    /// nothing. The conversation is the business number's `phone_number_id` + the
    /// person's `wa_id`.
    async fn whatsapp(
        &self,
        phone_number_id: &AccountId,
        event: &Event,
        kind: EventKind,
    ) -> Result<(), BotError> {
        let stale = event.is_older_than(self.inner.max_event_age, SystemTime::now());
        let via = Via::WhatsApp {
            wamid: event.mid(),
            at: event_time(event),
        };
        let user = event.sender().and_then(Participant::user_id);
        match (kind, user) {
            (EventKind::Status, _) => {
                // Counted by kind in `botkit_events_total`; never answered.
                if let EventData::WhatsAppStatus(status) = event.data() {
                    let status = &status.status;
                    let codes: Vec<String> = status
                        .errors
                        .iter()
                        .filter_map(|e| e.code.map(|c| c.to_string()))
                        .collect();
                    tracing::debug!(
                        wamid = status.id.as_ref().map_or("-", MessageId::as_str),
                        status = status.status.as_ref().map_or("-", |s| s.as_str()),
                        errors = codes.join(","),
                        "WhatsApp status: not answered"
                    );
                }
                Ok(())
            }
            // A message from a click-to-WhatsApp ad or about a catalog product carries the
            // person's text: answered as a text.
            (
                EventKind::Text
                | EventKind::QuickReply
                | EventKind::AdReferral
                | EventKind::ProductReferral,
                Some(user),
            ) => match event.text() {
                Some(text) => {
                    self.text(via, phone_number_id, user, text, event_time(event), stale)
                        .await
                }
                None => Ok(()),
            },
            (EventKind::Media, Some(user)) => {
                self.simple(
                    via,
                    phone_number_id,
                    user,
                    "[media]",
                    MEDIA_REPLY,
                    event_time(event),
                    stale,
                    "media",
                )
                .await
            }
            (EventKind::Order, Some(user)) => {
                // Recorded and marked read; a human handles the cart.
                tracing::info!("WhatsApp order received: recorded, not answered");
                let key = ConversationKey::new(phone_number_id.clone(), user.clone());
                let note = format!("[order] {}", event.text().unwrap_or_default());
                self.inner
                    .store
                    .append(&key, &[HistoryMessage::user(note, event_time(event))])
                    .await?;
                if !stale {
                    self.mark_read(via, phone_number_id, false).await;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// On WhatsApp, marks the inbound message read, with the typing indicator when a reply
    /// follows; nothing on Instagram and Messenger. A failure is logged and counted, and
    /// the reply still goes out.
    async fn mark_read(&self, via: Via<'_>, account: &AccountId, typing: bool) {
        let Via::WhatsApp {
            wamid: Some(wamid), ..
        } = via
        else {
            return;
        };
        if let Err(error) = self.inner.replier.mark_read(account, wamid, typing).await {
            self.inner.metrics.record_error("mark_read");
            tracing::warn!(%error, "marking the WhatsApp message read failed");
        }
    }

    #[allow(clippy::too_many_arguments, reason = "internal helper")]
    async fn text(
        &self,
        via: Via<'_>,
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
        if !window_open(at) {
            tracing::info!(
                "the 24 h messaging window of this message has closed: recorded, not answered"
            );
            return Ok(());
        }
        if conversation.is_handoff() {
            tracing::debug!("conversation in handoff: no auto-reply");
            self.mark_read(via, account, false).await;
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
                self.mark_read(via, account, true).await;
                self.escalate(via, &key, &id, text, &reply).await
            }
            Some((_, action)) => {
                let reply = action.text().to_owned();
                self.mark_read(via, account, true).await;
                self.send(via, &key, &reply, "rule").await
            }
            None => {
                match via {
                    Via::Graph => {
                        if let Err(error) = self.inner.replier.typing(account, user).await {
                            tracing::warn!(%error, "typing indicator failed");
                        }
                    }
                    // WhatsApp's typing indicator comes with marking the message read.
                    Via::WhatsApp { .. } => self.mark_read(via, account, true).await,
                }
                let outcome = self.inner.gpt.reply(&conversation.history).await;
                match outcome {
                    AiOutcome::Handoff => {
                        self.escalate(via, &key, "gpt", text, HANDOFF_REPLY).await
                    }
                    other => match other.text() {
                        Some(reply) => {
                            let reply = reply.to_owned();
                            self.send(via, &key, &reply, &format!("gpt_{}", other.label()))
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
        via: Via<'_>,
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
        if stale || !window_open(at) {
            return Ok(());
        }
        if conversation.is_handoff() {
            self.mark_read(via, account, false).await;
            return Ok(());
        }
        self.mark_read(via, account, true).await;
        self.send(via, &key, reply, source).await
    }

    async fn comment(
        &self,
        account: &AccountId,
        event: &Event,
        stale: bool,
    ) -> Result<(), BotError> {
        // An Instagram comment, or a comment on a Facebook Page post (a Page feed change).
        let (comment_id, text, author) = match event.data() {
            EventData::Comment(comment) => (
                comment.comment_id(),
                comment.text.as_deref(),
                comment.author_id(),
            ),
            EventData::Feed(feed) => (
                feed.comment_id.as_ref(),
                feed.message.as_deref(),
                feed.author_id(),
            ),
            _ => return Ok(()),
        };
        let (Some(comment_id), Some(text)) = (comment_id, text) else {
            return Ok(());
        };
        // Never answer the business's own comments (`from.id` is the account).
        if author.is_some_and(|a| a.as_str() == account.as_str()) {
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
        if let Some(user) = author {
            let key = ConversationKey::new(account.clone(), user.clone());
            self.record_sent(&key, &reply).await;
        }
        Ok(())
    }

    /// Meta warned, blocked or unblocked the Page's messaging: logged (a block or a
    /// warning at warn level) and counted by action.
    fn policy_enforcement(&self, account: &AccountId, event: &Event) {
        let EventData::PolicyEnforcement(policy) = event.data() else {
            return;
        };
        let action = policy.action.as_ref().map_or("unknown", |a| a.as_str());
        self.inner.metrics.record_policy_enforcement(action);
        let reason = policy.reason.as_deref().unwrap_or("-");
        if policy.action == Some(PolicyAction::Unblock) {
            tracing::info!(account = %account, action, "Meta lifted the messaging block");
        } else {
            tracing::warn!(
                account = %account,
                action,
                reason,
                "Meta reports a Messenger policy violation for this Page"
            );
        }
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
        via: Via<'_>,
        key: &ConversationKey,
        reason: &str,
        last_message: &str,
        reply: &str,
    ) -> Result<(), BotError> {
        let changed = self.inner.store.set_handoff(key, reason).await?;
        self.send(via, key, reply, "handoff").await?;
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

    async fn send(
        &self,
        via: Via<'_>,
        key: &ConversationKey,
        text: &str,
        source: &str,
    ) -> Result<(), BotError> {
        let replier = &self.inner.replier;
        let mid = match via {
            Via::Graph => replier.text(key.account(), key.user(), text).await?,
            Via::WhatsApp { at, .. } => {
                replier
                    .whatsapp_text(key.account(), key.user(), text, MessagingWindow::new(at))
                    .await?
            }
        };
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

/// Whether a reply to a message the person sent `at` is inside the 24 h window (a free-form
/// message outside it is refused by Meta: on WhatsApp, only a template may be sent).
fn window_open(at: SystemTime) -> bool {
    MessagingWindow::new(at).is_open(SystemTime::now())
}

fn event_time(event: &Event) -> SystemTime {
    event
        .timestamp()
        .map_or_else(SystemTime::now, Timestamp::to_system_time)
}
