//! `comply attest init|add|push|status`: craft a Chainloop attestation without Chainloop.
//!
//! The contract says which materials to collect and which policies to run. `push`
//! evaluates them here with the same engine the server trusts (built-in policies from
//! this binary, the org's own from the server), renders the Chainloop predicate that
//! ingestion reads, signs it as a DSSE envelope and pushes it. As in Chainloop, a gated
//! policy's violation makes `push` fail (exit 1) after the attestation is stored, so the
//! evidence of the failure is kept.
//!
//! State between the steps is one JSON file (`--state`, default
//! `.comply-attestation.json`), so the steps can run in separate CI steps.

use super::evidence::{print_push, push_body};
use crate::cli::{AttestCommand, Global, Output};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};
use comply_attest::{
    ChainloopPredicate, Finding, FindingKind, Material as PredicateMaterial, Metadata,
    PolicyEvaluation, PolicyReference, ResourceDescriptor, SigningKey, Violation, render_statement,
    sign,
};
use comply_core::resource::{
    Attachment, Contract, FileContext, PolicyGroup, Resource, parse_file_with,
};
use comply_policy::material::{self, Material};
use comply_policy::{CompiledPolicy, Evaluation, Limits, Network, Outcome, builtin};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Serialize, Deserialize)]
struct State {
    contract_name: String,
    /// The contract's YAML, as it was when the attestation started.
    contract: String,
    project: String,
    version: String,
    workflow: String,
    release: bool,
    initialized_at_ms: i64,
    materials: Vec<CollectedMaterial>,
    /// What decoding the contract's text needs: the names its file and URL references
    /// resolved to, the name of a legacy v1 contract (decision 0023).
    #[serde(default)]
    sources: FileContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CollectedMaterial {
    name: String,
    kind: String,
    /// A file path, an image reference, or a string value.
    value: String,
    sha256: String,
    output: bool,
    /// Chainloop's material annotations, e.g. a verified signature.
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn load_state(path: &Path) -> Result<State> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "no attestation in progress ({}: {e}); run `comply attest init` first",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{} is not an attestation state: {e}",
            path.display()
        ))
    })
}

fn save_state(path: &Path, state: &State) -> Result<()> {
    let text = serde_json::to_string_pretty(state).expect("state serializes");
    std::fs::write(path, text)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}

fn parse_contract(file: &str, text: &str, sources: &FileContext) -> Result<Contract> {
    let (docs, problems) = parse_file_with(file, text, "", sources);
    if !problems.is_empty() {
        return Err(CliError::usage(format!("{file}: the contract is invalid"))
            .with_details(problems.iter().map(ToString::to_string).collect()));
    }
    docs.into_iter()
        .find_map(|d| match d.resource {
            Resource::Contract(c) => Some(c),
            _ => None,
        })
        .ok_or_else(|| CliError::usage(format!("{file} holds no Contract document")))
}

/// The contract an attestation starts from: a local file (its file and URL references
/// read as `comply apply` reads them), else the org's contract of that name, decoded
/// with what it was applied with. Returns its name, text and decoding context.
fn contract_source(global: &Global, contract: &str) -> Result<(String, String, FileContext)> {
    if Path::new(contract).is_file() {
        let text = std::fs::read_to_string(contract)
            .map_err(|e| CliError::usage(format!("cannot read {contract}: {e}")))?;
        let doc = super::resolve::Resolver::default().document(
            contract,
            text,
            Some(Path::new(contract)),
            super::resolve::LegacyName::Stem,
        )?;
        let parsed = parse_contract(contract, &doc.content, &doc.sources)?;
        return Ok((parsed.metadata.name.clone(), doc.content, doc.sources));
    }
    let mut client = Client::from_global(global)?;
    let path = client.org_path(&format!("/contracts/{contract}"))?;
    let r = client.get(&path)?;
    let Resource::Contract(stored) =
        Resource::from_document(&r["document"]).map_err(CliError::failed)?
    else {
        return Err(CliError::failed(format!("{contract} is not a contract")));
    };
    let sources = stored.context();
    parse_contract(contract, &stored.raw, &sources)?;
    Ok((contract.to_owned(), stored.raw, sources))
}

