//! What the doctor checks: the bots' own configuration (bot-kit's [`Config`], read from the
//! same variables and `ACCOUNTS_FILE`) plus the few variables only the doctor needs.

use std::collections::HashMap;
use std::fmt;

use bot_kit::Config;
use meta_webhooks::client::{FACEBOOK_GRAPH_URL, INSTAGRAM_GRAPH_URL};
use meta_webhooks::payload::{AccountId, AppId};
use meta_webhooks::{AccessToken, AppSecret, VerifyToken};

/// The Meta app id whose webhooks and token the doctor checks (default: `IG_APP_ID`).
pub const META_APP_ID: &str = "META_APP_ID";
/// The secret of `META_APP_ID`, for the app token (default with Facebook Login:
/// `IG_APP_SECRET`; with Instagram Login `IG_APP_SECRET` is the Instagram app secret, so
/// this must be set).
pub const META_APP_SECRET: &str = "META_APP_SECRET";
/// The WhatsApp Business Account id of `WA_PHONE_NUMBER_ID`, for its `subscribed_apps`.
pub const WA_BUSINESS_ACCOUNT_ID: &str = "WA_BUSINESS_ACCOUNT_ID";

/// How the Instagram accounts' tokens were obtained, which decides the host and the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Facebook Login (or the Messenger Platform): Page tokens on `graph.facebook.com`; the
    /// Instagram account is linked to a Page.
    Facebook,
    /// Instagram Login: Instagram User tokens on `graph.instagram.com`, no Page.
    Instagram,
}

impl Login {
    /// `facebook` or `instagram`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
        }
    }

    /// How it is called in the output.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Facebook => "Facebook Login",
            Self::Instagram => "Instagram Login",
        }
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An app whose token the doctor can make (`{app-id}|{app-secret}`).
#[derive(Debug, Clone)]
pub struct App {
    /// The app id.
    pub id: AppId,
    /// Its secret; `None` when unknown (then no app token: app subscriptions cannot be
    /// read, and tokens are checked with `/me/permissions`).
    pub secret: Option<AppSecret>,
}

/// The WhatsApp number the bots answer from.
#[derive(Debug, Clone)]
pub struct WhatsApp {
    /// `WA_PHONE_NUMBER_ID`.
    pub phone_number_id: AccountId,
    /// `WA_TOKEN`.
    pub token: AccessToken,
    /// `WA_BUSINESS_ACCOUNT_ID`.
    pub business_account_id: Option<AccountId>,
    /// The app that receives its webhooks.
    pub app: Option<App>,
}

/// Everything the doctor needs, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How the Instagram accounts log in.
    pub login: Login,
    /// The Instagram accounts: `IG_BUSINESS_ID` + `IG_PAGE_TOKEN` and `ACCOUNTS_FILE`.
    pub accounts: Vec<(AccountId, AccessToken)>,
    /// The WhatsApp number, when configured.
    pub whatsapp: Option<WhatsApp>,
    /// The Instagram/Messenger app.
    pub app: Option<App>,
    /// `IG_VERIFY_TOKEN`, unless generated.
    pub verify_token: Option<VerifyToken>,
    /// `GRAPH_API_BASE` (scheme, host, port), where the accounts' calls go.
    pub graph_base: String,
    /// Where app-level and WhatsApp calls go: `GRAPH_API_BASE`, or `graph.facebook.com`
    /// when that is `graph.instagram.com`.
    pub facebook_base: String,
    /// `GRAPH_TIMEOUT_SECS`.
    pub timeout: std::time::Duration,
}

/// A configuration the doctor cannot start with: one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

fn digits(name: &str, value: Option<&String>) -> Result<Option<String>, SettingsError> {
    match value {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(v.clone())),
        Some(v) if v.is_empty() => Err(SettingsError(format!(
            "{name}: set but empty (unset it or give a value)"
        ))),
        Some(v) => Err(SettingsError(format!(
            "{name}: expected digits only, got {v:?}"
        ))),
    }
}

