//! `comply requirement …` and `comply framework …`.

use crate::cli::{FrameworkCommand, Output, PolicyGroupCommand, RequirementCommand};
use crate::client::Client;
use crate::error::Result;
use crate::output::{emit, table, text, yaml};
use serde_json::{Value, json};

pub use comply_core::resource::Kind;

pub fn requirement(client: &mut Client, output: Output, cmd: RequirementCommand) -> Result<()> {
    let kind = Kind::Requirement;
    match cmd {
        RequirementCommand::List(a) => list_filtered(client, output, kind, a.custom),
        RequirementCommand::Describe(a) => describe(client, output, kind, &a.name),
        RequirementCommand::Delete(a) => delete(client, output, kind, &a.name),
        RequirementCommand::Duplicate(a) => duplicate(client, output, kind, &a.name, &a.new_name),
        RequirementCommand::Activate(a) => set_active(client, output, &a.name, true),
        RequirementCommand::Deactivate(a) => set_active(client, output, &a.name, false),
        RequirementCommand::Coverage(a) => super::coverage::run(client, output, a),
    }
}

pub fn framework(client: &mut Client, output: Output, cmd: FrameworkCommand) -> Result<()> {
    let kind = Kind::Framework;
    match cmd {
        FrameworkCommand::List(a) => list_filtered(client, output, kind, a.custom),
        FrameworkCommand::Describe(a) => describe(client, output, kind, &a.name),
        FrameworkCommand::Delete(a) => delete(client, output, kind, &a.name),
        FrameworkCommand::Duplicate(a) => duplicate(client, output, kind, &a.name, &a.new_name),
    }
}

pub fn policy_group(client: &mut Client, output: Output, cmd: PolicyGroupCommand) -> Result<()> {
    let kind = Kind::PolicyGroup;
    match cmd {
        PolicyGroupCommand::List(a) => list_filtered(client, output, kind, a.custom),
        PolicyGroupCommand::Describe(a) => describe(client, output, kind, &a.name),
        PolicyGroupCommand::Delete(a) => delete(client, output, kind, &a.name),
        PolicyGroupCommand::Duplicate(a) => duplicate(client, output, kind, &a.name, &a.new_name),
    }
}

fn origin(r: &Value) -> String {
    match (r["builtin"].as_bool(), r["shadows_builtin"].as_bool()) {
        (Some(true), _) => "built-in".into(),
        (_, Some(true)) => "custom (shadows built-in)".into(),
        _ => "custom".into(),
    }
}

pub fn list(client: &mut Client, output: Output, kind: Kind) -> Result<()> {
    list_filtered(client, output, kind, false)
}

