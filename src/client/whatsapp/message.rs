//! Outgoing WhatsApp messages: checked when built, serialized exactly as the Cloud API
//! expects (`POST /{phone-number-id}/messages`).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::payload::{MediaId, MessageId};

use super::super::error::MessageError;

/// Checks that `value` is not empty and at most `max` characters (Unicode scalar values).
fn bounded(value: String, what: &'static str, max: usize) -> Result<String, MessageError> {
    if value.is_empty() {
        return Err(MessageError::Empty(what));
    }
    let len = value.chars().count();
    if len > max {
        return Err(MessageError::TooLong { what, len, max });
    }
    Ok(value)
}

fn count(what: &'static str, count: usize, min: usize, max: usize) -> Result<(), MessageError> {
    if (min..=max).contains(&count) {
        Ok(())
    } else {
        Err(MessageError::WrongCount {
            what,
            count,
            min,
            max,
        })
    }
}

fn unique<'a>(
    values: impl IntoIterator<Item = &'a str>,
    what: &'static str,
) -> Result<(), MessageError> {
    let mut seen = HashSet::new();
    for value in values {
        if !seen.insert(value) {
            return Err(MessageError::Duplicate(what));
        }
    }
    Ok(())
}

/// Accepts absolute `http`/`https` URLs with a host (Meta fetches them itself).
fn link(url: String, what: &'static str) -> Result<String, MessageError> {
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(url),
        _ => Err(MessageError::InvalidUrl(what)),
    }
}

/// An outgoing WhatsApp message: the `type` and its object, and an optional reply context.
///
/// Every constructor that can violate one of Meta's documented limits returns
/// [`MessageError`], so an invalid message never reaches the network: text bodies of 1 to
/// 4096 characters, captions up to 1024 (not on audio or stickers), file names on documents
/// only, 1–3 reply buttons, lists of 1–10 rows in 1–10 sections, and the title and id limits
/// of each (see [`WaReplyButtons`], [`WaList`]).
///
/// Free-form messages (everything but [`template`](Self::template)) may be sent only within
/// 24 hours of the person's last message; see
/// [`WhatsApp::send_in_window`](super::WhatsApp::send_in_window).
///
/// ```
/// use meta_webhooks::client::{MessageError, WaMedia, WaMediaKind, WaOutgoing};
/// use meta_webhooks::payload::MessageId;
///
/// let hello = WaOutgoing::text("¡Hola! ¿En qué te ayudo?").unwrap();
/// assert_eq!(hello.type_name(), "text");
///
/// let photo = WaMedia::from_link(WaMediaKind::Image, "https://example.com/shirt.jpg")
///     .unwrap()
///     .with_caption("Linen shirt, €49")
///     .unwrap();
/// let reply = WaOutgoing::media(photo).with_reply_to(MessageId::new("wamid.HBgL"));
/// assert_eq!(reply.type_name(), "image");
///
/// // 4097 characters: refused before any request.
/// assert!(matches!(
///     WaOutgoing::text("a".repeat(4097)),
///     Err(MessageError::TooLong { len: 4097, max: 4096, .. }),
/// ));
/// // Audio has no caption.
/// let voice = WaMedia::from_id(WaMediaKind::Audio, "1166846181421424".into()).unwrap();
/// assert!(voice.with_caption("hi").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaOutgoing {
    content: Content,
    reply_to: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Text {
        body: String,
        preview_url: bool,
    },
    Media(WaMedia),
    Reaction {
        message_id: MessageId,
        emoji: String,
    },
    Buttons(WaReplyButtons),
    List(WaList),
    Template(WaTemplate),
}

impl WaOutgoing {
    /// The most characters in a text message's body.
    pub const MAX_TEXT_CHARS: usize = 4096;

    /// A text message (`"preview_url": false`).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than
    /// [`MAX_TEXT_CHARS`](Self::MAX_TEXT_CHARS) characters).
    pub fn text(body: impl Into<String>) -> Result<Self, MessageError> {
        Self::text_with(body.into(), false)
    }

    /// A text message whose first URL WhatsApp renders as a link preview
    /// (`"preview_url": true`).
    ///
    /// # Errors
    ///
    /// As [`text`](Self::text).
    pub fn text_with_preview(body: impl Into<String>) -> Result<Self, MessageError> {
        Self::text_with(body.into(), true)
    }

    fn text_with(body: String, preview_url: bool) -> Result<Self, MessageError> {
        let body = bounded(body, "text body", Self::MAX_TEXT_CHARS)?;
        Ok(Self::from_content(Content::Text { body, preview_url }))
    }

    /// An image, video, audio, document or sticker message.
    pub fn media(media: WaMedia) -> Self {
        Self::from_content(Content::Media(media))
    }

    /// A reaction with `emoji` to the message `message_id` (a wamid).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty emoji (use
    /// [`remove_reaction`](Self::remove_reaction)) or an empty message id.
    pub fn reaction(message_id: MessageId, emoji: impl Into<String>) -> Result<Self, MessageError> {
        let emoji = emoji.into();
        if emoji.is_empty() {
            return Err(MessageError::Empty("reaction emoji"));
        }
        Self::reaction_with(message_id, emoji)
    }

    /// Removes the business's reaction from the message `message_id` (`"emoji": ""`).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty message id.
    pub fn remove_reaction(message_id: MessageId) -> Result<Self, MessageError> {
        Self::reaction_with(message_id, String::new())
    }

    fn reaction_with(message_id: MessageId, emoji: String) -> Result<Self, MessageError> {
        if message_id.as_str().is_empty() {
            return Err(MessageError::Empty("reacted message id"));
        }
        Ok(Self::from_content(Content::Reaction { message_id, emoji }))
    }

    /// An interactive message with reply buttons.
    pub fn reply_buttons(buttons: WaReplyButtons) -> Self {
        Self::from_content(Content::Buttons(buttons))
    }

