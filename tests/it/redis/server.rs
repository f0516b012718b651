//! A real `redis-server` on a free loopback port, for tests and benches.
//!
//! The Redis tests run against the real server, never a mock, and they **fail** — they
//! do not skip — when `redis-server` is not installed (Debian: `apt-get install
//! redis-server`). Set `REDIS_SERVER_BIN` to use a binary that is not on `PATH`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a started server to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at finding a free port that the server can bind.
const START_ATTEMPTS: usize = 5;

/// A `redis-server` child process on `127.0.0.1:<free port>` without persistence. Killed
/// on drop.
#[derive(Debug)]
pub(crate) struct RedisServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

#[allow(dead_code, reason = "each user of this file needs a different part")]
impl RedisServer {
    /// Finds `redis-server` (`REDIS_SERVER_BIN`, else `PATH`), starts it on a free
    /// loopback port and waits until it answers `PING`.
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing or does not start: the tests must fail, not skip.
    pub(crate) fn start() -> Self {
        let binary = find_binary();
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let mut server = Self {
                binary: binary.clone(),
                port: free_port(),
                child: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The process id while the server runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (as a crash would) and waits for it to exit. Idempotent.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (stopping it first if it runs); its data
    /// is gone.
    ///
    /// # Panics
    ///
    /// When it does not come back within 10 s.
    pub(crate) fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                // The port can take a moment to be free again.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("redis-server did not restart: {e}"),
            }
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if ping(self.port) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| !matches!(c.try_wait(), Ok(None)));
            if exited || Instant::now() > deadline {
                self.stop();
                return Err(format!("no PONG on port {} (port taken?)", self.port));
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

fn find_binary() -> PathBuf {
    if let Some(explicit) = std::env::var_os("REDIS_SERVER_BIN") {
        let path = PathBuf::from(explicit);
        assert!(
            is_executable(&path),
            "REDIS_SERVER_BIN={} is not executable",
            path.display()
        );
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| is_executable(candidate))
        .expect(
            "redis-server not found on PATH: the Redis tests need a real server and fail \
             without one (Debian/Ubuntu: apt-get install redis-server; or set REDIS_SERVER_BIN)",
        )
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

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Sends an inline `PING` and expects `+PONG`.
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
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
