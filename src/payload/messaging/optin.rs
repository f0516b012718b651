//! `optin`.

use serde::{Deserialize, Serialize};

use crate::payload::ids::UserRef;
use crate::payload::lenient;
use crate::payload::time::Timestamp;

/// An opt-in: marketing-message subscriptions, or the legacy Send-to-Messenger and
/// checkbox plugins.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Optin {
    /// `type`, e.g. `notification_messages`.
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
    /// The developer payload.
    #[serde(default, deserialize_with = "lenient::string")]
    pub payload: Option<String>,
    /// `ref` of the legacy plugins.
    #[serde(rename = "ref", default, deserialize_with = "lenient::string")]
    pub ref_: Option<String>,
    /// Checkbox-plugin user (may be the only identity, with no `sender`).
    #[serde(default, deserialize_with = "lenient::id")]
    pub user_ref: Option<UserRef>,
    /// Token for sending marketing messages.
    #[serde(default, deserialize_with = "lenient::string")]
    pub notification_messages_token: Option<String>,
    /// Frequency (removed in v16).
    #[serde(default, deserialize_with = "lenient::string")]
    pub notification_messages_frequency: Option<String>,
    /// The person's timezone.
    #[serde(default, deserialize_with = "lenient::string")]
    pub notification_messages_timezone: Option<String>,
    /// `STOP NOTIFICATIONS` or `RESUME NOTIFICATIONS`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub notification_messages_status: Option<String>,
    /// When the token expires.
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub token_expiry_timestamp: Option<Timestamp>,
    /// `REFRESHED` or `NOT_REFRESHED`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub user_token_status: Option<String>,
    /// The opt-in title.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
}
