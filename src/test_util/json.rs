//! A small ordered JSON tree with placeholders, written the way Meta writes its bodies.
//!
//! `serde_json::Value` sorts object keys; Meta's bodies keep their own order (`object`
//! before `entry`, `sender` before `message`, `mid` first in a message). This tree keeps
//! insertion order, holds [`Auto`] placeholders that the delivery fills in when it is
//! built, and writes strings with Meta's escaping (`\/`, non-ASCII as lowercase `\uXXXX`)
//! or as plain UTF-8.

use std::fmt::Write as _;

use serde_json::Value;

/// A value filled in when the delivery is built, from the delivery's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auto {
    /// The entry's account id.
    Account,
    /// The delivery's default person.
    User,
    /// A message id unique in the delivery.
    Mid,
    /// The item's timestamp, in milliseconds.
    TimestampMs,
    /// A comment id unique in the delivery.
    CommentId,
    /// The default media id.
    MediaId,
    /// The default story id.
    StoryId,
    /// A WhatsApp message id (`wamid.…`) unique in the delivery: the item's place in the
    /// delivery and this ordinal within its WhatsApp value.
    Wamid(u16),
    /// The item's timestamp in seconds, as a string (WhatsApp).
    TimestampSecs,
}

/// A JSON value whose objects keep their key order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Value(Value),
    Object(Object),
    Array(Vec<Json>),
    Auto(Auto),
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Self::Value(value)
    }
}

impl From<Object> for Json {
    fn from(object: Object) -> Self {
        Self::Object(object)
    }
}

impl From<Auto> for Json {
    fn from(auto: Auto) -> Self {
        Self::Auto(auto)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Self::Value(Value::String(s.to_owned()))
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Self::Value(Value::String(s))
    }
}

impl Json {
    /// This value as an object: a JSON object value is adopted (keys in its order), any
    /// other value is replaced by an empty object.
    pub(crate) fn as_object_mut(&mut self) -> &mut Object {
        if !matches!(self, Json::Object(_)) {
            *self = match std::mem::replace(self, Json::Object(Object::new())) {
                Json::Value(Value::Object(map)) => Json::Object(Object(
                    map.into_iter().map(|(k, v)| (k, Json::Value(v))).collect(),
                )),
                _ => Json::Object(Object::new()),
            };
        }
        match self {
            Json::Object(object) => object,
            _ => unreachable!("made an object above"),
        }
    }
}

/// A JSON object in insertion order; setting an existing key replaces it in place.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Object(Vec<(String, Json)>);

impl Object {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }

    /// `self` with `key` set (builder style).
    pub(crate) fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.set(key, value);
        self
    }

    pub(crate) fn set(&mut self, key: &str, value: impl Into<Json>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    /// The object under `key`, created (at the end) when missing; a value there that is
    /// not an object is replaced by an empty one.
    pub(crate) fn object_mut(&mut self, key: &str) -> &mut Object {
        let index = match self.0.iter().position(|(k, _)| k == key) {
            Some(index) => index,
            None => {
                self.0.push((key.to_owned(), Json::Object(Object::new())));
                self.0.len() - 1
            }
        };
        match self.0.get_mut(index) {
            Some((_, slot)) => slot.as_object_mut(),
            None => unreachable!("index found or pushed above"),
        }
    }

    /// `self` with every key of `other` set, in `other`'s order.
    pub(crate) fn merged(mut self, other: Object) -> Self {
        for (key, value) in other.0 {
            self.set(&key, value);
        }
        self
    }

    /// `self` with `key` inserted right after `from` (or first): where Meta puts a WhatsApp
    /// message's `id`.
    pub(crate) fn inserted_after_from(mut self, key: &str, value: impl Into<Json>) -> Self {
        let at = self
            .0
            .iter()
            .position(|(k, _)| k == "from")
            .map_or(0, |i| i + 1);
        self.0.insert(at, (key.to_owned(), value.into()));
        self
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// How strings are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escaping {
    /// Meta's: `/` as `\/`, every non-ASCII character as lowercase `\uXXXX` (surrogate
    /// pairs above the BMP).
    Meta,
    /// Plain UTF-8, `/` unescaped (what `serde_json` writes).
    Utf8,
}

/// Writes `json` to `out`, each placeholder replaced by `fill`.
pub(crate) fn write(
    out: &mut String,
    json: &Json,
    escaping: Escaping,
    fill: &dyn Fn(Auto) -> Value,
) {
    match json {
        Json::Value(value) => write_value(out, value, escaping),
        Json::Auto(auto) => write_value(out, &fill(*auto), escaping),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item, escaping, fill);
            }
            out.push(']');
        }
        Json::Object(object) => {
            out.push('{');
            for (i, (key, value)) in object.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, key, escaping);
                out.push(':');
                write(out, value, escaping, fill);
            }
            out.push('}');
        }
    }
}

fn write_value(out: &mut String, value: &Value, escaping: Escaping) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(out, s, escaping),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, escaping);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, key, escaping);
                out.push(':');
                write_value(out, value, escaping);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str, escaping: Escaping) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if escaping == Escaping::Meta => out.push_str("\\/"),
            c if u32::from(c) < 0x20 || (escaping == Escaping::Meta && !c.is_ascii()) => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(json: &Json, escaping: Escaping) -> String {
        let mut out = String::new();
        write(&mut out, json, escaping, &|_| Value::from("filled"));
        out
    }

    #[test]
    fn keeps_insertion_order_and_replaces_in_place() {
        let mut object = Object::new().with("b", "1").with("a", json!(2));
        object.set("b", Auto::User);
        object.object_mut("c").set("z", json!(null));
        assert_eq!(
            render(&object.into(), Escaping::Meta),
            r#"{"b":"filled","a":2,"c":{"z":null}}"#
        );
    }

    #[test]
    fn meta_escaping_round_trips_through_serde_json() {
        let text = "a/b \"q\" \\ \n\t\u{1} ä 😀 \u{200f}";
        let meta = render(&Json::from(text), Escaping::Meta);
        assert_eq!(
            meta,
            r#""a\/b \"q\" \\ \n\t\u0001 \u00e4 \ud83d\ude00 \u200f""#
        );
        assert!(meta.is_ascii());
        let utf8 = render(&Json::from(text), Escaping::Utf8);
        for rendered in [meta, utf8] {
            let back: String = serde_json::from_str(&rendered).unwrap_or_default();
            assert_eq!(back, text);
        }
    }

    #[test]
    fn object_mut_adopts_a_value_object() {
        let mut object = Object::new().with("m", json!({"x": 1}));
        object.object_mut("m").set("y", json!(2));
        assert_eq!(
            render(&object.into(), Escaping::Utf8),
            r#"{"m":{"x":1,"y":2}}"#
        );
    }
}
