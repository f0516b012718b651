//! Redis conversation store.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};

use super::{
    Conversation, ConversationKey, ConversationState, ConversationStore, HistoryMessage,
    ResolveOutcome, Role, StoreError, StoreErrorKind, StoreOptions, from_unix_ms, to_unix_ms,
};
use crate::secret::Secret;

/// Appends messages. KEYS: meta, history. ARGV: ttl_ms, cap, now_ms, inbound_ms or "",
/// then one JSON message per argument. A message whose JSON is already in the history
/// (same role, text and millisecond: the same event handled again) is not pushed again.
/// Returns {HGETALL meta, LRANGE history}.
const APPEND_LUA: &str = r"
local ttl = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'state', 'active')
end
if #ARGV >= 5 then
  local present = {}
  for _, message in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    present[message] = true
  end
  for i = 5, #ARGV do
    if not present[ARGV[i]] then
      redis.call('RPUSH', KEYS[2], ARGV[i])
      present[ARGV[i]] = true
    end
  end
  redis.call('LTRIM', KEYS[2], -cap, -1)
end
redis.call('HSET', KEYS[1], 'updated_ms', ARGV[3])
if ARGV[4] ~= '' then
  local current = tonumber(redis.call('HGET', KEYS[1], 'last_inbound_ms') or '-1')
  if tonumber(ARGV[4]) > current then
    redis.call('HSET', KEYS[1], 'last_inbound_ms', ARGV[4])
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
";

/// Sets handoff. KEYS: meta, history. ARGV: ttl_ms, now_ms, reason. Returns 1 when the
/// state changed, 0 when it was already handoff.
const HANDOFF_LUA: &str = r"
local ttl = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
end
local changed = 0
if redis.call('HGET', KEYS[1], 'state') ~= 'handoff' then
  redis.call('HSET', KEYS[1], 'state', 'handoff', 'handoff_reason', ARGV[3], 'handoff_since_ms', ARGV[2])
  changed = 1
