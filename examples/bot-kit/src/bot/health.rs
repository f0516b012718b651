//! `/healthz` and `/metrics`.

use std::time::Duration;

use super::{Bot, Reply};

/// How long a `/healthz` or admission check waits for the store.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

impl Bot {
    /// `/healthz`: `200 ok` when the store answers, `503` otherwise. Accounts whose
    /// replies are paused because Meta rejected their token are listed (still `200`: the
    /// other accounts work).
    pub async fn health(&self) -> Reply {
        if !self.store_ok().await {
            return Reply::text(503, "state store unavailable\n");
        }
        let paused = self.inner.metrics.paused_accounts();
        if paused.is_empty() {
            Reply::text(200, "ok\n")
        } else {
            Reply::text(
                200,
                format!(
                    "ok\npaused accounts (access token rejected): {}\n",
                    paused.join(", ")
                ),
            )
        }
    }

    /// The store answers a `PING`. A failed first try is repeated once within the same
    /// bound: after a Redis restart the first command finds the old connection dead (and
    /// replaces it), which must not make the first check after the restart fail.
    async fn store_ok(&self) -> bool {
        let store = &self.inner.store;
        let ping = async {
            if store.ping().await.is_ok() {
                return true;
            }
            store.ping().await.is_ok()
        };
        matches!(
            tokio::time::timeout(STORE_CHECK_TIMEOUT, ping).await,
            Ok(true)
        )
    }

    /// `/metrics`: Prometheus text.
    pub fn metrics_text(&self) -> Reply {
        Reply {
            status: 200,
            content_type: crate::metrics::CONTENT_TYPE,
            body: self.inner.metrics.render(),
        }
    }
}