    /// An interactive list message.
    pub fn list(list: WaList) -> Self {
        Self::from_content(Content::List(list))
    }

    /// A template message: the only kind WhatsApp delivers outside the 24-hour
    /// customer-service window.
    pub fn template(template: WaTemplate) -> Self {
        Self::from_content(Content::Template(template))
    }

    fn from_content(content: Content) -> Self {
        Self {
            content,
            reply_to: None,
        }
    }

    /// Quotes an earlier message of the conversation (`"context": {"message_id": …}`).
    #[must_use]
    pub fn with_reply_to(mut self, message_id: MessageId) -> Self {
        self.reply_to = Some(message_id);
        self
    }

    /// The message quoted, if any.
    pub fn reply_to(&self) -> Option<&MessageId> {
        self.reply_to.as_ref()
    }

    /// The wire `type`: `text`, `image`, `video`, `audio`, `document`, `sticker`,
    /// `reaction`, `interactive` or `template`.
    pub fn type_name(&self) -> &'static str {
        match &self.content {
            Content::Text { .. } => "text",
            Content::Media(media) => media.kind.as_str(),
            Content::Reaction { .. } => "reaction",
            Content::Buttons(_) | Content::List(_) => "interactive",
            Content::Template(_) => "template",
        }
    }

    /// `true` for a template message (allowed outside the customer-service window).
    pub fn is_template(&self) -> bool {
        matches!(self.content, Content::Template(_))
    }

    /// The body of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            Content::Text { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The whole request body for a send to `to`.
    pub(crate) fn to_body(&self, to: &str) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("messaging_product".into(), json!("whatsapp"));
        body.insert("recipient_type".into(), json!("individual"));
        body.insert("to".into(), json!(to));
        if let Some(message_id) = &self.reply_to {
            body.insert(
                "context".into(),
                json!({ "message_id": message_id.as_str() }),
            );
        }
        let kind = self.type_name();
        body.insert("type".into(), json!(kind));
        let object = match &self.content {
            Content::Text { body, preview_url } => {
                json!({ "preview_url": preview_url, "body": body })
            }
            Content::Media(media) => media.to_json(),
            Content::Reaction { message_id, emoji } => {
                json!({ "message_id": message_id.as_str(), "emoji": emoji })
            }
            Content::Buttons(buttons) => buttons.to_json(),
            Content::List(list) => list.to_json(),
            Content::Template(template) => template.to_json(),
        };
        body.insert(kind.into(), object);
        body
    }
}

impl From<WaMedia> for WaOutgoing {
    fn from(media: WaMedia) -> Self {
        Self::media(media)
    }
}

impl From<WaReplyButtons> for WaOutgoing {
    fn from(buttons: WaReplyButtons) -> Self {
        Self::reply_buttons(buttons)
    }
}

impl From<WaList> for WaOutgoing {
    fn from(list: WaList) -> Self {
        Self::list(list)
    }
}

impl From<WaTemplate> for WaOutgoing {
    fn from(template: WaTemplate) -> Self {
        Self::template(template)
    }
}

/// The type of a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaMediaKind {
    /// `image` (JPEG, PNG; up to 5 MB). Takes a caption.
    Image,
    /// `video` (MP4, 3GPP; up to 16 MB). Takes a caption.
    Video,
    /// `audio` (AAC, AMR, MP3, MP4 audio, OGG Opus; up to 16 MB). No caption.
    Audio,
    /// `document` (any file; up to 100 MB). Takes a caption and a file name.
    Document,
    /// `sticker` (WebP; 100 KB static, 500 KB animated). No caption.
    Sticker,
}

impl WaMediaKind {
    /// The wire name, e.g. `"image"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }

    /// `true` for the kinds that take a caption (image, video, document).
    pub fn takes_caption(self) -> bool {
        matches!(self, Self::Image | Self::Video | Self::Document)
    }
}

/// Where WhatsApp gets a media's bytes: an uploaded media id, or a public link it downloads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaMediaSource {
    /// A media id from [`WhatsApp::upload_media`](super::WhatsApp::upload_media) (`"id"`).
    Id(MediaId),
    /// A public `http(s)` URL (`"link"`).
    Link(String),
}

impl WaMediaSource {
    /// An uploaded media.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty id.
    pub fn id(id: MediaId) -> Result<Self, MessageError> {
        if id.as_str().is_empty() {
            return Err(MessageError::Empty("media id"));
        }
        Ok(Self::Id(id))
    }

    /// A public link WhatsApp downloads.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] unless `url` is an absolute `http(s)` URL.
    pub fn link(url: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self::Link(link(url.into(), "media link")?))
    }

    fn write_into(&self, object: &mut Map<String, Value>) {
        match self {
            Self::Id(id) => object.insert("id".into(), json!(id.as_str())),
            Self::Link(url) => object.insert("link".into(), json!(url)),
        };
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.write_into(&mut object);
        Value::Object(object)
    }
}

/// A media message: a kind, its source, and a caption or file name where allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaMedia {
    kind: WaMediaKind,
    source: WaMediaSource,
    caption: Option<String>,
    filename: Option<String>,
}

impl WaMedia {
    /// The most characters in a caption.
    pub const MAX_CAPTION_CHARS: usize = 1024;

    /// A media message of `kind` from `source`.
    pub fn new(kind: WaMediaKind, source: WaMediaSource) -> Self {
        Self {
            kind,
            source,
            caption: None,
            filename: None,
        }
    }

    /// A media message from an uploaded media id.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty id.
    pub fn from_id(kind: WaMediaKind, id: MediaId) -> Result<Self, MessageError> {
        Ok(Self::new(kind, WaMediaSource::id(id)?))
    }

