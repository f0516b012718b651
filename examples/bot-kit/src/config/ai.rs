//! The `OPENAI_*` settings of the GPT fallback.

use super::env::{Env, is_header_safe, parse_http_url};
use super::{ConfigError, vars};
use crate::ai::AiConfig;
use crate::secret::Secret;

/// `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` and `OPENAI_TIMEOUT_SECS`.
pub(super) fn ai(env: &Env) -> Result<AiConfig, ConfigError> {
    let mut ai = AiConfig::default();
    if let Some(key) = env.get(vars::OPENAI_API_KEY)? {
        if !is_header_safe(key) {
            return Err(ConfigError::invalid(
                vars::OPENAI_API_KEY,
                "contains whitespace or non-ASCII characters (copy the key again)".to_owned(),
            ));
        }
        ai.api_key = Some(Secret::new(key));
    }
    if let Some(base) = env.get(vars::OPENAI_BASE_URL)? {
        let url = parse_http_url(vars::OPENAI_BASE_URL, base)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::invalid(
                vars::OPENAI_BASE_URL,
                "expected a base URL without query or fragment, e.g. https://api.openai.com/v1"
                    .to_owned(),
            ));
        }
        ai.base_url = url.as_str().trim_end_matches('/').to_owned();
    }
    if let Some(model) = env.get(vars::OPENAI_MODEL)? {
        if model.chars().any(char::is_whitespace) {
            return Err(ConfigError::invalid(
                vars::OPENAI_MODEL,
                format!("expected a model name without spaces, got {model:?}"),
            ));
        }
        model.clone_into(&mut ai.model);
    }
    if let Some(secs) = env.seconds(vars::OPENAI_TIMEOUT_SECS, 1, 120)? {
        ai.timeout = secs;
    }
    Ok(ai)
}
