//! `message.attachments[]`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::payload::ids::{MediaId, MessageId};
use crate::payload::lenient;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `message.attachments[].type`. Unknown types are kept verbatim.
    pub enum AttachmentType(
        /// A type this version does not know.
        Unknown
    ) {
        /// `image` (on Instagram also gifs and stickers).
        Image = "image",
        /// `video`.
        Video = "video",
        /// `audio`.
        Audio = "audio",
        /// `file`.
        File = "file",
        /// `share`: legacy Instagram post share.
        Share = "share",
        /// `ig_post`: Instagram post share.
        IgPost = "ig_post",
        /// `story_mention`: the person mentioned the business in a story.
        StoryMention = "story_mention",
        /// `ig_reel`.
        IgReel = "ig_reel",
        /// `reel`.
        Reel = "reel",
        /// `ig_story`.
        IgStory = "ig_story",
        /// `story`.
        Story = "story",
        /// `media`.
        Media = "media",
        /// `ephemeral`: view-once media, no URL.
        Ephemeral = "ephemeral",
        /// `like_heart`.
        LikeHeart = "like_heart",
        /// `sticker` (Messenger).
        Sticker = "sticker",
        /// `template` (echoes, shared products).
        Template = "template",
        /// `fallback`: link shares and unknown attachments.
        Fallback = "fallback",
        /// `location` (legacy Messenger).
        Location = "location",
        /// `appointment_booking` (Messenger).
        AppointmentBooking = "appointment_booking",
        /// `post` (Messenger).
        Post = "post",
    }
}

/// One attachment. The payload keeps its raw JSON, so unknown types lose nothing.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Attachment {
    /// `type`; `None` if missing or not a string.
    #[serde(rename = "type", default, deserialize_with = "lenient::wire")]
    pub kind: Option<AttachmentType>,
    /// `payload`; `None` when absent (ephemeral) or `null` (fallback echoes).
    #[serde(default)]
    pub payload: Option<AttachmentPayload>,
    /// Attachment-level `title` (fallback attachments with a `null` payload).
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
    /// Attachment-level `url` (fallback attachments with a `null` payload).
    #[serde(default, deserialize_with = "lenient::string")]
    pub url: Option<String>,
}

impl Attachment {
    /// The media URL: `payload.url`, else the attachment-level `url`.
    pub fn url(&self) -> Option<&str> {
        self.payload
            .as_ref()
            .and_then(|p| p.url.as_deref())
            .or(self.url.as_deref())
    }
}

/// An attachment `payload`: the documented fields typed, the whole object kept raw.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AttachmentPayload {
    /// `url` (CDN links expire).
    pub url: Option<String>,
    /// `title` (post caption, reel title, link title).
    pub title: Option<String>,
    /// `id` (Messenger `ig_post` / `post`).
    pub id: Option<String>,
    /// `ig_post_media_id` (`share`, `ig_post`).
    pub ig_post_media_id: Option<MediaId>,
    /// `reel_video_id` (number or string on the wire).
    pub reel_video_id: Option<MediaId>,
    /// `story_media_id` (`ig_story`).
    pub story_media_id: Option<MediaId>,
    /// `story_media_url` (`ig_story`).
    pub story_media_url: Option<String>,
    /// `sticker_id` (Messenger stickers).
    pub sticker_id: Option<String>,
    /// `attachment_id` (reusable uploads).
    pub attachment_id: Option<String>,
    /// `coordinates` (legacy Messenger location).
    pub coordinates: Option<Coordinates>,
    /// `template_type` (templates).
    pub template_type: Option<String>,
    /// `mid`s referenced by some Messenger attachments.
    pub mid: Option<MessageId>,
    raw: Box<RawValue>,
}

impl AttachmentPayload {
    /// The payload exactly as received (any JSON value, e.g. a template).
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// Deserializes the raw payload into a type of your own.
    ///
    /// # Errors
    ///
    /// When the payload does not match `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.raw.get())
    }
}

