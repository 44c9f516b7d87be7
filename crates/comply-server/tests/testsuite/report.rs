//! Evidence packs: built by the server from real signed attestations, proofs and
//! decisions; verified from their files alone; and every part tampered with, once
//! simply (the manifest catches it) and once with the manifest re-signed by an
//! attacker (the part's own check catches it).

use crate::ingestion::policy;
use crate::support::Server;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_server::pack::{self, Files, Manifest, ManifestFile};
use serde_json::{Value, json};

const RESOURCES: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: scanned}\nspec:\n  policies: [{ref: policy-0, periodicity: daily, sla: 6, with: {severity: HIGH}}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: reviewed, annotations: {scope: PRODUCT}}\nspec:\n  manual_proofs: [{name: minutes, periodicity: yearly}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: tested}\nspec:\n  policies: [{ref: policy-1}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: fw}\nspec:\n  requirements: [{ref: scanned}, {ref: reviewed}, {ref: tested}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: portal}\nspec:\n  projects: [api, web]\n  versions: [{name: \"1.0\", frameworks: [fw]}]\n";

fn statement(project: &str, finished_ms: i64, failing: bool) -> Vec<u8> {
    let violations: Vec<Value> = if failing {
        vec![json!({"subject": "s", "message": "CVE-1 is HIGH"})]
    } else {
        vec![]
    };
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": project, "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"workflowName": "build", "project": project, "projectVersion": "1.0",
                                    "finishedAt": jiff::Timestamp::from_millisecond(finished_ms).unwrap().to_string()},
                      "policyEvaluations": {"CHAINLOOP.ATTESTATION": [
                          {"name": "policy-0", "with": {"severity": "HIGH"}, "violations": violations},
                          {"name": "policy-1", "violations": []}]}},
    })
    .to_string()
    .into_bytes()
}

