//! Hostile peers against the real `actix-bot` binary (memory mode, small limits): each test
//! runs one scenario of [`bot_harness::hostile`]; the other bot runs the same list.
//! `--nocapture` shows one `[hostile]` line of timings per scenario.

use std::path::Path;

use bot_harness::hostile;

fn bot() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_actix-bot"))
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

/// actix-web refuses the request (`400`) and closes the connection.
#[tokio::test(flavor = "multi_thread")]
async fn content_length_with_transfer_encoding_is_refused() {
    let smuggled = hostile::content_length_with_transfer_encoding(bot()).await;
    assert_eq!(smuggled.status, Some(400));
    assert!(smuggled.closed, "connection kept open: {smuggled:?}");
}

/// actix-web stops accepting while full; the connection waits in the (bounded) backlog
/// until the idle ones time out, and is then served.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_over_the_cap_waits_at_most_for_the_header_timeout() {
    let over = hostile::connection_over_the_cap(bot()).await;
    assert!(over.settled, "{over:?}");
    assert_eq!(over.status, Some(200));
}
