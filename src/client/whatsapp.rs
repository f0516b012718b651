//! [`WhatsApp`]: send and read through the WhatsApp Cloud API for one business phone number.
//!
//! The Cloud API lives on `graph.facebook.com`: build the [`GraphClient`] with
//! [`facebook_login`](super::GraphClientBuilder::facebook_login) (a bot that also answers
//! Instagram Login accounts builds a second client for them). A [`WhatsApp`] handle shares
//! the client's connection pool, [`RetryPolicy`](super::RetryPolicy), usage tracking,
//! rate-limit pauses and rejected-token state with [`Account`](super::Account) handles; the
//! state is keyed by the phone number id.
//!
//! * Send ([`WhatsApp::send`]) any [`WaOutgoing`]: text (with link preview), image, video,
//!   audio, document and sticker by media id or link, reactions, reply buttons, lists and
//!   template messages, optionally quoting a message. Messages are checked against Meta's
//!   limits when built.
//! * Mark a message as read, optionally with the typing indicator ([`WhatsApp::mark_read`]).
//! * Upload media ([`WhatsApp::upload_media`]), delete it ([`WhatsApp::delete_media`]), look
//!   a media id up ([`WhatsApp::media`]) and download it ([`WhatsApp::download_media`]) through
//!   a [`MediaFetcher`]: its allow-list,
//!   https only, no redirects, size and time caps. The access token goes to Meta's media host
//!   (`lookaside.fbsbx.com`) and nowhere else.
//! * The 24-hour customer-service window: [`WhatsApp::send_in_window`] sends free-form
//!   messages within 24 hours of the person's last message and refuses them locally after;
//!   [`WhatsApp::send_or_template`] falls back to a template. Meta's own refusal (`131047`)
//!   is [`GraphErrorKind::OutsideWindow`] too.
//!
//! Meta's WhatsApp error codes are classified into the same [`GraphErrorKind`]s as the
//! Graph codes (see [`GraphErrorBody::kind`](super::GraphErrorBody::kind)): `131026`
//! (undeliverable) is never retried, `130429` (throughput) and `131056` (pair rate limit) are
//! retried after a pause; the `error_data.details` text is kept in
//! [`GraphErrorBody::details`](super::GraphErrorBody::details).
//!
//! # Example
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//!
//! use meta_webhooks::AccessToken;
//! use meta_webhooks::client::{
//!     GraphClient, GraphErrorKind, MediaFetcher, MessagingWindow, WaOutgoing, WaParameter,
//!     WaTemplate, WaTemplateComponent,
//! };
//! use meta_webhooks::payload::{AccountId, MediaId, MessageId, UserId};
//!
//! # async fn reply() -> Result<(), Box<dyn std::error::Error>> {
//! // Once per process.
//! let client = GraphClient::builder().facebook_login().build()?;
//! let fetcher = MediaFetcher::new()?;
//!
//! // Per phone number: the webhook's `metadata.phone_number_id` and a token for it.
//! let whatsapp = client.whatsapp(
//!     AccountId::new("106540352242922"),
//!     AccessToken::new(std::env::var("WA_TOKEN")?)?,
//! );
//!
//! // From the webhook: who wrote, the message id (wamid) and when.
//! let person = UserId::new("16505551234");
//! let wamid = MessageId::new("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA");
//! let last_inbound = SystemTime::now() - Duration::from_secs(90);
//!
//! // Blue ticks and "typing…" while the answer is prepared.
//! whatsapp.mark_read(&wamid, true).await?;
//!
//! // A photo the person sent: look it up and download it with the token.
//! let photo = whatsapp.download_media(&fetcher, &MediaId::new("1037543291543636")).await?;
//! println!("{} bytes of {:?}", photo.len(), photo.content_type());
//!
//! // Free-form inside the 24-hour window, the approved template outside it.
//! let answer = WaOutgoing::text("¡Hola! ¿En qué te ayudo?")?.with_reply_to(wamid);
//! let follow_up = WaTemplate::new("follow_up", "es")?
//!     .with_component(WaTemplateComponent::body([WaParameter::text("Ana")?])?);
//! match whatsapp
//!     .send_or_template(&person, &answer, &follow_up, MessagingWindow::new(last_inbound))
//!     .await
//! {
//!     Ok(sent) => println!("sent {}", sent.message_id),
//!     // Meta may have delivered it: record it, do not resend blindly.
//!     Err(e) if e.kind() == GraphErrorKind::OutcomeUnknown => eprintln!("outcome unknown: {e}"),
//!     Err(e) if e.is_retryable() => eprintln!("retry after {:?}: {e}", e.retry_after()),
//!     Err(e) if e.kind() == GraphErrorKind::UserUnavailable => eprintln!("undeliverable: {e}"),
//!     Err(e) => eprintln!("not sent: {e}"),
//! }
//! # Ok(())
//! # }
//! ```

