//! Requirement coverage (semantics §5): the product brief's example, groups with
//! templated inputs, `skip`, disabled attachments, explicit references, auto-matching
//! off, digest pins, the union over a project's contracts, filters and drafts.

use comply_core::coverage::{
    ContractIndex, Coverage, CoverageContext, CoverageFilter, CoverageReport, PolicyMatchStatus,
    ProjectInput, bind, coverage, effective_arguments, filter, flatten, requirement_coverage,
};
use comply_core::resource::{
    Contract, InputType, IntKind, PolicyGroup, PolicyInput, Requirement, Resource, parse_file,
};
use comply_core::status::{AutoMatchHook, MatchSource};
use serde_json::json;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------
// Builders

const ORG: &str = "acme";

fn input(name: &str, ty: Option<InputType>, default: Option<&str>) -> PolicyInput {
    PolicyInput {
        name: name.into(),
        description: None,
        required: false,
        default: default.map(Into::into),
        input_type: ty,
        kind: (ty == Some(InputType::Int)).then_some(IntKind::Max),
    }
}

/// Declared inputs. `vulnerabilities` defaults to CRITICAL, looser than HIGH.
fn catalog() -> BTreeMap<String, Vec<PolicyInput>> {
    let mut required = input("limit", Some(InputType::Int), None);
    required.required = true;
    BTreeMap::from([
        (
            "vulnerabilities".to_owned(),
            vec![input(
                "severity",
                Some(InputType::Severity),
                Some("CRITICAL"),
            )],
        ),
        ("container-signed".to_owned(), vec![]),
        (
            "sbom-banned-licenses".to_owned(),
            vec![input("licenses", Some(InputType::DenyList), None)],
        ),
        ("sbom-present".to_owned(), vec![]),
        ("sbom-freshness".to_owned(), vec![required]),
    ])
}

fn parse(yaml: &str) -> Resource {
    let (mut docs, diags) = parse_file("test.yaml", yaml, ORG);
    assert!(diags.is_empty(), "{diags:?}\n{yaml}");
    assert_eq!(docs.len(), 1);
    docs.remove(0).resource
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect::<String>()
}

/// A v2 contract named `name` with this `spec` (YAML, unindented).
fn contract(name: &str, spec: &str) -> Contract {
    let yaml = format!(
        "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: {name}\nspec:\n{}",
        indent(spec)
    );
    match parse(&yaml) {
        Resource::Contract(c) => c,
        other => panic!("a contract: {other:?}"),
    }
}

fn group(name: &str, spec: &str) -> PolicyGroup {
    let yaml = format!(
        "apiVersion: chainloop.dev/v1\nkind: PolicyGroup\nmetadata:\n  name: {name}\nspec:\n{}",
        indent(spec)
    );
    match parse(&yaml) {
        Resource::PolicyGroup(g) => g,
        other => panic!("a group: {other:?}"),
    }
}

fn requirement(name: &str, spec: &str) -> Requirement {
    let yaml = format!(
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: {name}\nspec:\n{}",
        indent(spec)
    );
    match parse(&yaml) {
        Resource::Requirement(r) => r,
        other => panic!("a requirement: {other:?}"),
    }
}

/// `supply-chain`: container policies with a templated severity (default MEDIUM), a
/// banned-licenses list (default AGPL-3.0, GPL-3.0), a disabled `sbom-present`.
/// `release-gate`: a required input and no default.
fn groups() -> BTreeMap<String, PolicyGroup> {
    BTreeMap::from([
        (
            "supply-chain".to_owned(),
            group(
                "supply-chain",
                r#"inputs:
  - {name: severity, default: MEDIUM}
  - {name: licenses, default: "AGPL-3.0, GPL-3.0"}
policies:
  materials:
    - type: CONTAINER_IMAGE
      policies:
        - ref: container-signed
        - ref: vulnerabilities
          with: {severity: "{{ inputs.severity }}"}
  attestation:
    - ref: sbom-banned-licenses
      with: {licenses: "{{inputs.licenses}}"}
    - ref: sbom-present
      disabled: true
"#,
            ),
        ),
        (
            "release-gate".to_owned(),
            group(
                "release-gate",
                r#"inputs:
  - {name: max_severity, required: true}
policies:
  attestation:
    - ref: vulnerabilities
      with: {severity: "{{ inputs.max_severity }}"}
"#,
            ),
        ),
    ])
}

