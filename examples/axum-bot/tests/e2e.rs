//! End-to-end: the real `axum-bot` binary against mock Graph/OpenAI servers and a real
//! `redis-server` (the scenarios live in `bot_kit::testing::e2e`, shared with actix-bot).

use std::path::Path;

use bot_kit::testing::e2e;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_axum-bot"))
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake() {
    e2e::handshake(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signature_is_401_and_nothing_is_sent() {
    e2e::bad_signature(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn behaviour_per_event_kind() {
    e2e::behaviours(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handoff_then_resolve() {
    e2e::handoff_and_resolve(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_deliveries_to_two_processes_get_one_reply() {
    e2e::duplicates_two_processes(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gpt_timeout_gives_the_canned_reply() {
    e2e::gpt_timeout(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_is_503_and_service_resumes() {
    e2e::redis_restart(bin()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_with_no_environment_in_dry_run() {
    e2e::embedded_defaults(bin()).await;
}

#[test]
fn bad_configuration_is_one_line_and_exit_2() {
    e2e::bad_config(bin());
}
