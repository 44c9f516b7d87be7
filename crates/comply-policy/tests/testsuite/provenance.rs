//! Built-in policies: provenance, signatures and SCM settings (see the module list in
//! main.rs): `slsa-provenance`, `source-commit`, `artifact-signed`, `container-signed`,
//! `branch-deletion-blocked`, `branch-force-push-blocked`, `commits-signed-required`,
//! `pr-review-required`, `pr-code-owner-review-required`, the groups `slsa-checks`,
//! `branch-protection` and `code-review`, and the normalized provenance view.

use crate::support::*;
use base64::Engine as _;
use comply_policy::material::{self, Material, Normalized};
use comply_policy::{Limits, Script, Verdict, builtin, engine_input, evaluate_group};
use serde_json::{Value, json};
use std::collections::BTreeMap;

// ------------------------------------------------------------------ helpers

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The first line of a JSON-lines file (`.intoto.jsonl`).
fn first_line(bytes: &[u8]) -> Vec<u8> {
    bytes
        .split(|b| *b == b'\n')
        .next()
        .expect("a first line")
        .to_vec()
}

fn passes(v: &Verdict) -> bool {
    v.passed()
}

fn assert_pass(v: &Verdict, what: &str) {
    assert!(
        v.passed(),
        "{what}: expected a pass, got skipped={} {:?} {:?}",
        v.skipped,
        v.skip_reasons,
        messages(v)
    );
}

fn assert_fail(v: &Verdict, what: &str, needle: &str) -> Vec<String> {
    let m = messages(v);
    assert!(
        !v.skipped,
        "{what}: expected a failure, got skipped {:?}",
        v.skip_reasons
    );
    assert!(
        m.iter().any(|x| x.contains(needle)),
        "{what}: expected a violation containing {needle:?}, got {m:?}"
    );
    m
}

fn assert_skip(v: &Verdict, what: &str) {
    assert!(v.skipped, "{what}: expected skipped, got {:?}", messages(v));
    assert!(v.violations.is_empty(), "{what}: {:?}", messages(v));
}

fn with(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A material without file content (CONTAINER_IMAGE, HELM_CHART), as `load` would
/// make it for an image reference.
fn reference_material(kind: &str, name: &str) -> Material {
    Material {
        kind: kind.to_owned(),
        name: name.to_owned(),
        sha256: "4a8eb6f9ae76460b682e7e9eb5504df9f7f2b2250d9c5cb63204442e265e2c5a".to_owned(),
        content: json!({}),
        normalized: Normalized {
            format: "container-image".into(),
            ..Normalized::default()
        },
        annotations: Default::default(),
    }
}

/// Evaluates a built-in policy on a material whose `chainloop_metadata.annotations`
/// carry `extra` besides the name and type: the scripts are compiled from the built-in
/// definition and given the engine input with those annotations merged in (the attest
/// flow records signature annotations on the material descriptor).
fn eval_annotated(
    policy: &str,
    material: &Material,
    extra: &[(&str, &str)],
    args: &[(&str, &str)],
) -> Verdict {
    let compiled = builtin::policy(policy).unwrap_or_else(|| panic!("no policy {policy}"));
    let (effective, _) = comply_policy::input_args::compute(
        &compiled.policy.spec.inputs,
        &with(args),
        &BTreeMap::new(),
    )
    .unwrap();
    let mut input = engine_input(material, &effective);
    let annotations = input["chainloop_metadata"]["annotations"]
        .as_object_mut()
        .unwrap();
    for (k, v) in extra {
        annotations.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    let verdicts: Vec<Verdict> = compiled
        .policy
        .spec
        .policies
        .iter()
        .filter(|s| s.kind.as_deref().is_none_or(|k| k == material.kind))
        .map(|s| {
            Script::compile(policy, &s.embedded)
                .unwrap()
                .evaluate(input.clone(), &Value::Null, NOW_MS, &Limits::default())
                .unwrap()
        })
        .collect();
    assert!(
        !verdicts.is_empty(),
        "{policy} has no script for {}",
        material.kind
    );
    Verdict::merge(verdicts).expect("a verdict")
}

// ------------------------------------------------------------------ documents

const V02_STATEMENT: &str = r#"{
  "_type": "https://in-toto.io/Statement/v0.1",
  "subject": [{"name": "app.tar.gz", "digest": {"sha256": "0bf474896363505e5ea5e5d6ace8ebfb13a760a409b1fb467d428fc716f9f284"}}],
  "predicateType": "https://slsa.dev/provenance/v0.2",
  "predicate": {
    "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.2.1"},
    "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
    "metadata": {"buildStartedOn": "2025-03-01T10:00:00Z", "buildFinishedOn": "2025-03-01T10:05:00Z"}
  }
}"#;

fn v1_statement(builder: &str) -> String {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": "ec8ff1bb40da2a36e3e9113dd7a5dd452c5125f7013e849519c0754b3c9fda89"}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1"},
            "runDetails": {"builder": {"id": builder}}
        }
    })
    .to_string()
}

fn dsse(statement: &str) -> String {
    json!({"payloadType": "application/vnd.in-toto+json", "payload": b64(statement), "signatures": [{"sig": "MEUCIQ=="}]}).to_string()
}

fn bundle(statement: &str) -> String {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {},
        "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": b64(statement), "signatures": []}
    })
    .to_string()
}

fn chainloop_statement(git_head_annotations: Option<Value>) -> String {
    let mut subject = vec![
        json!({"name": "chainloop.workflow.build", "digest": {"sha256": "9ae495a85891eb1130fefc17bc89940c9aa96acb8355c26a3e0d73a5097d41d4"}}),
    ];
    if let Some(a) = git_head_annotations {
        subject.push(json!({"name": "git.head", "digest": {"sha1": "53f95f066b620172301e2a3879e7d593da05727e"}, "annotations": a}));
    }
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "buildType": "chainloop.dev/workflowrun/v0.1",
            "builder": {"id": "chainloop.dev/cli/0.90.1@sha256:431a"},
            "runnerType": "GITHUB_ACTION",
            "materials": []
        }
    })
    .to_string()
}

fn runner_context(rules: Value) -> String {
    json!({
        "meta": {"id": "chainloop.dev/runner-context/v0.1"},
        "data": {"tool": "test", "provider": "github", "repos": [{
            "owner": "acme", "repository": "api",
            "branches": [{"name": "main", "active_rules": rules}]
        }]}
    })
    .to_string()
}

