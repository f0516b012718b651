//! Unit tests of the parser (the files it reads are tested in `tests/it/config_files.rs`).

use meta_webhooks::payload::AccountId;

use super::*;

fn err(pairs: &[(&str, &str)]) -> ConfigError {
    Config::from_vars(pairs.iter().copied()).unwrap_err()
}

#[test]
fn only_a_generated_secret_is_published() {
    let configured = Config::from_vars([("IG_APP_SECRET", "real-secret")]).unwrap();
    assert_eq!(configured.publish_dev_secret().unwrap(), None);
    let dev = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
    let path = dev.publish_dev_secret().unwrap().unwrap();
    assert_eq!(path, dev_secret_path());
    // Other tests may publish their own generated secret concurrently; the file always
    // holds one whole generated secret, never a configured one.
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.is_empty() && written != "real-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o077,
            0
        );
    }
}

#[test]
fn roles_parse_and_say_what_they_do() {
    assert_eq!(Role::from_name("Receiver"), Some(Role::Receiver));
    assert_eq!(Role::from_name("worker"), Some(Role::Worker));
    assert_eq!(Role::from_name("ALL"), Some(Role::All));
    assert_eq!(Role::from_name("both"), None);
    assert!(Role::Receiver.receives() && !Role::Receiver.works());
    assert!(!Role::Worker.receives() && Role::Worker.works());
    assert!(Role::All.receives() && Role::All.works());
}

#[test]
fn the_streams_keep_the_bots_key_prefix_and_group() {
    let c = Config::from_vars([("STREAM_SHARDS", "4")]).unwrap();
    assert_eq!(c.stream.shards, 4);
    assert_eq!(c.stream.stream_key(3), "botkit:stream:3");
    assert_eq!(c.stream.lease_key(0), "botkit:lease:0");
    assert_eq!(c.stream.dead_letter_key(), "botkit:dead");
    assert_eq!(c.stream.workers_key(), "botkit:workers");
    assert_eq!(c.stream.dedup_key("k"), "botkit:dedup:k");
    assert_eq!(c.stream.group, "botkit-workers");
}

#[test]
fn nothing_set_gives_the_embedded_defaults() {
    let c = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
    assert_eq!(c.listen, "127.0.0.1:3000".parse().unwrap());
    assert_eq!(c.admin_listen, "127.0.0.1:3001".parse().unwrap());
    assert!(c.generated.app_secret && c.generated.verify_token);
    assert_eq!(c.app_secret.expose().len(), 32);
    assert!(c.verify_token.expose().starts_with("dev-"));
    assert!(c.sending.is_dry_run());
    assert_eq!(c.state, Backend::Memory);
    assert!(c.ai.api_key.is_none());
    assert_eq!(c.ai.base_url, "https://api.openai.com/v1");
    assert_eq!(c.ai.model, "gpt-4o");
    assert_eq!(c.ai.timeout, Duration::from_secs(8));
    assert_eq!(c.graph_api_base.as_str(), "https://graph.facebook.com/");
    assert_eq!(c.graph_timeout, Duration::from_secs(30));
    assert_eq!(c.max_event_age, Duration::from_secs(82_800));
    assert_eq!(c.conversation_ttl, Duration::from_secs(3600));
    assert_eq!(c.rules_source, RulesSource::Embedded);
    assert_eq!(c.rules.len(), 6);
    assert!(c.admin_token.is_none() && c.notify_webhook_url.is_none());

    // Two runs generate different dev values.
    let d = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
    assert_ne!(c.app_secret.expose(), d.app_secret.expose());

    let report = c.startup_report().join("\n");
    assert!(report.contains("http://127.0.0.1:3000/webhook"));
    assert!(report.contains(c.app_secret.expose()));
    assert!(report.contains(c.verify_token.expose()));
    assert!(report.contains("dry-run"));
}

