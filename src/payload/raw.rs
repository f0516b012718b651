//! Raw JSON of items: byte-exact slices of the one shared copy of the body.
//!
//! The fast parse (see `fast.rs`) types items in place and does not know where they
//! start and end; their spans are found on first use by one borrowed-`RawValue` pass over
//! the body, shared by all items of the delivery. The careful parse knows its spans.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::value::RawValue;

/// Which array of an entry an item is in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Array {
    Messaging = 0,
    Standby = 1,
    Changes = 2,
}

/// Spans of every item, per entry, per [`Array`].
type ItemSpans = Vec<[Vec<Range<usize>>; 3]>;

/// The body of a delivery, shared by everything parsed from it.
#[derive(Debug)]
pub(crate) struct Body {
    text: Box<str>,
    spans: OnceLock<ItemSpans>,
    /// Spans of the `value` of every change, per entry.
    values: OnceLock<Vec<Vec<Range<usize>>>>,
}

impl Body {
    pub(crate) fn new(text: &str) -> Arc<Self> {
        Arc::new(Self {
            text: text.into(),
            spans: OnceLock::new(),
            values: OnceLock::new(),
        })
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The offsets of `part`, which must be a sub-slice of the body (`0..0` if it is not).
    fn offsets(&self, part: &str) -> Range<usize> {
        let start = (part.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let span = start..start.saturating_add(part.len());
        if self.text.get(span.clone()).is_some() {
            span
        } else {
            0..0
        }
    }

    /// The `value` of change `index` of entry `entry` (`0..0` if it has none).
    fn change_value_span(&self, entry: usize, index: usize) -> Range<usize> {
        self.values
            .get_or_init(|| self.find_values())
            .get(entry)
            .and_then(|values| values.get(index))
            .cloned()
            .unwrap_or(0..0)
    }

    /// Like `find_spans`, for the `value` of every change.
    fn find_values(&self) -> Vec<Vec<Range<usize>>> {
        #[derive(Deserialize)]
        struct Top<'a> {
            #[serde(borrow)]
            entry: Vec<Entry<'a>>,
        }
        #[derive(Deserialize)]
        struct Entry<'a> {
            #[serde(borrow, default)]
            changes: Option<Vec<Change<'a>>>,
        }
        #[derive(Deserialize)]
        struct Change<'a> {
            #[serde(borrow, default)]
            value: Option<&'a RawValue>,
        }
        let Ok(top) = serde_json::from_str::<Top<'_>>(&self.text) else {
            return Vec::new();
        };
        top.entry
            .into_iter()
            .map(|e| {
                e.changes
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.value.map_or(0..0, |value| self.offsets(value.get())))
                    .collect()
            })
            .collect()
    }

    fn item_span(&self, entry: usize, array: Array, index: usize) -> Range<usize> {
        self.spans
            .get_or_init(|| self.find_spans())
            .get(entry)
            .and_then(|arrays| arrays.get(array as usize))
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or(0..0)
    }

    /// Only called for bodies the fast parse accepted: well-formed, every entry an
    /// object, no duplicate keys, arrays or `null` where arrays belong.
    fn find_spans(&self) -> ItemSpans {
        #[derive(Deserialize)]
        struct Top<'a> {
            #[serde(borrow)]
            entry: Vec<Entry<'a>>,
        }
        #[derive(Deserialize)]
        struct Entry<'a> {
            #[serde(borrow, default)]
            messaging: Option<Vec<&'a RawValue>>,
            #[serde(borrow, default)]
            standby: Option<Vec<&'a RawValue>>,
            #[serde(borrow, default)]
            changes: Option<Vec<&'a RawValue>>,
        }
        let Ok(top) = serde_json::from_str::<Top<'_>>(&self.text) else {
            return Vec::new();
        };
        top.entry
            .into_iter()
            .map(|e| {
                [e.messaging, e.standby, e.changes].map(|items| {
                    items
                        .unwrap_or_default()
                        .iter()
                        .map(|raw| self.offsets(raw.get()))
                        .collect()
                })
            })
            .collect()
    }
}

/// The `messages` and `statuses` arrays of one WhatsApp value, whose items' spans are
/// found on first use (the fast parse types them in place).
#[derive(Debug)]
pub(crate) struct ValueSpans {
    /// The value's raw JSON.
    value: RawJson,
    /// Spans of `messages[]` and `statuses[]` items.
    items: OnceLock<[Vec<Range<usize>>; 2]>,
}

impl ValueSpans {
    /// The spans of the items of the WhatsApp value whose raw JSON is `value`.
    pub(crate) fn new(value: &RawJson) -> Arc<Self> {
        Arc::new(Self {
            value: value.clone(),
            items: OnceLock::new(),
        })
    }

