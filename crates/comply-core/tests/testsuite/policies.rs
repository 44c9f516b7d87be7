//! Decoding Chainloop `Policy` and `PolicyGroup` documents.

use comply_core::resource::{InputType, IntKind, Kind, Resource, parse_file};

pub const POLICY: &str = r#"apiVersion: workflowcontract.chainloop.dev/v1
kind: Policy
metadata:
  name: vulnerabilities
  description: No vulnerabilities at or above a severity
  findingType: VULNERABILITY
  annotations:
    category: vulnerabilities
spec:
  inputs:
    - name: severity
      description: lowest severity that fails
      default: HIGH
      type: severity
    - name: max_age_days
      type: int
      kind: max
  policies:
    - kind: SARIF
      embedded: |
        package main
        import rego.v1
        violations contains "x" if false
    - kind: ATTESTATION
      attestationPhases: [PUSH]
      embedded: |
        package main
        import rego.v1
        violations contains "y" if false
"#;

pub const GROUP: &str = r#"apiVersion: chainloop.dev/v1
kind: PolicyGroup
metadata:
  name: sbom-quality
spec:
  inputs:
    - {name: sbom_name, required: true}
    - {name: bannedLicenses, default: "AGPL-3.0-only"}
  policies:
    materials:
      - name: "{{ inputs.sbom_name }}"
        type: SBOM_CYCLONEDX_JSON
        matchMode: EXACT
        policies:
          - ref: sbom-banned-licenses
            with: {licenses: "{{ inputs.bannedLicenses }}"}
            requirements: [my-bp/no-agpl, acme/cra/cra-annex1-p1-2a@2024]
    attestation:
      - ref: chainloop://builtin:sbom-present
        gate: true
"#;

