//! A contract flattened into the policy attachments it would evaluate: direct ones and
//! those its policy groups bring, with group inputs bound into their arguments
//! (chainloop-formats §4, §5, §7), `disabled` attachments and `skip`ped group members
//! left out.

use crate::reference::{PolicyRef, RequirementRef};
use crate::resource::{Attachment, Contract, PolicyGroup, PolicyInput};
use crate::status::PolicyCatalog;
use std::collections::{BTreeMap, HashMap};

/// The org's policy groups (its own and the built-in ones), by normalised name.
pub trait GroupCatalog {
    fn group(&self, name: &str) -> Option<&PolicyGroup>;
}

impl GroupCatalog for BTreeMap<String, PolicyGroup> {
    fn group(&self, name: &str) -> Option<&PolicyGroup> {
        self.get(name)
    }
}

impl GroupCatalog for HashMap<String, PolicyGroup> {
    fn group(&self, name: &str) -> Option<&PolicyGroup> {
        self.get(name)
    }
}

pub use crate::arguments::bind;

/// Chainloop's `ComputeArguments` as the engine runs it ([`crate::arguments::compute`]),
/// without the names of dropped arguments.
pub fn effective_arguments(
    inputs: &[PolicyInput],
    with: &BTreeMap<String, String>,
    bindings: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    crate::arguments::compute(inputs, with, bindings).map(|(args, _)| args)
}

/// A policy or group reference's normalised name and pinned digest; a reference that
/// does not parse is kept as written (trimmed), as the status engine does.
pub(crate) fn policy_identity(reference: &str) -> (String, Option<String>) {
    match PolicyRef::parse(reference) {
        Ok(r) => (r.name, r.digest),
        Err(_) => (reference.trim().to_owned(), None),
    }
}

/// One policy the contract evaluates, as it would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveAttachment {
    /// Normalised policy name.
    pub policy: String,
    /// The reference as written.
    pub reference: String,
    /// The digest the reference pins, if any.
    pub digest: Option<String>,
    /// Effective arguments: group inputs bound, the policy's defaults applied.
    pub arguments: BTreeMap<String, String>,
    /// Explicit requirement references: the attachment's own, then its group
    /// attachment's. References that do not parse are left out.
    pub requirements: Vec<RequirementRef>,
    /// The policy group (normalised name) that brings it; `None`: attached directly.
    pub group: Option<String>,
    /// Why it cannot be evaluated as configured (a required input without a value, in
    /// the policy or its group). Such an attachment produces no evaluation, so it
    /// matches nothing.
    pub problem: Option<String>,
}

/// Why an attachment the contract lists is not evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoredBecause {
    /// `disabled: true` on the attachment.
    Disabled,
    /// Named in the group attachment's `skip`.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredAttachment {
    pub policy: String,
    pub group: Option<String>,
    pub because: IgnoredBecause,
}

/// A contract's effective attachments, in the order Chainloop lists them: material
/// policies, attestation policies, then each group's (material entries, attestation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatContract {
    pub name: String,
    pub attachments: Vec<EffectiveAttachment>,
    /// Listed but not evaluated, for explanations.
    pub ignored: Vec<IgnoredAttachment>,
    /// Problems with the contract as a whole (an unknown group, a group input without a
    /// value, a `skip` naming no member).
    pub problems: Vec<String>,
}

fn requirement_refs<'a>(refs: impl IntoIterator<Item = &'a String>) -> Vec<RequirementRef> {
    refs.into_iter()
        .filter_map(|r| RequirementRef::parse(r.trim()))
        .collect()
}

/// Flattens one contract. `policies` gives declared inputs (defaults, required ones),
/// `groups` the groups the contract attaches.
pub fn flatten(
    contract: &Contract,
    policies: &dyn PolicyCatalog,
    groups: &dyn GroupCatalog,
) -> FlatContract {
    flatten_some(contract, policies, groups, &|_, _, _| true)
}

/// Decides, from (the attachment's reference as written, its `requirements`, its group
/// attachment's `requirements`), whether an attachment is worth flattening. A cheap
/// prefilter: what it keeps is still matched exactly afterwards.
pub(crate) type Keep<'k> = dyn Fn(&str, &[String], &[String]) -> bool + 'k;

