//! The real `mock-graph` binary on a free loopback port: each kind of Send request gets the
//! answer of the API it belongs to and is counted in `/stats`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test: failures are assertions"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The running mock; killed on drop.
struct MockGraph {
    child: Child,
    base: String,
}

impl Drop for MockGraph {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> MockGraph {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-graph"))
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mock-graph");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening on http://…")
        .to_owned();
    MockGraph { child, base }
}

async fn post(base: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn whatsapp_sends_and_mark_reads_get_the_cloud_api_answers_and_are_counted() {
    let mock = start();
    let base = mock.base.as_str();
    let path = "/v25.0/106540352242922/messages";

    let text = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                      "to": "16505551234", "type": "text",
                      "text": {"preview_url": false, "body": "Hi"}});
    assert_eq!(
        post(base, path, Some("wa-token"), &text).await,
        (
            200,
            json!({"messaging_product": "whatsapp",
                   "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
                   "messages": [{"id": "wamid.mock_0"}]})
        )
    );
    for typing in [false, true] {
        let mut read = json!({"messaging_product": "whatsapp", "status": "read",
                              "message_id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"});
        if typing {
            read["typing_indicator"] = json!({"type": "text"});
        }
        assert_eq!(
            post(base, path, Some("wa-token"), &read).await,
            (200, json!({"success": true}))
        );
    }
    let dm = json!({"recipient": {"id": "6934581207719432"}, "message": {"text": "Hi"}});
    assert_eq!(
        post(
            base,
            "/v25.0/17841405793187218/messages",
            Some("ig-token"),
            &dm
        )
        .await,
        (
            200,
            json!({"recipient_id": "6934581207719432", "message_id": "m_mock_0"})
        )
    );
    let (status, error) = post(base, path, None, &text).await;
    assert_eq!(status, 401);
    assert_eq!(error["error"]["code"], 190);

    let stats: Value = reqwest::get(format!("{base}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["whatsapp_messages"], 1, "{stats}");
    assert_eq!(stats["whatsapp_reads"], 2, "{stats}");
    assert_eq!(stats["messages"], 1, "{stats}");
    assert_eq!(stats["sender_actions"], 0, "{stats}");
    assert_eq!(stats["unauthorized"], 1, "{stats}");
}
