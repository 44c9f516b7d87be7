//! The status of requirements (semantics §2–§4): for every cell of a product version
//! at a time `t`, from facts the store loads. Pure: `t` is a parameter (unix ms), and
//! the same facts and `t` give the same answer whatever order the facts come in.
//!
//! Entry points: [`product_status`] for a whole product version, [`project_status`]
//! for one project's cells of it, [`cell_status`] for one cell, [`Score::of`] over any set of cells, [`explain`] for words.
//! Decisions behind the details: `docs/decisions/0010-status-computation.md`.

mod candidates;
mod cell;
mod component;
mod evidence;
mod explain;
mod facts;
mod score;

pub use candidates::{
    AutoMatchHook, MatchSource, NoAutoMatch, PolicyCatalog, Verdict, judge, names_requirement,
    parameters_match, severity_threshold,
};
pub use cell::{CellStatus, DecisionRef, DecisionRefKind, Status, Subject, cell_status, combine};
pub use component::{
    ArgumentComparison, Component, ComponentKind, ComponentStatus, EvaluationRef, Finding,
    ProofRef, SkippedEvaluation, Unmatched, UnmatchedEvaluation,
};
pub use evidence::Evidence;
pub use explain::explain;
pub use facts::{
    ApplicabilityFact, Approval, DecisionFact, DecisionKind, EvaluationFact, Forced,
    ProductVersionFacts, ProjectFacts, ProofFact, ReferencedEvaluationsFact, RequirementFacts,
    Violation,
};
pub use score::Score;

use crate::resource::Scope;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// What a status query depends on besides the facts.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The org's name: explicit references with an org part must name it.
    pub org: &'a str,
    /// The instant the status is computed for, unix ms.
    pub at: i64,
    /// The org setting `requirements_auto_matching`; off: only explicit matches count.
    pub auto_matching: bool,
    /// Declared inputs of every policy the requirements name.
    pub policies: &'a dyn PolicyCatalog,
    pub hook: &'a dyn AutoMatchHook,
    /// Fill in what explains a component (the deciding evaluation, the argument
    /// comparison, skipped runs). Off for answers that show only statuses and scores
    /// (an overview, a history): statuses, deadlines and scores are the same either way.
    pub details: bool,
}

impl<'a> Context<'a> {
    /// Auto-matching on (the org default), no `autoMatch` modules.
    pub fn new(org: &'a str, at: i64, policies: &'a dyn PolicyCatalog) -> Context<'a> {
        Context {
            org,
            at,
            auto_matching: true,
            policies,
            hook: &NoAutoMatch,
            details: true,
        }
    }
}

/// Every cell of a product version: product-scoped requirements once at product level,
/// project-scoped ones once per project. Sorted by requirement, then project (the
/// product-level cell first).
pub fn product_status(ctx: &Context<'_>, facts: &ProductVersionFacts) -> Vec<CellStatus> {
    product_status_part(ctx, facts, 0, 1)
}

/// Part `part` of `parts` of [`product_status`]: the requirements, in name order, are
/// split into `parts` runs of (nearly) equal length and this computes the cells of one.
/// Parts `0..parts` concatenated are [`product_status`], so a large product version can
/// be computed on several threads.
pub fn product_status_part(
    ctx: &Context<'_>,
    facts: &ProductVersionFacts,
    part: usize,
    parts: usize,
) -> Vec<CellStatus> {
    cells(ctx, facts, part, parts, None)
}

/// The cells of one project of a product version: one per project-scoped requirement,
/// sorted by requirement; exactly the cells [`product_status`] gives that project. The
/// product-level cells of product-scoped requirements are the product's, not the
/// project's, and are left out. A project cell reads only that project's evidence and
/// the proofs and decisions recorded for it (semantics §3), so `facts.projects` may hold
/// that project alone: a page about one project need not read the others' evidence.
/// No cell when `facts` has no project of that name.
pub fn project_status(
    ctx: &Context<'_>,
    facts: &ProductVersionFacts,
    project: &str,
) -> Vec<CellStatus> {
    cells(ctx, facts, 0, 1, Some(project))
}

/// [`product_status_part`], or with `only` the cells of that project alone.
fn cells(
    ctx: &Context<'_>,
    facts: &ProductVersionFacts,
    part: usize,
    parts: usize,
    only: Option<&str>,
) -> Vec<CellStatus> {
    // Borrowed unless a requirement comes twice and its frameworks must be united.
    let mut requirements: BTreeMap<&str, Cow<'_, RequirementFacts>> = BTreeMap::new();
    for r in &facts.requirements {
        match requirements.get_mut(r.name.as_str()) {
            Some(seen) => seen
                .to_mut()
                .frameworks
                .extend(r.frameworks.iter().cloned()),
            None => {
                requirements.insert(&r.name, Cow::Borrowed(r));
            }
        }
    }
    type Cell<'f> = (&'f str, Option<&'f str>);
    let mut proofs: HashMap<Cell<'_>, Vec<&ProofFact>> = HashMap::new();
    for p in &facts.proofs {
        proofs
            .entry((&p.requirement, p.project.as_deref()))
            .or_default()
            .push(p);
    }
    let mut decisions: HashMap<Cell<'_>, Vec<&DecisionFact>> = HashMap::new();
    for d in &facts.decisions {
        decisions
            .entry((&d.requirement, d.project.as_deref()))
            .or_default()
            .push(d);
    }
    let mut applicability: HashMap<&str, Vec<&ApplicabilityFact>> = HashMap::new();
    for a in &facts.applicability {
        applicability.entry(&a.requirement).or_default().push(a);
    }
    let mut projects: Vec<&ProjectFacts> = facts
        .projects
        .iter()
        .filter(|p| only.is_none_or(|o| p.name == o))
        .collect();
    projects.sort_by(|a, b| a.name.cmp(&b.name));

    let parts = parts.max(1);
    let per = requirements.len().div_ceil(parts);
    let mut cells = Vec::new();
    for (name, requirement) in requirements.iter().skip(part * per).take(per) {
        let applicability = applicability.get(name).map_or(&[][..], Vec::as_slice);
        let mut one = |subject: Subject<'_>, project: Option<&str>| {
            let key = (*name, project);
            let cell = cell::compute(
                ctx,
                requirement,
                subject,
                proofs.get(&key).map_or(&[], Vec::as_slice),
                applicability,
                decisions.get(&key).map_or(&[], Vec::as_slice),
            );
            cells.extend(cell);
        };
        match requirement.scope {
            Scope::Product if only.is_some() => {}
            Scope::Product => one(Subject::Product, None),
            Scope::Project => {
                for p in &projects {
                    one(
                        Subject::Project {
                            name: &p.name,
                            version: p.version.as_deref(),
                            evidence: &p.evidence,
                        },
                        Some(&p.name),
                    );
                }
            }
        }
    }
    cells
}
