//! Tolerant field deserializers: anything that is not one of the few per-item errors is
//! tolerated.
//!
//! Each function here is used with `#[serde(default, deserialize_with = "…")]` and never
//! fails on a JSON type it does not expect: the value is consumed and the field reads as
//! absent. Only JSON syntax errors (impossible after the envelope pass) and errors raised
//! by *strict* nested types (the ids the normalizer reads) propagate.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::time::Timestamp;

/// What a tolerant field does with each JSON type. Every method has a "not for me"
/// default; [`Lenient::fallback`] is what the field becomes then.
trait Lenient<'de>: Sized {
    fn fallback() -> Self;

    fn from_str(_v: &str) -> Option<Self> {
        None
    }

    fn from_string(v: String) -> Option<Self> {
        Self::from_str(&v)
    }

    fn from_u64(_v: u64) -> Option<Self> {
        None
    }

    fn from_i64(_v: i64) -> Option<Self> {
        None
    }

    fn from_f64(_v: f64) -> Option<Self> {
        None
    }

    fn from_bool(_v: bool) -> Option<Self> {
        None
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::fallback())
    }

    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::fallback())
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::from_bool(v).unwrap_or_else(T::fallback))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from_i64(v).unwrap_or_else(T::fallback))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::from_u64(v).unwrap_or_else(T::fallback))
    }

    fn visit_i128<E: de::Error>(self, _v: i128) -> Result<T, E> {
        Ok(T::fallback())
    }

    fn visit_u128<E: de::Error>(self, _v: u128) -> Result<T, E> {
        Ok(T::fallback())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::from_f64(v).unwrap_or_else(T::fallback))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_str(v).unwrap_or_else(T::fallback))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::from_string(v).unwrap_or_else(T::fallback))
    }

    fn visit_bytes<E: de::Error>(self, _v: &[u8]) -> Result<T, E> {
        Ok(T::fallback())
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::fallback())
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::fallback())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

fn lenient<'de, D: Deserializer<'de>, T: Lenient<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(LenientVisitor(PhantomData))
}

// ---- strings ------------------------------------------------------------------------

struct Str(Option<String>);

impl Lenient<'_> for Str {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(Self(Some(v.to_owned())))
    }
    fn from_string(v: String) -> Option<Self> {
        Some(Self(Some(v)))
    }
}

/// A JSON string, else absent.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    lenient::<D, Str>(d).map(|s| s.0)
}

struct Parsed<T>(Option<T>);

impl<T: From<String>> Lenient<'_> for Parsed<T> {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(Self(Some(T::from(v.to_owned()))))
    }
    fn from_string(v: String) -> Option<Self> {
        Some(Self(Some(T::from(v))))
    }
}

/// A JSON string converted into a lossless wire enum, else absent.
pub(crate) fn wire<'de, D: Deserializer<'de>, T: From<String>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    lenient::<D, Parsed<T>>(d).map(|s| s.0)
}

// ---- ids ----------------------------------------------------------------------------

struct LenientId<T>(Option<T>);

impl<T: From<String>> Lenient<'_> for LenientId<T> {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(Self(Some(T::from(v.to_owned()))))
    }
    fn from_string(v: String) -> Option<Self> {
        Some(Self(Some(T::from(v))))
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(Self(Some(T::from(v.to_string()))))
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(Self(Some(T::from(v.to_string()))))
    }
}

/// An id the normalizer does not read: string or integer, anything else reads as absent.
pub(crate) fn id<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    lenient::<D, LenientId<T>>(d).map(|s| s.0)
}

struct Ids<T>(Vec<T>);

impl<'de, T: From<String>> Lenient<'de> for Ids<T> {
    fn fallback() -> Self {
        Self(Vec::new())
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(LenientId(id)) = seq.next_element_seed(Seed::<LenientId<T>>::new())? {
            out.extend(id);
        }
        Ok(Self(out))
    }
}

/// An array of ids; elements of other types are skipped, a non-array reads as empty.
pub(crate) fn ids<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Vec<T>, D::Error> {
    lenient::<D, Ids<T>>(d).map(|s| s.0)
}

// ---- flags and numbers --------------------------------------------------------------

