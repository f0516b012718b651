//! `messages[]` items: what a person sent to the business's WhatsApp number.

use serde::{Deserialize, Serialize};

use super::error::WaError;
use super::interactive::{Interactive, TemplateButton};
use super::media::{ContactCard, Location, WaMedia};
use super::order::WaOrder;
use super::reaction::WaReaction;
use super::referral::WaReferral;
use super::system::{Identity, SystemUpdate};
use crate::payload::ids::{MessageId, UserId};
use crate::payload::lenient;
use crate::payload::time::Timestamp;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `messages[].type`: which payload key the message carries. Types this version
    /// does not name are kept verbatim (the message keeps its raw JSON too).
    pub enum WaMessageType(
        /// A type this version does not name.
        Unknown
    ) {
        /// `text`.
        Text = "text",
        /// `image`.
        Image = "image",
        /// `video`.
        Video = "video",
        /// `audio` (also voice notes, with `audio.voice == true`).
        Audio = "audio",
        /// `document`.
        Document = "document",
        /// `sticker`.
        Sticker = "sticker",
        /// `location`.
        Location = "location",
        /// `contacts`: one or more shared contact cards.
        Contacts = "contacts",
        /// `interactive`: a reply to reply buttons, a list or a flow.
        Interactive = "interactive",
        /// `button`: a tap on a quick-reply button of a template message.
        Button = "button",
        /// `reaction`: an emoji reaction to a message, or its removal.
        Reaction = "reaction",
        /// `order`: a cart sent from a catalog.
        Order = "order",
        /// `system`: the person changed their number or their identity changed.
        System = "system",
        /// `request_welcome`: the person opened the chat for the first time.
        RequestWelcome = "request_welcome",
        /// `unsupported`: a message type the Cloud API does not deliver (see `errors`).
        Unsupported = "unsupported",
    }
}

/// One `messages[]` item of a WhatsApp `messages` change value.
///
/// `from` and `id` are read strictly: either of another JSON type than string or integer
/// makes this one item an [`ItemError`](crate::payload::ItemError), its neighbours
/// unaffected. Everything else is tolerant, and the item keeps its raw JSON, so types
/// this version does not name lose nothing.
///
/// ```
/// use meta_webhooks::payload::whatsapp::{WaMessage, WaMessageType};
///
/// let m: WaMessage = serde_json::from_str(
///     r#"{"from":"16505551234","id":"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUE=","timestamp":"1769870412",
///         "type":"interactive","interactive":{"type":"button_reply",
///         "button_reply":{"id":"SIZE_M","title":"Size M"}}}"#,
/// )?;
/// assert_eq!(m.kind, Some(WaMessageType::Interactive));
/// assert_eq!(m.text(), Some("Size M"));
/// assert_eq!(m.reply_id(), Some("SIZE_M"));
/// assert_eq!(m.timestamp.map(|t| t.as_millis()), Some(1_769_870_412_000));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaMessage {
    /// `from`: the person's WhatsApp id (`wa_id`, their phone number in international
    /// form without `+`) (strict).
    pub from: Option<UserId>,
    /// `id`: the message's `wamid` (strict).
    pub id: Option<MessageId>,
    /// `timestamp`: when it was sent (seconds as a string on the wire, normalized to
    /// milliseconds).
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub timestamp: Option<Timestamp>,
    /// `type`.
    #[serde(rename = "type", default, deserialize_with = "lenient::wire")]
    pub kind: Option<WaMessageType>,
    /// `context`: the message this one replies to or was forwarded from, or the product
    /// it asks about.
    #[serde(default, deserialize_with = "lenient::object")]
    pub context: Option<MessageContext>,
    /// `text` of a text message.
    #[serde(default, deserialize_with = "lenient::object")]
    pub text: Option<Text>,
    /// `image`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub image: Option<WaMedia>,
    /// `video`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub video: Option<WaMedia>,
    /// `audio` (a voice note has `voice == true`).
    #[serde(default, deserialize_with = "lenient::object")]
    pub audio: Option<WaMedia>,
    /// `document`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub document: Option<WaMedia>,
    /// `sticker`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub sticker: Option<WaMedia>,
    /// `location`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub location: Option<Location>,
    /// `contacts`: shared contact cards.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub contacts: Vec<ContactCard>,
    /// `interactive`: the reply to reply buttons, a list or a flow.
    #[serde(default, deserialize_with = "lenient::object")]
    pub interactive: Option<Interactive>,
    /// `button`: the tapped quick-reply button of a template.
    #[serde(default, deserialize_with = "lenient::object")]
    pub button: Option<TemplateButton>,
    /// `reaction`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub reaction: Option<WaReaction>,
    /// `order`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub order: Option<WaOrder>,
    /// `referral`: the click-to-WhatsApp ad the person came from (first message only).
    #[serde(default, deserialize_with = "lenient::object")]
    pub referral: Option<Box<WaReferral>>,
    /// `system`: a number or identity change.
    #[serde(default, deserialize_with = "lenient::object")]
    pub system: Option<SystemUpdate>,
    /// `identity`: the person's identity key, when identity change checks are on.
    #[serde(default, deserialize_with = "lenient::object")]
    pub identity: Option<Identity>,
    /// `errors` of an `unsupported` message: why it could not be delivered.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub errors: Vec<WaError>,
}

