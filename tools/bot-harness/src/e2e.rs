//! End-to-end scenarios shared by both bots, run against the real bot binary.
//!
//! Each scenario starts the bot process (`bin`, e.g. `env!("CARGO_BIN_EXE_axum-bot")`) on
//! a free loopback port with a clean environment, a mock Graph API and a mock OpenAI
//! server (`wiremock`, recording every request), and — where it matters — a real
//! `redis-server` ([`RedisServer`]). Scenarios panic on failure (they are tests). Each
//! `pub async fn` taking `bin` is one scenario, run by a test of the same meaning in each
//! bot's `tests/e2e.rs`; the rest are the pieces they are built from.
//!
//! ```no_run
//! # async fn t() {
//! bot_harness::e2e::handshake(std::path::Path::new("target/debug/axum-bot")).await;
//! # }
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test support: failures are assertions"
)]

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meta_webhooks::test_util::{
    ChangeItem, DeliveryBuilder, HandshakeRequest, MessagingItem, SignedRequest,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::RedisServer;
use bot_kit::ai::CANNED_ERROR_REPLY;
use bot_kit::bot::{
    MEDIA_REPLY, STORY_MENTION_REPLY, STORY_REPLY_BUY, STORY_REPLY_LOVE, STORY_REPLY_SHIP,
    STORY_REPLY_THANKS,
};
use bot_kit::rules::RuleSet;

/// The app secret the scenarios sign with.
pub const SECRET: &str = "e2e-app-secret";
/// The verify token of the scenarios.
pub const VERIFY_TOKEN: &str = "e2e-verify-token";
/// The admin bearer token of the scenarios.
pub const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789";
/// The main business account.
pub const ACCOUNT: &str = "17841405793187218";
/// A second account served by the same process.
pub const ACCOUNT_B: &str = "17841400000000002";
/// A Facebook Page served by the same process (token `TOKEN_PAGE`), in the scenarios
/// that use [`page_accounts_file`].
pub const PAGE: &str = "104512345678901";
/// The access token of [`PAGE`].
pub const PAGE_TOKEN: &str = "token-page";
/// The WhatsApp business phone number id the scenarios serve (token [`WA_TOKEN`]).
pub const WA_PHONE_NUMBER_ID: &str = "106540352242922";
/// The WhatsApp Business Account (`entry.id` of WhatsApp deliveries).
pub const WABA_ID: &str = "102290129340398";
/// The access token of [`WA_PHONE_NUMBER_ID`].
pub const WA_TOKEN: &str = "token-whatsapp";
/// The app secret of the app with the WhatsApp product, not the same as [`SECRET`].
pub const WA_SECRET: &str = "e2e-whatsapp-app-secret";
/// What the mock model answers.
pub const GPT_REPLY: &str = "GPT says: the linen shirt is in stock.";

/// A running bot process; killed on drop.
pub struct BotProcess {
    child: Child,
    port: u16,
    admin_port: u16,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BotProcess {
    /// Starts `bin` with exactly `env` (plus `PATH`, a free `PORT` and a free loopback
    /// `ADMIN_ADDR`) and waits until `/healthz` answers on both listeners.
    pub async fn spawn(bin: &Path, env: &[(String, String)]) -> Self {
        Self::spawn_with_stderr(bin, env, Stdio::inherit()).await
    }

    /// [`spawn`](Self::spawn) with the process's stderr (its log) sent to `stderr`, e.g. a
    /// file.
    pub async fn spawn_with_stderr(bin: &Path, env: &[(String, String)], stderr: Stdio) -> Self {
        let port = free_port();
        let admin_port = free_port();
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().expect("start the bot binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let lines = Arc::clone(&stdout);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let bot = Self {
            child,
            port,
            admin_port,
            stdout,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http().get(bot.url("/healthz")).send().await
                && r.status().is_success()
                && let Ok(r) = http().get(bot.admin_url("/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "bot did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bot
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `http://127.0.0.1:<admin port><path>`: the admin listener (`ADMIN_ADDR`), which
    /// serves `/metrics`, `/admin/…` and `/healthz`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin_port)
    }

    /// The lines the bot printed so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// POSTs `delivery` to `/webhook`, signed with [`SECRET`]; returns the status.
    pub async fn post(&self, delivery: &DeliveryBuilder) -> u16 {
        self.send(delivery.signed(SECRET)).await
    }

    /// POSTs `request` (signed, or wrongly signed) to `/webhook`; returns the status.
    pub async fn send(&self, request: SignedRequest) -> u16 {
        send(&http(), request.uri(self.url("/webhook"))).await
    }
}

/// Sends `request` (whose URI is a whole `http://…` URL) with `client`, as Meta would;
/// returns the status, `0` when no answer came.
pub async fn send(client: &reqwest::Client, request: SignedRequest) -> u16 {
    let request = request.build().expect("a valid signed request");
    let request = reqwest::Request::try_from(request).expect("a request reqwest can send");
    match client.execute(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
        Err(_) => 0,
    }
}

/// Process control for the fault-injection scenarios ([`crate::faults`]).
impl BotProcess {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port the bot listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `SIGKILL` (as a crash would), then reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `SIGTERM` with `kill -TERM <pid>` (the shell's builtin: no `procps` needed;
    /// the process is not reaped, see [`wait_exit`](Self::wait_exit)).
    pub fn terminate(&self) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -TERM {}", self.pid()))
            .status()
            .expect("run sh -c 'kill -TERM <pid>'");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits up to `within` for the process to exit; its exit status, or `None` if it
    /// still runs.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The mock Graph API and OpenAI servers of one scenario.
pub struct Mocks {
    /// The Graph API (`/…/messages`) and the notification webhook (`/notify`).
    pub graph: MockServer,
    /// The OpenAI chat completions API (`/v1/chat/completions`).
    pub openai: MockServer,
}

impl Mocks {
    /// Starts both; the model answers [`GPT_REPLY`] after `gpt_delay`.
    pub async fn start(gpt_delay: Duration) -> Self {
        let graph = MockServer::start().await;
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        Mock::given(method("POST"))
            .and(path_regex(r"/messages$"))
            .respond_with(move |request: &wiremock::Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                if body["messaging_product"] == "whatsapp" {
                    // The WhatsApp Cloud API's answers: a mark-read, or a message sent.
                    if body["status"] == "read" {
                        return ResponseTemplate::new(200).set_body_json(json!({"success": true}));
                    }
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return ResponseTemplate::new(200).set_body_json(json!({
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                        "messages": [{"id": format!("wamid.sent_{n}")}],
                    }));
                }
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                ResponseTemplate::new(200).set_body_json(json!({
                    "recipient_id": body["recipient"]["id"],
                    "message_id": format!("m_sent_{n}"),
                }))
            })
            .mount(&graph)
            .await;
        Mock::given(method("POST"))
            .and(path("/notify"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&graph)
            .await;
        let openai = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(gpt_delay)
                    .set_body_json(json!({
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": "gpt-4o",
                        "choices": [{
                            "index": 0,
                            "message": {"role": "assistant", "content": GPT_REPLY, "refusal": null},
                            "logprobs": null,
                            "finish_reason": "stop"
                        }],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}
                    })),
            )
            .mount(&openai)
            .await;
        Self { graph, openai }
    }

    /// The environment of a live bot against these mocks (two accounts, admin token,
    /// notifications), plus `REDIS_URL` when given.
    pub fn env(&self, redis: Option<&str>, accounts_file: &Path) -> Vec<(String, String)> {
        let mut env = vec![
            ("IG_APP_SECRET", SECRET.to_owned()),
            ("IG_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
            ("ACCOUNTS_FILE", accounts_file.display().to_string()),
            ("TOKEN_A", "token-account-a".to_owned()),
            ("TOKEN_B", "token-account-b".to_owned()),
            ("GRAPH_API_BASE", self.graph.uri()),
            ("OPENAI_API_KEY", "sk-e2e-test".to_owned()),
            ("OPENAI_BASE_URL", format!("{}/v1", self.openai.uri())),
            ("OPENAI_TIMEOUT_SECS", "1".to_owned()),
            ("BOT_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("NOTIFY_WEBHOOK_URL", format!("{}/notify", self.graph.uri())),
        ];
        if let Some(url) = redis {
            env.push(("REDIS_URL", url.to_owned()));
        }
        env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// [`env`](Self::env) plus the WhatsApp number [`WA_PHONE_NUMBER_ID`] (token
    /// [`WA_TOKEN`]) of an app whose secret ([`WA_SECRET`]) is not the Instagram one.
    pub fn whatsapp_env(&self, redis: Option<&str>, accounts_file: &Path) -> Vec<(String, String)> {
        let mut env = self.env(redis, accounts_file);
        env.extend(
            [
                ("WA_PHONE_NUMBER_ID", WA_PHONE_NUMBER_ID),
                ("WA_TOKEN", WA_TOKEN),
                ("WA_APP_SECRET", WA_SECRET),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        env
    }

    /// The WhatsApp Cloud API requests (bodies with `"messaging_product":"whatsapp"`) so
    /// far, in order: path, `Authorization` header and JSON body.
    pub async fn whatsapp_requests(&self) -> Vec<(String, String, Value)> {
        self.message_requests()
            .await
            .into_iter()
            .filter(|(_, _, body)| body["messaging_product"] == "whatsapp")
            .collect()
    }

    /// Waits until at least `n` WhatsApp requests arrived (or 10 s), then a little longer
    /// for any request too many; returns them all.
    pub async fn wait_whatsapp(&self, n: usize) -> Vec<(String, String, Value)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.whatsapp_requests().await.len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Long enough for one request too many, if there were one, to arrive.
        tokio::time::sleep(Duration::from_millis(800)).await;
        self.whatsapp_requests().await
    }

    /// The Send API requests received so far, as JSON bodies with the bearer token.
    pub async fn sends(&self) -> Vec<(Value, String)> {
        self.graph
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().ends_with("/messages"))
            .map(|r| {
                let auth = r
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                (serde_json::from_slice(&r.body).unwrap_or(Value::Null), auth)
            })
            .collect()
    }

    /// Every request to a `…/messages` endpoint so far: its path, its `Authorization`
    /// header and its JSON body.
    pub async fn message_requests(&self) -> Vec<(String, String, Value)> {
        self.graph
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().ends_with("/messages"))
            .map(|r| {
                let auth = r
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                (r.url.path().to_owned(), auth, body)
            })
            .collect()
    }

    /// The text messages sent to `user`, in order.
    pub async fn texts_to(&self, user: &str) -> Vec<String> {
        self.sends()
            .await
            .into_iter()
            .filter(|(b, _)| b["recipient"]["id"] == user && b["message"]["text"].is_string())
            .map(|(b, _)| b["message"]["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until `user` got at least `n` text messages (or 10 s), returning them.
    pub async fn wait_texts(&self, user: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let texts = self.texts_to(user).await;
            if texts.len() >= n || Instant::now() > deadline {
                return texts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Number of requests to the model.
    pub async fn gpt_calls(&self) -> usize {
        self.openai
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }

    /// Bodies posted to the notification webhook.
    pub async fn notifications(&self) -> Vec<Value> {
        self.graph
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == "/notify")
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

/// A temporary accounts file serving [`ACCOUNT`] (token `TOKEN_A`) and [`ACCOUNT_B`]
/// (token `TOKEN_B`).
pub fn accounts_file() -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(&format!(
        "[[accounts]]\nbusiness_id = \"{ACCOUNT}\"\npage_token_env = \"TOKEN_A\"\n\n\
         [[accounts]]\nbusiness_id = \"{ACCOUNT_B}\"\npage_token_env = \"TOKEN_B\"\n"
    ))
}

/// [`accounts_file`] plus the Facebook Page [`PAGE`] (token `TOKEN_PAGE`).
pub fn page_accounts_file() -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(&format!(
        "[[accounts]]\nbusiness_id = \"{ACCOUNT}\"\npage_token_env = \"TOKEN_A\"\n\n\
         [[accounts]]\nbusiness_id = \"{ACCOUNT_B}\"\npage_token_env = \"TOKEN_B\"\n\n\
         [[accounts]]\nbusiness_id = \"{PAGE}\"\npage_token_env = \"TOKEN_PAGE\"\n"
    ))
}

/// A minimal temporary file (no extra dependency).
pub mod tempfile_path {
    use std::path::{Path, PathBuf};

    /// A file removed on drop.
    #[derive(Debug)]
    pub struct TempFile(PathBuf);

    impl TempFile {
        /// Writes `contents` to a fresh file in the temp dir.
        pub fn new(contents: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let path = std::env::temp_dir()
                .join(format!("botkit-e2e-{}-{nanos}.toml", std::process::id()));
            std::fs::write(&path, contents).expect("write temp file");
            Self(path)
        }

        /// The path.
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// A delivery to `account` from `user` (IGSIDs), at the current time so the bot does not
/// take it for stale; its items come from [`MessagingItem`] and [`ChangeItem`].
pub fn delivery(account: &str, user: &str) -> DeliveryBuilder {
    DeliveryBuilder::instagram()
        .account(account)
        .user(user)
        .at(SystemTime::now())
}

/// A delivery of one text message with the message id `mid` from `user` to `account`.
pub fn text(account: &str, user: &str, mid: &str, text: &str) -> DeliveryBuilder {
    delivery(account, user).messaging(MessagingItem::text(text).mid(mid))
}

/// Two days ago: older than `MAX_EVENT_AGE_SECS`.
fn two_days_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(2 * 24 * 3600)
}

/// A change to [`PAGE`]'s feed with `value`, now.
pub fn page_feed(value: Value) -> DeliveryBuilder {
    DeliveryBuilder::page()
        .account(PAGE)
        .at(SystemTime::now())
        .change(ChangeItem::new("feed", value))
}

/// Now, in whole seconds since the Unix epoch (a Page feed change's `created_time`).
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A comment by `from` on a post of [`PAGE`]: `verb` is `add`, `edited`, `remove`, …
pub fn page_comment(from: &str, comment_id: &str, verb: &str, message: &str) -> DeliveryBuilder {
    let post = format!("{PAGE}_998877665544332");
    page_feed(
        json!({"from": {"id": from, "name": "Maria L"}, "item": "comment", "verb": verb,
        "comment_id": comment_id, "post_id": post, "parent_id": post,
        "created_time": now_secs(), "message": message}),
    )
}

/// A Messenger item of [`PAGE`] exactly as given (policy enforcements carry no sender).
pub fn page_messaging(item: Value) -> DeliveryBuilder {
    DeliveryBuilder::page()
        .account(PAGE)
        .at(SystemTime::now())
        .messaging(MessagingItem::raw(item))
}

/// A bot serving [`PAGE`] too ([`page_accounts_file`]), with `redis` when given.
async fn live_page_bot(
    bin: &Path,
    mocks: &Mocks,
    redis: Option<&str>,
    stderr: Stdio,
) -> (BotProcess, tempfile_path::TempFile) {
    let file = page_accounts_file();
    let mut env = mocks.env(redis, file.path());
    env.push(("TOKEN_PAGE".to_owned(), PAGE_TOKEN.to_owned()));
    let bot = BotProcess::spawn_with_stderr(bin, &env, stderr).await;
    (bot, file)
}

async fn live_bot(
    bin: &Path,
    mocks: &Mocks,
    redis: Option<&str>,
) -> (BotProcess, tempfile_path::TempFile) {
    let file = accounts_file();
    let bot = BotProcess::spawn(bin, &mocks.env(redis, file.path())).await;
    (bot, file)
}

/// GET handshake: the challenge is echoed for the right token, `403` otherwise.
pub async fn handshake(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = live_bot(bin, &mocks, None).await;
    let get = |request: HandshakeRequest| {
        let request = request.uri(bot.url("/webhook")).build().unwrap();
        let request = reqwest::Request::try_from(request).unwrap();
        http().execute(request)
    };
    let ok = get(HandshakeRequest::new(VERIFY_TOKEN).challenge("1158201444"))
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = get(HandshakeRequest::new("wrong")).await.unwrap();
    assert_eq!(bad.status().as_u16(), 403);
}

/// A bad signature: `401`, nothing sent, counted in `/metrics`.
pub async fn bad_signature(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = live_bot(bin, &mocks, None).await;
    let delivery = text(ACCOUNT, "9001", "m_bad_sig", "price?");
    assert_eq!(bot.send(delivery.signed("not-the-secret")).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(mocks.sends().await.is_empty(), "nothing may be sent");
    let metrics = metrics_text(&bot).await;
    assert!(
        metrics.contains("botkit_webhook_signature_failures_total 1"),
        "{metrics}"
    );
    // `/metrics` is served on the admin listener only.
    let public = http().get(bot.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status().as_u16(), 404, "/metrics on the public port");
    // The same delivery, correctly signed, is answered.
    assert_eq!(bot.post(&delivery).await, 200);
    assert_eq!(mocks.wait_texts("9001", 1).await.len(), 1);
}

/// A bot against these mocks with a fresh `redis-server` for its state and dedup. Bind
/// the three in this order, so that the bot stops before its Redis server does.
async fn live_bot_on_redis(
    bin: &Path,
    mocks: &Mocks,
) -> (RedisServer, BotProcess, tempfile_path::TempFile) {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let (bot, file) = live_bot(bin, mocks, Some(&redis.url())).await;
    (redis, bot, file)
}

/// `GET /metrics` of `bot`.
pub async fn metrics_text(bot: &BotProcess) -> String {
    http()
        .get(bot.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A text matching a rule gets the rule's reply, without a model call.
pub async fn rule_reply(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    assert_eq!(
        bot.post(&text(ACCOUNT, "1001", "m1", "How much is the shirt? price"))
            .await,
        200
    );
    let texts = mocks.wait_texts("1001", 1).await;
    assert!(texts[0].contains("prices"), "{texts:?}");
    assert_eq!(mocks.gpt_calls().await, 0);
}

/// A text no rule matches: the typing indicator first, then the model's answer.
pub async fn model_fallback(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    assert_eq!(
        bot.post(&text(
            ACCOUNT,
            "1002",
            "m2",
            "Is the linen shirt in stock in M?"
        ))
        .await,
        200
    );
    let texts = mocks.wait_texts("1002", 1).await;
    assert_eq!(texts, vec![GPT_REPLY.to_owned()]);
    assert_eq!(mocks.gpt_calls().await, 1);
    let to_1002: Vec<Value> = mocks
        .sends()
        .await
        .into_iter()
        .map(|(b, _)| b)
        .filter(|b| b["recipient"]["id"] == "1002")
        .collect();
    assert_eq!(
        to_1002[0]["sender_action"], "typing_on",
        "typing first: {to_1002:?}"
    );
}

/// Story replies are answered by intent: buy/price, where/ship, love, otherwise thanks.
pub async fn story_replies(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    for (user, words, expected) in [
        ("1101", "how much is this?", STORY_REPLY_BUY),
        ("1102", "where do you ship from?", STORY_REPLY_SHIP),
        ("1103", "I love it, amazing", STORY_REPLY_LOVE),
        ("1104", "nice", STORY_REPLY_THANKS),
    ] {
        let reply = delivery(ACCOUNT, user).messaging(
            MessagingItem::story_reply(
                words,
                "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
            )
            .mid(format!("m_sr_{user}")),
        );
        assert_eq!(bot.post(&reply).await, 200);
        assert_eq!(mocks.wait_texts(user, 1).await, vec![expected.to_owned()]);
    }
}

/// A story mention: thanks and a repost request; the story id and its CDN URL are recorded
/// in the conversation (in Redis), and `/metrics` counts the event by kind.
pub async fn story_mention(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    let cdn =
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17999555000111333&signature=abc";
    // The referral form of a story mention (the attachment form is the other).
    let mention = delivery(ACCOUNT, "1201").messaging(MessagingItem::new().field(
        "referral",
        json!({"source": "STORY_MENTION", "type": "OPEN_THREAD",
               "story": {"id": "17999555000111333", "url": cdn}}),
    ));
    assert_eq!(bot.post(&mention).await, 200);
    assert_eq!(
        mocks.wait_texts("1201", 1).await,
        vec![STORY_MENTION_REPLY.to_owned()]
    );
    let history = redis_history(&redis.url(), ACCOUNT, "1201").await;
    assert!(
        history
            .iter()
            .any(|h| h.contains("17999555000111333") && h.contains("asset_id=17999555000111333")),
        "{history:?}"
    );
    let metrics = metrics_text(&bot).await;
    assert!(
        metrics.contains("botkit_events_total{kind=\"story_mention\"} 1"),
        "{metrics}"
    );
}

/// A media message gets a short acknowledgement.
pub async fn media_acknowledged(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    let media = delivery(ACCOUNT, "1301").messaging(
        MessagingItem::media(
            "image",
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=9",
        )
        .mid("m_media"),
    );
    assert_eq!(bot.post(&media).await, 200);
    assert_eq!(
        mocks.wait_texts("1301", 1).await,
        vec![MEDIA_REPLY.to_owned()]
    );
}

/// A comment matching a rule gets one private reply, also when Meta delivers it twice; a
/// comment no rule matches gets nothing.
pub async fn comment_private_reply(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    let comment = |user: &str, id: &str, text: &str| {
        delivery(ACCOUNT, user).change(ChangeItem::comment(text).from(user, "someone").id(id))
    };
    let c = comment("1401", "17952310476882035", "Price? 😍");
    assert_eq!(bot.post(&c).await, 200);
    assert_eq!(bot.post(&c).await, 200);
    assert_eq!(
        bot.post(&comment("1402", "17952310476882036", "nice pic"))
            .await,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while private_replies(&mocks).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Long enough for a second reply, if there were one, to arrive.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let private = private_replies(&mocks).await;
    assert_eq!(
        private.len(),
        1,
        "one private reply per comment: {private:?}"
    );
    assert_eq!(private[0]["recipient"]["comment_id"], "17952310476882035");
    let sends = mocks.sends().await;
    assert!(
        sends.iter().all(|(b, _)| b["recipient"]["id"] != "1402"),
        "no reply expected to 1402"
    );
}

/// A comment on a Facebook Page post that matches a rule gets one private reply, as on
/// Instagram: `POST /{page-id}/messages` with the Page's token and
/// `{"recipient":{"comment_id":…},"message":{"text":…}}`, also when Meta delivers it twice.
/// Its later edit, the Page's own comment, a comment no rule matches and a reaction get
/// nothing.
pub async fn page_comment_private_reply(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let redis = RedisServer::start().expect("redis-server must be installed");
    let (bot, _file) = live_page_bot(bin, &mocks, Some(&redis.url()), Stdio::inherit()).await;
    let comment_id = "998877665544332_1122334455667788";
    let comment = page_comment("7012345678901234", comment_id, "add", "Price? 😍");
    assert_eq!(bot.post(&comment).await, 200);
    assert_eq!(bot.post(&comment).await, 200);
    for silent in [
        page_comment("7012345678901234", comment_id, "edited", "Price in M? 😍"),
        page_comment(
            PAGE,
            "998877665544332_1122334455667799",
            "add",
            "Prices are in the shop, price list in our bio",
        ),
        page_comment(
            "7012345678901235",
            "998877665544332_1122334455667800",
            "add",
            "nice pic",
        ),
        page_feed(
            json!({"from": {"id": "7012345678901236"}, "item": "reaction", "verb": "add",
            "reaction_type": "like", "post_id": format!("{PAGE}_998877665544332"),
            "created_time": now_secs()}),
        ),
    ] {
        assert_eq!(bot.post(&silent).await, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while mocks.message_requests().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Long enough for a second request, if there were one, to arrive.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests = mocks.message_requests().await;
    assert_eq!(
        requests.len(),
        1,
        "one private reply, to the one matching comment: {requests:?}"
    );
    let (request_path, auth, body) = &requests[0];
    let segments: Vec<&str> = request_path.split('/').collect();
    assert_eq!(
        segments[..],
        ["", segments[1], PAGE, "messages"],
        "the Page's messages endpoint: {request_path}"
    );
    assert!(segments[1].starts_with('v'), "{request_path}");
    assert_eq!(auth, &format!("Bearer {PAGE_TOKEN}"));
    let pricing = RuleSet::embedded_default()
        .find("Price?")
        .expect("a default rule matches")
        .action()
        .text()
        .to_owned();
    assert_eq!(
        body,
        &json!({"recipient": {"comment_id": comment_id}, "message": {"text": pricing}})
    );
    drop(bot);
    drop(redis);
}

/// Meta's policy block and warning of a Page (both spellings of the key) are logged at
/// warn level and counted by action in `/metrics`, with the unblock; nothing is sent.
pub async fn policy_enforcement_logged_and_counted(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let log_path = std::env::temp_dir().join(format!(
        "botkit-e2e-policy-{}-{}.log",
        std::process::id(),
        now_secs()
    ));
    let log = std::fs::File::create(&log_path).expect("create the log file");
    let (bot, _file) = live_page_bot(bin, &mocks, None, Stdio::from(log)).await;
    for (key, action, reason) in [
        (
            "policy_enforcement",
            "block",
            Some("The bot violated our Platform Policies."),
        ),
        (
            "policy-enforcement",
            "warning",
            Some("Messages sent outside the allowed window."),
        ),
        ("policy_enforcement", "unblock", None),
    ] {
        let mut payload = json!({"action": action});
        if let Some(reason) = reason {
            payload["reason"] = json!(reason);
        }
        let now_ms = now_secs() * 1000;
        let item = json!({"recipient": {"id": PAGE}, "timestamp": now_ms, key: payload});
        assert_eq!(bot.post(&page_messaging(item)).await, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let metrics = metrics_text(&bot).await;
        if metrics.contains("botkit_policy_enforcements_total{action=\"unblock\"} 1") {
            break metrics;
        }
        assert!(Instant::now() < deadline, "not counted: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for action in ["block", "warning", "unblock"] {
        assert!(
            metrics.contains(&format!(
                "botkit_policy_enforcements_total{{action=\"{action}\"}} 1\n"
            )),
            "{action}: {metrics}"
        );
    }
    assert!(
        metrics.contains("botkit_events_total{kind=\"policy_enforcement\"} 3\n"),
        "{metrics}"
    );
    drop(bot);
    let logged = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let warnings: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("policy violation"))
        .collect();
    assert_eq!(warnings.len(), 2, "{logged}");
    assert!(warnings.iter().all(|l| l.contains("WARN")), "{logged}");
    assert!(
        warnings[0].contains("block") && warnings[1].contains("warning"),
        "{logged}"
    );
    assert!(
        mocks.message_requests().await.is_empty(),
        "nothing may be sent"
    );
}

async fn private_replies(mocks: &Mocks) -> Vec<Value> {
    mocks
        .sends()
        .await
        .into_iter()
        .map(|(b, _)| b)
        .filter(|b| b["recipient"]["comment_id"].is_string())
        .collect()
}

/// No reply to a reaction, a read receipt, a deleted message, an unknown event kind, or a
/// text older than `MAX_EVENT_AGE_SECS`.
pub async fn silent_events(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    let silent_user = "1501";
    for item in [
        MessagingItem::reaction("m1", "love", "❤"),
        MessagingItem::read("m1"),
        MessagingItem::deleted("m_del"),
        MessagingItem::new().field("brand_new_event", json!({"x": 1})),
    ] {
        assert_eq!(
            bot.post(&delivery(ACCOUNT, silent_user).messaging(item))
                .await,
            200
        );
    }
    let stale = text(ACCOUNT, "1502", "m_stale", "price?").at(two_days_ago());
    assert_eq!(bot.post(&stale).await, 200);
    // A text that is answered, so the silence above is not a bot that answers nothing.
    assert_eq!(
        bot.post(&text(ACCOUNT, "1503", "m_live", "price?")).await,
        200
    );
    assert_eq!(mocks.wait_texts("1503", 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let sends = mocks.sends().await;
    for user in [silent_user, "1502"] {
        assert!(
            sends.iter().all(|(b, _)| b["recipient"]["id"] != user),
            "no reply expected to {user}: {sends:?}"
        );
    }
}

/// Each account is answered with its own access token.
pub async fn token_per_account(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    assert_eq!(bot.post(&text(ACCOUNT, "1600", "m_a", "price?")).await, 200);
    assert_eq!(
        bot.post(&text(ACCOUNT_B, "1601", "m_b", "price please"))
            .await,
        200
    );
    assert_eq!(mocks.wait_texts("1600", 1).await.len(), 1);
    assert_eq!(mocks.wait_texts("1601", 1).await.len(), 1);
    let sends = mocks.sends().await;
    let auth_of = |user: &str| {
        sends
            .iter()
            .find(|(b, _)| b["recipient"]["id"] == user)
            .map(|(_, a)| a.clone())
            .unwrap()
    };
    assert_eq!(auth_of("1600"), "Bearer token-account-a");
    assert_eq!(auth_of("1601"), "Bearer token-account-b");
}

/// The echo of a reply the bot sent itself does not hand the conversation off: the next
/// text is answered.
pub async fn own_echo_keeps_answering(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (_redis, bot, _file) = live_bot_on_redis(bin, &mocks).await;
    assert_eq!(bot.post(&text(ACCOUNT, "1001", "m1", "price?")).await, 200);
    let first_text = mocks.wait_texts("1001", 1).await[0].clone();
    // The mock numbers the messages it accepts: the first one was that reply.
    assert_eq!(
        bot.post(
            &delivery(ACCOUNT, "1001").messaging(MessagingItem::echo(&first_text).mid("m_sent_0"))
        )
        .await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bot.post(&text(ACCOUNT, "1001", "m1b", "and shipping?"))
            .await,
        200
    );
    assert_eq!(mocks.wait_texts("1001", 2).await.len(), 2);
}

async fn redis_history(url: &str, account: &str, user: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("botkit:conv:{{{account}:{user}}}:history");
    redis::cmd("LRANGE")
        .arg(&key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// HANDOFF by rule (escalation message + Slack notification), silence, resolve, answers
/// again; a human's inbox echo also hands off.
pub async fn handoff_and_resolve(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = live_bot(bin, &mocks, None).await;
    let user = "2001";
    assert_eq!(
        bot.post(&text(ACCOUNT, user, "h1", "I want to talk to a human"))
            .await,
        200
    );
    let texts = mocks.wait_texts(user, 1).await;
    assert!(texts[0].contains("member of our team"), "{texts:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while mocks.notifications().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = mocks.notifications().await;
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]["text"].as_str().unwrap().contains(user),
        "{notes:?}"
    );

    assert_eq!(bot.post(&text(ACCOUNT, user, "h2", "price?")).await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        mocks.texts_to(user).await.len(),
        1,
        "no auto-reply in handoff"
    );

    let path = format!("/admin/conversations/{ACCOUNT}/{user}/resolve");
    // Not on the public port.
    let public = http()
        .post(bot.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404, "/admin on the public port");
    let resolve = bot.admin_url(&path);
    // A wrong token of the same length, of another length, padded, or none: all 401,
    // through the same compare.
    let same_length: String = ADMIN_TOKEN
        .chars()
        .map(|c| if c == '0' { '1' } else { c })
        .collect();
    let wrong_tokens = [
        same_length,
        "wrong".to_owned(),
        format!("{ADMIN_TOKEN}-and-more"),
        format!(" {ADMIN_TOKEN}"),
    ];
    for token in &wrong_tokens {
        let wrong = http()
            .post(&resolve)
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 401, "{token:?}");
    }
    let none = http().post(&resolve).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let metrics = metrics_text(&bot).await;
    assert!(
        metrics.contains(&format!(
            "botkit_admin_auth_failures_total {}\n",
            wrong_tokens.len() + 1
        )),
        "{metrics}"
    );
    let ok = http()
        .post(&resolve)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 204);

    assert_eq!(bot.post(&text(ACCOUNT, user, "h3", "price?")).await, 200);
    assert_eq!(mocks.wait_texts(user, 2).await.len(), 2);

    // A human answers from the inbox (an echo this bot did not send) → handoff.
    let other = "2002";
    assert_eq!(
        bot.post(
            &delivery(ACCOUNT, other)
                .messaging(MessagingItem::echo("Hi, this is Ana from the team").mid("human_mid_1"))
        )
        .await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.post(&text(ACCOUNT, other, "h4", "price?")).await, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(mocks.texts_to(other).await.is_empty(), "human took over");
}

/// One delivery posted concurrently to two processes sharing Redis → one reply.
pub async fn duplicates_two_processes(bin: &Path) {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let mocks = Mocks::start(Duration::ZERO).await;
    let (a, _fa) = live_bot(bin, &mocks, Some(&redis.url())).await;
    let (b, _fb) = live_bot(bin, &mocks, Some(&redis.url())).await;
    for i in 0..5 {
        let user = format!("30{i:02}");
        let delivery = text(ACCOUNT, &user, &format!("dup_{i}"), "price?");
        let (sa, sb) = tokio::join!(a.post(&delivery), b.post(&delivery));
        assert_eq!((sa, sb), (200, 200));
        assert_eq!(mocks.wait_texts(&user, 1).await.len(), 1);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    for i in 0..5 {
        let user = format!("30{i:02}");
        assert_eq!(
            mocks.texts_to(&user).await.len(),
            1,
            "exactly one reply to {user}"
        );
    }
}

/// The model does not answer within `OPENAI_TIMEOUT_SECS` → the canned reply.
pub async fn gpt_timeout(bin: &Path) {
    let mocks = Mocks::start(Duration::from_secs(5)).await;
    let (bot, _file) = live_bot(bin, &mocks, None).await;
    assert_eq!(
        bot.post(&text(ACCOUNT, "4001", "t1", "Is the linen shirt in stock?"))
            .await,
        200
    );
    let texts = mocks.wait_texts("4001", 1).await;
    assert_eq!(texts, vec![CANNED_ERROR_REPLY.to_owned()]);
}

/// Redis stopped mid-run → `503` while it is down (no panic); normal service after it
/// is back.
pub async fn redis_restart(bin: &Path) {
    let mut redis = RedisServer::start().expect("redis-server must be installed");
    let mocks = Mocks::start(Duration::ZERO).await;
    let (mut bot, _file) = live_bot(bin, &mocks, Some(&redis.url())).await;
    assert_eq!(bot.post(&text(ACCOUNT, "5001", "r1", "price?")).await, 200);
    assert_eq!(mocks.wait_texts("5001", 1).await.len(), 1);

    redis.stop();
    for i in 0..3 {
        let status = bot
            .post(&text(ACCOUNT, "5002", &format!("r_down_{i}"), "price?"))
            .await;
        assert_eq!(status, 503, "while Redis is down");
    }
    let health = http().get(bot.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 503);
    assert!(bot.is_running(), "no panic");

    redis.restart().expect("restart redis");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut status = 0;
    while Instant::now() < deadline {
        status = bot.post(&text(ACCOUNT, "5002", "r_down_0", "price?")).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "service after Redis is back");
    assert_eq!(mocks.wait_texts("5002", 1).await.len(), 1);
    assert!(bot.is_running());
}

/// With no environment at all: dry-run, generated secret printed, replies printed.
pub async fn embedded_defaults(bin: &Path) {
    let bot = BotProcess::spawn(bin, &[]).await;
    let out = bot.stdout();
    let secret = out
        .iter()
        .find_map(|l| l.split("generated dev app secret ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("generated secret printed")
        .to_owned();
    assert_eq!(
        bot.send(text(ACCOUNT, "6001", "d1", "price?").signed(&secret))
            .await,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if bot
            .stdout()
            .iter()
            .any(|l| l.starts_with("[dry-run] reply to 6001"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dry-run reply printed: {:?}",
            bot.stdout()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With stderr redirected to a file (not a terminal), the log lines carry no ANSI colour
/// codes.
pub async fn plain_logs_off_a_terminal(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let file = accounts_file();
    let log_path = std::env::temp_dir().join(format!(
        "botkit-e2e-log-{}-{}.log",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let log = std::fs::File::create(&log_path).expect("create the log file");
    let mut env = mocks.env(None, file.path());
    env.push(("RUST_LOG".to_owned(), "info".to_owned()));
    let bot = BotProcess::spawn_with_stderr(bin, &env, Stdio::from(log)).await;
    // An event too old to answer is logged at `info`.
    let stale = text(ACCOUNT, "7001", "m_log", "price?").at(two_days_ago());
    assert_eq!(bot.post(&stale).await, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let logged = loop {
        let logged = std::fs::read_to_string(&log_path).unwrap_or_default();
        if logged.contains("MAX_EVENT_AGE_SECS") {
            break logged;
        }
        assert!(Instant::now() < deadline, "no log line: {logged:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(bot);
    let _ = std::fs::remove_file(&log_path);
    assert!(
        !logged.contains("\x1b["),
        "escape codes in a log written to a file: {logged:?}"
    );
    assert!(logged.contains(" INFO "), "{logged:?}");
}

/// A bad variable: one line naming it on stderr, exit code 2.
pub fn bad_config(bin: &Path) {
    let out = Command::new(bin)
        .env_clear()
        .env("PORT", "not-a-port")
        .output()
        .expect("run the bot");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PORT"), "{stderr}");
}

/// A WhatsApp delivery for [`WA_PHONE_NUMBER_ID`] of the account [`WABA_ID`] with one
/// `messages` change whose value holds `items` (`"messages"` and/or `"statuses"`, and
/// `"contacts"`), as Meta sends it: no entry `time`, timestamps in seconds as strings.
pub fn whatsapp_delivery(items: Value) -> DeliveryBuilder {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": WA_PHONE_NUMBER_ID},
    });
    if let (Some(value), Some(items)) = (value.as_object_mut(), items.as_object()) {
        value.extend(items.clone());
    }
    DeliveryBuilder::new("whatsapp_business_account").raw_entry(json!({
        "id": WABA_ID,
        "changes": [{"value": value, "field": "messages"}],
    }))
}

/// Now, in seconds since the Unix epoch, as the string WhatsApp timestamps are.
fn wa_now() -> String {
    now_secs().to_string()
}

/// A WhatsApp text message `body` from `wa_id` (profile name "Sheena Nelson"), with the
/// message id `wamid`, now.
pub fn whatsapp_text(wa_id: &str, wamid: &str, body: &str) -> DeliveryBuilder {
    whatsapp_delivery(json!({
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": wa_now(), "type": "text",
                      "text": {"body": body}}],
    }))
}

/// A status (`sent`, `delivered`, `read`, `failed`) of the message `wamid` the business
/// sent to `wa_id`, now.
pub fn whatsapp_status(wa_id: &str, wamid: &str, status: &str) -> DeliveryBuilder {
    let mut item = json!({"id": wamid, "status": status, "timestamp": wa_now(),
                          "recipient_id": wa_id});
    if status == "failed" {
        item["errors"] = json!([{"code": 131047, "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]);
    } else {
        item["conversation"] = json!({"id": "6ceb9d929c3ea5c6a4d9e7bd9e0e1c31",
            "expiration_timestamp": wa_now(), "origin": {"type": "service"}});
        item["pricing"] = json!({"billable": true, "pricing_model": "PMP", "category": "service",
            "type": "free_customer_service"});
    }
    whatsapp_delivery(json!({"statuses": [item]}))
}

/// A bot serving [`ACCOUNT`], [`ACCOUNT_B`] and the WhatsApp number
/// [`WA_PHONE_NUMBER_ID`] on one URL ([`Mocks::whatsapp_env`]).
async fn whatsapp_bot(
    bin: &Path,
    mocks: &Mocks,
    redis: Option<&str>,
) -> (BotProcess, tempfile_path::TempFile) {
    let file = accounts_file();
    let bot = BotProcess::spawn(bin, &mocks.whatsapp_env(redis, file.path())).await;
    (bot, file)
}

/// The reply of the embedded rule matching `text`.
fn rule_text(text: &str) -> String {
    RuleSet::embedded_default()
        .find(text)
        .expect("a default rule matches")
        .action()
        .text()
        .to_owned()
}

/// Asserts that `request` went to the WhatsApp number's messages endpoint with its token.
fn assert_whatsapp_endpoint(request: &(String, String, Value)) {
    let (request_path, auth, _) = request;
    let segments: Vec<&str> = request_path.split('/').collect();
    assert_eq!(
        segments[..],
        ["", segments[1], WA_PHONE_NUMBER_ID, "messages"],
        "the phone number's messages endpoint: {request_path}"
    );
    assert!(segments[1].starts_with('v'), "{request_path}");
    assert_eq!(auth, &format!("Bearer {WA_TOKEN}"));
}

/// Sends the WhatsApp text `text` from `wa_id` (message `wamid`), signed with the WhatsApp
/// app's secret, and checks the bot accepts it.
async fn send_whatsapp_text(bot: &BotProcess, wa_id: &str, wamid: &str, text: &str) {
    assert_eq!(
        bot.send(whatsapp_text(wa_id, wamid, text).signed(WA_SECRET))
            .await,
        200,
        "{wamid}"
    );
}

/// Asserts that `requests[at]` marks `wamid` read with the typing indicator and
/// `requests[at + 1]` answers `wa_id` with the text `reply`.
fn assert_read_then_reply(
    requests: &[(String, String, Value)],
    at: usize,
    wamid: &str,
    wa_id: &str,
    reply: &str,
) {
    assert_eq!(requests[at].2, mark_read_body(wamid, true), "{requests:?}");
    assert_eq!(
        requests[at + 1].2,
        whatsapp_text_body(wa_id, reply),
        "{requests:?}"
    );
}

/// The exact mark-read body of `wamid`, with the typing indicator or without.
pub fn mark_read_body(wamid: &str, typing: bool) -> Value {
    let mut body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
    if typing {
        body["typing_indicator"] = json!({"type": "text"});
    }
    body
}

/// The exact body of a WhatsApp text reply `text` to `wa_id`.
pub fn whatsapp_text_body(wa_id: &str, text: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id,
           "type": "text", "text": {"preview_url": false, "body": text}})
}

/// A WhatsApp text signed with the WhatsApp app's secret (not the Instagram one): marked
/// read with the typing indicator, then answered by rule through
/// `POST /{phone-number-id}/messages` with the WhatsApp token — exactly two requests, in
/// that order, and no model call. A text no rule matches: marked read with the typing
/// indicator, then the model's answer.
pub async fn whatsapp_text_reply(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    // Bound in this order, so that the bot stops before its Redis server does.
    let redis = RedisServer::start().expect("redis-server must be installed");
    let (bot, _file) = whatsapp_bot(bin, &mocks, Some(&redis.url())).await;
    let wa_id = "16505551234";
    let wamid = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
    let question = "How much is the shirt? price";
    send_whatsapp_text(&bot, wa_id, wamid, question).await;
    let requests = mocks.wait_whatsapp(2).await;
    assert_eq!(requests.len(), 2, "a mark-read and a reply: {requests:?}");
    for request in &requests {
        assert_whatsapp_endpoint(request);
    }
    assert_read_then_reply(&requests, 0, wamid, wa_id, &rule_text(question));
    assert_eq!(mocks.gpt_calls().await, 0);
    assert!(
        mocks
            .sends()
            .await
            .iter()
            .all(|(b, _)| b["messaging_product"] == "whatsapp")
    );

    let other = "16505550000";
    let wamid_2 = "wamid.HBgLMTY1MDU1NTAwMDAVAgARGBJBQkNERUYwMTIzNDU2Nzg5AA==";
    send_whatsapp_text(&bot, other, wamid_2, "Is the linen shirt in stock in M?").await;
    let requests = mocks.wait_whatsapp(4).await;
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_read_then_reply(&requests, 2, wamid_2, other, GPT_REPLY);
    assert_eq!(mocks.gpt_calls().await, 1);
    let metrics = metrics_text(&bot).await;
    assert!(
        metrics.contains("botkit_events_total{kind=\"text\"} 2"),
        "{metrics}"
    );
}

/// Statuses (sent, delivered, read, failed) are never answered: no request at all; a
/// text from the same person afterwards is (so the silence is not a bot that answers
/// nothing). `/metrics` counts the statuses.
pub async fn whatsapp_statuses_get_nothing(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = whatsapp_bot(bin, &mocks, None).await;
    let wa_id = "16505551235";
    let sent = "wamid.HBgLMTY1MDU1NTEyMzUVAgARGBIzRjU0QUJDMTIzNDU2Nzg5MAA=";
    for status in ["sent", "delivered", "read", "failed"] {
        assert_eq!(
            bot.send(whatsapp_status(wa_id, sent, status).signed(WA_SECRET))
                .await,
            200,
            "{status}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = metrics_text(&bot).await;
        if metrics.contains("botkit_events_total{kind=\"status\"} 4") {
            break;
        }
        assert!(Instant::now() < deadline, "statuses not counted: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        mocks.message_requests().await.is_empty(),
        "nothing may be sent for a status: {:?}",
        mocks.message_requests().await
    );
    let wamid = "wamid.HBgLMTY1MDU1NTEyMzUVAgARGBI5OTg4Nzc2NjU1NDQzMzIyAA==";
    send_whatsapp_text(&bot, wa_id, wamid, "price?").await;
    let requests = mocks.wait_whatsapp(2).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].2, mark_read_body(wamid, true));
}

/// A WhatsApp message Meta delivers again (the same wamid), also to a second process
/// sharing Redis, is answered once: one mark-read, one reply.
pub async fn whatsapp_redelivery_gets_one_reply(bin: &Path) {
    let redis = RedisServer::start().expect("redis-server must be installed");
    let mocks = Mocks::start(Duration::ZERO).await;
    let (a, _fa) = whatsapp_bot(bin, &mocks, Some(&redis.url())).await;
    let (b, _fb) = whatsapp_bot(bin, &mocks, Some(&redis.url())).await;
    let wa_id = "16505551236";
    let wamid = "wamid.HBgLMTY1MDU1NTEyMzYVAgARGBJERURVUDAwMDAwMDAwMDAwMQA=";
    let delivery = whatsapp_text(wa_id, wamid, "price?");
    assert_eq!(a.send(delivery.signed(WA_SECRET)).await, 200);
    let (sa, sb) = tokio::join!(
        a.send(delivery.signed(WA_SECRET)),
        b.send(delivery.signed(WA_SECRET))
    );
    assert_eq!((sa, sb), (200, 200));
    let requests = mocks.wait_whatsapp(2).await;
    assert_eq!(
        requests.len(),
        2,
        "one mark-read and one reply for one wamid: {requests:?}"
    );
    assert_read_then_reply(&requests, 0, wamid, wa_id, &rule_text("price?"));
}

/// One URL, two app secrets: an Instagram DM signed with the Instagram app's secret is
/// answered through the Instagram Send API with the account's token, a WhatsApp text
/// signed with the WhatsApp app's secret through the Cloud API with the WhatsApp token;
/// a delivery signed with neither is `401` and gets nothing.
pub async fn instagram_and_whatsapp_on_one_endpoint(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = whatsapp_bot(bin, &mocks, None).await;
    let wa_id = "16505551237";
    let wamid = "wamid.HBgLMTY1MDU1NTEyMzcVAgARGBJPTkVFTkRQT0lOVDAwMDAwMQA=";
    assert_eq!(
        bot.send(whatsapp_text(wa_id, "wamid.forged", "price?").signed("not-a-secret"))
            .await,
        401
    );
    assert_eq!(
        bot.send(text(ACCOUNT, "8001", "m_one_url", "price?").signed(SECRET))
            .await,
        200
    );
    send_whatsapp_text(&bot, wa_id, wamid, "price?").await;
    let texts = mocks.wait_texts("8001", 1).await;
    assert_eq!(texts, vec![rule_text("price?")]);
    let requests = mocks.wait_whatsapp(2).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_whatsapp_endpoint(request);
    }
    assert_eq!(
        requests[1].2,
        whatsapp_text_body(wa_id, &rule_text("price?"))
    );
    let instagram: Vec<(String, String, Value)> = mocks
        .message_requests()
        .await
        .into_iter()
        .filter(|(_, _, body)| body["messaging_product"] != "whatsapp")
        .collect();
    assert_eq!(instagram.len(), 1, "{instagram:?}");
    let (ig_path, ig_auth, ig_body) = &instagram[0];
    assert!(
        ig_path.ends_with(&format!("/{ACCOUNT}/messages")),
        "{ig_path}"
    );
    assert_eq!(ig_auth, "Bearer token-account-a");
    assert_eq!(ig_body["recipient"]["id"], "8001");
    let metrics = metrics_text(&bot).await;
    assert!(
        metrics.contains("botkit_webhook_signature_failures_total 1"),
        "{metrics}"
    );
}

/// A WhatsApp conversation hands off as an Instagram one does: the handoff rule's reply
/// and a notification; afterwards the person's messages are marked read (without the
/// typing indicator) and not answered, until an operator resolves the conversation
/// (`/admin/conversations/{phone-number-id}/{wa_id}/resolve`).
pub async fn whatsapp_handoff_and_resolve(bin: &Path) {
    let mocks = Mocks::start(Duration::ZERO).await;
    let (bot, _file) = whatsapp_bot(bin, &mocks, None).await;
    let wa_id = "16505551238";
    let wamid = |n: u8| format!("wamid.HBgLMTY1MDU1NTEyMzgVAgARGBJIQU5ET0ZGMDAwMDAwMDAwM{n}A=");
    let human = "I want to talk to a human";
    send_whatsapp_text(&bot, wa_id, &wamid(1), human).await;
    let requests = mocks.wait_whatsapp(2).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].2, whatsapp_text_body(wa_id, &rule_text(human)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while mocks.notifications().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = mocks.notifications().await;
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]["text"].as_str().unwrap().contains(wa_id),
        "{notes:?}"
    );

    send_whatsapp_text(&bot, wa_id, &wamid(2), "price?").await;
    let requests = mocks.wait_whatsapp(3).await;
    assert_eq!(
        requests.len(),
        3,
        "only a mark-read in handoff: {requests:?}"
    );
    assert_eq!(requests[2].2, mark_read_body(&wamid(2), false));

    let resolve = bot.admin_url(&format!(
        "/admin/conversations/{WA_PHONE_NUMBER_ID}/{wa_id}/resolve"
    ));
    let ok = http()
        .post(&resolve)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    send_whatsapp_text(&bot, wa_id, &wamid(3), "price?").await;
    let requests = mocks.wait_whatsapp(5).await;
    assert_eq!(requests.len(), 5, "{requests:?}");
    assert_read_then_reply(&requests, 3, &wamid(3), wa_id, &rule_text("price?"));
}

/// Without `WA_TOKEN` a WhatsApp text is answered dry: the reply is printed, nothing is
/// sent.
pub async fn whatsapp_dry_run(bin: &Path) {
    let bot = BotProcess::spawn(bin, &[]).await;
    let out = bot.stdout();
    let secret = out
        .iter()
        .find_map(|l| l.split("generated dev app secret ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("generated secret printed")
        .to_owned();
    let wamid = "wamid.HBgLMTY1MDU1NTEyMzkVAgARGBJEUllSVU4wMDAwMDAwMDAwMQA=";
    assert_eq!(
        bot.send(whatsapp_text("16505551239", wamid, "price?").signed(&secret))
            .await,
        200
    );
    let expected = format!("[dry-run] reply to 16505551239 via {WA_PHONE_NUMBER_ID}: ");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if bot.stdout().iter().any(|l| l.starts_with(&expected)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dry-run WhatsApp reply printed: {:?}",
            bot.stdout()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
