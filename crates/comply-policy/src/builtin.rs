//! The built-in policy library: `content/policies/*.yaml` and
//! `content/policy-groups/*.yaml`, embedded in the binary, compiled once.

use crate::error::PolicyError;
use crate::policy::CompiledPolicy;
use comply_core::resource::{PolicyGroup, Resource, parse_file};
use std::collections::BTreeMap;
use std::sync::OnceLock;

struct Library {
    policies: BTreeMap<String, CompiledPolicy>,
    groups: BTreeMap<String, PolicyGroup>,
}

fn load() -> Result<Library, String> {
    let mut policies = BTreeMap::new();
    let mut groups = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, text) in comply_content::yaml_files() {
        if !(path.starts_with("policies/") || path.starts_with("policy-groups/")) {
            continue;
        }
        let (docs, diagnostics) = parse_file(&format!("content/{path}"), text, "_builtin");
        problems.extend(diagnostics.iter().map(ToString::to_string));
        for doc in docs {
            match doc.resource {
                Resource::Policy(p) => match CompiledPolicy::compile(p) {
                    Ok(c) => {
                        policies.insert(c.policy.metadata.name.clone(), c);
                    }
                    Err(e) => problems.push(format!("content/{path}: {e}")),
                },
                Resource::PolicyGroup(g) => {
                    groups.insert(g.metadata.name.clone(), g);
                }
                _ => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(Library { policies, groups })
    } else {
        Err(problems.join("\n"))
    }
}

fn library() -> &'static Result<Library, String> {
    static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
    LIBRARY.get_or_init(load)
}

/// Fails when the shipped content is invalid (a test asserts it never is).
pub fn check() -> Result<(), PolicyError> {
    library()
        .as_ref()
        .map(|_| ())
        .map_err(|message| PolicyError::Compile {
            policy: "built-in library".into(),
            message: message.clone(),
            line: None,
            column: None,
        })
}

pub fn policy(name: &str) -> Option<&'static CompiledPolicy> {
    library().as_ref().ok()?.policies.get(name)
}

pub fn group(name: &str) -> Option<&'static PolicyGroup> {
    library().as_ref().ok()?.groups.get(name)
}

pub fn policy_names() -> Vec<&'static str> {
    library()
        .as_ref()
        .map(|l| l.policies.keys().map(String::as_str).collect())
        .unwrap_or_default()
}
