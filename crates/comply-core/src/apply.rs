//! Planning an `apply`: which documents create, update or leave resources unchanged,
//! and whether the invocation as a whole is valid. All or nothing: any problem in any
//! document means nothing is applied.

use crate::compatibility::severity_rank;
use crate::diagnostic::Diagnostic;
use crate::resource::{InputType, Kind, LocatedArg, ParsedDocument, PolicyInput, Resource};
use crate::suggest;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What the store already holds for an org, as far as planning needs it.
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// The org's custom resources: current revision and digest.
    pub custom: HashMap<(Kind, String), Existing>,
    /// Names of built-in resources, per kind.
    pub builtin: HashSet<(Kind, String)>,
    /// Declared inputs of every policy the org can reference (its own over built-in).
    pub policy_inputs: HashMap<String, Vec<PolicyInput>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub revision: i64,
    pub digest: String,
}

impl Known {
    pub fn exists(&self, kind: Kind, name: &str) -> bool {
        let key = (kind, name.to_owned());
        self.custom.contains_key(&key) || self.builtin.contains(&key)
    }

    fn names(&self, kind: Kind) -> impl Iterator<Item = &str> {
        self.custom
            .keys()
            .chain(self.builtin.iter())
            .filter(move |(k, _)| *k == kind)
            .map(|(_, n)| n.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub resource: Resource,
    pub action: Action,
    /// The revision after the change.
    pub revision: i64,
    pub digest: String,
    /// A custom resource with the name of a built-in one: lookups now find this one.
    pub shadows_builtin: bool,
}

/// Plans the documents of one invocation, in input order. Errors name every problem.
pub fn plan(documents: Vec<ParsedDocument>, known: &Known) -> Result<Vec<Change>, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut first_seen: HashMap<(Kind, String), &ParsedDocument> = HashMap::new();
    for doc in &documents {
        let key = (doc.resource.kind(), doc.resource.name().to_owned());
        if let Some(first) = first_seen.get(&key) {
            diagnostics.push(Diagnostic::new(
                &doc.file,
                doc.pos.line,
                doc.pos.column,
                format!(
                    "{}/{} is defined twice in this invocation (first in {} at line {})",
                    key.0, key.1, first.file, first.pos.line
                ),
            ));
        } else {
            first_seen.insert(key, doc);
        }
    }
    for doc in &documents {
        for r in &doc.refs {
            let in_batch = first_seen.contains_key(&(r.kind, r.name.clone()));
            if in_batch || known.exists(r.kind, &r.name) {
                continue;
            }
            let batch_names = first_seen
                .keys()
                .filter(|(k, _)| *k == r.kind)
                .map(|(_, n)| n.as_str());
            let hint = suggest::nearest(&r.name, known.names(r.kind).chain(batch_names))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            diagnostics.push(Diagnostic::new(
                &doc.file,
                r.pos.line,
                r.pos.column,
                format!(
                    "{} '{}' does not exist (neither in this invocation, nor in the organization, nor built in){hint}",
                    r.kind.as_str().to_lowercase(),
                    r.name
                ),
            ));
        }
    }
    // Arguments given to policies must be inputs they declare, with values of the
    // declared type (a policy that declares no inputs takes any argument, as in
    // Chainloop).
    let batch_inputs: HashMap<&str, &Vec<PolicyInput>> = documents
        .iter()
        .filter_map(|d| match &d.resource {
            Resource::Policy(p) => Some((p.metadata.name.as_str(), &p.spec.inputs)),
            _ => None,
        })
        .collect();
    for doc in &documents {
        for r in doc.refs.iter().filter(|r| r.kind == Kind::Policy) {
            let inputs = batch_inputs
                .get(r.name.as_str())
                .copied()
                .or_else(|| known.policy_inputs.get(&r.name));
            let Some(inputs) = inputs.filter(|i| !i.is_empty()) else {
                continue;
            };
            for arg in &r.args {
                if let Some(problem) = argument_problem(&r.name, inputs, arg) {
                    diagnostics.push(Diagnostic::new(
                        &doc.file,
                        arg.pos.line,
                        arg.pos.column,
                        problem,
                    ));
                }
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok(documents
        .into_iter()
        .map(|doc| {
            let kind = doc.resource.kind();
            let name = doc.resource.name().to_owned();
            let digest = doc.resource.digest();
            let shadows_builtin = known.builtin.contains(&(kind, name.clone()));
            let (action, revision) = match known.custom.get(&(kind, name)) {
                None => (Action::Created, 1),
                Some(e) if e.digest == digest => (Action::Unchanged, e.revision),
                Some(e) => (Action::Updated, e.revision + 1),
            };
            Change {
                resource: doc.resource,
                action,
                revision,
                digest,
                shadows_builtin,
            }
        })
        .collect())
}

/// Why an argument does not fit the policy's declared inputs, if it does not.
fn argument_problem(policy: &str, inputs: &[PolicyInput], arg: &LocatedArg) -> Option<String> {
    let Some(input) = inputs.iter().find(|i| i.name == arg.name) else {
        let names = inputs.iter().map(|i| i.name.as_str());
        let hint = match suggest::nearest(&arg.name, names.clone()) {
            Some(s) => format!("did you mean '{s}'?"),
            None => format!("its inputs are: {}", names.collect::<Vec<_>>().join(", ")),
        };
        return Some(format!(
            "policy '{policy}' has no input '{}'; {hint}",
            arg.name
        ));
    };
    // Group arguments bound at evaluation time cannot be checked here.
    if arg.value.contains("{{") {
        return None;
    }
    let value = arg.value.trim();
    let ok = match input.input_type {
        Some(InputType::Severity) => severity_rank(value).is_some(),
        Some(InputType::Int) => value
            .trim_start_matches(['v', 'V'])
            .split('.')
            .all(|p| p.parse::<i64>().is_ok()),
        Some(InputType::Bool) => matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "1" | "0" | "on" | "off"
        ),
        _ => true,
    };
    (!ok).then(|| {
        let expected = match input.input_type {
            Some(InputType::Severity) => {
                "a severity (NONE, INFO, LOW, MEDIUM, HIGH, CRITICAL)".to_owned()
            }
            Some(InputType::Int) => "a number".to_owned(),
            _ => "true or false".to_owned(),
        };
        format!(
            "input '{}' of policy '{policy}' must be {expected}, not '{value}'",
            arg.name
        )
    })
}
