//! Decoding manifests: YAML text to validated, normalized resources.

use super::sources::FileContext;
use super::{
    API_VERSION, Framework, FrameworkSpec, Kind, ManualProof, Metadata, Policy, PolicyAttachment,
    PolicyGroup, PolicyGroupSpec, PolicySpec, Requirement, RequirementRef, RequirementSpec,
    Resource, Scope, Section,
};
use super::{Contract, ContractSpec, Product, ProductSpec};
use super::{contract_decode, policy_decode};
use crate::diagnostic::Diagnostic;
use crate::name;
use crate::periodicity::Periodicity;
use crate::suggest;
use crate::yaml::{self, Decoder, Node, Object, Pos, Value};
use std::collections::{BTreeMap, HashMap};

/// A resource decoded from a file, with the positions later checks need.
#[derive(Debug, Clone)]
pub struct ParsedDocument {
    pub file: String,
    /// Position of the document's `metadata.name` value (or of the document).
    pub pos: Pos,
    pub resource: Resource,
    /// References to other resources, where they were written.
    pub refs: Vec<LocatedRef>,
    /// Embedded Rego modules, where they were written, for the compile check the server
    /// runs (this crate has no Rego engine).
    pub scripts: Vec<LocatedScript>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedScript {
    /// e.g. `spec.policies[0].embedded`
    pub path: String,
    pub pos: Pos,
    pub source: String,
    /// The file the Rego was read from when it was not embedded (`path:`/`ref:`):
    /// compile errors then point into that file, line for line.
    pub origin: Option<String>,
}

/// What decoding one file needs beyond its text: what the CLI resolved for it, and
/// the policies found embedded in its attachments, which become documents of their own.
pub(super) struct Context<'c> {
    pub sources: &'c FileContext,
    pub org: &'c str,
    pub embedded: Vec<ParsedDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedRef {
    pub kind: Kind,
    pub name: String,
    pub pos: Pos,
    /// Arguments given with a policy reference (`with`), checked against the policy's
    /// declared inputs when the invocation is planned.
    pub args: Vec<LocatedArg>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedArg {
    pub name: String,
    pub value: String,
    pub pos: Pos,
}

/// The arguments of a `with` mapping with the position of each key.
pub(super) fn located_args(
    node: Option<&Node>,
    with: &BTreeMap<String, String>,
) -> Vec<LocatedArg> {
    let Some(Node {
        value: Value::Map(entries),
        ..
    }) = node
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(key, _)| {
            Some(LocatedArg {
                name: key.name.clone(),
                value: with.get(&key.name)?.clone(),
                pos: key.pos,
            })
        })
        .collect()
}

const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const METADATA_FIELDS: &[&str] = &[
    "name",
    "displayName",
    "description",
    "organization",
    "annotations",
];
const POLICY_METADATA_FIELDS: &[&str] = &[
    "name",
    "displayName",
    "description",
    "organization",
    "annotations",
    "finding_type",
    "findingType",
];
const FINDING_TYPES: &[&str] = &["VULNERABILITY", "SAST", "LICENSE_VIOLATION"];
const REQUIREMENT_SPEC_FIELDS: &[&str] = &["policies", "manual_proofs"];
const POLICY_FIELDS: &[&str] = &["ref", "periodicity", "sla", "with"];
const PROOF_FIELDS: &[&str] = &["name", "description", "optional", "periodicity"];
const FRAMEWORK_SPEC_FIELDS: &[&str] = &["requirements", "sections"];
const SECTION_FIELDS: &[&str] = &["name", "description", "requirements", "sections"];
const REF_FIELDS: &[&str] = &["ref"];

/// Decodes every document of one file. `org` is the organization the documents are
/// applied to: a document naming another one in `metadata.organization` is an error.
/// Returns what decoded cleanly and every problem found.
pub fn parse_file(file: &str, text: &str, org: &str) -> (Vec<ParsedDocument>, Vec<Diagnostic>) {
    parse_file_with(file, text, org, &FileContext::default())
}

/// [`parse_file`] with what the CLI resolved for the file: scripts and policies it read
/// from files or URLs, and the name of a legacy v1 contract.
pub fn parse_file_with(
    file: &str,
    text: &str,
    org: &str,
    sources: &FileContext,
) -> (Vec<ParsedDocument>, Vec<Diagnostic>) {
    let nodes = match yaml::parse_documents(file, text) {
        Ok(nodes) => nodes,
        Err(diagnostic) => return (Vec::new(), vec![diagnostic]),
    };
    let mut documents = Vec::new();
    let mut decoder = Decoder::new(file);
    let raws = split_raw(text);
    let raws = (raws.len() == nodes.len()).then_some(raws);
    if sources.name.is_some() && nodes.len() > 1 {
        decoder.error(
            Pos { line: 1, column: 1 },
            "a name was given for a single legacy contract, but the file holds several documents",
        );
        return (Vec::new(), decoder.diagnostics);
    }
    for (i, node) in nodes.iter().enumerate() {
        let before = decoder.diagnostics.len();
        let raw = raws.as_ref().map(|r| r[i]);
        let mut ctx = Context {
            sources,
            org,
            embedded: Vec::new(),
        };
        let parsed = decode_document(&mut decoder, node, &mut ctx, raw);
        if decoder.diagnostics.len() == before {
            documents.append(&mut ctx.embedded);
            documents.extend(parsed);
        }
    }
    (documents, decoder.diagnostics)
}

pub(super) fn decode_document(
    d: &mut Decoder<'_>,
    node: &Node,
    ctx: &mut Context<'_>,
    raw: Option<&str>,
) -> Option<ParsedDocument> {
    let org = ctx.org;
    if let Value::Map(entries) = &node.value
        && let Some((key, _)) = entries.iter().find(|(k, _)| k.name == "schemaVersion")
    {
        return decode_legacy_contract(d, node, key.pos, ctx, raw);
    }
    let root = d.object(node, "", ROOT_FIELDS)?;
    let api_version = d.required(&root, "", "apiVersion");
    let kind_node = d.required(&root, "", "kind");
    let metadata_node = d.required(&root, "", "metadata");
    // An empty `spec:` is a contract that asks for nothing, as in Chainloop.
    let empty_contract_spec = root
        .entries()
        .iter()
        .any(|(k, v)| k.name == "spec" && v.value == Value::Null)
        && root.get("kind").and_then(|n| match &n.value {
            Value::Str(s) => Some(s == "Contract"),
            _ => None,
        }) == Some(true);
    let spec_node = if empty_contract_spec {
        None
    } else {
        d.required(&root, "", "spec")
    };

    let kind = kind_node.and_then(|n| {
        let text = d.text(n, "kind")?;
        let kind = Kind::parse(&text);
        if kind.is_none() {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            let hint = match suggest::nearest(&text, names.iter().copied()) {
                Some(s) => format!("did you mean '{s}'?"),
                None => format!("expected one of: {}", names.join(", ")),
            };
            d.error(n.pos, format!("unknown kind '{text}'; {hint}"));
        }
        kind
    });
    if let Some(n) = api_version
        && let Some(v) = d.text(n, "apiVersion")
        && !kind.map_or(v == API_VERSION, |k| k.accepts_api_version(&v))
    {
        d.error(
            n.pos,
            format!("unsupported apiVersion '{v}'; expected '{API_VERSION}'"),
        );
    }
    // Metadata and spec are both decoded even when one fails, so one run reports all.
    let metadata = metadata_node.and_then(|n| decode_metadata(d, n, kind, org));
    let mut refs = Vec::new();
    let mut scripts = Vec::new();
    let spec = match (kind, spec_node) {
        (Some(Kind::Requirement), Some(n)) => {
            decode_requirement_spec(d, n, &mut refs).map(Spec::Requirement)
        }
        (Some(Kind::Framework), Some(n)) => {
            decode_framework_spec(d, n, &mut refs).map(Spec::Framework)
        }
        (Some(Kind::Policy), Some(n)) => {
            policy_decode::policy_spec(d, n, &mut scripts, ctx).map(Spec::Policy)
        }
        (Some(Kind::PolicyGroup), Some(n)) => {
            policy_decode::group_spec(d, n, &mut refs, ctx).map(Spec::PolicyGroup)
        }
        (Some(Kind::Contract), None) if empty_contract_spec => {
            Some(Spec::Contract(ContractSpec::default()))
        }
        (Some(Kind::Contract), Some(n)) => {
            contract_decode::contract_spec(d, n, &mut refs, ctx, false).map(Spec::Contract)
        }
        (Some(Kind::Product), Some(n)) => {
            contract_decode::product_spec(d, n, &mut refs).map(Spec::Product)
        }
        _ => None,
    };
    let (metadata, pos) = metadata?;
    let resource = match spec? {
        Spec::Requirement(spec) => Resource::Requirement(Requirement { metadata, spec }),
        Spec::Framework(spec) => Resource::Framework(Framework { metadata, spec }),
        Spec::Policy(spec) => Resource::Policy(Policy { metadata, spec }),
        Spec::PolicyGroup(spec) => Resource::PolicyGroup(PolicyGroup { metadata, spec }),
        Spec::Contract(spec) => Resource::Contract(Contract {
            metadata,
            spec,
            raw: raw.unwrap_or_default().to_owned(),
        }),
        Spec::Product(spec) => Resource::Product(Product { metadata, spec }),
    };
    Some(ParsedDocument {
        file: d.file.to_owned(),
        pos,
        resource,
        refs,
        scripts,
    })
}

/// The text of each non-empty document of a stream, split on `---` lines as
/// Chainloop's CLI splits them (so a contract keeps the bytes its author wrote).
/// Callers fall back when the count disagrees with the parser's.
fn split_raw(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    fn push<'t>(segment: &'t str, out: &mut Vec<&'t str>) {
        let has_content = segment.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "..."
        });
        if has_content {
            out.push(segment);
        }
    }
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            push(&text[start..offset], &mut out);
            start = offset + line.len();
        }
        offset += line.len();
    }
    push(&text[start..], &mut out);
    out
}

