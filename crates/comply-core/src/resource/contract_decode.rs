//! Decoding `Contract` (v2) and `Product` documents. Contracts follow Chainloop's
//! schema, camelCase and snake_case alike; products follow `docs/spec/cli.md`.

use super::Kind;
use super::contract::{
    ContractMaterial, ContractPolicies, ContractSpec, GroupAttachment, NameValue,
};
use super::document::{Context, LocatedRef, decode_with, located_args, optional_text};
use super::policy_decode::{
    attachments, either, located_reference, material_type, one_of, requirement_refs,
};
use super::product::{Applicability, ProductSpec, ProductVersion};
use super::sources::is_location;
use crate::name;
use crate::reference::PolicyRef;
use crate::yaml::{Decoder, Node, Pos, Value};
use std::collections::{BTreeMap, HashMap};

const CONTRACT_SPEC_FIELDS: &[&str] = &[
    "materials",
    "envAllowList",
    "env_allow_list",
    "runner",
    "annotations",
    "policies",
    "policyGroups",
    "policy_groups",
];
/// The legacy v1 form: the same fields at the document's root.
const LEGACY_CONTRACT_FIELDS: &[&str] = &[
    "schemaVersion",
    "materials",
    "envAllowList",
    "env_allow_list",
    "runner",
    "annotations",
    "policies",
    "policyGroups",
    "policy_groups",
];
const MATERIAL_FIELDS: &[&str] = &[
    "name",
    "type",
    "optional",
    "output",
    "annotations",
    "skip_upload",
    "skipUpload",
    "group",
];
const RUNNER_FIELDS: &[&str] = &["type"];
const RUNNERS: &[&str] = &[
    "GITHUB_ACTION",
    "GITLAB_PIPELINE",
    "AZURE_PIPELINE",
    "JENKINS_JOB",
    "CIRCLECI_BUILD",
    "DAGGER_PIPELINE",
    "TEAMCITY_PIPELINE",
    "TEKTON_PIPELINE",
    "CHAINLOOP_SANDBOX",
];
const NAME_VALUE_FIELDS: &[&str] = &["name", "value"];
const CONTRACT_POLICIES_FIELDS: &[&str] = &["materials", "attestation"];
const GROUP_ATTACHMENT_FIELDS: &[&str] = &["ref", "with", "skip", "requirements", "gate", "source"];
const PRODUCT_SPEC_FIELDS: &[&str] = &["projects", "versions", "applicability"];
const VERSION_FIELDS: &[&str] = &["name", "frameworks", "projectVersions", "project_versions"];
const APPLICABILITY_FIELDS: &[&str] = &["requirement", "project", "applicable", "rationale"];

fn dns_name(d: &mut Decoder<'_>, node: &Node, path: &str) -> Option<String> {
    let text = d.text(node, path)?.trim().to_owned();
    match name::dns1123_problem(&text) {
        Some(problem) => {
            d.error(node.pos, format!("invalid {path}: {problem}"));
            None
        }
        None => Some(text),
    }
}

fn strings(d: &mut Decoder<'_>, node: &Node, path: &str) -> Vec<String> {
    let Some(list) = d.list(node, path) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|item| d.text(item, &format!("{path}[]")))
        .collect()
}

fn name_values(d: &mut Decoder<'_>, node: &Node, path: &str) -> Vec<NameValue> {
    let Some(list) = d.list(node, path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(o) = d.object(item, &item_path, NAME_VALUE_FIELDS) else {
            continue;
        };
        let Some(name) = d
            .required(&o, &item_path, "name")
            .and_then(|n| d.text(n, &format!("{item_path}.name")))
        else {
            continue;
        };
        let value =
            optional_text(d, &o, &format!("{item_path}.value"), "value").unwrap_or_default();
        out.push(NameValue { name, value });
    }
    out
}

fn bool_field(d: &mut Decoder<'_>, node: Option<&Node>, path: &str) -> bool {
    node.and_then(|n| d.boolean(n, path)).unwrap_or(false)
}

