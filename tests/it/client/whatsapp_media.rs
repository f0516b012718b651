//! WhatsApp media: multipart upload, lookup, and download with the token sent to Meta's
//! media host only (redirects refused, size capped, checksum verified).

use std::time::Duration;

use meta_webhooks::client::{
    FetchedMedia, GraphErrorKind, MediaError, MediaErrorKind, MediaFetcher, WaDownloadError,
    WaDownloadErrorKind, WaUpload,
};
use meta_webhooks::payload::MediaId;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::whatsapp::{PHONE, whatsapp};
use super::{TOKEN, answer, builder, ok_json, only_request};

const MEDIA_ID: &str = "1037543291543636";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];

fn port(server: &MockServer) -> u16 {
    server.address().port()
}

/// A fetcher that treats `media_host` as Meta's media host (the only one getting the token).
fn fetcher_for(media_host: &MockServer) -> MediaFetcher {
    MediaFetcher::builder()
        .token_to_loopback_port_for_testing(port(media_host))
        .max_bytes(1024)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn lookup_answer(url: &str, bytes: &[u8]) -> ResponseTemplate {
    ok_json(json!({
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": "image/jpeg",
        "sha256": hex::encode(Sha256::digest(bytes)),
        "file_size": bytes.len(),
        "id": MEDIA_ID
    }))
}

/// A signed-looking download URL on `server`.
fn media_url(server: &MockServer) -> String {
    format!(
        "{}/whatsapp_business/attachments/?mid={MEDIA_ID}&ext=1728904986&hash=ATta-SIGNATURE",
        server.uri()
    )
}

/// Checks a Graph API call: `method` on `path`, no query, the bearer token.
fn assert_graph_call(request: &Request, method: &str, path: &str) {
    assert_eq!(request.method.as_str(), method);
    assert_eq!(request.url.path(), path);
    assert_eq!(request.url.query(), None);
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

fn assert_lookup(request: &Request) {
    assert_graph_call(request, "GET", &format!("/v25.0/{MEDIA_ID}"));
}

/// Answers every `GET` on `host` with `response`.
async fn serve(host: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .respond_with(response)
        .mount(host)
        .await;
}

/// Downloads [`MEDIA_ID`], looked up on `graph`, with `media_host` as Meta's media host.
async fn download(
    graph: &MockServer,
    media_host: &MockServer,
) -> Result<FetchedMedia, WaDownloadError> {
    let client = builder(graph).build().unwrap();
    whatsapp(&client)
        .download_media(&fetcher_for(media_host), &MediaId::new(MEDIA_ID))
        .await
}

#[tokio::test]
async fn upload_is_multipart_with_product_type_and_file() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"id": MEDIA_ID}))).await;
    let client = builder(&server).build().unwrap();
    let upload = WaUpload::new(JPEG.to_vec(), "image/jpeg", "photo.jpg").unwrap();
    let id = whatsapp(&client).upload_media(&upload).await.unwrap();
    assert_eq!(id, MEDIA_ID);

    let request = only_request(&server).await;
    assert_graph_call(&request, "POST", &format!("/v25.0/{PHONE}/media"));
    let content_type = request
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("content type {content_type}"));
    let mut expected = Vec::new();
    expected.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage/jpeg\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    expected.extend_from_slice(JPEG);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(request.body, expected);
}

#[tokio::test]
async fn an_upload_answered_without_an_id_is_a_decode_error() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let upload = WaUpload::new(JPEG.to_vec(), "image/jpeg", "photo.jpg").unwrap();
    let err = whatsapp(&client).upload_media(&upload).await.unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
    assert!(err.to_string().contains("no media id"), "{err}");
    assert!(!err.to_string().contains(TOKEN), "{err}");
}

