//! Requirement status for a whole product version: 20 projects × 150 requirements,
//! 90 days of daily attestations per project. Run: `cargo bench -p comply-core --bench status`.

use comply_core::periodicity::Periodicity;
use comply_core::resource::{
    InputType, IntKind, ManualProof, PolicyAttachment, PolicyInput, Scope,
};
use comply_core::status::{
    Context, DecisionFact, DecisionKind, EvaluationFact, Evidence, Forced, ProductVersionFacts,
    ProjectFacts, ProofFact, RequirementFacts, Score, Violation, product_status,
};
use std::collections::BTreeMap;

fn main() {
    divan::main();
}

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const T0: i64 = 1_700_000_000_000;
const DAYS: i64 = 90;
const PROJECTS: usize = 20;
const REQUIREMENTS: usize = 150;

/// (policy, typed input, the values evaluations use, the value requirements ask)
type Catalog = [(
    &'static str,
    Option<(&'static str, InputType)>,
    &'static [&'static str],
    &'static str,
); 10];

const POLICIES: Catalog = [
    (
        "vulnerabilities",
        Some(("severity", InputType::Severity)),
        &["MEDIUM", "HIGH"],
        "HIGH",
    ),
    (
        "sast-findings",
        Some(("severity", InputType::Severity)),
        &["LOW", "MEDIUM"],
        "HIGH",
    ),
    (
        "sbom-banned-licenses",
        Some(("licenses", InputType::DenyList)),
        &["AGPL-3.0,GPL-3.0,SSPL"],
        "AGPL-3.0",
    ),
    (
        "sbom-freshness",
        Some(("limit", InputType::Int)),
        &["7", "30"],
        "30",
    ),
    ("container-signed", None, &[], ""),
    ("sbom-present", None, &[], ""),
    ("slsa-provenance", None, &[], ""),
    ("secrets-absent", None, &[], ""),
    ("tests-pass", None, &[], ""),
    ("commits-signed-required", None, &[], ""),
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

fn catalog() -> BTreeMap<String, Vec<PolicyInput>> {
    POLICIES
        .iter()
        .map(|(name, input, _, _)| {
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

fn requirements(rng: &mut Rng) -> Vec<RequirementFacts> {
    (0..REQUIREMENTS)
        .map(|r| {
            let product_level = r % 15 == 0;
            let policies = (0..1 + rng.below(3))
                .map(|k| {
                    let (name, input, _, asked) = POLICIES[(r + 3 * k as usize) % POLICIES.len()];
                    PolicyAttachment {
                        reference: name.into(),
                        periodicity: [None, Some(Periodicity::Daily), Some(Periodicity::Weekly)]
                            [rng.below(3) as usize],
                        sla: [None, Some(24), Some(72)][rng.below(3) as usize],
                        with: input
                            .map(|(i, _)| (i.to_owned(), asked.to_owned()))
                            .into_iter()
                            .collect(),
                    }
                })
                .collect();
            let manual_proofs = (r % 3 == 0)
                .then(|| ManualProof {
                    name: "review".into(),
                    description: None,
                    optional: r % 9 == 0,
                    periodicity: Some(Periodicity::Yearly),
                })
                .into_iter()
                .collect();
            RequirementFacts {
                name: format!("req-{r:03}"),
                active: r % 50 != 49,
                scope: if product_level {
                    Scope::Product
                } else {
                    Scope::Project
                },
                policies,
                manual_proofs,
                frameworks: vec![format!("fw-{}", r % 4)],
            }
        })
        .collect()
}

/// One attestation a day for 90 days, each evaluating every policy (two images for the
/// scanners), about 5% failing and 2% skipped.
fn evaluations(project: usize, rng: &mut Rng) -> Vec<EvaluationFact> {
    let mut out = Vec::new();
    for day in 0..DAYS {
        let time = T0 + day * DAY + rng.below(DAY as u64 / 2) as i64;
        let attestation = format!("sha256:{project:02}-{day:03}");
        let receipt = (day as u64) * PROJECTS as u64 + project as u64;
        for (p, (policy, input, values, _)) in POLICIES.iter().enumerate() {
            let copies = if p < 2 { 2 } else { 1 };
            for copy in 0..copies {
                let mut violations = Vec::new();
                if rng.below(20) == 0 {
                    violations.push(Violation {
                        message: "finding".into(),
                        severity: Some(
                            ["MEDIUM", "HIGH", "CRITICAL"][rng.below(3) as usize].into(),
                        ),
                        suppressed: rng.below(4) == 0,
                    });
                }
                let skipped = rng.below(50) == 0;
                out.push(EvaluationFact {
                    id: format!("{attestation}-{p}-{copy}"),
                    attestation: attestation.clone(),
                    policy: (*policy).into(),
                    policy_digest: None,
                    arguments: input
                        .map(|(i, _)| {
                            let v = values[rng.below(values.len() as u64) as usize];
                            (i.to_owned(), v.to_owned())
                        })
                        .into_iter()
                        .collect(),
                    violations,
                    skipped,
                    skip_reasons: if skipped {
                        vec!["no material".into()]
                    } else {
                        Vec::new()
                    },
                    requirements: if rng.below(10) == 0 {
                        vec![format!("fw-{}/req-{:03}", rng.below(4), rng.below(150))]
                    } else {
                        Vec::new()
                    },
                    time,
                    received_at: time + 60_000,
                    receipt,
                    networked: None,
                });
            }
        }
    }
    out
}

fn facts() -> ProductVersionFacts {
    let mut rng = Rng(0x5EED);
    let requirements = requirements(&mut rng);
    let projects: Vec<ProjectFacts> = (0..PROJECTS)
        .map(|p| ProjectFacts {
            name: format!("project-{p:02}"),
            version: Some("1.0.0".into()),
            evidence: Evidence::new(evaluations(p, &mut rng)),
        })
        .collect();
    let mut proofs = Vec::new();
    for r in requirements.iter().filter(|r| !r.manual_proofs.is_empty()) {
        let subjects: Vec<Option<String>> = match r.scope {
            Scope::Product => vec![None],
            Scope::Project => projects.iter().map(|p| Some(p.name.clone())).collect(),
        };
        for subject in subjects {
            for k in 0..rng.below(3) {
                let at = T0 + rng.below(DAYS as u64) as i64 * DAY;
                proofs.push(ProofFact {
                    id: format!("proof-{}-{k}-{}", r.name, proofs.len()),
                    requirement: r.name.clone(),
                    proof: "review".into(),
                    project: subject.clone(),
                    collected_at: at,
                    created_at: at + H,
                });
            }
        }
    }
    let decisions = (0..40)
        .map(|i| DecisionFact {
            id: format!("d{i}"),
            requirement: format!("req-{:03}", rng.below(150)),
            project: Some(format!("project-{:02}", rng.below(PROJECTS as u64))),
            kind: [
                DecisionKind::Exception,
                DecisionKind::Override(Forced::Passed),
                DecisionKind::Override(Forced::Failed),
            ][rng.below(3) as usize],
            reason: "accepted".into(),
            author: "alice".into(),
            created_at: T0 + rng.below(DAYS as u64) as i64 * DAY,
            expires_at: None,
            ended_at: None,
            approval: Default::default(),
        })
        .collect();
    ProductVersionFacts {
        requirements,
        projects,
        proofs,
        applicability: Vec::new(),
        decisions,
    }
}

/// Now, and a month back (time travel reads further into the history).
#[divan::bench(args = [0, 30])]
fn product_version(bencher: divan::Bencher, days_back: i64) {
    let facts = facts();
    let policies = catalog();
    let at = T0 + DAYS * DAY - days_back * DAY;
    bencher.bench(|| {
        // Hooks need not be Sync (a Rego engine may not be), so neither is a Context.
        let ctx = Context::new("acme", at, &policies);
        let cells = product_status(&ctx, divan::black_box(&facts));
        Score::of(&cells)
    });
}

/// Sorting and indexing one project version's evaluations.
#[divan::bench]
fn index_project(bencher: divan::Bencher) {
    let evaluations = evaluations(0, &mut Rng(7));
    bencher
        .with_inputs(|| evaluations.clone())
        .bench_values(Evidence::new);
}