pub(super) fn contract_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    refs: &mut Vec<LocatedRef>,
    ctx: &mut Context<'_>,
    legacy: bool,
) -> Option<ContractSpec> {
    let before = d.diagnostics.len();
    let spec = if legacy {
        let root = d.object(node, "", LEGACY_CONTRACT_FIELDS)?;
        if let Some(n) = root.get("schemaVersion") {
            one_of(d, n, "schemaVersion", &["v1"])?;
        }
        root
    } else {
        d.object(node, "spec", CONTRACT_SPEC_FIELDS)?
    };
    let mut out = ContractSpec::default();
    let mut material_names: HashMap<String, Pos> = HashMap::new();
    if let Some(list) = spec
        .get("materials")
        .and_then(|n| d.list(n, "spec.materials"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.materials[{i}]");
            let Some(o) = d.object(item, &path, MATERIAL_FIELDS) else {
                continue;
            };
            let name = d
                .required(&o, &path, "name")
                .and_then(|n| Some((dns_name(d, n, &format!("{path}.name"))?, n.pos)));
            let material_type = d
                .required(&o, &path, "type")
                .and_then(|n| material_type(d, n, &format!("{path}.type")));
            if let Some((name, pos)) = &name {
                if let Some(first) = material_names.get(name) {
                    d.error(
                        *pos,
                        format!(
                            "material '{name}' is declared twice (first at line {}); material names must be unique",
                            first.line
                        ),
                    );
                }
                material_names.insert(name.clone(), *pos);
            }
            let group = match o.get("group") {
                Some(n) => {
                    let text = d.text(n, &format!("{path}.group"));
                    match text {
                        Some(t) if t.is_empty() => None,
                        Some(_) => dns_name(d, n, &format!("{path}.group")),
                        None => None,
                    }
                }
                None => None,
            };
            let annotations = o
                .get("annotations")
                .map(|n| name_values(d, n, &format!("{path}.annotations")))
                .unwrap_or_default();
            if let (Some((name, _)), Some(material_type)) = (name, material_type) {
                out.materials.push(ContractMaterial {
                    name,
                    material_type,
                    optional: bool_field(d, o.get("optional"), &format!("{path}.optional")),
                    output: bool_field(d, o.get("output"), &format!("{path}.output")),
                    annotations,
                    skip_upload: bool_field(
                        d,
                        either(&o, "skip_upload", "skipUpload"),
                        &format!("{path}.skip_upload"),
                    ),
                    group,
                });
            }
        }
    }
    if let Some(n) = either(&spec, "envAllowList", "env_allow_list") {
        out.env_allow_list = strings(d, n, "spec.envAllowList");
    }
    if let Some(n) = spec.get("runner")
        && let Some(o) = d.object(n, "spec.runner", RUNNER_FIELDS)
    {
        out.runner = o
            .get("type")
            .and_then(|t| one_of(d, t, "spec.runner.type", RUNNERS));
    }
    if let Some(n) = spec.get("annotations") {
        out.annotations = name_values(d, n, "spec.annotations");
    }
    if let Some(n) = spec.get("policies")
        && let Some(p) = d.object(n, "spec.policies", CONTRACT_POLICIES_FIELDS)
    {
        let materials = p
            .get("materials")
            .map(|n| attachments(d, n, "spec.policies.materials", refs, ctx))
            .unwrap_or_default();
        let attestation = p
            .get("attestation")
            .map(|n| attachments(d, n, "spec.policies.attestation", refs, ctx))
            .unwrap_or_default();
        out.policies = ContractPolicies {
            materials,
            attestation,
        };
    }
    // A selector names a material of this contract.
    for (i, a) in out.policies.materials.iter().enumerate() {
        if let Some(sel) = &a.selector
            && sel.match_mode.as_deref().unwrap_or("EXACT") == "EXACT"
            && !material_names.contains_key(&sel.name)
        {
            d.error(
                spec.pos,
                format!(
                    "spec.policies.materials[{i}].selector.name '{}' is not a material of this contract",
                    sel.name
                ),
            );
        }
    }
    if let Some(list) =
        either(&spec, "policyGroups", "policy_groups").and_then(|n| d.list(n, "spec.policyGroups"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.policyGroups[{i}]");
            if let Some(g) = group_attachment(d, item, &path, refs, ctx) {
                out.policy_groups.push(g);
            }
        }
    }
    (d.diagnostics.len() == before).then_some(out)
}

fn group_attachment(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    refs: &mut Vec<LocatedRef>,
    ctx: &mut Context<'_>,
) -> Option<GroupAttachment> {
    let o = d.object(node, path, GROUP_ATTACHMENT_FIELDS)?;
    let ref_node = d.required(&o, path, "ref")?;
    let written = d.text(ref_node, &format!("{path}.ref"))?.trim().to_owned();
    let (reference, source) = if is_location(&written) {
        let name = located_reference(d, ctx, &written, ref_node.pos, "policy group")?;
        (name, Some(written))
    } else {
        let recorded = optional_text(d, &o, &format!("{path}.source"), "source");
        (written, recorded)
    };
    let group = match PolicyRef::parse(&reference) {
        Ok(r) => r.name,
        Err(problem) => {
            d.error(
                ref_node.pos,
                format!("invalid policy group reference: {problem}"),
            );
            return None;
        }
    };
    let with = match o.get("with") {
        Some(n) => decode_with(d, n, &format!("{path}.with"))?,
        None => BTreeMap::new(),
    };
    let skip = o
        .get("skip")
        .map(|n| strings(d, n, &format!("{path}.skip")))
        .unwrap_or_default();
    let requirements = o
        .get("requirements")
        .map(|n| requirement_refs(d, n, path))
        .unwrap_or_default();
    let gate = o
        .get("gate")
        .and_then(|n| d.boolean(n, &format!("{path}.gate")));
    refs.push(LocatedRef {
        kind: Kind::PolicyGroup,
        name: group,
        pos: ref_node.pos,
        args: located_args(o.get("with"), &with),
    });
    Some(GroupAttachment {
        reference,
        with,
        skip,
        requirements,
        gate,
        source,
    })
}

