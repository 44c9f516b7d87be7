//! `comply report`: a pack written to a directory and to a zip, verified, tampered
//! with, and signed locally with `--key`.

use crate::support::Env;
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use serde_json::json;

const RESOURCES: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: no-vulns-high}\nspec:\n  policies: [{ref: vulnerabilities, periodicity: daily, sla: 6, with: {severity: HIGH}}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: fw}\nspec:\n  requirements: [{ref: no-vulns-high}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: portal}\nspec:\n  projects: [api]\n  versions: [{name: \"1.0\", frameworks: [fw]}]\n";

fn setup() -> Env {
    let env = Env::start();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    env.write("ci.pub", &key.public().to_pem());
    env.ok(&["key", "add", "ci", "--public-key", "ci.pub"]);
    env.write("resources.yaml", RESOURCES);
    env.ok(&["apply", "-f", "resources.yaml"]);
    let finished = jiff::Timestamp::now().as_millisecond() - 3_600_000;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"workflowName": "build", "project": "api", "projectVersion": "1.0.0",
                                    "finishedAt": jiff::Timestamp::from_millisecond(finished).unwrap().to_string()},
                      "policyEvaluations": {"scan": [{"name": "vulnerabilities", "with": {"severity": "HIGH"}, "violations": []}]}},
    });
    let envelope = sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        &key,
    );
    env.write("api.json", &String::from_utf8(envelope).unwrap());
    env.ok(&["attestation", "push", "api.json"]);
    env
}

#[test]
fn packs_are_written_verified_and_tampering_is_reported() {
    let env = setup();
    let out = env.ok(&["report", "portal", "--version", "1.0", "--out", "pack"]);
    assert!(
        out.contains("Wrote the evidence pack of portal 1.0"),
        "{out}"
    );
    let html = std::fs::read_to_string(env.dir().join("pack/report.html")).unwrap();
    assert!(
        html.contains("no-vulns-high") && html.contains("PASSED"),
        "{html}"
    );
    let verified = env.ok(&["report", "verify", "pack"]);
    assert!(verified.contains("The pack verifies"), "{verified}");
    assert!(
        verified.contains("attestation envelopes: 1 of 1 verify"),
        "{verified}"
    );

    // The same as a zip.
    env.ok(&["report", "portal", "--out", "pack.zip"]);
    let zipped = env.json(&["report", "verify", "pack.zip"]);
    assert_eq!(zipped["problems"], json!([]), "{zipped}");

    // Nothing is written over.
    let again = env.run(&["report", "portal", "--out", "pack"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // A changed posture.
    let posture = env.dir().join("pack/posture.json");
    let text = std::fs::read_to_string(&posture).unwrap();
    std::fs::write(&posture, text.replace("\"PASSED\"", "\"FAILED\"")).unwrap();
    let broken = env.run(&["report", "verify", "pack"]);
    assert_eq!(broken.code, 1, "{}", broken.stdout);
    assert!(
        broken.stderr.contains("the pack does not verify"),
        "{}",
        broken.stderr
    );
    assert!(
        broken.stderr.contains("posture.json: digest"),
        "{}",
        broken.stderr
    );
}

#[test]
fn a_local_key_signs_the_manifest() {
    let env = setup();
    let local = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    env.write("local.pem", &local.to_pem());
    env.write("local.pub", &local.public().to_pem());
    env.write(
        "other.pub",
        &SigningKey::generate(KeyAlgorithm::Ed25519)
            .unwrap()
            .public()
            .to_pem(),
    );
    env.ok(&["report", "portal", "--out", "pack", "--key", "local.pem"]);
    let report = env.json(&["report", "verify", "pack", "--signer", "local.pub"]);
    assert_eq!(report["signer"], local.public().fingerprint(), "{report}");
    let wrong = env.run(&["report", "verify", "pack", "--signer", "other.pub"]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("not by the expected key"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn deadlines_show_evidence_going_stale() {
    let env = setup();
    // The scan is an hour old and daily: it goes stale in about 23 hours.
    let none = env.ok(&["deadlines", "--within", "12h"]);
    assert!(none.contains("Nothing changes by itself"), "{none}");
    let day = env.json(&["deadlines", "--within", "1d", "--product", "portal"]);
    let rows = day["deadlines"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{day}");
    assert_eq!(rows[0]["kind"], "evidence_expires");
    assert_eq!(rows[0]["requirement"], "no-vulns-high");
    assert_eq!(rows[0]["subject"], "vulnerabilities");
    let table = env.ok(&["deadlines", "--within", "1d"]);
    assert!(
        table.contains("evidence expires") && table.contains("portal 1.0"),
        "{table}"
    );
    let bad = env.run(&["deadlines", "--within", "soon"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn oscal_format_writes_the_assessment_results() {
    let env = setup();
    let out = env.ok(&["report", "portal", "--format", "oscal", "--out", "ar.json"]);
    assert!(out.contains("Wrote OSCAL Assessment Results"), "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir().join("ar.json")).unwrap()).unwrap();
    let finding = &doc["assessment-results"]["results"][0]["findings"][0];
    assert_eq!(finding["target"]["target-id"], "no-vulns-high", "{doc}");
    assert_eq!(finding["target"]["status"]["state"], "satisfied", "{doc}");
}
