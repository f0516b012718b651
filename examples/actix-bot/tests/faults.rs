//! Fault injection: the real `actix-bot` binary as receivers and workers on one real
//! `redis-server`, against a scripted Graph API mock. Each test runs one scenario of
//! [`bot_harness::faults`] (they run one at a time); the other bot runs the same list.
//! `--nocapture` shows one `[faults]` line of counts per scenario.

use std::path::Path;

use bot_harness::faults;

fn bot() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_actix-bot"))
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_storm_over_two_receivers_gets_exactly_one_reply_per_message() {
    faults::duplicate_storm(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_killed_mid_batch_loses_no_accepted_delivery() {
    faults::worker_sigkill(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_outage_is_a_fast_503_and_loses_nothing_acknowledged() {
    faults::redis_outage(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_failures_are_retried_or_given_up_as_classified() {
    faults::graph_failures(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_token_pauses_only_its_account() {
    faults::expired_token(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_in_flight_work_and_exits_0() {
    faults::sigterm_drain(bot()).await;
}
