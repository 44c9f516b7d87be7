//! Decoding manifests: every validation rule, as the diagnostics a user sees.

use comply_core::resource::{Resource, parse_file};

/// Renders what a user would see for a file: each diagnostic on a line.
fn diagnostics(text: &str) -> String {
    let (_, diags) = parse_file("manifest.yaml", text, "acme");
    assert!(!diags.is_empty(), "expected problems, found none");
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_ok(text: &str) -> Vec<Resource> {
    let (docs, diags) = parse_file("manifest.yaml", text, "acme");
    assert!(diags.is_empty(), "unexpected problems: {diags:?}");
    docs.into_iter().map(|d| d.resource).collect()
}

const BRIEF_REQUIREMENT: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: no-vulnerabilities-high
  displayName: No High-Severity Vulnerabilities
  description: |
    All software artifacts must not contain any unresolved
    high-severity vulnerabilities at the time of deployment.
  annotations:
    categories: security, vulnerabilities
spec:
  policies:
    - ref: cves-in-kev
    - ref: vulnerabilities
      with:
        severity: "HIGH"
"#;

const BRIEF_FRAMEWORK: &str = r#"apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: my-best-practices
  displayName: Best Practices
  description: Internal security best practices
spec:
  sections:
    - name: Source Code
      description: Source code integrity and secure development practices.
      requirements:
        - ref: branch-protection
        - ref: code-review
        - ref: commits-signed-required
    - name: Artifacts
      description: Ensure artifacts are cryptographically signed before deployment.
      requirements:
        - ref: container-signed
    - name: Vulnerability Management
      description: Software is free from high-severity vulnerabilities.
      requirements:
        - ref: no-vulnerabilities-high
"#;

#[test]
fn product_brief_examples_decode() {
    let text = format!("{BRIEF_REQUIREMENT}---\n{BRIEF_FRAMEWORK}");
    let resources = parse_ok(&text);
    assert_eq!(resources.len(), 2);
    let Resource::Requirement(r) = &resources[0] else {
        panic!("first is a requirement")
    };
    assert_eq!(r.metadata.name, "no-vulnerabilities-high");
    assert_eq!(r.categories(), ["security", "vulnerabilities"]);
    assert_eq!(r.spec.policies[1].with["severity"], "HIGH");
    let Resource::Framework(f) = &resources[1] else {
        panic!("second is a framework")
    };
    let refs: Vec<_> = f.spec.all_refs().map(|r| r.reference.as_str()).collect();
    assert_eq!(
        refs,
        [
            "branch-protection",
            "code-review",
            "commits-signed-required",
            "container-signed",
            "no-vulnerabilities-high"
        ]
    );
}

#[test]
fn schema_output_round_trips_to_the_same_digest() {
    for text in [BRIEF_REQUIREMENT, BRIEF_FRAMEWORK] {
        let original = parse_ok(text).remove(0);
        let yaml = original.to_yaml();
        let again = parse_ok(&yaml).remove(0);
        assert_eq!(original, again, "round trip of:\n{yaml}");
        assert_eq!(original.digest(), again.digest());
    }
}

#[test]
fn schema_output_snapshot() {
    let r = parse_ok(BRIEF_REQUIREMENT).remove(0);
    insta::assert_snapshot!("requirement_schema", r.to_yaml());
    let f = parse_ok(BRIEF_FRAMEWORK).remove(0);
    insta::assert_snapshot!("framework_schema", f.to_yaml());
}

#[test]
fn normalization_makes_equivalent_documents_equal() {
    let a = parse_ok(
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\n  annotations:\n    scope: product\n    categories: a,b\nspec:\n  policies:\n    - ref: sbom-banned-licenses\n      periodicity: Daily\n      sla: 6\n      with:\n        licenses: [AGPL-3.0, GPL-3.0]\n",
    );
    let b = parse_ok(
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\n  annotations:\n    categories: ' a, b '\n    scope: PRODUCT\nspec:\n  policies:\n    - ref: sbom-banned-licenses\n      with:\n        licenses: \"AGPL-3.0\\nGPL-3.0\"\n      sla: \"6\"\n      periodicity: daily\n",
    );
    assert_eq!(a[0].digest(), b[0].digest());
}

/// Each row: a broken manifest and the diagnostics it must produce.
#[test]
fn validation_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "yaml_syntax",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: [x\n",
        ),
        (
            "unknown_fields_suggest",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\n  displayname: R\nspec:\n  polices:\n    - ref: x\n",
        ),
        (
            "missing_fields",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  displayName: R\n",
        ),
        (
            "wrong_api_version_and_kind",
            "apiVersion: chainloop.dev/v2\nkind: Requirment\nmetadata:\n  name: r\nspec: {}\n",
        ),
        (
            "invalid_name",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: No_Vulns\nspec:\n  policies: [{ref: x}]\n",
        ),
        (
            "invalid_enums",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\n  annotations:\n    scope: TEAM\nspec:\n  policies:\n    - ref: x\n      periodicity: daly\n  manual_proofs:\n    - name: doc\n      periodicity: every-full-moon\n",
        ),
        (
            "no_policies_nor_proofs",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\nspec:\n  policies: []\n",
        ),
        (
            "bad_sla_and_optional",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\nspec:\n  policies:\n    - ref: x\n      sla: -3\n  manual_proofs:\n    - name: review\n      optional: maybe\n",
        ),
        (
            "duplicate_ref_across_sections",
            "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: f\nspec:\n  requirements:\n    - ref: a\n  sections:\n    - name: S\n      sections:\n        - name: T\n          requirements:\n            - ref: b\n            - ref: a\n",
        ),
        (
            "other_organization",
            "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: f\n  organization: globex\nspec: {}\n",
        ),
        (
            "errors_in_two_documents",
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: ok\nspec:\n  manual_proofs: [{name: p}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: F\nspec:\n  requirements: [{ref: x, weight: 2}]\n",
        ),
    ];
    let mut rendered = String::new();
    for (name, text) in cases {
        rendered.push_str(&format!("## {name}\n{}\n\n", diagnostics(text)));
    }
    insta::assert_snapshot!("validation_errors", rendered);
}

