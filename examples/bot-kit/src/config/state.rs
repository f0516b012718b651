//! Where conversation state lives: `REDIS_URL` and `CONVERSATION_TTL_SECS`.

use std::time::Duration;

use super::env::Env;
use super::{ConfigError, vars};
use crate::secret::Secret;
use crate::state::Backend;

/// `REDIS_URL` (memory when unset) and `CONVERSATION_TTL_SECS`.
pub(super) fn state(env: &Env) -> Result<(Backend, Duration), ConfigError> {
    let state = match env.get(vars::REDIS_URL)? {
        None => Backend::Memory,
        Some(url) => {
            redis::Client::open(url).map_err(|_| {
                ConfigError::invalid(
                    vars::REDIS_URL,
                    "not a valid Redis URL (expected redis://[[user]:password@]host[:port][/db])"
                        .to_owned(),
                )
            })?;
            Backend::Redis(Secret::new(url))
        }
    };
    let conversation_ttl = env
        .seconds(vars::CONVERSATION_TTL_SECS, 1, 30 * 24 * 3600)?
        .unwrap_or(crate::state::DEFAULT_TTL);
    Ok((state, conversation_ttl))
}
