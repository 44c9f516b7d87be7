//! Evaluating a `PolicyGroup` against materials (chainloop-formats §7): group inputs
//! checked, material names interpolated, each attached policy evaluated with the group
//! arguments bound into its `with` values.

use crate::error::PolicyError;
use crate::input_args;
use crate::material::Material;
use crate::policy::{CompiledPolicy, Evaluation, Outcome};
use crate::script::Limits;
use comply_core::resource::{Attachment, PolicyGroup};
use serde_json::Value;
use std::collections::BTreeMap;

/// One policy's result for one material, inside a group.
#[derive(Debug, Clone)]
pub struct GroupResult {
    pub policy: String,
    pub material: String,
    pub outcome: Outcome,
}

fn matches_name(pattern: &str, name: &str, mode: Option<&str>) -> bool {
    match mode {
        Some("PREFIX") => name.starts_with(pattern),
        _ => name == pattern,
    }
}

/// Evaluates the material part of a group. `resolve` finds a policy by reference
/// (built-in or the org's). A named group material that is absent is an error: a
/// group acts as a sub-contract and enforces its presence.
pub fn evaluate_group<'p>(
    group: &PolicyGroup,
    with: &BTreeMap<String, String>,
    materials: &[Material],
    resolve: impl Fn(&str) -> Option<&'p CompiledPolicy>,
    now_ms: i64,
    data: &Value,
    limits: &Limits,
) -> Result<Vec<GroupResult>, PolicyError> {
    let group_name = group.metadata.name.clone();
    let group_error = |message: String| PolicyError::Eval {
        policy: group_name.clone(),
        message,
    };
    let (bindings, _) =
        input_args::compute(&group.spec.inputs, with, &BTreeMap::new()).map_err(group_error)?;
    let mut results = Vec::new();
    // Converted once for every evaluation of the group.
    let converted_data = crate::script::reference_data(data);
    for entry in &group.spec.policies.materials {
        let name = entry
            .name
            .as_deref()
            .map(|n| input_args::bind(n, &bindings));
        let selected: Vec<(&Material, crate::PreparedInput)> = materials
            .iter()
            .filter(|m| match (&name, &entry.material_type) {
                (Some(n), _) => matches_name(n, &m.name, entry.match_mode.as_deref()),
                (None, Some(t)) => &m.kind == t,
                (None, None) => true,
            })
            // Converted once for all the entry's policies.
            .map(|m| (m, crate::policy::prepare_input(m)))
            .collect();
        if let Some(n) = &name
            && selected.is_empty()
            && !entry.optional
        {
            return Err(group_error(format!(
                "the group requires material '{n}', which is missing"
            )));
        }
        for attachment in entry.policies.iter().filter(|a| !a.disabled) {
            let policy = lookup(attachment, &resolve).ok_or_else(|| {
                group_error(format!("policy '{}' is not known", attachment.reference))
            })?;
            for (material, prepared) in &selected {
                if !policy.applies_to(&material.kind) {
                    continue;
                }
                let outcome = policy.evaluate_with(
                    Evaluation {
                        material,
                        with: &attachment.with,
                        bindings: &bindings,
                        now_ms,
                        data,
                    },
                    prepared,
                    converted_data.as_ref(),
                    limits,
                )?;
                if let Some(outcome) = outcome {
                    results.push(GroupResult {
                        policy: policy.policy.metadata.name.clone(),
                        material: material.name.clone(),
                        outcome,
                    });
                }
            }
        }
    }
    Ok(results)
}

fn lookup<'p>(
    attachment: &Attachment,
    resolve: &impl Fn(&str) -> Option<&'p CompiledPolicy>,
) -> Option<&'p CompiledPolicy> {
    let name = comply_core::reference::PolicyRef::parse(&attachment.reference)
        .ok()?
        .name;
    resolve(&name)
}