#[tokio::test]
async fn upload_is_retried_whole_after_a_throughput_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(
                    json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429}}),
                )
                .insert_header("retry-after", "0"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok_json(json!({"id": MEDIA_ID})))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let upload = WaUpload::new(JPEG.to_vec(), "image/jpeg", "photo.jpg").unwrap();
    whatsapp(&client).upload_media(&upload).await.unwrap();
    let all = server.received_requests().await.unwrap();
    assert_eq!(all.len(), 2);
    // Each attempt is a fresh form (its own boundary) with the same parts, file included.
    let without_boundary = |request: &Request| {
        let content_type = request
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        let boundary = content_type.rsplit('=').next().unwrap();
        String::from_utf8_lossy(&request.body).replace(boundary, "BOUNDARY")
    };
    assert_eq!(without_boundary(&all[0]), without_boundary(&all[1]));
    assert!(all[1].body.windows(JPEG.len()).any(|w| w == JPEG));
}

#[tokio::test]
async fn lookup_reads_url_type_hash_and_size() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({
            "messaging_product": "whatsapp",
            "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1728904986&hash=ATta",
            "mime_type": "image/png",
            "sha256": "c86c28d437534f7367e73b283155c083dddfdaf7f9b4dfae27e140f880035141",
            "file_size": 182859,
            "id": MEDIA_ID
        })),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let info = whatsapp(&client)
        .media(&MediaId::new(MEDIA_ID))
        .await
        .unwrap();
    assert_lookup(&only_request(&server).await);
    assert_eq!(info.id.as_ref().unwrap(), MEDIA_ID);
    assert!(info.url().starts_with("https://lookaside.fbsbx.com/"));
    assert_eq!(info.mime_type.as_deref(), Some("image/png"));
    assert_eq!(info.file_size, Some(182_859));
    assert!(!format!("{info:?}").contains("hash=ATta"));
}