/// A legacy `schemaVersion: v1` contract: the v2 spec fields at the root, no metadata;
/// its name is the one the CLI was given (decision 0023).
fn decode_legacy_contract(
    d: &mut Decoder<'_>,
    node: &Node,
    pos: Pos,
    ctx: &mut Context<'_>,
    raw: Option<&str>,
) -> Option<ParsedDocument> {
    let Some(name) = ctx.sources.name.clone() else {
        d.error(
            pos,
            "a legacy `schemaVersion: v1` contract has no name: give it one with `comply apply -f FILE --name NAME` \
             or `comply contract apply NAME -f FILE` (comply apply otherwise names it after the file)",
        );
        return None;
    };
    if let Some(problem) = name::dns1123_problem(&name) {
        d.error(pos, format!("invalid contract name '{name}': {problem}"));
        return None;
    }
    let mut refs = Vec::new();
    let spec = contract_decode::contract_spec(d, node, &mut refs, ctx, true)?;
    Some(ParsedDocument {
        file: d.file.to_owned(),
        pos,
        resource: Resource::Contract(Contract {
            metadata: Metadata {
                name,
                display_name: None,
                description: None,
                annotations: BTreeMap::new(),
                finding_type: None,
            },
            spec,
            raw: raw.unwrap_or_default().to_owned(),
        }),
        refs,
        scripts: Vec::new(),
    })
}

