//! Evaluating a whole `Policy` against one material: script selection by material
//! kind, arguments, and the merge of the scripts' verdicts.

use crate::error::PolicyError;
use crate::input::PreparedInput;
use crate::input_args;
use crate::material::Material;
use crate::script::{Limits, Script};
use crate::verdict::Verdict;
use comply_core::resource::Policy;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A policy with its scripts compiled.
#[derive(Clone)]
pub struct CompiledPolicy {
    pub policy: Policy,
    scripts: Vec<(Option<String>, Script)>,
}

/// What one evaluation needs besides the policy.
pub struct Evaluation<'a> {
    pub material: &'a Material,
    /// The attachment's `with`, before defaults.
    pub with: &'a BTreeMap<String, String>,
    /// Group inputs, for `{{ inputs.x }}` bindings.
    pub bindings: &'a BTreeMap<String, String>,
    pub now_ms: i64,
    /// Reference data policies read as `data.*`: `data.kev` (the CISA KEV catalog as
    /// published), `data.vex` (normalized VEX statements from other materials).
    pub data: &'a Value,
}

/// The outcome: the verdict and the effective arguments it ran with.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub args: BTreeMap<String, String>,
    /// Arguments the policy does not declare (ignored, as Chainloop does).
    pub dropped: Vec<String>,
}

impl CompiledPolicy {
    pub fn compile(policy: Policy) -> Result<CompiledPolicy, PolicyError> {
        let name = policy.metadata.name.clone();
        let scripts = policy
            .spec
            .policies
            .iter()
            .map(|s| Ok((s.kind.clone(), Script::compile(&name, &s.embedded)?)))
            .collect::<Result<_, PolicyError>>()?;
        Ok(CompiledPolicy { policy, scripts })
    }

    /// The compiled scripts with the material kind each applies to.
    pub fn scripts(&self) -> impl Iterator<Item = (Option<&str>, &Script)> {
        self.scripts.iter().map(|(k, s)| (k.as_deref(), s))
    }

    /// The material kinds this policy has scripts for (`None`: any).
    pub fn kinds(&self) -> Vec<Option<&str>> {
        self.scripts.iter().map(|(k, _)| k.as_deref()).collect()
    }

    /// Whether any script applies to a material of `kind`.
    pub fn applies_to(&self, kind: &str) -> bool {
        self.scripts
            .iter()
            .any(|(k, _)| k.as_deref().is_none_or(|k| k == kind))
    }

    /// Runs every script that applies to the material's kind and merges the verdicts.
    /// `None` when no script applies or every script asked to be ignored.
    pub fn evaluate(
        &self,
        e: Evaluation<'_>,
        limits: &Limits,
    ) -> Result<Option<Outcome>, PolicyError> {
        if !self.applies_to(&e.material.kind) {
            return Ok(None);
        }
        let prepared = prepare_input(e.material);
        self.evaluate_prepared(e, &prepared, limits)
    }

    /// Evaluates with a [`PreparedInput`] of the material, so several policies on one
    /// material share its conversion.
    pub fn evaluate_prepared(
        &self,
        e: Evaluation<'_>,
        prepared: &PreparedInput,
        limits: &Limits,
    ) -> Result<Option<Outcome>, PolicyError> {
        let data = crate::script::reference_data(e.data);
        self.evaluate_with(e, prepared, data.as_ref(), limits)
    }

    /// Like [`CompiledPolicy::evaluate_prepared`], with `e.data` already converted by
    /// `script::reference_data` (a group converts it once for all its evaluations).
    pub(crate) fn evaluate_with(
        &self,
        e: Evaluation<'_>,
        prepared: &PreparedInput,
        data: Option<&regorus::Value>,
        limits: &Limits,
    ) -> Result<Option<Outcome>, PolicyError> {
        let (effective, dropped) =
            input_args::compute(&self.policy.spec.inputs, e.with, e.bindings).map_err(
                |message| PolicyError::Eval {
                    policy: self.policy.metadata.name.clone(),
                    message,
                },
            )?;
        let own;
        let prepared = if prepared.is_for(e.material) {
            prepared
        } else {
            own = PreparedInput::new(e.material);
            &own
        };
        let metadata = metadata_entries(e.material, &effective);
        let mut verdicts = Vec::new();
        for (kind, script) in &self.scripts {
            if kind.as_deref().is_none_or(|k| k == e.material.kind) {
                let mut input = prepared.object_for(e.material, script.needs());
                input.extend(metadata.iter().cloned());
                let input = regorus::Value::from(input);
                verdicts.push(script.evaluate_converted(input, data, e.now_ms, limits)?);
            }
        }
        if verdicts.is_empty() {
            return Ok(None);
        }
        Ok(Verdict::merge(verdicts).map(|verdict| Outcome {
            verdict,
            args: effective,
            dropped,
        }))
    }
}

/// The engine input (chainloop-formats §11): the material object (a top-level array
/// wrapped as `{elements}`), with `chainloop_metadata` and `args` added, and comply's
/// normalized view as `comply`.
pub fn engine_input(material: &Material, effective: &BTreeMap<String, String>) -> Value {
    let mut object = match material.content.clone() {
        Value::Object(o) => o,
        Value::Array(a) => Map::from_iter([("elements".to_owned(), Value::Array(a))]),
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    object.insert(
        "comply".into(),
        serde_json::to_value(&material.normalized).expect("the normalized view serializes"),
    );
    if let Value::Object(extra) = engine_input_metadata(material, effective) {
        object.extend(extra);
    }
    Value::Object(object)
}

/// The part of the engine input that does not depend on arguments: the material and
/// its normalized view, converted for the engine as the policies evaluated on it read
/// them, and once for all of them.
pub fn prepare_input(material: &Material) -> PreparedInput {
    PreparedInput::new(material)
}

/// What varies per evaluation, converted for the engine: `chainloop_metadata` and
/// `args`.
fn metadata_entries(
    material: &Material,
    effective: &BTreeMap<String, String>,
) -> Vec<(regorus::Value, regorus::Value)> {
    match engine_input_metadata(material, effective) {
        Value::Object(extra) => extra
            .into_iter()
            .map(|(key, value)| (regorus::Value::from(key), crate::script::to_rego(&value)))
            .collect(),
        _ => Vec::new(),
    }
}

fn engine_input_metadata(material: &Material, effective: &BTreeMap<String, String>) -> Value {
    let mut metadata = material_metadata(&material.name, &material.sha256, &material.kind);
    for (key, value) in &material.annotations {
        metadata["annotations"][key] = Value::String(value.clone());
    }
    json!({"chainloop_metadata": metadata, "args": input_args::to_input(effective)})
}

/// `input.chainloop_metadata` for a material file.
pub fn material_metadata(name: &str, digest_hex: &str, kind: &str) -> Value {
    json!({
        "name": name,
        "digest": {"sha256": digest_hex},
        "annotations": {
            "chainloop.material.name": name,
            "chainloop.material.type": kind,
        }
    })
}