/// The product brief's requirement.
fn container_security() -> Requirement {
    requirement(
        "container-security",
        r#"policies:
  - ref: container-signed
  - ref: vulnerabilities
    with:
      severity: "HIGH"
"#,
    )
}

fn frameworks() -> Vec<String> {
    vec!["my-bp".to_owned()]
}

fn project(name: &str, contracts: &[&str]) -> ProjectInput {
    ProjectInput {
        name: name.into(),
        contracts: contracts.iter().map(|c| (*c).to_owned()).collect(),
        assigned: true,
        products: vec!["portal".into()],
    }
}

/// (policy, match, source) per requirement policy of one contract.
type Row = (String, PolicyMatchStatus, Option<MatchSource>);

fn rows(report: &CoverageReport, project: &str, contract: &str) -> Vec<Row> {
    let p = report
        .projects
        .iter()
        .find(|p| p.project == project)
        .unwrap_or_else(|| panic!("project {project}"));
    let c = p
        .contracts
        .iter()
        .find(|c| c.contract == contract)
        .unwrap_or_else(|| panic!("contract {contract}"));
    c.policies
        .iter()
        .map(|m| (m.policy.clone(), m.status, m.source))
        .collect()
}

/// Coverage of `requirement` for one project per contract (project name = contract
/// name).
fn one_per_contract(
    ctx: &CoverageContext<'_>,
    requirement: &Requirement,
    contracts: &[Contract],
) -> CoverageReport {
    let projects: Vec<ProjectInput> = contracts
        .iter()
        .map(|c| project(&c.metadata.name, &[c.metadata.name.as_str()]))
        .collect();
    requirement_coverage(
        ctx,
        &groups(),
        contracts,
        requirement,
        &frameworks(),
        &projects,
    )
}

use MatchSource::{Auto, Explicit};
use PolicyMatchStatus::{Matched as M, NotMatched as N, ParameterMismatch as X};

// ---------------------------------------------------------------------------------
// Classification of one contract against `container-security`

/// (contract spec, container-signed, vulnerabilities), each (match, source).
type Case = (
    &'static str,
    &'static str,
    (PolicyMatchStatus, Option<MatchSource>),
    (PolicyMatchStatus, Option<MatchSource>),
);

