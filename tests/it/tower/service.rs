//! Every path of the tower `Webhook` service over the endpoint, driven with
//! `tower::ServiceExt::oneshot`.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body::{Body, Frame};
use meta_webhooks::endpoint::{Accepted, Endpoint, Rejection, RejectionKind};
use meta_webhooks::event::EventKind;
use meta_webhooks::sink::{SinkError, handler_fn};
use meta_webhooks::test_util::{
    Corpus, DeliveryBuilder, HandshakeRequest, MessagingItem, Outcome, SignedRequest,
};
use meta_webhooks::tower::{Acknowledge, Webhook, WebhookLayer};
use tower::{Layer, ServiceBuilder, ServiceExt, service_fn};

use super::{
    ACCOUNT, RecordingSink, SECRET, Served, TOKEN, body_of, handshake, refused_handshakes, verifier,
};
use crate::bodies::{Endless, Failing, Stalled};

fn endpoint(sink: RecordingSink) -> Endpoint<RecordingSink> {
    Endpoint::builder(verifier(), handshake(), sink).build()
}

fn webhook(sink: RecordingSink) -> Webhook<Acknowledge, RecordingSink> {
    Webhook::new(endpoint(sink))
}

fn limited(sink: RecordingSink, limit: usize) -> Webhook<Acknowledge, RecordingSink> {
    Webhook::new(
        Endpoint::builder(verifier(), handshake(), sink)
            .body_limit(limit)
            .build(),
    )
}

fn rejection_of<B>(response: &Response<B>) -> Rejection {
    response
        .extensions()
        .get::<Rejection>()
        .cloned()
        .expect("a rejection rides in the extensions")
}

/// A delivery of one text message.
fn hi() -> DeliveryBuilder {
    DeliveryBuilder::instagram().messaging(MessagingItem::text("hi"))
}

#[tokio::test]
async fn handshake_echoes_the_challenge_as_text_plain() {
    let sink = RecordingSink::default();
    let request = HandshakeRequest::new(TOKEN).challenge("1158201444");
    let response = webhook(sink.clone())
        .oneshot(request.served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert!(response.extensions().get::<Rejection>().is_none());
    assert_eq!(body_of(response).await, "1158201444");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn handshake_refusals_are_403_or_400() {
    let cases = refused_handshakes();
    for (request, status) in cases {
        let query = request.query();
        let response = webhook(RecordingSink::default())
            .oneshot(request.served())
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{query}");
        let rejection = rejection_of(&response);
        assert_eq!(rejection.kind(), RejectionKind::Handshake, "{query}");
        let body = body_of(response).await;
        assert_eq!(body, status.canonical_reason().unwrap(), "{query}");
        assert!(!String::from_utf8_lossy(&body).contains("script"));
    }
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD] {
        let sink = RecordingSink::default();
        let request = hi().signed(SECRET).method(method.clone());
        let response = webhook(sink.clone())
            .oneshot(request.served())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert_eq!(
            rejection_of(&response).kind(),
            RejectionKind::MethodNotAllowed
        );
        assert_eq!(sink.count(), 0);
    }
}

#[tokio::test]
async fn accepted_delivery_is_200_only_after_the_sink_has_it() {
    let sink = RecordingSink::default();
    let delivery = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("Hi! \u{e4} \u{1f600}").mid("mid-1"))
        .messaging(
            MessagingItem::text("")
                .sender("6934581207719433")
                .mid("mid-2"),
        );
    let body = delivery.build();
    let response = webhook(sink.clone())
        .oneshot(delivery.signed(SECRET).served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.extensions().get::<Rejection>().is_none());
    assert!(body_of(response).await.is_empty());

    let accepted = sink.accepted.lock().unwrap();
    assert_eq!(accepted.len(), 1);
    let batch = &accepted[0];
    assert_eq!(batch.body(), &body, "the raw bytes are kept");
    assert_eq!(batch.verified().secret_index(), 0);
    let events: Vec<_> = batch.events().collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind(), EventKind::Text);
    assert_eq!(events[0].text(), Some("Hi! \u{e4} \u{1f600}"));
    assert_eq!(events[0].account().map(|a| a.as_str()), Some(ACCOUNT));
    assert_eq!(events[1].mid().map(|m| m.as_str()), Some("mid-2"));
}