end
redis.call('HSET', KEYS[1], 'updated_ms', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return changed
";

/// Resolves handoff. KEYS: meta, history. ARGV: ttl_ms, now_ms. Returns 0 not found,
/// 1 already active, 2 resolved.
const RESOLVE_LUA: &str = r"
local ttl = tonumber(ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return 0
end
if state ~= 'handoff' then
  return 1
end
redis.call('HSET', KEYS[1], 'state', 'active', 'updated_ms', ARGV[2])
redis.call('HDEL', KEYS[1], 'handoff_reason', 'handoff_since_ms')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 2
";

/// Conversation records in Redis, through a tokio [`ConnectionManager`] (reconnects by
/// itself after Redis restarts; every operation has the configured timeout).
///
/// # Record format
///
/// Two keys per conversation, with the same TTL, refreshed on every update
/// (`{prefix}` defaults to `botkit:conv`; the braces make both keys one Redis Cluster
/// hash slot; characters other than `[A-Za-z0-9_.-]` in ids are `%XX`-escaped):
///
/// * `{prefix}:{<account>:<igsid>}:meta` — a hash: `state` (`active` | `handoff`),
///   `handoff_reason`, `handoff_since_ms`, `last_inbound_ms`, `updated_ms` (Unix ms).
/// * `{prefix}:{<account>:<igsid>}:history` — a list of JSON messages, oldest first,
///   trimmed to the history cap: `{"role":"user|bot|human","text":"…","at_ms":…}`.
///
/// # Atomicity
///
/// `append`, `set_handoff` and `resolve` are each one Lua script (run with `EVALSHA`,
/// reloaded after a Redis restart), so Redis applies them one at a time: concurrent
/// appends for one person all land, and an append never overwrites a concurrent state
/// change (nothing is read into the client and written back). `load` reads both keys in
/// one `MULTI` transaction. A history list left without its meta hash (the two keys
/// expiring a moment apart) is discarded by the next write.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    options: StoreOptions,
    append: Script,
    handoff: Script,
    resolve: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to Redis at `url` (`redis://[[user]:password@]host[:port][/db]`).
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Config`] for an invalid URL; [`StoreErrorKind::Unavailable`] /
    /// [`StoreErrorKind::Timeout`] when Redis cannot be reached within the timeout. The
    /// error never contains the URL.
    pub async fn connect(url: &Secret, options: StoreOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.expose()).map_err(|e| {
            StoreError::new(
                StoreErrorKind::Config,
                format!("invalid Redis URL ({})", redacted_kind(&e)),
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.redis_timeout))
            .set_response_timeout(Some(options.redis_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| map_redis_error(&e, "connect"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                options,
                append: Script::new(APPEND_LUA),
                handoff: Script::new(HANDOFF_LUA),
                resolve: Script::new(RESOLVE_LUA),
            }),
        })
    }

    /// Sends `PING`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when Redis does not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.inner.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| map_redis_error(&e, "ping"))
    }

    fn keys(&self, key: &ConversationKey) -> (String, String) {
        let tag = format!(
            "{}:{}",
            escape_id(key.account().as_str()),
            escape_id(key.user().as_str())
        );
        let prefix = &self.inner.options.key_prefix;
        (
            format!("{prefix}:{{{tag}}}:meta"),
            format!("{prefix}:{{{tag}}}:history"),
        )
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.inner.options.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

impl ConversationStore for RedisStore {
    async fn load(&self, key: &ConversationKey) -> Result<Option<Conversation>, StoreError> {
        let (meta, history) = self.keys(key);
        let mut conn = self.inner.conn.clone();
        let (fields, items): (HashMap<String, String>, Vec<String>) = redis::pipe()
            .atomic()
            .hgetall(&meta)
            .lrange(&history, 0, -1)
            .query_async(&mut conn)
            .await
            .map_err(|e| map_redis_error(&e, "load"))?;
        if fields.is_empty() {
            return Ok(None);
        }
        decode(&fields, &items).map(Some)
    }

    async fn append(
        &self,
        key: &ConversationKey,
        messages: &[HistoryMessage],
    ) -> Result<Conversation, StoreError> {
        let (meta, history) = self.keys(key);
        let inbound = messages
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| to_unix_ms(m.at))
            .max()
            .map(|ms| ms.to_string())
            .unwrap_or_default();
        let mut invocation = self.inner.append.key(&meta);
        invocation
            .key(&history)
            .arg(self.ttl_ms())
            .arg(self.inner.options.history_cap)
            .arg(to_unix_ms(SystemTime::now()))
            .arg(inbound);
        for message in messages {
            let json = serde_json::to_string(message).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!("cannot encode a message: {e}"),
                )
            })?;
            invocation.arg(json);
        }
        let mut conn = self.inner.conn.clone();
        let (fields, items): (HashMap<String, String>, Vec<String>) = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_redis_error(&e, "append"))?;
        decode(&fields, &items)
    }

    async fn set_handoff(&self, key: &ConversationKey, reason: &str) -> Result<bool, StoreError> {
        let (meta, history) = self.keys(key);
        let mut conn = self.inner.conn.clone();
        let changed: i64 = self
            .inner
            .handoff
            .key(&meta)
            .key(&history)
            .arg(self.ttl_ms())
            .arg(to_unix_ms(SystemTime::now()))
            .arg(reason)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_redis_error(&e, "set_handoff"))?;
        Ok(changed == 1)
    }

    async fn resolve(&self, key: &ConversationKey) -> Result<ResolveOutcome, StoreError> {
        let (meta, history) = self.keys(key);
        let mut conn = self.inner.conn.clone();
        let outcome: i64 = self
            .inner
            .resolve
            .key(&meta)
            .key(&history)
            .arg(self.ttl_ms())
            .arg(to_unix_ms(SystemTime::now()))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| map_redis_error(&e, "resolve"))?;
        Ok(match outcome {
            2 => ResolveOutcome::Resolved,
            1 => ResolveOutcome::AlreadyActive,
            _ => ResolveOutcome::NotFound,
        })
    }

    async fn last_inbound(&self, key: &ConversationKey) -> Result<Option<SystemTime>, StoreError> {
        let (meta, _) = self.keys(key);
        let mut conn = self.inner.conn.clone();
        let value: Option<String> = redis::cmd("HGET")
            .arg(&meta)
            .arg("last_inbound_ms")
            .query_async(&mut conn)
            .await
            .map_err(|e| map_redis_error(&e, "last_inbound"))?;
        value
            .map(|v| parse_ms(&v, "last_inbound_ms").map(from_unix_ms))
            .transpose()
    }
}

fn decode(fields: &HashMap<String, String>, items: &[String]) -> Result<Conversation, StoreError> {
    let ms = |name: &str| -> Result<Option<u64>, StoreError> {
        fields.get(name).map(|v| parse_ms(v, name)).transpose()
    };
    let state = match fields.get("state").map(String::as_str) {
        Some("handoff") => ConversationState::Handoff {
            reason: fields.get("handoff_reason").cloned().unwrap_or_default(),
            since: from_unix_ms(ms("handoff_since_ms")?.unwrap_or(0)),
        },
        Some("active") => ConversationState::Active,
        Some(other) => {
            return Err(StoreError::new(
                StoreErrorKind::Corrupt,
                format!("unknown conversation state {other:?}"),
            ));
        }
        None => {
            return Err(StoreError::new(
                StoreErrorKind::Corrupt,
                "conversation record without a state",
            ));
        }
    };
    let history = items
        .iter()
        .map(|item| {
            serde_json::from_str::<HistoryMessage>(item).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!("undecodable history message: {e}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Conversation {
        state,
        history,
        last_inbound: ms("last_inbound_ms")?.map(from_unix_ms),
        updated: from_unix_ms(ms("updated_ms")?.unwrap_or(0)),
    })
}

fn parse_ms(value: &str, name: &str) -> Result<u64, StoreError> {
    value.parse().map_err(|_| {
        StoreError::new(
            StoreErrorKind::Corrupt,
            format!("field {name} is not a millisecond timestamp"),
        )
    })
}

/// Escapes everything but `[A-Za-z0-9_.-]` as `%XX`, so ids cannot collide or break the
/// `{…}` hash tag.
fn escape_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A short description of a Redis error that cannot contain the URL or a password.
fn redacted_kind(e: &RedisError) -> String {
    format!("{:?}", e.kind())
}

fn map_redis_error(e: &RedisError, operation: &str) -> StoreError {
    let kind = if e.is_timeout() {
        StoreErrorKind::Timeout
    } else if e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
    {
        StoreErrorKind::Unavailable
    } else if e.kind() == redis::ErrorKind::Parse
        || e.kind() == redis::ErrorKind::UnexpectedReturnType
    {
        StoreErrorKind::Corrupt
    } else {
        StoreErrorKind::Backend
    };
    let what = match kind {
        StoreErrorKind::Timeout => "timed out",
        StoreErrorKind::Unavailable => "Redis unavailable",
        StoreErrorKind::Corrupt => "unexpected reply",
        _ => "Redis error",
    };
    StoreError::new(kind, format!("{operation}: {what} ({})", redacted_kind(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_escaped_for_keys() {
        assert_eq!(escape_id("17841400000000000"), "17841400000000000");
        assert_eq!(escape_id("a:b{c}"), "a%3Ab%7Bc%7D");
        assert_eq!(escape_id("ü"), "%C3%BC");
    }

    #[test]
    fn decode_rejects_unknown_state_and_bad_history() {
        let mut fields = HashMap::new();
        fields.insert("state".to_owned(), "paused".to_owned());
        let err = decode(&fields, &[]).unwrap_err();
        assert!(err.is_corrupt());

        fields.insert("state".to_owned(), "active".to_owned());
        let err = decode(&fields, &["not json".to_owned()]).unwrap_err();
        assert!(err.is_corrupt());

        fields.insert("last_inbound_ms".to_owned(), "1700000000000".to_owned());
        let c = decode(
            &fields,
            &[r#"{"role":"bot","text":"hi","at_ms":5}"#.to_owned()],
        )
        .unwrap();
        assert_eq!(c.last_inbound, Some(from_unix_ms(1_700_000_000_000)));
        assert_eq!(c.history.len(), 1);
    }
}
