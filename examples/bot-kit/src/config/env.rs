//! Reading values: set-but-empty is an error; numbers and seconds within bounds, URLs,
//! account ids and header-safe tokens are checked here.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;

use super::{ConfigError, ConfigErrorKind};

/// The variables, later pairs winning.
pub(super) struct Env(pub(super) HashMap<String, String>);

impl Env {
    /// The value, `None` when unset; an error when set but empty.
    pub(super) fn get(&self, name: &str) -> Result<Option<&str>, ConfigError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) if v.is_empty() => Err(ConfigError::empty(name)),
            Some(v) => Ok(Some(v.as_str())),
        }
    }

    /// A whole number within `min..=max`.
    pub(super) fn number(
        &self,
        name: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::invalid(
                name,
                format!("expected a whole number {min}-{max}, got {v:?}"),
            )),
        }
    }

    /// A whole number of seconds within `min..=max`.
    pub(super) fn seconds(
        &self,
        name: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(Duration::from_secs(n))),
            _ => Err(ConfigError::invalid(
                name,
                format!("expected whole seconds {min}-{max}, got {v:?}"),
            )),
        }
    }
}

pub(super) fn parse_http_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    // The value may embed a credential (a Slack webhook path, a password): never echo it.
    let url = Url::parse(value)
        .map_err(|e| ConfigError::invalid(variable, format!("not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            variable,
            "expected an http:// or https:// URL".to_owned(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(
            variable,
            "the URL has no host".to_owned(),
        ));
    }
    Ok(url)
}

pub(super) fn random_hex(variable: &str, bytes: usize) -> Result<String, ConfigError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        ConfigError::new(
            variable,
            ConfigErrorKind::Random,
            format!("cannot generate a dev value: {e}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Digits only, 1–32 of them.
pub(super) fn is_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Printable ASCII without spaces: safe in an `Authorization` header, and catches a
/// token pasted with a trailing newline.
pub(super) fn is_header_safe(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}