#[test]
fn everything_set_is_parsed() {
    let c = Config::from_vars([
        ("IG_APP_SECRET", "0123456789abcdef0123456789abcdef"),
        ("IG_VERIFY_TOKEN", "my verify token"),
        ("IG_PAGE_TOKEN", "EAAGtoken123"),
        ("IG_BUSINESS_ID", "17841400000000001"),
        ("GRAPH_API_BASE", "http://127.0.0.1:9999"),
        ("GRAPH_TIMEOUT_SECS", "5"),
        ("OPENAI_API_KEY", "sk-test-123"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:8888/v1/"),
        ("OPENAI_MODEL", "gpt-4o-mini"),
        ("OPENAI_TIMEOUT_SECS", "3"),
        ("REDIS_URL", "redis://:pw@127.0.0.1:6379/2"),
        ("CONVERSATION_TTL_SECS", "600"),
        ("BOT_ADMIN_TOKEN", "admin-token-0123456789"),
        (
            "NOTIFY_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/XYZ",
        ),
        ("MAX_EVENT_AGE_SECS", "3600"),
        ("PORT", "8080"),
        ("BIND_ADDR", "0.0.0.0"),
    ])
    .unwrap();
    assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(c.generated, Generated::default());
    assert_eq!(c.verify_token.expose(), "my verify token");
    let Sending::Live(accounts) = &c.sending else {
        panic!("expected live sending");
    };
    assert_eq!(
        accounts
            .token(&AccountId::new("17841400000000001"))
            .unwrap()
            .expose(),
        "EAAGtoken123"
    );
    assert_eq!(c.graph_api_base.as_str(), "http://127.0.0.1:9999/");
    assert_eq!(c.graph_timeout, Duration::from_secs(5));
    assert_eq!(c.ai.api_key.as_ref().unwrap().expose(), "sk-test-123");
    assert_eq!(c.ai.base_url, "http://127.0.0.1:8888/v1");
    assert_eq!(c.ai.model, "gpt-4o-mini");
    assert_eq!(c.ai.timeout, Duration::from_secs(3));
    assert_eq!(
        c.state,
        Backend::Redis(Secret::new("redis://:pw@127.0.0.1:6379/2"))
    );
    assert_eq!(c.conversation_ttl, Duration::from_secs(600));
    assert_eq!(c.max_event_age, Duration::from_secs(3600));
    assert!(c.admin_token.unwrap().matches("admin-token-0123456789"));

    // Debug output and the start-up report never show a configured secret.
    let c = Config::from_vars([
        ("IG_APP_SECRET", "SECRET-app-123"),
        ("IG_VERIFY_TOKEN", "SECRET-verify"),
        ("IG_PAGE_TOKEN", "SECRET-page"),
        ("IG_BUSINESS_ID", "17841400000000001"),
        ("OPENAI_API_KEY", "SECRET-openai"),
        ("REDIS_URL", "redis://:SECRET-pw@127.0.0.1/"),
        ("BOT_ADMIN_TOKEN", "SECRET-admin-0123456789"),
        ("NOTIFY_WEBHOOK_URL", "https://hooks.example/SECRET-hook"),
        (
            "OPENAI_BASE_URL",
            "https://user:SECRET-proxy@proxy.example/v1",
        ),
        ("GRAPH_API_BASE", "https://graph:SECRET-graph@graph.example"),
    ])
    .unwrap();
    let shown = format!("{c:?}\n{}", c.startup_report().join("\n"));
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(
        shown.contains("GPT fallback: model gpt-4o at https://***@proxy.example/v1"),
        "{shown}"
    );
    assert!(
        shown.contains("sending live via https://***@graph.example"),
        "{shown}"
    );
}

#[test]
fn each_bad_value_names_its_variable_in_one_line() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[("PORT", "abc")],
            "PORT",
            r#"PORT: expected a port number 1-65535, got "abc""#,
        ),
        (
            &[("PORT", "0")],
            "PORT",
            r#"PORT: expected a port number 1-65535, got "0""#,
        ),
        (
            &[("PORT", "70000")],
            "PORT",
            r#"PORT: expected a port number 1-65535, got "70000""#,
        ),
        (
            &[("PORT", "")],
            "PORT",
            "PORT: is set but empty (unset it to use the default)",
        ),
        (&[("BIND_ADDR", "localhost")], "BIND_ADDR", ""),
        (
            &[("IG_APP_ID", "my-app")],
            "IG_APP_ID",
            r#"IG_APP_ID: expected the app id's digits, got "my-app""#,
        ),
        (&[("MAX_EVENT_AGE_SECS", "-1")], "MAX_EVENT_AGE_SECS", ""),
        (&[("MAX_EVENT_AGE_SECS", "1.5")], "MAX_EVENT_AGE_SECS", ""),
        (&[("OPENAI_TIMEOUT_SECS", "0")], "OPENAI_TIMEOUT_SECS", ""),
        (&[("GRAPH_TIMEOUT_SECS", "0")], "GRAPH_TIMEOUT_SECS", ""),
        (&[("GRAPH_TIMEOUT_SECS", "121")], "GRAPH_TIMEOUT_SECS", ""),
        (
            &[("CONVERSATION_TTL_SECS", "x")],
            "CONVERSATION_TTL_SECS",
            "",
        ),
        (
            &[("GRAPH_API_BASE", "graph.facebook.com")],
            "GRAPH_API_BASE",
            "",
        ),
        (
            &[("GRAPH_API_BASE", "https://graph.facebook.com/v25.0")],
            "GRAPH_API_BASE",
            "",
        ),
        (
            &[("GRAPH_API_BASE", "ftp://graph.facebook.com")],
            "GRAPH_API_BASE",
            "",
        ),
        (
            &[("OPENAI_BASE_URL", "api.openai.com")],
            "OPENAI_BASE_URL",
            "",
        ),
        (&[("OPENAI_MODEL", "gpt 4o")], "OPENAI_MODEL", ""),
        (&[("REDIS_URL", "localhost:6379")], "REDIS_URL", ""),
        (
            &[("NOTIFY_WEBHOOK_URL", "not a url")],
            "NOTIFY_WEBHOOK_URL",
            "",
        ),
        (&[("BOT_ADMIN_TOKEN", "tiny-tok")], "BOT_ADMIN_TOKEN", ""),
        (&[("IG_PAGE_TOKEN", "EAAG")], "IG_BUSINESS_ID", ""),
        (
            &[("IG_BUSINESS_ID", "17841400000000001")],
            "IG_PAGE_TOKEN",
            "",
        ),
        (
            &[("IG_PAGE_TOKEN", "EAAG"), ("IG_BUSINESS_ID", "my-shop")],
            "IG_BUSINESS_ID",
            "",
        ),
        (
            &[("IG_PAGE_TOKEN", "EAAG"), ("IG_BUSINESS_ID", "1784")],
            "IG_APP_SECRET",
            "",
        ),
        (
            &[
                ("IG_PAGE_TOKEN", "EAAG"),
                ("IG_BUSINESS_ID", "1784"),
                ("IG_APP_SECRET", "abc"),
            ],
            "IG_VERIFY_TOKEN",
            "",
        ),
        (
            &[
                ("IG_PAGE_TOKEN", "EAAG token\n"),
                ("IG_BUSINESS_ID", "1784"),
            ],
            "IG_PAGE_TOKEN",
            "",
        ),
        (&[("IG_APP_SECRET", "abc\n")], "IG_APP_SECRET", ""),
        (&[("OPENAI_API_KEY", "sk-abc ")], "OPENAI_API_KEY", ""),
        (
            &[("RULES_FILE", "/nonexistent/rules.toml")],
            "RULES_FILE",
            "",
        ),
        (
            &[("ACCOUNTS_FILE", "/nonexistent/accounts.toml")],
            "ACCOUNTS_FILE",
            "",
        ),
    ];
    for (pairs, variable, exact) in cases {
        let e = err(pairs);
        assert_eq!(e.variable(), *variable, "{pairs:?} → {e}");
        let line = e.to_string();
        assert!(line.starts_with(&format!("{variable}: ")), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
        if !exact.is_empty() {
            assert_eq!(line, *exact);
        }
        // No value of a secret variable is ever echoed.
        for (name, value) in pairs.iter() {
            if name.contains("TOKEN")
                || name.contains("SECRET")
                || name.contains("KEY")
                || name.contains("URL")
            {
                assert!(!line.contains(value.trim()), "{line} echoes {name}");
            }
        }
    }
}