#[test]
fn contracts_and_products_decode_with_their_rules() {
    use comply_core::resource::{Resource, parse_file};
    let contract = "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata: {name: build}\nspec:\n  materials:\n    - {name: sbom, type: SBOM_CYCLONEDX_JSON}\n    - {name: sbom, type: SARIF}\n  policies:\n    materials:\n      - {ref: sbom-ntia, selector: {name: nope}}\n  policyGroups:\n    - {ref: sbom-quality, requirements: [\"Bad Ref\"]}\n";
    let (docs, problems) = parse_file("c.yaml", contract, "acme");
    assert!(docs.is_empty());
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("material 'sbom' is declared twice")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("selector.name 'nope' is not a material")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("invalid requirement reference 'Bad Ref'")),
        "{text:?}"
    );

    let legacy = "schemaVersion: v1\nmaterials:\n  - {name: sbom, type: SBOM_CYCLONEDX_JSON}\n";
    let (_, problems) = parse_file("legacy.yaml", legacy, "acme");
    assert!(
        problems[0]
            .to_string()
            .starts_with("legacy.yaml:1:1: a legacy `schemaVersion: v1` contract"),
        "{problems:?}"
    );

    // Named by the CLI, the same text decodes (decision 0023) and keeps its bytes.
    let ctx = comply_core::resource::FileContext {
        name: Some("legacy-build".into()),
        ..Default::default()
    };
    let (docs, problems) =
        comply_core::resource::parse_file_with("legacy.yaml", legacy, "acme", &ctx);
    assert!(problems.is_empty(), "{problems:?}");
    let Resource::Contract(c) = &docs[0].resource else {
        panic!()
    };
    assert_eq!(c.metadata.name, "legacy-build");
    assert_eq!(c.spec.materials[0].name, "sbom");
    assert_eq!(c.raw, legacy);
    let bad = comply_core::resource::FileContext {
        name: Some("Bad_Name".into()),
        ..Default::default()
    };
    let (_, problems) = comply_core::resource::parse_file_with("legacy.yaml", legacy, "acme", &bad);
    assert!(
        problems[0]
            .to_string()
            .contains("invalid contract name 'Bad_Name'")
    );
    let (_, problems) = parse_file("v0.yaml", "schemaVersion: v0\nmaterials: []\n", "acme");
    assert_eq!(problems.len(), 1, "{problems:?}");

    // File references resolve to the names the CLI supplied, and say where they came from.
    let with_file = "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata: {name: c}\nspec:\n  policies:\n    attestation:\n      - ref: file://p.yaml\n  policyGroups:\n    - ref: https://example.com/g.yaml\n";
    let mut ctx = comply_core::resource::FileContext::default();
    ctx.refs.insert("file://p.yaml".into(), "p".into());
    ctx.refs
        .insert("https://example.com/g.yaml".into(), "g".into());
    let (docs, problems) =
        comply_core::resource::parse_file_with("c.yaml", with_file, "acme", &ctx);
    assert!(problems.is_empty(), "{problems:?}");
    let Resource::Contract(c) = &docs[0].resource else {
        panic!()
    };
    assert_eq!(c.spec.policies.attestation[0].reference, "p");
    assert_eq!(
        c.spec.policies.attestation[0].source.as_deref(),
        Some("file://p.yaml")
    );
    assert_eq!(c.spec.policy_groups[0].reference, "g");
    assert_eq!(
        c.context().refs,
        ctx.refs,
        "the stored contract decodes again"
    );
    let refs: Vec<&str> = docs[0].refs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(refs, ["p", "g"]);
    // Without them, the server says who reads files.
    let (_, problems) = parse_file("c.yaml", with_file, "acme");
    assert!(
        problems[0]
            .to_string()
            .starts_with("c.yaml:7:14: the policy 'file://p.yaml' was not supplied"),
        "{problems:?}"
    );

    // The empty contract of Chainloop's examples.
    let (docs, problems) = parse_file(
        "e.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata: {name: e}\nspec:\n",
        "acme",
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(docs[0].resource.name(), "e");

    // The exact text is kept: another spelling of the same contract is a new revision.
    let a = "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata: {name: build}\nspec:\n  materials: [{name: sbom, type: SBOM_CYCLONEDX_JSON}]\n";
    let b = a.replace("metadata: {name: build}", "metadata:\n  name: build");
    let parse = |t: &str| parse_file("c.yaml", t, "acme").0.remove(0).resource;
    let (ra, rb) = (parse(a), parse(&b));
    assert_ne!(ra.digest(), rb.digest());
    assert_eq!(ra.to_yaml(), a);
    let Resource::Contract(c) = &ra else { panic!() };
    assert_eq!(c.spec.materials[0].material_type, "SBOM_CYCLONEDX_JSON");

    let product = "apiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: portal}\nspec:\n  projects: [api]\n  versions:\n    - name: \"2.4\"\n      frameworks: [fw, fw]\n      projectVersions: {web: \"1\"}\n  applicability:\n    - {requirement: r, project: web, applicable: false}\n";
    let (_, problems) = parse_file("p.yaml", product, "acme");
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("framework 'fw' is attached twice")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("'web' is not one of spec.projects")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("project 'web' is not one of spec.projects")),
        "{text:?}"
    );
}