fn ruleset_rule(name: &str, enforcement: &str, extra: Value) -> Value {
    let mut context = vec![
        json!({"name": "ruleset", "value": "Main", "enabled": "true"}),
        json!({"name": "enforcement", "value": enforcement, "enabled": "true"}),
    ];
    if let Value::Array(items) = extra {
        context.extend(items);
    }
    json!({"name": name, "enabled": "true", "context": context})
}

const RC: Option<&str> = Some("CHAINLOOP_RUNNER_CONTEXT");
const PR: Option<&str> = Some("CHAINLOOP_PR_INFO");
const ATT: Option<&str> = Some("ATTESTATION");
const SLSA: Option<&str> = Some("SLSA_PROVENANCE");

// ------------------------------------------------------------------ normalizer

#[test]
fn normalizer_reads_bare_enveloped_and_bundled_statements_alike() {
    let builder = "https://github.com/acme/.github/workflows/build.yml@refs/heads/main";
    for (label, doc) in [
        ("bare", v1_statement(builder)),
        ("dsse", dsse(&v1_statement(builder))),
        ("bundle", bundle(&v1_statement(builder))),
    ] {
        let m = material::load("p.json", doc.as_bytes(), Some("SLSA_PROVENANCE")).unwrap();
        assert_eq!(m.normalized.format, "slsa-provenance", "{label}");
        assert_eq!(m.normalized.format_version.as_deref(), Some("1"), "{label}");
        let p = m.normalized.provenance.expect(label);
        assert_eq!(p.predicate_type, "https://slsa.dev/provenance/v1");
        assert_eq!(p.builder_id.as_deref(), Some(builder), "{label}");
        assert_eq!(
            p.build_type.as_deref(),
            Some("https://actions.github.io/buildtypes/workflow/v1")
        );
        assert_eq!(p.subjects.len(), 1);
        assert_eq!(p.subjects[0].name, "app");
    }
    let m = material::load("p.json", V02_STATEMENT.as_bytes(), None).unwrap();
    assert_eq!(m.kind, "SLSA_PROVENANCE");
    assert_eq!(m.normalized.format_version.as_deref(), Some("0.2"));
    assert_eq!(
        m.normalized.created.as_deref(),
        Some("2025-03-01T10:05:00Z")
    );
    let p = m.normalized.provenance.unwrap();
    assert_eq!(
        p.build_type.as_deref(),
        Some("https://github.com/slsa-framework/slsa-github-generator/generic@v1")
    );
    assert!(
        p.builder_id
            .unwrap()
            .ends_with("generator_generic_slsa3.yml@refs/tags/v1.2.1")
    );
}

#[test]
fn normalizer_reads_protojson_names_and_chainloop_statements() {
    let protojson = json!({
        "type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "x", "digest": {"sha256": "AA"}}],
        "predicate_type": "https://slsa.dev/provenance/v0.2",
        "predicate": {"builder": {"id": "b"}, "buildType": "t"}
    });
    let m = material::load(
        "p.json",
        protojson.to_string().as_bytes(),
        Some("ATTESTATION"),
    )
    .unwrap();
    assert_eq!(m.normalized.format, "slsa-provenance");
    let p = m.normalized.provenance.unwrap();
    assert_eq!(p.builder_id.as_deref(), Some("b"));
    assert_eq!(p.subjects[0].sha256.as_deref(), Some("aa"));

    let m = material::load(
        "att.json",
        chainloop_statement(Some(json!({}))).as_bytes(),
        Some("ATTESTATION"),
    )
    .unwrap();
    assert_eq!(m.normalized.format, "in-toto");
    assert_eq!(m.normalized.format_version.as_deref(), Some("1"));
    let p = m.normalized.provenance.unwrap();
    assert_eq!(p.predicate_type, "chainloop.dev/attestation/v0.2");
    assert_eq!(
        p.build_type.as_deref(),
        Some("chainloop.dev/workflowrun/v0.1")
    );
    let head = p.subjects.iter().find(|s| s.name == "git.head").unwrap();
    assert_eq!(head.sha256, None, "git.head has a sha1 digest only");
}

#[test]
fn normalizer_gives_no_provenance_for_undecodable_envelopes() {
    let doc = r#"{"payloadType": "application/vnd.in-toto+json", "payload": "not base64!"}"#;
    let m = material::load("e.json", doc.as_bytes(), Some("SLSA_PROVENANCE")).unwrap();
    assert!(m.normalized.provenance.is_none());
    let doc = json!({"payloadType": "application/vnd.in-toto+json", "payload": b64("[1, 2]")});
    let m = material::load("e.json", doc.to_string().as_bytes(), Some("ATTESTATION")).unwrap();
    assert!(m.normalized.provenance.is_none());
}

