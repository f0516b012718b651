//! Run with: cargo run -p simulate -- [--url http://127.0.0.1:3000/webhook] [--secret S] [KIND|FILE …]
//!
//! Builds deliveries with `meta_webhooks::test_util` (or takes fixture files) and signs them
//! with the app secret (`--secret`, else
//! `IG_APP_SECRET`, else the dev secret a bot on embedded defaults wrote to
//! `bot_kit::config::dev_secret_path()`) and POSTs them to a running bot, printing each HTTP status — so you
//! can watch the bot work without a Meta app. With no KIND or FILE it sends one delivery
//! of every kind the bots react to (and a few they deliberately ignore). A KIND is built
//! by the crate's delivery builder (or, for kinds it has no constructor for, taken from
//! the first Instagram fixture of that kind); timestamps are set to now so the bot does
//! not take the events for stale retries.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use meta_webhooks::test_util::{
    ChangeItem, Corpus, DeliveryBuilder, Fixture, MessagingItem, SignedRequest,
};
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

/// A delivery of `kind` at `now`, as Meta would send it now: built for the kinds the
/// delivery builder knows, else the first Instagram fixture named `<kind>__*.json` (under
/// `messaging/`, then `changes/`) with its times refreshed.
fn delivery_of(kind: &str, now: SystemTime) -> Option<Vec<u8>> {
    const CDN: &str = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17890&signature=sim";
    let mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjM0MDI4MjM2NjgZDZD";
    let delivery = DeliveryBuilder::instagram().at(now);
    let delivery = match kind {
        "text" => delivery.messaging(MessagingItem::text("Hi! How much is the blue jacket?")),
        "quick_reply" => delivery.messaging(MessagingItem::quick_reply("Yes", "CONFIRM_YES")),
        "story_reply" => delivery.messaging(MessagingItem::story_reply("Me encanta 😍", CDN)),
        "story_mention" => delivery.messaging(MessagingItem::story_mention(CDN)),
        "media" => delivery.messaging(MessagingItem::media("image", CDN)),
        "postback" => delivery.messaging(MessagingItem::postback("Get started", "GET_STARTED")),
        "reaction" => delivery.messaging(MessagingItem::reaction(mid, "love", "❤️")),
        "unreaction" => delivery.messaging(MessagingItem::unreaction(mid)),
        "read" => delivery.messaging(MessagingItem::read(mid)),
        "referral" => delivery.messaging(MessagingItem::referral("SHORTLINKS", "simulate")),
        "deleted" => delivery.messaging(MessagingItem::deleted(mid)),
        "edit" => delivery.messaging(MessagingItem::edit(mid, "edited")),
        "unknown" => delivery.messaging(MessagingItem::new()),
        "echo" => delivery.messaging(MessagingItem::echo("Thanks for writing!")),
        "comment" => delivery.change(ChangeItem::comment("Precio?")),
        "mention" => delivery.change(ChangeItem::mention("17887498072083520")),
        _ => return fixture_of(kind).map(|body| refreshed(&body, now)),
    };
    Some(delivery.build().to_vec())
}

/// The first Instagram fixture of `kind` (under `messaging/`, then `changes/`).
fn fixture_of(kind: &str) -> Option<Vec<u8>> {
    let fixtures: Vec<Fixture> = Corpus::new().fixtures().filter_map(Result::ok).collect();
    ["messaging", "changes"].into_iter().find_map(|group| {
        fixtures
            .iter()
            .find(|f| f.object() == "instagram" && f.group() == Some(group) && f.kind() == kind)
            .map(|f| f.body().to_vec())
    })
}

/// `body` with its times set to `now` (re-serialized), or as is when it is not JSON
/// (the bot answers 400).
fn refreshed(body: &[u8], now: SystemTime) -> Vec<u8> {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            refresh_times(&mut value, now_ms);
            serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec())
        }
        Err(_) => body.to_vec(),
    }
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
    let now = SystemTime::now();
    let mut failures = 0_u32;
    for target in targets {
        let (name, body) = if Path::new(&target).is_file() {
            match std::fs::read(&target) {
                Ok(raw) => (target.clone(), refreshed(&raw, now)),
                Err(error) => {
                    eprintln!("{target}: {error}");
                    failures += 1;
                    continue;
                }
            }
        } else if let Some(body) = delivery_of(&target, now) {
            (format!("({} B)", body.len()), body)
        } else {
            eprintln!("{target}: no such file and no delivery or fixture of that kind");
            failures += 1;
            continue;
        };
        let request = SignedRequest::new(&secret, body)
            .uri(&args.url)
            .build()
            .map_err(|e| e.to_string())
            .and_then(|r| reqwest::Request::try_from(r).map_err(|e| e.to_string()));
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                eprintln!("--url {}: {error}", args.url);
                return ExitCode::from(2);
            }
        };
        match client.execute(request).await {
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
