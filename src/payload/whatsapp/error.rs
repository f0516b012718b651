//! `errors[]` of WhatsApp values, unsupported messages and failed statuses.

use serde::{Deserialize, Serialize};

use crate::payload::lenient;

/// One error Meta reports: on a value (`value.errors`), on an `unsupported` message, or
/// on a `failed` status.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaError {
    /// `code`, e.g. `131051` (unsupported message type), `131047` (re-engagement needed),
    /// `131026` (undeliverable).
    #[serde(default, deserialize_with = "lenient::int")]
    pub code: Option<i64>,
    /// `title`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
    /// `message`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub message: Option<String>,
    /// `error_data`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub error_data: Option<WaErrorData>,
    /// `href`: where Meta documents the code.
    #[serde(default, deserialize_with = "lenient::string")]
    pub href: Option<String>,
}

impl WaError {
    /// `error_data.details`.
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref()?.details.as_deref()
    }
}

/// `error_data` of a [`WaError`].
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaErrorData {
    /// `details`: what went wrong, in more words.
    #[serde(default, deserialize_with = "lenient::string")]
    pub details: Option<String>,
}
