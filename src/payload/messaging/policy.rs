//! `policy_enforcement` (also spelled `policy-enforcement`).

use serde::{Deserialize, Serialize};

use crate::payload::lenient;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `policy_enforcement.action`.
    pub enum PolicyAction(
        /// An action this version does not know.
        Unknown
    ) {
        /// Meta warns the Page: fix the reported problem or be blocked.
        Warning = "warning",
        /// Meta blocked the Page's messaging.
        Block = "block",
        /// Meta lifted a block.
        Unblock = "unblock",
    }
}

/// Meta warned, blocked or unblocked the Page for a Messenger policy violation. Sent with
/// a `recipient` (the Page) and no `sender`.
///
/// ```
/// use meta_webhooks::payload::{PolicyAction, PolicyEnforcement};
///
/// let policy: PolicyEnforcement = serde_json::from_str(
///     r#"{"action":"block","reason":"The bot violated our Platform Policies."}"#,
/// )?;
/// assert_eq!(policy.action, Some(PolicyAction::Block));
/// assert!(policy.is_block());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PolicyEnforcement {
    /// `warning`, `block` or `unblock`.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub action: Option<PolicyAction>,
    /// Why; absent on `unblock`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub reason: Option<String>,
}

impl PolicyEnforcement {
    /// Whether messaging is blocked (`action == "block"`).
    pub fn is_block(&self) -> bool {
        self.action == Some(PolicyAction::Block)
    }

    /// Whether this is a warning (`action == "warning"`).
    pub fn is_warning(&self) -> bool {
        self.action == Some(PolicyAction::Warning)
    }
}