/// `custom`: leave out the built-in resources.
pub fn list_filtered(client: &mut Client, output: Output, kind: Kind, custom: bool) -> Result<()> {
    let path = client.org_path(&format!("/{}", kind.plural()))?;
    let mut items = client.get(&path)?;
    if custom && let Some(list) = items.as_array_mut() {
        list.retain(|r| r["builtin"] != Value::Bool(true));
    }
    emit(output, &items, |items| {
        let rows = items.as_array().cloned().unwrap_or_default();
        match kind {
            Kind::Requirement => table(
                &[
                    "name", "origin", "scope", "active", "policies", "proofs", "revision",
                ],
                rows.iter()
                    .map(|r| {
                        vec![
                            text(&r["name"]),
                            origin(r),
                            text(&r["scope"]),
                            text(&r["active"]),
                            text(&r["policies"]),
                            text(&r["manual_proofs"]),
                            text(&r["revision"]),
                        ]
                    })
                    .collect(),
            ),
            Kind::Policy | Kind::PolicyGroup => table(
                &["name", "origin", "inputs", "description", "revision"],
                rows.iter()
                    .map(|r| {
                        let inputs = r["inputs"]
                            .as_array()
                            .map(|i| i.iter().map(text).collect::<Vec<_>>().join(","))
                            .unwrap_or_default();
                        vec![
                            text(&r["name"]),
                            origin(r),
                            if inputs.is_empty() {
                                "-".into()
                            } else {
                                inputs
                            },
                            summary_line(&text(&r["description"])),
                            text(&r["revision"]),
                        ]
                    })
                    .collect(),
            ),
            Kind::Contract => table(
                &["name", "materials", "policies", "groups", "revision"],
                rows.iter()
                    .map(|r| {
                        vec![
                            text(&r["name"]),
                            text(&r["materials"]),
                            text(&r["policies"]),
                            text(&r["policy_groups"]),
                            text(&r["revision"]),
                        ]
                    })
                    .collect(),
            ),
            Kind::Product => table(
                &["name", "projects", "versions", "revision"],
                rows.iter()
                    .map(|r| {
                        let join = |v: &Value| {
                            let items: Vec<String> =
                                v.as_array().into_iter().flatten().map(text).collect();
                            if items.is_empty() {
                                "-".to_owned()
                            } else {
                                items.join(", ")
                            }
                        };
                        vec![
                            text(&r["name"]),
                            join(&r["projects"]),
                            join(&r["versions"]),
                            text(&r["revision"]),
                        ]
                    })
                    .collect(),
            ),
            Kind::Framework => table(
                &["name", "origin", "preview", "requirements", "revision"],
                rows.iter()
                    .map(|r| {
                        vec![
                            text(&r["name"]),
                            origin(r),
                            text(&r["preview"]),
                            text(&r["requirements"]),
                            text(&r["revision"]),
                        ]
                    })
                    .collect(),
            ),
        }
    })
}

pub fn describe(client: &mut Client, output: Output, kind: Kind, name: &str) -> Result<()> {
    let path = client.org_path(&format!("/{}/{name}", kind.plural()))?;
    let r = client.get(&path)?;
    if output == Output::Schema {
        // A contract is kept byte-exact (Chainloop revisions it on any change of its
        // text): its own text is the document that reproduces it.
        match r["document"]["raw"].as_str() {
            Some(raw) if kind == Kind::Contract => {
                print!("{raw}");
                if !raw.ends_with('\n') {
                    println!();
                }
            }
            _ => print!("{}", yaml(&r["document"])),
        }
        return Ok(());
    }
    emit(output, &r, |r| match kind {
        Kind::Requirement => describe_requirement(r),
        Kind::Framework => describe_framework(r),
        Kind::Policy => describe_policy(r),
        Kind::PolicyGroup => describe_group(r),
        Kind::Contract => super::product::describe_contract(r),
        Kind::Product => super::product::describe_product(r),
    })
}

fn header(r: &Value, out: &mut String) {
    let doc = &r["document"];
    let meta = &doc["metadata"];
    out.push_str(&format!("Name:          {}\n", text(&r["name"])));
    out.push_str(&format!("Display name:  {}\n", text(&meta["displayName"])));
    out.push_str(&format!("Origin:        {}\n", origin(r)));
    out.push_str(&format!(
        "Revision:      {} ({})\n",
        text(&r["revision"]),
        text(&r["digest"])
    ));
}

