//! `comply contract …` and `comply product …`.
//!
//! The imperative product commands (`create`, `version create`, `attach`, `detach`)
//! edit the Product document and apply it, so a product made by hand and one made from
//! YAML are the same thing, revisioned and audited alike, and `describe -o schema`
//! always prints a document that reproduces it.

use super::resources::{self, Kind};
use crate::cli::{ContractCommand, Output, ProductCommand, ProductVersionCommand};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, table, text, yaml};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn contract(client: &mut Client, output: Output, cmd: ContractCommand) -> Result<()> {
    let kind = Kind::Contract;
    match cmd {
        ContractCommand::List => resources::list(client, output, kind),
        ContractCommand::Describe(a) => resources::describe(client, output, kind, &a.name),
        ContractCommand::Delete(a) => resources::delete(client, output, kind, &a.name),
        ContractCommand::Apply(a) => super::apply::contract_apply(client, output, a),
    }
}

pub fn product(client: &mut Client, output: Output, cmd: ProductCommand) -> Result<()> {
    let kind = Kind::Product;
    match cmd {
        ProductCommand::List => resources::list(client, output, kind),
        ProductCommand::Describe(a) => resources::describe(client, output, kind, &a.name),
        ProductCommand::Delete(a) => resources::delete(client, output, kind, &a.name),
        ProductCommand::Create(a) => {
            if fetch(client, &a.name)?.is_some() {
                let hint = if a.projects.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; add projects with: comply product add-project {} {}",
                        a.name,
                        a.projects.join(" ")
                    )
                };
                return Err(CliError::failed(format!(
                    "product '{}' already exists{hint}",
                    a.name
                )));
            }
            let mut metadata = json!({"name": a.name});
            if let Some(d) = a.description {
                metadata["description"] = json!(d);
            }
            let doc = json!({
                "apiVersion": "chainloop.dev/v1",
                "kind": "Product",
                "metadata": metadata,
                "spec": {"projects": a.projects},
            });
            let change = Change::new("product.created", format!("product create {}", a.name));
            save(client, output, &doc, &change)
        }
        ProductCommand::AddProject(a) => {
            let mut doc = require(client, &a.product)?;
            let projects = array(&mut doc["spec"], "projects");
            let mut added = Vec::new();
            for p in &a.projects {
                if projects.iter().any(|x| x == &json!(p)) {
                    eprintln!("project '{p}' is already in product '{}'", a.product);
                } else {
                    projects.push(json!(p));
                    added.push(p.as_str());
                }
            }
            if added.is_empty() {
                return Ok(());
            }
            let change = Change::new(
                "product.project.added",
                format!("product add-project {} {}", a.product, added.join(" ")),
            );
            save(client, output, &doc, &change)
        }
        ProductCommand::Pin(a) => {
            let mut doc = require(client, &a.product)?;
            let mut pins: BTreeMap<String, Option<String>> = BTreeMap::new();
            for pin in &a.pins {
                let Some((project, version)) = pin.split_once('=') else {
                    return Err(CliError::usage(format!(
                        "'{pin}' is not PROJECT=VERSION (or PROJECT= to unpin)"
                    )));
                };
                pins.insert(
                    project.to_owned(),
                    (!version.is_empty()).then(|| version.to_owned()),
                );
            }
            let projects = doc["spec"]["projects"].clone();
            for project in pins.keys() {
                if !projects
                    .as_array()
                    .is_some_and(|p| p.contains(&json!(project)))
                {
                    return Err(CliError::usage(format!(
                        "product '{}' has no project '{project}' (add it: comply product add-project {} {project})",
                        a.product, a.product
                    )));
                }
            }
            let versions = array(&mut doc["spec"], "versions");
            let Some(v) = versions.iter_mut().find(|v| v["name"] == json!(a.version)) else {
                return Err(no_version(&a.product, &a.version, versions));
            };
            if !v["projectVersions"].is_object() {
                v["projectVersions"] = json!({});
            }
            let map = v["projectVersions"].as_object_mut().expect("an object");
            for (project, version) in &pins {
                match version {
                    Some(version) => map.insert(project.clone(), json!(version)),
                    None => map.remove(project),
                };
            }
            if map.is_empty() {
                v.as_object_mut()
                    .expect("an object")
                    .remove("projectVersions");
            }
            let change = Change::new(
                "product.pinned",
                format!(
                    "product pin {} --version {} {}",
                    a.product,
                    a.version,
                    a.pins.join(" ")
                ),
            );
            save(client, output, &doc, &change)
        }
        ProductCommand::Version(ProductVersionCommand::List(a)) => {
            let doc = require(client, &a.name)?;
            let versions = doc["spec"]["versions"].clone();
            let versions = if versions.is_array() {
                versions
            } else {
                json!([])
            };
            emit(output, &versions, |v| {
                table(
                    &["version", "frameworks", "pinned projects"],
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(version_row)
                        .collect(),
                )
            })
        }
        ProductCommand::Version(ProductVersionCommand::Delete(a)) => {
            let mut doc = require(client, &a.product)?;
            let versions = array(&mut doc["spec"], "versions");
            let before = versions.len();
            versions.retain(|v| v["name"] != json!(a.version));
            if versions.len() == before {
                return Err(no_version(&a.product, &a.version, versions));
            }
            let change = Change::new(
                "product.version.deleted",
                format!("product version delete {} {}", a.product, a.version),
            );
            save(client, output, &doc, &change)
        }
        ProductCommand::Version(ProductVersionCommand::Create(a)) => {
            let mut doc = require(client, &a.product)?;
            let versions = array(&mut doc["spec"], "versions");
            if versions.iter().any(|v| v["name"] == json!(a.version)) {
                return Err(CliError::failed(format!(
                    "product '{}' already has version '{}'",
                    a.product, a.version
                )));
            }
            versions.push(json!({"name": a.version, "frameworks": a.frameworks}));
            let mut command = format!("product version create {} {}", a.product, a.version);
            for f in &a.frameworks {
                command.push_str(&format!(" --framework {f}"));
            }
            save(
                client,
                output,
                &doc,
                &Change::new("product.version.created", command),
            )
        }
        ProductCommand::Attach(a) => {
            attach(client, output, &a.product, &a.version, &a.framework, true)
        }
        ProductCommand::Detach(a) => {
            attach(client, output, &a.product, &a.version, &a.framework, false)
        }
    }
}

