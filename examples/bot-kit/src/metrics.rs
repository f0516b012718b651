//! Prometheus metrics for `/metrics`, kept and rendered by the
//! [`prometheus-client`](prometheus_client) crate in the Prometheus text format (0.0.4).
//!
//! [`Metrics`] owns one [`Registry`]; the bot records through the `record_*` methods and
//! [`Metrics::render`] encodes the registry. Labelled counters keep at most
//! [`MAX_LABEL_VALUES`] values per family (further values are counted under `other`, so a
//! caller cannot blow up cardinality).
//!
//! | Metric | Type | Labels |
//! |---|---|---|
//! | `botkit_webhook_deliveries_total` | counter | — |
//! | `botkit_webhook_signature_failures_total` | counter | — |
//! | `botkit_admin_auth_failures_total` | counter | — (admin requests refused `401`: missing or wrong bearer token) |
//! | `botkit_events_total` | counter | `kind` (event kind, e.g. `text`, `echo`) |
//! | `botkit_replies_sent_total` | counter | `source` (e.g. `rule`, `gpt`, `canned`, `handoff`) |
//! | `botkit_gpt_calls_total` | counter | `outcome` (`reply`, `handoff`, `failed`, `disabled`) |
//! | `botkit_gpt_latency_seconds` | histogram | — |
//! | `botkit_errors_total` | counter | `kind` (e.g. `send`, `store`, `gpt`, `notify`) |
//! | `botkit_send_failures_total` | counter | `kind` (the Send API error class, e.g. `rate_limited`, `outcome_unknown`, `auth`) |
//! | `botkit_policy_enforcements_total` | counter | `action` (`warning`, `block`, `unblock`): Meta's Messenger policy actions against a Page |
//! | `botkit_account_paused` | gauge | `account`: 1 while Meta rejects the account's token (code 190/102) |
//! | `botkit_reply_latency_seconds` | histogram | — (delivery accepted → reply sent) |
//! | `botkit_token_expires_at_seconds` | gauge | `account`: when its access token expires, Unix seconds (`0`: never; absent while unknown); see [`tokens`](crate::tokens) |
//! | `botkit_token_refreshes_total` | counter | `outcome` (`ok`, `failed`): Instagram Login token refreshes |
//! | `botkit_stream_enqueued_total` | counter | — (events a receiver added to Redis Streams) |
//! | `botkit_stream_handled_total` | counter | `outcome` (`ok`, `duplicate`, `failed`, `dead`): stream entries a worker finished and acknowledged |
//! | `botkit_stream_retries_total` | counter | — (entries left pending after a retryable failure) |
//! | `botkit_stream_reclaimed_total` | counter | — (entries taken over from a consumer that stopped) |
//! | `botkit_stream_ack_timeouts_total` | counter | — (receiver `XADD`s answered `503` after `STREAM_ACK_TIMEOUT_MS`; the entry may still have been stored, and Meta's retry is deduplicated) |
//!
//! ```
//! use std::time::Duration;
//! use bot_kit::metrics::Metrics;
//!
//! let metrics = Metrics::new();
//! metrics.record_delivery();
//! metrics.record_event("text");
//! metrics.record_gpt_call("reply", Duration::from_millis(420));
//! let text = metrics.render();
//! assert!(text.contains("botkit_webhook_deliveries_total 1\n"));
//! assert!(text.contains("botkit_events_total{kind=\"text\"} 1\n"));
//! assert!(text.contains("botkit_gpt_latency_seconds_bucket{le=\"0.5\"} 1\n"));
//! ```
//!
//! # Metrics read at scrape time
//!
//! Values that live elsewhere — a stats snapshot of a sink or a queue, say — are not
//! recorded event by event: register a [`Collector`] with [`Metrics::register_collector`],
//! and every [`render`](Metrics::render) asks it for its families, built from a fresh
//! snapshot with [`ConstCounter`](prometheus_client::metrics::counter::ConstCounter) and
//! [`ConstGauge`](prometheus_client::metrics::gauge::ConstGauge):
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use bot_kit::metrics::{Collector, Metrics};
//! use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
//! use prometheus_client::metrics::gauge::ConstGauge;
//!
//! /// Reads the depth of some queue on every scrape.
//! #[derive(Debug)]
//! struct QueueDepth(Arc<AtomicU64>);
//!
//! impl Collector for QueueDepth {
//!     fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
//!         let depth = ConstGauge::new(self.0.load(Ordering::Relaxed) as i64);
//!         let metric = encoder.encode_descriptor(
//!             "botkit_queue_depth",
//!             "Events waiting in the queue",
//!             None,
//!             depth.metric_type(),
//!         )?;
//!         depth.encode(metric)
//!     }
//! }
//!
//! let depth = Arc::new(AtomicU64::new(0));
//! let metrics = Metrics::new();
//! metrics.register_collector(QueueDepth(Arc::clone(&depth)));
//! depth.store(7, Ordering::Relaxed);
//! assert!(metrics.render().contains("botkit_queue_depth 7\n"));
//! ```

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use meta_webhooks::redis::{StreamStats, Streams};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use prometheus_client::collector::Collector;

