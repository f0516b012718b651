//! The answers of `debug_token` and `/me/permissions`, typed.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// What kind of token [`GraphClient::debug_token`](crate::client::GraphClient::debug_token)
/// inspected (`data.type`). Lossless: a type this version does not know is kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `APP`: an app access token.
    App,
    /// `USER`: a User access token (Facebook Login).
    User,
    /// `PAGE`: a Page access token.
    Page,
    /// `SYSTEM_USER`: a Business Manager system user token.
    SystemUser,
    /// Any other value, verbatim.
    Unknown(String),
}

impl TokenType {
    /// Meta's spelling, e.g. `"PAGE"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::App => "APP",
            Self::User => "USER",
            Self::Page => "PAGE",
            Self::SystemUser => "SYSTEM_USER",
            Self::Unknown(other) => other,
        }
    }

    fn parse(value: String) -> Self {
        match value.as_str() {
            "APP" => Self::App,
            "USER" => Self::User,
            "PAGE" => Self::Page,
            "SYSTEM_USER" => Self::SystemUser,
            _ => Self::Unknown(value),
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When something expires: Meta writes `0` for "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// It does not expire (`0`).
    Never,
    /// It expires at this time.
    At(SystemTime),
}

impl Expiry {
    /// From Unix seconds, `0` meaning never; `None` for a negative value.
    pub fn from_unix(seconds: i64) -> Option<Self> {
        match u64::try_from(seconds).ok()? {
            0 => Some(Self::Never),
            s => Some(Self::At(SystemTime::UNIX_EPOCH + Duration::from_secs(s))),
        }
    }

    /// The time, or `None` for [`Expiry::Never`].
    pub fn time(self) -> Option<SystemTime> {
        match self {
            Self::Never => None,
            Self::At(at) => Some(at),
        }
    }

    /// How long is left from `now`: `None` for [`Expiry::Never`], zero once passed.
    pub fn remaining(self, now: SystemTime) -> Option<Duration> {
        self.time()
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }
}

/// A permission and the ids it was granted for (`granular_scopes[]`), e.g.
/// `pages_messaging` for two Pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GranularScope {
    /// The permission, e.g. `instagram_manage_messages`.
    pub scope: String,
    /// The Pages, Instagram accounts, WABAs… it covers; empty when it covers all of them
    /// (Meta then omits the list).
    #[serde(default, deserialize_with = "ids")]
    pub target_ids: Vec<String>,
}

/// Why Meta considers a token invalid (`data.error` of `debug_token`), e.g. code 190
/// subcode 463 for an expired token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenError {
    /// The error code, e.g. `190`.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    /// Meta's explanation, for people.
    #[serde(default)]
    pub message: String,
    /// The subcode, e.g. `463` (expired), `460` (password changed), `458` (app removed).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub subcode: Option<i64>,
}

/// What Meta knows about an access token: the `data` object of `debug_token`.
///
/// Every field but `is_valid` may be missing; ids are accepted as strings or numbers.
///
/// ```
/// use meta_webhooks::client::{Expiry, TokenInfo, TokenType};
///
/// let info: TokenInfo = serde_json::from_str(r#"{
///   "app_id": "1234567890", "type": "PAGE", "application": "Shop bot",
///   "data_access_expires_at": 1780000000, "expires_at": 0, "is_valid": true,
///   "issued_at": 1770000000, "profile_id": "1029384756",
///   "scopes": ["pages_messaging", "instagram_manage_messages"],
///   "granular_scopes": [{"scope": "pages_messaging", "target_ids": ["1029384756"]}],
///   "user_id": "5647382910"
/// }"#).unwrap();
/// assert_eq!(info.token_type, Some(TokenType::Page));
/// assert_eq!(info.expires_at, Some(Expiry::Never));
/// assert!(info.has_scope("instagram_manage_messages"));
/// assert_eq!(info.targets("pages_messaging"), Some(&["1029384756".to_owned()][..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// Whether Meta accepts the token now.
    pub is_valid: bool,
    /// The kind of token (`type`).
    pub token_type: Option<TokenType>,
    /// The app the token was issued for.
    pub app_id: Option<String>,
    /// The app's name.
    pub application: Option<String>,
    /// When the token expires ([`Expiry::Never`] for `0`).
    pub expires_at: Option<Expiry>,
    /// When the app's access to the person's data expires (90 days after their last
    /// activity with the app; [`Expiry::Never`] for `0`).
    pub data_access_expires_at: Option<Expiry>,
    /// When the token was issued.
    pub issued_at: Option<SystemTime>,
    /// The permissions the token holds.
    pub scopes: Vec<String>,
    /// The permissions with the ids they cover.
    pub granular_scopes: Vec<GranularScope>,
    /// The (app-scoped) user the token belongs to, or the system user.
    pub user_id: Option<String>,
    /// For a Page token: the Page.
    pub profile_id: Option<String>,
    /// Why the token is invalid, when it is.
    pub error: Option<TokenError>,
}