/// [`flatten`], keeping only the attachments `keep` accepts (contract problems are
/// always reported).
pub(crate) fn flatten_some(
    contract: &Contract,
    policies: &dyn PolicyCatalog,
    groups: &dyn GroupCatalog,
    keep: &Keep<'_>,
) -> FlatContract {
    let no_bindings = BTreeMap::new();
    let mut flat = FlatContract {
        name: contract.metadata.name.clone(),
        attachments: Vec::new(),
        ignored: Vec::new(),
        problems: Vec::new(),
    };
    let push = |flat: &mut FlatContract,
                a: &Attachment,
                bindings: &BTreeMap<String, String>,
                group: Option<(&str, &[String], Option<&str>)>| {
        let (group_refs, group_problem) = match group {
            Some((_, refs, problem)) => (refs, problem),
            None => (&[][..], None),
        };
        if !keep(&a.reference, &a.requirements, group_refs) {
            return;
        }
        let (policy, digest) = policy_identity(&a.reference);
        let group_name = group.map(|(g, _, _)| g.to_owned());
        if a.disabled {
            flat.ignored.push(IgnoredAttachment {
                policy,
                group: group_name,
                because: IgnoredBecause::Disabled,
            });
            return;
        }
        let inputs = policies.inputs(&policy).unwrap_or(&[]);
        let (arguments, problem) = match effective_arguments(inputs, &a.with, bindings) {
            Ok(args) => (args, None),
            Err(e) => (
                a.with
                    .iter()
                    .map(|(k, v)| (k.clone(), bind(v, bindings)))
                    .collect(),
                Some(format!(
                    "policy '{policy}' cannot be evaluated as configured: {e}"
                )),
            ),
        };
        flat.attachments.push(EffectiveAttachment {
            policy,
            reference: a.reference.clone(),
            digest,
            arguments,
            requirements: requirement_refs(a.requirements.iter().chain(group_refs)),
            group: group_name,
            // The group's problem first: it is the cause.
            problem: group_problem.map(str::to_owned).or(problem),
        });
    };

    for a in contract.attachments() {
        push(&mut flat, a, &no_bindings, None);
    }
    for ga in &contract.spec.policy_groups {
        let (group_name, _) = policy_identity(&ga.reference);
        let Some(group) = groups.group(&group_name) else {
            flat.problems
                .push(format!("policy group '{group_name}' is not known"));
            continue;
        };
        let (bindings, group_problem) =
            match effective_arguments(&group.spec.inputs, &ga.with, &no_bindings) {
                Ok(b) => (b, None),
                Err(e) => {
                    let p = format!(
                        "policy group '{group_name}' cannot be evaluated as configured: {e}"
                    );
                    flat.problems.push(p.clone());
                    (ga.with.clone(), Some(p))
                }
            };
        let skip: Vec<String> = ga.skip.iter().map(|s| policy_identity(s).0).collect();
        let mut skipped_seen = vec![false; skip.len()];
        for a in group.attachments() {
            if !skip.is_empty()
                && let (policy, _) = policy_identity(&a.reference)
                && let Some(i) = skip.iter().position(|s| *s == policy)
            {
                skipped_seen[i] = true;
                if !a.disabled {
                    if keep(&a.reference, &a.requirements, &ga.requirements) {
                        flat.ignored.push(IgnoredAttachment {
                            policy,
                            group: Some(group_name.clone()),
                            because: IgnoredBecause::Skipped,
                        });
                    }
                    continue;
                }
            }
            push(
                &mut flat,
                a,
                &bindings,
                Some((&group_name, &ga.requirements, group_problem.as_deref())),
            );
        }
        for (name, seen) in skip.iter().zip(skipped_seen) {
            if !seen {
                flat.problems.push(format!(
                    "skip names '{name}', which is not a policy of group '{group_name}'"
                ));
            }
        }
    }
    flat
}

/// Where an attachment sits: (contract, attachment or ignored entry) indices.
pub(crate) type Slot = (u32, u32);

