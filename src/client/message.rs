//! Outgoing messages: checked when built, serialized exactly as the Send API expects.

use serde_json::{Map, Value, json};

use crate::payload::{MediaId, MessageId};

use super::error::MessageError;

/// Instagram's limit for message text, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 1000;
/// Meta's limit for quick replies on one message.
pub const MAX_QUICK_REPLIES: usize = 13;
/// Instagram's limit for attachments (images) in one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Meta's limit for elements in a generic template.
pub const MAX_TEMPLATE_ELEMENTS: usize = 10;
/// Meta's limit for buttons on one generic template element.
pub const MAX_BUTTONS: usize = 3;

/// An outgoing message: the `message` object of a Send API request.
///
/// Every constructor that can violate a documented limit returns [`MessageError`], so an
/// invalid message never reaches the network: text is at most 1000 bytes of UTF-8
/// (Instagram's limit), at most 13 quick replies, 1–10 attachments in a multi-attachment
/// message, 1–10 generic template elements with at most 3 buttons each.
///
/// ```
/// use meta_webhooks::client::{Attachment, AttachmentType, Message, MessageError, QuickReply};
///
/// let hello = Message::text("¡Hola! ¿En qué te ayudo?").unwrap();
/// assert_eq!(hello.as_text(), Some("¡Hola! ¿En qué te ayudo?"));
///
/// let sizes = Message::text("Size?")
///     .unwrap()
///     .with_quick_replies([
///         QuickReply::text("M", "SIZE_M").unwrap(),
///         QuickReply::text("L", "SIZE_L").unwrap(),
///     ])
///     .unwrap();
/// assert_eq!(sizes.quick_replies().len(), 2);
///
/// let photo = Message::attachment(
///     Attachment::from_url(AttachmentType::Image, "https://example.com/a.jpg").unwrap(),
/// );
/// assert!(photo.as_text().is_none());
///
/// // 1001 bytes: refused before any request.
/// let long = "a".repeat(1001);
/// assert_eq!(
///     Message::text(long).unwrap_err(),
///     MessageError::TextTooLong { len: 1001, max: 1000 },
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    content: Content,
    quick_replies: Vec<QuickReply>,
    metadata: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Text(String),
    Attachment(Attachment),
    Attachments(Vec<Attachment>),
    Template(GenericTemplate),
    LikeHeart,
    MediaShare(MediaId),
}

fn check_text(text: &str) -> Result<(), MessageError> {
    if text.is_empty() {
        return Err(MessageError::EmptyText);
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(MessageError::TextTooLong {
            len: text.len(),
            max: MAX_TEXT_BYTES,
        });
    }
    Ok(())
}

fn non_empty(value: String, what: &'static str) -> Result<String, MessageError> {
    if value.is_empty() {
        Err(MessageError::Empty(what))
    } else {
        Ok(value)
    }
}

/// Accepts absolute `http`/`https` URLs with a host (Meta fetches them itself).
fn check_url(url: String, what: &'static str) -> Result<String, MessageError> {
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(url),
        _ => Err(MessageError::InvalidUrl(what)),
    }
}