enum Spec {
    Requirement(RequirementSpec),
    Framework(FrameworkSpec),
    Policy(PolicySpec),
    PolicyGroup(PolicyGroupSpec),
    Contract(ContractSpec),
    Product(ProductSpec),
}

fn decode_metadata(
    d: &mut Decoder<'_>,
    node: &Node,
    kind: Option<Kind>,
    org: &str,
) -> Option<(Metadata, Pos)> {
    let known = if kind == Some(Kind::Policy) {
        POLICY_METADATA_FIELDS
    } else {
        METADATA_FIELDS
    };
    let m = d.object(node, "metadata", known)?;
    let name_node = d.required(&m, "metadata", "name");
    let name = name_node.and_then(|n| {
        let name = d.text(n, "metadata.name")?;
        match name::dns1123_problem(&name) {
            Some(problem) => {
                d.error(n.pos, format!("invalid metadata.name: {problem}"));
                None
            }
            None => Some(name),
        }
    });
    let display_name = optional_text(d, &m, "metadata.displayName", "displayName");
    let description = optional_text(d, &m, "metadata.description", "description");
    if let Some(n) = m.get("organization")
        && let Some(o) = d.text(n, "metadata.organization")
        && o != org
    {
        d.error(
            n.pos,
            format!("metadata.organization is '{o}' but the documents are being applied to organization '{org}'"),
        );
    }
    let finding_type = match m.get("finding_type").or_else(|| m.get("findingType")) {
        Some(_) if kind != Some(Kind::Policy) => None,
        Some(n) => d.text(n, "metadata.finding_type").and_then(|t| {
            let ok = FINDING_TYPES.contains(&t.as_str());
            if !ok {
                d.error(
                    n.pos,
                    format!(
                        "invalid metadata.finding_type '{t}'; expected one of: {}",
                        FINDING_TYPES.join(", ")
                    ),
                );
            }
            ok.then_some(t)
        }),
        None => None,
    };
    let annotations = match m.get("annotations") {
        Some(n) => decode_annotations(d, n, kind)?,
        None => BTreeMap::new(),
    };
    let pos = name_node.map_or(node.pos, |n| n.pos);
    Some((
        Metadata {
            name: name?,
            display_name,
            description,
            annotations,
            finding_type,
        },
        pos,
    ))
}

