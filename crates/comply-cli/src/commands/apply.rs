//! `comply apply`: reads files and directories and sends them as one invocation; the
//! server validates everything and applies all of it or nothing.

use crate::cli::{ApplyArgs, Output};
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

pub fn run(client: &mut Client, output: Output, args: ApplyArgs) -> Result<()> {
    let mut files = Vec::new();
    for path in &args.files {
        collect(path, &mut files)?;
    }
    if files.is_empty() {
        return Err(CliError::usage("no *.yaml or *.yml files found"));
    }
    let mut documents = Vec::new();
    for file in &files {
        let content = std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
        documents.push(json!({"file": file.display().to_string(), "content": content}));
    }
    let path = client.org_path("/apply")?;
    let answer = client.post(
        &path,
        &json!({"documents": documents, "dry_run": args.dry_run}),
    )?;
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
