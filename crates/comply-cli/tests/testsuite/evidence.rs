//! Evidence end to end: keys, `comply attest`, `attestation push` of hand-made and real
//! Chainloop envelopes, and what a rejected push leaves behind (nothing). Tests that
//! read `../shared/fixtures` say so and skip when it is absent.

use crate::support::Env;
use base64::Engine as _;
use serde_json::json;
use std::path::PathBuf;

const CONTRACT: &str = r#"apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: build
spec:
  materials:
    - name: sbom
      type: SBOM_CYCLONEDX_JSON
    - name: image
      type: CONTAINER_IMAGE
      output: true
  policies:
    materials:
      - ref: sbom-banned-components
        selector: {name: sbom}
        with: {components: "log4j-core"}
        requirements: [best-practices/sbom-per-release]
        gate: true
  policyGroups:
    - ref: sbom-quality
"#;

fn sbom(components: &[(&str, &str)]) -> String {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"timestamp": "2026-11-20T10:00:00Z",
                      "tools": [{"name": "syft", "version": "1.0"}],
                      "authors": [{"name": "ci"}],
                      "component": {"type": "application", "name": "api", "version": "1.0.0"}},
        "components": components.iter().map(|(n, v)| json!({
            "type": "library", "name": n, "version": v,
            "purl": format!("pkg:maven/org.example/{n}@{v}"),
            "supplier": {"name": "Example"},
            "licenses": [{"license": {"id": "Apache-2.0"}}],
        })).collect::<Vec<_>>(),
        "dependencies": [{"ref": "api", "dependsOn": []}],
    })
    .to_string()
}

const IMAGE: &str =
    "ghcr.io/acme/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A key pair made by `comply key generate` and trusted by the org.
fn trusted_key(env: &Env) -> PathBuf {
    let prefix = env.dir().join("ci");
    env.ok(&["key", "generate", "--out", prefix.to_str().unwrap()]);
    env.ok(&["key", "add", "ci", "--public-key", "ci.pub"]);
    env.dir().join("ci.key")
}

fn attest(env: &Env, key: &std::path::Path, components: &[(&str, &str)]) -> crate::support::Run {
    env.write("contract.yaml", CONTRACT);
    env.ok(&["apply", "-f", "contract.yaml"]);
    env.ok(&[
        "attest",
        "init",
        "--contract",
        "build",
        "--project",
        "api",
        "--version",
        "1.0.0",
    ]);
    env.write("sbom.json", &sbom(components));
    env.ok(&["attest", "add", "--name", "sbom", "--value", "sbom.json"]);
    env.ok(&["attest", "add", "--name", "image", "--value", IMAGE]);
    env.run(&[
        "attest",
        "push",
        "--key",
        key.to_str().unwrap(),
        "--output-envelope",
        "envelope.json",
    ])
}

