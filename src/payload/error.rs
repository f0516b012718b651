//! Whole-body parse errors: a body that cannot be a delivery at all is rejected as a whole.

use std::fmt;

use http::StatusCode;

use super::depth::MAX_DEPTH;

/// Why a body cannot be a delivery at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is not JSON: a syntax error, truncated, empty, or trailing characters.
    InvalidJson,
    /// Arrays/objects nest deeper than 128 levels.
    TooDeep,
    /// The top level is not a JSON object.
    NotAnObject,
    /// `object` is missing.
    MissingObject,
    /// `object` is not a string.
    InvalidObject,
    /// `entry` is missing.
    MissingEntry,
    /// `entry` is not an array.
    InvalidEntry,
}

impl ParseErrorKind {
    /// A short, stable, snake_case name for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotUtf8 => "not_utf8",
            Self::InvalidJson => "invalid_json",
            Self::TooDeep => "too_deep",
            Self::NotAnObject => "not_an_object",
            Self::MissingObject => "missing_object",
            Self::InvalidObject => "invalid_object",
            Self::MissingEntry => "missing_entry",
            Self::InvalidEntry => "invalid_entry",
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body rejected as a whole by [`Delivery::from_slice`](super::Delivery::from_slice).
///
/// `Display` is a short reason with, for JSON syntax errors, the line and column; it never
/// contains body contents. Answer such a body with [`ParseError::status`] (400).
///
/// ```
/// use meta_webhooks::payload::{Delivery, ParseErrorKind};
///
/// let err = Delivery::from_slice(br#"{"object":"instagram"}"#).unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::MissingEntry);
/// assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
/// assert_eq!(err.to_string(), "`entry` is missing");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    kind: ParseErrorKind,
    /// Line and column of a JSON syntax error (1-based), when known.
    at: Option<(usize, usize)>,
    eof: bool,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseErrorKind) -> Self {
        Self {
            kind,
            at: None,
            eof: false,
        }
    }

    /// Maps a serde_json error raised while reading the envelope. Type mismatches never
    /// reach here (the envelope visitors are tolerant), so every error is about syntax.
    pub(crate) fn from_json(error: &serde_json::Error) -> Self {
        // serde_json has no public kind for its recursion limit; the depth pre-scan makes
        // it unreachable, but map it faithfully should that ever change.
        let kind = if error.to_string().starts_with("recursion limit exceeded") {
            ParseErrorKind::TooDeep
        } else {
            ParseErrorKind::InvalidJson
        };
        let at = (error.line() > 0).then(|| (error.line(), error.column()));
        Self {
            kind,
            at,
            eof: error.is_eof(),
        }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The HTTP status to answer with: always `400 Bad Request`.
    pub const fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// Line and column (1-based) of a JSON syntax error.
    pub const fn position(&self) -> Option<(usize, usize)> {
        self.at
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::NotUtf8 => f.write_str("body is not valid UTF-8"),
            ParseErrorKind::InvalidJson => {
                f.write_str(if self.eof {
                    "body is empty or truncated JSON"
                } else {
                    "body is not valid JSON"
                })?;
                if let Some((line, column)) = self.at {
                    write!(f, " (line {line}, column {column})")?;
                }
                Ok(())
            }
            ParseErrorKind::TooDeep => {
                write!(
                    f,
                    "body nests arrays/objects deeper than {MAX_DEPTH} levels"
                )
            }
            ParseErrorKind::NotAnObject => f.write_str("body is not a JSON object"),
            ParseErrorKind::MissingObject => f.write_str("`object` is missing"),
            ParseErrorKind::InvalidObject => f.write_str("`object` is not a string"),
            ParseErrorKind::MissingEntry => f.write_str("`entry` is missing"),
            ParseErrorKind::InvalidEntry => f.write_str("`entry` is not an array"),
        }
    }
}
