//! Hostile peers against one bot process (memory mode, dry-run sender): idle, slow and
//! stalled connections, a `SIGTERM` while bodies stall, repeated signature headers, and a
//! request carrying both `Content-Length` and `Transfer-Encoding`.
//!
//! The bot runs with small limits ([`BODY_LIMIT`], [`MAX_CONNECTIONS`], 2 s timeouts) so
//! each scenario takes seconds. Only behaviour is asserted; any bound on time or memory
//! has a wide margin, and the measured values are printed as one `[hostile]` line.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: failures are assertions"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::e2e::{ACCOUNT, BotProcess, SECRET, VERIFY_TOKEN, text};

/// `BODY_LIMIT_BYTES` of these scenarios: 256 KiB.
pub const BODY_LIMIT: usize = 256 * 1024;
/// `MAX_CONNECTIONS` of these scenarios.
pub const MAX_CONNECTIONS: usize = 320;
/// `HEADER_READ_TIMEOUT_SECS`, `KEEP_ALIVE_SECS` and (unless a scenario says otherwise)
/// `BODY_TIMEOUT_SECS` of these scenarios.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// `SHUTDOWN_TIMEOUT_SECS` of these scenarios.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Slack on every time bound: a closed connection or an exit may take this long past its
/// timeout on a busy machine before the scenario fails.
const MARGIN: Duration = Duration::from_secs(8);

const IDLE: usize = 200;
const SLOW: usize = 50;
const STALLED: usize = 50;

fn env(body_timeout: Duration) -> Vec<(String, String)> {
    [
        ("IG_APP_SECRET", SECRET.to_owned()),
        ("IG_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
        ("HEADER_READ_TIMEOUT_SECS", TIMEOUT.as_secs().to_string()),
        ("KEEP_ALIVE_SECS", TIMEOUT.as_secs().to_string()),
        ("BODY_TIMEOUT_SECS", body_timeout.as_secs().to_string()),
        ("MAX_CONNECTIONS", MAX_CONNECTIONS.to_string()),
        ("BODY_LIMIT_BYTES", BODY_LIMIT.to_string()),
        (
            "SHUTDOWN_TIMEOUT_SECS",
            SHUTDOWN_TIMEOUT.as_secs().to_string(),
        ),
        // Every timed-out body is a rejection log line: keep the test output short.
        ("RUST_LOG", "error".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The resident set size of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// A POST head for `/webhook` with a wrong signature and `Content-Length: length`.
fn head(length: usize) -> String {
    format!(
        "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         x-hub-signature-256: sha256={}\r\ncontent-length: {length}\r\n\r\n",
        "0".repeat(64)
    )
}

/// How a hostile connection ended, seen from the client.
#[derive(Debug, Clone, Copy)]
struct Ending {
    /// Time from the end of the client's sending to the connection's close; `None` when
    /// it was still open at the end of the wait.
    closed_after: Option<Duration>,
    /// The status of the answer read before the close, if any.
    status: Option<u16>,
}

/// Reads until the server closes the connection (EOF or reset), at most `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Ending {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    Ending {
        closed_after: closed.ok().map(|()| started.elapsed()),
        status: status_of(&seen),
    }
}

fn status_of(response: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(response.get(..12)?).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.trim().parse().ok()
}

async fn connect(bot: &BotProcess) -> TcpStream {
    TcpStream::connect(("127.0.0.1", bot.port()))
        .await
        .expect("connect to the bot")
}

/// A connection that sends the head of a body of half the limit, then one byte every
/// 250 ms, and reads until the server closes it.
async fn slow_body(bot: &BotProcess) -> tokio::task::JoinHandle<Option<Ending>> {
    let stream = connect(bot).await;
    tokio::spawn(async move {
        let (mut reader, mut writer) = stream.into_split();
        writer
            .write_all(head(BODY_LIMIT / 2).as_bytes())
            .await
            .ok()?;
        let trickle = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if writer.write_all(b" ").await.is_err() {
                    break;
                }
            }
        });
        let started = Instant::now();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let closed = tokio::time::timeout(TIMEOUT + MARGIN, async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(buf.get(..n).unwrap_or_default()),
                }
            }
        })
        .await;
        trickle.abort();
        Some(Ending {
            closed_after: closed.ok().map(|()| started.elapsed()),
            status: status_of(&seen),
        })
    })
}

/// A connection that sends all but the last byte of a body just under the limit, then
/// stalls and reads until the server closes it.
async fn stalled_body(bot: &BotProcess) -> tokio::task::JoinHandle<Option<Ending>> {
    let mut stream = connect(bot).await;
    tokio::spawn(async move {
        let length = BODY_LIMIT - 1024;
        stream.write_all(head(length).as_bytes()).await.ok()?;
        stream.write_all(&vec![b' '; length - 1]).await.ok()?;
        Some(read_until_closed(&mut stream, TIMEOUT + MARGIN).await)
    })
}