mod message;

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use thiserror::Error;

use crate::payload::{AccountId, MediaId, MessageId, UserId};
use crate::secret::AccessToken;

use super::GraphClient;
use super::account::{decode, decode_created_id, json_body, node};
use super::call::{Body, Multipart, Request};
use super::config::INSTAGRAM_GRAPH_URL;
use super::error::{DecodeFailure, GraphError, GraphErrorKind, MessageError};
use super::media::{FetchedMedia, MediaError, MediaErrorKind, MediaFetcher};
use super::state::AccountStatus;
use super::window::{Author, MessagingWindow, WindowClosed};

pub use message::{
    WaHeader, WaList, WaListRow, WaListSection, WaMedia, WaMediaKind, WaMediaSource, WaOutgoing,
    WaParameter, WaReplyButton, WaReplyButtons, WaTemplate, WaTemplateComponent,
};

/// One WhatsApp business phone number and its access token, sharing the [`GraphClient`]'s
/// connection pool and per-account state. See the [module docs](self).
///
/// Cheap to clone. Its `Debug` output never shows the token.
#[derive(Clone)]
pub struct WhatsApp {
    client: GraphClient,
    phone_number_id: AccountId,
    token: AccessToken,
}

impl fmt::Debug for WhatsApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsApp")
            .field("phone_number_id", &self.phone_number_id)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// The answer to a send: the new message's wamid and the recipient as WhatsApp resolved it.
///
/// `{"messaging_product":"whatsapp","contacts":[{"input":…,"wa_id":…}],
/// "messages":[{"id":…,"message_status":…}]}`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaSent {
    /// The id (wamid) of the new message; statuses for it arrive by webhook.
    pub message_id: MessageId,
    /// The recipient's WhatsApp id, when Meta gives it.
    pub wa_id: Option<UserId>,
    /// The recipient as it was sent (`contacts[].input`).
    pub input: Option<String>,
    /// `messages[].message_status`, e.g. `accepted` or `held_for_quality_assessment`.
    pub message_status: Option<String>,
}

#[derive(Deserialize)]
struct RawSent {
    #[serde(default)]
    contacts: Vec<RawContact>,
    #[serde(default)]
    messages: Vec<RawSentMessage>,
}

#[derive(Deserialize)]
struct RawContact {
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    wa_id: Option<UserId>,
}

#[derive(Deserialize)]
struct RawSentMessage {
    #[serde(default)]
    id: Option<MessageId>,
    #[serde(default)]
    message_status: Option<String>,
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: Option<bool>,
}

/// Reads the answer to a call Meta acknowledges with `{"success": true}`: anything but an
/// explicit `false` is taken as done.
fn not_refused(status: StatusCode, body: &Bytes) -> Result<(), GraphError> {
    let answer: Success = decode(status, body, "a JSON object")?;
    if answer.success == Some(false) {
        return Err(GraphError::Decode(DecodeFailure {
            status,
            reason: "Meta answered success: false".into(),
        }));
    }
    Ok(())
}

