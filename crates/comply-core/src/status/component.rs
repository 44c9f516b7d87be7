//! The state at `t` of one policy or proof component of a cell (semantics §3).

use super::Context;
use super::candidates::{MatchSource, Verdict, judge, names_requirement, parameters_match};
use super::evidence::Evidence;
use super::facts::{EvaluationFact, ProofFact, RequirementFacts};
use crate::compatibility::check_arguments;
use crate::periodicity::Periodicity;
use crate::reference::{PolicyRef, RequirementRef};
use crate::resource::{ManualProof, PolicyAttachment, PolicyInput};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const HOUR_MS: i64 = 3_600_000;

/// The skipped evaluations an explanation lists, newest first; `skipped_total` counts
/// them all.
const SKIPPED_SHOWN: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    Policy,
    Proof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComponentStatus {
    Passed,
    Grace,
    Failed,
    Expired,
    NoData,
    Provided,
    Missing,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Grace => "GRACE",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
            Self::NoData => "NO_DATA",
            Self::Provided => "PROVIDED",
            Self::Missing => "MISSING",
        }
    }

    pub(crate) fn is_absent(self) -> bool {
        matches!(self, Self::NoData | Self::Missing)
    }
}

/// The evaluation that decided a policy component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationRef {
    pub id: String,
    pub attestation: String,
    pub time: i64,
    pub matched_by: MatchSource,
    pub arguments: BTreeMap<String, String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The unsuppressed findings behind a failing verdict, up to a limit; core's facts
    /// carry only severities, so the caller fills these in from the stored evaluation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// How many unsuppressed violations there were in all (`findings` may be fewer).
    #[serde(skip_serializing_if = "is_zero")]
    pub findings_total: usize,
    /// The hosts the evaluation could reach (decision 0025); `None`: sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networked: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One violation of a failing evaluation, as an explanation names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The finding's id (a CVE, a rule id), when it is structured.
    pub id: Option<String>,
    /// The package (purl) it is in.
    pub package: Option<String>,
    pub severity: Option<String>,
    pub fixed_version: Option<String>,
    pub message: String,
}

