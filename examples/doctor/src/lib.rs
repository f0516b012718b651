//! The doctor: finds out why a bot gets no webhooks.
//!
//! It reads the bots' configuration (bot-kit's [`Config`](bot_kit::Config): the same
//! variables and `ACCOUNTS_FILE`) and asks Meta, for each account, what the bots silently
//! depend on:
//!
//! | Check | How |
//! |---|---|
//! | `token` | valid, type, expiry, permissions the webhook fields need: `debug_token` with the app token, else `/me/permissions` |
//! | `account` | Facebook Login: the token's Page is linked to the configured Instagram account (`GET /me?fields=id,name,instagram_business_account`); Instagram Login: the token's `user_id` is the configured account (`GET /me`) |
//! | `app webhooks` | the app's `instagram` / `whatsapp_business_account` subscription: active, callback URL (`--callback`), fields (`GET /{app-id}/subscriptions`) |
//! | `subscribed apps` | the Page, the Instagram account or the WhatsApp Business Account sends the app its fields (`GET /{id}/subscribed_apps`) |
//! | `callback handshake`, `callback signature` | with `--callback URL`: the endpoint echoes a random challenge for the verify token, and answers a forged signature with 401 |
//! | `phone number` | WhatsApp: display number, verified name, quality rating, messaging limit |
//!
//! Every problem comes with its fix; `--fix` makes the ones that are API calls (subscribing
//! the app to an account's fields) after showing them. The logic lives here, in
//! [`Doctor`], so that it is tested against a local mock of the Graph API; `main.rs` only
//! wires the process to [`run`].

pub mod callback;
pub mod checks;
pub mod needs;
pub mod options;
pub mod report;
pub mod settings;
pub mod token;

use std::io::Write;

pub use checks::{Doctor, Findings, PlannedFix};
pub use options::{Options, USAGE};
pub use report::{Check, Outcome, Report, Section, Status};
pub use settings::{Login, Settings, SettingsError};

/// Where a run writes and how it asks for confirmation.
pub struct Io<'a> {
    /// The report (text or JSON).
    pub out: &'a mut dyn Write,
    /// Messages for people that are not the report: errors, the `--fix` plan in JSON mode.
    pub err: &'a mut dyn Write,
    /// Asks whether to make the planned fixes (not called with `--yes`).
    pub confirm: &'a mut dyn FnMut() -> bool,
}

/// Exit code for a configuration the doctor cannot run with.
pub const EXIT_CANNOT_CHECK: u8 = 2;

/// One run: checks, prints the report, and with `--fix` shows the fixes, asks, makes them
/// and checks again. Returns the exit code: 0 all well, 1 problems, 2 could not check.
pub async fn run(
    options: &Options,
    settings: Result<Settings, SettingsError>,
    io: &mut Io<'_>,
) -> u8 {
    run_at(options, settings, std::time::SystemTime::now(), io).await
}

/// [`run`] with `now` as the current time (token expiry), for tests.
pub async fn run_at(
    options: &Options,
    settings: Result<Settings, SettingsError>,
    now: std::time::SystemTime,
    io: &mut Io<'_>,
) -> u8 {
    if options.help {
        let _ = io.out.write_all(USAGE.as_bytes());
        return 0;
    }
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            let _ = writeln!(io.err, "configuration error: {error}");
            return EXIT_CANNOT_CHECK;
        }
    };
    if settings.accounts.is_empty() && settings.whatsapp.is_none() && options.callback.is_none() {
        let _ = writeln!(
            io.err,
            "nothing to check: configure the accounts as for the bots (IG_BUSINESS_ID and \
             IG_PAGE_TOKEN, ACCOUNTS_FILE, or WA_PHONE_NUMBER_ID and WA_TOKEN), or pass \
             --callback URL"
        );
        return EXIT_CANNOT_CHECK;
    }
    let doctor = match Doctor::new(settings, options.callback.clone()) {
        Ok(doctor) => doctor.at(now),
        Err(error) => {
            let _ = writeln!(io.err, "configuration error: {error}");
            return EXIT_CANNOT_CHECK;
        }
    };
    let findings = doctor.check().await;
    if !options.fix || findings.fixes.is_empty() {
        if options.fix {
            let _ = writeln!(io.err, "--fix: nothing to change through the API.");
        }
        print(&findings.report, options.json, io.out);
        return findings.report.outcome().exit_code();
    }

    if !options.json {
        print(&findings.report, false, io.out);
    }
    let plan_out: &mut dyn Write = if options.json {
        &mut *io.err
    } else {
        &mut *io.out
    };
    let _ = writeln!(plan_out, "\n--fix will send:");
    for fix in &findings.fixes {
        let _ = writeln!(plan_out, "  - {}\n    {}", fix.description, fix.request());
    }
    let go = options.yes || (io.confirm)();
    if !go {
        let _ = writeln!(io.err, "Nothing changed.");
        if options.json {
            print(&findings.report, true, io.out);
        }
        return findings.report.outcome().exit_code();
    }
    let outcomes = doctor.apply(&findings.fixes).await;
    let mut after = doctor.check().await.report;
    after.fixes = outcomes;
    if !options.json {
        let _ = writeln!(io.out, "\nAfter the fixes:");
    }
    print(&after, options.json, io.out);
    after.outcome().exit_code()
}

fn print(report: &Report, json: bool, out: &mut dyn Write) {
    let text = if json {
        let mut text = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
        text.push('\n');
        text
    } else {
        report.to_text()
    };
    let _ = out.write_all(text.as_bytes());
}
