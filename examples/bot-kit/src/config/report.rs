//! What the bot binaries print at start-up, and the dev app secret left for local tools.

use std::path::PathBuf;

use meta_webhooks::payload::AccountId;

use super::{Config, RulesSource, Sending};
use crate::secret::redact_url;
use crate::state::Backend;

/// Where a bot running on a generated dev app secret leaves it for local tools
/// ([`Config::publish_dev_secret`]): `meta-webhooks-dev-app-secret` in the system's
/// temporary directory.
pub fn dev_secret_path() -> PathBuf {
    std::env::temp_dir().join("meta-webhooks-dev-app-secret")
}

impl Config {
    /// What the bot binaries print at start-up: every line of
    /// [`startup_report`](Self::startup_report) on stdout, then, in dev mode, where
    /// [`publish_dev_secret`](Self::publish_dev_secret) left the generated secret (a failure
    /// to write it is reported on stderr and is not fatal).
    pub fn announce(&self) {
        for line in self.startup_report() {
            println!("{line}");
        }
        match self.publish_dev_secret() {
            Ok(Some(path)) => println!(
                "dev app secret also written to {} (cargo run -p simulate signs with it)",
                path.display()
            ),
            Ok(None) => {}
            Err(error) => eprintln!("could not write the dev app secret file: {error}"),
        }
    }

    /// In dev mode (the app secret was generated), writes the secret to
    /// [`dev_secret_path`] — readable by its owner only — so `cargo run -p simulate` can
    /// sign deliveries without `--secret`. Returns the path written, or `None` when
    /// an app secret is configured (a real secret is never written anywhere).
    ///
    /// # Errors
    ///
    /// The I/O error of creating or writing the file.
    pub fn publish_dev_secret(&self) -> std::io::Result<Option<PathBuf>> {
        use std::io::Write as _;

        if !self.generated.app_secret {
            return Ok(None);
        }
        let path = dev_secret_path();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        file.write_all(self.app_secret.expose().as_bytes())?;
        Ok(Some(path))
    }

    /// Lines for the binaries to print at start-up: the listen URL and, for every
    /// embedded default in use, what it means. Contains no configured secret; it does
    /// contain the *generated* dev secret and verify token (the developer needs them to
    /// sign test deliveries and to fill in the dashboard). Every URL is printed with
    /// [`redact_url`]: no `user:pass@`, no query string.
    pub fn startup_report(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "webhook: http://{}/webhook (GET handshake, POST deliveries)",
            self.listen
        )];
        lines.push(format!(
            "admin: http://{} (/metrics, /admin, /healthz; ADMIN_ADDR)",
            self.admin_listen
        ));
        if self.generated.app_secret {
            lines.push(format!(
                "IG_APP_SECRET not set: generated dev app secret {} (sign test deliveries with it)",
                self.app_secret.expose()
            ));
        }
        if self.generated.verify_token {
            lines.push(format!(
                "IG_VERIFY_TOKEN not set: generated dev verify token {}",
                self.verify_token.expose()
            ));
        }
        match &self.sending {
            Sending::DryRun => lines.push(
                "IG_PAGE_TOKEN not set: dry-run sender (replies are printed, not sent)".to_owned(),
            ),
            Sending::Live(accounts) => {
                let ids: Vec<&str> = accounts.ids().map(AccountId::as_str).collect();
                lines.push(format!(
                    "sending live via {} for {} account(s): {}",
                    redact_url(self.graph_api_base.as_str()).trim_end_matches('/'),
                    accounts.len(),
                    ids.join(", ")
                ));
            }
        }
        match &self.whatsapp {
            None => lines.push(
                "WA_TOKEN not set: WhatsApp replies are printed, not sent (dry-run)".to_owned(),
            ),
            Some(number) => lines.push(format!(
                "WhatsApp: sending live via {} from phone number id {}",
                redact_url(self.whatsapp_graph_base().as_str()).trim_end_matches('/'),
                number.phone_number_id()
            )),
        }
        if self.wa_app_secret.is_some() {
            lines.push(
                "WA_APP_SECRET set: deliveries signed with it or with the first app secret are \
                 accepted"
                    .to_owned(),
            );
        }
        match &self.state {
            Backend::Memory => {
                lines.push(
                    "REDIS_URL not set: conversation state and work queue in memory".to_owned(),
                );
            }
            Backend::Redis(_) => lines.push(format!(
                "role {}: conversation state in Redis, deliveries in {} Redis Streams shards",
                self.role.as_str(),
                self.stream.shards
            )),
        }
        if self.ai.api_key.is_none() {
            lines.push(
                "OPENAI_API_KEY not set: rules only; unmatched messages get a canned reply"
                    .to_owned(),
            );
        } else {
            lines.push(format!(
                "GPT fallback: model {} at {}",
                self.ai.model,
                redact_url(&self.ai.base_url)
            ));
        }
        match &self.rules_source {
            RulesSource::Embedded => lines.push(format!(
                "RULES_FILE not set: embedded default rules ({} rules)",
                self.rules.len()
            )),
            RulesSource::File(path) => lines.push(format!(
                "rules: {} ({} rules)",
                path.display(),
                self.rules.len()
            )),
        }
        if self.admin_token.is_none() {
            lines.push("BOT_ADMIN_TOKEN not set: admin API disabled".to_owned());
        }
        if self.notify_webhook_url.is_none() {
            lines.push("NOTIFY_WEBHOOK_URL not set: escalations are only logged".to_owned());
        }
        lines
    }
}
