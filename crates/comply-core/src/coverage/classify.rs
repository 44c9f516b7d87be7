//! One contract against one requirement policy (semantics §5): `MATCHED`,
//! `PARAMETER_MISMATCH` or `NOT_MATCHED`, decided by the same rules the status engine
//! uses for evaluations (§4.1, §4.2), applied to what the contract would evaluate.

use super::CoverageContext;
use super::attachments::{EffectiveAttachment, IgnoredAttachment, IgnoredBecause};
use super::report::{PolicyMatch, PolicyMatchStatus};
use crate::compatibility::check_arguments;
use crate::resource::PolicyInput;
use crate::status::{ArgumentComparison, MatchSource, names_requirement, parameters_match};
use std::collections::BTreeMap;

/// One policy of the requirement, as coverage compares it.
pub(crate) struct Wanted<'a> {
    pub name: String,
    pub digest: Option<String>,
    pub with: &'a BTreeMap<String, String>,
    pub inputs: &'a [PolicyInput],
}

/// What the requirement is, for explicit references.
pub(crate) struct Target<'a> {
    pub org: &'a str,
    pub requirement: &'a str,
    pub frameworks: &'a [String],
}

impl Target<'_> {
    pub fn named_by(&self, attachment: &EffectiveAttachment) -> bool {
        attachment
            .requirements
            .iter()
            .any(|r| names_requirement(r, self.org, self.requirement, self.frameworks))
    }
}

/// How good a candidate is; one contract may attach a policy several times, and the
/// best attachment decides.
pub(crate) type Rank = u8;

const RANK_EXPLICIT: Rank = 6;
const RANK_AUTO: Rank = 5;
const RANK_MISMATCH: Rank = 4;
const RANK_AUTO_OFF: Rank = 3;
const RANK_DIGEST: Rank = 2;
const RANK_PROBLEM: Rank = 1;
pub(crate) const RANK_IGNORED: Rank = 0;

/// The digest an attachment runs: its own pin, else the policy's current digest.
fn runs_digest<'a>(
    ctx: &CoverageContext<'a>,
    wanted: &Wanted<'_>,
    attachment: &'a EffectiveAttachment,
) -> Option<&'a str> {
    attachment.digest.as_deref().or_else(|| {
        ctx.policy_digests
            .and_then(|d| d.get(&wanted.name))
            .map(String::as_str)
    })
}

/// How one effective attachment of the wanted policy's name fares, without building
/// the explanation (that is [`explain`], for the attachment that decides).
///
/// `known` caches `parameters_match` for the attachment's effective arguments (interned
/// by the index): the answer, typed comparison or `autoMatch` module, depends only on
/// them.
pub(crate) fn rank(
    ctx: &CoverageContext<'_>,
    target: &Target<'_>,
    wanted: &Wanted<'_>,
    attachment: &EffectiveAttachment,
    known: &mut Option<bool>,
) -> Rank {
    if attachment.problem.is_some() {
        return RANK_PROBLEM;
    }
    // A digest pin names the policy's exact content; explicit mappings honour it too
    // (decision 0010).
    if let Some(pin) = &wanted.digest
        && !runs_digest(ctx, wanted, attachment).is_some_and(|d| d.eq_ignore_ascii_case(pin))
    {
        return RANK_DIGEST;
    }
    if target.named_by(attachment) {
        return RANK_EXPLICIT;
    }
    if !ctx.auto_matching {
        return RANK_AUTO_OFF;
    }
    let ok = *known.get_or_insert_with(|| {
        parameters_match(
            ctx.hook,
            &wanted.name,
            wanted.inputs,
            &attachment.arguments,
            wanted.with,
        )
    });
    if ok { RANK_AUTO } else { RANK_MISMATCH }
}

/// The match `rank` gave this attachment, with its explanation: the arguments compared
/// and why it does not count.
pub(crate) fn explain(
    ctx: &CoverageContext<'_>,
    wanted: &Wanted<'_>,
    attachment: &EffectiveAttachment,
    rank: Rank,
) -> PolicyMatch {
    let mut m = PolicyMatch::not_matched(&wanted.name);
    m.group.clone_from(&attachment.group);
    m.reference = Some(attachment.reference.clone());
    let checks = check_arguments(wanted.inputs, &attachment.arguments, wanted.with);
    let typed = checks.iter().all(|c| c.compatible);
    m.arguments = checks
        .into_iter()
        .map(|c| ArgumentComparison {
            name: c.name,
            required: c.required,
            evaluated: c.evaluated,
            compatible: c.compatible,
        })
        .collect();
    match rank {
        RANK_EXPLICIT => {
            m.status = PolicyMatchStatus::Matched;
            m.source = Some(MatchSource::Explicit);
        }
        RANK_AUTO => {
            m.status = PolicyMatchStatus::Matched;
            m.source = Some(MatchSource::Auto);
            m.decided_by_auto_match = !typed;
        }
        RANK_MISMATCH => {
            m.status = PolicyMatchStatus::ParameterMismatch;
            m.decided_by_auto_match = typed;
            m.reason = Some(if typed {
                "the policy's autoMatch module rejects these arguments".to_owned()
            } else {
                let bad: Vec<&str> = m
                    .arguments
                    .iter()
                    .filter(|a| !a.compatible)
                    .map(|a| a.name.as_str())
                    .collect();
                format!("incompatible arguments: {}", bad.join(", "))
            });
        }
        RANK_AUTO_OFF => {
            m.reason = Some(
                "attached without a `requirements` reference to this requirement, and auto-matching is off"
                    .to_owned(),
            );
        }
        RANK_DIGEST => {
            let pin = wanted.digest.as_deref().unwrap_or_default();
            m.reason = Some(match runs_digest(ctx, wanted, attachment) {
                Some(d) => format!("the requirement pins {pin}; the contract runs {d}"),
                None => format!(
                    "the requirement pins {pin}; the contract does not pin a digest and the policy's current digest is not known"
                ),
            });
        }
        _ => m.reason.clone_from(&attachment.problem),
    }
    m
}

/// A listed attachment the contract does not evaluate.
pub(crate) fn ignored(wanted: &Wanted<'_>, ignored: &IgnoredAttachment) -> PolicyMatch {
    let mut m = PolicyMatch::not_matched(&wanted.name);
    m.group = ignored.group.clone();
    m.reason = Some(match (ignored.because, &ignored.group) {
        (IgnoredBecause::Disabled, _) => "attached but disabled".to_owned(),
        (IgnoredBecause::Skipped, Some(g)) => format!("skipped in policy group '{g}'"),
        (IgnoredBecause::Skipped, None) => "skipped".to_owned(),
    });
    m
}