impl Message {
    /// A text message.
    ///
    /// # Errors
    ///
    /// [`MessageError::EmptyText`] or [`MessageError::TextTooLong`] (more than
    /// [`MAX_TEXT_BYTES`] bytes of UTF-8).
    pub fn text(text: impl Into<String>) -> Result<Self, MessageError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self::from_content(Content::Text(text)))
    }

    /// A message with one attachment (`message.attachment`).
    pub fn attachment(attachment: Attachment) -> Self {
        Self::from_content(Content::Attachment(attachment))
    }

    /// A message with several attachments (`message.attachments`, Instagram: up to 10 images).
    ///
    /// # Errors
    ///
    /// [`MessageError::NoAttachments`] or [`MessageError::TooManyAttachments`].
    pub fn attachments(
        attachments: impl IntoIterator<Item = Attachment>,
    ) -> Result<Self, MessageError> {
        let attachments: Vec<Attachment> = attachments.into_iter().collect();
        if attachments.is_empty() {
            return Err(MessageError::NoAttachments);
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(MessageError::TooManyAttachments {
                count: attachments.len(),
                max: MAX_ATTACHMENTS,
            });
        }
        Ok(Self::from_content(Content::Attachments(attachments)))
    }

    /// A generic template (a card, or a carousel of cards).
    pub fn generic_template(template: GenericTemplate) -> Self {
        Self::from_content(Content::Template(template))
    }

    /// The heart sticker (`{"attachment":{"type":"like_heart"}}`).
    pub fn like_heart() -> Self {
        Self::from_content(Content::LikeHeart)
    }

    /// Shares a post owned by the business (`{"type":"MEDIA_SHARE","payload":{"id":…}}`).
    pub fn media_share(post: MediaId) -> Self {
        Self::from_content(Content::MediaShare(post))
    }

    fn from_content(content: Content) -> Self {
        Self {
            content,
            quick_replies: Vec::new(),
            metadata: None,
        }
    }

    /// Adds quick replies (replacing any set before).
    ///
    /// # Errors
    ///
    /// [`MessageError::TooManyQuickReplies`] for more than [`MAX_QUICK_REPLIES`].
    pub fn with_quick_replies(
        mut self,
        quick_replies: impl IntoIterator<Item = QuickReply>,
    ) -> Result<Self, MessageError> {
        let quick_replies: Vec<QuickReply> = quick_replies.into_iter().collect();
        if quick_replies.len() > MAX_QUICK_REPLIES {
            return Err(MessageError::TooManyQuickReplies {
                count: quick_replies.len(),
                max: MAX_QUICK_REPLIES,
            });
        }
        self.quick_replies = quick_replies;
        Ok(self)
    }

    /// Attaches developer `metadata`, delivered back in the message echo webhook (useful to
    /// recognize the bot's own echoes).
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = Some(metadata.into());
        self
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The quick replies.
    pub fn quick_replies(&self) -> &[QuickReply] {
        &self.quick_replies
    }

    /// The metadata, if set.
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    /// The `message` object as sent on the wire.
    pub(crate) fn to_json(&self) -> Value {
        let mut message = Map::new();
        match &self.content {
            Content::Text(text) => {
                message.insert("text".into(), json!(text));
            }
            Content::Attachment(attachment) => {
                message.insert("attachment".into(), attachment.to_json());
            }
            Content::Attachments(attachments) => {
                let list: Vec<Value> = attachments.iter().map(Attachment::to_json).collect();
                message.insert("attachments".into(), Value::Array(list));
            }
            Content::Template(template) => {
                message.insert("attachment".into(), template.to_json());
            }
            Content::LikeHeart => {
                message.insert("attachment".into(), json!({"type": "like_heart"}));
            }
            Content::MediaShare(post) => {
                message.insert(
                    "attachment".into(),
                    json!({"type": "MEDIA_SHARE", "payload": {"id": post.as_str()}}),
                );
            }
        }
        if !self.quick_replies.is_empty() {
            let list: Vec<Value> = self.quick_replies.iter().map(QuickReply::to_json).collect();
            message.insert("quick_replies".into(), Value::Array(list));
        }
        if let Some(metadata) = &self.metadata {
            message.insert("metadata".into(), json!(metadata));
        }
        Value::Object(message)
    }
}

/// The media type of an outgoing attachment (`attachment.type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttachmentType {
    /// `image` (png, jpeg, gif; Instagram ≤ 8 MB).
    Image,
    /// `video` (mp4, ogg, avi, mov, webm; ≤ 25 MB).
    Video,
    /// `audio` (aac, m4a, wav, mp4; ≤ 25 MB).
    Audio,
    /// `file` (pdf; ≤ 25 MB).
    File,
    /// A type this crate does not name yet, sent verbatim.
    Unknown(String),
}

