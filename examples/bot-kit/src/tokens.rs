//! Access token upkeep: each account's token expiry (and the WhatsApp number's) in the log
//! and in `/metrics`, and the refresh of Instagram Login tokens before they expire.
//!
//! A process that sends replies (`BOT_ROLE` `all` or `worker`, with a token configured:
//! `IG_PAGE_TOKEN`, `ACCOUNTS_FILE` or `WA_TOKEN`) runs a [`TokenKeeper`] next to its
//! workers ([`Bot::start`](crate::Bot::start)). It never logs a token, and no error it logs
//! holds one.
//!
//! # The daily check
//!
//! At start, and then every [`CHECK_INTERVAL`] (a day), for each account:
//!
//! * **The expiry is found out.** With `IG_APP_ID` set (and `IG_APP_SECRET` not generated),
//!   a Facebook Login token (Page or system user token) is checked with Meta's
//!   `debug_token`, using the app token `{IG_APP_ID}|{IG_APP_SECRET}`: Meta says whether
//!   it is valid and when it expires (some Page tokens never do). An Instagram Login token
//!   (it starts with `IG`) learns its expiry from its refresh (below) or from the stored
//!   refresh. Otherwise the expiry is unknown, and reported as such.
//! * **It is logged** (`access token expiry` at `info`, with the date and the days left, or
//!   `expiry unknown`) and shown as `botkit_token_expires_at_seconds{account}` (Unix
//!   seconds; `0` for a token that never expires; absent while unknown). A token Meta
//!   calls invalid is logged at `error` with the advice to run `cargo run -p doctor`.
//! * **An Instagram Login token with less than [`REFRESH_BEFORE`] (7 days) left, or whose
//!   expiry is not known yet, is refreshed** (`GET graph.instagram.com/refresh_access_token`;
//!   Meta refreshes a long-lived token that is at least 24 hours old and not expired, for
//!   60 days). The new token is used by the next reply (the replier reads the shared
//!   [`LiveTokens`]) and, with `REDIS_URL`, stored in Redis. Each refresh counts in
//!   `botkit_token_refreshes_total{outcome="ok|failed"}`. A failed refresh is logged at
//!   `warn` and tried again after [`RETRY_AFTER_FAILURE`] (an hour); one Meta refuses
//!   because the token is expired or revoked (code 190) is logged at `error` with the
//!   doctor's advice and tried again at the next daily check. A token whose known expiry
//!   has passed is not sent to Meta: it needs replacing by hand.
//!
//! # The WhatsApp number
//!
//! The number of `WA_PHONE_NUMBER_ID` + `WA_TOKEN` is checked with the accounts, at start
//! and daily, under its phone number id: its token is checked with `debug_token` using the
//! WhatsApp app's token `{WA_APP_ID}|{WA_APP_SECRET}` ([`whatsapp_app_token`]; `WA_APP_ID`
//! defaults to `IG_APP_ID` and `WA_APP_SECRET` to a real `IG_APP_SECRET` when one app has
//! both products), then logged and shown as
//! `botkit_token_expires_at_seconds{account="{phone-number-id}"}` as above (`0` for a
//! system user token that never expires; an invalid one is logged at `error` with the
//! doctor's advice). Without that app id the expiry is unknown and no request is made.
//! **It is never refreshed**: Meta has no refresh call for WhatsApp tokens, so an expiring
//! one is replaced by hand (a system user token that never expires avoids that).
//!
//! # Which token wins at a restart
//!
//! With `REDIS_URL`, a refreshed token is kept at `botkit:token:{account}` (a hash:
//! `token`, `expires_at`, `refreshed_at`, and `configured_sha256`, the SHA-256 of the
//! configured token the refreshes started from; the key expires with the token). At start
//! (and at every daily check, which is how other workers pick up one process' refresh):
//!
//! * **the refreshed token in Redis wins** when it was refreshed from the token that is
//!   configured now (`IG_PAGE_TOKEN` or the accounts file: same SHA-256) and has not
//!   expired — it is the newer token of the same grant;
//! * **the configured token wins** when it changed since (someone put a new token in the
//!   environment: that is deliberate), when the stored one expired or cannot be read, and
//!   without Redis. The next refresh then overwrites the record.
//!
//! Several processes share the records: a refresh takes the lock
//! `botkit:token:{account}:refreshing` (`SET NX PX`, 60 s), so one process refreshes and
//! the others adopt its token from Redis at their next check (a refreshed token does not
//! end the old one, which stays valid until its own expiry).

