//! `comply reference-data import|list`: the catalogs policies read (CISA KEV), kept by
//! the server per org or for the instance, with their dates.

use crate::cli::{Output, ReferenceDataCommand};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::{emit, table, text};
use serde_json::json;

pub fn run(client: &mut Client, output: Output, cmd: ReferenceDataCommand) -> Result<()> {
    match cmd {
        ReferenceDataCommand::Import(a) => {
            let content = std::fs::read_to_string(&a.file)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", a.file.display())))?;
            let source = a.file.file_name().map_or_else(
                || a.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let path = client.org_path(&format!("/reference-data/{}", a.kind))?;
            let answer = client.post(
                &path,
                &json!({"content": content, "source": source, "instance": a.instance}),
            )?;
            emit(output, &answer, |r| {
                format!(
                    "{} catalog {} ({} entries, released {}) {} for the {}\n",
                    text(&r["kind"]),
                    text(&r["version"]),
                    text(&r["entries"]),
                    text(&r["released_at"]),
                    if r["changed"] == json!(true) {
                        "imported"
                    } else {
                        "already current"
                    },
                    text(&r["scope"])
                )
            })
        }
        ReferenceDataCommand::List => {
            let path = client.org_path("/reference-data")?;
            let answer = client.get(&path)?;
            emit(output, &answer, |rows| {
                table(
                    &[
                        "kind", "scope", "version", "released", "entries", "source", "stale",
                    ],
                    rows.as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            vec![
                                text(&r["kind"]),
                                text(&r["scope"]),
                                text(&r["version"]),
                                text(&r["released_at"]),
                                text(&r["entries"]),
                                text(&r["source"]),
                                if r["stale"] == json!(true) {
                                    "yes"
                                } else {
                                    "no"
                                }
                                .into(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
