//! Run with: cargo run -p simulate -- [--url http://127.0.0.1:3000/webhook] [--secret S] [KIND|FILE …]
//!
//! Signs fixture deliveries from `tests/fixtures/` with the app secret (`--secret`, else
//! `IG_APP_SECRET`, else the dev secret a bot on embedded defaults wrote to
//! `bot_kit::config::dev_secret_path()`) and POSTs them to a running bot, printing each HTTP status — so you
//! can watch the bot work without a Meta app. With no KIND or FILE it sends one delivery
//! of every kind the bots react to (and a few they deliberately ignore). Timestamps are
//! set to now so the bot does not take the events for stale retries.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The kinds sent by default, in this order (the echo last: an echo this bot did not
/// send hands the conversation to a human).
const DEFAULT_KINDS: [&str; 11] = [
    "text",
    "quick_reply",
    "story_reply",
    "story_mention",
    "media",
    "comment",
    "reaction",
    "read",
    "deleted",
    "unknown",
    "echo",
];

const USAGE: &str = "usage: simulate [--url URL] [--secret SECRET] [KIND|FILE ...]";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The first fixture named `<kind>__*.json` under the Instagram fixtures.
fn fixture_for(kind: &str) -> Option<PathBuf> {
    let root = fixtures_dir().join("instagram");
    for sub in ["messaging", "changes"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!("{kind}__"))
                        && n.ends_with(".json")
                        && !n.ends_with(".expected.json")
                })
            })
            .collect();
        names.sort();
        if let Some(first) = names.into_iter().next() {
            return Some(first);
        }
    }
    None
}

/// Sets every `time` / `timestamp` number to `now_ms`.
fn refresh_times(value: &mut Value, now_ms: u64) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if (key == "time" || key == "timestamp") && v.is_number() {
                    *v = Value::from(now_ms);
                } else {
                    refresh_times(v, now_ms);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| refresh_times(v, now_ms)),
        _ => {}
    }
}

struct Args {
    url: String,
    secret: Option<String>,
    targets: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:3000/webhook".to_owned(),
        secret: std::env::var("IG_APP_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        targets: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => args.url = it.next().ok_or("--url needs a value")?,
            "--secret" => args.secret = Some(it.next().ok_or("--secret needs a value")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => args.targets.push(arg),
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // --secret, else IG_APP_SECRET, else the dev secret a bot on embedded defaults wrote.
    let dev_secret = || {
        std::fs::read_to_string(bot_kit::config::dev_secret_path())
            .ok()
            .filter(|s| !s.is_empty())
    };
    let Some(secret) = args.secret.or_else(dev_secret) else {
        eprintln!(
            "IG_APP_SECRET: not set; pass --secret, or start the bot on its embedded defaults first (it writes its generated dev app secret to {})",
            bot_kit::config::dev_secret_path().display()
        );
        return ExitCode::from(2);
    };
    let targets: Vec<String> = if args.targets.is_empty() {
        DEFAULT_KINDS.iter().map(|k| (*k).to_owned()).collect()
    } else {
        args.targets
    };
    let client = reqwest::Client::new();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut failures = 0_u32;
    for target in targets {
        let path = if Path::new(&target).is_file() {
            PathBuf::from(&target)
        } else if let Some(path) = fixture_for(&target) {
            path
        } else {
            eprintln!("{target}: no such file and no fixture of that kind");
            failures += 1;
            continue;
        };
        let body = match std::fs::read(&path) {
            Ok(raw) => match serde_json::from_slice::<Value>(&raw) {
                Ok(mut value) => {
                    refresh_times(&mut value, now_ms);
                    serde_json::to_vec(&value).unwrap_or(raw)
                }
                Err(_) => raw, // not JSON: send as is (the bot answers 400)
            },
            Err(error) => {
                eprintln!("{}: {error}", path.display());
                failures += 1;
                continue;
            }
        };
        let signature = meta_webhooks::test_util::sign(&secret, &body);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match client
            .post(&args.url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                println!("{target:<14} {name:<45} -> {status}");
                if !status.is_success() {
                    failures += 1;
                }
            }
            Err(error) => {
                println!("{target:<14} {name:<45} -> error: {error}");
                failures += 1;
            }
        }
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
