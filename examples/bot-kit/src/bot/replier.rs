//! Where replies go: Meta's Send API (Instagram and Messenger), the WhatsApp Cloud API, or
//! stdout in dry-run mode.

use meta_webhooks::client::{GraphClient, Message, MessagingWindow, SenderAction, WaOutgoing};
use meta_webhooks::payload::{AccountId, CommentId, MessageId, UserId};

use super::{BotError, BotErrorKind};
use crate::config::{Accounts, Config, Sending, WhatsAppNumber};
use crate::tokens::LiveTokens;

/// Where replies go. Each channel is live or dry on its own: Instagram and Messenger replies
/// go through the Send API when accounts are configured (`IG_PAGE_TOKEN`,
/// `ACCOUNTS_FILE`), WhatsApp replies through the Cloud API when `WA_TOKEN` is; a channel
/// without its token prints its replies instead (dry run), for every account.
#[derive(Debug, Clone)]
pub struct Replier {
    /// The process-wide client, when a channel is live.
    client: Option<GraphClient>,
    /// The served Instagram and Facebook Page accounts; `None`: dry run.
    accounts: Option<Accounts>,
    /// The tokens those accounts send with: the configured ones, or newer ones a refresh
    /// brought ([`TokenKeeper`](crate::tokens::TokenKeeper)).
    tokens: Option<LiveTokens>,
    /// The WhatsApp number; `None`: dry run.
    whatsapp: Option<WhatsAppNumber>,
    /// The client of the WhatsApp calls, with a live number: `client`, or one on
    /// graph.facebook.com when `client` is on Instagram's host
    /// ([`Config::whatsapp_graph_base`]).
    whatsapp_client: Option<GraphClient>,
}

impl Replier {
    /// The replier the configuration asks for.
    ///
    /// # Errors
    ///
    /// [`BotError`] ([`BotErrorKind::Config`]) when the Send API client cannot be built
    /// (e.g. an invalid `GRAPH_API_BASE`).
    pub fn from_config(config: &Config) -> Result<Self, BotError> {
        let accounts = match &config.sending {
            Sending::DryRun => None,
            Sending::Live(accounts) => Some(accounts.clone()),
        };
        let tokens = accounts.as_ref().map(LiveTokens::from_accounts);
        let whatsapp = config.whatsapp.clone();
        let client = if accounts.is_some() || whatsapp.is_some() {
            // One client for both when it can: the WhatsApp Cloud API lives on
            // graph.facebook.com, as the Messenger Platform does (`GRAPH_API_BASE` points
            // both elsewhere, e.g. at a mock).
            Some(graph_client(config, &config.graph_api_base)?)
        } else {
            None
        };
        let whatsapp_client = match (&client, &whatsapp) {
            (Some(client), Some(_)) if config.whatsapp_graph_base() == config.graph_api_base => {
                Some(client.clone())
            }
            (_, Some(_)) => Some(graph_client(config, &config.whatsapp_graph_base())?),
            (_, None) => None,
        };
        Ok(Self {
            client,
            whatsapp_client,
            accounts,
            tokens,
            whatsapp,
        })
    }

    /// The client, the configured accounts and their live tokens, when Instagram and
    /// Messenger replies are sent (for the [`TokenKeeper`](crate::tokens::TokenKeeper)).
    pub(crate) fn live_accounts(&self) -> Option<(&GraphClient, &Accounts, &LiveTokens)> {
        Some((
            self.client.as_ref()?,
            self.accounts.as_ref()?,
            self.tokens.as_ref()?,
        ))
    }

    /// The client and the WhatsApp number, when WhatsApp replies are sent (for the
    /// [`TokenKeeper`](crate::tokens::TokenKeeper)).
    pub(crate) fn live_whatsapp(&self) -> Option<(&GraphClient, &WhatsAppNumber)> {
        Some((self.whatsapp_client.as_ref()?, self.whatsapp.as_ref()?))
    }

    /// `true` when Instagram and Messenger replies are printed, not sent.
    pub fn is_dry_run(&self) -> bool {
        self.accounts.is_none()
    }

    /// `true` when WhatsApp replies are printed, not sent.
    pub fn is_whatsapp_dry_run(&self) -> bool {
        self.whatsapp.is_none()
    }

    fn account(
        &self,
        account: &AccountId,
    ) -> Result<Option<meta_webhooks::client::Account>, BotError> {
        let (Some(client), Some(tokens)) = (&self.client, &self.tokens) else {
            return Ok(None);
        };
        match tokens.get(account) {
            Some(token) => Ok(Some(client.account(account.clone(), token))),
            None => Err(BotError::new(
                BotErrorKind::UnknownAccount,
                format!("no token for account {account}"),
            )),
        }
    }

    fn whatsapp_number(
        &self,
        phone_number_id: &AccountId,
    ) -> Result<Option<meta_webhooks::client::WhatsApp>, BotError> {
        let (Some(client), Some(number)) = (&self.whatsapp_client, &self.whatsapp) else {
            return Ok(None);
        };
        if number.phone_number_id() != phone_number_id {
            return Err(BotError::new(
                BotErrorKind::UnknownAccount,
                format!("no token for WhatsApp phone number id {phone_number_id}"),
            ));
        }
        Ok(Some(client.whatsapp(
            number.phone_number_id().clone(),
            number.token().clone(),
        )))
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

    /// Sends (or prints) a WhatsApp text reply from the business number `phone_number_id`
    /// to the person `to` (their `wa_id`) inside `window`, the 24 h customer service window
    /// their last message opened; returns the sent message's wamid.
    ///
    /// # Errors
    ///
    /// [`BotError`] when the number is not the configured one, the window has closed
    /// (nothing is sent: only a template may go out then) or the Cloud API failed.
    pub async fn whatsapp_text(
        &self,
        phone_number_id: &AccountId,
        to: &UserId,
        text: &str,
        window: MessagingWindow,
    ) -> Result<Option<String>, BotError> {
        match self.whatsapp_number(phone_number_id)? {
            None => {
                println!("[dry-run] reply to {to} via {phone_number_id}: {text}");
                Ok(None)
            }
            Some(number) => {
                let message = WaOutgoing::text(text).map_err(|e| BotError::send(e.into()))?;
                let sent = number
                    .send_in_window(to, &message, window)
                    .await
                    .map_err(BotError::send)?;
                Ok(Some(sent.message_id.as_str().to_owned()))
            }
        }
    }

    /// Marks (or prints marking) the inbound WhatsApp message `message` read — two blue
    /// ticks for the person — with the typing indicator when a reply follows.
    ///
    /// # Errors
    ///
    /// [`BotError`] when the number is not the configured one or the Cloud API failed.
    pub async fn mark_read(
        &self,
        phone_number_id: &AccountId,
        message: &MessageId,
        typing: bool,
    ) -> Result<(), BotError> {
        match self.whatsapp_number(phone_number_id)? {
            None => {
                let typing = if typing { " with typing indicator" } else { "" };
                println!("[dry-run] mark {message} read via {phone_number_id}{typing}");
                Ok(())
            }
            Some(number) => number
                .mark_read(message, typing)
                .await
                .map_err(BotError::send),
        }
    }
}

/// A Graph API client on `base` with the configured timeout.
fn graph_client(config: &Config, base: &url::Url) -> Result<GraphClient, BotError> {
    GraphClient::builder()
        .base_url(base.as_str().trim_end_matches('/'))
        .timeout(config.graph_timeout)
        .build()
        .map_err(|e| BotError::new(BotErrorKind::Config, e.to_string()))
}
