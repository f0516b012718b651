//! `ACCOUNTS_FILE` and `RULES_FILE` read from disk.

use std::io::Write;

use bot_kit::Config;
use bot_kit::config::{ConfigErrorKind, RulesSource, Sending};
use bot_kit::rules::RulesErrorKind;
use meta_webhooks::payload::AccountId;
use tempfile::NamedTempFile;

fn file(contents: &str) -> NamedTempFile {
    let mut f = NamedTempFile::new().unwrap();
    f.write_all(contents.as_bytes()).unwrap();
    f
}

fn live_base(accounts_file: &str) -> Vec<(&str, &str)> {
    vec![
        ("IG_APP_SECRET", "0123456789abcdef0123456789abcdef"),
        ("IG_VERIFY_TOKEN", "verify-me"),
        ("ACCOUNTS_FILE", accounts_file),
    ]
}

#[test]
fn accounts_from_env_and_file_are_all_served() {
    let accounts = file(
        r#"
        # two more shops
        [[accounts]]
        business_id = "17841400000000002"
        page_token_env = "SHOP_B_TOKEN"

        [[accounts]]
        business_id = 17841400000000003
        page_token = "EAAGinline3"
        "#,
    );
    let path = accounts.path().to_str().unwrap();
    let mut vars = live_base(path);
    vars.extend([
        ("IG_PAGE_TOKEN", "EAAGenv1"),
        ("IG_BUSINESS_ID", "17841400000000001"),
        ("SHOP_B_TOKEN", "EAAGfromvar2"),
    ]);
    let config = Config::from_vars(vars).unwrap();
    let Sending::Live(accounts) = &config.sending else {
        panic!("expected live sending");
    };
    assert_eq!(accounts.len(), 3);
    let token = |id: &str| {
        accounts
            .token(&AccountId::new(id))
            .unwrap()
            .expose()
            .to_owned()
    };
    assert_eq!(token("17841400000000001"), "EAAGenv1");
    assert_eq!(token("17841400000000002"), "EAAGfromvar2");
    assert_eq!(token("17841400000000003"), "EAAGinline3");
    assert!(!accounts.contains(&AccountId::new("999")));

    let report = config.startup_report().join("\n");
    assert!(report.contains("3 account(s)"), "{report}");
    assert!(!report.contains("EAAG"), "{report}");
}

#[test]
fn a_file_alone_switches_to_live_sending() {
    let accounts = file("[[accounts]]\nbusiness_id = \"1\"\npage_token = \"EAAG1\"\n");
    let config = Config::from_vars(live_base(accounts.path().to_str().unwrap())).unwrap();
    assert!(!config.sending.is_dry_run());

    // …and then the Meta secrets are required.
    let err =
        Config::from_vars([("ACCOUNTS_FILE", accounts.path().to_str().unwrap())]).unwrap_err();
    assert_eq!(err.variable(), "IG_APP_SECRET");
    assert_eq!(err.kind(), ConfigErrorKind::Missing);
}

#[test]
fn bad_accounts_files_name_the_entry() {
    let cases = [
        ("", "ACCOUNTS_FILE: no [[accounts]] entries"),
        (
            "[[accounts]]\nbusiness_id = \"1\"\n",
            "ACCOUNTS_FILE: accounts[0]: missing page_token or page_token_env",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_token = \"a\"\npage_token_env = \"B\"\n",
            "ACCOUNTS_FILE: accounts[0]: set page_token or page_token_env, not both",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_token = \"EAAG1\"\n[[accounts]]\nbusiness_id = \"shop\"\npage_token = \"EAAG2\"\n",
            "ACCOUNTS_FILE: accounts[1]: business_id must be the numeric Instagram account id (digits only)",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_token_env = \"NOPE\"\n",
            "ACCOUNTS_FILE: accounts[0]: page_token_env names \"NOPE\", which is unset or empty",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_token = \"EAAG 1\"\n",
            "ACCOUNTS_FILE: accounts[0]: the page token contains whitespace or non-ASCII characters (copy it again)",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_tokn = \"EAAG1\"\n",
            "ACCOUNTS_FILE: accounts[0]: unknown key \"page_tokn\" (expected business_id, page_token or page_token_env)",
        ),
        (
            "[[accounts]]\nbusiness_id = \"1\"\npage_token = \"EAAG1\"\n[[accounts]]\nbusiness_id = 1\npage_token = \"EAAG2\"\n",
            "ACCOUNTS_FILE: account 1 is configured twice",
        ),
        ("[[accounts]\n", ""),
    ];
    for (contents, want) in cases {
        let f = file(contents);
        let err = Config::from_vars(live_base(f.path().to_str().unwrap())).unwrap_err();
        assert_eq!(err.variable(), "ACCOUNTS_FILE", "{contents:?}: {err}");
        let line = err.to_string();
        assert!(!line.contains('\n'), "{line:?}");
        assert!(!line.contains("EAAG"), "{line}");
        if want.is_empty() {
            assert!(
                line.starts_with("ACCOUNTS_FILE: invalid TOML at line 1"),
                "{line}"
            );
        } else {
            assert_eq!(line, want);
        }
    }

    // The same account in the environment and the file.
    let f = file("[[accounts]]\nbusiness_id = \"5\"\npage_token = \"EAAG5\"\n");
    let mut vars = live_base(f.path().to_str().unwrap());
    vars.extend([("IG_PAGE_TOKEN", "EAAGx"), ("IG_BUSINESS_ID", "5")]);
    let err = Config::from_vars(vars).unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::Conflict);
}

#[test]
fn a_rules_file_replaces_the_embedded_rules() {
    let rules = file(
        r#"
        [[rules]]
        id = "linen"
        keywords = ["linen", "lino", "كتان"]
        action = "reply"
        text = "Our linen shirts come in S-XL."
        "#,
    );
    let path = rules.path().to_str().unwrap();
    let config = Config::from_vars([("RULES_FILE", path)]).unwrap();
    assert_eq!(
        config.rules_source,
        RulesSource::File(rules.path().to_owned())
    );
    assert_eq!(config.rules.len(), 1);
    assert_eq!(
        config.rules.find("¿Tienen camisas de LINO?").unwrap().id(),
        "linen"
    );
    assert!(config.rules.find("hello").is_none());
}

#[test]
fn an_invalid_rules_file_is_one_line_naming_the_rule() {
    let rules = file(
        r#"
        [[rules]]
        id = "ok"
        keywords = ["hi"]
        action = "reply"
        text = "hello"

        [[rules]]
        id = "pricing"
        keywords = ["price"]
        patterns = ['\bcost(s']
        action = "reply"
        text = "see the shop"
        "#,
    );
    let path = rules.path().to_str().unwrap();
    let err = Config::from_vars([("RULES_FILE", path)]).unwrap_err();
    assert_eq!(err.variable(), "RULES_FILE");
    assert_eq!(err.kind(), ConfigErrorKind::Rules);
    let rules_error = err.rules_error().unwrap();
    assert_eq!(rules_error.rule_id(), Some("pricing"));
    assert_eq!(rules_error.kind(), RulesErrorKind::InvalidPattern);
    let line = err.to_string();
    assert!(
        line.starts_with(&format!(
            "RULES_FILE: {path}: rule \"pricing\": patterns[0] is not a valid regular expression"
        )),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line:?}");
}