fn attach(
    client: &mut Client,
    output: Output,
    product: &str,
    version: &str,
    framework: &str,
    attach: bool,
) -> Result<()> {
    let mut doc = require(client, product)?;
    let versions = array(&mut doc["spec"], "versions");
    let Some(v) = versions.iter_mut().find(|v| v["name"] == json!(version)) else {
        return Err(no_version(product, version, versions));
    };
    let frameworks = array(v, "frameworks");
    let present = frameworks.iter().any(|f| f == &json!(framework));
    match (attach, present) {
        (true, true) | (false, false) => {
            let state = if attach { "already" } else { "not" };
            eprintln!("framework '{framework}' is {state} attached to {product} {version}");
            return Ok(());
        }
        (true, false) => frameworks.push(json!(framework)),
        (false, true) => frameworks.retain(|f| f != &json!(framework)),
    }
    let (action, verb) = if attach {
        ("product.framework.attached", "attach")
    } else {
        ("product.framework.detached", "detach")
    };
    let change = Change::new(
        action,
        format!("product {verb} {product} --version {version} {framework}"),
    );
    save(client, output, &doc, &change)
}

fn no_version(product: &str, version: &str, versions: &[Value]) -> CliError {
    let known: Vec<String> = versions.iter().map(|v| text(&v["name"])).collect();
    CliError::usage(format!(
        "no version '{version}' in product {product}; it has: {}",
        if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        }
    ))
}

fn version_row(v: &Value) -> Vec<String> {
    let fws: Vec<String> = v["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    let pins: Vec<String> = v["projectVersions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, v)| format!("{p}={}", text(v)))
        .collect();
    let or_dash = |l: Vec<String>| {
        if l.is_empty() {
            "-".into()
        } else {
            l.join(", ")
        }
    };
    vec![text(&v["name"]), or_dash(fws), or_dash(pins)]
}

/// A command's edit of a Product document, as the server audits and reports it.
pub struct Change {
    action: &'static str,
    command: String,
}

impl Change {
    pub fn new(action: &'static str, command: String) -> Change {
        Change { action, command }
    }
}

/// Applies a command-edited Product document; answers the apply's results.
pub fn apply_change(client: &mut Client, doc: &Value, change: &Change) -> Result<Value> {
    let name = text(&doc["metadata"]["name"]);
    let path = client.org_path("/apply")?;
    let answer = client.post(
        &path,
        &json!({
            "documents": [{"file": format!("product {name}"), "content": yaml(doc)}],
            "change": {"action": change.action, "command": change.command},
        }),
    )?;
    Ok(answer["results"].clone())
}

/// The list under `key`, created when absent.
fn array<'v>(object: &'v mut Value, key: &str) -> &'v mut Vec<Value> {
    if !object[key].is_array() {
        object[key] = json!([]);
    }
    object[key].as_array_mut().expect("just made an array")
}

fn fetch(client: &mut Client, name: &str) -> Result<Option<Value>> {
    let path = client.org_path(&format!("/products/{name}"))?;
    match client.get(&path) {
        Ok(r) => Ok(Some(r["document"].clone())),
        Err(e) if e.message.contains("does not exist") => Ok(None),
        Err(e) => Err(e),
    }
}

