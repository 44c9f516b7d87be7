//! `apply`, `list`, `describe`, `delete`, `duplicate`, lifecycle.

use crate::support::{Env, FRAMEWORK, MORE_REQUIREMENTS, REQUIREMENT};

fn setup() -> Env {
    let env = Env::start();
    // The framework's file sorts first: apply orders by dependency, not by file.
    env.write("manifests/a-framework.yaml", FRAMEWORK);
    env.write("manifests/b/requirements.yml", MORE_REQUIREMENTS);
    env.write("manifests/c-vulns.yaml", REQUIREMENT);
    env.write("manifests/notes.txt", "not YAML, not read");
    env
}

#[test]
fn apply_directory_is_idempotent() {
    let env = setup();
    insta::assert_snapshot!("apply_created", env.ok(&["apply", "-f", "manifests"]));
    insta::assert_snapshot!("apply_unchanged", env.ok(&["apply", "-f", "manifests"]));
    let edited = REQUIREMENT.replace("HIGH", "CRITICAL");
    env.write("manifests/c-vulns.yaml", &edited);
    let json = env.json(&["apply", "-f", "manifests/c-vulns.yaml"]);
    assert_eq!(json[0]["kind"], "Requirement");
    assert_eq!(json[0]["name"], "no-vulnerabilities-high");
    assert_eq!(json[0]["action"], "updated");
    assert_eq!(json[0]["revision"], 2);
}

#[test]
fn dry_run_changes_nothing() {
    let env = setup();
    let out = env.ok(&["apply", "-f", "manifests", "--dry-run"]);
    assert!(out.contains("created (revision 1) (dry run)"), "{out}");
    assert_eq!(
        env.json(&["requirement", "list", "--custom"]),
        serde_json::json!([])
    );
}

#[test]
fn invalid_documents_exit_2_with_locations() {
    let env = setup();
    env.write("broken/bad.yaml", "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\n  displayname: R\nspec:\n  policies:\n    - ref: x\n      periodicity: daly\n");
    env.write("broken/syntax.yaml", "kind: [Requirement\n");
    let run = env.run(&["apply", "-f", "manifests", "-f", "broken"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("invalid_documents", run.stderr);
    assert_eq!(
        env.json(&["requirement", "list", "--custom"]),
        serde_json::json!([]),
        "nothing applied"
    );

    let run = env.run(&["apply", "-f", "does-not-exist.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read does-not-exist.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.run(&["apply", "--bogus"]).code,
        2,
        "bad flags are usage errors"
    );
}

#[test]
fn list_and_describe() {
    let env = setup();
    env.ok(&["apply", "-f", "manifests"]);
    insta::assert_snapshot!(
        "requirement_list",
        env.ok(&["requirement", "list", "--custom"])
    );
    insta::assert_snapshot!("framework_list", env.ok(&["framework", "list", "--custom"]));
    insta::assert_snapshot!(
        "requirement_describe",
        env.ok(&["requirement", "describe", "no-vulnerabilities-high"])
    );
    insta::assert_snapshot!(
        "framework_describe",
        env.ok(&["framework", "describe", "my-best-practices"])
    );

    let list = env.json(&["requirement", "list", "--custom"]);
    let first = &list[0];
    assert_eq!(first["name"], "architecture-review");
    assert_eq!(first["builtin"], false);
    assert_eq!(first["active"], true);
    assert_eq!(first["scope"], "PRODUCT");
    assert_eq!(
        env.json(&["framework", "list", "--custom"])[0]["preview"],
        false
    );
    let yaml = env.ok(&[
        "requirement",
        "describe",
        "architecture-review",
        "-o",
        "yaml",
    ]);
    assert!(yaml.contains("name: architecture-review"), "{yaml}");
}

#[test]
fn schema_output_applies_unchanged() {
    let env = setup();
    env.ok(&["apply", "-f", "manifests"]);
    for (kind, name) in [
        ("requirement", "no-vulnerabilities-high"),
        ("framework", "my-best-practices"),
    ] {
        let schema = env.ok(&[kind, "describe", name, "-o", "schema"]);
        let file = env.write(&format!("{name}.exported.yaml"), &schema);
        let out = env.ok(&["apply", "-f", file.to_str().unwrap()]);
        assert!(
            out.contains(" unchanged (revision 1"),
            "{kind} {name}: {out}\n{schema}"
        );
    }
}

#[test]
fn delete_duplicate_and_lifecycle() {
    let env = setup();
    env.ok(&["apply", "-f", "manifests"]);
    let run = env.run(&["requirement", "delete", "images-signed"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("delete_refused", run.stderr);
    let run = env.run(&["requirement", "describe", "nope"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (1, "error: Requirement/nope does not exist\n")
    );

    assert_eq!(
        env.ok(&[
            "framework",
            "duplicate",
            "my-best-practices",
            "--as",
            "my-copy"
        ]),
        "Framework/my-copy created from my-best-practices (revision 1)\n"
    );
    env.ok(&["framework", "delete", "my-best-practices"]);
    let run = env.run(&["requirement", "delete", "images-signed"]);
    assert!(
        run.stderr.contains("Framework/my-copy"),
        "the copy lists it too: {}",
        run.stderr
    );
    env.ok(&["framework", "delete", "my-copy"]);
    assert_eq!(
        env.ok(&["requirement", "delete", "images-signed"]),
        "Requirement/images-signed deleted\n"
    );

    assert_eq!(
        env.ok(&["requirement", "deactivate", "architecture-review"]),
        "Requirement/architecture-review is now inactive\n"
    );
    assert_eq!(
        env.ok(&["requirement", "deactivate", "architecture-review"]),
        "Requirement/architecture-review was already inactive\n"
    );
    assert_eq!(
        env.json(&["requirement", "list", "--custom"])[0]["active"],
        false
    );
    env.ok(&["requirement", "activate", "architecture-review"]);

    let events = env.json(&[
        "audit",
        "list",
        "--target",
        "Requirement/architecture-review",
    ]);
    let actions: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "apply.created",
            "requirement.deactivate",
            "requirement.activate"
        ]
    );
    assert_eq!(
        env.ok(&["audit", "verify"]),
        format!("The audit log is intact ({} events)\n", events_count(&env))
    );
}

fn events_count(env: &Env) -> usize {
    env.json(&["audit", "list"]).as_array().unwrap().len()
}

/// Issue 17: `apply -f -` reads the documents from standard input, beside files, and
/// errors name `<stdin>` with the line and column.
#[test]
fn apply_reads_standard_input() {
    let env = Env::start();
    env.write("fw.yaml", FRAMEWORK);
    let run = env.run_stdin(
        &["apply", "-f", "-", "-f", "fw.yaml", "-o", "json"],
        &format!("{REQUIREMENT}---\n{MORE_REQUIREMENTS}"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = env.run_stdin(&["apply", "-f", "-"], REQUIREMENT);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    let bad = env.run_stdin(
        &["apply", "-f", "-"],
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: x}\nspec: [\n",
    );
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(bad.stderr.contains("<stdin>:"), "{}", bad.stderr);
    let twice = env.run_stdin(&["apply", "-f", "-", "-f", "-"], REQUIREMENT);
    assert_eq!(twice.code, 2);
    assert!(twice.stderr.contains("only once"), "{}", twice.stderr);
}
