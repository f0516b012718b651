//! `reaction`.

use serde::{Deserialize, Serialize};

use crate::payload::ids::MessageId;
use crate::payload::lenient;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `reaction.action`.
    pub enum ReactionAction(
        /// An action this version does not know.
        Unknown
    ) {
        /// A reaction was added.
        React = "react",
        /// A reaction was removed.
        Unreact = "unreact",
    }
}

/// A reaction to a message, or its removal.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Reaction {
    /// The message reacted to (strict).
    pub mid: Option<MessageId>,
    /// `react` or `unreact`.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub action: Option<ReactionAction>,
    /// `love`, `like`, `laugh`, `wow`, `sad`, `angry`, `smile`, `dislike`, `other`;
    /// absent on unreact.
    #[serde(default, deserialize_with = "lenient::string")]
    pub reaction: Option<String>,
    /// The emoji (UTF-8); absent on unreact.
    #[serde(default, deserialize_with = "lenient::string")]
    pub emoji: Option<String>,
}

impl Reaction {
    /// Whether this removes a reaction (`action == "unreact"`, precedence rule 3).
    pub fn is_unreact(&self) -> bool {
        self.action == Some(ReactionAction::Unreact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn react_and_unreact() {
        let r: Reaction = serde_json::from_str(
            r#"{"mid":"m","action":"react","reaction":"like","emoji":"\ud83d\udc4d"}"#,
        )
        .unwrap();
        assert!(!r.is_unreact());
        assert_eq!(r.emoji.as_deref(), Some("👍"));
        let r: Reaction = serde_json::from_str(r#"{"mid":"m","action":"unreact"}"#).unwrap();
        assert!(r.is_unreact());
        let r: Reaction = serde_json::from_str(r#"{"mid":"m","action":"wiggle"}"#).unwrap();
        assert_eq!(r.action, Some(ReactionAction::Unknown("wiggle".into())));
    }
}
