//! The real attestations in `../shared/fixtures` (read in place, never copied into the
//! repository), each with the outcome `shared/fixtures/README.md` records for it. Every
//! test returns early, after printing a line, when the shared folder is absent.

use comply_attest::{
    AttestError, Certificate, ChainloopPredicate, EvaluationsForm, Format, PublicKey, Signed,
    StatementVersion, TrustStore, VerifiedBy, parse_envelope, parse_statement, verify,
    verify_chain, verify_with_key,
};
use serde_json::Value;

use crate::support::{fixture, fixture_text, fixtures_dir, ms, unb64};

const DIR: &str = "chainloop-attestations";

fn envelope(name: &str) -> Option<Signed> {
    let bytes = fixture(&format!("{DIR}/{name}"))?;
    Some(parse_envelope(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn predicate_of(signed: &Signed) -> ChainloopPredicate {
    parse_statement(&signed.payload)
        .unwrap()
        .chainloop_predicate()
        .unwrap()
}

fn plain_predicate(name: &str) -> Option<(comply_attest::Statement, ChainloopPredicate)> {
    let bytes = fixture(&format!("{DIR}/{name}"))?;
    let statement = parse_statement(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let predicate = statement
        .chainloop_predicate()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Some((statement, predicate))
}

fn chainloop_ca() -> Option<Certificate> {
    Some(Certificate::from_pem(&fixture_text(&format!("{DIR}/verifier-ca.pem"))?).unwrap())
}

fn cosign_key() -> Option<PublicKey> {
    Some(PublicKey::from_pem(&fixture_text(&format!("{DIR}/cosign.pub"))?).unwrap())
}

/// Every file of the folder has a test below: a new fixture must get one too.
#[test]
fn every_chainloop_fixture_is_covered() {
    let dir = fixtures_dir().join(DIR);
    if !dir.is_dir() {
        crate::support::skip(&format!("{} is absent", dir.display()));
        return;
    }
    let covered = [
        "attestation-dsse-invalid-payload.json",
        "biz-full-with-policy-evaluations-ref.dsse.json",
        "biz-full.dsse.json",
        "chainloop_attestation.sigstore.json",
        "cosign-attestation.dsse.json",
        "cosign.pub",
        "policies-statement.json",
        "policies-statement_gitlab.json",
        "renderer-attestation-pe-snake.json",
        "renderer-attestation.output.v2.json",
        "renderer-cert.pem",
        "renderer-unknown.envelope.json",
        "renderer-valid.envelope.v2.json",
        "verifier-bundle_invalid.sigstore.json",
        "verifier-bundle_valid.sigstore.json",
        "verifier-bundle_valid_nomaterial.sigstore.json",
        "verifier-bundle_with_publickey.sigstore.json",
        "verifier-ca.pem",
        "verifier-dsse_envelope.json",
    ];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(covered.contains(&name.as_str()), "no test covers {name}");
    }
}

#[test]
fn verifier_bundle_valid_verifies_against_the_ca_at_signing_time() {
    let (Some(signed), Some(ca)) = (
        envelope("verifier-bundle_valid.sigstore.json"),
        chainloop_ca(),
    ) else {
        return;
    };
    assert_eq!(signed.format, Format::Bundle);
    assert!(signed.signatures[0].double_encoded());
    assert_eq!(&signed.signatures[0].sig[..2], &[0x30, 0x45]);
    assert_eq!(signed.certificates.len(), 1);

    let predicate = predicate_of(&signed);
    let finished_at = predicate.metadata.finished_at_ms.unwrap();
    assert_eq!(finished_at, ms("2025-02-12T09:19:13.772Z"));
    let trust = TrustStore::new().with_ca("chainloop-test-ca", ca);
    let verified = verify(&signed, &trust, finished_at).unwrap();
    assert_eq!(
        verified.by,
        VerifiedBy::Certificate {
            ca: "chainloop-test-ca".into(),
            leaf_subject: "O=18c3f782-4936-4630-ab8d-20b511366699".into(),
            leaf_issuer: "CN=chainloop,OU=chainloop,O=Chainloop,ST=Some-State,C=ES".into(),
        }
    );
    assert_eq!(verified.signer, "O=18c3f782-4936-4630-ab8d-20b511366699");

    // The leaf lived ten minutes: checked at a later time, it is expired.
    let error = verify(&signed, &trust, ms("2025-06-01T00:00:00Z")).unwrap_err();
    assert!(
        matches!(&error, AttestError::CertificateNotValidAt { not_after, .. }
            if not_after == "2025-02-12T09:29:13Z"),
        "{error}"
    );

    // Its predicate: two attestation-level evaluations, one violation, no materials.
    assert!(predicate.materials.is_empty());
    assert_eq!(
        predicate.policy_evaluations_form,
        Some(EvaluationsForm::Map)
    );
    assert_eq!(predicate.policy_evaluations.len(), 2);
    assert!(
        predicate
            .policy_evaluations
            .iter()
            .all(|e| e.material_name.is_none() && e.kind.as_deref() == Some("ATTESTATION"))
    );
    let sbom_present = &predicate.policy_evaluations[1];
    assert_eq!(sbom_present.name, "sbom-present");
    assert_eq!(sbom_present.violations.len(), 1);
    assert_eq!(sbom_present.violations[0].message, "missing SBOM material");
    assert_eq!(sbom_present.violations[0].subject, "sbom-present");
    assert_eq!(
        sbom_present.group_reference.as_ref().unwrap().name,
        "sbom-quality"
    );
    let source_commit = &predicate.policy_evaluations[0];
    assert_eq!(
        source_commit.requirements,
        ["chainloop-best-practices/commit-signed"]
    );
    assert_eq!(source_commit.with["check_signature"], "true");
    let reference = source_commit.policy_reference.as_ref().unwrap();
    assert_eq!(
        reference.digest.as_deref(),
        Some("sha256:164bc322bf350d6bb45768c86db180f5315085c791adebaf09490f9cce99528c")
    );
    assert_eq!(
        reference.uri.as_deref(),
        Some("chainloop://localhost:8002/source-commit")
    );
    assert_eq!(reference.org, None);
    let metadata = &predicate.metadata;
    assert_eq!(metadata.workflow, "mywf");
    assert_eq!(metadata.project.as_deref(), Some("myproject"));
    assert_eq!(metadata.project_version.as_deref(), Some("v0.162.0"));
    assert_eq!(metadata.project_version_prerelease, Some(true));
    assert_eq!(metadata.contract_name.as_deref(), Some("myproject-mywf"));
    assert_eq!(metadata.contract_revision.as_deref(), Some("93"));
    assert_eq!(metadata.organization.as_deref(), Some("my-org"));
    assert_eq!(
        metadata.initialized_at_ms,
        Some(ms("2025-02-12T09:18:50.568Z"))
    );
    assert_eq!(
        predicate.policy_check_blocking_strategy.as_deref(),
        Some("ADVISORY")
    );
}

#[test]
fn verifier_bundle_invalid_does_not_verify() {
    let (Some(signed), Some(ca)) = (
        envelope("verifier-bundle_invalid.sigstore.json"),
        chainloop_ca(),
    ) else {
        return;
    };
    let finished_at = predicate_of(&signed).metadata.finished_at_ms.unwrap();
    let trust = TrustStore::new().with_ca("chainloop-test-ca", ca.clone());
    let error = verify(&signed, &trust, finished_at).unwrap_err();
    assert!(
        matches!(&error, AttestError::SignatureMismatch { signer }
            if signer.contains("O=18c3f782-4936-4630-ab8d-20b511366699")),
        "{error}"
    );
    // The certificate itself is fine: only the signature is corrupted.
    let cas = [("ca".to_string(), ca)];
    assert!(verify_chain(&signed.certificates, &cas, finished_at).is_ok());
}

#[test]
fn verifier_bundle_without_material_is_unverifiable() {
    let (Some(signed), Some(ca)) = (
        envelope("verifier-bundle_valid_nomaterial.sigstore.json"),
        chainloop_ca(),
    ) else {
        return;
    };
    assert!(signed.certificates.is_empty());
    assert_eq!(signed.public_key_hint, None);
    let trust = TrustStore::new().with_ca("chainloop-test-ca", ca);
    let error = verify(&signed, &trust, 0).unwrap_err();
    assert_eq!(
        error,
        AttestError::NoTrustedKey {
            keyids: vec![],
            hint: None,
            tried: 0
        }
    );
    let predicate = predicate_of(&signed);
    assert_eq!(predicate.policy_evaluations.len(), 2);
    let violations: usize = predicate
        .policy_evaluations
        .iter()
        .map(|e| e.violations.len())
        .sum();
    assert_eq!(violations, 1);
}

#[test]
fn verifier_bundle_with_public_key_hint_only() {
    let (Some(signed), Some(key)) = (
        envelope("verifier-bundle_with_publickey.sigstore.json"),
        cosign_key(),
    ) else {
        return;
    };
    assert_eq!(signed.public_key_hint.as_deref(), Some("some-key-hint"));
    assert!(signed.certificates.is_empty());
    assert!(signed.signatures[0].double_encoded());
    let trust = TrustStore::new().with_key("cosign", key);
    let error = verify(&signed, &trust, 0).unwrap_err();
    assert!(
        matches!(&error, AttestError::NoTrustedKey { hint: Some(hint), tried: 1, .. } if hint == "some-key-hint"),
        "{error}"
    );
    assert!(error.to_string().contains("some-key-hint"));
    // Its payload is a bare `{"_type": ...}`: no predicate type.
    assert!(matches!(
        parse_statement(&signed.payload),
        Err(AttestError::NotAStatement(_))
    ));
}

#[test]
fn verifier_dsse_envelope_has_an_undecodable_signature() {
    let Some(bytes) = fixture(&format!("{DIR}/verifier-dsse_envelope.json")) else {
        return;
    };
    let error = parse_envelope(&bytes).unwrap_err();
    assert!(
        matches!(error, AttestError::BadSignature { index: 0, .. }),
        "{error}"
    );
}

#[test]
fn invalid_payload_is_bad_base64() {
    let Some(bytes) = fixture(&format!("{DIR}/attestation-dsse-invalid-payload.json")) else {
        return;
    };
    let error = parse_envelope(&bytes).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadBase64 { field, .. } if field == "payload"),
        "{error}"
    );
}

#[test]
fn chainloop_attestation_bundle_has_seven_evaluations_and_a_valid_leaf_signature() {
    let (Some(signed), Some(ca)) = (
        envelope("chainloop_attestation.sigstore.json"),
        chainloop_ca(),
    ) else {
        return;
    };
    assert!(signed.signatures[0].double_encoded());
    let leaf = signed.leaf().unwrap();
    assert!(
        leaf.issuer().contains("O=chainloop.dev"),
        "{}",
        leaf.issuer()
    );
    // The hosted CA is not in the fixtures: check the DSSE signature with the leaf key.
    assert_eq!(verify_with_key(&signed, &leaf.public_key().unwrap()), Ok(0));

    let predicate = predicate_of(&signed);
    let finished_at = predicate.metadata.finished_at_ms.unwrap();
    assert!(finished_at >= leaf.not_before_ms() && finished_at <= leaf.not_after_ms());
    // Trusting the test CA is not trusting the hosted one.
    let trust = TrustStore::new().with_ca("chainloop-test-ca", ca);
    let error = verify(&signed, &trust, finished_at).unwrap_err();
    assert!(
        matches!(&error, AttestError::UntrustedCertificate { issuer, .. }
            if issuer == "CN=chainloop,O=chainloop.dev"),
        "{error}"
    );
    // Trusting the leaf itself (pinning it) does verify the whole envelope.
    let pinned = TrustStore::new().with_ca("pinned", leaf.clone());
    assert!(verify(&signed, &pinned, finished_at).is_ok());

    assert_eq!(predicate.policy_evaluations.len(), 7);
    let by_material = |name: &str| {
        predicate
            .policy_evaluations
            .iter()
            .filter(|e| e.material_name.as_deref() == Some(name))
            .count()
    };
    assert_eq!(by_material("sbom"), 6);
    assert_eq!(by_material("vulnerability-report"), 1);
    assert!(
        predicate
            .policy_evaluations
            .iter()
            .all(|e| e.violations.is_empty())
    );
    let skipped: Vec<_> = predicate
        .policy_evaluations
        .iter()
        .filter(|e| e.skipped)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        skipped[0].skip_reasons,
        ["'vulnerabilities' field not found in the input"]
    );
    let with_requirements = predicate
        .policy_evaluations
        .iter()
        .filter(|e| !e.requirements.is_empty())
        .count();
    assert_eq!(with_requirements, 6);
    assert!(
        predicate.policy_evaluations[0]
            .requirements
            .contains(&"chainloop-best-practices/sbom-quality".to_string())
    );
    assert_eq!(predicate.materials.len(), 3);
    assert_eq!(predicate.metadata.project_version_prerelease, Some(false));
    assert_eq!(
        predicate.policy_check_blocking_strategy.as_deref(),
        Some("ENFORCED")
    );
    assert!(predicate.policy_block_bypass_enabled);
}