#[test]
fn policy_decodes_and_normalizes() {
    let (docs, diags) = parse_file("p.yaml", POLICY, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    let Resource::Policy(p) = &docs[0].resource else {
        panic!("a policy")
    };
    assert_eq!(p.metadata.finding_type.as_deref(), Some("VULNERABILITY"));
    assert_eq!(p.spec.inputs[0].input_type, Some(InputType::Severity));
    assert_eq!(p.spec.inputs[1].kind, Some(IntKind::Max));
    assert_eq!(p.spec.policies[1].attestation_phases, ["PUSH"]);
    assert_eq!(docs[0].scripts.len(), 2);
    assert_eq!(
        docs[0].scripts[0].pos.line, 21,
        "the embedded block's position"
    );
    let yaml = docs[0].resource.to_yaml();
    assert!(
        yaml.starts_with("apiVersion: chainloop.dev/v1\nkind: Policy\n"),
        "{yaml}"
    );
    let (again, diags) = parse_file("again.yaml", &yaml, "acme");
    assert!(diags.is_empty(), "{diags:?}\n{yaml}");
    assert_eq!(again[0].resource.digest(), docs[0].resource.digest());
}

#[test]
fn legacy_policy_form() {
    let legacy = "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: old\nspec:\n  type: SBOM_SPDX_JSON\n  embedded: |\n    package main\n    violations[msg] { false; msg := \"\" }\n";
    let (docs, diags) = parse_file("legacy.yaml", legacy, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    let Resource::Policy(p) = &docs[0].resource else {
        panic!("a policy")
    };
    assert_eq!(p.spec.policies[0].kind.as_deref(), Some("SBOM_SPDX_JSON"));
}

#[test]
fn legacy_policy_without_type_applies_to_any_kind() {
    let legacy = "apiVersion: workflowcontract.chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: old\nspec:\n  embedded: |\n    package main\n    violations[msg] { false; msg := \"\" }\n";
    let (docs, diags) = parse_file("legacy.yaml", legacy, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    let Resource::Policy(p) = &docs[0].resource else {
        panic!("a policy")
    };
    assert_eq!(p.spec.policies.len(), 1);
    assert_eq!(p.spec.policies[0].kind, None);
}

#[test]
fn scripts_by_path_take_what_the_cli_read() {
    let text = "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  policies:\n    - kind: SARIF\n      path: p.rego\n";
    let mut ctx = comply_core::resource::FileContext::default();
    ctx.scripts.insert(
        "p.rego".into(),
        comply_core::resource::ResolvedScript {
            content: "package main\n".into(),
            origin: "dir/p.rego".into(),
        },
    );
    let (docs, diags) = comply_core::resource::parse_file_with("dir/p.yaml", text, "acme", &ctx);
    assert!(diags.is_empty(), "{diags:?}");
    let Resource::Policy(p) = &docs[0].resource else {
        panic!("a policy")
    };
    assert_eq!(p.spec.policies[0].embedded, "package main\n");
    assert_eq!(p.spec.policies[0].source.as_deref(), Some("dir/p.rego"));
    assert_eq!(docs[0].scripts[0].origin.as_deref(), Some("dir/p.rego"));
    // Written back, it applies again as the same document.
    let yaml = docs[0].resource.to_yaml();
    let (again, diags) = parse_file("again.yaml", &yaml, "acme");
    assert!(diags.is_empty(), "{diags:?}\n{yaml}");
    assert_eq!(again[0].resource.digest(), docs[0].resource.digest());
}

#[test]
fn groups_embed_whole_policies() {
    let text = "apiVersion: chainloop.dev/v1\nkind: PolicyGroup\nmetadata: {name: g}\nspec:\n  policies:\n    attestation:\n      - embedded:\n          apiVersion: chainloop.dev/v1\n          kind: Policy\n          metadata: {name: inline}\n          spec:\n            policies:\n              - kind: ATTESTATION\n                embedded: \"package main\\n\"\n";
    let (docs, diags) = parse_file("g.yaml", text, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    let kinds: Vec<_> = docs
        .iter()
        .map(|d| (d.resource.kind(), d.resource.name()))
        .collect();
    assert_eq!(kinds, [(Kind::Policy, "inline"), (Kind::PolicyGroup, "g")]);
    let Resource::PolicyGroup(g) = &docs[1].resource else {
        panic!("a group")
    };
    assert_eq!(g.spec.policies.attestation[0].reference, "inline");
    assert_eq!(
        g.spec.policies.attestation[0].source.as_deref(),
        Some("embedded")
    );
    let yaml = docs[1].resource.to_yaml();
    let (again, diags) = parse_file("again.yaml", &yaml, "acme");
    assert!(diags.is_empty(), "{diags:?}\n{yaml}");
    assert_eq!(again[0].resource, docs[1].resource);
    // Chainloop embeds the Policy message itself: apiVersion and kind may be absent.
    let bare = text.replace(
        "          apiVersion: chainloop.dev/v1\n          kind: Policy\n",
        "",
    );
    let (docs, diags) = parse_file("g.yaml", &bare, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(docs[0].resource.name(), "inline");
}

#[test]
fn group_decodes_with_references() {
    let (docs, diags) = parse_file("g.yaml", GROUP, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    let refs: Vec<_> = docs[0]
        .refs
        .iter()
        .map(|r| (r.kind, r.name.as_str()))
        .collect();
    assert_eq!(
        refs,
        [
            (Kind::Policy, "sbom-banned-licenses"),
            (Kind::Policy, "sbom-present")
        ]
    );
    let Resource::PolicyGroup(g) = &docs[0].resource else {
        panic!("a group")
    };
    assert_eq!(
        g.spec.policies.materials[0].match_mode.as_deref(),
        Some("EXACT")
    );
    assert_eq!(g.spec.policies.attestation[0].gate, Some(true));
    let yaml = docs[0].resource.to_yaml();
    let (again, diags) = parse_file("again.yaml", &yaml, "acme");
    assert!(diags.is_empty(), "{diags:?}\n{yaml}");
    assert_eq!(again[0].resource, docs[0].resource);
}

#[test]
fn policy_validation_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "script_by_path",
            "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  policies:\n    - kind: SARIF\n      path: policy.rego\n",
        ),
        (
            "inputs",
            "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  inputs:\n    - {name: 1bad}\n    - {name: age, type: int}\n    - {name: sev, type: severty}\n    - {name: req, required: true, default: x}\n  policies:\n    - {kind: SBOM, embedded: 'package main'}\n",
        ),
        (
            "group_attachments",
            "apiVersion: chainloop.dev/v1\nkind: PolicyGroup\nmetadata:\n  name: g\nspec:\n  policies:\n    attestation:\n      - ref: file://p.yaml\n      - ref: ok\n        requirements: [not-a-requirement-ref]\n      - embedded: {}\n",
        ),
        (
            "finding_type_on_group",
            "apiVersion: chainloop.dev/v1\nkind: PolicyGroup\nmetadata:\n  name: g\n  finding_type: SAST\nspec:\n  policies: {}\n",
        ),
    ];
    let mut rendered = String::new();
    for (name, text) in cases {
        let (_, diags) = parse_file("policy.yaml", text, "acme");
        assert!(!diags.is_empty(), "{name}");
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        rendered.push_str(&format!("## {name}\n{}\n\n", lines.join("\n")));
    }
    insta::assert_snapshot!("policy_validation_errors", rendered);
}