struct Flag(bool);

impl Lenient<'_> for Flag {
    fn fallback() -> Self {
        Self(false)
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(Self(v))
    }
}

/// `true` only for JSON `true` (the precedence compares with `== true`).
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    lenient::<D, Flag>(d).map(|s| s.0)
}

struct Bool(Option<bool>);

impl Lenient<'_> for Bool {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(Self(Some(v)))
    }
}

/// A JSON `true` or `false`, else absent (where absent and `false` differ, e.g.
/// `pricing.billable`).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    lenient::<D, Bool>(d).map(|s| s.0)
}

struct Uint(Option<u64>);

impl Lenient<'_> for Uint {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(Self(Some(v)))
    }
    fn from_str(v: &str) -> Option<Self> {
        v.parse().ok().map(|v| Self(Some(v)))
    }
}

/// A non-negative integer, as a JSON number or a numeric string (`num_edit`, watermarks).
pub(crate) fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient::<D, Uint>(d).map(|s| s.0)
}

struct Int(Option<i64>);

impl Lenient<'_> for Int {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(Self(Some(v)))
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok().map(|v| Self(Some(v)))
    }
    fn from_str(v: &str) -> Option<Self> {
        v.parse().ok().map(|v| Self(Some(v)))
    }
}

/// A signed integer, as a JSON number or a numeric string (insight counts, `-1`).
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient::<D, Int>(d).map(|s| s.0)
}

struct Float(Option<f64>);

impl Lenient<'_> for Float {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(Self(Some(v)))
    }
    #[allow(clippy::cast_precision_loss, reason = "coordinates are small")]
    fn from_i64(v: i64) -> Option<Self> {
        Some(Self(Some(v as f64)))
    }
    #[allow(clippy::cast_precision_loss, reason = "coordinates are small")]
    fn from_u64(v: u64) -> Option<Self> {
        Some(Self(Some(v as f64)))
    }
    fn from_str(v: &str) -> Option<Self> {
        v.parse().ok().map(|v| Self(Some(v)))
    }
}

/// A JSON number (or numeric string) as `f64` (coordinates).
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    lenient::<D, Float>(d).map(|s| s.0)
}

struct Ts(Option<Timestamp>);

impl Lenient<'_> for Ts {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(Self(Some(Timestamp::from_wire(v))))
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok().and_then(Self::from_u64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Timestamp::from_wire_f64(v).map(|t| Self(Some(t)))
    }
    fn from_str(v: &str) -> Option<Self> {
        Timestamp::from_wire_str(v).map(|t| Self(Some(t)))
    }
}

/// `time` / `timestamp`: integer or numeric string, seconds or milliseconds.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    lenient::<D, Ts>(d).map(|s| s.0)
}

// ---- objects and arrays -------------------------------------------------------------

struct Object<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Lenient<'de> for Object<T> {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(|t| Self(Some(t)))
    }
}

/// A JSON object typed as `T`, anything else reads as absent. Errors raised by `T` itself
/// (a strict id inside it) propagate, so the item they belong to is isolated.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    lenient::<D, Object<T>>(d).map(|s| s.0)
}

struct ObjectOrDefault<T>(T);

impl<'de, T: Deserialize<'de> + Default> Lenient<'de> for ObjectOrDefault<T> {
    fn fallback() -> Self {
        Self(T::default())
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Self)
    }
}

struct Objects<T>(Vec<T>);

impl<'de, T: Deserialize<'de> + Default> Lenient<'de> for Objects<T> {
    fn fallback() -> Self {
        Self(Vec::new())
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(ObjectOrDefault(t)) =
            seq.next_element_seed(Seed::<ObjectOrDefault<T>>::new())?
        {
            out.push(t);
        }
        Ok(Self(out))
    }
}

/// An array of objects; an element that is not an object becomes `T::default()` (so the
/// array keeps its length: "attachments is a non-empty array" still holds), a non-array
/// reads as empty.
pub(crate) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    lenient::<D, Objects<T>>(d).map(|s| s.0)
}

struct Strings(Vec<String>);

