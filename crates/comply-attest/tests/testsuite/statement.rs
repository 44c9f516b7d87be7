//! Statements and the Chainloop predicate on hand-made inputs; rendering roundtrips.

use std::collections::BTreeMap;

use comply_attest::{
    AttestError, ChainloopPredicate, EvaluationsForm, Finding, FindingKind, KeyAlgorithm, Material,
    Metadata, PolicyEvaluation, PolicyEvaluationBundle, PolicyEvaluationsRef, PolicyReference,
    ResourceDescriptor, SigningKey, StatementVersion, TrustStore, Violation, parse_envelope,
    parse_statement, render_statement, sign, verify,
};
use serde_json::{Map, json};
use sha2::{Digest, Sha256};

use crate::support::{ms, statement_json};

#[test]
fn minimal_statement_decodes() {
    let statement = parse_statement(&statement_json()).unwrap();
    assert_eq!(statement.version, StatementVersion::V1);
    assert_eq!(statement.subjects.len(), 1);
    assert_eq!(
        statement.subjects[0].name.as_deref(),
        Some("chainloop.workflow.build")
    );
    let predicate = statement.chainloop_predicate().unwrap();
    assert_eq!(predicate.metadata.workflow, "build");
    assert_eq!(predicate.metadata.project.as_deref(), Some("api"));
    assert_eq!(
        predicate.metadata.project_version.as_deref(),
        Some("v1.2.0")
    );
    assert_eq!(predicate.metadata.project_version_prerelease, None);
    assert_eq!(
        predicate.metadata.finished_at_ms,
        Some(ms("2026-08-01T10:05:00.250Z"))
    );
    assert_eq!(predicate.runner_type.as_deref(), Some("GITHUB_ACTION"));
    assert_eq!(predicate.policy_evaluations_form, None);
}

#[test]
fn snake_case_statement_and_predicate_keys_are_read() {
    let payload = json!({
        "type": "https://in-toto.io/Statement/v0.1",
        "predicate_type": "chainloop.dev/attestation/v0.2",
        "subject": [],
        "predicate": {
            "metadata": {
                "workflow_name": "wf", "project_version": "1.0", "project_version_prerelease": false,
                "contract_version": "7", "finished_at": "2024-01-01T00:00:00+02:00",
                "workflow_run_id": "run-1"
            },
            "runner_type": "GITLAB",
            "policy_evaluations": {
                "sbom": [{"name": "p", "policy_reference": {"name": "p", "digest": {"sha256": "aa"}},
                          "skip_reasons": ["x"], "skipped": true}]
            },
            "policy_evaluations_ref": {"name": "policy-evaluations", "digest": {"sha256": "bb"},
                                       "media_type": "application/json"}
        }
    });
    let statement = parse_statement(&serde_json::to_vec(&payload).unwrap()).unwrap();
    assert_eq!(statement.version, StatementVersion::V0_1);
    let predicate = statement.chainloop_predicate().unwrap();
    assert_eq!(predicate.metadata.workflow, "wf");
    assert_eq!(predicate.metadata.project_version.as_deref(), Some("1.0"));
    assert_eq!(predicate.metadata.project_version_prerelease, Some(false));
    assert_eq!(predicate.metadata.contract_revision.as_deref(), Some("7"));
    assert_eq!(predicate.metadata.workflow_run_id.as_deref(), Some("run-1"));
    assert_eq!(
        predicate.metadata.finished_at_ms,
        Some(ms("2023-12-31T22:00:00Z"))
    );
    assert_eq!(predicate.runner_type.as_deref(), Some("GITLAB"));
    let evaluation = &predicate.policy_evaluations[0];
    assert_eq!(evaluation.material_name.as_deref(), Some("sbom"));
    assert_eq!(
        evaluation
            .policy_reference
            .as_ref()
            .unwrap()
            .digest
            .as_deref(),
        Some("sha256:aa")
    );
    assert_eq!(evaluation.skip_reasons, ["x"]);
    assert_eq!(
        predicate.policy_evaluations_ref,
        Some(PolicyEvaluationsRef {
            name: "policy-evaluations".into(),
            digest: "sha256:bb".into(),
            media_type: Some("application/json".into()),
        })
    );
}

