//! Typed, owned model of webhook deliveries (spec §3–§5).
//!
//! [`Delivery::from_slice`] is the one entry point. It rejects a body as a whole only when
//! it cannot be a delivery at all ([`ParseError`], spec §7.2); anything narrower is
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
mod error;
mod ids;
pub(crate) mod lenient;
mod messaging;
mod time;
mod wire;

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

pub use changes::{
    Change, ChangeField, ChangeValue, Comment, CommentAuthor, CommentMedia, Mention, StoryInsights,
};
pub use error::{ParseError, ParseErrorKind};
pub use ids::{AccountId, AppId, CommentId, Igsid, MediaId, Mid, UserRef};
pub use messaging::{
    AdsContextData, AppRoles, Attachment, AttachmentPayload, AttachmentType, Command, Coordinates,
    DeliveryReceipt, Message, MessageEdit, MessagingEvent, Optin, Party, PassThreadControl,
    Postback, ProductRef, QuickReply, Reaction, ReactionAction, Read, Referral, ReplyTo,
    RequestThreadControl, StoryRef, TakeThreadControl,
};
pub use time::Timestamp;
use wire::wire_enum;

wire_enum! {
    /// The top-level `object`: which product the delivery is about.
    pub enum Object(
        /// Anything else (`whatsapp_business_account`, `user`, ...): parsed as an envelope
        /// whose changes keep their raw JSON.
        Other
    ) {
        /// `instagram`.
        Instagram = "instagram",
        /// `page` (Messenger; shares the messaging schema).
        Page = "page",
    }
}

/// A slice of the delivery body: the exact JSON text of one item or value.
///
/// Cheap to clone (it shares the body).
#[derive(Clone)]
pub struct RawJson {
    body: Arc<str>,
    span: Range<usize>,
}

