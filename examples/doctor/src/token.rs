//! The token check: valid, its type, its expiry and its permissions, from `debug_token`
//! (with the app token) or `/me/permissions` (without one).

use std::time::{Duration, SystemTime};

use meta_webhooks::AccessToken;
use meta_webhooks::client::{
    AppToken, Expiry, GraphClient, GraphError, GraphErrorKind, TokenInfo, TokenType,
};
use meta_webhooks::payload::AccountId;

use crate::report::Check;
use crate::settings::App;

const NAME: &str = "token";

/// A token expiring sooner than this is reported: it is a short-lived token, or about to
/// lapse.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(24 * 60 * 60);

/// Whose token it is, for the expected type and the fix advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A Page token (Facebook Login).
    Page,
    /// An Instagram User token (Instagram Login).
    InstagramUser,
    /// A WhatsApp token (a system user's, or a user's).
    WhatsApp,
}

impl Holder {
    /// How to get a new token.
    pub const fn renew(self) -> &'static str {
        match self {
            Self::Page => {
                "create a new Page token (from a long-lived User token, or a system user in \
                 Business Settings: a Page token made so does not expire) and set it in \
                 IG_PAGE_TOKEN or ACCOUNTS_FILE"
            }
            Self::InstagramUser => {
                "log in again with Business Login for Instagram for a new long-lived token, \
                 and set it in IG_PAGE_TOKEN or ACCOUNTS_FILE (the bots refresh it before it \
                 expires)"
            }
            Self::WhatsApp => {
                "create a system user token in Business Settings → System users with \
                 whatsapp_business_messaging and whatsapp_business_management, and set it in \
                 WA_TOKEN"
            }
        }
    }
}

/// The token check's line, and whether the token is worth using for the other checks.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    /// The line.
    pub check: Check,
    /// `false` when Meta refused the token: the other checks would only repeat that.
    pub usable: bool,
}

fn days(d: Duration) -> String {
    let hours = d.as_secs() / 3600;
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks `token`: with `app`'s token through `debug_token` on `facebook`, else through
/// `/me/permissions` on `accounts` (as `account`).
#[allow(
    clippy::too_many_arguments,
    reason = "one call site, all inputs distinct"
)]
pub async fn check(
    facebook: &GraphClient,
    accounts: &GraphClient,
    app: Option<&App>,
    account: &AccountId,
    token: &AccessToken,
    holder: Holder,
    needed: &[&str],
    now: SystemTime,
) -> TokenCheck {
    let app_token = app.and_then(|app| {
        app.secret
            .as_ref()
            .and_then(|secret| AppToken::new(app.id.as_str(), secret).ok())
    });
    let mut note = None;
    if let Some(app_token) = app_token {
        match facebook.debug_token(&app_token, token).await {
            // `graph.facebook.com` may not read an Instagram Login token: only a valid
            // answer is taken for one; otherwise the Instagram host decides.
            Ok(info) if holder != Holder::InstagramUser || info.is_valid => {
                return from_info(&info, app, holder, needed, now);
            }
            Ok(info) => {
                let why = info
                    .error
                    .map_or_else(|| "not valid".to_owned(), |e| e.message);
                note = Some(format!("debug_token: {why}; "));
            }
            Err(error) => {
                note = Some(format!("debug_token failed ({error}); "));
            }
        }
    }
    if holder == Holder::InstagramUser {
        return instagram_me(accounts, account, token, note.unwrap_or_default()).await;
    }
    let permissions = accounts
        .account(account.clone(), token.clone())
        .permissions()
        .await;
    let note = note.unwrap_or_default();
    match permissions {
        Ok(permissions) => {
            let missing: Vec<&str> = needed
                .iter()
                .copied()
                .filter(|n| {
                    !permissions
                        .iter()
                        .any(|p| p.permission == *n && p.is_granted())
                })
                .collect();
            if missing.is_empty() {
                TokenCheck {
                    check: Check::ok(
                        NAME,
                        format!(
                            "{note}valid; has {} (type and expiry need META_APP_ID and \
                             META_APP_SECRET)",
                            needed.join(", ")
                        ),
                    ),
                    usable: true,
                }
            } else {
                TokenCheck {
                    check: Check::problem(
                        NAME,
                        format!("{note}valid, but lacks {}", missing.join(", ")),
                        format!(
                            "grant the app {} when logging in (sends answer 200 and nothing \
                             is delivered without them), then {}",
                            missing.join(", "),
                            holder.renew()
                        ),
                    ),
                    usable: true,
                }
            }
        }
        Err(error) if error.kind() == GraphErrorKind::Auth => TokenCheck {
            check: Check::problem(
                NAME,
                format!("{note}Meta refused the token: {error}"),
                holder.renew(),
            ),
            usable: false,
        },
        Err(error) => TokenCheck {
            check: Check::unchecked(
                NAME,
                format!("{note}could not read the token's permissions: {error}"),
                unchecked_fix(&error),
            ),
            usable: true,
        },
    }
}

