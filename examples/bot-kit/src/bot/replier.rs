//! Where replies go: Meta's Send API, or stdout in dry-run mode.

use meta_webhooks::client::{GraphClient, Message, SenderAction};
use meta_webhooks::payload::{AccountId, CommentId, UserId};

use super::{BotError, BotErrorKind};
use crate::config::{Accounts, Config, Sending};
use crate::tokens::LiveTokens;

/// Where replies go: Meta's Send API, or stdout in dry-run mode.
#[derive(Debug, Clone)]
pub enum Replier {
    /// Print each reply instead of sending it.
    DryRun,
    /// Send through the Send API, each account with its own token.
    Live {
        /// The process-wide client.
        client: GraphClient,
        /// The served accounts and their configured tokens.
        accounts: Accounts,
        /// The tokens replies are sent with: the configured ones, or newer ones a refresh
        /// brought ([`TokenKeeper`](crate::tokens::TokenKeeper)).
        tokens: LiveTokens,
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
                    tokens: LiveTokens::from_accounts(accounts),
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
            Self::Live { client, tokens, .. } => match tokens.get(account) {
                Some(token) => Ok(Some(client.account(account.clone(), token))),
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