#[test]
fn cosign_attestation_verifies_with_cosign_pub() {
    let (Some(signed), Some(key)) = (envelope("cosign-attestation.dsse.json"), cosign_key()) else {
        return;
    };
    assert_eq!(key.algorithm(), comply_attest::KeyAlgorithm::EcdsaP256);
    assert_eq!(signed.format, Format::Dsse);
    assert_eq!(signed.signatures[0].keyid, None);
    let trust = TrustStore::new().with_key("cosign", key.clone());
    let verified = verify(&signed, &trust, 0).unwrap();
    assert_eq!(
        verified.by,
        VerifiedBy::Key {
            name: "cosign".into(),
            fingerprint: key.fingerprint()
        }
    );
    let predicate = predicate_of(&signed);
    assert_eq!(predicate.metadata.workflow, "mywf");
    assert_eq!(predicate.materials.len(), 1);
    assert!(predicate.materials[0].embedded);
    assert!(!predicate.materials[0].uploaded_to_cas);
    assert_eq!(
        predicate.materials[0].artifact.as_deref(),
        Some("evidence.txt")
    );

    // The PEM written back is the same key.
    assert_eq!(PublicKey::from_pem(&key.to_pem()).unwrap(), key);
}

#[test]
fn biz_full_parses() {
    let (Some(signed), Some(key)) = (envelope("biz-full.dsse.json"), cosign_key()) else {
        return;
    };
    let statement = parse_statement(&signed.payload).unwrap();
    assert_eq!(statement.version, StatementVersion::V0_1);
    assert_eq!(
        statement.subjects[0].name.as_deref(),
        Some("chainloop.dev/workflow/only-sbom")
    );
    let predicate = statement.chainloop_predicate().unwrap();
    assert_eq!(predicate.metadata.workflow, "only-sbom");
    assert_eq!(predicate.metadata.project.as_deref(), Some("foo"));
    assert_eq!(predicate.metadata.team, None);
    assert_eq!(
        predicate.metadata.finished_at_ms,
        Some(ms("2023-06-23T13:00:43.709Z"))
    );
    assert_eq!(
        predicate.runner_type.as_deref(),
        Some("RUNNER_TYPE_UNSPECIFIED")
    );
    assert_eq!(predicate.annotations["toplevel"], "true");
    assert_eq!(predicate.annotations["branch"], "stable");
    assert_eq!(predicate.env["owner"], "john-c@chainloop.dev");
    let kinds: Vec<&str> = predicate
        .materials
        .iter()
        .map(|m| m.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "CONTAINER_IMAGE",
            "SBOM_CYCLONEDX_JSON",
            "SBOM_CYCLONEDX_JSON"
        ]
    );
    let sbom = &predicate.materials[1];
    assert_eq!(sbom.name, "skynet-sbom");
    assert!(sbom.uploaded_to_cas);
    assert_eq!(sbom.annotations["component"], "nginx");
    assert_eq!(
        sbom.sha256().as_deref(),
        Some("sha256:16159bb881eb4ab7eb5d8afc5350b0feeed1e31c0a268e355e74f9ccbe885e0c")
    );
    assert!(predicate.policy_evaluations.is_empty());
    assert_eq!(predicate.policy_evaluations_form, None);
    // Not verifiable with any key in the fixtures.
    let trust = TrustStore::new().with_key("cosign", key);
    assert!(matches!(
        verify(&signed, &trust, 0),
        Err(AttestError::NoTrustedKey { tried: 1, .. })
    ));
}

