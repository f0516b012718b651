//! [`ConfigError`]: which variable, and what is wrong with it.

use thiserror::Error;

use super::vars;
use crate::rules::RulesError;

/// What is wrong with a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// Set but empty.
    Empty,
    /// A value that cannot be used.
    Invalid,
    /// Unset, but required by another setting.
    Missing,
    /// Contradicts another setting (e.g. an account configured twice).
    Conflict,
    /// A file that cannot be read.
    Unreadable,
    /// An invalid rules file ([`ConfigError::rules_error`] has the details).
    Rules,
    /// A dev value could not be generated (no OS randomness).
    Random,
}

/// A configuration problem. `Display` is one line, `VARIABLE: problem`, and never
/// contains a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    variable: String,
    kind: ConfigErrorKind,
    problem: String,
    rules: Option<Box<RulesError>>,
}

impl ConfigError {
    pub(super) fn new(variable: &str, kind: ConfigErrorKind, problem: String) -> Self {
        Self {
            variable: variable.to_owned(),
            kind,
            problem,
            rules: None,
        }
    }

    pub(super) fn invalid(variable: &str, problem: String) -> Self {
        Self::new(variable, ConfigErrorKind::Invalid, problem)
    }

    pub(super) fn empty(variable: &str) -> Self {
        Self::new(
            variable,
            ConfigErrorKind::Empty,
            "is set but empty (unset it to use the default)".to_owned(),
        )
    }

    /// A [`ConfigErrorKind::Rules`] error of `RULES_FILE`, keeping the rules error.
    pub(super) fn rules(problem: String, error: RulesError) -> Self {
        Self {
            variable: vars::RULES_FILE.to_owned(),
            kind: ConfigErrorKind::Rules,
            problem,
            rules: Some(Box::new(error)),
        }
    }

    pub(super) fn live_requires(variable: &str) -> Self {
        Self::new(
            variable,
            ConfigErrorKind::Missing,
            "required when IG_PAGE_TOKEN, ACCOUNTS_FILE or WA_TOKEN is set (a generated \
             dev value cannot work with Meta)"
                .to_owned(),
        )
    }

    /// The variable at fault.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// What is wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The rules error behind a [`ConfigErrorKind::Rules`] error.
    pub fn rules_error(&self) -> Option<&RulesError> {
        self.rules.as_deref()
    }
}