/// The effective attachments of one policy across contracts.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyEntries {
    /// (contract, attachment, id of its effective arguments)
    pub slots: Vec<(u32, u32, u32)>,
    /// Distinct effective arguments, interned: contracts repeat a few argument sets, and
    /// whether one matches a requirement depends only on it, so a query compares each
    /// set once.
    pub arguments: HashMap<BTreeMap<String, String>, u32>,
}

/// Every contract flattened once, indexed by policy name, so that computing one
/// requirement's coverage touches only the contracts that attach its policies (or map
/// a policy to it explicitly).
///
/// The index depends on the contracts and on the policy and group catalogs it was
/// built with (defaults, group members): rebuild it when any of them changes.
#[derive(Debug, Clone, Default)]
pub struct ContractIndex {
    pub(crate) contracts: Vec<FlatContract>,
    by_name: HashMap<String, u32>,
    /// Policy name → effective attachments of it.
    pub(crate) by_policy: HashMap<String, PolicyEntries>,
    /// Policy name → ignored (disabled, skipped) attachments of it.
    pub(crate) ignored_by_policy: HashMap<String, Vec<Slot>>,
    /// Requirement name (the last part of an explicit reference) → attachments naming it.
    pub(crate) by_requirement: HashMap<String, Vec<Slot>>,
}

/// `map.entry(key).or_default()` without allocating the key when it is there.
fn entry<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted")
}

fn index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 contracts and attachments")
}

impl ContractIndex {
    /// Flattens every contract (the latest revision of each; names are expected unique,
    /// a later one with a name already seen replaces it).
    pub fn build<'c>(
        contracts: impl IntoIterator<Item = &'c Contract>,
        policies: &dyn PolicyCatalog,
        groups: &dyn GroupCatalog,
    ) -> ContractIndex {
        ContractIndex::from_flat(contracts.into_iter().map(|c| flatten(c, policies, groups)))
    }

    /// Indexes contracts flattened already (e.g. cached per contract revision).
    pub fn from_flat(contracts: impl IntoIterator<Item = FlatContract>) -> ContractIndex {
        let mut out = ContractIndex::default();
        for flat in contracts {
            let existing = out.by_name.get(&flat.name).copied();
            let c = existing.unwrap_or_else(|| index(out.contracts.len()));
            if existing.is_some() {
                // Replaced: forget the old entries.
                for entries in out.by_policy.values_mut() {
                    entries.slots.retain(|(sc, _, _)| *sc != c);
                }
                for slots in out
                    .ignored_by_policy
                    .values_mut()
                    .chain(out.by_requirement.values_mut())
                {
                    slots.retain(|(sc, _)| *sc != c);
                }
            }
            for (a, attachment) in flat.attachments.iter().enumerate() {
                let slot = (c, index(a));
                let entries = entry(&mut out.by_policy, &attachment.policy);
                let next = index(entries.arguments.len());
                let id = match entries.arguments.get(&attachment.arguments) {
                    Some(&id) => id,
                    None => {
                        entries.arguments.insert(attachment.arguments.clone(), next);
                        next
                    }
                };
                entries.slots.push((c, slot.1, id));
                let mut named: Vec<&str> = attachment
                    .requirements
                    .iter()
                    .map(|r| r.requirement.as_str())
                    .collect();
                named.sort_unstable();
                named.dedup();
                for r in named {
                    entry(&mut out.by_requirement, r).push(slot);
                }
            }
            for (i, ignored) in flat.ignored.iter().enumerate() {
                entry(&mut out.ignored_by_policy, &ignored.policy).push((c, index(i)));
            }
            if existing.is_some() {
                out.contracts[c as usize] = flat;
            } else {
                out.by_name.insert(flat.name.clone(), c);
                out.contracts.push(flat);
            }
        }
        out
    }

    /// A contract by name.
    pub fn get(&self, name: &str) -> Option<&FlatContract> {
        self.by_name.get(name).map(|&c| &self.contracts[c as usize])
    }

    pub(crate) fn position(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    pub fn contracts(&self) -> &[FlatContract] {
        &self.contracts
    }

    pub fn len(&self) -> usize {
        self.contracts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }
}
