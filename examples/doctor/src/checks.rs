//! The checks, per app, Instagram account and WhatsApp number, and the fixes `--fix` can
//! make.

use std::time::SystemTime;

use bot_kit::secret::redact_url;
use meta_webhooks::client::AppSubscriptionRequest;
use meta_webhooks::client::{
    AppSubscription, AppToken, GraphClient, GraphError, PageLink, RetryPolicy, SubscribedApp,
};
use meta_webhooks::payload::{AccountId, AppId};
use meta_webhooks::{AccessToken, VerifyToken};
use url::Url;

use crate::callback;
use crate::needs::{
    INSTAGRAM_FIELDS, INSTAGRAM_OBJECT, PAGE_FIELDS, WHATSAPP_FIELDS, WHATSAPP_OBJECT,
    WHATSAPP_PERMISSIONS, instagram_permissions,
};
use crate::report::{Check, FixOutcome, Report, Section, Status};
use crate::settings::{App, Login, Settings, SettingsError, WhatsApp};
use crate::token::{self, Holder, unchecked_fix};

/// Which client a fix goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `GRAPH_API_BASE`: the Instagram accounts' host.
    Accounts,
    /// `graph.facebook.com` (or `GRAPH_API_BASE` when that is not Instagram's host).
    Facebook,
}

/// What a [`PlannedFix`] sends.
#[derive(Debug, Clone)]
enum Action {
    /// `POST /{node}/subscribed_apps?subscribed_fields=…` with the account's token.
    SubscribedApps {
        node: AccountId,
        token: AccessToken,
        fields: Vec<String>,
        via: Via,
    },
    /// `POST /{app-id}/subscriptions` (form: object, callback_url, fields, verify_token)
    /// with the app token.
    AppSubscription {
        app_id: AppId,
        app_token: AppToken,
        object: String,
        callback_url: String,
        fields: Vec<String>,
        verify_token: VerifyToken,
    },
}

/// A change `--fix` can make: subscribe the app to an account's fields (`POST
/// /{node}/subscribed_apps`), or set the app's webhooks for an object that Meta lets the
/// API set (`POST /{app-id}/subscriptions`; Instagram's are set in the App Dashboard only).
/// Its `Debug` output never shows a token.
#[derive(Debug, Clone)]
pub struct PlannedFix {
    /// What it does, for people.
    pub description: String,
    action: Action,
}

impl PlannedFix {
    /// Subscribing `app_name` to `target` (the node `node`, with `token`) for `fields`, or
    /// for no field list when `fields` is empty.
    fn subscribe(
        app_name: &str,
        target: &str,
        node: AccountId,
        token: &AccessToken,
        fields: Vec<String>,
        via: Via,
    ) -> Self {
        let description = if fields.is_empty() {
            format!("subscribe {app_name} to {target}")
        } else {
            format!(
                "subscribe {app_name} to {target} (fields {})",
                fields.join(",")
            )
        };
        Self {
            description,
            action: Action::SubscribedApps {
                node,
                token: token.clone(),
                fields,
                via,
            },
        }
    }

    /// The advice of a problem this fix solves.
    fn advice(&self) -> String {
        format!("run with --fix, or {}", self.request())
    }

    /// The request, without any token or verify token.
    pub fn request(&self) -> String {
        match &self.action {
            Action::SubscribedApps { node, fields, .. } if fields.is_empty() => {
                format!("POST /{node}/subscribed_apps")
            }
            Action::SubscribedApps { node, fields, .. } => format!(
                "POST /{node}/subscribed_apps?subscribed_fields={}",
                fields.join(",")
            ),
            Action::AppSubscription {
                app_id,
                object,
                callback_url,
                fields,
                ..
            } => format!(
                "POST /{app_id}/subscriptions object={object} callback_url={} fields={} \
                 verify_token=(IG_VERIFY_TOKEN)",
                redact_url(callback_url),
                fields.join(",")
            ),
        }
    }
}

