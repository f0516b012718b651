//! [`Cluster`]: one Redis, one [`GraphMock`] and any number of bot processes
//! (`BOT_ROLE=receiver|worker|all`) started by the test, each stopped by PID on drop.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use meta_webhooks::test_util::SignedRequest;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::graph::GraphMock;
use crate::RedisServer;
use crate::e2e::{self, BotProcess, SECRET, VERIFY_TOKEN};

/// The token of [`e2e::ACCOUNT`] in the accounts file.
pub const TOKEN_A: &str = "token-account-a";
/// The token of [`e2e::ACCOUNT_B`] in the accounts file.
pub const TOKEN_B: &str = "token-account-b";

/// What a bot process does (`BOT_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Serves `/webhook`: verifies and `XADD`s.
    Receiver,
    /// Reads the streams and answers through the Graph API.
    Worker,
    /// Both.
    All,
}

impl Role {
    /// The `BOT_ROLE` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Worker => "worker",
            Self::All => "all",
        }
    }
}

/// The outcome of one webhook `POST`, measured by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    /// The HTTP status (`0`: no answer, e.g. connection refused).
    pub status: u16,
    /// From sending the request to the end of the answer.
    pub elapsed: Duration,
}

/// A directory removed on drop, unless the thread is panicking or `FAULTS_KEEP_LOGS` is set
/// (a failed scenario keeps its logs and Redis files for inspection; the path is printed).
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A fresh directory under the system temp dir, named after `name`.
    pub fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "botkit-faults-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Self(path)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "fault scenario failed: process logs kept in {}",
                self.0.display()
            );
        } else if std::env::var_os("FAULTS_KEEP_LOGS").is_some() {
            eprintln!(
                "FAULTS_KEEP_LOGS: process logs kept in {}",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// One scenario's world: Redis (optionally durable), the Graph mock, the accounts file,
/// the stream settings every process gets, and an HTTP client.
///
/// Field order is drop order: the processes a scenario holds are dropped (killed) by the
/// scenario before the cluster, then Redis, then the scratch directory.
pub struct Cluster {
    bin: PathBuf,
    /// The Redis server all processes share.
    pub redis: RedisServer,
    /// The Graph API mock.
    pub graph: GraphMock,
    env: Vec<(String, String)>,
    http: reqwest::Client,
    _accounts: e2e::tempfile_path::TempFile,
    scratch: ScratchDir,
}

impl Cluster {
    /// Starts Redis (durable with AOF `appendfsync always` when `durable`) and the Graph
    /// mock; `stream_env` (e.g. `STREAM_SHARDS`) goes to every process.
    pub async fn start(bin: &Path, name: &str, durable: bool, stream_env: &[(&str, &str)]) -> Self {
        let scratch = ScratchDir::new(name);
        let redis = if durable {
            RedisServer::start_persistent(&scratch.path().join("redis"))
        } else {
            RedisServer::start()
        }
        .expect("redis-server must be installed");
        let accounts = e2e::accounts_file();
        let mut env: Vec<(String, String)> = vec![
            ("IG_APP_SECRET".to_owned(), SECRET.to_owned()),
            ("IG_VERIFY_TOKEN".to_owned(), VERIFY_TOKEN.to_owned()),
            (
                "ACCOUNTS_FILE".to_owned(),
                accounts.path().display().to_string(),
            ),
            ("TOKEN_A".to_owned(), TOKEN_A.to_owned()),
            ("TOKEN_B".to_owned(), TOKEN_B.to_owned()),
            ("REDIS_URL".to_owned(), redis.url()),
            // Generous, so that a busy machine does not turn into 503s the scenarios would
            // have to allow for; the Redis outage scenario sets the default 200 ms.
            ("STREAM_ACK_TIMEOUT_MS".to_owned(), "2000".to_owned()),
            (
                "RUST_LOG".to_owned(),
                std::env::var("FAULTS_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            ),
        ];
        env.extend(
            stream_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        Self {
            bin: bin.to_path_buf(),
            redis,
            graph: GraphMock::new(),
            env,
            http,
            _accounts: accounts,
            scratch,
        }
    }

    /// Starts a bot process with `role`, its own Graph endpoint labelled `label`, the
    /// cluster's environment plus `extra`; its log goes to `<scratch>/<label>.log`. Waits
    /// until `/healthz` answers.
    pub async fn spawn(&self, role: Role, label: &str, extra: &[(&str, &str)]) -> BotProcess {
        let mut env = self.env.clone();
        env.push(("BOT_ROLE".to_owned(), role.as_str().to_owned()));
        env.push((
            "GRAPH_API_BASE".to_owned(),
            self.graph.endpoint(label).await,
        ));
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let log = File::create(self.scratch.path().join(format!("{label}.log")))
            .expect("create the process log");
        BotProcess::spawn_with_stderr(&self.bin, &env, Stdio::from(log)).await
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Signs `delivery` (a delivery's body) and POSTs it to `bot`'s `/webhook`, timing the
    /// answer.
    pub async fn post(&self, bot: &BotProcess, delivery: &Bytes) -> Posted {
        post_to(&self.http, &bot.url("/webhook"), delivery).await
    }

    /// Posts every `(receiver index, delivery)` of `plan` to `receivers`, at most
    /// `concurrency` at a time; the outcomes in plan order.
    pub async fn post_all(
        &self,
        receivers: &[&BotProcess],
        plan: Vec<(usize, Bytes)>,
        concurrency: usize,
    ) -> Vec<Posted> {
        let urls: Vec<String> = receivers.iter().map(|r| r.url("/webhook")).collect();
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let total = plan.len();
        for (i, (receiver, delivery)) in plan.into_iter().enumerate() {
            let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
            let http = self.http.clone();
            let url = urls[receiver % urls.len()].clone();
            tasks.spawn(async move {
                let posted = post_to(&http, &url, &delivery).await;
                drop(permit);
                (i, posted)
            });
        }
        let mut out = vec![
            Posted {
                status: 0,
                elapsed: Duration::ZERO
            };
            total
        ];
        while let Some(done) = tasks.join_next().await {
            let (i, posted) = done.unwrap();
            out[i] = posted;
        }
        out
    }

    /// Posts `plan` like [`post_all`](Self::post_all), then posts every delivery that got
    /// a `503` again (one at a time, as Meta retries) until it gets a `200`; panics on any
    /// other status or after 30 s. Returns how many got a `503` first.
    pub async fn accept_all(
        &self,
        receivers: &[&BotProcess],
        plan: Vec<(usize, Bytes)>,
        concurrency: usize,
    ) -> usize {
        let posted = self.post_all(receivers, plan.clone(), concurrency).await;
        let mut refused = 0;
        for ((receiver, delivery), first) in plan.iter().zip(&posted) {
            if first.status == 200 {
                continue;
            }
            assert_eq!(first.status, 503, "a delivery got {first:?}");
            refused += 1;
            let deadline = Instant::now() + super::WAIT;
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let again = self
                    .post(receivers[receiver % receivers.len()], delivery)
                    .await;
                if again.status == 200 {
                    break;
                }
                assert!(
                    again.status == 503 && Instant::now() < deadline,
                    "a redelivery got {again:?}"
                );
            }
        }
        refused
    }

    /// `GET <path>` on `bot`: status and body.
    pub async fn get(&self, bot: &BotProcess, path: &str) -> (u16, String) {
        let response = self.http.get(bot.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// `bot`'s `/metrics`.
    pub async fn metrics(&self, bot: &BotProcess) -> Metrics {
        let response = self
            .http
            .get(bot.admin_url("/metrics"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "/metrics: {body}");
        Metrics(body)
    }

    /// A Redis connection.
    pub async fn redis_conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The state of the delivery streams in Redis.
    pub async fn streams(&self) -> StreamsState {
        streams_state(&mut self.redis_conn().await).await
    }

    /// Waits until every entry of every delivery stream was read and acknowledged
    /// (nothing pending, nothing unread); panics after `within` with the last state.
    pub async fn wait_quiescent(&self, within: Duration) -> StreamsState {
        let deadline = Instant::now() + within;
        let mut conn = self.redis_conn().await;
        loop {
            let state = streams_state(&mut conn).await;
            if state.is_quiescent() {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "streams not drained after {within:?}: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The shards whose lease (`botkit:lease:{i}`, valued with the holder's consumer
    /// name `host-pid-random`) the process `pid` holds.
    pub async fn leases_of(&self, pid: u32) -> Vec<u16> {
        let mut conn = self.redis_conn().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("botkit:lease:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        let needle = format!("-{pid}-");
        let mut shards = Vec::new();
        for key in keys {
            let holder: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            if holder.is_some_and(|h| h.contains(&needle))
                && let Some(shard) = key.rsplit(':').next().and_then(|s| s.parse().ok())
            {
                shards.push(shard);
            }
        }
        shards.sort_unstable();
        shards
    }

    /// Waits until every worker in `workers` holds at least one shard lease (they balance
    /// the shards among themselves every third of `STREAM_LEASE_MS`); their shards.
    pub async fn wait_balanced(&self, workers: &[&BotProcess]) -> Vec<Vec<u16>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut held = Vec::new();
            for w in workers {
                held.push(self.leases_of(w.pid()).await);
            }
            if held.iter().all(|h| !h.is_empty()) {
                return held;
            }
            assert!(
                Instant::now() < deadline,
                "workers did not share the shards: {held:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The directory holding the process logs.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }
}

/// Signs `delivery` with [`SECRET`] and POSTs it to `url`, timing the answer.
pub(super) async fn post_to(http: &reqwest::Client, url: &str, delivery: &Bytes) -> Posted {
    let request = SignedRequest::new(SECRET, delivery.clone()).uri(url);
    let started = Instant::now();
    let status = e2e::send(http, request).await;
    Posted {
        status,
        elapsed: started.elapsed(),
    }
}

/// A `/metrics` text with lookups.
#[derive(Debug, Clone)]
pub struct Metrics(pub String);

impl Metrics {
    /// The value of the sample `name` (with its labels, e.g.
    /// `botkit_stream_handled_total{outcome="ok"}`); `0` when absent.
    pub fn value(&self, name: &str) -> f64 {
        self.0
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(' '))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }

    /// The sum of every sample of the family `name` (all label values).
    pub fn sum(&self, name: &str) -> f64 {
        self.0
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let rest = l.strip_prefix(name)?;
                let rest = if let Some(labelled) = rest.strip_prefix('{') {
                    labelled.split_once("} ")?.1
                } else {
                    rest.strip_prefix(' ')?
                };
                rest.trim().parse::<f64>().ok()
            })
            .sum()
    }
}

/// One delivery stream's consumer-group bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardState {
    /// `XLEN`.
    pub len: u64,
    /// `last-generated-id` of the stream.
    pub last_id: String,
    /// Per group: (name, pending, last-delivered-id).
    pub groups: Vec<(String, u64, String)>,
}

/// The delivery streams (`botkit:stream:*`) and the dead-letter stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamsState {
    /// By stream key.
    pub shards: BTreeMap<String, ShardState>,
    /// `XLEN botkit:dead`.
    pub dead: u64,
}

impl StreamsState {
    /// Every entry was delivered to every group and acknowledged.
    pub fn is_quiescent(&self) -> bool {
        self.shards.values().all(|s| {
            if s.groups.is_empty() {
                return s.len == 0;
            }
            s.groups
                .iter()
                .all(|(_, pending, delivered)| *pending == 0 && *delivered == s.last_id)
        })
    }

    /// Entries pending (read, not acknowledged) over all shards and groups.
    pub fn pending(&self) -> u64 {
        self.shards
            .values()
            .flat_map(|s| s.groups.iter().map(|g| g.1))
            .sum()
    }
}

async fn streams_state(conn: &mut redis::aio::MultiplexedConnection) -> StreamsState {
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("botkit:stream:*")
        .query_async(conn)
        .await
        .unwrap();
    keys.sort();
    let mut state = StreamsState::default();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(conn)
            .await
            .unwrap();
        if kind != "stream" {
            continue;
        }
        let info: redis::Value = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(&key)
            .query_async(conn)
            .await
            .unwrap();
        let info = pairs(&info);
        let groups: redis::Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&key)
            .query_async(conn)
            .await
            .unwrap();
        let groups = match groups {
            redis::Value::Array(items) | redis::Value::Set(items) => items
                .iter()
                .map(|g| {
                    let g = pairs(g);
                    (
                        text(g.get("name")),
                        int(g.get("pending")),
                        text(g.get("last-delivered-id")),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        state.shards.insert(
            key,
            ShardState {
                len: int(info.get("length")),
                last_id: text(info.get("last-generated-id")),
                groups,
            },
        );
    }
    state.dead = redis::cmd("XLEN")
        .arg("botkit:dead")
        .query_async(conn)
        .await
        .unwrap_or(0);
    state
}

fn pairs(value: &redis::Value) -> BTreeMap<String, redis::Value> {
    match value {
        redis::Value::Array(items) => items
            .chunks(2)
            .filter_map(|kv| match kv {
                [k, v] => Some((text(Some(k)), v.clone())),
                _ => None,
            })
            .collect(),
        redis::Value::Map(items) => items
            .iter()
            .map(|(k, v)| (text(Some(k)), v.clone()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn text(value: Option<&redis::Value>) -> String {
    match value {
        Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(redis::Value::SimpleString(s)) => s.clone(),
        Some(redis::Value::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn int(value: Option<&redis::Value>) -> u64 {
    match value {
        Some(redis::Value::Int(i)) => u64::try_from(*i).unwrap_or(0),
        other => text(other).parse().unwrap_or(0),
    }
}
