//! `comply org …` and `comply token …`.

use crate::cli::{OrgCommand, Output, TokenCommand};
use crate::client::Client;
use crate::error::Result;
use crate::output::{emit, table, text};
use serde_json::{Map, Value, json};

pub fn org(client: &mut Client, output: Output, cmd: OrgCommand) -> Result<()> {
    match cmd {
        OrgCommand::Create(a) => {
            let answer = client.post("/api/v1/orgs", &json!({"name": a.name}))?;
            emit(output, &answer, |a| {
                format!("Organization {} created\n", text(&a["name"]))
            })
        }
        OrgCommand::List => {
            let orgs = client.get("/api/v1/orgs")?;
            emit(output, &orgs, |orgs| {
                let rows = orgs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| vec![text(&o["name"]), text(&o["created_at"])])
                    .collect();
                table(&["name", "created"], rows)
            })
        }
        OrgCommand::Settings(args) => {
            let path = client.org_path("/settings")?;
            let mut patch = Map::new();
            for (key, value) in [
                ("in_preview_frameworks", args.in_preview_frameworks),
                (
                    "requirements_auto_matching",
                    args.requirements_auto_matching,
                ),
                (
                    "allow_unsigned_attestations",
                    args.allow_unsigned_attestations,
                ),
                ("decision_approval", args.decision_approval),
            ] {
                if let Some(v) = value {
                    patch.insert(key.into(), json!(v.as_bool()));
                }
            }
            if let Some(days) = args.reference_data_max_age_days {
                patch.insert("reference_data_max_age_days".into(), json!(days));
            }
            if let Some(hosts) = &args.policy_allowed_hostnames {
                let hosts: Vec<&str> = hosts
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .collect();
                patch.insert("policy_allowed_hostnames".into(), json!(hosts));
            }
            let settings = if patch.is_empty() {
                client.get(&path)?
            } else {
                client.patch(&path, &Value::Object(patch))?
            };
            emit(output, &settings, |s| {
                let rows = s
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let shown = match v {
                            Value::Bool(true) => "on".to_owned(),
                            Value::Bool(false) => "off".to_owned(),
                            Value::Array(items) if items.is_empty() => "none".to_owned(),
                            Value::Array(items) => {
                                items.iter().map(text).collect::<Vec<_>>().join(", ")
                            }
                            other => text(other),
                        };
                        vec![k.replace('_', "-"), shown]
                    })
                    .collect();
                table(&["setting", "value"], rows)
            })
        }
    }
}

pub fn token(client: &mut Client, output: Output, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create(a) => {
            let path = client.org_path("/tokens")?;
            let answer = client.post(
                &path,
                &json!({"name": a.name, "role": a.role, "expires": a.expires}),
            )?;
            emit(output, &answer, |t| {
                format!(
                    "Token {} ({}, role {}) created. Its secret is shown only now:\n{}\n",
                    text(&t["name"]),
                    text(&t["id"]),
                    text(&t["role"]),
                    text(&t["token"])
                )
            })
        }
        TokenCommand::List => {
            let path = client.org_path("/tokens")?;
            let tokens = client.get(&path)?;
            emit(output, &tokens, |tokens| {
                let rows = tokens
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        vec![
                            text(&t["id"]),
                            text(&t["name"]),
                            text(&t["role"]),
                            text(&t["expires"]),
                            text(&t["revoked"]),
                        ]
                    })
                    .collect();
                table(&["id", "name", "role", "expires", "revoked"], rows)
            })
        }
        TokenCommand::Revoke { id } => {
            let path = client.org_path(&format!("/tokens/{id}"))?;
            client.delete(&path)?;
            emit(output, &json!({"id": id, "revoked": true}), |_| {
                format!("Token {id} revoked\n")
            })
        }
    }
}
