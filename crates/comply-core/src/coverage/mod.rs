//! Requirement coverage (semantics §5): which projects and contracts already implement
//! the policies a requirement asks for. Pure: contracts, groups, policies and projects
//! arrive as parameters, and the same inputs always give the same report.
//!
//! Entry points: build a [`ContractIndex`] once from the org's contracts (it flattens
//! each contract, groups included, and indexes attachments by policy name), then call
//! [`coverage`] per requirement, saved or draft; or [`requirement_coverage`] to do both
//! at once. [`filter`] narrows a report to the view's filters.
//! Decisions behind the details: `docs/decisions/0011-coverage.md`.

mod attachments;
mod classify;
mod report;

pub use attachments::{
    ContractIndex, EffectiveAttachment, FlatContract, GroupCatalog, IgnoredAttachment,
    IgnoredBecause, bind, effective_arguments, flatten,
};
pub use report::{
    ContractCoverage, Coverage, CoverageFilter, CoverageReport, PolicyMatch, PolicyMatchStatus,
    ProjectCoverage, filter,
};

/// Shared with the status engine, so coverage and status match alike.
pub use crate::status::{AutoMatchHook, MatchSource, NoAutoMatch, PolicyCatalog};

use crate::resource::{Contract, Requirement};
use attachments::policy_identity;
use classify::{RANK_IGNORED, Rank, Target, Wanted};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What coverage depends on besides the contracts and the projects.
#[derive(Clone, Copy)]
pub struct CoverageContext<'a> {
    /// The org's name: explicit references with an org part must name it.
    pub org: &'a str,
    /// The org setting `requirements_auto_matching`; off: only explicit matches count.
    pub auto_matching: bool,
    /// Declared inputs (types, defaults) of every policy.
    pub policies: &'a dyn PolicyCatalog,
    /// Policies' `autoMatch` modules (`matches_parameters`), as for status.
    pub hook: &'a dyn AutoMatchHook,
    /// The current content digest of each policy, by name: what an attachment that pins
    /// no digest runs, compared with a requirement's digest pin. `None`: unknown, so an
    /// unpinned attachment never satisfies a pin.
    pub policy_digests: Option<&'a BTreeMap<String, String>>,
}

impl<'a> CoverageContext<'a> {
    /// Auto-matching on (the org default), no `autoMatch` modules, no digests.
    pub fn new(org: &'a str, policies: &'a dyn PolicyCatalog) -> CoverageContext<'a> {
        CoverageContext {
            org,
            auto_matching: true,
            policies,
            hook: &NoAutoMatch,
            policy_digests: None,
        }
    }
}

/// One project, as the coverage view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectInput {
    pub name: String,
    /// The contracts its workflows use (duplicates allowed).
    pub contracts: Vec<String>,
    /// The requirement is in a framework attached to a version of a product containing
    /// the project.
    pub assigned: bool,
    /// The products containing the project.
    pub products: Vec<String>,
}

const PROOF_ONLY: &str = "the requirement lists no policies, only manual proofs: no contract can cover it, and every project shows NONE";