fn require(client: &mut Client, name: &str) -> Result<Value> {
    fetch(client, name)?.ok_or_else(|| CliError::failed(format!("product '{name}' does not exist")))
}

fn save(client: &mut Client, output: Output, doc: &Value, change: &Change) -> Result<()> {
    let results = apply_change(client, doc, change)?;
    emit(output, &results, |results| {
        let mut out = String::new();
        for r in results.as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{}/{} {} (revision {})\n",
                text(&r["kind"]),
                text(&r["name"]),
                text(&r["action"]),
                text(&r["revision"])
            ));
        }
        out
    })
}

pub fn describe_product(r: &Value) -> String {
    let doc = &r["document"];
    let mut out = format!("Product: {}\n", text(&r["name"]));
    if let Some(d) = doc["metadata"]["description"].as_str() {
        out.push_str(&format!("Description: {d}\n"));
    }
    out.push_str(&format!("Revision: {}\n", text(&r["revision"])));
    let projects: Vec<String> = doc["spec"]["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    out.push_str(&format!(
        "Projects: {}\n",
        if projects.is_empty() {
            "-".into()
        } else {
            projects.join(", ")
        }
    ));
    let versions = doc["spec"]["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !versions.is_empty() {
        out.push_str("\nVersions:\n");
        out.push_str(&table(
            &["version", "frameworks", "pinned projects"],
            versions
                .iter()
                .map(|v| {
                    let fws: Vec<String> = v["frameworks"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(text)
                        .collect();
                    let pins: Vec<String> = v["projectVersions"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(p, v)| format!("{p}={}", text(v)))
                        .collect();
                    vec![
                        text(&v["name"]),
                        if fws.is_empty() {
                            "-".into()
                        } else {
                            fws.join(", ")
                        },
                        if pins.is_empty() {
                            "-".into()
                        } else {
                            pins.join(", ")
                        },
                    ]
                })
                .collect(),
        ));
    }
    let entries = doc["spec"]["applicability"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !entries.is_empty() {
        out.push_str("\nApplicability:\n");
        out.push_str(&table(
            &["requirement", "project", "applicable", "rationale"],
            entries
                .iter()
                .map(|a| {
                    vec![
                        text(&a["requirement"]),
                        a["project"]
                            .as_str()
                            .unwrap_or("(whole product)")
                            .to_owned(),
                        text(&a["applicable"]),
                        a["rationale"].as_str().unwrap_or("-").to_owned(),
                    ]
                })
                .collect(),
        ));
    }
    out
}

pub fn describe_contract(r: &Value) -> String {
    let doc = &r["document"];
    let spec = &doc["spec"];
    let mut out = format!(
        "Contract: {}\nRevision: {}\n",
        text(&r["name"]),
        text(&r["revision"])
    );
    if let Some(d) = doc["metadata"]["description"].as_str() {
        out.push_str(&format!("Description: {d}\n"));
    }
    if let Some(runner) = spec["runner"].as_str() {
        out.push_str(&format!("Runner: {runner}\n"));
    }
    let materials = spec["materials"].as_array().cloned().unwrap_or_default();
    if !materials.is_empty() {
        out.push_str("\nMaterials:\n");
        out.push_str(&table(
            &["name", "type", "optional", "output"],
            materials
                .iter()
                .map(|m| {
                    vec![
                        text(&m["name"]),
                        text(&m["type"]),
                        m["optional"].as_bool().unwrap_or(false).to_string(),
                        m["output"].as_bool().unwrap_or(false).to_string(),
                    ]
                })
                .collect(),
        ));
    }
    let mut rows = Vec::new();
    for (scope, list) in [
        ("material", &spec["policies"]["materials"]),
        ("attestation", &spec["policies"]["attestation"]),
    ] {
        for a in list.as_array().into_iter().flatten() {
            rows.push(vec![
                text(&a["ref"]),
                scope.to_owned(),
                a["selector"]["name"].as_str().unwrap_or("-").to_owned(),
                with_text(&a["with"]),
                requirements_text(&a["requirements"]),
            ]);
        }
    }
    for g in spec["policy_groups"].as_array().into_iter().flatten() {
        rows.push(vec![
            format!("{} (group)", text(&g["ref"])),
            "group".into(),
            "-".into(),
            with_text(&g["with"]),
            requirements_text(&g["requirements"]),
        ]);
    }
    if !rows.is_empty() {
        out.push_str("\nPolicies:\n");
        out.push_str(&table(
            &["policy", "on", "selector", "with", "requirements"],
            rows,
        ));
    }
    out
}

fn with_text(with: &Value) -> String {
    let parts: Vec<String> = with
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", text(v).replace('\n', ",")))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn requirements_text(list: &Value) -> String {
    let parts: Vec<String> = list.as_array().into_iter().flatten().map(text).collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}
