//! Media, location and contact-card payloads of WhatsApp messages.

use serde::{Deserialize, Serialize};

use crate::payload::ids::{MediaId, UserId};
use crate::payload::lenient;

/// `image`, `video`, `audio`, `document` or `sticker` of a message: a media id to look
/// up and download with the business's token, and what the person wrote with it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaMedia {
    /// `id`: the media id (look it up to get a short-lived download URL).
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: Option<MediaId>,
    /// `mime_type`, e.g. `image/jpeg`, `audio/ogg; codecs=opus`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub mime_type: Option<String>,
    /// `sha256` of the file.
    #[serde(default, deserialize_with = "lenient::string")]
    pub sha256: Option<String>,
    /// `caption` of an image, video or document, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub caption: Option<String>,
    /// `filename` of a document.
    #[serde(default, deserialize_with = "lenient::string")]
    pub filename: Option<String>,
    /// `voice` of an audio: a voice note recorded in WhatsApp.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub voice: bool,
    /// `animated` of a sticker.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub animated: bool,
    /// `url`, where Meta includes one (it needs the business's token too).
    #[serde(default, deserialize_with = "lenient::string")]
    pub url: Option<String>,
}

/// `location` of a message: a pin the person shared.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Location {
    /// `latitude`.
    #[serde(default, deserialize_with = "lenient::float")]
    pub latitude: Option<f64>,
    /// `longitude`.
    #[serde(default, deserialize_with = "lenient::float")]
    pub longitude: Option<f64>,
    /// `name` of the place.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: Option<String>,
    /// `address` of the place.
    #[serde(default, deserialize_with = "lenient::string")]
    pub address: Option<String>,
    /// `url` of the place.
    #[serde(default, deserialize_with = "lenient::string")]
    pub url: Option<String>,
}

/// One item of a message's `contacts`: a contact card the person shared.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactCard {
    /// `name`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub name: Option<ContactName>,
    /// `phones`.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub phones: Vec<ContactPhone>,
    /// `emails`.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub emails: Vec<ContactEmail>,
    /// `addresses`.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub addresses: Vec<ContactAddress>,
    /// `org`.
    #[serde(default, deserialize_with = "lenient::object")]
    pub org: Option<ContactOrg>,
    /// `urls`.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub urls: Vec<ContactUrl>,
    /// `birthday` (`YYYY-MM-DD`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub birthday: Option<String>,
}

/// `name` of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactName {
    /// `formatted_name`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub formatted_name: Option<String>,
    /// `first_name`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub first_name: Option<String>,
    /// `last_name`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub last_name: Option<String>,
    /// `middle_name`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub middle_name: Option<String>,
    /// `prefix`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub prefix: Option<String>,
    /// `suffix`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub suffix: Option<String>,
}

/// A phone number of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactPhone {
    /// `phone`, as the person saved it.
    #[serde(default, deserialize_with = "lenient::string")]
    pub phone: Option<String>,
    /// `wa_id`, when the number is on WhatsApp.
    #[serde(default, deserialize_with = "lenient::id")]
    pub wa_id: Option<UserId>,
    /// `type`: `CELL`, `MAIN`, `IPHONE`, `HOME`, `WORK`, ...
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}

/// An email address of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactEmail {
    /// `email`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub email: Option<String>,
    /// `type`: `HOME`, `WORK`, ...
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}

/// A postal address of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactAddress {
    /// `street`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub street: Option<String>,
    /// `city`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub city: Option<String>,
    /// `state`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub state: Option<String>,
    /// `zip`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub zip: Option<String>,
    /// `country`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub country: Option<String>,
    /// `country_code` (ISO 3166-1 alpha-2).
    #[serde(default, deserialize_with = "lenient::string")]
    pub country_code: Option<String>,
    /// `type`: `HOME`, `WORK`, ...
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}

/// `org` of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactOrg {
    /// `company`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub company: Option<String>,
    /// `department`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub department: Option<String>,
    /// `title`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: Option<String>,
}

/// A URL of a contact card.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ContactUrl {
    /// `url`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub url: Option<String>,
    /// `type`: `HOME`, `WORK`, ...
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: Option<String>,
}