const COMPLIANCE_GATE: &str = "check-compliance-requirement";

/// Whether the contract, directly or through a group, attaches
/// `check-compliance-requirement`, which reads the server's compliance status.
fn uses_compliance_gate(
    contract: &Contract,
    catalog: &mut Catalog,
    client: &mut Client,
) -> Result<bool> {
    let named = |reference: &str| {
        comply_core::reference::PolicyRef::parse(reference).is_ok_and(|r| r.name == COMPLIANCE_GATE)
    };
    if contract.attachments().any(|a| named(&a.reference)) {
        return Ok(true);
    }
    for g in &contract.spec.policy_groups {
        if catalog
            .group(client, &g.reference)?
            .attachments()
            .any(|a| named(&a.reference))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `data.compliance`: the server's status of the attesting project version now, as
/// one list of cells (requirement, framework, status, product). A project or version
/// the server has not seen yet has no cells, so every named requirement is unmet.
fn compliance_data(client: &mut Client, project: &str, version: &str) -> Result<Value> {
    let mut cells = Vec::new();
    let org = client.org_path("")?;
    let projects = client.get(&format!("{org}/projects"))?;
    let known = projects.as_array().into_iter().flatten().any(|p| {
        p["name"] == project
            && p["versions"]
                .as_array()
                .is_some_and(|v| v.iter().any(|v| v == version))
    });
    if known {
        let suffix = crate::client::query(&[("version", Some(version))]);
        let status = client.get(&format!("{org}/projects/{project}/status{suffix}"))?;
        for p in status["products"].as_array().into_iter().flatten() {
            for c in p["cells"].as_array().into_iter().flatten() {
                cells.push(json!({
                    "requirement": c["requirement"], "framework": c["framework"],
                    "status": c["status"], "passing": c["passing"],
                    "product": p["product"], "product_version": p["product_version"],
                }));
            }
        }
    }
    Ok(json!({"project": project, "version": version, "cells": cells}))
}

pub fn run(global: &Global, cmd: AttestCommand) -> Result<()> {
    match cmd {
        AttestCommand::Init(a) => {
            let (name, contract_text, sources) = contract_source(global, &a.contract)?;
            let state = State {
                workflow: a.workflow.unwrap_or_else(|| name.clone()),
                contract_name: name,
                contract: contract_text,
                project: a.project,
                version: a.version,
                release: a.release,
                initialized_at_ms: now_ms(),
                materials: Vec::new(),
                sources,
            };
            save_state(&a.state, &state)?;
            let answer = json!({"contract": state.contract_name, "project": state.project,
                                "version": state.version, "workflow": state.workflow,
                                "state": a.state.display().to_string()});
            emit(global.output, &answer, |a| {
                format!(
                    "attestation started: contract {}, {} {} (workflow {}); state in {}\n",
                    text(&a["contract"]),
                    text(&a["project"]),
                    text(&a["version"]),
                    text(&a["workflow"]),
                    text(&a["state"])
                )
            })
        }
        AttestCommand::Add(a) => {
            let mut state = load_state(&a.state)?;
            let contract = parse_contract("contract", &state.contract, &state.sources)?;
            let declared = contract.spec.materials.iter().find(|m| m.name == a.name);
            let kind = a
                .kind
                .clone()
                .or_else(|| declared.map(|m| m.material_type.clone()));
            let (kind, sha256) = collect(&a.name, &a.value, kind.as_deref())?;
            let annotations = match (&a.signature, &a.signature_key) {
                (Some(sig), Some(key)) if kind == "CONTAINER_IMAGE" => {
                    verified_signature(&a.name, &sha256, sig, key)?
                }
                (Some(_), _) => {
                    return Err(CliError::usage(format!(
                        "--signature is for CONTAINER_IMAGE materials; {} is {kind}",
                        a.name
                    )));
                }
                _ => BTreeMap::new(),
            };
            state.materials.retain(|m| m.name != a.name);
            state.materials.push(CollectedMaterial {
                name: a.name.clone(),
                kind: kind.clone(),
                value: a.value.clone(),
                sha256: sha256.clone(),
                output: declared.is_some_and(|m| m.output),
                annotations,
            });
            save_state(&a.state, &state)?;
            if declared.is_none() {
                eprintln!(
                    "note: the contract declares no material '{}'; it is added anyway",
                    a.name
                );
            }
            let answer = json!({"name": a.name, "kind": kind, "sha256": sha256});
            emit(global.output, &answer, |m| {
                format!(
                    "added {} ({}, sha256:{})\n",
                    text(&m["name"]),
                    text(&m["kind"]),
                    text(&m["sha256"])
                )
            })
        }
        AttestCommand::Status => {
            let path = std::env::var("COMPLY_ATTEST_STATE")
                .unwrap_or_else(|_| ".comply-attestation.json".into());
            let state = load_state(Path::new(&path))?;
            let answer = json!({
                "contract": state.contract_name, "project": state.project,
                "version": state.version, "workflow": state.workflow,
                "materials": state.materials.iter().map(|m| json!({"name": m.name, "kind": m.kind, "value": m.value})).collect::<Vec<_>>(),
            });
            emit(global.output, &answer, |a| {
                let mut out = format!(
                    "contract {}, {} {} (workflow {})\n",
                    text(&a["contract"]),
                    text(&a["project"]),
                    text(&a["version"]),
                    text(&a["workflow"])
                );
                out.push_str(&table(
                    &["material", "kind", "value"],
                    a["materials"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|m| vec![text(&m["name"]), text(&m["kind"]), text(&m["value"])])
                        .collect(),
                ));
                out
            })
        }
        AttestCommand::Push(a) => push(global, &a.state, &a.key, a.output_envelope.as_deref()),
    }
}

/// Validates a material and returns its kind and SHA-256: file content, or the image
/// digest of a `CONTAINER_IMAGE` reference.
fn collect(name: &str, value: &str, kind: Option<&str>) -> Result<(String, String)> {
    if kind == Some("CONTAINER_IMAGE") {
        let digest = value
            .rsplit_once("@sha256:")
            .map(|(_, d)| d.to_ascii_lowercase())
            .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                CliError::usage(format!(
                    "material {name}: '{value}' must be an image reference with a digest (repo@sha256:<64 hex>)"
                ))
            })?;
        return Ok(("CONTAINER_IMAGE".into(), digest));
    }
    if kind == Some("STRING") {
        let m = material::load(name, value.as_bytes(), Some("STRING"))
            .map_err(|e| CliError::usage(e.to_string()))?;
        return Ok((m.kind, m.sha256));
    }
    let bytes = std::fs::read(value)
        .map_err(|e| CliError::usage(format!("material {name}: cannot read {value}: {e}")))?;
    let m = material::load(name, &bytes, kind).map_err(|e| CliError::usage(e.to_string()))?;
    Ok((m.kind, m.sha256))
}