    fn item(&self, body: &Body, array: usize, index: usize) -> Range<usize> {
        self.items
            .get_or_init(|| {
                #[derive(Deserialize)]
                struct Arrays<'a> {
                    #[serde(borrow, default)]
                    messages: Option<Vec<&'a RawValue>>,
                    #[serde(borrow, default)]
                    statuses: Option<Vec<&'a RawValue>>,
                }
                let Ok(arrays) = serde_json::from_str::<Arrays<'_>>(self.value.as_str()) else {
                    return [Vec::new(), Vec::new()];
                };
                [arrays.messages, arrays.statuses].map(|items| {
                    items
                        .unwrap_or_default()
                        .iter()
                        .map(|raw| body.offsets(raw.get()))
                        .collect()
                })
            })
            .get(array)
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or(0..0)
    }
}

#[derive(Clone, Debug)]
enum Loc {
    Span(Range<usize>),
    Item {
        entry: usize,
        array: Array,
        index: usize,
    },
    /// The `value` of change `index` of entry `entry`.
    ChangeValue {
        entry: usize,
        index: usize,
    },
    /// Item `index` of `messages` (array 0) or `statuses` (1) of a WhatsApp value.
    ValueItem {
        spans: Arc<ValueSpans>,
        array: usize,
        index: usize,
    },
}

/// A slice of the delivery body: the exact JSON text of one item or value.
///
/// Cheap to clone (it shares the body).
#[derive(Clone)]
pub struct RawJson {
    body: Arc<Body>,
    loc: Loc,
}

impl RawJson {
    /// The whole of `text` (for values not taken from a delivery).
    pub fn new(text: &str) -> Self {
        Self {
            body: Body::new(text),
            loc: Loc::Span(0..text.len()),
        }
    }

    /// `part`, a sub-slice of `body`'s text.
    pub(crate) fn slice_of(body: &Arc<Body>, part: &str) -> Self {
        Self {
            loc: Loc::Span(body.offsets(part)),
            body: Arc::clone(body),
        }
    }

    /// Item `index` of `array` in entry `entry`, located on first use.
    pub(crate) fn item(body: &Arc<Body>, entry: usize, array: Array, index: usize) -> Self {
        Self {
            body: Arc::clone(body),
            loc: Loc::Item {
                entry,
                array,
                index,
            },
        }
    }

    /// The `value` of change `index` of entry `entry`, located on first use.
    pub(crate) fn change_value(body: &Arc<Body>, entry: usize, index: usize) -> Self {
        Self {
            body: Arc::clone(body),
            loc: Loc::ChangeValue { entry, index },
        }
    }

    /// Item `index` of `messages` (`array` 0) or `statuses` (1) of a WhatsApp value,
    /// located on first use.
    pub(crate) fn value_item(
        body: &Arc<Body>,
        spans: &Arc<ValueSpans>,
        array: usize,
        index: usize,
    ) -> Self {
        Self {
            body: Arc::clone(body),
            loc: Loc::ValueItem {
                spans: Arc::clone(spans),
                array,
                index,
            },
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.body.text.get(self.span()).unwrap_or_default()
    }

    /// Byte offsets of this text within the delivery body.
    pub fn span(&self) -> Range<usize> {
        match &self.loc {
            Loc::Span(span) => span.clone(),
            Loc::Item {
                entry,
                array,
                index,
            } => self.body.item_span(*entry, *array, *index),
            Loc::ChangeValue { entry, index } => self.body.change_value_span(*entry, *index),
            Loc::ValueItem {
                spans,
                array,
                index,
            } => spans.item(&self.body, *array, *index),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_item_spans() {
        let body = Body::new(
            r#"{"entry":[{"standby":[ {"a":1} ,[2]],"messaging":null},{"changes":[{"f":"x"}]}]}"#,
        );
        assert_eq!(
            RawJson::item(&body, 0, Array::Standby, 0).as_str(),
            r#"{"a":1}"#
        );
        assert_eq!(RawJson::item(&body, 0, Array::Standby, 1).as_str(), "[2]");
        assert_eq!(
            RawJson::item(&body, 1, Array::Changes, 0).as_str(),
            r#"{"f":"x"}"#
        );
        assert_eq!(RawJson::change_value(&body, 1, 0).as_str(), "");
        // Out of range: empty, no panic.
        assert_eq!(RawJson::item(&body, 0, Array::Messaging, 0).as_str(), "");
        assert_eq!(RawJson::item(&body, 9, Array::Changes, 0).as_str(), "");
    }

    #[test]
    fn lazy_change_values() {
        let body = Body::new(
            r#"{"entry":[{"changes":[{"value": {"a":[1]} ,"field":"x"},{"value":null},{}]},{}]}"#,
        );
        assert_eq!(RawJson::change_value(&body, 0, 0).as_str(), r#"{"a":[1]}"#);
        // `null` is no value.
        assert_eq!(RawJson::change_value(&body, 0, 1).as_str(), "");
        assert_eq!(RawJson::change_value(&body, 0, 2).as_str(), "");
        assert_eq!(RawJson::change_value(&body, 1, 0).as_str(), "");
    }

    #[test]
    fn foreign_slices_are_empty() {
        let body = Body::new("{}");
        assert_eq!(RawJson::slice_of(&body, "elsewhere").as_str(), "");
        assert_eq!(RawJson::new("[1]").as_str(), "[1]");
    }
}