/// The doctor: the settings, the Graph clients and the clock.
#[derive(Debug, Clone)]
pub struct Doctor {
    settings: Settings,
    accounts: GraphClient,
    facebook: GraphClient,
    http: reqwest::Client,
    callback: Option<Url>,
    now: SystemTime,
}

/// The outcome of the checks: the report and what `--fix` could change.
#[derive(Debug, Clone)]
pub struct Findings {
    /// One section per subject.
    pub report: Report,
    /// The fixes for the problems `--fix` can solve.
    pub fixes: Vec<PlannedFix>,
}

fn graph_client(base: &str, settings: &Settings) -> Result<GraphClient, SettingsError> {
    // One retry: a doctor run should answer in seconds, not wait out Meta's backoff.
    GraphClient::builder()
        .base_url(base)
        .timeout(settings.timeout)
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .build()
        .map_err(|e| SettingsError(format!("GRAPH_API_BASE: {e}")))
}

fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `app {id}`, or `the app` when the app id is not known.
fn app_name(app_id: Option<&AppId>) -> String {
    app_id.map_or_else(|| "the app".to_owned(), |a| format!("app {a}"))
}

/// `existing` followed by the `needed` fields it lacks.
fn union(existing: &[String], needed: &[&str]) -> Vec<String> {
    let mut out = existing.to_vec();
    for field in needed {
        if !out.iter().any(|f| f == field) {
            out.push((*field).to_owned());
        }
    }
    out
}

/// The app's entry in a `subscribed_apps` list: by id when the app id is known, else the
/// only entry.
fn find_app<'a>(
    apps: &'a [SubscribedApp],
    app_id: Option<&AppId>,
) -> Result<Option<&'a SubscribedApp>, String> {
    match app_id {
        Some(id) => Ok(apps.iter().find(|a| a.app_id() == Some(id))),
        None if apps.len() <= 1 => Ok(apps.first()),
        None => Err(format!(
            "{} apps are subscribed ({}); set META_APP_ID to tell which is the bot's",
            apps.len(),
            list(
                apps.iter()
                    .filter_map(|a| a.app_id().map(|id| id.as_str().to_owned()))
            )
        )),
    }
}

fn not_checked_after_token(name: &'static str) -> Check {
    Check::unchecked(
        name,
        "not checked: Meta refused the token",
        "fix the token first (see above)",
    )
}

fn failed_call(name: &'static str, what: &str, error: &GraphError) -> Check {
    Check::unchecked(
        name,
        format!("{what} failed: {error}"),
        unchecked_fix(error),
    )
}

impl Doctor {
    /// A doctor for `settings`, checking `callback` too when given.
    ///
    /// # Errors
    ///
    /// [`SettingsError`] when a Graph client cannot be built from `GRAPH_API_BASE`.
    pub fn new(settings: Settings, callback: Option<Url>) -> Result<Self, SettingsError> {
        let accounts = graph_client(&settings.graph_base, &settings)?;
        let facebook = graph_client(&settings.facebook_base, &settings)?;
        let http = callback::http_client().map_err(SettingsError)?;
        Ok(Self {
            settings,
            accounts,
            facebook,
            http,
            callback,
            now: SystemTime::now(),
        })
    }

    /// Uses `now` as the current time (token expiry).
    #[must_use]
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = now;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs every check.
    pub async fn check(&self) -> Findings {
        let mut fixes = Vec::new();
        let mut sections = Vec::new();
        if let Some(app) = self.app_section(&mut fixes).await {
            sections.push(app);
        }
        for (id, token) in &self.settings.accounts {
            sections.push(self.instagram_section(id, token, &mut fixes).await);
        }
        if let Some(whatsapp) = &self.settings.whatsapp {
            sections.push(self.whatsapp_section(whatsapp, &mut fixes).await);
        }
        Findings {
            report: Report {
                sections,
                fixes: Vec::new(),
            },
            fixes,
        }
    }