/// Verifies an image signature the way Chainloop records one: only a signature that
/// verifies with the given key and whose signed payload names this image's digest
/// yields the `chainloop.material.signature*` annotations `container-signed` reads.
fn verified_signature(
    name: &str,
    digest: &str,
    signature: &Path,
    key: &Path,
) -> Result<BTreeMap<String, String>> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))
    };
    let bad = |why: String| CliError::usage(format!("material {name}: the signature {why}"));
    let signed = comply_attest::parse_envelope(&read(signature)?)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    let public = comply_attest::PublicKey::from_pem(&String::from_utf8_lossy(&read(key)?))
        .map_err(|e| CliError::usage(format!("{}: {e}", key.display())))?;
    comply_attest::verify_with_key(&signed, &public)
        .map_err(|e| bad(format!("does not verify: {e}")))?;
    let payload: Value = serde_json::from_slice(&signed.payload)
        .map_err(|e| bad(format!("payload is not JSON: {e}")))?;
    let wanted = format!("sha256:{digest}");
    // An in-toto statement about the image, or cosign's simple-signing payload.
    let names_image = payload["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["digest"]["sha256"].as_str() == Some(digest))
        || payload["critical"]["image"]["docker-manifest-digest"].as_str() == Some(wanted.as_str());
    if !names_image {
        return Err(bad(format!("does not sign {wanted}")));
    }
    let signature_digest = signed.digest();
    Ok(BTreeMap::from([
        (
            "chainloop.material.signature".to_owned(),
            signature_digest.clone(),
        ),
        (
            "chainloop.material.signature.digest".to_owned(),
            signature_digest,
        ),
        (
            "chainloop.material.signature.provider".to_owned(),
            "cosign".to_owned(),
        ),
    ]))
}

