//! [`Account`]: the operations of one business account, with its own token.

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::payload::{AccountId, CommentId, MediaId, MessageId, UserId};
use crate::secret::AccessToken;

use super::GraphClient;
use super::call::{Body, Request};
use super::error::{DecodeFailure, GraphError, MessageError};
use super::message::{Message, SendOptions, SenderAction};
use super::state::AccountStatus;
use super::window::{Author, MessagingWindow};

/// The profile fields requested by [`Account::user_profile`].
pub const USER_PROFILE_FIELDS: &str = "name,username,profile_pic,follower_count,is_user_follow_business,is_business_follow_user,is_verified_user";

/// The comment fields requested by [`Account::comment`].
pub const COMMENT_FIELDS: &str =
    "id,text,from,media,parent_id,timestamp,username,like_count,hidden";

/// One business account (an Instagram professional account or a Page) and its access
/// token, sharing the [`GraphClient`]'s connection pool and account state.
///
/// Cheap to clone. Its `Debug` output never shows the token.
///
/// The account id is the Graph node messages are sent from (`POST /{id}/messages`) and the
/// key of the client's per-account state (pauses, rejected tokens, usage). With Instagram
/// Login use the Instagram account id (the webhook's `entry.id`); with Facebook Login and a
/// Page token use the Page id.
#[derive(Clone)]
pub struct Account {
    client: GraphClient,
    id: AccountId,
    token: AccessToken,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Answer to a message send: `{"recipient_id": …, "message_id": …}`.
///
/// Both fields are optional because Meta omits them in some cases (sends to a `user_ref`,
/// reactions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MessageSent {
    /// The person the message went to.
    #[serde(default)]
    pub recipient_id: Option<UserId>,
    /// The id of the new message.
    #[serde(default)]
    pub message_id: Option<MessageId>,
}

/// A person's profile (`GET /{IGSID}`), readable once the person messaged the business.
///
/// Every field is optional: Meta omits what is unset or not permitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UserProfile {
    /// The IGSID.
    #[serde(default)]
    pub id: Option<UserId>,
    /// Display name; `None` when unset.
    #[serde(default)]
    pub name: Option<String>,
    /// Instagram username.
    #[serde(default)]
    pub username: Option<String>,
    /// Profile picture URL (expires after a few days; do not store the image).
    #[serde(default)]
    pub profile_pic: Option<String>,
    /// Number of followers.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub follower_count: Option<u64>,
    /// Whether the person follows the business.
    #[serde(default)]
    pub is_user_follow_business: Option<bool>,
    /// Whether the business follows the person.
    #[serde(default)]
    pub is_business_follow_user: Option<bool>,
    /// Whether the person's account is verified.
    #[serde(default)]
    pub is_verified_user: Option<bool>,
}

/// An Instagram comment (`GET /{comment-id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Comment {
    /// The comment id.
    pub id: CommentId,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// Who wrote it.
    #[serde(default)]
    pub from: Option<CommentAuthor>,
    /// The media it was written on.
    #[serde(default)]
    pub media: Option<CommentMedia>,
    /// For a reply, the comment it answers.
    #[serde(default)]
    pub parent_id: Option<CommentId>,
    /// Creation time as Meta formats it (ISO 8601, e.g. `2017-08-31T18:10:30+0000`).
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Username of the author.
    #[serde(default)]
    pub username: Option<String>,
    /// Number of likes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub like_count: Option<u64>,
    /// Whether the comment is hidden.
    #[serde(default)]
    pub hidden: Option<bool>,
}

/// The author of a [`Comment`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CommentAuthor {
    /// The author's Instagram-scoped id.
    #[serde(default)]
    pub id: Option<UserId>,
    /// The author's username.
    #[serde(default)]
    pub username: Option<String>,
}

/// The media a [`Comment`] was written on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CommentMedia {
    /// The media id.
    pub id: MediaId,
    /// Where the media lives (e.g. `FEED`, `REELS`, `STORY`, `AD`), verbatim.
    #[serde(default)]
    pub media_product_type: Option<String>,
}

#[derive(Deserialize)]
struct Created<T> {
    #[serde(default = "Option::default")]
    id: Option<T>,
}

/// Reads Meta's `{"id": …}` answer to a create call; `missing` names the id in the error
/// when a 2xx answer has none.
pub(crate) fn decode_created_id<T: DeserializeOwned>(
    status: StatusCode,
    body: &Bytes,
    missing: &'static str,
) -> Result<T, GraphError> {
    let created: Created<T> = decode(status, body, "a JSON object")?;
    created.id.ok_or_else(|| {
        GraphError::Decode(DecodeFailure {
            status,
            reason: missing.into(),
        })
    })
}