    /// A media message from a public link.
    ///
    /// # Errors
    ///
    /// [`MessageError::InvalidUrl`] unless `url` is an absolute `http(s)` URL.
    pub fn from_link(kind: WaMediaKind, url: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self::new(kind, WaMediaSource::link(url)?))
    }

    /// Adds a caption (image, video, document).
    ///
    /// # Errors
    ///
    /// [`MessageError::NotAllowed`] on audio and stickers; [`MessageError::Empty`] or
    /// [`MessageError::TooLong`] (more than [`MAX_CAPTION_CHARS`](Self::MAX_CAPTION_CHARS)).
    pub fn with_caption(mut self, caption: impl Into<String>) -> Result<Self, MessageError> {
        if !self.kind.takes_caption() {
            return Err(MessageError::NotAllowed("a caption on audio or a sticker"));
        }
        self.caption = Some(bounded(caption.into(), "caption", Self::MAX_CAPTION_CHARS)?);
        Ok(self)
    }

    /// Names the file shown to the person (documents only), e.g. `"invoice.pdf"`.
    ///
    /// # Errors
    ///
    /// [`MessageError::NotAllowed`] for other kinds; [`MessageError::Empty`] for an empty
    /// name.
    pub fn with_filename(mut self, filename: impl Into<String>) -> Result<Self, MessageError> {
        if self.kind != WaMediaKind::Document {
            return Err(MessageError::NotAllowed(
                "a file name on anything but a document",
            ));
        }
        let filename = filename.into();
        if filename.is_empty() {
            return Err(MessageError::Empty("file name"));
        }
        self.filename = Some(filename);
        Ok(self)
    }

    /// The kind.
    pub fn kind(&self) -> WaMediaKind {
        self.kind
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &WaMediaSource {
        &self.source
    }

    /// The caption, if any.
    pub fn caption(&self) -> Option<&str> {
        self.caption.as_deref()
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.source.write_into(&mut object);
        if let Some(caption) = &self.caption {
            object.insert("caption".into(), json!(caption));
        }
        if let Some(filename) = &self.filename {
            object.insert("filename".into(), json!(filename));
        }
        Value::Object(object)
    }
}

/// The header of an interactive message: text, or (reply buttons only) a media.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaHeader(HeaderKind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HeaderKind {
    Text(String),
    Media(WaMediaKind, WaMediaSource),
}

impl WaHeader {
    /// The most characters in a text header.
    pub const MAX_TEXT_CHARS: usize = 60;

    /// A text header.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than
    /// [`MAX_TEXT_CHARS`](Self::MAX_TEXT_CHARS)).
    pub fn text(text: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self(HeaderKind::Text(bounded(
            text.into(),
            "header text",
            Self::MAX_TEXT_CHARS,
        )?)))
    }

    /// An image header.
    pub fn image(source: WaMediaSource) -> Self {
        Self(HeaderKind::Media(WaMediaKind::Image, source))
    }

    /// A video header.
    pub fn video(source: WaMediaSource) -> Self {
        Self(HeaderKind::Media(WaMediaKind::Video, source))
    }

    /// A document header.
    pub fn document(source: WaMediaSource) -> Self {
        Self(HeaderKind::Media(WaMediaKind::Document, source))
    }

    fn to_json(&self) -> Value {
        match &self.0 {
            HeaderKind::Text(text) => json!({ "type": "text", "text": text }),
            HeaderKind::Media(kind, source) => {
                let mut object = Map::new();
                object.insert("type".into(), json!(kind.as_str()));
                object.insert(kind.as_str().into(), source.to_json());
                Value::Object(object)
            }
        }
    }
}

fn footer(text: String) -> Result<String, MessageError> {
    bounded(text, "footer text", MAX_FOOTER_CHARS)
}

/// The most characters in an interactive message's footer.
const MAX_FOOTER_CHARS: usize = 60;

/// A reply button: `title` is shown, `id` comes back in the webhook's
/// `interactive.button_reply.id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaReplyButton {
    id: String,
    title: String,
}

impl WaReplyButton {
    /// The most characters in a button title.
    pub const MAX_TITLE_CHARS: usize = 20;
    /// The most characters in a button id.
    pub const MAX_ID_CHARS: usize = 256;

    /// A reply button.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] for the id (at most
    /// [`MAX_ID_CHARS`](Self::MAX_ID_CHARS)) or the title (at most
    /// [`MAX_TITLE_CHARS`](Self::MAX_TITLE_CHARS)); [`MessageError::InvalidValue`] for an id
    /// with leading or trailing spaces (Meta refuses those).
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Result<Self, MessageError> {
        let id = bounded(id.into(), "button id", Self::MAX_ID_CHARS)?;
        if id.trim() != id {
            return Err(MessageError::InvalidValue("button id"));
        }
        Ok(Self {
            id,
            title: bounded(title.into(), "button title", Self::MAX_TITLE_CHARS)?,
        })
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }
}

/// An interactive message with 1 to 3 reply buttons.
///
/// ```
/// use meta_webhooks::client::{WaHeader, WaOutgoing, WaReplyButton, WaReplyButtons};
///
/// let sizes = WaReplyButtons::new(
///     "Which size?",
///     [WaReplyButton::new("SIZE_M", "M")?, WaReplyButton::new("SIZE_L", "L")?],
/// )?
/// .with_header(WaHeader::text("Linen shirt")?)
/// .with_footer("Free returns")?;
/// let message = WaOutgoing::reply_buttons(sizes);
/// assert_eq!(message.type_name(), "interactive");
///
/// let four = (0..4).map(|i| WaReplyButton::new(format!("B{i}"), "b").unwrap());
/// assert!(WaReplyButtons::new("Too many", four).is_err());
/// # Ok::<(), meta_webhooks::client::MessageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaReplyButtons {
    body: String,
    buttons: Vec<WaReplyButton>,
    header: Option<WaHeader>,
    footer: Option<String>,
}

impl WaReplyButtons {
    /// The most reply buttons on one message.
    pub const MAX_BUTTONS: usize = 3;
    /// The most characters in the body text.
    pub const MAX_BODY_CHARS: usize = 1024;

