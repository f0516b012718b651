//! End-to-end: the real `axum-bot` binary on a free loopback port, against a mock Graph API,
//! a mock OpenAI server and, where state matters, a real `redis-server`. Each test runs
//! one scenario of [`bot_harness::e2e`]; the other bot runs the same list.

use std::path::Path;

use bot_harness::e2e;

fn bot() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_axum-bot"))
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_echoes_the_challenge_only_for_the_verify_token() {
    e2e::handshake(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signature_is_401_counted_and_nothing_is_sent() {
    e2e::bad_signature(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn text_matching_a_rule_gets_the_rule_reply_without_a_model_call() {
    e2e::rule_reply(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn text_without_a_rule_gets_typing_then_the_model_answer() {
    e2e::model_fallback(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn story_replies_are_answered_by_intent() {
    e2e::story_replies(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn story_mention_is_thanked_and_recorded_with_its_cdn_url() {
    e2e::story_mention(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn media_gets_an_acknowledgement() {
    e2e::media_acknowledged(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn comment_matching_a_rule_gets_one_private_reply_even_when_redelivered() {
    e2e::comment_private_reply(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn page_comment_matching_a_rule_gets_one_private_reply_on_the_page_messages_endpoint() {
    e2e::page_comment_private_reply(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_block_and_warning_are_logged_as_warnings_and_counted() {
    e2e::policy_enforcement_logged_and_counted(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reactions_reads_deletions_unknown_and_stale_events_get_no_reply() {
    e2e::silent_events(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_account_is_answered_with_its_own_token() {
    e2e::token_per_account(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bots_own_echo_does_not_hand_off() {
    e2e::own_echo_keeps_answering(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handoff_notifies_and_silences_the_bot_until_resolved() {
    e2e::handoff_and_resolve(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_delivery_to_two_processes_sharing_redis_gets_one_reply() {
    e2e::duplicates_two_processes(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn model_timeout_gives_the_canned_reply() {
    e2e::gpt_timeout(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_is_503_and_service_resumes_when_it_is_back() {
    e2e::redis_restart(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_with_no_environment_in_dry_run() {
    e2e::embedded_defaults(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn log_lines_carry_no_colour_codes_off_a_terminal() {
    e2e::plain_logs_off_a_terminal(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_text_signed_with_the_whatsapp_app_secret_is_marked_read_then_answered() {
    e2e::whatsapp_text_reply(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_statuses_get_nothing() {
    e2e::whatsapp_statuses_get_nothing(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_message_redelivered_to_two_processes_gets_one_reply() {
    e2e::whatsapp_redelivery_gets_one_reply(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instagram_and_whatsapp_are_answered_on_one_endpoint_with_two_app_secrets() {
    e2e::instagram_and_whatsapp_on_one_endpoint(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_handoff_marks_read_without_answering_until_resolved() {
    e2e::whatsapp_handoff_and_resolve(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn whatsapp_without_a_token_is_answered_dry() {
    e2e::whatsapp_dry_run(bot()).await;
}

#[test]
fn bad_configuration_is_one_line_and_exit_code_2() {
    e2e::bad_config(bot());
}