#[test]
fn biz_full_with_policy_evaluations_ref() {
    let Some(signed) = envelope("biz-full-with-policy-evaluations-ref.dsse.json") else {
        return;
    };
    let predicate = predicate_of(&signed);
    assert!(predicate.policy_evaluations.is_empty());
    let reference = predicate.policy_evaluations_ref.unwrap();
    assert_eq!(reference.name, "policy-evaluations");
    assert_eq!(
        reference.digest,
        "sha256:aabbccdd00112233aabbccdd00112233aabbccdd00112233aabbccdd00112233"
    );
    assert_eq!(
        reference.media_type.as_deref(),
        Some("application/vnd.chainloop.policy-evaluations.v1+proto")
    );
}

#[test]
fn renderer_unknown_predicate_is_rejected() {
    let Some(signed) = envelope("renderer-unknown.envelope.json") else {
        return;
    };
    let statement = parse_statement(&signed.payload).unwrap();
    assert_eq!(
        statement.chainloop_predicate().unwrap_err(),
        AttestError::UnknownPredicateType {
            found: "unknown.company/attestation/v0.1".into()
        }
    );
}

#[test]
fn renderer_valid_envelope_parses_and_is_unverifiable() {
    let (Some(signed), Some(key)) = (envelope("renderer-valid.envelope.v2.json"), cosign_key())
    else {
        return;
    };
    let predicate = predicate_of(&signed);
    assert_eq!(predicate.materials.len(), 5);
    assert_eq!(predicate.env["CUSTOM_VAR"], "foobar");
    let string = predicate
        .materials
        .iter()
        .find(|m| m.kind == "STRING")
        .unwrap();
    assert_eq!(string.name, "stringvar");
    assert_eq!(string.value(), Some("helloworld"));
    assert_eq!(string.artifact, None);
    let inline = predicate
        .materials
        .iter()
        .find(|m| m.artifact.as_deref() == Some("inline-sbom.json"))
        .unwrap();
    assert!(inline.embedded);
    assert_eq!(inline.value(), Some("hello inline!"));
    let trust = TrustStore::new().with_key("cosign", key);
    assert!(matches!(
        verify(&signed, &trust, 0),
        Err(AttestError::NoTrustedKey { .. })
    ));
}