impl<'de> Lenient<'de> for Strings {
    fn fallback() -> Self {
        Self(Vec::new())
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(Str(s)) = seq.next_element_seed(Seed::<Str>::new())? {
            out.extend(s);
        }
        Ok(Self(out))
    }
}

struct StringMap<K>(Option<BTreeMap<K, Vec<String>>>);

impl<'de, K: From<String> + Ord> Lenient<'de> for StringMap<K> {
    fn fallback() -> Self {
        Self(None)
    }
    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strings(values) = map.next_value_seed(Seed::<Strings>::new())?;
            out.insert(K::from(key), values);
        }
        Ok(Self(Some(out)))
    }
}

/// An object whose values are arrays of strings (`app_roles`); anything else is absent.
pub(crate) fn string_lists<'de, D: Deserializer<'de>, K: From<String> + Ord>(
    d: D,
) -> Result<Option<BTreeMap<K, Vec<String>>>, D::Error> {
    lenient::<D, StringMap<K>>(d).map(|s| s.0)
}

/// `DeserializeSeed` for a [`Lenient`] type, for elements and map values.
struct Seed<T>(PhantomData<T>);

impl<T> Seed<T> {
    fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: Lenient<'de>> de::DeserializeSeed<'de> for Seed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        lenient(d)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::payload::MessageId;

    #[derive(Debug, Default, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "flag")]
        f: bool,
        #[serde(default, deserialize_with = "uint")]
        u: Option<u64>,
        #[serde(default, deserialize_with = "int")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "id")]
        id: Option<MessageId>,
        #[serde(default, deserialize_with = "ids")]
        ids: Vec<MessageId>,
        #[serde(default, deserialize_with = "object")]
        o: Option<Box<Probe>>,
        #[serde(default, deserialize_with = "objects")]
        os: Vec<Probe>,
        #[serde(default, deserialize_with = "timestamp")]
        t: Option<Timestamp>,
        #[serde(default, deserialize_with = "string_lists")]
        m: Option<BTreeMap<String, Vec<String>>>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_wrong_type_reads_as_absent() {
        for wrong in [
            "null",
            "true",
            "1.5",
            "-3",
            "\"x\"",
            "[1,[2]]",
            r#"{"a":{"b":[]}}"#,
        ] {
            let json = format!(
                r#"{{"s":{wrong},"f":{wrong},"u":{wrong},"i":{wrong},"o":{wrong},"os":{wrong},"t":{wrong},"m":{wrong},"extra":{wrong}}}"#
            );
            let p = probe(&json);
            assert!(p.s.is_none() || wrong == "\"x\"", "{wrong}");
            assert_eq!(p.f, wrong == "true", "{wrong}");
            assert_eq!(p.o.is_some(), wrong.starts_with('{'), "{wrong}");
        }
    }

    #[test]
    fn accepted_shapes() {
        let p = probe(
            r#"{"s":"a\u00e4","f":true,"u":"7","i":-1,"id":17,"ids":["a",2,null,true],
                "o":{"s":"inner"},"os":[{"s":"x"},5],"t":"1527459824",
                "m":{"263902037430900":["primary_receiver",3]}}"#,
        );
        assert_eq!(p.s.as_deref(), Some("aä"));
        assert!(p.f);
        assert_eq!(p.u, Some(7));
        assert_eq!(p.i, Some(-1));
        assert_eq!(p.id.unwrap(), "17");
        assert_eq!(p.ids, vec![MessageId::new("a"), MessageId::new("2")]);
        assert_eq!(p.o.unwrap().s.as_deref(), Some("inner"));
        assert_eq!(p.os.len(), 2);
        assert_eq!(p.os[0].s.as_deref(), Some("x"));
        assert!(p.os[1].s.is_none());
        assert_eq!(p.t.unwrap().as_millis(), 1_527_459_824_000);
        assert_eq!(
            p.m.unwrap()["263902037430900"],
            vec!["primary_receiver".to_owned()]
        );
    }

    #[test]
    fn strings_that_are_not_numbers_are_absent() {
        let p = probe(r#"{"u":"x","i":"1.5","t":"2026-01-31T12:00:00Z"}"#);
        assert!(p.u.is_none());
        assert!(p.i.is_none());
        assert!(p.t.is_none());
    }
}
