//! The status facts a pack carries, as JSON: exactly what `comply_core::status` read on
//! the server, so `comply report verify` can run the same computation on them alone.
//! Core's fact types stay free of serialization; these mirror them field for field.

use comply_core::resource::{ManualProof, PolicyAttachment, PolicyInput, Scope};
use comply_core::status::{
    self, ApplicabilityFact, Approval, AutoMatchHook, DecisionFact, DecisionKind, EvaluationFact,
    Evidence, Forced, ProductVersionFacts, ProjectFacts, ProofFact, RequirementFacts, Violation,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackFacts {
    /// The org's name (explicit references with an org part must name it).
    pub org: String,
    /// The org setting `requirements_auto_matching` at the time the pack was made.
    pub auto_matching: bool,
    pub requirements: Vec<PackRequirement>,
    pub projects: Vec<PackProject>,
    pub proofs: Vec<PackProof>,
    pub applicability: Vec<PackApplicability>,
    pub decisions: Vec<PackDecision>,
    /// Declared inputs of every policy, by name (how arguments are compared).
    pub policies: BTreeMap<String, Vec<PolicyInput>>,
    /// Every answer a Chainloop `autoMatch` module gave during the computation: a
    /// verifier has no Rego engine, so it replays them (and reports a question the
    /// pack cannot answer).
    pub auto_match: Vec<AutoMatchAnswer>,
    /// Framework → requirement → the section path it is listed under (`A / B`; "" at
    /// the top level), for the report's per-section scores. Absent in packs made
    /// before they were recorded: those verify without per-section scores.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackRequirement {
    pub name: String,
    pub active: bool,
    pub scope: Scope,
    pub policies: Vec<PolicyAttachment>,
    pub manual_proofs: Vec<ManualProof>,
    pub frameworks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackProject {
    pub name: String,
    pub version: Option<String>,
    pub evaluations: Vec<PackEvaluation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackEvaluation {
    pub id: String,
    pub attestation: String,
    pub policy: String,
    pub policy_digest: Option<String>,
    pub arguments: BTreeMap<String, String>,
    pub violations: Vec<PackViolation>,
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    pub requirements: Vec<String>,
    pub time: i64,
    pub received_at: i64,
    pub receipt: u64,
    /// Absent from packs of sealed evidence (and from packs written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networked: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackViolation {
    pub message: String,
    pub severity: Option<String>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackProof {
    pub id: String,
    pub requirement: String,
    pub proof: String,
    pub project: Option<String>,
    pub collected_at: i64,
    pub created_at: i64,
    /// `file`, `url` or `text`.
    pub kind: String,
    /// A file's `sha256:` digest (the file is `proofs/<hex>` in the pack), the URL, or
    /// the text.
    pub value: String,
    pub submitter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackApplicability {
    pub id: String,
    pub requirement: String,
    pub project: Option<String>,
    pub rationale: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackDecision {
    pub id: String,
    pub requirement: String,
    pub project: Option<String>,
    /// `exception` or `override`.
    pub kind: String,
    /// Overrides: the status forced.
    pub forced: Option<Forced>,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Four-eyes approval; absent in packs written before it existed (not required).
    #[serde(default, skip_serializing_if = "is_not_required")]
    pub approval: Approval,
}

fn is_not_required(a: &Approval) -> bool {
    *a == Approval::NotRequired
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum AutoMatchQuestion {
    MatchesParameters {
        policy: String,
        arguments: BTreeMap<String, String>,
        expected: BTreeMap<String, String>,
    },
    MatchesEvaluation {
        policy: String,
        violations: Vec<String>,
        expected: BTreeMap<String, String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoMatchAnswer {
    pub question: AutoMatchQuestion,
    pub answer: Option<bool>,
}

impl PackFacts {
    pub fn of(
        org: &str,
        auto_matching: bool,
        facts: &ProductVersionFacts,
        policies: &HashMap<String, Vec<PolicyInput>>,
        proofs: &[comply_store::ProofRow],
        auto_match: Vec<AutoMatchAnswer>,
    ) -> PackFacts {
        let rows: HashMap<String, &comply_store::ProofRow> =
            proofs.iter().map(|p| (p.id.to_string(), p)).collect();
        // Only the policies the requirements name: the rest of the org's catalog is
        // not evidence for this product version.
        let named: std::collections::BTreeSet<String> = facts
            .requirements
            .iter()
            .flat_map(|r| r.policies.iter())
            .map(|p| {
                comply_core::reference::PolicyRef::parse(&p.reference)
                    .map_or_else(|_| p.reference.clone(), |r| r.name)
            })
            .chain(
                facts
                    .projects
                    .iter()
                    .flat_map(|p| p.evidence.evaluations())
                    .map(|e| e.policy.clone()),
            )
            .collect();
        PackFacts {
            sections: BTreeMap::new(),
            org: org.to_owned(),
            auto_matching,
            requirements: facts
                .requirements
                .iter()
                .map(|r| PackRequirement {
                    name: r.name.clone(),
                    active: r.active,
                    scope: r.scope,
                    policies: r.policies.clone(),
                    manual_proofs: r.manual_proofs.clone(),
                    frameworks: r.frameworks.clone(),
                })
                .collect(),
            projects: facts
                .projects
                .iter()
                .map(|p| PackProject {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    evaluations: p.evidence.evaluations().iter().map(evaluation).collect(),
                })
                .collect(),
            proofs: facts
                .proofs
                .iter()
                .map(|p| {
                    let row = rows.get(&p.id);
                    PackProof {
                        id: p.id.clone(),
                        requirement: p.requirement.clone(),
                        proof: p.proof.clone(),
                        project: p.project.clone(),
                        collected_at: p.collected_at,
                        created_at: p.created_at,
                        kind: row.map(|r| r.kind.clone()).unwrap_or_default(),
                        value: row.map(|r| r.value.clone()).unwrap_or_default(),
                        submitter: row.map(|r| r.submitter.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
            applicability: facts
                .applicability
                .iter()
                .map(|a| PackApplicability {
                    id: a.id.clone(),
                    requirement: a.requirement.clone(),
                    project: a.project.clone(),
                    rationale: a.rationale.clone(),
                    created_at: a.created_at,
                    ended_at: a.ended_at,
                })
                .collect(),
            decisions: facts
                .decisions
                .iter()
                .map(|d| {
                    let (kind, forced) = match d.kind {
                        DecisionKind::Exception => ("exception", None),
                        DecisionKind::Override(f) => ("override", Some(f)),
                    };
                    PackDecision {
                        id: d.id.clone(),
                        requirement: d.requirement.clone(),
                        project: d.project.clone(),
                        kind: kind.to_owned(),
                        forced,
                        reason: d.reason.clone(),
                        author: d.author.clone(),
                        created_at: d.created_at,
                        expires_at: d.expires_at,
                        ended_at: d.ended_at,
                        approval: d.approval.clone(),
                    }
                })
                .collect(),
            policies: policies
                .iter()
                .filter(|(name, _)| named.contains(*name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            auto_match,
        }
    }

    /// The facts as core reads them; an unknown decision kind is an error, not a
    /// silently dropped decision.
    pub fn to_core(&self) -> Result<ProductVersionFacts, String> {
        let decisions = self
            .decisions
            .iter()
            .map(|d| {
                let kind = match (d.kind.as_str(), d.forced) {
                    ("exception", None) => DecisionKind::Exception,
                    ("override", Some(f)) => DecisionKind::Override(f),
                    (k, f) => return Err(format!("decision {}: kind '{k}' with forced status {f:?} is not a decision comply makes", d.id)),
                };
                Ok(DecisionFact {
                    id: d.id.clone(),
                    requirement: d.requirement.clone(),
                    project: d.project.clone(),
                    kind,
                    reason: d.reason.clone(),
                    author: d.author.clone(),
                    created_at: d.created_at,
                    expires_at: d.expires_at,
                    ended_at: d.ended_at,
                    approval: d.approval.clone(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ProductVersionFacts {
            requirements: self
                .requirements
                .iter()
                .map(|r| RequirementFacts {
                    name: r.name.clone(),
                    active: r.active,
                    scope: r.scope,
                    policies: r.policies.clone(),
                    manual_proofs: r.manual_proofs.clone(),
                    frameworks: r.frameworks.clone(),
                })
                .collect(),
            projects: self
                .projects
                .iter()
                .map(|p| ProjectFacts {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    evidence: Evidence::new(
                        p.evaluations
                            .iter()
                            .map(|e| EvaluationFact {
                                id: e.id.clone(),
                                attestation: e.attestation.clone(),
                                policy: e.policy.clone(),
                                policy_digest: e.policy_digest.clone(),
                                arguments: e.arguments.clone(),
                                violations: e
                                    .violations
                                    .iter()
                                    .map(|v| Violation {
                                        message: v.message.clone(),
                                        severity: v.severity.clone(),
                                        suppressed: v.suppressed,
                                    })
                                    .collect(),
                                skipped: e.skipped,
                                skip_reasons: e.skip_reasons.clone(),
                                requirements: e.requirements.clone(),
                                time: e.time,
                                received_at: e.received_at,
                                receipt: e.receipt,
                                networked: e.networked.clone(),
                            })
                            .collect(),
                    ),
                })
                .collect(),
            proofs: self
                .proofs
                .iter()
                .map(|p| ProofFact {
                    id: p.id.clone(),
                    requirement: p.requirement.clone(),
                    proof: p.proof.clone(),
                    project: p.project.clone(),
                    collected_at: p.collected_at,
                    created_at: p.created_at,
                })
                .collect(),
            applicability: self
                .applicability
                .iter()
                .map(|a| ApplicabilityFact {
                    id: a.id.clone(),
                    requirement: a.requirement.clone(),
                    project: a.project.clone(),
                    rationale: a.rationale.clone(),
                    created_at: a.created_at,
                    ended_at: a.ended_at,
                })
                .collect(),
            decisions,
        })
    }
}

fn evaluation(e: &EvaluationFact) -> PackEvaluation {
    PackEvaluation {
        id: e.id.clone(),
        attestation: e.attestation.clone(),
        policy: e.policy.clone(),
        policy_digest: e.policy_digest.clone(),
        arguments: e.arguments.clone(),
        violations: e
            .violations
            .iter()
            .map(|v| PackViolation {
                message: v.message.clone(),
                severity: v.severity.clone(),
                suppressed: v.suppressed,
            })
            .collect(),
        skipped: e.skipped,
        skip_reasons: e.skip_reasons.clone(),
        requirements: e.requirements.clone(),
        time: e.time,
        received_at: e.received_at,
        receipt: e.receipt,
        networked: e.networked.clone(),
    }
}

/// Wraps the server's hook and writes down every question and answer.
pub struct RecordingHook<'a> {
    pub inner: &'a dyn AutoMatchHook,
    pub answers: Mutex<Vec<AutoMatchAnswer>>,
}

impl RecordingHook<'_> {
    fn record(&self, question: AutoMatchQuestion, answer: Option<bool>) -> Option<bool> {
        let mut answers = self.answers.lock().expect("answers");
        if !answers.iter().any(|a| a.question == question) {
            answers.push(AutoMatchAnswer { question, answer });
        }
        answer
    }

    pub fn into_answers(self) -> Vec<AutoMatchAnswer> {
        self.answers.into_inner().expect("answers")
    }
}

impl AutoMatchHook for RecordingHook<'_> {
    fn matches_parameters(
        &self,
        policy: &str,
        arguments: &BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let answer = self.inner.matches_parameters(policy, arguments, expected);
        // Policies without a module answer `None` every time; only module answers are
        // evidence worth carrying.
        answer?;
        self.record(
            AutoMatchQuestion::MatchesParameters {
                policy: policy.to_owned(),
                arguments: arguments.clone(),
                expected: expected.clone(),
            },
            answer,
        )
    }

    fn matches_evaluation(
        &self,
        policy: &str,
        violations: &[&str],
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let answer = self.inner.matches_evaluation(policy, violations, expected);
        answer?;
        self.record(
            AutoMatchQuestion::MatchesEvaluation {
                policy: policy.to_owned(),
                violations: violations.iter().map(|v| (*v).to_owned()).collect(),
                expected: expected.clone(),
            },
            answer,
        )
    }
}

/// Answers from a pack's recorded `autoMatch` answers. A question the pack does not
/// hold is answered "no module" (`None`), which is what the server saw for every policy
/// without a module; questions about policies that had one are noted as missing.
pub struct ReplayHook {
    answers: HashMap<AutoMatchQuestion, Option<bool>>,
    with_module: std::collections::HashSet<String>,
    pub missing: Mutex<Vec<AutoMatchQuestion>>,
}

impl ReplayHook {
    pub fn new(answers: &[AutoMatchAnswer]) -> ReplayHook {
        let policy = |q: &AutoMatchQuestion| match q {
            AutoMatchQuestion::MatchesParameters { policy, .. }
            | AutoMatchQuestion::MatchesEvaluation { policy, .. } => policy.clone(),
        };
        ReplayHook {
            with_module: answers.iter().map(|a| policy(&a.question)).collect(),
            answers: answers
                .iter()
                .map(|a| (a.question.clone(), a.answer))
                .collect(),
            missing: Mutex::new(Vec::new()),
        }
    }

    fn answer(&self, question: AutoMatchQuestion, policy: &str) -> Option<bool> {
        match self.answers.get(&question) {
            Some(a) => *a,
            None => {
                if self.with_module.contains(policy) {
                    self.missing.lock().expect("missing").push(question);
                }
                None
            }
        }
    }
}

impl AutoMatchHook for ReplayHook {
    fn matches_parameters(
        &self,
        policy: &str,
        arguments: &BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        self.answer(
            AutoMatchQuestion::MatchesParameters {
                policy: policy.to_owned(),
                arguments: arguments.clone(),
                expected: expected.clone(),
            },
            policy,
        )
    }

    fn matches_evaluation(
        &self,
        policy: &str,
        violations: &[&str],
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        self.answer(
            AutoMatchQuestion::MatchesEvaluation {
                policy: policy.to_owned(),
                violations: violations.iter().map(|v| (*v).to_owned()).collect(),
                expected: expected.clone(),
            },
            policy,
        )
    }
}

/// Every cell of the facts at `at`, as the server computes them for a pack.
pub fn compute(
    facts: &PackFacts,
    core: &ProductVersionFacts,
    at: i64,
    hook: &dyn AutoMatchHook,
) -> Vec<status::CellStatus> {
    let mut context = status::Context::new(&facts.org, at, &facts.policies);
    context.auto_matching = facts.auto_matching;
    context.hook = hook;
    context.details = true;
    status::product_status(&context, core)
}