mod metrics;
mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use meta_webhooks::AccessToken;
use meta_webhooks::client::{AppToken, Clock, Expiry, GraphClient, GraphErrorKind};
use meta_webhooks::payload::AccountId;
use sha2::{Digest, Sha256};

use self::metrics::TokenMetrics;
pub use self::store::{
    REFRESH_LOCK_TTL, StoredToken, TOKEN_KEY_PREFIX, TokenStore, TokenStoreError,
    TokenStoreErrorKind,
};
use crate::config::{Accounts, Config, WhatsAppNumber};
use crate::metrics::Metrics;

/// How often each account's token is checked (and the expiry logged).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// An Instagram Login token with less than this left is refreshed.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// When a failed refresh is tried again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60 * 60);

/// How often the background task looks for due checks.
pub const TICK: Duration = Duration::from_secs(60);

/// What the log says to do about a token Meta rejects.
pub const DOCTOR_ADVICE: &str = "run `cargo run -p doctor` to check the token";

/// `true` for an Instagram Login (Instagram User) token: they start with `IG`, Facebook
/// Login tokens with `EA`.
pub fn is_instagram_login_token(token: &AccessToken) -> bool {
    token.expose().starts_with("IG")
}

/// The app token for `debug_token`, when `IG_APP_ID` and a real `IG_APP_SECRET` are set.
pub fn app_token(config: &Config) -> Option<AppToken> {
    let app_id = config.app_id.as_deref()?;
    if config.generated.app_secret {
        return None;
    }
    AppToken::new(app_id, &config.app_secret).ok()
}

/// The app token for `debug_token` of the WhatsApp number's token (`WA_TOKEN`): the
/// WhatsApp app's id ([`Config::wa_app_id`]: `WA_APP_ID`, or `IG_APP_ID` when one app has
/// both products) with its secret (`WA_APP_SECRET`, else a real `IG_APP_SECRET`).
pub fn whatsapp_app_token(config: &Config) -> Option<AppToken> {
    let app_id = config.wa_app_id.as_deref()?;
    let secret = match &config.wa_app_secret {
        Some(secret) => secret,
        None if config.generated.app_secret => return None,
        None => &config.app_secret,
    };
    AppToken::new(app_id, secret).ok()
}

/// The token each account sends with now: the configured one, or the newer one a refresh
/// brought. Shared by the replier and the [`TokenKeeper`]; cheap to clone. Its `Debug`
/// output shows the account ids only.
#[derive(Clone, Default)]
pub struct LiveTokens {
    tokens: Arc<RwLock<BTreeMap<AccountId, AccessToken>>>,
}

impl fmt::Debug for LiveTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveTokens")
            .field("accounts", &self.ids())
            .finish()
    }
}

impl LiveTokens {
    /// The configured tokens.
    pub fn from_accounts(accounts: &Accounts) -> Self {
        Self {
            tokens: Arc::new(RwLock::new(
                accounts
                    .iter()
                    .map(|(id, token)| (id.clone(), token.clone()))
                    .collect(),
            )),
        }
    }

    /// The token `account` sends with now, or `None` when it is not served.
    pub fn get(&self, account: &AccountId) -> Option<AccessToken> {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account)
            .cloned()
    }

    /// The served account ids, in order.
    pub fn ids(&self) -> Vec<AccountId> {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Replaces the token of a served account (an unknown account is ignored).
    fn set(&self, account: &AccountId, token: AccessToken) {
        if let Some(slot) = self
            .tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(account)
        {
            *slot = token;
        }
    }
}

/// What the keeper knows about one account's token.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// `None` while unknown.
    expiry: Option<Expiry>,
    /// When the next check is due (`None`: now).
    next_check: Option<SystemTime>,
}

