//! The accounts a bot serves (`IG_BUSINESS_ID` + `IG_PAGE_TOKEN`, and the `ACCOUNTS_FILE`
//! format) and how replies leave: [`Sending`]; the WhatsApp business phone number
//! (`WA_PHONE_NUMBER_ID` + `WA_TOKEN`): [`WhatsAppNumber`].

use std::collections::BTreeMap;

use meta_webhooks::AccessToken;
use meta_webhooks::payload::AccountId;
use toml::{Table, Value};

use super::env::{Env, is_account_id, is_header_safe};
use super::{ConfigError, ConfigErrorKind, vars};

/// The Instagram professional accounts a bot serves, each with its own access token,
/// keyed by account id (the webhook `entry[].id` routes an event to its account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    tokens: BTreeMap<AccountId, AccessToken>,
}

impl Accounts {
    /// The token of `account`, or `None` when the bot does not serve it.
    pub fn token(&self, account: &AccountId) -> Option<&AccessToken> {
        self.tokens.get(account)
    }

    /// `true` when the bot serves `account`.
    pub fn contains(&self, account: &AccountId) -> bool {
        self.tokens.contains_key(account)
    }

    /// The account ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = &AccountId> {
        self.tokens.keys()
    }

    /// `(id, token)` pairs, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&AccountId, &AccessToken)> {
        self.tokens.iter()
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// `true` when there is no account.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Adds an account; `false` (and no change) when the id is already present.
    pub(crate) fn insert(&mut self, id: AccountId, token: AccessToken) -> bool {
        if self.tokens.contains_key(&id) {
            return false;
        }
        self.tokens.insert(id, token);
        true
    }

    /// Parses an accounts file (see [the module docs](super#accounts-file)), resolving
    /// `page_token_env` through `lookup`. Errors name `ACCOUNTS_FILE` and the entry.
    pub(crate) fn parse_file(
        source: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<(AccountId, AccessToken)>, ConfigError> {
        let err = |kind, problem: String| ConfigError::new(vars::ACCOUNTS_FILE, kind, problem);
        let table: Table = source.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| source.get(..s.start).unwrap_or("").matches('\n').count() + 1);
            let message = e.message().trim().replace('\n', " ");
            match line {
                Some(line) => err(
                    ConfigErrorKind::Invalid,
                    format!("invalid TOML at line {line}: {message}"),
                ),
                None => err(ConfigErrorKind::Invalid, format!("invalid TOML: {message}")),
            }
        })?;
        if let Some(key) = table.keys().find(|k| k.as_str() != "accounts") {
            return Err(err(
                ConfigErrorKind::Invalid,
                format!("unknown top-level key {key:?} (expected [[accounts]] tables)"),
            ));
        }
        let items = match table.get("accounts") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) | None => {
                return Err(err(
                    ConfigErrorKind::Invalid,
                    "no [[accounts]] entries".to_owned(),
                ));
            }
            Some(_) => {
                return Err(err(
                    ConfigErrorKind::Invalid,
                    "`accounts` must be an array of tables ([[accounts]])".to_owned(),
                ));
            }
        };

        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = |problem: &str| {
                err(
                    ConfigErrorKind::Invalid,
                    format!("accounts[{i}]: {problem}"),
                )
            };
            let Value::Table(entry) = item else {
                return Err(at("must be a table"));
            };
            if let Some(key) = entry
                .keys()
                .find(|k| !matches!(k.as_str(), "business_id" | "page_token" | "page_token_env"))
            {
                return Err(at(&format!(
                    "unknown key {key:?} (expected business_id, page_token or page_token_env)"
                )));
            }
            let id = match entry.get("business_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Integer(n)) => n.to_string(),
                Some(_) => return Err(at("business_id must be a string or an integer")),
                None => return Err(at("missing business_id")),
            };
            if !is_account_id(&id) {
                return Err(at(
                    "business_id must be the numeric Instagram account id (digits only)",
                ));
            }
            let token = match (entry.get("page_token"), entry.get("page_token_env")) {
                (Some(_), Some(_)) => {
                    return Err(at("set page_token or page_token_env, not both"));
                }
                (Some(Value::String(token)), None) => token.clone(),
                (None, Some(Value::String(name))) => match lookup(name) {
                    Some(token) if !token.is_empty() => token,
                    _ => {
                        return Err(at(&format!(
                            "page_token_env names {name:?}, which is unset or empty"
                        )));
                    }
                },
                (None, None) => return Err(at("missing page_token or page_token_env")),
                _ => return Err(at("page_token and page_token_env must be strings")),
            };
            if !is_header_safe(&token) {
                return Err(at(
                    "the page token contains whitespace or non-ASCII characters (copy it again)",
                ));
            }
            let token = AccessToken::new(token).map_err(|_| at("the page token is empty"))?;
            out.push((AccountId::new(id), token));
        }
        Ok(out)
    }
}

/// How replies leave the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// No token configured: print each reply instead of sending it; every account id
    /// is served.
    DryRun,
    /// Send through the Graph API with each account's token; events for other
    /// accounts are not answered.
    Live(Accounts),
}

impl Sending {
    /// `true` for [`Sending::DryRun`].
    pub fn is_dry_run(&self) -> bool {
        matches!(self, Self::DryRun)
    }
}

