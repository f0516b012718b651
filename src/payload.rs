//! Typed, owned model of webhook deliveries: the envelope, messaging and standby events,
//! and changes.
//!
//! [`Delivery::from_slice`] is the one entry point. It rejects a body as a whole only when
//! it cannot be a delivery at all ([`ParseError`]); anything narrower is
//! isolated: an `entry` item that is not an object, a `messaging`/`standby`/`changes`
//! that is not an array, an item that is not an object, or an id the normalizer reads of
//! the wrong JSON type becomes an [`ItemError`] in its place — carrying a short reason
//! and the item's raw JSON — while every neighbour parses as usual.
//!
//! Lossless and forward compatible: unknown keys are ignored, unknown attachment types,
//! change fields and `object`s are kept verbatim, and every item keeps its raw JSON
//! ([`Spanned::raw`]), so payload kinds this version does not model lose nothing.
//!
//! ```
//! use meta_webhooks::payload::{Delivery, Object};
//!
//! let body = br#"{"object":"instagram","entry":[{"id":"17841405793187218","time":1769870412731,
//!   "messaging":[{"sender":{"id":"6934581207719432"},"recipient":{"id":"17841405793187218"},
//!                 "timestamp":1769870412000,"message":{"mid":"aWdf","text":"hi"}}, 42]}]}"#;
//! let delivery = Delivery::from_slice(body)?;
//! assert_eq!(delivery.object(), &Object::Instagram);
//!
//! let entry = delivery.entries()[0].as_ref().expect("entry is an object");
//! let first = entry.messaging[0].as_ref().expect("a valid event");
//! assert_eq!(first.message.as_ref().and_then(|m| m.text.as_deref()), Some("hi"));
//! assert!(first.raw().starts_with(r#"{"sender""#));
//!
//! // The malformed neighbour is isolated, with its raw JSON.
//! let bad = entry.messaging[1].as_ref().unwrap_err();
//! assert_eq!(bad.raw(), "42");
//! # Ok::<(), meta_webhooks::ParseError>(())
//! ```
//!
//! Depth: nesting up to 128 levels is accepted anywhere (also inside unknown fields);
//! deeper bodies, including 100 000-deep bombs, are rejected with
//! [`ParseErrorKind::TooDeep`] in linear time and constant stack.

mod changes;
mod depth;
mod envelope;
mod error;
mod fast;
mod ids;
pub(crate) mod lenient;
mod messaging;
mod raw;
mod time;
pub mod whatsapp;
mod wire;

use std::ops::Deref;
use std::sync::Arc;

pub use changes::{
    Change, ChangeField, ChangeValue, Comment, CommentAuthor, CommentMedia, FeedAuthor, FeedChange,
    FeedItem, FeedVerb, Mention, StoryInsights,
};
pub use error::{ParseError, ParseErrorKind};
pub use ids::{
    AccountId, AppId, CommentId, MediaId, MessageId, PostId, ProductId, UserId, UserRef,
};
pub use messaging::{
    AccountLinking, AccountLinkingStatus, AdsContextData, AppRoles, Attachment, AttachmentPayload,
    AttachmentType, Command, Coordinates, DeliveryReceipt, Message, MessageEdit, MessagingEvent,
    Optin, Party, PassThreadControl, PolicyAction, PolicyEnforcement, Postback, ProductElement,
    ProductRef, ProductTemplate, QuickReply, Reaction, ReactionAction, Read, Referral, ReplyTo,
    RequestThreadControl, StoryRef, TakeThreadControl,
};
use raw::Body;
pub use raw::RawJson;
pub use time::Timestamp;
pub use whatsapp::{
    Contact, Metadata, Status, StatusKind, WaError, WaMessage, WaMessageType, WhatsAppValue,
};
use wire::wire_enum;

wire_enum! {
    /// The top-level `object`: which product the delivery is about.
    pub enum Object(
        /// Anything else (`user`, `permissions`, ...): parsed as an envelope whose
        /// changes keep their raw JSON.
        Other
    ) {
        /// `instagram`.
        Instagram = "instagram",
        /// `page` (Messenger; shares the messaging schema).
        Page = "page",
        /// `whatsapp_business_account` (WhatsApp Cloud API; see [`whatsapp`]).
        WhatsAppBusinessAccount = "whatsapp_business_account",
    }
}

/// A parsed item together with its raw JSON. Dereferences to the item.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    inner: T,
    raw: RawJson,
}

impl<T> Spanned<T> {
    /// The parsed item.
    pub fn get(&self) -> &T {
        &self.inner
    }

    /// The parsed item, by value.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The item's JSON exactly as received.
    ///
    /// Items of well-formed deliveries are located on first use: the first call on any
    /// item of a delivery makes one skimming pass over the body, later calls are free.
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The item's JSON as a shareable [`RawJson`].
    pub fn raw_json(&self) -> &RawJson {
        &self.raw
    }

