//! What a status computation reads. Every fact is one indexed row (or a handful) that
//! a store can load for a product version without replaying history: time travel is
//! done here, by comparing each fact's own timestamps with `t`.

use crate::resource::{ManualProof, PolicyAttachment, Requirement, Scope};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One policy evaluation carried by an attestation of a project version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationFact {
    pub id: String,
    /// Digest of the attestation that carried it; evaluations of one attestation are
    /// judged together (see [`crate::status`]).
    pub attestation: String,
    /// Policy name, normalised (`chainloop://`, provider and org prefixes stripped).
    pub policy: String,
    /// `sha256:<hex>` of the policy that ran, when the attestation says.
    pub policy_digest: Option<String>,
    /// The effective `with` arguments as recorded (group inputs already bound).
    pub arguments: BTreeMap<String, String>,
    pub violations: Vec<Violation>,
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    /// The attachment's explicit `requirements`, raw (`[org/]framework/requirement[@v]`).
    pub requirements: Vec<String>,
    /// The attestation's `metadata.finishedAt`, unix ms.
    pub time: i64,
    /// When comply stored the attestation, unix ms: evidence pushed after `t` did not
    /// exist at `t`, whatever its `finishedAt` says.
    pub received_at: i64,
    /// The attestation's receipt sequence (shared by all its evaluations); breaks ties
    /// between equal `time`s.
    pub receipt: u64,
    /// The hosts the policy's `http.send` could reach, when the run was networked
    /// (decision 0025): the verdict then depends on what they answered.
    pub networked: Option<String>,
}

/// An attestation of a project version that references its policy evaluations
/// (Chainloop's `policyEvaluationsRef`) without carrying them: until they are supplied it
/// is evidence of a run whose results comply does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencedEvaluationsFact {
    pub attestation: String,
    /// The attestation's `finishedAt`.
    pub time: i64,
    pub received_at: i64,
    /// When the evaluations were supplied; `None`: not yet.
    pub supplied_at: Option<i64>,
}

impl ReferencedEvaluationsFact {
    /// Received by `t` and its evaluations not supplied by then.
    pub fn missing_at(&self, t: i64) -> bool {
        self.received_at <= t && self.supplied_at.is_none_or(|s| s > t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    /// The structured finding's severity, when the violation carries one.
    pub severity: Option<String>,
    /// Assessed as not affecting (VEX or similar): does not fail the evaluation.
    pub suppressed: bool,
}

/// One submitted manual proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofFact {
    pub id: String,
    pub requirement: String,
    /// The `manual_proofs[].name` it answers.
    pub proof: String,
    /// `None`: submitted at product level.
    pub project: Option<String>,
    pub collected_at: i64,
    /// When it was submitted to comply.
    pub created_at: i64,
}

/// Marks a requirement not applicable, for the whole product (`project: None`) or for
/// one project of it, from `created_at` until `ended_at` (set applicable again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicabilityFact {
    pub id: String,
    pub requirement: String,
    pub project: Option<String>,
    pub rationale: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

impl ApplicabilityFact {
    pub fn in_effect(&self, t: i64) -> bool {
        self.created_at <= t && self.ended_at.is_none_or(|end| t < end)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forced {
    Passed,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    Exception,
    Override(Forced),
}

/// An exception or an override of one cell (requirement + `project`, `None` for the
/// product-level cell of a product-scoped requirement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFact {
    pub id: String,
    pub requirement: String,
    pub project: Option<String>,
    pub kind: DecisionKind,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Revoked, cleared, or superseded by the next decision on the same cell (only one
    /// is active at a time): the store records the instant here, so that a query for an
    /// earlier `t` still sees the decision.
    pub ended_at: Option<i64>,
    /// Whether a second person had to approve it (the org's four-eyes setting when it
    /// was recorded), and when they did.
    pub approval: Approval,
}

/// Four-eyes approval of an exception or override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "approval")]
pub enum Approval {
    /// In effect from when it was recorded.
    #[default]
    NotRequired,
    /// In effect from its approval; `approved_at: None` while it waits.
    Required {
        approved_at: Option<i64>,
        approved_by: Option<String>,
    },
}

impl DecisionFact {
    /// `created ≤ t < expiry`, not yet ended, and approved by `t` where approval was
    /// required.
    pub fn in_effect(&self, t: i64) -> bool {
        self.live(t)
            && match &self.approval {
                Approval::NotRequired => true,
                Approval::Required { approved_at, .. } => approved_at.is_some_and(|a| a <= t),
            }
    }

    /// Recorded, waiting for its approval at `t`, and neither ended nor expired.
    pub fn pending(&self, t: i64) -> bool {
        self.live(t)
            && matches!(&self.approval, Approval::Required { approved_at, .. } if approved_at.is_none_or(|a| t < a))
    }

    fn live(&self, t: i64) -> bool {
        self.created_at <= t
            && self.expires_at.is_none_or(|x| t < x)
            && self.ended_at.is_none_or(|x| t < x)
    }
}

/// A requirement as it stands at `t`, in the product version being computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementFacts {
    pub name: String,
    /// Lifecycle at `t`, as the caller knows it.
    pub active: bool,
    pub scope: Scope,
    pub policies: Vec<PolicyAttachment>,
    pub manual_proofs: Vec<ManualProof>,
    /// The frameworks attached to the product version that list this requirement.
    /// Explicit references naming any other framework do not match it.
    pub frameworks: Vec<String>,
}

impl RequirementFacts {
    pub fn new(requirement: &Requirement, active: bool, frameworks: Vec<String>) -> Self {
        RequirementFacts {
            name: requirement.metadata.name.clone(),
            active,
            scope: requirement.scope(),
            policies: requirement.spec.policies.clone(),
            manual_proofs: requirement.spec.manual_proofs.clone(),
            frameworks,
        }
    }
}

/// One project of the product, at the version the product version resolves to.
#[derive(Debug, Clone, Default)]
pub struct ProjectFacts {
    pub name: String,
    /// `None` when the project has no version yet (its cells have no evaluations).
    pub version: Option<String>,
    pub evidence: super::Evidence,
}

/// Everything needed for the status of every cell of one product version.
#[derive(Debug, Clone, Default)]
pub struct ProductVersionFacts {
    /// The union of the attached frameworks' requirements, each once (entries with the
    /// same name are merged, their `frameworks` united).
    pub requirements: Vec<RequirementFacts>,
    pub projects: Vec<ProjectFacts>,
    pub proofs: Vec<ProofFact>,
    pub applicability: Vec<ApplicabilityFact>,
    pub decisions: Vec<DecisionFact>,
}
