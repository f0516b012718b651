//! The media fetcher: allow-list, https only, no redirects, size and time caps.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use meta_webhooks::client::{MediaError, MediaErrorKind, MediaFetcher};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fetcher pointed at loopback test servers through the explicit testing opt-in.
fn test_fetcher() -> MediaFetcher {
    MediaFetcher::builder()
        .allow_loopback_http_for_testing()
        .max_bytes(1024)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[tokio::test]
async fn fetches_bytes_without_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v/t51/story.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![0xFF, 0xD8, 0xFF], "image/jpeg"))
        .mount(&server)
        .await;
    let media = test_fetcher()
        .fetch(&format!("{}/v/t51/story.jpg?oh=sig", server.uri()))
        .await
        .unwrap();
    assert_eq!(media.bytes().as_ref(), [0xFF, 0xD8, 0xFF]);
    assert_eq!(media.content_type(), Some("image/jpeg"));
    assert_eq!(media.len(), 3);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].headers.get("authorization").is_none());
    assert!(requests[0].headers.get("cookie").is_none());
}

#[tokio::test]
async fn redirects_are_refused_and_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/a.jpg"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/b.jpg", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/b.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"secret".to_vec()))
        .mount(&server)
        .await;
    let err = test_fetcher()
        .fetch(&format!("{}/a.jpg", server.uri()))
        .await
        .unwrap_err();
    assert_eq!(err, MediaError::Redirect(302));
    assert_eq!(err.status(), Some(http::StatusCode::FOUND));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "the redirect target was never requested");
}

#[tokio::test]
async fn size_cap_by_content_length() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![7_u8; 1025]))
        .mount(&server)
        .await;
    Mock::given(path("/fits"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![7_u8; 1024]))
        .mount(&server)
        .await;
    let fetcher = test_fetcher();
    let err = fetcher
        .fetch(&format!("{}/big", server.uri()))
        .await
        .unwrap_err();
    assert_eq!(err, MediaError::TooLarge(1024));
    assert_eq!(
        fetcher
            .fetch(&format!("{}/fits", server.uri()))
            .await
            .unwrap()
            .len(),
        1024
    );
}

/// A one-shot HTTP/1.1 server that streams `total` bytes chunked, without Content-Length.
fn chunked_server(total: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        let chunk = vec![b'x'; 256];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            if stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .and_then(|()| stream.write_all(&chunk[..n]))
                .and_then(|()| stream.write_all(b"\r\n"))
                .is_err()
            {
                return; // the client hung up, as it should past the cap
            }
            sent += n;
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    format!("http://{address}/stream")
}

#[tokio::test]
async fn size_cap_while_streaming() {
    let err = test_fetcher()
        .fetch(&chunked_server(64 * 1024))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), MediaErrorKind::TooLarge);
    let ok = test_fetcher().fetch(&chunked_server(1000)).await.unwrap();
    assert_eq!(ok.len(), 1000);
}

#[tokio::test]
async fn time_cap() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(b"x".to_vec())
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let err = test_fetcher()
        .fetch(&format!("{}/slow", server.uri()))
        .await
        .unwrap_err();
    assert_eq!(err, MediaError::Timeout);
}

#[tokio::test]
async fn error_status() {
    let server = MockServer::start().await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let err = test_fetcher()
        .fetch(&format!("{}/gone", server.uri()))
        .await
        .unwrap_err();
    assert_eq!(err, MediaError::Status(404));
    assert!(!err.is_refused());
}

#[tokio::test]
async fn defaults_refuse_before_any_connection() {
    // A live server the defaults must not reach: loopback, plain http, an IP literal.
    let server = MockServer::start().await;
    Mock::given(path("/a.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"x".to_vec()))
        .mount(&server)
        .await;
    let port = server.address().port();
    let fetcher = MediaFetcher::new().unwrap();
    let cases = [
        (server.uri() + "/a.jpg", MediaErrorKind::InsecureScheme),
        (
            format!("https://127.0.0.1:{port}/a.jpg"),
            MediaErrorKind::IpLiteral,
        ),
        (
            format!("https://localhost:{port}/a.jpg"),
            MediaErrorKind::Port,
        ),
        (
            "https://localhost/a.jpg".to_owned(),
            MediaErrorKind::HostNotAllowed,
        ),
        (
            "https://evil.example/a.jpg".to_owned(),
            MediaErrorKind::HostNotAllowed,
        ),
        (
            "https://fbcdn.net.evil.example/a.jpg".to_owned(),
            MediaErrorKind::HostNotAllowed,
        ),
        (
            "https://notfbcdn.net/a.jpg".to_owned(),
            MediaErrorKind::HostNotAllowed,
        ),
        (
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            MediaErrorKind::IpLiteral,
        ),
        (
            "https://[fd00::1]/a.jpg".to_owned(),
            MediaErrorKind::IpLiteral,
        ),
        (
            "https://3232235521/a.jpg".to_owned(),
            MediaErrorKind::IpLiteral,
        ),
        (
            "https://scontent.cdninstagram.com:pass@evil.example/a.jpg".to_owned(),
            MediaErrorKind::Credentials,
        ),
        (
            "https://lookaside.fbsbx.com@evil.example/a.jpg".to_owned(),
            MediaErrorKind::Credentials,
        ),
        (
            "http://lookaside.fbsbx.com/a.jpg".to_owned(),
            MediaErrorKind::InsecureScheme,
        ),
        ("file:///etc/passwd".to_owned(), MediaErrorKind::InvalidUrl),
    ];
    for (url, kind) in cases {
        let err = fetcher.fetch(&url).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{url}: {err}");
        assert!(err.is_refused());
        assert!(
            !err.to_string().contains("a.jpg"),
            "no URL in errors: {err}"
        );
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing reached the server"
    );
}

#[tokio::test]
async fn testing_opt_in_opens_only_loopback_ips() {
    let fetcher = test_fetcher();
    for (url, kind) in [
        ("http://localhost:8080/a", MediaErrorKind::InsecureScheme),
        ("http://192.168.1.10/a", MediaErrorKind::InsecureScheme),
        ("https://192.168.1.10/a", MediaErrorKind::IpLiteral),
        ("https://evil.example/a", MediaErrorKind::HostNotAllowed),
    ] {
        assert_eq!(fetcher.check_url(url).unwrap_err().kind(), kind, "{url}");
    }
}

#[test]
fn custom_allow_list() {
    let fetcher = MediaFetcher::builder()
        .allowed_hosts(["media.example.com", "*.cdn.example.net"])
        .build()
        .unwrap();
    assert!(fetcher.check_url("https://media.example.com/x").is_ok());
    assert!(fetcher.check_url("https://a.cdn.example.net/x").is_ok());
    assert_eq!(
        fetcher
            .check_url("https://scontent.cdninstagram.com/x")
            .unwrap_err()
            .kind(),
        MediaErrorKind::HostNotAllowed
    );
    assert!(MediaFetcher::builder().allow_host("*.").build().is_err());
    assert!(
        MediaFetcher::builder()
            .allow_host("10.0.0.1")
            .build()
            .is_err()
    );
}