#[tokio::test]
async fn download_sends_the_token_to_the_media_host() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    answer(&graph, lookup_answer(&media_url(&media_host), JPEG)).await;
    Mock::given(method("GET"))
        .and(path("/whatsapp_business/attachments/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(JPEG.to_vec(), "image/jpeg"))
        .mount(&media_host)
        .await;
    let media = download(&graph, &media_host).await.unwrap();
    assert_eq!(media.bytes().as_ref(), JPEG);
    assert_eq!(media.content_type(), Some("image/jpeg"));

    assert_lookup(&only_request(&graph).await);
    let downloads = media_host.received_requests().await.unwrap();
    assert_eq!(downloads.len(), 1);
    let download = &downloads[0];
    assert_eq!(download.method.as_str(), "GET");
    assert_eq!(
        download.url.query(),
        Some("mid=1037543291543636&ext=1728904986&hash=ATta-SIGNATURE")
    );
    assert_eq!(
        download.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
    assert!(download.headers.get("cookie").is_none());
}

#[tokio::test]
async fn the_token_never_goes_to_another_host() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    serve(
        &elsewhere,
        ResponseTemplate::new(200).set_body_raw(JPEG.to_vec(), "image/jpeg"),
    )
    .await;
    answer(&graph, lookup_answer(&media_url(&elsewhere), JPEG)).await;
    let client = builder(&graph).build().unwrap();
    // `elsewhere` is reachable by the fetcher's rules (loopback for tests), but it is not
    // the media host: refused before connecting.
    let fetcher = fetcher_for(&media_host);
    fetcher.check_url(&media_url(&elsewhere)).unwrap();
    let err = whatsapp(&client)
        .download_media(&fetcher, &MediaId::new(MEDIA_ID))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WaDownloadErrorKind::Fetch);
    assert_eq!(
        err.fetch_error().unwrap().kind(),
        MediaErrorKind::TokenHostNotAllowed
    );
    assert!(err.fetch_error().unwrap().is_refused());
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    assert!(media_host.received_requests().await.unwrap().is_empty());
    let text = err.to_string();
    assert!(
        !text.contains("SIGNATURE") && !text.contains(TOKEN),
        "{text}"
    );

    // An allow-listed Meta CDN host is not the media host either.
    let production = MediaFetcher::new().unwrap();
    let err = production
        .check_token_url("https://scontent.xx.fbcdn.net/v/t62/photo.jpg?oh=x")
        .unwrap_err();
    assert_eq!(err.kind(), MediaErrorKind::TokenHostNotAllowed);
    production
        .check_token_url("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
        .unwrap();
}

#[tokio::test]
async fn a_redirect_from_the_media_host_is_refused_and_not_followed() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    let target = MockServer::start().await;
    serve(
        &media_host,
        ResponseTemplate::new(302).insert_header("location", format!("{}/stolen", target.uri())),
    )
    .await;
    serve(
        &target,
        ResponseTemplate::new(200).set_body_bytes(JPEG.to_vec()),
    )
    .await;
    answer(&graph, lookup_answer(&media_url(&media_host), JPEG)).await;
    let err = download(&graph, &media_host).await.unwrap_err();
    assert_eq!(err.fetch_error(), Some(&MediaError::Redirect(302)));
    assert_eq!(media_host.received_requests().await.unwrap().len(), 1);
    assert!(target.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn size_cap_by_lookup_and_by_body() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    let big = vec![7_u8; 2048];
    serve(
        &media_host,
        ResponseTemplate::new(200).set_body_bytes(big.clone()),
    )
    .await;
    // The lookup already says 2048 bytes: refused without downloading.
    answer(&graph, lookup_answer(&media_url(&media_host), &big)).await;
    let client = builder(&graph).build().unwrap();
    let wa = whatsapp(&client);
    let fetcher = fetcher_for(&media_host);
    let err = wa
        .download_media(&fetcher, &MediaId::new(MEDIA_ID))
        .await
        .unwrap_err();
    assert_eq!(err.fetch_error(), Some(&MediaError::TooLarge(1024)));
    assert!(media_host.received_requests().await.unwrap().is_empty());

    // A lookup without a size: the fetcher's cap stops the download.
    graph.reset().await;
    answer(
        &graph,
        ok_json(json!({"url": media_url(&media_host), "mime_type": "image/jpeg", "id": MEDIA_ID})),
    )
    .await;
    let err = wa
        .download_media(&fetcher, &MediaId::new(MEDIA_ID))
        .await
        .unwrap_err();
    assert_eq!(err.fetch_error(), Some(&MediaError::TooLarge(1024)));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn bytes_that_do_not_match_the_hash_are_refused() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    serve(
        &media_host,
        ResponseTemplate::new(200).set_body_bytes(b"tampered".to_vec()),
    )
    .await;
    answer(&graph, lookup_answer(&media_url(&media_host), JPEG)).await;
    let err = download(&graph, &media_host).await.unwrap_err();
    assert_eq!(err.kind(), WaDownloadErrorKind::ChecksumMismatch);
}

#[tokio::test]
async fn lookup_errors_are_graph_errors() {
    let graph = MockServer::start().await;
    let media_host = MockServer::start().await;
    answer(
        &graph,
        ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Unsupported get request. Object with ID '1037543291543636' does not exist",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": "A"
        }})),
    )
    .await;
    let err = download(&graph, &media_host).await.unwrap_err();
    assert_eq!(err.kind(), WaDownloadErrorKind::Lookup);
    assert_eq!(
        err.lookup_error().unwrap().kind(),
        GraphErrorKind::InvalidParameter
    );
    assert!(media_host.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_download_names_neither_the_url_nor_the_token() {
    let graph = MockServer::start().await;
    // A port with nothing listening, treated as the media host.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!(
        "http://127.0.0.1:{closed_port}/whatsapp_business/attachments/?mid={MEDIA_ID}&hash=ATta-SIGNATURE"
    );
    answer(&graph, lookup_answer(&url, JPEG)).await;
    let client = builder(&graph).build().unwrap();
    let fetcher = MediaFetcher::builder()
        .token_to_loopback_port_for_testing(closed_port)
        .build()
        .unwrap();
    let err = whatsapp(&client)
        .download_media(&fetcher, &MediaId::new(MEDIA_ID))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WaDownloadErrorKind::Fetch);
    assert!(err.is_retryable());
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("SIGNATURE"), "{text}");
        assert!(!text.contains("attachments"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[tokio::test]
async fn delete_media() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    whatsapp(&client)
        .delete_media(&MediaId::new(MEDIA_ID))
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_graph_call(&request, "DELETE", &format!("/v25.0/{MEDIA_ID}"));
    assert!(request.body.is_empty());
}
