//! Event and delivery times.
//!
//! Meta sends `entry[].time` and `messaging[].timestamp` in milliseconds for messaging,
//! in seconds in `changes` examples and in the dashboard test (where it is also a string).
//! [`Timestamp`] normalizes all of them to milliseconds since the Unix epoch.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// Values below this are taken as seconds (10^11 s is the year 5138; 10^11 ms is 1973).
const SECONDS_BELOW: u64 = 100_000_000_000;

/// A point in time from a payload, in milliseconds since the Unix epoch.
///
/// ```
/// use meta_webhooks::payload::Timestamp;
///
/// // Seconds and milliseconds both normalize to milliseconds.
/// assert_eq!(Timestamp::from_wire(1_527_459_824).as_millis(), 1_527_459_824_000);
/// assert_eq!(Timestamp::from_wire(1_769_870_412_731).as_millis(), 1_769_870_412_731);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp from milliseconds since the Unix epoch, taken as is.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// A timestamp as found on the wire: values below 10^11 are seconds and are
    /// multiplied by 1000, larger values are milliseconds.
    pub const fn from_wire(value: u64) -> Self {
        if value < SECONDS_BELOW {
            Self(value.saturating_mul(1000))
        } else {
            Self(value)
        }
    }

    /// Parses a numeric string (`"1527459824"`) as [`Timestamp::from_wire`] does; `None`
    /// for anything else (ISO dates, empty strings, signs, fractions).
    pub fn from_wire_str(value: &str) -> Option<Self> {
        value.parse::<u64>().ok().map(Self::from_wire)
    }

    /// A JSON float that holds a whole, non-negative number (`1.769870412e12`).
    pub(crate) fn from_wire_f64(value: f64) -> Option<Self> {
        // 2^64 as f64; anything at or above it does not fit a u64.
        const LIMIT: f64 = 18_446_744_073_709_551_616.0;
        if (0.0..LIMIT).contains(&value) && value.fract() == 0.0 {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "range and fraction checked above"
            )]
            let whole = value as u64;
            Some(Self::from_wire(whole))
        } else {
            None
        }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// This instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH
            .checked_add(Duration::from_millis(self.0))
            .unwrap_or(UNIX_EPOCH)
    }

    /// How long before `now` this instant lies; [`Duration::ZERO`] if it lies in the
    /// future (clock skew).
    pub fn age(self, now: SystemTime) -> Duration {
        now.duration_since(self.to_system_time())
            .unwrap_or(Duration::ZERO)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_become_milliseconds() {
        assert_eq!(
            Timestamp::from_wire(1_520_622_968).as_millis(),
            1_520_622_968_000
        );
        assert_eq!(
            Timestamp::from_wire(99_999_999_999).as_millis(),
            99_999_999_999_000
        );
        assert_eq!(
            Timestamp::from_wire(100_000_000_000).as_millis(),
            100_000_000_000
        );
        assert_eq!(Timestamp::from_wire(0).as_millis(), 0);
        assert_eq!(Timestamp::from_wire(u64::MAX).as_millis(), u64::MAX);
    }

    #[test]
    fn numeric_strings_only() {
        assert_eq!(
            Timestamp::from_wire_str("1527459824").map(Timestamp::as_millis),
            Some(1_527_459_824_000)
        );
        assert_eq!(Timestamp::from_wire_str(""), None);
        assert_eq!(Timestamp::from_wire_str("-1"), None);
        assert_eq!(Timestamp::from_wire_str("2026-01-31T12:00:00+0000"), None);
        assert_eq!(Timestamp::from_wire_str(" 1"), None);
    }

    #[test]
    fn floats_must_be_whole() {
        assert_eq!(
            Timestamp::from_wire_f64(1.769_870_412e12).map(Timestamp::as_millis),
            Some(1_769_870_412_000)
        );
        assert_eq!(Timestamp::from_wire_f64(1.5), None);
        assert_eq!(Timestamp::from_wire_f64(-1.0), None);
        assert_eq!(Timestamp::from_wire_f64(f64::NAN), None);
        assert_eq!(Timestamp::from_wire_f64(1e30), None);
    }

    #[test]
    fn age_is_measured_against_now() {
        let t = Timestamp::from_millis(10_000);
        let now = UNIX_EPOCH + Duration::from_secs(70);
        assert_eq!(t.age(now), Duration::from_secs(60));
        assert_eq!(t.age(UNIX_EPOCH), Duration::ZERO);
        assert_eq!(t.to_system_time(), UNIX_EPOCH + Duration::from_secs(10));
    }
}