#[test]
fn later_pairs_win() {
    let c = Config::from_vars([("PORT", "abc"), ("PORT", "4000")]).unwrap();
    assert_eq!(c.listen.port(), 4000);
}

#[test]
fn admin_addr_is_an_address_and_port_apart_from_the_public_one() {
    let c = Config::from_vars([("ADMIN_ADDR", "10.0.0.5:9100")]).unwrap();
    assert_eq!(c.admin_listen, "10.0.0.5:9100".parse().unwrap());
    for (bad, want) in [
        (
            vec![("ADMIN_ADDR", "9100")],
            "ADMIN_ADDR: expected an address and port",
        ),
        (
            vec![("ADMIN_ADDR", "127.0.0.1:3000")],
            "ADMIN_ADDR: must differ",
        ),
        (
            vec![
                ("BIND_ADDR", "0.0.0.0"),
                ("PORT", "8080"),
                ("ADMIN_ADDR", "127.0.0.1:8080"),
            ],
            "ADMIN_ADDR: must differ",
        ),
    ] {
        let error = Config::from_vars(bad).unwrap_err().to_string();
        assert!(error.starts_with(want), "{error}");
    }
}

#[test]
fn whatsapp_number_and_second_app_secret() {
    let c = Config::from_vars([
        ("IG_APP_SECRET", "ig-app-secret-0123"),
        ("IG_VERIFY_TOKEN", "verify"),
        ("IG_PAGE_TOKEN", "EAAGtoken123"),
        ("IG_BUSINESS_ID", "17841400000000001"),
        ("WA_PHONE_NUMBER_ID", "106540352242922"),
        ("WA_TOKEN", "EAAWAtoken456"),
        ("WA_APP_SECRET", "wa-app-secret-4567"),
    ])
    .unwrap();
    let number = c.whatsapp.as_ref().unwrap();
    assert_eq!(number.phone_number_id().as_str(), "106540352242922");
    assert_eq!(number.token().expose(), "EAAWAtoken456");
    assert_eq!(c.app_secret.expose(), "ig-app-secret-0123");
    assert_eq!(
        c.wa_app_secret.as_ref().unwrap().expose(),
        "wa-app-secret-4567"
    );
    assert_eq!(c.verifier().secret_count(), 2);
    assert!(!c.sending.is_dry_run());
    let report = c.startup_report().join("\n");
    assert!(
        report.contains(
            "WhatsApp: sending live via https://graph.facebook.com from phone number id \
             106540352242922"
        ),
        "{report}"
    );
    assert!(report.contains("WA_APP_SECRET set"), "{report}");

    // The same secret twice is one key.
    let same = Config::from_vars([
        ("IG_APP_SECRET", "one-app-secret"),
        ("WA_APP_SECRET", "one-app-secret"),
    ])
    .unwrap();
    assert!(same.wa_app_secret.is_none());
    assert_eq!(same.verifier().secret_count(), 1);

    // Without WhatsApp variables: WhatsApp runs dry, one secret.
    let dry = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
    assert!(dry.whatsapp.is_none() && dry.wa_app_secret.is_none());
    assert_eq!(dry.verifier().secret_count(), 1);
    let report = dry.startup_report().join("\n");
    assert!(
        report.contains("WA_TOKEN not set: WhatsApp replies are printed"),
        "{report}"
    );
    // A WhatsApp app secret in dry-run mode sits beside the generated one.
    let dev = Config::from_vars([("WA_APP_SECRET", "wa-app-secret-4567")]).unwrap();
    assert!(dev.generated.app_secret);
    assert_eq!(dev.verifier().secret_count(), 2);
}

