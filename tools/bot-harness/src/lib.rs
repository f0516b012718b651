//! The test harness of the example bots (`axum-bot`, `actix-bot`): the scenarios both bots'
//! `tests/` run against their real binary, and the processes those scenarios need.
//!
//! Not an example to learn the library from, and never published: each bot's
//! `tests/e2e.rs`, `tests/faults.rs` and `tests/hostile.rs` list one `#[tokio::test]` per scenario and call
//! the functions here with the bot's binary (`env!("CARGO_BIN_EXE_axum-bot")`), so both
//! bots pass exactly the same checks.
//!
//! | Module | What |
//! |---|---|
//! | [`e2e`] | one bot process against a mock Graph API and a mock OpenAI server (`wiremock`), with or without Redis: handshake, signatures, the behaviour per event kind, handoff, duplicates, timeouts, Redis going away, embedded defaults, configuration errors, log output |
//! | [`faults`] | receivers and workers on one Redis against a scripted Graph mock: duplicate storms, `SIGKILL`, a Redis outage, failing Graph answers, an expired token, `SIGTERM` |
//! | [`hostile`] | one bot under idle, slow and stalled connections, `SIGTERM` with stalled bodies, repeated signature headers, `Content-Length` with `Transfer-Encoding` |
//! | [`RedisServer`] | a real `redis-server` on a free loopback port: a re-export of `meta_webhooks::test_util::RedisServer` (also used by bot-kit's own tests) |
//!
//! Everything runs on `127.0.0.1`. The Redis scenarios **fail**, they do not skip, when
//! `redis-server` is not installed.

pub mod e2e;
pub mod faults;
pub mod hostile;

pub use meta_webhooks::test_util::{RedisServer, RedisServerError};
