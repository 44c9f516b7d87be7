//! The coverage report (the `requirement coverage` JSON shape of cli.md) and its
//! filters.

use crate::status::{ArgumentComparison, MatchSource};
use serde::Serialize;

/// A project's coverage, or how fully one contract matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Coverage {
    Full,
    Partial,
    None,
}

impl Coverage {
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Full => "FULL",
            Coverage::Partial => "PARTIAL",
            Coverage::None => "NONE",
        }
    }

    /// `full`, `partial` or `none`, case-insensitive (the CLI's `--status`).
    pub fn parse(text: &str) -> Option<Coverage> {
        [Coverage::Full, Coverage::Partial, Coverage::None]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// `matched` of `total` policies; no policy at all is `NONE`.
    pub fn of(matched: usize, total: usize) -> Coverage {
        if total > 0 && matched == total {
            Coverage::Full
        } else if matched > 0 {
            Coverage::Partial
        } else {
            Coverage::None
        }
    }
}

/// How one contract relates to one of the requirement's policies (semantics §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PolicyMatchStatus {
    NotMatched,
    ParameterMismatch,
    Matched,
}

impl PolicyMatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMatchStatus::Matched => "MATCHED",
            PolicyMatchStatus::ParameterMismatch => "PARAMETER_MISMATCH",
            PolicyMatchStatus::NotMatched => "NOT_MATCHED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyMatch {
    /// The requirement's policy (normalised name).
    pub policy: String,
    #[serde(rename = "match")]
    pub status: PolicyMatchStatus,
    /// `explicit` or `auto` when matched, else null.
    pub source: Option<MatchSource>,
    /// The policy group the deciding attachment comes through; absent: attached
    /// directly (or not attached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The deciding attachment's reference as written in the contract or group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Every argument the requirement constrains, against the attachment's effective
    /// value (the policy's default when it gives none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgumentComparison>,
    /// The policy's `autoMatch` module decided the arguments, against the typed
    /// comparison listed in `arguments`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decided_by_auto_match: bool,
    /// Why it is not matched although attached (disabled, skipped, digest, auto-matching
    /// off, cannot be evaluated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PolicyMatch {
    pub(crate) fn not_matched(policy: &str) -> PolicyMatch {
        PolicyMatch {
            policy: policy.to_owned(),
            status: PolicyMatchStatus::NotMatched,
            source: None,
            group: None,
            reference: None,
            arguments: Vec::new(),
            decided_by_auto_match: false,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractCoverage {
    pub contract: String,
    /// `FULL` when every policy is matched, `PARTIAL` when some are, else `NONE`.
    #[serde(rename = "match")]
    pub status: Coverage,
    /// One per requirement policy, in the requirement's order.
    pub policies: Vec<PolicyMatch>,
    /// Policies the contract maps to the requirement explicitly that the requirement
    /// does not list (semantics §4.1 extra components; they do not count for coverage).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explicit_only: Vec<String>,
    /// Problems with the contract that may explain a gap (unknown group, group input
    /// without a value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// A workflow of the project uses this contract, but comply holds no contract of
    /// that name.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectCoverage {
    pub project: String,
    pub coverage: Coverage,
    /// The requirement is in a framework attached to a version of a product containing
    /// the project.
    pub assigned: bool,
    /// Products containing the project (what `--product` filters on).
    pub products: Vec<String>,
    /// Requirement policies no contract of the project matches, in the requirement's
    /// order.
    pub unmatched: Vec<String>,
    /// The contracts the project's workflows use, by name.
    pub contracts: Vec<ContractCoverage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    pub requirement: String,
    /// The requirement's policies (normalised names), in its order.
    pub policies: Vec<String>,
    /// Projects sorted by name.
    pub projects: Vec<ProjectCoverage>,
    /// The org's `requirements_auto_matching` setting the report was computed with.
    pub auto_matching: bool,
    /// Set when the requirement lists no policies: contracts cannot cover it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CoverageReport {
    /// Projects per coverage: (full, partial, none).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |c| self.projects.iter().filter(|p| p.coverage == c).count();
        (
            count(Coverage::Full),
            count(Coverage::Partial),
            count(Coverage::None),
        )
    }
}

/// The coverage view's filters; every `None` keeps everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoverageFilter {
    pub status: Option<Coverage>,
    /// `Some(true)`: assigned projects only; `Some(false)`: unassigned only.
    pub assigned: Option<bool>,
    /// Projects of this product only.
    pub product: Option<String>,
}

impl CoverageFilter {
    pub fn keeps(&self, project: &ProjectCoverage) -> bool {
        self.status.is_none_or(|s| project.coverage == s)
            && self.assigned.is_none_or(|a| project.assigned == a)
            && self
                .product
                .as_ref()
                .is_none_or(|p| project.products.iter().any(|q| q == p))
    }
}

/// The report with only the projects the filter keeps.
pub fn filter(mut report: CoverageReport, filter: &CoverageFilter) -> CoverageReport {
    report.projects.retain(|p| filter.keeps(p));
    report
}
