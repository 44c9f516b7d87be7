//! Which evaluations count for a requirement's policy (semantics §4.1, §4.2) and
//! whether one satisfies it (§3 step 5, with the re-filter of §4.3).

use super::facts::EvaluationFact;
use crate::compatibility::{arguments_compatible, severity_rank};
use crate::reference::RequirementRef;
use crate::resource::{InputType, PolicyInput};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A policy's Chainloop `autoMatch` module. Core cannot run Rego, so the server (which
/// compiles it) answers through this trait. `None` means the policy's module does not
/// define the rule (or the policy has no module): the typed comparison of §4.2 decides,
/// and nothing is vetoed.
pub trait AutoMatchHook {
    /// §4.2 step 2 for a policy whose module defines `matches_parameters`. `arguments`
    /// are the evaluation's as recorded, `expected` the requirement's `with`; both raw,
    /// as Chainloop passes them.
    fn matches_parameters(
        &self,
        policy: &str,
        arguments: &BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let _ = (policy, arguments, expected);
        None
    }

    /// Asked only about an evaluation that would satisfy the requirement's policy;
    /// `Some(false)` vetoes it. `violations` are the unsuppressed violation messages.
    fn matches_evaluation(
        &self,
        policy: &str,
        violations: &[&str],
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let _ = (policy, violations, expected);
        None
    }
}

/// No policy has an `autoMatch` module.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAutoMatch;

impl AutoMatchHook for NoAutoMatch {}

/// The declared inputs (types, defaults) of each policy, by normalised name.
pub trait PolicyCatalog {
    fn inputs(&self, policy: &str) -> Option<&[PolicyInput]>;
}

impl PolicyCatalog for BTreeMap<String, Vec<PolicyInput>> {
    fn inputs(&self, policy: &str) -> Option<&[PolicyInput]> {
        self.get(policy).map(Vec::as_slice)
    }
}

impl PolicyCatalog for HashMap<String, Vec<PolicyInput>> {
    fn inputs(&self, policy: &str) -> Option<&[PolicyInput]> {
        self.get(policy).map(Vec::as_slice)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchSource {
    Explicit,
    Auto,
}

/// §4.1: whether an explicit reference names this requirement of this org, through a
/// framework the product version attaches and that lists it. The `@version` part is
/// not compared (see decision 0010).
pub fn names_requirement(
    reference: &RequirementRef,
    org: &str,
    requirement: &str,
    frameworks: &[String],
) -> bool {
    reference.requirement == requirement
        && reference.org.as_deref().is_none_or(|o| o == org)
        && frameworks.contains(&reference.framework)
}

/// §4.2 step 2: the `autoMatch` module's `matches_parameters` when it has one, else every
/// argument the requirement constrains is compatible by its declared type.
pub fn parameters_match(
    hook: &dyn AutoMatchHook,
    policy: &str,
    inputs: &[PolicyInput],
    arguments: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
) -> bool {
    match hook.matches_parameters(policy, arguments, expected) {
        Some(decided) => decided,
        None => arguments_compatible(inputs, arguments, expected),
    }
}

/// How one evaluation fared against one requirement policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Verdict {
    pub passed: bool,
    /// Unsuppressed violations the evaluation reported.
    pub violations: usize,
    /// Passed only because the §4.3 re-filter left no violation at the threshold.
    pub refiltered: bool,
    /// Would have passed; the policy's `matches_evaluation` said no.
    pub vetoed: bool,
}

/// The requirement's severity threshold for §4.3: the value it gives to the policy's
/// first input declared `type: severity`. None when it sets no such input (it then
/// accepts any threshold, so there is nothing to re-filter against) or the value is not
/// a severity.
pub fn severity_threshold(
    inputs: &[PolicyInput],
    expected: &BTreeMap<String, String>,
) -> Option<usize> {
    inputs
        .iter()
        .filter(|i| i.input_type == Some(InputType::Severity))
        .find_map(|i| expected.get(&i.name))
        .and_then(|v| severity_rank(v))
}

/// §3 step 5 for one evaluation. `expected` is the requirement's `with`, or None for an
/// explicit-only component, which has no threshold and no `autoMatch` expectations.
pub fn judge(
    hook: &dyn AutoMatchHook,
    policy: &str,
    inputs: &[PolicyInput],
    expected: Option<&BTreeMap<String, String>>,
    evaluation: &EvaluationFact,
) -> Verdict {
    let open: Vec<_> = evaluation
        .violations
        .iter()
        .filter(|v| !v.suppressed)
        .collect();
    let mut verdict = Verdict {
        violations: open.len(),
        ..Verdict::default()
    };
    if open.is_empty() {
        verdict.passed = true;
    } else if let Some(threshold) = expected.and_then(|w| severity_threshold(inputs, w)) {
        // A severity that does not parse (UNKNOWN, absent) cannot be shown to be below
        // the threshold, so it keeps failing.
        let below = |v: &&super::facts::Violation| {
            v.severity
                .as_deref()
                .and_then(severity_rank)
                .is_some_and(|rank| rank < threshold)
        };
        if open.iter().all(below) {
            verdict.passed = true;
            verdict.refiltered = true;
        }
    }
    if verdict.passed
        && let Some(expected) = expected
    {
        let messages: Vec<&str> = open.iter().map(|v| v.message.as_str()).collect();
        if hook.matches_evaluation(policy, &messages, expected) == Some(false) {
            verdict.passed = false;
            verdict.vetoed = true;
        }
    }
    verdict
}
