//! The fast parse: one serde pass that types every item in place.
//!
//! Almost every delivery Meta sends is well-formed. For those, one pass over the body
//! reads the envelope, the entries and every item straight into the typed model — no
//! `RawValue` capture and re-parse per item, no per-item error bookkeeping — and the raw
//! JSON of items is located lazily (see `raw.rs`). The first anomaly of any kind (a
//! syntax error, an entry or item that is not an object, an array that is not one, an id
//! of the wrong type, a duplicate key) makes this parse decline, and `from_slice` runs the
//! careful parse (`envelope.rs`), which reports or isolates it. Both produce the same
//! `Delivery` for a body this parse accepts; the fixture and unit tests run both paths.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::changes::{ChangeField, ChangeParts};
use super::envelope::{EntryKey, EntryTime, TopKey, seed};
use super::raw::{Array, Body};
use super::whatsapp::Fast;
use super::{
    AccountId, Change, Entry, ItemError, MessagingEvent, Object, RawJson, Spanned, lenient,
};

type Parsed = (Object, Vec<Result<Entry, ItemError>>);

/// Parses a well-formed delivery, or declines with `None`.
pub(super) fn parse(body: &Arc<Body>) -> Option<Parsed> {
    let mut de = serde_json::Deserializer::from_str(body.text());
    let parsed = TopSeed { body }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(parsed)
}

fn decline<E: de::Error>() -> E {
    E::custom("declined by the fast parse")
}

struct TopSeed<'b> {
    body: &'b Arc<Body>,
}

seed!([] TopSeed<'_> => Parsed, deserialize_map);

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a delivery object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut object = None;
        let mut entries = None;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Object if object.is_none() => {
                    // Borrowed when unescaped: a known object maps without allocating.
                    let name = map.next_value::<std::borrow::Cow<'de, str>>()?;
                    object = Some(Object::from_wire(&name));
                }
                TopKey::Entry if entries.is_none() => {
                    // Meta sends `object` first: a WhatsApp delivery's changes are then read
                    // in one pass.
                    let whatsapp = object == Some(Object::WhatsAppBusinessAccount);
                    entries = Some(map.next_value_seed(EntriesSeed {
                        body: self.body,
                        whatsapp,
                    })?);
                }
                TopKey::Object | TopKey::Entry => return Err(decline()),
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((object.ok_or_else(decline)?, entries.ok_or_else(decline)?))
    }
}

struct EntriesSeed<'b> {
    body: &'b Arc<Body>,
    whatsapp: bool,
}

seed!([] EntriesSeed<'_> => Vec<Result<Entry, ItemError>>, deserialize_seq);

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Vec<Result<Entry, ItemError>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(1));
        while let Some(entry) = seq.next_element_seed(EntrySeed {
            body: self.body,
            index: entries.len(),
            whatsapp: self.whatsapp,
        })? {
            entries.push(Ok(entry));
        }
        Ok(entries)
    }
}

struct EntrySeed<'b> {
    body: &'b Arc<Body>,
    index: usize,
    whatsapp: bool,
}

seed!([] EntrySeed<'_> => Entry, deserialize_map);

impl<'b> EntrySeed<'b> {
    fn items<T>(&self, array: Array) -> ItemsSeed<'b, T> {
        ItemsSeed {
            body: self.body,
            entry: self.index,
            array,
            whatsapp: self.whatsapp,
            kind: PhantomData,
        }
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut entry = Entry::default();
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<EntryKey>()? {
            let bit = match key {
                EntryKey::Id => 1,
                EntryKey::Time => 2,
                EntryKey::Messaging => 4,
                EntryKey::Standby => 8,
                EntryKey::Changes => 16,
                EntryKey::Other => 0,
            };
            if seen & bit != 0 {
                return Err(decline());
            }
            seen |= bit;
            match key {
                EntryKey::Id => entry.id = map.next_value::<Option<AccountId>>()?,
                EntryKey::Time => entry.time = map.next_value::<EntryTime>()?.0,
                EntryKey::Messaging => {
                    entry.messaging = map.next_value_seed(self.items(Array::Messaging))?
                }
                EntryKey::Standby => {
                    entry.standby = map.next_value_seed(self.items(Array::Standby))?
                }
                EntryKey::Changes => {
                    entry.changes = map.next_value_seed(self.items(Array::Changes))?
                }
                EntryKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(entry)
    }
}

/// How an item is typed in place.
trait FastItem: Sized {
    fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        at: &ItemSeed<'_, Self>,
    ) -> Result<Self, D::Error>;
}

impl FastItem for MessagingEvent {
    fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        _at: &ItemSeed<'_, Self>,
    ) -> Result<Self, D::Error> {
        <Self as Deserialize<'de>>::deserialize(d)
    }
}