#[test]
fn unknown_statement_and_predicate_types_are_named() {
    let error = parse_statement(br#"{"_type": "https://example.com/Statement/v9"}"#).unwrap_err();
    assert!(
        matches!(&error, AttestError::UnknownStatementType { found } if found.contains("v9")),
        "{error}"
    );
    let statement = parse_statement(
        br#"{"_type": "https://in-toto.io/Statement/v1", "subject": [],
             "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}"#,
    )
    .unwrap();
    let error = statement.chainloop_predicate().unwrap_err();
    assert_eq!(
        error,
        AttestError::UnknownPredicateType {
            found: "https://slsa.dev/provenance/v1".into()
        }
    );
    assert!(error.to_string().contains("https://slsa.dev/provenance/v1"));
}

#[test]
fn statement_errors_say_where() {
    let error = parse_statement(b"not json").unwrap_err();
    assert!(matches!(error, AttestError::NotAStatement(_)), "{error}");
    let error = parse_statement(br#"{"_type": "https://in-toto.io/Statement/v1", "subject": {}}"#)
        .unwrap_err();
    assert!(
        error.to_string().contains("subject: expected an array"),
        "{error}"
    );
}

#[test]
fn predicate_errors_name_the_json_path() {
    let predicate = json!({"metadata": {"name": "wf", "finishedAt": "yesterday"}});
    let error = ChainloopPredicate::from_json(&predicate).unwrap_err();
    assert!(
        matches!(&error, AttestError::InvalidPredicate { path, .. } if path == "predicate.metadata.finishedAt"),
        "{error}"
    );
    let predicate = json!({"metadata": {"name": "wf"},
                           "materials": [{"annotations": {"chainloop.material.type": "STRING"}}]});
    let error = ChainloopPredicate::from_json(&predicate).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("predicate.materials[0].annotations.chainloop.material.name"),
        "{error}"
    );
    let error = ChainloopPredicate::from_json(&json!({})).unwrap_err();
    assert!(error.to_string().contains("predicate.metadata"), "{error}");
    let predicate =
        json!({"metadata": {"name": "wf"}, "policyEvaluations": {"sbom": [{"name": 3}]}});
    let error = ChainloopPredicate::from_json(&predicate).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("predicate.policyEvaluations.sbom[0].name"),
        "{error}"
    );
}

