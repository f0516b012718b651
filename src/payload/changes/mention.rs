//! `mentions` change values.

use serde::{Deserialize, Serialize};

use crate::payload::ids::{CommentId, MediaId};

/// The business was @mentioned in a caption (`media_id`) or a comment (`comment_id` +
/// `media_id`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Mention {
    /// The comment that mentions the business (strict).
    pub comment_id: Option<CommentId>,
    /// The media whose caption or comment mentions the business (strict).
    pub media_id: Option<MediaId>,
}