const CASES: &[Case] = &[
    (
        "both-compatible",
        "policies:\n  materials:\n    - ref: container-signed\n    - {ref: vulnerabilities, with: {severity: HIGH}}",
        (M, Some(Auto)),
        (M, Some(Auto)),
    ),
    (
        "stricter-medium",
        "policies:\n  attestation:\n    - ref: container-signed\n    - {ref: vulnerabilities, with: {severity: MEDIUM}}",
        (M, Some(Auto)),
        (M, Some(Auto)),
    ),
    (
        "looser-critical",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}}",
        (N, None),
        (X, None),
    ),
    (
        "default-applies",
        "policies:\n  attestation:\n    - ref: vulnerabilities",
        (N, None),
        (X, None),
    ),
    (
        "signed-only",
        "policies:\n  attestation:\n    - ref: container-signed",
        (M, Some(Auto)),
        (N, None),
    ),
    (
        "nothing",
        "policies:\n  attestation:\n    - ref: sbom-present",
        (N, None),
        (N, None),
    ),
    (
        "normalised-reference",
        "policies:\n  attestation:\n    - ref: chainloop://builtin:container-signed\n    - {ref: acme/vulnerabilities, with: {severity: high}}",
        (M, Some(Auto)),
        (M, Some(Auto)),
    ),
    (
        "best-of-two",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}}\n    - {ref: vulnerabilities, with: {severity: LOW}}",
        (N, None),
        (M, Some(Auto)),
    ),
    (
        "disabled",
        "policies:\n  attestation:\n    - ref: container-signed\n    - {ref: vulnerabilities, with: {severity: HIGH}, disabled: true}",
        (M, Some(Auto)),
        (N, None),
    ),
    (
        "group-defaults",
        "policyGroups:\n  - ref: supply-chain",
        (M, Some(Auto)),
        (M, Some(Auto)),
    ),
    (
        "group-input-too-loose",
        "policyGroups:\n  - {ref: supply-chain, with: {severity: CRITICAL}}",
        (M, Some(Auto)),
        (X, None),
    ),
    (
        "group-skip",
        "policyGroups:\n  - {ref: supply-chain, skip: [vulnerabilities]}",
        (M, Some(Auto)),
        (N, None),
    ),
    (
        "group-required-input-missing",
        "policyGroups:\n  - ref: release-gate",
        (N, None),
        (N, None),
    ),
    (
        "group-required-input-given",
        "policyGroups:\n  - {ref: release-gate, with: {max_severity: HIGH}}",
        (N, None),
        (M, Some(Auto)),
    ),
    (
        "group-unknown",
        "policyGroups:\n  - ref: no-such-group",
        (N, None),
        (N, None),
    ),
    (
        "explicit-beats-arguments",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [my-bp/container-security]}",
        (N, None),
        (M, Some(Explicit)),
    ),
    (
        "explicit-with-org",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [acme/my-bp/container-security@2]}",
        (N, None),
        (M, Some(Explicit)),
    ),
    (
        "explicit-other-org",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [globex/my-bp/container-security]}",
        (N, None),
        (X, None),
    ),
    (
        "explicit-other-framework",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [other-fw/container-security]}",
        (N, None),
        (X, None),
    ),
    (
        "explicit-other-requirement",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [my-bp/sbom-quality]}",
        (N, None),
        (X, None),
    ),
    (
        "explicit-and-compatible",
        "policies:\n  attestation:\n    - {ref: container-signed, requirements: [my-bp/container-security]}",
        (M, Some(Explicit)),
        (N, None),
    ),
    (
        "explicit-on-group",
        "policyGroups:\n  - {ref: release-gate, with: {max_severity: CRITICAL}, requirements: [my-bp/container-security]}",
        (N, None),
        (M, Some(Explicit)),
    ),
    (
        "explicit-in-group-without-inputs",
        "policyGroups:\n  - {ref: release-gate, requirements: [my-bp/container-security]}",
        (N, None),
        (N, None),
    ),
];

#[test]
fn classification_table() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let contracts: Vec<Contract> = CASES
        .iter()
        .map(|(name, spec, _, _)| contract(name, spec))
        .collect();
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    assert_eq!(report.policies, ["container-signed", "vulnerabilities"]);
    // The one-shot call flattens only what the requirement can use; a kept index has
    // everything. Same answer.
    let index = ContractIndex::build(&contracts, &policies, &groups());
    let projects: Vec<ProjectInput> = CASES
        .iter()
        .map(|(name, _, _, _)| project(name, &[name]))
        .collect();
    assert_eq!(
        coverage(
            &ctx,
            &index,
            &container_security(),
            &frameworks(),
            &projects
        ),
        report
    );
    for (name, _, signed, vulns) in CASES {
        let expected = vec![
            ("container-signed".to_owned(), signed.0, signed.1),
            ("vulnerabilities".to_owned(), vulns.0, vulns.1),
        ];
        assert_eq!(rows(&report, name, name), expected, "case {name}");
    }
}

