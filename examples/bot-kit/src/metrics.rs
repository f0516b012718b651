//! Prometheus metrics, rendered in the text exposition format for `/metrics`.
//!
//! A small hand-written registry: plain counters are atomics, labelled counters are a
//! mutex-guarded map (at most [`MAX_LABEL_VALUES`] values per family; further values are
//! counted under `other`, so a caller cannot blow up cardinality), and the GPT latency is
//! a fixed-bucket histogram.
//!
//! | Metric | Type | Labels |
//! |---|---|---|
//! | `botkit_webhook_deliveries_total` | counter | — |
//! | `botkit_webhook_signature_failures_total` | counter | — |
//! | `botkit_events_total` | counter | `kind` (event kind, e.g. `text`, `echo`) |
//! | `botkit_replies_sent_total` | counter | `source` (e.g. `rule`, `gpt`, `canned`, `handoff`) |
//! | `botkit_gpt_calls_total` | counter | `outcome` (`reply`, `handoff`, `failed`, `disabled`) |
//! | `botkit_gpt_latency_seconds` | histogram | — |
//! | `botkit_errors_total` | counter | `kind` (e.g. `send`, `store`, `gpt`, `notify`) |
//! | `botkit_send_failures_total` | counter | `kind` (the Send API error class, e.g. `rate_limited`, `outcome_unknown`, `auth`) |
//! | `botkit_account_paused` | gauge | `account`: 1 while Meta rejects the account's token (code 190/102) |
//! | `botkit_reply_latency_seconds` | histogram | — (delivery accepted → reply sent) |
//! | `botkit_stream_enqueued_total` | counter | — (events a receiver added to Redis Streams) |
//! | `botkit_stream_handled_total` | counter | `outcome` (`ok`, `duplicate`, `failed`, `dead`): stream entries a worker finished and acknowledged |
//! | `botkit_stream_retries_total` | counter | — (entries left pending after a retryable failure) |
//! | `botkit_stream_reclaimed_total` | counter | — (entries taken over from a consumer that stopped) |
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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Distinct label values kept per labelled counter; more are counted as `other`.
pub const MAX_LABEL_VALUES: usize = 64;

/// Upper bounds (seconds) of the GPT latency histogram buckets.
pub const GPT_LATENCY_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];

