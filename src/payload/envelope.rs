//! The careful parse: every anomaly a delivery can hold is recorded, not fatal.
//!
//! Used when the fast parse (`fast.rs`) declines a body. One serde pass reads the
//! envelope and the entries in place and captures each messaging/standby/changes item as
//! a borrowed `RawValue` that is typed right away on its own, so an invalid item becomes
//! an `ItemError` without failing the pass. The visitors never fail on a JSON type they
//! do not expect: they record it, and `parse` decides afterwards. The raw JSON of the rare
//! malformed entry-level values is recovered by `reextract`.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::raw::Body;
use super::{
    AccountId, Change, Entry, ItemError, ItemErrorKind, MessagingEvent, Object, ParseError,
    ParseErrorKind, RawJson, Spanned, Timestamp, lenient,
};

/// Parses `body` as a delivery, isolating every malformed item.
pub(super) fn parse(
    body: &Arc<Body>,
) -> Result<(Object, Vec<Result<Entry, ItemError>>), ParseError> {
    let mut de = serde_json::Deserializer::from_str(body.text());
    let top = TopSeed { body }
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
    Ok((object, resolve_entries(body, slots)))
}

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

/// `impl DeserializeSeed` for a seed that is its own visitor: `deserialize` hands the
/// deserializer the seed through `$method` (`deserialize_map`, `deserialize_any`, …).
/// Generic parameters besides `'de` go in the leading brackets.
macro_rules! seed {
    ([$($generics:tt)*] $seed:ty => $value:ty, $method:ident) => {
        impl<'de, $($generics)*> serde::de::DeserializeSeed<'de> for $seed {
            type Value = $value;

            fn deserialize<D: serde::de::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<$value, D::Error> {
                d.$method(self)
            }
        }
    };
}
pub(super) use seed;

/// The `visit_*` methods of a careful visitor for the JSON types it does not expect:
/// each consumes the value (draining arrays and objects) and returns `$value`, never an
/// error. Name the types to cover: `bool i64 u64 f64 str unit seq map`.
macro_rules! other_types {
    ($value:expr; $($kind:ident)+) => { $(other_types!(@$kind $value);)+ };
    (@bool $value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($value) }
    };
    (@i64 $value:expr) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@u64 $value:expr) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@f64 $value:expr) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@str $value:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($value) }
    };
    (@unit $value:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@seq $value:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok($value)
        }
    };
    (@map $value:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map)?;
            Ok($value)
        }
    };
}

/// Top-level keys we read, without allocating for the others.
pub(super) enum TopKey {
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
    body: &'b Arc<Body>,
}

seed!([] TopSeed<'_> => Top, deserialize_any);

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

    other_types!(Top::NotAnObject; bool i64 u64 f64 str unit seq);
}

struct ObjectSeed;

seed!([] ObjectSeed => Field<Object>, deserialize_any);

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Field<Object>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Valid(Object::from_wire(v)))
    }

    other_types!(Field::Invalid; bool i64 u64 f64 unit seq map);
}

struct EntriesSeed<'b> {
    body: &'b Arc<Body>,
}

seed!([] EntriesSeed<'_> => Field<Vec<EntrySlot>>, deserialize_any);

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

    other_types!(Field::Invalid; bool i64 u64 f64 str unit map);
}

pub(super) enum EntryKey {
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
    body: &'b Arc<Body>,
}

seed!([] EntrySeed<'_> => EntrySlot, deserialize_any);

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
            other_types!(EntryId(Field::Invalid); bool f64 seq map);
        }
        d.deserialize_any(V)
    }
}

pub(super) struct EntryTime(pub(super) Option<Timestamp>);

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

    other_types!(EntrySlot::NotAnObject; bool i64 u64 f64 str unit seq);
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
    fn parse(raw: &str, body: &Arc<Body>) -> Result<Self, serde_json::Error>;
}

impl ItemKind for MessagingEvent {
    const WHAT: &'static str = "messaging item";
    fn parse(raw: &str, _body: &Arc<Body>) -> Result<Self, serde_json::Error> {
        serde_json::from_str(raw)
    }
}

impl ItemKind for Change {
    const WHAT: &'static str = "changes item";
    fn parse(raw: &str, body: &Arc<Body>) -> Result<Self, serde_json::Error> {
        Change::parse(raw, body)
    }
}

fn parse_item<T: ItemKind>(raw: &str, body: &Arc<Body>) -> Result<Spanned<T>, ItemError> {
    let json = RawJson::slice_of(body, raw);
    if !raw.starts_with('{') {
        return Err(ItemError::new(
            ItemErrorKind::NotAnObject,
            format!("{} is not an object", T::WHAT),
            json,
        ));
    }
    match T::parse(raw, body) {
        Ok(inner) => Ok(Spanned { inner, raw: json }),
        Err(e) => Err(ItemError::new(
            ItemErrorKind::InvalidItem,
            format!("invalid {}: {e}", T::WHAT),
            json,
        )),
    }
}

struct ItemsSeed<'b, T> {
    body: &'b Arc<Body>,
    kind: std::marker::PhantomData<T>,
}

impl<'b, T> ItemsSeed<'b, T> {
    fn new(body: &'b Arc<Body>) -> Self {
        Self {
            body,
            kind: std::marker::PhantomData,
        }
    }
}

seed!([T: ItemKind] ItemsSeed<'_, T> => Field<Vec<Result<Spanned<T>, ItemError>>>, deserialize_any);

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

    other_types!(Field::Invalid; bool i64 u64 f64 str map);
}

/// Turns entry slots into entries, filling in the raw JSON of malformed entry-level values.
fn resolve_entries(body: &Arc<Body>, slots: Vec<EntrySlot>) -> Vec<Result<Entry, ItemError>> {
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
            EntrySlot::NotAnObject => Err(ItemError::new(
                ItemErrorKind::NotAnObject,
                "entry is not an object",
                raw_entry(index),
            )),
            EntrySlot::InvalidId => Err(ItemError::new(
                ItemErrorKind::InvalidEntryId,
                "entry.id is neither a string nor an integer",
                raw_entry(index),
            )),
            EntrySlot::Entry(PendingEntry {
                mut entry,
                not_arrays,
            }) => {
                for name in not_arrays {
                    let raw = raw_field(body, &raw_entry(index), name);
                    let error = ItemError::new(
                        ItemErrorKind::NotAnArray,
                        format!("{name} is not an array"),
                        raw,
                    );
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
fn reextract(body: &Arc<Body>) -> Vec<RawJson> {
    #[derive(Deserialize)]
    struct Entries<'a> {
        #[serde(borrow)]
        entry: Vec<&'a RawValue>,
    }
    // Duplicate `entry` keys fail here; the raw JSON then stays empty.
    serde_json::from_str::<Entries<'_>>(body.text())
        .map(|e| {
            e.entry
                .into_iter()
                .map(|raw| RawJson::slice_of(body, raw.get()))
                .collect()
        })
        .unwrap_or_default()
}

fn raw_field(body: &Arc<Body>, entry: &RawJson, name: &str) -> RawJson {
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
