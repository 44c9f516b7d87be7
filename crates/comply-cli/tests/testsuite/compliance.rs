//! Status through the whole stack: hand-written Chainloop statements signed by an
//! independent signer (comply-attest, as a script would), pushed, and judged; proofs,
//! exceptions, overrides and applicability change the answer as semantics §3 says.

use crate::support::Env;
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use serde_json::{Value, json};

pub(crate) const RESOURCES: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: no-vulns-high
  annotations: {categories: security}
spec:
  policies:
    - ref: vulnerabilities
      periodicity: daily
      sla: 6
      with: {severity: HIGH}
---
apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: architecture-review
  annotations: {categories: design, scope: PRODUCT}
spec:
  manual_proofs:
    - name: review-record
      periodicity: yearly
---
apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: fw
spec:
  requirements:
    - ref: no-vulns-high
    - ref: architecture-review
---
apiVersion: chainloop.dev/v1
kind: Product
metadata:
  name: portal
spec:
  projects: [api, web]
  versions:
    - name: "1.0"
      frameworks: [fw]
"#;

pub(crate) const HOUR: i64 = 3600 * 1000;

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// A Chainloop statement with one `vulnerabilities` evaluation, as a script would
/// write it, signed with `key`.
pub(crate) fn envelope(
    key: &SigningKey,
    project: &str,
    finished_ms: i64,
    threshold: &str,
    findings: &[&str],
) -> String {
    let violations: Vec<Value> = findings
        .iter()
        .enumerate()
        .map(|(i, severity)| {
            json!({"subject": "vulnerabilities", "message": format!("CVE-2026-{i:04} is {severity}"),
                   "vulnerability": {"externalId": format!("CVE-2026-{i:04}"), "severity": severity}})
        })
        .collect();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("ghcr.io/acme/{project}"), "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "buildType": "chainloop.dev/workflowrun/v0.1",
            "metadata": {"name": "build", "workflowName": "build", "project": project,
                          "projectVersion": "1.0.0", "contractName": "build",
                          "initializedAt": rfc3339(finished_ms - 60_000),
                          "finishedAt": rfc3339(finished_ms)},
            "materials": [],
            "policyEvaluations": {"scan": [{
                "name": "vulnerabilities", "materialName": "scan",
                "policyReference": {"name": "vulnerabilities", "uri": "chainloop://vulnerabilities"},
                "with": {"severity": threshold}, "type": "SARIF",
                "violations": violations,
            }]},
        },
    });
    let bytes = sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        key,
    );
    String::from_utf8(bytes).unwrap()
}

pub(crate) fn cell<'a>(status: &'a Value, requirement: &str, project: Option<&str>) -> &'a Value {
    status["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["requirement"] == requirement && c["project"].as_str() == project)
        .unwrap_or_else(|| panic!("no cell {requirement}/{project:?} in {status}"))
}

pub(crate) fn push(env: &Env, name: &str, text: &str) {
    env.write(name, text);
    env.ok(&["attestation", "push", name]);
}