impl Settings {
    /// Reads the settings from `(name, value)` pairs (later pairs win): bot-kit's
    /// configuration first, then the doctor's own variables. `login` overrides the login
    /// guessed from `GRAPH_API_BASE` (`graph.instagram.com` → Instagram Login, anything
    /// else → Facebook Login).
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the variable: bot-kit's configuration error, or one of
    /// the doctor's variables.
    pub fn from_vars<I, K, V>(pairs: I, login: Option<Login>) -> Result<Self, SettingsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let config = Config::from_vars(pairs.clone()).map_err(|e| SettingsError(e.to_string()))?;
        let vars: HashMap<String, String> = pairs.into_iter().collect();
        Self::from_config(&config, &vars, login)
    }

    /// Reads the process environment (as the bots do).
    ///
    /// # Errors
    ///
    /// As [`from_vars`](Self::from_vars).
    pub fn from_env(login: Option<Login>) -> Result<Self, SettingsError> {
        let config = Config::from_env().map_err(|e| SettingsError(e.to_string()))?;
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::from_config(&config, &vars, login)
    }

    fn from_config(
        config: &Config,
        vars: &HashMap<String, String>,
        login: Option<Login>,
    ) -> Result<Self, SettingsError> {
        let graph_base = config
            .graph_api_base
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let on_instagram_host = graph_base == INSTAGRAM_GRAPH_URL;
        let login = login.unwrap_or(if on_instagram_host {
            Login::Instagram
        } else {
            Login::Facebook
        });
        let facebook_base = if on_instagram_host {
            FACEBOOK_GRAPH_URL.to_owned()
        } else {
            graph_base.clone()
        };

        let accounts = match &config.sending {
            bot_kit::config::Sending::DryRun => Vec::new(),
            bot_kit::config::Sending::Live(accounts) => accounts
                .iter()
                .map(|(id, token)| (id.clone(), token.clone()))
                .collect(),
        };

        let app_id = digits(META_APP_ID, vars.get(META_APP_ID))?.or_else(|| config.app_id.clone());
        let app_secret = match vars.get(META_APP_SECRET) {
            Some(v) if v.is_empty() => {
                return Err(SettingsError(format!(
                    "{META_APP_SECRET}: set but empty (unset it or give a value)"
                )));
            }
            Some(v) => Some(
                AppSecret::new(v.clone())
                    .map_err(|_| SettingsError(format!("{META_APP_SECRET}: set but empty")))?,
            ),
            // The Instagram app secret of Instagram Login makes no app token.
            None if login == Login::Facebook && !config.generated.app_secret => {
                Some(config.app_secret.clone())
            }
            None => None,
        };
        let app = app_id.map(|id| App {
            id: AppId::new(id),
            secret: app_secret.clone(),
        });

        let whatsapp = match &config.whatsapp {
            None => None,
            Some(number) => {
                let business_account_id =
                    digits(WA_BUSINESS_ACCOUNT_ID, vars.get(WA_BUSINESS_ACCOUNT_ID))?
                        .map(AccountId::new);
                // The bot's rule (bot-kit reads `WA_APP_ID`): without it, the WhatsApp app is
                // the checked app only when no other app's secret is configured for WhatsApp,
                // since an app token must come from the app that owns the product.
                let wa_app = match &config.wa_app_id {
                    Some(id) => Some(App {
                        id: AppId::new(id.clone()),
                        secret: config.wa_app_secret.clone().or_else(|| app_secret.clone()),
                    }),
                    None if config.wa_app_secret.is_none() => app.clone(),
                    None => None,
                };
                Some(WhatsApp {
                    phone_number_id: number.phone_number_id().clone(),
                    token: number.token().clone(),
                    business_account_id,
                    app: wa_app,
                })
            }
        };

        Ok(Self {
            login,
            accounts,
            whatsapp,
            app,
            verify_token: (!config.generated.verify_token).then(|| config.verify_token.clone()),
            graph_base,
            facebook_base,
            timeout: config.graph_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn base(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = [
            ("IG_APP_SECRET", "instagram-secret"),
            ("IG_VERIFY_TOKEN", "vt"),
            ("IG_BUSINESS_ID", "17841400000000000"),
            ("IG_PAGE_TOKEN", "IGAAtoken"),
            ("IG_APP_ID", "1234567890"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        out.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        out
    }

    #[test]
    fn the_instagram_host_means_instagram_login_and_facebook_for_app_calls() {
        let s = Settings::from_vars(
            base(&[("GRAPH_API_BASE", "https://graph.instagram.com")]),
            None,
        )
        .unwrap();
        assert_eq!(s.login, Login::Instagram);
        assert_eq!(s.graph_base, "https://graph.instagram.com");
        assert_eq!(s.facebook_base, "https://graph.facebook.com");
        // The Instagram app secret makes no app token.
        assert!(s.app.unwrap().secret.is_none());
        assert_eq!(s.accounts.len(), 1);
    }

    #[test]
    fn the_default_host_means_facebook_login_with_the_app_secret() {
        let s = Settings::from_vars(base(&[]), None).unwrap();
        assert_eq!(s.login, Login::Facebook);
        assert_eq!(s.facebook_base, "https://graph.facebook.com");
        let app = s.app.unwrap();
        assert_eq!(app.id.as_str(), "1234567890");
        assert_eq!(app.secret.unwrap().expose(), "instagram-secret");
        let s = Settings::from_vars(
            base(&[("META_APP_ID", "999"), ("META_APP_SECRET", "meta-secret")]),
            Some(Login::Instagram),
        )
        .unwrap();
        assert_eq!(s.login, Login::Instagram);
        let app = s.app.unwrap();
        assert_eq!(app.id.as_str(), "999");
        assert_eq!(app.secret.unwrap().expose(), "meta-secret");
    }

    #[test]
    fn bad_doctor_variables_name_themselves() {
        let err = Settings::from_vars(base(&[("META_APP_ID", "12a")]), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "META_APP_ID: expected digits only, got \"12a\""
        );
        let err = Settings::from_vars(base(&[("META_APP_SECRET", "")]), None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("META_APP_SECRET: set but empty")
        );
        let err = Settings::from_vars(base(&[("IG_BUSINESS_ID", "x")]), None).unwrap_err();
        assert!(err.to_string().starts_with("IG_BUSINESS_ID:"), "{err}");
    }

    #[test]
    fn the_whatsapp_app_follows_the_bots_rule() {
        let wa = [
            ("WA_PHONE_NUMBER_ID", "106540352242922"),
            ("WA_TOKEN", "EAAG-wa"),
        ];
        // One app for both products: the checked app, with its secret.
        let s = Settings::from_vars(base(&wa), None).unwrap();
        let app = s.whatsapp.unwrap().app.unwrap();
        assert_eq!(app.id.as_str(), "1234567890");
        assert_eq!(app.secret.unwrap().expose(), "instagram-secret");
        // Another app's secret without its id: no app token pairs an id with a wrong secret.
        let mut vars = wa.to_vec();
        vars.push(("WA_APP_SECRET", "whatsapp-secret"));
        let s = Settings::from_vars(base(&vars), None).unwrap();
        assert!(s.whatsapp.unwrap().app.is_none());
        // With its id, that app and its secret.
        vars.push(("WA_APP_ID", "555"));
        let s = Settings::from_vars(base(&vars), None).unwrap();
        let app = s.whatsapp.unwrap().app.unwrap();
        assert_eq!(app.id.as_str(), "555");
        assert_eq!(app.secret.unwrap().expose(), "whatsapp-secret");
    }
}
