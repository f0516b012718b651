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
//!
//! WhatsApp: `whatsapp_text`, `whatsapp_button_reply` and `whatsapp_status` build a
//! `whatsapp_business_account` delivery (`whatsapp` sends all three). They are signed with
//! `WA_APP_SECRET` when it is set and no `--secret` is given (the app that owns the
//! WhatsApp product is often another app), else like the others.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use meta_webhooks::test_util::{
    ChangeItem, Corpus, DeliveryBuilder, Fixture, MessagingItem, SignedRequest, WhatsAppChange,
    WhatsAppItem,
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

/// What `whatsapp` stands for.
const WHATSAPP_KINDS: [&str; 3] = ["whatsapp_text", "whatsapp_button_reply", "whatsapp_status"];

const USAGE: &str = "usage: simulate [--url URL] [--secret SECRET] [KIND|FILE ...]";

/// A WhatsApp delivery of `kind` at `now`, for the default business number and person.
fn whatsapp_delivery_of(kind: &str, now: SystemTime) -> Option<Vec<u8>> {
    let change = match kind {
        "whatsapp_text" => WhatsAppChange::new()
            .message(WhatsAppItem::text("Hi! Do you have the blue jacket in M?")),
        "whatsapp_button_reply" => {
            WhatsAppChange::new().message(WhatsAppItem::button_reply("CONFIRM_YES", "Yes"))
        }
        "whatsapp_status" => WhatsAppChange::new().status(
            "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0RjZBMDVCQjEA",
            "delivered",
        ),
        _ => return None,
    };
    let delivery = DeliveryBuilder::whatsapp().at(now).change(change.into());
    Some(delivery.build().to_vec())
}

/// A delivery of `kind` at `now`, as Meta would send it now: built for the kinds the
/// delivery builder knows, else the first Instagram fixture named `<kind>__*.json` (under
/// `messaging/`, then `changes/`) with its times refreshed.
fn delivery_of(kind: &str, now: SystemTime) -> Option<Vec<u8>> {
    const CDN: &str = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17890&signature=sim";
    let mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjM0MDI4MjM2NjgZDZD";
    if kind.starts_with("whatsapp_") {
        return whatsapp_delivery_of(kind, now);
    }
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

/// Sets every `time` / `timestamp` number to `now_ms`, and every numeric-string
/// `timestamp` (WhatsApp's seconds) to now in seconds.
fn refresh_times(value: &mut Value, now_ms: u64) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let is_time = key == "time" || key == "timestamp";
                if is_time && v.is_number() {
                    *v = Value::from(now_ms);
                } else if key == "timestamp" && v.as_str().is_some_and(|t| t.parse::<u64>().is_ok())
                {
                    *v = Value::from((now_ms / 1000).to_string());
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
    /// `--secret` was given: it signs everything.
    explicit_secret: bool,
    targets: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:3000/webhook".to_owned(),
        secret: std::env::var("IG_APP_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        explicit_secret: false,
        targets: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => args.url = it.next().ok_or("--url needs a value")?,
            "--secret" => {
                args.secret = Some(it.next().ok_or("--secret needs a value")?);
                args.explicit_secret = true;
            }
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
            .into_iter()
            .flat_map(|t| match t.as_str() {
                "whatsapp" => WHATSAPP_KINDS.iter().map(|k| (*k).to_owned()).collect(),
                _ => vec![t],
            })
            .collect()
    };
    // The WhatsApp product's app secret, when it is another app's.
    let whatsapp_secret = std::env::var("WA_APP_SECRET")
        .ok()
        .filter(|s| !s.is_empty() && !args.explicit_secret);
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
        let signing = match &whatsapp_secret {
            Some(wa) if target.starts_with("whatsapp") => wa,
            _ => &secret,
        };
        let request = SignedRequest::new(signing, body)
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
                println!("{target:<21} {name:<45} -> {status}");
                if !status.is_success() {
                    failures += 1;
                }
            }
            Err(error) => {
                println!("{target:<21} {name:<45} -> error: {error}");
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