    /// Makes the planned fixes, in order.
    pub async fn apply(&self, fixes: &[PlannedFix]) -> Vec<FixOutcome> {
        let mut outcomes = Vec::with_capacity(fixes.len());
        for fix in fixes {
            let result = match &fix.action {
                Action::SubscribedApps {
                    node,
                    token,
                    fields,
                    via,
                } => {
                    let client = match via {
                        Via::Accounts => &self.accounts,
                        Via::Facebook => &self.facebook,
                    };
                    client
                        .account(node.clone(), token.clone())
                        .subscribe_app(fields)
                        .await
                }
                Action::AppSubscription {
                    app_id,
                    app_token,
                    object,
                    callback_url,
                    fields,
                    verify_token,
                } => match AppSubscriptionRequest::new(
                    object,
                    callback_url,
                    fields,
                    verify_token.clone(),
                ) {
                    Ok(request) => {
                        self.facebook
                            .subscribe_app(app_id, app_token, &request)
                            .await
                    }
                    Err(error) => Err(error.into()),
                },
            };
            outcomes.push(FixOutcome {
                description: fix.description.clone(),
                request: fix.request(),
                applied: result.is_ok(),
                error: result.err().map(|e| e.to_string()),
            });
        }
        outcomes
    }

    fn app_token(app: &App) -> Option<AppToken> {
        app.secret
            .as_ref()
            .and_then(|secret| AppToken::new(app.id.as_str(), secret).ok())
    }

    /// The app's webhook subscription for `object`: exists, active, posts to the callback
    /// (when given), has `fields`.
    async fn app_webhooks(
        &self,
        app: Option<&App>,
        object: &str,
        fields: &[&str],
        fixes: &mut Vec<PlannedFix>,
    ) -> Check {
        const NAME: &str = "app webhooks";
        let Some(app) = app else {
            return Check::unchecked(
                NAME,
                format!("the app's {object} subscription needs the app id"),
                "set META_APP_ID (or IG_APP_ID) and META_APP_SECRET",
            );
        };
        let Some(app_token) = Self::app_token(app) else {
            return Check::unchecked(
                NAME,
                format!("app {}'s {object} subscription needs the app token", app.id),
                match self.settings.login {
                    Login::Instagram => {
                        "set META_APP_SECRET (the Meta app's secret, not the Instagram app \
                         secret)"
                    }
                    Login::Facebook => "set META_APP_SECRET",
                },
            );
        };
        let subscriptions = match self.facebook.app_subscriptions(&app.id, &app_token).await {
            Ok(subscriptions) => subscriptions,
            Err(error) => return failed_call(NAME, "GET /{app-id}/subscriptions", &error),
        };
        let dashboard = format!("App Dashboard of app {} → Webhooks → {object}", app.id);
        let Some(sub) = subscriptions.iter().find(|s| s.object == object) else {
            if let Some(fix) = self.app_fix(app, &app_token, object, None, &[], fields) {
                let check = Check::problem(
                    NAME,
                    format!(
                        "app {} has no {object} webhooks (objects: {})",
                        app.id,
                        list(subscriptions.iter().map(|s| s.object.as_str()))
                    ),
                    format!("run with --fix, or {dashboard}: set them up"),
                );
                fixes.push(fix);
                return check;
            }
            return Check::problem(
                NAME,
                format!(
                    "app {} has no {object} webhooks (objects: {})",
                    app.id,
                    list(subscriptions.iter().map(|s| s.object.as_str()))
                ),
                format!(
                    "{dashboard}: set the callback URL and the verify token (IG_VERIFY_TOKEN), \
                     and subscribe to {}",
                    fields.join(", ")
                ),
            );
        };
        let check = self.judge_app_subscription(NAME, app, sub, fields, &dashboard);
        if check.status == Status::Problem {
            let existing: Vec<String> = sub.field_names().map(str::to_owned).collect();
            if let Some(fix) = self.app_fix(
                app,
                &app_token,
                object,
                sub.callback_url.as_deref(),
                &existing,
                fields,
            ) {
                fixes.push(fix);
                return Check {
                    fix: check.fix.map(|f| format!("run with --fix, or {f}")),
                    ..check
                };
            }
        }
        check
    }

