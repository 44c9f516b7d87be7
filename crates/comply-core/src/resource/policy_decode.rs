//! Decoding `Policy` and `PolicyGroup` documents (Chainloop schema, chainloop-formats
//! §4–§7). Chainloop reads camelCase and snake_case field names alike; so does comply,
//! and it stores the snake_case form.

use super::Kind;
use super::document::{
    Context, LocatedRef, LocatedScript, decode_document, decode_with, located_args, optional_text,
};
use super::policy::{
    Attachment, AutoMatch, GroupMaterial, GroupPolicies, InputType, IntKind, PolicyGroupSpec,
    PolicyInput, PolicyScript, PolicySpec, Selector,
};
use super::sources::is_location;
use crate::material::is_material_type;
use crate::reference::{PolicyRef, RequirementRef};
use crate::suggest;
use crate::yaml::{Decoder, Node, Object};
use std::collections::HashSet;

const POLICY_SPEC_FIELDS: &[&str] = &[
    "policies",
    "inputs",
    "autoMatch",
    "auto_match",
    "type",
    "embedded",
    "path",
];
const SCRIPT_FIELDS: &[&str] = &[
    "source",
    "kind",
    "embedded",
    "ref",
    "path",
    "attestation_phases",
    "attestationPhases",
];
const INPUT_FIELDS: &[&str] = &["name", "description", "required", "default", "type", "kind"];
const AUTO_MATCH_FIELDS: &[&str] = &["embedded", "ref", "path", "source"];
const GROUP_SPEC_FIELDS: &[&str] = &["inputs", "policies"];
const GROUP_POLICIES_FIELDS: &[&str] = &["materials", "attestation"];
const GROUP_MATERIAL_FIELDS: &[&str] = &[
    "name",
    "type",
    "optional",
    "match_mode",
    "matchMode",
    "policies",
];
const ATTACHMENT_FIELDS: &[&str] = &[
    "source",
    "ref",
    "embedded",
    "selector",
    "disabled",
    "with",
    "requirements",
    "gate",
];
const SELECTOR_FIELDS: &[&str] = &["name", "match_mode", "matchMode"];
const MATCH_MODES: &[&str] = &["EXACT", "PREFIX", "UNSPECIFIED"];
const PHASES: &[&str] = &["INIT", "PUSH"];

pub(super) fn either<'n>(o: &Object<'n>, a: &str, b: &str) -> Option<&'n Node> {
    o.get(a).or_else(|| o.get(b))
}

pub(super) fn one_of(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    allowed: &[&str],
) -> Option<String> {
    let text = d.text(node, path)?.trim().to_owned();
    if allowed.contains(&text.as_str()) {
        return Some(text);
    }
    let hint = match suggest::nearest(&text, allowed.iter().copied()) {
        Some(s) => format!("did you mean '{s}'?"),
        None => format!("expected one of: {}", allowed.join(", ")),
    };
    d.error(node.pos, format!("invalid {path} '{text}'; {hint}"));
    None
}

pub(super) fn material_type(d: &mut Decoder<'_>, node: &Node, path: &str) -> Option<String> {
    let text = d.text(node, path)?.trim().to_owned();
    if is_material_type(&text) {
        return Some(text);
    }
    let hint = suggest::nearest(&text, crate::material::MATERIAL_TYPES.iter().copied())
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default();
    d.error(
        node.pos,
        format!("unknown material type '{text}' in {path}{hint}"),
    );
    None
}

/// A script's Rego: embedded, or given by `path`/`ref` and then supplied by the CLI,
/// which read it beside the document (the server never reads files or URLs).
/// Returns the Rego and, when it was not embedded, where it came from.
fn script_source(
    d: &mut Decoder<'_>,
    o: &Object<'_>,
    path: &str,
    scripts: &mut Vec<LocatedScript>,
    ctx: &Context<'_>,
) -> Option<(String, Option<String>)> {
    let by_location = o.get("ref").or_else(|| o.get("path"));
    match (o.get("embedded"), by_location) {
        (Some(n), Some(_)) => {
            d.error(
                n.pos,
                format!("{path}: give the script either `embedded` or `ref`/`path`, not both"),
            );
            None
        }
        (Some(n), None) => {
            let source = d.text(n, &format!("{path}.embedded"))?;
            scripts.push(LocatedScript {
                path: format!("{path}.embedded"),
                pos: n.pos,
                source: source.clone(),
                origin: None,
            });
            // A document comply wrote back (`describe -o schema`) keeps its origin.
            let recorded = optional_text(d, o, &format!("{path}.source"), "source");
            Some((source, recorded))
        }
        (None, Some(n)) => {
            let written = d.text(n, &format!("{path}.ref"))?.trim().to_owned();
            let Some(resolved) = ctx.sources.scripts.get(&written) else {
                d.error(
                    n.pos,
                    format!("{path}: the script '{written}' was not supplied with the document; \
                             comply's CLI reads such files and URLs (comply apply -f, comply lint -f) \
                             and the server never reads them"),
                );
                return None;
            };
            scripts.push(LocatedScript {
                path: format!("{path}.ref"),
                pos: n.pos,
                source: resolved.content.clone(),
                origin: Some(resolved.origin.clone()),
            });
            Some((resolved.content.clone(), Some(resolved.origin.clone())))
        }
        (None, None) => {
            d.error(
                o.pos,
                format!("missing required field '{path}.embedded' (or '{path}.path')"),
            );
            None
        }
    }
}

