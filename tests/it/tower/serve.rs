//! The service served for real on 127.0.0.1: plain hyper and axum's `route_service`,
//! driven by a raw HTTP/1.1 client (so hyper's own body type, chunked encoding and
//! `Content-Length` handling are exercised).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use meta_webhooks::Event;
use meta_webhooks::endpoint::Endpoint;
use meta_webhooks::sink::{MemorySink, handler_fn};
use meta_webhooks::test_util::{DeliveryBuilder, HandshakeRequest, MessagingItem, SignedRequest};
use meta_webhooks::tower::Webhook;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{SECRET, TOKEN, handshake, verifier};

fn texts_sink() -> (MemorySink, Arc<Mutex<Vec<String>>>) {
    let texts = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&texts);
    let sink = MemorySink::builder()
        .workers(2)
        .start(handler_fn(move |event: Event| {
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
    (sink, texts)
}

/// Sends raw request bytes and returns (status, body) of the response.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap();
    (status, body)
}

/// The signature header line of `request`, as the twin signs it.
fn signature_line(request: &SignedRequest) -> String {
    request
        .signature_value()
        .map(|value| format!("X-Hub-Signature-256: {value}\r\n"))
        .unwrap_or_default()
}

/// `request` on the wire, its body announced by `Content-Length`.
fn post(request: &SignedRequest) -> Vec<u8> {
    let body = request.body();
    let mut raw = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         {}Content-Length: {}\r\nConnection: close\r\n\r\n",
        signature_line(request),
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    raw
}

/// `request` on the wire, its body in chunks of `chunk` bytes.
fn post_chunked(request: &SignedRequest, chunk: usize) -> Vec<u8> {
    let mut raw = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        signature_line(request)
    )
    .into_bytes();
    for part in request.body().chunks(chunk) {
        raw.extend(format!("{:x}\r\n", part.len()).bytes());
        raw.extend(part);
        raw.extend(b"\r\n");
    }
    raw.extend(b"0\r\n\r\n");
    raw
}

fn get(request: &HandshakeRequest) -> Vec<u8> {
    format!(
        "GET /webhook?{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        request.query()
    )
    .into_bytes()
}

/// A signed delivery of one text message.
fn text(sender: &str, mid: &str, text: &str) -> SignedRequest {
    DeliveryBuilder::instagram()
        .messaging(MessagingItem::text(text).sender(sender).mid(mid))
        .signed(SECRET)
}

/// Every path a real client can take, against a server at `addr`.
async fn exercise(addr: SocketAddr) {
    let handshake = HandshakeRequest::new(TOKEN).challenge("987654");
    assert_eq!(
        exchange(addr, get(&handshake)).await,
        (200, "987654".to_owned())
    );
    let (status, _) = exchange(addr, get(&HandshakeRequest::new("x").challenge("1"))).await;
    assert_eq!(status, 403);

    let request = text("1", "m-plain", "over content-length");
    assert_eq!(exchange(addr, post(&request)).await.0, 200);

    let request = text("2", "m-chunked", "over chunked encoding");
    assert_eq!(exchange(addr, post_chunked(&request, 17)).await.0, 200);

    let (status, answer) = exchange(addr, post(&request.signed_with("wrong"))).await;
    assert_eq!((status, answer.as_str()), (401, "Unauthorized"));

    // Over the 4 KiB limit, announced by Content-Length or streamed in chunks.
    let big = text("3", "m-big", &"x".repeat(5000));
    assert_eq!(exchange(addr, post(&big)).await.0, 413);
    assert_eq!(exchange(addr, post_chunked(&big, 512)).await.0, 413);

    let put = b"PUT /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(addr, put.to_vec()).await.0, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_plain_hyper_service() {
    let (sink, texts) = texts_sink();
    let webhook = Webhook::new(
        Endpoint::builder(verifier(), handshake(), sink.clone())
            .body_limit(4096)
            .build(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(webhook.clone());
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    exercise(addr).await;
    server.abort();
    sink.shutdown().await;
    let mut texts = texts.lock().unwrap().clone();
    texts.sort();
    assert_eq!(texts, ["over chunked encoding", "over content-length"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_axum_with_route_service() {
    let (sink, texts) = texts_sink();
    let webhook = Webhook::new(
        Endpoint::builder(verifier(), handshake(), sink.clone())
            .body_limit(4096)
            .build(),
    );
    let app = Router::new()
        .route_service("/webhook", webhook)
        .route("/health", axum::routing::get(|| async { "ok" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    exercise(addr).await;
    let health = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec();
    assert_eq!(exchange(addr, health).await, (200, "ok".to_owned()));
    stop.send(()).unwrap();
    server.await.unwrap();
    sink.shutdown().await;
    assert_eq!(texts.lock().unwrap().len(), 2);
}

#[test]
fn the_service_fits_axum_and_hyper_bounds() {
    fn axum_service<T>(_: &T)
    where
        T: tower::Service<
                axum::extract::Request,
                Error = Infallible,
                Response: axum::response::IntoResponse,
                Future: Send,
            > + Clone
            + Send
            + Sync
            + 'static,
    {
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (sink, _) = texts_sink();
    axum_service(&Webhook::new(
        Endpoint::builder(verifier(), handshake(), sink).build(),
    ));
}