    /// The app subscription `--fix` can set for `object`: not Instagram's (the App
    /// Dashboard only), and only with a callback URL (`--callback`, else the current one)
    /// and the verify token.
    fn app_fix(
        &self,
        app: &App,
        app_token: &AppToken,
        object: &str,
        current_callback: Option<&str>,
        existing: &[String],
        fields: &[&str],
    ) -> Option<PlannedFix> {
        if object == INSTAGRAM_OBJECT {
            return None;
        }
        let verify_token = self.settings.verify_token.clone()?;
        let callback_url = self
            .callback
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .or_else(|| current_callback.map(str::to_owned))?;
        let fields = union(existing, fields);
        Some(PlannedFix {
            description: format!(
                "set app {}'s {object} webhooks to {} with fields {}",
                app.id,
                redact_url(&callback_url),
                fields.join(",")
            ),
            action: Action::AppSubscription {
                app_id: app.id.clone(),
                app_token: app_token.clone(),
                object: object.to_owned(),
                callback_url,
                fields,
                verify_token,
            },
        })
    }

    fn judge_app_subscription(
        &self,
        name: &'static str,
        app: &App,
        sub: &AppSubscription,
        fields: &[&str],
        dashboard: &str,
    ) -> Check {
        let url = sub
            .callback_url
            .as_deref()
            .map_or_else(|| "(none)".to_owned(), redact_url);
        if sub.active == Some(false) {
            return Check::problem(
                name,
                format!(
                    "app {}'s {} webhooks to {url} are not active",
                    app.id, sub.object
                ),
                format!("{dashboard}: verify and save the callback again"),
            );
        }
        if let Some(callback) = &self.callback
            && sub
                .callback_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
                .as_ref()
                != Some(callback)
        {
            let expected = redact_url(callback.as_str());
            return Check::problem(
                name,
                format!(
                    "app {}'s {} webhooks go to {url}, not {expected}",
                    app.id, sub.object
                ),
                format!(
                    "{dashboard}: set the callback URL to {expected} (with IG_VERIFY_TOKEN as \
                     the verify token)"
                ),
            );
        }
        let missing: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !sub.has_field(f))
            .collect();
        if !missing.is_empty() {
            return Check::problem(
                name,
                format!(
                    "app {}'s {} webhooks lack {} (subscribed: {})",
                    app.id,
                    sub.object,
                    missing.join(", "),
                    list(sub.field_names())
                ),
                format!("{dashboard}: subscribe to {}", missing.join(", ")),
            );
        }
        Check::ok(
            name,
            format!(
                "{} webhooks to {url}, fields {}",
                sub.object,
                list(sub.field_names())
            ),
        )
    }

    async fn app_section(&self, fixes: &mut Vec<PlannedFix>) -> Option<Section> {
        let mut checks = Vec::new();
        if !self.settings.accounts.is_empty() {
            checks.push(
                self.app_webhooks(
                    self.settings.app.as_ref(),
                    INSTAGRAM_OBJECT,
                    &INSTAGRAM_FIELDS,
                    fixes,
                )
                .await,
            );
        }
        if let Some(url) = &self.callback {
            match &self.settings.verify_token {
                Some(verify_token) => {
                    checks.extend(callback::check(&self.http, url, verify_token).await);
                }
                None => checks.push(Check::unchecked(
                    "callback handshake",
                    "IG_VERIFY_TOKEN is not set",
                    "set IG_VERIFY_TOKEN to the bot's verify token",
                )),
            }
        }
        if checks.is_empty() {
            return None;
        }
        let id = self
            .settings
            .app
            .as_ref()
            .map_or_else(String::new, |a| a.id.as_str().to_owned());
        Some(Section {
            kind: "app",
            title: if id.is_empty() {
                "App".to_owned()
            } else {
                format!("App {id}")
            },
            id,
            checks,
        })
    }

    async fn instagram_section(
        &self,
        id: &AccountId,
        token: &AccessToken,
        fixes: &mut Vec<PlannedFix>,
    ) -> Section {
        let login = self.settings.login;
        let holder = match login {
            Login::Facebook => Holder::Page,
            Login::Instagram => Holder::InstagramUser,
        };
        let app = self.settings.app.as_ref();
        // Instagram Login tokens start with `IG` (bot-kit tells them apart the same way):
        // sent to graph.facebook.com, every call fails.
        let token_check = if login == Login::Facebook && token.expose().starts_with("IG") {
            token::TokenCheck {
                check: Check::problem(
                    "token",
                    "an Instagram Login token (it starts with IG), but the bots send through \
                     graph.facebook.com (Facebook Login)",
                    "set GRAPH_API_BASE=https://graph.instagram.com, or configure the Page \
                     token of a Page linked to the account",
                ),
                usable: false,
            }
        } else {
            token::check(
                &self.facebook,
                &self.accounts,
                app,
                id,
                token,
                holder,
                instagram_permissions(login),
                self.now,
            )
            .await
        };
        let mut checks = vec![token_check.check];
        if !token_check.usable {
            checks.push(not_checked_after_token("account"));
            checks.push(not_checked_after_token("subscribed apps"));
        } else {
            match login {
                Login::Facebook => {
                    self.facebook_account(id, token, app, &mut checks, fixes)
                        .await
                }
                Login::Instagram => {
                    self.instagram_account(id, token, app, &mut checks, fixes)
                        .await;
                }
            }
        }
        Section {
            kind: "instagram",
            id: id.as_str().to_owned(),
            title: format!("Instagram account {id} ({})", login.title()),
            checks,
        }
    }

    async fn facebook_account(
        &self,
        id: &AccountId,
        token: &AccessToken,
        app: Option<&App>,
        checks: &mut Vec<Check>,
        fixes: &mut Vec<PlannedFix>,
    ) {
        let me = self.accounts.account(AccountId::new("me"), token.clone());
        let page = match me.page_link().await {
            Ok(page) => page,
            Err(error) => {
                checks.push(failed_call("account", "GET /me (the token's Page)", &error));
                checks.push(Check::unchecked(
                    "subscribed apps",
                    "not checked: the Page is unknown",
                    "fix the account check first",
                ));
                return;
            }
        };
        checks.push(page_link_check(id, &page));
        let page_account = self.accounts.account(page.id.clone(), token.clone());
        let apps = match page_account.subscribed_apps().await {
            Ok(apps) => apps,
            Err(error) => {
                checks.push(failed_call(
                    "subscribed apps",
                    "GET /{page-id}/subscribed_apps",
                    &error,
                ));
                return;
            }
        };
        let page_name = page_title(&page);
        let app_id = app.map(|a| &a.id);
        match find_app(&apps, app_id) {
            Err(why) => checks.push(Check::unchecked("subscribed apps", why, "set META_APP_ID")),
            Ok(Some(entry)) if !entry.subscribed_fields.is_empty() => checks.push(Check::ok(
                "subscribed apps",
                format!(
                    "{page_name} sends app {} its fields {}",
                    entry.app_id().map_or("(unnamed)", |a| a.as_str()),
                    list(&entry.subscribed_fields)
                ),
            )),
            Ok(entry) => {
                let existing = entry
                    .map(|e| e.subscribed_fields.clone())
                    .unwrap_or_default();
                let fields = union(&existing, &PAGE_FIELDS);
                let app_name = app_name(app_id);
                let fix = PlannedFix::subscribe(
                    &app_name,
                    &page_name,
                    page.id.clone(),
                    token,
                    fields,
                    Via::Accounts,
                );
                checks.push(Check::problem(
                    "subscribed apps",
                    format!(
                        "{page_name} does not send {app_name} any webhooks (Instagram webhooks \
                         need the app subscribed to a Page field)"
                    ),
                    fix.advice(),
                ));
                fixes.push(fix);
            }
        }
    }

    async fn instagram_account(
        &self,
        id: &AccountId,
        token: &AccessToken,
        app: Option<&App>,
        checks: &mut Vec<Check>,
        fixes: &mut Vec<PlannedFix>,
    ) {
        let account = self.accounts.account(id.clone(), token.clone());
        match account.instagram_login_account().await {
            Ok(me) => {
                let user = me
                    .username
                    .as_deref()
                    .map_or_else(String::new, |u| format!("@{u} "));
                match &me.user_id {
                    Some(user_id) if user_id == id => checks.push(Check::ok(
                        "account",
                        format!(
                            "the token belongs to {user}({user_id}), a {} account",
                            me.account_type.as_deref().unwrap_or("professional")
                        ),
                    )),
                    Some(user_id) => checks.push(Check::problem(
                        "account",
                        format!(
                            "the token belongs to {user}({user_id}), not to the configured \
                             account {id}"
                        ),
                        format!("set the business id to {user_id}, or use a token of account {id}"),
                    )),
                    None => checks.push(Check::unchecked(
                        "account",
                        "GET /me gave no user_id",
                        "check that the token is an Instagram Login token (GRAPH_API_BASE \
                         https://graph.instagram.com)",
                    )),
                }
            }
            Err(error) => checks.push(failed_call("account", "GET /me", &error)),
        }
        let me = self.accounts.account(AccountId::new("me"), token.clone());
        let apps = match me.subscribed_apps().await {
            Ok(apps) => apps,
            Err(error) => {
                checks.push(failed_call(
                    "subscribed apps",
                    "GET /me/subscribed_apps",
                    &error,
                ));
                return;
            }
        };
        let app_id = app.map(|a| &a.id);
        let app_name = app_name(app_id);
        match find_app(&apps, app_id) {
            Err(why) => checks.push(Check::unchecked("subscribed apps", why, "set META_APP_ID")),
            Ok(entry) => {
                let existing = entry
                    .map(|e| e.subscribed_fields.clone())
                    .unwrap_or_default();
                let missing: Vec<&str> = INSTAGRAM_FIELDS
                    .iter()
                    .copied()
                    .filter(|f| !existing.iter().any(|e| e == f))
                    .collect();
                if missing.is_empty() {
                    checks.push(Check::ok(
                        "subscribed apps",
                        format!("account {id} sends {app_name} {}", list(&existing)),
                    ));
                } else {
                    let fields = union(&existing, &INSTAGRAM_FIELDS);
                    let fix = PlannedFix::subscribe(
                        &app_name,
                        &format!("account {id}"),
                        AccountId::new("me"),
                        token,
                        fields,
                        Via::Accounts,
                    );
                    checks.push(Check::problem(
                        "subscribed apps",
                        format!(
                            "account {id} does not send {app_name} {} (subscribed: {})",
                            missing.join(", "),
                            list(&existing)
                        ),
                        fix.advice(),
                    ));
                    fixes.push(fix);
                }
            }
        }
    }

    async fn whatsapp_section(&self, wa: &WhatsApp, fixes: &mut Vec<PlannedFix>) -> Section {
        let token_check = token::check(
            &self.facebook,
            &self.facebook,
            wa.app.as_ref(),
            &wa.phone_number_id,
            &wa.token,
            Holder::WhatsApp,
            &WHATSAPP_PERMISSIONS,
            self.now,
        )
        .await;
        let mut checks = vec![token_check.check];
        if token_check.usable {
            checks.push(self.phone_number(wa).await);
            checks.push(
                self.app_webhooks(wa.app.as_ref(), WHATSAPP_OBJECT, &WHATSAPP_FIELDS, fixes)
                    .await,
            );
            checks.push(self.waba_subscription(wa, fixes).await);
        } else {
            checks.push(not_checked_after_token("phone number"));
            checks.push(not_checked_after_token("subscribed apps"));
        }
        Section {
            kind: "whatsapp",
            id: wa.phone_number_id.as_str().to_owned(),
            title: format!("WhatsApp phone number {}", wa.phone_number_id),
            checks,
        }
    }

    async fn phone_number(&self, wa: &WhatsApp) -> Check {
        const NAME: &str = "phone number";
        let number = match self
            .facebook
            .account(wa.phone_number_id.clone(), wa.token.clone())
            .whatsapp_phone_number()
            .await
        {
            Ok(number) => number,
            Err(error) => return failed_call(NAME, "GET /{phone-number-id}", &error),
        };
        let shown = format!(
            "{} ({})",
            number.display_phone_number.as_deref().unwrap_or("?"),
            number
                .verified_name
                .as_deref()
                .unwrap_or("no verified name")
        );
        let quality = number.quality_rating.as_deref().unwrap_or("not given");
        let limit = number.messaging_limit().unwrap_or("not given");
        let detail = format!("{shown}: quality {quality}, messaging limit {limit}");
        if quality.eq_ignore_ascii_case("RED") {
            return Check::problem(
                NAME,
                detail,
                "WhatsApp Manager → Insights: people block or report this number's messages; \
                 send fewer templates, only to people who asked for them",
            );
        }
        Check::ok(NAME, detail)
    }

    async fn waba_subscription(&self, wa: &WhatsApp, fixes: &mut Vec<PlannedFix>) -> Check {
        const NAME: &str = "subscribed apps";
        let Some(waba) = &wa.business_account_id else {
            return Check::unchecked(
                NAME,
                "the WhatsApp Business Account's subscription needs its id",
                "set WA_BUSINESS_ACCOUNT_ID (WhatsApp Manager → Account tools → Phone numbers, \
                 or the API setup page)",
            );
        };
        let apps = match self
            .facebook
            .account(waba.clone(), wa.token.clone())
            .subscribed_apps()
            .await
        {
            Ok(apps) => apps,
            Err(error) => return failed_call(NAME, "GET /{waba-id}/subscribed_apps", &error),
        };
        let app_id = wa.app.as_ref().map(|a| &a.id);
        match find_app(&apps, app_id) {
            Err(why) => Check::unchecked(
                NAME,
                why,
                "set WA_APP_ID (or META_APP_ID when WhatsApp is on the same app)",
            ),
            Ok(Some(entry)) => {
                let mut detail = format!(
                    "WhatsApp Business Account {waba} sends its webhooks to app {}",
                    entry.app_id().map_or("(unnamed)", |a| a.as_str())
                );
                if let Some(uri) = &entry.override_callback_uri {
                    detail.push_str(&format!(" at {uri}"));
                }
                Check::ok(NAME, detail)
            }
            Ok(None) => {
                let app_name = app_name(app_id);
                let fix = PlannedFix::subscribe(
                    &app_name,
                    &format!("WhatsApp Business Account {waba}"),
                    waba.clone(),
                    &wa.token,
                    Vec::new(),
                    Via::Facebook,
                );
                let check = Check::problem(
                    NAME,
                    format!("WhatsApp Business Account {waba} does not send {app_name} webhooks"),
                    fix.advice(),
                );
                fixes.push(fix);
                check
            }
        }
    }
}

fn page_title(page: &PageLink) -> String {
    match &page.name {
        Some(name) => format!("Page {} ({name})", page.id),
        None => format!("Page {}", page.id),
    }
}

fn page_link_check(id: &AccountId, page: &PageLink) -> Check {
    let title = page_title(page);
    match &page.instagram_business_account {
        None => Check::problem(
            "account",
            format!("{title} has no Instagram professional account linked"),
            format!(
                "link Instagram account {id} to the Page (Meta Business Suite → Settings → \
                 Instagram accounts, or the Instagram app → Settings → Business tools → \
                 Connect a Facebook Page), then create the Page token again"
            ),
        ),
        Some(linked) if &linked.id == id => Check::ok(
            "account",
            format!("{title} is linked to Instagram account {id}"),
        ),
        Some(linked) => Check::problem(
            "account",
            format!(
                "{title} is linked to Instagram account {}, not to the configured {id}",
                linked.id
            ),
            format!(
                "set the business id to {}, or use the token of the Page linked to {id}",
                linked.id
            ),
        ),
    }
}