pub async fn ok(server: &Server, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = server.call(method, path, Some(&server.admin), body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// A product version with signed evidence a minute old (one project failing, in its
/// 6 h grace), a file proof and an exception.
pub async fn setup_portal(server: &Server) {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    ok(
        server,
        Method::POST,
        "/api/v1/orgs/default/keys",
        Some(json!({"name": "ci", "pem": key.public().to_pem()})),
    )
    .await;
    let docs = format!("{}---\n{}---\n{RESOURCES}", policy(0), policy(1));
    let (status, body) = server
        .apply("default", &server.admin, "p.yaml", &docs)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now = jiff::Timestamp::now().as_millisecond();
    for (project, failing) in [("api", false), ("web", true)] {
        let envelope: Value = serde_json::from_slice(&sign(
            "application/vnd.in-toto+json",
            &statement(project, now - 60_000, failing),
            &key,
        ))
        .unwrap();
        ok(
            server,
            Method::POST,
            "/api/v1/orgs/default/attestations",
            Some(envelope),
        )
        .await;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    ok(
        server,
        Method::POST,
        "/api/v1/orgs/default/proofs",
        Some(json!({
        "product": "portal", "version": "1.0", "requirement": "reviewed", "proof": "minutes",
        "file_base64": b64.encode(b"minutes of the 2026 review"), "file_name": "minutes.txt"})),
    )
    .await;
    ok(
        server,
        Method::POST,
        "/api/v1/orgs/default/exceptions",
        Some(json!({
        "product": "portal", "version": "1.0", "project": "web", "requirement": "tested",
        "reason": "tests run elsewhere", "expires": null})),
    )
    .await;
}

/// The pack of the product version `setup_portal` makes.
async fn pack_of_portal(server: &Server) -> Files {
    setup_portal(server).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let answer = ok(
        server,
        Method::GET,
        "/api/v1/orgs/default/products/portal/report?version=1.0",
        None,
    )
    .await;
    answer["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                b64.decode(f["content"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Rewrites the manifest's digests and signs it with `key`: what someone who altered a
/// part and owns a key would do.
fn reseal(files: &mut Files, key: &SigningKey) {
    let mut manifest: Manifest = serde_json::from_slice(&files[pack::MANIFEST]).unwrap();
    manifest.files = files
        .iter()
        .filter(|(p, _)| ![pack::MANIFEST, pack::SIGNATURE, pack::SIGNER].contains(&p.as_str()))
        .map(|(p, b)| ManifestFile {
            path: p.clone(),
            sha256: pack::sha256(b),
            size: b.len() as u64,
        })
        .collect();
    files.insert(
        pack::MANIFEST.into(),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    );
    pack::sign(files, key);
}

fn edit_json(files: &mut Files, path: &str, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&files[path]).unwrap();
    edit(&mut v);
    files.insert(path.into(), serde_json::to_vec_pretty(&v).unwrap());
}

fn problems(files: &Files) -> String {
    let report = pack::verify(files, None);
    assert!(!report.ok(), "tampering went unnoticed: {report:?}");
    report.problems.join("\n")
}

#[tokio::test]
async fn a_pack_verifies_from_its_files_alone() {
    let server = Server::sqlite().await;
    let files = pack_of_portal(&server).await;
    for part in [
        pack::MANIFEST,
        pack::SIGNATURE,
        pack::SIGNER,
        pack::POSTURE,
        pack::FACTS,
        pack::DECISIONS,
        pack::AUDIT,
        pack::KEYS,
        pack::ENVELOPES,
        pack::REPORT,
    ] {
        assert!(files.contains_key(part), "{part} is in the pack");
    }
    assert_eq!(
        files
            .keys()
            .filter(|p| p.starts_with("envelopes/") && *p != pack::ENVELOPES)
            .count(),
        2
    );
    assert_eq!(files.keys().filter(|p| p.starts_with("proofs/")).count(), 1);
    let report = pack::verify(&files, None);
    assert!(report.ok(), "{report:#?}");
    assert!(
        report
            .checked
            .iter()
            .any(|c| c.contains("attestation envelopes: 2 of 2 verify")),
        "{report:#?}"
    );
    assert!(
        report
            .checked
            .iter()
            .any(|c| c.starts_with("posture: 5 cells recomputed")),
        "{report:#?}"
    );
    // The posture says what the status route says.
    let posture: pack::Posture = serde_json::from_slice(&files[pack::POSTURE]).unwrap();
    let status = |r: &str, p: Option<&str>| {
        posture
            .cells
            .iter()
            .find(|c| c.cell["requirement"] == r && c.cell["project"].as_str() == p)
            .unwrap()
            .cell["status"]
            .clone()
    };
    assert_eq!(status("scanned", Some("api")), "PASSED");
    assert_eq!(status("scanned", Some("web")), "GRACE");
    assert_eq!(status("reviewed", None), "PASSED");
    assert_eq!(status("tested", Some("web")), "EXCEPTED");
    let html = String::from_utf8(files[pack::REPORT].clone()).unwrap();
    assert!(
        html.contains("tests run elsewhere") && html.contains("break-before:page"),
        "{html}"
    );
    // The instance key signed it, and the server publishes that key.
    let published = ok(&server, Method::GET, "/api/v1/report-key", None).await;
    assert_eq!(report.signer.as_deref(), published["fingerprint"].as_str());
    let pinned = comply_attest::PublicKey::from_pem(published["pem"].as_str().unwrap()).unwrap();
    assert!(pack::verify(&files, Some(&pinned)).ok());
    let other = SigningKey::generate(KeyAlgorithm::Ed25519)
        .unwrap()
        .public();
    let wrong = pack::verify(&files, Some(&other));
    assert!(
        wrong
            .problems
            .iter()
            .any(|p| p.contains("not by the expected key")),
        "{wrong:?}"
    );
}

#[tokio::test]
async fn verify_catches_every_tampered_part() {
    let server = Server::sqlite().await;
    let files = pack_of_portal(&server).await;
    let attacker = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let envelope = files
        .keys()
        .find(|p| {
            p.starts_with("envelopes/sha256")
                || (p.starts_with("envelopes/") && *p != pack::ENVELOPES)
        })
        .unwrap()
        .clone();
    let proof = files
        .keys()
        .find(|p| p.starts_with("proofs/"))
        .unwrap()
        .clone();

    // The manifest itself, after signing.
    let mut f = files.clone();
    edit_json(&mut f, pack::MANIFEST, |m| {
        m["at"] = json!("2020-01-01T00:00:00Z")
    });
    assert!(problems(&f).contains("manifest.json was changed after it was signed"));

    // Each part, changed without touching the manifest: its digest no longer matches.
    for path in [
        pack::POSTURE,
        pack::AUDIT,
        envelope.as_str(),
        proof.as_str(),
    ] {
        let mut f = files.clone();
        f.get_mut(path).unwrap().extend_from_slice(b" ");
        let found = problems(&f);
        assert!(
            found.contains(&format!("{path}: digest")),
            "{path}: {found}"
        );
    }

    // Each part changed and the manifest re-signed: the part's own check catches it.
    let mut f = files.clone();
    edit_json(&mut f, &envelope, |e| {
        let b64 = base64::engine::general_purpose::STANDARD;
        let payload = b64.decode(e["payload"].as_str().unwrap()).unwrap();
        // Another artifact digest: what a forger claims was built.
        let text = String::from_utf8(payload)
            .unwrap()
            .replacen("abab", "cdcd", 1);
        assert!(text.contains("cdcd"));
        e["payload"] = json!(b64.encode(text));
    });
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(
        found.contains(&format!("{envelope}: the envelope's digest is")),
        "{found}"
    );

    let mut f = files.clone();
    f.insert(proof.clone(), b"minutes of another review".to_vec());
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(found.contains(&format!("{proof} has digest")), "{found}");

    let mut f = files.clone();
    edit_json(&mut f, pack::AUDIT, |a| {
        a["events"][0]["actor"] = json!("mallory")
    });
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(
        found.contains("audit.json: event 1: event 1 was modified"),
        "{found}"
    );

    let mut f = files.clone();
    edit_json(&mut f, pack::AUDIT, |a| {
        a["events"].as_array_mut().unwrap().pop();
    });
    reseal(&mut f, &attacker);
    assert!(problems(&f).contains("head is event"));

    let mut f = files.clone();
    edit_json(&mut f, pack::POSTURE, |p| {
        for c in p["cells"].as_array_mut().unwrap() {
            if c["cell"]["status"] == "GRACE" {
                c["cell"]["status"] = json!("PASSED");
                c["cell"]["passing"] = json!(true);
            }
        }
    });
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(
        found.contains("cell scanned / web differs (")
            && found.contains("status: pack says \"PASSED\", facts give \"GRACE\""),
        "{found}"
    );

    // Facts changed to fit a forged posture still have to match signed envelopes.
    let mut f = files.clone();
    edit_json(&mut f, pack::FACTS, |facts| {
        for p in facts["projects"].as_array_mut().unwrap() {
            for e in p["evaluations"].as_array_mut().unwrap() {
                e["attestation"] = json!(format!("sha256:{}", "0".repeat(64)));
            }
        }
    });
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(found.contains("have no envelope in the pack"), "{found}");

    // A file slipped into the pack.
    let mut f = files.clone();
    f.insert("extra.txt".into(), b"hi".to_vec());
    assert!(problems(&f).contains("extra.txt: not listed in the manifest"));
}

fn oscal_schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!(
        "../data/oscal/oscal_assessment-results_schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&schema).expect("NIST's schema compiles")
}

fn assert_valid_oscal(files: &Files) -> Value {
    let document: Value = serde_json::from_slice(&files[pack::OSCAL]).unwrap();
    let errors: Vec<String> = oscal_schema()
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "OSCAL schema violations:\n{}",
        errors.join("\n")
    );
    document
}

#[tokio::test]
async fn the_pack_carries_oscal_assessment_results_valid_against_nists_schema() {
    let server = Server::sqlite().await;
    let files = pack_of_portal(&server).await;
    let doc = assert_valid_oscal(&files);
    let result = &doc["assessment-results"]["results"][0];
    let finding = |r: &str| {
        result["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["target"]["target-id"] == r)
            .unwrap()
            .clone()
    };
    // scanned: web is in GRACE, which counts as passing.
    assert_eq!(finding("scanned")["target"]["status"]["state"], "satisfied");
    assert_eq!(
        finding("reviewed")["target"]["status"]["state"],
        "satisfied"
    );
    // Observations point at files of the pack.
    let hrefs: Vec<&str> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["relevant-evidence"].as_array().into_iter().flatten())
        .map(|e| e["href"].as_str().unwrap())
        .collect();
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("envelopes/") && files.contains_key(*h)),
        "{hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("proofs/") && files.contains_key(*h)),
        "{hrefs:?}"
    );
    // And a schema violation is caught (the test would notice a broken document).
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        json!("fine");
    assert!(!oscal_schema().is_valid(&broken));
}

#[tokio::test]
async fn ssdf_findings_carry_nists_control_ids() {
    let server = Server::sqlite().await;
    ok(
        &server,
        Method::PATCH,
        "/api/v1/orgs/default/settings",
        Some(json!({"in_preview_frameworks": true})),
    )
    .await;
    let product = "apiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: tool}\nspec:\n  projects: [cli]\n  versions: [{name: \"1\", frameworks: [ssdf]}]\n";
    let (status, body) = server
        .apply("default", &server.admin, "p.yaml", product)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/products/tool/report?framework=ssdf",
        None,
    )
    .await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let files: Files = answer["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                b64.decode(f["content"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    assert!(pack::verify(&files, None).ok());
    let doc = assert_valid_oscal(&files);
    let targets: Vec<&str> = doc["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"]["target-id"].as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), 42, "{targets:?}");
    assert!(
        targets.contains(&"PW.1.1") && targets.contains(&"PO.1.1"),
        "{targets:?}"
    );
}