    /// A message with `body` text and `buttons`.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] for the body (at most
    /// [`MAX_BODY_CHARS`](Self::MAX_BODY_CHARS)); [`MessageError::WrongCount`] for no buttons
    /// or more than [`MAX_BUTTONS`](Self::MAX_BUTTONS); [`MessageError::Duplicate`] when two
    /// buttons share an id or a title.
    pub fn new(
        body: impl Into<String>,
        buttons: impl IntoIterator<Item = WaReplyButton>,
    ) -> Result<Self, MessageError> {
        let body = bounded(body.into(), "body text", Self::MAX_BODY_CHARS)?;
        let buttons: Vec<WaReplyButton> = buttons.into_iter().collect();
        count("reply buttons", buttons.len(), 1, Self::MAX_BUTTONS)?;
        unique(buttons.iter().map(|b| b.id.as_str()), "button id")?;
        unique(buttons.iter().map(|b| b.title.as_str()), "button title")?;
        Ok(Self {
            body,
            buttons,
            header: None,
            footer: None,
        })
    }

    /// Sets the header (text, image, video or document).
    #[must_use]
    pub fn with_header(mut self, header: WaHeader) -> Self {
        self.header = Some(header);
        self
    }

    /// Sets the footer.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than 60 characters).
    pub fn with_footer(mut self, text: impl Into<String>) -> Result<Self, MessageError> {
        self.footer = Some(footer(text.into())?);
        Ok(self)
    }

    /// The buttons.
    pub fn buttons(&self) -> &[WaReplyButton] {
        &self.buttons
    }

    fn to_json(&self) -> Value {
        let buttons: Vec<Value> = self
            .buttons
            .iter()
            .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }))
            .collect();
        interactive(
            "button",
            self.header.as_ref(),
            &self.body,
            self.footer.as_deref(),
            json!({ "buttons": buttons }),
        )
    }
}

fn interactive(
    kind: &str,
    header: Option<&WaHeader>,
    body: &str,
    footer: Option<&str>,
    action: Value,
) -> Value {
    let mut object = Map::new();
    object.insert("type".into(), json!(kind));
    if let Some(header) = header {
        object.insert("header".into(), header.to_json());
    }
    object.insert("body".into(), json!({ "text": body }));
    if let Some(footer) = footer {
        object.insert("footer".into(), json!({ "text": footer }));
    }
    object.insert("action".into(), action);
    Value::Object(object)
}

/// One row of a [`WaList`]: `title` (and `description`) are shown, `id` comes back in the
/// webhook's `interactive.list_reply.id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaListRow {
    id: String,
    title: String,
    description: Option<String>,
}

impl WaListRow {
    /// The most characters in a row id.
    pub const MAX_ID_CHARS: usize = 200;
    /// The most characters in a row title.
    pub const MAX_TITLE_CHARS: usize = 24;
    /// The most characters in a row description.
    pub const MAX_DESCRIPTION_CHARS: usize = 72;

    /// A row.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] for the id (at most
    /// [`MAX_ID_CHARS`](Self::MAX_ID_CHARS)) or the title (at most
    /// [`MAX_TITLE_CHARS`](Self::MAX_TITLE_CHARS)).
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Result<Self, MessageError> {
        Ok(Self {
            id: bounded(id.into(), "row id", Self::MAX_ID_CHARS)?,
            title: bounded(title.into(), "row title", Self::MAX_TITLE_CHARS)?,
            description: None,
        })
    }

    /// Adds a description under the title.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than
    /// [`MAX_DESCRIPTION_CHARS`](Self::MAX_DESCRIPTION_CHARS)).
    pub fn with_description(
        mut self,
        description: impl Into<String>,
    ) -> Result<Self, MessageError> {
        self.description = Some(bounded(
            description.into(),
            "row description",
            Self::MAX_DESCRIPTION_CHARS,
        )?);
        Ok(self)
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("id".into(), json!(self.id));
        object.insert("title".into(), json!(self.title));
        if let Some(description) = &self.description {
            object.insert("description".into(), json!(description));
        }
        Value::Object(object)
    }
}

/// A section of a [`WaList`]: rows under an optional title (required when the list has
/// more than one section).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaListSection {
    title: Option<String>,
    rows: Vec<WaListRow>,
}

impl WaListSection {
    /// The most characters in a section title.
    pub const MAX_TITLE_CHARS: usize = 24;

    /// A section of `rows`, without a title.
    ///
    /// # Errors
    ///
    /// [`MessageError::WrongCount`] for no rows or more than [`WaList::MAX_ROWS`].
    pub fn new(rows: impl IntoIterator<Item = WaListRow>) -> Result<Self, MessageError> {
        let rows: Vec<WaListRow> = rows.into_iter().collect();
        count("rows in a section", rows.len(), 1, WaList::MAX_ROWS)?;
        Ok(Self { title: None, rows })
    }

    /// Sets the title.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than
    /// [`MAX_TITLE_CHARS`](Self::MAX_TITLE_CHARS)).
    pub fn with_title(mut self, title: impl Into<String>) -> Result<Self, MessageError> {
        self.title = Some(bounded(
            title.into(),
            "section title",
            Self::MAX_TITLE_CHARS,
        )?);
        Ok(self)
    }

    /// The rows.
    pub fn rows(&self) -> &[WaListRow] {
        &self.rows
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(title) = &self.title {
            object.insert("title".into(), json!(title));
        }
        let rows: Vec<Value> = self.rows.iter().map(WaListRow::to_json).collect();
        object.insert("rows".into(), Value::Array(rows));
        Value::Object(object)
    }
}

