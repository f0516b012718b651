//! What ties the bot to Meta: the app secrets (Instagram/Messenger and, when it is
//! another app, WhatsApp) and verify token (or generated dev values), the app id, and the
//! Graph API base and timeout.

use std::time::Duration;

use meta_webhooks::{AppSecret, VerifyToken};
use url::Url;

use super::env::{Env, is_account_id, is_header_safe, parse_http_url, random_hex};
use super::{ConfigError, vars};

/// Default `GRAPH_API_BASE` (Page tokens, Instagram Messaging via the Messenger Platform).
pub const DEFAULT_GRAPH_API_BASE: &str = "https://graph.facebook.com";

/// The host of the Instagram Login Graph API, which has no WhatsApp API.
pub(super) const INSTAGRAM_GRAPH_HOST: &str = "graph.instagram.com";

/// Default `GRAPH_TIMEOUT_SECS`: the Send API client's own default.
pub const DEFAULT_GRAPH_TIMEOUT: Duration = meta_webhooks::client::DEFAULT_TIMEOUT;

/// Which values were generated because their variable was unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    /// `IG_APP_SECRET` was generated.
    pub app_secret: bool,
    /// `IG_VERIFY_TOKEN` was generated.
    pub verify_token: bool,
}

/// The secrets that tie the bot to Meta's webhooks.
pub(super) struct Secrets {
    /// `IG_APP_SECRET`, generated, or (WhatsApp only) `WA_APP_SECRET`.
    pub(super) app_secret: AppSecret,
    /// `WA_APP_SECRET` when it is a second secret (set, and not the same as the first).
    pub(super) wa_app_secret: Option<AppSecret>,
    /// `IG_VERIFY_TOKEN` or generated.
    pub(super) verify_token: VerifyToken,
    /// Which were generated.
    pub(super) generated: Generated,
}

/// An app secret variable's value: printable ASCII without spaces.
fn app_secret_var(env: &Env, name: &str) -> Result<Option<AppSecret>, ConfigError> {
    let Some(v) = env.get(name)? else {
        return Ok(None);
    };
    if !is_header_safe(v) {
        return Err(ConfigError::invalid(
            name,
            "contains whitespace or non-ASCII characters (copy the app secret again)".to_owned(),
        ));
    }
    AppSecret::new(v)
        .map(Some)
        .map_err(|_| ConfigError::empty(name))
}

/// `IG_APP_SECRET`, `WA_APP_SECRET` and `IG_VERIFY_TOKEN`; the first and the last are
/// generated when unset unless `live`. A bot sending live only on WhatsApp
/// (`whatsapp_only`) may have `WA_APP_SECRET` alone.
pub(super) fn secrets(env: &Env, live: bool, whatsapp_only: bool) -> Result<Secrets, ConfigError> {
    let mut generated = Generated::default();
    let mut wa_app_secret = app_secret_var(env, vars::WA_APP_SECRET)?;
    let app_secret = match app_secret_var(env, vars::IG_APP_SECRET)? {
        Some(secret) => {
            // One app with both products: one secret, one key.
            if wa_app_secret
                .as_ref()
                .is_some_and(|wa| wa.expose() == secret.expose())
            {
                wa_app_secret = None;
            }
            secret
        }
        None if live && whatsapp_only && wa_app_secret.is_some() => match wa_app_secret.take() {
            Some(secret) => secret,
            None => return Err(ConfigError::live_requires(vars::IG_APP_SECRET)),
        },
        None if live => return Err(ConfigError::live_requires(vars::IG_APP_SECRET)),
        None => {
            generated.app_secret = true;
            AppSecret::new(random_hex(vars::IG_APP_SECRET, 16)?)
                .map_err(|_| ConfigError::empty(vars::IG_APP_SECRET))?
        }
    };
    let verify_token = match env.get(vars::IG_VERIFY_TOKEN)? {
        Some(v) => {
            if v.trim() != v {
                return Err(ConfigError::invalid(
                    vars::IG_VERIFY_TOKEN,
                    "has leading or trailing whitespace".to_owned(),
                ));
            }
            VerifyToken::new(v).map_err(|_| ConfigError::empty(vars::IG_VERIFY_TOKEN))?
        }
        None if live => return Err(ConfigError::live_requires(vars::IG_VERIFY_TOKEN)),
        None => {
            generated.verify_token = true;
            VerifyToken::new(format!("dev-{}", random_hex(vars::IG_VERIFY_TOKEN, 12)?))
                .map_err(|_| ConfigError::empty(vars::IG_VERIFY_TOKEN))?
        }
    };
    Ok(Secrets {
        app_secret,
        wa_app_secret,
        verify_token,
        generated,
    })
}

/// An app id variable's value: digits.
fn app_id_var(env: &Env, name: &str) -> Result<Option<String>, ConfigError> {
    match env.get(name)? {
        None => Ok(None),
        Some(v) if is_account_id(v) => Ok(Some(v.to_owned())),
        Some(v) => Err(ConfigError::invalid(
            name,
            format!("expected the app id's digits, got {v:?}"),
        )),
    }
}

/// `IG_APP_ID`.
pub(super) fn app_id(env: &Env) -> Result<Option<String>, ConfigError> {
    app_id_var(env, vars::IG_APP_ID)
}

/// `WA_APP_ID`, or `app_id` (`IG_APP_ID`) when the WhatsApp app's secret is
/// `IG_APP_SECRET`: `WA_APP_SECRET` unset, or the same value.
pub(super) fn wa_app_id(env: &Env, app_id: Option<&str>) -> Result<Option<String>, ConfigError> {
    if let Some(id) = app_id_var(env, vars::WA_APP_ID)? {
        return Ok(Some(id));
    }
    let wa_secret = env.get(vars::WA_APP_SECRET)?;
    let same_app = wa_secret.is_none() || wa_secret == env.get(vars::IG_APP_SECRET)?;
    Ok(app_id.filter(|_| same_app).map(str::to_owned))
}

/// `GRAPH_API_BASE` and `GRAPH_TIMEOUT_SECS`.
pub(super) fn graph(env: &Env) -> Result<(Url, Duration), ConfigError> {
    let graph_api_base = match env.get(vars::GRAPH_API_BASE)? {
        None => Url::parse(DEFAULT_GRAPH_API_BASE).map_err(|_| {
            ConfigError::invalid(vars::GRAPH_API_BASE, "invalid built-in default".to_owned())
        })?,
        Some(v) => {
            let url = parse_http_url(vars::GRAPH_API_BASE, v)?;
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(ConfigError::invalid(
                    vars::GRAPH_API_BASE,
                    "expected scheme and host only, e.g. https://graph.facebook.com \
                     (the client adds the version path)"
                        .to_owned(),
                ));
            }
            url
        }
    };

    let graph_timeout = env
        .seconds(vars::GRAPH_TIMEOUT_SECS, 1, 120)?
        .unwrap_or(DEFAULT_GRAPH_TIMEOUT);
    Ok((graph_api_base, graph_timeout))
}