/// The coverage of `requirement` (saved or a draft: only its value is read) across
/// `projects`. `frameworks` are the frameworks that list the requirement: an explicit
/// reference `[org/]framework/requirement` counts when its framework is one of them.
pub fn coverage(
    ctx: &CoverageContext<'_>,
    index: &ContractIndex,
    requirement: &Requirement,
    frameworks: &[String],
    projects: &[ProjectInput],
) -> CoverageReport {
    let target = Target {
        org: ctx.org,
        requirement: &requirement.metadata.name,
        frameworks,
    };
    let wanted: Vec<Wanted<'_>> = requirement
        .spec
        .policies
        .iter()
        .map(|p| {
            let (name, digest) = policy_identity(&p.reference);
            let inputs = ctx.policies.inputs(&name).unwrap_or(&[]);
            Wanted {
                name,
                digest,
                with: &p.with,
                inputs,
            }
        })
        .collect();
    let n = wanted.len();

    // The best candidate per touched contract and requirement policy: (rank, index of
    // the attachment, or of the ignored entry for RANK_IGNORED).
    const UNTOUCHED: u32 = u32::MAX;
    let mut row_of = vec![UNTOUCHED; index.contracts.len()];
    let mut best: Vec<Option<(Rank, u32)>> = Vec::new();
    let mut row = |c: u32, best: &mut Vec<Option<(Rank, u32)>>| -> usize {
        let r = &mut row_of[c as usize];
        if *r == UNTOUCHED {
            *r = u32::try_from(best.len() / n.max(1)).expect("fewer than 2^32 contracts");
            best.resize(best.len() + n, None);
        }
        *r as usize * n
    };
    for (i, w) in wanted.iter().enumerate() {
        if let Some(entries) = index.by_policy.get(&w.name) {
            let mut known = vec![None; entries.arguments.len()];
            for &(c, a, args) in &entries.slots {
                let attachment = &index.contracts[c as usize].attachments[a as usize];
                let rank = classify::rank(ctx, &target, w, attachment, &mut known[args as usize]);
                let at = row(c, &mut best) + i;
                let slot = &mut best[at];
                if slot.is_none_or(|(r, _)| rank > r) {
                    *slot = Some((rank, a));
                }
            }
        }
        for &(c, k) in index.ignored_by_policy.get(&w.name).into_iter().flatten() {
            let at = row(c, &mut best) + i;
            let slot = &mut best[at];
            if slot.is_none() {
                *slot = Some((RANK_IGNORED, k));
            }
        }
    }
    let row_of = |c: u32| {
        Some(row_of[c as usize])
            .filter(|r| *r != UNTOUCHED)
            .map(|r| r as usize)
    };

    // Policies mapped to the requirement explicitly that it does not list.
    let listed: HashSet<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    let mut extras: HashMap<u32, BTreeSet<&str>> = HashMap::new();
    for &(c, a) in index
        .by_requirement
        .get(&requirement.metadata.name)
        .into_iter()
        .flatten()
    {
        let attachment = &index.contracts[c as usize].attachments[a as usize];
        if !listed.contains(attachment.policy.as_str())
            && attachment.problem.is_none()
            && target.named_by(attachment)
        {
            extras.entry(c).or_default().insert(&attachment.policy);
        }
    }

    // Each project's contracts, deduplicated and looked up once, and how many projects
    // show each contract: the last one takes the built entry instead of a copy.
    let mut resolved: Vec<(&str, Option<u32>)> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(projects.len());
    let mut uses = vec![0u32; index.contracts.len()];
    for p in projects {
        let mut names: Vec<&str> = p.contracts.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        let start = resolved.len();
        for name in names {
            let c = index.position(name);
            if let Some(c) = c {
                uses[c as usize] += 1;
            }
            resolved.push((name, c));
        }
        spans.push((start, resolved.len()));
    }
    let mut built: HashMap<u32, ContractCoverage> = HashMap::new();
    let mut contract_coverage = |&(name, c): &(&str, Option<u32>)| -> ContractCoverage {
        let Some(c) = c else {
            let mut cc = untouched(name, &wanted);
            cc.unknown = true;
            return cc;
        };
        let left = &mut uses[c as usize];
        *left -= 1;
        if let Some(cc) = built.get(&c) {
            return if *left == 0 {
                built.remove(&c).expect("present")
            } else {
                cc.clone()
            };
        }
        let flat = &index.contracts[c as usize];
        let mut cc = match row_of(c) {
            Some(r) => {
                let policies: Vec<PolicyMatch> = best[r * n..(r + 1) * n]
                    .iter()
                    .zip(&wanted)
                    .map(|(slot, w)| match *slot {
                        None => PolicyMatch::not_matched(&w.name),
                        Some((RANK_IGNORED, k)) => classify::ignored(w, &flat.ignored[k as usize]),
                        Some((rank, a)) => {
                            classify::explain(ctx, w, &flat.attachments[a as usize], rank)
                        }
                    })
                    .collect();
                ContractCoverage {
                    contract: name.to_owned(),
                    status: Coverage::of(matched_count(&policies), n),
                    policies,
                    explicit_only: Vec::new(),
                    problems: Vec::new(),
                    unknown: false,
                }
            }
            None => untouched(name, &wanted),
        };
        cc.explicit_only = extras
            .get(&c)
            .map(|e| e.iter().map(|s| (*s).to_owned()).collect())
            .unwrap_or_default();
        cc.problems.clone_from(&flat.problems);
        if *left > 0 {
            built.insert(c, cc.clone());
        }
        cc
    };

    let mut out: Vec<ProjectCoverage> = projects
        .iter()
        .zip(spans)
        .map(|(p, (start, end))| {
            let contracts: Vec<ContractCoverage> = resolved[start..end]
                .iter()
                .map(&mut contract_coverage)
                .collect();
            let matched: Vec<bool> = (0..n)
                .map(|i| {
                    contracts
                        .iter()
                        .any(|c| c.policies[i].status == PolicyMatchStatus::Matched)
                })
                .collect();
            ProjectCoverage {
                project: p.name.clone(),
                coverage: Coverage::of(matched.iter().filter(|m| **m).count(), n),
                assigned: p.assigned,
                products: p.products.clone(),
                unmatched: wanted
                    .iter()
                    .zip(&matched)
                    .filter(|(_, m)| !**m)
                    .map(|(w, _)| w.name.clone())
                    .collect(),
                contracts,
            }
        })
        .collect();
    out.sort_by(|a, b| a.project.cmp(&b.project));

    CoverageReport {
        requirement: requirement.metadata.name.clone(),
        policies: wanted.iter().map(|w| w.name.clone()).collect(),
        projects: out,
        auto_matching: ctx.auto_matching,
        note: (n == 0).then(|| PROOF_ONLY.to_owned()),
    }
}

