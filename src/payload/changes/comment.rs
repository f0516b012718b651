//! `comments` and `live_comments` change values.

use serde::{Deserialize, Serialize};

use crate::payload::ids::{CommentId, MediaId, UserId};
use crate::payload::lenient;

/// A comment on the business's media (also live comments during a broadcast).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Comment {
    /// The comment id (Business Login and captured payloads; strict).
    pub id: Option<CommentId>,
    /// The comment id as Facebook Login's example names it (strict).
    pub comment_id: Option<CommentId>,
    /// The comment text, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
    /// Who commented.
    #[serde(default, deserialize_with = "lenient::object")]
    pub from: Option<CommentAuthor>,
    /// The media commented on.
    #[serde(default, deserialize_with = "lenient::object")]
    pub media: Option<CommentMedia>,
    /// The parent comment, for replies.
    #[serde(default, deserialize_with = "lenient::id")]
    pub parent_id: Option<CommentId>,
}

impl Comment {
    /// `id`, else `comment_id`.
    pub fn comment_id(&self) -> Option<&CommentId> {
        self.id.as_ref().or(self.comment_id.as_ref())
    }

    /// `from.id`, the commenter's IGSID.
    pub fn author_id(&self) -> Option<&UserId> {
        self.from.as_ref().and_then(|f| f.id.as_ref())
    }
}

/// `value.from` of a comment.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CommentAuthor {
    /// The commenter's IGSID (strict).
    pub id: Option<UserId>,
    /// The commenter's username.
    #[serde(default, deserialize_with = "lenient::string")]
    pub username: Option<String>,
    /// Self-messaging: the business's own IGSID.
    #[serde(default, deserialize_with = "lenient::id")]
    pub self_ig_scoped_id: Option<UserId>,
}

/// `value.media` of a comment.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CommentMedia {
    /// The media id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<MediaId>,
    /// Where the media lives (`FEED`, `REELS`, `STORY`, `AD`, ...), kept as sent.
    #[serde(default, deserialize_with = "lenient::string")]
    pub media_product_type: Option<String>,
    /// The ad, for comments on ads.
    #[serde(default, deserialize_with = "lenient::id")]
    pub ad_id: Option<String>,
    /// The ad's title.
    #[serde(default, deserialize_with = "lenient::string")]
    pub ad_title: Option<String>,
    /// The organic media an ad was made from.
    #[serde(default, deserialize_with = "lenient::id")]
    pub original_media_id: Option<MediaId>,
}
