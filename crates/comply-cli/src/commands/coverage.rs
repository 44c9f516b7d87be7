//! `comply requirement coverage NAME | -f DRAFT.yaml`.

use crate::cli::{CoverageArgs, Output};
use crate::client::{Client, query};
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};
use serde_json::{Value, json};

pub fn run(client: &mut Client, output: Output, a: CoverageArgs) -> Result<()> {
    let assigned = match (a.assigned, a.unassigned) {
        (true, _) => Some("true"),
        (_, true) => Some("false"),
        _ => None,
    };
    let suffix = query(&[
        ("status", a.status.as_deref()),
        ("assigned", assigned),
        ("product", a.product.as_deref()),
    ]);
    let report = match (&a.name, &a.file) {
        (_, Some(file)) => {
            let content = std::fs::read_to_string(file)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
            let path = client.org_path(&format!("/requirement-coverage{suffix}"))?;
            client.post(
                &path,
                &json!({"file": file.display().to_string(), "content": content}),
            )?
        }
        (Some(name), None) => {
            let path = client.org_path(&format!("/requirements/{name}/coverage{suffix}"))?;
            client.get(&path)?
        }
        (None, None) => unreachable!("clap requires one"),
    };
    emit(output, &report, render)
}

fn render(r: &Value) -> String {
    let policies: Vec<String> = r["policies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    let mut out = format!(
        "Requirement {} — policies: {}\n",
        text(&r["requirement"]),
        if policies.is_empty() {
            "none".into()
        } else {
            policies.join(", ")
        }
    );
    if let Some(note) = r["note"].as_str() {
        out.push_str(&format!("note: {note}\n"));
    }
    let mut rows = Vec::new();
    for p in r["projects"].as_array().into_iter().flatten() {
        let contracts = p["contracts"].as_array().cloned().unwrap_or_default();
        if contracts.is_empty() {
            rows.push(vec![
                text(&p["project"]),
                text(&p["coverage"]),
                yes_no(&p["assigned"]),
                "-".into(),
                "-".into(),
            ]);
        }
        for c in contracts {
            let detail: Vec<String> = c["policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    let source = m["source"]
                        .as_str()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    format!("{}: {}{source}", text(&m["policy"]), text(&m["match"]))
                })
                .collect();
            rows.push(vec![
                text(&p["project"]),
                text(&p["coverage"]),
                yes_no(&p["assigned"]),
                text(&c["contract"]),
                detail.join("; "),
            ]);
        }
    }
    out.push_str(&table(
        &["project", "coverage", "assigned", "contract", "policies"],
        rows,
    ));
    for d in r["dangling_references"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "warning: contract {}: {}\n",
            text(&d["contract"]),
            text(&d["problem"])
        ));
    }
    out
}

fn yes_no(v: &Value) -> String {
    if v == &Value::Bool(true) { "yes" } else { "no" }.into()
}