fn decode_annotations(
    d: &mut Decoder<'_>,
    node: &Node,
    kind: Option<Kind>,
) -> Option<BTreeMap<String, String>> {
    let Value::Map(entries) = &node.value else {
        d.error(
            node.pos,
            "metadata.annotations must be a mapping of strings",
        );
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in entries {
        let path = format!("metadata.annotations.{}", key.name);
        let Some(text) = d.text(value, &path) else {
            ok = false;
            continue;
        };
        let normalized = match (kind, key.name.as_str()) {
            (Some(Kind::Requirement), "scope") => match Scope::parse(&text) {
                Some(scope) => scope.as_str().to_owned(),
                None => {
                    d.error(
                        value.pos,
                        format!("invalid {path} '{text}'; expected PROJECT or PRODUCT"),
                    );
                    ok = false;
                    continue;
                }
            },
            (_, "categories") => text
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            _ => text,
        };
        out.insert(key.name.clone(), normalized);
    }
    ok.then_some(out)
}

fn decode_requirement_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    refs: &mut Vec<LocatedRef>,
) -> Option<RequirementSpec> {
    let before = d.diagnostics.len();
    let spec = d.object(node, "spec", REQUIREMENT_SPEC_FIELDS)?;
    let mut ok = d.diagnostics.len() == before;
    let mut policies = Vec::new();
    if let Some(list) = spec
        .get("policies")
        .and_then(|n| d.list(n, "spec.policies"))
    {
        for (i, item) in list.iter().enumerate() {
            match decode_policy(d, item, &format!("spec.policies[{i}]"), refs) {
                Some(p) => policies.push(p),
                None => ok = false,
            }
        }
    }
    let mut manual_proofs = Vec::new();
    let mut proof_names: HashMap<String, Pos> = HashMap::new();
    if let Some(list) = spec
        .get("manual_proofs")
        .and_then(|n| d.list(n, "spec.manual_proofs"))
    {
        for (i, item) in list.iter().enumerate() {
            let path = format!("spec.manual_proofs[{i}]");
            match decode_proof(d, item, &path) {
                Some(p) => {
                    if let Some(first) = proof_names.get(&p.name) {
                        d.error(
                            item.pos,
                            format!(
                                "manual proof '{}' is listed twice (first at line {})",
                                p.name, first.line
                            ),
                        );
                        ok = false;
                    }
                    proof_names.insert(p.name.clone(), item.pos);
                    manual_proofs.push(p);
                }
                None => ok = false,
            }
        }
    }
    // Only when the spec is otherwise clean: a misspelt `polices` explains itself.
    if ok && policies.is_empty() && manual_proofs.is_empty() {
        d.error(
            spec.pos,
            "a requirement needs at least one policy (spec.policies) or manual proof (spec.manual_proofs)",
        );
        return None;
    }
    ok.then_some(RequirementSpec {
        policies,
        manual_proofs,
    })
}

