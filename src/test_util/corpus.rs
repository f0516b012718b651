//! [`Corpus`]: the crate's fixture deliveries, their expected classification and the
//! signature vectors.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{EventKind, NormalizedEvent};
use crate::payload::Delivery;

use super::request::SignedRequest;

/// The fixture corpus: delivery bodies laid out as
/// `<object>/<group>/<kind>__<case>.json` (groups `messaging`, `standby`, `changes`,
/// `batch`, `edge`), each with an optional `<kind>__<case>.expected.json` beside it;
/// bodies rejected whole under `reject/error__<case>.json`; signature known-answer vectors
/// in `signatures/vectors.json`.
///
/// [`Corpus::new`] is the corpus shipped with this crate (its `tests/fixtures`, found
/// through the crate's manifest directory at compile time, so it works from the
/// repository and from the packaged crate, which includes it). [`Corpus::at`] reads
/// any directory laid out the same way.
///
/// ```
/// use meta_webhooks::test_util::{Corpus, Outcome};
///
/// # fn main() -> std::io::Result<()> {
/// let mut checked = 0;
/// for fixture in Corpus::new().fixtures() {
///     let fixture = fixture?;
///     if let Some(expected) = fixture.expected() {
///         assert_eq!(&Outcome::of(fixture.body()), expected, "{}", fixture.name());
///         checked += 1;
///     }
/// }
/// assert!(checked >= 40);
///
/// let text = Corpus::new().fixture("instagram/messaging/text__basic")?;
/// assert_eq!((text.object(), text.group(), text.kind()), ("instagram", Some("messaging"), "text"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Corpus {
    root: PathBuf,
}

impl Corpus {
    /// The corpus shipped with this crate.
    pub fn new() -> Self {
        Self::at(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
    }

    /// A corpus in the directory `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The corpus directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every delivery fixture (expectations and signature vectors excluded), in the order
    /// of their relative paths. Each is read when the iterator reaches it.
    pub fn fixtures(&self) -> Fixtures {
        let mut paths = Vec::new();
        let error = walk(&self.root, &mut paths).err();
        paths.sort();
        Fixtures {
            root: self.root.clone(),
            error,
            paths: paths.into_iter(),
        }
    }

    /// The fixture `name`, relative to the root, with or without `.json`
    /// (`"instagram/messaging/text__basic"`).
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or its expectation is not valid.
    pub fn fixture(&self, name: &str) -> io::Result<Fixture> {
        let name = name.strip_suffix(".json").unwrap_or(name);
        Fixture::read(&self.root, &self.root.join(format!("{name}.json")))
    }

    /// The known-answer vectors of `signatures/vectors.json`.
    ///
    /// ```
    /// use meta_webhooks::test_util::{Corpus, VectorExpectation, sign};
    ///
    /// for vector in Corpus::new().signature_vectors().unwrap() {
    ///     if let VectorExpectation::Ok { secret_index } = vector.expect {
    ///         if vector.header.starts_with("sha256=") {
    ///             let secret = &vector.secrets[secret_index];
    ///             assert_eq!(sign(secret, vector.body.as_bytes()), vector.header.to_ascii_lowercase());
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// When the file cannot be read or is not in the vectors' format.
    pub fn signature_vectors(&self) -> io::Result<Vec<SignatureVector>> {
        #[derive(Deserialize)]
        struct File {
            vectors: Vec<RawVector>,
        }
        #[derive(Deserialize)]
        struct RawVector {
            name: String,
            secrets: Vec<String>,
            body: String,
            header: String,
            expect: String,
            secret_index: Option<usize>,
        }
        let path = self.root.join("signatures/vectors.json");
        let bytes = std::fs::read(&path).map_err(|e| at(&path, e))?;
        let file: File = serde_json::from_slice(&bytes).map_err(|e| at(&path, invalid(e)))?;
        file.vectors
            .into_iter()
            .map(|v| {
                let expect = match (v.expect.as_str(), v.secret_index) {
                    ("ok", Some(secret_index)) => VectorExpectation::Ok { secret_index },
                    ("mismatch", _) => VectorExpectation::Mismatch,
                    ("malformed", _) => VectorExpectation::Malformed,
                    (other, _) => {
                        return Err(at(
                            &path,
                            invalid(format!("{}: unknown expectation {other:?}", v.name)),
                        ));
                    }
                };
                Ok(SignatureVector {
                    name: v.name,
                    secrets: v.secrets,
                    body: v.body,
                    header: v.header,
                    expect,
                })
            })
            .collect()
    }
}

impl Default for Corpus {
    fn default() -> Self {
        Self::new()
    }
}

/// Collects every `*.json` that is not an expectation, outside `signatures/`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| at(dir, e))? {
        let path = entry.map_err(|e| at(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if name != "signatures" {
                walk(&path, out)?;
            }
        } else if name.ends_with(".json") && !name.ends_with(".expected.json") {
            out.push(path);
        }
    }
    Ok(())
}

