//! Explicit requirement references (`requirements: [[org/]framework/requirement]` on a
//! contract's policy attachments, semantics §4.1) that name nothing. They are kept and
//! never fatal, but a reference that points nowhere silently counts for nothing, so it
//! is reported: at contract apply (a warning with its position), and in coverage.

use comply_core::Diagnostic;
use comply_core::reference::RequirementRef;
use comply_core::yaml::{Node, Value, parse_documents};
use std::collections::HashMap;

/// Why `reference` names no requirement, given the org's name and its frameworks
/// (name to the requirements each lists); `None` when it names one.
pub fn dangling(
    reference: &str,
    org: &str,
    frameworks: &HashMap<String, Vec<String>>,
) -> Option<String> {
    let Some(r) = RequirementRef::parse(reference) else {
        return Some(format!(
            "requirement reference '{reference}' is not of the form [org/]framework/requirement[@version]"
        ));
    };
    if let Some(o) = r.org.as_deref().filter(|o| *o != org) {
        return Some(format!(
            "requirement reference '{reference}' names org '{o}', not this org ('{org}'): it matches nothing"
        ));
    }
    let Some(listed) = frameworks.get(&r.framework) else {
        let hint =
            comply_core::suggest::nearest(&r.framework, frameworks.keys().map(String::as_str))
                .map(|n| format!(" (did you mean '{n}'?)"))
                .unwrap_or_default();
        return Some(format!(
            "requirement reference '{reference}' names no framework '{}'{hint}: it matches nothing",
            r.framework
        ));
    };
    if !listed.contains(&r.requirement) {
        let hint = comply_core::suggest::nearest(&r.requirement, listed.iter().map(String::as_str))
            .map(|n| format!(" (did you mean '{n}'?)"))
            .unwrap_or_default();
        return Some(format!(
            "requirement reference '{reference}': framework '{}' lists no requirement '{}'{hint}: it matches nothing",
            r.framework, r.requirement
        ));
    }
    None
}

/// Warnings, with positions, for every dangling reference in the contracts of one
/// file's text.
pub fn contract_warnings(
    file: &str,
    text: &str,
    org: &str,
    frameworks: &HashMap<String, Vec<String>>,
) -> Vec<Diagnostic> {
    let Ok(documents) = parse_documents(file, text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in &documents {
        let is_contract = get(doc, "kind")
            .is_some_and(|k| matches!(&k.value, Value::Str(s) if s == "Contract"))
            || get(doc, "schemaVersion").is_some();
        if !is_contract {
            continue;
        }
        let mut refs = Vec::new();
        requirement_lists(doc, &mut refs);
        for node in refs {
            if let Value::Str(reference) = &node.value
                && let Some(message) = dangling(reference, org, frameworks)
            {
                out.push(Diagnostic::new(
                    file,
                    node.pos.line,
                    node.pos.column,
                    message,
                ));
            }
        }
    }
    out
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

/// Every item of every `requirements` list anywhere in the document (attachments of
/// materials, of the attestation, of policy groups; v1 and v2 layouts alike).
fn requirement_lists<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                match (&k.name[..], &v.value) {
                    ("requirements", Value::Seq(items)) => out.extend(items.iter()),
                    _ => requirement_lists(v, out),
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| requirement_lists(i, out)),
        _ => {}
    }
}