fn full_predicate() -> ChainloopPredicate {
    let mut image_annotations = Map::new();
    image_annotations.insert("chainloop.material.image.tag".into(), "v1".into());
    image_annotations.insert(
        "chainloop.material.image.is_latest_tag".into(),
        false.into(),
    );
    ChainloopPredicate {
        build_type: Some(comply_attest::CHAINLOOP_BUILD_TYPE.into()),
        builder_id: Some("comply/0.1.0".into()),
        metadata: Metadata {
            workflow: "build".into(),
            workflow_id: Some("wf-1".into()),
            workflow_run_id: Some("run-1".into()),
            project: Some("api".into()),
            project_version: Some("v1.2.0".into()),
            project_version_prerelease: Some(true),
            contract_name: Some("api-build".into()),
            contract_revision: Some("3".into()),
            organization: Some("acme".into()),
            team: None,
            initialized_at_ms: Some(ms("2026-08-01T10:00:00.123Z")),
            finished_at_ms: Some(ms("2026-08-01T10:05:00Z")),
        },
        runner_type: Some("GITHUB_ACTION".into()),
        runner_url: Some("https://github.com/acme/api/actions/runs/1".into()),
        env: BTreeMap::from([("GITHUB_REF".to_string(), "refs/heads/main".to_string())]),
        annotations: BTreeMap::from([("team".to_string(), "payments".to_string())]),
        materials: vec![
            Material {
                name: "image".into(),
                kind: "CONTAINER_IMAGE".into(),
                artifact: Some("ghcr.io/acme/api".into()),
                digest: BTreeMap::from([("sha256".to_string(), "ab".repeat(32))]),
                annotations: image_annotations,
                ..Material::default()
            },
            Material {
                name: "build-ref".into(),
                kind: "STRING".into(),
                content: Some(b"a-string".to_vec()),
                ..Material::default()
            },
            Material {
                name: "sbom".into(),
                kind: "SBOM_CYCLONEDX_JSON".into(),
                artifact: Some("sbom.cdx.json".into()),
                digest: BTreeMap::from([("sha256".to_string(), "cd".repeat(32))]),
                uploaded_to_cas: true,
                ..Material::default()
            },
        ],
        policy_evaluations: vec![
            PolicyEvaluation {
                name: "vulnerabilities".into(),
                material_name: Some("sbom".into()),
                description: Some("No high vulnerabilities".into()),
                annotations: BTreeMap::from([("category".to_string(), "security".to_string())]),
                policy_reference: Some(PolicyReference {
                    name: "vulnerabilities".into(),
                    digest: Some(format!("sha256:{}", "ef".repeat(32))),
                    uri: Some("comply://builtin/vulnerabilities".into()),
                    org: Some("acme".into()),
                }),
                group_reference: None,
                with: BTreeMap::from([("severity".to_string(), "HIGH".to_string())]),
                kind: Some("SBOM_CYCLONEDX_JSON".into()),
                violations: vec![
                    Violation {
                        subject: "vulnerabilities".into(),
                        message: "CVE-2022-22965 (CRITICAL) in spring-beans".into(),
                        finding: Some(Finding {
                            kind: FindingKind::Vulnerability,
                            data: json!({"externalId": "CVE-2022-22965", "severity": "CRITICAL",
                                         "packagePurl": "pkg:maven/org.springframework/spring-beans@5.3.17"}),
                        }),
                        suppressed: false,
                    },
                    Violation {
                        subject: "vulnerabilities".into(),
                        message: "accepted risk".into(),
                        finding: None,
                        suppressed: true,
                    },
                ],
                skipped: false,
                skip_reasons: vec![],
                requirements: vec!["acme/ssdf/PS.3.2@1.1".into()],
                gate: true,
            },
            PolicyEvaluation {
                name: "source-commit".into(),
                material_name: None,
                kind: Some("ATTESTATION".into()),
                skipped: true,
                skip_reasons: vec!["no git subject".into()],
                ..PolicyEvaluation::default()
            },
        ],
        policy_evaluations_form: Some(EvaluationsForm::Map),
        policy_evaluations_ref: None,
        policy_check_blocking_strategy: Some("ADVISORY".into()),
        policy_block_bypass_enabled: false,
        policy_att_blocked: false,
    }
}

fn subjects() -> Vec<ResourceDescriptor> {
    vec![ResourceDescriptor {
        name: Some("chainloop.workflow.build".into()),
        digest: BTreeMap::from([("sha256".to_string(), "12".repeat(32))]),
        ..ResourceDescriptor::default()
    }]
}

#[test]
fn rendered_statement_parses_back_to_the_same_predicate() {
    let predicate = full_predicate();
    let bytes = render_statement(&subjects(), &predicate);
    let statement = parse_statement(&bytes).unwrap();
    assert_eq!(statement.version, StatementVersion::V1);
    assert_eq!(statement.subjects, subjects());
    assert_eq!(statement.chainloop_predicate().unwrap(), predicate);

    let mut as_list = predicate.clone();
    as_list.policy_evaluations_form = Some(EvaluationsForm::List);
    as_list.policy_evaluations_ref = Some(PolicyEvaluationsRef {
        name: "policy-evaluations".into(),
        digest: format!("sha256:{}", "99".repeat(32)),
        media_type: Some("application/vnd.chainloop.policy-evaluations.v1+json".into()),
    });
    let statement = parse_statement(&render_statement(&subjects(), &as_list)).unwrap();
    assert_eq!(statement.chainloop_predicate().unwrap(), as_list);
}

