//! How the bot answers: `RULES_FILE`, `NOTIFY_WEBHOOK_URL` and `MAX_EVENT_AGE_SECS`.

use std::path::PathBuf;
use std::time::Duration;

use super::env::{Env, parse_http_url};
use super::{ConfigError, vars};
use crate::rules::{RuleSet, RulesErrorKind};
use crate::secret::Secret;

/// Default `MAX_EVENT_AGE_SECS`: 23 h, inside the 24 h messaging window.
pub const DEFAULT_MAX_EVENT_AGE: Duration = Duration::from_secs(82_800);

/// Where the rules came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    /// The embedded default set.
    Embedded,
    /// `RULES_FILE`.
    File(PathBuf),
}

/// `RULES_FILE`, or the embedded default rules when unset.
pub(super) fn rules(env: &Env) -> Result<(RuleSet, RulesSource), ConfigError> {
    Ok(match env.get(vars::RULES_FILE)? {
        None => (RuleSet::embedded_default(), RulesSource::Embedded),
        Some(path) => {
            let path = PathBuf::from(path);
            let rules = RuleSet::from_file(&path).map_err(|e| {
                let problem = if e.kind() == RulesErrorKind::Io {
                    e.to_string()
                } else {
                    format!("{}: {e}", path.display())
                };
                ConfigError::rules(problem, e)
            })?;
            (rules, RulesSource::File(path))
        }
    })
}

/// `NOTIFY_WEBHOOK_URL`; `None` disables notifications.
pub(super) fn notify_webhook_url(env: &Env) -> Result<Option<Secret>, ConfigError> {
    Ok(match env.get(vars::NOTIFY_WEBHOOK_URL)? {
        None => None,
        Some(url) => {
            parse_http_url(vars::NOTIFY_WEBHOOK_URL, url)?;
            Some(Secret::new(url))
        }
    })
}

/// `MAX_EVENT_AGE_SECS`.
pub(super) fn max_event_age(env: &Env) -> Result<Duration, ConfigError> {
    Ok(env
        .seconds(vars::MAX_EVENT_AGE_SECS, 1, u64::MAX / 1000)?
        .unwrap_or(DEFAULT_MAX_EVENT_AGE))
}
