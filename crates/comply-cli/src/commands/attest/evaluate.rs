//! Running the contract's policies: the catalog of policies, networking and reference
//! data the org allows, and the evaluations the predicate records.

use crate::client::Client;
use crate::error::{CliError, Result};
use comply_attest::{Finding, FindingKind, PolicyEvaluation, PolicyReference, Violation};
use comply_core::resource::{Attachment, PolicyGroup, Resource};
use comply_policy::material::Material;
use comply_policy::{CompiledPolicy, Network, Outcome, builtin};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Policies and groups by name: the org's own from the server, else built-in.
pub(super) struct Catalog {
    pub(super) policies: BTreeMap<String, (CompiledPolicy, Option<String>)>,
    pub(super) groups: BTreeMap<String, PolicyGroup>,
}

impl Catalog {
    pub(super) fn policy(
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

    pub(super) fn group(&mut self, client: &mut Client, reference: &str) -> Result<PolicyGroup> {
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

pub(super) fn finding_kind(policy: &CompiledPolicy) -> Option<FindingKind> {
    match policy.policy.metadata.finding_type.as_deref() {
        Some("VULNERABILITY") => Some(FindingKind::Vulnerability),
        Some("SAST") => Some(FindingKind::Sast),
        Some("LICENSE_VIOLATION") => Some(FindingKind::LicenseViolation),
        _ => None,
    }
}

pub(super) struct Attached<'a> {
    pub(super) requirements: &'a [String],
    pub(super) gate: bool,
    pub(super) group: Option<&'a str>,
}

pub(super) fn to_evaluation(
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

pub(super) fn selected<'m>(
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

/// The annotation an evaluation run with networking carries: the hosts it could reach.
const NETWORKED_ANNOTATION: &str = "comply.dev/networked";

/// The hosts the org lets policies reach (`policy_allowed_hostnames`; decision 0025).
pub(super) fn org_network(client: &mut Client) -> Result<Network> {
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
pub(super) fn name_network(evaluations: &mut [PolicyEvaluation], network: &Network) {
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
pub(super) const KEV_POLICIES: &[&str] = &["cves-in-kev"];

/// The reference data the org's server holds for policies (`data.kev`), and a line
/// naming it. No catalog: `{}` (the KEV policy skips, saying so).
pub(super) fn reference_data(client: &mut Client) -> Result<(serde_json::Value, Option<String>)> {
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
pub(super) fn name_reference_data(evaluations: &mut [PolicyEvaluation], reference: Option<&str>) {
    let Some(reference) = reference else { return };
    for e in evaluations
        .iter_mut()
        .filter(|e| KEV_POLICIES.contains(&e.name.as_str()))
    {
        e.annotations
            .insert("comply.dev/reference-data".into(), reference.to_owned());
    }
}
