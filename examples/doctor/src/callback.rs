//! `--callback URL`: does the webhook endpoint answer Meta's handshake, and refuse a
//! forged delivery? Only the URL the user gave is contacted.

use std::error::Error as _;
use std::time::Duration;

use bot_kit::secret::redact_url;
use meta_webhooks::VerifyToken;
use meta_webhooks::signature::SIGNATURE_HEADER;
use meta_webhooks::test_util::sign;
use reqwest::StatusCode;
use url::Url;

use crate::report::Check;

/// How long one callback request may take.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The body of the forged delivery: a valid, empty Instagram delivery, so that an endpoint
/// that wrongly accepts it has nothing to act on.
pub const FORGED_BODY: &[u8] = br#"{"object":"instagram","entry":[]}"#;

/// A client for the callback checks: no redirects (a redirect is an answer to report),
/// no proxy lookup, a short timeout.
///
/// # Errors
///
/// The TLS client cannot be built.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CALLBACK_TIMEOUT)
        .user_agent(concat!("meta-webhooks-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.without_url().to_string())
}

/// A description of a transport error without its URL (which holds the verify token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Random bytes as lower-case hex (the forged key) or digits (the challenge).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Without the OS generator the values are still unique enough for this use: the
    // challenge only has to differ from anything the endpoint could echo by accident.
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    buf
}

/// A random challenge of 10 digits, like Meta's.
pub fn random_challenge() -> String {
    random_bytes::<10>()
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect()
}

/// The two callback checks: `callback handshake` and `callback signature`.
pub async fn check(http: &reqwest::Client, url: &Url, verify_token: &VerifyToken) -> Vec<Check> {
    vec![
        handshake(http, url, verify_token, &random_challenge()).await,
        forged_delivery(http, url).await,
    ]
}

/// `GET url?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` must answer 200 with
/// the challenge.
pub async fn handshake(
    http: &reqwest::Client,
    url: &Url,
    verify_token: &VerifyToken,
    challenge: &str,
) -> Check {
    const NAME: &str = "callback handshake";
    let shown = redact_url(url.as_str());
    let mut request_url = url.clone();
    request_url
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", verify_token.expose())
        .append_pair("hub.challenge", challenge);
    let response = match http.get(request_url).send().await {
        Ok(response) => response,
        Err(error) => {
            return Check::problem(
                NAME,
                format!("{shown} could not be reached: {}", describe(error)),
                "start the bot and make the URL reachable from the internet over https \
                 (Meta cannot call it either)",
            );
        }
    };
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    if status == StatusCode::OK && body.trim_ascii() == challenge.as_bytes() {
        return Check::ok(NAME, format!("{shown} echoed a random challenge"));
    }
    let fix = match status {
        StatusCode::FORBIDDEN => {
            "the endpoint refused IG_VERIFY_TOKEN: run the bot with the same IG_VERIFY_TOKEN \
             as the doctor, and type that value as the Verify Token in the App Dashboard"
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            "the URL is not the webhook route: use the path the bot serves the webhook on \
             (the example bots: /webhook)"
        }
        s if s.is_redirection() => {
            "Meta does not follow redirects: use the final URL as the callback URL"
        }
        _ => {
            "answer GET hub.mode=subscribe with a matching hub.verify_token by echoing \
             hub.challenge as text/plain with 200"
        }
    };
    let detail = if status == StatusCode::OK {
        format!("{shown} answered 200 without echoing the challenge")
    } else {
        format!("{shown} answered the handshake with {status}")
    };
    Check::problem(NAME, detail, fix)
}

/// `POST url` with a delivery signed by a random key must answer 401.
pub async fn forged_delivery(http: &reqwest::Client, url: &Url) -> Check {
    const NAME: &str = "callback signature";
    let shown = redact_url(url.as_str());
    let key: String = random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let response = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER.as_str(), sign(&key, FORGED_BODY))
        .body(FORGED_BODY)
        .send()
        .await;
    let status = match response {
        Ok(response) => response.status(),
        Err(error) => {
            return Check::problem(
                NAME,
                format!("{shown} could not be reached: {}", describe(error)),
                "start the bot and make the URL reachable",
            );
        }
    };
    match status {
        StatusCode::UNAUTHORIZED => Check::ok(NAME, "a delivery with a wrong signature got 401"),
        s if s.is_success() => Check::problem(
            NAME,
            format!("a delivery with a wrong signature was accepted ({s})"),
            "verify X-Hub-Signature-256 with the app secret before reading the body \
             (meta_webhooks::Verifier); anyone can post forged events to this endpoint",
        ),
        s => Check::problem(
            NAME,
            format!("a delivery with a wrong signature got {s}, not 401"),
            "answer a failed signature check with 401 (the library's endpoint does)",
        ),
    }
}