/// Why a policy component has no candidate although evaluations of its policy exist,
/// or that none exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// Evaluations of this policy in the subject's evidence at `t` (skipped or not)
    /// that are not candidates.
    pub evaluations: usize,
    /// The newest of them: what it ran with.
    pub newest: Option<UnmatchedEvaluation>,
    /// Auto-matching is off in the org: only explicit mappings could have matched.
    pub auto_matching_off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedEvaluation {
    pub id: String,
    pub attestation: String,
    pub time: i64,
    pub arguments: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofRef {
    pub id: String,
    pub collected_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedEvaluation {
    pub id: String,
    pub attestation: String,
    pub time: i64,
    pub reasons: Vec<String>,
}

/// One argument the requirement constrains, against the deciding evaluation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgumentComparison {
    pub name: String,
    pub required: String,
    /// The evaluation's value, or the input's default when it gave none.
    pub evaluated: Option<String>,
    pub compatible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub kind: ComponentKind,
    /// The policy (normalised) or proof name.
    pub name: String,
    pub status: ComponentStatus,
    /// This component is one the combination rule that fired looked at.
    pub decisive: bool,
    /// Filled only by evaluations explicitly mapped to a requirement that does not list
    /// the policy (§4.1): no periodicity, no SLA, no threshold.
    pub explicit_only: bool,
    /// Short label of the deciding evidence: the attestation digest or the proof id.
    pub evidence: Option<String>,
    pub evaluation: Option<EvaluationRef>,
    pub proof: Option<ProofRef>,
    pub periodicity: Option<Periodicity>,
    pub sla_hours: Option<u32>,
    /// The last instant the deciding evidence is fresh (`t` after it: `EXPIRED`).
    pub expires_at: Option<i64>,
    /// Onset of the unbroken run of failing candidates ending at the deciding one.
    pub failing_since: Option<i64>,
    /// `GRACE` before this instant, `FAILED` from it.
    pub grace_ends_at: Option<i64>,
    pub arguments: Vec<ArgumentComparison>,
    pub skipped: Vec<SkippedEvaluation>,
    pub skipped_total: usize,
    /// For a policy component without candidates: the evaluations of its policy that
    /// did not match (explanations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmatched: Option<Unmatched>,
}

impl Component {
    fn new(kind: ComponentKind, name: String, status: ComponentStatus) -> Component {
        Component {
            kind,
            name,
            status,
            decisive: false,
            explicit_only: false,
            evidence: None,
            evaluation: None,
            proof: None,
            periodicity: None,
            sla_hours: None,
            expires_at: None,
            failing_since: None,
            grace_ends_at: None,
            arguments: Vec::new(),
            skipped: Vec::new(),
            skipped_total: 0,
            unmatched: None,
        }
    }

    /// The next instant after `t` at which this component changes by itself.
    pub(crate) fn deadline(&self, t: i64) -> Option<i64> {
        let expiry = self.expires_at.filter(|x| *x >= t);
        let grace = self.grace_ends_at.filter(|g| *g > t);
        match (expiry, grace) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn period_ms(p: Option<Periodicity>) -> Option<i64> {
    p.map(|p| p.seconds() * 1000)
}

/// Proof component `m` of a cell: the latest proof collected and submitted by `t`.
pub(crate) fn proof_component(t: i64, proof: &ManualProof, proofs: &[&ProofFact]) -> Component {
    let latest = proofs
        .iter()
        .filter(|p| p.proof == proof.name && p.collected_at <= t && p.created_at <= t)
        .max_by(|a, b| {
            (a.collected_at, a.created_at, &a.id).cmp(&(b.collected_at, b.created_at, &b.id))
        });
    let mut c = Component::new(
        ComponentKind::Proof,
        proof.name.clone(),
        ComponentStatus::Missing,
    );
    c.periodicity = proof.periodicity;
    if let Some(p) = latest {
        c.expires_at = period_ms(proof.periodicity).map(|ms| p.collected_at + ms);
        c.status = if c.expires_at.is_some_and(|x| t > x) {
            ComponentStatus::Expired
        } else {
            ComponentStatus::Provided
        };
        c.evidence = Some(p.id.clone());
        c.proof = Some(ProofRef {
            id: p.id.clone(),
            collected_at: p.collected_at,
            created_at: p.created_at,
        });
    }
    c
}

/// The policy components of a project cell: one per `spec.policies[]` entry, then one
/// per policy that only explicit mappings bring (sorted by name).
pub(crate) fn policy_components(
    ctx: &Context<'_>,
    requirement: &RequirementFacts,
    evidence: &Evidence,
) -> Vec<Component> {
    let t = ctx.at;
    let mut listed = BTreeSet::new();
    let mut out = Vec::with_capacity(requirement.policies.len());
    let explicit = |refs: &[RequirementRef]| {
        refs.iter()
            .any(|r| names_requirement(r, ctx.org, &requirement.name, &requirement.frameworks))
    };
    for attachment in &requirement.policies {
        let (name, digest) = match PolicyRef::parse(&attachment.reference) {
            Ok(r) => (r.name, r.digest),
            Err(_) => (attachment.reference.trim().to_owned(), None),
        };
        let inputs = ctx.policies.inputs(&name).unwrap_or(&[]);
        let walk = walk(
            t,
            evidence,
            evidence.of_policy(&name),
            |e, refs| {
                if let Some(pin) = &digest
                    && !e
                        .policy_digest
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case(pin))
                {
                    return None;
                }
                if explicit(refs) {
                    Some(MatchSource::Explicit)
                } else if ctx.auto_matching
                    && parameters_match(ctx.hook, &name, inputs, &e.arguments, &attachment.with)
                {
                    Some(MatchSource::Auto)
                } else {
                    None
                }
            },
            |e| judge(ctx.hook, &name, inputs, Some(&attachment.with), e),
        );
        let mut c = component_from(t, ctx.details, name.clone(), Some(attachment), inputs, walk);
        if ctx.details && c.status == ComponentStatus::NoData {
            c.unmatched = Some(unmatched(ctx, evidence, evidence.of_policy(&name)));
        }
        out.push(c);
        listed.insert(name);
    }

    let mut extra: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for &i in evidence.naming_requirement(&requirement.name) {
        let (e, refs) = evidence.get(i);
        if !listed.contains(&e.policy) && explicit(refs) {
            extra.entry(e.policy.as_str()).or_default().push(i);
        }
    }
    for (name, indices) in extra {
        let inputs = ctx.policies.inputs(name).unwrap_or(&[]);
        let walk = walk(
            t,
            evidence,
            &indices,
            |_, _| Some(MatchSource::Explicit),
            |e| judge(ctx.hook, name, inputs, None, e),
        );
        // Skipped runs alone are not evidence: the component appears once a candidate
        // does, so a skipped extra policy never turns a cell PARTIAL.
        if walk.latest.is_some() {
            let mut c = component_from(t, ctx.details, name.to_owned(), None, inputs, walk);
            c.explicit_only = true;
            out.push(c);
        }
    }
    out
}

/// The distinct raw references of evaluations existing at `t` that name the
/// requirement's name but do not match it (semantics §4.1: kept and reported).
pub(crate) fn unmatched_references(
    ctx: &Context<'_>,
    requirement: &RequirementFacts,
    evidence: &Evidence,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    for &i in evidence.naming_requirement(&requirement.name) {
        let (e, refs) = evidence.get(i);
        if e.time > ctx.at || e.received_at > ctx.at {
            continue;
        }
        for (raw, r) in e.requirements.iter().zip(refs) {
            if r.requirement == requirement.name
                && !names_requirement(r, ctx.org, &requirement.name, &requirement.frameworks)
            {
                out.insert(raw.trim().to_owned());
            }
        }
    }
    out.into_iter().collect()
}

/// The evaluations of a policy that existed at `t` and were not candidates.
fn unmatched(ctx: &Context<'_>, evidence: &Evidence, indices: &[u32]) -> Unmatched {
    let t = ctx.at;
    let upto = indices.partition_point(|&i| evidence.get(i).0.time <= t);
    let mut existing = indices[..upto]
        .iter()
        .map(|&i| evidence.get(i).0)
        .filter(|e| e.received_at <= t);
    let newest = existing.next_back().map(|e| UnmatchedEvaluation {
        id: e.id.clone(),
        attestation: e.attestation.clone(),
        time: e.time,
        arguments: e.arguments.clone(),
    });
    Unmatched {
        evaluations: existing.count() + usize::from(newest.is_some()),
        newest,
        auto_matching_off: !ctx.auto_matching,
    }
}

struct Deciding<'a> {
    evaluation: &'a EvaluationFact,
    source: MatchSource,
    verdict: Verdict,
}

struct Walk<'a> {
    latest: Option<Deciding<'a>>,
    failing_since: Option<i64>,
    skipped: Vec<&'a EvaluationFact>,
    skipped_total: usize,
}

