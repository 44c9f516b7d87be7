//! The status of one cell at `t`: the precedence of semantics §3 (inactive, not
//! applicable, override, exception, computed) and the combination of its components.

use super::Context;
use super::component::{
    Component, ComponentKind, ComponentStatus, policy_components, proof_component,
};
use super::evidence::Evidence;
use super::facts::{
    ApplicabilityFact, DecisionFact, DecisionKind, Forced, ProofFact, RequirementFacts,
};
use crate::resource::Scope;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Passed,
    Grace,
    Partial,
    NoData,
    Expired,
    Failed,
    Excepted,
    NotApplicable,
    Inactive,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Passed,
        Status::Grace,
        Status::Partial,
        Status::NoData,
        Status::Expired,
        Status::Failed,
        Status::Excepted,
        Status::NotApplicable,
        Status::Inactive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "PASSED",
            Status::Grace => "GRACE",
            Status::Partial => "PARTIAL",
            Status::NoData => "NO_DATA",
            Status::Expired => "EXPIRED",
            Status::Failed => "FAILED",
            Status::Excepted => "EXCEPTED",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::Inactive => "INACTIVE",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// In the score's denominator (an override counts as the status it forces).
    pub fn counted(self) -> bool {
        !matches!(
            self,
            Status::Excepted | Status::NotApplicable | Status::Inactive
        )
    }

    /// In the score's numerator: a failure still inside its SLA does not count against.
    pub fn passing(self) -> bool {
        matches!(self, Status::Passed | Status::Grace)
    }
}

/// Semantics §3, "Combination", over the components that are not ignored. With none
/// (a product-scoped requirement made only of policies, or only of optional proofs)
/// nothing can show the requirement met: `NO_DATA`.
pub fn combine(components: impl IntoIterator<Item = ComponentStatus>) -> Status {
    let (mut failed, mut expired, mut absent, mut grace, mut total) = (0, 0, 0, 0, 0);
    for s in components {
        total += 1;
        match s {
            ComponentStatus::Failed => failed += 1,
            ComponentStatus::Expired => expired += 1,
            ComponentStatus::NoData | ComponentStatus::Missing => absent += 1,
            ComponentStatus::Grace => grace += 1,
            ComponentStatus::Passed | ComponentStatus::Provided => {}
        }
    }
    if failed > 0 {
        Status::Failed
    } else if expired > 0 {
        Status::Expired
    } else if absent == total {
        Status::NoData
    } else if absent > 0 {
        Status::Partial
    } else if grace > 0 {
        Status::Grace
    } else {
        Status::Passed
    }
}

/// Whether a component is one the fired combination rule looked at.
fn decisive(status: Status, component: ComponentStatus) -> bool {
    match status {
        Status::Failed => component == ComponentStatus::Failed,
        Status::Expired => component == ComponentStatus::Expired,
        Status::NoData | Status::Partial => component.is_absent(),
        Status::Grace => component == ComponentStatus::Grace,
        _ => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionRefKind {
    Applicability,
    Override,
    Exception,
}

/// The manual decision that settled a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRef {
    pub kind: DecisionRefKind,
    pub id: String,
    /// `None`: the whole product (applicability) or the product-level cell.
    pub project: Option<String>,
    /// The override's or exception's reason, the applicability entry's rationale.
    pub reason: Option<String>,
    pub author: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Overrides only.
    pub forced: Option<Forced>,
}

impl DecisionRef {
    fn applicability(a: &ApplicabilityFact) -> DecisionRef {
        DecisionRef {
            kind: DecisionRefKind::Applicability,
            id: a.id.clone(),
            project: a.project.clone(),
            reason: a.rationale.clone(),
            author: None,
            created_at: a.created_at,
            expires_at: None,
            forced: None,
        }
    }

    fn decision(d: &DecisionFact) -> DecisionRef {
        let (kind, forced) = match d.kind {
            DecisionKind::Exception => (DecisionRefKind::Exception, None),
            DecisionKind::Override(f) => (DecisionRefKind::Override, Some(f)),
        };
        DecisionRef {
            kind,
            id: d.id.clone(),
            project: d.project.clone(),
            reason: Some(d.reason.clone()),
            author: Some(d.author.clone()),
            created_at: d.created_at,
            expires_at: d.expires_at,
            forced,
        }
    }
}

/// One requirement for one subject at `t`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellStatus {
    pub requirement: String,
    pub scope: Scope,
    /// `None` for the product-level cell of a product-scoped requirement.
    pub project: Option<String>,
    pub project_version: Option<String>,
    /// The attached frameworks that list the requirement: the cell shows under each.
    pub frameworks: Vec<String>,
    pub status: Status,
    pub overridden: bool,
    pub counted: bool,
    pub passing: bool,
    /// The earliest instant after `t` at which the status changes by itself (evidence
    /// freshness, grace end, decision expiry); `None` when nothing pending does.
    pub deadline: Option<i64>,
    /// What the components say, when an override or an exception sets the status.
    pub computed: Option<Status>,
    pub decision: Option<DecisionRef>,
    /// An exception or override recorded for this cell that waits for a second
    /// person's approval at `t`: not in effect, shown so nobody mistakes it for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_decision: Option<DecisionRef>,
    pub components: Vec<Component>,
    /// Explicit references in the subject's evidence at `t` whose requirement part names
    /// this requirement but that match it not (another framework, another org): the
    /// evidence meant for it that does not count (explanations only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched_references: Vec<String>,
    /// When a policy component has no evaluation: the subject's attestations at `t`
    /// that referenced their policy evaluations (`policyEvaluationsRef`) without
    /// carrying them, which comply has not been given (explanations only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evaluations_not_supplied: Vec<String>,
}