pub(super) fn product_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    refs: &mut Vec<LocatedRef>,
) -> Option<ProductSpec> {
    let before = d.diagnostics.len();
    let spec = d.object(node, "spec", PRODUCT_SPEC_FIELDS)?;
    let mut out = ProductSpec::default();
    if let Some(list) = spec
        .get("projects")
        .and_then(|n| d.list(n, "spec.projects"))
    {
        for item in list {
            if let Some(p) = dns_name(d, item, "spec.projects[]") {
                if out.projects.contains(&p) {
                    d.error(item.pos, format!("project '{p}' is listed twice"));
                } else {
                    out.projects.push(p);
                }
            }
        }
    }
    if let Some(list) = spec
        .get("versions")
        .and_then(|n| d.list(n, "spec.versions"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.versions[{i}]");
            let Some(o) = d.object(item, &path, VERSION_FIELDS) else {
                continue;
            };
            let Some(name_node) = d.required(&o, &path, "name") else {
                continue;
            };
            let Some(name) = d.text(name_node, &format!("{path}.name")) else {
                continue;
            };
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                d.error(
                    name_node.pos,
                    format!("{path}.name must be a version without spaces"),
                );
            }
            if out.versions.iter().any(|v: &ProductVersion| v.name == name) {
                d.error(name_node.pos, format!("version '{name}' is listed twice"));
            }
            let mut frameworks = Vec::new();
            if let Some(fl) = o
                .get("frameworks")
                .and_then(|n| d.list(n, &format!("{path}.frameworks")))
            {
                for f in fl {
                    let Some(fw) = dns_name(d, f, &format!("{path}.frameworks[]")) else {
                        continue;
                    };
                    if frameworks.contains(&fw) {
                        d.error(
                            f.pos,
                            format!("framework '{fw}' is attached twice to version '{name}'"),
                        );
                        continue;
                    }
                    refs.push(LocatedRef {
                        kind: Kind::Framework,
                        name: fw.clone(),
                        pos: f.pos,
                        args: Vec::new(),
                    });
                    frameworks.push(fw);
                }
            }
            let mut project_versions = BTreeMap::new();
            if let Some(n) = either(&o, "projectVersions", "project_versions") {
                match &n.value {
                    Value::Map(entries) => {
                        for (key, value) in entries {
                            let vpath = format!("{path}.projectVersions.{}", key.name);
                            if !out.projects.contains(&key.name) {
                                d.error(
                                    key.pos,
                                    format!("{vpath}: '{}' is not one of spec.projects", key.name),
                                );
                            }
                            if let Some(v) = d.text(value, &vpath) {
                                project_versions.insert(key.name.clone(), v.trim().to_owned());
                            }
                        }
                    }
                    _ => d.error(
                        n.pos,
                        format!("{path}.projectVersions must map project names to versions"),
                    ),
                }
            }
            out.versions.push(ProductVersion {
                name,
                frameworks,
                project_versions,
            });
        }
    }
    if let Some(list) = spec
        .get("applicability")
        .and_then(|n| d.list(n, "spec.applicability"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.applicability[{i}]");
            let Some(o) = d.object(item, &path, APPLICABILITY_FIELDS) else {
                continue;
            };
            let requirement = d
                .required(&o, &path, "requirement")
                .and_then(|n| Some((dns_name(d, n, &format!("{path}.requirement"))?, n.pos)));
            let project = match o.get("project") {
                Some(n) => {
                    let p = dns_name(d, n, &format!("{path}.project"));
                    if let Some(p) = &p
                        && !out.projects.contains(p)
                    {
                        d.error(
                            n.pos,
                            format!("{path}.project '{p}' is not one of spec.projects"),
                        );
                    }
                    p
                }
                None => None,
            };
            let applicable = d
                .required(&o, &path, "applicable")
                .and_then(|n| d.boolean(n, &format!("{path}.applicable")));
            let rationale = optional_text(d, &o, &format!("{path}.rationale"), "rationale");
            if let (Some((requirement, pos)), Some(applicable)) = (requirement, applicable) {
                if out
                    .applicability
                    .iter()
                    .any(|a| a.requirement == requirement && a.project == project)
                {
                    d.error(pos, format!("{path}: requirement '{requirement}' already has an applicability entry for this scope"));
                    continue;
                }
                refs.push(LocatedRef {
                    kind: Kind::Requirement,
                    name: requirement.clone(),
                    pos,
                    args: Vec::new(),
                });
                out.applicability.push(Applicability {
                    requirement,
                    project,
                    applicable,
                    rationale,
                });
            }
        }
    }
    (d.diagnostics.len() == before).then_some(out)
}
