//! The token metrics, shown in `/metrics` through a [`Collector`].

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::Metrics;

type Label = [(&'static str, String); 1];

/// `botkit_token_expires_at_seconds{account}` and `botkit_token_refreshes_total{outcome}`.
#[derive(Debug, Default)]
pub(super) struct TokenMetrics {
    expires_at: Family<Label, Gauge>,
    refreshes: Family<Label, Counter>,
}

impl TokenMetrics {
    /// New metrics, shown by `metrics` from now on.
    pub(super) fn register(metrics: &Metrics) -> Arc<Self> {
        let this = Arc::new(Self::default());
        for outcome in ["ok", "failed"] {
            drop(
                this.refreshes
                    .get_or_create(&[("outcome", outcome.to_owned())]),
            );
        }
        metrics.register_collector(Shown(Arc::clone(&this)));
        this
    }

    /// The expiry of `account`'s token in Unix seconds (`0`: never), or `None` to drop the
    /// series while it is unknown.
    pub(super) fn set_expiry(&self, account: &str, unix_seconds: Option<i64>) {
        let key = [("account", account.to_owned())];
        match unix_seconds {
            // One series per configured account: the configuration bounds them.
            Some(seconds) => {
                self.expires_at.get_or_create(&key).set(seconds);
            }
            None => {
                self.expires_at.remove(&key);
            }
        }
    }

    /// One refresh that ended with `outcome` (`ok` or `failed`).
    pub(super) fn refreshed(&self, outcome: &'static str) {
        self.refreshes
            .get_or_create(&[("outcome", outcome.to_owned())])
            .inc();
    }
}

#[derive(Debug)]
struct Shown(Arc<TokenMetrics>);

impl Collector for Shown {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let metric = encoder.encode_descriptor(
            "botkit_token_expires_at_seconds",
            "When each account's access token expires, in Unix seconds (0: never; absent while unknown).",
            None,
            self.0.expires_at.metric_type(),
        )?;
        self.0.expires_at.encode(metric)?;
        let metric = encoder.encode_descriptor(
            "botkit_token_refreshes",
            "Instagram Login token refreshes, by outcome.",
            None,
            self.0.refreshes.metric_type(),
        )?;
        self.0.refreshes.encode(metric)
    }
}
