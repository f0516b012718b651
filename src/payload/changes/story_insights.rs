//! `story_insights` change values.

use serde::{Deserialize, Serialize};

use crate::payload::ids::MediaId;
use crate::payload::lenient;

/// Metrics of an expired story, sent about an hour after it expired. Counts below 5 are
/// reported as `-1`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct StoryInsights {
    /// The story (strict).
    pub media_id: Option<MediaId>,
    /// Exits.
    #[serde(default, deserialize_with = "lenient::int")]
    pub exits: Option<i64>,
    /// Replies.
    #[serde(default, deserialize_with = "lenient::int")]
    pub replies: Option<i64>,
    /// Reach.
    #[serde(default, deserialize_with = "lenient::int")]
    pub reach: Option<i64>,
    /// Taps forward.
    #[serde(default, deserialize_with = "lenient::int")]
    pub taps_forward: Option<i64>,
    /// Taps back.
    #[serde(default, deserialize_with = "lenient::int")]
    pub taps_back: Option<i64>,
    /// Impressions.
    #[serde(default, deserialize_with = "lenient::int")]
    pub impressions: Option<i64>,
}