impl FastItem for Change {
    fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        at: &ItemSeed<'_, Self>,
    ) -> Result<Self, D::Error> {
        if at.whatsapp {
            return d.deserialize_map(WhatsAppChange { at });
        }
        let parts = ChangeParts::deserialize(d)?;
        Self::from_parts(parts, at.body).map_err(|_| decline())
    }
}

/// The keys of a change item.
enum ChangeKey {
    Field,
    Value,
    Other,
}

impl<'de> Deserialize<'de> for ChangeKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ChangeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ChangeKey, E> {
                Ok(match v {
                    "field" => ChangeKey::Field,
                    "value" => ChangeKey::Value,
                    _ => ChangeKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// `changes[].field`, read as the careful parse reads it.
#[derive(Deserialize)]
struct Field(#[serde(deserialize_with = "lenient::wire")] Option<ChangeField>);

/// A JSON object read as `T`; any other JSON type is an error.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ObjectOnly<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A change of a WhatsApp delivery, read in one pass. Meta sends its `value` before its
/// `field`, so the value is read as a WhatsApp value before the field is known; its raw
/// JSON is located on first use. A value that turns out to need another reading (or is
/// not an object) declines.
struct WhatsAppChange<'a, 'b> {
    at: &'a ItemSeed<'b, Change>,
}

impl<'de> Visitor<'de> for WhatsAppChange<'_, '_> {
    type Value = Change;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a change object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Change, A::Error> {
        let mut field = None;
        let mut value = None;
        while let Some(key) = map.next_key::<ChangeKey>()? {
            match key {
                ChangeKey::Field if field.is_none() => {
                    field = Some(map.next_value::<Field>()?.0);
                }
                ChangeKey::Value if value.is_none() => {
                    value = Some(map.next_value::<Option<ObjectOnly<Fast>>>()?);
                }
                ChangeKey::Field | ChangeKey::Value => return Err(decline()),
                ChangeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let value = value.flatten().map(|ObjectOnly(value)| value);
        let body = self.at.body;
        let value_raw = value
            .is_some()
            .then(|| RawJson::change_value(body, self.at.entry, self.at.index));
        Change::from_whatsapp(field.flatten(), value, value_raw, body).ok_or_else(decline)
    }
}

struct ItemsSeed<'b, T> {
    body: &'b Arc<Body>,
    entry: usize,
    array: Array,
    whatsapp: bool,
    kind: PhantomData<T>,
}

seed!([T: FastItem] ItemsSeed<'_, T> => Vec<Result<Spanned<T>, ItemError>>, deserialize_option);

impl<'de, T: FastItem> Visitor<'de> for ItemsSeed<'_, T> {
    type Value = Vec<Result<Spanned<T>, ItemError>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1));
        while let Some(inner) = seq.next_element_seed(ItemSeed::<T> {
            body: self.body,
            entry: self.entry,
            index: items.len(),
            whatsapp: self.whatsapp,
            kind: PhantomData,
        })? {
            let raw = RawJson::item(self.body, self.entry, self.array, items.len());
            items.push(Ok(Spanned { inner, raw }));
        }
        Ok(items)
    }
}

/// Item `index` of an array of entry `entry`.
struct ItemSeed<'b, T> {
    body: &'b Arc<Body>,
    entry: usize,
    index: usize,
    /// Whether the delivery is WhatsApp's.
    whatsapp: bool,
    kind: PhantomData<T>,
}

impl<'de, T: FastItem> DeserializeSeed<'de> for ItemSeed<'_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d, &self)
    }
}