#[test]
fn explanations() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let contracts: Vec<Contract> = CASES
        .iter()
        .map(|(name, spec, _, _)| contract(name, spec))
        .collect();
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    let find = |name: &str| {
        let p = report.projects.iter().find(|p| p.project == name).unwrap();
        (p.contracts[0].clone(), p.contracts[0].policies[1].clone())
    };

    let (_, vulns) = find("looser-critical");
    assert_eq!(vulns.arguments.len(), 1);
    assert_eq!(vulns.arguments[0].evaluated.as_deref(), Some("CRITICAL"));
    assert_eq!(vulns.arguments[0].required, "HIGH");
    assert!(!vulns.arguments[0].compatible);
    assert_eq!(
        vulns.reason.as_deref(),
        Some("incompatible arguments: severity")
    );

    let (_, vulns) = find("default-applies");
    assert_eq!(
        vulns.arguments[0].evaluated.as_deref(),
        Some("CRITICAL"),
        "the policy's default"
    );

    let (_, vulns) = find("group-defaults");
    assert_eq!(vulns.group.as_deref(), Some("supply-chain"));
    assert_eq!(
        vulns.arguments[0].evaluated.as_deref(),
        Some("MEDIUM"),
        "the group input's default, bound into the member's `with`"
    );

    let (_, vulns) = find("group-skip");
    assert_eq!(
        vulns.reason.as_deref(),
        Some("skipped in policy group 'supply-chain'")
    );
    let (_, vulns) = find("disabled");
    assert_eq!(vulns.reason.as_deref(), Some("attached but disabled"));

    let (c, vulns) = find("group-required-input-missing");
    let why = "policy group 'release-gate' cannot be evaluated as configured: missing required input 'max_severity'";
    assert_eq!(vulns.reason.as_deref(), Some(why));
    assert_eq!(vulns.group.as_deref(), Some("release-gate"));
    assert_eq!(c.problems, [why]);
    let (_, vulns) = find("explicit-in-group-without-inputs");
    assert_eq!(
        vulns.reason.as_deref(),
        Some(why),
        "no evaluation, no mapping"
    );

    let (c, _) = find("group-unknown");
    assert_eq!(c.problems, ["policy group 'no-such-group' is not known"]);

    let (_, vulns) = find("explicit-beats-arguments");
    assert!(!vulns.arguments[0].compatible, "still shown");
    assert_eq!(vulns.reason, None);
}

#[test]
fn contract_match_levels() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let contracts: Vec<Contract> = CASES
        .iter()
        .map(|(name, spec, _, _)| contract(name, spec))
        .collect();
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    let level = |name: &str| {
        let p = report.projects.iter().find(|p| p.project == name).unwrap();
        assert_eq!(p.coverage, p.contracts[0].status, "one contract: the same");
        p.coverage
    };
    assert_eq!(level("both-compatible"), Coverage::Full);
    assert_eq!(level("signed-only"), Coverage::Partial);
    assert_eq!(level("looser-critical"), Coverage::None);
    assert_eq!(level("nothing"), Coverage::None);
    let sorted: Vec<&str> = report.projects.iter().map(|p| p.project.as_str()).collect();
    let mut expected = sorted.clone();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "projects sorted by name");
}

// ---------------------------------------------------------------------------------
// The product brief's example, projects and unions