/// The subject of a cell.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The product version itself (product-scoped requirements).
    Product,
    Project {
        name: &'a str,
        version: Option<&'a str>,
        evidence: &'a Evidence,
    },
}

/// The status of one cell. Proofs, applicability entries and decisions about other
/// requirements or subjects are ignored, so callers may pass those of the whole product
/// version. `None` when the subject does not fit the requirement's scope: product-scoped
/// requirements exist only at product level, project-scoped ones only per project.
pub fn cell_status(
    ctx: &Context<'_>,
    requirement: &RequirementFacts,
    subject: Subject<'_>,
    proofs: &[ProofFact],
    applicability: &[ApplicabilityFact],
    decisions: &[DecisionFact],
) -> Option<CellStatus> {
    let project = match subject {
        Subject::Product => None,
        Subject::Project { name, .. } => Some(name),
    };
    let mine = |r: &str, p: Option<&str>| r == requirement.name && p == project;
    let proofs: Vec<&ProofFact> = proofs
        .iter()
        .filter(|p| mine(&p.requirement, p.project.as_deref()))
        .collect();
    let applicability: Vec<&ApplicabilityFact> = applicability
        .iter()
        .filter(|a| a.requirement == requirement.name)
        .collect();
    let decisions: Vec<&DecisionFact> = decisions
        .iter()
        .filter(|d| mine(&d.requirement, d.project.as_deref()))
        .collect();
    compute(
        ctx,
        requirement,
        subject,
        &proofs,
        &applicability,
        &decisions,
    )
}

/// [`cell_status`] on facts already narrowed: proofs and decisions to this cell,
/// applicability entries to this requirement.
pub(crate) fn compute(
    ctx: &Context<'_>,
    requirement: &RequirementFacts,
    subject: Subject<'_>,
    proofs: &[&ProofFact],
    applicability: &[&ApplicabilityFact],
    decisions: &[&DecisionFact],
) -> Option<CellStatus> {
    let t = ctx.at;
    let (project, version, evidence) = match (requirement.scope, subject) {
        (Scope::Product, Subject::Product) => (None, None, None),
        (
            Scope::Project,
            Subject::Project {
                name,
                version,
                evidence,
            },
        ) => (Some(name), version, Some(evidence)),
        _ => return None,
    };
    let mut frameworks = requirement.frameworks.clone();
    frameworks.sort();
    frameworks.dedup();
    let mut cell = CellStatus {
        requirement: requirement.name.clone(),
        scope: requirement.scope,
        project: project.map(str::to_owned),
        project_version: version.map(str::to_owned),
        frameworks,
        status: Status::Inactive,
        overridden: false,
        counted: false,
        passing: false,
        deadline: None,
        computed: None,
        decision: None,
        pending_decision: None,
        components: Vec::new(),
        unmatched_references: Vec::new(),
        evaluations_not_supplied: Vec::new(),
    };
    if !requirement.active {
        return Some(cell);
    }

    // A product-wide entry outranks a per-project one: it is the broader statement.
    let not_applicable = applicability
        .iter()
        .filter(|a| a.in_effect(t) && (a.project.is_none() || a.project.as_deref() == project))
        .max_by(|a, b| {
            (a.project.is_none(), a.created_at, &a.id).cmp(&(
                b.project.is_none(),
                b.created_at,
                &b.id,
            ))
        });
    if let Some(a) = not_applicable {
        cell.status = Status::NotApplicable;
        cell.decision = Some(DecisionRef::applicability(a));
        return Some(cell);
    }

    let mut components = match evidence {
        // Product-scoped: only product-level proofs; its policies are not evaluated.
        Some(evidence) => {
            if ctx.details {
                cell.unmatched_references =
                    super::component::unmatched_references(ctx, requirement, evidence);
            }
            policy_components(ctx, requirement, evidence)
        }
        None => Vec::new(),
    };
    components.extend(
        requirement
            .manual_proofs
            .iter()
            .filter(|m| !m.optional)
            .map(|m| proof_component(t, m, proofs)),
    );
    if ctx.details
        && let Some(evidence) = evidence
        && components
            .iter()
            .any(|c| c.kind == ComponentKind::Policy && c.evaluation.is_none())
    {
        cell.evaluations_not_supplied = evidence
            .referenced_missing_at(t)
            .map(|r| r.attestation.clone())
            .collect();
    }
    let computed = combine(components.iter().map(|c| c.status));
    for c in &mut components {
        c.decisive = decisive(computed, c.status);
    }
    cell.components = components;

    // The store keeps one decision active per cell; should two overlap anyway, the
    // table's order holds (override before exception), then the most recent one.
    let in_effect = |want_override: bool| {
        decisions
            .iter()
            .filter(|d| {
                d.in_effect(t) && matches!(d.kind, DecisionKind::Override(_)) == want_override
            })
            .max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
    };
    cell.pending_decision = decisions
        .iter()
        .filter(|d| d.pending(t))
        .max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
        .map(|d| DecisionRef::decision(d));
    if let Some(d) = in_effect(true).or_else(|| in_effect(false)) {
        cell.status = match d.kind {
            DecisionKind::Override(Forced::Passed) => Status::Passed,
            DecisionKind::Override(Forced::Failed) => Status::Failed,
            DecisionKind::Exception => Status::Excepted,
        };
        cell.overridden = matches!(d.kind, DecisionKind::Override(_));
        cell.computed = Some(computed);
        cell.deadline = d.expires_at;
        cell.decision = Some(DecisionRef::decision(d));
    } else {
        cell.status = computed;
        cell.deadline = cell.components.iter().filter_map(|c| c.deadline(t)).min();
    }
    cell.counted = cell.status.counted();
    cell.passing = cell.counted && cell.status.passing();
    Some(cell)
}
