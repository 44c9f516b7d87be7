//! A Chainloop user's `.chainloop/` directory, applied unchanged: contracts that
//! reference hosted built-ins by name, a Policy whose Rego sits beside it (`path:`),
//! contracts attaching local policies by `file://` and `https://`, a legacy v1
//! contract, a JSON contract, an empty contract, a group with an embedded policy.
//! Written after the forms Chainloop's docs/examples and testdata show.

use crate::support::Env;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const TEST_RESULTS_POLICY: &str = r#"apiVersion: chainloop.dev/v1
kind: Policy
metadata:
  name: test-results
  description: Every JUnit test passes
spec:
  policies:
    - kind: JUNIT_XML
      path: test-results.rego
"#;

const TEST_RESULTS_REGO: &str = r#"package main

import rego.v1

result := {
	"skipped": false,
	"violations": violations,
}

violations contains msg if {
	some suite in input.testsuites
	to_number(suite.failures) > 0
	msg := sprintf("suite %s has failures", [suite.name])
}
"#;

const BUILD_CONTRACT: &str = r#"# The build contract, synced by `chainloop apply -f .chainloop/`
apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: build
  description: Build and test
spec:
  runner:
    type: GITHUB_ACTION
  materials:
    - type: CONTAINER_IMAGE
      name: image
      output: true
    - type: SBOM_CYCLONEDX_JSON
      name: sbom
    - type: JUNIT_XML
      name: tests
  policies:
    materials:
      - ref: sbom-freshness
        with:
          limit: 30
      - ref: chainloop://vulnerabilities
        with:
          severity: HIGH
      - ref: file://.chainloop/policies/test-results.yaml
        selector:
          name: tests
      - ref: file://../shared/license-check.yaml
    attestation:
      - ref: source-commit
"#;

const LICENSE_POLICY: &str = r#"apiVersion: chainloop.dev/v1
kind: Policy
metadata:
  name: license-check
spec:
  policies:
    - kind: SBOM_CYCLONEDX_JSON
      embedded: |
        package main

        import rego.v1

        result := {"skipped": false, "violations": []}
"#;

const LEGACY_CONTRACT: &str = r#"schemaVersion: v1
materials:
  - type: CONTAINER_IMAGE
    name: image
    output: true
  - type: SBOM_CYCLONEDX_JSON
    name: sbom
envAllowList:
  - BUILD_VERSION
runner:
  type: GITHUB_ACTION
policies:
  materials:
    - ref: sbom-freshness
      with:
        limit: "30"
"#;

const JSON_CONTRACT: &str = r#"{
  "apiVersion": "chainloop.dev/v1",
  "kind": "Contract",
  "metadata": {"name": "release", "description": "Release in JSON"},
  "spec": {
    "materials": [
      {"type": "CONTAINER_IMAGE", "name": "image", "output": true},
      {"type": "ARTIFACT", "name": "rootfs"}
    ],
    "policyGroups": [{"ref": "file://.chainloop/groups/quality.yaml"}]
  }
}
"#;

const EMPTY_CONTRACT: &str = r#"# Empty Chainloop contract valid for any runner type
apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: generic
spec:
"#;

const GROUP: &str = r#"apiVersion: chainloop.dev/v1
kind: PolicyGroup
metadata:
  name: quality
spec:
  policies:
    materials:
      - name: image
        type: CONTAINER_IMAGE
        policies:
          - embedded:
              apiVersion: chainloop.dev/v1
              kind: Policy
              metadata:
                name: image-named
              spec:
                policies:
                  - kind: CONTAINER_IMAGE
                    embedded: |
                      package main

                      import rego.v1

                      result := {"skipped": false, "violations": []}
    attestation:
      - ref: file://../policies/legacy-any.yaml
"#;

/// The legacy Policy form with `spec.embedded` and no `spec.type`: any kind.
const LEGACY_POLICY: &str = r#"apiVersion: workflowcontract.chainloop.dev/v1
kind: Policy
metadata:
  name: legacy-any
spec:
  embedded: |
    package main

    import rego.v1

    result := {"skipped": false, "violations": []}
"#;