/// (project, coverage, [(contract, match)])
type Summary<'a> = (&'a str, Coverage, Vec<(&'a str, Coverage)>);

fn brief_contracts() -> Vec<Contract> {
    vec![
        contract(
            "full",
            "policies:\n  materials:\n    - ref: container-signed\n    - {ref: vulnerabilities, with: {severity: HIGH}}",
        ),
        contract(
            "signed",
            "policies:\n  materials:\n    - ref: container-signed",
        ),
        contract(
            "unrelated",
            "policies:\n  attestation:\n    - ref: sbom-present",
        ),
        contract(
            "legacy",
            "policies:\n  attestation:\n    - ref: sbom-freshness\n      with: {limit: \"30\"}",
        ),
        contract(
            "scan-critical",
            "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}}",
        ),
        contract(
            "scan-medium",
            "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: MEDIUM}}",
        ),
    ]
}

fn brief_projects() -> Vec<ProjectInput> {
    let mut c = project("project-c", &["unrelated", "legacy"]);
    c.assigned = false;
    c.products = vec!["intranet".into()];
    vec![
        project("project-a", &["full"]),
        project("project-b", &["signed"]),
        c,
        // Each contract covers one policy: together, all.
        project("project-d", &["signed", "scan-medium"]),
        // Covers container-signed; the scan is too loose.
        project("project-e", &["signed", "scan-critical", "signed"]),
        project("project-f", &[]),
        project("project-g", &["deleted-contract"]),
    ]
}

#[test]
fn product_brief_example() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = requirement_coverage(
        &ctx,
        &groups(),
        &brief_contracts(),
        &container_security(),
        &frameworks(),
        &brief_projects(),
    );
    let summary: Vec<Summary<'_>> = report
        .projects
        .iter()
        .map(|p| {
            (
                p.project.as_str(),
                p.coverage,
                p.contracts
                    .iter()
                    .map(|c| (c.contract.as_str(), c.status))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("project-a", Coverage::Full, vec![("full", Coverage::Full)]),
            (
                "project-b",
                Coverage::Partial,
                vec![("signed", Coverage::Partial)]
            ),
            (
                "project-c",
                Coverage::None,
                vec![("legacy", Coverage::None), ("unrelated", Coverage::None)]
            ),
            (
                "project-d",
                Coverage::Full,
                vec![
                    ("scan-medium", Coverage::Partial),
                    ("signed", Coverage::Partial)
                ]
            ),
            (
                "project-e",
                Coverage::Partial,
                vec![
                    ("scan-critical", Coverage::None),
                    ("signed", Coverage::Partial)
                ]
            ),
            ("project-f", Coverage::None, vec![]),
            (
                "project-g",
                Coverage::None,
                vec![("deleted-contract", Coverage::None)]
            ),
        ]
    );
    assert_eq!(
        rows(&report, "project-e", "scan-critical")[1],
        ("vulnerabilities".into(), X, None)
    );
    assert_eq!(
        rows(&report, "project-d", "scan-medium")[1],
        ("vulnerabilities".into(), M, Some(Auto))
    );
    let e = &report.projects[4];
    assert_eq!(e.unmatched, ["vulnerabilities"]);
    assert!(report.projects[0].unmatched.is_empty());
    assert!(report.projects[6].contracts[0].unknown);
    assert_eq!(report.counts(), (2, 2, 3));
}

/// The JSON shape of cli.md ("requirement coverage"); extra fields allowed.
#[test]
fn json_shape() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let contracts = brief_contracts();
    let report = requirement_coverage(
        &ctx,
        &groups(),
        &contracts,
        &container_security(),
        &frameworks(),
        &[project("project-b", &["signed"])],
    );
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(
        value,
        json!({
            "requirement": "container-security",
            "policies": ["container-signed", "vulnerabilities"],
            "auto_matching": true,
            "projects": [{
                "project": "project-b",
                "coverage": "PARTIAL",
                "assigned": true,
                "products": ["portal"],
                "unmatched": ["vulnerabilities"],
                "contracts": [{
                    "contract": "signed",
                    "match": "PARTIAL",
                    "policies": [
                        {"policy": "container-signed", "match": "MATCHED", "source": "auto",
                         "reference": "container-signed"},
                        {"policy": "vulnerabilities", "match": "NOT_MATCHED", "source": null}
                    ]
                }]
            }]
        })
    );
}

// ---------------------------------------------------------------------------------
// Settings, pins, hooks

#[test]
fn auto_matching_off_counts_only_explicit_references() {
    let policies = catalog();
    let mut ctx = CoverageContext::new(ORG, &policies);
    ctx.auto_matching = false;
    let contracts = vec![
        contract(
            "implicit",
            "policies:\n  attestation:\n    - ref: container-signed\n    - {ref: vulnerabilities, with: {severity: HIGH}}",
        ),
        contract(
            "explicit",
            "policies:\n  attestation:\n    - {ref: container-signed, requirements: [my-bp/container-security]}\n    - {ref: vulnerabilities, with: {severity: CRITICAL}, requirements: [my-bp/container-security]}",
        ),
    ];
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    assert!(!report.auto_matching);
    assert_eq!(
        rows(&report, "implicit", "implicit"),
        [
            ("container-signed".into(), N, None),
            ("vulnerabilities".into(), N, None)
        ]
    );
    let implicit = &report.projects[1].contracts[0].policies[1];
    assert!(
        implicit
            .reason
            .as_deref()
            .unwrap()
            .contains("auto-matching is off"),
        "{implicit:?}"
    );
    assert_eq!(
        rows(&report, "explicit", "explicit"),
        [
            ("container-signed".into(), M, Some(Explicit)),
            ("vulnerabilities".into(), M, Some(Explicit))
        ]
    );
}