#[test]
fn policies_statements_are_plain_statements() {
    for (name, runner) in [
        ("policies-statement.json", "GITHUB_ACTION"),
        ("policies-statement_gitlab.json", "GITLAB"),
    ] {
        let Some((statement, predicate)) = plain_predicate(name) else {
            return;
        };
        // Not an envelope: ingestion must say so rather than guess.
        let bytes = fixture(&format!("{DIR}/{name}")).unwrap();
        assert!(matches!(
            parse_envelope(&bytes),
            Err(AttestError::NotAnEnvelope(reason)) if reason.contains("unsigned in-toto statement")
        ));
        assert_eq!(statement.version, StatementVersion::V1);
        assert_eq!(predicate.runner_type.as_deref(), Some(runner));
        assert_eq!(predicate.materials.len(), 17, "{name}");
        let count = |kind: &str| {
            predicate
                .materials
                .iter()
                .filter(|m| m.kind == kind)
                .count()
        };
        assert_eq!(count("ARTIFACT"), 11);
        assert_eq!(count("CONTAINER_IMAGE"), 3);
        assert_eq!(count("SBOM_CYCLONEDX_JSON"), 2);
        assert_eq!(count("HELM_CHART"), 1);
        let git = statement
            .subjects
            .iter()
            .find(|s| s.name.as_deref() == Some("git.head"))
            .unwrap();
        assert!(git.digest.contains_key("sha1"));
        assert!(git.annotations["remotes"].is_array());
        assert_eq!(
            predicate.metadata.organization.as_deref(),
            Some("read-only-demo")
        );
    }
}