impl WaMessage {
    /// The person's words, by type: `text.body`; the `caption` of an image, video or
    /// document; the `title` of a button or list reply; `button.text`; `order.text`.
    /// `None` for every other type (and when `type` is missing). Verbatim.
    pub fn text(&self) -> Option<&str> {
        match self.kind.as_ref()? {
            WaMessageType::Text => self.text.as_ref()?.body.as_deref(),
            WaMessageType::Image => self.image.as_ref()?.caption.as_deref(),
            WaMessageType::Video => self.video.as_ref()?.caption.as_deref(),
            WaMessageType::Document => self.document.as_ref()?.caption.as_deref(),
            WaMessageType::Interactive => self.interactive.as_ref()?.reply()?.title.as_deref(),
            WaMessageType::Button => self.button.as_ref()?.text.as_deref(),
            WaMessageType::Order => self.order.as_ref()?.text.as_deref(),
            _ => None,
        }
    }

    /// The id a bot branches on when the person taps something: the `id` of a button
    /// or list reply, or the `payload` of a template's quick-reply button.
    pub fn reply_id(&self) -> Option<&str> {
        match self.kind.as_ref()? {
            WaMessageType::Interactive => self.interactive.as_ref()?.reply()?.id.as_deref(),
            WaMessageType::Button => self.button.as_ref()?.payload.as_deref(),
            _ => None,
        }
    }

    /// The media of an image, video, audio, document or sticker message (by `type`).
    pub fn media(&self) -> Option<&WaMedia> {
        match self.kind.as_ref()? {
            WaMessageType::Image => self.image.as_ref(),
            WaMessageType::Video => self.video.as_ref(),
            WaMessageType::Audio => self.audio.as_ref(),
            WaMessageType::Document => self.document.as_ref(),
            WaMessageType::Sticker => self.sticker.as_ref(),
            _ => None,
        }
    }

    /// Whether this is a reaction message whose emoji is empty or absent: the person
    /// removed their reaction.
    pub fn is_unreaction(&self) -> bool {
        self.kind == Some(WaMessageType::Reaction)
            && self
                .reaction
                .as_ref()
                .is_none_or(|r| r.emoji.as_deref().is_none_or(str::is_empty))
    }

    /// `context.referred_product`: the catalog product the person asks about.
    pub fn referred_product(&self) -> Option<&ReferredProduct> {
        self.context.as_ref()?.referred_product.as_ref()
    }
}

/// `text` of a text message.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Text {
    /// `body`, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub body: Option<String>,
}

/// `context` of a message: what it replies to, whether it was forwarded, and the
/// product a "Message business" tap on a catalog item refers to.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct MessageContext {
    /// `from`: who sent the message replied to (the business's number for a reply to
    /// the business).
    #[serde(default, deserialize_with = "lenient::id")]
    pub from: Option<UserId>,
    /// `id`: the `wamid` of the message replied to.
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<MessageId>,
    /// `forwarded`: the message was forwarded.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub forwarded: bool,
    /// `frequently_forwarded`: forwarded more than five times.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub frequently_forwarded: bool,
    /// `referred_product`: the catalog product the message is about.
    #[serde(default, deserialize_with = "lenient::object")]
    pub referred_product: Option<ReferredProduct>,
}

/// `context.referred_product`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ReferredProduct {
    /// `catalog_id`.
    #[serde(default, deserialize_with = "lenient::id")]
    pub catalog_id: Option<String>,
    /// `product_retailer_id`: the product's SKU in the catalog.
    #[serde(default, deserialize_with = "lenient::id")]
    pub product_retailer_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<WaMessage, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn text_by_type() {
        let m =
            parse(r#"{"type":"image","image":{"caption":"look","id":"1"},"text":{"body":"x"}}"#)
                .unwrap();
        assert_eq!(m.text(), Some("look"));
        assert_eq!(m.media().and_then(|m| m.id.as_ref()).unwrap(), "1");
        let m = parse(r#"{"type":"audio","audio":{"id":"2","voice":true}}"#).unwrap();
        assert_eq!(m.text(), None);
        assert!(m.media().unwrap().voice);
        let m = parse(r#"{"type":"button","button":{"payload":"P","text":"Yes"}}"#).unwrap();
        assert_eq!((m.text(), m.reply_id()), (Some("Yes"), Some("P")));
        let m = parse(r#"{"text":{"body":"no type"}}"#).unwrap();
        assert_eq!(m.text(), None);
    }

    #[test]
    fn unreaction_is_an_empty_or_missing_emoji() {
        for (json, removed) in [
            (
                r#"{"type":"reaction","reaction":{"message_id":"w","emoji":""}}"#,
                true,
            ),
            (r#"{"type":"reaction","reaction":{"message_id":"w"}}"#, true),
            (r#"{"type":"reaction"}"#, true),
            (
                r#"{"type":"reaction","reaction":{"message_id":"w","emoji":"\u2764\ufe0f"}}"#,
                false,
            ),
            (r#"{"type":"text","text":{"body":""}}"#, false),
        ] {
            assert_eq!(parse(json).unwrap().is_unreaction(), removed, "{json}");
        }
    }

    #[test]
    fn from_and_id_are_strict_the_rest_tolerant() {
        assert!(parse(r#"{"from":true}"#).is_err());
        assert!(parse(r#"{"id":{"x":1}}"#).is_err());
        let m = parse(
            r#"{"from":16505551234,"id":"wamid.1","timestamp":"soon","type":5,"text":"x",
                "context":{"id":[1],"forwarded":"yes"},"errors":{}}"#,
        )
        .unwrap();
        assert_eq!(m.from.unwrap(), "16505551234");
        assert!(m.timestamp.is_none() && m.kind.is_none() && m.text.is_none());
        let context = m.context.unwrap();
        assert!(context.id.is_none() && !context.forwarded);
    }

    #[test]
    fn unknown_types_are_kept() {
        let m = parse(r#"{"type":"hologram","hologram":{"x":1}}"#).unwrap();
        assert_eq!(m.kind, Some(WaMessageType::Unknown("hologram".into())));
        assert_eq!(m.text(), None);
    }
}
