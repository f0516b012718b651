//! Hostile peers against the real `axum-bot` binary (memory mode, small limits): each test
//! runs one scenario of [`bot_harness::hostile`]; the other bot runs the same list.
//! `--nocapture` shows one `[hostile]` line of timings per scenario.

use std::path::Path;

use bot_harness::hostile;

fn bot() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_axum-bot"))
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_slow_and_stalled_connections_leave_deliveries_answered_and_memory_bounded() {
    hostile::hostile_connections_leave_deliveries_answered(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_stalled_bodies_exits_within_the_shutdown_timeout() {
    hostile::sigterm_with_stalled_bodies_is_bounded(bot()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_signature_headers_get_401() {
    hostile::duplicate_signature_headers_get_401(bot()).await;
}

/// hyper follows RFC 9112: the transfer coding wins (the signed chunked body is the
/// delivery, `200`), the length is dropped and the connection is closed after the answer.
#[tokio::test(flavor = "multi_thread")]
async fn content_length_with_transfer_encoding_is_read_chunked_and_closed() {
    let smuggled = hostile::content_length_with_transfer_encoding(bot()).await;
    assert_eq!(smuggled.status, Some(200));
    assert!(smuggled.closed, "connection kept open: {smuggled:?}");
}

/// Refused at once with `503`, never queued.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_over_the_cap_is_refused_at_once_with_503() {
    let over = hostile::connection_over_the_cap(bot()).await;
    assert!(over.refused_at_once, "{over:?}");
    assert_eq!(over.status, Some(503));
}