/// `Content-Type` of [`Metrics::render`]'s output: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Distinct label values kept per labelled counter; more are counted as `other`.
pub const MAX_LABEL_VALUES: usize = 64;

/// Upper bounds (seconds) of the GPT latency histogram buckets.
pub const GPT_LATENCY_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];

/// Upper bounds (seconds) of the reply latency histogram buckets.
pub const REPLY_LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One label: its name and value.
type Label = [(&'static str, String); 1];

/// The bot's metrics. Share it in an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    /// Locked only to render and to register a collector; recording never takes it.
    registry: Mutex<Registry>,
    deliveries: Counter,
    signature_failures: Counter,
    admin_auth_failures: Counter,
    events: Labelled,
    replies: Labelled,
    gpt_calls: Labelled,
    errors: Labelled,
    send_failures: Labelled,
    policy_enforcements: Labelled,
    gpt_latency: Histogram,
    reply_latency: Histogram,
    account_paused: Family<Label, Gauge>,
    paused_accounts: Mutex<BTreeSet<String>>,
    stream_enqueued: Counter,
    stream_handled: Labelled,
    stream_retries: Counter,
    stream_reclaimed: Counter,
    stream_ack_timeouts: Counter,
    /// The Redis hand-off whose counters the `botkit_stream_*` metrics show, and what of
    /// them was added so far (see [`Metrics::observe_stream`]).
    stream: OnceLock<Streams>,
    stream_seen: Mutex<StreamStats>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All counters at zero (the GPT and stream outcomes are pre-registered so they show
    /// as 0).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        // Counters are registered without `_total`: the encoder appends it. Help texts
        // get their final period from the registry.
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let histogram = |registry: &mut Registry, name: &str, help: &str, bounds: &[f64]| {
            let histogram = Histogram::new(bounds.iter().copied());
            registry.register(name, help, histogram.clone());
            histogram
        };

        let deliveries = counter(
            &mut registry,
            "botkit_webhook_deliveries",
            "Webhook deliveries (POST /webhook) received",
        );
        let signature_failures = counter(
            &mut registry,
            "botkit_webhook_signature_failures",
            "Webhook deliveries rejected for a missing or invalid X-Hub-Signature-256",
        );
        let admin_auth_failures = counter(
            &mut registry,
            "botkit_admin_auth_failures",
            "Admin requests refused for a missing or wrong bearer token",
        );
        let events = Labelled::register(
            &mut registry,
            "botkit_events",
            "Webhook events handled, by kind",
            "kind",
            &[],
        );
        let replies = Labelled::register(
            &mut registry,
            "botkit_replies_sent",
            "Replies sent, by source",
            "source",
            &[],
        );
        let gpt_calls = Labelled::register(
            &mut registry,
            "botkit_gpt_calls",
            "GPT fallback calls, by outcome",
            "outcome",
            &["reply", "handoff", "failed", "disabled"],
        );
        let gpt_latency = histogram(
            &mut registry,
            "botkit_gpt_latency_seconds",
            "GPT fallback call latency",
            &GPT_LATENCY_BUCKETS,
        );
        let errors = Labelled::register(
            &mut registry,
            "botkit_errors",
            "Errors, by kind",
            "kind",
            &[],
        );
        let send_failures = Labelled::register(
            &mut registry,
            "botkit_send_failures",
            "Send API failures, by error kind",
            "kind",
            &[],
        );
        let policy_enforcements = Labelled::register(
            &mut registry,
            "botkit_policy_enforcements",
            "Messenger policy enforcements against a Page, by action",
            "action",
            &["warning", "block", "unblock"],
        );
        let account_paused = Family::<Label, Gauge>::default();
        registry.register(
            "botkit_account_paused",
            "1 while Meta rejects the account's access token",
            account_paused.clone(),
        );
        let reply_latency = histogram(
            &mut registry,
            "botkit_reply_latency_seconds",
            "Time from accepting a delivery to sending its reply",
            &REPLY_LATENCY_BUCKETS,
        );
        let stream_enqueued = counter(
            &mut registry,
            "botkit_stream_enqueued",
            "Events added to the Redis stream by this receiver",
        );
        let stream_handled = Labelled::register(
            &mut registry,
            "botkit_stream_handled",
            "Stream entries finished and acknowledged by this worker, by outcome",
            "outcome",
            &["ok", "duplicate", "failed", "dead"],
        );
        let stream_retries = counter(
            &mut registry,
            "botkit_stream_retries",
            "Stream entries left pending for another attempt after a retryable failure",
        );
        let stream_reclaimed = counter(
            &mut registry,
            "botkit_stream_reclaimed",
            "Stream entries taken over from a consumer that stopped",
        );
        let stream_ack_timeouts = counter(
            &mut registry,
            "botkit_stream_ack_timeouts",
            "Receiver XADDs answered 503 after the ack timeout; the entry may still have been stored",
        );

        Self {
            registry: Mutex::new(registry),
            deliveries,
            signature_failures,
            admin_auth_failures,
            events,
            replies,
            gpt_calls,
            errors,
            send_failures,
            policy_enforcements,
            gpt_latency,
            reply_latency,
            account_paused,
            paused_accounts: Mutex::new(BTreeSet::new()),
            stream_enqueued,
            stream_handled,
            stream_retries,
            stream_reclaimed,
            stream_ack_timeouts,
            stream: OnceLock::new(),
            stream_seen: Mutex::new(StreamStats::default()),
        }
    }

    /// Adds `collector`, asked for its metric families on every [`render`](Self::render)
    /// (see [the module docs](self#metrics-read-at-scrape-time)).
    pub fn register_collector(&self, collector: impl Collector) {
        self.registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .register_collector(Box::new(collector));
    }

    /// One webhook delivery (POST) received.
    pub fn record_delivery(&self) {
        self.deliveries.inc();
    }

    /// One delivery rejected for its signature.
    pub fn record_signature_failure(&self) {
        self.signature_failures.inc();
    }

    /// One admin request refused for a missing or wrong bearer token.
    pub fn record_admin_auth_failure(&self) {
        self.admin_auth_failures.inc();
    }

    /// One event of `kind` classified.
    pub fn record_event(&self, kind: &str) {
        self.events.inc(kind);
    }

    /// One reply sent, produced by `source`.
    pub fn record_reply(&self, source: &str) {
        self.replies.inc(source);
    }

    /// One GPT call that ended with `outcome` after `latency`.
    pub fn record_gpt_call(&self, outcome: &str, latency: Duration) {
        self.gpt_calls.inc(outcome);
        self.gpt_latency.observe(latency.as_secs_f64());
    }

    /// One error of `kind`.
    pub fn record_error(&self, kind: &str) {
        self.errors.inc(kind);
    }

    /// One Send API failure of `kind` (a `GraphErrorKind` label).
    pub fn record_send_failure(&self, kind: &str) {
        self.send_failures.inc(kind);
    }

    /// One Messenger policy enforcement (`warning`, `block`, `unblock`) against a Page.
    pub fn record_policy_enforcement(&self, action: &str) {
        self.policy_enforcements.inc(action);
    }

    /// One reply sent `latency` after its delivery was accepted.
    pub fn record_reply_latency(&self, latency: Duration) {
        self.reply_latency.observe(latency.as_secs_f64());
    }

    /// Marks `account` paused (its token was rejected); `true` if it was not before.
    pub fn pause_account(&self, account: &str) -> bool {
        let mut paused = self
            .paused_accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let newly = paused.len() < MAX_LABEL_VALUES && paused.insert(account.to_owned());
        if newly {
            self.account_paused
                .get_or_create(&[("account", account.to_owned())])
                .set(1);
        }
        newly
    }

    /// The accounts marked paused, in order.
    pub fn paused_accounts(&self) -> Vec<String> {
        self.paused_accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Shows the counters of the Redis hand-off `streams` ([`Streams::stats`]) as the
    /// `botkit_stream_*` metrics (`botkit_stream_ack_timeouts_total` for
    /// [`StreamStats::timed_out`]) and the `event`, `stream_full`, `stream_unavailable`
    /// (timeouts included) and `stream_entry_missing` kinds of `botkit_errors_total`,
    /// brought up to date on every [`render`](Self::render). The first call wins.
    pub fn observe_stream(&self, streams: Streams) {
        let _ = self.stream.set(streams);
    }

    /// Adds what the hand-off counted since the last render.
    fn sync_stream(&self) {
        let Some(streams) = self.stream.get() else {
            return;
        };
        let now = streams.stats();
        let mut seen = self
            .stream_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let new = |now: u64, seen: u64| now.saturating_sub(seen);
        self.stream_enqueued
            .inc_by(new(now.enqueued, seen.enqueued));
        self.stream_retries.inc_by(new(now.retries, seen.retries));
        self.stream_reclaimed
            .inc_by(new(now.reclaimed, seen.reclaimed));
        self.stream_ack_timeouts
            .inc_by(new(now.timed_out, seen.timed_out));
        for (outcome, n) in [
            ("ok", new(now.handled, seen.handled)),
            ("duplicate", new(now.duplicates, seen.duplicates)),
            ("failed", new(now.failed, seen.failed)),
            ("dead", new(now.dead, seen.dead)),
        ] {
            self.stream_handled.inc_by(outcome, n);
        }
        for (kind, n) in [
            ("event", new(now.invalid, seen.invalid)),
            ("stream_full", new(now.full, seen.full)),
            (
                "stream_unavailable",
                new(
                    now.unavailable + now.timed_out,
                    seen.unavailable + seen.timed_out,
                ),
            ),
            ("stream_entry_missing", new(now.missing, seen.missing)),
        ] {
            if n > 0 {
                self.errors.inc_by(kind, n);
            }
        }
        *seen = now;
    }

    /// Renders every metric, and those of the registered collectors, in the Prometheus
    /// text format (version 0.0.4, [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        self.sync_stream();
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::with_capacity(4096);
        // Writing to a `String` cannot fail; a collector that fails leaves a partial text.
        if let Err(error) = prometheus_text::encode(&mut out, &registry) {
            tracing::warn!(%error, "a metrics collector failed");
        }
        out
    }
}

/// A counter family with one label, bounded to [`MAX_LABEL_VALUES`] values plus `other`.
#[derive(Debug)]
struct Labelled {
    label: &'static str,
    family: Family<Label, Counter>,
    /// How many values the family holds; held while a value is added, so concurrent first
    /// uses cannot pass the bound.
    values: Mutex<usize>,
}

impl Labelled {
    /// A family registered as `name`, with `seeded` values present from the start (at 0).
    fn register(
        registry: &mut Registry,
        name: &str,
        help: &str,
        label: &'static str,
        seeded: &[&str],
    ) -> Self {
        let family = Family::<Label, Counter>::default();
        registry.register(name, help, family.clone());
        for value in seeded {
            drop(family.get_or_create(&[(label, (*value).to_owned())]));
        }
        Self {
            label,
            family,
            values: Mutex::new(seeded.len()),
        }
    }

    fn inc(&self, value: &str) {
        self.inc_by(value, 1);
    }

    fn inc_by(&self, value: &str, n: u64) {
        let key = [(self.label, value.to_owned())];
        if let Some(counter) = self.family.get(&key) {
            counter.inc_by(n);
            return;
        }
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let key = if self.family.get(&key).is_some() || *values < MAX_LABEL_VALUES {
            key
        } else {
            [(self.label, "other".to_owned())]
        };
        if self.family.get(&key).is_none() {
            *values += 1;
        }
        self.family.get_or_create(&key).inc_by(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_in_exposition_format() {
        let m = Metrics::new();
        m.record_delivery();
        m.record_delivery();
        m.record_signature_failure();
        m.record_admin_auth_failure();
        m.record_event("text");
        m.record_event("text");
        m.record_event("echo");
        m.record_reply("rule");
        m.record_gpt_call("reply", Duration::from_millis(80));
        m.record_gpt_call("failed", Duration::from_secs(9));
        m.record_gpt_call("reply", Duration::from_secs(40));
        m.record_error("send");
        m.record_policy_enforcement("block");
        let text = m.render();
        let expected = [
            "# TYPE botkit_webhook_deliveries_total counter\nbotkit_webhook_deliveries_total 2\n",
            "botkit_webhook_signature_failures_total 1\n",
            "botkit_admin_auth_failures_total 1\n",
            "botkit_stream_ack_timeouts_total 0\n",
            "# TYPE botkit_events_total counter\n",
            "botkit_events_total{kind=\"echo\"} 1\n",
            "botkit_events_total{kind=\"text\"} 2\n",
            "botkit_replies_sent_total{source=\"rule\"} 1\n",
            "botkit_gpt_calls_total{outcome=\"disabled\"} 0\n",
            "botkit_gpt_calls_total{outcome=\"failed\"} 1\n",
            "botkit_gpt_calls_total{outcome=\"reply\"} 2\n",
            "# TYPE botkit_gpt_latency_seconds histogram\n",
            "botkit_gpt_latency_seconds_bucket{le=\"0.1\"} 1\n",
            "botkit_gpt_latency_seconds_bucket{le=\"8\"} 1\n",
            "botkit_gpt_latency_seconds_bucket{le=\"16\"} 2\n",
            "botkit_gpt_latency_seconds_bucket{le=\"32\"} 2\n",
            "botkit_gpt_latency_seconds_bucket{le=\"+Inf\"} 3\n",
            "botkit_gpt_latency_seconds_sum 49.08\n",
            "botkit_gpt_latency_seconds_count 3\n",
            "botkit_errors_total{kind=\"send\"} 1\n",
            "botkit_policy_enforcements_total{action=\"block\"} 1\n",
            "botkit_policy_enforcements_total{action=\"warning\"} 0\n",
        ];
        for want in expected {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        // Every non-comment line is `name{labels} value` with a numeric value.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn paused_accounts_are_a_gauge_per_account() {
        let m = Metrics::new();
        assert!(m.pause_account("17841400000000001"));
        assert!(!m.pause_account("17841400000000001"));
        assert_eq!(m.paused_accounts(), vec!["17841400000000001".to_owned()]);
        let text = m.render();
        assert!(
            text.contains("# TYPE botkit_account_paused gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("botkit_account_paused{account=\"17841400000000001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# HELP botkit_account_paused 1 while Meta rejects the account's access token.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped_and_bounded() {
        let m = Metrics::new();
        m.record_error("a\"b\\c\nd");
        for i in 0..(MAX_LABEL_VALUES + 10) {
            m.record_event(&format!("k{i}"));
        }
        let text = m.render();
        assert!(
            text.contains("botkit_errors_total{kind=\"a\\\"b\\\\c\\nd\"} 1\n"),
            "{text}"
        );
        let event_lines = text
            .lines()
            .filter(|l| l.starts_with("botkit_events_total{"))
            .count();
        assert_eq!(event_lines, MAX_LABEL_VALUES + 1);
        assert!(text.contains("botkit_events_total{kind=\"other\"} 10\n"));
    }
}
