//! `BOT_ROLE` and the `STREAM_*` settings of the Redis hand-off.

use std::time::Duration;

use super::env::Env;
use super::{ConfigError, ConfigErrorKind, StreamConfig, vars};
use crate::state::Backend;

/// Prefix of the bots' Redis Streams keys (`botkit:stream:{i}`, `botkit:lease:{i}`,
/// `botkit:workers`, `botkit:dead`, `botkit:dedup:{key}`).
pub const STREAM_KEY_PREFIX: &str = "botkit:";

/// The bots' consumer group.
pub const STREAM_GROUP: &str = "botkit-workers";

/// Which part of the work a process does (`BOT_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Role {
    /// Serves the webhook: verifies, queues in Redis, acknowledges. Handles nothing.
    Receiver,
    /// Handles queued events. Its `/webhook` answers 503 (it is not meant to get traffic).
    Worker,
    /// Both (the default; the only role without Redis).
    #[default]
    All,
}

impl Role {
    /// Parses `receiver`, `worker` or `all` (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Receiver, Self::Worker, Self::All]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name))
    }

    /// `receiver`, `worker` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Worker => "worker",
            Self::All => "all",
        }
    }

    /// Whether the process accepts webhook deliveries.
    pub fn receives(self) -> bool {
        matches!(self, Self::Receiver | Self::All)
    }

    /// Whether the process handles events.
    pub fn works(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }
}

/// `BOT_ROLE`; a role other than `all` needs `REDIS_URL`.
pub(super) fn role(env: &Env, state: &Backend) -> Result<Role, ConfigError> {
    let role = match env.get(vars::BOT_ROLE)? {
        None => Role::All,
        Some(v) => Role::from_name(v).ok_or_else(|| {
            ConfigError::invalid(
                vars::BOT_ROLE,
                format!("expected receiver, worker or all, got {v:?}"),
            )
        })?,
    };
    if role != Role::All && matches!(state, Backend::Memory) {
        return Err(ConfigError::new(
            vars::REDIS_URL,
            ConfigErrorKind::Missing,
            format!(
                "required with BOT_ROLE={} (receivers and workers share work through Redis)",
                role.as_str()
            ),
        ));
    }
    Ok(role)
}

pub(super) fn stream(env: &Env) -> Result<StreamConfig, ConfigError> {
    let mut stream = StreamConfig::default();
    stream.key_prefix = STREAM_KEY_PREFIX.to_owned();
    stream.group = STREAM_GROUP.to_owned();
    if let Some(n) = env.number(vars::STREAM_SHARDS, 1, 1024)? {
        stream.shards = u16::try_from(n).unwrap_or(u16::MAX);
    }
    if let Some(n) = env.number(vars::STREAM_MAX_LEN, 1, u64::from(u32::MAX))? {
        stream.max_len = n;
    }
    if let Some(n) = env.number(vars::STREAM_ACK_TIMEOUT_MS, 10, 60_000)? {
        stream.ack_timeout = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_LEASE_MS, 300, 3_600_000)? {
        stream.lease = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_RECLAIM_IDLE_MS, 100, 86_400_000)? {
        stream.reclaim_idle = Duration::from_millis(n);
    }
    if let Some(n) = env.number(vars::STREAM_BATCH, 1, 1000)? {
        stream.batch = usize::try_from(n).unwrap_or(1000);
    }
    if let Some(n) = env.number(vars::STREAM_MAX_DELIVERIES, 1, 1000)? {
        stream.max_deliveries = u32::try_from(n).unwrap_or(1000);
    }
    Ok(stream)
}