impl AttachmentType {
    /// The wire name, e.g. `"image"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
            Self::Unknown(other) => other,
        }
    }
}

/// Where Meta gets an attachment's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttachmentSource {
    /// A public URL Meta downloads (`payload.url`).
    Url(String),
    /// An id from Meta's attachment upload API (`payload.attachment_id`).
    Id(String),
}

/// An outgoing attachment: a media type and where its bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attachment {
    kind: AttachmentType,
    source: AttachmentSource,
}

impl Attachment {
    /// An attachment Meta downloads from `url`.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] unless `url` is an absolute `http(s)` URL.
    pub fn from_url(kind: AttachmentType, url: impl Into<String>) -> Result<Self, MessageError> {
        let url = check_url(url.into(), "attachment URL")?;
        Ok(Self {
            kind,
            source: AttachmentSource::Url(url),
        })
    }

    /// An attachment uploaded before (an `attachment_id`).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty id.
    pub fn from_id(
        kind: AttachmentType,
        attachment_id: impl Into<String>,
    ) -> Result<Self, MessageError> {
        let id = non_empty(attachment_id.into(), "attachment id")?;
        Ok(Self {
            kind,
            source: AttachmentSource::Id(id),
        })
    }

    /// The media type.
    pub fn kind(&self) -> &AttachmentType {
        &self.kind
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &AttachmentSource {
        &self.source
    }

    fn to_json(&self) -> Value {
        let payload = match &self.source {
            AttachmentSource::Url(url) => json!({ "url": url }),
            AttachmentSource::Id(id) => json!({ "attachment_id": id }),
        };
        json!({ "type": self.kind.as_str(), "payload": payload })
    }
}

/// A quick reply button (`message.quick_replies[]`).
///
/// Meta truncates titles longer than 20 characters; that is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuickReply(QuickReplyKind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum QuickReplyKind {
    Text { title: String, payload: String },
    UserPhoneNumber,
    UserEmail,
}

impl QuickReply {
    /// A text button: `title` is shown and posted as the person's message, `payload` comes
    /// back in the webhook's `quick_reply.payload`.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] when the title or the payload is empty.
    pub fn text(
        title: impl Into<String>,
        payload: impl Into<String>,
    ) -> Result<Self, MessageError> {
        Ok(Self(QuickReplyKind::Text {
            title: non_empty(title.into(), "quick reply title")?,
            payload: non_empty(payload.into(), "quick reply payload")?,
        }))
    }

    /// A button pre-filled with the person's phone number (`user_phone_number`).
    pub fn user_phone_number() -> Self {
        Self(QuickReplyKind::UserPhoneNumber)
    }

    /// A button pre-filled with the person's email address (`user_email`).
    pub fn user_email() -> Self {
        Self(QuickReplyKind::UserEmail)
    }

    fn to_json(&self) -> Value {
        match &self.0 {
            QuickReplyKind::Text { title, payload } => {
                json!({ "content_type": "text", "title": title, "payload": payload })
            }
            QuickReplyKind::UserPhoneNumber => json!({ "content_type": "user_phone_number" }),
            QuickReplyKind::UserEmail => json!({ "content_type": "user_email" }),
        }
    }
}

/// A generic template: one card, or a horizontally scrolling carousel of up to 10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericTemplate {
    elements: Vec<GenericElement>,
}

impl GenericTemplate {
    /// A template of the given elements.
    ///
    /// # Errors
    ///
    /// [`MessageError::NoElements`] or [`MessageError::TooManyElements`] (more than
    /// [`MAX_TEMPLATE_ELEMENTS`]).
    pub fn new(elements: impl IntoIterator<Item = GenericElement>) -> Result<Self, MessageError> {
        let elements: Vec<GenericElement> = elements.into_iter().collect();
        if elements.is_empty() {
            return Err(MessageError::NoElements);
        }
        if elements.len() > MAX_TEMPLATE_ELEMENTS {
            return Err(MessageError::TooManyElements {
                count: elements.len(),
                max: MAX_TEMPLATE_ELEMENTS,
            });
        }
        Ok(Self { elements })
    }

