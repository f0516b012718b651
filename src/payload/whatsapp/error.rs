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
    /// `details` at the top level, as older payloads carry it.
    #[serde(default, deserialize_with = "lenient::string")]
    pub details: Option<String>,
}

impl WaError {
    /// `error_data.details`, else the top-level `details` of older payloads.
    pub fn details(&self) -> Option<&str> {
        self.error_data
            .as_ref()
            .and_then(|d| d.details.as_deref())
            .or(self.details.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_in_either_place() {
        let e: WaError = serde_json::from_str(
            r#"{"code":131051,"details":"Message type is not currently supported","title":"Unsupported message type"}"#,
        )
        .unwrap();
        assert_eq!(e.details(), Some("Message type is not currently supported"));
        let e: WaError = serde_json::from_str(
            r#"{"code":"131026","error_data":{"details":"d"},"details":"old"}"#,
        )
        .unwrap();
        assert_eq!((e.code, e.details()), (Some(131_026), Some("d")));
    }
}