/// What a media lookup (`GET /{media-id}`) says about a media: where to download it (for
/// about 5 minutes, with the token), its type, size and SHA-256.
///
/// Its `Debug` output shows the URL's host only (the URL is a short-lived capability).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct WaMediaInfo {
    /// The media id.
    #[serde(default)]
    pub id: Option<MediaId>,
    url: String,
    /// The MIME type, e.g. `image/jpeg`.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The SHA-256 of the file as Meta gives it (hex in lookups).
    #[serde(default)]
    pub sha256: Option<String>,
    /// The size in bytes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub file_size: Option<u64>,
}

impl fmt::Debug for WaMediaInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned));
        f.debug_struct("WaMediaInfo")
            .field("id", &self.id)
            .field("url_host", &host)
            .field("mime_type", &self.mime_type)
            .field("sha256", &self.sha256)
            .field("file_size", &self.file_size)
            .finish()
    }
}

impl WaMediaInfo {
    /// The download URL (needs the access token; valid for about 5 minutes). Do not log it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A file to upload with [`WhatsApp::upload_media`]: its bytes, MIME type and file name.
#[derive(Clone, PartialEq, Eq)]
pub struct WaUpload {
    bytes: Bytes,
    mime_type: String,
    file_name: String,
}

impl fmt::Debug for WaUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaUpload")
            .field("len", &self.bytes.len())
            .field("mime_type", &self.mime_type)
            .field("file_name", &self.file_name)
            .finish()
    }
}

fn is_token(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

impl WaUpload {
    /// A file of `mime_type` (e.g. `image/jpeg`, `application/pdf`, `audio/ogg`) named
    /// `file_name`.
    ///
    /// # Errors
    ///
    /// [`MessageError::Empty`] for no bytes or an empty file name;
    /// [`MessageError::InvalidValue`] for a MIME type not of the form `type/subtype`, or a
    /// file name with control characters, quotes or path separators.
    pub fn new(
        bytes: impl Into<Bytes>,
        mime_type: impl Into<String>,
        file_name: impl Into<String>,
    ) -> Result<Self, MessageError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(MessageError::Empty("file"));
        }
        let mime_type = mime_type.into();
        match mime_type.split_once('/') {
            Some((kind, sub)) if is_token(kind) && is_token(sub) => {}
            _ => return Err(MessageError::InvalidValue("MIME type")),
        }
        let file_name = file_name.into();
        if file_name.is_empty() {
            return Err(MessageError::Empty("file name"));
        }
        if file_name
            .chars()
            .any(|c| c.is_control() || matches!(c, '"' | '/' | '\\'))
        {
            return Err(MessageError::InvalidValue("file name"));
        }
        Ok(Self {
            bytes,
            mime_type,
            file_name,
        })
    }

    /// The MIME type.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false` (an upload is never empty).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Why [`WhatsApp::download_media`] failed. Never contains the token or the URL.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WaDownloadError {
    /// The media lookup (`GET /{media-id}`) failed.
    #[error("media lookup failed: {0}")]
    Lookup(#[source] GraphError),
    /// The download was refused or failed.
    #[error("media download failed: {0}")]
    Fetch(#[source] MediaError),
    /// The downloaded bytes do not have the SHA-256 the lookup named.
    #[error("the downloaded media does not match the SHA-256 Meta gave")]
    ChecksumMismatch,
}

/// The kind of a [`WaDownloadError`]: `Copy`, with a stable name for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaDownloadErrorKind {
    /// [`WaDownloadError::Lookup`]; see [`GraphError::kind`].
    Lookup,
    /// [`WaDownloadError::Fetch`]; see [`MediaError::kind`].
    Fetch,
    /// [`WaDownloadError::ChecksumMismatch`].
    ChecksumMismatch,
}

