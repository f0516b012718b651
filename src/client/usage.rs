//! Rate-limit usage headers: `X-App-Usage` and `X-Business-Use-Case-Usage`.

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

/// Name of the app usage header (lower case).
pub const APP_USAGE_HEADER: &str = "x-app-usage";
/// Name of the Business Use Case usage header (lower case).
pub const BUSINESS_USE_CASE_USAGE_HEADER: &str = "x-business-use-case-usage";

/// Usage reported by one response.
///
/// Meta reports how much of a limit has been used, in percent, on most responses once
/// enough calls were made; calls fail once a value reaches 100. Instagram and Messenger
/// calls with Page or Instagram tokens are counted by the Business Use Case (BUC) limits,
/// whose header also tells how long until access comes back
/// (`estimated_time_to_regain_access`, in minutes).
///
/// [`GraphClient`](super::GraphClient) parses both headers on every response (success or
/// error), keeps the latest per account ([`AccountStatus::usage`](super::AccountStatus)) and
/// pauses the account while they say it is throttled.
///
/// ```
/// use http::HeaderMap;
/// use meta_webhooks::client::{Usage, UseCase};
/// use std::time::Duration;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-app-usage", r#"{"call_count":28,"total_time":25,"total_cputime":25}"#.parse().unwrap());
/// let buc = r#"{"17841400000000000":[{"type":"instagram","call_count":100,"total_cputime":12,"total_time":14,"estimated_time_to_regain_access":7}]}"#;
/// headers.insert("x-business-use-case-usage", buc.parse().unwrap());
/// let usage = Usage::from_headers(&headers).unwrap();
/// assert_eq!(usage.app.unwrap().call_count, 28);
/// assert_eq!(usage.business[0].use_case, UseCase::Instagram);
/// assert!(usage.is_throttled());
/// assert_eq!(usage.regain_access_after(), Some(Duration::from_secs(7 * 60)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// `X-App-Usage`, when present and well formed.
    pub app: Option<AppUsage>,
    /// `X-Business-Use-Case-Usage` entries (one per business id and use case).
    pub business: Vec<BusinessUseCaseUsage>,
}

/// `X-App-Usage`: percentages of the app's platform limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppUsage {
    /// Calls made, in percent of the limit.
    pub call_count: u32,
    /// CPU time, in percent of the limit.
    pub total_cputime: u32,
    /// Total time, in percent of the limit.
    pub total_time: u32,
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusinessUseCaseUsage {
    /// The business object id the entry is keyed by (a Page or Instagram account id).
    pub business_id: String,
    /// The rate-limit use case (`type`).
    pub use_case: UseCase,
    /// Calls made, in percent of the limit.
    pub call_count: u32,
    /// CPU time, in percent of the limit.
    pub total_cputime: u32,
    /// Total time, in percent of the limit.
    pub total_time: u32,
    /// How long until calls are accepted again, when throttled (Meta sends minutes).
    pub estimated_time_to_regain_access: Option<Duration>,
}

/// The `type` of a Business Use Case usage entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UseCase {
    /// `instagram`.
    Instagram,
    /// `messenger`.
    Messenger,
    /// `pages`.
    Pages,
    /// Any other type, kept verbatim (e.g. `ads_management`).
    Unknown(String),
}

impl UseCase {
    fn parse(raw: &str) -> Self {
        match raw {
            "instagram" => Self::Instagram,
            "messenger" => Self::Messenger,
            "pages" => Self::Pages,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Instagram => "instagram",
            Self::Messenger => "messenger",
            Self::Pages => "pages",
            Self::Unknown(other) => other,
        }
    }
}

/// A percentage from a JSON number (integer or float) or numeric string; anything else is 0.
fn percent(value: Option<&Value>) -> u32 {
    let number = match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match number {
        Some(n) if n.is_finite() && n > 0.0 => {
            // Saturating float-to-int conversion (`as` saturates and maps NaN to 0).
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "saturating conversion of a non-negative finite percentage"
            )]
            let n = n.ceil() as u32;
            n
        }
        _ => 0,
    }
}

impl AppUsage {
    fn from_value(value: &Value) -> Option<Self> {
        let object = value.as_object()?;
        Some(Self {
            call_count: percent(object.get("call_count")),
            total_cputime: percent(object.get("total_cputime")),
            total_time: percent(object.get("total_time")),
        })
    }

    /// The highest of the three percentages.
    pub fn max_percent(&self) -> u32 {
        self.call_count.max(self.total_cputime).max(self.total_time)
    }
}

impl BusinessUseCaseUsage {
    /// The highest of the three percentages.
    pub fn max_percent(&self) -> u32 {
        self.call_count.max(self.total_cputime).max(self.total_time)
    }

