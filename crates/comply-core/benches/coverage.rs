//! Requirement coverage across an org: 10,000 contracts (direct attachments and policy
//! groups with templated inputs), 5,000 projects using two or three contracts each.
//! Run: `cargo bench -p comply-core --bench coverage`.

use comply_core::coverage::{
    ContractIndex, CoverageContext, ProjectInput, coverage, requirement_coverage,
};
use comply_core::resource::{
    Attachment, Contract, ContractPolicies, ContractSpec, GroupAttachment, GroupPolicies,
    InputType, IntKind, Metadata, PolicyAttachment, PolicyGroup, PolicyGroupSpec, PolicyInput,
    Requirement, RequirementSpec,
};
use std::collections::BTreeMap;

fn main() {
    divan::main();
}

const CONTRACTS: usize = 10_000;
const PROJECTS: usize = 5_000;

/// (policy, typed input, values contracts use)
type Catalog = [(
    &'static str,
    Option<(&'static str, InputType)>,
    &'static [&'static str],
); 10];

const POLICIES: Catalog = [
    (
        "vulnerabilities",
        Some(("severity", InputType::Severity)),
        &["LOW", "MEDIUM", "HIGH", "CRITICAL"],
    ),
    (
        "sast-findings",
        Some(("severity", InputType::Severity)),
        &["MEDIUM", "HIGH"],
    ),
    (
        "sbom-banned-licenses",
        Some(("licenses", InputType::DenyList)),
        &["AGPL-3.0", "AGPL-3.0,GPL-3.0", "GPL-3.0"],
    ),
    (
        "sbom-freshness",
        Some(("limit", InputType::Int)),
        &["7", "30", "90"],
    ),
    ("container-signed", None, &[]),
    ("sbom-present", None, &[]),
    ("slsa-provenance", None, &[]),
    ("secrets-absent", None, &[]),
    ("tests-pass", None, &[]),
    ("commits-signed-required", None, &[]),
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn metadata(name: &str) -> Metadata {
    Metadata {
        name: name.into(),
        display_name: None,
        description: None,
        annotations: BTreeMap::new(),
        finding_type: None,
    }
}

fn catalog() -> BTreeMap<String, Vec<PolicyInput>> {
    POLICIES
        .iter()
        .map(|(name, input, _)| {
            let inputs = input
                .map(|(input, ty)| PolicyInput {
                    name: input.into(),
                    description: None,
                    required: false,
                    default: None,
                    input_type: Some(ty),
                    kind: (ty == InputType::Int).then_some(IntKind::Max),
                })
                .into_iter()
                .collect();
            ((*name).to_owned(), inputs)
        })
        .collect()
}

fn attachment(reference: &str, with: BTreeMap<String, String>) -> Attachment {
    Attachment {
        source: None,
        reference: reference.into(),
        selector: None,
        disabled: false,
        with,
        requirements: Vec::new(),
        gate: None,
    }
}

/// `supply-chain`: four policies, the scanner's severity and the license list bound
/// from group inputs with defaults.
fn groups() -> BTreeMap<String, PolicyGroup> {
    let input = |name: &str, default: &str| PolicyInput {
        name: name.into(),
        description: None,
        required: false,
        default: Some(default.into()),
        input_type: None,
        kind: None,
    };
    let bound =
        |k: &str, i: &str| BTreeMap::from([(k.to_owned(), format!("{{{{ inputs.{i} }}}}"))]);
    let group = PolicyGroup {
        metadata: metadata("supply-chain"),
        spec: PolicyGroupSpec {
            inputs: vec![input("severity", "HIGH"), input("licenses", "AGPL-3.0")],
            policies: GroupPolicies {
                materials: Vec::new(),
                attestation: vec![
                    attachment("container-signed", BTreeMap::new()),
                    attachment("vulnerabilities", bound("severity", "severity")),
                    attachment("sbom-banned-licenses", bound("licenses", "licenses")),
                    attachment("sbom-present", BTreeMap::new()),
                ],
            },
        },
    };
    BTreeMap::from([("supply-chain".to_owned(), group)])
}

/// Four to seven direct attachments each; a quarter also attach the group, some with
/// their own inputs; a few map a policy explicitly.
fn contracts(rng: &mut Rng) -> Vec<Contract> {
    (0..CONTRACTS)
        .map(|c| {
            let mut attestation = Vec::new();
            for _ in 0..4 + rng.below(4) {
                let (name, input, values) = POLICIES[rng.below(POLICIES.len() as u64) as usize];
                let with = input
                    .map(|(i, _)| {
                        let v = values[rng.below(values.len() as u64) as usize];
                        (i.to_owned(), v.to_owned())
                    })
                    .into_iter()
                    .collect();
                let mut a = attachment(name, with);
                if rng.below(20) == 0 {
                    a.requirements = vec![format!("fw-{}/req-{}", rng.below(3), rng.below(5))];
                }
                a.disabled = rng.below(50) == 0;
                attestation.push(a);
            }
            let policy_groups = if c % 4 == 0 {
                vec![GroupAttachment {
                    source: None,
                    reference: "supply-chain".into(),
                    with: if rng.below(2) == 0 {
                        BTreeMap::from([("severity".to_owned(), "CRITICAL".to_owned())])
                    } else {
                        BTreeMap::new()
                    },
                    skip: if rng.below(10) == 0 {
                        vec!["sbom-present".into()]
                    } else {
                        Vec::new()
                    },
                    requirements: Vec::new(),
                    gate: None,
                }]
            } else {
                Vec::new()
            };
            Contract {
                metadata: metadata(&format!("contract-{c:05}")),
                spec: ContractSpec {
                    policies: ContractPolicies {
                        materials: Vec::new(),
                        attestation,
                    },
                    policy_groups,
                    ..ContractSpec::default()
                },
                raw: String::new(),
            }
        })
        .collect()
}

fn projects(rng: &mut Rng) -> Vec<ProjectInput> {
    (0..PROJECTS)
        .map(|p| ProjectInput {
            name: format!("project-{p:05}"),
            contracts: (0..2 + rng.below(2))
                .map(|_| format!("contract-{:05}", rng.below(CONTRACTS as u64)))
                .collect(),
            assigned: p % 3 != 0,
            products: vec![format!("product-{}", p % 40)],
        })
        .collect()
}

/// A brief-like requirement (2 policies) and a broader one (4 policies, 2 typed).
fn requirement(wide: bool) -> Requirement {
    let policy = |reference: &str, with: &[(&str, &str)]| PolicyAttachment {
        reference: reference.into(),
        periodicity: None,
        sla: None,
        with: with
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let mut policies = vec![
        policy("container-signed", &[]),
        policy("vulnerabilities", &[("severity", "HIGH")]),
    ];
    if wide {
        policies.push(policy("sbom-banned-licenses", &[("licenses", "AGPL-3.0")]));
        policies.push(policy("sbom-freshness", &[("limit", "30")]));
    }
    Requirement {
        metadata: metadata("req-1"),
        spec: RequirementSpec {
            policies,
            manual_proofs: Vec::new(),
        },
    }
}

fn frameworks() -> Vec<String> {
    vec!["fw-0".into(), "fw-1".into()]
}

/// One requirement against a kept index: what a coverage request costs the server.
#[divan::bench(args = [false, true])]
fn requirement_with_index(bencher: divan::Bencher, wide: bool) {
    let mut rng = Rng(0x5EED);
    let policies = catalog();
    let index = ContractIndex::build(&contracts(&mut rng), &policies, &groups());
    let projects = projects(&mut rng);
    let req = requirement(wide);
    let frameworks = frameworks();
    let ctx = CoverageContext::new("acme", &policies);
    let (full, partial, none) = coverage(&ctx, &index, &req, &frameworks, &projects).counts();
    assert!(
        full > 0 && partial > 0 && none > 0,
        "a realistic mix: {full} full, {partial} partial, {none} none"
    );
    bencher.bench(|| {
        let ctx = CoverageContext::new("acme", &policies);
        coverage(&ctx, divan::black_box(&index), &req, &frameworks, &projects)
    });
}

/// The same without projects: classifying the contracts alone, no report to assemble.
#[divan::bench(args = [false, true])]
fn contracts_only(bencher: divan::Bencher, wide: bool) {
    let mut rng = Rng(0x5EED);
    let policies = catalog();
    let index = ContractIndex::build(&contracts(&mut rng), &policies, &groups());
    let req = requirement(wide);
    let frameworks = frameworks();
    bencher.bench(|| {
        let ctx = CoverageContext::new("acme", &policies);
        coverage(&ctx, divan::black_box(&index), &req, &frameworks, &[])
    });
}

/// Flattening and indexing every contract.
#[divan::bench]
fn build_index(bencher: divan::Bencher) {
    let contracts = contracts(&mut Rng(0x5EED));
    let policies = catalog();
    let groups = groups();
    bencher.bench(|| ContractIndex::build(divan::black_box(&contracts), &policies, &groups));
}

/// Index and coverage in one call, as for a single request without a cache.
#[divan::bench]
fn one_shot(bencher: divan::Bencher) {
    let mut rng = Rng(0x5EED);
    let contracts = contracts(&mut rng);
    let projects = projects(&mut rng);
    let policies = catalog();
    let groups = groups();
    let req = requirement(true);
    let frameworks = frameworks();
    bencher.bench(|| {
        let ctx = CoverageContext::new("acme", &policies);
        requirement_coverage(
            &ctx,
            &groups,
            divan::black_box(&contracts),
            &req,
            &frameworks,
            &projects,
        )
    });
}