pub(super) fn policy_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    scripts: &mut Vec<LocatedScript>,
    ctx: &mut Context<'_>,
) -> Option<PolicySpec> {
    let before = d.diagnostics.len();
    let spec = d.object(node, "spec", POLICY_SPEC_FIELDS)?;
    let mut policies = Vec::new();
    if let Some(list) = spec
        .get("policies")
        .and_then(|n| d.list(n, "spec.policies"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.policies[{i}]");
            let Some(o) = d.object(item, &path, SCRIPT_FIELDS) else {
                continue;
            };
            let kind = o.get("kind").and_then(|n| {
                let k = material_type(d, n, &format!("{path}.kind"))?;
                if k == "ARTIFACT" {
                    d.error(
                        n.pos,
                        format!(
                            "{path}.kind ARTIFACT cannot carry a policy (Chainloop rejects it too)"
                        ),
                    );
                    return None;
                }
                Some(k)
            });
            let phases = match either(&o, "attestation_phases", "attestationPhases") {
                Some(n) => d
                    .list(n, &format!("{path}.attestation_phases"))
                    .map(|l| {
                        l.iter()
                            .filter_map(|p| {
                                one_of(d, p, &format!("{path}.attestation_phases"), PHASES)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            if let Some((embedded, source)) = script_source(d, &o, &path, scripts, ctx) {
                policies.push(PolicyScript {
                    kind,
                    embedded,
                    attestation_phases: phases,
                    source,
                });
            }
        }
    }
    // The legacy form: one script, for one material type or (without `type`) any.
    let legacy_source = spec.get("embedded").or_else(|| spec.get("path"));
    if let Some(n) = spec.get("type").or(legacy_source) {
        if spec.get("policies").is_some() {
            d.error(
                n.pos,
                "spec.type/spec.embedded is the legacy form; use either it or spec.policies",
            );
        } else {
            let kind = match spec.get("type") {
                Some(t) => material_type(d, t, "spec.type").map(Some),
                None => Some(None),
            };
            if let Some(kind) = kind
                && let Some((embedded, source)) = script_source(d, &spec, "spec", scripts, ctx)
            {
                policies.push(PolicyScript {
                    kind,
                    embedded,
                    attestation_phases: Vec::new(),
                    source,
                });
            }
        }
    }
    let inputs = match spec.get("inputs") {
        Some(n) => inputs(d, n, "spec.inputs")?,
        None => Vec::new(),
    };
    let auto_match = match either(&spec, "autoMatch", "auto_match") {
        Some(n) => {
            let o = d.object(n, "spec.autoMatch", AUTO_MATCH_FIELDS)?;
            script_source(d, &o, "spec.autoMatch", scripts, ctx)
                .map(|(embedded, source)| AutoMatch { embedded, source })
        }
        None => None,
    };
    if d.diagnostics.len() != before {
        return None;
    }
    if policies.is_empty() {
        d.error(spec.pos, "a policy needs at least one script: spec.policies[] (or the legacy spec.type with spec.embedded)");
        return None;
    }
    Some(PolicySpec {
        policies,
        inputs,
        auto_match,
    })
}

fn valid_input_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn inputs(d: &mut Decoder<'_>, node: &Node, path: &str) -> Option<Vec<PolicyInput>> {
    let list = d.list(node, path)?;
    let before = d.diagnostics.len();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(o) = d.object(item, &item_path, INPUT_FIELDS) else {
            continue;
        };
        let Some(name_node) = d.required(&o, &item_path, "name") else {
            continue;
        };
        let Some(name) = d.text(name_node, &format!("{item_path}.name")) else {
            continue;
        };
        if !valid_input_name(&name) {
            d.error(
                name_node.pos,
                format!("invalid input name '{name}': use a letter, then letters, digits or '_'"),
            );
        }
        if !seen.insert(name.clone()) {
            d.error(name_node.pos, format!("input '{name}' is declared twice"));
        }
        let description = optional_text(d, &o, &format!("{item_path}.description"), "description");
        let required = o
            .get("required")
            .and_then(|n| d.boolean(n, &format!("{item_path}.required")))
            .unwrap_or(false);
        let default = optional_text(d, &o, &format!("{item_path}.default"), "default")
            .filter(|v| !v.is_empty());
        if required && default.is_some() {
            d.error(o.pos, format!("input '{name}' is required and has a default; a required input takes no default"));
        }
        let input_type = o.get("type").and_then(|n| {
            let names: Vec<&str> = InputType::ALL.iter().map(|t| t.as_str()).collect();
            one_of(d, n, &format!("{item_path}.type"), &names).and_then(|t| InputType::parse(&t))
        });
        let kind = o.get("kind").and_then(|n| {
            one_of(d, n, &format!("{item_path}.kind"), &["min", "max"]).map(|k| {
                if k == "min" {
                    IntKind::Min
                } else {
                    IntKind::Max
                }
            })
        });
        match (input_type, kind) {
            (Some(InputType::Int), None) => d.error(o.pos, format!("input '{name}' has type int: say whether it is a lower or an upper bound with kind: min or kind: max")),
            (t, Some(_)) if t != Some(InputType::Int) => d.error(o.pos, format!("input '{name}': kind (min|max) applies to type int only")),
            _ => {}
        }
        out.push(PolicyInput {
            name,
            description,
            required,
            default,
            input_type,
            kind,
        });
    }
    (d.diagnostics.len() == before).then_some(out)
}

pub(super) fn group_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    refs: &mut Vec<LocatedRef>,
    ctx: &mut Context<'_>,
) -> Option<PolicyGroupSpec> {
    let before = d.diagnostics.len();
    let spec = d.object(node, "spec", GROUP_SPEC_FIELDS)?;
    let inputs = match spec.get("inputs") {
        Some(n) => inputs(d, n, "spec.inputs").unwrap_or_default(),
        None => Vec::new(),
    };
    let mut policies = GroupPolicies::default();
    if let Some(n) = d.required(&spec, "spec", "policies")
        && let Some(p) = d.object(n, "spec.policies", GROUP_POLICIES_FIELDS)
    {
        if let Some(list) = p
            .get("materials")
            .and_then(|n| d.list(n, "spec.policies.materials"))
        {
            for (i, item) in list.iter().enumerate() {
                let path = format!("spec.policies.materials[{i}]");
                let Some(o) = d.object(item, &path, GROUP_MATERIAL_FIELDS) else {
                    continue;
                };
                let name = optional_text(d, &o, &format!("{path}.name"), "name");
                let material_type = o
                    .get("type")
                    .and_then(|n| material_type(d, n, &format!("{path}.type")));
                if name.is_some() && material_type.is_none() && o.get("type").is_none() {
                    d.error(o.pos, format!("{path}: a named material needs a type"));
                }
                let optional = o
                    .get("optional")
                    .and_then(|n| d.boolean(n, &format!("{path}.optional")))
                    .unwrap_or(false);
                let match_mode = either(&o, "match_mode", "matchMode")
                    .and_then(|n| one_of(d, n, &format!("{path}.match_mode"), MATCH_MODES));
                let attachments = match o.get("policies") {
                    Some(n) => attachments(d, n, &format!("{path}.policies"), refs, ctx),
                    None => Vec::new(),
                };
                policies.materials.push(GroupMaterial {
                    name,
                    material_type,
                    optional,
                    match_mode,
                    policies: attachments,
                });
            }
        }
        if let Some(n) = p.get("attestation") {
            policies.attestation = attachments(d, n, "spec.policies.attestation", refs, ctx);
        }
    }
    if d.diagnostics.len() != before {
        return None;
    }
    Some(PolicyGroupSpec { inputs, policies })
}

/// An attachment's `requirements`: references in Chainloop's grammar
/// (`[org/]framework/requirement[@version]`), each checked where it is written.
pub(super) fn requirement_refs(d: &mut Decoder<'_>, node: &Node, path: &str) -> Vec<String> {
    let Some(list) = d.list(node, &format!("{path}.requirements")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in list {
        let Some(text) = d.text(item, &format!("{path}.requirements[]")) else {
            continue;
        };
        if RequirementRef::parse(&text).is_none() {
            d.error(
                item.pos,
                format!("invalid requirement reference '{text}'; expected [org/]framework/requirement[@version]"),
            );
        } else {
            out.push(text);
        }
    }
    out
}

pub(super) fn attachments(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    refs: &mut Vec<LocatedRef>,
    ctx: &mut Context<'_>,
) -> Vec<Attachment> {
    let Some(list) = d.list(node, path) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, item)| attachment(d, item, &format!("{path}[{i}]"), refs, ctx))
        .collect()
}

/// A reference that names a file or URL: the name of the document the CLI read from
/// it and sent along. `what` is "policy" or "policy group".
pub(super) fn located_reference(
    d: &mut Decoder<'_>,
    ctx: &Context<'_>,
    written: &str,
    pos: crate::yaml::Pos,
    what: &str,
) -> Option<String> {
    match ctx.sources.refs.get(written) {
        Some(name) => Some(name.clone()),
        None => {
            d.error(
                pos,
                format!("the {what} '{written}' was not supplied with the document; comply's CLI \
                         reads files and URLs (comply apply -f, comply lint -f) and sends the {what} \
                         along, and the server never reads them"),
            );
            None
        }
    }
}

fn attachment(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    refs: &mut Vec<LocatedRef>,
    ctx: &mut Context<'_>,
) -> Option<Attachment> {
    let o = d.object(node, path, ATTACHMENT_FIELDS)?;
    let (ref_pos, reference, source) = match (o.get("embedded"), o.get("ref")) {
        (Some(n), Some(_)) => {
            d.error(
                n.pos,
                format!("{path}: give either `ref` or `embedded`, not both"),
            );
            return None;
        }
        // A policy written inline: it becomes a Policy of its own, applied under its
        // name with the document that holds it, and attached by that name.
        (Some(n), None) => {
            if !matches!(n.value, crate::yaml::Value::Map(_)) {
                d.error(
                    n.pos,
                    format!("{path}.embedded must be a whole Policy document (apiVersion, kind, metadata, spec)"),
                );
                return None;
            }
            // Chainloop embeds the Policy message: `apiVersion` and `kind` may be left out.
            let mut node = n.clone();
            if let crate::yaml::Value::Map(entries) = &mut node.value {
                for (key, value) in [("apiVersion", super::API_VERSION), ("kind", "Policy")] {
                    if !entries.iter().any(|(k, _)| k.name == key) {
                        let mut filler = n.clone();
                        filler.value = crate::yaml::Value::Str(value.to_owned());
                        filler.raw = None;
                        entries.push((
                            crate::yaml::Key {
                                name: key.to_owned(),
                                pos: n.pos,
                            },
                            filler,
                        ));
                    }
                }
            }
            let before = d.diagnostics.len();
            let parsed = decode_document(d, &node, ctx, None);
            if d.diagnostics.len() != before {
                return None;
            }
            let parsed = parsed?;
            if parsed.resource.kind() != Kind::Policy {
                d.error(n.pos, format!("{path}.embedded must be a Policy document"));
                return None;
            }
            let name = parsed.resource.name().to_owned();
            ctx.embedded.push(parsed);
            (n.pos, name, Some("embedded".to_owned()))
        }
        _ => {
            let ref_node = d.required(&o, path, "ref")?;
            let written = d.text(ref_node, &format!("{path}.ref"))?.trim().to_owned();
            if is_location(&written) {
                let name = located_reference(d, ctx, &written, ref_node.pos, "policy")?;
                (ref_node.pos, name, Some(written))
            } else {
                let recorded = optional_text(d, &o, &format!("{path}.source"), "source");
                (ref_node.pos, written, recorded)
            }
        }
    };
    let policy_name = match PolicyRef::parse(&reference) {
        Ok(r) => r.name,
        Err(problem) => {
            d.error(ref_pos, format!("invalid policy reference: {problem}"));
            return None;
        }
    };
    let selector = match o.get("selector") {
        Some(n) => {
            let s = d.object(n, &format!("{path}.selector"), SELECTOR_FIELDS)?;
            let name = d
                .required(&s, &format!("{path}.selector"), "name")
                .and_then(|n| d.text(n, "selector.name"))?;
            let match_mode = either(&s, "match_mode", "matchMode")
                .and_then(|n| one_of(d, n, &format!("{path}.selector.match_mode"), MATCH_MODES));
            Some(Selector { name, match_mode })
        }
        None => None,
    };
    let disabled = o
        .get("disabled")
        .and_then(|n| d.boolean(n, &format!("{path}.disabled")))
        .unwrap_or(false);
    let with = match o.get("with") {
        Some(n) => decode_with(d, n, &format!("{path}.with"))?,
        None => Default::default(),
    };
    let requirements = o
        .get("requirements")
        .map(|n| requirement_refs(d, n, path))
        .unwrap_or_default();
    let gate = o
        .get("gate")
        .and_then(|n| d.boolean(n, &format!("{path}.gate")));
    refs.push(LocatedRef {
        kind: Kind::Policy,
        name: policy_name,
        pos: ref_pos,
        args: located_args(o.get("with"), &with),
    });
    Some(Attachment {
        reference,
        selector,
        disabled,
        with,
        requirements,
        gate,
        source,
    })
}
