//! The command line.

use url::Url;

use crate::settings::Login;

/// The usage text.
pub const USAGE: &str = "\
Usage: doctor [--callback URL] [--fix [--yes]] [--json] [--login facebook|instagram]

Checks the Meta setup of the accounts the bots are configured with (the same environment
and ACCOUNTS_FILE): tokens, account links, the app's webhook subscriptions, each account's
subscribed apps, WhatsApp, and with --callback the webhook endpoint itself.

  --callback URL   also check the endpoint at URL: the handshake must echo a random
                   challenge, a delivery with a wrong signature must get 401; and the app's
                   webhooks must go to URL. Only this URL is contacted besides Meta.
  --fix            subscribe the app to the account fields that are missing, after showing
                   what will be sent and asking for confirmation
  --yes            do not ask (for scripts)
  --json           print the report as JSON
  --login L        facebook (Page tokens) or instagram (Instagram Login tokens); default:
                   instagram when GRAPH_API_BASE is https://graph.instagram.com
  -h, --help       this text

Exit code: 0 all is well, 1 problems found, 2 something could not be checked.
";

/// The parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--callback URL`.
    pub callback: Option<Url>,
    /// `--fix`.
    pub fix: bool,
    /// `--yes`.
    pub yes: bool,
    /// `--json`.
    pub json: bool,
    /// `--login`.
    pub login: Option<Login>,
    /// `-h` / `--help`.
    pub help: bool,
}

impl Options {
    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A one-line message for an unknown or incomplete argument.
    pub fn parse<I, S>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut options = Self::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = |what: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs {what}"))
            };
            match name.as_str() {
                "--callback" => {
                    let raw = value("a URL")?;
                    let url = Url::parse(&raw)
                        .map_err(|e| format!("--callback: not a URL ({e}): {raw}"))?;
                    if !matches!(url.scheme(), "http" | "https") {
                        return Err(format!("--callback: expected an http(s) URL, got {raw}"));
                    }
                    options.callback = Some(url);
                }
                "--login" => {
                    options.login = Some(match value("facebook or instagram")?.as_str() {
                        "facebook" => Login::Facebook,
                        "instagram" => Login::Instagram,
                        other => {
                            return Err(format!(
                                "--login: expected facebook or instagram, got {other:?}"
                            ));
                        }
                    });
                }
                "--fix" => options.fix = true,
                "--yes" | "-y" => options.yes = true,
                "--json" => options.json = true,
                "-h" | "--help" => options.help = true,
                other => return Err(format!("unknown argument {other:?} (see --help)")),
            }
        }
        if options.yes && !options.fix {
            return Err("--yes goes with --fix".to_owned());
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn parses() {
        let o = Options::parse([
            "--callback",
            "https://bot.example.com/webhook",
            "--fix",
            "--yes",
            "--json",
        ])
        .unwrap();
        assert_eq!(
            o.callback.unwrap().as_str(),
            "https://bot.example.com/webhook"
        );
        assert!(o.fix && o.yes && o.json);
        let o = Options::parse(["--login=instagram"]).unwrap();
        assert_eq!(o.login, Some(Login::Instagram));
        assert!(Options::parse(["--callback"]).is_err());
        assert!(Options::parse(["--callback", "ftp://x"]).is_err());
        assert!(Options::parse(["--yes"]).is_err());
        assert!(Options::parse(["--bogus"]).is_err());
        assert!(Options::parse(["--login", "twitter"]).is_err());
    }
}
