//! Every status of the endpoint's HTTP contract, through `Endpoint` directly: the
//! handshake, `deliver` / `deliver_signatures` with a body in memory, and `receive` /
//! `read_body` / `read_stream` reading it, each outcome also as an `Answer`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::Full;
use meta_webhooks::endpoint::{
    Answer, BodyError, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, Endpoint, Rejection, RejectionKind,
};
use meta_webhooks::event::EventKind;
use meta_webhooks::sink::SinkError;
use meta_webhooks::test_util::{
    DeliveryBuilder, HandshakeRequest, MessagingItem, SignedRequest, sign,
};
use meta_webhooks::{HandshakeError, ParseError, VerifyError};

use super::{
    ACCOUNT, RecordingSink, SECRET, TOKEN, handshake, parts, refused_handshakes, verifier,
};
use crate::bodies::{Endless, Failing, Stalled};

fn endpoint(sink: RecordingSink) -> Endpoint<RecordingSink> {
    Endpoint::builder(verifier(), handshake(), sink).build()
}

/// A delivery of one text message.
fn hi() -> Bytes {
    DeliveryBuilder::instagram()
        .messaging(MessagingItem::text("hi"))
        .build()
}

/// The rejection's kind and status, and the answer a framework would send.
fn check(rejection: &Rejection, kind: RejectionKind, status: StatusCode) {
    assert_eq!(rejection.kind(), kind, "{rejection}");
    assert_eq!(rejection.status(), status, "{rejection}");
    let answer = Answer::from(rejection);
    assert_eq!(answer.status(), status);
    assert_eq!(answer.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(
        answer.body().as_ref(),
        status.canonical_reason().unwrap().as_bytes(),
        "the answer reveals nothing of the cause"
    );
}

fn cause<E: std::error::Error + 'static>(rejection: &Rejection) -> &E {
    std::error::Error::source(rejection)
        .and_then(|source| source.downcast_ref::<E>())
        .expect("the cause is the source")
}

#[tokio::test]
async fn defaults() {
    let endpoint = endpoint(RecordingSink::default());
    assert_eq!(endpoint.body_limit(), DEFAULT_BODY_LIMIT);
    assert_eq!(endpoint.body_timeout(), Some(DEFAULT_BODY_TIMEOUT));
    let endpoint = Endpoint::builder(verifier(), handshake(), RecordingSink::default())
        .body_limit(10)
        .body_timeout(None)
        .build();
    assert_eq!(endpoint.body_limit(), 10);
    assert_eq!(endpoint.body_timeout(), None);
    let debug = format!("{endpoint:?}");
    assert!(!debug.contains(SECRET) && !debug.contains(TOKEN), "{debug}");
}

#[tokio::test]
async fn handshake_200_with_the_challenge_as_text_plain() {
    let endpoint = endpoint(RecordingSink::default());
    let query = HandshakeRequest::new(TOKEN).challenge("1158201444").query();
    let answer = Answer::from(endpoint.handshake(&query));
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(
        answer.headers().collect::<Vec<_>>(),
        [("content-type", "text/plain; charset=utf-8")]
    );
    assert_eq!(answer.body().as_ref(), b"1158201444");
    let response = answer.into_response();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.body().as_ref(), b"1158201444");
}

#[tokio::test]
async fn handshake_refused_403_and_malformed_400() {
    let endpoint = endpoint(RecordingSink::default());
    let cases = refused_handshakes();
    for (request, status) in cases {
        let query = request.query();
        let rejection = endpoint.handshake(&query).unwrap_err();
        check(&rejection, RejectionKind::Handshake, status);
        let _: &HandshakeError = cause(&rejection);
    }
}

#[tokio::test]
async fn other_methods_405_with_allow() {
    let rejection = endpoint(RecordingSink::default()).method_not_allowed();
    check(
        &rejection,
        RejectionKind::MethodNotAllowed,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    let answer = Answer::from(&rejection);
    assert!(answer.headers().any(|h| h == ("allow", "GET, POST")));
    assert_eq!(answer.into_response().headers()[header::ALLOW], "GET, POST");
}

#[tokio::test]
async fn accepted_200_only_after_the_sink_has_it() {
    let sink = RecordingSink::default();
    let endpoint = endpoint(sink.clone());
    let (headers, body) = parts(
        DeliveryBuilder::instagram()
            .messaging(MessagingItem::text("Hi! \u{e4}").mid("mid-1"))
            .messaging(
                MessagingItem::text("")
                    .sender("6934581207719433")
                    .mid("mid-2"),
            )
            .signed(SECRET),
    );
    let accepted = endpoint.deliver(&headers, body.clone()).await.unwrap();
    assert_eq!(
        (accepted.events(), accepted.errors(), accepted.len()),
        (2, 0, body.len())
    );
    assert_eq!(accepted.verified().secret_index(), 0);
    let answer = Answer::from(accepted);
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.body().is_empty());
    assert_eq!(answer.headers().count(), 0);

    let batches = sink.accepted.lock().unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].body(), &body, "the raw bytes");
    let events: Vec<_> = batches[0].events().collect();
    assert_eq!(events[0].kind(), EventKind::Text);
    assert_eq!(events[0].account().map(|a| a.as_str()), Some(ACCOUNT));
}