/// An interactive list message: a button that opens 1–10 sections holding 1–10 rows in all.
///
/// ```
/// use meta_webhooks::client::{WaList, WaListRow, WaListSection, WaOutgoing};
///
/// let menu = WaList::new(
///     "What can we do for you?",
///     "Options",
///     [
///         WaListSection::new([
///             WaListRow::new("ORDER_STATUS", "Order status")?,
///             WaListRow::new("RETURNS", "Returns")?.with_description("Within 30 days")?,
///         ])?
///         .with_title("Orders")?,
///         WaListSection::new([WaListRow::new("AGENT", "Talk to a person")?])?
///             .with_title("Help")?,
///     ],
/// )?
/// .with_footer("We answer within the hour")?;
/// let message = WaOutgoing::list(menu);
/// assert_eq!(message.type_name(), "interactive");
/// # Ok::<(), meta_webhooks::client::MessageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaList {
    body: String,
    button: String,
    sections: Vec<WaListSection>,
    header: Option<String>,
    footer: Option<String>,
}

impl WaList {
    /// The most rows in one list, all sections together.
    pub const MAX_ROWS: usize = 10;
    /// The most sections in one list.
    pub const MAX_SECTIONS: usize = 10;
    /// The most characters in the body text.
    pub const MAX_BODY_CHARS: usize = 4096;
    /// The most characters in the text of the button that opens the list.
    pub const MAX_BUTTON_CHARS: usize = 20;

    /// A list with `body` text, the `button` that opens it, and its sections.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] for the body (at most
    /// [`MAX_BODY_CHARS`](Self::MAX_BODY_CHARS)) or the button (at most
    /// [`MAX_BUTTON_CHARS`](Self::MAX_BUTTON_CHARS)); [`MessageError::WrongCount`] for no
    /// sections, more than [`MAX_SECTIONS`](Self::MAX_SECTIONS) or more than
    /// [`MAX_ROWS`](Self::MAX_ROWS) rows in all; [`MessageError::Empty`] for a section
    /// without a title in a list of several; [`MessageError::Duplicate`] when two rows share
    /// an id.
    pub fn new(
        body: impl Into<String>,
        button: impl Into<String>,
        sections: impl IntoIterator<Item = WaListSection>,
    ) -> Result<Self, MessageError> {
        let body = bounded(body.into(), "body text", Self::MAX_BODY_CHARS)?;
        let button = bounded(button.into(), "list button text", Self::MAX_BUTTON_CHARS)?;
        let sections: Vec<WaListSection> = sections.into_iter().collect();
        count("sections", sections.len(), 1, Self::MAX_SECTIONS)?;
        let rows = sections.iter().map(|s| s.rows.len()).sum();
        count("rows", rows, 1, Self::MAX_ROWS)?;
        if sections.len() > 1 && sections.iter().any(|s| s.title.is_none()) {
            return Err(MessageError::Empty("section title"));
        }
        unique(
            sections
                .iter()
                .flat_map(|s| s.rows.iter().map(|r| r.id.as_str())),
            "row id",
        )?;
        Ok(Self {
            body,
            button,
            sections,
            header: None,
            footer: None,
        })
    }

    /// Sets a text header (lists take text headers only).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than
    /// [`WaHeader::MAX_TEXT_CHARS`]).
    pub fn with_header_text(mut self, text: impl Into<String>) -> Result<Self, MessageError> {
        self.header = Some(bounded(
            text.into(),
            "header text",
            WaHeader::MAX_TEXT_CHARS,
        )?);
        Ok(self)
    }

    /// Sets the footer.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] (more than 60 characters).
    pub fn with_footer(mut self, text: impl Into<String>) -> Result<Self, MessageError> {
        self.footer = Some(footer(text.into())?);
        Ok(self)
    }

    /// The sections.
    pub fn sections(&self) -> &[WaListSection] {
        &self.sections
    }

    fn to_json(&self) -> Value {
        let sections: Vec<Value> = self.sections.iter().map(WaListSection::to_json).collect();
        let header = self
            .header
            .as_ref()
            .map(|text| WaHeader(HeaderKind::Text(text.clone())));
        interactive(
            "list",
            header.as_ref(),
            &self.body,
            self.footer.as_deref(),
            json!({ "button": self.button, "sections": sections }),
        )
    }
}

/// A template message: an approved template's name and language, and the parameters of
/// its components.
///
/// ```
/// use meta_webhooks::client::{WaOutgoing, WaParameter, WaTemplate, WaTemplateComponent};
///
/// let template = WaTemplate::new("order_shipped", "es")?
///     .with_component(WaTemplateComponent::body([
///         WaParameter::text("Ana")?,
///         WaParameter::text("#1234")?,
///     ])?)
///     .with_component(WaTemplateComponent::url_button(0, "1234")?);
/// let message = WaOutgoing::template(template);
/// assert!(message.is_template());
/// # Ok::<(), meta_webhooks::client::MessageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaTemplate {
    name: String,
    language: String,
    components: Vec<WaTemplateComponent>,
}

impl WaTemplate {
    /// The most characters in a template name.
    pub const MAX_NAME_CHARS: usize = 512;

    /// The template `name` in the language `language_code` (e.g. `"en_US"`, `"es"`).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] or [`MessageError::TooLong`] for the name;
    /// [`MessageError::InvalidValue`] for a name with characters other than lower-case
    /// letters, digits and `_`, or a language code other than letters, digits, `_` and `-`.
    pub fn new(
        name: impl Into<String>,
        language_code: impl Into<String>,
    ) -> Result<Self, MessageError> {
        let name = bounded(name.into(), "template name", Self::MAX_NAME_CHARS)?;
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(MessageError::InvalidValue("template name"));
        }
        let language = language_code.into();
        if language.is_empty() {
            return Err(MessageError::Empty("template language code"));
        }
        if !language
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(MessageError::InvalidValue("template language code"));
        }
        Ok(Self {
            name,
            language,
            components: Vec::new(),
        })
    }

    /// Adds a component (header, body or button parameters).
    #[must_use]
    pub fn with_component(mut self, component: WaTemplateComponent) -> Self {
        self.components.push(component);
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The language code.
    pub fn language(&self) -> &str {
        &self.language
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), json!(self.name));
        object.insert("language".into(), json!({ "code": self.language }));
        if !self.components.is_empty() {
            let components: Vec<Value> = self
                .components
                .iter()
                .map(WaTemplateComponent::to_json)
                .collect();
            object.insert("components".into(), Value::Array(components));
        }
        Value::Object(object)
    }
}

