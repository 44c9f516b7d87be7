//! `comply apply`: reads files and directories and sends them as one invocation; the
//! server validates everything and applies all of it or nothing. Files and URLs the
//! documents reference are read here (`resolve`), never by the server.

use super::resolve::{self, Document};
use crate::cli::{ApplyArgs, ContractApplyArgs, LintFilesArgs, Output};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, text};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Legacy contracts named by the CLI, by file, for the output.
fn legacy_names(documents: &[Document]) -> BTreeMap<String, String> {
    documents
        .iter()
        .filter_map(|d| Some((d.legacy_name.clone()?, d.file.clone())))
        .collect()
}

fn send(
    client: &mut Client,
    output: Output,
    documents: Vec<Document>,
    dry_run: bool,
) -> Result<()> {
    let legacy = legacy_names(&documents);
    let body: Vec<Value> = documents
        .into_iter()
        .map(|d| {
            let mut doc = json!({"file": d.file, "content": d.content});
            if !d.sources.is_empty() {
                doc["sources"] = serde_json::to_value(&d.sources).expect("sources serialize");
            }
            doc
        })
        .collect();
    let path = client.org_path("/apply")?;
    let answer = client.post(&path, &json!({"documents": body, "dry_run": dry_run}))?;
    // Warnings (a reference that names nothing) never fail an apply; stderr keeps
    // `-o json` clean.
    for w in answer["warnings"].as_array().into_iter().flatten() {
        eprintln!(
            "warning: {}:{}:{}: {}",
            text(&w["file"]),
            text(&w["line"]),
            text(&w["column"]),
            text(&w["message"])
        );
    }
    let mut results = answer["results"].clone();
    for r in results.as_array_mut().into_iter().flatten() {
        if r["kind"] == "Contract"
            && let Some(file) = r["name"].as_str().and_then(|n| legacy.get(n))
        {
            r["note"] = json!(format!(
                "legacy v1 contract from {file}, applied under this name"
            ));
        }
    }
    emit(output, &results, |results| {
        let suffix = if dry_run { " (dry run)" } else { "" };
        let mut out = String::new();
        for r in results.as_array().into_iter().flatten() {
            let shadow = if r["shadows_builtin"] == Value::Bool(true) {
                ", shadows the built-in one"
            } else {
                ""
            };
            let note = r["note"]
                .as_str()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}/{} {} (revision {}{shadow}){suffix}{note}\n",
                text(&r["kind"]),
                text(&r["name"]),
                text(&r["action"]),
                text(&r["revision"])
            ));
        }
        out
    })
}

pub fn run(client: &mut Client, output: Output, args: ApplyArgs) -> Result<()> {
    let documents = resolve::read_all(&args.files, args.name.as_deref())?;
    send(client, output, documents, args.dry_run)
}

/// `comply contract apply NAME -f FILE`: one contract under a name, as Chainloop's
/// `workflow contract create/update --name` takes it.
pub fn contract_apply(client: &mut Client, output: Output, args: ContractApplyArgs) -> Result<()> {
    let documents = resolve::read_all(std::slice::from_ref(&args.file), Some(&args.name))?;
    let first = &documents[0];
    if first.legacy_name.is_none() {
        let (parsed, _) =
            comply_core::resource::parse_file_with(&first.file, &first.content, "", &first.sources);
        let contracts: Vec<&str> = parsed
            .iter()
            .filter(|d| d.resource.kind() == comply_core::Kind::Contract)
            .map(|d| d.resource.name())
            .collect();
        if let [only] = contracts.as_slice()
            && *only != args.name
        {
            return Err(CliError::usage(format!(
                "{} names the contract '{only}' (metadata.name), not '{}'",
                first.file, args.name
            )));
        }
    }
    send(client, output, documents, args.dry_run)
}

/// `comply lint`: the validation `apply` performs, offline, against the built-in
/// content this binary embeds. Nothing is sent anywhere.
pub fn lint(output: Output, args: LintFilesArgs) -> Result<()> {
    let files = resolve::read_all(&args.files, args.name.as_deref())?;
    let builtins = comply_policy::validate::builtin_resources().map_err(|problems| {
        CliError::failed("this binary's built-in content is invalid")
            .with_details(problems.iter().map(ToString::to_string).collect())
    })?;
    let known = comply_policy::validate::builtin_known(&builtins);
    let (parsed, mut problems) = comply_policy::validate::parse_and_compile_with(
        files
            .iter()
            .map(|d| (d.file.as_str(), d.content.as_str(), &d.sources)),
        "lint",
    );
    let mut results = Vec::new();
    if problems.is_empty() {
        match comply_core::apply::plan(parsed, &known) {
            Ok(changes) => {
                results = changes
                    .iter()
                    .map(|c| {
                        json!({"kind": c.resource.kind(), "name": c.resource.name(),
                               "shadows_builtin": c.shadows_builtin})
                    })
                    .collect();
            }
            Err(diagnostics) => problems = diagnostics,
        }
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!(
            "{} problem{} found",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ))
        .with_details(problems.iter().map(ToString::to_string).collect()));
    }
    emit(output, &Value::Array(results), |results| {
        let mut out = String::new();
        for r in results.as_array().into_iter().flatten() {
            let shadow = if r["shadows_builtin"] == Value::Bool(true) {
                " (shadows the built-in one)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{}/{} valid{shadow}\n",
                text(&r["kind"]),
                text(&r["name"])
            ));
        }
        out
    })
}
