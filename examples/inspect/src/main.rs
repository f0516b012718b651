//! Run with: `cargo run -p inspect -- FILE|- [--secret SECRET --signature HEADER]`
//!
//! (`--secret-env VAR` reads the secret from the environment variable `VAR` instead, so it
//! does not show in the process list.)
//!
//! Reads one webhook delivery body from `FILE` (or standard input for `-`), verifies its
//! `X-Hub-Signature-256` first when `--secret` and `--signature` are given, then parses and
//! classifies it and prints exactly one JSON document on standard output:
//!
//! ```text
//! {"object": "instagram", "events": [
//!   {"kind": "text", "sender": "…", "recipient": "…", "mid": "…", "text": "…",
//!    "account": "…", "timestamp": 1769870412000, "source": "messaging", "channel": "instagram"},
//!   {"kind": "error", "sender": null, …, "reason": "invalid messaging item: …"}
//! ]}
//! ```
//!
//! Each event is the crate's own projection (`Event::normalized` / `EventError::normalized`;
//! absent values are `null`).
//!
//! Exit status:
//!
//! | status | meaning | output |
//! |---|---|---|
//! | 0 | the body is a delivery (per-item errors are events of kind `error`) | the events document |
//! | 1 | usage error, or the file cannot be read | a message on stderr |
//! | 2 | the body is not a delivery | `{"error": true, "message": "…", "error_kind": "…"}` |
//! | 3 | `--secret`/`--signature` given and the signature is rejected | one line on stderr, nothing on stdout |
//!
//! The signature is checked over the exact bytes read, before anything is parsed, so a
//! forged body is never parsed. The secret is only used to key the HMAC; it is never
//! printed.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use meta_webhooks::{AppSecret, Delivery, Verifier, classify};
use serde::Serialize;

const USAGE: &str =
    "usage: inspect FILE|- [--secret SECRET | --secret-env VAR] [--signature HEADER]";

/// The parsed command line.
struct Args {
    input: String,
    secret: Option<String>,
    signature: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut input = None;
    let mut secret = None;
    let mut signature = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secret" => secret = Some(args.next().ok_or("--secret needs a value")?),
            "--secret-env" => {
                let var = args.next().ok_or("--secret-env needs a variable name")?;
                let value = std::env::var(&var)
                    .map_err(|_| format!("environment variable {var} is not set"))?;
                secret = Some(value);
            }
            "--signature" => signature = Some(args.next().ok_or("--signature needs a value")?),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if input.is_some() => return Err("more than one input given".to_owned()),
            _ => input = Some(arg),
        }
    }
    let input = input.ok_or("no input given (a file name, or - for stdin)")?;
    match (&secret, &signature) {
        (Some(_), None) => return Err("--secret needs --signature".to_owned()),
        (None, Some(_)) => return Err("--signature needs --secret".to_owned()),
        _ => {}
    }
    Ok(Args {
        input,
        secret,
        signature,
    })
}

fn read_input(input: &str) -> io::Result<Vec<u8>> {
    if input == "-" {
        let mut body = Vec::new();
        io::stdin().lock().read_to_end(&mut body)?;
        Ok(body)
    } else {
        std::fs::read(input)
    }
}

/// The document printed for a body that is not a delivery.
#[derive(Serialize)]
struct Rejected<'a> {
    error: bool,
    message: String,
    error_kind: &'a str,
}

/// The document printed for a delivery.
#[derive(Serialize)]
struct Inspected<'a, E> {
    object: &'a str,
    events: Vec<E>,
}

fn print_json(value: &impl Serialize) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

fn run() -> Result<ExitCode, String> {
    let args = parse_args(std::env::args().skip(1)).map_err(|msg| {
        if msg.is_empty() {
            USAGE.to_owned()
        } else {
            format!("{msg}\n{USAGE}")
        }
    })?;
    let body = read_input(&args.input).map_err(|e| format!("cannot read {}: {e}", args.input))?;

    if let (Some(secret), Some(signature)) = (args.secret, &args.signature) {
        let secret = AppSecret::new(secret).map_err(|e| e.to_string())?;
        if let Err(err) = Verifier::new(secret).verify(&body, signature) {
            eprintln!("signature rejected: {err}");
            return Ok(ExitCode::from(3));
        }
    }

    let printed = match Delivery::from_slice(&body) {
        Err(err) => print_json(&Rejected {
            error: true,
            message: err.to_string(),
            error_kind: err.kind().as_str(),
        })
        .map(|()| ExitCode::from(2)),
        Ok(delivery) => {
            let results = classify(&delivery);
            let events = results
                .iter()
                .map(|result| match result {
                    Ok(event) => event.normalized(),
                    Err(error) => error.normalized(),
                })
                .collect();
            print_json(&Inspected {
                object: delivery.object().as_str(),
                events,
            })
            .map(|()| ExitCode::SUCCESS)
        }
    };
    printed.map_err(|e| format!("cannot write the output: {e}"))
}

fn main() -> ExitCode {
    run().unwrap_or_else(|msg| {
        eprintln!("{msg}");
        ExitCode::from(1)
    })
}