#[test]
fn rendered_predicate_has_chainloop_shape_and_counters() {
    let bytes = render_statement(&subjects(), &full_predicate());
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(value["predicateType"], "chainloop.dev/attestation/v0.2");
    let p = &value["predicate"];
    assert_eq!(p["metadata"]["finishedAt"], "2026-08-01T10:05:00Z");
    assert_eq!(p["metadata"]["initializedAt"], "2026-08-01T10:00:00.123Z");
    assert_eq!(p["metadata"]["contractVersion"], "3");
    assert_eq!(
        p["materials"][0]["annotations"]["chainloop.material.name"],
        "image"
    );
    assert_eq!(p["materials"][1]["content"], "YS1zdHJpbmc=");
    assert_eq!(
        p["materials"][2]["annotations"]["chainloop.material.cas"],
        true
    );
    let sbom = &p["policyEvaluations"]["sbom"][0];
    assert_eq!(sbom["policyReference"]["digest"]["sha256"], "ef".repeat(32));
    assert_eq!(
        sbom["policyReference"]["annotations"]["organization"],
        "acme"
    );
    assert_eq!(
        sbom["violations"][0]["vulnerability"]["externalId"],
        "CVE-2022-22965"
    );
    assert_eq!(sbom["violations"][1]["suppress"], true);
    assert_eq!(sbom["gate"], true);
    assert_eq!(
        p["policyEvaluations"]["CHAINLOOP.ATTESTATION"][0]["skipped"],
        true
    );
    assert_eq!(p["policyEvaluationsCount"], 2);
    assert_eq!(p["policyViolationsCount"], 1);
    assert_eq!(p["policyHasViolations"], true);
    assert_eq!(p["policySkippedCount"], 1);
    assert_eq!(p["policySuppressedCount"], 1);
    assert!(p.get("policyPassedCount").is_none());
    assert_eq!(p["policyHasGatedViolations"], true);
    assert_eq!(p["policyHasGates"], true);
}

#[test]
fn attest_flow_signs_what_ingestion_reads() {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let predicate = full_predicate();
    let envelope = sign(
        comply_attest::IN_TOTO_PAYLOAD_TYPE,
        &render_statement(&subjects(), &predicate),
        &key,
    );
    let signed = parse_envelope(&envelope).unwrap();
    let statement = parse_statement(&signed.payload).unwrap();
    let decoded = statement.chainloop_predicate().unwrap();
    assert_eq!(decoded, predicate);
    let trust = TrustStore::new().with_key("ci", key.public());
    verify(&signed, &trust, decoded.metadata.finished_at_ms.unwrap()).unwrap();
}

fn evaluation_bundle() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "policyEvaluations": [{
            "name": "vulnerabilities",
            "materialName": "sbom",
            "type": "SBOM_CYCLONEDX_JSON",
            "with": {"severity": "HIGH"},
            "policyReference": {"name": "vulnerabilities", "digest": "sha256:0123", "uri": "chainloop://x/vulnerabilities", "orgName": "acme"},
            "violations": [
                {"subject": "vulnerabilities", "message": "CVE-1", "vulnerability": {"externalId": "CVE-1", "severity": "HIGH"}},
                {"subject": "vulnerabilities", "message": "suppressed", "suppress": true},
                {"subject": "vulnerabilities", "message": "GPL", "license_violation": {"licenseId": "GPL-3.0"}}
            ],
            "requirements": ["acme/r@1"],
            "gate": true
        }]
    }))
    .unwrap()
}