#[test]
fn whatsapp_only_live_bot_needs_a_secret_and_the_verify_token() {
    let wa = [
        ("WA_PHONE_NUMBER_ID", "106540352242922"),
        ("WA_TOKEN", "EAAWAtoken456"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        Config::from_vars(wa.iter().chain(extra).copied().collect::<Vec<_>>())
    };
    // Live on WhatsApp only: Instagram stays dry, nothing is generated.
    let c = with(&[
        ("WA_APP_SECRET", "wa-app-secret-4567"),
        ("IG_VERIFY_TOKEN", "verify"),
    ])
    .unwrap();
    assert!(c.sending.is_dry_run());
    assert!(c.whatsapp.is_some());
    assert_eq!(c.generated, Generated::default());
    assert_eq!(c.app_secret.expose(), "wa-app-secret-4567");
    assert!(c.wa_app_secret.is_none());
    assert_eq!(c.verifier().secret_count(), 1);
    assert_eq!(c.publish_dev_secret().unwrap(), None);
    // Or with IG_APP_SECRET, when one app has the WhatsApp product.
    let c = with(&[("IG_APP_SECRET", "one-app"), ("IG_VERIFY_TOKEN", "verify")]).unwrap();
    assert_eq!(c.app_secret.expose(), "one-app");

    let e = with(&[("IG_VERIFY_TOKEN", "verify")]).unwrap_err();
    assert_eq!(e.variable(), "IG_APP_SECRET");
    assert_eq!(e.kind(), ConfigErrorKind::Missing);
    assert!(e.to_string().contains("WA_TOKEN"), "{e}");
    let e = with(&[("WA_APP_SECRET", "wa-app-secret-4567")]).unwrap_err();
    assert_eq!(e.variable(), "IG_VERIFY_TOKEN");

    // Live on Instagram: WA_APP_SECRET does not stand in for IG_APP_SECRET.
    let e = Config::from_vars([
        ("IG_PAGE_TOKEN", "EAAG"),
        ("IG_BUSINESS_ID", "1784"),
        ("WA_APP_SECRET", "wa-app-secret-4567"),
        ("IG_VERIFY_TOKEN", "verify"),
    ])
    .unwrap_err();
    assert_eq!(e.variable(), "IG_APP_SECRET");
}

#[test]
fn bad_whatsapp_values_name_their_variable_and_never_echo_a_secret() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, ConfigErrorKind);
    let cases: &[Case<'_>] = &[
        (
            &[("WA_TOKEN", "EAAWAtoken456")],
            "WA_PHONE_NUMBER_ID",
            ConfigErrorKind::Missing,
        ),
        (
            &[("WA_PHONE_NUMBER_ID", "106540352242922")],
            "WA_TOKEN",
            ConfigErrorKind::Missing,
        ),
        (
            &[
                ("WA_PHONE_NUMBER_ID", "+1 555 0100"),
                ("WA_TOKEN", "EAAWAtoken456"),
            ],
            "WA_PHONE_NUMBER_ID",
            ConfigErrorKind::Invalid,
        ),
        (
            &[
                ("WA_PHONE_NUMBER_ID", "106540352242922"),
                ("WA_TOKEN", "EAAWA token456\n"),
            ],
            "WA_TOKEN",
            ConfigErrorKind::Invalid,
        ),
        (
            &[("WA_PHONE_NUMBER_ID", "106540352242922"), ("WA_TOKEN", "")],
            "WA_TOKEN",
            ConfigErrorKind::Empty,
        ),
        (
            &[("WA_APP_SECRET", "wa secret 4567")],
            "WA_APP_SECRET",
            ConfigErrorKind::Invalid,
        ),
        (
            &[("WA_APP_SECRET", "")],
            "WA_APP_SECRET",
            ConfigErrorKind::Empty,
        ),
    ];
    for (pairs, variable, kind) in cases {
        let e = err(pairs);
        assert_eq!(e.variable(), *variable, "{pairs:?} → {e}");
        assert_eq!(e.kind(), *kind, "{pairs:?} → {e}");
        let line = e.to_string();
        assert!(line.starts_with(&format!("{variable}: ")), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
        for (name, value) in pairs.iter() {
            if name.contains("TOKEN") || name.contains("SECRET") {
                assert!(
                    value.trim().is_empty() || !line.contains(value.trim()),
                    "{line} echoes {name}"
                );
            }
        }
    }
}