    /// `true` when a percentage reached 100 or Meta gives a time to regain access.
    pub fn is_throttled(&self) -> bool {
        self.max_percent() >= 100
            || self
                .estimated_time_to_regain_access
                .is_some_and(|d| !d.is_zero())
    }
}

impl Usage {
    /// Parses both headers. Returns `None` when neither is present and well formed; a
    /// malformed header is ignored, never an error.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let json = |name: &str| -> Option<Value> {
            let raw = headers.get(name)?.to_str().ok()?;
            serde_json::from_str(raw).ok()
        };
        let app = json(APP_USAGE_HEADER).and_then(|v| AppUsage::from_value(&v));
        let mut business = Vec::new();
        if let Some(Value::Object(by_id)) = json(BUSINESS_USE_CASE_USAGE_HEADER) {
            for (business_id, entries) in by_id {
                let Value::Array(entries) = entries else {
                    continue;
                };
                for entry in entries.iter().filter_map(Value::as_object) {
                    let minutes = percent(entry.get("estimated_time_to_regain_access"));
                    business.push(BusinessUseCaseUsage {
                        business_id: business_id.clone(),
                        use_case: UseCase::parse(
                            entry.get("type").and_then(Value::as_str).unwrap_or(""),
                        ),
                        call_count: percent(entry.get("call_count")),
                        total_cputime: percent(entry.get("total_cputime")),
                        total_time: percent(entry.get("total_time")),
                        estimated_time_to_regain_access: (minutes > 0)
                            .then(|| Duration::from_secs(u64::from(minutes) * 60)),
                    });
                }
            }
        }
        if app.is_none() && business.is_empty() {
            return None;
        }
        Some(Self { app, business })
    }

    /// `true` when Meta says calls are (about to be) refused: a percentage reached 100 or a
    /// Business Use Case entry gives a time to regain access.
    pub fn is_throttled(&self) -> bool {
        self.app.is_some_and(|app| app.max_percent() >= 100)
            || self.business.iter().any(BusinessUseCaseUsage::is_throttled)
    }

    /// The longest `estimated_time_to_regain_access` of all entries, if any is non-zero.
    pub fn regain_access_after(&self) -> Option<Duration> {
        self.business
            .iter()
            .filter_map(|b| b.estimated_time_to_regain_access)
            .max()
    }

    /// The highest percentage anywhere in the headers.
    pub fn max_percent(&self) -> u32 {
        let app = self.app.map_or(0, |a| a.max_percent());
        self.business
            .iter()
            .map(BusinessUseCaseUsage::max_percent)
            .fold(app, u32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn absent_or_malformed_headers_are_none() {
        assert_eq!(Usage::from_headers(&HeaderMap::new()), None);
        assert_eq!(
            Usage::from_headers(&headers(&[
                (APP_USAGE_HEADER, "not json"),
                (BUSINESS_USE_CASE_USAGE_HEADER, "[1,2]")
            ])),
            None
        );
    }

    #[test]
    fn below_limits_is_not_throttled() {
        let usage = Usage::from_headers(&headers(&[(
            BUSINESS_USE_CASE_USAGE_HEADER,
            r#"{"1":[{"type":"messenger","call_count":"99","total_cputime":1.5,"total_time":0,"estimated_time_to_regain_access":0}],"2":"junk"}"#,
        )]))
        .unwrap();
        assert_eq!(usage.business.len(), 1);
        let entry = &usage.business[0];
        assert_eq!(entry.use_case, UseCase::Messenger);
        assert_eq!((entry.call_count, entry.total_cputime), (99, 2));
        assert_eq!(entry.estimated_time_to_regain_access, None);
        assert!(!usage.is_throttled());
        assert_eq!(usage.max_percent(), 99);
    }

    #[test]
    fn app_usage_at_100_is_throttled() {
        let usage = Usage::from_headers(&headers(&[(
            APP_USAGE_HEADER,
            r#"{"call_count":100,"total_time":3,"total_cputime":2}"#,
        )]))
        .unwrap();
        assert!(usage.is_throttled());
        assert_eq!(usage.regain_access_after(), None);
    }

    #[test]
    fn unknown_use_case_is_kept() {
        let usage = Usage::from_headers(&headers(&[(
            BUSINESS_USE_CASE_USAGE_HEADER,
            r#"{"act_1":[{"type":"ads_management","call_count":1}]}"#,
        )]))
        .unwrap();
        assert_eq!(
            usage.business[0].use_case,
            UseCase::Unknown("ads_management".into())
        );
        assert_eq!(usage.business[0].use_case.as_str(), "ads_management");
    }
}