#[test]
fn normalizer_on_fixture_provenance() {
    struct Case {
        file: &'static str,
        first_line: bool,
        format: &'static str,
        version: &'static str,
        builder: &'static str,
        build_type: Option<&'static str>,
        subject: (&'static str, &'static str),
    }
    let cases = [
        Case {
            file: "slsa-provenance/conforma-slsa_v02_spec_example_valid.json",
            first_line: false,
            format: "slsa-provenance",
            version: "0.2",
            builder: "mailto:person@example.com",
            build_type: Some("https://example.com/Makefile"),
            subject: (
                "_",
                "0bf474896363505e5ea5e5d6ace8ebfb13a760a409b1fb467d428fc716f9f284",
            ),
        },
        Case {
            file: "slsa-provenance/guac-oci-kubectl-linux-amd64-in-toto.json",
            first_line: false,
            format: "slsa-provenance",
            version: "0.2",
            builder: "Project Collection Build Service (AzureContainerUpstream)",
            build_type: None,
            subject: (
                "/mnt/vss/_work/1/a/release-tars/client/darwin/amd64/kubectl",
                "8202add66a93bcb7219ed7bb16438caf82a80c60348cace2381c678b99d65638",
            ),
        },
        Case {
            file: "slsa-provenance/chainloop-slsa_provenance.sigstore.json",
            first_line: false,
            format: "slsa-provenance",
            version: "1",
            builder: "https://github.com/chainloop-dev/platform-website/.github/workflows/deploy.yml@refs/heads/main",
            build_type: Some("https://actions.github.io/buildtypes/workflow/v1"),
            subject: (
                "ShapeEditor.BotJFm6e.js",
                "023540d907a6abc3cc83ecf78d1c01529b0517c80a72a28f8ec00a6bc0418814",
            ),
        },
        Case {
            file: "slsa-provenance/slsa-verifier-gha_generic-v1.2.1-push-v14.intoto.jsonl",
            first_line: true,
            format: "slsa-provenance",
            version: "0.2",
            builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.2.1",
            build_type: Some("https://github.com/slsa-framework/slsa-github-generator/generic@v1"),
            subject: (
                "binary-linux-amd64-workflow_dispatch",
                "ec8ff1bb40da2a36e3e9113dd7a5dd452c5125f7013e849519c0754b3c9fda89",
            ),
        },
        Case {
            file: "slsa-provenance/slsa-verifier-bcr-rules_lint-v1.3.1.intoto.jsonl",
            first_line: true,
            format: "slsa-provenance",
            version: "1",
            builder: "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0",
            build_type: Some("https://actions.github.io/buildtypes/workflow/v1"),
            subject: (
                "rules_lint-v1.3.1.tar.gz",
                "1636f443b01c9ee310ee5834956d0dce374c3d3bf8d4cebc9f6b86f8304b4982",
            ),
        },
        Case {
            file: "slsa-provenance/slsa-verifier-gha_container-based-v2.1.0-push-v14.build.slsa",
            first_line: false,
            format: "slsa-provenance",
            version: "1",
            builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v2.1.0",
            build_type: Some("https://slsa.dev/container-based-build/v0.1?draft"),
            subject: (
                "gha_container-based-binary-linux-amd64-v14",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
        },
        Case {
            file: "sigstore/conformance-happy-path-intoto-in-dsse-v3.sigstore.json",
            first_line: false,
            format: "slsa-provenance",
            version: "1",
            builder: "https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main",
            build_type: None,
            subject: ("a.txt", ""),
        },
    ];
    for c in cases {
        let Some(bytes) = fixture(c.file) else {
            return;
        };
        let bytes = if c.first_line {
            first_line(&bytes)
        } else {
            bytes
        };
        let m = material::load(c.file, &bytes, Some("SLSA_PROVENANCE"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.normalized.format, c.format, "{}", c.file);
        assert_eq!(
            m.normalized.format_version.as_deref(),
            Some(c.version),
            "{}",
            c.file
        );
        let p = m.normalized.provenance.expect(c.file);
        assert_eq!(p.builder_id.as_deref(), Some(c.builder), "{}", c.file);
        if c.build_type.is_some() {
            assert_eq!(p.build_type.as_deref(), c.build_type, "{}", c.file);
        }
        let (name, sha) = c.subject;
        let s = p
            .subjects
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{}: subject {name}", c.file));
        if !sha.is_empty() {
            assert_eq!(s.sha256.as_deref(), Some(sha), "{}", c.file);
        }
    }
}

#[test]
fn fixture_sigstore_bundles_are_detected_as_slsa_provenance() {
    for file in [
        "slsa-provenance/chainloop-slsa_provenance.sigstore.json",
        "sigstore/conformance-happy-path-intoto-in-dsse-v3.sigstore.json",
    ] {
        let Some(bytes) = fixture(file) else {
            return;
        };
        assert_eq!(material::detect(&bytes), Some("SLSA_PROVENANCE"), "{file}");
    }
}

#[test]
fn normalizer_on_fixture_chainloop_statements() {
    for file in [
        "chainloop-attestations/policies-statement.json",
        "chainloop-attestations/policies-statement_gitlab.json",
        "chainloop-attestations/renderer-attestation.output.v2.json",
        "chainloop-attestations/cosign-attestation.dsse.json",
        "chainloop-attestations/verifier-bundle_valid.sigstore.json",
    ] {
        let Some(bytes) = fixture(file) else {
            return;
        };
        let m = material::load(file, &bytes, Some("ATTESTATION")).unwrap();
        assert_eq!(m.normalized.format, "in-toto", "{file}");
        let p = m.normalized.provenance.expect(file);
        assert_eq!(p.predicate_type, "chainloop.dev/attestation/v0.2", "{file}");
        assert!(
            p.builder_id
                .as_deref()
                .unwrap()
                .starts_with("chainloop.dev/cli/"),
            "{file}"
        );
        assert_eq!(
            p.build_type.as_deref(),
            Some("chainloop.dev/workflowrun/v0.1")
        );
    }
    let Some(bytes) = fixture("chainloop-attestations/policies-statement.json") else {
        return;
    };
    let m = material::load("s.json", &bytes, Some("ATTESTATION")).unwrap();
    let p = m.normalized.provenance.unwrap();
    assert_eq!(
        p.builder_id.as_deref(),
        Some(
            "chainloop.dev/cli/0.90.1@sha256:431a0765636854095f0c78d01b61eb5558abe7c8de1608aa93eef1530deee0b6"
        )
    );
    assert!(p.subjects.iter().any(|s| s.name == "git.head"));
    let Some(bytes) = fixture("chainloop-attestations/attestation-dsse-invalid-payload.json")
    else {
        return;
    };
    let m = material::load("bad.json", &bytes, Some("ATTESTATION")).unwrap();
    assert!(m.normalized.provenance.is_none(), "payload is not base64");
}

#[test]
fn normalizer_records_scm_formats() {
    let m = material::load("rc.json", runner_context(json!([])).as_bytes(), None).unwrap();
    assert_eq!(m.kind, "CHAINLOOP_RUNNER_CONTEXT");
    assert_eq!(m.normalized.format, "runner-context");
    assert_eq!(m.normalized.format_version.as_deref(), Some("0.1"));
    let Some(bytes) = fixture("pr-info/pr_info_valid.json") else {
        return;
    };
    let m = material::load("pr.json", &bytes, PR).unwrap();
    assert_eq!(m.normalized.format, "pr-info");
}

// ------------------------------------------------------------------ slsa-provenance

#[test]
fn slsa_provenance_passes_in_every_wrapping_and_checks_builders() {
    let generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";
    let stmt = v1_statement(&format!("{generator}@refs/tags/v1.2.1"));
    for doc in [stmt.clone(), dsse(&stmt), bundle(&stmt)] {
        assert_pass(&eval("slsa-provenance", SLSA, &doc, &[]), "no allow-list");
        assert_pass(
            &eval(
                "slsa-provenance",
                SLSA,
                &doc,
                &[("allowed_builders", generator)],
            ),
            "a builder without @ allows every ref",
        );
        assert_pass(
            &eval(
                "slsa-provenance",
                SLSA,
                &doc,
                &[("allowed_builders", "https://github.com/slsa-framework/*")],
            ),
            "trailing * is a prefix",
        );
        assert_fail(
            &eval(
                "slsa-provenance",
                SLSA,
                &doc,
                &[("allowed_builders", "https://github.com/acme/builder, other")],
            ),
            "builder not allowed",
            "is not allowed",
        );
        assert_fail(
            &eval(
                "slsa-provenance",
                SLSA,
                &doc,
                &[("allowed_builders", &format!("{generator}@refs/tags/v9"))],
            ),
            "another ref is not allowed",
            "is not allowed",
        );
    }
    // ATTESTATION materials too.
    assert_pass(
        &eval("slsa-provenance", ATT, &dsse(&stmt), &[]),
        "ATTESTATION",
    );
}

#[test]
fn slsa_provenance_fails_without_builder_or_subject_digest_and_on_other_predicates() {
    let no_builder = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": "ab"}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "x"}}
    });
    assert_fail(
        &eval("slsa-provenance", SLSA, &no_builder.to_string(), &[]),
        "no builder",
        "names no builder",
    );
    let no_digest = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha512": "ab"}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"runDetails": {"builder": {"id": "b"}}}
    });
    assert_fail(
        &eval("slsa-provenance", SLSA, &no_digest.to_string(), &[]),
        "no sha256",
        "no subject with a sha256",
    );
    let sbom = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "img", "digest": {"sha256": "ab"}}],
        "predicateType": "https://cyclonedx.org/bom",
        "predicate": {}
    });
    assert_fail(
        &eval("slsa-provenance", ATT, &dsse(&sbom.to_string()), &[]),
        "an SBOM attestation",
        "is not build provenance",
    );
    // Chainloop's own predicate is provenance (builder and build type).
    let att = chainloop_statement(None);
    assert_pass(
        &eval("slsa-provenance", ATT, &att, &[]),
        "chainloop predicate",
    );
    assert_pass(
        &eval(
            "slsa-provenance",
            ATT,
            &att,
            &[("allowed_builders", "chainloop.dev/cli/*")],
        ),
        "chainloop cli, any version",
    );
    assert_fail(
        &eval(
            "slsa-provenance",
            ATT,
            &att,
            &[("allowed_builders", "chainloop.dev/cli")],
        ),
        "without @ or *, an entry names one builder",
        "is not allowed",
    );
}