#[test]
fn whatsapp_secrets_never_show() {
    let c = Config::from_vars([
        ("IG_APP_SECRET", "hidden-app-123"),
        ("IG_VERIFY_TOKEN", "hidden-verify"),
        ("WA_PHONE_NUMBER_ID", "106540352242922"),
        ("WA_TOKEN", "hidden-wa-token"),
        ("WA_APP_SECRET", "hidden-wa-app"),
    ])
    .unwrap();
    let shown = format!("{c:?}\n{}", c.startup_report().join("\n"));
    assert!(!shown.contains("hidden"), "{shown}");
    assert!(shown.contains("106540352242922"), "{shown}");
}

#[test]
fn whatsapp_calls_leave_instagrams_host_for_facebooks() {
    let c = Config::from_vars([
        ("IG_APP_SECRET", "ig-app-secret-0123"),
        ("IG_VERIFY_TOKEN", "verify"),
        ("IG_PAGE_TOKEN", "IGQWtoken123"),
        ("IG_BUSINESS_ID", "17841400000000001"),
        ("GRAPH_API_BASE", "https://graph.instagram.com"),
        ("WA_PHONE_NUMBER_ID", "106540352242922"),
        ("WA_TOKEN", "EAAWAtoken456"),
    ])
    .unwrap();
    assert_eq!(
        c.whatsapp_graph_base().as_str(),
        "https://graph.facebook.com/"
    );
    let report = c.startup_report().join("\n");
    assert!(
        report.contains("sending live via https://graph.instagram.com for 1 account(s)"),
        "{report}"
    );
    assert!(
        report.contains("WhatsApp: sending live via https://graph.facebook.com from"),
        "{report}"
    );
}