/// `IG_BUSINESS_ID` + `IG_PAGE_TOKEN` and `ACCOUNTS_FILE`: live with their accounts, or
/// dry-run when none is configured.
pub(super) fn sending(env: &Env) -> Result<Sending, ConfigError> {
    let token = env.get(vars::IG_PAGE_TOKEN)?;
    let business_id = env.get(vars::IG_BUSINESS_ID)?;
    let mut accounts = Accounts::default();
    match (token, business_id) {
        (Some(token), Some(id)) => {
            if !is_account_id(id) {
                return Err(ConfigError::invalid(
                    vars::IG_BUSINESS_ID,
                    "expected the numeric Instagram professional account id (digits only)"
                        .to_owned(),
                ));
            }
            if !is_header_safe(token) {
                return Err(ConfigError::invalid(
                    vars::IG_PAGE_TOKEN,
                    "contains whitespace or non-ASCII characters (copy the token again)".to_owned(),
                ));
            }
            let token =
                AccessToken::new(token).map_err(|_| ConfigError::empty(vars::IG_PAGE_TOKEN))?;
            accounts.insert(AccountId::new(id), token);
        }
        (Some(_), None) => {
            return Err(ConfigError::new(
                vars::IG_BUSINESS_ID,
                ConfigErrorKind::Missing,
                "required when IG_PAGE_TOKEN is set (the Instagram professional account id the \
                 token belongs to)"
                    .to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                vars::IG_PAGE_TOKEN,
                ConfigErrorKind::Missing,
                "required when IG_BUSINESS_ID is set (unset both for dry-run mode)".to_owned(),
            ));
        }
        (None, None) => {}
    }
    if let Some(path) = env.get(vars::ACCOUNTS_FILE)? {
        let source = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                vars::ACCOUNTS_FILE,
                ConfigErrorKind::Unreadable,
                format!("cannot read {path}: {e}"),
            )
        })?;
        let entries = Accounts::parse_file(&source, |name| env.0.get(name).cloned())?;
        for (id, token) in entries {
            let shown = id.as_str().to_owned();
            if !accounts.insert(id, token) {
                return Err(ConfigError::new(
                    vars::ACCOUNTS_FILE,
                    ConfigErrorKind::Conflict,
                    format!("account {shown} is configured twice"),
                ));
            }
        }
    }
    Ok(if accounts.is_empty() {
        Sending::DryRun
    } else {
        Sending::Live(accounts)
    })
}

/// The WhatsApp business phone number a bot answers from: `WA_PHONE_NUMBER_ID` with its
/// access token `WA_TOKEN` (a system user's token with `whatsapp_business_messaging`).
///
/// The phone number id is the WhatsApp events' account (`metadata.phone_number_id`) and
/// the node replies are sent from (`POST /{phone-number-id}/messages`). Its `Debug`
/// output redacts the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppNumber {
    phone_number_id: AccountId,
    token: AccessToken,
}

impl WhatsAppNumber {
    /// A number with its token.
    pub fn new(phone_number_id: AccountId, token: AccessToken) -> Self {
        Self {
            phone_number_id,
            token,
        }
    }

    /// The phone number id (`WA_PHONE_NUMBER_ID`).
    pub fn phone_number_id(&self) -> &AccountId {
        &self.phone_number_id
    }

    /// The access token (`WA_TOKEN`).
    pub fn token(&self) -> &AccessToken {
        &self.token
    }
}

/// `WA_PHONE_NUMBER_ID` + `WA_TOKEN`: both or neither (`None`: WhatsApp replies are
/// printed, as in dry-run mode).
pub(super) fn whatsapp(env: &Env) -> Result<Option<WhatsAppNumber>, ConfigError> {
    match (env.get(vars::WA_TOKEN)?, env.get(vars::WA_PHONE_NUMBER_ID)?) {
        (Some(token), Some(id)) => {
            if !is_account_id(id) {
                return Err(ConfigError::invalid(
                    vars::WA_PHONE_NUMBER_ID,
                    "expected the numeric phone number id from the WhatsApp API setup page \
                     (digits only; not the phone number itself)"
                        .to_owned(),
                ));
            }
            if !is_header_safe(token) {
                return Err(ConfigError::invalid(
                    vars::WA_TOKEN,
                    "contains whitespace or non-ASCII characters (copy the token again)".to_owned(),
                ));
            }
            let token = AccessToken::new(token).map_err(|_| ConfigError::empty(vars::WA_TOKEN))?;
            Ok(Some(WhatsAppNumber::new(AccountId::new(id), token)))
        }
        (Some(_), None) => Err(ConfigError::new(
            vars::WA_PHONE_NUMBER_ID,
            ConfigErrorKind::Missing,
            "required when WA_TOKEN is set (the phone number id the WhatsApp replies are sent \
             from)"
                .to_owned(),
        )),
        (None, Some(_)) => Err(ConfigError::new(
            vars::WA_TOKEN,
            ConfigErrorKind::Missing,
            "required when WA_PHONE_NUMBER_ID is set (unset both for WhatsApp dry-run mode)"
                .to_owned(),
        )),
        (None, None) => Ok(None),
    }
}