#[test]
fn digest_pins() {
    let pin = format!("sha256:{}", "a".repeat(64));
    let other = format!("sha256:{}", "b".repeat(64));
    let req = requirement(
        "pinned",
        &format!("policies:\n  - ref: vulnerabilities@{pin}\n    with: {{severity: HIGH}}\n"),
    );
    let attach = |name: &str, reference: &str, extra: &str| {
        contract(
            name,
            &format!(
                "policies:\n  attestation:\n    - {{ref: \"{reference}\", with: {{severity: HIGH}}{extra}}}"
            ),
        )
    };
    let contracts = vec![
        attach("same-pin", &format!("vulnerabilities@{pin}"), ""),
        attach(
            "same-pin-upper",
            &format!(
                "vulnerabilities@{}",
                pin.to_uppercase().replace("SHA256", "sha256")
            ),
            "",
        ),
        attach("other-pin", &format!("vulnerabilities@{other}"), ""),
        attach("unpinned", "vulnerabilities", ""),
        attach(
            "other-pin-explicit",
            &format!("vulnerabilities@{other}"),
            ", requirements: [my-bp/pinned]",
        ),
    ];
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = one_per_contract(&ctx, &req, &contracts);
    assert_eq!(report.policies, ["vulnerabilities"]);
    let status = |r: &CoverageReport, name: &str| rows(r, name, name)[0].1;
    assert_eq!(status(&report, "same-pin"), M);
    assert_eq!(status(&report, "same-pin-upper"), M);
    assert_eq!(status(&report, "other-pin"), N);
    assert_eq!(
        status(&report, "unpinned"),
        N,
        "the current digest is unknown"
    );
    assert_eq!(
        status(&report, "other-pin-explicit"),
        N,
        "explicit mappings honour the pin"
    );
    let why = report.projects[1].contracts[0].policies[0]
        .reason
        .clone()
        .unwrap();
    assert!(why.contains(&other), "{why}");

    // The policy's current digest is what an unpinned attachment runs.
    let current = BTreeMap::from([("vulnerabilities".to_owned(), pin.clone())]);
    let mut ctx = CoverageContext::new(ORG, &policies);
    ctx.policy_digests = Some(&current);
    let report = one_per_contract(&ctx, &req, &contracts);
    assert_eq!(status(&report, "unpinned"), M);
    assert_eq!(status(&report, "other-pin"), N, "its own pin wins");
}

struct Lenient;

impl AutoMatchHook for Lenient {
    fn matches_parameters(
        &self,
        policy: &str,
        _arguments: &BTreeMap<String, String>,
        _expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        (policy == "vulnerabilities").then_some(true)
    }
}

#[test]
fn auto_match_module_decides_arguments() {
    let policies = catalog();
    let mut ctx = CoverageContext::new(ORG, &policies);
    ctx.hook = &Lenient;
    let contracts = vec![contract(
        "critical",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: CRITICAL}}",
    )];
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    let m = &report.projects[0].contracts[0].policies[1];
    assert_eq!((m.status, m.source), (M, Some(Auto)));
    assert!(m.decided_by_auto_match);
    assert!(
        !m.arguments[0].compatible,
        "the typed comparison, for contrast"
    );
}

// ---------------------------------------------------------------------------------
// Groups and templating

#[test]
fn group_members_get_bound_arguments() {
    let sbom = requirement(
        "sbom-quality",
        "policies:\n  - ref: sbom-banned-licenses\n    with: {licenses: AGPL-3.0}\n  - ref: sbom-present\n",
    );
    let contracts = vec![
        contract("defaults", "policyGroups:\n  - ref: supply-chain"),
        contract(
            "narrow",
            "policyGroups:\n  - {ref: supply-chain, with: {licenses: GPL-3.0}}",
        ),
        contract(
            "wide",
            "policyGroups:\n  - ref: supply-chain\n    with:\n      licenses: |\n        AGPL-3.0\n        SSPL\n",
        ),
        contract(
            "skip-licenses",
            "policyGroups:\n  - {ref: supply-chain, skip: [sbom-banned-licenses, not-a-member]}",
        ),
    ];
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = one_per_contract(&ctx, &sbom, &contracts);
    let rows_of = |name: &str| -> Vec<PolicyMatchStatus> {
        rows(&report, name, name).into_iter().map(|r| r.1).collect()
    };
    // `sbom-present` is disabled in the group: never matched through it.
    assert_eq!(rows_of("defaults"), [M, N]);
    assert_eq!(rows_of("narrow"), [X, N]);
    assert_eq!(rows_of("wide"), [M, N]);
    assert_eq!(rows_of("skip-licenses"), [N, N]);
    let sbom_present = &report.projects[0].contracts[0].policies[1];
    assert_eq!(
        sbom_present.reason.as_deref(),
        Some("attached but disabled")
    );
    let skip = report
        .projects
        .iter()
        .find(|p| p.project == "skip-licenses")
        .unwrap();
    assert_eq!(
        skip.contracts[0].problems,
        ["skip names 'not-a-member', which is not a policy of group 'supply-chain'"]
    );

    let index = ContractIndex::build(&contracts, &policies, &groups());
    let narrow = index.get("narrow").unwrap();
    assert_eq!(
        narrow.attachments[2].arguments,
        BTreeMap::from([("licenses".to_owned(), "GPL-3.0".to_owned())])
    );
    assert_eq!(
        narrow.attachments[1].arguments,
        BTreeMap::from([("severity".to_owned(), "MEDIUM".to_owned())]),
        "the group default where the contract gave no value"
    );
}