/// `payload.coordinates` of a location attachment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Coordinates {
    /// Latitude.
    #[serde(default, deserialize_with = "lenient::float")]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default, deserialize_with = "lenient::float")]
    pub long: Option<f64>,
}

#[derive(Default, Deserialize)]
struct PayloadFields {
    #[serde(default, deserialize_with = "lenient::string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    ig_post_media_id: Option<MediaId>,
    #[serde(default, deserialize_with = "lenient::id")]
    reel_video_id: Option<MediaId>,
    #[serde(default, deserialize_with = "lenient::id")]
    story_media_id: Option<MediaId>,
    #[serde(default, deserialize_with = "lenient::string")]
    story_media_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    sticker_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    attachment_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::object")]
    coordinates: Option<Coordinates>,
    #[serde(default, deserialize_with = "lenient::string")]
    template_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    mid: Option<MessageId>,
}

impl<'de> Deserialize<'de> for AttachmentPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        // Every field is tolerant, so this fails only for non-objects: those keep their
        // raw JSON and have no typed fields.
        let fields = if raw.get().starts_with('{') {
            serde_json::from_str::<PayloadFields>(raw.get()).unwrap_or_default()
        } else {
            PayloadFields::default()
        };
        Ok(Self {
            url: fields.url,
            title: fields.title,
            id: fields.id,
            ig_post_media_id: fields.ig_post_media_id,
            reel_video_id: fields.reel_video_id,
            story_media_id: fields.story_media_id,
            story_media_url: fields.story_media_url,
            sticker_id: fields.sticker_id,
            attachment_id: fields.attachment_id,
            coordinates: fields.coordinates,
            template_type: fields.template_type,
            mid: fields.mid,
            raw,
        })
    }
}

impl Serialize for AttachmentPayload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Attachment {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn known_types_are_typed() {
        let a = parse(
            r#"{"type":"ig_reel","payload":{"url":"https://x","title":"t","reel_video_id":17990123456789012}}"#,
        );
        assert_eq!(a.kind, Some(AttachmentType::IgReel));
        let p = a.payload.unwrap();
        assert_eq!(p.reel_video_id.unwrap(), "17990123456789012");
        assert_eq!(p.title.as_deref(), Some("t"));
    }

    #[test]
    fn unknown_types_keep_their_raw_payload() {
        let a = parse(r#"{"type":"hologram","payload":{"depth":[1,2],"url":"https://h"}}"#);
        assert_eq!(a.kind, Some(AttachmentType::Unknown("hologram".into())));
        assert_eq!(a.kind.as_ref().unwrap().as_str(), "hologram");
        let p = a.payload.unwrap();
        assert_eq!(p.raw(), r#"{"depth":[1,2],"url":"https://h"}"#);
        assert_eq!(p.url.as_deref(), Some("https://h"));
        let v: serde_json::Value = p.parse().unwrap();
        assert_eq!(v["depth"][1], 2);
    }

    #[test]
    fn null_absent_and_odd_payloads() {
        assert!(parse(r#"{"type":"ephemeral"}"#).payload.is_none());
        let a = parse(r#"{"type":"fallback","payload":null,"title":"Link","url":"https://l"}"#);
        assert!(a.payload.is_none());
        assert_eq!(a.url(), Some("https://l"));
        let a = parse(r#"{"type":"image","payload":"weird"}"#);
        assert_eq!(a.payload.unwrap().raw(), r#""weird""#);
        let a = parse(r#"{"type":7}"#);
        assert_eq!(a.kind, None);
    }

    #[test]
    fn location_coordinates() {
        let a = parse(
            r#"{"title":"Pin","url":"https://maps","type":"location","payload":{"coordinates":{"lat":52.5,"long":13.4}}}"#,
        );
        let c = a.payload.unwrap().coordinates.unwrap();
        assert_eq!((c.lat, c.long), (Some(52.5), Some(13.4)));
    }
}
