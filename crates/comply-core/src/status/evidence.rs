//! The evaluations of one project version, sorted and indexed once so that each of the
//! version's cells reads only the evaluations of its own policies.

use super::facts::{EvaluationFact, ReferencedEvaluationsFact};
use crate::reference::RequirementRef;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Ascending by (time, receipt, attestation, id): a total order, so the input order
    /// of the facts never shows in a result.
    evaluations: Vec<EvaluationFact>,
    /// Parsed explicit references, parallel to `evaluations`; unparseable ones dropped
    /// (ingestion reports them; here they simply match nothing).
    refs: Vec<Vec<RequirementRef>>,
    by_policy: HashMap<String, Vec<u32>>,
    /// Requirement name → evaluations whose explicit references name it.
    by_requirement: HashMap<String, Vec<u32>>,
    /// Attestations whose evaluations are referenced but were not supplied, by time.
    referenced: Vec<ReferencedEvaluationsFact>,
}

impl Evidence {
    pub fn new(mut evaluations: Vec<EvaluationFact>) -> Evidence {
        evaluations.sort_by(|a, b| {
            (a.time, a.receipt, &a.attestation, &a.id).cmp(&(
                b.time,
                b.receipt,
                &b.attestation,
                &b.id,
            ))
        });
        let mut by_policy: HashMap<String, Vec<u32>> = HashMap::new();
        let mut by_requirement: HashMap<String, Vec<u32>> = HashMap::new();
        let mut refs = Vec::with_capacity(evaluations.len());
        for (i, e) in evaluations.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^32 evaluations per version");
            by_policy.entry(e.policy.clone()).or_default().push(i);
            let parsed: Vec<RequirementRef> = e
                .requirements
                .iter()
                .filter_map(|r| RequirementRef::parse(r.trim()))
                .collect();
            let mut named: Vec<&str> = parsed.iter().map(|r| r.requirement.as_str()).collect();
            named.sort_unstable();
            named.dedup();
            for name in named {
                by_requirement.entry(name.to_owned()).or_default().push(i);
            }
            refs.push(parsed);
        }
        Evidence {
            evaluations,
            refs,
            by_policy,
            by_requirement,
            referenced: Vec::new(),
        }
    }

    /// With the attestations that referenced evaluations comply was not given.
    pub fn with_referenced(mut self, mut referenced: Vec<ReferencedEvaluationsFact>) -> Evidence {
        referenced.sort_by(|a, b| (a.time, &a.attestation).cmp(&(b.time, &b.attestation)));
        self.referenced = referenced;
        self
    }

    /// The attestations received by `t` whose referenced evaluations were missing then.
    pub fn referenced_missing_at(
        &self,
        t: i64,
    ) -> impl Iterator<Item = &ReferencedEvaluationsFact> {
        self.referenced.iter().filter(move |r| r.missing_at(t))
    }

    /// All evaluations, in the order status uses.
    pub fn evaluations(&self) -> &[EvaluationFact] {
        &self.evaluations
    }

    pub fn len(&self) -> usize {
        self.evaluations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.evaluations.is_empty()
    }

    pub(crate) fn get(&self, i: u32) -> (&EvaluationFact, &[RequirementRef]) {
        (&self.evaluations[i as usize], &self.refs[i as usize])
    }

    pub(crate) fn of_policy(&self, policy: &str) -> &[u32] {
        self.by_policy.get(policy).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn naming_requirement(&self, requirement: &str) -> &[u32] {
        self.by_requirement
            .get(requirement)
            .map_or(&[], Vec::as_slice)
    }
}
