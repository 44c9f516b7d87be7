//! `comply key …`, `comply attestation …`, `comply project …`, `comply workflow …`.

use crate::cli::{
    AttestationCommand, KeyAlgorithmArg, KeyCommand, Output, ProjectCommand, WorkflowCommand,
};
use crate::client::{Client, query};
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};
use comply_attest::{KeyAlgorithm, SigningKey};
use serde_json::{Value, json};
use std::path::Path;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

pub fn key(client: Option<&mut Client>, output: Output, cmd: KeyCommand) -> Result<()> {
    if let KeyCommand::Generate(a) = &cmd {
        let algorithm = match a.algorithm {
            KeyAlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
            KeyAlgorithmArg::P256 => KeyAlgorithm::EcdsaP256,
        };
        let key = SigningKey::generate(algorithm).map_err(|e| CliError::failed(e.to_string()))?;
        // A prefix, not a file name: `--out ci` writes ci.key and ci.pub.
        let prefix = a.out.display().to_string();
        let private = Path::new(&format!("{prefix}.key")).to_owned();
        let public = Path::new(&format!("{prefix}.pub")).to_owned();
        if private.exists() {
            return Err(CliError::failed(format!(
                "{} exists; not overwriting a private key",
                private.display()
            )));
        }
        write_private(&private, &key.to_pem())?;
        std::fs::write(&public, key.public().to_pem())
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", public.display())))?;
        let answer = json!({"private_key": private.display().to_string(),
                            "public_key": public.display().to_string(),
                            "algorithm": key.algorithm().to_string(),
                            "fingerprint": key.public().fingerprint()});
        return emit(output, &answer, |a| {
            format!(
                "wrote {} and {} ({}, {})\n",
                text(&a["private_key"]),
                text(&a["public_key"]),
                text(&a["algorithm"]),
                text(&a["fingerprint"])
            )
        });
    }
    let client = client.expect("a client for server commands");
    match cmd {
        KeyCommand::Generate(_) => unreachable!("handled above"),
        KeyCommand::Add(a) => {
            let pems: Vec<(String, String)> = if let Some(file) = &a.cert {
                vec![(a.name.clone(), super::trust::leaf_public_key(file)?)]
            } else if let Some(file) = &a.ca_cert {
                super::trust::certificates(file)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, pem)| {
                        let name = if i == 0 {
                            a.name.clone()
                        } else {
                            format!("{}-{}", a.name, i + 1)
                        };
                        (name, pem)
                    })
                    .collect()
            } else {
                let file = a.public_key.as_ref().expect("clap requires one");
                vec![(a.name.clone(), read(file)?)]
            };
            let path = client.org_path("/keys")?;
            let mut added = Vec::new();
            for (name, pem) in &pems {
                match client.post(&path, &json!({"name": name, "pem": pem})) {
                    Ok(answer) => added.push(answer),
                    Err(e) => {
                        // A bundle is trusted whole or not at all.
                        for k in &added {
                            let _ = client.delete(&format!("{path}/{}", text(&k["name"])));
                        }
                        return Err(e);
                    }
                }
            }
            let answer = if added.len() == 1 {
                added.remove(0)
            } else {
                Value::Array(added)
            };
            emit(output, &answer, |k| {
                let one = |k: &Value| {
                    format!(
                        "Key/{} added ({}, {}, {})\n",
                        text(&k["name"]),
                        text(&k["kind"]).replace('_', " "),
                        text(&k["algorithm"]),
                        text(&k["fingerprint"])
                    )
                };
                match k.as_array() {
                    Some(keys) => keys.iter().map(one).collect(),
                    None => one(k),
                }
            })
        }
        KeyCommand::List => {
            let path = client.org_path("/keys")?;
            let keys = client.get(&path)?;
            emit(output, &keys, |keys| {
                table(
                    &["name", "kind", "algorithm", "fingerprint", "added"],
                    keys.as_array()
                        .into_iter()
                        .flatten()
                        .map(|k| {
                            vec![
                                text(&k["name"]),
                                text(&k["kind"]).replace('_', " "),
                                text(&k["algorithm"]),
                                text(&k["fingerprint"]),
                                text(&k["created"]),
                            ]
                        })
                        .collect(),
                )
            })
        }
        KeyCommand::Remove(a) => {
            let path = client.org_path(&format!("/keys/{}", a.name))?;
            let answer = client.delete(&path)?;
            emit(output, &answer, |_| format!("Key/{} removed\n", a.name))
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, pem: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(pem.as_bytes())
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn write_private(path: &Path, pem: &str) -> Result<()> {
    std::fs::write(path, pem)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}

/// The push body: the envelope as JSON, with the policy-evaluation bundle beside it
/// when one is given (as its exact text, since its digest is over its bytes).
pub fn push_body(envelope: &str, bundle: Option<&str>) -> Result<Value> {
    let envelope: Value = serde_json::from_str(envelope)
        .map_err(|e| CliError::usage(format!("the attestation is not JSON: {e}")))?;
    Ok(match bundle {
        Some(b) => json!({"envelope": envelope, "policy_evaluations": b}),
        None => envelope,
    })
}

pub fn print_push(output: Output, answer: &Value) -> Result<()> {
    emit(output, answer, |a| {
        let verb = if a["created"] == Value::Bool(true) {
            "stored"
        } else {
            "already stored"
        };
        let version = text(&a["version"]);
        format!(
            "{} {verb} in {} {} ({} evaluations, {})\n",
            text(&a["digest"]),
            text(&a["project"]),
            if version.is_empty() {
                "(no version)".into()
            } else {
                version
            },
            text(&a["evaluations"]),
            if a["verified"] == Value::Bool(true) {
                format!("signed by {}", text(&a["signer"]))
            } else {
                "UNSIGNED, accepted because the org allows unsigned attestations".into()
            }
        ) + &match a["evaluations_not_supplied"].as_object() {
            Some(reference) => format!(
                "its policy evaluations are referenced ({}) but were not supplied: until they are, they count for nothing; supply them with: comply attestation attach-evaluations {} --policy-evaluations BUNDLE\n",
                text(&reference["digest"]),
                text(&a["digest"])
            ),
            None => String::new(),
        } + &match a["evaluations_attached"].as_u64() {
            Some(n) => format!("{n} referenced policy evaluations attached to it\n"),
            None => String::new(),
        }
    })
}

pub fn attestation(client: &mut Client, output: Output, cmd: AttestationCommand) -> Result<()> {
    match cmd {
        AttestationCommand::Push(a) => {
            let envelope = read(&a.file)?;
            let bundle = a.policy_evaluations.as_deref().map(read).transpose()?;
            let body = push_body(&envelope, bundle.as_deref())?;
            let path = client.org_path("/attestations")?;
            let answer = client.post(&path, &body)?;
            print_push(output, &answer)
        }
        AttestationCommand::List(a) => {
            // One more than shown says whether there are more.
            let ask = (a.limit + 1).to_string();
            let suffix = query(&[
                ("project", a.project.as_deref()),
                ("version", a.version.as_deref()),
                ("limit", Some(&ask)),
                ("after", a.after.as_deref()),
            ]);
            let path = client.org_path(&format!("/attestations{suffix}"))?;
            let mut list = client.get(&path)?;
            let mut next = None;
            if let Some(rows) = list.as_array_mut()
                && rows.len() > a.limit as usize
            {
                rows.truncate(a.limit as usize);
                next = rows.last().map(|r| text(&r["digest"]));
            }
            if let Some(next) = &next {
                eprintln!(
                    "there are more attestations: comply attestation list --limit {} --after {next}",
                    a.limit
                );
            }
            emit(output, &list, |list| {
                table(
                    &[
                        "digest", "project", "version", "workflow", "finished", "signer",
                    ],
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            vec![
                                text(&a["digest"]),
                                text(&a["project"]),
                                text(&a["version"]),
                                text(&a["workflow"]),
                                text(&a["finished_at"]),
                                text(&a["signer"]),
                            ]
                        })
                        .collect(),
                )
            })
        }
        AttestationCommand::Describe(a) => {
            let path = client.org_path(&format!("/attestations/{}", a.digest))?;
            let att = client.get(&path)?;
            emit(output, &att, describe_attestation)
        }
        AttestationCommand::AttachEvaluations(a) => {
            let bundle = read(&a.policy_evaluations)?;
            let path =
                client.org_path(&format!("/attestations/{}/policy-evaluations", a.digest))?;
            // Wrapped as a push wraps it: the bundle's exact bytes are what its digest is of.
            let answer = client.post(&path, &json!({"policy_evaluations": bundle}))?;
            emit(output, &answer, |r| {
                format!(
                    "{} policy evaluations attached to {} (bundle {})\n",
                    text(&r["evaluations"]),
                    text(&r["digest"]),
                    text(&r["reference"]["digest"])
                )
            })
        }
    }
}

