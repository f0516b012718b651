//! Handover protocol events. `app_roles` is
//! [`AppRoles`](super::AppRoles) on [`MessagingEvent`](super::MessagingEvent).

use serde::{Deserialize, Serialize};

use crate::payload::ids::AppId;
use crate::payload::lenient;

/// `pass_thread_control`: another app passed the thread to this one.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PassThreadControl {
    /// The previous owner (`null` when the thread was idle).
    #[serde(default, deserialize_with = "lenient::id")]
    pub previous_owner_app_id: Option<AppId>,
    /// The new owner.
    #[serde(default, deserialize_with = "lenient::id")]
    pub new_owner_app_id: Option<AppId>,
    /// Metadata from the passing app.
    #[serde(default, deserialize_with = "lenient::string")]
    pub metadata: Option<String>,
}

/// `take_thread_control`: the primary receiver took the thread.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct TakeThreadControl {
    /// The previous owner.
    #[serde(default, deserialize_with = "lenient::id")]
    pub previous_owner_app_id: Option<AppId>,
    /// The new owner.
    #[serde(default, deserialize_with = "lenient::id")]
    pub new_owner_app_id: Option<AppId>,
    /// Metadata from the taking app.
    #[serde(default, deserialize_with = "lenient::string")]
    pub metadata: Option<String>,
}

/// `request_thread_control`: a secondary receiver asks for the thread.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct RequestThreadControl {
    /// The app asking (a JSON number in Meta's example).
    #[serde(default, deserialize_with = "lenient::id")]
    pub requested_owner_app_id: Option<AppId>,
    /// Metadata from the requesting app.
    #[serde(default, deserialize_with = "lenient::string")]
    pub metadata: Option<String>,
}