type Matched<'a> = (&'a EvaluationFact, MatchSource);

/// Matching candidates newest first, one attestation at a time.
///
/// Evaluations of one attestation share its time and receipt, so "latest by time, ties
/// by receipt" cannot choose between them: they are judged together, and the
/// attestation fails if any of them fails (two images scanned, one vulnerable, is a
/// failure).
struct Groups<'a, I> {
    matched: I,
    pending: Option<Matched<'a>>,
    /// The latest candidate's attestation, once known.
    first: Option<(i64, &'a str)>,
    skipped: Vec<&'a EvaluationFact>,
    skipped_total: usize,
}

fn key(e: &EvaluationFact) -> (i64, &str) {
    (e.time, e.attestation.as_str())
}

impl<'a, I: Iterator<Item = Matched<'a>>> Groups<'a, I> {
    fn next_group(&mut self) -> Option<Vec<Matched<'a>>> {
        let mut group = Vec::new();
        let mut current = None;
        if let Some(p) = self.pending.take() {
            current = Some(key(p.0));
            group.push(p);
        }
        for (e, source) in self.matched.by_ref() {
            let k = key(e);
            if e.skipped {
                // Only skipped runs newer than the deciding attestation, or in it, are
                // what an explanation needs: they are why nothing newer decided.
                if self.first.or(current).is_none_or(|f| f == k) {
                    self.skipped_total += 1;
                    if self.skipped.len() < SKIPPED_SHOWN {
                        self.skipped.push(e);
                    }
                }
                continue;
            }
            match current {
                None => current = Some(k),
                Some(c) if c != k => {
                    self.pending = Some((e, source));
                    break;
                }
                Some(_) => {}
            }
            group.push((e, source));
        }
        if self.first.is_none() {
            self.first = current;
        }
        (!group.is_empty()).then_some(group)
    }
}

