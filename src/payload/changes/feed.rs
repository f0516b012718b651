//! `feed` change values of a Facebook Page: posts, comments, reactions, shares, photos,
//! videos and the like, each told apart by `item` and `verb`.

use serde::{Deserialize, Serialize};

use crate::payload::ids::{CommentId, MediaId, PostId, UserId};
use crate::payload::lenient;
use crate::payload::time::Timestamp;
use crate::payload::wire::wire_enum;

wire_enum! {
    /// `value.item` of a Page `feed` change: what changed. Unknown items are kept verbatim.
    pub enum FeedItem(
        /// An item this version does not name (`address`, `coupon`, `milestone`, ...).
        Unknown
    ) {
        /// `comment`: a comment on a post, or a reply to a comment.
        Comment = "comment",
        /// `reaction`: a reaction (like, love, haha, ...) to a post or a comment.
        Reaction = "reaction",
        /// `status`: a text post.
        Status = "status",
        /// `post`.
        Post = "post",
        /// `photo`.
        Photo = "photo",
        /// `video`.
        Video = "video",
        /// `share`: a shared link or post.
        Share = "share",
        /// `like`: someone liked the Page.
        Like = "like",
        /// `album`.
        Album = "album",
        /// `event`.
        Event = "event",
    }
}

wire_enum! {
    /// `value.verb` of a Page `feed` change: what happened to the item. Unknown verbs are
    /// kept verbatim.
    pub enum FeedVerb(
        /// A verb this version does not name.
        Unknown
    ) {
        /// `add`.
        Add = "add",
        /// `edited` (comments and posts).
        Edited = "edited",
        /// `edit` (a reaction changed, e.g. from like to love).
        Edit = "edit",
        /// `remove`.
        Remove = "remove",
        /// `hide`.
        Hide = "hide",
        /// `unhide`.
        Unhide = "unhide",
        /// `block`.
        Block = "block",
        /// `unblock`.
        Unblock = "unblock",
        /// `update`.
        Update = "update",
        /// `delete`.
        Delete = "delete",
        /// `follow`.
        Follow = "follow",
        /// `mute`.
        Mute = "mute",
    }
}

/// The `value` of a Page `feed` change.
///
/// Comments carry `comment_id`, `post_id`, `parent_id` and `message`; reactions carry
/// `reaction_type` and the id of the post (and of the comment) reacted to; posts, photos,
/// videos and shares carry `post_id`, `message` and `link`. Everything else stays in the
/// change's raw JSON.
///
/// ```
/// use meta_webhooks::payload::{FeedChange, FeedItem, FeedVerb};
///
/// let value: FeedChange = serde_json::from_str(
///     r#"{"from":{"id":"7012345678901234","name":"Maria L"},"item":"comment","verb":"add",
///         "comment_id":"998877665544332_1122334455667788","post_id":"104512345678901_998877665544332",
///         "parent_id":"104512345678901_998877665544332","created_time":1769870410,
///         "message":"Price?"}"#,
/// )?;
/// assert_eq!((value.item.as_ref(), value.verb.as_ref()), (Some(&FeedItem::Comment), Some(&FeedVerb::Add)));
/// assert_eq!(value.object_id(), Some("998877665544332_1122334455667788"));
/// assert_eq!(value.author_id().map(|id| id.as_str()), Some("7012345678901234"));
/// assert_eq!(value.created_time.map(|t| t.as_millis()), Some(1_769_870_410_000));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct FeedChange {
    /// `item`: what changed; `None` if missing or not a string.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub item: Option<FeedItem>,
    /// `verb`: what happened to it; `None` if missing or not a string.
    #[serde(default, deserialize_with = "lenient::wire")]
    pub verb: Option<FeedVerb>,
    /// `from`: who acted (a person, or the Page itself).
    #[serde(default, deserialize_with = "lenient::object")]
    pub from: Option<FeedAuthor>,
    /// `post_id`: the post the change is on (strict).
    pub post_id: Option<PostId>,
    /// `comment_id`: the comment, for comments and reactions to comments (strict).
    pub comment_id: Option<CommentId>,
    /// `parent_id`: the post of a top-level comment, the comment of a reply.
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: Option<String>,
    /// `message`: the text of a comment or post, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub message: Option<String>,
    /// `created_time`: when it happened (seconds on the wire, normalized to milliseconds).
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub created_time: Option<Timestamp>,
    /// `reaction_type` of a reaction: `like`, `love`, `haha`, `wow`, `sad`, `angry`,
    /// `care`, ... kept as sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub reaction_type: Option<String>,
    /// `link` of a photo, video or share.
    #[serde(default, deserialize_with = "lenient::string")]
    pub link: Option<String>,
    /// `photo_id` of a photo.
    #[serde(default, deserialize_with = "lenient::id")]
    pub photo_id: Option<MediaId>,
    /// `video_id` of a video.
    #[serde(default, deserialize_with = "lenient::id")]
    pub video_id: Option<MediaId>,
}