impl RawJson {
    /// The whole of `text` (used for values not taken from a body).
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        let body: Arc<str> = text.into();
        let span = 0..body.len();
        Self { body, span }
    }

    /// `part`, which must be a sub-slice of `body`, as a span of it (empty if it is not).
    pub(crate) fn slice_of(body: &Arc<str>, part: &str) -> Self {
        let start = (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        let span = start..start.saturating_add(part.len());
        let span = if body.get(span.clone()).is_some() {
            span
        } else {
            0..0
        };
        Self {
            body: Arc::clone(body),
            span,
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.body.get(self.span.clone()).unwrap_or_default()
    }

    /// Byte offsets of this text within the delivery body.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

/// A parsed item together with its raw JSON. Dereferences to the item.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    value: T,
    raw: RawJson,
}

impl<T> Spanned<T> {
    /// The parsed item.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The parsed item, by value.
    pub fn into_inner(self) -> T {
        self.value
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

impl<T> Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// An item that could not be read (spec §7.2, "isolate per item"): a short reason and
/// the item's raw JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ItemError {
    reason: String,
    raw: RawJson,
}

impl ItemError {
    pub(crate) fn new(reason: impl Into<String>, raw: RawJson) -> Self {
        Self {
            reason: reason.into(),
            raw,
        }
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

/// A messaging or standby item: the event, or why it could not be read.
pub type MessagingItem = Result<Spanned<MessagingEvent>, ItemError>;

/// A changes item: the change, or why it could not be read.
pub type ChangeItem = Result<Spanned<Change>, ItemError>;

/// One `entry[]` object: the updates for one account (spec §3.2).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Entry {
    /// `id`: the IG professional account id or Page id (`"0"` in dashboard tests).
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

/// A parsed webhook delivery: `{"object": …, "entry": [...]}`.
///
/// Owned (`Send + Sync + 'static`); it shares one copy of the body with the raw JSON of
/// its items.
#[derive(Clone, Debug)]
pub struct Delivery {
    object: Object,
    entries: Vec<Result<Entry, ItemError>>,
    body: Arc<str>,
}

impl Delivery {
    /// Parses a request body.
    ///
    /// Call it on the exact bytes whose signature was verified.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] when the body cannot be a delivery at all: not UTF-8, not JSON
    /// (incl. truncated or empty), nested deeper than 128, top level not an object,
    /// `object` missing or not a string, `entry` missing or not an array. Everything
    /// narrower is reported per item (see the [module docs](self)).
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        let text =
            std::str::from_utf8(body).map_err(|_| ParseError::new(ParseErrorKind::NotUtf8))?;
        if depth::exceeds(body, depth::MAX_DEPTH) {
            return Err(ParseError::new(ParseErrorKind::TooDeep));
        }
        let body: Arc<str> = Arc::from(text);
        let mut de = serde_json::Deserializer::from_str(&body);
        let top = TopSeed { body: &body }
            .deserialize(&mut de)
            .and_then(|top| de.end().map(|()| top))
            .map_err(|e| ParseError::from_json(&e))?;
        let Top::Envelope { object, entries } = top else {
            return Err(ParseError::new(ParseErrorKind::NotAnObject));
        };
        let object = match object {
            Field::Missing => return Err(ParseError::new(ParseErrorKind::MissingObject)),
            Field::Invalid => return Err(ParseError::new(ParseErrorKind::InvalidObject)),
            Field::Valid(object) => object,
        };
        let slots = match entries {
            Field::Missing => return Err(ParseError::new(ParseErrorKind::MissingEntry)),
            Field::Invalid => return Err(ParseError::new(ParseErrorKind::InvalidEntry)),
            Field::Valid(slots) => slots,
        };
        let entries = resolve_entries(&body, slots);
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

    /// The body, as received.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Classifies every item into normalized events, in the spec's order; see
    /// [`crate::event::classify`].
    pub fn events(&self) -> Vec<Result<crate::event::Event, crate::event::EventError>> {
        crate::event::classify(self)
    }
}

// ---- envelope pass ------------------------------------------------------------------
//
// One serde pass over the body reads the envelope and the entries in place, and captures
// each messaging/standby/changes item as a borrowed `RawValue` that is typed right away on
// its own (so an invalid item becomes an `ItemError` without failing the pass). The
// visitors never fail on a JSON type they do not expect: they record it, and
// `from_slice` decides afterwards. The raw JSON of the rare malformed entry-level values
// is recovered by `reextract`.

enum Field<T> {
    Missing,
    Invalid,
    Valid(T),
}

enum Top {
    NotAnObject,
    Envelope {
        object: Field<Object>,
        entries: Field<Vec<EntrySlot>>,
    },
}

/// An entry as read in place; raw JSON for errors is filled in by `resolve_entries`.
enum EntrySlot {
    NotAnObject,
    InvalidId,
    Entry(PendingEntry),
}

#[derive(Default)]
struct PendingEntry {
    entry: Entry,
    /// Arrays (by name) that were present, non-null and not arrays.
    not_arrays: Vec<&'static str>,
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Top-level keys we read, without allocating for the others.
enum TopKey {
    Object,
    Entry,
    Other,
}

impl<'de> Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TopKey, E> {
                Ok(match v {
                    "object" => TopKey::Object,
                    "entry" => TopKey::Entry,
                    _ => TopKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

struct TopSeed<'b> {
    body: &'b Arc<str>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Top;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a delivery object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut object = Field::Missing;
        let mut entries = Field::Missing;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Object => object = map.next_value_seed(ObjectSeed)?,
                TopKey::Entry => entries = map.next_value_seed(EntriesSeed { body: self.body })?,
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Top::Envelope { object, entries })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::NotAnObject)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top, A::Error> {
        drain_seq(seq)?;
        Ok(Top::NotAnObject)
    }
}

struct ObjectSeed;

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Field<Object>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Field<Object>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Valid(Object::from_wire(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Field::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Field::Invalid)
    }
}

struct EntriesSeed<'b> {
    body: &'b Arc<str>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Field<Vec<EntrySlot>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Field<Vec<EntrySlot>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut slots = Vec::with_capacity(seq.size_hint().unwrap_or(1));
        while let Some(slot) = seq.next_element_seed(EntrySeed { body: self.body })? {
            slots.push(slot);
        }
        Ok(Field::Valid(slots))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Field::Invalid)
    }
}

enum EntryKey {
    Id,
    Time,
    Messaging,
    Standby,
    Changes,
    Other,
}