fn load_material(m: &CollectedMaterial) -> Result<Material> {
    let bytes = match m.kind.as_str() {
        "CONTAINER_IMAGE" | "STRING" => m.value.clone().into_bytes(),
        _ => std::fs::read(&m.value).map_err(|e| {
            CliError::usage(format!("material {}: cannot read {}: {e}", m.name, m.value))
        })?,
    };
    let mut loaded = material::load(&m.name, &bytes, Some(&m.kind))
        .map_err(|e| CliError::usage(e.to_string()))?;
    // What was checked at `add` is what gets attested, even if the file changed since.
    if m.kind != "CONTAINER_IMAGE" && m.kind != "STRING" && loaded.sha256 != m.sha256 {
        return Err(CliError::failed(format!(
            "material {}: {} changed since it was added; add it again",
            m.name, m.value
        )));
    }
    loaded.sha256 = m.sha256.clone();
    loaded.annotations = m.annotations.clone();
    Ok(loaded)
}

/// Policies and groups by name: the org's own from the server, else built-in.
struct Catalog {
    policies: BTreeMap<String, (CompiledPolicy, Option<String>)>,
    groups: BTreeMap<String, PolicyGroup>,
}

impl Catalog {
    fn policy(
        &mut self,
        client: &mut Client,
        reference: &str,
    ) -> Result<&(CompiledPolicy, Option<String>)> {
        let name = comply_core::reference::PolicyRef::parse(reference)
            .map_err(CliError::usage)?
            .name;
        if !self.policies.contains_key(&name) {
            let path = client.org_path(&format!("/policies/{name}"))?;
            let r = client.get(&path)?;
            let digest = r["digest"].as_str().map(str::to_owned);
            let compiled = if r["builtin"] == Value::Bool(true) {
                builtin::policy(&name).cloned().ok_or_else(|| {
                    CliError::failed(format!(
                        "built-in policy {name} is not in this binary; upgrade comply"
                    ))
                })?
            } else {
                let Resource::Policy(p) =
                    Resource::from_document(&r["document"]).map_err(CliError::failed)?
                else {
                    return Err(CliError::failed(format!("{name} is not a policy")));
                };
                CompiledPolicy::compile(p).map_err(|e| CliError::failed(e.to_string()))?
            };
            self.policies.insert(name.clone(), (compiled, digest));
        }
        Ok(&self.policies[&name])
    }

    fn group(&mut self, client: &mut Client, reference: &str) -> Result<PolicyGroup> {
        let name = comply_core::reference::PolicyRef::parse(reference)
            .map_err(CliError::usage)?
            .name;
        if !self.groups.contains_key(&name) {
            let path = client.org_path(&format!("/policy-groups/{name}"))?;
            let r = client.get(&path)?;
            let Resource::PolicyGroup(g) =
                Resource::from_document(&r["document"]).map_err(CliError::failed)?
            else {
                return Err(CliError::failed(format!("{name} is not a policy group")));
            };
            self.groups.insert(name.clone(), g);
        }
        Ok(self.groups[&name].clone())
    }
}