impl FeedChange {
    /// `from.id`: who acted.
    pub fn author_id(&self) -> Option<&UserId> {
        self.from.as_ref().and_then(|f| f.id.as_ref())
    }

    /// The id of the comment or post the change is about: `comment_id` for a comment,
    /// `comment_id` else `post_id` for a reaction, `post_id` else `comment_id` for
    /// anything else.
    pub fn object_id(&self) -> Option<&str> {
        let comment = self.comment_id.as_ref().map(CommentId::as_str);
        let post = self.post_id.as_ref().map(PostId::as_str);
        match self.item {
            Some(FeedItem::Comment) => comment,
            Some(FeedItem::Reaction) => comment.or(post),
            _ => post.or(comment),
        }
    }
}

/// `value.from` of a Page `feed` change.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct FeedAuthor {
    /// The id of who acted: a person, or the Page (equal to `entry.id`) (strict).
    pub id: Option<UserId>,
    /// Their name, as shown on Facebook.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<FeedChange, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn reaction_to_a_comment_and_to_a_post() {
        let r = parse(
            r#"{"item":"reaction","verb":"add","reaction_type":"love","from":{"id":"1"},
                "post_id":"10_20","comment_id":"20_30","parent_id":"10_20","created_time":1769870410}"#,
        )
        .unwrap();
        assert_eq!(r.object_id(), Some("20_30"));
        assert_eq!(r.reaction_type.as_deref(), Some("love"));
        let r = parse(r#"{"item":"reaction","verb":"remove","post_id":"10_20"}"#).unwrap();
        assert_eq!(r.object_id(), Some("10_20"));
        assert_eq!(r.verb, Some(FeedVerb::Remove));
    }

    #[test]
    fn other_items_prefer_the_post() {
        let v = parse(
            r#"{"item":"photo","verb":"add","post_id":"10_20","photo_id":20,"link":"https:\/\/x"}"#,
        )
        .unwrap();
        assert_eq!(v.object_id(), Some("10_20"));
        assert_eq!(v.photo_id.unwrap(), "20");
        assert_eq!(v.link.as_deref(), Some("https://x"));
        let v = parse(r#"{"item":"milestone","verb":"follow"}"#).unwrap();
        assert_eq!(v.item, Some(FeedItem::Unknown("milestone".into())));
        assert_eq!(v.verb, Some(FeedVerb::Follow));
        assert_eq!(v.object_id(), None);
    }

    #[test]
    fn ids_the_normalizer_reads_are_strict() {
        for bad in [
            r#"{"item":"comment","comment_id":true}"#,
            r#"{"item":"comment","post_id":[1]}"#,
            r#"{"item":"comment","from":{"id":{}}}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // Integer ids become their decimal string; everything else is tolerated.
        let v = parse(
            r#"{"item":7,"verb":null,"from":"x","comment_id":17952310476882035,
                "message":5,"created_time":"soon","parent_id":false}"#,
        )
        .unwrap();
        assert_eq!(v.comment_id.unwrap(), "17952310476882035");
        assert!(v.item.is_none() && v.verb.is_none() && v.from.is_none());
        assert!(v.message.is_none() && v.created_time.is_none() && v.parent_id.is_none());
    }
}