#[test]
fn flattening_direct_and_grouped() {
    let policies = catalog();
    let c = contract(
        "mixed",
        "policies:\n  materials:\n    - ref: container-signed\n  attestation:\n    - ref: sbom-freshness\npolicyGroups:\n  - {ref: supply-chain, with: {severity: LOW}}",
    );
    let flat = flatten(&c, &policies, &groups());
    let summary: Vec<(&str, Option<&str>, bool)> = flat
        .attachments
        .iter()
        .map(|a| (a.policy.as_str(), a.group.as_deref(), a.problem.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            ("container-signed", None, false),
            ("sbom-freshness", None, true),
            ("container-signed", Some("supply-chain"), false),
            ("vulnerabilities", Some("supply-chain"), false),
            ("sbom-banned-licenses", Some("supply-chain"), false),
        ]
    );
    assert_eq!(
        flat.attachments[1].problem.as_deref(),
        Some(
            "policy 'sbom-freshness' cannot be evaluated as configured: missing required input 'limit'"
        )
    );
    assert_eq!(flat.ignored.len(), 1, "the disabled sbom-present");
}

#[test]
fn templates_bind_like_chainloop() {
    let b = BTreeMap::from([
        ("severity".to_owned(), "HIGH".to_owned()),
        ("n".to_owned(), "3".to_owned()),
    ]);
    let cases = [
        ("{{ inputs.severity }}", "HIGH"),
        ("{{inputs.severity}}", "HIGH"),
        ("at {{  inputs.n }} or {{ inputs.severity}}", "at 3 or HIGH"),
        ("{{ inputs.missing }}", ""),
        ("{{ .Env.X }}", "{{ .Env.X }}"),
        ("plain", "plain"),
        ("{{ unterminated", "{{ unterminated"),
    ];
    for (template, expected) in cases {
        assert_eq!(bind(template, &b), expected, "{template:?}");
    }
    let inputs = [input("severity", Some(InputType::Severity), Some("LOW"))];
    let with = BTreeMap::from([
        ("severity".to_owned(), "{{ inputs.missing }}".to_owned()),
        ("undeclared".to_owned(), "x".to_owned()),
    ]);
    assert_eq!(
        effective_arguments(&inputs, &with, &b).unwrap(),
        BTreeMap::from([("severity".to_owned(), "LOW".to_owned())]),
        "empty after binding: the default; undeclared: dropped"
    );
}

// ---------------------------------------------------------------------------------
// Explicit-only, proof-only, drafts, filters

#[test]
fn explicit_mappings_of_unlisted_policies_are_reported_not_counted() {
    let contracts = vec![contract(
        "extra",
        "policies:\n  attestation:\n    - ref: container-signed\n    - {ref: sbom-present, requirements: [my-bp/container-security]}\n    - {ref: sbom-banned-licenses, requirements: [elsewhere/container-security]}",
    )];
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = one_per_contract(&ctx, &container_security(), &contracts);
    let c = &report.projects[0].contracts[0];
    assert_eq!(c.explicit_only, ["sbom-present"]);
    assert_eq!(c.status, Coverage::Partial);
}

