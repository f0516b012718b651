//! The framework-neutral endpoint (feature `sink`): every status of the HTTP contract
//! through `Endpoint` directly, and what gets logged. Also the helpers the tower adapter's
//! tests share.

mod contract;
mod logs;

use std::sync::{Arc, Mutex};

use meta_webhooks::sink::{Batch, Sink, SinkError};
use meta_webhooks::{AppSecret, Handshake, Verifier, VerifyToken};
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "tower-test-app-secret";
pub(crate) const TOKEN: &str = "tower-test-verify-token";
pub(crate) const ACCOUNT: &str = "17841405793187218";

pub(crate) fn verifier() -> Verifier {
    Verifier::new(AppSecret::new(SECRET).unwrap())
}

pub(crate) fn handshake() -> Handshake {
    Handshake::new(VerifyToken::new(TOKEN).unwrap())
}

/// One `messaging` text item from `sender` to the account.
pub(crate) fn dm(sender: &str, mid: &str, timestamp: u64, text: &str) -> Value {
    json!({
        "sender": {"id": sender},
        "recipient": {"id": ACCOUNT},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text}
    })
}

/// A delivery with one entry holding `messaging` items, as compact JSON.
pub(crate) fn delivery(messaging: Vec<Value>) -> String {
    json!({
        "object": "instagram",
        "entry": [{"id": ACCOUNT, "time": 1_769_870_412_731_u64, "messaging": messaging}]
    })
    .to_string()
}

/// A sink that records what it accepted, or refuses with a set error.
#[derive(Clone, Default)]
pub(crate) struct RecordingSink {
    pub(crate) accepted: Arc<Mutex<Vec<Batch>>>,
    pub(crate) refuse: Option<SinkError>,
}

impl RecordingSink {
    pub(crate) fn refusing(error: SinkError) -> Self {
        Self {
            refuse: Some(error),
            ..Self::default()
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}

impl Sink for RecordingSink {
    async fn accept(&self, batch: Batch) -> Result<(), SinkError> {
        if let Some(error) = &self.refuse {
            return Err(error.clone());
        }
        self.accepted.lock().unwrap().push(batch);
        Ok(())
    }
}