fn describe_attestation(a: &Value) -> String {
    let mut out = String::new();
    for (label, key) in [
        ("Digest", "digest"),
        ("Project", "project"),
        ("Version", "version"),
        ("Workflow", "workflow"),
        ("Contract", "contract"),
        ("Finished", "finished_at"),
        ("Received", "received_at"),
        ("Signer", "signer"),
    ] {
        out.push_str(&format!("{:<10}{}\n", format!("{label}:"), text(&a[key])));
    }
    let evaluations = a["evaluations"].as_array().cloned().unwrap_or_default();
    if let Some(reference) = a["policy_evaluations_ref"].as_object() {
        let digest = text(&reference["digest"]);
        if a["evaluations_supplied"] == Value::Bool(true) {
            out.push_str(&format!(
                "\nPolicy evaluations referenced ({digest}), supplied at {}\n",
                text(&a["evaluations_supplied_at"])
            ));
        } else {
            out.push_str(&format!(
                "\nPolicy evaluations referenced ({}, {digest}) but NOT SUPPLIED: Chainloop keeps them in its artifact store.\n\
                 Supply them with: comply attestation attach-evaluations {} --policy-evaluations BUNDLE\n",
                text(&reference["name"]),
                text(&a["digest"])
            ));
        }
    }
    let networked: Vec<String> = evaluations
        .iter()
        .filter_map(|e| e["networked"].as_str())
        .map(str::to_owned)
        .collect();
    if !networked.is_empty() {
        out.push_str(&format!(
            "\n{} of the evaluations ran with networking (http.send to {}): their verdicts depend on what those hosts answered\n",
            networked.len(),
            networked[0].replace(',', ", ")
        ));
    }
    out.push_str(&format!("\nPolicy evaluations ({}):\n", evaluations.len()));
    out.push_str(&table(
        &["policy", "material", "result", "with", "requirements"],
        evaluations
            .iter()
            .map(|e| {
                let violations = e["violations"].as_array().map_or(0, Vec::len);
                let result = if e["skipped"] == Value::Bool(true) {
                    "skipped".to_owned()
                } else if violations == 0 {
                    "passed".to_owned()
                } else {
                    format!(
                        "{violations} violation{}",
                        if violations == 1 { "" } else { "s" }
                    )
                };
                let with: Vec<String> = e["with"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", text(v).replace('\n', ",")))
                    .collect();
                let reqs: Vec<String> = e["requirements"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect();
                vec![
                    text(&e["policy"]),
                    text(&e["material"]),
                    result,
                    if with.is_empty() {
                        "-".into()
                    } else {
                        with.join(" ")
                    },
                    if reqs.is_empty() {
                        "-".into()
                    } else {
                        reqs.join(", ")
                    },
                ]
            })
            .collect(),
    ));
    out
}

pub fn project(client: &mut Client, output: Output, cmd: ProjectCommand) -> Result<()> {
    match cmd {
        ProjectCommand::List => {
            let path = client.org_path("/projects")?;
            let list = client.get(&path)?;
            // The spec's JSON shape: name and versions (more fields are allowed).
            emit(output, &list, |list| {
                table(
                    &["name", "latest", "versions", "workflows"],
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            let versions: Vec<String> = p["versions"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(text)
                                .collect();
                            let workflows: Vec<String> = p["workflows"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|w| text(&w["name"]))
                                .collect();
                            vec![
                                text(&p["name"]),
                                text(&p["latest"]),
                                versions.join(", "),
                                workflows.join(", "),
                            ]
                        })
                        .collect(),
                )
            })
        }
        ProjectCommand::Status(a) => {
            let suffix = query(&[("version", a.version.as_deref()), ("at", a.at.as_deref())]);
            let path = client.org_path(&format!("/projects/{}/status{suffix}", a.name))?;
            let answer = client.get(&path)?;
            emit(output, &answer, |s| {
                let mut out = format!(
                    "Project {} {} at {}\n",
                    text(&s["project"]),
                    text(&s["version"]),
                    text(&s["at"])
                );
                for p in s["products"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "\n{} {} (score {}):\n",
                        text(&p["product"]),
                        text(&p["product_version"]),
                        p["score"]
                            .as_f64()
                            .map_or("n/a".into(), |x| format!("{:.0}%", x * 100.0))
                    ));
                    out.push_str(&table(
                        &["framework", "requirement", "status"],
                        p["cells"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|c| {
                                vec![
                                    text(&c["framework"]),
                                    text(&c["requirement"]),
                                    text(&c["status"]),
                                ]
                            })
                            .collect(),
                    ));
                }
                out
            })
        }
        ProjectCommand::Pin(a) => {
            let path = client.org_path(&format!("/projects/{}/latest", a.name))?;
            let answer = client.patch(&path, &json!({"version": a.version}))?;
            emit(output, &answer, |p| match p["pinned_latest"].as_str() {
                Some(v) => format!("{}: latest is pinned to {v}\n", text(&p["project"])),
                None => format!(
                    "{}: latest follows the newest attestation\n",
                    text(&p["project"])
                ),
            })
        }
        ProjectCommand::Release(a) => {
            let path = client.org_path(&format!(
                "/projects/{}/versions/{}/release",
                a.name, a.version
            ))?;
            let answer = client.post(&path, &json!({}))?;
            emit(output, &answer, |p| {
                format!("{} {} released\n", text(&p["project"]), text(&p["version"]))
            })
        }
        ProjectCommand::Describe(a) => {
            let path = client.org_path(&format!("/projects/{}", a.name))?;
            let p = client.get(&path)?;
            emit(output, &p, |p| {
                let mut out = format!(
                    "Project: {}\nLatest:  {}\n\nVersions:\n",
                    text(&p["name"]),
                    text(&p["latest"])
                );
                out.push_str(&table(
                    &["version", "latest", "released", "last attested"],
                    p["version_details"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| {
                            vec![
                                text(&v["version"]),
                                if v["latest"] == Value::Bool(true) {
                                    "yes".into()
                                } else {
                                    "".into()
                                },
                                if v["prerelease"] == Value::Bool(true) {
                                    "no (prerelease)".into()
                                } else {
                                    text(&v["released_at"])
                                },
                                text(&v["last_attested_at"]),
                            ]
                        })
                        .collect(),
                ));
                out.push_str("\nWorkflows:\n");
                out.push_str(&workflow_table(&p["workflows"]));
                out
            })
        }
    }
}

