//! `attest push`: evaluate, render, sign, push.

use super::collect::load_material;
use super::contract::{compliance_data, parse_contract, uses_compliance_gate};
use super::evaluate::{
    Attached, Catalog, name_network, name_reference_data, org_network, reference_data, selected,
    to_evaluation,
};
use super::state::{load_state, now_ms};
use crate::cli::{Global, Output};
use crate::client::Client;
use crate::commands::evidence::{print_push, push_body};
use crate::error::{CliError, Result};
use comply_attest::{
    ChainloopPredicate, Material as PredicateMaterial, Metadata, ResourceDescriptor, SigningKey,
    render_statement, sign,
};
use comply_policy::material;
use comply_policy::{Evaluation, Limits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub(super) fn push(
    global: &Global,
    state_path: &Path,
    key: &Path,
    envelope_out: Option<&Path>,
) -> Result<()> {
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
