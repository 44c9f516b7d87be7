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

mod collect;
mod contract;
mod evaluate;
mod push;
mod state;

use crate::cli::{AttestCommand, Global};
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};
use collect::verified_signature;
use contract::{contract_source, parse_contract};
use serde_json::json;
use state::{CollectedMaterial, State, load_state, now_ms, save_state};
use std::collections::BTreeMap;
use std::path::Path;

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
            let (kind, sha256) = collect::collect(&a.name, &a.value, kind.as_deref())?;
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
        AttestCommand::Push(a) => {
            push::push(global, &a.state, &a.key, a.output_envelope.as_deref())
        }
    }
}