/// Walks a policy's evaluations back from the newest at `t`: the latest candidate
/// decides, and when it fails the walk goes on to the start of the failing run.
fn walk<'a>(
    t: i64,
    evidence: &'a Evidence,
    indices: &[u32],
    is_match: impl Fn(&EvaluationFact, &[RequirementRef]) -> Option<MatchSource>,
    verdict_of: impl Fn(&EvaluationFact) -> Verdict,
) -> Walk<'a> {
    let upto = indices.partition_point(|&i| evidence.get(i).0.time <= t);
    let matched = indices[..upto].iter().rev().filter_map(|&i| {
        let (e, refs) = evidence.get(i);
        if e.received_at > t {
            return None;
        }
        is_match(e, refs).map(|source| (e, source))
    });
    let mut groups = Groups {
        matched,
        pending: None,
        first: None,
        skipped: Vec::new(),
        skipped_total: 0,
    };
    let mut latest = None;
    let mut failing_since = None;
    if let Some(group) = groups.next_group() {
        let verdicts: Vec<Verdict> = group.iter().map(|(e, _)| verdict_of(e)).collect();
        // The newest member decides, unless a member fails: then the newest failing one.
        let pick = verdicts.iter().position(|v| !v.passed).unwrap_or(0);
        let (evaluation, source) = group[pick];
        if !verdicts[pick].passed {
            let mut onset = evaluation.time;
            while let Some(older) = groups.next_group() {
                if older.iter().all(|(e, _)| verdict_of(e).passed) {
                    break;
                }
                onset = older[0].0.time;
            }
            failing_since = Some(onset);
        }
        latest = Some(Deciding {
            evaluation,
            source,
            verdict: verdicts[pick],
        });
    }
    Walk {
        latest,
        failing_since,
        skipped: groups.skipped,
        skipped_total: groups.skipped_total,
    }
}

fn component_from(
    t: i64,
    details: bool,
    name: String,
    attachment: Option<&PolicyAttachment>,
    inputs: &[PolicyInput],
    walk: Walk<'_>,
) -> Component {
    let mut c = Component::new(ComponentKind::Policy, name, ComponentStatus::NoData);
    c.periodicity = attachment.and_then(|a| a.periodicity);
    c.sla_hours = attachment.and_then(|a| a.sla);
    c.skipped_total = walk.skipped_total;
    if details {
        c.skipped = walk
            .skipped
            .iter()
            .map(|e| SkippedEvaluation {
                id: e.id.clone(),
                attestation: e.attestation.clone(),
                time: e.time,
                reasons: e.skip_reasons.clone(),
            })
            .collect();
    }
    let Some(deciding) = walk.latest else {
        if let Some(a) = attachment.filter(|_| details) {
            c.arguments = a
                .with
                .iter()
                .map(|(name, required)| ArgumentComparison {
                    name: name.clone(),
                    required: required.clone(),
                    evaluated: None,
                    compatible: false,
                })
                .collect();
        }
        return c;
    };
    let e = deciding.evaluation;
    if details {
        if let Some(a) = attachment {
            c.arguments = check_arguments(inputs, &e.arguments, &a.with)
                .into_iter()
                .map(|check| ArgumentComparison {
                    name: check.name,
                    required: check.required,
                    evaluated: check.evaluated,
                    compatible: check.compatible,
                })
                .collect();
        }
        c.evidence = Some(e.attestation.clone());
        c.evaluation = Some(EvaluationRef {
            id: e.id.clone(),
            attestation: e.attestation.clone(),
            time: e.time,
            matched_by: deciding.source,
            arguments: e.arguments.clone(),
            verdict: deciding.verdict,
            findings: Vec::new(),
            findings_total: 0,
            networked: e.networked.clone(),
        });
    }
    c.expires_at = period_ms(c.periodicity).map(|ms| e.time + ms);
    c.status = if c.expires_at.is_some_and(|x| t > x) {
        ComponentStatus::Expired
    } else if deciding.verdict.passed {
        ComponentStatus::Passed
    } else {
        let onset = walk.failing_since.unwrap_or(e.time);
        c.failing_since = Some(onset);
        c.grace_ends_at = c.sla_hours.map(|h| onset + i64::from(h) * HOUR_MS);
        if c.grace_ends_at.is_some_and(|end| t < end) {
            ComponentStatus::Grace
        } else {
            ComponentStatus::Failed
        }
    };
    c
}