fn finding_kind(policy: &CompiledPolicy) -> Option<FindingKind> {
    match policy.policy.metadata.finding_type.as_deref() {
        Some("VULNERABILITY") => Some(FindingKind::Vulnerability),
        Some("SAST") => Some(FindingKind::Sast),
        Some("LICENSE_VIOLATION") => Some(FindingKind::LicenseViolation),
        _ => None,
    }
}

struct Attached<'a> {
    requirements: &'a [String],
    gate: bool,
    group: Option<&'a str>,
}

fn to_evaluation(
    policy: &CompiledPolicy,
    digest: Option<&String>,
    material: Option<&str>,
    kind: &str,
    outcome: Outcome,
    attached: &Attached<'_>,
) -> PolicyEvaluation {
    let name = policy.policy.metadata.name.clone();
    let finding = finding_kind(policy);
    PolicyEvaluation {
        name: name.clone(),
        material_name: material.map(str::to_owned),
        description: policy.policy.metadata.description.clone(),
        annotations: policy.policy.metadata.annotations.clone(),
        policy_reference: Some(PolicyReference {
            name: name.clone(),
            digest: digest.cloned(),
            uri: Some(format!("chainloop://{name}")),
            org: None,
        }),
        group_reference: attached.group.map(|g| PolicyReference {
            name: g.to_owned(),
            digest: None,
            uri: Some(format!("chainloop://{g}")),
            org: None,
        }),
        with: outcome.args,
        kind: Some(kind.to_owned()),
        violations: outcome
            .verdict
            .violations
            .into_iter()
            .map(|v| Violation {
                subject: name.clone(),
                message: v.message,
                finding: match (finding, v.finding) {
                    (Some(kind), Some(mut data)) => {
                        if let Some(o) = data.as_object_mut() {
                            o.remove("message");
                            o.remove("suppress");
                        }
                        Some(Finding { kind, data })
                    }
                    _ => None,
                },
                suppressed: v.suppress,
            })
            .collect(),
        skipped: outcome.verdict.skipped,
        skip_reasons: outcome.verdict.skip_reasons,
        requirements: attached.requirements.to_vec(),
        gate: attached.gate,
    }
}

fn selected<'m>(
    a: &Attachment,
    materials: &'m [Material],
    policy: &CompiledPolicy,
) -> Vec<&'m Material> {
    materials
        .iter()
        .filter(|m| match &a.selector {
            Some(s) if s.match_mode.as_deref() == Some("PREFIX") => m.name.starts_with(&s.name),
            Some(s) => m.name == s.name,
            None => true,
        })
        .filter(|m| policy.applies_to(&m.kind))
        .collect()
}