fn decode_policy(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    refs: &mut Vec<LocatedRef>,
) -> Option<PolicyAttachment> {
    let o = d.object(node, path, POLICY_FIELDS)?;
    let ref_node = d.required(&o, path, "ref");
    let reference = ref_node.and_then(|n| d.text(n, &format!("{path}.ref")));
    let parsed = match (&reference, ref_node) {
        (Some(r), Some(n)) => match crate::reference::PolicyRef::parse(r) {
            Ok(parsed) => Some((parsed, n.pos)),
            Err(problem) => {
                d.error(n.pos, format!("invalid {path}.ref: {problem}"));
                return None;
            }
        },
        _ => None,
    };
    let periodicity = decode_periodicity(d, &o, path)?;
    let sla = match o.get("sla") {
        Some(n) => Some(d.positive_int(n, &format!("{path}.sla"))?),
        None => None,
    };
    let with = match o.get("with") {
        Some(n) => decode_with(d, n, &format!("{path}.with"))?,
        None => BTreeMap::new(),
    };
    if let Some((parsed, pos)) = parsed {
        refs.push(LocatedRef {
            kind: Kind::Policy,
            name: parsed.name,
            pos,
            args: located_args(o.get("with"), &with),
        });
    }
    Some(PolicyAttachment {
        reference: reference?.trim().to_owned(),
        periodicity,
        sla,
        with,
    })
}