#[tokio::test]
async fn signature_401_missing_malformed_forged_tampered_and_repeated() {
    let body = hi();
    let request = || SignedRequest::new(SECRET, body.clone());
    let cases = [
        ("missing", request().unsigned()),
        (
            "legacy only",
            request().unsigned().header(
                "x-hub-signature",
                "sha1=0000000000000000000000000000000000000000",
            ),
        ),
        ("forged", request().signed_with("another")),
        ("malformed", request().signature("sha256=xyz")),
        ("tampered", request().tampered()),
        ("the right one twice", request().duplicate_signature()),
        (
            "the right one, then a wrong one",
            request().extra_signature(sign("another", &body)),
        ),
    ];

    for (name, request) in cases {
        let (headers, body) = parts(request);
        let sink = RecordingSink::default();
        let rejection = endpoint(sink.clone())
            .deliver(&headers, body)
            .await
            .unwrap_err();
        check(
            &rejection,
            RejectionKind::Signature,
            StatusCode::UNAUTHORIZED,
        );
        let _: &VerifyError = cause(&rejection);
        assert_eq!(sink.count(), 0, "{name}: nothing reaches the sink");
    }
}

#[tokio::test]
async fn deliver_signatures_counts_every_value() {
    let body = hi();
    let good = sign(SECRET, &body);
    let wrong = sign("another", &body);
    let sink = RecordingSink::default();
    let endpoint = endpoint(sink.clone());
    let deliver = |values: Vec<&[u8]>| {
        let values: Vec<Vec<u8>> = values.into_iter().map(<[u8]>::to_vec).collect();
        let endpoint = endpoint.clone();
        let body = body.clone();
        async move {
            endpoint
                .deliver_signatures(values.iter().map(Vec::as_slice), body)
                .await
        }
    };

    assert!(deliver(vec![good.as_bytes()]).await.is_ok());
    assert_eq!(sink.count(), 1);
    for (name, values) in [
        ("none", vec![]),
        (
            "twice the right one",
            vec![good.as_bytes(), good.as_bytes()],
        ),
        ("right, then wrong", vec![good.as_bytes(), wrong.as_bytes()]),
        ("wrong", vec![wrong.as_bytes()]),
        ("not a header value", vec![b"sha256=\n\0".as_slice()]),
    ] {
        let rejection = deliver(values).await.unwrap_err();
        check(
            &rejection,
            RejectionKind::Signature,
            StatusCode::UNAUTHORIZED,
        );
        assert_eq!(sink.count(), 1, "{name}");
    }
    // A missing header is reported as missing, not as a malformed one.
    let rejection = deliver(vec![]).await.unwrap_err();
    assert_eq!(
        *cause::<VerifyError>(&rejection),
        VerifyError::MissingHeader
    );
}

#[tokio::test]
async fn a_verified_body_that_is_not_a_delivery_is_400() {
    for body in ["", "not json", "[]", r#"{"object":"instagram"}"#] {
        let (headers, body) = parts(SignedRequest::new(SECRET, body));
        let sink = RecordingSink::default();
        let rejection = endpoint(sink.clone())
            .deliver(&headers, body)
            .await
            .unwrap_err();
        check(&rejection, RejectionKind::Parse, StatusCode::BAD_REQUEST);
        let _: &ParseError = cause(&rejection);
        assert_eq!(sink.count(), 0);
    }
}

#[tokio::test]
async fn a_refusing_sink_is_503() {
    for error in [
        SinkError::Full,
        SinkError::Closed,
        SinkError::failed("store down"),
    ] {
        let (headers, body) = parts(SignedRequest::new(SECRET, hi()));
        let rejection = endpoint(RecordingSink::refusing(error.clone()))
            .deliver(&headers, body)
            .await
            .unwrap_err();
        check(
            &rejection,
            RejectionKind::Sink,
            StatusCode::SERVICE_UNAVAILABLE,
        );
        assert_eq!(*cause::<SinkError>(&rejection), error);
    }
}