    /// The item and its raw JSON, taken apart.
    pub(crate) fn into_parts(self) -> (T, RawJson) {
        (self.inner, self.raw)
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

/// An item that could not be read, isolated in its place so that its neighbours still
/// parse: its [`kind`](Self::kind), a short reason and the item's raw JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ItemError {
    kind: ItemErrorKind,
    reason: String,
    raw: RawJson,
}

impl ItemError {
    pub(crate) fn new(kind: ItemErrorKind, reason: impl Into<String>, raw: RawJson) -> Self {
        Self {
            kind,
            reason: reason.into(),
            raw,
        }
    }

    /// What was wrong with the item, to branch on and to log.
    pub fn kind(&self) -> ItemErrorKind {
        self.kind
    }

    /// Why the item was rejected, e.g. `"entry is not an object"`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The item's JSON exactly as received.
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The item's JSON as a shareable [`RawJson`].
    pub fn raw_json(&self) -> &RawJson {
        &self.raw
    }
}

/// Why an item of a delivery could not be read: the kind of an [`ItemError`] (and of an
/// error item of a classified delivery). `Copy`, with a stable name for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemErrorKind {
    /// An `entry[]` item, or an item of `messaging`/`standby`/`changes`, is not a JSON object.
    NotAnObject,
    /// `messaging`, `standby` or `changes` is present but not an array.
    NotAnArray,
    /// `entry[].id` is neither a string nor an integer.
    InvalidEntryId,
    /// The item is an object, but a field the model reads has the wrong JSON type (e.g. a
    /// `sender.id` that is `true`).
    InvalidItem,
}

impl ItemErrorKind {
    /// `"not_an_object"`, `"not_an_array"`, `"invalid_entry_id"` or `"invalid_item"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAnObject => "not_an_object",
            Self::NotAnArray => "not_an_array",
            Self::InvalidEntryId => "invalid_entry_id",
            Self::InvalidItem => "invalid_item",
        }
    }
}

impl std::fmt::Display for ItemErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A messaging or standby item: the event, or why it could not be read.
pub type MessagingItem = Result<Spanned<MessagingEvent>, ItemError>;

/// A changes item: the change, or why it could not be read.
pub type ChangeItem = Result<Spanned<Change>, ItemError>;

/// One `entry[]` object: the updates for one account.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Entry {
    /// `id`: the IG professional account id, the Page id or the WhatsApp Business
    /// Account id (`"0"` in dashboard tests).
    pub id: Option<AccountId>,
    /// `time`: when Meta sent it (normalized to milliseconds).
    pub time: Option<Timestamp>,
    /// `messaging[]`, in order. A `messaging` that is not an array is one error item.
    pub messaging: Vec<MessagingItem>,
    /// `standby[]`, in order (threads this app does not own).
    pub standby: Vec<MessagingItem>,
    /// `changes[]`, in order.
    pub changes: Vec<ChangeItem>,
}

/// The UTF-8 encoding of U+FEFF, the byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A parsed webhook delivery: `{"object": …, "entry": [...]}`.
///
/// Owned (`Send + Sync + 'static`); it shares one copy of the body with the raw JSON of
/// its items.
#[derive(Clone, Debug)]
pub struct Delivery {
    object: Object,
    entries: Vec<Result<Entry, ItemError>>,
    body: Arc<Body>,
}

impl Delivery {
    /// Parses a request body.
    ///
    /// Call it on the exact bytes whose signature was verified.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] when the body cannot be a delivery at all: not UTF-8, not JSON
    /// (incl. truncated or empty, or starting with a UTF-8 byte-order mark, which JSON
    /// sent over a network must not carry), nested deeper than 128, top level not an
    /// object, `object` missing or not a string, `entry` missing or not an array.
    /// Everything narrower is reported per item (see the [module docs](self)).
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        if body.starts_with(UTF8_BOM) {
            return Err(ParseError::byte_order_mark());
        }
        let text =
            std::str::from_utf8(body).map_err(|_| ParseError::new(ParseErrorKind::NotUtf8))?;
        if depth::exceeds(body, depth::MAX_DEPTH) {
            return Err(ParseError::new(ParseErrorKind::TooDeep));
        }
        let body = Body::new(text);
        let (object, entries) = match fast::parse(&body) {
            Some(parsed) => parsed,
            None => envelope::parse(&body)?,
        };
        Ok(Self {
            object,
            entries,
            body,
        })
    }

    /// The top-level `object`.
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// `entry[]`, in order; an item that is not an object (or has an invalid `id`) is an
    /// [`ItemError`] in its place.
    pub fn entries(&self) -> &[Result<Entry, ItemError>] {
        &self.entries
    }

    /// The entries, taken out (for a classification that consumes the delivery).
    pub(crate) fn into_entries(self) -> std::vec::IntoIter<Result<Entry, ItemError>> {
        self.entries.into_iter()
    }

    /// The body, as received.
    pub fn body(&self) -> &str {
        self.body.text()
    }
}

#[cfg(test)]
mod tests;