/// The parameters of one template component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaTemplateComponent(ComponentKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ComponentKind {
    Header(Vec<WaParameter>),
    Body(Vec<WaParameter>),
    Button {
        sub_type: &'static str,
        index: u8,
        parameters: Vec<WaParameter>,
    },
}

impl WaTemplateComponent {
    /// The highest button index (a template has at most 10 buttons).
    pub const MAX_BUTTON_INDEX: u8 = 9;

    /// The header's parameters (one text or media parameter).
    ///
    /// # Errors
    ///
    /// [`MessageError::WrongCount`] for no parameters.
    pub fn header(parameters: impl IntoIterator<Item = WaParameter>) -> Result<Self, MessageError> {
        let parameters: Vec<WaParameter> = parameters.into_iter().collect();
        count("header parameters", parameters.len(), 1, usize::MAX)?;
        Ok(Self(ComponentKind::Header(parameters)))
    }

    /// The body's parameters, in the order of the template's `{{1}}`, `{{2}}`… (or named).
    ///
    /// # Errors
    ///
    /// [`MessageError::WrongCount`] for no parameters.
    pub fn body(parameters: impl IntoIterator<Item = WaParameter>) -> Result<Self, MessageError> {
        let parameters: Vec<WaParameter> = parameters.into_iter().collect();
        count("body parameters", parameters.len(), 1, usize::MAX)?;
        Ok(Self(ComponentKind::Body(parameters)))
    }

    /// The payload of the quick-reply button at `index` (0-based), returned in the
    /// webhook's `button.payload` when the person taps it.
    ///
    /// # Errors
    ///
    /// [`MessageError::WrongCount`] for an index above
    /// [`MAX_BUTTON_INDEX`](Self::MAX_BUTTON_INDEX); [`MessageError::Empty`] for an empty
    /// payload.
    pub fn quick_reply_button(index: u8, payload: impl Into<String>) -> Result<Self, MessageError> {
        let payload = payload.into();
        if payload.is_empty() {
            return Err(MessageError::Empty("button payload"));
        }
        Self::button(
            "quick_reply",
            index,
            [WaParameter(ParameterKind::Payload(payload))],
        )
    }

    /// The variable suffix of the dynamic URL button at `index` (0-based).
    ///
    /// # Errors
    ///
    /// [`MessageError::WrongCount`] for an index above
    /// [`MAX_BUTTON_INDEX`](Self::MAX_BUTTON_INDEX); [`MessageError::Empty`] for an empty
    /// text.
    pub fn url_button(index: u8, text: impl Into<String>) -> Result<Self, MessageError> {
        Self::button("url", index, [WaParameter::text(text)?])
    }

    fn button(
        sub_type: &'static str,
        index: u8,
        parameters: impl IntoIterator<Item = WaParameter>,
    ) -> Result<Self, MessageError> {
        if index > Self::MAX_BUTTON_INDEX {
            return Err(MessageError::WrongCount {
                what: "as button index",
                count: usize::from(index),
                min: 0,
                max: usize::from(Self::MAX_BUTTON_INDEX),
            });
        }
        Ok(Self(ComponentKind::Button {
            sub_type,
            index,
            parameters: parameters.into_iter().collect(),
        }))
    }

    fn to_json(&self) -> Value {
        let list = |parameters: &[WaParameter]| -> Value {
            Value::Array(parameters.iter().map(WaParameter::to_json).collect())
        };
        match &self.0 {
            ComponentKind::Header(parameters) => {
                json!({ "type": "header", "parameters": list(parameters) })
            }
            ComponentKind::Body(parameters) => {
                json!({ "type": "body", "parameters": list(parameters) })
            }
            ComponentKind::Button {
                sub_type,
                index,
                parameters,
            } => json!({
                "type": "button",
                "sub_type": sub_type,
                "index": index.to_string(),
                "parameters": list(parameters),
            }),
        }
    }
}

/// One template parameter: text, currency, date-time or media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaParameter(ParameterKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ParameterKind {
    Text {
        name: Option<String>,
        text: String,
    },
    Currency {
        fallback: String,
        code: String,
        amount_1000: i64,
    },
    DateTime {
        fallback: String,
    },
    Media {
        kind: WaMediaKind,
        source: WaMediaSource,
        filename: Option<String>,
    },
    Payload(String),
}

impl WaParameter {
    /// A positional text parameter (`{{1}}`, `{{2}}`…).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty text.
    pub fn text(text: impl Into<String>) -> Result<Self, MessageError> {
        let text = text.into();
        if text.is_empty() {
            return Err(MessageError::Empty("parameter text"));
        }
        Ok(Self(ParameterKind::Text { name: None, text }))
    }