/// Upper bounds (seconds) of the reply latency histogram buckets.
pub const REPLY_LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The bot's metrics. Share it in an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    deliveries: AtomicU64,
    signature_failures: AtomicU64,
    events: Labelled,
    replies: Labelled,
    gpt_calls: Labelled,
    errors: Labelled,
    send_failures: Labelled,
    gpt_latency: Histogram,
    reply_latency: Histogram,
    paused_accounts: Mutex<BTreeSet<String>>,
    stream_enqueued: AtomicU64,
    stream_handled: Labelled,
    stream_retries: AtomicU64,
    stream_reclaimed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All counters at zero (the GPT outcomes are pre-registered so they show as 0).
    pub fn new() -> Self {
        Self {
            deliveries: AtomicU64::new(0),
            signature_failures: AtomicU64::new(0),
            events: Labelled::default(),
            replies: Labelled::default(),
            gpt_calls: Labelled::seeded(&["reply", "handoff", "failed", "disabled"]),
            errors: Labelled::default(),
            send_failures: Labelled::default(),
            gpt_latency: Histogram::new(&GPT_LATENCY_BUCKETS),
            reply_latency: Histogram::new(&REPLY_LATENCY_BUCKETS),
            paused_accounts: Mutex::new(BTreeSet::new()),
            stream_enqueued: AtomicU64::new(0),
            stream_handled: Labelled::seeded(&["ok", "duplicate", "failed", "dead"]),
            stream_retries: AtomicU64::new(0),
            stream_reclaimed: AtomicU64::new(0),
        }
    }

    /// One webhook delivery (POST) received.
    pub fn record_delivery(&self) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
    }

    /// One delivery rejected for its signature.
    pub fn record_signature_failure(&self) {
        self.signature_failures.fetch_add(1, Ordering::Relaxed);
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
        self.gpt_latency.observe(latency);
    }

    /// One error of `kind`.
    pub fn record_error(&self, kind: &str) {
        self.errors.inc(kind);
    }

    /// One Send API failure of `kind` (a `GraphErrorKind` label).
    pub fn record_send_failure(&self, kind: &str) {
        self.send_failures.inc(kind);
    }

    /// One reply sent `latency` after its delivery was accepted.
    pub fn record_reply_latency(&self, latency: Duration) {
        self.reply_latency.observe(latency);
    }

    /// Marks `account` paused (its token was rejected); `true` if it was not before.
    pub fn pause_account(&self, account: &str) -> bool {
        let mut paused = self
            .paused_accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        paused.len() < MAX_LABEL_VALUES && paused.insert(account.to_owned())
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

    /// `n` events added to the durable stream.
    pub fn record_enqueued(&self, n: u64) {
        self.stream_enqueued.fetch_add(n, Ordering::Relaxed);
    }

    /// One stream entry finished with `outcome` (`ok`, `duplicate`, `failed`, `dead`).
    pub fn record_handled(&self, outcome: &str) {
        self.stream_handled.inc(outcome);
    }

    /// One stream entry left pending after a retryable failure.
    pub fn record_stream_retry(&self) {
        self.stream_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` stream entries reclaimed from a stopped consumer.
    pub fn record_reclaimed(&self, n: u64) {
        self.stream_reclaimed.fetch_add(n, Ordering::Relaxed);
    }

    /// Renders every metric in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        counter(
            &mut out,
            "botkit_webhook_deliveries_total",
            "Webhook deliveries (POST /webhook) received.",
            self.deliveries.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "botkit_webhook_signature_failures_total",
            "Webhook deliveries rejected for a missing or invalid X-Hub-Signature-256.",
            self.signature_failures.load(Ordering::Relaxed),
        );
        self.events.render(
            &mut out,
            "botkit_events_total",
            "Webhook events handled, by kind.",
            "kind",
        );
        self.replies.render(
            &mut out,
            "botkit_replies_sent_total",
            "Replies sent, by source.",
            "source",
        );
        self.gpt_calls.render(
            &mut out,
            "botkit_gpt_calls_total",
            "GPT fallback calls, by outcome.",
            "outcome",
        );
        self.gpt_latency.render(
            &mut out,
            "botkit_gpt_latency_seconds",
            "GPT fallback call latency.",
        );
        self.errors
            .render(&mut out, "botkit_errors_total", "Errors, by kind.", "kind");
        self.send_failures.render(
            &mut out,
            "botkit_send_failures_total",
            "Send API failures, by error kind.",
            "kind",
        );
        let _ = writeln!(
            out,
            "# HELP botkit_account_paused 1 while Meta rejects the account's access token."
        );
        let _ = writeln!(out, "# TYPE botkit_account_paused gauge");
        for account in self.paused_accounts() {
            let _ = writeln!(
                out,
                "botkit_account_paused{{account=\"{}\"}} 1",
                escape_label(&account)
            );
        }
        self.reply_latency.render(
            &mut out,
            "botkit_reply_latency_seconds",
            "Time from accepting a delivery to sending its reply.",
        );
        counter(
            &mut out,
            "botkit_stream_enqueued_total",
            "Events added to the Redis stream by this receiver.",
            self.stream_enqueued.load(Ordering::Relaxed),
        );
        self.stream_handled.render(
            &mut out,
            "botkit_stream_handled_total",
            "Stream entries finished and acknowledged by this worker, by outcome.",
            "outcome",
        );
        counter(
            &mut out,
            "botkit_stream_retries_total",
            "Stream entries left pending for another attempt after a retryable failure.",
            self.stream_retries.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "botkit_stream_reclaimed_total",
            "Stream entries taken over from a consumer that stopped.",
            self.stream_reclaimed.load(Ordering::Relaxed),
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {value}");
}

#[derive(Debug, Default)]
struct Labelled {
    values: Mutex<BTreeMap<String, u64>>,
}

impl Labelled {
    fn seeded(labels: &[&str]) -> Self {
        Self {
            values: Mutex::new(labels.iter().map(|l| ((*l).to_owned(), 0)).collect()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inc(&self, label: &str) {
        let mut values = self.lock();
        if let Some(v) = values.get_mut(label) {
            *v += 1;
        } else if values.len() < MAX_LABEL_VALUES {
            values.insert(label.to_owned(), 1);
        } else {
            *values.entry("other".to_owned()).or_insert(0) += 1;
        }
    }

    fn render(&self, out: &mut String, name: &str, help: &str, label: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (value, count) in self.lock().iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {count}", escape_label(value));
        }
    }
}

#[derive(Debug)]
struct Histogram {
    /// Upper bounds in seconds.
    bounds: &'static [f64],
    /// Non-cumulative counts per bucket of `bounds`, then the overflow.
    buckets: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let index = self
            .bounds
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(self.bounds.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (le, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        if let Some(overflow) = self.buckets.last() {
            cumulative += overflow.load(Ordering::Relaxed);
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        // `count` equals the +Inf bucket in a quiescent registry; use the bucket total so
        // a scrape during an observation stays self-consistent.
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
    out
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
        m.record_event("text");
        m.record_event("text");
        m.record_event("echo");
        m.record_reply("rule");
        m.record_gpt_call("reply", Duration::from_millis(80));
        m.record_gpt_call("failed", Duration::from_secs(9));
        m.record_gpt_call("reply", Duration::from_secs(40));
        m.record_error("send");
        let text = m.render();
        let expected = [
            "# TYPE botkit_webhook_deliveries_total counter\nbotkit_webhook_deliveries_total 2\n",
            "botkit_webhook_signature_failures_total 1\n",
            "# TYPE botkit_events_total counter\nbotkit_events_total{kind=\"echo\"} 1\nbotkit_events_total{kind=\"text\"} 2\n",
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
