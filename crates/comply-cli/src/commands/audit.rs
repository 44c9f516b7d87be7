//! `comply audit …`.

use crate::cli::{AuditCommand, Output};
use crate::client::{Client, query};
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};

pub fn run(client: &mut Client, output: Output, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::List(args) => {
            let q = query(&[
                ("since", args.since.as_deref()),
                ("target", args.target.as_deref()),
                ("until", args.until.as_deref()),
                ("actor", args.actor.as_deref()),
                ("action", args.action.as_deref()),
            ]);
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
