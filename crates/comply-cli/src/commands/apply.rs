//! `comply apply`: reads files and directories and sends them as one invocation; the
//! server validates everything and applies all of it or nothing.

use crate::cli::{ApplyArgs, LintFilesArgs, Output};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let is_yaml = matches!(
                entry.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            );
            if entry.is_dir() || is_yaml {
                collect(&entry, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

/// `(file name, content)` of every YAML file under the given paths, in a stable order.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    if files.is_empty() {
        return Err(CliError::usage("no *.yaml or *.yml files found"));
    }
    files
        .iter()
        .map(|file| {
            std::fs::read_to_string(file)
                .map(|content| (file.display().to_string(), content))
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))
        })
        .collect()
}

pub fn run(client: &mut Client, output: Output, args: ApplyArgs) -> Result<()> {
    let documents: Vec<Value> = read_all(&args.files)?
        .into_iter()
        .map(|(file, content)| json!({"file": file, "content": content}))
        .collect();
    let path = client.org_path("/apply")?;
    let answer = client.post(
        &path,
        &json!({"documents": documents, "dry_run": args.dry_run}),
    )?;
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
    let results = answer["results"].clone();
    emit(output, &results, |results| {
        let suffix = if args.dry_run { " (dry run)" } else { "" };
        let mut out = String::new();
        for r in results.as_array().into_iter().flatten() {
            let shadow = if r["shadows_builtin"] == Value::Bool(true) {
                ", shadows the built-in one"
            } else {
                ""
            };
            out.push_str(&format!(
                "{}/{} {} (revision {}{shadow}){suffix}\n",
                text(&r["kind"]),
                text(&r["name"]),
                text(&r["action"]),
                text(&r["revision"])
            ));
        }
        out
    })
}

/// `comply lint`: the validation `apply` performs, offline, against the built-in
/// content this binary embeds. Nothing is sent anywhere.
pub fn lint(output: Output, args: LintFilesArgs) -> Result<()> {
    let files = read_all(&args.files)?;
    let builtins = comply_policy::validate::builtin_resources().map_err(|problems| {
        CliError::failed("this binary's built-in content is invalid")
            .with_details(problems.iter().map(ToString::to_string).collect())
    })?;
    let known = comply_policy::validate::builtin_known(&builtins);
    let (parsed, mut problems) = comply_policy::validate::parse_and_compile(
        files.iter().map(|(f, c)| (f.as_str(), c.as_str())),
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
