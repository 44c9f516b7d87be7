//! Chainloop's argument computation (`ComputeArguments`) and group-input templating
//! (`{{ inputs.x }}`), shared by the policy engine (which runs attachments) and by
//! coverage (which predicts what they would run with): one rule, so the two can never
//! disagree about an attachment's effective arguments.

use crate::resource::PolicyInput;
use std::collections::BTreeMap;

/// Binds `{{ inputs.x }}` (Go-template style, spaces optional) to `bindings`; an
/// unknown binding becomes empty, as Go's templates render a missing map key. Other
/// `{{ … }}` expressions are kept as written.
pub fn bind(template: &str, bindings: &BTreeMap<String, String>) -> String {
    if !template.contains("{{") {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let expr = rest[start + 2..start + end].trim();
        match expr.strip_prefix("inputs.") {
            Some(name) => out.push_str(bindings.get(name.trim()).map_or("", String::as_str)),
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Chainloop's `ComputeArguments`: the arguments an attachment runs with, and the names
/// of the ones dropped because the policy does not declare them. `with` values are
/// bound to `bindings`; a declared input left empty takes its (bound) default; a
/// required one with neither is an error. A policy that declares no inputs takes every
/// argument as given.
pub fn compute(
    inputs: &[PolicyInput],
    with: &BTreeMap<String, String>,
    bindings: &BTreeMap<String, String>,
) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
    if inputs.is_empty() {
        let bound = with
            .iter()
            .map(|(k, v)| (k.clone(), bind(v, bindings)))
            .collect();
        return Ok((bound, Vec::new()));
    }
    let mut out = BTreeMap::new();
    for input in inputs {
        let given = with
            .get(&input.name)
            .map(|v| bind(v, bindings))
            .filter(|v| !v.trim().is_empty());
        match (given, &input.default) {
            (Some(v), _) => {
                out.insert(input.name.clone(), v);
            }
            (None, _) if input.required => {
                return Err(format!("missing required input '{}'", input.name));
            }
            (None, Some(default)) => {
                let v = bind(default, bindings);
                if !v.trim().is_empty() {
                    out.insert(input.name.clone(), v);
                }
            }
            (None, None) => {}
        }
    }
    let dropped = with
        .keys()
        .filter(|k| !inputs.iter().any(|i| &i.name == *k))
        .cloned()
        .collect();
    Ok((out, dropped))
}