#[test]
fn renderer_output_v2_uses_protojson_keys() {
    let Some((statement, predicate)) = plain_predicate("renderer-attestation.output.v2.json")
    else {
        return;
    };
    assert_eq!(statement.version, StatementVersion::V1);
    assert_eq!(predicate.materials.len(), 4);
    let build_ref = &predicate.materials[0];
    assert_eq!(
        (build_ref.name.as_str(), build_ref.kind.as_str()),
        ("build-ref", "STRING")
    );
    assert_eq!(build_ref.value(), Some("a-string"));
    assert_eq!(
        predicate.materials[2].annotations["chainloop.material.image.is_latest_tag"],
        Value::Bool(false)
    );
    assert_eq!(predicate.policy_evaluations.len(), 1);
    let evaluation = &predicate.policy_evaluations[0];
    assert_eq!(evaluation.name, "sbom-freshness");
    assert_eq!(evaluation.material_name.as_deref(), Some("sbom"));
    assert_eq!(evaluation.with["limit"], "5");
    assert_eq!(evaluation.annotations["category"], "sbom");
    assert_eq!(evaluation.violations.len(), 1);
    assert!(evaluation.violations[0].message.contains("too old"));
    assert_eq!(
        predicate.metadata.project_version.as_deref(),
        Some("v0.150.0")
    );
}