/// Instagram Login without a `debug_token` answer: the token is valid when the Instagram
/// host answers `GET /me` with it. Its permissions show in the other checks' answers.
async fn instagram_me(
    accounts: &GraphClient,
    account: &AccountId,
    token: &AccessToken,
    note: String,
) -> TokenCheck {
    match accounts
        .account(account.clone(), token.clone())
        .instagram_login_account()
        .await
    {
        Ok(_) => TokenCheck {
            check: Check::ok(
                NAME,
                format!(
                    "{note}valid: the Instagram host accepts it (its type, expiry and \
                     permissions need a debug_token answer: META_APP_ID and META_APP_SECRET)"
                ),
            ),
            usable: true,
        },
        Err(error) if error.kind() == GraphErrorKind::Auth => TokenCheck {
            check: Check::problem(
                NAME,
                format!("{note}Meta refused the token: {error}"),
                Holder::InstagramUser.renew(),
            ),
            usable: false,
        },
        Err(error) => TokenCheck {
            check: Check::unchecked(
                NAME,
                format!("{note}GET /me failed: {error}"),
                unchecked_fix(&error),
            ),
            usable: true,
        },
    }
}

/// What to do when a call could not be made.
pub fn unchecked_fix(error: &GraphError) -> &'static str {
    if matches!(error, GraphError::Transport(_)) {
        return "check the network and GRAPH_API_BASE, then run the doctor again";
    }
    match error.kind() {
        GraphErrorKind::Transient | GraphErrorKind::RateLimited => "run the doctor again later",
        GraphErrorKind::Permission => {
            "the token lacks the permission this check needs: see the token line"
        }
        _ => "check GRAPH_API_BASE and the ids in the configuration, then run again",
    }
}

fn from_info(
    info: &TokenInfo,
    app: Option<&App>,
    holder: Holder,
    needed: &[&str],
    now: SystemTime,
) -> TokenCheck {
    let kind = info
        .token_type
        .as_ref()
        .map_or_else(|| "token".to_owned(), |t| format!("{t} token"));
    if !info.is_valid {
        let expired = match info.expires_at {
            Some(Expiry::At(at)) if at <= now => Some(at),
            _ => None,
        };
        let why = match (&info.error, expired) {
            (_, Some(at)) => format!("expired (at Unix time {})", unix(at)),
            (Some(e), None) => format!(
                "invalid: {} (code {}{})",
                e.message,
                e.code.map_or_else(|| "?".to_owned(), |c| c.to_string()),
                e.subcode.map(|s| format!("/{s}")).unwrap_or_default()
            ),
            (None, None) => "invalid".to_owned(),
        };
        let why = match info.error.as_ref().and_then(|e| e.subcode) {
            Some(463) if expired.is_none() => format!("expired: {why}"),
            _ => why,
        };
        return TokenCheck {
            check: Check::problem(NAME, format!("the {kind} is {why}"), holder.renew()),
            usable: false,
        };
    }
    if let (Some(app), Some(token_app)) = (app, info.app_id.as_deref())
        && token_app != app.id.as_str()
    {
        return TokenCheck {
            check: Check::problem(
                NAME,
                format!(
                    "the {kind} was issued for app {token_app}, not {} (whose webhooks the bot \
                     expects)",
                    app.id
                ),
                format!(
                    "use a token created with app {}; {}",
                    app.id,
                    holder.renew()
                ),
            ),
            usable: true,
        };
    }
    match (holder, &info.token_type) {
        (Holder::Page, Some(TokenType::User)) => {
            return TokenCheck {
                check: Check::problem(
                    NAME,
                    "a User token, where the bots need the Page's token",
                    "use the Page token: GET /me/accounts with this User token lists each \
                     Page with its access_token",
                ),
                usable: true,
            };
        }
        (Holder::WhatsApp, Some(TokenType::Page)) => {
            return TokenCheck {
                check: Check::problem(
                    NAME,
                    "a Page token, where WhatsApp needs a system user or User token",
                    Holder::WhatsApp.renew(),
                ),
                usable: true,
            };
        }
        _ => {}
    }
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !info.has_scope(n))
        .collect();
    if !missing.is_empty() {
        return TokenCheck {
            check: Check::problem(
                NAME,
                format!("valid {kind}, but lacks {}", missing.join(", ")),
                format!(
                    "grant the app {} when logging in (sends answer 200 and nothing is \
                     delivered without them), then {}",
                    missing.join(", "),
                    holder.renew()
                ),
            ),
            usable: true,
        };
    }
    let expiry = match info.expires_at {
        Some(Expiry::Never) => "never expires".to_owned(),
        Some(Expiry::At(at)) => {
            let left = at.duration_since(now).unwrap_or(Duration::ZERO);
            if left < EXPIRY_MARGIN {
                return TokenCheck {
                    check: Check::problem(
                        NAME,
                        format!("valid {kind}, but it expires in {}", days(left)),
                        format!(
                            "it is a short-lived token or about to lapse: {}",
                            holder.renew()
                        ),
                    ),
                    usable: true,
                };
            }
            format!("expires in {}", days(left))
        }
        None => "expiry not given".to_owned(),
    };
    TokenCheck {
        check: Check::ok(
            NAME,
            format!("valid {kind}, {expiry}, has {}", needed.join(", ")),
        ),
        usable: true,
    }
}
