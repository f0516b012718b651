//! `account_linking`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::payload::lenient;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `account_linking.status`.
    pub enum AccountLinkingStatus(
        /// A status this version does not know.
        Unknown
    ) {
        /// The person linked their account (`authorization_code` is set).
        Linked = "linked",
        /// The person unlinked their account.
        Unlinked = "unlinked",
    }
}

/// Messenger account linking: the person tapped a Link Account or Unlink Account button.
///
/// `Debug` does not show the `authorization_code`.
///
/// ```
/// use meta_webhooks::payload::{AccountLinking, AccountLinkingStatus};
///
/// let linking: AccountLinking = serde_json::from_str(
///     r#"{"status":"linked","authorization_code":"PASS_THROUGH_AUTHORIZATION_CODE"}"#,
/// )?;
/// assert_eq!(linking.status, Some(AccountLinkingStatus::Linked));
/// assert!(!format!("{linking:?}").contains("PASS_THROUGH"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct AccountLinking {
    /// `linked` or `unlinked`.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub status: Option<AccountLinkingStatus>,
    /// The pass-through code of the business's own login flow; only when `linked`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub authorization_code: Option<String>,
}

impl fmt::Debug for AccountLinking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountLinking")
            .field("status", &self.status)
            .field(
                "authorization_code",
                &self.authorization_code.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}