/// With 200 idle connections, 50 slow-body connections and 50 connections that each sent
/// a body just under the limit and stalled, a signed delivery is still answered `200`;
/// the slow and stalled connections (and the idle ones) are closed after their timeout;
/// the process's RSS stays within the baseline plus body limit × connection cap.
pub async fn hostile_connections_leave_deliveries_answered(bin: &Path) {
    let bot = BotProcess::spawn(bin, &env(TIMEOUT)).await;
    let baseline = rss_bytes(bot.pid());

    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(connect(&bot).await);
    }
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        slow.push(slow_body(&bot).await);
    }
    let mut stalled = Vec::with_capacity(STALLED);
    for _ in 0..STALLED {
        stalled.push(stalled_body(&bot).await);
    }
    let opened = Instant::now();

    // Sample the RSS while the hostile connections are open.
    let pid = bot.pid();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        let until = Instant::now() + TIMEOUT + Duration::from_secs(2);
        while Instant::now() < until {
            peak = peak.max(rss_bytes(pid));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });

    let sent = Instant::now();
    let status = bot
        .post(&text(ACCOUNT, "7001", "hostile-1", "price?"))
        .await;
    let delivery_took = sent.elapsed();
    assert_eq!(status, 200, "a signed delivery among hostile connections");

    let mut slow_endings = Vec::new();
    for task in slow {
        slow_endings.push(task.await.expect("slow-body task"));
    }
    let mut stalled_endings = Vec::new();
    for task in stalled {
        stalled_endings.push(task.await.expect("stalled-body task"));
    }
    let mut idle_endings = Vec::new();
    for mut stream in idle {
        let left = (TIMEOUT + MARGIN).saturating_sub(opened.elapsed());
        idle_endings.push(Some(read_until_closed(&mut stream, left).await));
    }
    let peak = sampler.await.expect("RSS sampler");

    let slowest = |endings: &[Option<Ending>]| {
        endings
            .iter()
            .flatten()
            .filter_map(|e| e.closed_after)
            .max()
            .unwrap_or_default()
    };
    let statuses = |endings: &[Option<Ending>]| {
        let mut s: Vec<_> = endings.iter().flatten().map(|e| e.status).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let bound = baseline + (BODY_LIMIT * MAX_CONNECTIONS) as u64;
    println!(
        "[hostile] delivery answered in {delivery_took:?}; slow bodies closed after at most \
         {:?} (answers {:?}), stalled bodies after at most {:?} (answers {:?}), idle \
         connections within {:?} of opening; RSS baseline {} KiB, peak {} KiB, bound {} KiB",
        slowest(&slow_endings),
        statuses(&slow_endings),
        slowest(&stalled_endings),
        statuses(&stalled_endings),
        opened.elapsed(),
        baseline / 1024,
        peak / 1024,
        bound / 1024,
    );
    let open = |endings: &[Option<Ending>]| {
        endings
            .iter()
            .filter(|e| e.is_none_or(|e| e.closed_after.is_none()))
            .count()
    };
    assert_eq!(open(&slow_endings), 0, "slow-body connections left open");
    assert_eq!(
        open(&stalled_endings),
        0,
        "stalled-body connections left open"
    );
    assert_eq!(open(&idle_endings), 0, "idle connections left open");
    // Wide margin: the bound itself is the worst case of full bodies on every connection.
    assert!(
        peak <= baseline + 2 * (bound - baseline),
        "RSS {peak} over baseline {baseline} + 2 × body limit × connection cap"
    );
    // The bot still answers once the hostile connections are gone.
    assert_eq!(
        bot.post(&text(ACCOUNT, "7002", "hostile-2", "price?"))
            .await,
        200
    );
}

/// `SIGTERM` with stalled bodies whose deadline is far away: the process exits within
/// `SHUTDOWN_TIMEOUT_SECS` plus a margin, with status 0.
pub async fn sigterm_with_stalled_bodies_is_bounded(bin: &Path) {
    let mut bot = BotProcess::spawn(bin, &env(Duration::from_secs(60))).await;
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let mut stream = connect(&bot).await;
        stream
            .write_all(head(1000).as_bytes())
            .await
            .expect("send a head");
        stream
            .write_all(b"{\"object\"")
            .await
            .expect("send a start");
        stalled.push(stream);
    }
    // Let the bot start reading those bodies.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    bot.terminate();
    let exit = bot.wait_exit(SHUTDOWN_TIMEOUT + MARGIN).await;
    println!(
        "[hostile] SIGTERM with 5 stalled bodies: exit {exit:?} after {:?} \
         (SHUTDOWN_TIMEOUT_SECS={})",
        signalled.elapsed(),
        SHUTDOWN_TIMEOUT.as_secs()
    );
    let exit = exit.expect("the bot exits within SHUTDOWN_TIMEOUT_SECS plus a margin");
    assert!(exit.success(), "exit status {exit:?}");
    drop(stalled);
}