fn description(r: &Value, out: &mut String) {
    if let Some(d) = r["document"]["metadata"]["description"].as_str() {
        out.push_str("Description:\n");
        for line in d.trim_end().lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
}

fn describe_requirement(r: &Value) -> String {
    let mut out = String::new();
    header(r, &mut out);
    let meta = &r["document"]["metadata"];
    out.push_str(&format!("Scope:         {}\n", text(&r["scope"])));
    out.push_str(&format!("Active:        {}\n", text(&r["active"])));
    out.push_str(&format!(
        "Categories:    {}\n",
        text(&meta["annotations"]["categories"])
    ));
    description(r, &mut out);
    let spec = &r["document"]["spec"];
    if let Some(policies) = spec["policies"].as_array() {
        out.push_str("Policies:\n");
        let rows = policies
            .iter()
            .map(|p| {
                let with = Some(fmt_with(&p["with"]))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "-".into());
                let sla = p["sla"].as_u64().map_or("-".into(), |h| format!("{h}h"));
                vec![text(&p["ref"]), with, text(&p["periodicity"]), sla]
            })
            .collect();
        indent(
            &table(&["ref", "with", "periodicity", "sla"], rows),
            &mut out,
        );
    }
    if let Some(proofs) = spec["manual_proofs"].as_array() {
        out.push_str("Manual proofs:\n");
        let rows = proofs
            .iter()
            .map(|p| {
                vec![
                    text(&p["name"]),
                    text(&json!(p["optional"].as_bool().unwrap_or(false))),
                    text(&p["periodicity"]),
                    first_line(&p["description"]),
                ]
            })
            .collect();
        indent(
            &table(&["name", "optional", "periodicity", "description"], rows),
            &mut out,
        );
    }
    out
}

fn indent(block: &str, out: &mut String) {
    for line in block.lines() {
        out.push_str(&format!("  {line}\n"));
    }
}

fn count(section: &Value) -> usize {
    section["requirements"].as_array().map_or(0, Vec::len)
        + section["sections"]
            .as_array()
            .map_or(0, |s| s.iter().map(count).sum())
}

fn tree(sections: &Value, depth: usize, out: &mut String) {
    for s in sections.as_array().into_iter().flatten() {
        let pad = "  ".repeat(depth);
        out.push_str(&format!("{pad}{} ({})\n", text(&s["name"]), count(s)));
        for r in s["requirements"].as_array().into_iter().flatten() {
            out.push_str(&format!("{pad}  - {}\n", text(&r["ref"])));
        }
        tree(&s["sections"], depth + 1, out);
    }
}

fn describe_framework(r: &Value) -> String {
    let mut out = String::new();
    header(r, &mut out);
    out.push_str(&format!("Preview:       {}\n", text(&r["preview"])));
    out.push_str(&format!("Requirements:  {}\n", text(&r["requirements"])));
    description(r, &mut out);
    let spec = &r["document"]["spec"];
    if let Some(root) = spec["requirements"].as_array() {
        out.push_str(&format!(
            "Requirements outside sections ({}):\n",
            root.len()
        ));
        for req in root {
            out.push_str(&format!("  - {}\n", text(&req["ref"])));
        }
    }
    if spec["sections"].is_array() {
        out.push_str("Sections:\n");
        tree(&spec["sections"], 1, &mut out);
    }
    out
}

pub fn delete(client: &mut Client, output: Output, kind: Kind, name: &str) -> Result<()> {
    let path = client.org_path(&format!("/{}/{name}", kind.plural()))?;
    client.delete(&path)?;
    let answer = json!({"kind": kind.as_str(), "name": name, "deleted": true});
    emit(output, &answer, |_| {
        format!("{}/{name} deleted\n", kind.as_str())
    })
}

pub(crate) fn duplicate(
    client: &mut Client,
    output: Output,
    kind: Kind,
    name: &str,
    new_name: &str,
) -> Result<()> {
    let path = client.org_path(&format!("/{}/{name}/duplicate", kind.plural()))?;
    let answer = client.post(&path, &json!({"as": new_name}))?;
    emit(output, &answer, |a| {
        format!(
            "{}/{} created from {name} (revision {})\n",
            kind.as_str(),
            text(&a["name"]),
            text(&a["revision"])
        )
    })
}

fn set_active(client: &mut Client, output: Output, name: &str, active: bool) -> Result<()> {
    let verb = if active { "activate" } else { "deactivate" };
    let path = client.org_path(&format!("/requirements/{name}/{verb}"))?;
    let answer = client.post(&path, &json!({}))?;
    emit(output, &answer, |a| {
        let state = if active { "active" } else { "inactive" };
        if a["changed"] == Value::Bool(true) {
            format!("Requirement/{name} is now {state}\n")
        } else {
            format!("Requirement/{name} was already {state}\n")
        }
    })
}