#[test]
fn slsa_provenance_skips_what_it_cannot_read() {
    let bad = r#"{"payloadType": "application/vnd.in-toto+json", "payload": "%%%"}"#;
    assert_skip(
        &eval("slsa-provenance", SLSA, bad, &[]),
        "undecodable envelope",
    );
    assert_skip(
        &eval("slsa-provenance", SLSA, r#"{"hello": "world"}"#, &[]),
        "not a statement",
    );
}

#[test]
fn slsa_provenance_on_fixtures() {
    let cases: &[(&str, bool, &str)] = &[
        (
            "slsa-provenance/conforma-slsa_v02_spec_example_valid.json",
            false,
            "mailto:person@example.com",
        ),
        (
            "slsa-provenance/guac-oci-kubectl-linux-amd64-in-toto.json",
            false,
            "Project Collection Build Service (AzureContainerUpstream)",
        ),
        (
            "slsa-provenance/chainloop-slsa_provenance.sigstore.json",
            false,
            "https://github.com/chainloop-dev/platform-website/.github/workflows/deploy.yml",
        ),
        (
            "slsa-provenance/slsa-verifier-gha_generic-v1.2.1-push-v14.intoto.jsonl",
            true,
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml",
        ),
        (
            "slsa-provenance/slsa-verifier-bcr-rules_lint-v1.3.1.intoto.jsonl",
            true,
            "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml",
        ),
        (
            "slsa-provenance/slsa-verifier-gha_container-based-v2.1.0-push-v14.build.slsa",
            false,
            "https://github.com/slsa-framework/slsa-github-generator/*",
        ),
    ];
    for (file, jsonl, builder) in cases {
        let Some(bytes) = fixture(file) else {
            return;
        };
        let bytes = if *jsonl { first_line(&bytes) } else { bytes };
        let m = material(file, &bytes, SLSA);
        let pass = eval_material(
            "slsa-provenance",
            &m,
            &[("allowed_builders", builder)],
            &Value::Null,
        );
        assert_pass(&pass, file);
        assert_pass(
            &eval_material("slsa-provenance", &m, &[], &Value::Null),
            file,
        );
        let fail = eval_material(
            "slsa-provenance",
            &m,
            &[(
                "allowed_builders",
                "https://github.com/acme/trusted-builder",
            )],
            &Value::Null,
        );
        assert_fail(&fail, file, "is not allowed");
    }
    // The CycloneDX attestation signed by grype is not provenance.
    let Some(bytes) = fixture("sigstore/grype-alpine.cdx.att.json") else {
        return;
    };
    let m = material("grype.att.json", &bytes, ATT);
    assert_fail(
        &eval_material("slsa-provenance", &m, &[], &Value::Null),
        "grype CycloneDX attestation",
        "https://cyclonedx.org/bom is not build provenance",
    );
}

// ------------------------------------------------------------------ source-commit

#[test]
fn source_commit_requires_a_git_head_subject() {
    let plain = json!({"author.email": "dev@example.com", "author.name": "Dev"});
    assert_pass(
        &eval("source-commit", ATT, &chainloop_statement(Some(plain)), &[]),
        "git.head present",
    );
    assert_fail(
        &eval("source-commit", ATT, &chainloop_statement(None), &[]),
        "no git.head",
        "missing commit in statement",
    );
    let no_sha1 = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "git.head", "digest": {"sha256": "ab"}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {}
    });
    assert_fail(
        &eval("source-commit", ATT, &no_sha1.to_string(), &[]),
        "git.head without sha1",
        "has no sha1 digest",
    );
    assert_skip(
        &eval("source-commit", ATT, r#"{"not": "a statement"}"#, &[]),
        "not a statement",
    );
    assert_skip(
        &eval(
            "source-commit",
            ATT,
            r#"{"payloadType": "application/vnd.in-toto+json", "payload": "@@@"}"#,
            &[],
        ),
        "undecodable payload",
    );
}