impl TokenInfo {
    /// `true` when the token holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
            || self.granular_scopes.iter().any(|g| g.scope == scope)
    }

    /// The ids `scope` was granted for: `Some(&[])` when it covers all of them, `None` when
    /// the token has no granular entry for it.
    pub fn targets(&self, scope: &str) -> Option<&[String]> {
        self.granular_scopes
            .iter()
            .find(|g| g.scope == scope)
            .map(|g| g.target_ids.as_slice())
    }

    /// How long the token is valid from `now`: `None` when it never expires or Meta gave no
    /// expiry, zero once expired.
    pub fn expires_in(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at.and_then(|e| e.remaining(now))
    }
}

#[derive(Deserialize)]
struct RawTokenInfo {
    #[serde(default)]
    is_valid: Option<bool>,
    #[serde(default, rename = "type")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    app_id: Option<String>,
    #[serde(default)]
    application: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    expires_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    data_access_expires_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    issued_at: Option<i64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    granular_scopes: Option<Vec<GranularScope>>,
    #[serde(default, deserialize_with = "lenient_id")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    profile_id: Option<String>,
    #[serde(default)]
    error: Option<TokenError>,
}

impl<'de> Deserialize<'de> for TokenInfo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawTokenInfo::deserialize(deserializer)?;
        Ok(Self {
            is_valid: raw.is_valid.unwrap_or(false),
            token_type: raw.token_type.map(TokenType::parse),
            app_id: raw.app_id,
            application: raw.application,
            expires_at: raw.expires_at.and_then(Expiry::from_unix),
            data_access_expires_at: raw.data_access_expires_at.and_then(Expiry::from_unix),
            issued_at: raw
                .issued_at
                .and_then(Expiry::from_unix)
                .and_then(Expiry::time),
            scopes: raw.scopes.unwrap_or_default(),
            granular_scopes: raw.granular_scopes.unwrap_or_default(),
            user_id: raw.user_id,
            profile_id: raw.profile_id,
            error: raw.error,
        })
    }
}

/// The state of one permission in `/me/permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PermissionStatus {
    /// `granted`.
    Granted,
    /// `declined`: the person turned it down.
    Declined,
    /// `expired`: it must be asked for again.
    Expired,
    /// Any other value, verbatim.
    Unknown(String),
}

impl PermissionStatus {
    /// Meta's spelling, e.g. `"granted"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Granted => "granted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Unknown(other) => other,
        }
    }
}

impl fmt::Display for PermissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PermissionStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(match value.as_str() {
            "granted" => Self::Granted,
            "declined" => Self::Declined,
            "expired" => Self::Expired,
            _ => Self::Unknown(value),
        })
    }
}

/// One entry of `/me/permissions`: `{"permission": "pages_messaging", "status": "granted"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Permission {
    /// The permission, e.g. `pages_messaging`.
    pub permission: String,
    /// Granted, declined or expired.
    pub status: PermissionStatus,
}

impl Permission {
    /// `true` when the permission is granted.
    pub fn is_granted(&self) -> bool {
        self.status == PermissionStatus::Granted
    }
}

fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn id_of(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn lenient_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(deserializer)?.and_then(id_of))
}

fn ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Array(items)) => items.into_iter().filter_map(id_of).collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_and_unknown_types_are_kept() {
        let info: TokenInfo = serde_json::from_str(
            r#"{"app_id":138483919580948,"type":"BUSINESS_THING","is_valid":true,
                "expires_at":1352419328,"issued_at":1347235328,"metadata":{"sso":"ios"},
                "scopes":["email"],"user_id":1207059}"#,
        )
        .unwrap();
        assert_eq!(info.app_id.as_deref(), Some("138483919580948"));
        assert_eq!(info.user_id.as_deref(), Some("1207059"));
        assert_eq!(
            info.token_type,
            Some(TokenType::Unknown("BUSINESS_THING".into()))
        );
        assert_eq!(
            info.expires_at,
            Some(Expiry::At(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_352_419_328)
            ))
        );
        assert!(info.has_scope("email"));
        assert_eq!(info.targets("email"), None);
    }

    #[test]
    fn expiry_zero_is_never_and_remaining_saturates() {
        assert_eq!(Expiry::from_unix(0), Some(Expiry::Never));
        assert_eq!(Expiry::from_unix(-1), None);
        let at = Expiry::from_unix(100).unwrap();
        let t = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(at.remaining(t(40)), Some(Duration::from_secs(60)));
        assert_eq!(at.remaining(t(140)), Some(Duration::ZERO));
        assert_eq!(Expiry::Never.remaining(t(140)), None);
    }

    #[test]
    fn permission_statuses_are_lossless() {
        let list: Vec<Permission> = serde_json::from_str(
            r#"[{"permission":"a","status":"granted"},{"permission":"b","status":"declined"},
                {"permission":"c","status":"expired"},{"permission":"d","status":"pending"}]"#,
        )
        .unwrap();
        let statuses: Vec<&str> = list.iter().map(|p| p.status.as_str()).collect();
        assert_eq!(statuses, ["granted", "declined", "expired", "pending"]);
        assert!(list[0].is_granted() && !list[1].is_granted());
        assert_eq!(list[3].status, PermissionStatus::Unknown("pending".into()));
    }
}
