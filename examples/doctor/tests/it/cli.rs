//! The binary: exit codes, arguments, the environment.

use std::process::Command;

use serde_json::json;
use wiremock::MockServer;

use super::*;

fn doctor(args: &[&str], vars: &[(String, String)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_doctor"))
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

#[test]
fn nothing_configured_exits_2() {
    let out = doctor(&[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("nothing to check:"));
}

#[test]
fn a_bad_variable_exits_2_naming_it() {
    let out = doctor(&[], &[("PORT".into(), "abc".into())]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "configuration error: PORT: expected a port number 1-65535, got \"abc\"\n"
    );
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    assert_eq!(doctor(&["--frobnicate"], &[]).status.code(), Some(2));
    let help = doctor(&["--help"], &[]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("Usage: doctor"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_0_and_1_from_the_process() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    let vars = facebook_vars(&server);
    // No debug_token, /me or subscribed_apps answer: Meta's 404s cannot be checked.
    let out = tokio::task::spawn_blocking({
        let vars = vars.clone();
        move || doctor(&["--json"], &vars)
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"], "incomplete");

    mount_debug_token(
        &server,
        PAGE_TOKEN,
        json!({"data": {"is_valid": false, "type": "PAGE", "error": {"code": 190, "message": "Invalid OAuth access token."}}}),
    )
    .await;
    let out = tokio::task::spawn_blocking(move || doctor(&[], &vars))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .contains("✗ token: the PAGE token is invalid: Invalid OAuth access token. (code 190)"),
        "{stdout}"
    );
    assert!(!stdout.contains(PAGE_TOKEN) && !stdout.contains(APP_SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_without_a_yes_on_stdin_changes_nothing() {
    let server = MockServer::start().await;
    mount_instagram_app(&server).await;
    mount_debug_token(&server, PAGE_TOKEN, token_info("PAGE", &FACEBOOK_SCOPES, 0)).await;
    wiremock::Mock::given(wiremock::matchers::path("/v25.0/me"))
        .respond_with(ok_json(
            json!({"id": PAGE, "instagram_business_account": {"id": IG}}),
        ))
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "/v25.0/{PAGE}/subscribed_apps"
        )))
        .respond_with(ok_json(json!({"data": []})))
        .mount(&server)
        .await;
    let vars = facebook_vars(&server);
    // stdin is empty (not a terminal): the prompt reads end of input, a no.
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_doctor"))
            .arg("--fix")
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Make these changes? [y/N] "), "{stderr}");
    assert!(stderr.ends_with("Nothing changed.\n"), "{stderr}");
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 0);
}
