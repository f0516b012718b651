//! `referral` of a WhatsApp message: the click-to-WhatsApp ad or post it came from.

use serde::{Deserialize, Serialize};

use crate::payload::lenient;

/// `referral`: the ad (or post) the person tapped to start the chat. Only on the first
/// message they send from it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaReferral {
    /// `source_url`: the ad or post.
    #[serde(default, deserialize_with = "lenient::string")]
    pub source_url: Option<String>,
    /// `source_id`: the ad id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub source_id: Option<String>,
    /// `source_type`: `ad` or `post`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub source_type: Option<String>,
    /// `headline` of the ad.
    #[serde(default, deserialize_with = "lenient::string")]
    pub headline: Option<String>,
    /// `body` of the ad.
    #[serde(default, deserialize_with = "lenient::string")]
    pub body: Option<String>,
    /// `media_type`: `image` or `video`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub media_type: Option<String>,
    /// `image_url`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub image_url: Option<String>,
    /// `video_url`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub video_url: Option<String>,
    /// `thumbnail_url` of a video.
    #[serde(default, deserialize_with = "lenient::string")]
    pub thumbnail_url: Option<String>,
    /// `ctwa_clid`: the click id, for conversion reporting.
    #[serde(default, deserialize_with = "lenient::string")]
    pub ctwa_clid: Option<String>,
    /// `welcome_message`: the greeting the ad prefilled.
    #[serde(default, deserialize_with = "lenient::object")]
    pub welcome_message: Option<WelcomeMessage>,
}

/// `referral.welcome_message`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WelcomeMessage {
    /// `text`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
}
