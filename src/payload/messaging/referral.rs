//! `referral`, at event level and inside `message`.

use serde::{Deserialize, Serialize};

use super::message::StoryRef;
use crate::payload::lenient;

/// How a person reached the conversation: a link, an ad, a Shops product, a story mention.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Referral {
    /// `ref`: the parameter of the link.
    #[serde(rename = "ref", default, deserialize_with = "lenient::string")]
    pub ref_: Option<String>,
    /// `source`: `SHORTLINK`, `ADS`, `CUSTOMER_CHAT_PLUGIN`, `STORY_MENTION`, ...
    /// (compare with [`Referral::source_is`], case-insensitively).
    #[serde(default, deserialize_with = "lenient::string")]
    pub source: Option<String>,
    /// `type`: `OPEN_THREAD`.
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
    /// `ad_id` of a click-to-message ad.
    #[serde(default, deserialize_with = "lenient::id")]
    pub ad_id: Option<String>,
    /// `ads_context_data` of a click-to-message ad.
    #[serde(default, deserialize_with = "lenient::object")]
    pub ads_context_data: Option<AdsContextData>,
    /// `product` (Shops).
    #[serde(default, deserialize_with = "lenient::object")]
    pub product: Option<ProductRef>,
    /// `referer_uri` (chat plugin website).
    #[serde(default, deserialize_with = "lenient::string")]
    pub referer_uri: Option<String>,
    /// `story` of a `STORY_MENTION` referral.
    #[serde(default, deserialize_with = "lenient::object")]
    pub story: Option<StoryRef>,
}

impl Referral {
    /// Whether `source` equals `value`, ignoring ASCII case.
    pub fn source_is(&self, value: &str) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(value))
    }

    /// `source` is `STORY_MENTION` (precedence rule 0).
    pub fn is_story_mention(&self) -> bool {
        self.source_is("STORY_MENTION")
    }

    /// `source` is `ADS`.
    pub fn is_ads(&self) -> bool {
        self.source_is("ADS")
    }
}

/// `referral.ads_context_data`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct AdsContextData {
    /// The ad's title.
    #[serde(default, deserialize_with = "lenient::string")]
    pub ad_title: Option<String>,
    /// The ad's image.
    #[serde(default, deserialize_with = "lenient::string")]
    pub photo_url: Option<String>,
    /// The ad's video thumbnail.
    #[serde(default, deserialize_with = "lenient::string")]
    pub video_url: Option<String>,
    /// The ad's post id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub post_id: Option<String>,
    /// The advertised product.
    #[serde(default, deserialize_with = "lenient::id")]
    pub product_id: Option<String>,
    /// The instant-form flow.
    #[serde(default, deserialize_with = "lenient::id")]
    pub flow_id: Option<String>,
}

/// `referral.product` (Shops).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ProductRef {
    /// The product id.
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_case_insensitive() {
        let r: Referral = serde_json::from_str(
            r#"{"ref":"x","source":"Story_Mention","type":"OPEN_THREAD","story":{"id":1,"url":"u"}}"#,
        )
        .unwrap();
        assert!(r.is_story_mention());
        assert!(!r.is_ads());
        assert_eq!(r.story.unwrap().id.unwrap(), "1");
        let r: Referral = serde_json::from_str(
            r#"{"source":"ads","ad_id":6045246247433,"ads_context_data":{"ad_title":"Sale","post_id":"p"}}"#,
        )
        .unwrap();
        assert!(r.is_ads());
        assert_eq!(r.ad_id.as_deref(), Some("6045246247433"));
        assert_eq!(
            r.ads_context_data.unwrap().ad_title.as_deref(),
            Some("Sale")
        );
    }
}