fn at(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// The iterator of [`Corpus::fixtures`]: one [`Fixture`] per delivery file, or the error
/// that kept it (or the directory walk) from being read.
#[derive(Debug)]
pub struct Fixtures {
    root: PathBuf,
    error: Option<io::Error>,
    paths: std::vec::IntoIter<PathBuf>,
}

impl Iterator for Fixtures {
    type Item = io::Result<Fixture>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        let path = self.paths.next()?;
        Some(Fixture::read(&self.root, &path))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.paths.len() + usize::from(self.error.is_some());
        (n, Some(n))
    }
}

/// One delivery fixture: where it is, what its name says, its exact bytes and, when an
/// `.expected.json` sits beside it, the classification it must produce.
#[derive(Clone, Debug)]
pub struct Fixture {
    path: PathBuf,
    name: String,
    object: String,
    group: Option<String>,
    kind: String,
    case: String,
    body: Bytes,
    expected: Option<Outcome>,
}

impl Fixture {
    fn read(root: &Path, path: &Path) -> io::Result<Self> {
        let relative = path.strip_prefix(root).unwrap_or(path);
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let name = parts.join("/");
        let name = name.strip_suffix(".json").unwrap_or(&name).to_owned();
        let (object, group, file) = match parts.as_slice() {
            [object, group, file] => (object.clone(), Some(group.clone()), file.as_str()),
            [object, file] => (object.clone(), None, file.as_str()),
            [file] => (String::new(), None, file.as_str()),
            _ => {
                return Err(at(
                    path,
                    invalid("not <object>/<group>/<kind>__<case>.json"),
                ));
            }
        };
        let stem = file.strip_suffix(".json").unwrap_or(file);
        let (kind, case) = stem.split_once("__").unwrap_or((stem, ""));
        let body = std::fs::read(path).map_err(|e| at(path, e))?;
        let expected_path = path.with_file_name(format!("{stem}.expected.json"));
        let expected = match std::fs::read(&expected_path) {
            Ok(bytes) => Some(
                serde_json::from_slice::<StrictOutcome>(&bytes)
                    .map_err(|e| at(&expected_path, invalid(e)))?
                    .into(),
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(at(&expected_path, e)),
        };
        Ok(Self {
            path: path.to_owned(),
            name,
            object,
            group,
            kind: kind.to_owned(),
            case: case.to_owned(),
            body: Bytes::from(body),
            expected,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path relative to the corpus root, `/`-separated, without `.json`
    /// (`"instagram/messaging/text__basic"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first directory: the delivery's object (`"instagram"`, `"page"`, `"whatsapp"`
    /// for `whatsapp_business_account`, `"other"`), or `"reject"`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The second directory (`"messaging"`, `"standby"`, `"changes"`, `"batch"`,
    /// `"edge"`); `None` under `reject/`.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The kind the file name announces: an [`EventKind`] name for the first (main)
    /// event, `"mixed"` when the point is the mix, `"error"` for a body rejected whole.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// [`Fixture::kind`] as an [`EventKind`], when it names one.
    pub fn event_kind(&self) -> Option<EventKind> {
        EventKind::from_name(&self.kind)
    }

    /// What the file name says after `__`.
    pub fn case(&self) -> &str {
        &self.case
    }

    /// Whether the fixture is a body the parser must reject whole (under `reject/`).
    pub fn is_reject(&self) -> bool {
        self.object == "reject"
    }

    /// The body, byte for byte (never re-serialize it: signatures and escapes depend on
    /// the exact bytes).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The expected classification, when an `.expected.json` sits beside the fixture.
    pub fn expected(&self) -> Option<&Outcome> {
        self.expected.as_ref()
    }

    /// A signed `POST` of the body (see [`SignedRequest`]).
    pub fn signed(&self, secret: &str) -> SignedRequest {
        SignedRequest::new(secret, self.body.clone())
    }
}

/// What parsing and classifying a body gives, reduced to the fixtures' expectation format:
/// `{"error": true}` for a body rejected whole, else `{"object", "events": [{"kind",
/// "sender", "recipient", "mid", "text"}]}` with malformed items as kind `"error"` and
/// every other key `null`.
///
/// It serializes to that JSON and deserializes from it; deserializing ignores other keys,
/// so richer documents (the `inspect` tool's output) read as their projection.
///
/// ```
/// use meta_webhooks::test_util::{DeliveryBuilder, MessagingItem, Outcome};
///
/// let body = DeliveryBuilder::page().messaging(MessagingItem::read("m_1")).build();
/// let outcome = Outcome::of(&body);
/// assert_eq!(
///     serde_json::to_value(&outcome).unwrap(),
///     serde_json::json!({"object": "page", "events": [{"kind": "read", "sender": "7012345678901234",
///         "recipient": "104512345678901", "mid": "m_1", "text": null}]}),
/// );
/// assert_eq!(Outcome::of(b"[]"), Outcome::Rejected);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The body is not a delivery (`{"error": true}`).
    Rejected,
    /// The body is a delivery: its object and one event per item, in order.
    Delivery {
        /// The delivery's `object`.
        object: String,
        /// One per item; malformed items have kind `"error"`.
        events: Vec<ProjectedEvent>,
    },
}

impl Outcome {
    /// Parses and classifies `body` with this crate and projects the result.
    pub fn of(body: &[u8]) -> Self {
        match Delivery::from_slice(body) {
            Err(_) => Self::Rejected,
            Ok(delivery) => Self::Delivery {
                object: delivery.object().as_str().to_owned(),
                events: crate::event::classify(&delivery)
                    .iter()
                    .map(|result| match result {
                        Ok(event) => ProjectedEvent::from(&event.normalized()),
                        Err(error) => ProjectedEvent::from(&error.normalized()),
                    })
                    .collect(),
            },
        }
    }

    /// The events' kinds (`"error"` for malformed items); empty when rejected.
    pub fn kinds(&self) -> Vec<&str> {
        match self {
            Self::Rejected => Vec::new(),
            Self::Delivery { events, .. } => events.iter().map(|e| e.kind.as_str()).collect(),
        }
    }
}

impl fmt::Display for Outcome {
    /// The JSON of the expectation format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Rejected {
            error: bool,
        }
        #[derive(Serialize)]
        struct Events<'a> {
            object: &'a str,
            events: &'a [ProjectedEvent],
        }
        match self {
            Self::Rejected => Rejected { error: true }.serialize(serializer),
            Self::Delivery { object, events } => Events { object, events }.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Any {
            #[serde(default)]
            error: Option<bool>,
            #[serde(default)]
            object: Option<String>,
            #[serde(default)]
            events: Option<Vec<ProjectedEvent>>,
        }
        let any = Any::deserialize(deserializer)?;
        match (any.error, any.object, any.events) {
            (Some(true), _, _) => Ok(Self::Rejected),
            (_, Some(object), Some(events)) => Ok(Self::Delivery { object, events }),
            _ => Err(D::Error::custom(
                "expected {\"error\": true} or {\"object\", \"events\"}",
            )),
        }
    }
}

/// The expectation file's format, exactly: no other keys.
#[derive(Deserialize)]
#[serde(untagged)]
enum StrictOutcome {
    Rejected(StrictRejected),
    Delivery(StrictDelivery),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictRejected {
    #[allow(dead_code, reason = "its presence is the format")]
    error: True,
}

/// Only `true` deserializes.
struct True;

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(Self)
        } else {
            Err(D::Error::custom("`error` must be true"))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictDelivery {
    object: String,
    events: Vec<StrictEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictEvent {
    kind: String,
    sender: Option<String>,
    recipient: Option<String>,
    mid: Option<String>,
    text: Option<String>,
}

impl From<StrictOutcome> for Outcome {
    fn from(strict: StrictOutcome) -> Self {
        match strict {
            StrictOutcome::Rejected(_) => Self::Rejected,
            StrictOutcome::Delivery(d) => Self::Delivery {
                object: d.object,
                events: d
                    .events
                    .into_iter()
                    .map(|e| ProjectedEvent {
                        kind: e.kind,
                        sender: e.sender,
                        recipient: e.recipient,
                        mid: e.mid,
                        text: e.text,
                    })
                    .collect(),
            },
        }
    }
}

/// One event of an [`Outcome`]: the five keys the fixture expectations fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProjectedEvent {
    /// The kind's name, or `"error"` for a malformed item.
    pub kind: String,
    /// See [`Event::sender`](crate::Event::sender).
    pub sender: Option<String>,
    /// See [`Event::recipient`](crate::Event::recipient).
    pub recipient: Option<String>,
    /// See [`Event::mid`](crate::Event::mid).
    pub mid: Option<String>,
    /// See [`Event::text`](crate::Event::text).
    pub text: Option<String>,
}

impl From<&NormalizedEvent<'_>> for ProjectedEvent {
    fn from(n: &NormalizedEvent<'_>) -> Self {
        Self {
            kind: n.kind.to_owned(),
            sender: n.sender.map(str::to_owned),
            recipient: n.recipient.map(str::to_owned),
            mid: n.mid.map(str::to_owned),
            text: n.text.map(str::to_owned),
        }
    }
}

/// A known-answer vector of `signatures/vectors.json`: secrets, body and header, and
/// what verifying must give (computed independently of this crate).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SignatureVector {
    /// A short name.
    pub name: String,
    /// The verifier's secrets, in order (several during a rotation).
    pub secrets: Vec<String>,
    /// The body.
    pub body: String,
    /// The `X-Hub-Signature-256` value.
    pub header: String,
    /// What verifying gives.
    pub expect: VectorExpectation,
}

/// What verifying a [`SignatureVector`] must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VectorExpectation {
    /// Accepted by the secret at `secret_index`.
    Ok {
        /// Index into [`SignatureVector::secrets`].
        secret_index: usize,
    },
    /// A well-formed signature that no secret produced.
    Mismatch,
    /// Not a well-formed signature header.
    Malformed,
}