fn inputs_table(inputs: &Value, out: &mut String) {
    if let Some(inputs) = inputs.as_array() {
        out.push_str("Inputs:\n");
        let rows = inputs
            .iter()
            .map(|i| {
                let ty = match (i["type"].as_str(), i["kind"].as_str()) {
                    (Some(t), Some(k)) => format!("{t} ({k})"),
                    (Some(t), None) => t.to_owned(),
                    _ => "-".into(),
                };
                vec![
                    text(&i["name"]),
                    ty,
                    text(&json!(i["required"].as_bool().unwrap_or(false))),
                    text(&i["default"]),
                    first_line(&i["description"]),
                ]
            })
            .collect();
        indent(
            &table(
                &["name", "type", "required", "default", "description"],
                rows,
            ),
            out,
        );
    }
}

fn describe_policy(r: &Value) -> String {
    let mut out = String::new();
    header(r, &mut out);
    out.push_str(&format!(
        "Finding type:  {}\n",
        text(&r["document"]["metadata"]["finding_type"])
    ));
    description(r, &mut out);
    let spec = &r["document"]["spec"];
    inputs_table(&spec["inputs"], &mut out);
    out.push_str("Scripts:\n");
    for s in spec["policies"].as_array().into_iter().flatten() {
        let lines = s["embedded"].as_str().map_or(0, |e| e.lines().count());
        out.push_str(&format!(
            "  - kind {} ({lines} lines of Rego)\n",
            s["kind"].as_str().unwrap_or("ANY")
        ));
    }
    if spec["autoMatch"].is_object() {
        out.push_str("Auto-match:    a Rego module decides argument compatibility\n");
    }
    out
}

/// Policy arguments on one line: `k=v k2=a,b`.
fn fmt_with(with: &Value) -> String {
    with.as_object()
        .map(|w| {
            w.iter()
                .map(|(k, v)| format!("{k}={}", text(v).replace('\n', ",")))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn attachment_line(a: &Value) -> String {
    let with = fmt_with(&a["with"]);
    format!(
        "{}{}",
        text(&a["ref"]),
        if with.is_empty() {
            String::new()
        } else {
            format!(" ({with})")
        }
    )
}

fn describe_group(r: &Value) -> String {
    let mut out = String::new();
    header(r, &mut out);
    description(r, &mut out);
    let spec = &r["document"]["spec"];
    inputs_table(&spec["inputs"], &mut out);
    for m in spec["policies"]["materials"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let what = match (m["name"].as_str(), m["type"].as_str()) {
            (Some(n), Some(t)) => format!("material {n} ({t})"),
            (None, Some(t)) => format!("any {t} material"),
            _ => "any material".into(),
        };
        out.push_str(&format!("{what}:\n"));
        for a in m["policies"].as_array().into_iter().flatten() {
            out.push_str(&format!("  - {}\n", attachment_line(a)));
        }
    }
    if let Some(att) = spec["policies"]["attestation"].as_array() {
        out.push_str("attestation:\n");
        for a in att {
            out.push_str(&format!("  - {}\n", attachment_line(a)));
        }
    }
    out
}

/// The first sentence of a description, cut to fit a table row.
fn summary_line(description: &str) -> String {
    let first = description.lines().next().unwrap_or("-");
    let sentence = first
        .split(". ")
        .next()
        .unwrap_or(first)
        .trim_end_matches('.');
    if sentence.chars().count() > 70 {
        let cut: String = sentence.chars().take(69).collect();
        format!("{}…", cut.trim_end())
    } else {
        sentence.to_owned()
    }
}

/// The first line of a text value, for a table cell.
fn first_line(v: &Value) -> String {
    text(v).lines().next().unwrap_or("").to_owned()
}