#[test]
fn attest_flow_signs_evaluates_and_stores() {
    let env = Env::start();
    let key = trusted_key(&env);
    let run = attest(&env, &key, &[("jackson-core", "2.17.0")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("stored in api 1.0.0"), "{}", run.stdout);
    assert!(run.stdout.contains("signed by key:ci"), "{}", run.stdout);

    let list = env.json(&["attestation", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let digest = list[0]["digest"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["project"], "api");
    assert_eq!(list[0]["workflow"], "build");
    let described = env.json(&["attestation", "describe", &digest]);
    let evaluations = described["evaluations"].as_array().unwrap();
    let banned = evaluations
        .iter()
        .find(|e| e["policy"] == "sbom-banned-components")
        .unwrap();
    assert_eq!(banned["violations"], json!([]));
    assert_eq!(
        banned["requirements"],
        json!(["best-practices/sbom-per-release"])
    );
    assert_eq!(banned["with"]["components"], "log4j-core");
    assert!(
        evaluations.iter().any(|e| e["policy"] == "sbom-ntia"),
        "the group ran: {evaluations:?}"
    );

    let projects = env.json(&["project", "list"]);
    assert_eq!(
        projects,
        json!([{"name": "api", "latest": "1.0.0", "versions": ["1.0.0"],
        "version_details": projects[0]["version_details"], "workflows": projects[0]["workflows"]}])
    );

    // The same envelope again: stored once, answered with the first one.
    let again = env.json(&["attestation", "push", "envelope.json"]);
    assert_eq!(again["created"], false);
    assert_eq!(again["digest"], digest.as_str());
    assert_eq!(
        env.json(&["attestation", "list"]).as_array().unwrap().len(),
        1
    );

    // A second attestation: the list pages and says when there are more.
    let run = attest(&env, &key, &[("jackson-core", "2.17.1")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = env.run(&["attestation", "list", "--limit", "1", "-o", "json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let page: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    let last = page[0]["digest"].as_str().unwrap().to_owned();
    assert!(
        first.stderr.contains(&format!(
            "there are more attestations: comply attestation list --limit 1 --after {last}"
        )),
        "{}",
        first.stderr
    );
    let second = env.run(&[
        "attestation",
        "list",
        "--limit",
        "1",
        "--after",
        &last,
        "-o",
        "json",
    ]);
    let page: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_ne!(page[0]["digest"], last.as_str());
    assert_eq!(second.stderr, "", "the last page says nothing more");
}

#[test]
fn a_gated_violation_fails_push_but_keeps_the_evidence() {
    let env = Env::start();
    let key = trusted_key(&env);
    let run = attest(&env, &key, &[("log4j-core", "2.14.1")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("gated policies failed: sbom-banned-components on sbom"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.json(&["attestation", "list"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn bad_envelopes_are_rejected_and_leave_nothing() {
    let env = Env::start();
    let key = trusted_key(&env);
    assert_eq!(attest(&env, &key, &[("a", "1")]).code, 0);
    let envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir().join("envelope.json")).unwrap())
            .unwrap();
    let before = env.json(&["attestation", "list"]);

    // Tampered payload: one byte of the statement changed, signature kept.
    let mut tampered = envelope.clone();
    let payload = tampered["payload"].as_str().unwrap().to_owned();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(&payload)
        .unwrap();
    let at = bytes.iter().position(|b| *b == b'1').unwrap();
    bytes[at] = b'2';
    tampered["payload"] = json!(base64::engine::general_purpose::STANDARD.encode(&bytes));
    env.write("tampered.json", &tampered.to_string());
    let run = env.run(&["attestation", "push", "tampered.json"]);
    assert_eq!(run.code, 2, "a rejected attestation is an input error");
    assert!(
        run.stderr.contains("attestation rejected"),
        "{}",
        run.stderr
    );

    // Signed by a key the org does not trust.
    let other = env.dir().join("other");
    env.ok(&[
        "key",
        "generate",
        "--out",
        other.to_str().unwrap(),
        "--algorithm",
        "p256",
    ]);
    env.write("contract.yaml", CONTRACT);
    env.ok(&[
        "attest",
        "init",
        "--contract",
        "contract.yaml",
        "--project",
        "api",
        "--version",
        "2",
    ]);
    env.write("sbom.json", &sbom(&[("b", "1")]));
    env.ok(&["attest", "add", "--name", "sbom", "--value", "sbom.json"]);
    env.ok(&["attest", "add", "--name", "image", "--value", IMAGE]);
    let run = env.run(&["attest", "push", "--key", "other.key"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("attestation rejected"),
        "{}",
        run.stderr
    );

    // Truncated.
    let text = envelope.to_string();
    env.write("truncated.json", &text[..text.len() / 2]);
    let run = env.run(&["attestation", "push", "truncated.json"]);
    assert_eq!(run.code, 2, "not JSON is an input error: {}", run.stderr);

    assert_eq!(
        env.json(&["attestation", "list"]),
        before,
        "nothing stored by any rejected push"
    );
    assert_eq!(env.json(&["project", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn unsigned_attestations_only_when_the_org_allows_them() {
    let env = Env::start();
    let key = trusted_key(&env);
    assert_eq!(attest(&env, &key, &[("a", "1")]).code, 0);
    let mut envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir().join("envelope.json")).unwrap())
            .unwrap();
    envelope["signatures"] = json!([]);
    env.write("unsigned.json", &envelope.to_string());
    let run = env.run(&["attestation", "push", "unsigned.json"]);
    assert_eq!(run.code, 2);
    env.ok(&["org", "settings", "--allow-unsigned-attestations", "on"]);
    let out = env.ok(&["attestation", "push", "unsigned.json"]);
    assert!(out.contains("UNSIGNED"), "{out}");
    let list = env.json(&["attestation", "list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["signer"] == "unsigned" && a["verified"] == false)
    );
}

fn fixture(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/chainloop-attestations")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        crate::support::skip(&format!("{} is absent", path.display()));
        None
    }
}

/// Trust from certificates without openssl: a leaf's public key; a CA bundle, whole or
/// not at all.
#[test]
fn keys_from_certificates() {
    let (Some(leaf), Some(ca)) = (fixture("renderer-cert.pem"), fixture("verifier-ca.pem")) else {
        return;
    };
    let env = Env::start();
    let added = env.json(&["key", "add", "leaf", "--cert", leaf.to_str().unwrap()]);
    assert_eq!(added["kind"], "public_key", "{added}");
    // A bundle whose second certificate is a leaf: refused, and the CA before it too.
    let bundle = format!(
        "{}{}",
        std::fs::read_to_string(&ca).unwrap(),
        std::fs::read_to_string(&leaf).unwrap()
    );
    env.write("bundle.pem", &bundle);
    let run = env.run(&["key", "add", "chain", "--ca-cert", "bundle.pem"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("not a CA certificate"),
        "{}",
        run.stderr
    );
    let names: Vec<String> = env
        .json(&["key", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["leaf"], "nothing of the bundle stays");
    let added = env.json(&["key", "add", "chain", "--ca-cert", ca.to_str().unwrap()]);
    assert_eq!(added["kind"], "ca_certificate", "{added}");
    env.write("not-a-cert.pem", "hello\n");
    let run = env.run(&["key", "add", "x", "--cert", "not-a-cert.pem"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a PEM certificate"),
        "{}",
        run.stderr
    );
}

/// Real Chainloop envelopes (../shared/fixtures): a cosign key-signed DSSE envelope and
/// a Sigstore bundle whose leaf chains to a CA.
#[test]
fn real_chainloop_attestations_ingest_with_their_signers_trusted() {
    let (Some(envelope), Some(cosign), Some(bundle), Some(ca)) = (
        fixture("cosign-attestation.dsse.json"),
        fixture("cosign.pub"),
        fixture("verifier-bundle_valid.sigstore.json"),
        fixture("verifier-ca.pem"),
    ) else {
        return;
    };
    let env = Env::start();
    let run = env.run(&["attestation", "push", envelope.to_str().unwrap()]);
    assert_eq!(run.code, 2, "no key trusted yet");
    assert!(run.stderr.contains("no trusted key"), "{}", run.stderr);
    env.ok(&[
        "key",
        "add",
        "cosign",
        "--public-key",
        cosign.to_str().unwrap(),
    ]);
    let out = env.json(&["attestation", "push", envelope.to_str().unwrap()]);
    assert_eq!(
        (out["project"].as_str(), out["created"].as_bool()),
        (Some("myproject"), Some(true))
    );

    env.ok(&[
        "key",
        "add",
        "chainloop-ca",
        "--ca-cert",
        ca.to_str().unwrap(),
    ]);
    let out = env.json(&["attestation", "push", bundle.to_str().unwrap()]);
    assert_eq!(out["version"], "v0.162.0");
    assert_eq!(out["evaluations"], 2);
    let described = env.json(&["attestation", "describe", out["digest"].as_str().unwrap()]);
    let violations: usize = described["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["violations"].as_array().unwrap().len())
        .sum();
    assert_eq!(violations, 1);

    let invalid = fixture("verifier-bundle_invalid.sigstore.json").unwrap();
    let run = env.run(&["attestation", "push", invalid.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does not match the payload"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.json(&["attestation", "list"]).as_array().unwrap().len(),
        2
    );
}

/// `container-signed` passes only for an image whose signature verified when it was
/// added (the signature names the image digest and verifies with the given key).
#[test]
fn image_signatures_are_verified_when_collected() {
    let env = Env::start();
    let key = trusted_key(&env);
    let contract = "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: image\nspec:\n  materials:\n    - {name: image, type: CONTAINER_IMAGE}\n  policies:\n    materials:\n      - {ref: container-signed, selector: {name: image}}\n";
    env.write("image.yaml", contract);
    env.ok(&["apply", "-f", "image.yaml"]);
    let digest = IMAGE.rsplit_once("sha256:").unwrap().1;
    let signer =
        comply_attest::SigningKey::from_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
    let statement = |d: &str| {
        json!({"_type": "https://in-toto.io/Statement/v1",
               "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": d}}],
               "predicateType": "https://cosign.sigstore.dev/attestation/v1", "predicate": {}})
        .to_string()
    };
    let sign = |d: &str| {
        comply_attest::sign(
            "application/vnd.in-toto+json",
            statement(d).as_bytes(),
            &signer,
        )
    };
    std::fs::write(env.dir().join("image.sig.json"), sign(digest)).unwrap();
    std::fs::write(env.dir().join("other.sig.json"), sign(&"0".repeat(64))).unwrap();

    let evaluate = |extra: &[&str]| {
        env.ok(&[
            "attest",
            "init",
            "--contract",
            "image",
            "--project",
            "api",
            "--version",
            "1",
        ]);
        let mut args = vec!["attest", "add", "--name", "image", "--value", IMAGE];
        args.extend_from_slice(extra);
        let run = env.run(&args);
        if run.code != 0 {
            return Err(run.stderr);
        }
        let out = env.json(&["attest", "push", "--key", key.to_str().unwrap()]);
        let described = env.json(&["attestation", "describe", out["digest"].as_str().unwrap()]);
        Ok(described["evaluations"][0]["violations"]
            .as_array()
            .unwrap()
            .len())
    };
    assert_eq!(evaluate(&[]), Ok(1), "unsigned: a violation");
    assert_eq!(
        evaluate(&["--signature", "image.sig.json", "--signature-key", "ci.pub"]),
        Ok(0)
    );
    let err =
        evaluate(&["--signature", "other.sig.json", "--signature-key", "ci.pub"]).unwrap_err();
    assert!(err.contains("does not sign sha256:"), "{err}");
    env.ok(&["key", "generate", "--out", "stranger"]);
    let err = evaluate(&[
        "--signature",
        "image.sig.json",
        "--signature-key",
        "stranger.pub",
    ])
    .unwrap_err();
    assert!(err.contains("does not verify"), "{err}");
}

const GATE_RESOURCES: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: log4j-free
spec:
  policies:
    - ref: sbom-banned-components
      with: {components: "log4j-core"}
---
apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: pen-tested
spec:
  manual_proofs:
    - name: pen-test-report
---
apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: fw
spec:
  requirements:
    - ref: log4j-free
    - ref: pen-tested
---
apiVersion: chainloop.dev/v1
kind: Product
metadata:
  name: portal
spec:
  projects: [api]
  versions:
    - name: "1.0"
      frameworks: [fw]
      projectVersions: {api: 1.0.0}
"#;

fn gate_contract(requirements: &str) -> String {
    format!(
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: release\nspec:\n  policies:\n    attestation:\n      - ref: check-compliance-requirement\n        with:\n          requirement_name: {requirements}\n        gate: true\n"
    )
}

/// `check-compliance-requirement` asks comply's own status of the project version.
#[test]
fn compliance_requirement_gate_reads_the_servers_status() {
    let env = Env::start();
    let key = trusted_key(&env);
    env.write("gate.yaml", GATE_RESOURCES);
    env.ok(&["apply", "-f", "gate.yaml"]);
    let push_release = |requirements: &str| {
        env.write("release.yaml", &gate_contract(requirements));
        env.ok(&["apply", "-f", "release.yaml"]);
        env.ok(&[
            "attest",
            "init",
            "--contract",
            "release",
            "--project",
            "api",
            "--version",
            "1.0.0",
        ]);
        env.run(&["attest", "push", "--key", key.to_str().unwrap()])
    };
    // Nothing is known of api 1.0.0 yet: the requirement is unmet.
    let run = push_release("log4j-free");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("requirement log4j-free is"),
        "{}",
        run.stderr
    );
    // Evidence that meets it.
    let run = attest(&env, &key, &[("jackson-core", "2.17.0")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = env.json(&["project", "status", "api", "--version", "1.0.0"]);
    let run = push_release("log4j-free");
    assert_eq!(run.code, 0, "{}\n{}\n{status}", run.stdout, run.stderr);
    // A requirement waiting for a manual proof fails the gate and says why.
    let run = push_release("log4j-free, pen-tested");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "requirement pen-tested is NO_DATA for api 1.0.0 in product portal 1.0 (framework fw)"
        ),
        "{}",
        run.stderr
    );
    // Under an exception it is left out.
    env.ok(&[
        "exception",
        "create",
        "--product",
        "portal",
        "--version",
        "1.0",
        "--requirement",
        "pen-tested",
        "--project",
        "api",
        "--reason",
        "scheduled for Q3",
    ]);
    let run = push_release("log4j-free, pen-tested");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// The org setting `policy_allowed_hostnames` lets `comply attest` run policies that
/// call `http.send` to listed hosts; every evaluation of such a run says so, in the
/// signed attestation and in what the server stored.
#[test]
fn attest_flow_networks_only_with_the_org_setting_and_records_it() {
    let env = Env::start();
    let key = trusted_key(&env);
    let base = crate::chainloop::serve(r#"{"platform": {"version": "v1.5.0"}}"#, 10);
    env.write(
        "policy.yaml",
        &crate::chainloop::hostname_policy(&format!("{base}/api/info")),
    );
    env.write(
        "contract.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: platform\nspec:\n  materials:\n    - name: info\n      type: EVIDENCE\n  policies:\n    materials:\n      - ref: http-hostname-validation\n        with: {expected_version: v1.5.0}\n",
    );
    env.ok(&["apply", "-f", "policy.yaml", "-f", "contract.yaml"]);
    env.write("empty.json", "{}");
    let attest = |env: &Env| {
        env.ok(&[
            "attest",
            "init",
            "--contract",
            "platform",
            "--project",
            "api",
            "--version",
            "2.0.0",
        ]);
        env.ok(&["attest", "add", "--name", "info", "--value", "empty.json"]);
        env.run(&["attest", "push", "--key", key.to_str().unwrap()])
    };
    // Sealed by default: the policy cannot run, nothing is stored.
    let run = attest(&env);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("network access is not allowed"),
        "{}",
        run.stderr
    );
    assert_eq!(env.json(&["attestation", "list"]), json!([]));

    let run = env.run(&[
        "org",
        "settings",
        "--policy-allowed-hostnames",
        "https://x.dev/",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a URL"), "{}", run.stderr);
    let settings = env.ok(&["org", "settings", "--policy-allowed-hostnames", "127.0.0.1"]);
    assert!(settings.contains("127.0.0.1"), "{settings}");

    let run = attest(&env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("policies may reach 127.0.0.1"),
        "{}",
        run.stderr
    );
    let digest = env.json(&["attestation", "list"])[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let described = env.json(&["attestation", "describe", &digest]);
    let e = &described["evaluations"][0];
    assert_eq!(e["policy"], "http-hostname-validation");
    assert_eq!(e["violations"], json!([]), "{e}");
    assert_eq!(e["networked"], "127.0.0.1");
    // In the signed statement too.
    let signed = &described["statement"]["predicate"]["policyEvaluations"]["info"][0];
    assert_eq!(signed["annotations"]["comply.dev/networked"], "127.0.0.1");
    let text = env.ok(&["attestation", "describe", &digest, "-o", "table"]);
    assert!(
        text.contains("ran with networking (http.send to 127.0.0.1)"),
        "{text}"
    );

    env.ok(&["org", "settings", "--policy-allowed-hostnames", ""]);
    let settings = env.json(&["org", "settings"]);
    assert_eq!(settings["policy_allowed_hostnames"], json!([]));
}

/// Chainloop's own fixture of an attestation whose evaluations sit in its artifact
/// store (`app/controlplane/pkg/biz/testdata/attestations/full-with-policy-evaluations-ref.json`):
/// stored with its materials, marked as missing them; a bundle that is not the
/// referenced one is refused.
#[test]
fn chainloop_attestation_referencing_its_evaluations_is_stored_and_marked() {
    let Some(path) = fixture("biz-full-with-policy-evaluations-ref.dsse.json") else {
        return;
    };
    let env = Env::start();
    env.ok(&["org", "settings", "--allow-unsigned-attestations", "on"]);
    let pushed = env.json(&["attestation", "push", path.to_str().unwrap()]);
    assert_eq!(pushed["created"], true, "{pushed}");
    assert_eq!(pushed["evaluations"], 0);
    assert_eq!(
        pushed["evaluations_not_supplied"]["digest"],
        "sha256:aabbccdd00112233aabbccdd00112233aabbccdd00112233aabbccdd00112233"
    );
    let digest = pushed["digest"].as_str().unwrap().to_owned();
    let described = env.json(&["attestation", "describe", &digest]);
    assert_eq!(described["project"], "foo");
    assert_eq!(described["evaluations_supplied"], false);
    assert_eq!(
        described["policy_evaluations_ref"]["media_type"],
        "application/vnd.chainloop.policy-evaluations.v1+proto"
    );
    assert_eq!(
        described["statement"]["predicate"]["materials"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "what it carries is kept"
    );
    env.write("bundle.json", r#"{"evaluations": []}"#);
    let run = env.run(&[
        "attestation",
        "attach-evaluations",
        &digest,
        "--policy-evaluations",
        "bundle.json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("digest"), "{}", run.stderr);
    assert_eq!(
        env.json(&["attestation", "describe", &digest])["evaluations_supplied"],
        false
    );
}