#[test]
fn renderer_snake_case_policy_evaluations_are_read() {
    let Some((_, predicate)) = plain_predicate("renderer-attestation-pe-snake.json") else {
        return;
    };
    assert_eq!(
        predicate.policy_evaluations_form,
        Some(EvaluationsForm::Map)
    );
    let evaluation = &predicate.policy_evaluations[0];
    assert_eq!(evaluation.name, "sbom-freshness");
    assert_eq!(evaluation.material_name.as_deref(), Some("sbom"));
    assert_eq!(evaluation.violations.len(), 1);
    let reference = evaluation.policy_reference.as_ref().unwrap();
    assert_eq!(
        reference.uri.as_deref(),
        Some("file://policy-sbom-freshness.yaml")
    );
    assert_eq!(
        reference.digest.as_deref(),
        Some("sha256:e9b750847ba8a5439a0a43963d22cb5c5a9568de5fdcd2db21d9615c76870c2a")
    );
}

#[test]
fn renderer_cert_chains_to_the_test_ca_at_its_time() {
    let (Some(pem), Some(ca)) = (
        fixture_text(&format!("{DIR}/renderer-cert.pem")),
        chainloop_ca(),
    ) else {
        return;
    };
    let leaf = Certificate::from_pem(&pem).unwrap();
    assert_eq!(leaf.not_after_ms() - leaf.not_before_ms(), 10 * 60 * 1000);
    let cas = [("chainloop-test-ca".to_string(), ca)];
    let issued = leaf.not_before_ms();
    assert_eq!(
        verify_chain(std::slice::from_ref(&leaf), &cas, issued + 1000),
        Ok("chainloop-test-ca".to_string())
    );
    assert!(matches!(
        verify_chain(
            std::slice::from_ref(&leaf),
            &cas,
            ms("2026-01-01T00:00:00Z")
        ),
        Err(AttestError::CertificateNotValidAt { .. })
    ));
}

#[test]
fn verifier_ca_is_an_rsa_ca_certificate() {
    let Some(ca) = chainloop_ca() else {
        return;
    };
    assert!(ca.is_ca());
    assert_eq!(ca.subject(), ca.issuer());
    assert_eq!(
        ca.subject(),
        "CN=chainloop,OU=chainloop,O=Chainloop,ST=Some-State,C=ES"
    );
    assert_eq!(
        ca.public_key().unwrap().algorithm(),
        comply_attest::KeyAlgorithm::Rsa
    );
    assert_eq!(ca.not_before_ms(), ms("2024-05-28T20:02:38Z"));
    // A certificate given as a key is refused with a hint.
    let pem = fixture_text(&format!("{DIR}/verifier-ca.pem")).unwrap();
    let error = PublicKey::from_pem(&pem).unwrap_err();
    assert!(error.to_string().contains("trust it as a CA"), "{error}");
}

// Sigstore bundles from other producers: chains to their trusted roots.

fn trusted_root_cas(name: &str) -> Option<Vec<(String, Certificate)>> {
    let bytes = fixture(&format!("sigstore/{name}"))?;
    let root: Value = serde_json::from_slice(&bytes).unwrap();
    let mut cas = Vec::new();
    for (index, authority) in root["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for certificate in authority["certChain"]["certificates"].as_array().unwrap() {
            let der = unb64(certificate["rawBytes"].as_str().unwrap());
            cas.push((
                format!("{name}#{index}"),
                Certificate::from_der(&der).unwrap(),
            ));
        }
    }
    Some(cas)
}