impl WaDownloadErrorKind {
    /// A stable snake_case name, e.g. `"checksum_mismatch"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lookup => "lookup",
            Self::Fetch => "fetch",
            Self::ChecksumMismatch => "checksum_mismatch",
        }
    }
}

impl fmt::Display for WaDownloadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl WaDownloadError {
    /// Which step failed.
    pub fn kind(&self) -> WaDownloadErrorKind {
        match self {
            Self::Lookup(_) => WaDownloadErrorKind::Lookup,
            Self::Fetch(_) => WaDownloadErrorKind::Fetch,
            Self::ChecksumMismatch => WaDownloadErrorKind::ChecksumMismatch,
        }
    }

    /// The lookup's error, for [`WaDownloadError::Lookup`].
    pub fn lookup_error(&self) -> Option<&GraphError> {
        match self {
            Self::Lookup(error) => Some(error),
            _ => None,
        }
    }

    /// The download's error, for [`WaDownloadError::Fetch`].
    pub fn fetch_error(&self) -> Option<&MediaError> {
        match self {
            Self::Fetch(error) => Some(error),
            _ => None,
        }
    }

    /// `true` when trying again later may succeed: a retryable lookup error, a timeout or a
    /// network failure of the download.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Lookup(error) => error.is_retryable(),
            Self::Fetch(error) => matches!(
                error.kind(),
                MediaErrorKind::Timeout | MediaErrorKind::Transport
            ),
            Self::ChecksumMismatch => false,
        }
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(BASE64.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Some(true)` when `expected` (hex, or base64 in either alphabet, padded or not) names the
/// SHA-256 of `bytes`, `Some(false)` when it names another digest, `None` when it is in no
/// form recognized here.
fn sha256_matches(expected: &str, bytes: &[u8]) -> Option<bool> {
    let digest = Sha256::digest(bytes);
    let expected = expected.trim();
    if expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(expected.eq_ignore_ascii_case(&hex::encode(digest)));
    }
    let unpadded = expected.trim_end_matches('=');
    if unpadded.len() == 43
        && unpadded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b))
    {
        let standard = base64(&digest);
        let normalized: String = unpadded
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                other => other,
            })
            .collect();
        return Some(standard.trim_end_matches('=') == normalized);
    }
    None
}

impl WhatsApp {
    pub(crate) fn new(client: GraphClient, phone_number_id: AccountId, token: AccessToken) -> Self {
        Self {
            client,
            phone_number_id,
            token,
        }
    }

    /// The business phone number id (the webhook's `metadata.phone_number_id`).
    pub fn phone_number_id(&self) -> &AccountId {
        &self.phone_number_id
    }

    /// The client this handle sends through.
    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    /// What the client knows about this phone number (pause, token, usage).
    pub fn status(&self) -> AccountStatus {
        self.client.account_status(&self.phone_number_id)
    }

    async fn run(&self, request: Request) -> Result<(StatusCode, Bytes), GraphError> {
        if self.client.inner.api_root.starts_with(INSTAGRAM_GRAPH_URL) {
            return Err(MessageError::NotAllowed(
                "the WhatsApp Cloud API on graph.instagram.com (build the client with facebook_login())",
            )
            .into());
        }
        self.client
            .inner
            .call(&self.phone_number_id, &self.token, &request)
            .await
    }

    fn messages_request(
        &self,
        body: serde_json::Map<String, Value>,
    ) -> Result<Request, GraphError> {
        Ok(Request {
            method: Method::POST,
            path: format!(
                "{}/messages",
                node(self.phone_number_id.as_str(), "phone number id")?
            ),
            query: None,
            body: json_body(body),
            write: true,
        })
    }

    /// Sends `message` to the person `to` (their `wa_id`, or a phone number with country
    /// code).
    ///
    /// `POST /{phone-number-id}/messages` with `{"messaging_product":"whatsapp",
    /// "recipient_type":"individual","to":…,"type":…,…}`.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty recipient (before any request), or any other
    /// [`GraphError`]; [`GraphError::Decode`] when Meta answered 2xx without a message id
    /// (it accepted the message: do not resend).
    pub async fn send(&self, to: &UserId, message: &WaOutgoing) -> Result<WaSent, GraphError> {
        if to.as_str().is_empty() {
            return Err(MessageError::Empty("recipient").into());
        }
        let request = self.messages_request(message.to_body(to.as_str()))?;
        let (status, body) = self.run(request).await?;
        let raw: RawSent = decode(status, &body, "a JSON object")?;
        let contact = raw.contacts.into_iter().next();
        let sent = raw.messages.into_iter().next();
        let message_status = sent.as_ref().and_then(|m| m.message_status.clone());
        let Some(message_id) = sent.and_then(|m| m.id) else {
            return Err(GraphError::Decode(DecodeFailure {
                status,
                reason: "no message id in the answer".into(),
            }));
        };
        let (input, wa_id) = contact.map_or((None, None), |c| (c.input, c.wa_id));
        Ok(WaSent {
            message_id,
            wa_id,
            input,
            message_status,
        })
    }

    /// Sends a text message (no link preview).
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty text or one over 4096 characters (before any
    /// request), or any other [`GraphError`].
    pub async fn send_text(&self, to: &UserId, text: &str) -> Result<WaSent, GraphError> {
        let message = WaOutgoing::text(text)?;
        self.send(to, &message).await
    }

    /// Sends `message` if WhatsApp's 24-hour customer-service window allows it now (by the
    /// client's clock): a template message always, any other message only within 24 hours
    /// of the person's last message.
    ///
    /// # Errors
    ///
    /// [`GraphError::WindowClosed`] ([`GraphErrorKind::OutsideWindow`]) without any request
    /// for a free-form message outside the window (send a template instead), or any other
    /// [`GraphError`].
    pub async fn send_in_window(
        &self,
        to: &UserId,
        message: &WaOutgoing,
        window: MessagingWindow,
    ) -> Result<WaSent, GraphError> {
        if !message.is_template() {
            let now = self.client.inner.clock.now();
            if !window.is_open(now) {
                return Err(GraphError::WindowClosed(WindowClosed {
                    elapsed: window.elapsed(now),
                    author: Author::Automated,
                }));
            }
        }
        self.send(to, message).await
    }

    /// Sends `message` within the 24-hour customer-service window, and `template` outside
    /// it (or when Meta answers that the window closed, `131047`).
    ///
    /// # Errors
    ///
    /// Any [`GraphError`] of the send that was made.
    pub async fn send_or_template(
        &self,
        to: &UserId,
        message: &WaOutgoing,
        template: &WaTemplate,
        window: MessagingWindow,
    ) -> Result<WaSent, GraphError> {
        let template = || WaOutgoing::template(template.clone());
        let now = self.client.inner.clock.now();
        if message.is_template() || !window.is_open(now) {
            let fallback = if message.is_template() {
                message.clone()
            } else {
                template()
            };
            return self.send(to, &fallback).await;
        }
        match self.send(to, message).await {
            Err(error) if error.kind() == GraphErrorKind::OutsideWindow => {
                self.send(to, &template()).await
            }
            other => other,
        }
    }

    /// Marks the message `message_id` (and the earlier ones of the conversation) as read,
    /// and with `typing` shows the typing indicator until the reply is sent or 25 seconds
    /// pass.
    ///
    /// `POST /{phone-number-id}/messages` with `{"messaging_product":"whatsapp",
    /// "status":"read","message_id":…}` and, with `typing`,
    /// `"typing_indicator":{"type":"text"}`.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty message id, or any other [`GraphError`];
    /// [`GraphError::Decode`] when Meta answers `{"success": false}`.
    pub async fn mark_read(&self, message_id: &MessageId, typing: bool) -> Result<(), GraphError> {
        if message_id.as_str().is_empty() {
            return Err(MessageError::Empty("message id").into());
        }
        let mut body = serde_json::Map::new();
        body.insert("messaging_product".into(), json!("whatsapp"));
        body.insert("status".into(), json!("read"));
        body.insert("message_id".into(), json!(message_id.as_str()));
        if typing {
            body.insert("typing_indicator".into(), json!({ "type": "text" }));
        }
        let request = self.messages_request(body)?;
        let (status, body) = self.run(request).await?;
        not_refused(status, &body)
    }

    /// Uploads a file for use in messages (valid for 30 days), returning its media id.
    ///
    /// `POST /{phone-number-id}/media`, `multipart/form-data` with `messaging_product`
    /// (`whatsapp`), `type` (the MIME type) and `file`.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`] (e.g. `131053` for a file Meta cannot take);
    /// [`GraphError::Decode`] when Meta answered 2xx without an id.
    pub async fn upload_media(&self, upload: &WaUpload) -> Result<MediaId, GraphError> {
        let request = Request {
            method: Method::POST,
            path: format!(
                "{}/media",
                node(self.phone_number_id.as_str(), "phone number id")?
            ),
            query: None,
            body: Body::Multipart(Arc::new(Multipart {
                fields: vec![
                    ("messaging_product", "whatsapp".to_owned()),
                    ("type", upload.mime_type.clone()),
                ],
                file_field: "file",
                file_name: upload.file_name.clone(),
                mime_type: upload.mime_type.clone(),
                bytes: upload.bytes.clone(),
            })),
            write: true,
        };
        let (status, body) = self.run(request).await?;
        decode_created_id(status, &body, "no media id in the answer")
    }

    /// Looks a media id up (`GET /{media-id}`): its download URL, MIME type, SHA-256 and
    /// size. The id comes from a webhook message (`image.id`, `document.id`…) or an upload.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for a malformed id, or any other [`GraphError`];
    /// [`GraphError::Decode`] when the answer has no `url`.
    pub async fn media(&self, media_id: &MediaId) -> Result<WaMediaInfo, GraphError> {
        let request = Request {
            method: Method::GET,
            path: node(media_id.as_str(), "media id")?.to_owned(),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a media object with a url")
    }

    /// Deletes an uploaded media (`DELETE /{media-id}`). Deleting is idempotent, so a
    /// failure whose outcome is unknown is retried like a read.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for a malformed id, or any other [`GraphError`];
    /// [`GraphError::Decode`] when Meta answers `{"success": false}`.
    pub async fn delete_media(&self, media_id: &MediaId) -> Result<(), GraphError> {
        let request = Request {
            method: Method::DELETE,
            path: node(media_id.as_str(), "media id")?.to_owned(),
            query: None,
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        not_refused(status, &body)
    }

    /// Looks `media_id` up and downloads it with [`fetch_media`](Self::fetch_media).
    ///
    /// # Errors
    ///
    /// [`WaDownloadError::Lookup`], or the errors of [`fetch_media`](Self::fetch_media).
    pub async fn download_media(
        &self,
        fetcher: &MediaFetcher,
        media_id: &MediaId,
    ) -> Result<FetchedMedia, WaDownloadError> {
        let info = self
            .media(media_id)
            .await
            .map_err(WaDownloadError::Lookup)?;
        self.fetch_media(fetcher, &info).await
    }

    /// Downloads looked-up media through `fetcher`
    /// ([`MediaFetcher::fetch_with_token`]): the token goes to Meta's media host only,
    /// redirects are refused, and the fetcher's size and time caps apply (a size the lookup
    /// already puts over the cap is refused without downloading). The bytes are checked
    /// against the lookup's SHA-256.
    ///
    /// # Errors
    ///
    /// [`WaDownloadError::Fetch`] (refused, redirect, status, too large, timeout, network) or
    /// [`WaDownloadError::ChecksumMismatch`].
    pub async fn fetch_media(
        &self,
        fetcher: &MediaFetcher,
        info: &WaMediaInfo,
    ) -> Result<FetchedMedia, WaDownloadError> {
        fetcher
            .check_token_url(&info.url)
            .map_err(WaDownloadError::Fetch)?;
        if info
            .file_size
            .is_some_and(|size| size > fetcher.max_bytes())
        {
            return Err(WaDownloadError::Fetch(MediaError::TooLarge(
                fetcher.max_bytes(),
            )));
        }
        let media = fetcher
            .fetch_with_token(&info.url, &self.token)
            .await
            .map_err(WaDownloadError::Fetch)?;
        if let Some(expected) = &info.sha256
            && sha256_matches(expected, media.bytes()) == Some(false)
        {
            return Err(WaDownloadError::ChecksumMismatch);
        }
        Ok(media)
    }
}

impl GraphClient {
    /// A handle for one WhatsApp business phone number and its token. Cheap; state is kept
    /// in the client, keyed by the phone number id. The client must point at
    /// `graph.facebook.com` ([`facebook_login`](super::GraphClientBuilder::facebook_login))
    /// or a test server: on `graph.instagram.com` every call is refused locally with
    /// [`GraphError::Invalid`].
    pub fn whatsapp(&self, phone_number_id: AccountId, token: AccessToken) -> WhatsApp {
        WhatsApp::new(self.clone(), phone_number_id, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn sha256_in_every_form() {
        // SHA-256 of "abc".
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_matches(hex, b"abc"), Some(true));
        assert_eq!(sha256_matches(&hex.to_uppercase(), b"abc"), Some(true));
        assert_eq!(sha256_matches(hex, b"abd"), Some(false));
        let b64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
        assert_eq!(sha256_matches(b64, b"abc"), Some(true));
        assert_eq!(
            sha256_matches(b64.trim_end_matches('='), b"abc"),
            Some(true)
        );
        let url_safe = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";
        assert_eq!(sha256_matches(url_safe, b"abc"), Some(true));
        assert_eq!(sha256_matches(b64, b"abd"), Some(false));
        assert_eq!(sha256_matches("abc123", b"abc"), None);
    }

    #[test]
    fn uploads_are_checked() {
        assert!(WaUpload::new(vec![1_u8], "image/jpeg", "a.jpg").is_ok());
        assert_eq!(
            WaUpload::new(Vec::<u8>::new(), "image/jpeg", "a.jpg").unwrap_err(),
            MessageError::Empty("file")
        );
        for bad in [
            "image",
            "image/",
            "/jpeg",
            "image/jpeg; x=\"y\"",
            "ima ge/jpeg",
            "",
        ] {
            assert_eq!(
                WaUpload::new(vec![1_u8], bad, "a.jpg").unwrap_err(),
                MessageError::InvalidValue("MIME type"),
                "{bad}"
            );
        }
        for bad in ["a\r\nb.jpg", "a\".jpg", "../a.jpg", "a\\b.jpg"] {
            assert!(
                WaUpload::new(vec![1_u8], "image/jpeg", bad).is_err(),
                "{bad}"
            );
        }
        assert!(WaUpload::new(vec![1_u8], "image/jpeg", "").is_err());
    }

    #[test]
    fn media_info_is_lenient_and_debug_hides_the_url() {
        let info: WaMediaInfo = serde_json::from_str(
            r#"{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&hash=SECRET","mime_type":"image/jpeg","sha256":"ab","file_size":"182859","id":"1"}"#,
        )
        .unwrap();
        assert_eq!(info.file_size, Some(182_859));
        let debug = format!("{info:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("lookaside.fbsbx.com"), "{debug}");
        assert!(serde_json::from_str::<WaMediaInfo>(r#"{"id":"1"}"#).is_err());
    }
}
