//! The GPT fallback against a local mock of the OpenAI chat completions API.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bot_kit::ai::{AiErrorKind, CANNED_ERROR_REPLY, CANNED_NO_KEY_REPLY, SYSTEM_PROMPT};
use bot_kit::{AiConfig, AiOutcome, GptFallback, HistoryMessage, Metrics, Secret};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789";

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
    })
}

fn config(server: &MockServer, base_path: &str) -> AiConfig {
    let mut config = AiConfig::with_key(Secret::new(KEY));
    config.base_url = format!("{}{base_path}", server.uri());
    config
}

/// A conversation of 10 messages; the model sees the newest 8.
fn history() -> Vec<HistoryMessage> {
    let now = SystemTime::now();
    let mut h = Vec::new();
    for i in 0..4 {
        h.push(HistoryMessage::user(format!("question {i}"), now));
        h.push(HistoryMessage::bot(format!("answer {i}"), now));
    }
    h.push(HistoryMessage::human("A colleague here: which size?", now));
    h.push(HistoryMessage::user(
        "¿Tienen la camisa de lino en talla M? 👕",
        now,
    ));
    h
}

fn expected_request(model: &str) -> Value {
    json!({
        "model": model,
        "max_completion_tokens": 200,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "question 1"},
            {"role": "assistant", "content": "answer 1"},
            {"role": "user", "content": "question 2"},
            {"role": "assistant", "content": "answer 2"},
            {"role": "user", "content": "question 3"},
            {"role": "assistant", "content": "answer 3"},
            {"role": "assistant", "content": "A colleague here: which size?"},
            {"role": "user", "content": "¿Tienen la camisa de lino en talla M? 👕"}
        ]
    })
}

async fn the_only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

#[tokio::test]
async fn a_normal_answer_is_a_reply_and_the_request_is_exact() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(completion("  Sí, la tenemos en talla M.  ")),
        )
        .mount(&server)
        .await;
    let metrics = Arc::new(Metrics::new());
    let gpt = GptFallback::new(config(&server, "/v1"))
        .unwrap()
        .with_metrics(Arc::clone(&metrics));

    let outcome = gpt.reply(&history()).await;
    assert_eq!(
        outcome,
        AiOutcome::Reply("Sí, la tenemos en talla M.".to_owned())
    );

    let request = the_only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v1/chat/completions");
    assert_eq!(
        request.url.query(),
        None,
        "no key or anything else in the URL"
    );
    assert_eq!(
        request
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {KEY}")
    );
    assert!(
        request
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = request.body_json().unwrap();
    assert_eq!(body, expected_request("gpt-4o"));

    let text = metrics.render();
    assert!(
        text.contains("botkit_gpt_calls_total{outcome=\"reply\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("botkit_gpt_latency_seconds_count 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn the_base_url_and_model_are_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/compat/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("ok")))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config(&server, "/openai/compat/v1/");
    config.model = "llama-3.1-8b".to_owned();
    let gpt = GptFallback::new(config).unwrap();
    assert_eq!(
        gpt.reply(&history()).await,
        AiOutcome::Reply("ok".to_owned())
    );
    let body: Value = the_only_request(&server).await.body_json().unwrap();
    assert_eq!(body, expected_request("llama-3.1-8b"));
}

#[tokio::test]
async fn handoff_anywhere_in_the_answer_escalates() {
    for answer in [
        "[HANDOFF]",
        "I'm not sure about that. [HANDOFF]",
        "[HANDOFF] Let me get a colleague.",
        "Un momento… [HANDOFF] …gracias",
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(answer)))
            .mount(&server)
            .await;
        let gpt = GptFallback::new(config(&server, "/v1")).unwrap();
        let outcome = gpt.reply(&history()).await;
        assert_eq!(outcome, AiOutcome::Handoff, "{answer:?}");
        assert_eq!(outcome.text(), None);
    }
}