impl<'de> Deserialize<'de> for EntryKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EntryKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EntryKey, E> {
                Ok(match v {
                    "id" => EntryKey::Id,
                    "time" => EntryKey::Time,
                    "messaging" => EntryKey::Messaging,
                    "standby" => EntryKey::Standby,
                    "changes" => EntryKey::Changes,
                    _ => EntryKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

struct EntrySeed<'b> {
    body: &'b Arc<str>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = EntrySlot;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EntrySlot, D::Error> {
        d.deserialize_any(self)
    }
}

/// `entry.id`: absent/null, a valid id, or of another JSON type.
struct EntryId(Field<AccountId>);

impl<'de> Deserialize<'de> for EntryId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntryId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EntryId, E> {
                Ok(EntryId(Field::Valid(AccountId::new(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EntryId, E> {
                Ok(EntryId(Field::Valid(AccountId::new(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EntryId, E> {
                Ok(EntryId(Field::Valid(AccountId::new(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<EntryId, E> {
                Ok(EntryId(Field::Missing))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<EntryId, E> {
                Ok(EntryId(Field::Invalid))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<EntryId, E> {
                Ok(EntryId(Field::Invalid))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EntryId, A::Error> {
                drain_seq(seq)?;
                Ok(EntryId(Field::Invalid))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntryId, A::Error> {
                drain_map(map)?;
                Ok(EntryId(Field::Invalid))
            }
        }
        d.deserialize_any(V)
    }
}

struct EntryTime(Option<Timestamp>);

impl<'de> Deserialize<'de> for EntryTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::timestamp(d).map(EntryTime)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = EntrySlot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntrySlot, A::Error> {
        let mut pending = PendingEntry::default();
        let mut invalid_id = false;
        while let Some(key) = map.next_key::<EntryKey>()? {
            match key {
                EntryKey::Id => match map.next_value::<EntryId>()?.0 {
                    Field::Valid(id) => pending.entry.id = Some(id),
                    Field::Missing => pending.entry.id = None,
                    Field::Invalid => invalid_id = true,
                },
                EntryKey::Time => pending.entry.time = map.next_value::<EntryTime>()?.0,
                EntryKey::Messaging => {
                    let items = map.next_value_seed(ItemsSeed::<MessagingEvent>::new(self.body))?;
                    pending.store("messaging", items, |e| &mut e.messaging);
                }
                EntryKey::Standby => {
                    let items = map.next_value_seed(ItemsSeed::<MessagingEvent>::new(self.body))?;
                    pending.store("standby", items, |e| &mut e.standby);
                }
                EntryKey::Changes => {
                    let items = map.next_value_seed(ItemsSeed::<Change>::new(self.body))?;
                    pending.store("changes", items, |e| &mut e.changes);
                }
                EntryKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(if invalid_id {
            EntrySlot::InvalidId
        } else {
            EntrySlot::Entry(pending)
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<EntrySlot, E> {
        Ok(EntrySlot::NotAnObject)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EntrySlot, A::Error> {
        drain_seq(seq)?;
        Ok(EntrySlot::NotAnObject)
    }
}

impl PendingEntry {
    fn store<T>(
        &mut self,
        name: &'static str,
        items: Field<Vec<Result<Spanned<T>, ItemError>>>,
        slot: impl FnOnce(&mut Entry) -> &mut Vec<Result<Spanned<T>, ItemError>>,
    ) {
        let target = slot(&mut self.entry);
        self.not_arrays.retain(|n| *n != name);
        match items {
            Field::Valid(items) => *target = items,
            Field::Missing => target.clear(),
            Field::Invalid => {
                target.clear();
                self.not_arrays.push(name);
            }
        }
    }
}

/// How an item of `messaging`/`standby`/`changes` is typed from its raw JSON.
trait ItemKind: Sized {
    /// "messaging item", "changes item" — for reasons.
    const WHAT: &'static str;
    fn parse(raw: &str, body: &Arc<str>) -> Result<Self, serde_json::Error>;
}

impl ItemKind for MessagingEvent {
    const WHAT: &'static str = "messaging item";
    fn parse(raw: &str, _body: &Arc<str>) -> Result<Self, serde_json::Error> {
        serde_json::from_str(raw)
    }
}

impl ItemKind for Change {
    const WHAT: &'static str = "changes item";
    fn parse(raw: &str, body: &Arc<str>) -> Result<Self, serde_json::Error> {
        Change::parse(raw, body)
    }
}

fn parse_item<T: ItemKind>(raw: &str, body: &Arc<str>) -> Result<Spanned<T>, ItemError> {
    let json = RawJson::slice_of(body, raw);
    if !raw.starts_with('{') {
        return Err(ItemError::new(
            format!("{} is not an object", T::WHAT),
            json,
        ));
    }
    match T::parse(raw, body) {
        Ok(value) => Ok(Spanned { value, raw: json }),
        Err(e) => Err(ItemError::new(format!("invalid {}: {e}", T::WHAT), json)),
    }
}

struct ItemsSeed<'b, T> {
    body: &'b Arc<str>,
    kind: std::marker::PhantomData<T>,
}

impl<'b, T> ItemsSeed<'b, T> {
    fn new(body: &'b Arc<str>) -> Self {
        Self {
            body,
            kind: std::marker::PhantomData,
        }
    }
}

impl<'de, T: ItemKind> DeserializeSeed<'de> for ItemsSeed<'_, T> {
    type Value = Field<Vec<Result<Spanned<T>, ItemError>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: ItemKind> Visitor<'de> for ItemsSeed<'_, T> {
    type Value = Field<Vec<Result<Spanned<T>, ItemError>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            items.push(parse_item::<T>(raw.get(), self.body));
        }
        Ok(Field::Valid(items))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Missing)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Field::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Field::Invalid)
    }
}

/// Turns entry slots into entries, filling in the raw JSON of malformed entry-level values.
fn resolve_entries(body: &Arc<str>, slots: Vec<EntrySlot>) -> Vec<Result<Entry, ItemError>> {
    let needs_raw = slots.iter().any(|s| match s {
        EntrySlot::Entry(p) => !p.not_arrays.is_empty(),
        EntrySlot::NotAnObject | EntrySlot::InvalidId => true,
    });
    let raw_entries = if needs_raw {
        reextract(body)
    } else {
        Vec::new()
    };
    let raw_entry = |index: usize| {
        raw_entries
            .get(index)
            .cloned()
            .unwrap_or_else(|| RawJson::slice_of(body, ""))
    };
    slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| match slot {
            EntrySlot::NotAnObject => {
                Err(ItemError::new("entry is not an object", raw_entry(index)))
            }
            EntrySlot::InvalidId => Err(ItemError::new(
                "entry.id is neither a string nor an integer",
                raw_entry(index),
            )),
            EntrySlot::Entry(PendingEntry {
                mut entry,
                not_arrays,
            }) => {
                for name in not_arrays {
                    let raw = raw_field(body, &raw_entry(index), name);
                    let error = ItemError::new(format!("{name} is not an array"), raw);
                    match name {
                        "messaging" => entry.messaging = vec![Err(error)],
                        "standby" => entry.standby = vec![Err(error)],
                        _ => entry.changes = vec![Err(error)],
                    }
                }
                Ok(entry)
            }
        })
        .collect()
}

/// The raw JSON of every `entry[]` item (rare path: only for malformed entries). The
/// depth pre-scan already ran, so this cannot hit a recursion limit.
fn reextract(body: &Arc<str>) -> Vec<RawJson> {
    #[derive(Deserialize)]
    struct Entries<'a> {
        #[serde(borrow)]
        entry: Vec<&'a RawValue>,
    }
    // Duplicate `entry` keys fail here; the raw JSON then stays empty.
    serde_json::from_str::<Entries<'_>>(body)
        .map(|e| {
            e.entry
                .into_iter()
                .map(|raw| RawJson::slice_of(body, raw.get()))
                .collect()
        })
        .unwrap_or_default()
}

fn raw_field(body: &Arc<str>, entry: &RawJson, name: &str) -> RawJson {
    #[derive(Deserialize)]
    struct Fields<'a> {
        #[serde(borrow)]
        messaging: Option<&'a RawValue>,
        #[serde(borrow)]
        standby: Option<&'a RawValue>,
        #[serde(borrow)]
        changes: Option<&'a RawValue>,
    }
    let text = entry.as_str();
    let part = serde_json::from_str::<Fields<'_>>(text)
        .ok()
        .and_then(|f| match name {
            "messaging" => f.messaging,
            "standby" => f.standby,
            _ => f.changes,
        });
    match part {
        // Slice of `entry`, which is a slice of `body`.
        Some(raw) => RawJson::slice_of(body, raw.get()),
        None => entry.clone(),
    }
}

#[cfg(test)]
mod tests;
