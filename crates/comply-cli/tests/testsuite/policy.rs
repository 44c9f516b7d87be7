//! `comply policy eval` and `lint`, offline.

use crate::support::Env;
use std::path::Path;

const SBOM_MAX_AGE: &str = r#"apiVersion: workflowcontract.chainloop.dev/v1
kind: Policy
metadata:
  name: sbom-max-age
  description: SBOM must not be older than N days
spec:
  inputs:
    - {name: limit, description: "max SBOM age in days", default: "30"}
  policies:
    - kind: SBOM_CYCLONEDX_JSON
      embedded: |
        package main

        import rego.v1

        valid_input if input.metadata.timestamp

        violations contains msg if {
          limit := to_number(input.args.limit)
          created := time.parse_rfc3339_ns(input.metadata.timestamp)
          time.now_ns() - created > limit * 86400000000000
          msg := sprintf("SBOM created at %s is too old (limit %d days)", [input.metadata.timestamp, limit])
        }
"#;

const SBOM: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"timestamp": "2024-01-09T12:00:00Z"}, "components": []}"#;

fn eval_json(env: &Env, args: &[&str]) -> serde_json::Value {
    let run = env.run(args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn eval_a_chainloop_policy() {
    let env = Env::start();
    env.write("sbom-max-age.yaml", SBOM_MAX_AGE);
    env.write("sbom.json", SBOM);
    env.write("spdx.json", r#"{"spdxVersion": "SPDX-2.3"}"#);
    let failing = eval_json(
        &env,
        &[
            "policy",
            "eval",
            "--policy",
            "sbom-max-age.yaml",
            "--material",
            "sbom.json",
        ],
    );
    assert_eq!(
        failing["result"]["violations"],
        serde_json::json!(["SBOM created at 2024-01-09T12:00:00Z is too old (limit 30 days)"])
    );
    assert_eq!(failing["result"]["skipped"], false);
    let passing = eval_json(
        &env,
        &[
            "policy",
            "eval",
            "--policy",
            "sbom-max-age.yaml",
            "--material",
            "sbom.json",
            "--input",
            "limit=1000000",
        ],
    );
    assert_eq!(passing["result"]["violations"], serde_json::json!([]));
    let skipped = eval_json(
        &env,
        &[
            "policy",
            "eval",
            "--policy",
            "sbom-max-age.yaml",
            "--material",
            "spdx.json",
            "--kind",
            "SBOM_CYCLONEDX_JSON",
        ],
    );
    assert_eq!(skipped["result"]["skipped"], true);
    assert_eq!(
        skipped["result"]["skip_reasons"],
        serde_json::json!(["the file content is not recognized"])
    );

    let run = env.run(&[
        "policy",
        "eval",
        "--policy",
        "sbom-max-age.yaml",
        "--material",
        "sbom.json",
        "--kind",
        "SARIF",
    ]);
    assert_eq!(run.code, 2, "no script for that kind: {}", run.stderr);
    let run = env.run(&[
        "policy",
        "eval",
        "--policy",
        "nope.yaml",
        "--material",
        "sbom.json",
    ]);
    assert_eq!(run.code, 2);
}

#[test]
fn lint_reports_rego_errors() {
    let env = Env::start();
    env.write("ok.yaml", SBOM_MAX_AGE);
    assert_eq!(
        env.ok(&["policy", "lint", "--policy", "ok.yaml"]),
        "ok.yaml: policy sbom-max-age is valid\n"
    );
    env.write(
        "broken.yaml",
        &SBOM_MAX_AGE.replace(
            "valid_input if input.metadata.timestamp",
            "valid_input if {",
        ),
    );
    let run = env.run(&["policy", "lint", "--policy", "broken.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does not compile") && run.stderr.contains("policy 'sbom-max-age'"),
        "{}",
        run.stderr
    );
}

/// Reads the real CycloneDX SBOM from `../shared/fixtures` (see its README); skipped when
/// the folder is absent, as in a fresh clone.
#[test]
fn eval_on_a_real_cyclonedx_fixture() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/sbom-cyclonedx/chainloop-sbom.cyclonedx-1.6.json");
    if !fixture.exists() {
        crate::support::skip(&format!("{} is absent", fixture.display()));
        return;
    }
    let env = Env::start();
    env.write("sbom-max-age.yaml", SBOM_MAX_AGE);
    let out = eval_json(
        &env,
        &[
            "policy",
            "eval",
            "--policy",
            "sbom-max-age.yaml",
            "--material",
            fixture.to_str().unwrap(),
        ],
    );
    assert_eq!(out["result"]["skipped"], false);
    let violations = out["result"]["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{out}");
    assert!(violations[0].as_str().unwrap().contains("too old"));
}