fn sigstore_bundle(name: &str) -> Option<(Signed, Value)> {
    let bytes = fixture(name)?;
    let signed = parse_envelope(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    Some((signed, value))
}

fn integrated_time_ms(bundle: &Value) -> i64 {
    let seconds: i64 = bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    seconds * 1000
}

#[test]
fn sigstore_public_good_bundle_verifies_against_its_trusted_root() {
    let (Some((signed, bundle)), Some(cas)) = (
        sigstore_bundle("sigstore/conformance-happy-path-intoto-in-dsse-v3.sigstore.json"),
        trusted_root_cas("public-good.trusted_root.json"),
    ) else {
        return;
    };
    let trust = TrustStore { keys: vec![], cas };
    let verified = verify(&signed, &trust, integrated_time_ms(&bundle)).unwrap();
    assert!(
        verified.signer.starts_with(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
        ),
        "{}",
        verified.signer
    );
    // Its statement is SLSA provenance, not Chainloop's predicate.
    let statement = parse_statement(&signed.payload).unwrap();
    assert!(matches!(
        statement.chainloop_predicate(),
        Err(AttestError::UnknownPredicateType { .. })
    ));
}

#[test]
fn sigstore_invalid_dsse_signature_is_a_mismatch() {
    let (Some((signed, bundle)), Some(cas)) = (
        sigstore_bundle("sigstore/conformance-dsse-invalid-sig_fail.sigstore.json"),
        trusted_root_cas("public-good.trusted_root.json"),
    ) else {
        return;
    };
    let trust = TrustStore { keys: vec![], cas };
    let error = verify(&signed, &trust, integrated_time_ms(&bundle)).unwrap_err();
    assert!(
        matches!(error, AttestError::SignatureMismatch { .. }),
        "{error}"
    );
}

#[test]
fn sigstore_v0_2_certificate_chain_with_custom_trust_root() {
    let (Some((signed, bundle)), Some(cas)) = (
        sigstore_bundle("sigstore/conformance-intoto-with-custom-trust-root.sigstore.json"),
        trusted_root_cas("conformance-intoto-with-custom-trust-root.trusted_root.json"),
    ) else {
        return;
    };
    assert_eq!(signed.certificates.len(), 1);
    let trust = TrustStore { keys: vec![], cas };
    let verified = verify(&signed, &trust, integrated_time_ms(&bundle)).unwrap();
    assert!(matches!(verified.by, VerifiedBy::Certificate { .. }));
}

#[test]
fn sigstore_rekor_v2_bundle_verifies_at_a_time_within_its_leaf() {
    let (Some((signed, _)), Some(cas)) = (
        sigstore_bundle("sigstore/conformance-rekor2-dsse-happy-path.sigstore.json"),
        trusted_root_cas("conformance-rekor2-dsse-happy-path.trusted_root.json"),
    ) else {
        return;
    };
    // Rekor v2 entries carry no integrated time (the time is in an RFC 3161 token).
    let during = signed.leaf().unwrap().not_before_ms() + 60_000;
    let trust = TrustStore { keys: vec![], cas };
    assert!(verify(&signed, &trust, during).is_ok());
}

#[test]
fn grype_attestation_verifies_with_its_cosign_key() {
    let (Some((signed, _)), Some(pem)) = (
        sigstore_bundle("sigstore/grype-alpine.cdx.att.json"),
        fixture_text("sigstore/grype-cosign.pub"),
    ) else {
        return;
    };
    let trust = TrustStore::new().with_key("grype", PublicKey::from_pem(&pem).unwrap());
    assert!(verify(&signed, &trust, 0).is_ok());
}

#[test]
fn other_provenance_bundles_verify_against_their_embedded_leaf() {
    for name in [
        "slsa-provenance/chainloop-slsa_provenance.sigstore.json",
        "slsa-provenance/slsa-verifier-bcr-rules_lint-v1.3.1.intoto.jsonl",
        "slsa-provenance/slsa-verifier-gha_container-based-v2.1.0-push-v14.build.slsa",
        // A bare DSSE envelope with the certificate next to the signature.
        "slsa-provenance/slsa-verifier-gha_generic-v1.2.1-push-v14.intoto.jsonl",
    ] {
        let Some((signed, _)) = sigstore_bundle(name) else {
            return;
        };
        let leaf = signed
            .leaf()
            .unwrap_or_else(|| panic!("{name}: no certificate"));
        assert_eq!(
            verify_with_key(&signed, &leaf.public_key().unwrap()),
            Ok(0),
            "{name}"
        );
    }
}
