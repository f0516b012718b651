//! Refreshed tokens in Redis, so that a restart and the other workers use them.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use meta_webhooks::AccessToken;
use meta_webhooks::payload::AccountId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisError};
use thiserror::Error;

use crate::secret::Secret;

/// Prefix of the token records: `botkit:token:{account}`.
pub const TOKEN_KEY_PREFIX: &str = "botkit:token:";

/// How long a refresh lock lives at most (a process that dies while refreshing frees it
/// after this).
pub const REFRESH_LOCK_TTL: Duration = Duration::from_secs(60);

/// Bound on one Redis operation of the token store.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// What went wrong in the token store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenStoreErrorKind {
    /// Redis cannot be reached, or did not answer in time.
    Unavailable,
    /// Redis answered with an error.
    Backend,
    /// A stored record cannot be decoded.
    Corrupt,
    /// The Redis URL is invalid.
    Config,
}

/// A token store failure. Carries no token, URL or password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("token store: {detail}")]
pub struct TokenStoreError {
    kind: TokenStoreErrorKind,
    detail: String,
}

impl TokenStoreError {
    fn new(kind: TokenStoreErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    fn redis(e: &RedisError, operation: &str) -> Self {
        let kind = if e.is_timeout()
            || e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            TokenStoreErrorKind::Unavailable
        } else {
            TokenStoreErrorKind::Backend
        };
        // The error kind only: a Redis error's text may quote the URL.
        Self::new(kind, format!("{operation}: {:?}", e.kind()))
    }

    /// What went wrong.
    pub fn kind(&self) -> TokenStoreErrorKind {
        self.kind
    }
}

/// A refreshed token as stored: the token, its expiry, and a fingerprint of the configured
/// token it descends from (to tell whether the configuration changed since).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The refreshed token.
    pub token: AccessToken,
    /// When it expires.
    pub expires_at: SystemTime,
    /// When it was refreshed.
    pub refreshed_at: SystemTime,
    /// SHA-256 (hex) of the configured token the refreshes started from.
    pub configured_sha256: String,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .field("refreshed_at", &self.refreshed_at)
            .finish_non_exhaustive()
    }
}

/// Refreshed tokens in Redis, one hash per account at `botkit:token:{account}` with the
/// fields `token`, `expires_at` and `refreshed_at` (Unix seconds) and `configured_sha256`.
/// The key expires when the token does. A refresh holds `botkit:token:{account}:refreshing`
/// (`SET NX PX`) so that one process refreshes while the others wait for the result.
#[derive(Clone)]
pub struct TokenStore {
    conn: ConnectionManager,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").finish_non_exhaustive()
    }
}

fn key(account: &AccountId) -> String {
    format!("{TOKEN_KEY_PREFIX}{}", account.as_str())
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TokenStore {
    /// Connects to Redis at `url`.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError`] for an invalid URL or when Redis cannot be reached.
    pub async fn connect(url: &Secret) -> Result<Self, TokenStoreError> {
        let client = redis::Client::open(url.expose()).map_err(|e| {
            TokenStoreError::new(
                TokenStoreErrorKind::Config,
                format!("invalid Redis URL ({:?})", e.kind()),
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| TokenStoreError::redis(&e, "connect"))?;
        Ok(Self { conn })
    }

    /// The stored token of `account`, if any.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError`] when Redis fails or the record is incomplete.
    pub async fn load(&self, account: &AccountId) -> Result<Option<StoredToken>, TokenStoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = conn
            .hgetall(key(account))
            .await
            .map_err(|e| TokenStoreError::redis(&e, "load"))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let corrupt = |field: &str| {
            TokenStoreError::new(
                TokenStoreErrorKind::Corrupt,
                format!("the record of account {account} has no valid {field}"),
            )
        };
        let time = |field: &str| {
            fields
                .get(field)
                .and_then(|v| v.parse::<u64>().ok())
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
                .ok_or_else(|| corrupt(field))
        };
        Ok(Some(StoredToken {
            token: fields
                .get("token")
                .and_then(|t| AccessToken::new(t.clone()).ok())
                .ok_or_else(|| corrupt("token"))?,
            expires_at: time("expires_at")?,
            refreshed_at: time("refreshed_at")?,
            configured_sha256: fields
                .get("configured_sha256")
                .cloned()
                .ok_or_else(|| corrupt("configured_sha256"))?,
        }))
    }

    /// Stores `token` for `account` (replacing what was there), expiring with the token.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError`] when Redis fails.
    pub async fn save(
        &self,
        account: &AccountId,
        token: &StoredToken,
    ) -> Result<(), TokenStoreError> {
        let key = key(account);
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .del(&key)
            .hset_multiple(
                &key,
                &[
                    ("token", token.token.expose().to_owned()),
                    ("expires_at", unix(token.expires_at).to_string()),
                    ("refreshed_at", unix(token.refreshed_at).to_string()),
                    ("configured_sha256", token.configured_sha256.clone()),
                ],
            )
            .ignore()
            .cmd("EXPIREAT")
            .arg(&key)
            .arg(unix(token.expires_at))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| TokenStoreError::redis(&e, "save"))
    }

    /// Takes the refresh lock of `account` for `holder`: `true` when taken (give it back
    /// with [`unlock`](Self::unlock)), `false` when another process holds it.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError`] when Redis fails.
    pub async fn lock(&self, account: &AccountId, holder: &str) -> Result<bool, TokenStoreError> {
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(format!("{}:refreshing", key(account)))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(REFRESH_LOCK_TTL.as_millis()).unwrap_or(u64::MAX))
            .query_async(&mut conn)
            .await
            .map_err(|e| TokenStoreError::redis(&e, "lock"))?;
        Ok(taken.is_some())
    }

    /// Gives the refresh lock back if `holder` still holds it.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError`] when Redis fails.
    pub async fn unlock(&self, account: &AccountId, holder: &str) -> Result<(), TokenStoreError> {
        const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";
        let mut conn = self.conn.clone();
        redis::Script::new(UNLOCK)
            .key(format!("{}:refreshing", key(account)))
            .arg(holder)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| TokenStoreError::redis(&e, "unlock"))
    }
}
