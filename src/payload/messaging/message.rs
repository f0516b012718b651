//! `message` and `message_edit`.

use serde::{Deserialize, Serialize};

use super::attachment::{Attachment, AttachmentType};
use super::referral::Referral;
use crate::payload::ids::{AppId, MediaId, MessageId};
use crate::payload::lenient;

/// A `message` object: text, attachments, quick-reply taps, replies, ad referrals, echoes,
/// unsends and unsupported media all share this shape.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Message {
    /// The message id (strict: a `mid` of another JSON type invalidates the item).
    pub mid: Option<MessageId>,
    /// The text, verbatim (may be `""`; with a quick reply it is the button title).
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
    /// Attachments in order; an element that is not an object is kept as an empty
    /// [`Attachment`] so the count stays right.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub attachments: Vec<Attachment>,
    /// The tapped quick reply.
    #[serde(default, deserialize_with = "lenient::object")]
    pub quick_reply: Option<QuickReply>,
    /// What this message replies to (a message or a story).
    #[serde(default, deserialize_with = "lenient::object")]
    pub reply_to: Option<ReplyTo>,
    /// Click-to-message ad or Shops product that started the conversation.
    #[serde(default, deserialize_with = "lenient::object")]
    pub referral: Option<Box<Referral>>,
    /// Sent by the business (an echo).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_echo: bool,
    /// The person unsent the message; only `mid` is meaningful.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_deleted: bool,
    /// Media Meta cannot deliver through the API.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_unsupported: bool,
    /// Self-messaging test message.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_self: bool,
    /// On echoes: the sending app (a JSON number in Messenger's docs).
    #[serde(default, deserialize_with = "lenient::id")]
    pub app_id: Option<AppId>,
    /// On echoes: the `metadata` string given to the Send API.
    #[serde(default, deserialize_with = "lenient::string")]
    pub metadata: Option<String>,
    /// Messenger bot commands.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub commands: Vec<Command>,
}

impl Message {
    /// Whether some attachment has type `story_mention` (precedence: message rule 4).
    pub fn has_story_mention(&self) -> bool {
        self.attachments
            .iter()
            .any(|a| a.kind == Some(AttachmentType::StoryMention))
    }

    /// Whether this replies to a story (`reply_to.story` is an object).
    pub fn is_story_reply(&self) -> bool {
        self.reply_to.as_ref().is_some_and(|r| r.story.is_some())
    }

    /// The quick reply's developer payload.
    pub fn quick_reply_payload(&self) -> Option<&str> {
        self.quick_reply.as_ref().and_then(|q| q.payload.as_deref())
    }
}

/// `message.quick_reply`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct QuickReply {
    /// The developer payload of the tapped quick reply.
    #[serde(default, deserialize_with = "lenient::string")]
    pub payload: Option<String>,
}

/// `message.reply_to`: an inline reply to a message, or a reply to a story.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ReplyTo {
    /// The message replied to.
    #[serde(default, deserialize_with = "lenient::id")]
    pub mid: Option<MessageId>,
    /// The story replied to.
    #[serde(default, deserialize_with = "lenient::object")]
    pub story: Option<StoryRef>,
    /// Messenger: the person replied to their own message.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_self_reply: bool,
}

/// A story: `{id, url}` in `reply_to.story` and `referral.story`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct StoryRef {
    /// The story's media id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<MediaId>,
    /// A CDN link that expires.
    #[serde(default, deserialize_with = "lenient::string")]
    pub url: Option<String>,
}

/// `message.commands[]` (Messenger).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Command {
    /// The command name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

/// `message_edit`: the text after an edit.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct MessageEdit {
    /// The edited message's id (strict).
    pub mid: Option<MessageId>,
    /// The new text.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
    /// How many times it was edited (integer or numeric string on the wire).
    #[serde(default, deserialize_with = "lenient::uint")]
    pub num_edit: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_reply_and_story_mention_helpers() {
        let m: Message = serde_json::from_str(
            r#"{"mid":"m1","text":"wow","reply_to":{"story":{"id":"17890","url":"https:\/\/lookaside.fbsbx.com\/x"}}}"#,
        )
        .unwrap();
        assert!(m.is_story_reply());
        assert_eq!(
            m.reply_to.unwrap().story.unwrap().url.as_deref(),
            Some("https://lookaside.fbsbx.com/x")
        );
        let m: Message = serde_json::from_str(
            r#"{"mid":"m2","attachments":[{"type":"story_mention","payload":{"url":"https://x"}}]}"#,
        )
        .unwrap();
        assert!(m.has_story_mention());
        let m: Message =
            serde_json::from_str(r#"{"mid":"m3","reply_to":{"mid":"m0","story":"no"}}"#).unwrap();
        assert!(!m.is_story_reply());
    }

    #[test]
    fn num_edit_int_or_string() {
        for json in [
            r#"{"mid":"m","num_edit":2}"#,
            r#"{"mid":"m","num_edit":"2"}"#,
        ] {
            let e: MessageEdit = serde_json::from_str(json).unwrap();
            assert_eq!(e.num_edit, Some(2));
        }
    }

    #[test]
    fn echo_fields_accept_numbers() {
        let m: Message = serde_json::from_str(
            r#"{"mid":"m","is_echo":true,"app_id":1517776481860111,"metadata":"DEVELOPER_DEFINED"}"#,
        )
        .unwrap();
        assert!(m.is_echo);
        assert_eq!(m.app_id.unwrap(), "1517776481860111");
        assert_eq!(m.metadata.as_deref(), Some("DEVELOPER_DEFINED"));
    }

    #[test]
    fn text_is_verbatim() {
        let m: Message = serde_json::from_str(
            r#"{"text":"  caf\u00e9 e\u0301 \ud83d\ude00 \/ \" \\ \t\n\u0040 "}"#,
        )
        .unwrap();
        assert_eq!(
            m.text.as_deref(),
            Some("  caf\u{e9} e\u{301} 😀 / \" \\ \t\n@ ")
        );
        let m: Message = serde_json::from_str(r#"{"text":""}"#).unwrap();
        assert_eq!(m.text.as_deref(), Some(""));
        let m: Message = serde_json::from_str(r#"{"text":42}"#).unwrap();
        assert_eq!(m.text, None);
    }
}