fn chainloop_dir(env: &Env) {
    env.write(".chainloop/policies/test-results.yaml", TEST_RESULTS_POLICY);
    env.write(".chainloop/policies/test-results.rego", TEST_RESULTS_REGO);
    env.write(".chainloop/policies/legacy-any.yaml", LEGACY_POLICY);
    env.write(".chainloop/contracts/build.yaml", BUILD_CONTRACT);
    env.write(".chainloop/contracts/legacy_build.yaml", LEGACY_CONTRACT);
    env.write(".chainloop/contracts/release.json", JSON_CONTRACT);
    env.write(".chainloop/contracts/generic.yaml", EMPTY_CONTRACT);
    env.write(".chainloop/groups/quality.yaml", GROUP);
    // A fixture beside the contracts is not a document and is not read.
    env.write(".chainloop/fixtures/report.json", r#"{"tests": 3}"#);
    // Outside the directory, reached only through a `file://` reference (relative to
    // the referencing document, since it is not under the current directory).
    env.write(".chainloop/shared/license-check.yaml", LICENSE_POLICY);
}

fn lines(out: &str) -> Vec<&str> {
    let mut l: Vec<&str> = out.lines().collect();
    l.sort();
    l
}

#[test]
fn chainloop_directory_applies_and_reapplies_unchanged() {
    let env = Env::start();
    chainloop_dir(&env);
    let lint = env.ok(&["lint", "-f", ".chainloop/"]);
    assert!(lint.contains("Policy/test-results valid"), "{lint}");

    let dry = env.ok(&["apply", "-f", ".chainloop/", "--dry-run"]);
    let expected = [
        "Contract/build created (revision 1) (dry run)",
        "Contract/generic created (revision 1) (dry run)",
        "Contract/legacy-build created (revision 1) (dry run) (legacy v1 contract from .chainloop/contracts/legacy_build.yaml, applied under this name)",
        "Contract/release created (revision 1) (dry run)",
        "Policy/image-named created (revision 1) (dry run)",
        "Policy/legacy-any created (revision 1) (dry run)",
        "Policy/license-check created (revision 1) (dry run)",
        "Policy/test-results created (revision 1) (dry run)",
        "PolicyGroup/quality created (revision 1) (dry run)",
    ];
    assert_eq!(lines(&dry), expected, "{dry}");
    assert_eq!(
        env.json(&["policy", "list", "--custom"]),
        serde_json::json!([]),
        "a dry run writes nothing"
    );
    let applied = env.ok(&["apply", "-f", ".chainloop/"]);
    assert_eq!(
        lines(&applied),
        expected.map(|l| l.replace(" (dry run)", "")),
        "{applied}"
    );
    let again = env.ok(&["apply", "-f", ".chainloop/"]);
    for line in again.lines() {
        assert!(line.contains(" unchanged "), "{again}");
    }
    assert_eq!(again.lines().count(), expected.len(), "{again}");

    // Where the Rego came from, and what the file reference resolved to.
    let policy = env.json(&["policy", "describe", "test-results"]);
    let spec = &policy["document"]["spec"]["policies"][0];
    assert_eq!(spec["source"], ".chainloop/policies/test-results.rego");
    assert_eq!(spec["embedded"], TEST_RESULTS_REGO);
    let contract = env.json(&["contract", "describe", "build"]);
    let attached = &contract["document"]["spec"]["policies"]["materials"][2];
    assert_eq!(attached["ref"], "test-results");
    assert_eq!(
        attached["source"],
        "file://.chainloop/policies/test-results.yaml"
    );
    // The contract is kept as written.
    assert_eq!(contract["document"]["raw"], BUILD_CONTRACT);

    // Attestations start from the applied contracts: a legacy one, one with file refs.
    for contract in ["legacy-build", "build"] {
        let out = env.ok(&[
            "attest",
            "init",
            "--contract",
            contract,
            "--project",
            "api",
            "--version",
            "1.0",
            "--state",
            "state.json",
        ]);
        assert!(out.contains(&format!("contract {contract}")), "{out}");
    }
    env.write("tests.xml", "<testsuites><testsuite name=\"unit\" tests=\"1\" failures=\"0\"><testcase name=\"t\"/></testsuite></testsuites>\n");
    let added = env.run(&[
        "attest",
        "add",
        "--name",
        "tests",
        "--value",
        "tests.xml",
        "--state",
        "state.json",
    ]);
    assert_eq!(added.code, 0, "{}", added.stderr);

    // A changed Rego file is a new revision of its policy.
    env.write(
        ".chainloop/policies/test-results.rego",
        &TEST_RESULTS_REGO.replace("has failures", "failed"),
    );
    let changed = env.ok(&["apply", "-f", ".chainloop/"]);
    assert!(
        changed.contains("Policy/test-results updated (revision 2)"),
        "{changed}"
    );
}

#[test]
fn legacy_contracts_take_a_given_name() {
    let env = Env::start();
    env.write("v1.yaml", LEGACY_CONTRACT);
    let out = env.ok(&["apply", "-f", "v1.yaml", "--name", "my-build"]);
    assert!(
        out.starts_with("Contract/my-build created (revision 1)"),
        "{out}"
    );
    let out = env.ok(&["contract", "apply", "my-build", "-f", "v1.yaml"]);
    assert!(out.starts_with("Contract/my-build unchanged"), "{out}");
    let described = env.json(&["contract", "describe", "my-build"]);
    assert_eq!(described["document"]["spec"]["runner"], "GITHUB_ACTION");
    // A v2 document under another name is refused rather than renamed.
    env.write("v2.yaml", EMPTY_CONTRACT);
    let run = env.run(&["contract", "apply", "other", "-f", "v2.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("names the contract 'generic'"),
        "{}",
        run.stderr
    );
    // CUE is not read, and says what to do instead.
    env.write("c.cue", "schemaVersion: \"v1\"\n");
    let run = env.run(&["apply", "-f", "c.cue"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cue export"), "{}", run.stderr);
}

#[test]
fn missing_policy_files_name_the_document_and_line() {
    let env = Env::start();
    env.write(
        "c.yaml",
        &BUILD_CONTRACT.replace("../shared/license-check.yaml", "nowhere.yaml"),
    );
    env.write(".chainloop/policies/test-results.yaml", TEST_RESULTS_POLICY);
    env.write(".chainloop/policies/test-results.rego", TEST_RESULTS_REGO);
    let run = env.run(&["apply", "-f", "c.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("c.yaml:29:14: cannot read policy 'file://nowhere.yaml'"),
        "{}",
        run.stderr
    );
    // A Rego script that does not compile is reported in its own file.
    env.write(
        ".chainloop/policies/test-results.rego",
        "package main\n\nresult := {\n",
    );
    let run = env.run(&["lint", "-f", ".chainloop/policies/test-results.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".chainloop/policies/test-results.rego:"),
        "{}",
        run.stderr
    );
}

/// Serves `body` for every request on a loopback port, `count` times.
pub(crate) fn serve(body: &'static str, count: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn https_references_are_fetched_by_the_cli() {
    let env = Env::start();
    let base = serve(LICENSE_POLICY, 1);
    let digest = comply_core::digest::sha256(LICENSE_POLICY.as_bytes());
    let hex = digest.trim_start_matches("sha256:");
    env.write(
        "c.yaml",
        &format!(
            "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: c\nspec:\n  materials:\n    - {{type: SBOM_CYCLONEDX_JSON, name: sbom}}\n  policies:\n    materials:\n      - ref: {base}/policies/license-check.yaml@sha256:{hex}\n"
        ),
    );
    let out = env.ok(&["apply", "-f", "c.yaml"]);
    assert_eq!(
        lines(&out),
        [
            "Contract/c created (revision 1)",
            "Policy/license-check created (revision 1)"
        ]
    );
    // Nothing listens there any more: a clear error at the reference.
    env.write(
        "d.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: d\nspec:\n  policies:\n    attestation:\n      - ref: http://127.0.0.1:9/p.yaml\n",
    );
    let run = env.run(&["apply", "-f", "d.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("d.yaml:8:14: cannot fetch policy 'http://127.0.0.1:9/p.yaml'"),
        "{}",
        run.stderr
    );
}

/// `comply policy eval|lint` as `chainloop policy develop eval|lint` is called.
#[test]
fn policy_develop_parity() {
    let env = Env::start();
    env.write(
        "policy.yaml",
        r#"apiVersion: chainloop.dev/v1
kind: Policy
metadata:
  name: annotated
  finding_type: VULNERABILITY
spec:
  policies:
    - kind: EVIDENCE
      embedded: |
        package main

        import rego.v1

        result := {"skipped": false, "violations": violations}

        violations contains v if {
        	input.chainloop_metadata.annotations.team != "core"
        	v := {"message": "wrong team", "external_id": "CVE-2024-1", "severity": "HIGH"}
        }
"#,
    );
    env.write("evidence.json", r#"{"a": 1}"#);
    // `-p` defaults to policy.yaml; annotations reach the policy.
    let out = env.ok(&[
        "policy",
        "eval",
        "--material",
        "evidence.json",
        "--kind",
        "EVIDENCE",
        "--annotation",
        "team=core,x=y",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"]["violations"], serde_json::json!([]), "{out}");
    let out = env.ok(&[
        "policy",
        "eval",
        "--material",
        "evidence.json",
        "--kind",
        "EVIDENCE",
        "--annotation",
        "team=web",
        "--project",
        "p",
        "--project-version",
        "1.0",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"]["violations"], serde_json::json!(["wrong team"]));
    assert_eq!(
        v["result"]["findings"][0]["vulnerability"]["external_id"], "CVE-2024-1",
        "{out}"
    );

    let run = env.run(&[
        "policy",
        "eval",
        "--material",
        "evidence.json",
        "--kind",
        "SBOM",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("invalid material kind 'SBOM'; valid kinds: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SBOM_CYCLONEDX_JSON"), "{}", run.stderr);

    env.write("broken.json", "{\n  \"a\": 1,\n  \"b\" 2\n}\n");
    let run = env.run(&[
        "policy",
        "eval",
        "-p",
        "policy.yaml",
        "--material",
        "broken.json",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.json:3:7: the material is not valid JSON"),
        "{}",
        run.stderr
    );

    // SARIF with a raw tab and newline inside a string, as some scanners write it.
    env.write(
        "scan.sarif",
        "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}}, \"results\": [{\"ruleId\": \"r1\", \"level\": \"error\", \"message\": {\"text\": \"line\tone\nline two\"}}]}]}",
    );
    let out = env.ok(&[
        "policy",
        "eval",
        "-p",
        "sast-findings",
        "--material",
        "scan.sarif",
        "--kind",
        "SARIF",
    ]);
    assert!(out.contains("\"violations\""), "{out}");

    // lint: a bare Rego module, and --format accepted.
    env.write(
        "m.rego",
        "package main\n\nimport rego.v1\n\nviolations contains \"x\" if false\n",
    );
    let out = env.ok(&["policy", "lint", "-p", "m.rego"]);
    assert!(out.contains("Rego module is valid"), "{out}");
    env.write("bad.rego", "package main\n\nviolations contains \n");
    assert_eq!(env.run(&["policy", "lint", "-p", "bad.rego"]).code, 2);
    let run = env.run(&["policy", "lint", "--format"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no Rego formatter"), "{}", run.stderr);
}

/// Chainloop's `docs/examples/policies/http-hostname-validation`, pointed at a loopback
/// host instead of app.chainloop.dev: its test.sh cases through `comply policy eval`.
pub(crate) fn hostname_policy(url: &str) -> String {
    format!(
        r#"apiVersion: chainloop.dev/v1
kind: Policy
metadata:
  name: http-hostname-validation
  description: Validates the platform version by asking its API
spec:
  inputs:
    - name: expected_version
      default: "1.2.3"
  policies:
    - kind: EVIDENCE
      embedded: |
        package main

        import rego.v1

        result := {{"skipped": false, "violations": violations, "skip_reason": ""}}

        api_response := http.send({{"method": "GET", "url": "{url}", "cache": true}})

        platform_version := api_response.body.platform.version

        violations contains msg if {{
        	api_response.status_code == 200
        	platform_version != input.args.expected_version
        	msg := sprintf("Platform version violation: expected '%s', got '%s'", [input.args.expected_version, platform_version])
        }}
"#
    )
}

#[test]
fn policy_eval_reaches_allowed_hostnames_only() {
    let env = Env::start();
    let base = serve(r#"{"platform": {"version": "v1.5.0"}}"#, 10);
    env.write("policy.yaml", &hostname_policy(&format!("{base}/api/info")));
    env.write("empty.json", "{}");
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "policy",
            "eval",
            "--kind",
            "EVIDENCE",
            "--material",
            "empty.json",
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };

    // No allowed hostnames: the evaluation fails (Chainloop's "failed_eval").
    let run = eval(&[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("network access is not allowed"),
        "{}",
        run.stderr
    );
    // A host that is not the one asked: refused before any connection.
    let run = eval(&["--allowed-hostnames", "example.com"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("host '127.0.0.1' is not in the allowed hostnames (example.com)"),
        "{}",
        run.stderr
    );
    // The right host: the policy runs, fails on the version, and says it was networked.
    let run = eval(&["--allowed-hostnames", "example.com,127.0.0.1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["result"]["violations"],
        serde_json::json!(["Platform version violation: expected '1.2.3', got 'v1.5.0'"])
    );
    assert_eq!(
        v["networked"]["allowed_hostnames"],
        serde_json::json!(["127.0.0.1", "example.com"])
    );
    let run = eval(&[
        "--allowed-hostnames",
        "127.0.0.1",
        "--input",
        "expected_version=v1.5.0",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["result"]["violations"], serde_json::json!([]));
}