fn push(global: &Global, state_path: &Path, key: &Path, envelope_out: Option<&Path>) -> Result<()> {
    let state = load_state(state_path)?;
    let contract = parse_contract("contract", &state.contract, &state.sources)?;
    let key_pem = std::fs::read_to_string(key)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", key.display())))?;
    let key = SigningKey::from_pem(&key_pem)
        .map_err(|e| CliError::usage(format!("{}: {e}", "the signing key")))?;

    // Required materials (a group of materials needs at least one of them).
    let collected: Vec<&str> = state.materials.iter().map(|m| m.name.as_str()).collect();
    let mut missing = Vec::new();
    for m in contract.spec.materials.iter().filter(|m| !m.optional) {
        let satisfied =
            collected.contains(&m.name.as_str())
                || m.group.as_ref().is_some_and(|g| {
                    contract.spec.materials.iter().any(|o| {
                        o.group.as_ref() == Some(g) && collected.contains(&o.name.as_str())
                    })
                });
        if !satisfied {
            missing.push(format!("{} ({})", m.name, m.material_type));
        }
    }
    if !missing.is_empty() {
        return Err(CliError::usage(format!(
            "the contract requires materials that were not added: {}",
            missing.join(", ")
        )));
    }
    let materials = state
        .materials
        .iter()
        .map(load_material)
        .collect::<Result<Vec<_>>>()?;

    let mut client = Client::from_global(global)?;
    let mut catalog = Catalog {
        policies: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    let now = now_ms();
    let (mut data, reference) = reference_data(&mut client)?;
    if uses_compliance_gate(&contract, &mut catalog, &mut client)? {
        data["compliance"] = compliance_data(&mut client, &state.project, &state.version)?;
    }
    let limits = Limits {
        network: org_network(&mut client)?,
        ..Limits::default()
    };
    let no_bindings = BTreeMap::new();
    let mut evaluations = Vec::new();

    // Material policies of the contract.
    for a in contract
        .spec
        .policies
        .materials
        .iter()
        .filter(|a| !a.disabled)
    {
        let (policy, digest) = catalog.policy(&mut client, &a.reference)?;
        for m in selected(a, &materials, policy) {
            let e = Evaluation {
                material: m,
                with: &a.with,
                bindings: &no_bindings,
                now_ms: now,
                data: &data,
            };
            if let Some(outcome) = policy
                .evaluate(e, &limits)
                .map_err(|e| CliError::failed(e.to_string()))?
            {
                let attached = Attached {
                    requirements: &a.requirements,
                    gate: a.gate.unwrap_or(false),
                    group: None,
                };
                evaluations.push(to_evaluation(
                    policy,
                    digest.as_ref(),
                    Some(&m.name),
                    &m.kind,
                    outcome,
                    &attached,
                ));
            }
        }
    }
    // Material policies of groups.
    for g in &contract.spec.policy_groups {
        let group = catalog.group(&mut client, &g.reference)?;
        for a in group.attachments() {
            catalog.policy(&mut client, &a.reference)?;
        }
        let policies = &catalog.policies;
        let resolve = |name: &str| policies.get(name).map(|(p, _)| p);
        let results = comply_policy::evaluate_group(
            &group, &g.with, &materials, resolve, now, &data, &limits,
        )
        .map_err(|e| CliError::failed(e.to_string()))?;
        for r in results.into_iter().filter(|r| !g.skip.contains(&r.policy)) {
            let (policy, digest) = &policies[&r.policy];
            let kind = materials
                .iter()
                .find(|m| m.name == r.material)
                .map_or("", |m| m.kind.as_str());
            let attached = Attached {
                requirements: &g.requirements,
                gate: g.gate.unwrap_or(false),
                group: Some(&group.metadata.name),
            };
            evaluations.push(to_evaluation(
                policy,
                digest.as_ref(),
                Some(&r.material),
                kind,
                r.outcome,
                &attached,
            ));
        }
    }

    let subjects: Vec<ResourceDescriptor> = state
        .materials
        .iter()
        .filter(|m| m.output)
        .map(|m| ResourceDescriptor {
            name: Some(m.value.clone()),
            digest: BTreeMap::from([("sha256".to_owned(), m.sha256.clone())]),
            ..ResourceDescriptor::default()
        })
        .collect();
    let mut predicate = ChainloopPredicate {
        build_type: Some(comply_attest::CHAINLOOP_BUILD_TYPE.to_owned()),
        builder_id: Some(format!("comply/{}", env!("CARGO_PKG_VERSION"))),
        metadata: Metadata {
            workflow: state.workflow.clone(),
            project: Some(state.project.clone()),
            project_version: Some(state.version.clone()),
            project_version_prerelease: Some(!state.release),
            contract_name: Some(state.contract_name.clone()),
            initialized_at_ms: Some(state.initialized_at_ms),
            finished_at_ms: Some(now),
            ..Metadata::default()
        },
        runner_type: Some("RUNNER_TYPE_UNSPECIFIED".into()),
        materials: state
            .materials
            .iter()
            .map(|m| PredicateMaterial {
                name: m.name.clone(),
                kind: m.kind.clone(),
                artifact: Some(match m.kind.as_str() {
                    "CONTAINER_IMAGE" | "STRING" => m.value.clone(),
                    _ => Path::new(&m.value)
                        .file_name()
                        .map_or_else(|| m.value.clone(), |n| n.to_string_lossy().into_owned()),
                }),
                digest: BTreeMap::from([("sha256".to_owned(), m.sha256.clone())]),
                content: (m.kind == "STRING").then(|| m.value.clone().into_bytes()),
                embedded: m.kind == "STRING",
                annotations: m
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
                ..PredicateMaterial::default()
            })
            .collect(),
        policy_evaluations: evaluations.clone(),
        ..ChainloopPredicate::default()
    };

    // Attestation policies read the statement itself, as Chainloop's do.
    let draft = render_statement(&subjects, &predicate);
    let statement_material = material::load("attestation", &draft, Some("ATTESTATION"))
        .map_err(|e| CliError::failed(e.to_string()))?;
    let mut attestation_evaluations = Vec::new();
    for a in contract
        .spec
        .policies
        .attestation
        .iter()
        .filter(|a| !a.disabled)
    {
        let (policy, digest) = catalog.policy(&mut client, &a.reference)?;
        let e = Evaluation {
            material: &statement_material,
            with: &a.with,
            bindings: &no_bindings,
            now_ms: now,
            data: &data,
        };
        if let Some(outcome) = policy
            .evaluate(e, &limits)
            .map_err(|e| CliError::failed(e.to_string()))?
        {
            let attached = Attached {
                requirements: &a.requirements,
                gate: a.gate.unwrap_or(false),
                group: None,
            };
            attestation_evaluations.push(to_evaluation(
                policy,
                digest.as_ref(),
                None,
                "ATTESTATION",
                outcome,
                &attached,
            ));
        }
    }
    for g in &contract.spec.policy_groups {
        let group = catalog.group(&mut client, &g.reference)?;
        let (bindings, _) =
            comply_policy::input_args::compute(&group.spec.inputs, &g.with, &BTreeMap::new())
                .map_err(|e| CliError::failed(format!("group {}: {e}", group.metadata.name)))?;
        for a in group
            .spec
            .policies
            .attestation
            .iter()
            .filter(|a| !a.disabled)
        {
            let (policy, digest) = catalog.policy(&mut client, &a.reference)?;
            if g.skip.contains(&policy.policy.metadata.name) {
                continue;
            }
            let e = Evaluation {
                material: &statement_material,
                with: &a.with,
                bindings: &bindings,
                now_ms: now,
                data: &data,
            };
            if let Some(outcome) = policy
                .evaluate(e, &limits)
                .map_err(|e| CliError::failed(e.to_string()))?
            {
                let attached = Attached {
                    requirements: &g.requirements,
                    gate: g.gate.unwrap_or(false),
                    group: Some(&group.metadata.name),
                };
                attestation_evaluations.push(to_evaluation(
                    policy,
                    digest.as_ref(),
                    None,
                    "ATTESTATION",
                    outcome,
                    &attached,
                ));
            }
        }
    }
    predicate.policy_evaluations.extend(attestation_evaluations);
    name_reference_data(&mut predicate.policy_evaluations, reference.as_deref());
    name_network(&mut predicate.policy_evaluations, &limits.network);

    let statement = render_statement(&subjects, &predicate);
    let envelope = sign(comply_attest::IN_TOTO_PAYLOAD_TYPE, &statement, &key);
    let envelope_text = String::from_utf8(envelope).expect("envelopes are JSON");
    if let Some(path) = envelope_out {
        std::fs::write(path, &envelope_text)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    let path = client.org_path("/attestations")?;
    let answer = client.post(&path, &push_body(&envelope_text, None)?)?;

    let gated: Vec<String> = predicate
        .policy_evaluations
        .iter()
        .filter(|e| e.gate && !e.skipped && e.has_active_violations())
        .map(|e| {
            format!(
                "{} on {}",
                e.name,
                e.material_name.as_deref().unwrap_or("the attestation")
            )
        })
        .collect();
    if global.output != Output::Json {
        for e in &predicate.policy_evaluations {
            let result = if e.skipped {
                format!("skipped: {}", e.skip_reasons.join("; "))
            } else if e.has_active_violations() {
                let n = e.violations.iter().filter(|v| !v.suppressed).count();
                format!("{n} violation{}", if n == 1 { "" } else { "s" })
            } else {
                "passed".into()
            };
            eprintln!(
                "  {} on {}: {result}{}",
                e.name,
                e.material_name.as_deref().unwrap_or("the attestation"),
                if e.gate { " (gate)" } else { "" }
            );
            for v in e.violations.iter().filter(|v| !v.suppressed) {
                eprintln!("    - {}", v.message);
            }
        }
    }
    print_push(global.output, &answer)?;
    let _ = std::fs::remove_file(state_path);
    if gated.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "the attestation was stored, but gated policies failed: {}",
            gated.join(", ")
        )))
    }
}