#[test]
fn status_follows_evidence_proofs_and_decisions() {
    let env = Env::start();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    env.write("script.pub", &key.public().to_pem());
    env.ok(&["key", "add", "script", "--public-key", "script.pub"]);
    env.write("resources.yaml", RESOURCES);
    env.ok(&["apply", "-f", "resources.yaml"]);

    let now = jiff::Timestamp::now().as_millisecond();
    // The overview is asked before any evidence: its rows must not outlive it.
    assert_eq!(env.json(&["status"])["products"][0]["passing"], 0);
    // api: a MEDIUM-threshold scan that failed only on a MEDIUM finding satisfies HIGH.
    push(
        &env,
        "api.json",
        &envelope(&key, "api", now - 10 * HOUR, "MEDIUM", &["MEDIUM"]),
    );
    // web: a HIGH finding two hours ago: within the 6 h SLA.
    push(
        &env,
        "web.json",
        &envelope(&key, "web", now - 2 * HOUR, "HIGH", &["HIGH"]),
    );

    let s = env.json(&["status", "portal"]);
    assert_eq!(cell(&s, "no-vulns-high", Some("api"))["status"], "PASSED");
    let web = cell(&s, "no-vulns-high", Some("web"));
    assert_eq!(web["status"], "GRACE");
    assert!(
        web["deadline"].as_str().is_some(),
        "grace has a deadline: {web}"
    );
    assert_eq!(cell(&s, "architecture-review", None)["status"], "NO_DATA");
    assert_eq!(s["compliant"], false);
    assert_eq!(s["passing"], 2);
    assert_eq!(s["counted"], 3);
    let run = env.run(&["status", "portal", "--fail-on-noncompliant"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("score 67%"), "{}", run.stdout);

    // Seven hours after web's failure the grace period is over.
    let later = rfc3339(now + 5 * HOUR);
    let s = env.json(&["status", "portal", "--at", &later]);
    assert_eq!(cell(&s, "no-vulns-high", Some("web"))["status"], "FAILED");
    // Thirty hours later api's scan is older than a day.
    let much_later = rfc3339(now + 20 * HOUR);
    let s = env.json(&["status", "portal", "--at", &much_later]);
    assert_eq!(cell(&s, "no-vulns-high", Some("api"))["status"], "EXPIRED");
    // Twenty hours ago nothing of this had been applied: the past is as it was.
    let before = rfc3339(now - 20 * HOUR);
    let run = env.run(&["status", "portal", "--at", &before]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("product 'portal' did not exist at"),
        "{}",
        run.stderr
    );

    // A product-level proof satisfies the product-scoped requirement.
    env.ok(&[
        "proof",
        "submit",
        "--product",
        "portal",
        "--version",
        "1.0",
        "--requirement",
        "architecture-review",
        "--proof",
        "review-record",
        "--url",
        "https://wiki.example/review",
    ]);
    let run = env.run(&[
        "proof",
        "submit",
        "--product",
        "portal",
        "--version",
        "1.0",
        "--project",
        "api",
        "--requirement",
        "architecture-review",
        "--proof",
        "review-record",
        "--text",
        "x",
    ]);
    assert_eq!(
        run.code, 2,
        "a product-scoped requirement takes no project: {}",
        run.stderr
    );
    let s = env.json(&["status", "portal"]);
    assert_eq!(cell(&s, "architecture-review", None)["status"], "PASSED");
    assert_eq!(
        env.json(&["status"])["products"][0]["passing"],
        3,
        "a proof is seen by the overview"
    );

    // An exception takes web out of the score; an override forces api.
    env.ok(&[
        "exception",
        "create",
        "--product",
        "portal",
        "--version",
        "1.0",
        "--project",
        "web",
        "--requirement",
        "no-vulns-high",
        "--reason",
        "fix ships next week",
    ]);
    let s = env.json(&["status", "portal"]);
    assert_eq!(cell(&s, "no-vulns-high", Some("web"))["status"], "EXCEPTED");
    assert_eq!(
        (s["passing"].as_u64(), s["counted"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(s["compliant"], true);
    assert_eq!(
        env.run(&["status", "portal", "--fail-on-noncompliant"])
            .code,
        0
    );
    assert_eq!(
        env.json(&["status"])["products"][0]["counted"],
        2,
        "the exception reaches the overview"
    );

    let set = env.json(&[
        "override",
        "set",
        "--product",
        "portal",
        "--version",
        "1.0",
        "--project",
        "api",
        "--requirement",
        "no-vulns-high",
        "--status",
        "failed",
        "--reason",
        "scanner misconfigured",
    ]);
    let s = env.json(&["status", "portal", "--explain"]);
    let api = cell(&s, "no-vulns-high", Some("api"));
    assert_eq!(
        (api["status"].as_str(), api["overridden"].as_bool()),
        (Some("FAILED"), Some(true))
    );
    assert!(
        api["explanation"]
            .to_string()
            .contains("scanner misconfigured"),
        "{}",
        api["explanation"]
    );
    env.ok(&["override", "clear", &set["id"].to_string()]);
    assert_eq!(
        cell(
            &env.json(&["status", "portal"]),
            "no-vulns-high",
            Some("api")
        )["status"],
        "PASSED"
    );

    // Not applicable to web: it leaves the score, recorded in the Product document.
    env.ok(&[
        "applicability",
        "set",
        "--product",
        "portal",
        "--requirement",
        "no-vulns-high",
        "--project",
        "web",
        "--not-applicable",
        "--rationale",
        "static site",
    ]);
    let s = env.json(&["status", "portal"]);
    assert_eq!(
        cell(&s, "no-vulns-high", Some("web"))["status"],
        "NOT_APPLICABLE"
    );

    // Inactive requirements leave every score.
    env.ok(&["requirement", "deactivate", "no-vulns-high"]);
    let s = env.json(&["status", "portal"]);
    assert_eq!(cell(&s, "no-vulns-high", Some("api"))["status"], "INACTIVE");
    assert_eq!(s["counted"], 1);

    // New evidence for a project already counted changes the overview at once: a
    // failing scan, older than the 6 h SLA, after api's passing one.
    env.ok(&["requirement", "activate", "no-vulns-high"]);
    let before = env.json(&["status"])["products"][0]["passing"]
        .as_u64()
        .unwrap();
    push(
        &env,
        "api-2.json",
        &envelope(&key, "api", now - 8 * HOUR, "HIGH", &["HIGH"]),
    );
    let after = env.json(&["status"])["products"][0]["passing"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before - 1, "api failed past its SLA");
    env.ok(&["requirement", "deactivate", "no-vulns-high"]);

    // The overview lists the product version; history has one point per day.
    let overview = env.json(&["status"]);
    assert_eq!(overview["products"][0]["product"], "portal");
    let history = env.json(&[
        "history",
        "portal",
        "--from",
        &rfc3339(now - 3 * 24 * HOUR),
        "--to",
        &rfc3339(now),
    ]);
    let points = history["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    // The product was applied minutes ago: the three days before count nothing.
    for p in &points[..3] {
        assert_eq!(p["defined"], false, "{history}");
        assert_eq!(p["counted"], 0, "{history}");
    }
    assert_eq!(points[3]["defined"], true, "{history}");
    // A project version seen through its products.
    let project = env.json(&["project", "status", "api"]);
    assert_eq!(project["version"], "1.0.0");
    assert_eq!(project["products"][0]["product"], "portal");
    assert_eq!(
        project["products"][0]["cells"][0]["requirement"],
        "no-vulns-high"
    );
    let actions: Vec<String> = env
        .json(&["audit", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "proof.submit",
        "exception.create",
        "override.create",
        "override.end",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} audited: {actions:?}"
        );
    }
}

/// Chainloop keeps an attestation's policy evaluations in its artifact store when it
/// has one; the predicate then carries only `policyEvaluationsRef` (a ResourceDescriptor
/// naming the uploaded `PolicyEvaluationBundle`). Such an attestation is stored with what
/// it carries, says its evaluations are missing, and takes them later, checked by digest.
#[test]
fn referenced_evaluations_are_stored_marked_and_attached_later() {
    let env = Env::start();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    env.write("script.pub", &key.public().to_pem());
    env.ok(&["key", "add", "script", "--public-key", "script.pub"]);
    env.write("resources.yaml", RESOURCES);
    env.ok(&["apply", "-f", "resources.yaml"]);

    // What Chainloop's CLI uploads: protojson of PolicyEvaluationBundle{evaluations}.
    let bundle = json!({"evaluations": [{
        "name": "vulnerabilities", "materialName": "scan", "type": "SARIF",
        "policyReference": {"name": "vulnerabilities", "uri": "chainloop://vulnerabilities"},
        "with": {"severity": "HIGH"}, "violations": [],
    }]})
    .to_string();
    env.write("policy-evaluations.json", &bundle);
    let digest = comply_core::digest::sha256(bundle.as_bytes())
        .trim_start_matches("sha256:")
        .to_owned();
    let finished = jiff::Timestamp::now().as_millisecond() - HOUR;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "buildType": "chainloop.dev/workflowrun/v0.1",
            "metadata": {"name": "build", "workflowName": "build", "project": "api",
                          "projectVersion": "1.0.0", "contractName": "build",
                          "finishedAt": rfc3339(finished)},
            "materials": [{"name": "scan.sarif", "digest": {"sha256": "cd".repeat(32)},
                           "annotations": {"chainloop.material.name": "scan",
                                           "chainloop.material.type": "SARIF"}}],
            "policyEvaluationsRef": {"name": "policy-evaluations", "digest": {"sha256": digest},
                                     "mediaType": "application/vnd.chainloop.policy-evaluations.v1+json"},
            "policyHasViolations": false, "policyEvaluationsCount": 1,
        },
    });
    let envelope = String::from_utf8(sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        &key,
    ))
    .unwrap();
    env.write("att.json", &envelope);
    let run = env.run(&["attestation", "push", "att.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("its policy evaluations are referenced (sha256:"),
        "{}",
        run.stdout
    );
    let att = env.json(&["attestation", "list"])[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let described = env.json(&["attestation", "describe", &att]);
    assert_eq!(described["evaluations_supplied"], false, "{described}");
    assert_eq!(
        described["policy_evaluations_ref"]["digest"],
        format!("sha256:{digest}")
    );
    assert_eq!(described["evaluations"], json!([]));
    let text = env.ok(&["attestation", "describe", &att, "-o", "table"]);
    assert!(text.contains("NOT SUPPLIED"), "{text}");

    let s = env.json(&["status", "portal", "--explain"]);
    let api = cell(&s, "no-vulns-high", Some("api"));
    assert_eq!(api["status"], "NO_DATA");
    let explanation = api["explanation"].to_string();
    assert!(
        explanation.contains(&format!(
            "attestation {att} referenced its policy evaluations (policyEvaluationsRef) but they were not supplied"
        )),
        "{explanation}"
    );
    // web has no attestation: only NO_DATA.
    let web = cell(&s, "no-vulns-high", Some("web"));
    assert!(!web["explanation"].to_string().contains("not supplied"));

    // Another bundle than the one referenced is refused, and nothing changes.
    env.write("other.json", &bundle.replace("HIGH", "LOW"));
    let run = env.run(&[
        "attestation",
        "attach-evaluations",
        &att,
        "--policy-evaluations",
        "other.json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("digest"), "{}", run.stderr);

    let out = env.ok(&[
        "attestation",
        "attach-evaluations",
        &att,
        "--policy-evaluations",
        "policy-evaluations.json",
    ]);
    assert!(out.contains("1 policy evaluations attached"), "{out}");
    let s = env.json(&["status", "portal", "--explain"]);
    let api = cell(&s, "no-vulns-high", Some("api"));
    assert_eq!(api["status"], "PASSED", "{api}");
    assert!(!api["explanation"].to_string().contains("not supplied"));
    let described = env.json(&["attestation", "describe", &att]);
    assert_eq!(described["evaluations_supplied"], true);
    assert_eq!(described["evaluations"][0]["policy"], "vulnerabilities");
    // Evidence is never replaced.
    let run = env.run(&[
        "attestation",
        "attach-evaluations",
        &att,
        "--policy-evaluations",
        "policy-evaluations.json",
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("were supplied at"), "{}", run.stderr);
    let audit = env.ok(&["audit", "list"]);
    assert!(audit.contains("attestation.attach_evaluations"), "{audit}");

    // Pushing the stored attestation again with its bundle supplies it too.
    let mut web = statement.clone();
    web["predicate"]["metadata"]["project"] = json!("web");
    let envelope = String::from_utf8(sign(
        "application/vnd.in-toto+json",
        web.to_string().as_bytes(),
        &key,
    ))
    .unwrap();
    env.write("web.json", &envelope);
    env.ok(&["attestation", "push", "web.json"]);
    let out = env.ok(&[
        "attestation",
        "push",
        "web.json",
        "--policy-evaluations",
        "policy-evaluations.json",
    ]);
    assert!(out.contains("already stored"), "{out}");
    assert!(
        out.contains("1 referenced policy evaluations attached to it"),
        "{out}"
    );
    let s = env.json(&["status", "portal"]);
    assert_eq!(cell(&s, "no-vulns-high", Some("web"))["status"], "PASSED");
}