    /// The elements.
    pub fn elements(&self) -> &[GenericElement] {
        &self.elements
    }

    fn to_json(&self) -> Value {
        let elements: Vec<Value> = self.elements.iter().map(GenericElement::to_json).collect();
        json!({
            "type": "template",
            "payload": { "template_type": "generic", "elements": elements },
        })
    }
}

/// One card of a [`GenericTemplate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericElement {
    title: String,
    subtitle: Option<String>,
    image_url: Option<String>,
    default_action_url: Option<String>,
    buttons: Vec<Button>,
}

impl GenericElement {
    /// A card with a title.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty title.
    pub fn new(title: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self {
            title: non_empty(title.into(), "element title")?,
            subtitle: None,
            image_url: None,
            default_action_url: None,
            buttons: Vec::new(),
        })
    }

    /// Sets the subtitle.
    #[must_use]
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Sets the image.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] unless `url` is an absolute `http(s)` URL.
    pub fn with_image_url(mut self, url: impl Into<String>) -> Result<Self, MessageError> {
        self.image_url = Some(check_url(url.into(), "image URL")?);
        Ok(self)
    }

    /// Opens `url` when the card itself is tapped (`default_action` of type `web_url`).
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] unless `url` is an absolute `http(s)` URL.
    pub fn with_default_action_url(mut self, url: impl Into<String>) -> Result<Self, MessageError> {
        self.default_action_url = Some(check_url(url.into(), "default action URL")?);
        Ok(self)
    }

    /// Adds a button.
    ///
    /// # Errors
    ///
    /// [`MessageError::TooManyButtons`] beyond [`MAX_BUTTONS`].
    pub fn with_button(mut self, button: Button) -> Result<Self, MessageError> {
        if self.buttons.len() >= MAX_BUTTONS {
            return Err(MessageError::TooManyButtons {
                count: self.buttons.len() + 1,
                max: MAX_BUTTONS,
            });
        }
        self.buttons.push(button);
        Ok(self)
    }

    fn to_json(&self) -> Value {
        let mut element = Map::new();
        element.insert("title".into(), json!(self.title));
        if let Some(subtitle) = &self.subtitle {
            element.insert("subtitle".into(), json!(subtitle));
        }
        if let Some(url) = &self.image_url {
            element.insert("image_url".into(), json!(url));
        }
        if let Some(url) = &self.default_action_url {
            element.insert(
                "default_action".into(),
                json!({ "type": "web_url", "url": url }),
            );
        }
        if !self.buttons.is_empty() {
            let buttons: Vec<Value> = self.buttons.iter().map(Button::to_json).collect();
            element.insert("buttons".into(), Value::Array(buttons));
        }
        Value::Object(element)
    }
}

/// A button on a template element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Button(ButtonKind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ButtonKind {
    WebUrl { title: String, url: String },
    Postback { title: String, payload: String },
}

impl Button {
    /// Opens `url` in the in-app browser.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty title, [`MessageError::InvalidUrl`] for a URL that
    /// is not absolute `http(s)`.
    pub fn web_url(title: impl Into<String>, url: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self(ButtonKind::WebUrl {
            title: non_empty(title.into(), "button title")?,
            url: check_url(url.into(), "button URL")?,
        }))
    }

    /// Sends a `messaging_postbacks` webhook carrying `payload`.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty title or payload.
    pub fn postback(
        title: impl Into<String>,
        payload: impl Into<String>,
    ) -> Result<Self, MessageError> {
        Ok(Self(ButtonKind::Postback {
            title: non_empty(title.into(), "button title")?,
            payload: non_empty(payload.into(), "button payload")?,
        }))
    }

    fn to_json(&self) -> Value {
        match &self.0 {
            ButtonKind::WebUrl { title, url } => {
                json!({ "type": "web_url", "url": url, "title": title })
            }
            ButtonKind::Postback { title, payload } => {
                json!({ "type": "postback", "title": title, "payload": payload })
            }
        }
    }
}