pub(super) fn lenient_u64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Checks an id that goes into the request path: ASCII letters, digits, `_` and `-` only, so
/// that it cannot add path segments, a query or a fragment.
pub(crate) fn node<'a>(id: &'a str, what: &'static str) -> Result<&'a str, MessageError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id)
    } else {
        Err(MessageError::InvalidId(what))
    }
}

fn recipient(id: &UserId) -> Result<Value, MessageError> {
    if id.as_str().is_empty() {
        return Err(MessageError::Empty("recipient id"));
    }
    Ok(json!({ "id": id.as_str() }))
}

pub(crate) fn decode<T: DeserializeOwned>(
    status: StatusCode,
    body: &Bytes,
    what: &'static str,
) -> Result<T, GraphError> {
    serde_json::from_slice(body).map_err(|e| {
        GraphError::Decode(DecodeFailure {
            status,
            reason: format!(
                "expected {what} ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    })
}

pub(crate) fn json_body(body: Map<String, Value>) -> Body {
    // Serializing a `Value` cannot fail (all keys are strings).
    Body::Json(Bytes::from(Value::Object(body).to_string()))
}

impl Account {
    pub(crate) fn new(client: GraphClient, id: AccountId, token: AccessToken) -> Self {
        Self { client, id, token }
    }

    /// The account id.
    pub fn id(&self) -> &AccountId {
        &self.id
    }

    /// The client this account sends through.
    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    /// What the client knows about this account (pause, token, usage).
    pub fn status(&self) -> AccountStatus {
        self.client.account_status(&self.id)
    }

    /// The account's token (crate-internal: it never leaves through the public API).
    pub(super) fn token(&self) -> &AccessToken {
        &self.token
    }

    pub(super) async fn run(&self, request: Request) -> Result<(StatusCode, Bytes), GraphError> {
        self.client
            .inner
            .call(&self.id, &self.token, &request)
            .await
    }

    fn messages_request(&self, body: Map<String, Value>) -> Result<Request, GraphError> {
        Ok(Request {
            method: Method::POST,
            path: format!("{}/messages", node(self.id.as_str(), "account id")?),
            query: None,
            body: json_body(body),
            write: true,
        })
    }

    async fn post_message(&self, body: Map<String, Value>) -> Result<MessageSent, GraphError> {
        let request = self.messages_request(body)?;
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a JSON object")
    }

    /// Sends `message` to a person as a `RESPONSE` (inside the 24-hour window).
    ///
    /// `POST /{account-id}/messages` with
    /// `{"recipient":{"id":…},"messaging_type":"RESPONSE","message":{…}}`.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; see [`GraphError::kind`].
    pub async fn send(&self, to: &UserId, message: &Message) -> Result<MessageSent, GraphError> {
        self.send_with(to, message, &SendOptions::default()).await
    }

    /// Sends `message` with explicit options (`messaging_type`, tag, `reply_to`).
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; see [`GraphError::kind`].
    pub async fn send_with(
        &self,
        to: &UserId,
        message: &Message,
        options: &SendOptions,
    ) -> Result<MessageSent, GraphError> {
        let mut body = Map::new();
        body.insert("recipient".into(), recipient(to)?);
        options.write_into(&mut body);
        body.insert("message".into(), message.to_json());
        self.post_message(body).await
    }

    /// Sends a text message as a `RESPONSE`.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty text or one over 1000 bytes of UTF-8 (before any
    /// request), or any other [`GraphError`].
    pub async fn send_text(&self, to: &UserId, text: &str) -> Result<MessageSent, GraphError> {
        let message = Message::text(text)?;
        self.send(to, &message).await
    }

    /// Sends `message` if the messaging window allows it now (by the client's clock),
    /// choosing `RESPONSE` within 24 hours of the person's last message or the `HUMAN_AGENT`
    /// tag up to 7 days for [`Author::Human`].
    ///
    /// # Errors
    ///
    /// [`GraphError::WindowClosed`] without any request when the window is closed, or any
    /// other [`GraphError`].
    pub async fn send_in_window(
        &self,
        to: &UserId,
        message: &Message,
        window: MessagingWindow,
        author: Author,
    ) -> Result<MessageSent, GraphError> {
        let messaging_type = window.messaging_type(author, self.client.inner.clock.now())?;
        let options = SendOptions::new().with_messaging_type(messaging_type);
        self.send_with(to, message, &options).await
    }

    /// Sends a sender action (`typing_on`, `typing_off`, `mark_seen`), alone.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`].
    pub async fn sender_action(
        &self,
        to: &UserId,
        action: &SenderAction,
    ) -> Result<(), GraphError> {
        let mut body = Map::new();
        body.insert("recipient".into(), recipient(to)?);
        body.insert("sender_action".into(), json!(action.as_str()));
        self.post_message(body).await.map(drop)
    }

    /// Reacts to a message (`sender_action: react`), e.g. with `"love"`.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty reaction, or any other [`GraphError`].
    pub async fn react(
        &self,
        to: &UserId,
        message: &MessageId,
        reaction: &str,
    ) -> Result<(), GraphError> {
        if reaction.is_empty() {
            return Err(MessageError::Empty("reaction").into());
        }
        let mut body = Map::new();
        body.insert("recipient".into(), recipient(to)?);
        body.insert("sender_action".into(), json!("react"));
        body.insert(
            "payload".into(),
            json!({ "message_id": message.as_str(), "reaction": reaction }),
        );
        self.post_message(body).await.map(drop)
    }

    /// Removes the business's reaction from a message (`sender_action: unreact`).
    ///
    /// # Errors
    ///
    /// Any [`GraphError`].
    pub async fn unreact(&self, to: &UserId, message: &MessageId) -> Result<(), GraphError> {
        let mut body = Map::new();
        body.insert("recipient".into(), recipient(to)?);
        body.insert("sender_action".into(), json!("unreact"));
        body.insert("payload".into(), json!({ "message_id": message.as_str() }));
        self.post_message(body).await.map(drop)
    }

    /// Sends a private reply to the author of a comment (`recipient.comment_id`): one per
    /// comment, within 7 days of it (Live: during the broadcast). It does not open the 24-hour
    /// window. Sent without `messaging_type`, as in Meta's private-reply examples.
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; Meta answers `100/2534025` for a comment that cannot take one.
    pub async fn private_reply(
        &self,
        comment: &CommentId,
        message: &Message,
    ) -> Result<MessageSent, GraphError> {
        if comment.as_str().is_empty() {
            return Err(MessageError::Empty("comment id").into());
        }
        let mut body = Map::new();
        body.insert(
            "recipient".into(),
            json!({ "comment_id": comment.as_str() }),
        );
        body.insert("message".into(), message.to_json());
        self.post_message(body).await
    }

    /// Replies publicly under a comment (`POST /{comment-id}/replies`, form field
    /// `message`), returning the new comment's id.
    ///
    /// # Errors
    ///
    /// [`GraphError::Invalid`] for an empty text or a malformed comment id, or any other
    /// [`GraphError`]; [`GraphError::Decode`] when Meta answered 2xx without an id (the reply
    /// was made: do not resend).
    pub async fn reply_to_comment(
        &self,
        comment: &CommentId,
        text: &str,
    ) -> Result<CommentId, GraphError> {
        if text.is_empty() {
            return Err(MessageError::EmptyText.into());
        }
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("message", text)
            .finish();
        let request = Request {
            method: Method::POST,
            path: format!("{}/replies", node(comment.as_str(), "comment id")?),
            query: None,
            body: Body::Form(Bytes::from(form)),
            write: true,
        };
        let (status, body) = self.run(request).await?;
        decode_created_id(status, &body, "no id in the answer")
    }

    /// Reads a person's profile (`GET /{IGSID}?fields=` [`USER_PROFILE_FIELDS`]). Needs the
    /// person's consent: they messaged the business (or tapped an icebreaker).
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a profile object.
    pub async fn user_profile(&self, user: &UserId) -> Result<UserProfile, GraphError> {
        let request = Request {
            method: Method::GET,
            path: node(user.as_str(), "user id")?.to_owned(),
            query: Some(format!("fields={USER_PROFILE_FIELDS}")),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a user profile object")
    }

    /// Reads a comment (`GET /{comment-id}?fields=` [`COMMENT_FIELDS`]).
    ///
    /// # Errors
    ///
    /// Any [`GraphError`]; [`GraphError::Decode`] when the answer is not a comment object.
    pub async fn comment(&self, comment: &CommentId) -> Result<Comment, GraphError> {
        let request = Request {
            method: Method::GET,
            path: node(comment.as_str(), "comment id")?.to_owned(),
            query: Some(format!("fields={COMMENT_FIELDS}")),
            body: Body::Empty,
            write: false,
        };
        let (status, body) = self.run(request).await?;
        decode(status, &body, "a comment object")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_cannot_escape_the_path() {
        assert!(node("17841400000000000", "x").is_ok());
        assert!(node("me", "x").is_ok());
        for bad in [
            "",
            "../me",
            "1/2",
            "1?access_token=x",
            "1#f",
            "1%2F2",
            "1 2",
            "é",
        ] {
            assert_eq!(node(bad, "x"), Err(MessageError::InvalidId("x")), "{bad}");
        }
    }

    #[test]
    fn profile_is_lenient() {
        let p: UserProfile = serde_json::from_str(
            r#"{"name":null,"username":"ana","follower_count":"12","is_user_follow_business":true,"x":1}"#,
        )
        .unwrap();
        assert_eq!(p.name, None);
        assert_eq!(p.follower_count, Some(12));
        assert_eq!(p.is_user_follow_business, Some(true));
    }
}