/// `with` values are strings in Chainloop; a YAML list becomes the newline-separated
/// form Chainloop's list inputs accept.
pub(super) fn decode_with(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
) -> Option<BTreeMap<String, String>> {
    let Value::Map(entries) = &node.value else {
        d.error(
            node.pos,
            format!("{path} must be a mapping of argument names to values"),
        );
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in entries {
        let arg_path = format!("{path}.{}", key.name);
        let text = match &value.value {
            Value::Seq(items) => items
                .iter()
                .map(|i| d.text(i, &arg_path))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join("\n")),
            _ => d.text(value, &arg_path),
        };
        match text {
            Some(t) => {
                out.insert(key.name.clone(), t);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn decode_proof(d: &mut Decoder<'_>, node: &Node, path: &str) -> Option<ManualProof> {
    let o = d.object(node, path, PROOF_FIELDS)?;
    let name = d
        .required(&o, path, "name")
        .and_then(|n| d.text(n, &format!("{path}.name")));
    let description = optional_text(d, &o, &format!("{path}.description"), "description");
    let optional = match o.get("optional") {
        Some(n) => d.boolean(n, &format!("{path}.optional"))?,
        None => false,
    };
    let periodicity = decode_periodicity(d, &o, path)?;
    let name = name?.trim().to_owned();
    if name.is_empty() {
        d.error(o.pos, format!("{path}.name must not be empty"));
        return None;
    }
    Some(ManualProof {
        name,
        description,
        optional,
        periodicity,
    })
}

/// `Some(None)` when absent, `None` when invalid.
fn decode_periodicity(
    d: &mut Decoder<'_>,
    o: &Object<'_>,
    path: &str,
) -> Option<Option<Periodicity>> {
    let Some(n) = o.get("periodicity") else {
        return Some(None);
    };
    let text = d.text(n, &format!("{path}.periodicity"))?;
    match Periodicity::parse(&text) {
        Some(p) => Some(Some(p)),
        None => {
            let names: Vec<&str> = Periodicity::ALL.iter().map(|p| p.as_str()).collect();
            let hint = match suggest::nearest(&text, names.iter().copied()) {
                Some(s) => format!("did you mean '{s}'?"),
                None => format!("expected one of: {}", names.join(", ")),
            };
            d.error(
                n.pos,
                format!("invalid {path}.periodicity '{text}'; {hint}"),
            );
            None
        }
    }
}

fn decode_framework_spec(
    d: &mut Decoder<'_>,
    node: &Node,
    refs: &mut Vec<LocatedRef>,
) -> Option<FrameworkSpec> {
    let spec = d.object(node, "spec", FRAMEWORK_SPEC_FIELDS)?;
    let mut seen: HashMap<String, Pos> = HashMap::new();
    let requirements = match spec.get("requirements") {
        Some(n) => decode_refs(d, n, "spec.requirements", &mut seen, refs),
        None => Some(Vec::new()),
    };
    let sections = match spec.get("sections") {
        Some(n) => decode_sections(d, n, "spec.sections", &mut seen, refs),
        None => Some(Vec::new()),
    };
    Some(FrameworkSpec {
        requirements: requirements?,
        sections: sections?,
    })
}

fn decode_sections(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    seen: &mut HashMap<String, Pos>,
    refs: &mut Vec<LocatedRef>,
) -> Option<Vec<Section>> {
    let list = d.list(node, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    let mut names: HashMap<String, Pos> = HashMap::new();
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(o) = d.object(item, &item_path, SECTION_FIELDS) else {
            ok = false;
            continue;
        };
        let name = d
            .required(&o, &item_path, "name")
            .and_then(|n| d.text(n, &format!("{item_path}.name")));
        if let Some(name) = &name {
            if let Some(first) = names.get(name) {
                d.error(
                    o.pos,
                    format!(
                        "section '{name}' appears twice at this level (first at line {})",
                        first.line
                    ),
                );
                ok = false;
            }
            names.insert(name.clone(), o.pos);
        }
        let description = optional_text(d, &o, &format!("{item_path}.description"), "description");
        let requirements = match o.get("requirements") {
            Some(n) => decode_refs(d, n, &format!("{item_path}.requirements"), seen, refs),
            None => Some(Vec::new()),
        };
        let sections = match o.get("sections") {
            Some(n) => decode_sections(d, n, &format!("{item_path}.sections"), seen, refs),
            None => Some(Vec::new()),
        };
        match (name, requirements, sections) {
            (Some(name), Some(requirements), Some(sections)) => out.push(Section {
                name,
                description,
                requirements,
                sections,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn decode_refs(
    d: &mut Decoder<'_>,
    node: &Node,
    path: &str,
    seen: &mut HashMap<String, Pos>,
    refs: &mut Vec<LocatedRef>,
) -> Option<Vec<RequirementRef>> {
    let list = d.list(node, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(o) = d.object(item, &item_path, REF_FIELDS) else {
            ok = false;
            continue;
        };
        let Some((reference, pos)) = d
            .required(&o, &item_path, "ref")
            .and_then(|n| Some((d.text(n, &format!("{item_path}.ref"))?, n.pos)))
        else {
            ok = false;
            continue;
        };
        let reference = reference.trim().to_owned();
        if let Some(problem) = name::dns1123_problem(&reference) {
            d.error(pos, format!("invalid requirement reference: {problem}"));
            ok = false;
            continue;
        }
        if let Some(first) = seen.get(&reference) {
            d.error(
                pos,
                format!(
                    "requirement '{reference}' appears twice in this framework (first at line {}, column {}); each requirement may be listed once",
                    first.line, first.column
                ),
            );
            ok = false;
            continue;
        }
        seen.insert(reference.clone(), pos);
        refs.push(LocatedRef {
            kind: super::Kind::Requirement,
            name: reference.clone(),
            pos,
            args: Vec::new(),
        });
        out.push(RequirementRef { reference });
    }
    ok.then_some(out)
}

pub(super) fn optional_text(
    d: &mut Decoder<'_>,
    o: &Object<'_>,
    path: &str,
    key: &str,
) -> Option<String> {
    o.get(key).and_then(|n| d.text(n, path))
}
