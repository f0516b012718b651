//! Replies to interactive messages and template buttons.

use serde::{Deserialize, Serialize};

use crate::payload::lenient;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `interactive.type` of an inbound message: what the person replied to.
    pub enum InteractiveType(
        /// A reply type this version does not name.
        Unknown
    ) {
        /// `button_reply`: a tap on a reply button.
        ButtonReply = "button_reply",
        /// `list_reply`: a row picked from a list.
        ListReply = "list_reply",
        /// `nfm_reply`: a completed WhatsApp Flow.
        NfmReply = "nfm_reply",
    }
}

/// `interactive` of an inbound message: the person's answer to reply buttons, a list or
/// a flow the business sent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Interactive {
    /// `type`.
    #[serde(rename = "type", default, deserialize_with = "lenient::wire")]
    pub kind: Option<InteractiveType>,
    /// `button_reply`: the tapped button.
    #[serde(default, deserialize_with = "lenient::object")]
    pub button_reply: Option<InteractiveReply>,
    /// `list_reply`: the picked row.
    #[serde(default, deserialize_with = "lenient::object")]
    pub list_reply: Option<InteractiveReply>,
    /// `nfm_reply`: the completed flow.
    #[serde(default, deserialize_with = "lenient::object")]
    pub nfm_reply: Option<FlowReply>,
}

impl Interactive {
    /// The button or list reply, whichever is there (`button_reply` first).
    pub fn reply(&self) -> Option<&InteractiveReply> {
        self.button_reply.as_ref().or(self.list_reply.as_ref())
    }
}

/// `button_reply` or `list_reply`: the id the business gave the button or row, and
/// its title as the person saw it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct InteractiveReply {
    /// `id`, as the business set it.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: Option<String>,
    /// `title`, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
    /// `description` of a list row.
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: Option<String>,
}

/// `nfm_reply`: the answer to a WhatsApp Flow.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct FlowReply {
    /// `name` (`flow`, or `address_message` for an address form).
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
    /// `body` (e.g. `Sent`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub body: Option<String>,
    /// `response_json`: the flow's answers, a JSON document in a string, kept as sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub response_json: Option<String>,
}

/// `button` of an inbound message: a tap on a quick-reply button of a template message.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct TemplateButton {
    /// `payload`, as set on the template's button when it was sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub payload: Option<String>,
    /// `text`: the button's label.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
}