#[test]
fn source_commit_checks_the_signature_when_asked() {
    let unsigned = chainloop_statement(Some(json!({"author.email": "dev@example.com"})));
    let signed = chainloop_statement(Some(json!({
        "author.email": "dev@example.com",
        "signature": "-----BEGIN PGP SIGNATURE-----\n...\n-----END PGP SIGNATURE-----",
        "signature.algorithm": "pgp"
    })));
    let empty = chainloop_statement(Some(json!({"signature": "  "})));
    for yes in ["yes", "true", "TRUE", "Yes", "1"] {
        assert_fail(
            &eval("source-commit", ATT, &unsigned, &[("check_signature", yes)]),
            yes,
            "missing signature in commit 53f95f066b620172301e2a3879e7d593da05727e",
        );
        assert_fail(
            &eval("source-commit", ATT, &empty, &[("check_signature", yes)]),
            "empty signature",
            "missing signature",
        );
        assert_pass(
            &eval("source-commit", ATT, &signed, &[("check_signature", yes)]),
            "signed",
        );
    }
    for no in ["no", "false", ""] {
        assert_pass(
            &eval("source-commit", ATT, &unsigned, &[("check_signature", no)]),
            no,
        );
    }
    // In every wrapping.
    for doc in [dsse(&unsigned), bundle(&unsigned)] {
        assert_fail(
            &eval("source-commit", ATT, &doc, &[("check_signature", "yes")]),
            "enveloped",
            "missing signature",
        );
    }
    assert_pass(
        &eval(
            "source-commit",
            ATT,
            &bundle(&signed),
            &[("check_signature", "yes")],
        ),
        "bundle, signed",
    );
}

#[test]
fn source_commit_checks_author_verification_when_asked() {
    let verified = chainloop_statement(Some(json!({"author.verification_status": "verified"})));
    let unverified = chainloop_statement(Some(json!({"author.verification_status": "unverified"})));
    let none = chainloop_statement(Some(json!({})));
    let args = [("check_author_verified", "true")];
    assert_pass(&eval("source-commit", ATT, &verified, &args), "verified");
    assert_fail(
        &eval("source-commit", ATT, &unverified, &args),
        "unverified",
        "(status: unverified)",
    );
    assert_fail(
        &eval("source-commit", ATT, &none, &args),
        "no status",
        "is not verified",
    );
    assert_pass(&eval("source-commit", ATT, &unverified, &[]), "not asked");
}

#[test]
fn source_commit_on_fixtures() {
    // Both plain statements carry an unsigned git.head (commit 53f95f06…); they differ
    // only in runnerType.
    for file in [
        "chainloop-attestations/policies-statement.json",
        "chainloop-attestations/policies-statement_gitlab.json",
    ] {
        let Some(bytes) = fixture(file) else {
            return;
        };
        let m = material(file, &bytes, ATT);
        assert_pass(&eval_material("source-commit", &m, &[], &Value::Null), file);
        let v = eval_material(
            "source-commit",
            &m,
            &[("check_signature", "yes")],
            &Value::Null,
        );
        assert_fail(
            &v,
            file,
            "missing signature in commit 53f95f066b620172301e2a3879e7d593da05727e",
        );
    }
    // A Sigstore bundle whose git.head carries a PGP signature (commit beb0f8c3…).
    let Some(bytes) = fixture("chainloop-attestations/verifier-bundle_valid.sigstore.json") else {
        return;
    };
    let m = material("bundle.json", &bytes, ATT);
    assert_pass(
        &eval_material(
            "source-commit",
            &m,
            &[("check_signature", "yes")],
            &Value::Null,
        ),
        "signed commit in a bundle",
    );
    assert_fail(
        &eval_material(
            "source-commit",
            &m,
            &[("check_author_verified", "yes")],
            &Value::Null,
        ),
        "no verification status recorded",
        "is not verified",
    );
    // A DSSE envelope whose git.head is unsigned (commit f9f2493a…).
    let Some(bytes) = fixture("chainloop-attestations/cosign-attestation.dsse.json") else {
        return;
    };
    let m = material("cosign.json", &bytes, ATT);
    assert_fail(
        &eval_material(
            "source-commit",
            &m,
            &[("check_signature", "yes")],
            &Value::Null,
        ),
        "unsigned commit in an envelope",
        "missing signature in commit f9f2493a647473c0be0c8814d3d32b17d615fa38",
    );
    // Old statements without a git checkout.
    let Some(bytes) = fixture("chainloop-attestations/biz-full.dsse.json") else {
        return;
    };
    let m = material("biz.json", &bytes, ATT);
    assert_fail(
        &eval_material("source-commit", &m, &[], &Value::Null),
        "no git.head",
        "missing commit in statement",
    );
}

// ------------------------------------------------------------------ signatures

const SIGNED: &[(&str, &str)] = &[
    ("chainloop.material.signature", "MEUCIQDx…"),
    (
        "chainloop.material.signature.digest",
        "sha256:91c0b92358109bfc31ea4c58902d9b7f4f582ff9c4782fb276a685e914d3cc82",
    ),
    ("chainloop.material.signature.provider", "cosign"),
];

#[test]
fn container_signed_reads_the_signature_annotations() {
    let image = reference_material("CONTAINER_IMAGE", "ghcr.io/acme/api");
    assert_pass(
        &eval_annotated("container-signed", &image, SIGNED, &[]),
        "signed",
    );
    let v = eval_annotated("container-signed", &image, &[], &[]);
    assert_fail(
        &v,
        "unsigned",
        "ghcr.io/acme/api@sha256:4a8eb6f9ae76460b682e7e9eb5504df9f7f2b2250d9c5cb63204442e265e2c5a has no verified signature",
    );
    assert_fail(
        &eval_annotated(
            "container-signed",
            &image,
            &[("chainloop.material.signature", "")],
            &[],
        ),
        "empty signature",
        "has no verified signature",
    );
    assert_pass(
        &eval_annotated(
            "container-signed",
            &image,
            SIGNED,
            &[("providers", "Cosign, notary")],
        ),
        "allowed provider",
    );
    assert_fail(
        &eval_annotated(
            "container-signed",
            &image,
            SIGNED,
            &[("providers", "notary")],
        ),
        "provider not allowed",
        "signed with 'cosign', which is not an allowed provider (notary)",
    );
    // Through the normal path (no signature annotations recorded yet): a failure.
    let v = eval_material("container-signed", &image, &[], &Value::Null);
    assert_fail(&v, "no annotations", "has no verified signature");
    // Loaded from an image reference.
    let loaded = material("ghcr.io/acme/api:v1", b"", Some("CONTAINER_IMAGE"));
    assert_fail(
        &eval_material("container-signed", &loaded, &[], &Value::Null),
        "loaded image",
        "ghcr.io/acme/api:v1",
    );
}

#[test]
fn artifact_signed_covers_images_and_helm_charts() {
    for kind in ["CONTAINER_IMAGE", "HELM_CHART"] {
        let m = reference_material(kind, "oci://ghcr.io/acme/charts/api");
        assert_pass(&eval_annotated("artifact-signed", &m, SIGNED, &[]), kind);
        assert_fail(
            &eval_annotated("artifact-signed", &m, &[], &[]),
            kind,
            "has no verified signature",
        );
        assert_fail(
            &eval_annotated("artifact-signed", &m, SIGNED, &[("providers", "notary")]),
            kind,
            "not an allowed provider",
        );
    }
    let policy = builtin::policy("artifact-signed").unwrap();
    assert!(policy.applies_to("HELM_CHART") && policy.applies_to("CONTAINER_IMAGE"));
    assert!(!policy.applies_to("SBOM_CYCLONEDX_JSON"));
    assert!(
        !builtin::policy("container-signed")
            .unwrap()
            .applies_to("HELM_CHART")
    );
}

