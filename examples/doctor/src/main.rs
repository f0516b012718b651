//! Run with: cargo run -p doctor -- [--callback https://your.host/webhook] [--fix [--yes]] [--json]
//!
//! Reads the same environment and `ACCOUNTS_FILE` as the bots, checks each account's Meta
//! setup (token, account link, webhook subscriptions, WhatsApp number, and with
//! `--callback` the endpoint itself) and prints one ✓/✗ line per check with the fix for
//! every ✗. Exit code 0: all well; 1: problems found; 2: something could not be checked.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use doctor::{EXIT_CANNOT_CHECK, Io, Options, Settings};

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(EXIT_CANNOT_CHECK);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::from(EXIT_CANNOT_CHECK);
        }
    };
    let settings = Settings::from_env(options.login);
    let mut confirm = || {
        let stdin = std::io::stdin();
        eprint!("Make these changes? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        // End of input (a closed or empty stdin) is a no.
        let _ = stdin.lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    };
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let mut io = Io {
        out: &mut stdout,
        err: &mut stderr,
        confirm: &mut confirm,
    };
    let code = runtime.block_on(doctor::run(&options, settings, &mut io));
    ExitCode::from(code)
}