#[test]
fn the_whatsapp_app_id_defaults_to_ig_app_id_only_when_one_app_has_both_products() {
    let c = |pairs: &[(&str, &str)]| Config::from_vars(pairs.iter().copied()).unwrap();
    // One app: no WA_APP_SECRET, or the same value as IG_APP_SECRET.
    let one = c(&[("IG_APP_ID", "1234567890"), ("IG_APP_SECRET", "one-app")]);
    assert_eq!(one.wa_app_id.as_deref(), Some("1234567890"));
    let same = c(&[
        ("IG_APP_ID", "1234567890"),
        ("IG_APP_SECRET", "one-app"),
        ("WA_APP_SECRET", "one-app"),
    ]);
    assert_eq!(same.wa_app_id.as_deref(), Some("1234567890"));
    // Another app's secret: IG_APP_ID is not its id.
    let two = c(&[
        ("IG_APP_ID", "1234567890"),
        ("IG_APP_SECRET", "instagram-app"),
        ("WA_APP_SECRET", "whatsapp-app"),
    ]);
    assert_eq!(two.wa_app_id, None);
    let named = c(&[
        ("IG_APP_ID", "1234567890"),
        ("IG_APP_SECRET", "instagram-app"),
        ("WA_APP_SECRET", "whatsapp-app"),
        ("WA_APP_ID", "9876543210"),
    ]);
    assert_eq!(named.wa_app_id.as_deref(), Some("9876543210"));
    assert_eq!(c(&[]).wa_app_id, None);

    let e = err(&[("WA_APP_ID", "98a")]);
    assert_eq!(e.variable(), "WA_APP_ID");
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(err(&[("WA_APP_ID", "")]).variable(), "WA_APP_ID");
}
