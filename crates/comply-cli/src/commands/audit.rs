//! `comply audit …`.

use crate::cli::{AuditCommand, Output};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn run(client: &mut Client, output: Output, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::List(args) => {
            let mut query = Vec::new();
            if let Some(s) = &args.since {
                query.push(format!("since={}", encode(s)));
            }
            for (key, value) in [
                ("target", &args.target),
                ("until", &args.until),
                ("actor", &args.actor),
                ("action", &args.action),
            ] {
                if let Some(v) = value {
                    query.push(format!("{key}={}", encode(v)));
                }
            }
            let q = if query.is_empty() {
                String::new()
            } else {
                format!("?{}", query.join("&"))
            };
            let path = client.org_path(&format!("/audit{q}"))?;
            let events = client.get(&path)?;
            emit(output, &events, |events| {
                let rows = events
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        vec![
                            text(&e["seq"]),
                            text(&e["time"]),
                            text(&e["actor"]),
                            text(&e["action"]),
                            text(&e["target"]),
                            text(&e["revision"]),
                        ]
                    })
                    .collect();
                table(
                    &["seq", "time", "actor", "action", "target", "revision"],
                    rows,
                )
            })
        }
        AuditCommand::Verify => {
            let path = client.org_path("/audit/verify")?;
            let answer = client.get(&path)?;
            if answer["intact"].as_bool() != Some(true) {
                if output == Output::Json {
                    println!("{answer}");
                }
                return Err(CliError::failed(format!(
                    "the audit log is broken at event {}: {}",
                    text(&answer["broken_at"]),
                    text(&answer["reason"])
                )));
            }
            emit(output, &answer, |a| {
                format!("The audit log is intact ({} events)\n", text(&a["events"]))
            })
        }
    }
}