/// Issue 18 item 4: the pack scores each framework per section, as the status answer
/// does; the report shows them, and `verify` recomputes them from the facts.
#[tokio::test]
async fn the_pack_scores_each_section_and_verify_recomputes_them() {
    let server = Server::sqlite().await;
    let fw = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: fw}\nspec:\n  sections:\n    - name: Build\n      requirements: [{ref: scanned}, {ref: tested}]\n    - name: Governance\n      requirements: [{ref: reviewed}]\n";
    setup_portal(&server).await;
    let (status, body) = server.apply("default", &server.admin, "fw.yaml", fw).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let status = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/products/portal/status?version=1.0",
        None,
    )
    .await;
    let answer = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/products/portal/report?version=1.0",
        None,
    )
    .await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let files: Files = answer["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                b64.decode(f["content"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    let report = pack::verify(&files, None);
    assert!(report.ok(), "{report:?}");
    let posture: Value = serde_json::from_slice(&files[pack::POSTURE]).unwrap();
    let sections = &posture["frameworks"][0]["sections"];
    let names: Vec<&str> = sections
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Build", "Governance"], "{posture}");
    // The same numbers as the status answer's sections.
    for (packed, live) in sections
        .as_array()
        .unwrap()
        .iter()
        .zip(status["frameworks"][0]["sections"].as_array().unwrap())
    {
        for field in ["section", "score", "passing", "counted"] {
            assert_eq!(packed[field], live[field], "{field}: {packed} {live}");
        }
    }
    // Build: api and web for two requirements (web's tested is excepted, not counted).
    assert_eq!(
        (
            sections[0]["passing"].as_u64(),
            sections[0]["counted"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(
        (
            sections[1]["passing"].as_u64(),
            sections[1]["counted"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let html = String::from_utf8(files[pack::REPORT].clone()).unwrap();
    assert!(
        html.contains("<td>Governance</td><td>100% (1 of 1 counted cells passing)</td>"),
        "{html}"
    );

    // A section's score changed and the manifest re-signed: recomputation catches it.
    let attacker = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let mut f = files.clone();
    edit_json(&mut f, pack::POSTURE, |p| {
        p["frameworks"][0]["sections"][1]["passing"] = json!(0);
    });
    reseal(&mut f, &attacker);
    let found = problems(&f);
    assert!(found.contains("per-section scores differ"), "{found}");
}