// ------------------------------------------------------------------ runner context

#[test]
fn branch_protection_rules_hand_made() {
    let protected = runner_context(json!([
        {"name": "allow_force_pushes", "enabled": "false"},
        {"name": "allow_deletions", "enabled": "false"},
        {"name": "required_signatures", "enabled": "true"},
        {"name": "required_pull_request_reviews", "enabled": "true", "context": [
            {"name": "require_code_owner_reviews", "value": "true", "enabled": "true"},
            {"name": "required_approving_review_count", "value": "2", "enabled": "true"}
        ]}
    ]));
    let open = runner_context(json!([
        {"name": "allow_force_pushes", "enabled": "true"},
        {"name": "allow_deletions", "enabled": "true"},
        {"name": "required_signatures", "enabled": "false"},
        {"name": "required_pull_request_reviews", "enabled": "true", "context": [
            {"name": "require_code_owner_reviews", "value": "false", "enabled": "true"},
            {"name": "required_approving_review_count", "value": "0", "enabled": "true"}
        ]}
    ]));
    let cases = [
        (
            "branch-deletion-blocked",
            "acme/api: deletion of branch 'main' is not blocked",
        ),
        (
            "branch-force-push-blocked",
            "acme/api: force pushes to branch 'main' are not blocked",
        ),
        (
            "commits-signed-required",
            "acme/api: signed commits are not required on branch 'main'",
        ),
        (
            "pr-code-owner-review-required",
            "code owner review is not required for pull requests to branch 'main'",
        ),
        (
            "pr-review-required",
            "require 0 approving review(s); at least 1 required",
        ),
    ];
    for (policy, message) in cases {
        assert_pass(&eval(policy, RC, &protected, &[]), policy);
        assert_pass(
            &eval(policy, RC, &protected, &[("branches", "main")]),
            policy,
        );
        assert_pass(
            &eval(policy, RC, &protected, &[("branches", "ma*")]),
            policy,
        );
        let m = assert_fail(&eval(policy, RC, &open, &[]), policy, message);
        assert_eq!(m.len(), 1, "{policy}: {m:?}");
        assert_fail(
            &eval(policy, RC, &protected, &[("branches", "main, develop")]),
            policy,
            "no branch matching 'develop' in the runner context",
        );
        assert_fail(
            &eval(policy, RC, &runner_context(json!([])), &[]),
            policy,
            message,
        );
        assert_skip(&eval(policy, RC, r#"{"data": {"repos": []}}"#, &[]), policy);
    }
    // An absent rule is not evidence of protection.
    assert_fail(
        &eval(
            "branch-deletion-blocked",
            RC,
            &runner_context(json!([{"name": "allow_force_pushes", "enabled": "false"}])),
            &[],
        ),
        "rule absent",
        "is not blocked",
    );
    assert_pass(
        &eval(
            "pr-review-required",
            RC,
            &protected,
            &[("min_reviewers", "2")],
        ),
        "2 of 2",
    );
    assert_fail(
        &eval(
            "pr-review-required",
            RC,
            &protected,
            &[("min_reviewers", "3")],
        ),
        "2 of 3",
        "require 2 approving review(s); at least 3 required",
    );
    assert_fail(
        &eval(
            "pr-review-required",
            RC,
            &protected,
            &[("min_reviewers", "two")],
        ),
        "bad number",
        "min_reviewers must be a whole number",
    );
}

#[test]
fn rulesets_count_only_when_active() {
    let rules = |enforcement: &str| {
        runner_context(json!([
            ruleset_rule("deletion", enforcement, json!([])),
            ruleset_rule("non_fast_forward", enforcement, json!([])),
            ruleset_rule("required_signatures", enforcement, json!([])),
            ruleset_rule(
                "pull_request",
                enforcement,
                json!([
                    {"name": "require_code_owner_review", "value": "true", "enabled": "true"},
                    {"name": "required_approving_review_count", "value": "1", "enabled": "true"}
                ])
            ),
        ]))
    };
    for policy in [
        "branch-deletion-blocked",
        "branch-force-push-blocked",
        "commits-signed-required",
        "pr-code-owner-review-required",
        "pr-review-required",
    ] {
        assert_pass(&eval(policy, RC, &rules("active"), &[]), policy);
        let v = eval(policy, RC, &rules("evaluate"), &[]);
        assert!(
            !passes(&v),
            "{policy}: a ruleset in evaluate mode enforces nothing"
        );
    }
}

#[test]
fn collector_errors_are_reported_in_messages() {
    let doc = json!({
        "meta": {"id": "chainloop.dev/runner-context/v0.1",
                 "errors": [{"code": "PERMISSION_RULESETS", "message": "forbidden"}]},
        "data": {"tool": "t", "provider": "github", "repos": [{"repository": "api", "branches": [
            {"name": "main", "active_rules": [{"name": "allow_deletions", "enabled": "true"}]}
        ]}]}
    });
    assert_fail(
        &eval("branch-deletion-blocked", RC, &doc.to_string(), &[]),
        "errors",
        "api: deletion of branch 'main' is not blocked (the collector reported: PERMISSION_RULESETS)",
    );
}

#[test]
fn branch_globs_follow_path_segments() {
    let doc = json!({
        "meta": {"id": "chainloop.dev/runner-context/v0.1"},
        "data": {"tool": "t", "provider": "github", "repos": [{"owner": "acme", "repository": "api", "branches": [
            {"name": "main", "active_rules": [{"name": "allow_deletions", "enabled": "false"}]},
            {"name": "release/v1/hotfix", "active_rules": [{"name": "allow_deletions", "enabled": "true"}]}
        ]}]}
    })
    .to_string();
    assert_pass(
        &eval("branch-deletion-blocked", RC, &doc, &[("branches", "main")]),
        "main only",
    );
    assert_fail(
        &eval(
            "branch-deletion-blocked",
            RC,
            &doc,
            &[("branches", "release/*")],
        ),
        "* stays within a segment",
        "no branch matching 'release/*'",
    );
    assert_fail(
        &eval(
            "branch-deletion-blocked",
            RC,
            &doc,
            &[("branches", "release/**")],
        ),
        "** crosses segments",
        "deletion of branch 'release/v1/hotfix' is not blocked",
    );
    let all = eval("branch-deletion-blocked", RC, &doc, &[]);
    assert_eq!(messages(&all).len(), 1, "{:?}", messages(&all));
}

#[test]
fn runner_context_fixtures() {
    // Branch protection rules (solrpl/explain, branch master): deletions and force pushes
    // disallowed, 1 approving review with code owners, signatures NOT required.
    // Rulesets (solrpl/zerotohero, branch master, ruleset "Main", active): deletion,
    // non_fast_forward, required_signatures, pull_request (1 review, code owners).
    let expectations: &[(&str, &str, bool)] = &[
        ("branch-deletion-blocked", "branches", true),
        ("branch-force-push-blocked", "branches", true),
        ("commits-signed-required", "branches", false),
        ("pr-code-owner-review-required", "branches", true),
        ("pr-review-required", "branches", true),
        ("branch-deletion-blocked", "rulesets", true),
        ("branch-force-push-blocked", "rulesets", true),
        ("commits-signed-required", "rulesets", true),
        ("pr-code-owner-review-required", "rulesets", true),
        ("pr-review-required", "rulesets", true),
    ];
    for (policy, variant, pass) in expectations {
        let file = if *variant == "branches" {
            "runner-context/runner-context-branches-v0.1.json"
        } else {
            "runner-context/runner_context_rulesets-v0.1.json"
        };
        let Some(bytes) = fixture(file) else {
            return;
        };
        let m = material(file, &bytes, None);
        assert_eq!(m.kind, "CHAINLOOP_RUNNER_CONTEXT");
        let v = eval_material(policy, &m, &[("branches", "master")], &Value::Null);
        if *pass {
            assert_pass(&v, &format!("{policy} on {file}"));
        } else {
            assert_fail(
                &v,
                &format!("{policy} on {file}"),
                "solrpl/explain: signed commits are not required on branch 'master'",
            );
        }
        // The default branch of these repositories is master, not main.
        assert_fail(
            &eval_material(policy, &m, &[("branches", "main")], &Value::Null),
            policy,
            "no branch matching 'main'",
        );
        let strict = eval_material(policy, &m, &[("min_reviewers", "2")], &Value::Null);
        if *policy == "pr-review-required" {
            assert_fail(
                &strict,
                file,
                "require 1 approving review(s); at least 2 required",
            );
        }
    }
    let Some(bytes) = fixture("runner-context/runner_context_missing-meta-v0.1.json") else {
        return;
    };
    let m = material("missing-meta.json", &bytes, RC);
    for policy in [
        "branch-deletion-blocked",
        "pr-review-required",
        "commits-signed-required",
    ] {
        assert_skip(
            &eval_material(policy, &m, &[], &Value::Null),
            "no meta: not a valid runner context",
        );
    }
}

// ------------------------------------------------------------------ PR info

fn pr_info(target: &str, reviewers: Value) -> String {
    json!({
        "chainloop.material.evidence.id": "CHAINLOOP_PR_INFO",
        "schema": "https://schemas.chainloop.dev/prinfo/1.3/pr-info.schema.json",
        "data": {
            "platform": "github", "type": "pull_request", "number": "7",
            "url": "https://github.com/acme/api/pull/7", "target_branch": target,
            "author": {"login": "alice", "type": "User"}, "reviewers": reviewers
        }
    })
    .to_string()
}

#[test]
fn pr_review_required_counts_approvals_on_pr_info() {
    let approved = pr_info(
        "main",
        json!([
            {"login": "bob", "type": "User", "requested": true, "review_status": "APPROVED"},
            {"login": "carol", "type": "User", "requested": true, "review_status": "CHANGES_REQUESTED"}
        ]),
    );
    assert_pass(
        &eval("pr-review-required", PR, &approved, &[]),
        "1 approval",
    );
    assert_fail(
        &eval(
            "pr-review-required",
            PR,
            &approved,
            &[("min_reviewers", "2")],
        ),
        "1 of 2",
        "pull_request #7 to 'main' has 1 approving review(s); at least 2 required",
    );
    let self_and_bot = pr_info(
        "main",
        json!([
            {"login": "alice", "type": "User", "requested": false, "review_status": "APPROVED"},
            {"login": "coderabbitai", "type": "Bot", "requested": true, "review_status": "APPROVED"},
            {"login": "dave", "type": "User", "requested": true, "review_status": "PENDING"}
        ]),
    );
    assert_fail(
        &eval("pr-review-required", PR, &self_and_bot, &[]),
        "author and bot approvals do not count",
        "has 0 approving review(s)",
    );
    let to_develop = pr_info("develop", json!([]));
    assert_pass(
        &eval(
            "pr-review-required",
            PR,
            &to_develop,
            &[("branches", "main, release/*")],
        ),
        "a request to a branch outside the scope",
    );
    assert_fail(
        &eval("pr-review-required", PR, &to_develop, &[]),
        "every branch when none given",
        "to 'develop' has 0 approving review(s)",
    );
    assert_skip(
        &eval("pr-review-required", PR, r#"{"data": {"title": "x"}}"#, &[]),
        "not PR info",
    );
}

#[test]
fn pr_info_fixture() {
    // GitHub pull_request #42 to main by octocat, reviewer1 APPROVED (the bare data
    // object, as in Chainloop's schema tests).
    let Some(bytes) = fixture("pr-info/pr_info_valid.json") else {
        return;
    };
    let m = material("pr_info_valid.json", &bytes, PR);
    assert_pass(
        &eval_material(
            "pr-review-required",
            &m,
            &[("branches", "main")],
            &Value::Null,
        ),
        "one approval",
    );
    assert_fail(
        &eval_material(
            "pr-review-required",
            &m,
            &[("min_reviewers", "2")],
            &Value::Null,
        ),
        "two required",
        "pull_request #42 to 'main' has 1 approving review(s); at least 2 required",
    );
    assert_pass(
        &eval_material(
            "pr-review-required",
            &m,
            &[("branches", "develop")],
            &Value::Null,
        ),
        "out of scope",
    );
    // Wrapped as Chainloop's CLI records it.
    let data: Value = serde_json::from_slice(&bytes).unwrap();
    let wrapped = json!({"chainloop.material.evidence.id": "CHAINLOOP_PR_INFO",
                         "schema": "https://schemas.chainloop.dev/prinfo/1.3/pr-info.schema.json",
                         "data": data});
    let m = material("pr.json", wrapped.to_string().as_bytes(), None);
    assert_eq!(m.kind, "CHAINLOOP_PR_INFO");
    assert_eq!(m.normalized.format_version.as_deref(), Some("1.3"));
    assert_pass(
        &eval_material("pr-review-required", &m, &[], &Value::Null),
        "wrapped",
    );
}

// ------------------------------------------------------------------ groups

fn resolve(name: &str) -> Option<&'static comply_policy::CompiledPolicy> {
    builtin::policy(name)
}

#[test]
fn groups_reference_shipped_policies_only() {
    for name in ["slsa-checks", "branch-protection", "code-review"] {
        let group = builtin::group(name).unwrap_or_else(|| panic!("group {name}"));
        for a in group.attachments() {
            assert!(
                builtin::policy(&a.reference).is_some(),
                "{name}: {} is not a built-in policy",
                a.reference
            );
        }
    }
}

#[test]
fn branch_protection_group_on_runner_context() {
    let group = builtin::group("branch-protection").unwrap();
    let doc = runner_context(json!([
        {"name": "allow_force_pushes", "enabled": "true"},
        {"name": "allow_deletions", "enabled": "false"}
    ]));
    let m = material("runner-context.json", doc.as_bytes(), None);
    let results = evaluate_group(
        group,
        &BTreeMap::new(),
        std::slice::from_ref(&m),
        resolve,
        NOW_MS,
        &Value::Null,
        &Limits::default(),
    )
    .unwrap();
    let by_policy: BTreeMap<&str, &Verdict> = results
        .iter()
        .map(|r| (r.policy.as_str(), &r.outcome.verdict))
        .collect();
    assert_eq!(by_policy.len(), 4, "{results:?}");
    assert_pass(
        by_policy["branch-deletion-blocked"],
        "deletion blocked on main",
    );
    assert_fail(
        by_policy["branch-linear-history-required"],
        "no linear history rule",
        "linear history is not required on branch 'main'",
    );
    assert_pass(
        by_policy["repository-rules-change-restricted"],
        "no ruleset with bypass actors",
    );
    assert_fail(
        by_policy["branch-force-push-blocked"],
        "force push allowed",
        "force pushes to branch 'main' are not blocked",
    );
    assert!(
        results
            .iter()
            .all(|r| r.outcome.args.get("branches").map(String::as_str) == Some("main")),
        "the group default binds branches=main"
    );

    let Some(bytes) = fixture("runner-context/runner-context-branches-v0.1.json") else {
        return;
    };
    let m = material("rc.json", &bytes, None);
    let run = |branches: &str| {
        evaluate_group(
            group,
            &with(&[("branches", branches)]),
            std::slice::from_ref(&m),
            resolve,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    };
    let results = run("master");
    assert_eq!(results.len(), 4);
    assert!(
        results.iter().all(|r| r.outcome.verdict.passed()),
        "{results:?}"
    );
    let results = run("main");
    assert!(
        results.iter().all(|r| messages(&r.outcome.verdict)
            .iter()
            .any(|m| m.contains("no branch matching 'main'"))),
        "{results:?}"
    );
}

#[test]
fn code_review_group_on_runner_context_and_pr_info() {
    let group = builtin::group("code-review").unwrap();
    let (Some(rc), Some(pr)) = (
        fixture("runner-context/runner_context_rulesets-v0.1.json"),
        fixture("pr-info/pr_info_valid.json"),
    ) else {
        return;
    };
    let materials = [
        material("runner-context.json", &rc, None),
        material("pr-info.json", &pr, PR),
    ];
    let run = |args: &[(&str, &str)]| {
        evaluate_group(
            group,
            &with(args),
            &materials,
            resolve,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    };
    // master is protected by the rulesets; the PR targets main.
    let results = run(&[("branches", "master, main")]);
    let pairs: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r.policy.as_str(), r.material.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("pr-review-required", "runner-context.json"),
            ("pr-code-owner-review-required", "runner-context.json"),
            ("pr-conversation-resolution-required", "runner-context.json"),
            ("pr-stale-reviews-dismissed", "runner-context.json"),
            ("pr-review-required", "pr-info.json"),
        ]
    );
    // The rulesets document lists master only, so `main` has no settings there.
    for r in &results {
        if r.material == "pr-info.json" {
            assert_pass(&r.outcome.verdict, "PR #42 has one approval");
        } else {
            assert_fail(&r.outcome.verdict, &r.policy, "no branch matching 'main'");
        }
    }
    let results = run(&[("branches", "master, main"), ("min_reviewers", "2")]);
    for r in &results {
        match (r.policy.as_str(), r.material.as_str()) {
            ("pr-review-required", "pr-info.json") => {
                assert_fail(
                    &r.outcome.verdict,
                    "two reviews on the PR",
                    "has 1 approving review(s); at least 2 required",
                );
            }
            ("pr-review-required", _) => {
                assert_fail(
                    &r.outcome.verdict,
                    "two reviews in the rulesets",
                    "'master' require 1 approving review(s); at least 2 required",
                );
            }
            _ => {}
        }
    }
    // Only master: both checks pass on the settings; the PR to main is out of scope.
    let results = run(&[("branches", "master")]);
    assert!(
        results.iter().all(|r| r.outcome.verdict.passed()),
        "{results:?}"
    );
}

#[test]
fn slsa_checks_group_on_provenance_materials() {
    let group = builtin::group("slsa-checks").unwrap();
    let attached: Vec<&str> = group
        .spec
        .policies
        .attestation
        .iter()
        .map(|a| a.reference.as_str())
        .collect();
    assert_eq!(
        attached,
        [
            "slsa-provenance",
            "source-commit",
            "runner-automated",
            "runner-authenticated"
        ]
    );
    let Some(bytes) =
        fixture("slsa-provenance/slsa-verifier-gha_generic-v1.2.1-push-v14.intoto.jsonl")
    else {
        return;
    };
    let materials = [
        material("provenance.intoto.json", &first_line(&bytes), SLSA),
        material("other.json", V02_STATEMENT.as_bytes(), SLSA),
    ];
    let run = |args: &[(&str, &str)]| {
        evaluate_group(
            group,
            &with(args),
            &materials,
            resolve,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    };
    let results = run(&[]);
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r.outcome.verdict.passed()),
        "{results:?}"
    );
    let results = run(&[(
        "allowed_builders",
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml",
    )]);
    assert!(
        results.iter().all(|r| r.outcome.verdict.passed()),
        "{results:?}"
    );
    let results = run(&[("allowed_builders", "https://github.com/acme/builder")]);
    assert!(
        results
            .iter()
            .all(|r| messages(&r.outcome.verdict)[0].contains("is not allowed")),
        "{results:?}"
    );
}
