//! What the token tests share: a clock moved by hand, and the log lines written while a
//! capture guard lives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use meta_webhooks::client::Clock;

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// Starting at `start`.
    pub(crate) fn at(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Starting now, to the whole second (for tests where Redis expires keys in real time).
    pub(crate) fn starting_now() -> Self {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        Self::at(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Log lines written while the guard lives (this thread: the tests drive the keeper on it).
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures every level on this thread until the guard drops.
    pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The first line holding `needle`.
    pub(crate) fn line(&self, needle: &str) -> String {
        let text = self.text();
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
            .to_owned()
    }

    /// None of `secrets` in any line.
    pub(crate) fn assert_none_of(&self, secrets: &[&str]) {
        let text = self.text();
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} logged:\n{text}");
        }
    }
}