fn workflow_table(list: &Value) -> String {
    table(
        &["project", "workflow", "contract", "set"],
        list.as_array()
            .into_iter()
            .flatten()
            .map(|w| {
                vec![
                    text(&w["project"]),
                    text(&w["name"]),
                    text(&w["contract"]),
                    if w["contract_explicit"] == Value::Bool(true) {
                        "explicitly".into()
                    } else {
                        "by attestation".into()
                    },
                ]
            })
            .collect(),
    )
}

pub fn workflow(client: &mut Client, output: Output, cmd: WorkflowCommand) -> Result<()> {
    match cmd {
        WorkflowCommand::Create(a) => {
            let path = client.org_path("/workflows")?;
            let answer = client.post(
                &path,
                &json!({"project": a.project, "name": a.name, "contract": a.contract}),
            )?;
            emit(output, &answer, |w| {
                format!(
                    "Workflow {}/{} uses contract {}\n",
                    text(&w["project"]),
                    text(&w["name"]),
                    text(&w["contract"])
                )
            })
        }
        WorkflowCommand::List(a) => {
            let suffix = query(&[("project", a.project.as_deref())]);
            let path = client.org_path(&format!("/workflows{suffix}"))?;
            let list = client.get(&path)?;
            emit(output, &list, workflow_table)
        }
    }
}