#[tokio::test]
async fn signature_failures_are_401_and_nothing_reaches_the_sink() {
    let request = || hi().signed(SECRET);
    for (name, request) in [
        ("missing", request().unsigned()),
        (
            "legacy only",
            request().unsigned().header(
                "x-hub-signature",
                "sha1=0000000000000000000000000000000000000000",
            ),
        ),
        ("forged", request().signed_with("another-secret")),
        ("malformed", request().signature("sha256=xyz")),
        // Right signature, the body changed after signing.
        ("tampered", request().tampered()),
    ] {
        let sink = RecordingSink::default();
        let response = webhook(sink.clone())
            .oneshot(request.served())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            rejection_of(&response).kind(),
            RejectionKind::Signature,
            "{name}"
        );
        let text = body_of(response).await;
        assert_eq!(text, "Unauthorized", "{name}: reveals nothing");
        assert_eq!(sink.count(), 0, "{name}");
    }
}

#[tokio::test]
async fn two_signature_headers_are_401_even_when_both_are_right() {
    let request = hi().signed(SECRET).duplicate_signature();
    let sink = RecordingSink::default();
    let response = webhook(sink.clone())
        .oneshot(request.served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rejection_of(&response).kind(), RejectionKind::Signature);
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_408() {
    let sink = RecordingSink::default();
    let service = Webhook::new(
        Endpoint::builder(verifier(), handshake(), sink.clone())
            .body_timeout(std::time::Duration::from_millis(50))
            .build(),
    );
    let request = SignedRequest::new(SECRET, "{}")
        .build()
        .unwrap()
        .map(|_| Stalled);
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(rejection_of(&response).kind(), RejectionKind::Timeout);
    assert_eq!(body_of(response).await, "Request Timeout");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_verified_body_that_is_not_a_delivery_is_400() {
    for body in [
        "",
        "not json",
        "[]",
        r#"{"object":"instagram"}"#,
        r#"{"object":"instagram","entry":"#,
    ] {
        let sink = RecordingSink::default();
        let response = webhook(sink.clone())
            .oneshot(SignedRequest::new(SECRET, body).served())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(
            rejection_of(&response).kind(),
            RejectionKind::Parse,
            "{body:?}"
        );
        assert_eq!(sink.count(), 0);
    }
}

#[tokio::test]
async fn the_fixture_rejects_are_400_and_the_deliveries_200() {
    let mut checked = 0;
    for fixture in Corpus::new().fixtures() {
        let fixture = fixture.unwrap();
        let rejected = match fixture.expected() {
            Some(expected) => *expected == Outcome::Rejected,
            None => fixture.is_reject(),
        };
        let sink = RecordingSink::default();
        let response = webhook(sink.clone())
            .oneshot(fixture.signed(SECRET).served())
            .await
            .unwrap();
        let want = if rejected {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(response.status(), want, "{}", fixture.name());
        assert_eq!(sink.count(), usize::from(!rejected), "{}", fixture.name());
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} fixtures");
}

#[tokio::test]
async fn per_item_errors_are_handed_to_the_sink() {
    let fixture = Corpus::new()
        .fixture("instagram/edge/mixed__sender_id_object")
        .unwrap();
    let sink = RecordingSink::default();
    let response = webhook(sink.clone())
        .oneshot(fixture.signed(SECRET).served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let accepted = sink.accepted.lock().unwrap();
    let batch = &accepted[0];
    assert!(batch.errors().count() >= 1, "the bad item is kept");
    assert!(batch.events().count() >= 1, "its neighbours too");
    let error = batch.errors().next().unwrap();
    assert!(!error.reason().is_empty());
    assert!(!error.raw().is_empty());
}

#[tokio::test]
async fn content_length_over_the_limit_is_413_without_reading() {
    let sink = RecordingSink::default();
    let service = limited(sink.clone(), 100);
    let polled = Arc::new(AtomicUsize::new(0));
    let request = SignedRequest::new(SECRET, "x")
        .header("content-length", "101")
        .build()
        .unwrap()
        .map(|_| Endless::new(&polled, 10));
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rejection_of(&response).kind(), RejectionKind::TooLarge);
    assert_eq!(polled.load(Ordering::SeqCst), 0, "the body was never read");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_streamed_body_is_cut_off_at_the_limit() {
    let sink = RecordingSink::default();
    let service = limited(sink.clone(), 1000);
    let polled = Arc::new(AtomicUsize::new(0));
    // No Content-Length, no size hint, no signature even: the size limit comes first.
    let request = Request::post("/webhook")
        .body(Endless::new(&polled, 64))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rejection_of(&response).kind(), RejectionKind::TooLarge);
    // 1000 / 64 → the 16th chunk crosses the limit; reading stopped there.
    assert_eq!(polled.load(Ordering::SeqCst), 16);
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_body_at_the_limit_in_many_chunks_is_joined_and_verified() {
    let request = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("x".repeat(400)))
        .signed(SECRET)
        .build()
        .unwrap();
    let body = request.body().clone();
    let sink = RecordingSink::default();
    let service = limited(sink.clone(), body.len());
    let chunks: Vec<Bytes> = body.chunks(7).map(Bytes::copy_from_slice).collect();
    let request = request.map(|_| Chunks(chunks.into()));
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sink.accepted.lock().unwrap()[0].body(), &body);
}

#[tokio::test]
async fn a_failing_body_is_400() {
    let sink = RecordingSink::default();
    let request = SignedRequest::new(SECRET, "")
        .build()
        .unwrap()
        .map(|_| Failing);
    let response = webhook(sink.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let rejection = rejection_of(&response);
    assert_eq!(rejection.kind(), RejectionKind::Body);
    let cause = std::error::Error::source(&rejection).unwrap().to_string();
    assert!(cause.contains("connection reset"), "{cause}");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_refusing_sink_is_503() {
    for error in [
        SinkError::Full,
        SinkError::Closed,
        SinkError::failed("store down"),
    ] {
        let sink = RecordingSink::refusing(error.clone());
        let response = webhook(sink)
            .oneshot(hi().signed(SECRET).served())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{error}"
        );
        let rejection = rejection_of(&response);
        assert_eq!(rejection.kind(), RejectionKind::Sink);
        let cause = std::error::Error::source(&rejection)
            .and_then(|e| e.downcast_ref::<SinkError>())
            .cloned();
        assert_eq!(cause, Some(error));
    }
}

#[tokio::test]
async fn the_rejection_response_is_pluggable() {
    let sink = RecordingSink::default();
    let service = WebhookLayer::new(endpoint(sink))
        .rejection(|rejection: &Rejection| {
            let mut response = Response::new(Bytes::from(rejection.kind().as_str()));
            *response.status_mut() = rejection.status();
            response
                .headers_mut()
                .insert("x-custom", "1".parse().unwrap());
            response
        })
        .layer(Acknowledge);
    let request = DeliveryBuilder::instagram()
        .signed(SECRET)
        .signed_with("nope");
    let response = service.oneshot(request.served()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-custom"], "1");
    assert_eq!(rejection_of(&response).kind(), RejectionKind::Signature);
    assert_eq!(body_of(response).await, "signature");
}

#[tokio::test]
async fn the_layer_wraps_an_inner_service_that_sees_the_accepted_summary() {
    let sink = RecordingSink::default();
    let layer = WebhookLayer::new(endpoint(sink.clone()));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let service = ServiceBuilder::new().layer(layer).service(service_fn(
        move |request: Request<Accepted>| {
            seen.fetch_add(1, Ordering::SeqCst);
            let accepted = *request.body();
            let path = request.uri().path().to_owned();
            async move {
                assert_eq!(path, "/webhook");
                assert_eq!(request.headers()["content-type"], "application/json");
                let text = format!(
                    "EVENT_RECEIVED {} {} {}",
                    accepted.events(),
                    accepted.errors(),
                    accepted.len()
                );
                Ok::<_, Infallible>(Response::new(text))
            }
        },
    ));
    let delivery = DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("x"))
        .messaging(MessagingItem::text("y"));
    let len = delivery.build().len();
    let response = service
        .clone()
        .oneshot(delivery.signed(SECRET).served())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, format!("EVENT_RECEIVED 2 0 {len}"));

    // A rejected request never reaches the inner service.
    let bad = delivery.signed(SECRET).unsigned();
    let response = service.oneshot(bad.served()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(sink.count(), 1);
}

#[tokio::test]
async fn memory_sink_behind_the_endpoint_handles_what_it_acknowledged() {
    let handled = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&handled);
    let sink = meta_webhooks::sink::MemorySink::builder()
        .start(handler_fn(move |event: meta_webhooks::Event| {
            let record = Arc::clone(&record);
            async move {
                record
                    .lock()
                    .unwrap()
                    .push(event.text().unwrap_or_default().to_owned());
                Ok::<(), Infallible>(())
            }
        }))
        .unwrap();
    let service = Webhook::new(Endpoint::builder(verifier(), handshake(), sink.clone()).build());
    let response = service
        .oneshot(
            DeliveryBuilder::instagram()
                .messaging(MessagingItem::text("hello"))
                .signed(SECRET)
                .served(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    sink.shutdown().await;
    assert_eq!(*handled.lock().unwrap(), vec!["hello".to_owned()]);
    assert_eq!(sink.stats().handled, 1);
    assert_eq!(sink.stats().accepted, 1);
}

/// A body delivered in the given chunks.
struct Chunks(std::collections::VecDeque<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
    }
}