#[tokio::test]
async fn a_timeout_gives_the_canned_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("too late"))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let metrics = Arc::new(Metrics::new());
    let mut config = config(&server, "/v1");
    config.timeout = Duration::from_millis(300);
    let gpt = GptFallback::new(config)
        .unwrap()
        .with_metrics(Arc::clone(&metrics));

    match gpt.reply(&history()).await {
        AiOutcome::Failed { reply, error } => {
            assert_eq!(reply, CANNED_ERROR_REPLY);
            assert_eq!(error.kind(), AiErrorKind::Timeout, "{error}");
            assert!(error.is_timeout());
        }
        other => panic!("expected the canned reply, got {other:?}"),
    }
    assert!(
        metrics
            .render()
            .contains("botkit_gpt_calls_total{outcome=\"failed\"} 1\n")
    );
}

#[tokio::test]
async fn a_server_error_gives_the_canned_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}
        })))
        .mount(&server)
        .await;
    let gpt = GptFallback::new(config(&server, "/v1")).unwrap();
    match gpt.reply(&history()).await {
        AiOutcome::Failed { reply, error } => {
            assert_eq!(reply, CANNED_ERROR_REPLY);
            assert_eq!(error.kind(), AiErrorKind::Api);
            assert_eq!(error.status(), Some(500));
        }
        other => panic!("expected the canned reply, got {other:?}"),
    }
    // async-openai retries a 5xx a few times (100-400 ms apart) inside our timeout; every
    // attempt is the same request.
    let requests = server.received_requests().await.unwrap();
    assert!(
        (1..=4).contains(&requests.len()),
        "{} requests",
        requests.len()
    );
    let first: Value = requests[0].body_json().unwrap();
    assert_eq!(first, expected_request("gpt-4o"));
    for r in &requests {
        assert_eq!(r.body, requests[0].body);
    }
}

#[tokio::test]
async fn a_non_json_error_page_gives_the_canned_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let gpt = GptFallback::new(config(&server, "/v1")).unwrap();
    let outcome = gpt.reply(&history()).await;
    assert!(matches!(outcome, AiOutcome::Failed { .. }), "{outcome:?}");
    assert_eq!(outcome.text(), Some(CANNED_ERROR_REPLY));
}

#[tokio::test]
async fn an_auth_error_never_echoes_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {
                "message": format!("Incorrect API key provided: {KEY}."),
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
            }
        })))
        .mount(&server)
        .await;
    let gpt = GptFallback::new(config(&server, "/v1")).unwrap();
    let AiOutcome::Failed { error, .. } = gpt.reply(&history()).await else {
        panic!("expected a failure");
    };
    assert_eq!(error.status(), Some(401));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("invalid_api_key"), "{shown}");
}

#[tokio::test]
async fn an_unreachable_server_gives_the_canned_reply() {
    // A port nothing listens on (MockServer instances are pooled, so not one of those).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = AiConfig::with_key(Secret::new(KEY));
    config.base_url = format!("http://127.0.0.1:{port}/v1");
    let gpt = GptFallback::new(config).unwrap();
    let AiOutcome::Failed { reply, error } = gpt.reply(&history()).await else {
        panic!("expected a failure");
    };
    assert_eq!(reply, CANNED_ERROR_REPLY);
    assert!(
        matches!(error.kind(), AiErrorKind::Transport | AiErrorKind::Timeout),
        "{error:?}"
    );
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
}

#[tokio::test]
async fn without_a_key_nothing_is_sent() {
    let server = MockServer::start().await;
    let mut config = config(&server, "/v1");
    config.api_key = None;
    let metrics = Arc::new(Metrics::new());
    let gpt = GptFallback::new(config)
        .unwrap()
        .with_metrics(Arc::clone(&metrics));
    let outcome = gpt.reply(&history()).await;
    assert_eq!(
        outcome,
        AiOutcome::Disabled {
            reply: CANNED_NO_KEY_REPLY.to_owned()
        }
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