#[tokio::test]
async fn too_large_413_from_content_length_while_reading_and_in_memory() {
    let sink = RecordingSink::default();
    let endpoint = Endpoint::builder(verifier(), handshake(), sink.clone())
        .body_limit(100)
        .build();

    // Announced by Content-Length: refused before the body is polled.
    let polled = Arc::new(AtomicUsize::new(0));
    let (headers, _) = parts(SignedRequest::new(SECRET, "x").header("content-length", "101"));
    let rejection = endpoint
        .receive(&headers, Endless::new(&polled, 10))
        .await
        .unwrap_err();
    check(
        &rejection,
        RejectionKind::TooLarge,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert_eq!(polled.load(Ordering::SeqCst), 0, "never read");

    // Declared to a stream reader.
    let rejection = endpoint
        .read_stream(Some(101), Trickle::new(Duration::ZERO, 1))
        .await
        .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::TooLarge);

    // Not announced: cut off while reading, before any hashing.
    let polled = Arc::new(AtomicUsize::new(0));
    let rejection = endpoint
        .receive(&HeaderMap::new(), Endless::new(&polled, 64))
        .await
        .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::TooLarge);
    assert_eq!(
        polled.load(Ordering::SeqCst),
        2,
        "stopped at the chunk over"
    );

    // Already in memory (a framework read it).
    let (headers, body) = parts(SignedRequest::new(SECRET, vec![b'{'; 101]));
    let rejection = endpoint.deliver(&headers, body.clone()).await.unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::TooLarge);
    let rejection = endpoint
        .deliver_signatures([sign(SECRET, &body).as_bytes()], body)
        .await
        .unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::TooLarge);
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn a_body_that_stalls_is_408() {
    let sink = RecordingSink::default();
    let endpoint = Endpoint::builder(verifier(), handshake(), sink.clone())
        .body_timeout(Duration::from_millis(50))
        .build();
    let (headers, _) = parts(SignedRequest::new(SECRET, "{}").header("content-length", "200"));
    let rejection = endpoint.receive(&headers, Stalled).await.unwrap_err();
    check(
        &rejection,
        RejectionKind::Timeout,
        StatusCode::REQUEST_TIMEOUT,
    );
    let rejection = endpoint.read_body(Stalled).await.unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::Timeout);
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn the_deadline_covers_the_whole_body_not_each_chunk() {
    let endpoint = Endpoint::builder(verifier(), handshake(), RecordingSink::default())
        .body_timeout(Duration::from_millis(60))
        .build();
    // A chunk every 10 ms, for ever: each chunk is in time, the body never is.
    let rejection = endpoint
        .read_stream(None, Trickle::new(Duration::from_millis(10), usize::MAX))
        .await
        .unwrap_err();
    check(
        &rejection,
        RejectionKind::Timeout,
        StatusCode::REQUEST_TIMEOUT,
    );
}

#[tokio::test]
async fn a_body_read_in_chunks_is_joined_verified_and_accepted() {
    let (headers, body) = parts(
        DeliveryBuilder::instagram()
            .messaging(MessagingItem::text("x".repeat(400)))
            .signed(SECRET),
    );
    let sink = RecordingSink::default();
    let endpoint = Endpoint::builder(verifier(), handshake(), sink.clone())
        .body_limit(body.len())
        .build();
    let chunks: Vec<Result<Bytes, Infallible>> = body
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let read = endpoint
        .read_stream(Some(body.len() as u64), Chunks(chunks.into()))
        .await
        .unwrap();
    assert_eq!(read, body);
    let accepted = endpoint
        .receive(&headers, Full::new(body.clone()))
        .await
        .unwrap();
    assert_eq!(accepted.events(), 1);
    assert_eq!(sink.count(), 1);
    // Without a deadline too.
    let endpoint = Endpoint::builder(verifier(), handshake(), sink.clone())
        .body_timeout(None)
        .build();
    assert!(endpoint.receive(&headers, Full::new(body)).await.is_ok());
    assert_eq!(sink.count(), 2);
}

#[tokio::test]
async fn a_failing_body_is_400() {
    let endpoint = endpoint(RecordingSink::default());
    let rejection = endpoint.read_body(Failing).await.unwrap_err();
    check(&rejection, RejectionKind::Body, StatusCode::BAD_REQUEST);
    assert_eq!(cause::<BodyError>(&rejection).reason(), "connection reset");
}

/// A stream of the given chunks.
struct Chunks(std::collections::VecDeque<Result<Bytes, Infallible>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front())
    }
}

/// A stream of one-byte chunks, one per `every`, `count` of them.
struct Trickle {
    every: Duration,
    left: usize,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Trickle {
    fn new(every: Duration, count: usize) -> Self {
        Self {
            every,
            left: count,
            sleep: None,
        }
    }
}

impl futures_core::Stream for Trickle {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let every = self.every;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.sleep = None;
        self.left -= 1;
        Poll::Ready(Some(Ok(Bytes::from_static(b"{"))))
    }
}