    /// A named text parameter (`{{first_name}}`: `"parameter_name": "first_name"`).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty name or text; [`MessageError::InvalidValue`] for
    /// a name with characters other than lower-case letters, digits and `_`.
    pub fn named_text(
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Self, MessageError> {
        let name = name.into();
        if name.is_empty() {
            return Err(MessageError::Empty("parameter name"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(MessageError::InvalidValue("parameter name"));
        }
        let text = text.into();
        if text.is_empty() {
            return Err(MessageError::Empty("parameter text"));
        }
        Ok(Self(ParameterKind::Text {
            name: Some(name),
            text,
        }))
    }

    /// A currency amount: `fallback` text, an ISO 4217 `code` and the amount × 1000 (e.g.
    /// `49_990` for 49.99).
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty fallback; [`MessageError::InvalidValue`] unless
    /// `code` is three ASCII letters.
    pub fn currency(
        fallback: impl Into<String>,
        code: impl Into<String>,
        amount_1000: i64,
    ) -> Result<Self, MessageError> {
        let fallback = fallback.into();
        if fallback.is_empty() {
            return Err(MessageError::Empty("currency fallback"));
        }
        let code = code.into();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(MessageError::InvalidValue("currency code"));
        }
        Ok(Self(ParameterKind::Currency {
            fallback,
            code,
            amount_1000,
        }))
    }

    /// A date and time, shown as `fallback`.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for an empty fallback.
    pub fn date_time(fallback: impl Into<String>) -> Result<Self, MessageError> {
        let fallback = fallback.into();
        if fallback.is_empty() {
            return Err(MessageError::Empty("date-time fallback"));
        }
        Ok(Self(ParameterKind::DateTime { fallback }))
    }

    /// An image (for a media header).
    pub fn image(source: WaMediaSource) -> Self {
        Self::media(WaMediaKind::Image, source)
    }

    /// A video (for a media header).
    pub fn video(source: WaMediaSource) -> Self {
        Self::media(WaMediaKind::Video, source)
    }

    /// A document (for a media header).
    pub fn document(source: WaMediaSource) -> Self {
        Self::media(WaMediaKind::Document, source)
    }

    fn media(kind: WaMediaKind, source: WaMediaSource) -> Self {
        Self(ParameterKind::Media {
            kind,
            source,
            filename: None,
        })
    }

    /// Names the file of a document parameter.
    ///
    /// # Errors
    ///
    /// [`MessageError::NotAllowed`] for other parameters; [`MessageError::Empty`] for an
    /// empty name.
    pub fn with_filename(self, filename: impl Into<String>) -> Result<Self, MessageError> {
        let filename = filename.into();
        match self.0 {
            ParameterKind::Media {
                kind: WaMediaKind::Document,
                source,
                ..
            } => {
                if filename.is_empty() {
                    return Err(MessageError::Empty("file name"));
                }
                Ok(Self(ParameterKind::Media {
                    kind: WaMediaKind::Document,
                    source,
                    filename: Some(filename),
                }))
            }
            _ => Err(MessageError::NotAllowed(
                "a file name on anything but a document",
            )),
        }
    }

    fn to_json(&self) -> Value {
        match &self.0 {
            ParameterKind::Text { name, text } => match name {
                Some(name) => json!({ "type": "text", "parameter_name": name, "text": text }),
                None => json!({ "type": "text", "text": text }),
            },
            ParameterKind::Currency {
                fallback,
                code,
                amount_1000,
            } => json!({
                "type": "currency",
                "currency": { "fallback_value": fallback, "code": code, "amount_1000": amount_1000 },
            }),
            ParameterKind::DateTime { fallback } => {
                json!({ "type": "date_time", "date_time": { "fallback_value": fallback } })
            }
            ParameterKind::Media {
                kind,
                source,
                filename,
            } => {
                let mut object = Map::new();
                source.write_into(&mut object);
                if let Some(filename) = filename {
                    object.insert("filename".into(), json!(filename));
                }
                let mut parameter = Map::new();
                parameter.insert("type".into(), json!(kind.as_str()));
                parameter.insert(kind.as_str().into(), Value::Object(object));
                Value::Object(parameter)
            }
            ParameterKind::Payload(payload) => json!({ "type": "payload", "payload": payload }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(message: &WaOutgoing) -> Value {
        Value::Object(message.to_body("15551234567"))
    }

    #[test]
    fn text_limit_counts_characters() {
        // 4096 three-byte characters are fine: the limit is in characters, not bytes.
        assert!(WaOutgoing::text("€".repeat(4096)).is_ok());
        assert_eq!(
            WaOutgoing::text("€".repeat(4097)).unwrap_err(),
            MessageError::TooLong {
                what: "text body",
                len: 4097,
                max: 4096
            }
        );
        assert_eq!(
            WaOutgoing::text("").unwrap_err(),
            MessageError::Empty("text body")
        );
    }

    #[test]
    fn captions_and_filenames_where_allowed() {
        let id = || MediaId::new("1");
        for kind in [
            WaMediaKind::Image,
            WaMediaKind::Video,
            WaMediaKind::Document,
        ] {
            assert!(
                WaMedia::from_id(kind, id())
                    .unwrap()
                    .with_caption("c")
                    .is_ok()
            );
        }
        for kind in [WaMediaKind::Audio, WaMediaKind::Sticker] {
            assert_eq!(
                WaMedia::from_id(kind, id())
                    .unwrap()
                    .with_caption("c")
                    .unwrap_err()
                    .kind(),
                crate::client::MessageErrorKind::NotAllowed
            );
        }
        let long = "a".repeat(1025);
        assert!(matches!(
            WaMedia::from_id(WaMediaKind::Image, id())
                .unwrap()
                .with_caption(long),
            Err(MessageError::TooLong { max: 1024, .. })
        ));
        assert!(
            WaMedia::from_id(WaMediaKind::Image, id())
                .unwrap()
                .with_filename("a.jpg")
                .is_err()
        );
        assert!(
            WaMedia::from_id(WaMediaKind::Document, id())
                .unwrap()
                .with_filename("")
                .is_err()
        );
        assert!(WaMedia::from_id(WaMediaKind::Image, MediaId::new("")).is_err());
        assert!(WaMedia::from_link(WaMediaKind::Image, "ftp://x/y").is_err());
        assert!(WaMedia::from_link(WaMediaKind::Image, "/relative.jpg").is_err());
    }

    #[test]
    fn reply_button_limits() {
        let b = |id: &str, title: &str| WaReplyButton::new(id, title).unwrap();
        assert!(WaReplyButton::new("x", "a".repeat(20)).is_ok());
        assert!(matches!(
            WaReplyButton::new("x", "a".repeat(21)),
            Err(MessageError::TooLong { max: 20, .. })
        ));
        assert!(WaReplyButton::new("i".repeat(256), "t").is_ok());
        assert!(WaReplyButton::new("i".repeat(257), "t").is_err());
        assert!(WaReplyButton::new("", "t").is_err());
        assert!(WaReplyButton::new("i", "").is_err());
        assert_eq!(
            WaReplyButton::new(" YES", "Yes").unwrap_err(),
            MessageError::InvalidValue("button id")
        );
        assert!(WaReplyButton::new("YES ", "Yes").is_err());
        assert_eq!(
            WaReplyButtons::new("b", []).unwrap_err(),
            MessageError::WrongCount {
                what: "reply buttons",
                count: 0,
                min: 1,
                max: 3
            }
        );
        assert!(WaReplyButtons::new("b", [b("1", "a"), b("2", "b"), b("3", "c")]).is_ok());
        assert!(matches!(
            WaReplyButtons::new("b", [b("1", "a"), b("2", "b"), b("3", "c"), b("4", "d")]),
            Err(MessageError::WrongCount { count: 4, .. })
        ));
        assert_eq!(
            WaReplyButtons::new("b", [b("1", "a"), b("1", "b")]).unwrap_err(),
            MessageError::Duplicate("button id")
        );
        assert_eq!(
            WaReplyButtons::new("b", [b("1", "a"), b("2", "a")]).unwrap_err(),
            MessageError::Duplicate("button title")
        );
        assert!(WaReplyButtons::new("a".repeat(1025), [b("1", "a")]).is_err());
        assert!(
            WaReplyButtons::new("b", [b("1", "a")])
                .unwrap()
                .with_footer("f".repeat(61))
                .is_err()
        );
        assert!(WaHeader::text("h".repeat(61)).is_err());
        assert!(WaHeader::text("h".repeat(60)).is_ok());
    }

    #[test]
    fn list_limits() {
        let row = |i: usize| WaListRow::new(format!("R{i}"), format!("Row {i}")).unwrap();
        let section = |range: std::ops::Range<usize>| WaListSection::new(range.map(row)).unwrap();
        assert!(WaList::new("b", "Open", [section(0..10)]).is_ok());
        assert!(WaListSection::new((0..11).map(row)).is_err());
        // Eleven rows over two sections.
        let two = [
            section(0..6).with_title("A").unwrap(),
            section(6..11).with_title("B").unwrap(),
        ];
        assert_eq!(
            WaList::new("b", "Open", two).unwrap_err(),
            MessageError::WrongCount {
                what: "rows",
                count: 11,
                min: 1,
                max: 10
            }
        );
        assert_eq!(
            WaList::new("b", "Open", [section(0..2), section(2..4)]).unwrap_err(),
            MessageError::Empty("section title")
        );
        assert_eq!(
            WaList::new("b", "Open", [] as [WaListSection; 0]).unwrap_err(),
            MessageError::WrongCount {
                what: "sections",
                count: 0,
                min: 1,
                max: 10
            }
        );
        let eleven_sections =
            (0..11).map(|i| section(i..i + 1).with_title(format!("S{i}")).unwrap());
        assert!(matches!(
            WaList::new("b", "Open", eleven_sections),
            Err(MessageError::WrongCount {
                what: "sections",
                count: 11,
                ..
            })
        ));
        assert_eq!(
            WaList::new(
                "b",
                "Open",
                [
                    section(0..1).with_title("A").unwrap(),
                    section(0..1).with_title("B").unwrap()
                ]
            )
            .unwrap_err(),
            MessageError::Duplicate("row id")
        );
        assert!(WaList::new("b", "o".repeat(21), [section(0..1)]).is_err());
        assert!(WaListRow::new("r", "t".repeat(25)).is_err());
        assert!(WaListRow::new("r".repeat(201), "t").is_err());
        assert!(
            WaListRow::new("r", "t")
                .unwrap()
                .with_description("d".repeat(73))
                .is_err()
        );
        assert!(section(0..1).with_title("t".repeat(25)).is_err());
        assert!(
            WaList::new("b", "Open", [section(0..1)])
                .unwrap()
                .with_header_text("h".repeat(61))
                .is_err()
        );
    }

    #[test]
    fn template_checks() {
        assert!(WaTemplate::new("hello_world", "en_US").is_ok());
        assert!(WaTemplate::new("Hello World", "en_US").is_err());
        assert!(WaTemplate::new("hello", "").is_err());
        assert!(WaTemplate::new("hello", "en US").is_err());
        assert!(WaTemplateComponent::body([]).is_err());
        assert!(WaTemplateComponent::url_button(10, "x").is_err());
        assert!(WaTemplateComponent::quick_reply_button(9, "x").is_ok());
        assert!(WaTemplateComponent::quick_reply_button(0, "").is_err());
        assert!(WaParameter::currency("$1", "US", 1000).is_err());
        assert!(WaParameter::named_text("First", "Ana").is_err());
        assert!(WaParameter::text("x").unwrap().with_filename("a").is_err());
    }

    #[test]
    fn wire_shapes() {
        let reaction = WaOutgoing::reaction(MessageId::new("wamid.A"), "👍").unwrap();
        assert_eq!(
            body(&reaction),
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"15551234567",
                   "type":"reaction","reaction":{"message_id":"wamid.A","emoji":"👍"}})
        );
        let removed = WaOutgoing::remove_reaction(MessageId::new("wamid.A")).unwrap();
        assert_eq!(body(&removed)["reaction"]["emoji"], json!(""));
        assert!(WaOutgoing::reaction(MessageId::new("wamid.A"), "").is_err());
        assert!(WaOutgoing::remove_reaction(MessageId::new("")).is_err());
        let header = WaHeader::image(WaMediaSource::link("https://example.com/h.jpg").unwrap());
        assert_eq!(
            header.to_json(),
            json!({"type":"image","image":{"link":"https://example.com/h.jpg"}})
        );
    }
}