#[test]
fn proof_only_requirement_is_none_with_a_note() {
    let req = requirement(
        "security-review",
        "manual_proofs:\n  - name: review\n    description: Yearly review\n",
    );
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = one_per_contract(&ctx, &req, &brief_contracts());
    assert!(report.policies.is_empty());
    assert!(report.note.is_some());
    assert!(
        report
            .projects
            .iter()
            .all(|p| p.coverage == Coverage::None && p.contracts[0].status == Coverage::None)
    );
}

#[test]
fn draft_requirement_previews_against_a_kept_index() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let index = ContractIndex::build(&brief_contracts(), &policies, &groups());
    assert_eq!(index.len(), 6);
    let projects = brief_projects();
    // Saved requirement first, then a draft of a new one from the same index.
    let saved = coverage(
        &ctx,
        &index,
        &container_security(),
        &frameworks(),
        &projects,
    );
    assert_eq!(saved.projects[0].coverage, Coverage::Full);
    let draft = requirement(
        "scans-only",
        "policies:\n  - ref: vulnerabilities\n    with: {severity: CRITICAL}\n",
    );
    // A draft is in no framework yet: explicit references cannot name it.
    let report = coverage(&ctx, &index, &draft, &[], &projects);
    let coverage_of = |name: &str| {
        report
            .projects
            .iter()
            .find(|p| p.project == name)
            .unwrap()
            .coverage
    };
    assert_eq!(coverage_of("project-a"), Coverage::Full);
    assert_eq!(coverage_of("project-b"), Coverage::None);
    assert_eq!(
        coverage_of("project-e"),
        Coverage::Full,
        "CRITICAL is enough now"
    );
}

#[test]
fn filters() {
    let policies = catalog();
    let ctx = CoverageContext::new(ORG, &policies);
    let report = requirement_coverage(
        &ctx,
        &groups(),
        &brief_contracts(),
        &container_security(),
        &frameworks(),
        &brief_projects(),
    );
    let names = |f: CoverageFilter| -> Vec<String> {
        filter(report.clone(), &f)
            .projects
            .into_iter()
            .map(|p| p.project)
            .collect()
    };
    assert_eq!(names(CoverageFilter::default()).len(), 7);
    assert_eq!(
        names(CoverageFilter {
            status: Coverage::parse("full"),
            ..Default::default()
        }),
        ["project-a", "project-d"]
    );
    assert_eq!(
        names(CoverageFilter {
            status: Coverage::parse("Partial"),
            ..Default::default()
        }),
        ["project-b", "project-e"]
    );
    assert_eq!(
        names(CoverageFilter {
            status: Some(Coverage::None),
            assigned: Some(true),
            ..Default::default()
        }),
        ["project-f", "project-g"]
    );
    assert_eq!(
        names(CoverageFilter {
            assigned: Some(false),
            ..Default::default()
        }),
        ["project-c"]
    );
    assert_eq!(
        names(CoverageFilter {
            product: Some("intranet".into()),
            ..Default::default()
        }),
        ["project-c"]
    );
    assert_eq!(
        names(CoverageFilter {
            product: Some("portal".into()),
            status: Some(Coverage::Full),
            ..Default::default()
        }),
        ["project-a", "project-d"]
    );
    assert!(
        names(CoverageFilter {
            product: Some("nothing".into()),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(Coverage::parse("bogus"), None);
}

#[test]
fn index_replaces_a_contract_seen_twice() {
    let policies = catalog();
    let old = contract(
        "c",
        "policies:\n  attestation:\n    - ref: container-signed",
    );
    let new = contract(
        "c",
        "policies:\n  attestation:\n    - {ref: vulnerabilities, with: {severity: HIGH}}",
    );
    let index = ContractIndex::build([&old, &new], &policies, &groups());
    assert_eq!(index.len(), 1);
    let ctx = CoverageContext::new(ORG, &policies);
    let report = coverage(
        &ctx,
        &index,
        &container_security(),
        &frameworks(),
        &[project("p", &["c"])],
    );
    assert_eq!(
        rows(&report, "p", "c"),
        [
            ("container-signed".into(), N, None),
            ("vulnerabilities".into(), M, Some(Auto))
        ]
    );
}
