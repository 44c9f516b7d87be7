//! Requirement coverage through the stack: the product brief's example.

use crate::support::Env;
use serde_json::Value;

fn contract(name: &str, policies: &str) -> String {
    format!(
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: {name}\nspec:\n  materials:\n    - {{name: image, type: CONTAINER_IMAGE}}\n    - {{name: scan, type: SARIF}}\n  policies:\n    materials:\n{policies}"
    )
}

const REQUIREMENT: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: container-security\nspec:\n  policies:\n    - ref: container-signed\n    - ref: vulnerabilities\n      with: {severity: HIGH}\n";

fn project<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["project"] == name)
        .unwrap_or_else(|| panic!("no project {name}: {report}"))
}

fn policy_match(project: &Value, policy: &str) -> String {
    project["contracts"][0]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["policy"] == policy)
        .map(|m| m["match"].as_str().unwrap().to_owned())
        .unwrap()
}

#[test]
fn coverage_of_the_product_brief_example() {
    let env = Env::start();
    let signed = "      - {ref: container-signed, selector: {name: image}}\n";
    let docs = [
        contract(
            "full",
            &format!(
                "{signed}      - {{ref: vulnerabilities, selector: {{name: scan}}, with: {{severity: MEDIUM}}}}\n"
            ),
        ),
        contract("signed-only", signed),
        contract(
            "critical-only",
            "      - {ref: vulnerabilities, selector: {name: scan}, with: {severity: CRITICAL}}\n",
        ),
        REQUIREMENT.to_owned(),
    ];
    env.write("all.yaml", &docs.join("---\n"));
    env.ok(&["apply", "-f", "all.yaml"]);
    for (project, contract) in [("a", "full"), ("b", "signed-only"), ("c", "critical-only")] {
        env.ok(&[
            "workflow",
            "create",
            "--project",
            project,
            "--name",
            "build",
            "--contract",
            contract,
        ]);
    }

    let report = env.json(&["requirement", "coverage", "container-security"]);
    assert_eq!(
        report["policies"],
        serde_json::json!(["container-signed", "vulnerabilities"])
    );
    assert_eq!(project(&report, "a")["coverage"], "FULL");
    assert_eq!(
        policy_match(project(&report, "a"), "vulnerabilities"),
        "MATCHED"
    );
    assert_eq!(project(&report, "b")["coverage"], "PARTIAL");
    assert_eq!(project(&report, "c")["coverage"], "NONE");
    assert_eq!(
        policy_match(project(&report, "c"), "vulnerabilities"),
        "PARAMETER_MISMATCH"
    );

    let partial = env.json(&[
        "requirement",
        "coverage",
        "container-security",
        "--status",
        "partial",
    ]);
    assert_eq!(partial["projects"].as_array().unwrap().len(), 1);

    // A draft asking for CRITICAL: the CRITICAL contract now matches, the MEDIUM one too.
    env.write(
        "draft.yaml",
        &REQUIREMENT
            .replace("HIGH", "CRITICAL")
            .replace("container-security", "draft"),
    );
    let draft = env.json(&["requirement", "coverage", "-f", "draft.yaml"]);
    assert_eq!(
        policy_match(project(&draft, "c"), "vulnerabilities"),
        "MATCHED"
    );
    assert_eq!(project(&draft, "a")["coverage"], "FULL");
    let run = env.run(&["requirement", "describe", "draft"]);
    assert_eq!(run.code, 1, "a preview stores nothing");
    let table = env.ok(&["requirement", "coverage", "container-security"]);
    assert!(table.contains("PARAMETER_MISMATCH"), "{table}");
}