/// The annotation an evaluation run with networking carries: the hosts it could reach.
pub const NETWORKED_ANNOTATION: &str = "comply.dev/networked";

/// The hosts the org lets policies reach (`policy_allowed_hostnames`; decision 0025).
fn org_network(client: &mut Client) -> Result<Network> {
    let path = client.org_path("/settings")?;
    let settings = client.get(&path)?;
    let hosts: Vec<String> = settings["policy_allowed_hostnames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_owned))
        .collect();
    let network = Network::allow(&hosts);
    if network.is_enabled() {
        eprintln!(
            "note: policies may reach {} (org setting policy_allowed_hostnames); their evaluations say so",
            network.hosts().join(", ")
        );
    }
    Ok(network)
}

/// With networking on, every evaluation says so: its verdict may depend on what those
/// hosts answered, so it is not reproducible from the attestation alone.
fn name_network(evaluations: &mut [PolicyEvaluation], network: &Network) {
    if !network.is_enabled() {
        return;
    }
    let hosts = network.hosts().join(",");
    for e in evaluations.iter_mut() {
        e.annotations
            .insert(NETWORKED_ANNOTATION.into(), hosts.clone());
    }
}

/// Policies that read the CISA KEV catalog (`data.kev`).
const KEV_POLICIES: &[&str] = &["cves-in-kev"];

/// The reference data the org's server holds for policies (`data.kev`), and a line
/// naming it. No catalog: `{}` (the KEV policy skips, saying so).
fn reference_data(client: &mut Client) -> Result<(serde_json::Value, Option<String>)> {
    let path = client.org_path("/reference-data/kev")?;
    match client.get(&path) {
        Ok(r) => {
            let catalog: serde_json::Value =
                serde_json::from_str(r["content"].as_str().unwrap_or("null")).map_err(|e| {
                    CliError::failed(format!("the server's KEV catalog is not JSON: {e}"))
                })?;
            let line = format!(
                "kev {} released {} ({} {})",
                r["version"].as_str().unwrap_or("?"),
                r["released_at"].as_str().unwrap_or("?"),
                r["scope"].as_str().unwrap_or("?"),
                r["source"].as_str().unwrap_or("?")
            );
            Ok((json!({"kev": catalog}), Some(line)))
        }
        Err(e) if e.message.contains("no kev reference data") => Ok((json!({}), None)),
        Err(e) => Err(e),
    }
}

/// Every evaluation of a policy that read the catalog says which one, dated when.
fn name_reference_data(evaluations: &mut [PolicyEvaluation], reference: Option<&str>) {
    let Some(reference) = reference else { return };
    for e in evaluations
        .iter_mut()
        .filter(|e| KEV_POLICIES.contains(&e.name.as_str()))
    {
        e.annotations
            .insert("comply.dev/reference-data".into(), reference.to_owned());
    }
}