/// Keeps the accounts' tokens alive (see the [module docs](self)). Drive it with
/// [`restore`](Self::restore) once and [`tick`](Self::tick) repeatedly — or
/// [`run`](Self::run), which does both on a timer. Every decision reads the injected
/// [`Clock`], so tests move time by hand.
pub struct TokenKeeper {
    client: GraphClient,
    live: LiveTokens,
    configured: Accounts,
    app_token: Option<AppToken>,
    /// The WhatsApp number, checked with the WhatsApp app's token when given.
    whatsapp: Option<(WhatsAppNumber, Option<AppToken>)>,
    store: Option<TokenStore>,
    metrics: Arc<TokenMetrics>,
    clock: Arc<dyn Clock>,
    /// This process' name on a refresh lock.
    holder: String,
    states: Mutex<BTreeMap<AccountId, State>>,
}

impl fmt::Debug for TokenKeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeeper")
            .field("live", &self.live)
            .field("app_token", &self.app_token)
            .field("whatsapp", &self.whatsapp)
            .field("redis", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenKeeper {
    /// A keeper for the `configured` accounts, whose current tokens live in `live`, calling
    /// Meta through `client`, checking Facebook Login tokens with `app_token` when given,
    /// keeping refreshed tokens in `store` when given, showing its metrics in `metrics`.
    pub fn new(
        client: GraphClient,
        live: LiveTokens,
        configured: Accounts,
        app_token: Option<AppToken>,
        store: Option<TokenStore>,
        metrics: &Metrics,
        clock: impl Clock,
    ) -> Self {
        let mut holder = [0u8; 8];
        // A lock holder name only needs to differ between processes; the time is enough
        // when no randomness is available.
        let holder = match getrandom::fill(&mut holder) {
            Ok(()) => holder.iter().map(|b| format!("{b:02x}")).collect(),
            Err(_) => format!("{:?}", SystemTime::now()),
        };
        Self {
            client,
            live,
            configured,
            app_token,
            whatsapp: None,
            store,
            metrics: TokenMetrics::register(metrics),
            clock: Arc::new(clock),
            holder,
            states: Mutex::new(BTreeMap::new()),
        }
    }

    /// Checks the WhatsApp `number`'s token too, daily like the accounts' (see the
    /// [module docs](self#the-whatsapp-number)): with `debug_token` and `app_token` (the
    /// WhatsApp app's, [`whatsapp_app_token`]) when given. It is never refreshed.
    #[must_use]
    pub fn with_whatsapp(mut self, number: WhatsAppNumber, app_token: Option<AppToken>) -> Self {
        self.whatsapp = Some((number, app_token));
        self
    }

    /// The tokens the replies use.
    pub fn live_tokens(&self) -> &LiveTokens {
        &self.live
    }

    /// The known expiry of `account`'s token (`None` while unknown); for the WhatsApp
    /// number, `account` is its phone number id.
    pub fn expiry(&self, account: &AccountId) -> Option<Expiry> {
        self.with_state(account, |s| s.expiry)
    }

    fn with_state<R>(&self, account: &AccountId, f: impl FnOnce(&mut State) -> R) -> R {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        f(states.entry(account.clone()).or_default())
    }

    /// At start, before replies go out: takes each account's refreshed token from Redis
    /// when it wins over the configured one (see [the module docs](self#which-token-wins-at-a-restart)).
    /// Without Redis it does nothing.
    pub async fn restore(&self) {
        for account in self.live.ids() {
            self.adopt_stored(&account, true).await;
        }
    }

    /// Runs the checks that are due now (all of them at the first call).
    pub async fn tick(&self) {
        let now = self.clock.now();
        for account in self.live.ids() {
            let due = self.with_state(&account, |s| s.next_check.is_none_or(|at| at <= now));
            if due {
                self.check(&account).await;
            }
        }
        if let Some((number, app_token)) = &self.whatsapp {
            let account = number.phone_number_id();
            if self.with_state(account, |s| s.next_check.is_none_or(|at| at <= now)) {
                self.check_whatsapp(number, app_token.as_ref()).await;
            }
        }
    }

    /// [`restore`](Self::restore), then [`tick`](Self::tick) every [`TICK`] until the task
    /// is dropped or aborted.
    pub async fn run(self) {
        self.restore().await;
        loop {
            self.tick().await;
            tokio::time::sleep(TICK).await;
        }
    }

    /// Takes the refreshed token of `account` from Redis when it wins over the token in
    /// use: refreshed from the configured token, not expired, and newer than what is known.
    async fn adopt_stored(&self, account: &AccountId, at_start: bool) {
        let Some(store) = &self.store else {
            return;
        };
        let Some(configured) = self.configured.token(account) else {
            return;
        };
        let stored = match store.load(account).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(account = %account, %error,
                    "could not read the refreshed access token from Redis; keeping the one in use");
                return;
            }
        };
        let now = self.clock.now();
        if stored.configured_sha256 != sha256_hex(configured) {
            if at_start {
                tracing::info!(account = %account,
                    "the configured access token changed since the last refresh: using the configured one");
            }
            return;
        }
        if stored.expires_at <= now {
            if at_start {
                tracing::warn!(account = %account, expired_at = %rfc3339(stored.expires_at),
                    "the refreshed access token in Redis has expired: using the configured one");
            }
            return;
        }
        let in_use = self.live.get(account);
        let known = self.expiry(account);
        let newer = match known {
            Some(Expiry::At(at)) => stored.expires_at > at,
            Some(Expiry::Never) => false,
            None => true,
        };
        if in_use.as_ref() == Some(&stored.token) {
            if known.is_none() {
                self.with_state(account, |s| s.expiry = Some(Expiry::At(stored.expires_at)));
            }
            return;
        }
        if newer {
            self.live.set(account, stored.token);
            self.with_state(account, |s| s.expiry = Some(Expiry::At(stored.expires_at)));
            tracing::info!(account = %account,
                refreshed_at = %rfc3339(stored.refreshed_at),
                expires_at = %rfc3339(stored.expires_at),
                "using the refreshed access token from Redis");
        }
    }

    /// One account's check: expiry, log line, metric, refresh when due.
    async fn check(&self, account: &AccountId) {
        self.adopt_stored(account, false).await;
        let Some(token) = self.live.get(account) else {
            return;
        };
        let instagram = is_instagram_login_token(&token);
        if !instagram && let Some(app_token) = &self.app_token {
            self.debug(account, app_token, &token).await;
        }

        let now = self.clock.now();
        let expiry = self.expiry(account);
        self.report(account, expiry, now);
        let mut next = now + CHECK_INTERVAL;
        if instagram {
            match expiry {
                Some(Expiry::At(at)) if at <= now => {
                    tracing::error!(account = %account, expired_at = %rfc3339(at),
                        "the Instagram access token has expired and cannot be refreshed: \
                         replace it; {DOCTOR_ADVICE}");
                }
                Some(Expiry::Never) => {}
                Some(Expiry::At(at))
                    if at.duration_since(now).unwrap_or_default() >= REFRESH_BEFORE => {}
                _ => {
                    if let Some(retry) = self.refresh(account, token).await {
                        next = self.clock.now() + retry;
                    }
                }
            }
        }
        self.with_state(account, |s| s.next_check = Some(next));
    }

    /// The WhatsApp number's check: expiry (with `debug_token`), log line, metric; never a
    /// refresh (Meta has no refresh call for these tokens).
    async fn check_whatsapp(&self, number: &WhatsAppNumber, app_token: Option<&AppToken>) {
        let account = number.phone_number_id();
        if let Some(app_token) = app_token {
            self.debug(account, app_token, number.token()).await;
        }
        let now = self.clock.now();
        self.report(account, self.expiry(account), now);
        self.with_state(account, |s| s.next_check = Some(now + CHECK_INTERVAL));
    }

    /// `debug_token` for a Facebook Login token: records the expiry, logs an invalid token.
    async fn debug(&self, account: &AccountId, app_token: &AppToken, token: &AccessToken) {
        match self.client.debug_token(app_token, token).await {
            Ok(info) => {
                self.with_state(account, |s| s.expiry = info.expires_at);
                if !info.is_valid {
                    let (code, subcode, message) =
                        info.error.map_or((None, None, String::new()), |e| {
                            (e.code, e.subcode, scrub(&e.message, token))
                        });
                    tracing::error!(account = %account, code, subcode, reason = %message,
                        "Meta says this account's access token is invalid; {DOCTOR_ADVICE}");
                }
            }
            Err(error) => {
                tracing::warn!(account = %account, %error,
                    "could not check the access token with debug_token");
            }
        }
    }

    /// The daily line and the gauge.
    fn report(&self, account: &AccountId, expiry: Option<Expiry>, now: SystemTime) {
        match expiry {
            Some(Expiry::At(at)) => {
                let left = at.duration_since(now).unwrap_or_default();
                tracing::info!(account = %account, expires_at = %rfc3339(at),
                    days_left = left.as_secs() / 86_400, "access token expiry");
                self.metrics
                    .set_expiry(account.as_str(), Some(unix_seconds(at)));
            }
            Some(Expiry::Never) => {
                tracing::info!(account = %account, "access token expiry: never");
                self.metrics.set_expiry(account.as_str(), Some(0));
            }
            None => {
                tracing::info!(account = %account, "access token expiry unknown");
                self.metrics.set_expiry(account.as_str(), None);
            }
        }
    }

    /// Refreshes an Instagram Login token; `Some(delay)` when it should be tried again
    /// sooner than the next daily check.
    async fn refresh(&self, account: &AccountId, token: AccessToken) -> Option<Duration> {
        let store = self.store.as_ref();
        if let Some(store) = store {
            match store.lock(account, &self.holder).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(account = %account,
                        "another process is refreshing this account's access token");
                    return Some(REFRESH_LOCK_TTL);
                }
                Err(error) => {
                    tracing::warn!(account = %account, %error,
                        "could not take the refresh lock in Redis; refreshing anyway");
                }
            }
        }
        let result = self
            .client
            .account(account.clone(), token)
            .refresh_instagram_token()
            .await;
        let now = self.clock.now();
        let retry = match result {
            Ok(refreshed) => {
                let expires_at = now + refreshed.expires_in;
                self.live.set(account, refreshed.token.clone());
                self.with_state(account, |s| s.expiry = Some(Expiry::At(expires_at)));
                self.metrics.refreshed("ok");
                self.metrics
                    .set_expiry(account.as_str(), Some(unix_seconds(expires_at)));
                tracing::info!(account = %account, expires_at = %rfc3339(expires_at),
                    "access token refreshed");
                if let (Some(store), Some(configured)) = (store, self.configured.token(account)) {
                    let record = StoredToken {
                        token: refreshed.token,
                        expires_at,
                        refreshed_at: now,
                        configured_sha256: sha256_hex(configured),
                    };
                    if let Err(error) = store.save(account, &record).await {
                        tracing::warn!(account = %account, %error,
                            "could not store the refreshed access token in Redis; \
                             it is used until this process stops");
                    }
                }
                None
            }
            Err(error) if error.kind() == GraphErrorKind::Auth => {
                self.metrics.refreshed("failed");
                tracing::error!(account = %account, %error,
                    "Meta refused to refresh this account's access token; {DOCTOR_ADVICE}");
                None
            }
            Err(error) => {
                self.metrics.refreshed("failed");
                tracing::warn!(account = %account, %error,
                    retry_in_secs = RETRY_AFTER_FAILURE.as_secs(),
                    "the access token refresh failed; trying again later");
                Some(RETRY_AFTER_FAILURE)
            }
        };
        if let Some(store) = store
            && let Err(error) = store.unlock(account, &self.holder).await
        {
            tracing::warn!(account = %account, %error, "could not release the refresh lock");
        }
        retry
    }
}

/// SHA-256 of a token, hex.
fn sha256_hex(token: &AccessToken) -> String {
    Sha256::digest(token.expose().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `text` without `token`.
fn scrub(text: &str, token: &AccessToken) -> String {
    text.replace(token.expose(), "[redacted]")
}

fn unix_seconds(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `at` as RFC 3339 UTC, to the second (e.g. `2027-02-04T06:00:00Z`).
fn rfc3339(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rest = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_796_547_600)), "2026-12-06T09:00:00Z");
        assert_eq!(rfc3339(at(4_102_444_799)), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn instagram_login_tokens_are_told_apart() {
        assert!(is_instagram_login_token(
            &AccessToken::new("IGAAbc").unwrap()
        ));
        assert!(!is_instagram_login_token(
            &AccessToken::new("EAAGbc").unwrap()
        ));
    }

    #[test]
    fn fingerprints_are_sha256_hex() {
        assert_eq!(
            sha256_hex(&AccessToken::new("abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
