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

use super::changes::ChangeParts;
use super::envelope::{EntryKey, EntryTime, TopKey, seed};
use super::raw::{Array, Body};
use super::{AccountId, Change, Entry, ItemError, MessagingEvent, Object, RawJson, Spanned};

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
                    entries = Some(map.next_value_seed(EntriesSeed { body: self.body })?);
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
        })? {
            entries.push(Ok(entry));
        }
        Ok(entries)
    }
}

struct EntrySeed<'b> {
    body: &'b Arc<Body>,
    index: usize,
}

seed!([] EntrySeed<'_> => Entry, deserialize_map);

impl<'b> EntrySeed<'b> {
    fn items<T>(&self, array: Array) -> ItemsSeed<'b, T> {
        ItemsSeed {
            body: self.body,
            entry: self.index,
            array,
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
    fn deserialize<'de, D: Deserializer<'de>>(d: D, body: &Arc<Body>) -> Result<Self, D::Error>;
}

impl FastItem for MessagingEvent {
    fn deserialize<'de, D: Deserializer<'de>>(d: D, _body: &Arc<Body>) -> Result<Self, D::Error> {
        <Self as Deserialize<'de>>::deserialize(d)
    }
}

impl FastItem for Change {
    fn deserialize<'de, D: Deserializer<'de>>(d: D, body: &Arc<Body>) -> Result<Self, D::Error> {
        let parts = ChangeParts::deserialize(d)?;
        Self::from_parts(parts, body).map_err(|_| decline())
    }
}

struct ItemsSeed<'b, T> {
    body: &'b Arc<Body>,
    entry: usize,
    array: Array,
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
            kind: PhantomData,
        })? {
            let raw = RawJson::item(self.body, self.entry, self.array, items.len());
            items.push(Ok(Spanned { inner, raw }));
        }
        Ok(items)
    }
}

struct ItemSeed<'b, T> {
    body: &'b Arc<Body>,
    kind: PhantomData<T>,
}

impl<'de, T: FastItem> DeserializeSeed<'de> for ItemSeed<'_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d, self.body)
    }
}