/// Two `X-Hub-Signature-256` headers, the valid one first, get `401`; so does none.
pub async fn duplicate_signature_headers_get_401(bin: &Path) {
    let bot = BotProcess::spawn(bin, &env(TIMEOUT)).await;
    let body = text(ACCOUNT, "7101", "dup-sig-1", "price?").build();
    let valid = meta_webhooks::test_util::sign(SECRET, &body);
    let client = reqwest::Client::new();
    let post = |signatures: &[&str]| {
        let mut request = client
            .post(bot.url("/webhook"))
            .header("content-type", "application/json")
            .body(body.clone());
        for signature in signatures {
            request = request.header("x-hub-signature-256", *signature);
        }
        async move { request.send().await.map(|r| r.status().as_u16()) }
    };
    let wrong = format!("sha256={}", "0".repeat(64));
    let twice = post(&[&valid, &wrong]).await.expect("POST");
    let same_twice = post(&[&valid, &valid]).await.expect("POST");
    let none = post(&[]).await.expect("POST");
    let once = post(&[&valid]).await.expect("POST");
    println!(
        "[hostile] signatures valid+wrong {twice}, valid+valid {same_twice}, none {none}, valid {once}"
    );
    assert_eq!(twice, 401);
    assert_eq!(same_twice, 401);
    assert_eq!(none, 401);
    assert_eq!(once, 200);
}

/// What a bot did with a request carrying both `Content-Length` (wrong) and
/// `Transfer-Encoding: chunked` (with a correctly signed delivery as the chunked body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Smuggled {
    /// The status answered, if any.
    pub status: Option<u16>,
    /// Whether the server closed the connection after answering.
    pub closed: bool,
}

/// Sends `POST /webhook` with `Content-Length: 5` and `Transfer-Encoding: chunked`, the
/// chunked body a signed delivery, and reports the answer and whether the connection was
/// closed after it. The bot's test asserts its server's rule.
pub async fn content_length_with_transfer_encoding(bin: &Path) -> Smuggled {
    let bot = BotProcess::spawn(bin, &env(TIMEOUT)).await;
    let body = text(ACCOUNT, "7201", "smuggle-1", "price?").build();
    let signature = meta_webhooks::test_util::sign(SECRET, &body);
    let mut request = format!(
        "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         x-hub-signature-256: {signature}\r\ncontent-length: 5\r\n\
         transfer-encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut stream = connect(&bot).await;
    stream.write_all(&request).await.expect("send the request");
    let ending = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let smuggled = Smuggled {
        status: ending.status,
        closed: ending.closed_after.is_some(),
    };
    println!("[hostile] Content-Length + Transfer-Encoding: {smuggled:?}");
    smuggled
}

/// What a bot did with one connection more than `MAX_CONNECTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCap {
    /// Whether the server answered or closed it before the client sent anything.
    pub refused_at_once: bool,
    /// The status it answered (to nothing, or to a `GET /healthz`), if any.
    pub status: Option<u16>,
    /// Whether the connection was answered or closed within the header timeout plus a
    /// margin, i.e. not queued forever.
    pub settled: bool,
}

/// With `MAX_CONNECTIONS=8` and 8 idle connections open, one more connection: it is
/// either refused at once or served once the idle ones time out, never held forever.
pub async fn connection_over_the_cap(bin: &Path) -> OverCap {
    let mut env = env(TIMEOUT);
    env.retain(|(k, _)| k != "MAX_CONNECTIONS");
    env.push(("MAX_CONNECTIONS".to_owned(), "8".to_owned()));
    let bot = BotProcess::spawn(bin, &env).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(connect(&bot).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut extra = connect(&bot).await;
    let unsolicited = read_until_closed(&mut extra, Duration::from_millis(500)).await;
    let over = if unsolicited.closed_after.is_some() {
        OverCap {
            refused_at_once: true,
            status: unsolicited.status,
            settled: true,
        }
    } else {
        let request = "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
        let _ = extra.write_all(request.as_bytes()).await;
        let answer = read_until_closed(&mut extra, TIMEOUT + MARGIN).await;
        OverCap {
            refused_at_once: false,
            status: answer.status,
            settled: answer.closed_after.is_some(),
        }
    };
    println!(
        "[hostile] connection over MAX_CONNECTIONS=8: {over:?} after {:?}",
        started.elapsed()
    );
    drop(idle);
    over
}