#[test]
fn policy_evaluation_bundle_is_checked_and_decoded() {
    let bytes = evaluation_bundle();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let bundle = PolicyEvaluationBundle::parse(&bytes, &digest).unwrap();
    assert_eq!(bundle.form, EvaluationsForm::List);
    let evaluation = &bundle.evaluations[0];
    assert_eq!(evaluation.material_name.as_deref(), Some("sbom"));
    let reference = evaluation.policy_reference.as_ref().unwrap();
    assert_eq!(reference.digest.as_deref(), Some("sha256:0123"));
    assert_eq!(reference.org.as_deref(), Some("acme"));
    assert_eq!(
        evaluation.violations[0].finding.as_ref().unwrap().kind,
        FindingKind::Vulnerability
    );
    assert_eq!(
        evaluation.violations[0].finding.as_ref().unwrap().data["severity"],
        "HIGH"
    );
    assert!(evaluation.violations[1].suppressed);
    assert_eq!(
        evaluation.violations[2].finding.as_ref().unwrap().kind,
        FindingKind::LicenseViolation
    );
    assert!(evaluation.gate);
    // A bare hex digest, as in a ResourceDescriptor, is accepted too.
    assert!(PolicyEvaluationBundle::parse(&bytes, digest.trim_start_matches("sha256:")).is_ok());
}

/// Chainloop's CLI uploads `protojson.Marshal(&PolicyEvaluationBundle{Evaluations: …})`
/// (app/cli/pkg/action/attestation_push.go): the list is under `evaluations`, each one
/// in the crafting state's protojson (enum names for `type`, ResourceDescriptor refs).
#[test]
fn chainloop_uploaded_bundle_is_decoded() {
    let bytes = serde_json::to_vec(&json!({"evaluations": [{
        "name": "sbom-present",
        "materialName": "sbom",
        "type": "SBOM_CYCLONEDX_JSON",
        "policyReference": {"name": "sbom-present", "digest": {"sha256": "ab12"},
                            "annotations": {"name": "sbom-present", "organization": "acme"}},
        "violations": [{"subject": "sbom-present", "message": "no components"}],
        "skipped": false
    }]}))
    .unwrap();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let bundle = PolicyEvaluationBundle::parse(&bytes, &digest).unwrap();
    assert_eq!(bundle.evaluations.len(), 1);
    let e = &bundle.evaluations[0];
    assert_eq!(e.material_name.as_deref(), Some("sbom"));
    assert_eq!(e.violations[0].message, "no components");
    let reference = e.policy_reference.as_ref().unwrap();
    assert_eq!(reference.digest.as_deref(), Some("sha256:ab12"));
    assert_eq!(reference.org.as_deref(), Some("acme"));
    let empty = br#"{"something": []}"#;
    let digest = hex::encode(Sha256::digest(empty));
    let error = PolicyEvaluationBundle::parse(empty, &digest).unwrap_err();
    assert!(error.to_string().contains("evaluations"), "{error}");
}

#[test]
fn policy_evaluation_bundle_with_another_digest_is_refused() {
    let bytes = evaluation_bundle();
    let error =
        PolicyEvaluationBundle::parse(&bytes, &format!("sha256:{}", "00".repeat(32))).unwrap_err();
    assert!(
        matches!(error, AttestError::DigestMismatch { .. }),
        "{error}"
    );

    let binary = b"\x0a\x05hello";
    let digest = hex::encode(Sha256::digest(binary));
    let error = PolicyEvaluationBundle::parse(binary, &digest).unwrap_err();
    assert!(error.to_string().contains("binary protobuf"), "{error}");
}

#[test]
fn material_helpers() {
    let predicate = full_predicate();
    assert_eq!(
        predicate.materials[0].sha256(),
        Some(format!("sha256:{}", "ab".repeat(32)))
    );
    assert_eq!(predicate.materials[1].value(), Some("a-string"));
    assert_eq!(predicate.materials[1].sha256(), None);
}

#[test]
fn string_violations_from_policy_engines_are_kept() {
    let predicate = json!({"metadata": {"name": "wf"}, "policyEvaluations": [
        {"name": "p", "violations": ["plain message"]}
    ]});
    let decoded = ChainloopPredicate::from_json(&predicate).unwrap();
    assert_eq!(decoded.policy_evaluations_form, Some(EvaluationsForm::List));
    assert_eq!(
        decoded.policy_evaluations[0].violations,
        vec![Violation {
            subject: "p".into(),
            message: "plain message".into(),
            finding: None,
            suppressed: false
        }]
    );
}
