//! Organizations, tokens and settings from the command line.

use crate::support::Env;

#[test]
fn tokens_roles_and_orgs() {
    let env = Env::start();
    let created = env.json(&["token", "create", "--name", "ci", "--role", "member"]);
    assert_eq!(created["name"], "ci");
    assert_eq!(created["role"], "member");
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("comply_"));

    let list = env.json(&["token", "list"]);
    let ci = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap();
    assert_eq!(
        (
            ci["role"].as_str(),
            ci["revoked"].as_bool(),
            ci["expires"].is_null()
        ),
        (Some("member"), Some(false), true)
    );
    assert!(
        !list.to_string().contains(&secret[20..]),
        "no secrets in listings"
    );

    // A member may read but not manage resources or tokens.
    assert_eq!(env.run_as(&secret, &["requirement", "list"]).code, 0);
    let run = env.run_as(&secret, &["token", "list"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("needs the owner role"),
        "{}",
        run.stderr
    );

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        env.ok(&["token", "revoke", id]),
        format!("Token {id} revoked\n")
    );
    let run = env.run_as(&secret, &["requirement", "list"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (1, "error: token has been revoked\n")
    );

    assert_eq!(
        env.ok(&["org", "create", "acme"]),
        "Organization acme created\n"
    );
    let orgs = env.json(&["org", "list"]);
    assert_eq!(orgs.as_array().unwrap().len(), 2);
    // The instance admin manages another org's tokens with --org.
    let acme = env.json(&[
        "--org",
        "acme",
        "token",
        "create",
        "--name",
        "acme-admin",
        "--role",
        "admin",
    ]);
    let acme_token = acme["token"].as_str().unwrap();
    let run = env.run_as(acme_token, &["org", "create", "globex"]);
    assert_eq!(run.code, 1);
    let run = env.run_as(acme_token, &["--org", "default", "requirement", "list"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (1, "error: organization 'default' not found\n")
    );
}

#[test]
fn settings_show_and_change() {
    let env = Env::start();
    insta::assert_snapshot!("settings_default", env.ok(&["org", "settings"]));
    let changed = env.json(&[
        "org",
        "settings",
        "--in-preview-frameworks",
        "on",
        "--requirements-auto-matching",
        "off",
    ]);
    assert_eq!(changed["in_preview_frameworks"], true);
    assert_eq!(changed["requirements_auto_matching"], false);
    assert_eq!(changed["allow_unsigned_attestations"], false);
    assert_eq!(
        env.run(&["org", "settings", "--in-preview-frameworks", "maybe"])
            .code,
        2
    );
}

#[test]
fn unauthenticated_calls_explain_themselves() {
    let env = Env::start();
    let mut cmd = env.command();
    cmd.env_remove("COMPLY_TOKEN").args(["requirement", "list"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("missing bearer token") && stderr.contains("COMPLY_TOKEN"),
        "{stderr}"
    );
}
