//! The contract an attestation follows, and the server status the compliance gate reads.

use super::evaluate::Catalog;
use crate::cli::Global;
use crate::client::Client;
use crate::error::{CliError, Result};
use comply_core::resource::{Contract, FileContext, Resource, parse_file_with};
use serde_json::{Value, json};
use std::path::Path;

pub(super) fn parse_contract(file: &str, text: &str, sources: &FileContext) -> Result<Contract> {
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
pub(super) fn contract_source(
    global: &Global,
    contract: &str,
) -> Result<(String, String, FileContext)> {
    if Path::new(contract).is_file() {
        let text = std::fs::read_to_string(contract)
            .map_err(|e| CliError::usage(format!("cannot read {contract}: {e}")))?;
        let doc = crate::commands::resolve::Resolver::default().document(
            contract,
            text,
            Some(Path::new(contract)),
            crate::commands::resolve::LegacyName::Stem,
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

pub(super) const COMPLIANCE_GATE: &str = "check-compliance-requirement";

/// Whether the contract, directly or through a group, attaches
/// `check-compliance-requirement`, which reads the server's compliance status.
pub(super) fn uses_compliance_gate(
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
pub(super) fn compliance_data(client: &mut Client, project: &str, version: &str) -> Result<Value> {
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