/// Computes one requirement's coverage without a kept index, flattening only the
/// attachments this requirement can use: for a single request. A server answering many
/// should keep a [`ContractIndex`] and call [`coverage`].
pub fn requirement_coverage<'c>(
    ctx: &CoverageContext<'_>,
    groups: &dyn GroupCatalog,
    contracts: impl IntoIterator<Item = &'c Contract>,
    requirement: &Requirement,
    frameworks: &[String],
    projects: &[ProjectInput],
) -> CoverageReport {
    // Only what this requirement can use: attachments whose reference mentions one of
    // its policies, and those whose explicit references mention it (both matched
    // exactly afterwards).
    let wanted: Vec<String> = requirement
        .spec
        .policies
        .iter()
        .map(|p| policy_identity(&p.reference).0)
        .collect();
    let name = requirement.metadata.name.as_str();
    let keep = |reference: &str, refs: &[String], group_refs: &[String]| {
        wanted.iter().any(|w| reference.contains(w.as_str()))
            || refs.iter().chain(group_refs).any(|r| r.contains(name))
    };
    let index = ContractIndex::from_flat(
        contracts
            .into_iter()
            .map(|c| attachments::flatten_some(c, ctx.policies, groups, &keep)),
    );
    coverage(ctx, &index, requirement, frameworks, projects)
}

fn matched_count(policies: &[PolicyMatch]) -> usize {
    policies
        .iter()
        .filter(|p| p.status == PolicyMatchStatus::Matched)
        .count()
}

/// A contract that attaches none of the requirement's policies.
fn untouched(name: &str, wanted: &[Wanted<'_>]) -> ContractCoverage {
    ContractCoverage {
        contract: name.to_owned(),
        status: Coverage::None,
        policies: wanted
            .iter()
            .map(|w| PolicyMatch::not_matched(&w.name))
            .collect(),
        explicit_only: Vec::new(),
        problems: Vec::new(),
        unknown: false,
    }
}