/// The `messaging_type` of a send (and its `tag`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessagingType {
    /// `RESPONSE`: a reply within the 24-hour window (the default).
    #[default]
    Response,
    /// `UPDATE`: a proactive message within the window (Messenger).
    Update,
    /// `MESSAGE_TAG` with a tag, outside the standard window.
    MessageTag(MessageTag),
}

impl MessagingType {
    /// The wire value of `messaging_type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Response => "RESPONSE",
            Self::Update => "UPDATE",
            Self::MessageTag(_) => "MESSAGE_TAG",
        }
    }

    /// The tag, for [`MessagingType::MessageTag`].
    pub fn tag(&self) -> Option<&MessageTag> {
        match self {
            Self::MessageTag(tag) => Some(tag),
            _ => None,
        }
    }
}

/// A message tag (`tag`), sent with `messaging_type: MESSAGE_TAG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageTag {
    /// `HUMAN_AGENT`: a reply written by a person, up to 7 days after the person's last
    /// message (Instagram and Messenger; needs the Human Agent feature; never automated).
    HumanAgent,
    /// `ACCOUNT_UPDATE` (Messenger only).
    AccountUpdate,
    /// `CONFIRMED_EVENT_UPDATE` (Messenger only).
    ConfirmedEventUpdate,
    /// `POST_PURCHASE_UPDATE` (Messenger only).
    PostPurchaseUpdate,
    /// A tag this crate does not name yet, sent verbatim.
    Unknown(String),
}

impl MessageTag {
    /// The wire value, e.g. `"HUMAN_AGENT"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::HumanAgent => "HUMAN_AGENT",
            Self::AccountUpdate => "ACCOUNT_UPDATE",
            Self::ConfirmedEventUpdate => "CONFIRMED_EVENT_UPDATE",
            Self::PostPurchaseUpdate => "POST_PURCHASE_UPDATE",
            Self::Unknown(other) => other,
        }
    }
}

/// A sender action (`sender_action`), sent alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SenderAction {
    /// `typing_on`: show the typing indicator.
    TypingOn,
    /// `typing_off`: hide the typing indicator.
    TypingOff,
    /// `mark_seen`: mark the person's last message as seen.
    MarkSeen,
    /// An action this crate does not name yet, sent verbatim.
    Unknown(String),
}

impl SenderAction {
    /// The wire value, e.g. `"typing_on"`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::TypingOn => "typing_on",
            Self::TypingOff => "typing_off",
            Self::MarkSeen => "mark_seen",
            Self::Unknown(other) => other,
        }
    }
}

/// Options of a message send: the `messaging_type` (default `RESPONSE`) and an optional
/// `reply_to` message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOptions {
    messaging_type: MessagingType,
    reply_to: Option<MessageId>,
}

impl SendOptions {
    /// `RESPONSE`, not a reply to a specific message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `messaging_type` (and tag).
    #[must_use]
    pub fn with_messaging_type(mut self, messaging_type: MessagingType) -> Self {
        self.messaging_type = messaging_type;
        self
    }

    /// Replies to a specific message (top-level `reply_to: {"mid": …}`).
    #[must_use]
    pub fn with_reply_to(mut self, mid: MessageId) -> Self {
        self.reply_to = Some(mid);
        self
    }

    /// The `messaging_type`.
    pub fn messaging_type(&self) -> &MessagingType {
        &self.messaging_type
    }

    /// The message replied to, if any.
    pub fn reply_to(&self) -> Option<&MessageId> {
        self.reply_to.as_ref()
    }

