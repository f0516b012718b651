//! [`RedisServer`]: a real `redis-server` on a free loopback port (features `test-util`
//! and `redis`).

use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a started server to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts at finding a free port that the server can bind.
const START_ATTEMPTS: usize = 5;

/// Why a [`RedisServer`] could not be started or restarted: `redis-server` not installed
/// (nor named by `REDIS_SERVER_BIN`), not spawnable, exited at start-up, or silent for 10 s.
/// Its message says which, and how to install the server.
#[derive(Debug)]
pub struct RedisServerError(String);

impl fmt::Display for RedisServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedisServerError {}

/// A `redis-server` child process on `127.0.0.1:<free port>`, without persistence
/// (`--save "" --appendonly no`) unless started with [`start_persistent`](Self::start_persistent).
/// Killed on drop.
///
/// Tests that use it run against the real server, never a mock, and they **fail** — they
/// do not skip — when `redis-server` is not installed: [`start`](Self::start) returns a
/// [`RedisServerError`] saying so (Debian/Ubuntu: `apt-get install redis-server`). Set
/// `REDIS_SERVER_BIN` to use a binary that is not on `PATH`.
///
/// [`start_persistent`](Self::start_persistent) keeps the data in a directory with an
/// append-only file fsynced on every write, so a server killed and restarted on the same
/// port and directory still holds every write it acknowledged.
///
/// Synchronous (`std::process`): call it before or outside the async runtime, or accept
/// that [`start`](Self::start) blocks a thread while the server comes up.
///
/// ```no_run
/// use meta_webhooks::test_util::RedisServer;
///
/// let mut redis = RedisServer::start().expect("redis-server must be installed");
/// let url = redis.url(); // redis://127.0.0.1:<port>/
/// assert!(url.starts_with("redis://127.0.0.1:"));
/// redis.stop(); // Redis going away mid-run, as a crash would
/// assert!(!redis.is_running());
/// redis.restart().expect("restart on the same port");
/// assert!(redis.is_running());
/// ```
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
    /// The data directory of a persistent server (AOF, `appendfsync always`).
    aof_dir: Option<PathBuf>,
}

impl RedisServer {
    /// Finds `redis-server` (`REDIS_SERVER_BIN`, else `PATH`), starts it on a free
    /// loopback port and waits until it answers `PING`.
    ///
    /// # Errors
    ///
    /// [`RedisServerError`] when `redis-server` is not installed, cannot be spawned, or
    /// does not answer within 10 s.
    pub fn start() -> Result<Self, RedisServerError> {
        Self::start_in(None)
    }

    /// Like [`start`](Self::start), but durable: `--appendonly yes --appendfsync always`
    /// with `dir` as the data directory (created if missing), so every acknowledged write
    /// survives [`stop`](Self::stop) (a `SIGKILL`) and [`restart`](Self::restart).
    ///
    /// # Errors
    ///
    /// [`RedisServerError`] when `dir` cannot be created, or as for [`start`](Self::start).
    pub fn start_persistent(dir: &Path) -> Result<Self, RedisServerError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| RedisServerError(format!("cannot create {}: {e}", dir.display())))?;
        Self::start_in(Some(dir.to_path_buf()))
    }

    fn start_in(aof_dir: Option<PathBuf>) -> Result<Self, RedisServerError> {
        let binary = find_binary()?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut server = Self {
                binary: binary.clone(),
                port,
                child: None,
                aof_dir: aof_dir.clone(),
            };
            match server.spawn_and_wait() {
                Ok(()) => return Ok(server),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| RedisServerError("redis-server did not start".to_owned())))
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `true` while the child process runs (`&mut`: it reaps a child that has exited).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server (as a crash would) and waits for it to exit. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id while the server runs (`None` once [stopped](Self::stop)).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the server again on the same port (stopping it first if it runs). The data
    /// is gone unless the server is [persistent](Self::start_persistent), in which case it
    /// reloads its append-only file from the same directory.
    ///
    /// # Errors
    ///
    /// [`RedisServerError`] when the server does not come back within 10 s.
    pub fn restart(&mut self) -> Result<(), RedisServerError> {
        self.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return Ok(()),
                // The port can take a moment to be free again.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), RedisServerError> {
        let mut command = Command::new(&self.binary);
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--daemonize", "no"]);
        match &self.aof_dir {
            None => command
                .args(["--appendonly", "no"])
                .arg("--dir")
                .arg(std::env::temp_dir()),
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always"])
                .arg("--dir")
                .arg(dir),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                RedisServerError(format!("cannot spawn {}: {e}", self.binary.display()))
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if ping(self.addr()) {
                return Ok(());
            }
            if !self.is_running() {
                self.stop();
                return Err(RedisServerError(format!(
                    "redis-server exited at start-up on port {} (port taken?)",
                    self.port
                )));
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(RedisServerError(format!(
                    "redis-server on port {} did not answer PING within {READY_TIMEOUT:?}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn find_binary() -> Result<PathBuf, RedisServerError> {
    find_binary_in(
        std::env::var_os("REDIS_SERVER_BIN"),
        std::env::var_os("PATH"),
    )
}

/// `explicit` (the value of `REDIS_SERVER_BIN`) if set, else `redis-server` on `path`.
fn find_binary_in(
    explicit: Option<std::ffi::OsString>,
    path: Option<std::ffi::OsString>,
) -> Result<PathBuf, RedisServerError> {
    if let Some(explicit) = explicit {
        let path = PathBuf::from(explicit);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(RedisServerError(format!(
                "REDIS_SERVER_BIN={} is not an executable file",
                path.display()
            )))
        };
    }
    let path = path.unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            RedisServerError(
                "redis-server not found on PATH: the Redis tests need a real server and fail \
                 without one (Debian/Ubuntu: apt-get install redis-server; or set \
                 REDIS_SERVER_BIN)"
                    .to_owned(),
            )
        })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn free_port() -> Result<u16, RedisServerError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| RedisServerError(format!("cannot find a free loopback port: {e}")))
}

/// Sends an inline `PING` and expects `+PONG`.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_is_an_error_that_says_how_to_install_it() {
        let error = find_binary_in(None, Some("/nonexistent-dir".into()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("redis-server not found on PATH"), "{error}");
        assert!(error.contains("apt-get install redis-server"), "{error}");
        assert!(error.contains("REDIS_SERVER_BIN"), "{error}");
    }

    #[test]
    fn a_bad_override_is_an_error_that_names_it() {
        let error = find_binary_in(Some("/nonexistent/redis-server".into()), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("REDIS_SERVER_BIN=/nonexistent/redis-server"),
            "{error}"
        );
    }
}