    /// Writes `messaging_type`, `tag` and `reply_to` into a request body.
    pub(crate) fn write_into(&self, body: &mut Map<String, Value>) {
        body.insert("messaging_type".into(), json!(self.messaging_type.as_str()));
        if let Some(tag) = self.messaging_type.tag() {
            body.insert("tag".into(), json!(tag.as_str()));
        }
        if let Some(mid) = &self.reply_to {
            body.insert("reply_to".into(), json!({ "mid": mid.as_str() }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limit_counts_utf8_bytes() {
        // "é" is 2 bytes: 500 of them are exactly 1000 bytes.
        assert!(Message::text("é".repeat(500)).is_ok());
        assert_eq!(
            Message::text("é".repeat(501)).unwrap_err(),
            MessageError::TextTooLong {
                len: 1002,
                max: 1000
            }
        );
        // A 4-byte emoji pushing past the limit by one byte.
        let text = format!("{}😀", "a".repeat(997));
        assert_eq!(text.len(), 1001);
        assert!(Message::text(text).is_err());
        assert_eq!(Message::text("").unwrap_err(), MessageError::EmptyText);
    }

    #[test]
    fn quick_reply_limit() {
        let thirteen = (0..13).map(|i| QuickReply::text(format!("t{i}"), "p").unwrap());
        assert!(
            Message::text("x")
                .unwrap()
                .with_quick_replies(thirteen)
                .is_ok()
        );
        let fourteen = (0..14).map(|i| QuickReply::text(format!("t{i}"), "p").unwrap());
        assert_eq!(
            Message::text("x")
                .unwrap()
                .with_quick_replies(fourteen)
                .unwrap_err(),
            MessageError::TooManyQuickReplies { count: 14, max: 13 }
        );
        assert!(QuickReply::text("", "p").is_err());
    }

    #[test]
    fn template_limits() {
        let element = || GenericElement::new("t").unwrap();
        assert_eq!(
            GenericTemplate::new([]).unwrap_err(),
            MessageError::NoElements
        );
        assert!(GenericTemplate::new((0..10).map(|_| element())).is_ok());
        assert!(GenericTemplate::new((0..11).map(|_| element())).is_err());
        let b = || Button::postback("b", "p").unwrap();
        let three = element()
            .with_button(b())
            .unwrap()
            .with_button(b())
            .unwrap()
            .with_button(b())
            .unwrap();
        assert_eq!(
            three.with_button(b()).unwrap_err(),
            MessageError::TooManyButtons { count: 4, max: 3 }
        );
        assert!(Button::web_url("b", "javascript:alert(1)").is_err());
        assert!(Button::web_url("b", "/relative").is_err());
    }

    #[test]
    fn attachments_limits() {
        let a = || Attachment::from_id(AttachmentType::Image, "1").unwrap();
        assert_eq!(
            Message::attachments([]).unwrap_err(),
            MessageError::NoAttachments
        );
        assert!(Message::attachments((0..10).map(|_| a())).is_ok());
        assert!(Message::attachments((0..11).map(|_| a())).is_err());
        assert!(Attachment::from_id(AttachmentType::File, "").is_err());
        assert!(Attachment::from_url(AttachmentType::File, "ftp://x/y").is_err());
    }

    #[test]
    fn wire_shapes() {
        let m = Message::text("hi")
            .unwrap()
            .with_quick_replies([QuickReply::user_email()])
            .unwrap()
            .with_metadata("bot");
        assert_eq!(
            m.to_json(),
            json!({"text":"hi","quick_replies":[{"content_type":"user_email"}],"metadata":"bot"})
        );
        assert_eq!(
            Message::like_heart().to_json(),
            json!({"attachment":{"type":"like_heart"}})
        );
        let mut body = Map::new();
        SendOptions::new()
            .with_messaging_type(MessagingType::MessageTag(MessageTag::HumanAgent))
            .with_reply_to(MessageId::new("m1"))
            .write_into(&mut body);
        assert_eq!(
            Value::Object(body),
            json!({"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","reply_to":{"mid":"m1"}})
        );
    }
}
